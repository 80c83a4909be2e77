//! The ledger's storage: one ordered, append-only event log on PostgreSQL (production) or
//! SQLite (embedded default), with the command path onto it, a reader of the whole log in
//! position order, the API's bearer tokens, and the stored snapshots of the read models.
//!
//! Aggregates are loaded and decided as cqrs-es does it in plain event-store mode; their events
//! are appended through the same tables and triggers as `postgres-es` and `sqlite-es` write,
//! several commands a transaction when they come at once (`group_commit`, and the bulk path).
//! The database assigns each event its global `position` and `recorded_at` (see `migrations/`). Reads of the log bypass cqrs-es, which has no notion of
//! a global order.

mod audit_trail;
mod bulk;
mod commands;
mod database;
mod error;
mod group_commit;
mod log;
mod lookup;
mod repository;
mod shared_reads;
mod snapshots;
mod sqlite_time;
mod tokens;

pub use audit_trail::StoredCheckpoint;
pub use bulk::{BulkCommand, BulkFailure, BulkOutcome, Loaded, DEFAULT_BULK_BATCH};
pub use commands::{CommandBus, CommandContext, CommandError, CommandObserver, CommandOutcome};
pub use database::{Backend, Database, DatabaseUrl, DEFAULT_DATABASE_URL};
pub use error::StoreError;
pub use log::{ExportError, LogFilter, LoggedEvent, PgListener, Position};
pub use lookup::{CachedLookup, StoreLookup};
pub use repository::EventRepository;
pub use shared_reads::SharedReads;
pub use snapshots::{SnapshotInfo, StoredSnapshot};
pub use tokens::{NewToken, Principal, Role, TokenInfo};
