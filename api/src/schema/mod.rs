//! The GraphQL schema: one module per area of the ledger, merged here.

mod alliance;
mod budget;
mod commitment;
mod decision;
mod input;
mod intervention;
mod log;
mod measurement;
mod programme;
mod resident_input;
mod scalars;
mod target;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use cqrs_es::Aggregate;
use domain::reference::LedgerServices;
use domain::RuleViolation;
use store::CommandContext;

use crate::{ApiError, AppState};

#[derive(MergedObject, Default)]
pub struct Query(
    log::LogQuery,
    programme::ProgrammeQuery,
    alliance::AllianceQuery,
    decision::DecisionQuery,
    budget::FundQuery,
    commitment::CommitmentQuery,
    target::TargetQuery,
    measurement::MeasurementQuery,
    intervention::InterventionQuery,
    resident_input::ResidentInputQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    programme::ProgrammeMutation,
    alliance::AllianceMutation,
    decision::DecisionMutation,
    budget::FundMutation,
    commitment::CommitmentMutation,
    target::TargetMutation,
    measurement::MeasurementMutation,
    intervention::InterventionMutation,
    resident_input::ResidentInputMutation,
);

/// The ledger's GraphQL schema.
pub type LedgerSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema over the shared state, with the state's limits.
pub fn build_schema(state: AppState) -> LedgerSchema {
    let limits = state.limits.clone();
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .data(state)
        .finish()
}

pub(crate) fn state<'a>(ctx: &'a Context<'_>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// Runs a command on one aggregate through the command bus and returns its state after.
pub(crate) async fn record<A>(
    ctx: &Context<'_>,
    context: &CommandContext,
    aggregate_id: &str,
    command: A::Command,
    command_name: &str,
) -> Result<A, ApiError>
where
    A: Aggregate<Services = LedgerServices> + Clone,
    A::Command: Clone,
    A::Error: RuleViolation,
{
    let bus = &state(ctx).bus;
    bus.execute::<A>(
        aggregate_id,
        command,
        command_name,
        &bus.services(),
        context,
    )
    .await
    .map_err(ApiError::from)
}

/// Loads one aggregate's current state.
pub(crate) async fn load<A>(ctx: &Context<'_>, aggregate_id: &str) -> Result<A, ApiError>
where
    A: Aggregate,
    A::Error: RuleViolation,
{
    state(ctx)
        .bus
        .load::<A>(aggregate_id)
        .await
        .map_err(ApiError::from)
}
