//! Group commit: the events of single commands decided while another commit was in flight are
//! appended together, in one transaction.
//!
//! Appending to the log is serialised by the database (PostgreSQL's head row stays locked until
//! the appending transaction ends; SQLite has one writer), so commands that each commit alone
//! wait for one another's round trips and disk flushes in turn. Here, a command that has decided
//! its events joins a queue; whoever finds no commit in flight takes the whole queue and appends
//! it as one statement in one transaction, and every command of the group waits for its own
//! answer. Nobody waits for a group to fill: a command that arrives while nothing is in flight
//! commits at once, alone.
//!
//! Every guarantee of a single commit holds for each command of a group:
//!
//! - **Order.** The group is one `INSERT` whose rows are in queue order; the database hands out
//!   the positions (dense, in commit order) and times, as for any other insert. A command's
//!   events are contiguous, in their order.
//! - **Expected versions and idempotency keys.** Each event takes the sequence after the one its
//!   aggregate was loaded at, and the insert trigger claims each key, exactly as alone. When the
//!   database refuses the group on a primary key (one command lost a race with another writer,
//!   or two commands carry one key), nothing of the group is recorded, and each command is
//!   appended again in a transaction of its own, in queue order: the one that lost gets
//!   [`AppendFailure::Conflict`] (the bus decides it again against the fresh state), the
//!   others are recorded.
//! - **All or nothing.** Any other failure fails every command of the group with the same
//!   error, and nothing of the group is recorded.
//!
//! The appending runs on a task of its own, so a caller that stops waiting (a client that
//! hangs up) cannot leave the others of its group without an answer.

use std::sync::{Arc, Mutex, PoisonError};

use cqrs_es::persist::SerializedEvent;
use tokio::sync::oneshot;

use crate::{Database, Position, StoreError};

/// Why a group commit recorded nothing for a command.
#[derive(Debug, Clone)]
pub(crate) enum AppendFailure {
    /// Another writer holds the key of one of its rows: the next sequence of one of its
    /// aggregates, or its idempotency key for another request.
    Conflict,
    /// The database could not be reached.
    Unavailable(String),
    /// The database refused or failed the transaction.
    Internal(String),
}

impl From<StoreError> for AppendFailure {
    fn from(error: StoreError) -> Self {
        if is_conflict(&error) {
            Self::Conflict
        } else if error.is_unavailable() {
            Self::Unavailable(error.to_string())
        } else {
            Self::Internal(error.to_string())
        }
    }
}

/// Whether the database refused a row because another writer holds its key: an event at the
/// same aggregate sequence, or an idempotency key claimed for another request.
pub(crate) fn is_conflict(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
}

/// The position of a command's last event once appended.
type Answer = Result<Position, AppendFailure>;

/// A command's events, waiting to be appended.
struct Waiting {
    events: Vec<SerializedEvent>,
    answer: oneshot::Sender<Answer>,
}

/// The queue of decided commands and the turn to append them (see the module's comment).
#[derive(Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<Vec<Waiting>>,
    /// Held by the task appending a group, for as long as it appends.
    appending: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Appends one command's `events` (at least one), together with those of every command
    /// that is waiting at the same time. Answers the position of the command's last event.
    pub(crate) async fn append(&self, db: &Database, events: Vec<SerializedEvent>) -> Answer {
        let (answer, mut answered) = oneshot::channel();
        self.queue().push(Waiting { events, answer });
        loop {
            tokio::select! {
                biased;
                answer = &mut answered => {
                    return answer.unwrap_or_else(|_| {
                        Err(AppendFailure::Internal("the commit stopped before it ended".into()))
                    });
                }
                turn = self.appending.clone().lock_owned() => {
                    let group = std::mem::take(&mut *self.queue());
                    // An empty queue: a group that took this command along has answered it
                    // (its task answers before it gives up the turn).
                    if !group.is_empty() {
                        let db = db.clone();
                        tokio::spawn(async move {
                            append_group(&db, group).await;
                            drop(turn);
                        });
                    }
                }
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Appends a group in one transaction and answers each of its commands.
async fn append_group(db: &Database, group: Vec<Waiting>) {
    if let [single] = group.as_slice() {
        let answer = db.append_events(&single.events).await.map_err(Into::into);
        for waiting in group {
            let _ = waiting.answer.send(answer.clone());
        }
        return;
    }
    let events: Vec<SerializedEvent> = group
        .iter()
        .flat_map(|waiting| waiting.events.iter().cloned())
        .collect();
    match db.append_events(&events).await {
        Ok(last) => {
            // The statement's positions are dense and in row order: each command's last
            // position follows from the group's last one.
            let mut position = last;
            let mut answers = Vec::with_capacity(group.len());
            for waiting in group.into_iter().rev() {
                let count = Position::try_from(waiting.events.len()).unwrap_or(Position::MAX);
                answers.push((waiting.answer, position));
                position -= count;
            }
            for (answer, position) in answers.into_iter().rev() {
                let _ = answer.send(Ok(position));
            }
        }
        Err(e) if is_conflict(&e) => {
            // Nothing of the group was recorded; each command alone finds out whether it was
            // the one another writer came before.
            for waiting in group {
                let answer = db.append_events(&waiting.events).await.map_err(Into::into);
                let _ = waiting.answer.send(answer);
            }
        }
        Err(e) => {
            let failure = AppendFailure::from(e);
            for waiting in group {
                let _ = waiting.answer.send(Err(failure.clone()));
            }
        }
    }
}
