use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::Vote;
use crate::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};

/// What happened to a decision. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionEvent {
    DecisionProposed {
        decision_id: DecisionId,
        programme_id: ProgrammeId,
        title: String,
        description: String,
    },
    DecisionAmended {
        title: Option<String>,
        description: Option<String>,
        reason: String,
    },
    DecisionAdopted {
        meeting_date: NaiveDate,
        present: Vec<MemberId>,
        votes: Vec<Vote>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meeting_id: Option<MeetingId>,
    },
    DecisionRejected {
        meeting_date: NaiveDate,
        present: Vec<MemberId>,
        votes: Vec<Vote>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meeting_id: Option<MeetingId>,
    },
    DecisionWithdrawn {
        reason: String,
    },
}

impl DomainEvent for DecisionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::DecisionProposed { .. } => "DecisionProposed",
            Self::DecisionAmended { .. } => "DecisionAmended",
            Self::DecisionAdopted { .. } => "DecisionAdopted",
            Self::DecisionRejected { .. } => "DecisionRejected",
            Self::DecisionWithdrawn { .. } => "DecisionWithdrawn",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
