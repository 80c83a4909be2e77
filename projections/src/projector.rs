//! The catch-up subscriber: reads the log in position order from where the state stands,
//! folds each event in, and waits for new commits without busy polling.

use std::sync::Arc;
use std::time::Duration;

use store::{Backend, Database, Position, StoreError};
use tokio::sync::{broadcast, watch, Notify, RwLock};

use crate::feed::{AppliedEvent, EventFeed, ANNOUNCED};
use crate::read_ahead::ReadAhead;
use crate::state::FoldError;
use crate::LedgerState;

/// How many events one read of the log fetches.
const BATCH: u32 = 2_000;

/// How long to wait for a wake-up before looking anyway: covers writers in another process on
/// SQLite, which has no notifications, and a lost PostgreSQL listener connection.
const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Why the projector stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fold(#[from] FoldError),
}

/// The shared, always consistent read side: readers see the state after whole events only.
#[derive(Debug, Clone)]
pub struct Projection {
    db: Database,
    state: Arc<RwLock<LedgerState>>,
    position: watch::Receiver<Position>,
    /// How many times the projector failed to read the log (a database outage).
    failed_reads: watch::Receiver<u64>,
    /// Where the projector announces each event it folded; gone once it stopped.
    announced: broadcast::WeakSender<Arc<AppliedEvent>>,
    /// The newest checksum computed, with its position: the whole state is serialised once per
    /// position, however many readers ask.
    checksum: Arc<tokio::sync::Mutex<Option<(Position, String)>>>,
}

impl Projection {
    /// Reads the state under a shared lock.
    pub async fn read(&self) -> tokio::sync::RwLockReadGuard<'_, LedgerState> {
        self.state.read().await
    }

    /// The checksum of `state` (read from this projection), computed at most once per position.
    pub async fn checksum_of(&self, state: &LedgerState) -> String {
        let mut cache = self.checksum.lock().await;
        match &*cache {
            Some((position, checksum)) if *position == state.position() => checksum.clone(),
            _ => {
                let checksum = state.checksum();
                *cache = Some((state.position(), checksum.clone()));
                checksum
            }
        }
    }

    /// The position the read models have reached.
    pub fn position(&self) -> Position {
        *self.position.borrow()
    }

    /// Waits until the read models include `position`, at most `timeout`, and no longer than
    /// until the projector fails to read the log after the wait began: while the database is
    /// away they cannot catch up, and a caller is not kept waiting for the whole timeout.
    /// Returns whether they include it.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let mut reached = self.position.clone();
        let mut failed = self.failed_reads.clone();
        failed.mark_unchanged();
        let reached = tokio::time::timeout(timeout, reached.wait_for(|p| *p >= position));
        tokio::select! {
            waited = reached => waited.is_ok_and(|r| r.is_ok()),
            // `changed` fails only once the projector is gone: then wait for the timeout.
            Ok(()) = failed.changed() => self.position() >= position,
        }
    }

    /// The events the read models take in from now on (after `after` when given, including
    /// those already folded), each handed out once the state includes it, in position order.
    pub fn feed(&self, after: Option<Position>) -> EventFeed {
        let announced = self.announced.upgrade().map(|tx| tx.subscribe());
        EventFeed::new(self.db.clone(), self.clone(), announced, after)
    }
}

/// Keeps a [`LedgerState`] up to date with the log.
#[derive(Debug)]
pub struct Projector {
    db: Database,
    state: Arc<RwLock<LedgerState>>,
    position: watch::Sender<Position>,
    failed_reads: watch::Sender<u64>,
    wake: Arc<Notify>,
    announce: broadcast::Sender<Arc<AppliedEvent>>,
}

impl Projector {
    /// A projector continuing from `initial` (an empty state, or one restored from a
    /// snapshot); `wake` is signalled by this process's command bus after each commit.
    pub fn new(db: Database, initial: LedgerState, wake: Arc<Notify>) -> (Self, Projection) {
        let (tx, rx) = watch::channel(initial.position());
        let (failed_tx, failed_rx) = watch::channel(0);
        let state = Arc::new(RwLock::new(initial));
        let (announce, _) = broadcast::channel(ANNOUNCED);
        let projection = Projection {
            db: db.clone(),
            state: state.clone(),
            position: rx,
            failed_reads: failed_rx,
            announced: announce.downgrade(),
            checksum: Arc::default(),
        };
        (
            Self {
                db,
                state,
                position: tx,
                failed_reads: failed_tx,
                wake,
                announce,
            },
            projection,
        )
    }

