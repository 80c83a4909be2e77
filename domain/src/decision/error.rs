use super::{AdoptionRule, DecisionStatus};
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::MemberId;
use crate::reference::ReferenceError;

/// Why a decision refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("no decision with this id has been proposed")]
    NotFound,
    #[error("a decision with this id has already been proposed")]
    AlreadyProposed,
    #[error("title: must not be empty")]
    TitleRequired,
    #[error("{field}: must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("reason: a withdrawal or amendment must give a reason")]
    ReasonRequired,
    #[error("present: at least one member must be present")]
    NobodyPresent,
    #[error("present: member {member} is listed twice")]
    PresentTwice { member: MemberId },
    #[error("votes: member {member} voted but was not present; only members present vote")]
    VoterNotPresent { member: MemberId },
    #[error("votes: member {member} voted twice")]
    VotedTwice { member: MemberId },
    #[error("the decision is {status:?}; adopted and rejected decisions are final")]
    Final { status: DecisionStatus },
    #[error("the decision was withdrawn; a withdrawn proposal cannot be decided")]
    Withdrawn,
    #[error(
        "the votes do not carry the decision under the {rule:?} rule, so it cannot be adopted"
    )]
    NotCarried { rule: AdoptionRule },
    #[error("the votes carry the decision under the {rule:?} rule, so it cannot be rejected")]
    VotesCarryIt { rule: AdoptionRule },
    #[error("an amendment changes the title or the description")]
    NothingToAmend,
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for DecisionError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "decision.exists",
            Self::AlreadyProposed => "decision.unique",
            Self::TitleRequired => "decision.title_required",
            Self::TooLong { .. } => "text.max_length",
            Self::ReasonRequired => "decision.reason_required",
            Self::NobodyPresent => "meeting.quorum",
            Self::PresentTwice { .. } => "meeting.present_once",
            Self::VoterNotPresent { .. } => "meeting.only_present_vote",
            Self::VotedTwice { .. } => "meeting.one_vote_each",
            Self::Final { .. } => "decision.final",
            Self::Withdrawn => "decision.withdrawn",
            Self::NotCarried { .. } => "decision.adoption_rule",
            Self::VotesCarryIt { .. } => "decision.rejection_rule",
            Self::NothingToAmend => "decision.amendment_changes",
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::Reference(e) => e.kind(),
            Self::NothingToAmend => ErrorKind::InvalidInput { field: "title" },
            Self::TitleRequired => ErrorKind::InvalidInput { field: "title" },
            Self::TooLong { field, .. } => ErrorKind::InvalidInput { field },
            Self::ReasonRequired => ErrorKind::InvalidInput { field: "reason" },
            Self::NobodyPresent | Self::PresentTwice { .. } => {
                ErrorKind::InvalidInput { field: "present" }
            }
            Self::VoterNotPresent { .. } | Self::VotedTwice { .. } => {
                ErrorKind::InvalidInput { field: "votes" }
            }
            Self::AlreadyProposed
            | Self::Final { .. }
            | Self::Withdrawn
            | Self::NotCarried { .. }
            | Self::VotesCarryIt { .. } => ErrorKind::RuleViolated,
        }
    }
}
