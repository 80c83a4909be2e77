//! Funds: money a funder makes available to a programme, its allocations per year, and what
//! was committed and spent from each.

use async_graphql::{Context, Enum, InputObject, Object, OneofObject, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::budget::{
    AllocateBudget, Allocation, AllocationTarget, CommitBudget, Fund, FundCommand, FundState,
    Funder, RecordExpenditure, RegisterFund, ReviseAllocation, ReviseFund,
};
use domain::ids::{
    AllocationId, AreaId, BudgetLineId, DecisionId, FundId, InterventionId, PillarId, ProgrammeId,
};
use projections::budget::{budget_summary, BudgetSummary, Totals};
use store::CommandContext;

use super::input::{self, slug};
use super::programme::{mirror_enum, YearRangeObject};
use super::scalars::{Date, Money};
use super::{load, record};
use crate::auth::{require_reader, require_recorder, require_signed_in};
use crate::ApiError;

mirror_enum!(FunderValue as "Funder" <=> Funder { Rijk, Gemeente, Woningcorporatie, Other });

/// What an allocation is for.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "AllocationTargetKind")]
pub enum AllocationTargetKind {
    Pillar,
    Intervention,
    Area,
}

/// Part of a fund allocated for one year, with what was committed and spent from it.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Allocation")]
pub struct AllocationObject {
    id: ID,
    /// Whether it is for a pillar, an intervention or an area; the matching id field is set.
    target_kind: AllocationTargetKind,
    pillar_id: Option<String>,
    intervention_id: Option<ID>,
    area_id: Option<String>,
    year: i32,
    /// The allocated amount, as last revised.
    amount: Money,
    committed: Money,
    spent: Money,
    /// What is not yet committed.
    uncommitted: Money,
    /// What is not yet spent: the most an expenditure can still be.
    left: Money,
    /// The decision it was allocated or last revised on.
    decision_id: ID,
}

impl From<&Allocation> for AllocationObject {
    fn from(a: &Allocation) -> Self {
        let (target_kind, pillar_id, intervention_id, area_id) = match &a.target {
            AllocationTarget::Pillar(p) => (
                AllocationTargetKind::Pillar,
                Some(p.to_string()),
                None,
                None,
            ),
            AllocationTarget::Intervention(i) => (
                AllocationTargetKind::Intervention,
                None,
                Some(ID(i.to_string())),
                None,
            ),
            AllocationTarget::Area(area) => (
                AllocationTargetKind::Area,
                None,
                None,
                Some(area.to_string()),
            ),
        };
        Self {
            id: ID(a.id.to_string()),
            target_kind,
            pillar_id,
            intervention_id,
            area_id,
            year: a.year,
            amount: Money(a.amount),
            committed: Money(a.committed),
            spent: Money(a.spent),
            uncommitted: Money(a.uncommitted()),
            left: Money(a.unspent()),
            decision_id: ID(a.decision.to_string()),
        }
    }
}

/// A fund of a programme and where its money went.
#[derive(Debug)]
pub struct FundObject(FundState);

#[Object(name = "Fund")]
impl FundObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn programme_id(&self) -> String {
        self.0.programme_id.to_string()
    }
    async fn funder(&self) -> FunderValue {
        self.0.funder.into()
    }
    /// Who the funder is, e.g. `Ministerie van BZK` or `Gemeente Dordrecht`.
    async fn funder_name(&self) -> &str {
        &self.0.funder_name
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The fund's amount, as last revised.
    async fn amount(&self) -> Money {
        Money(self.0.amount)
    }
    /// The sum of all allocations.
    async fn allocated(&self) -> Money {
        Money(self.0.allocated())
    }
    /// The sum of what was committed from all allocations.
    async fn committed(&self) -> Money {
        Money(self.0.committed())
    }
    /// The sum of what was spent from all allocations.
    async fn spent(&self) -> Money {
        Money(self.0.spent())
    }
    /// What the fund has left to allocate.
    async fn left(&self) -> Money {
        Money(self.0.left())
    }
    /// The years the money is for.
    async fn period(&self) -> YearRangeObject {
        self.0.period.into()
    }
    /// The decision it was registered or last revised on.
    async fn decision_id(&self) -> ID {
        ID(self.0.decision.to_string())
    }
    /// The allocations by year.
    async fn allocations(&self) -> Vec<AllocationObject> {
        let mut allocations: Vec<&Allocation> = self.0.allocations.values().collect();
        allocations.sort_by_key(|a| (a.year, a.id));
        allocations.into_iter().map(Into::into).collect()
    }
}

#[derive(Default)]
pub struct FundQuery;

#[Object]
impl FundQuery {
    /// One fund by id, as it stands now.
    async fn fund(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<FundObject>> {
        require_signed_in(ctx)?;
        let id = input::uuid("id", &id, FundId::parse)?;
        let fund: Fund = load(ctx, &id.to_string(), as_of).await?;
        Ok(fund.state().cloned().map(FundObject))
    }

    /// A programme's budget: allocated, committed, spent and left, in all and by fund, funder,
    /// pillar, area, intervention and year; only the allocations for `year` when given.
    async fn budget(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        year: Option<i32>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<BudgetObject> {
        require_reader(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let models = super::state(ctx).projection.read().await;
        let at = super::position_of(&models, as_of);
        let summary = budget_summary(&models, programme.as_str(), year, at);
        Ok(BudgetObject {
            programme_id: programme.to_string(),
            year,
            summary,
        })
    }
}

/// Money allocated, committed, spent, and left (allocated but not yet spent).
#[derive(SimpleObject, Debug)]
#[graphql(name = "BudgetLine")]
pub struct BudgetLineObject {
    /// What the line is for: a fund id, funder, pillar id, area id, intervention id or year.
    key: String,
    allocated: Money,
    committed: Money,
    spent: Money,
    left: Money,
}

fn line(key: String, t: &Totals) -> BudgetLineObject {
    BudgetLineObject {
        key,
        allocated: Money(t.allocated),
        committed: Money(t.committed),
        spent: Money(t.spent),
        left: Money(t.left()),
    }
}

/// One fund's part of a programme's budget.
#[derive(SimpleObject, Debug)]
#[graphql(name = "FundBudgetLine")]
pub struct FundBudgetLineObject {
    fund_id: ID,
    name: String,
    funder: FunderValue,
    funder_name: String,
    /// What the fund holds in all.
    amount: Money,
    allocated: Money,
    committed: Money,
    spent: Money,
    left: Money,
}

/// A programme's budget at one moment.
#[derive(Debug)]
pub struct BudgetObject {
    programme_id: String,
    year: Option<i32>,
    summary: BudgetSummary,
}

#[Object(name = "Budget")]
impl BudgetObject {
    async fn programme_id(&self) -> &str {
        &self.programme_id
    }
    /// The year the figures are for; all years when null.
    async fn year(&self) -> Option<i32> {
        self.year
    }
    async fn allocated(&self) -> Money {
        Money(self.summary.totals.allocated)
    }
    async fn committed(&self) -> Money {
        Money(self.summary.totals.committed)
    }
    async fn spent(&self) -> Money {
        Money(self.summary.totals.spent)
    }
    /// Allocated but not yet spent.
    async fn left(&self) -> Money {
        Money(self.summary.totals.left())
    }
    async fn by_fund(&self) -> Vec<FundBudgetLineObject> {
        self.summary
            .by_fund
            .iter()
            .map(|f| FundBudgetLineObject {
                fund_id: ID(f.fund_id.clone()),
                name: f.name.clone(),
                funder: f.funder.into(),
                funder_name: f.funder_name.clone(),
                amount: Money(f.amount),
                allocated: Money(f.totals.allocated),
                committed: Money(f.totals.committed),
                spent: Money(f.totals.spent),
                left: Money(f.totals.left()),
            })
            .collect()
    }
    /// By funder; the key is RIJK, GEMEENTE, WONINGCORPORATIE or OTHER.
    async fn by_funder(&self) -> Vec<BudgetLineObject> {
        self.summary
            .by_funder
            .iter()
            .map(|(f, t)| {
                let key = match f {
                    Funder::Rijk => "RIJK",
                    Funder::Gemeente => "GEMEENTE",
                    Funder::Woningcorporatie => "WONINGCORPORATIE",
                    Funder::Other => "OTHER",
                };
                line(key.to_owned(), t)
            })
            .collect()
    }
    /// By pillar id (allocations made to a pillar).
    async fn by_pillar(&self) -> Vec<BudgetLineObject> {
        self.summary
            .by_pillar
            .iter()
            .map(|(k, t)| line(k.clone(), t))
            .collect()
    }
    /// By area id (allocations made to an area).
    async fn by_area(&self) -> Vec<BudgetLineObject> {
        self.summary
            .by_area
            .iter()
            .map(|(k, t)| line(k.clone(), t))
            .collect()
    }
    /// By intervention id (allocations made to an intervention).
    async fn by_intervention(&self) -> Vec<BudgetLineObject> {
        self.summary
            .by_intervention
            .iter()
            .map(|(k, t)| line(k.clone(), t))
            .collect()
    }
    async fn by_year(&self) -> Vec<BudgetLineObject> {
        self.summary
            .by_year
            .iter()
            .map(|(y, t)| line(y.to_string(), t))
            .collect()
    }
}

/// What an allocation is for: exactly one of a pillar, an intervention or an area.
#[derive(OneofObject)]
#[graphql(name = "AllocationTargetInput")]
pub enum AllocationTargetInput {
    /// A pillar of the programme, e.g. `leren-en-ontwikkelen`.
    Pillar(String),
    /// An intervention (its id).
    Intervention(ID),
    /// An area of the programme, e.g. `crabbehof`.
    Area(String),
}

impl AllocationTargetInput {
    fn into_domain(self) -> Result<AllocationTarget, ApiError> {
        Ok(match self {
            Self::Pillar(p) => AllocationTarget::Pillar(slug("target", &p, PillarId::parse)?),
            Self::Intervention(i) => {
                AllocationTarget::Intervention(input::uuid("target", &i, InterventionId::parse)?)
            }
            Self::Area(a) => AllocationTarget::Area(slug("target", &a, AreaId::parse)?),
        })
    }
}

#[derive(InputObject)]
pub struct RegisterFundInput {
    /// Choose the fund's id (a UUID); the ledger makes one when left out.
    fund_id: Option<ID>,
    programme_id: String,
    funder: FunderValue,
    /// Who the funder is, e.g. `Ministerie van BZK`.
    funder_name: String,
    /// The fund's name, e.g. `Volkshuisvestingsfonds`.
    name: String,
    /// Euros as a decimal string, e.g. `"27500000.00"`.
    amount: Money,
    first_year: i32,
    last_year: i32,
    /// The adopted decision it rests on.
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AllocateBudgetInput {
    fund_id: ID,
    /// Choose the allocation's id (a UUID); the ledger makes one when left out.
    allocation_id: Option<ID>,
    target: AllocationTargetInput,
    /// A year of the fund's period.
    year: i32,
    amount: Money,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct CommitBudgetInput {
    fund_id: ID,
    allocation_id: ID,
    /// Choose the commitment's id (a UUID); the ledger makes one when left out.
    line_id: Option<ID>,
    amount: Money,
    description: String,
    date: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct RecordExpenditureInput {
    fund_id: ID,
    allocation_id: ID,
    /// Choose the expenditure's id (a UUID); the ledger makes one when left out.
    line_id: Option<ID>,
    amount: Money,
    description: String,
    date: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ReviseAllocationInput {
    fund_id: ID,
    allocation_id: ID,
    /// The new amount.
    amount: Money,
    reason: String,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ReviseFundInput {
    fund_id: ID,
    /// The new amount.
    amount: Money,
    reason: String,
    decision_id: ID,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    fund_id: FundId,
    command: FundCommand,
) -> Result<FundObject> {
    let name = command.name();
    let fund: Fund = record(ctx, &context, &fund_id.to_string(), command, name).await?;
    fund.state()
        .cloned()
        .map(FundObject)
        .ok_or_else(|| ApiError::Internal.into())
}

fn fund_id(id: &ID) -> Result<FundId, ApiError> {
    input::uuid("fundId", id, FundId::parse)
}

fn allocation_id(id: &ID) -> Result<AllocationId, ApiError> {
    input::uuid("allocationId", id, AllocationId::parse)
}

fn decision(id: &ID) -> Result<DecisionId, ApiError> {
    input::uuid("decisionId", id, DecisionId::parse)
}

#[derive(Default)]
pub struct FundMutation;

#[Object]
impl FundMutation {
    /// Register money one funder makes available to a programme, on an adopted decision.
    async fn register_fund(
        &self,
        ctx: &Context<'_>,
        input: RegisterFundInput,
    ) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = input::new_or_given("fundId", input.fund_id.as_ref(), FundId::parse)?;
        let command = FundCommand::Register(RegisterFund {
            fund_id: id,
            programme_id: slug("programmeId", &input.programme_id, ProgrammeId::parse)?,
            funder: input.funder.into(),
            funder_name: input.funder_name,
            name: input.name,
            amount: input.amount.0,
            period: input::year_range("lastYear", input.first_year, input.last_year)?,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, id, command).await
    }

    /// Allocate part of a fund to a pillar, an intervention or an area for one year, on an
    /// adopted decision.
    async fn allocate_budget(
        &self,
        ctx: &Context<'_>,
        input: AllocateBudgetInput,
    ) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = fund_id(&input.fund_id)?;
        let command = FundCommand::Allocate(AllocateBudget {
            allocation_id: input::new_or_given(
                "allocationId",
                input.allocation_id.as_ref(),
                AllocationId::parse,
            )?,
            target: input.target.into_domain()?,
            year: input.year,
            amount: input.amount.0,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, id, command).await
    }

    /// Commit (contract, reserve) part of an allocation.
    async fn commit_budget(
        &self,
        ctx: &Context<'_>,
        input: CommitBudgetInput,
    ) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = fund_id(&input.fund_id)?;
        let command = FundCommand::Commit(CommitBudget {
            line_id: input::new_or_given("lineId", input.line_id.as_ref(), BudgetLineId::parse)?,
            allocation_id: allocation_id(&input.allocation_id)?,
            amount: input.amount.0,
            description: input.description,
            date: input.date.0,
        });
        run(ctx, context, id, command).await
    }

    /// Record money spent from an allocation; never more than the allocation has left.
    async fn record_expenditure(
        &self,
        ctx: &Context<'_>,
        input: RecordExpenditureInput,
    ) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = fund_id(&input.fund_id)?;
        let command = FundCommand::RecordExpenditure(RecordExpenditure {
            line_id: input::new_or_given("lineId", input.line_id.as_ref(), BudgetLineId::parse)?,
            allocation_id: allocation_id(&input.allocation_id)?,
            amount: input.amount.0,
            description: input.description,
            date: input.date.0,
        });
        run(ctx, context, id, command).await
    }

    /// Change the amount of an allocation, with a reason, on an adopted decision.
    async fn revise_allocation(
        &self,
        ctx: &Context<'_>,
        input: ReviseAllocationInput,
    ) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = fund_id(&input.fund_id)?;
        let command = FundCommand::ReviseAllocation(ReviseAllocation {
            allocation_id: allocation_id(&input.allocation_id)?,
            amount: input.amount.0,
            reason: input.reason,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, id, command).await
    }

    /// Change the amount of a fund, with a reason, on an adopted decision.
    async fn revise_fund(&self, ctx: &Context<'_>, input: ReviseFundInput) -> Result<FundObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = fund_id(&input.fund_id)?;
        let command = FundCommand::Revise(ReviseFund {
            amount: input.amount.0,
            reason: input.reason,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, id, command).await
    }
}
