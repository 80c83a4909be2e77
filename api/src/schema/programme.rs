//! Programmes: their texts, areas, pillars, indicators, execution programmes and alliance.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::alliance::Alliance;
use domain::ids::{AreaId, ExecutionProgrammeId, IndicatorKey, PillarId, ProgrammeId};
use domain::period::YearRange;
use domain::programme::{
    AddArea, AddExecutionProgramme, AddIndicator, AddKoppelkans, AddPillar,
    AdvanceExecutionProgramme, Area, AreaKind, Direction, EstablishProgramme, ExecutionProgramme,
    Indicator, Phase, Pillar, Programme, ProgrammeCommand, ProgrammeState, SetProgrammeText,
    TextKind, Theme,
};
use store::Position;

use super::alliance::AllianceObject;
use super::input::{self, slug, slugs};
use super::page::page;
use super::{position_of, record, state};
use crate::auth::{require_reader, require_recorder, require_signed_in};
use crate::ApiError;

macro_rules! mirror_enum {
    ($gql:ident as $name:literal <=> $domain:ident { $($variant:ident),* $(,)? }) => {
        #[derive(::async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
        #[graphql(name = $name)]
        pub enum $gql { $($variant),* }

        impl From<$gql> for $domain {
            fn from(v: $gql) -> Self {
                match v { $($gql::$variant => $domain::$variant),* }
            }
        }

        impl From<$domain> for $gql {
            fn from(v: $domain) -> Self {
                match v { $($domain::$variant => $gql::$variant),* }
            }
        }
    };
}
pub(crate) use mirror_enum;

mirror_enum!(AreaKindValue as "AreaKind" <=> AreaKind { Land, Gemeente, FocusArea, Wijk, Buurt });
mirror_enum!(DirectionValue as "Direction" <=> Direction { HigherIsBetter, LowerIsBetter });
mirror_enum!(PhaseValue as "Phase" <=> Phase { DrawUp, Execute, Learn, Evaluate });
mirror_enum!(TextKindValue as "ProgrammeTextKind" <=> TextKind {
    CentralGoal, Subgoals, ActionLines, Opgaven, Uitgangspunten, Ingredients
});

/// A range of whole years, both included.
#[derive(SimpleObject, Debug, Clone, Copy)]
#[graphql(name = "YearRange")]
pub struct YearRangeObject {
    first: i32,
    last: i32,
}

impl From<YearRange> for YearRangeObject {
    fn from(r: YearRange) -> Self {
        Self {
            first: r.first(),
            last: r.last(),
        }
    }
}

/// An area: the focus area, a wijk or buurt, or a comparator (gemeente, land).
#[derive(SimpleObject, Debug)]
#[graphql(name = "Area")]
pub struct AreaObject {
    id: String,
    name: String,
    kind: AreaKindValue,
    parent: Option<String>,
    /// The CBS code, where CBS has one (GM0505, WK050512, BU05051203).
    cbs_code: Option<String>,
}

impl From<&Area> for AreaObject {
    fn from(a: &Area) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            kind: a.kind.into(),
            parent: a.parent.as_ref().map(ToString::to_string),
            cbs_code: a.cbs_code.clone(),
        }
    }
}

#[derive(SimpleObject, InputObject, Debug, Clone)]
#[graphql(name = "Theme", input_name = "ThemeInput")]
pub struct ThemeObject {
    name: String,
    #[graphql(default)]
    description: String,
}

/// A linked programme or fund of a pillar.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Koppelkans")]
pub struct KoppelkansObject {
    name: String,
    /// Who owns it, e.g. a ministry (VWS).
    owner: Option<String>,
}

/// An indicator the programme monitors.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Indicator")]
pub struct IndicatorObject {
    key: String,
    name: String,
    pillar_id: String,
    source: String,
    unit: String,
    direction: DirectionValue,
    definition: String,
}

impl From<&Indicator> for IndicatorObject {
    fn from(i: &Indicator) -> Self {
        Self {
            key: i.key.to_string(),
            name: i.name.clone(),
            pillar_id: i.pillar.to_string(),
            source: i.source.clone(),
            unit: i.unit.clone(),
            direction: i.direction.into(),
            definition: i.definition.clone(),
        }
    }
}

/// A pillar (pijler) of the programme, with its themes, koppelkansen and indicators.
#[derive(Debug)]
pub struct PillarObject {
    pillar: Pillar,
    indicators: Vec<Indicator>,
}

