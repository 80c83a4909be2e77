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
    /// The event's leaf hash in the audit trail's Merkle tree (RFC 9162, base64), computed from
    /// the event as it is now; see `inclusionProof`.
    leaf_hash: String,
}

impl From<LoggedEvent> for LoggedEventObject {
    fn from(e: LoggedEvent) -> Self {
        let leaf_hash = audit::hash_to_base64(&projections::notary::leaf_of(&e));
        Self {
            leaf_hash,
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
    /// Events after a position, in position order (auditor and admin only), narrowed by the
    /// filters given (all must match). To read on, pass the position of the last event
    /// returned as `after`; a page shorter than `first` means no more events match yet.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return events with a position after this one; 0 (the default) for the start."
        )]
        after: Option<i64>,
        #[graphql(desc = "How many events to return at most (default 100).")] first: Option<i32>,
        #[graphql(desc = "Only events of this aggregate type, e.g. `Decision` or `Fund`.")]
        aggregate_type: Option<String>,
        #[graphql(desc = "Only events of the record with this id, e.g. a decision's UUID.")]
        aggregate_id: Option<String>,
        #[graphql(
            desc = "Only events recorded by this actor: the exact actor name of the token that recorded them, as in `metadata.actor`."
        )]
        actor: Option<String>,
        #[graphql(desc = "Only events recorded at or after this instant (RFC 3339; inclusive).")]
        from: Option<DateTime<Utc>>,
        #[graphql(
            desc = "Only events recorded before this instant (RFC 3339; exclusive, so consecutive ranges do not overlap). Must not be before `from`; equal to `from` gives no events."
        )]
        to: Option<DateTime<Utc>>,
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
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(ApiError::bad_input(
                    "to",
                    format!("must not be before `from` ({})", from.to_rfc3339()),
                )
                .into());
            }
        }
        let filter = LogFilter {
            aggregate_type,
            aggregate_id,
            actor,
            from,
            to,
        };
        let events = state(ctx)
            .db
            .read_log(after, first as u32, &filter)
            .await
            .map_err(ApiError::from)?;
        Ok(events.into_iter().map(Into::into).collect())
    }
}
