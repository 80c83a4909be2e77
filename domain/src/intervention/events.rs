use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::InterventionStatus;
use crate::ids::{
    AreaId, ExecutionProgrammeId, InterventionId, MemberId, MilestoneId, PillarId, ProgrammeId,
};
use crate::period::YearRange;

/// What happened to an intervention. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InterventionEvent {
    InterventionPlanned {
        intervention_id: InterventionId,
        programme_id: ProgrammeId,
        execution_programme: ExecutionProgrammeId,
        pillar: PillarId,
        themes: Vec<String>,
        areas: Vec<AreaId>,
        lead_partner: MemberId,
        /// The lead partner's organisation when the intervention was planned.
        lead_organisation: String,
        title: String,
        description: String,
        /// The programme period; every later date lies inside it.
        programme_period: YearRange,
    },
    InterventionProgressReported {
        progress: u8,
        status: InterventionStatus,
        note: String,
        reported_on: NaiveDate,
    },
    MilestoneAdded {
        milestone_id: MilestoneId,
        title: String,
        due: NaiveDate,
    },
    MilestoneReached {
        milestone_id: MilestoneId,
        reached_on: NaiveDate,
    },
    InterventionCompleted {
        evaluation: String,
        completed_on: NaiveDate,
    },
    InterventionStopped {
        evaluation: String,
        reason: String,
        stopped_on: NaiveDate,
    },
}

impl DomainEvent for InterventionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::InterventionPlanned { .. } => "InterventionPlanned",
            Self::InterventionProgressReported { .. } => "InterventionProgressReported",
            Self::MilestoneAdded { .. } => "MilestoneAdded",
            Self::MilestoneReached { .. } => "MilestoneReached",
            Self::InterventionCompleted { .. } => "InterventionCompleted",
            Self::InterventionStopped { .. } => "InterventionStopped",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
