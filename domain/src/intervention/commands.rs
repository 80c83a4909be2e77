use chrono::NaiveDate;

use super::InterventionStatus;
use crate::access::Reporter;
use crate::ids::{
    AreaId, ExecutionProgrammeId, InterventionId, MemberId, MilestoneId, PillarId, ProgrammeId,
};

/// Everything that can be asked of an intervention.
#[derive(Debug, Clone, PartialEq)]
pub enum InterventionCommand {
    Plan(PlanIntervention),
    ReportProgress(ReportInterventionProgress),
    AddMilestone(AddMilestone),
    ReachMilestone(ReachMilestone),
    Complete(CompleteIntervention),
    Stop(StopIntervention),
}

impl InterventionCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Plan(_) => "PlanIntervention",
            Self::ReportProgress(_) => "ReportInterventionProgress",
            Self::AddMilestone(_) => "AddMilestone",
            Self::ReachMilestone(_) => "ReachMilestone",
            Self::Complete(_) => "CompleteIntervention",
            Self::Stop(_) => "StopIntervention",
        }
    }
}

/// Plan a concrete action under an execution programme, a pillar and its themes, in some of
/// the execution programme's areas, led by a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanIntervention {
    pub intervention_id: InterventionId,
    pub programme_id: ProgrammeId,
    pub execution_programme: ExecutionProgrammeId,
    pub pillar: PillarId,
    /// Names of themes of the pillar.
    pub themes: Vec<String>,
    pub areas: Vec<AreaId>,
    pub lead_partner: MemberId,
    pub title: String,
    pub description: String,
}

/// Report how far an intervention has come.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInterventionProgress {
    /// Who reports: the programme office, or the lead partner's organisation.
    pub reporter: Reporter,
    /// Percent done, 0 to 100.
    pub progress: u8,
    pub status: InterventionStatus,
    pub note: String,
    pub reported_on: NaiveDate,
}

/// Add a milestone to an intervention.
#[derive(Debug, Clone, PartialEq)]
pub struct AddMilestone {
    pub milestone_id: MilestoneId,
    pub title: String,
    pub due: NaiveDate,
}

/// Record that a milestone was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct ReachMilestone {
    pub milestone_id: MilestoneId,
    pub reached_on: NaiveDate,
}

/// Close an intervention as done, with its evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompleteIntervention {
    pub evaluation: String,
    pub completed_on: NaiveDate,
}

/// Close an intervention before it was done, with the reason and what was learned.
#[derive(Debug, Clone, PartialEq)]
pub struct StopIntervention {
    /// What was learned; may be empty.
    pub evaluation: String,
    pub reason: String,
    pub stopped_on: NaiveDate,
}
