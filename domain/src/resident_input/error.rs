use crate::error::{ErrorKind, RuleViolation};
use crate::ids::DecisionId;
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a piece of resident input refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentInputError {
    #[error("no resident input with this id has been recorded")]
    NotFound,
    #[error("resident input with this id has already been recorded")]
    AlreadyRecorded,
    #[error("residents: at least one resident took part")]
    NoResidents,
    #[error("decisionId: decision {0} is already linked to this input")]
    AlreadyConsidered(DecisionId),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for ResidentInputError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "resident_input.exists",
            Self::AlreadyRecorded => "resident_input.unique",
            Self::NoResidents => "resident_input.residents",
            Self::AlreadyConsidered(_) => "resident_input.considered_once",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::NoResidents => ErrorKind::InvalidInput { field: "residents" },
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyRecorded | Self::AlreadyConsidered(_) => ErrorKind::RuleViolated,
        }
    }
}
