use chrono::NaiveDate;

use super::InterventionStage;
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::{AreaId, ExecutionProgrammeId, MilestoneId, PillarId};
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why an intervention refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterventionError {
    #[error("no intervention with this id has been planned")]
    NotFound,
    #[error("an intervention with this id has already been planned")]
    AlreadyPlanned,
    #[error("areas: an intervention takes place in at least one area")]
    NoAreas,
    #[error("areas: {0} is listed twice")]
    AreaTwice(AreaId),
    #[error("areas: {area} is not an area of execution programme {execution_programme}")]
    AreaOutsideExecutionProgramme {
        area: AreaId,
        execution_programme: ExecutionProgrammeId,
    },
    #[error("themes: {theme:?} is not a theme of pillar {pillar}")]
    UnknownTheme { theme: String, pillar: PillarId },
    #[error(
        "this intervention is led by {organisation}; a partner reports progress only on its own \
         organisation's interventions"
    )]
    NotOwnIntervention { organisation: String },
    #[error("progress: {0} is not a percentage from 0 to 100")]
    ProgressOutOfRange(u8),
    #[error("the intervention is {stage:?}; completed and stopped interventions are final")]
    Final { stage: InterventionStage },
    #[error("milestoneId: the intervention already has a milestone {0}")]
    MilestoneExists(MilestoneId),
    #[error("milestoneId: the intervention has no milestone {0}")]
    UnknownMilestone(MilestoneId),
    #[error("milestoneId: milestone {milestone} was already reached on {reached_on}")]
    MilestoneAlreadyReached {
        milestone: MilestoneId,
        reached_on: NaiveDate,
    },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for InterventionError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "intervention.exists",
            Self::AlreadyPlanned => "intervention.unique",
            Self::NoAreas => "intervention.areas",
            Self::AreaTwice(_) => "intervention.areas_unique",
            Self::AreaOutsideExecutionProgramme { .. } => "intervention.execution_programme_area",
            Self::UnknownTheme { .. } => "intervention.pillar_theme",
            Self::ProgressOutOfRange(_) => "intervention.progress_range",
            Self::NotOwnIntervention { .. } => "intervention.own_organisation",
            Self::Final { .. } => "intervention.final",
            Self::MilestoneExists(_) => "milestone.unique",
            Self::UnknownMilestone(_) => "milestone.known",
            Self::MilestoneAlreadyReached { .. } => "milestone.reached_once",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::NoAreas | Self::AreaTwice(_) | Self::AreaOutsideExecutionProgramme { .. } => {
                ErrorKind::InvalidInput { field: "areas" }
            }
            Self::UnknownTheme { .. } => ErrorKind::InvalidInput { field: "themes" },
            Self::ProgressOutOfRange(_) => ErrorKind::InvalidInput { field: "progress" },
            Self::NotOwnIntervention { .. } => ErrorKind::Forbidden,
            Self::UnknownMilestone(_) => ErrorKind::InvalidInput {
                field: "milestoneId",
            },
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyPlanned
            | Self::Final { .. }
            | Self::MilestoneExists(_)
            | Self::MilestoneAlreadyReached { .. } => ErrorKind::RuleViolated,
        }
    }
}
