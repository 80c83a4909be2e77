//! Rebuilding every read model from an empty state.

use chrono::{DateTime, Utc};
use store::{Database, Position};

use crate::projector::ProjectorError;
use crate::read_ahead::ReadAhead;
use crate::LedgerState;

/// Where a replay stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The whole log.
    End,
    /// Up to and including this position.
    Position(Position),
    /// Every event recorded up to and including this instant.
    Time(DateTime<Utc>),
}

impl std::str::FromStr for Until {
    type Err = String;

    /// A position (`1234`) or a time in RFC 3339 (`2025-01-01T00:00:00Z`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(position) = text.parse::<Position>() {
            return if position >= 0 {
                Ok(Self::Position(position))
            } else {
                Err("a position is 0 or more".into())
            };
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| Self::Time(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!("{text:?} is neither a position (e.g. 1234) nor a time (e.g. 2025-01-01T00:00:00Z)")
            })
    }
}

/// Folds the log into an empty state up to `until`, calling `progress(position, head)` after
/// each batch. The next batch is read and decoded while one is folded ([`ReadAhead`]).
pub async fn replay(
    db: &Database,
    until: Until,
    mut progress: impl FnMut(Position, Position),
) -> Result<LedgerState, ProjectorError> {
    const BATCH: u32 = 10_000;
    let head = db.head().await?;
    let end = match until {
        Until::Position(p) => p.min(head),
        _ => head,
    };
    let mut state = LedgerState::default();
    let mut pages = ReadAhead::start(db.clone(), 0, Some(end), BATCH);
    while let Some(page) = pages.next().await {
        for (event, decoded) in page?.entries() {
            if let Until::Time(t) = until {
                if event.recorded_at > t {
                    progress(state.position(), head);
                    return Ok(state);
                }
            }
            state.apply_decoded(&event, decoded)?;
        }
        progress(state.position(), head);
    }
    Ok(state)
}
