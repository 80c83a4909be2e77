use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::alliance::Alliance;
use domain::decision::Decision;
use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::{Programme, ProgrammeState};
use domain::reference::{LedgerServices, Lookup, LookupError};

use crate::{CommandBus, CommandError};

/// The domain's [`Lookup`] on the event log: each read loads the aggregate from its events, so
/// a rule is checked against what is recorded, never against a read model that may lag.
#[derive(Debug, Clone)]
pub struct StoreLookup {
    bus: CommandBus,
}

impl StoreLookup {
    pub fn new(bus: CommandBus) -> Self {
        Self { bus }
    }

    async fn load<A>(&self, id: &str) -> Result<A, LookupError>
    where
        A: cqrs_es::Aggregate,
    {
        self.bus.load::<A>(id).await.map_err(|e| match e {
            CommandError::Domain(e) => LookupError(e.to_string()),
            CommandError::Conflict | CommandError::IdempotencyKeyReused => {
                LookupError("unexpected refusal while reading".into())
            }
            CommandError::Unavailable(detail) | CommandError::Internal(detail) => {
                LookupError(detail)
            }
        })
    }
}

#[async_trait]
impl Lookup for StoreLookup {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        self.load(id.as_str()).await
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        self.load(programme.as_str()).await
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
        let load = async {
            let programme = self.programme(id).await?;
            Ok(programme.state().cloned().map(Arc::new))
        };
        cached(&self.programme_states, id, load).await
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
