//! Reads shared by the callers that ask for the same thing at the same time.
//!
//! Nothing is cached. A caller joins only a read that has not started yet, so the answer it gets
//! was read after the caller asked: exactly as fresh as a read of its own, whatever another
//! process wrote before. What is saved is the queue: under load, the callers asking for one key
//! (requests bringing one bearer token, commands checking rules against one programme) wait for
//! one round trip a round instead of one each.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

type Waiting<K, V> = HashMap<K, Vec<oneshot::Sender<V>>>;

/// The callers waiting for the next read of each key that has one under way. A key has an entry
/// exactly while a task reads it; the entry's list is who the next round answers.
#[derive(Debug)]
pub struct SharedReads<K, V> {
    waiting: Arc<Mutex<Waiting<K, V>>>,
    /// An answer that also serves the callers who arrived while it was read, instead of a
    /// round of their own (a failure: the database did not answer, so they are not kept
    /// waiting for one more read that would most likely fail the same way).
    settles: fn(&V) -> bool,
}

impl<K, V> Clone for SharedReads<K, V> {
    fn clone(&self) -> Self {
        Self {
            waiting: self.waiting.clone(),
            settles: self.settles,
        }
    }
}

impl<K, V> SharedReads<K, V> {
    /// Shared reads whose answers `settles` also gives to those who arrived during the read.
    pub fn new(settles: fn(&V) -> bool) -> Self {
        Self {
            waiting: Arc::default(),
            settles,
        }
    }
}

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    fn slots(&self) -> MutexGuard<'_, Waiting<K, V>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The answer of `read(key)` begun after this call: the next round of the key's reads.
    /// `abandoned` is the answer when the reading task stopped halfway (a panic, the runtime
    /// shutting down).
    pub async fn read<R, F>(&self, key: K, read: R, abandoned: impl FnOnce() -> V) -> V
    where
        R: Fn(K) -> F + Send + 'static,
        F: Future<Output = V> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let lead = {
            let mut slots = self.slots();
            match slots.get_mut(&key) {
                // A read is under way: wait for the round after it.
                Some(next) => {
                    next.push(answer);
                    false
                }
                None => {
                    slots.insert(key.clone(), vec![answer]);
                    true
                }
            }
        };
        if lead {
            // A task of its own, so that a caller that gives up (a request its client
            // dropped) does not strand the others waiting on its read.
            tokio::spawn(self.clone().rounds(key, read));
        }
        answered.await.unwrap_or_else(|_| abandoned())
    }

    /// Reads `key` round after round, each round answering the callers that arrived before it
    /// started, until a round finds nobody waiting.
    async fn rounds<R, F>(self, key: K, read: R)
    where
        R: Fn(K) -> F,
        F: Future<Output = V>,
    {
        let mut entry = Entry {
            reads: &self,
            key: &key,
            done: false,
        };
        loop {
            let round = {
                let mut slots = self.slots();
                let Some(next) = slots.get_mut(&key) else {
                    break;
                };
                if next.is_empty() {
                    slots.remove(&key);
                    break;
                }
                std::mem::take(next)
            };
            let value = read(key.clone()).await;
            for answer in round {
                let _ = answer.send(value.clone());
            }
            if (self.settles)(&value) {
                let arrived = self.slots().remove(&key).unwrap_or_default();
                for answer in arrived {
                    let _ = answer.send(value.clone());
                }
                break;
            }
        }
        entry.done = true;
    }
}

/// Removes the key's entry when its task stops halfway, so that later callers start a new read
/// instead of waiting on one that will never come.
struct Entry<'a, K: Eq + Hash, V> {
    reads: &'a SharedReads<K, V>,
    key: &'a K,
    done: bool,
}

impl<K: Eq + Hash, V> Drop for Entry<'_, K, V> {
    fn drop(&mut self) {
        if !self.done {
            self.reads
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    /// A read that counts itself and answers its number after a pause.
    fn counting(
        reads: Arc<AtomicU32>,
    ) -> impl Fn(&'static str) -> std::pin::Pin<Box<dyn Future<Output = Result<u32, ()>> + Send>>
           + Send
           + 'static {
        move |_| {
            let reads = reads.clone();
            Box::pin(async move {
                let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(n)
            })
        }
    }

    #[tokio::test]
    async fn callers_arriving_during_a_read_share_the_next_one_not_the_one_under_way() {
        let shared: SharedReads<&'static str, Result<u32, ()>> = SharedReads::new(Result::is_err);
        let reads = Arc::new(AtomicU32::new(0));
        let first = tokio::spawn({
            let (shared, reads) = (shared.clone(), reads.clone());
            async move { shared.read("k", counting(reads), || Err(())).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Three callers arrive while the first read is under way.
        let later: Vec<_> = (0..3)
            .map(|_| {
                let (shared, reads) = (shared.clone(), reads.clone());
                tokio::spawn(async move { shared.read("k", counting(reads), || Err(())).await })
            })
            .collect();
        assert_eq!(first.await.unwrap(), Ok(1));
        for caller in later {
            // Not the answer of the read that began before they asked.
            assert_eq!(caller.await.unwrap(), Ok(2));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        // Nothing kept: a caller after the rounds reads again.
        assert_eq!(
            shared.read("k", counting(reads.clone()), || Err(())).await,
            Ok(3)
        );
    }

    #[tokio::test]
    async fn a_failed_read_also_answers_those_who_arrived_during_it() {
        let shared: SharedReads<&'static str, Result<u32, ()>> = SharedReads::new(Result::is_err);
        let reads = Arc::new(AtomicU32::new(0));
        let failing = {
            let reads = reads.clone();
            move |_| {
                let reads = reads.clone();
                async move {
                    reads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err::<u32, ()>(())
                }
            }
        };
        let first = tokio::spawn({
            let (shared, failing) = (shared.clone(), failing.clone());
            async move { shared.read("k", failing, || Ok(0)).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = shared.read("k", failing, || Ok(0)).await;
        assert_eq!(first.await.unwrap(), Err(()));
        assert_eq!(second, Err(()));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }
}
