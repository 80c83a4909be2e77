//! An intervention: a concrete action under an execution programme, a pillar and its themes,
//! in one or more areas, led by a partner of the alliance; with its progress, status and
//! milestones, until it is completed or stopped.
//!
//! Rules:
//! - an intervention is planned once, with a title, under a known execution programme and
//!   pillar of an established programme;
//! - its themes are themes of that pillar; it takes place in at least one area, each known and
//!   each among the execution programme's areas, none twice;
//! - its lead partner is a current member of the programme's alliance;
//! - progress is a percentage from 0 to 100; a report sets the status to planned, running or
//!   paused;
//! - a milestone is added once and reached once;
//! - completion (with an evaluation; progress becomes 100) and stopping (with a reason) are
//!   final: nothing changes after either;
//! - every date lies inside the programme period;
//! - a partner reports progress only on interventions its own organisation leads
//!   (`intervention.own_organisation`); the programme office reports on any.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{
    AddMilestone, CompleteIntervention, InterventionCommand, PlanIntervention, ReachMilestone,
    ReportInterventionProgress, StopIntervention,
};
pub use error::InterventionError;
pub use events::InterventionEvent;

use crate::ids::{
    AreaId, ExecutionProgrammeId, InterventionId, MemberId, MilestoneId, PillarId, ProgrammeId,
};
use crate::period::YearRange;
use crate::reference::{LedgerServices, ReferenceError};
use crate::text;

/// Longest title or theme name.
pub const NAME_MAX: usize = 300;
/// Longest description, note, evaluation or reason.
pub const TEXT_MAX: usize = 20_000;
/// Most themes or areas in one intervention.
pub const LIST_MAX: usize = 100;

/// The status a progress report gives an intervention that is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InterventionStatus {
    Planned,
    Running,
    Paused,
}

/// Where an intervention stands: its reported status, or how it was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum InterventionStage {
    Planned,
    Running,
    Paused,
    Completed,
    Stopped,
}

impl InterventionStage {
    /// Completed and stopped interventions never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Stopped)
    }
}

impl From<InterventionStatus> for InterventionStage {
    fn from(status: InterventionStatus) -> Self {
        match status {
            InterventionStatus::Planned => Self::Planned,
            InterventionStatus::Running => Self::Running,
            InterventionStatus::Paused => Self::Paused,
        }
    }
}

/// A milestone of an intervention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: MilestoneId,
    pub title: String,
    pub due: NaiveDate,
    pub reached_on: Option<NaiveDate>,
}

/// The latest progress report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterventionReport {
    pub progress: u8,
    pub status: InterventionStatus,
    pub note: String,
    pub reported_on: NaiveDate,
}

/// How an intervention was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub evaluation: String,
    /// Why it was stopped; `None` when it was completed.
    pub stop_reason: Option<String>,
    pub closed_on: NaiveDate,
}

/// The state of one intervention, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    state: Option<InterventionState>,
}

/// The recorded facts of a planned intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionState {
    pub id: InterventionId,
    pub programme_id: ProgrammeId,
    pub execution_programme: ExecutionProgrammeId,
    pub pillar: PillarId,
    pub themes: Vec<String>,
    pub areas: Vec<AreaId>,
    pub lead_partner: MemberId,
    pub lead_organisation: String,
    pub title: String,
    pub description: String,
    pub stage: InterventionStage,
    /// Percent done: as last reported, 100 once completed.
    pub progress: u8,
    pub last_report: Option<InterventionReport>,
    /// Milestones in the order they were added.
    pub milestones: Vec<Milestone>,
    pub closure: Option<Closure>,
    pub programme_period: YearRange,
}

impl Intervention {
    /// The intervention's facts, or `None` before it was planned.
    pub fn state(&self) -> Option<&InterventionState> {
        self.state.as_ref()
    }

