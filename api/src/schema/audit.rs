//! The audit trail: signed checkpoints, and inclusion and consistency proofs over the Merkle tree
//! of the log (RFC 9162). Hashes are standard base64, as in the checkpoints themselves.

use async_graphql::{Context, Object, Result, SimpleObject};
use audit::{hash_to_base64, Hash, ProofError, SignedCheckpoint};
use chrono::{DateTime, Utc};
use projections::notary::AuditTrail;

use super::state;
use crate::auth::{require_reader, require_signed_in};
use crate::ApiError;

/// A tree head the ledger signed: the C2SP checkpoint, as published.
#[derive(SimpleObject)]
#[graphql(name = "Checkpoint")]
pub struct CheckpointObject {
    /// The key's name, the checkpoint's first line.
    origin: String,
    /// The number of events the checkpoint covers.
    tree_size: i64,
    /// The root hash of the tree over those events.
    root_hash: String,
    /// When the ledger signed it.
    signed_at: DateTime<Utc>,
    /// The signed note, exactly as `alliance-ledger verify --checkpoint` reads it.
    note: String,
}

impl From<&SignedCheckpoint> for CheckpointObject {
    fn from(c: &SignedCheckpoint) -> Self {
        Self {
            origin: c.origin.clone(),
            tree_size: c.size as i64,
            root_hash: hash_to_base64(&c.root),
            signed_at: c.time,
            note: c.note.clone(),
        }
    }
}

/// The proof that one event is in the tree of a given size.
#[derive(SimpleObject)]
pub struct InclusionProof {
    /// The event's position (its leaf is number `position - 1`).
    position: i64,
    tree_size: i64,
    /// The event's leaf hash, as the ledger hashed it.
    leaf_hash: String,
    /// The root hash of the tree of `treeSize` events.
    root_hash: String,
    /// The audit path, from the leaf's sibling up.
    path: Vec<String>,
}

/// The proof that the tree of `to` events extends the tree of `from` events unchanged.
#[derive(SimpleObject)]
pub struct ConsistencyProof {
    from: i64,
    to: i64,
    from_root: String,
    to_root: String,
    path: Vec<String>,
}

fn size(field: &str, value: i64) -> Result<u64, ApiError> {
    u64::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_input(field, "must be 1 or more"))
}

/// A proof the tree could not give, blamed on the argument that asked for it: a size beyond
/// the tree on `size_field`, a leaf outside the tree asked on `position`, a range with `from`
/// beyond `to` on `from`.
fn proof_error(size_field: &str, error: ProofError) -> ApiError {
    match error {
        ProofError::Invalid => {
            tracing::error!("the audit trail's tree could not prove what it holds");
            ApiError::Internal
        }
        ProofError::BeyondTree { asked, size } => ApiError::bad_input(
            size_field,
            format!("must not exceed the {size} events hashed so far; got {asked}"),
        ),
        ProofError::NoSuchLeaf { index, size } => ApiError::bad_input(
            "position",
            format!(
                "must be within the tree of {size} events; got {}",
                index.saturating_add(1)
            ),
        ),
        ProofError::BadRange { from, to } => ApiError::bad_input(
            "from",
            format!("must not be greater than `to` ({to}); got {from}"),
        ),
    }
}

fn base64_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hash_to_base64).collect()
}

/// Refuses to prove from a trail that did not check out at start.
fn checks_out(trail: &AuditTrail) -> Result<(), ApiError> {
    match trail.failure() {
        Some(reason) => Err(ApiError::AuditTrailFailed(reason.to_owned())),
        None => Ok(()),
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// A checkpoint the ledger signed: the one covering exactly `treeSize` events, or the newest
    /// when `treeSize` is left out. Null when there is none (yet).
    async fn checkpoint(
        &self,
        ctx: &Context<'_>,
        tree_size: Option<i64>,
    ) -> Result<Option<CheckpointObject>> {
        require_reader(ctx)?;
        let app = state(ctx);
        let Some(tree_size) = tree_size else {
            let trail = app.audit.read().await;
            checks_out(&trail)?;
            return Ok(trail.latest_checkpoint().map(Into::into));
        };
        size("treeSize", tree_size)?;
        let stored = app
            .db
            .checkpoints(Some(tree_size))
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .find(|c| c.tree_size == tree_size);
        let Some(stored) = stored else {
            return Ok(None);
        };
        let root = <[u8; 32]>::try_from(stored.root_hash.as_slice()).map_err(|_| {
            tracing::error!(tree_size, "a stored checkpoint's root is not 32 bytes");
            ApiError::Internal
        })?;
        Ok(Some(CheckpointObject {
            origin: stored.note.lines().next().unwrap_or_default().to_owned(),
            tree_size: stored.tree_size,
            root_hash: hash_to_base64(&Hash(root)),
            signed_at: stored.signed_at,
            note: stored.note,
        }))
    }

    /// The inclusion proof of the event at `position` in the tree of `treeSize` events
    /// (default: every event hashed so far).
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        position: i64,
        tree_size: Option<i64>,
    ) -> Result<InclusionProof> {
        require_signed_in(ctx)?;
        let index = size("position", position)? - 1;
        let trail = state(ctx).audit.read().await;
        checks_out(&trail)?;
        let tree = trail.tree();
        let tree_size = match tree_size {
            Some(t) => size("treeSize", t)?,
            None => tree.size(),
        };
        let path = tree
            .inclusion_proof(index, tree_size)
            .map_err(|e| proof_error("treeSize", e))?;
        let leaf = tree.leaf_hash(index).ok_or(ApiError::Internal)?;
        let root = tree
            .root(tree_size)
            .map_err(|e| proof_error("treeSize", e))?;
        Ok(InclusionProof {
            position,
            tree_size: tree_size as i64,
            leaf_hash: hash_to_base64(&leaf),
            root_hash: hash_to_base64(&root),
            path: base64_all(&path),
        })
    }

    /// The consistency proof that the tree of `to` events (default: every event hashed so far)
    /// extends the tree of `from` events: an auditor holding a checkpoint of `from` events
    /// checks with it that today's log still holds exactly that history.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from: i64,
        to: Option<i64>,
    ) -> Result<ConsistencyProof> {
        require_signed_in(ctx)?;
        let from = size("from", from)?;
        let trail = state(ctx).audit.read().await;
        checks_out(&trail)?;
        let tree = trail.tree();
        let to = match to {
            Some(t) => size("to", t)?,
            None => tree.size(),
        };
        let path = tree
            .consistency_proof(from, to)
            .map_err(|e| proof_error("to", e))?;
        let root = |n| tree.root(n).map_err(|e| proof_error("to", e));
        Ok(ConsistencyProof {
            from: from as i64,
            to: to as i64,
            from_root: hash_to_base64(&root(from)?),
            to_root: hash_to_base64(&root(to)?),
            path: base64_all(&path),
        })
    }
}
