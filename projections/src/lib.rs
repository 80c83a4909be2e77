//! The ledger's read models: pure, deterministic folds over the event log in position order.
//!
//! [`LedgerState`] holds every aggregate's state as its events built it, *with its history by
//! position*: each record keeps one version per event that changed it, so the state as of any
//! position or time is a lookup, not a replay. The state of a record is the domain aggregate's
//! own state, folded by the aggregate's own `apply`, so the read side can never disagree with
//! the rules about what an event means.
//!
//! A fold has no clock, no randomness and no IO. [`LedgerState::checksum`] is a SHA-256 over a
//! canonical serialisation of the whole state; a replay and a live server at the same position
//! report the same checksum.

pub mod budget;
mod event;
mod feed;
pub mod monitor;
pub mod notary;
mod projector;
mod read_ahead;
mod replay;
pub mod snapshot;
mod state;
mod versioned;

pub use event::{DecodeError, LedgerEvent};
pub use feed::{AppliedEvent, EventFeed, FeedError};
pub use projector::{Projection, Projector, ProjectorError};
pub use replay::{replay, Until};
pub use snapshot::{SnapshotPolicy, SnapshotWriter, SNAPSHOT_FORMAT};
pub use state::{Consequence, FoldError, LedgerState, Record, Stamp};
pub use versioned::Versioned;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
