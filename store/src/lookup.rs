use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cqrs_es::Aggregate;
use domain::alliance::Alliance;
use domain::decision::Decision;
use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::{Programme, ProgrammeState};
use domain::reference::{LedgerServices, Lookup, LookupError};

use crate::{CommandBus, CommandError, Database, SharedReads};

/// The domain's [`Lookup`] on the event log: every read asks the log for the aggregate's
/// events, so a rule is checked against what is recorded, never against a read model that may
/// lag. Programmes and alliances, which every command on a programme reads and which have many
/// events, are kept in memory ([`KeptAggregates`]) and each read fetches only the events after
/// the ones kept: still one query, as fresh as loading them whole, without replaying them, and
/// shared by the rules that ask for the same programme while a read of it is under way.
#[derive(Debug, Clone)]
pub struct StoreLookup {
    bus: CommandBus,
}

/// One aggregate as last read, with the sequence of its last event and a view of it shared
/// between readers.
#[derive(Debug)]
struct Kept<A, V> {
    aggregate: A,
    view: V,
    sequence: i64,
}

type KeptMap<A, V> = Mutex<HashMap<String, Arc<Kept<A, V>>>>;

/// What a read of a kept aggregate answers.
type Fresh<A, V> = Result<Arc<Kept<A, V>>, LookupError>;

/// The aggregates of one type as last read, and the reads of them under way: rules checked at
/// the same time against one programme share the next read of it ([`SharedReads`]), which
/// began after each of them asked.
#[derive(Debug)]
struct KeptKind<A, V> {
    kept: KeptMap<A, V>,
    reads: SharedReads<String, Fresh<A, V>>,
}

impl<A, V> Default for KeptKind<A, V> {
    fn default() -> Self {
        Self {
            kept: Mutex::default(),
            // A failed read also answers those who arrived during it.
            reads: SharedReads::new(Result::is_err),
        }
    }
}

/// The programmes and alliances a bus's rules have read, each as of its latest event seen.
/// Bounded by the number of programmes: aggregates that do not exist are not kept.
#[derive(Debug, Default)]
pub(crate) struct KeptAggregates {
    programmes: KeptKind<Programme, Option<Arc<ProgrammeState>>>,
    alliances: KeptKind<Alliance, ()>,
}

fn programmes(kept: &KeptAggregates) -> &KeptKind<Programme, Option<Arc<ProgrammeState>>> {
    &kept.programmes
}

fn alliances(kept: &KeptAggregates) -> &KeptKind<Alliance, ()> {
    &kept.alliances
}

fn lookup_error<E: std::error::Error>(error: CommandError<E>) -> LookupError {
    match error {
        CommandError::Domain(e) => LookupError(e.to_string()),
        CommandError::Conflict | CommandError::IdempotencyKeyReused => {
            LookupError("unexpected refusal while reading".into())
        }
        CommandError::Unavailable(detail) | CommandError::Internal(detail) => LookupError(detail),
    }
}

impl StoreLookup {
    pub fn new(bus: CommandBus) -> Self {
        Self { bus }
    }

    async fn load<A>(&self, id: &str) -> Result<A, LookupError>
    where
        A: Aggregate,
    {
        self.bus.load::<A>(id).await.map_err(lookup_error)
    }

    /// The aggregate as the log holds it after this call began: the kept one brought up to
    /// date with the events after it, by a read of its own or one shared with the callers
    /// that asked while another read of it was under way.
    async fn fresh<A, V>(
        &self,
        kind: fn(&KeptAggregates) -> &KeptKind<A, V>,
        id: &str,
        view: fn(&A) -> V,
    ) -> Fresh<A, V>
    where
        A: Aggregate + Clone + 'static,
        V: Send + Sync + 'static,
    {
        let kept = self.bus.kept.clone();
        let db = self.bus.db.clone();
        kind(&self.bus.kept)
            .reads
            .read(
                id.to_owned(),
                move |id| {
                    let (kept, db) = (kept.clone(), db.clone());
                    async move { read_fresh(&db, &kind(&kept).kept, &id, view).await }
                },
                || Err(LookupError("the read of the ledger stopped halfway".into())),
            )
            .await
    }

    async fn fresh_programme(
        &self,
        id: &ProgrammeId,
    ) -> Result<Arc<Kept<Programme, Option<Arc<ProgrammeState>>>>, LookupError> {
        self.fresh(programmes, id.as_str(), |p| {
            p.state().cloned().map(Arc::new)
        })
        .await
    }
}

