use chrono::NaiveDate;

use crate::error::{ErrorKind, RuleViolation};
use crate::ids::{MeetingId, MemberId};
use crate::period::YearRange;
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why an alliance refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllianceError {
    #[error("the programme has no alliance yet: form it first")]
    NotFormed,
    #[error("the programme's alliance has already been formed")]
    AlreadyFormed,
    #[error("foundingMembers: an alliance is formed with at least one member")]
    NoFoundingMembers,
    #[error("chair: {0} is not among the members")]
    ChairNotAMember(MemberId),
    #[error("memberId: {0} is already a member")]
    AlreadyMember(MemberId),
    #[error("memberId: the chair cannot leave; make another member chair first")]
    ChairCannotLeave,
    #[error("leftOn: a member cannot leave before it joined")]
    LeftBeforeJoining,
    #[error("joinedOn: the alliance was formed on {formed_on}; nobody joins it earlier")]
    JoinedBeforeFormed { formed_on: NaiveDate },
    #[error("joinedOn: this member left on {left_on}; it can rejoin only after that")]
    RejoinedBeforeLeaving { left_on: NaiveDate },
    #[error("representative: this is already the member's representative")]
    SameRepresentative,
    #[error("memberId: this member already chairs the alliance")]
    AlreadyChair,
    #[error("rule: the alliance already applies this rule")]
    SameRule,
    #[error("meetingId: meeting {0} has already been recorded")]
    MeetingExists(MeetingId),
    #[error("present: at least one member must be present")]
    NobodyPresent,
    #[error("present: {0} is listed twice")]
    PresentTwice(MemberId),
    #[error("present: {member} had not yet joined on the meeting's date")]
    NotYetMember { member: MemberId },
    #[error("{field}: {date} lies outside the programme period {period}")]
    OutsidePeriod {
        field: &'static str,
        date: NaiveDate,
        period: YearRange,
    },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for AllianceError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFormed => "alliance.exists",
            Self::AlreadyFormed => "alliance.unique",
            Self::NoFoundingMembers => "alliance.founding_members",
            Self::ChairNotAMember(_) => "alliance.chair_is_member",
            Self::AlreadyMember(_) => "member.unique",
            Self::ChairCannotLeave => "alliance.chair_stays",
            Self::LeftBeforeJoining
            | Self::JoinedBeforeFormed { .. }
            | Self::RejoinedBeforeLeaving { .. } => "member.dates_in_order",
            Self::SameRepresentative => "member.representative_changes",
            Self::AlreadyChair => "alliance.chair_changes",
            Self::SameRule => "alliance.rule_changes",
            Self::MeetingExists(_) => "meeting.unique",
            Self::NobodyPresent => "meeting.quorum",
            Self::PresentTwice(_) => "meeting.present_once",
            Self::NotYetMember { .. } => "meeting.only_members_present",
            Self::OutsidePeriod { .. } => "programme.period",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFormed => ErrorKind::NotFound,
            Self::NoFoundingMembers => ErrorKind::InvalidInput {
                field: "foundingMembers",
            },
            Self::ChairNotAMember(_) => ErrorKind::InvalidInput { field: "chair" },
            Self::LeftBeforeJoining => ErrorKind::InvalidInput { field: "leftOn" },
            Self::JoinedBeforeFormed { .. } | Self::RejoinedBeforeLeaving { .. } => {
                ErrorKind::InvalidInput { field: "joinedOn" }
            }
            Self::NobodyPresent | Self::PresentTwice(_) | Self::NotYetMember { .. } => {
                ErrorKind::InvalidInput { field: "present" }
            }
            Self::OutsidePeriod { field, .. } => ErrorKind::InvalidInput { field },
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyFormed
            | Self::AlreadyMember(_)
            | Self::ChairCannotLeave
            | Self::SameRepresentative
            | Self::AlreadyChair
            | Self::SameRule
            | Self::MeetingExists(_) => ErrorKind::RuleViolated,
        }
    }
}
