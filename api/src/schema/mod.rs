//! The GraphQL schema: one module per area of the ledger, merged here.

mod decision;
mod log;
mod scalars;

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::AppState;

#[derive(MergedObject, Default)]
pub struct Query(log::LogQuery, decision::DecisionQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(decision::DecisionMutation);

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

pub(crate) fn state<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}
