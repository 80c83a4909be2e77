//! Interventions: concrete actions under an execution programme, with progress, milestones,
//! and how they were closed.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::ids::{
    AreaId, ExecutionProgrammeId, InterventionId, MemberId, MilestoneId, PillarId, ProgrammeId,
};
use domain::intervention::{
    AddMilestone, Closure, CompleteIntervention, Intervention, InterventionCommand,
    InterventionReport, InterventionStage, InterventionState, InterventionStatus, Milestone,
    PlanIntervention, ReachMilestone, ReportInterventionProgress, StopIntervention,
};
use store::CommandContext;

use super::input::{self, slug, slugs};
use super::programme::mirror_enum;
use super::scalars::Date;
use super::{load, record};
use crate::auth::{require_progress_reporter, require_recorder, require_signed_in};
use crate::ApiError;

mirror_enum!(InterventionStatusValue as "InterventionStatus" <=> InterventionStatus {
    Planned, Running, Paused
});
mirror_enum!(InterventionStageValue as "InterventionStage" <=> InterventionStage {
    Planned, Running, Paused, Completed, Stopped
});

/// A milestone of an intervention.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Milestone")]
pub struct MilestoneObject {
    id: ID,
    title: String,
    due: Date,
    /// When it was reached; null while it is not.
    reached_on: Option<Date>,
}

impl From<&Milestone> for MilestoneObject {
    fn from(m: &Milestone) -> Self {
        Self {
            id: ID(m.id.to_string()),
            title: m.title.clone(),
            due: Date(m.due),
            reached_on: m.reached_on.map(Date),
        }
    }
}

/// A progress report on an intervention.
#[derive(SimpleObject, Debug)]
#[graphql(name = "InterventionReport")]
pub struct InterventionReportObject {
    /// Percent done, 0 to 100.
    progress: i32,
    status: InterventionStatusValue,
    note: String,
    reported_on: Date,
}

impl From<&InterventionReport> for InterventionReportObject {
    fn from(r: &InterventionReport) -> Self {
        Self {
            progress: i32::from(r.progress),
            status: r.status.into(),
            note: r.note.clone(),
            reported_on: Date(r.reported_on),
        }
    }
}

/// How an intervention was closed: completed, or stopped with a reason.
#[derive(SimpleObject, Debug)]
#[graphql(name = "InterventionClosure")]
pub struct ClosureObject {
    evaluation: String,
    /// Why it was stopped; null when it was completed.
    stop_reason: Option<String>,
    closed_on: Date,
}

impl From<&Closure> for ClosureObject {
    fn from(c: &Closure) -> Self {
        Self {
            evaluation: c.evaluation.clone(),
            stop_reason: c.stop_reason.clone(),
            closed_on: Date(c.closed_on),
        }
    }
}

/// A concrete action under an execution programme.
#[derive(Debug)]
pub struct InterventionObject(InterventionState);

#[Object(name = "Intervention")]
impl InterventionObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn programme_id(&self) -> String {
        self.0.programme_id.to_string()
    }
    async fn execution_programme(&self) -> String {
        self.0.execution_programme.to_string()
    }
    async fn pillar(&self) -> String {
        self.0.pillar.to_string()
    }
    /// Names of themes of the pillar.
    async fn themes(&self) -> &[String] {
        &self.0.themes
    }
    async fn areas(&self) -> Vec<String> {
        self.0.areas.iter().map(ToString::to_string).collect()
    }
    /// The alliance member that leads it.
    async fn lead_partner(&self) -> String {
        self.0.lead_partner.to_string()
    }
    /// The lead partner's organisation when the intervention was planned.
    async fn lead_organisation(&self) -> &str {
        &self.0.lead_organisation
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Its reported status, or how it was closed.
    async fn stage(&self) -> InterventionStageValue {
        self.0.stage.into()
    }
    /// Completed and stopped interventions never change again.
    async fn is_final(&self) -> bool {
        self.0.stage.is_final()
    }
    /// Percent done: as last reported, 100 once completed.
    async fn progress(&self) -> i32 {
        i32::from(self.0.progress)
    }
    async fn last_report(&self) -> Option<InterventionReportObject> {
        self.0.last_report.as_ref().map(Into::into)
    }
    /// Milestones in the order they were added.
    async fn milestones(&self) -> Vec<MilestoneObject> {
        self.0.milestones.iter().map(Into::into).collect()
    }
    async fn closure(&self) -> Option<ClosureObject> {
        self.0.closure.as_ref().map(Into::into)
    }
}

