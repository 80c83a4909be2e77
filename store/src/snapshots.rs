//! Snapshots of the read models in `projection_snapshots`: the SQL only. What a snapshot holds,
//! how it is encoded and when it is trusted is the business of `projections::snapshot`.
//!
//! Unlike `events`, this table is not append-only: it holds only what can be rebuilt from the
//! log, and writers keep just the newest few rows.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::sqlite_time::{parse_time, time_text};
use crate::{Database, Position, StoreError};

/// A snapshot row as listed: everything but the (large) state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub position: Position,
    pub checksum: String,
    pub format: i32,
    pub last_event_hash: String,
    /// The size of the encoded state, in bytes.
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// A snapshot row with its encoded state.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub position: Position,
    pub checksum: String,
    pub format: i32,
    pub last_event_hash: String,
    pub state: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSnapshot")
            .field("position", &self.position)
            .field("checksum", &self.checksum)
            .field("format", &self.format)
            .field("last_event_hash", &self.last_event_hash)
            .field("state", &format_args!("{} bytes", self.state.len()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Database {
    /// Stores a snapshot and then prunes: first every snapshot whose position is beyond the
    /// log's head (provably stale: a snapshot is only ever taken of committed events, so one
    /// beyond the head belongs to another or a rewound log, and would otherwise crowd out the
    /// real ones), then all but the `keep` newest by position (at least one is kept). Returns
    /// false when a snapshot at that position was there already (another server wrote it
    /// first); the existing row is left alone.
    pub async fn save_snapshot(
        &self,
        snapshot: &StoredSnapshot,
        keep: usize,
    ) -> Result<bool, StoreError> {
        let insert = "INSERT INTO projection_snapshots \
                      (position, checksum, format, last_event_hash, state, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (position) DO NOTHING";
        let beyond_head = "DELETE FROM projection_snapshots \
                           WHERE position > (SELECT coalesce(max(position), 0) FROM events)";
        let prune = "DELETE FROM projection_snapshots WHERE position NOT IN \
                     (SELECT position FROM projection_snapshots ORDER BY position DESC LIMIT $1)";
        let keep = i64::try_from(keep.max(1)).unwrap_or(i64::MAX);
        let inserted = match self {
            Database::Postgres(pool) => {
                let inserted = sqlx::query(insert)
                    .bind(snapshot.position)
                    .bind(&snapshot.checksum)
                    .bind(snapshot.format)
                    .bind(&snapshot.last_event_hash)
                    .bind(&snapshot.state)
                    .bind(snapshot.created_at)
                    .execute(pool)
                    .await?
                    .rows_affected();
                sqlx::query(beyond_head).execute(pool).await?;
                sqlx::query(prune).bind(keep).execute(pool).await?;
                inserted
            }
            Database::Sqlite(pool) => {
                let inserted = sqlx::query(insert)
                    .bind(snapshot.position)
                    .bind(&snapshot.checksum)
                    .bind(snapshot.format)
                    .bind(&snapshot.last_event_hash)
                    .bind(&snapshot.state)
                    .bind(time_text(snapshot.created_at))
                    .execute(pool)
                    .await?
                    .rows_affected();
                sqlx::query(beyond_head).execute(pool).await?;
                sqlx::query(prune).bind(keep).execute(pool).await?;
                inserted
            }
        };
        Ok(inserted == 1)
    }

    /// Every stored snapshot, newest (highest position) first, without the states.
    pub async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let mut out = Vec::new();
        match self {
            Database::Postgres(pool) => {
                let sql = "SELECT position, checksum, format, last_event_hash, \
                           octet_length(state)::bigint AS size, created_at \
                           FROM projection_snapshots ORDER BY position DESC";
                for r in sqlx::query(sql).fetch_all(pool).await? {
                    out.push(SnapshotInfo {
                        position: r.try_get("position")?,
                        checksum: r.try_get("checksum")?,
                        format: r.try_get("format")?,
                        last_event_hash: r.try_get("last_event_hash")?,
                        size: r.try_get("size")?,
                        created_at: r.try_get("created_at")?,
                    });
                }
            }
            Database::Sqlite(pool) => {
                let sql = "SELECT position, checksum, format, last_event_hash, \
                           length(state) AS size, created_at \
                           FROM projection_snapshots ORDER BY position DESC";
                for r in sqlx::query(sql).fetch_all(pool).await? {
                    let created: String = r.try_get("created_at")?;
                    out.push(SnapshotInfo {
                        position: r.try_get("position")?,
                        checksum: r.try_get("checksum")?,
                        format: r.try_get("format")?,
                        last_event_hash: r.try_get("last_event_hash")?,
                        size: r.try_get("size")?,
                        created_at: parse_time(&created)?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The snapshot at `position`, with its state; `None` when there is none (any more).
    pub async fn load_snapshot(
        &self,
        position: Position,
    ) -> Result<Option<StoredSnapshot>, StoreError> {
        let sql = "SELECT position, checksum, format, last_event_hash, state, created_at \
                   FROM projection_snapshots WHERE position = $1";
        let snapshot = match self {
            Database::Postgres(pool) => {
                let Some(r) = sqlx::query(sql).bind(position).fetch_optional(pool).await? else {
                    return Ok(None);
                };
                StoredSnapshot {
                    position: r.try_get("position")?,
                    checksum: r.try_get("checksum")?,
                    format: r.try_get("format")?,
                    last_event_hash: r.try_get("last_event_hash")?,
                    state: r.try_get("state")?,
                    created_at: r.try_get("created_at")?,
                }
            }
            Database::Sqlite(pool) => {
                let Some(r) = sqlx::query(sql).bind(position).fetch_optional(pool).await? else {
                    return Ok(None);
                };
                let created: String = r.try_get("created_at")?;
                StoredSnapshot {
                    position: r.try_get("position")?,
                    checksum: r.try_get("checksum")?,
                    format: r.try_get("format")?,
                    last_event_hash: r.try_get("last_event_hash")?,
                    state: r.try_get("state")?,
                    created_at: parse_time(&created)?,
                }
            }
        };
        Ok(Some(snapshot))
    }
}