    /// The planned intervention, if it is still open.
    fn open(&self) -> Result<&InterventionState, InterventionError> {
        let state = self.state.as_ref().ok_or(InterventionError::NotFound)?;
        if state.stage.is_final() {
            return Err(InterventionError::Final { stage: state.stage });
        }
        Ok(state)
    }
}

impl InterventionState {
    /// A milestone of this intervention, if it has one with this id.
    pub fn milestone(&self, id: MilestoneId) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.id == id)
    }

    fn within_period(&self, field: &'static str, date: NaiveDate) -> Result<(), ReferenceError> {
        if self.programme_period.contains_date(date) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: date.to_string(),
                period: self.programme_period,
            })
        }
    }
}

impl Aggregate for Intervention {
    const TYPE: &'static str = "Intervention";
    type Command = InterventionCommand;
    type Event = InterventionEvent;
    type Error = InterventionError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            InterventionCommand::Plan(cmd) => {
                if self.state.is_some() {
                    return Err(InterventionError::AlreadyPlanned);
                }
                self.plan(cmd, services).await?
            }
            InterventionCommand::ReportProgress(cmd) => {
                let state = self.open()?;
                if !cmd.reporter.may_report_for(&state.lead_organisation) {
                    return Err(InterventionError::NotOwnIntervention {
                        organisation: state.lead_organisation.clone(),
                    });
                }
                if cmd.progress > 100 {
                    return Err(InterventionError::ProgressOutOfRange(cmd.progress));
                }
                let note = text::optional("note", &cmd.note, TEXT_MAX)?;
                state.within_period("reportedOn", cmd.reported_on)?;
                InterventionEvent::InterventionProgressReported {
                    progress: cmd.progress,
                    status: cmd.status,
                    note,
                    reported_on: cmd.reported_on,
                }
            }
            InterventionCommand::AddMilestone(cmd) => {
                let state = self.open()?;
                if state.milestone(cmd.milestone_id).is_some() {
                    return Err(InterventionError::MilestoneExists(cmd.milestone_id));
                }
                let title = text::required("title", &cmd.title, NAME_MAX)?;
                state.within_period("due", cmd.due)?;
                InterventionEvent::MilestoneAdded {
                    milestone_id: cmd.milestone_id,
                    title,
                    due: cmd.due,
                }
            }
            InterventionCommand::ReachMilestone(cmd) => {
                let state = self.open()?;
                let milestone = state
                    .milestone(cmd.milestone_id)
                    .ok_or(InterventionError::UnknownMilestone(cmd.milestone_id))?;
                if let Some(reached_on) = milestone.reached_on {
                    return Err(InterventionError::MilestoneAlreadyReached {
                        milestone: cmd.milestone_id,
                        reached_on,
                    });
                }
                state.within_period("reachedOn", cmd.reached_on)?;
                InterventionEvent::MilestoneReached {
                    milestone_id: cmd.milestone_id,
                    reached_on: cmd.reached_on,
                }
            }
            InterventionCommand::Complete(cmd) => {
                let state = self.open()?;
                let evaluation = text::required("evaluation", &cmd.evaluation, TEXT_MAX)?;
                state.within_period("completedOn", cmd.completed_on)?;
                InterventionEvent::InterventionCompleted {
                    evaluation,
                    completed_on: cmd.completed_on,
                }
            }
            InterventionCommand::Stop(cmd) => {
                let state = self.open()?;
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                let evaluation = text::optional("evaluation", &cmd.evaluation, TEXT_MAX)?;
                state.within_period("stoppedOn", cmd.stopped_on)?;
                InterventionEvent::InterventionStopped {
                    evaluation,
                    reason,
                    stopped_on: cmd.stopped_on,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let InterventionEvent::InterventionPlanned {
            intervention_id,
            programme_id,
            execution_programme,
            pillar,
            themes,
            areas,
            lead_partner,
            lead_organisation,
            title,
            description,
            programme_period,
        } = event
        {
            self.state = Some(InterventionState {
                id: intervention_id,
                programme_id,
                execution_programme,
                pillar,
                themes,
                areas,
                lead_partner,
                lead_organisation,
                title,
                description,
                stage: InterventionStage::Planned,
                progress: 0,
                last_report: None,
                milestones: Vec::new(),
                closure: None,
                programme_period,
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            InterventionEvent::InterventionPlanned { .. } => {}
            InterventionEvent::InterventionProgressReported {
                progress,
                status,
                note,
                reported_on,
            } => {
                state.progress = progress;
                state.stage = status.into();
                state.last_report = Some(InterventionReport {
                    progress,
                    status,
                    note,
                    reported_on,
                });
            }
            InterventionEvent::MilestoneAdded {
                milestone_id,
                title,
                due,
            } => state.milestones.push(Milestone {
                id: milestone_id,
                title,
                due,
                reached_on: None,
            }),
            InterventionEvent::MilestoneReached {
                milestone_id,
                reached_on,
            } => {
                if let Some(m) = state.milestones.iter_mut().find(|m| m.id == milestone_id) {
                    m.reached_on = Some(reached_on);
                }
            }
            InterventionEvent::InterventionCompleted {
                evaluation,
                completed_on,
            } => {
                state.stage = InterventionStage::Completed;
                state.progress = 100;
                state.closure = Some(Closure {
                    evaluation,
                    stop_reason: None,
                    closed_on: completed_on,
                });
            }
            InterventionEvent::InterventionStopped {
                evaluation,
                reason,
                stopped_on,
            } => {
                state.stage = InterventionStage::Stopped;
                state.closure = Some(Closure {
                    evaluation,
                    stop_reason: Some(reason),
                    closed_on: stopped_on,
                });
            }
        }
    }
}

impl Intervention {
    /// Checks a plan against the programme and its alliance and builds its event.
    async fn plan(
        &self,
        cmd: PlanIntervention,
        services: &LedgerServices,
    ) -> Result<InterventionEvent, InterventionError> {
        let title = text::required("title", &cmd.title, NAME_MAX)?;
        let description = text::optional("description", &cmd.description, TEXT_MAX)?;
        let themes = text::list("themes", &cmd.themes, LIST_MAX, NAME_MAX)?;
        if cmd.areas.is_empty() {
            return Err(InterventionError::NoAreas);
        }
        if cmd.areas.len() > LIST_MAX {
            return Err(text::TextError::TooMany {
                field: "areas",
                max: LIST_MAX,
            }
            .into());
        }
        let programme = services.programme(&cmd.programme_id).await?;
        let execution_programme =
            programme.execution_programme("executionProgramme", &cmd.execution_programme)?;
        let pillar = programme.pillar("pillar", &cmd.pillar)?;
        if let Some(theme) = themes
            .iter()
            .find(|t| !pillar.themes.iter().any(|p| &p.name == *t))
        {
            return Err(InterventionError::UnknownTheme {
                theme: theme.clone(),
                pillar: cmd.pillar,
            });
        }
        for (index, area) in cmd.areas.iter().enumerate() {
            programme.area("areas", area)?;
            if cmd.areas[..index].contains(area) {
                return Err(InterventionError::AreaTwice(area.clone()));
            }
            if !execution_programme.areas.contains(area) {
                return Err(InterventionError::AreaOutsideExecutionProgramme {
                    area: area.clone(),
                    execution_programme: cmd.execution_programme,
                });
            }
        }
        let alliance = services.alliance(&cmd.programme_id).await?;
        let lead = alliance.member("leadPartner", &cmd.lead_partner)?;
        Ok(InterventionEvent::InterventionPlanned {
            intervention_id: cmd.intervention_id,
            programme_id: cmd.programme_id,
            execution_programme: cmd.execution_programme,
            pillar: cmd.pillar,
            themes,
            areas: cmd.areas,
            lead_partner: cmd.lead_partner,
            lead_organisation: lead.organisation.clone(),
            title,
            description,
            programme_period: programme.period,
        })
    }
}