#[derive(Default)]
pub struct InterventionQuery;

#[Object]
impl InterventionQuery {
    /// One intervention by id, as it stands now.
    async fn intervention(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<InterventionObject>> {
        require_signed_in(ctx)?;
        let id = input::uuid("id", &id, InterventionId::parse)?;
        let intervention: Intervention = load(ctx, &id.to_string(), as_of).await?;
        Ok(intervention.state().cloned().map(InterventionObject))
    }

    /// The interventions of a programme, of one execution programme, pillar, area or lead
    /// partner when given, in the order they were planned.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn interventions(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        execution_programme: Option<String>,
        pillar: Option<String>,
        area: Option<String>,
        lead_partner: Option<String>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, InterventionObject>> {
        require_signed_in(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let models = super::state(ctx).projection.read().await;
        let at = super::position_of(&models, as_of);
        let mut found: Vec<(i64, InterventionState)> = models
            .all_interventions(at)
            .filter_map(|r| {
                let s = r.state.state()?;
                let keep = s.programme_id == programme
                    && execution_programme
                        .as_deref()
                        .is_none_or(|e| s.execution_programme.as_str() == e)
                    && pillar.as_deref().is_none_or(|p| s.pillar.as_str() == p)
                    && area
                        .as_deref()
                        .is_none_or(|a| s.areas.iter().any(|x| x.as_str() == a))
                    && lead_partner
                        .as_deref()
                        .is_none_or(|l| s.lead_partner.as_str() == l);
                let first = models.first_position_of_intervention(r.aggregate_id)?;
                keep.then(|| (first, s.clone()))
            })
            .collect();
        found.sort_by_key(|(first, _)| *first);
        let items = found
            .into_iter()
            .map(|(_, s)| (s.id.to_string(), InterventionObject(s)))
            .collect();
        Ok(super::page::page(ctx, items, after, first)?)
    }
}

#[derive(InputObject)]
pub struct PlanInterventionInput {
    /// Choose the intervention's id (a UUID); the ledger makes one when left out.
    intervention_id: Option<ID>,
    programme_id: String,
    /// The execution programme it belongs to, e.g. `uitvoeringsprogramma-2024-2027`.
    execution_programme: String,
    /// The pillar, e.g. `gezond-en-samen-leven`.
    pillar: String,
    /// Names of themes of the pillar.
    #[graphql(default)]
    themes: Vec<String>,
    /// Areas of the execution programme, e.g. `["crabbehof"]`.
    areas: Vec<String>,
    /// The alliance member that leads it.
    lead_partner: String,
    title: String,
    #[graphql(default)]
    description: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ReportInterventionProgressInput {
    intervention_id: ID,
    /// Percent done, 0 to 100.
    progress: i32,
    status: InterventionStatusValue,
    #[graphql(default)]
    note: String,
    reported_on: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddMilestoneInput {
    intervention_id: ID,
    /// Choose the milestone's id (a UUID); the ledger makes one when left out.
    milestone_id: Option<ID>,
    title: String,
    due: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ReachMilestoneInput {
    intervention_id: ID,
    milestone_id: ID,
    reached_on: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct CompleteInterventionInput {
    intervention_id: ID,
    /// What it achieved and what was learned.
    evaluation: String,
    completed_on: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct StopInterventionInput {
    intervention_id: ID,
    reason: String,
    /// What was learned; may be left out.
    #[graphql(default)]
    evaluation: String,
    stopped_on: Date,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    id: InterventionId,
    command: InterventionCommand,
) -> Result<InterventionObject> {
    let name = command.name();
    let intervention: Intervention = record(ctx, &context, &id.to_string(), command, name).await?;
    intervention
        .state()
        .cloned()
        .map(InterventionObject)
        .ok_or_else(|| ApiError::Internal.into())
}

fn intervention_id(id: &ID) -> Result<InterventionId, ApiError> {
    input::uuid("interventionId", id, InterventionId::parse)
}

#[derive(Default)]
pub struct InterventionMutation;

#[Object]
impl InterventionMutation {
    /// Plan a concrete action under an execution programme and a pillar, in some of the
    /// execution programme's areas, led by a partner.
    async fn plan_intervention(
        &self,
        ctx: &Context<'_>,
        input: PlanInterventionInput,
    ) -> Result<InterventionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = input::new_or_given(
            "interventionId",
            input.intervention_id.as_ref(),
            InterventionId::parse,
        )?;
        let command = InterventionCommand::Plan(PlanIntervention {
            intervention_id: id,
            programme_id: slug("programmeId", &input.programme_id, ProgrammeId::parse)?,
            execution_programme: slug(
                "executionProgramme",
                &input.execution_programme,
                ExecutionProgrammeId::parse,
            )?,
            pillar: slug("pillar", &input.pillar, PillarId::parse)?,
            themes: input.themes,
            areas: slugs("areas", &input.areas, AreaId::parse)?,
            lead_partner: slug("leadPartner", &input.lead_partner, MemberId::parse)?,
            title: input.title,
            description: input.description,
        });
        run(ctx, context, id, command).await
    }

    /// Report how far an intervention has come and whether it is planned, running or paused.
    /// The secretary and admin roles report on any intervention, a partner only on those its
    /// own organisation leads.
    async fn report_intervention_progress(
        &self,
        ctx: &Context<'_>,
        input: ReportInterventionProgressInput,
    ) -> Result<InterventionObject> {
        let (context, reporter) = require_progress_reporter(ctx, input.idempotency_key)?;
        let id = intervention_id(&input.intervention_id)?;
        let progress = u8::try_from(input.progress).map_err(|_| {
            ApiError::bad_input(
                "progress",
                format!("{} is not a percentage from 0 to 100", input.progress),
            )
        })?;
        let command = InterventionCommand::ReportProgress(ReportInterventionProgress {
            reporter,
            progress,
            status: input.status.into(),
            note: input.note,
            reported_on: input.reported_on.0,
        });
        run(ctx, context, id, command).await
    }

    /// Add a milestone to an intervention.
    async fn add_milestone(
        &self,
        ctx: &Context<'_>,
        input: AddMilestoneInput,
    ) -> Result<InterventionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = intervention_id(&input.intervention_id)?;
        let command = InterventionCommand::AddMilestone(AddMilestone {
            milestone_id: input::new_or_given(
                "milestoneId",
                input.milestone_id.as_ref(),
                MilestoneId::parse,
            )?,
            title: input.title,
            due: input.due.0,
        });
        run(ctx, context, id, command).await
    }

    /// Record that a milestone was reached.
    async fn reach_milestone(
        &self,
        ctx: &Context<'_>,
        input: ReachMilestoneInput,
    ) -> Result<InterventionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = intervention_id(&input.intervention_id)?;
        let command = InterventionCommand::ReachMilestone(ReachMilestone {
            milestone_id: input::uuid("milestoneId", &input.milestone_id, MilestoneId::parse)?,
            reached_on: input.reached_on.0,
        });
        run(ctx, context, id, command).await
    }

    /// Close an intervention as done, with its evaluation; nothing changes after.
    async fn complete_intervention(
        &self,
        ctx: &Context<'_>,
        input: CompleteInterventionInput,
    ) -> Result<InterventionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = intervention_id(&input.intervention_id)?;
        let command = InterventionCommand::Complete(CompleteIntervention {
            evaluation: input.evaluation,
            completed_on: input.completed_on.0,
        });
        run(ctx, context, id, command).await
    }

    /// Close an intervention before it was done, with the reason; nothing changes after.
    async fn stop_intervention(
        &self,
        ctx: &Context<'_>,
        input: StopInterventionInput,
    ) -> Result<InterventionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = intervention_id(&input.intervention_id)?;
        let command = InterventionCommand::Stop(StopIntervention {
            evaluation: input.evaluation,
            reason: input.reason,
            stopped_on: input.stopped_on.0,
        });
        run(ctx, context, id, command).await
    }
}