/// The kept aggregate brought up to date with the events after it (one query), kept again when
/// it moved on.
async fn read_fresh<A, V>(
    db: &Database,
    kept: &KeptMap<A, V>,
    id: &str,
    view: fn(&A) -> V,
) -> Fresh<A, V>
where
    A: Aggregate + Clone,
{
    let before = kept
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(id)
        .cloned();
    let after = before.as_ref().map_or(0, |k| k.sequence);
    let (_, rows) = db
        .events_unless_keyed(A::TYPE, id, None, after)
        .await
        .map_err(|e| LookupError(e.to_string()))?;
    let (mut aggregate, mut sequence) = match (&before, rows.is_empty()) {
        (Some(before), true) => return Ok(before.clone()),
        (Some(before), false) => (before.aggregate.clone(), before.sequence),
        (None, _) => (A::default(), 0),
    };
    for (at, payload) in rows {
        let event: A::Event = serde_json::from_value(payload).map_err(|e| {
            LookupError(format!(
                "a stored event could not be read: {} {id} #{at}: {e}",
                A::TYPE
            ))
        })?;
        aggregate.apply(event);
        sequence = at;
    }
    let fresh = Arc::new(Kept {
        view: view(&aggregate),
        aggregate,
        sequence,
    });
    if sequence > 0 {
        let mut kept = kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Another reader may have kept a later state meanwhile.
        if kept.get(id).is_none_or(|k| k.sequence < sequence) {
            kept.insert(id.to_owned(), fresh.clone());
        }
    }
    Ok(fresh)
}

#[async_trait]
impl Lookup for StoreLookup {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        Ok(self.fresh_programme(id).await?.aggregate.clone())
    }

    async fn programme_state(
        &self,
        id: &ProgrammeId,
    ) -> Result<Option<Arc<ProgrammeState>>, LookupError> {
        Ok(self.fresh_programme(id).await?.view.clone())
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        let kept = self.fresh(alliances, programme.as_str(), |_| ()).await?;
        Ok(kept.aggregate.clone())
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        self.load(&id.to_string()).await
    }
}

/// A [`StoreLookup`] that reads each programme, alliance and decision from the log once and
/// answers from memory after that: the services of one batch of a bulk
/// ([`CommandBus::batch_services`]), whose thousands of commands read the same few aggregates.
/// A new one per batch keeps what the rules see as fresh as the batch.
#[derive(Debug)]
pub struct CachedLookup {
    store: StoreLookup,
    programmes: Mutex<HashMap<ProgrammeId, Programme>>,
    programme_states: Mutex<HashMap<ProgrammeId, Option<Arc<ProgrammeState>>>>,
    alliances: Mutex<HashMap<ProgrammeId, Alliance>>,
    decisions: Mutex<HashMap<DecisionId, Decision>>,
}

impl CachedLookup {
    pub fn new(bus: CommandBus) -> Self {
        Self {
            store: StoreLookup::new(bus),
            programmes: Mutex::default(),
            programme_states: Mutex::default(),
            alliances: Mutex::default(),
            decisions: Mutex::default(),
        }
    }
}

/// The cached value for `key`, or `load`'s, which is then cached.
async fn cached<K, V>(
    cache: &Mutex<HashMap<K, V>>,
    key: &K,
    load: impl std::future::Future<Output = Result<V, LookupError>>,
) -> Result<V, LookupError>
where
    K: std::hash::Hash + Eq + Clone,
    V: Clone,
{
    let hit = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(key)
        .cloned();
    if let Some(value) = hit {
        return Ok(value);
    }
    let value = load.await?;
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(key.clone(), value.clone());
    Ok(value)
}

#[async_trait]
impl Lookup for CachedLookup {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        cached(&self.programmes, id, self.store.programme(id)).await
    }

    async fn programme_state(
        &self,
        id: &ProgrammeId,
    ) -> Result<Option<Arc<ProgrammeState>>, LookupError> {
        cached(&self.programme_states, id, self.store.programme_state(id)).await
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        cached(&self.alliances, programme, self.store.alliance(programme)).await
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        cached(&self.decisions, &id, self.store.decision(id)).await
    }
}

impl CommandBus {
    /// The services every aggregate's command handler receives.
    pub fn services(&self) -> LedgerServices {
        LedgerServices::new(Arc::new(StoreLookup::new(self.clone())))
    }

    /// Services for one batch of a bulk: the same reads, each aggregate read once
    /// ([`CachedLookup`]).
    pub fn batch_services(&self) -> LedgerServices {
        LedgerServices::new(Arc::new(CachedLookup::new(self.clone())))
    }
}
