//! Events as the read models take them in: the projector announces each event it folded, and
//! an [`EventFeed`] hands them to one reader in position order, none skipped and none twice.
//!
//! Announcements go out on a bounded broadcast channel. A reader that falls behind (the channel
//! overflowed) or finds a gap (it started listening in the middle of a batch, or resumes from an
//! older position) reads the missing events from the log instead, so the feed never skips one
//! silently. An event is only handed out once the read models include it: a reader told of
//! position P can query the state at P right away.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::metadata;
use store::{Database, LogFilter, LoggedEvent, Position, StoreError};
use tokio::sync::broadcast;

use crate::{LedgerState, Projection};

/// How many announced events a reader may fall behind before it reads from the log instead.
pub(crate) const ANNOUNCED: usize = 1_024;

/// How many events one read of the log fetches when a reader catches up.
const BATCH: u32 = 500;

/// One event the read models have folded in: where and when it was recorded, what it was,
/// which programme it belongs to, and who recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedEvent {
    pub position: Position,
    pub recorded_at: DateTime<Utc>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    /// The programme of the record the event belongs to, as the read models know it.
    pub programme_id: Option<String>,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub organisation: Option<String>,
}

impl AppliedEvent {
    /// The event as the read models see it; `state` must already include it.
    pub fn new(logged: &LoggedEvent, state: &LedgerState) -> Self {
        let text = |key: &str| logged.meta(key).map(str::to_owned);
        Self {
            position: logged.position,
            recorded_at: logged.recorded_at,
            aggregate_type: logged.aggregate_type.clone(),
            aggregate_id: logged.aggregate_id.clone(),
            event_type: logged.event_type.clone(),
            programme_id: state
                .programme_of(&logged.aggregate_type, &logged.aggregate_id)
                .map(|p| p.as_str().to_owned()),
            actor: text(metadata::ACTOR),
            role: text(metadata::ROLE),
            organisation: text(metadata::ORGANISATION),
        }
    }
}

/// Why a feed stopped.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the log has no event after position {after}, though the read models include one")]
    Missing { after: Position },
}

/// One reader's view of the events the read models take in, in position order.
#[derive(Debug)]
pub struct EventFeed {
    db: Database,
    projection: Projection,
    /// `None` once the projector has stopped.
    announced: Option<broadcast::Receiver<Arc<AppliedEvent>>>,
    /// The last position handed out (or the one the feed started after).
    last: Position,
    /// Events up to this position are read from the log before listening again.
    catch_up_to: Position,
    /// Events read from the log, not yet handed out.
    backlog: VecDeque<Arc<AppliedEvent>>,
    /// An announced event that came after a gap; handed out once the gap is filled.
    held: Option<Arc<AppliedEvent>>,
}

impl EventFeed {
    pub(crate) fn new(
        db: Database,
        projection: Projection,
        announced: Option<broadcast::Receiver<Arc<AppliedEvent>>>,
        after: Option<Position>,
    ) -> Self {
        // Listening began before the position is read: every event beyond it is either
        // announced to this receiver or already folded, so none falls between the two.
        let now = projection.position();
        let last = after.unwrap_or(now);
        Self {
            db,
            projection,
            announced,
            last,
            catch_up_to: now,
            backlog: VecDeque::new(),
            held: None,
        }
    }

    /// The last position handed out, or the one the feed started after.
    pub fn position(&self) -> Position {
        self.last
    }

    /// The next event once the read models include it; `None` once this server's projector
    /// has stopped and every event it folded was handed out.
    pub async fn next(&mut self) -> Option<Result<Arc<AppliedEvent>, FeedError>> {
        loop {
            if let Some(event) = self.backlog.pop_front() {
                self.last = event.position;
                return Some(Ok(event));
            }
            if self.last < self.catch_up_to {
                if let Err(e) = self.read_log().await {
                    return Some(Err(e));
                }
                continue;
            }
            let event = match self.held.take() {
                Some(event) => event,
                None => match self.announced.as_mut()?.recv().await {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Announcements were lost to this reader: read up to where the read
                        // models stand from the log.
                        self.catch_up_to = self.projection.position();
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        self.announced = None;
                        // The projector stopped; hand out what it folded before it did.
                        self.catch_up_to = self.projection.position();
                        if self.last < self.catch_up_to {
                            continue;
                        }
                        return None;
                    }
                },
            };
            if event.position <= self.last {
                continue;
            }
            if event.position > self.last + 1 {
                self.catch_up_to = event.position - 1;
                self.held = Some(event);
                continue;
            }
            self.last = event.position;
            return Some(Ok(event));
        }
    }

    /// Reads the next events up to `catch_up_to` from the log into the backlog.
    async fn read_log(&mut self) -> Result<(), FeedError> {
        let wanted = u32::try_from(self.catch_up_to - self.last).map_or(BATCH, |n| n.min(BATCH));
        let events = self
            .db
            .read_log(self.last, wanted, &LogFilter::default())
            .await?;
        let state = self.projection.read().await;
        // The log is dense: the events follow on from `last` one by one.
        let next = (self.last + 1..=self.catch_up_to)
            .zip(&events)
            .take_while(|(expected, logged)| logged.position == *expected);
        for (_, logged) in next {
            self.backlog
                .push_back(Arc::new(AppliedEvent::new(logged, &state)));
        }
        if self.backlog.is_empty() {
            return Err(FeedError::Missing { after: self.last });
        }
        Ok(())
    }
}
