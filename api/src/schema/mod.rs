//! The GraphQL schema: one module per area of the ledger, merged here.

// A resolver's parameters are the GraphQL field's arguments; filters make them many.
#![allow(clippy::too_many_arguments)]

mod alliance;
mod audit;
mod budget;
mod commitment;
mod decision;
mod imports;
mod input;
mod intervention;
mod ledger;
mod limits;
mod live;
mod log;
mod measurement;
mod monitor;
mod page;
mod programme;
mod resident_input;
pub(crate) mod scalars;
mod target;

use async_graphql::{Context, MergedObject, Schema};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::reference::LedgerServices;
use domain::RuleViolation;
use projections::LedgerState;
use store::CommandContext;
use store::Position;

use crate::{ApiError, AppState};

#[derive(MergedObject, Default)]
pub struct Query(
    log::LogQuery,
    audit::AuditQuery,
    ledger::LedgerQuery,
    programme::ProgrammeQuery,
    alliance::AllianceQuery,
    decision::DecisionQuery,
    budget::FundQuery,
    commitment::CommitmentQuery,
    target::TargetQuery,
    measurement::MeasurementQuery,
    monitor::MonitorQuery,
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
    imports::ImportMutation,
    intervention::InterventionMutation,
    resident_input::ResidentInputMutation,
);

/// The ledger's GraphQL schema.
pub type LedgerSchema = Schema<Query, Mutation, live::LiveSubscription>;

/// Builds the schema over the shared state, with the state's limits: depth, complexity (a
/// page's items counted once per 100, see [`limits::page_cost`]), aliases, directives per field,
/// and introspection.
pub fn build_schema(state: AppState) -> LedgerSchema {
    schema_builder(&state.limits, &state.metrics)
        .data(state)
        .finish()
}

/// The schema as [`build_schema`] builds it, with the same limits and extensions, before the
/// shared state is added: what reads and validates a request without a database.
pub fn schema_builder(
    limits: &crate::Limits,
    metrics: &crate::Metrics,
) -> async_graphql::SchemaBuilder<Query, Mutation, live::LiveSubscription> {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        live::LiveSubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits::MAX_DIRECTIVES_PER_FIELD)
    .extension(metrics.graphql_extension())
    .extension(limits::DocumentLimits {
        max_aliases: limits.max_aliases,
        introspection: limits.introspection,
    });
    if limits.introspection {
        builder
    } else {
        // Suggestions ("did you mean") would name fields the schema holds.
        builder.disable_introspection().disable_suggestions()
    }
}

/// The schema in GraphQL's schema definition language, as served; committed at
/// `docs/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        live::LiveSubscription,
    )
    .finish()
    .sdl()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_is_the_served_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.graphql");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == super::sdl(),
            "docs/schema.graphql differs from the served schema; if the change is intended, run \
             `cargo run -- schema > docs/schema.graphql` and commit it"
        );
    }
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
    let app = state(ctx);
    let bus = &app.bus;
    let (after, position) = bus
        .execute_at::<A>(
            aggregate_id,
            command,
            command_name,
            &bus.services(),
            context,
        )
        .await
        .map_err(ApiError::from)?;
    match position {
        // What the command recorded, and so everything before it.
        Some(position) => wait_for_read_models(app, position).await,
        // Nothing new: what the earlier request with its key recorded, or what it read.
        None => read_your_writes(app).await,
    }
    Ok(after)
}

/// Read your writes: returns once this server's read models include the log's head (at most
/// [`READ_YOUR_WRITES`]).
pub(crate) async fn read_your_writes(app: &AppState) {
    match app.db.head().await {
        Ok(head) => wait_for_read_models(app, head).await,
        Err(e) => tracing::warn!(error = %e, "cannot read the log head after a command"),
    }
}

/// Returns once this server's read models include `position`: at most [`READ_YOUR_WRITES`],
/// and at once when the projector cannot read the log (the database went away after the
/// commit), since they cannot catch up before it is back.
async fn wait_for_read_models(app: &AppState, position: store::Position) {
    if !app.projection.wait_for(position, READ_YOUR_WRITES).await {
        tracing::warn!(
            position,
            "answering before the read models include the command: they did not catch up in \
             time, or the log cannot be read"
        );
    }
}

/// How long a mutation waits, at most, for the read models to include what it recorded.
const READ_YOUR_WRITES: std::time::Duration = std::time::Duration::from_secs(10);

/// A record type the read models hold, by aggregate id.
pub(crate) trait Readable: Aggregate + Clone {
    fn read<'a>(state: &'a LedgerState, id: &str, at: Position) -> Option<&'a Self>;
}

macro_rules! readable {
    ($($ty:ty => $method:ident),* $(,)?) => {
        $(impl Readable for $ty {
            fn read<'a>(state: &'a LedgerState, id: &str, at: Position) -> Option<&'a Self> {
                state.$method(id, at)
            }
        })*
    };
}

readable! {
    domain::programme::Programme => programme,
    domain::alliance::Alliance => alliance,
    domain::decision::Decision => decision,
    domain::budget::Fund => fund,
    domain::commitment::Commitment => commitment,
    domain::target::Target => target,
    domain::measurement::Measurement => measurement,
    domain::intervention::Intervention => intervention,
    domain::resident_input::ResidentInput => resident_input,
}

/// The position a read is answered at: the last event recorded at or before `as_of`, or the
/// read models' current position.
pub(crate) fn position_of(state: &LedgerState, as_of: Option<DateTime<Utc>>) -> Position {
    as_of.map_or(state.position(), |t| state.position_at(t))
}

/// One record from the read models, as it stood `as_of` (now when `None`); an empty record when
/// it did not exist then.
pub(crate) async fn load<A: Readable>(
    ctx: &Context<'_>,
    aggregate_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<A, ApiError> {
    let models = state(ctx).projection.read().await;
    let at = position_of(&models, as_of);
    Ok(A::read(&models, aggregate_id, at)
        .cloned()
        .unwrap_or_default())
}
