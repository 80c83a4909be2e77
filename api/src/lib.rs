//! The alliance ledger's HTTP surface: GraphQL on `/graphql` (GraphiQL on `GET /graphql`), a
//! health check on `/healthz` and metrics on `/metrics`. A library, so that the binary and the tests serve the same
//! router over real HTTP.

mod auth;
mod documents;
mod error;
mod graphiql;
mod http;
pub mod imports;
mod metrics;
mod pages;
mod schema;
mod throttle;
mod token_lookups;
mod websocket;

pub use auth::Auth;
pub use error::ApiError;
pub use http::{router, serve, serve_on, Limits, ServeError};
pub use metrics::{Metrics, MetricsToken};
pub use schema::scalars::{Date, Decimal, Money, Period};
pub use schema::{build_schema, schema_builder, sdl, LedgerSchema};
pub use throttle::SignInLimit;
pub use token_lookups::TokenLookups;

use std::sync::Arc;
use std::time::{Duration, Instant};

use audit::CheckpointSigner;
use projections::notary::{AuditTrail, CheckpointPolicy, Notary};
use projections::snapshot::{self, SnapshotPolicy, SnapshotWriter};
use projections::{LedgerState, Projection, Projector, ProjectorError};
use store::{CommandBus, Database, Position};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub bus: CommandBus,
    /// The read models, kept up to date with the log by this server's projector.
    pub projection: Projection,
    pub limits: Limits,
    /// Anonymous clients may read what an alliance publishes.
    pub public_read: bool,
    /// How the read models were built at start (from a snapshot or not, events folded).
    pub startup: Startup,
    /// What this server counts, for `GET /metrics`; the command bus reports to it.
    pub metrics: Metrics,
    /// When set, `GET /metrics` answers only a client that sends this bearer token.
    pub metrics_token: Option<MetricsToken>,
    /// The Merkle tree over the log and the newest signed checkpoint, kept by this server's
    /// notary; the audit queries prove from it.
    pub audit: Arc<tokio::sync::RwLock<AuditTrail>>,
    /// The public key that verifies this server's checkpoints (`<name>+<id>+<key>`), when it
    /// signs; the audit page shows it.
    pub public_key: Option<String>,
    /// Bearer tokens looked up for requests: those arriving together with one token share the
    /// next lookup of it (`token_lookups.rs`; no cache, a revocation holds at once).
    pub tokens: TokenLookups,
}

/// How this server keeps the audit trail: the key it signs checkpoints with (none: it hashes
/// the log and serves proofs, but signs nothing) and how often it signs.
#[derive(Debug, Default)]
pub struct AuditConfig {
    pub signer: Option<CheckpointSigner>,
    pub checkpoints: CheckpointPolicy,
}

/// How this server's read models were built at start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Startup {
    /// The position of the snapshot the read models started from; `None`: from an empty state.
    pub snapshot: Option<Position>,
    /// How many newer snapshots were ignored as corrupt or stale.
    pub snapshots_ignored: usize,
    /// How many events were folded at start: those after the snapshot, or the whole log.
    pub events_folded: u64,
    /// The position the read models stood at when serving began.
    pub position: Position,
    /// How long building the read models took, snapshot included.
    pub elapsed: Duration,
}

/// This server's projector and snapshot writer, running in the background.
#[derive(Debug)]
pub struct ProjectorTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ProjectorError>>,
    snapshots: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    notary: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl ProjectorTask {
    /// Stops following the log, then (when the snapshot policy says so) writes a snapshot of
    /// the final state.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the projector had stopped"),
            Err(e) => tracing::error!(error = %e, "the projector task failed"),
            Ok(Ok(())) => {}
        }
        if let Some((stop, task)) = self.snapshots {
            let _ = stop.send(());
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the snapshot writer failed");
            }
        }
        if let Some((stop, task)) = self.notary {
            let _ = stop.send(());
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the notary failed");
            }
        }
    }
}

impl AppState {
    /// [`AppState::start_with`] the default [`SnapshotPolicy`]: start from the newest
    /// trustworthy snapshot, write one every 100,000 events or 5 minutes and at shutdown.
    pub async fn start(db: Database) -> Result<(Self, ProjectorTask), ProjectorError> {
        Self::start_with(db, SnapshotPolicy::default()).await
    }

