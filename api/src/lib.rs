//! The alliance ledger's HTTP surface: GraphQL on `/graphql` (GraphiQL on `GET /graphql`) and
//! a health check on `/healthz`. A library, so that the binary and the tests serve the same
//! router over real HTTP.

mod auth;
mod error;
mod http;
mod schema;

pub use auth::Auth;
pub use error::ApiError;
pub use http::{router, serve, serve_on, Limits, ServeError};
pub use schema::{build_schema, LedgerSchema};

use projections::{LedgerState, Projection, Projector, ProjectorError};
use store::{CommandBus, Database};
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
}

/// This server's projector, running in the background.
#[derive(Debug)]
pub struct ProjectorTask {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ProjectorError>>,
}

impl ProjectorTask {
    /// Stops following the log.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the projector had stopped"),
            Err(e) => tracing::error!(error = %e, "the projector task failed"),
            Ok(Ok(())) => {}
        }
    }
}

impl AppState {
    /// Builds the read models from the log (catching up before it returns, so the first
    /// request already sees the whole ledger) and starts following the log.
    pub async fn start(db: Database) -> Result<(Self, ProjectorTask), ProjectorError> {
        let bus = CommandBus::new(db.clone());
        let (projector, projection) =
            Projector::new(db.clone(), LedgerState::default(), bus.commit_signal());
        projector.catch_up().await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector.run(async move {
            let _ = stopped.await;
        }));
        Ok((
            Self {
                db,
                bus,
                projection,
                limits: Limits::default(),
                public_read: false,
            },
            ProjectorTask { stop, task },
        ))
    }
}
