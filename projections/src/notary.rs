//! The notary: follows the log like the projector, hashes each event into the Merkle tree,
//! records the leaf hashes, and signs a checkpoint every N events or M seconds.
//!
//! At start it rebuilds the tree from the recorded leaf hashes (32 bytes an event, so fast) and
//! checks the newest stored checkpoint against it; then it reads only the events after the last
//! recorded leaf. It never re-reads old events: finding events changed after they were hashed is
//! the verifier's work (`alliance-ledger verify`), which recomputes every leaf.

use std::sync::Arc;
use std::time::{Duration, Instant};

use audit::{
    CheckpointError, CheckpointSigner, CheckpointVerifier, Hash, LeafEvent, MerkleTree,
    SignedCheckpoint,
};
use chrono::Utc;
use store::{Database, LogFilter, LoggedEvent, Position, StoreError, StoredCheckpoint};
use tokio::sync::RwLock;

use crate::Projection;

/// When to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Sign when this many events were added since the last checkpoint.
    pub every_events: u64,
    /// Sign when this much time passed since the last checkpoint and events were added.
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every_events: 1000,
            every: Duration::from_secs(60),
        }
    }
}

/// Why the notary stopped or refused to start.
#[derive(Debug, thiserror::Error)]
pub enum NotaryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the audit trail's recorded leaf hashes skip from position {previous} to {position}: \
         run `alliance-ledger verify`"
    )]
    LeafGap {
        previous: Position,
        position: Position,
    },
    #[error(
        "the newest stored checkpoint (size {size}) does not match the tree of the recorded \
         leaf hashes: run `alliance-ledger verify`"
    )]
    CheckpointMismatch { size: i64 },
    #[error("the stored checkpoint of size {size} is unreadable: {reason}")]
    BadCheckpoint { size: i64, reason: String },
}

/// The tree and the newest checkpoint, shared with readers (the API's proofs).
#[derive(Debug, Default)]
pub struct AuditTrail {
    tree: MerkleTree,
    latest: Option<SignedCheckpoint>,
    /// Why the trail did not check out at start, when it did not: then it stays empty.
    failure: Option<String>,
}

impl AuditTrail {
    /// A trail that did not check out at start (see [`NotaryError`]): empty, proving nothing.
    pub fn failed(reason: String) -> Self {
        Self {
            failure: Some(reason),
            ..Self::default()
        }
    }

    /// Why the trail did not check out at start, if it did not.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The tree over the events hashed so far.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// The newest checkpoint this ledger signed, if any.
    pub fn latest_checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.latest.as_ref()
    }
}

/// Follows the log and keeps the shared [`AuditTrail`] up to date.
pub struct Notary {
    db: Database,
    trail: Arc<RwLock<AuditTrail>>,
    signer: Option<CheckpointSigner>,
    policy: CheckpointPolicy,
    last_signed_at: Instant,
}

const PAGE: u32 = 1000;

/// How long the notary lets new events gather after the read models moved before it records
/// their leaves: under a stream of commits it writes one transaction of leaves this often
/// instead of one behind every commit, so its own flushes do not compete with the commands'.
const GATHER: Duration = Duration::from_millis(50);

impl Notary {
    /// Loads the recorded leaf hashes into a tree and checks the newest stored checkpoint
    /// against it (with the signer's public half, when there is a signer).
    pub async fn start(
        db: Database,
        signer: Option<CheckpointSigner>,
        verifier: Option<CheckpointVerifier>,
        policy: CheckpointPolicy,
    ) -> Result<(Self, Arc<RwLock<AuditTrail>>), NotaryError> {
        let mut tree = MerkleTree::new();
        let mut previous = 0;
        loop {
            let page = db.read_leaves(previous, 10_000).await?;
            if page.is_empty() {
                break;
            }
            for (position, hash) in page {
                let hash = to_hash(&hash)
                    .filter(|_| position == previous + 1)
                    .ok_or(NotaryError::LeafGap { previous, position })?;
                tree.push(hash);
                previous = position;
            }
        }
        let latest = match db.checkpoints(None).await?.pop() {
            None => None,
            Some(stored) => Some(check_stored(&tree, &stored, verifier.as_ref())?),
        };
        let trail = Arc::new(RwLock::new(AuditTrail {
            tree,
            latest,
            failure: None,
        }));
        let notary = Self {
            db,
            trail: trail.clone(),
            signer,
            policy,
            last_signed_at: Instant::now(),
        };
        Ok((notary, trail))
    }

    /// Hashes every event not yet in the tree, records the leaves, and signs a checkpoint when
    /// the policy says so. Returns the number of events added.
    pub async fn catch_up(&mut self) -> Result<u64, NotaryError> {
        let mut added = 0;
        loop {
            let after = self.trail.read().await.tree.size() as Position;
            let page = self.db.read_log(after, PAGE, &LogFilter::default()).await?;
            if page.is_empty() {
                break;
            }
            let leaves: Vec<(Position, [u8; 32])> =
                page.iter().map(|e| (e.position, leaf_of(e).0)).collect();
            let changed = self.db.record_leaves(&leaves).await?;
            for position in changed {
                tracing::error!(
                    position,
                    "the event at this position no longer matches the leaf hash recorded for it: \
                     run `alliance-ledger verify`"
                );
            }
            let mut trail = self.trail.write().await;
            for (_, hash) in &leaves {
                trail.tree.push(Hash(*hash));
            }
            added += leaves.len() as u64;
            if page.len() < PAGE as usize {
                break;
            }
        }
        self.sign_if_due(false).await?;
        Ok(added)
    }

