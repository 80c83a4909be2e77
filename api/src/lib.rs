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

use store::{CommandBus, Database};

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub bus: CommandBus,
    pub limits: Limits,
    /// Anonymous clients may read what an alliance publishes.
    pub public_read: bool,
}

impl AppState {
    pub fn new(db: Database) -> Self {
        Self {
            bus: CommandBus::new(db.clone()),
            db,
            limits: Limits::default(),
            public_read: false,
        }
    }
}
