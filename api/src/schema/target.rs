//! Targets (streefwaarden): the value aimed for on an indicator, in an area, by a horizon
//! year; every change on an adopted decision, with its reason, kept in the target's history.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::ids::{AreaId, DecisionId, IndicatorKey, ProgrammeId};
use domain::target::{
    Baseline, ChangeTarget, RevisionKind, SetTarget, Target, TargetCommand, TargetKey,
    TargetRevision, TargetState, TargetValue, WithdrawTarget,
};
use store::CommandContext;

use super::input::{self, slug};
use super::programme::mirror_enum;
use super::scalars::Decimal;
use super::{load, record};
use crate::auth::{require_reader, require_recorder};
use crate::ApiError;

mirror_enum!(RevisionKindValue as "TargetRevisionKind" <=> RevisionKind { Set, Changed, Withdrawn });

/// Whether a target value is fixed or relative to a comparator area.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "TargetValueKind")]
pub enum TargetValueKind {
    /// A fixed value in the indicator's unit: `value`.
    Absolute,
    /// The comparator area's value plus `margin`.
    RelativeToComparator,
}

/// The value a target aims for: `value` when absolute, `comparator` + `margin` when relative
/// (a margin of 0 relative to Dordrecht means "at the Dordrecht average").
#[derive(SimpleObject, Debug)]
#[graphql(name = "TargetValue")]
pub struct TargetValueObject {
    kind: TargetValueKind,
    value: Option<Decimal>,
    comparator: Option<String>,
    margin: Option<Decimal>,
}

impl From<&TargetValue> for TargetValueObject {
    fn from(v: &TargetValue) -> Self {
        match v {
            TargetValue::Absolute(value) => Self {
                kind: TargetValueKind::Absolute,
                value: Some(Decimal(*value)),
                comparator: None,
                margin: None,
            },
            TargetValue::RelativeToComparator { comparator, margin } => Self {
                kind: TargetValueKind::RelativeToComparator,
                value: None,
                comparator: Some(comparator.to_string()),
                margin: Some(Decimal(*margin)),
            },
        }
    }
}

/// Where the indicator stood when the target was set.
#[derive(SimpleObject, InputObject, Debug, Clone, Copy)]
#[graphql(name = "Baseline", input_name = "BaselineInput")]
pub struct BaselineObject {
    value: Decimal,
    year: i32,
}

impl From<&Baseline> for BaselineObject {
    fn from(b: &Baseline) -> Self {
        Self {
            value: Decimal(b.value),
            year: b.year,
        }
    }
}

/// One entry of a target's history: its value after the revision, and why.
#[derive(SimpleObject, Debug)]
#[graphql(name = "TargetRevision")]
pub struct TargetRevisionObject {
    kind: RevisionKindValue,
    value: TargetValueObject,
    decision_id: ID,
    reason: String,
    /// When the ledger recorded the revision.
    recorded_at: Option<DateTime<Utc>>,
    /// The log position of the revision.
    position: Option<i64>,
    /// Who recorded it; shown to auditors and admins only.
    actor: Option<String>,
    /// The role and organisation it was recorded under.
    role: Option<String>,
    organisation: Option<String>,
}

impl From<&TargetRevision> for TargetRevisionObject {
    fn from(r: &TargetRevision) -> Self {
        Self {
            kind: r.kind.into(),
            value: (&r.value).into(),
            decision_id: ID(r.decision.to_string()),
            reason: r.reason.clone(),
            recorded_at: None,
            position: None,
            actor: None,
            role: None,
            organisation: None,
        }
    }
}

/// A target value (streefwaarde) of an indicator for an area and horizon year.
#[derive(Debug)]
pub struct TargetObject(TargetState);

