//! The audit trail's tables, `audit_leaves` and `audit_checkpoints`: the SQL only. What a leaf
//! is, how the tree is built and how a checkpoint is signed and checked is the `audit` crate's
//! business.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::sqlite_time::{parse_time, time_text};
use crate::{Database, Position, StoreError};

/// A checkpoint as stored: the tree size it covers, its root, the signed note and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub note: String,
    pub signed_at: DateTime<Utc>,
}

impl Database {
    /// Records leaf hashes, `(position, hash)` in position order. A position recorded already
    /// (by another server following the same log) is left as it is; returns the positions whose
    /// stored hash differs from the one given (in position order), which means the event
    /// changed in between.
    pub async fn record_leaves(
        &self,
        leaves: &[(Position, [u8; 32])],
    ) -> Result<Vec<Position>, StoreError> {
        let mut differing = Vec::new();
        match self {
            Database::Postgres(pool) => {
                // One round trip for the whole batch. The join sees the rows that were there
                // before the statement (not those it inserts), so it finds exactly the positions
                // recorded earlier with another hash.
                let sql = "WITH incoming AS ( \
                               SELECT * FROM UNNEST($1::bigint[], $2::bytea[]) AS t(position, leaf_hash)), \
                           inserted AS ( \
                               INSERT INTO audit_leaves (position, leaf_hash) \
                               SELECT position, leaf_hash FROM incoming \
                               ON CONFLICT (position) DO NOTHING) \
                           SELECT i.position FROM incoming i JOIN audit_leaves a USING (position) \
                           WHERE a.leaf_hash <> i.leaf_hash ORDER BY i.position";
                let positions: Vec<Position> = leaves.iter().map(|(p, _)| *p).collect();
                let hashes: Vec<Vec<u8>> = leaves.iter().map(|(_, h)| h.to_vec()).collect();
                differing = sqlx::query_scalar(sql)
                    .bind(positions)
                    .bind(hashes)
                    .fetch_all(pool)
                    .await?;
            }
            Database::Sqlite(pool) => {
                // SQLite is in-process: row by row inside one transaction is as fast.
                let insert = "INSERT INTO audit_leaves (position, leaf_hash) VALUES ($1, $2) \
                              ON CONFLICT (position) DO NOTHING";
                let mut tx = pool.begin().await?;
                for (position, hash) in leaves {
                    let inserted = sqlx::query(insert)
                        .bind(position)
                        .bind(&hash[..])
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if inserted == 0 {
                        let stored: Vec<u8> = sqlx::query_scalar(
                            "SELECT leaf_hash FROM audit_leaves WHERE position = $1",
                        )
                        .bind(position)
                        .fetch_one(&mut *tx)
                        .await?;
                        if stored != hash[..] {
                            differing.push(*position);
                        }
                    }
                }
                tx.commit().await?;
                differing.sort_unstable();
            }
        }
        Ok(differing)
    }

    /// Up to `limit` recorded leaf hashes after `after`, in position order.
    pub async fn read_leaves(
        &self,
        after: Position,
        limit: u32,
    ) -> Result<Vec<(Position, Vec<u8>)>, StoreError> {
        let sql = "SELECT position, leaf_hash FROM audit_leaves WHERE position > $1 \
                   ORDER BY position LIMIT $2";
        macro_rules! read {
            ($pool:expr) => {
                sqlx::query(sql)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all($pool)
                    .await?
                    .into_iter()
                    .map(|r| Ok((r.try_get("position")?, r.try_get("leaf_hash")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            };
        }
        let rows = match self {
            Database::Postgres(pool) => read!(pool),
            Database::Sqlite(pool) => read!(pool),
        };
        Ok(rows)
    }

    /// Stores a signed checkpoint. Returns false when one of that size was stored already
    /// (another server signed it first); the existing row is left alone.
    pub async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<bool, StoreError> {
        let sql = "INSERT INTO audit_checkpoints (tree_size, root_hash, note, signed_at) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING";
        let inserted = match self {
            Database::Postgres(pool) => sqlx::query(sql)
                .bind(checkpoint.tree_size)
                .bind(&checkpoint.root_hash)
                .bind(&checkpoint.note)
                .bind(checkpoint.signed_at)
                .execute(pool)
                .await?
                .rows_affected(),
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(checkpoint.tree_size)
                .bind(&checkpoint.root_hash)
                .bind(&checkpoint.note)
                .bind(time_text(checkpoint.signed_at))
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(inserted == 1)
    }

    /// Every stored checkpoint, by tree size, up to `until` events when given.
    pub async fn checkpoints(
        &self,
        until: Option<Position>,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let sql = "SELECT tree_size, root_hash, note, signed_at FROM audit_checkpoints \
                   WHERE tree_size <= $1 ORDER BY tree_size";
        let until = until.unwrap_or(i64::MAX);
        let mut out = Vec::new();
        match self {
            Database::Postgres(pool) => {
                for r in sqlx::query(sql).bind(until).fetch_all(pool).await? {
                    out.push(StoredCheckpoint {
                        tree_size: r.try_get("tree_size")?,
                        root_hash: r.try_get("root_hash")?,
                        note: r.try_get("note")?,
                        signed_at: r.try_get("signed_at")?,
                    });
                }
            }
            Database::Sqlite(pool) => {
                for r in sqlx::query(sql).bind(until).fetch_all(pool).await? {
                    let signed: String = r.try_get("signed_at")?;
                    out.push(StoredCheckpoint {
                        tree_size: r.try_get("tree_size")?,
                        root_hash: r.try_get("root_hash")?,
                        note: r.try_get("note")?,
                        signed_at: parse_time(&signed)?,
                    });
                }
            }
        }
        Ok(out)
    }
}
