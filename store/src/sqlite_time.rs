//! Times in SQLite, which has no time type: RFC 3339 text in UTC with microseconds, written and
//! read the same way by every table that keeps a time (tokens, snapshots, checkpoints). The event
//! log keeps its own millisecond text, written by its trigger (see `migrations/sqlite`).

use chrono::{DateTime, SecondsFormat, Utc};

use crate::StoreError;

/// A time as SQLite stores it.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A time SQLite stored, or a decode error naming why.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}
