use super::CommitmentStatus;
use crate::error::{ErrorKind, RuleViolation};
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a commitment refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    #[error("no commitment with this id has been made")]
    NotFound,
    #[error("a commitment with this id has already been made")]
    AlreadyMade,
    #[error("amount: when given, must be a positive amount of euros")]
    NotPositive,
    #[error(
        "this commitment was made by {organisation}; a partner reports progress only on its own \
         organisation's commitments"
    )]
    NotOwnCommitment { organisation: String },
    #[error("the commitment is {status:?}; delivered and withdrawn commitments are final")]
    Final { status: CommitmentStatus },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for CommitmentError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "commitment.exists",
            Self::AlreadyMade => "commitment.unique",
            Self::NotPositive => "commitment.positive_amount",
            Self::Final { .. } => "commitment.final",
            Self::NotOwnCommitment { .. } => "commitment.own_organisation",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::NotPositive => ErrorKind::InvalidInput { field: "amount" },
            Self::NotOwnCommitment { .. } => ErrorKind::Forbidden,
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyMade | Self::Final { .. } => ErrorKind::RuleViolated,
        }
    }
}
