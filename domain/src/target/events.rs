use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{Baseline, TargetValue};
use crate::ids::{AreaId, DecisionId, IndicatorKey, ProgrammeId};

/// What happened to a target. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetEvent {
    TargetSet {
        programme_id: ProgrammeId,
        indicator: IndicatorKey,
        area: AreaId,
        horizon_year: i32,
        value: TargetValue,
        baseline: Option<Baseline>,
        decision: DecisionId,
        reason: String,
    },
    TargetChanged {
        previous_value: TargetValue,
        value: TargetValue,
        decision: DecisionId,
        reason: String,
    },
    TargetWithdrawn {
        decision: DecisionId,
        reason: String,
    },
}

impl DomainEvent for TargetEvent {
    fn event_type(&self) -> String {
        match self {
            Self::TargetSet { .. } => "TargetSet",
            Self::TargetChanged { .. } => "TargetChanged",
            Self::TargetWithdrawn { .. } => "TargetWithdrawn",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
