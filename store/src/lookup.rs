use async_trait::async_trait;
use domain::alliance::Alliance;
use domain::decision::Decision;
use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::Programme;
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

impl CommandBus {
    /// The services every aggregate's command handler receives.
    pub fn services(&self) -> LedgerServices {
        LedgerServices::new(std::sync::Arc::new(StoreLookup::new(self.clone())))
    }
}
