use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::NewMember;
use crate::decision::AdoptionRule;
use crate::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};
use crate::period::YearRange;

/// What happened to an alliance. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllianceEvent {
    AllianceFormed {
        programme_id: ProgrammeId,
        period: YearRange,
        chair: MemberId,
        adoption_rule: AdoptionRule,
        formed_on: NaiveDate,
        members: Vec<NewMember>,
    },
    MemberJoined {
        member: NewMember,
        joined_on: NaiveDate,
        decision: DecisionId,
    },
    MemberLeft {
        member_id: MemberId,
        left_on: NaiveDate,
        reason: String,
        decision: DecisionId,
    },
    RepresentativeChanged {
        member_id: MemberId,
        representative: String,
        changed_on: NaiveDate,
    },
    ChairChanged {
        member_id: MemberId,
        decision: DecisionId,
    },
    AdoptionRuleChanged {
        rule: AdoptionRule,
        decision: DecisionId,
    },
    MeetingHeld {
        meeting_id: MeetingId,
        date: NaiveDate,
        title: String,
        present: Vec<MemberId>,
    },
}

impl DomainEvent for AllianceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AllianceFormed { .. } => "AllianceFormed",
            Self::MemberJoined { .. } => "MemberJoined",
            Self::MemberLeft { .. } => "MemberLeft",
            Self::RepresentativeChanged { .. } => "RepresentativeChanged",
            Self::ChairChanged { .. } => "ChairChanged",
            Self::AdoptionRuleChanged { .. } => "AdoptionRuleChanged",
            Self::MeetingHeld { .. } => "MeetingHeld",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
