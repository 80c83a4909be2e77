use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::Channel;
use crate::ids::{AreaId, DecisionId, ProgrammeId, ResidentInputId};

/// What happened to a piece of resident input. Stored data: change only by adding optional
/// fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResidentInputEvent {
    ResidentInputRecorded {
        resident_input_id: ResidentInputId,
        programme_id: ProgrammeId,
        channel: Channel,
        area: AreaId,
        theme: String,
        summary: String,
        residents: u32,
        collected_on: NaiveDate,
    },
    ResidentInputConsidered {
        decision: DecisionId,
    },
}

impl DomainEvent for ResidentInputEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ResidentInputRecorded { .. } => "ResidentInputRecorded",
            Self::ResidentInputConsidered { .. } => "ResidentInputConsidered",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
