//! Live updates: each event as this server's read models take it in, for live screens.

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, Stream};
use async_graphql::{Context, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::decision::Decision;
use domain::ids::ProgrammeId;
use domain::measurement::Measurement;
use domain::programme::Programme;
use domain::target::Target;
use projections::{AppliedEvent, EventFeed};

use super::input::slug;
use super::state;
use crate::auth::{may_read_actors, require_reader, require_signed_in};
use crate::ApiError;

/// The records an alliance publishes: what an anonymous reader of a public server may follow.
const PUBLISHED: [&str; 4] = [
    Programme::TYPE,
    Decision::TYPE,
    Target::TYPE,
    Measurement::TYPE,
];

/// An event the ledger recorded, once this server's read models include it: a query sent
/// after receiving it sees its effect.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "RecordedEvent")]
pub struct RecordedEventObject {
    /// Place in the log: 1 for the first event, then one more per event, in commit order.
    position: i64,
    /// When the ledger recorded it.
    recorded_at: DateTime<Utc>,
    /// The kind of record it changed: `Programme`, `Decision`, `Fund`, ...
    aggregate_type: String,
    /// The id of the record it changed.
    aggregate_id: String,
    /// What happened, e.g. `DecisionProposed`.
    event_type: String,
    /// The programme the record belongs to.
    programme_id: Option<String>,
    /// Who recorded it; only for the auditor and admin roles, null for everyone else.
    actor: Option<String>,
    /// The role of the token it was recorded with, e.g. `secretary`: institutional, so shown
    /// to every reader of the event, as in a target's history.
    role: Option<String>,
    /// The organisation of that token, if it has one; shown to every reader of the event.
    organisation: Option<String>,
}

impl RecordedEventObject {
    fn new(event: &AppliedEvent, view: &View) -> Self {
        let actor = if view.with_actor {
            event.actor.clone()
        } else {
            None
        };
        Self {
            position: event.position,
            recorded_at: event.recorded_at,
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            event_type: event.event_type.clone(),
            programme_id: event.programme_id.clone(),
            actor,
            role: event.role.clone(),
            organisation: event.organisation.clone(),
        }
    }
}

/// Which events one subscriber receives and what it may see of them.
struct View {
    programme: Option<String>,
    /// An anonymous reader: only the events of what an alliance publishes.
    published_only: bool,
    /// Who recorded each event: auditors and admins.
    with_actor: bool,
}

impl View {
    fn shows(&self, event: &AppliedEvent) -> bool {
        (!self.published_only || PUBLISHED.contains(&event.aggregate_type.as_str()))
            && self
                .programme
                .as_ref()
                .is_none_or(|p| event.programme_id.as_ref() == Some(p))
    }
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription(name = "Subscription")]
impl LiveSubscription {
    /// Each event the ledger records from now on (or after the position `after`), in position
    /// order, once this server's read models include it, with the role and organisation it was
    /// recorded under (and, for auditors and admins, who recorded it). Signed-in readers receive
    /// every event; anonymous readers of a server with public reading only those of what an
    /// alliance publishes (programme, decisions, targets, measurements).
    async fn event_recorded(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only events of this programme, e.g. `dordt-west`; every programme when left out."
        )]
        programme_id: Option<String>,
        #[graphql(
            desc = "Start after this position (also with events recorded before subscribing), e.g. the last one received before a reconnect; from now when left out."
        )]
        after: Option<i64>,
    ) -> Result<impl Stream<Item = Result<RecordedEventObject>>> {
        require_reader(ctx)?;
        let app = state(ctx);
        if let Some(after) = after.filter(|a| *a < 0) {
            return Err(
                ApiError::bad_input("after", format!("{after} is not 0 or a position")).into(),
            );
        }
        let programme = match programme_id {
            Some(id) => {
                let id = slug("programmeId", &id, ProgrammeId::parse)?;
                let models = app.projection.read().await;
                if models.programme(id.as_str(), models.position()).is_none() {
                    return Err(ApiError::NotFound(format!(
                        "there is no programme {:?}",
                        id.as_str()
                    ))
                    .into());
                }
                Some(id.as_str().to_owned())
            }
            None => None,
        };
        let view = Arc::new(View {
            programme,
            published_only: require_signed_in(ctx).is_err(),
            with_actor: may_read_actors(ctx),
        });
        let feed = app.projection.feed(after);
        Ok(stream::unfold(Some(feed), move |feed| {
            let view = view.clone();
            async move { next_shown(feed?, &view).await }
        }))
    }
}

/// The next event the view shows; after an error the stream ends, and the client may resume
/// with `after` set to the last position it received.
async fn next_shown(
    mut feed: EventFeed,
    view: &View,
) -> Option<(Result<RecordedEventObject>, Option<EventFeed>)> {
    loop {
        match feed.next().await? {
            Ok(event) if view.shows(&event) => {
                return Some((Ok(RecordedEventObject::new(&event, view)), Some(feed)));
            }
            Ok(_) => {}
            Err(e) => return Some((Err(ApiError::from(e).into()), None)),
        }
    }
}