#[Object(name = "Pillar")]
impl PillarObject {
    async fn id(&self) -> String {
        self.pillar.id.to_string()
    }
    async fn number(&self) -> i32 {
        i32::from(self.pillar.number)
    }
    async fn name(&self) -> &str {
        &self.pillar.name
    }
    async fn ambition(&self) -> &str {
        &self.pillar.ambition
    }
    async fn themes(&self) -> Vec<ThemeObject> {
        self.pillar
            .themes
            .iter()
            .map(|t| ThemeObject {
                name: t.name.clone(),
                description: t.description.clone(),
            })
            .collect()
    }
    async fn koppelkansen(&self) -> Vec<KoppelkansObject> {
        self.pillar
            .koppelkansen
            .iter()
            .map(|k| KoppelkansObject {
                name: k.name.clone(),
                owner: k.owner.clone(),
            })
            .collect()
    }
    async fn indicators(&self) -> Vec<IndicatorObject> {
        self.indicators.iter().map(Into::into).collect()
    }
}

/// An execution programme (uitvoeringsprogramma).
#[derive(SimpleObject, Debug)]
#[graphql(name = "ExecutionProgramme")]
pub struct ExecutionProgrammeObject {
    id: String,
    name: String,
    period: YearRangeObject,
    areas: Vec<String>,
    phase: PhaseValue,
    /// The adopted decision it rests on.
    decision_id: ID,
}

impl From<&ExecutionProgramme> for ExecutionProgrammeObject {
    fn from(e: &ExecutionProgramme) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.name.clone(),
            period: e.period.into(),
            areas: e.areas.iter().map(ToString::to_string).collect(),
            phase: e.phase.into(),
            decision_id: ID(e.decision.to_string()),
        }
    }
}

/// A programme of the national programme, e.g. Nationaal Programma Dordt West 2023-2043, as
/// it stood at a log position.
#[derive(Debug)]
pub struct ProgrammeObject {
    programme: ProgrammeState,
    /// The position it was read at: its alliance is read at the same one.
    at: Position,
}

impl ProgrammeObject {
    fn text(&self, kind: TextKind) -> Vec<String> {
        self.programme.texts.get(&kind).cloned().unwrap_or_default()
    }
}

#[Object(name = "Programme")]
impl ProgrammeObject {
    async fn id(&self) -> String {
        self.programme.id.to_string()
    }
    async fn name(&self) -> &str {
        &self.programme.name
    }
    /// The municipality's CBS code, e.g. GM0505.
    async fn municipality_code(&self) -> &str {
        &self.programme.municipality_code
    }
    async fn national_programme(&self) -> &str {
        &self.programme.national_programme
    }
    async fn period(&self) -> YearRangeObject {
        self.programme.period.into()
    }
    async fn ambition(&self) -> &str {
        &self.programme.ambition
    }
    async fn central_goal(&self) -> Option<String> {
        self.text(TextKind::CentralGoal).into_iter().next()
    }
    async fn subgoals(&self) -> Vec<String> {
        self.text(TextKind::Subgoals)
    }
    async fn action_lines(&self) -> Vec<String> {
        self.text(TextKind::ActionLines)
    }
    async fn opgaven(&self) -> Vec<String> {
        self.text(TextKind::Opgaven)
    }
    async fn uitgangspunten(&self) -> Vec<String> {
        self.text(TextKind::Uitgangspunten)
    }
    /// What the programme must contain (analysis, tasks, goals, target values, ...).
    async fn ingredients(&self) -> Vec<String> {
        self.text(TextKind::Ingredients)
    }
    /// The programme's areas, of one kind when `kind` is given.
    async fn areas(&self, kind: Option<AreaKindValue>) -> Vec<AreaObject> {
        self.programme
            .areas_in_order()
            .into_iter()
            .filter(|a| kind.is_none_or(|k| AreaKind::from(k) == a.kind))
            .map(Into::into)
            .collect()
    }
    /// The pillars in their numbered order.
    async fn pillars(&self) -> Vec<PillarObject> {
        let mut pillars: Vec<&Pillar> = self.programme.pillars.values().collect();
        pillars.sort_by_key(|p| p.number);
        pillars
            .into_iter()
            .map(|p| PillarObject {
                pillar: p.clone(),
                indicators: self
                    .programme
                    .indicators_in_order()
                    .into_iter()
                    .filter(|i| i.pillar == p.id)
                    .cloned()
                    .collect(),
            })
            .collect()
    }
    async fn indicators(&self) -> Vec<IndicatorObject> {
        self.programme
            .indicators_in_order()
            .into_iter()
            .map(Into::into)
            .collect()
    }
    async fn execution_programmes(&self) -> Vec<ExecutionProgrammeObject> {
        self.programme
            .execution_programmes
            .values()
            .map(Into::into)
            .collect()
    }
    /// The alliance that carries the programme, as recorded at the same moment as the
    /// programme: its chair, adoption rule, members (organisations and their representatives)
    /// and meetings; null before it was formed. Not published: it needs a token, also on a
    /// server that reads publicly.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceObject>> {
        require_signed_in(ctx)?;
        let models = state(ctx).projection.read().await;
        Ok(models
            .alliance(self.programme.id.as_str(), self.at)
            .and_then(Alliance::state)
            .cloned()
            .map(AllianceObject))
    }
}

