//! Resident input: what residents said about an area and theme, and the decisions that took it
//! into account.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};
use domain::ids::{AreaId, DecisionId, ProgrammeId, ResidentInputId};
use domain::resident_input::{
    Channel, ConsiderResidentInput, RecordResidentInput, ResidentInput, ResidentInputCommand,
    ResidentInputState,
};
use store::CommandContext;

use super::input::{self, slug};
use super::programme::mirror_enum;
use super::scalars::Date;
use super::{load, record};
use crate::auth::{require_recorder, require_signed_in};
use crate::ApiError;

mirror_enum!(ChannelValue as "ResidentInputChannel" <=> Channel { Survey, Session, Other });

/// What residents said, in a survey, a session or otherwise.
#[derive(Debug)]
pub struct ResidentInputObject(ResidentInputState);

#[Object(name = "ResidentInput")]
impl ResidentInputObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn programme_id(&self) -> String {
        self.0.programme_id.to_string()
    }
    /// How the input was collected.
    async fn channel(&self) -> ChannelValue {
        self.0.channel.into()
    }
    async fn area(&self) -> String {
        self.0.area.to_string()
    }
    async fn theme(&self) -> &str {
        &self.0.theme
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// How many residents took part.
    async fn residents(&self) -> u32 {
        self.0.residents
    }
    async fn collected_on(&self) -> Date {
        Date(self.0.collected_on)
    }
    /// The adopted decisions that took it into account, in the order they were linked.
    async fn considered_in(&self) -> Vec<ID> {
        self.0
            .considered_in
            .iter()
            .map(|d| ID(d.to_string()))
            .collect()
    }
}

#[derive(Default)]
pub struct ResidentInputQuery;

#[Object]
impl ResidentInputQuery {
    /// One piece of resident input by id, with the decisions that took it into account.
    async fn resident_input(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<ResidentInputObject>> {
        require_signed_in(ctx)?;
        let id = input::uuid("id", &id, ResidentInputId::parse)?;
        let resident_input: ResidentInput = load(ctx, &id.to_string(), as_of).await?;
        Ok(resident_input.state().cloned().map(ResidentInputObject))
    }

    /// The resident input of a programme, of one area and/or theme when given, in order of
    /// when it was collected.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn resident_inputs(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        area: Option<String>,
        theme: Option<String>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, ResidentInputObject>> {
        require_signed_in(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let models = super::state(ctx).projection.read().await;
        let at = super::position_of(&models, as_of);
        let mut found: Vec<ResidentInputState> = models
            .all_resident_inputs(at)
            .filter_map(|r| r.state.state().cloned())
            .filter(|s| s.programme_id == programme)
            .filter(|s| area.as_deref().is_none_or(|a| s.area.as_str() == a))
            .filter(|s| theme.as_deref().is_none_or(|t| s.theme == t))
            .collect();
        found.sort_by_key(|r| (r.collected_on, r.id));
        let items = found
            .into_iter()
            .map(|s| (s.id.to_string(), ResidentInputObject(s)))
            .collect();
        Ok(super::page::page(ctx, items, after, first)?)
    }
}

#[derive(InputObject)]
pub struct RecordResidentInputInput {
    /// Choose the input's id (a UUID); the ledger makes one when left out.
    resident_input_id: Option<ID>,
    programme_id: String,
    channel: ChannelValue,
    /// The area it is about, e.g. `wielwijk`.
    area: String,
    theme: String,
    summary: String,
    /// How many residents took part; at least one.
    residents: i32,
    collected_on: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ConsiderResidentInputInput {
    resident_input_id: ID,
    /// The adopted decision that took the input into account.
    decision_id: ID,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    id: ResidentInputId,
    command: ResidentInputCommand,
) -> Result<ResidentInputObject> {
    let name = command.name();
    let resident_input: ResidentInput =
        record(ctx, &context, &id.to_string(), command, name).await?;
    resident_input
        .state()
        .cloned()
        .map(ResidentInputObject)
        .ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct ResidentInputMutation;

#[Object]
impl ResidentInputMutation {
    /// Record what residents said about an area and theme, and how many took part.
    async fn record_resident_input(
        &self,
        ctx: &Context<'_>,
        input: RecordResidentInputInput,
    ) -> Result<ResidentInputObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = input::new_or_given(
            "residentInputId",
            input.resident_input_id.as_ref(),
            ResidentInputId::parse,
        )?;
        let residents = u32::try_from(input.residents)
            .map_err(|_| ApiError::bad_input("residents", "at least one resident took part"))?;
        let command = ResidentInputCommand::Record(RecordResidentInput {
            resident_input_id: id,
            programme_id: slug("programmeId", &input.programme_id, ProgrammeId::parse)?,
            channel: input.channel.into(),
            area: slug("area", &input.area, AreaId::parse)?,
            theme: input.theme,
            summary: input.summary,
            residents,
            collected_on: input.collected_on.0,
        });
        run(ctx, context, id, command).await
    }

    /// Link resident input to an adopted decision that took it into account.
    async fn consider_resident_input(
        &self,
        ctx: &Context<'_>,
        input: ConsiderResidentInputInput,
    ) -> Result<ResidentInputObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = input::uuid(
            "residentInputId",
            &input.resident_input_id,
            ResidentInputId::parse,
        )?;
        let command = ResidentInputCommand::Consider(ConsiderResidentInput {
            decision: input::uuid("decisionId", &input.decision_id, DecisionId::parse)?,
        });
        run(ctx, context, id, command).await
    }
}
