//! The log read one page ahead of the fold.
//!
//! Folding is sequential, but reading a page and decoding its events is not: a task of its own
//! fetches and decodes the next page while the caller folds the one before, so on a
//! multi-threaded runtime the two run on different cores.

use store::{Database, LogFilter, LoggedEvent, Position, StoreError};
use tokio::sync::mpsc;

use crate::{DecodeError, LedgerEvent};

/// A page of the log in position order, each event with its decoding.
pub(crate) struct Page {
    pub events: Vec<LoggedEvent>,
    pub decoded: Vec<Result<LedgerEvent, DecodeError>>,
}

impl Page {
    /// The events with their decodings, in position order.
    pub fn entries(self) -> impl Iterator<Item = (LoggedEvent, Result<LedgerEvent, DecodeError>)> {
        self.events.into_iter().zip(self.decoded)
    }
}

/// The pages of the log after a position. The reader stops after the page that reaches `end`
/// (when given), after a short page (the head as that read saw it), at the first error, and
/// once the receiving side is dropped (after the read under way, which it does not cut off).
pub(crate) struct ReadAhead {
    pages: mpsc::Receiver<Result<Page, StoreError>>,
}

impl ReadAhead {
    /// Starts reading pages of at most `page` events after `after`.
    pub fn start(db: Database, after: Position, end: Option<Position>, page: u32) -> Self {
        // One page waiting while the reader reads the next: at most two ahead of the fold.
        let (tx, pages) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut after = after;
            loop {
                let limit = match end {
                    Some(end) if end <= after => return,
                    Some(end) => u32::try_from(end - after).map_or(page, |n| n.min(page)),
                    None => page,
                };
                let events = match db.read_log(after, limit, &LogFilter::default()).await {
                    Ok(events) => events,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let Some(last) = events.last() else { return };
                after = last.position;
                let short = events.len() < limit as usize;
                let decoded = events.iter().map(LedgerEvent::decode).collect();
                if tx.send(Ok(Page { events, decoded })).await.is_err() || short {
                    return;
                }
            }
        });
        Self { pages }
    }

    /// The next page; `None` once the reader stopped without an error.
    pub async fn next(&mut self) -> Option<Result<Page, StoreError>> {
        self.pages.recv().await
    }
}