    /// Reads and folds every event after the current position. Returns how many it folded.
    pub async fn catch_up(&self) -> Result<u64, ProjectorError> {
        let mut folded = 0;
        let after = self.state.read().await.position();
        // Only this projector folds into the state, so the pages read ahead from `after`
        // continue exactly where the state stands. The reader stops after a short page: that
        // read reached the head, and a later commit wakes the projector again (the bus's
        // signal or PostgreSQL's notification stays pending).
        let mut pages = ReadAhead::start(self.db.clone(), after, None, BATCH);
        while let Some(page) = pages.next().await {
            let page = page?;
            let mut state = self.state.write().await;
            for (event, decoded) in page.events.iter().zip(page.decoded) {
                // Each event is folded whole or not at all; the position moves with it.
                state.apply_decoded(event, decoded)?;
                folded += 1;
            }
            let reached = state.position();
            drop(state);
            self.position.send_replace(reached);
            // Announced after the position moved: a reader that starts listening after this
            // check reads the new position, so it misses none of these events.
            if self.announce.receiver_count() > 0 {
                let state = self.state.read().await;
                for event in &page.events {
                    let _ = self
                        .announce
                        .send(Arc::new(AppliedEvent::new(event, &state)));
                }
            }
        }
        Ok(folded)
    }

    /// Follows the log until `shutdown` resolves. Store errors (a database outage) are logged
    /// and retried; a fold error (an event this ledger cannot read) stops the projector, since
    /// skipping it would make every later answer wrong.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ProjectorError> {
        // Only PostgreSQL announces commits; without a listener the projector looks every
        // `FALLBACK_POLL` and tries to listen again each time round.
        let notifies = self.db.backend() == Backend::Postgres;
        let mut listener = self.listen().await;
        tokio::pin!(shutdown);
        loop {
            if notifies && listener.is_none() {
                listener = self.listen().await;
                if listener.is_some() {
                    tracing::info!("listening for new events again");
                }
            }
            // After (re)connecting the listener, so that no commit falls between the two.
            match self.catch_up().await {
                Ok(_) => {}
                Err(ProjectorError::Store(e)) => {
                    tracing::warn!(error = %e, "projector cannot read the log; retrying");
                    self.failed_reads.send_modify(|n| *n += 1);
                }
                Err(fatal) => {
                    tracing::error!(error = %fatal, "projector stopped");
                    return Err(fatal);
                }
            }
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = self.wake.notified() => {}
                woke = wait_notification(&mut listener) => {
                    if !woke {
                        tracing::warn!(
                            "lost the connection that listens for new events; looking every \
                             {} s until it is back",
                            FALLBACK_POLL.as_secs()
                        );
                        listener = None;
                    }
                }
                _ = tokio::time::sleep(FALLBACK_POLL) => {}
            }
        }
    }

    async fn listen(&self) -> Option<sqlx_listener::Listener> {
        sqlx_listener::listen(&self.db).await
    }
}

/// Waits for a PostgreSQL notification; false when the listener is gone.
async fn wait_notification(listener: &mut Option<sqlx_listener::Listener>) -> bool {
    match listener {
        Some(l) => l.recv().await,
        None => std::future::pending().await,
    }
}

mod sqlx_listener {
    use store::Database;

    /// A LISTEN connection on the `ledger_events` channel (PostgreSQL only).
    pub struct Listener(store::PgListener);

    impl std::fmt::Debug for Listener {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Listener")
        }
    }

    pub async fn listen(db: &Database) -> Option<Listener> {
        match db.listen_for_events().await {
            Ok(Some(l)) => Some(Listener(l)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for new events; polling instead");
                None
            }
        }
    }

    impl Listener {
        pub async fn recv(&mut self) -> bool {
            self.0.recv().await.is_ok()
        }
    }
}