    /// Builds the read models (from the newest snapshot that passes every check, else from an
    /// empty state), catches up with the log before it returns, so the first request already
    /// sees the whole ledger, and starts following the log and writing snapshots as `policy`
    /// says.
    pub async fn start_with(
        db: Database,
        policy: SnapshotPolicy,
    ) -> Result<(Self, ProjectorTask), ProjectorError> {
        Self::start_with_audit(db, policy, AuditConfig::default()).await
    }

    /// [`AppState::start_with`], and the notary as `audit` says: it hashes every event into the
    /// Merkle tree (the log so far before this returns) and signs checkpoints when it has a key.
    pub async fn start_with_audit(
        db: Database,
        policy: SnapshotPolicy,
        audit: AuditConfig,
    ) -> Result<(Self, ProjectorTask), ProjectorError> {
        let started = Instant::now();
        let mut startup = Startup::default();
        let initial = if policy.restore {
            match snapshot::restore(&db).await {
                Ok(restored) => {
                    startup.snapshot = restored.from;
                    startup.snapshots_ignored = restored.rejected.len();
                    restored.state
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the snapshots; folding the whole log");
                    LedgerState::default()
                }
            }
        } else {
            LedgerState::default()
        };
        let metrics = Metrics::new();
        let bus = CommandBus::new(db.clone()).with_observer(Arc::new(metrics.clone()));
        let (projector, projection) = Projector::new(db.clone(), initial, bus.commit_signal());
        startup.events_folded = projector.catch_up().await?;
        startup.position = projection.position();
        startup.elapsed = started.elapsed();
        tracing::info!(
            snapshot = startup.snapshot,
            snapshots_ignored = startup.snapshots_ignored,
            events_folded = startup.events_folded,
            position = startup.position,
            ms = startup.elapsed.as_millis() as u64,
            "read models ready"
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector.run(async move {
            let _ = stopped.await;
        }));
        let public_key = audit.signer.as_ref().map(|s| s.public_key().to_owned());
        let (trail, notary) = start_notary(&db, &projection, audit).await;
        let snapshots = policy.writes().then(|| {
            let writer = SnapshotWriter::new(
                db.clone(),
                projection.clone(),
                policy,
                startup.snapshot.unwrap_or(0),
            );
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(writer.run(async move {
                let _ = stopped.await;
            }));
            (stop, task)
        });
        Ok((
            Self {
                db,
                bus,
                projection,
                limits: Limits::default(),
                public_read: false,
                startup,
                metrics,
                metrics_token: None,
                audit: trail,
                public_key,
                tokens: TokenLookups::default(),
            },
            ProjectorTask {
                stop,
                task,
                snapshots,
                notary,
            },
        ))
    }
}

type NotaryTask = (oneshot::Sender<()>, JoinHandle<()>);

/// Starts the notary: loads the recorded leaf hashes, hashes the events after them, and follows
/// the log behind the read models. A trail that does not check out (leaf hashes missing, the
/// newest checkpoint not matching) is reported and left alone: the server serves, but proves and
/// signs nothing until `alliance-ledger verify` has been run and the cause mended.
async fn start_notary(
    db: &Database,
    projection: &Projection,
    audit: AuditConfig,
) -> (Arc<tokio::sync::RwLock<AuditTrail>>, Option<NotaryTask>) {
    if audit.signer.is_none() {
        tracing::debug!(
            "no signing key: the audit trail is hashed and proved, but no checkpoint is signed"
        );
    }
    let verifier = audit.signer.as_ref().map(CheckpointSigner::verifier);
    match Notary::start(db.clone(), audit.signer, verifier, audit.checkpoints).await {
        Ok((mut notary, trail)) => {
            if let Err(error) = notary.catch_up().await {
                tracing::warn!(%error, "the notary could not hash the log yet; it keeps trying");
            }
            let (stop, stopped) = oneshot::channel::<()>();
            let projection = projection.clone();
            let task = tokio::spawn(notary.run(projection, async move {
                let _ = stopped.await;
            }));
            (trail, Some((stop, task)))
        }
        Err(error) => {
            tracing::error!(%error, "the audit trail does not check out; no proofs or checkpoints");
            let failed = AuditTrail::failed(error.to_string());
            (Arc::new(tokio::sync::RwLock::new(failed)), None)
        }
    }
}
