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

/// Narrows a read of the log. Empty fields match everything; the fields given must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// Only events whose metadata names exactly this actor ([`domain::metadata::ACTOR`]).
    pub actor: Option<String>,
    /// Only events recorded at or after this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this instant (exclusive), so that `from` and `to` of
    /// consecutive ranges never both take an event.
    pub to: Option<DateTime<Utc>>,
}

/// `t` rounded up to a whole multiple of `unit_nanos` within its second: the first instant a
/// store that keeps times at that precision can hold that is not before `t`. A stored time
/// is at or after `t` exactly when it is at or after this, and before `t` exactly when it is
/// before this, so the bounds of a [`LogFilter`] compare exactly at any precision.
fn round_up(t: DateTime<Utc>, unit_nanos: u32) -> DateTime<Utc> {
    let rest = t.timestamp_subsec_nanos() % unit_nanos;
    if rest == 0 {
        return t;
    }
    t.checked_add_signed(chrono::TimeDelta::nanoseconds(i64::from(unit_nanos - rest)))
        .unwrap_or(t)
}

/// PostgreSQL keeps `recorded_at` to the microsecond.
fn postgres_bound(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(|t| round_up(t, 1_000))
}

/// SQLite keeps `recorded_at` as text, `strftime('%Y-%m-%dT%H:%M:%fZ')`, to the millisecond,
/// which sorts as the times do; a bound in the same form compares exactly as text.
fn sqlite_bound(t: Option<DateTime<Utc>>) -> Option<String> {
    use chrono::Datelike;
    t.map(|t| {
        let t = round_up(t, 1_000_000);
        if t.year() > 9999 {
            // Later than every four-digit year the log can hold ('9' sorts after '-').
            "99999".to_owned()
        } else {
            // Years before 0 begin with '-', which sorts before every stored time.
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        }
    })
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
                     AND ($4::text IS NULL OR metadata ->> 'actor' = $4) \
                     AND ($5::timestamptz IS NULL OR recorded_at >= $5) \
                     AND ($6::timestamptz IS NULL OR recorded_at < $6) \
                     ORDER BY position LIMIT $7"
                );
                let mut rows = sqlx::query(&sql)
                    .bind(after)
                    .bind(filter.aggregate_type.as_deref())
                    .bind(filter.aggregate_id.as_deref())
                    .bind(filter.actor.as_deref())
                    .bind(postgres_bound(filter.from))
                    .bind(postgres_bound(filter.to))
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
                     AND (?4 IS NULL OR json_extract(metadata, '$.actor') = ?4) \
                     AND (?5 IS NULL OR recorded_at >= ?5) \
                     AND (?6 IS NULL OR recorded_at < ?6) \
                     ORDER BY position LIMIT ?7"
                );
                let mut rows = sqlx::query(&sql)
                    .bind(after)
                    .bind(filter.aggregate_type.as_deref())
                    .bind(filter.aggregate_id.as_deref())
                    .bind(filter.actor.as_deref())
                    .bind(sqlite_bound(filter.from))
                    .bind(sqlite_bound(filter.to))
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::{postgres_bound, sqlite_bound};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    #[test]
    fn bounds_round_up_to_the_precision_the_backend_keeps() {
        assert_eq!(
            sqlite_bound(Some(at("2024-05-01T10:11:12.3451Z"))).as_deref(),
            Some("2024-05-01T10:11:12.346Z")
        );
        assert_eq!(
            sqlite_bound(Some(at("2024-05-01T10:11:12Z"))).as_deref(),
            Some("2024-05-01T10:11:12.000Z")
        );
        assert_eq!(
            sqlite_bound(Some(at("2024-12-31T23:59:59.9999Z"))).as_deref(),
            Some("2025-01-01T00:00:00.000Z")
        );
        assert_eq!(
            postgres_bound(Some(at("2024-05-01T10:11:12.0000001Z"))),
            Some(at("2024-05-01T10:11:12.000001Z"))
        );
        assert_eq!(
            postgres_bound(Some(at("2024-05-01T10:11:12.000001Z"))),
            Some(at("2024-05-01T10:11:12.000001Z"))
        );
        assert_eq!(sqlite_bound(None), None);
    }

    #[test]
    fn a_sqlite_bound_beyond_year_9999_sorts_after_every_stored_time() {
        let far = sqlite_bound(Some(at("9999-12-31T23:59:59.9999Z"))).expect("a bound");
        assert!(far.as_str() > "9999-12-31T23:59:59.999Z");
    }
}