#[Object(name = "Target")]
impl TargetObject {
    /// The target's key, e.g. `dordt-west/ernstig-overgewicht/crabbehof/2030`.
    async fn key(&self) -> String {
        self.0.key.aggregate_id()
    }
    async fn programme_id(&self) -> String {
        self.0.key.programme_id.to_string()
    }
    async fn indicator(&self) -> String {
        self.0.key.indicator.to_string()
    }
    async fn area(&self) -> String {
        self.0.key.area.to_string()
    }
    async fn horizon_year(&self) -> i32 {
        self.0.key.horizon_year
    }
    /// The current value (or, once withdrawn, the last one).
    async fn value(&self) -> TargetValueObject {
        (&self.0.value).into()
    }
    async fn baseline(&self) -> Option<BaselineObject> {
        self.0.baseline.as_ref().map(Into::into)
    }
    /// The decision of the latest revision.
    async fn decision_id(&self) -> ID {
        ID(self.0.decision.to_string())
    }
    /// A withdrawn target is final.
    async fn withdrawn(&self) -> bool {
        self.0.withdrawn
    }
    /// Every revision, oldest first, starting with the one that set the target.
    async fn history(&self, ctx: &Context<'_>) -> Vec<TargetRevisionObject> {
        let models = super::state(ctx).projection.read().await;
        let show_actor = crate::auth::may_read_actors(ctx);
        // Each event of a target adds one revision and one version: they pair up in order.
        let positions: Vec<i64> = models
            .target_history(&self.0.key.aggregate_id())
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        self.0
            .history
            .iter()
            .enumerate()
            .map(|(i, revision)| {
                let mut object = TargetRevisionObject::from(revision);
                if let Some(&p) = positions.get(i) {
                    let stamp = models.stamp(p);
                    object.position = Some(p);
                    object.recorded_at = stamp.map(|s| s.recorded_at);
                    object.role = stamp.map(|s| s.role.to_string());
                    object.organisation =
                        stamp.and_then(|s| s.organisation.as_deref().map(str::to_owned));
                    if show_actor {
                        object.actor = stamp.map(|s| s.actor.to_string());
                    }
                }
                object
            })
            .collect()
    }
}

fn target_key(
    programme_id: &str,
    indicator: &str,
    area: &str,
    horizon_year: i32,
) -> Result<TargetKey, ApiError> {
    Ok(TargetKey {
        programme_id: slug("programmeId", programme_id, ProgrammeId::parse)?,
        indicator: slug("indicator", indicator, IndicatorKey::parse)?,
        area: slug("area", area, AreaId::parse)?,
        horizon_year,
    })
}

/// The value from the input's `value`, or its `comparator` and `margin`: exactly one of the two.
fn target_value(
    value: Option<Decimal>,
    comparator: Option<&str>,
    margin: Option<Decimal>,
) -> Result<TargetValue, ApiError> {
    match (value, comparator) {
        (Some(value), None) => {
            if margin.is_some() {
                return Err(ApiError::bad_input(
                    "margin",
                    "a margin belongs to a comparator; an absolute value has none",
                ));
            }
            Ok(TargetValue::Absolute(value.0))
        }
        (None, Some(comparator)) => Ok(TargetValue::RelativeToComparator {
            comparator: slug("comparator", comparator, AreaId::parse)?,
            margin: margin.map_or(rust_decimal::Decimal::ZERO, |m| m.0),
        }),
        (Some(_), Some(_)) => Err(ApiError::bad_input(
            "value",
            "give either an absolute value or a comparator (with a margin), not both",
        )),
        (None, None) => Err(ApiError::bad_input(
            "value",
            "give an absolute value, or a comparator area (with a margin) the target is relative to",
        )),
    }
}

fn decision(id: &ID) -> Result<DecisionId, ApiError> {
    input::uuid("decisionId", id, DecisionId::parse)
}

#[derive(Default)]
pub struct TargetQuery;

