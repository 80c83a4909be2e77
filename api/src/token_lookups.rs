//! Bearer tokens looked up together: requests that bring the same token while a lookup of it is
//! under way share the next lookup instead of each asking the database.
//!
//! Nothing is cached. A request joins only a lookup that has not started yet, so the answer it
//! gets was read from `api_tokens` after the request arrived: a token revoked before a request
//! arrives is refused for it, whichever process revoked it, exactly as when every request looks
//! its token up alone. What is saved is the queue: under load, the many requests of one client
//! (a secretary's tool, a dashboard) wait for one round trip a round instead of one each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use store::{Database, Principal};
use tokio::sync::oneshot;

use crate::ApiError;

/// What a lookup answers: the principal of a valid token, `None` for any other text.
type Looked = Result<Option<Principal>, ApiError>;

/// The requests waiting for the next lookup of each token that has one under way. A token has an
/// entry exactly while a task looks it up; the entry's list is who the next round answers.
#[derive(Debug, Clone, Default)]
pub struct TokenLookups {
    waiting: Arc<Mutex<HashMap<String, Vec<oneshot::Sender<Looked>>>>>,
}

impl TokenLookups {
    fn slots(&self) -> MutexGuard<'_, HashMap<String, Vec<oneshot::Sender<Looked>>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The principal of `secret` as `api_tokens` holds it after this call began.
    pub async fn authenticate(&self, db: &Database, secret: &str) -> Looked {
        let (answer, answered) = oneshot::channel();
        let lead = {
            let mut slots = self.slots();
            match slots.get_mut(secret) {
                // A lookup is under way: wait for the round after it.
                Some(next) => {
                    next.push(answer);
                    false
                }
                None => {
                    slots.insert(secret.to_owned(), vec![answer]);
                    true
                }
            }
        };
        if lead {
            // A task of its own, so that a request given up by its client does not strand the
            // others waiting on its lookup.
            tokio::spawn(self.clone().rounds(db.clone(), secret.to_owned()));
        }
        // The sender is dropped unanswered only when the task stopped halfway (a panic, the
        // runtime shutting down).
        answered.await.unwrap_or(Err(ApiError::Internal))
    }

    /// Looks `secret` up round after round, each round answering the requests that arrived
    /// before it started, until a round finds nobody waiting.
    async fn rounds(self, db: Database, secret: String) {
        let mut entry = Entry {
            lookups: &self,
            secret: &secret,
            done: false,
        };
        loop {
            let round = {
                let mut slots = self.slots();
                let Some(next) = slots.get_mut(&secret) else {
                    break;
                };
                if next.is_empty() {
                    slots.remove(&secret);
                    break;
                }
                std::mem::take(next)
            };
            let looked = db.authenticate(&secret).await.map_err(ApiError::from);
            let failed = looked.is_err();
            for answer in round {
                let _ = answer.send(looked.clone());
            }
            if failed {
                // A refusal grants nothing, so those who arrived while this lookup failed get
                // its answer too (UNAVAILABLE when the database does not answer) instead of
                // waiting for one more lookup of a database that just did not answer.
                let arrived = self.slots().remove(&secret).unwrap_or_default();
                for answer in arrived {
                    let _ = answer.send(looked.clone());
                }
                break;
            }
        }
        entry.done = true;
    }
}

/// Removes the token's entry when its task stops halfway, so that later requests start a new
/// lookup instead of waiting on one that will never come.
struct Entry<'a> {
    lookups: &'a TokenLookups,
    secret: &'a str,
    done: bool,
}

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.lookups.slots().remove(self.secret);
        }
    }
}
