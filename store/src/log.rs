use std::io::Write;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
pub use sqlx::postgres::PgListener;
use sqlx::Row;

use crate::{Database, StoreError};

/// A place in the log: 1 for the first event, then one more for each event, in commit order.
pub type Position = i64;

/// One event as the log holds it, with every column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvent {
    pub position: Position,
    pub recorded_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

impl LoggedEvent {
    /// A metadata entry, such as [`domain::metadata::ACTOR`].
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

/// Narrows a read of the log. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
}

const COLUMNS: &str = "position, recorded_at, aggregate_type, aggregate_id, sequence, \
                       event_type, event_version, payload, metadata";

impl Database {
    /// Up to `limit` events with a position after `after`, in position order.
    ///
    /// A reader that continues from the last position it saw never misses an event: positions
    /// are handed out in commit order, so none can appear later below one already read.
    pub async fn read_log(
        &self,
        after: Position,
        limit: u32,
        filter: &LogFilter,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let limit = i64::from(limit);
        match self {
            Database::Postgres(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE position > $1 \
                     AND ($2::text IS NULL OR aggregate_type = $2) \
                     AND ($3::text IS NULL OR aggregate_id = $3) \
                     ORDER BY position LIMIT $4"
                );
                let mut rows = sqlx::query(&sql)
                    .bind(after)
                    .bind(filter.aggregate_type.as_deref())
                    .bind(filter.aggregate_id.as_deref())
                    .bind(limit)
                    .fetch(pool);
                let mut out = Vec::new();
                while let Some(row) = rows.try_next().await? {
                    out.push(LoggedEvent {
                        position: row.try_get("position")?,
                        recorded_at: row.try_get("recorded_at")?,
                        aggregate_type: row.try_get("aggregate_type")?,
                        aggregate_id: row.try_get("aggregate_id")?,
                        sequence: row.try_get("sequence")?,
                        event_type: row.try_get("event_type")?,
                        event_version: row.try_get("event_version")?,
                        payload: row.try_get("payload")?,
                        metadata: row.try_get("metadata")?,
                    });
                }
                Ok(out)
            }
            Database::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE position > ?1 \
                     AND (?2 IS NULL OR aggregate_type = ?2) \
                     AND (?3 IS NULL OR aggregate_id = ?3) \
                     ORDER BY position LIMIT ?4"
                );
                let mut rows = sqlx::query(&sql)
                    .bind(after)
                    .bind(filter.aggregate_type.as_deref())
                    .bind(filter.aggregate_id.as_deref())
                    .bind(limit)
                    .fetch(pool);
                let mut out = Vec::new();
                while let Some(row) = rows.try_next().await? {
                    let position: i64 = row.try_get("position")?;
                    let corrupt = |reason: String| StoreError::CorruptEvent { position, reason };
                    let recorded_at: String = row.try_get("recorded_at")?;
                    let payload: String = row.try_get("payload")?;
                    let metadata: String = row.try_get("metadata")?;
                    out.push(LoggedEvent {
                        position,
                        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
                            .map_err(|e| corrupt(format!("recorded_at: {e}")))?
                            .with_timezone(&Utc),
                        aggregate_type: row.try_get("aggregate_type")?,
                        aggregate_id: row.try_get("aggregate_id")?,
                        sequence: row.try_get("sequence")?,
                        event_type: row.try_get("event_type")?,
                        event_version: row.try_get("event_version")?,
                        payload: serde_json::from_str(&payload)
                            .map_err(|e| corrupt(format!("payload: {e}")))?,
                        metadata: serde_json::from_str(&metadata)
                            .map_err(|e| corrupt(format!("metadata: {e}")))?,
                    });
                }
                Ok(out)
            }
        }
    }

    /// The events recorded under a client's idempotency key, in position order.
    pub async fn events_with_idempotency_key(
        &self,
        key: &str,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let positions: Vec<i64> = match self {
            Database::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT position FROM events WHERE metadata ->> 'idempotency_key' = $1 \
                     ORDER BY position",
                )
                .bind(key)
                .fetch_all(pool)
                .await?
            }
            Database::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT position FROM events \
                     WHERE json_extract(metadata, '$.idempotency_key') = ?1 ORDER BY position",
                )
                .bind(key)
                .fetch_all(pool)
                .await?
            }
        };
        let mut out = Vec::with_capacity(positions.len());
        for position in positions {
            out.extend(
                self.read_log(position - 1, 1, &LogFilter::default())
                    .await?,
            );
        }
        Ok(out)
    }

    /// A connection that hears when events are committed (PostgreSQL `LISTEN`); `None` on
    /// SQLite, which has no notifications.
    pub async fn listen_for_events(&self) -> Result<Option<PgListener>, StoreError> {
        match self {
            Database::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen("ledger_events").await?;
                Ok(Some(listener))
            }
            Database::Sqlite(_) => Ok(None),
        }
    }

    /// The position of the last event recorded, 0 for an empty log.
    pub async fn head(&self) -> Result<Position, StoreError> {
        let sql = "SELECT coalesce(max(position), 0) FROM events";
        let head: i64 = match self {
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        };
        Ok(head)
    }

    /// Writes the log up to `until` (inclusive; the whole log when `None`) as JSON lines, one
    /// event a line with every column, in position order. Returns the number of events.
    pub async fn export(
        &self,
        out: &mut impl Write,
        until: Option<Position>,
    ) -> Result<u64, ExportError> {
        const PAGE: u32 = 5_000;
        let mut after = 0;
        let mut written = 0;
        loop {
            let page = self.read_log(after, PAGE, &LogFilter::default()).await?;
            let done = page.len() < PAGE as usize;
            for event in page {
                if until.is_some_and(|u| event.position > u) {
                    return Ok(written);
                }
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b"\n")?;
                after = event.position;
                written += 1;
            }
            if done {
                out.flush()?;
                return Ok(written);
            }
        }
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode an event: {0}")]
    Encode(#[from] serde_json::Error),
}