#[Object]
impl TargetQuery {
    /// The target for an indicator, area and horizon year, with its history.
    async fn target(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        indicator: String,
        area: String,
        horizon_year: i32,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<TargetObject>> {
        require_reader(ctx)?;
        let key = target_key(&programme_id, &indicator, &area, horizon_year)?;
        let target: Target = load(ctx, &key.aggregate_id(), as_of).await?;
        Ok(target.state().cloned().map(TargetObject))
    }

    /// The targets of a programme, of one indicator and/or area when given, in order of
    /// indicator, area and horizon year; withdrawn ones only when `includeWithdrawn` is true.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn targets(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        indicator: Option<String>,
        area: Option<String>,
        #[graphql(default)] include_withdrawn: bool,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, TargetObject>> {
        require_reader(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let indicator = indicator
            .as_deref()
            .map(|i| slug("indicator", i, IndicatorKey::parse))
            .transpose()?;
        let area = area
            .as_deref()
            .map(|a| slug("area", a, AreaId::parse))
            .transpose()?;
        let models = super::state(ctx).projection.read().await;
        let at = super::position_of(&models, as_of);
        let items = models
            .all_targets(at)
            .filter_map(|r| r.state.state().cloned())
            .filter(|t| t.key.programme_id == programme)
            .filter(|t| indicator.as_ref().is_none_or(|i| &t.key.indicator == i))
            .filter(|t| area.as_ref().is_none_or(|a| &t.key.area == a))
            .filter(|t| include_withdrawn || !t.withdrawn)
            .map(|t| (t.key.aggregate_id(), TargetObject(t)))
            .collect();
        Ok(super::page::page(ctx, items, after, first)?)
    }
}

#[derive(InputObject)]
pub struct SetTargetInput {
    programme_id: String,
    /// The indicator, e.g. `ernstig-overgewicht`.
    indicator: String,
    /// The area, e.g. `crabbehof`.
    area: String,
    horizon_year: i32,
    /// An absolute target value, e.g. `"18.0"`; or leave it out and give `comparator`.
    value: Option<Decimal>,
    /// The comparator area (a gemeente or land) a relative target follows, e.g. `dordrecht`.
    comparator: Option<String>,
    /// Added to the comparator's value; 0 when left out.
    margin: Option<Decimal>,
    baseline: Option<BaselineObject>,
    /// The adopted decision that sets it.
    decision_id: ID,
    reason: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ChangeTargetInput {
    programme_id: String,
    indicator: String,
    area: String,
    horizon_year: i32,
    value: Option<Decimal>,
    comparator: Option<String>,
    margin: Option<Decimal>,
    decision_id: ID,
    reason: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawTargetInput {
    programme_id: String,
    indicator: String,
    area: String,
    horizon_year: i32,
    decision_id: ID,
    reason: String,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    key: &TargetKey,
    command: TargetCommand,
) -> Result<TargetObject> {
    let name = command.name();
    let target: Target = record(ctx, &context, &key.aggregate_id(), command, name).await?;
    target
        .state()
        .cloned()
        .map(TargetObject)
        .ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct TargetMutation;

#[Object]
impl TargetMutation {
    /// Set the target value of an indicator for an area and horizon year, on an adopted
    /// decision, with a reason.
    async fn set_target(&self, ctx: &Context<'_>, input: SetTargetInput) -> Result<TargetObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let key = target_key(
            &input.programme_id,
            &input.indicator,
            &input.area,
            input.horizon_year,
        )?;
        let command = TargetCommand::Set(SetTarget {
            key: key.clone(),
            value: target_value(input.value, input.comparator.as_deref(), input.margin)?,
            baseline: input.baseline.map(|b| Baseline {
                value: b.value.0,
                year: b.year,
            }),
            decision: decision(&input.decision_id)?,
            reason: input.reason,
        });
        run(ctx, context, &key, command).await
    }

    /// Change a target's value, on an adopted decision, with a reason; the old value stays in
    /// its history.
    async fn change_target(
        &self,
        ctx: &Context<'_>,
        input: ChangeTargetInput,
    ) -> Result<TargetObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let key = target_key(
            &input.programme_id,
            &input.indicator,
            &input.area,
            input.horizon_year,
        )?;
        let command = TargetCommand::Change(ChangeTarget {
            value: target_value(input.value, input.comparator.as_deref(), input.margin)?,
            decision: decision(&input.decision_id)?,
            reason: input.reason,
        });
        run(ctx, context, &key, command).await
    }

    /// Withdraw a target for good, on an adopted decision, with a reason.
    async fn withdraw_target(
        &self,
        ctx: &Context<'_>,
        input: WithdrawTargetInput,
    ) -> Result<TargetObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let key = target_key(
            &input.programme_id,
            &input.indicator,
            &input.area,
            input.horizon_year,
        )?;
        let command = TargetCommand::Withdraw(WithdrawTarget {
            decision: decision(&input.decision_id)?,
            reason: input.reason,
        });
        run(ctx, context, &key, command).await
    }
}