#[derive(Default)]
pub struct ProgrammeQuery;

#[Object]
impl ProgrammeQuery {
    /// One programme by id, e.g. `dordt-west`.
    async fn programme(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<ProgrammeObject>> {
        require_reader(ctx)?;
        let id = slug("id", &id, ProgrammeId::parse)?;
        let models = state(ctx).projection.read().await;
        let at = position_of(&models, as_of);
        Ok(models
            .programme(id.as_str(), at)
            .and_then(Programme::state)
            .map(|p| ProgrammeObject {
                programme: p.clone(),
                at,
            }))
    }

    /// Every programme in the ledger, in order of name and then id; the cursor is the id.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn programmes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, ProgrammeObject>> {
        require_reader(ctx)?;
        let (mut found, at): (Vec<ProgrammeState>, Position) = {
            let models = state(ctx).projection.read().await;
            let at = position_of(&models, as_of);
            let found = models
                .all_programmes(at)
                .filter_map(|r| r.state.state().cloned())
                .collect();
            (found, at)
        };
        found.sort_by(|a, b| (&a.name, a.id.as_str()).cmp(&(&b.name, b.id.as_str())));
        let items = found
            .into_iter()
            .map(|programme| (programme.id.to_string(), ProgrammeObject { programme, at }))
            .collect();
        Ok(page(ctx, items, after, first)?)
    }
}

