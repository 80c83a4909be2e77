//! The ledger as a whole: how far the read models are, and a checksum of their state.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::state;
use crate::auth::require_reader;

/// Where this server's read models stand.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Ledger")]
pub struct LedgerObject {
    /// The position of the last event folded into the read models.
    position: i64,
    /// When that event was recorded.
    recorded_at: Option<DateTime<Utc>>,
    /// SHA-256 over the canonical serialisation of the whole state at `position`; equal to
    /// what `alliance-ledger replay --until <position>` prints.
    state_checksum: String,
}

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// The read models' position and state checksum.
    async fn ledger(&self, ctx: &Context<'_>) -> Result<LedgerObject> {
        require_reader(ctx)?;
        let projection = &state(ctx).projection;
        let models = projection.read().await;
        Ok(LedgerObject {
            position: models.position(),
            recorded_at: models.recorded_at(),
            state_checksum: projection.checksum_of(&models).await,
        })
    }
}
