//! Keys of the metadata every recorded event carries. The metadata is written by the command
//! path, never by a client directly, and is part of what an auditor verifies.

/// Who recorded the event (the token's actor name).
pub const ACTOR: &str = "actor";
/// The role the actor held when recording (`admin`, `secretary`, ...).
pub const ROLE: &str = "role";
/// The organisation the actor acted for, when the token names one.
pub const ORGANISATION: &str = "organisation";
/// The id of the HTTP request (or CLI run) that carried the command.
pub const REQUEST_ID: &str = "request_id";
/// The client's idempotency key, when the client gave one.
pub const IDEMPOTENCY_KEY: &str = "idempotency_key";
/// The command's name, e.g. `ProposeDecision`.
pub const COMMAND: &str = "command";
/// A hash of what the client asked (the operation and its input, without the idempotency key):
/// a retry under the same key must ask the same.
pub const REQUEST_HASH: &str = "request_hash";