#[derive(InputObject)]
pub struct EstablishProgrammeInput {
    /// A stable slug, e.g. `dordt-west`.
    programme_id: String,
    name: String,
    /// The municipality's CBS code, e.g. `GM0505`.
    municipality_code: String,
    national_programme: String,
    first_year: i32,
    last_year: i32,
    #[graphql(default)]
    ambition: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct SetProgrammeTextInput {
    programme_id: String,
    kind: TextKindValue,
    items: Vec<String>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddAreaInput {
    programme_id: String,
    area_id: String,
    name: String,
    kind: AreaKindValue,
    parent: Option<String>,
    cbs_code: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddPillarInput {
    programme_id: String,
    pillar_id: String,
    number: i32,
    name: String,
    #[graphql(default)]
    ambition: String,
    #[graphql(default)]
    themes: Vec<ThemeObject>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddKoppelkansInput {
    programme_id: String,
    pillar_id: String,
    name: String,
    owner: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddIndicatorInput {
    programme_id: String,
    key: String,
    name: String,
    pillar_id: String,
    source: String,
    unit: String,
    direction: DirectionValue,
    #[graphql(default)]
    definition: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AddExecutionProgrammeInput {
    programme_id: String,
    execution_programme_id: String,
    name: String,
    first_year: i32,
    last_year: i32,
    areas: Vec<String>,
    /// The adopted decision it rests on.
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AdvanceExecutionProgrammeInput {
    programme_id: String,
    execution_programme_id: String,
    phase: PhaseValue,
    idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct ProgrammeMutation;

async fn run(
    ctx: &Context<'_>,
    context: store::CommandContext,
    programme_id: &ProgrammeId,
    command: ProgrammeCommand,
) -> Result<ProgrammeObject> {
    let name = command.name();
    let programme: Programme = record(ctx, &context, programme_id.as_str(), command, name).await?;
    // The read models include the command now (read your writes): the alliance is read there.
    let at = state(ctx).projection.position();
    programme
        .state()
        .cloned()
        .map(|programme| ProgrammeObject { programme, at })
        .ok_or_else(|| ApiError::Internal.into())
}

fn programme_id(value: &str) -> Result<ProgrammeId, ApiError> {
    slug("programmeId", value, ProgrammeId::parse)
}

#[Object]
impl ProgrammeMutation {
    /// Establish a programme with its period and ambition.
    async fn establish_programme(
        &self,
        ctx: &Context<'_>,
        input: EstablishProgrammeInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::Establish(EstablishProgramme {
            programme_id: id.clone(),
            name: input.name,
            municipality_code: input.municipality_code,
            national_programme: input.national_programme,
            period: input::year_range("lastYear", input.first_year, input.last_year)?,
            ambition: input.ambition,
        });
        run(ctx, context, &id, command).await
    }

    /// Set one of the programme's lists of statements, replacing what it held.
    async fn set_programme_text(
        &self,
        ctx: &Context<'_>,
        input: SetProgrammeTextInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::SetText(SetProgrammeText {
            kind: input.kind.into(),
            items: input.items,
        });
        run(ctx, context, &id, command).await
    }

    /// Add an area: the focus area, a wijk or buurt, or a comparator.
    async fn add_area(&self, ctx: &Context<'_>, input: AddAreaInput) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::AddArea(AddArea {
            area_id: slug("areaId", &input.area_id, AreaId::parse)?,
            name: input.name,
            kind: input.kind.into(),
            parent: input
                .parent
                .as_deref()
                .map(|p| slug("parent", p, AreaId::parse))
                .transpose()?,
            cbs_code: input.cbs_code.map(|c| c.trim().to_uppercase()),
        });
        run(ctx, context, &id, command).await
    }

    /// Add a pillar with its ambition and themes.
    async fn add_pillar(
        &self,
        ctx: &Context<'_>,
        input: AddPillarInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let number = u8::try_from(input.number)
            .map_err(|_| ApiError::bad_input("number", "must be between 1 and 255"))?;
        let command = ProgrammeCommand::AddPillar(AddPillar {
            pillar_id: slug("pillarId", &input.pillar_id, PillarId::parse)?,
            number,
            name: input.name,
            ambition: input.ambition,
            themes: input
                .themes
                .into_iter()
                .map(|t| Theme {
                    name: t.name,
                    description: t.description,
                })
                .collect(),
        });
        run(ctx, context, &id, command).await
    }

    /// Add a linked programme or fund (koppelkans) to a pillar.
    async fn add_koppelkans(
        &self,
        ctx: &Context<'_>,
        input: AddKoppelkansInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::AddKoppelkans(AddKoppelkans {
            pillar_id: slug("pillarId", &input.pillar_id, PillarId::parse)?,
            name: input.name,
            owner: input.owner,
        });
        run(ctx, context, &id, command).await
    }

    /// Add an indicator to monitor.
    async fn add_indicator(
        &self,
        ctx: &Context<'_>,
        input: AddIndicatorInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::AddIndicator(AddIndicator {
            key: slug("key", &input.key, IndicatorKey::parse)?,
            name: input.name,
            pillar_id: slug("pillarId", &input.pillar_id, PillarId::parse)?,
            source: input.source,
            unit: input.unit,
            direction: input.direction.into(),
            definition: input.definition,
        });
        run(ctx, context, &id, command).await
    }

    /// Add an execution programme adopted by the alliance.
    async fn add_execution_programme(
        &self,
        ctx: &Context<'_>,
        input: AddExecutionProgrammeInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::AddExecutionProgramme(AddExecutionProgramme {
            execution_programme_id: slug(
                "executionProgrammeId",
                &input.execution_programme_id,
                ExecutionProgrammeId::parse,
            )?,
            name: input.name,
            period: input::year_range("lastYear", input.first_year, input.last_year)?,
            areas: slugs("areas", &input.areas, AreaId::parse)?,
            decision: input::uuid(
                "decisionId",
                &input.decision_id,
                domain::ids::DecisionId::parse,
            )?,
        });
        run(ctx, context, &id, command).await
    }

    /// Move an execution programme to a later phase of its cycle.
    async fn advance_execution_programme(
        &self,
        ctx: &Context<'_>,
        input: AdvanceExecutionProgrammeInput,
    ) -> Result<ProgrammeObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = programme_id(&input.programme_id)?;
        let command = ProgrammeCommand::AdvanceExecutionProgramme(AdvanceExecutionProgramme {
            execution_programme_id: slug(
                "executionProgrammeId",
                &input.execution_programme_id,
                ExecutionProgrammeId::parse,
            )?,
            phase: input.phase.into(),
        });
        run(ctx, context, &id, command).await
    }
}
