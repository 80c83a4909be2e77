use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;

use crate::Database;

/// The cqrs-es event repository of whichever backend holds the log.
///
/// On SQLite, events are written through the view `event_appends`, whose trigger assigns the
/// global position; on PostgreSQL a trigger on `events` does the same.
#[derive(Debug)]
pub enum EventRepository {
    Postgres(PostgresEventRepositoryHandle),
    Sqlite(SqliteEventRepositoryHandle),
}

/// Wraps the postgres-es repository (which has no `Debug`).
pub struct PostgresEventRepositoryHandle(PostgresEventRepository);
/// Wraps the sqlite-es repository (which has no `Debug`).
pub struct SqliteEventRepositoryHandle(SqliteEventRepository);

impl std::fmt::Debug for PostgresEventRepositoryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresEventRepository")
    }
}

impl std::fmt::Debug for SqliteEventRepositoryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteEventRepository")
    }
}

impl EventRepository {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Postgres(pool) => Self::Postgres(PostgresEventRepositoryHandle(
                PostgresEventRepository::new(pool.clone()),
            )),
            Database::Sqlite(pool) => Self::Sqlite(SqliteEventRepositoryHandle(
                SqliteEventRepository::new(pool.clone()).with_tables("event_appends", "snapshots"),
            )),
        }
    }
}

/// cqrs-es's repositories report only a broken connection (`sqlx::Error::Io`) as a
/// [`PersistenceError::ConnectionError`]; every other way of not reaching the database (no
/// connection within the pool's acquire timeout, PostgreSQL shutting down or starting up) comes
/// back as an unknown error. Those are connection failures too: the command may be sent again
/// once the database is back, and the API answers `UNAVAILABLE` instead of `INTERNAL`.
fn connection_failure(error: PersistenceError) -> PersistenceError {
    match error {
        PersistenceError::UnknownError(source)
            if source
                .downcast_ref::<sqlx::Error>()
                .is_some_and(crate::error::is_unavailable) =>
        {
            PersistenceError::ConnectionError(source)
        }
        other => other,
    }
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.get_events::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.0.get_events::<A>(aggregate_id).await,
        };
        result.map_err(connection_failure)
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.get_last_events::<A>(aggregate_id, last_sequence).await,
            Self::Sqlite(r) => r.0.get_last_events::<A>(aggregate_id, last_sequence).await,
        };
        result.map_err(connection_failure)
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.get_snapshot::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.0.get_snapshot::<A>(aggregate_id).await,
        };
        result.map_err(connection_failure)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.persist::<A>(events, snapshot_update).await,
            Self::Sqlite(r) => r.0.persist::<A>(events, snapshot_update).await,
        };
        result.map_err(connection_failure)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.stream_events::<A>(aggregate_id).await,
            Self::Sqlite(r) => r.0.stream_events::<A>(aggregate_id).await,
        };
        result.map_err(connection_failure)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let result = match self {
            Self::Postgres(r) => r.0.stream_all_events::<A>().await,
            Self::Sqlite(r) => r.0.stream_all_events::<A>().await,
        };
        result.map_err(connection_failure)
    }
}
