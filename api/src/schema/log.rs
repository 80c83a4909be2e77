//! The raw event log, for auditors.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use store::{LogFilter, LoggedEvent};

use super::state;
use crate::auth::require_log_reader;
use crate::ApiError;

/// One event of the log, with every column.
#[derive(SimpleObject)]
#[graphql(name = "LoggedEvent")]
pub struct LoggedEventObject {
    /// Place in the log: 1 for the first event, then one more per event, in commit order.
    position: i64,
    /// When the ledger recorded it; never earlier than the event before it.
    recorded_at: DateTime<Utc>,
    aggregate_type: String,
    aggregate_id: String,
    /// The event's number within its aggregate, from 1.
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: async_graphql::Json<serde_json::Value>,
    /// Who recorded it (actor, role, organisation), the request id and any idempotency key.
    metadata: async_graphql::Json<serde_json::Value>,
}

impl From<LoggedEvent> for LoggedEventObject {
    fn from(e: LoggedEvent) -> Self {
        Self {
            position: e.position,
            recorded_at: e.recorded_at,
            aggregate_type: e.aggregate_type,
            aggregate_id: e.aggregate_id,
            sequence: e.sequence,
            event_type: e.event_type,
            event_version: e.event_version,
            payload: async_graphql::Json(e.payload),
            metadata: async_graphql::Json(e.metadata),
        }
    }
}

#[derive(Default)]
pub struct LogQuery;

#[Object]
impl LogQuery {
    /// Events after a position, in position order (auditor and admin only).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return events with a position after this one; 0 (the default) for the start."
        )]
        after: Option<i64>,
        #[graphql(desc = "How many events to return at most (default 100).")] first: Option<i32>,
        aggregate_type: Option<String>,
        aggregate_id: Option<String>,
    ) -> Result<Vec<LoggedEventObject>> {
        require_log_reader(ctx)?;
        let limits = &state(ctx).limits;
        let after = after.unwrap_or(0);
        if after < 0 {
            return Err(ApiError::bad_input("after", "must be 0 or a position").into());
        }
        let first = first.unwrap_or(100);
        if first < 0 || first as u32 > limits.max_page_size {
            return Err(ApiError::bad_input(
                "first",
                format!("must be between 0 and {}", limits.max_page_size),
            )
            .into());
        }
        let filter = LogFilter {
            aggregate_type,
            aggregate_id,
        };
        let events = state(ctx)
            .db
            .read_log(after, first as u32, &filter)
            .await
            .map_err(ApiError::from)?;
        Ok(events.into_iter().map(Into::into).collect())
    }
}