    /// Signs a checkpoint of the whole tree when the policy says so, or now when `force` and
    /// the tree grew since the last one.
    pub async fn sign_if_due(
        &mut self,
        force: bool,
    ) -> Result<Option<SignedCheckpoint>, NotaryError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let (size, signed_size) = {
            let trail = self.trail.read().await;
            (
                trail.tree.size(),
                trail.latest.as_ref().map_or(0, |c| c.size),
            )
        };
        let grown = size.saturating_sub(signed_size);
        let due = grown > 0
            && (force
                || grown >= self.policy.every_events
                || self.last_signed_at.elapsed() >= self.policy.every);
        if !due {
            return Ok(None);
        }
        let root = self
            .trail
            .read()
            .await
            .tree
            .root(size)
            .expect("the tree holds its own size");
        let signed =
            signer
                .sign(size, root, Utc::now())
                .map_err(|e| NotaryError::BadCheckpoint {
                    size: size as i64,
                    reason: e.to_string(),
                })?;
        self.db
            .save_checkpoint(&StoredCheckpoint {
                tree_size: size as i64,
                root_hash: root.0.to_vec(),
                note: signed.note.clone(),
                signed_at: signed.time,
            })
            .await?;
        self.last_signed_at = Instant::now();
        self.trail.write().await.latest = Some(signed.clone());
        tracing::info!(tree_size = size, "checkpoint signed");
        Ok(Some(signed))
    }

    /// Follows the log behind `projection` until `stop` completes: catches up whenever the
    /// read models move past the tree, and at least every second, so a time-based checkpoint is
    /// never late by more than that. Signs a last checkpoint on the way out.
    pub async fn run(
        mut self,
        projection: Projection,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            if let Err(error) = self.catch_up().await {
                tracing::warn!(%error, "the notary could not catch up; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = &mut stop => break,
                }
            }
            let next = self.trail.read().await.tree.size() as Position + 1;
            tokio::select! {
                moved = projection.wait_for(next, Duration::from_secs(1)) => {
                    if moved {
                        tokio::select! {
                            _ = tokio::time::sleep(GATHER) => {}
                            _ = &mut stop => break,
                        }
                    }
                }
                _ = &mut stop => break,
            }
        }
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "the notary could not catch up before stopping");
        }
        if let Err(error) = self.sign_if_due(true).await {
            tracing::warn!(%error, "the notary could not sign a last checkpoint");
        }
    }
}

/// The leaf hash of a logged event.
pub fn leaf_of(event: &LoggedEvent) -> Hash {
    leaf_event(event).leaf_hash()
}

/// A logged event as the Merkle tree sees it.
pub fn leaf_event(event: &LoggedEvent) -> LeafEvent<'_> {
    LeafEvent {
        position: event.position,
        recorded_at: event.recorded_at,
        aggregate_type: &event.aggregate_type,
        aggregate_id: &event.aggregate_id,
        sequence: event.sequence,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
    }
}

fn to_hash(bytes: &[u8]) -> Option<Hash> {
    <[u8; 32]>::try_from(bytes).ok().map(Hash)
}

/// The stored checkpoint, checked: its root against the tree, and its signature when a verifier
/// is given. A checkpoint signed with another key (the one the ledger used before its key was
/// replaced) is taken as its row says, with a warning: whether every checkpoint carries a
/// trusted signature is for `alliance-ledger verify` to say, with every key the ledger used.
fn check_stored(
    tree: &MerkleTree,
    stored: &StoredCheckpoint,
    verifier: Option<&CheckpointVerifier>,
) -> Result<SignedCheckpoint, NotaryError> {
    let bad = |reason: String| NotaryError::BadCheckpoint {
        size: stored.tree_size,
        reason,
    };
    let as_stored = || -> Result<SignedCheckpoint, NotaryError> {
        Ok(SignedCheckpoint {
            origin: stored.note.lines().next().unwrap_or_default().to_owned(),
            size: u64::try_from(stored.tree_size).map_err(|e| bad(e.to_string()))?,
            root: to_hash(&stored.root_hash).ok_or_else(|| bad("root is not 32 bytes".into()))?,
            time: stored.signed_at,
            note: stored.note.clone(),
        })
    };
    let checkpoint = match verifier.map(|v| v.verify(&stored.note)) {
        None => as_stored()?,
        Some(Ok(checked)) => checked,
        Some(Err(CheckpointError::BadSignature { .. })) => {
            tracing::warn!(
                tree_size = stored.tree_size,
                "the newest stored checkpoint is not signed by this server's key: expected after \
                 the signing key was replaced, else run `alliance-ledger verify`"
            );
            as_stored()?
        }
        Some(Err(e)) => return Err(bad(e.to_string())),
    };
    match tree.root(checkpoint.size) {
        Ok(root) if root == checkpoint.root => Ok(checkpoint),
        _ => Err(NotaryError::CheckpointMismatch {
            size: stored.tree_size,
        }),
    }
}
