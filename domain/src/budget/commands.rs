use chrono::NaiveDate;

use super::{AllocationTarget, Funder};
use crate::ids::{AllocationId, BudgetLineId, DecisionId, FundId, ProgrammeId};
use crate::money::Cents;
use crate::period::YearRange;

/// Everything that can be asked of a fund.
#[derive(Debug, Clone, PartialEq)]
pub enum FundCommand {
    Register(RegisterFund),
    Allocate(AllocateBudget),
    Commit(CommitBudget),
    RecordExpenditure(RecordExpenditure),
    ReviseAllocation(ReviseAllocation),
    Revise(ReviseFund),
}

impl FundCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Register(_) => "RegisterFund",
            Self::Allocate(_) => "AllocateBudget",
            Self::Commit(_) => "CommitBudget",
            Self::RecordExpenditure(_) => "RecordExpenditure",
            Self::ReviseAllocation(_) => "ReviseAllocation",
            Self::Revise(_) => "ReviseFund",
        }
    }
}

/// Register money one funder makes available to a programme, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterFund {
    pub fund_id: FundId,
    pub programme_id: ProgrammeId,
    pub funder: Funder,
    /// Who the funder is, e.g. `Ministerie van BZK` or `Gemeente Dordrecht`.
    pub funder_name: String,
    /// The fund's name, e.g. `Volkshuisvestingsfonds`.
    pub name: String,
    pub amount: Cents,
    /// The years the money is for; inside the programme period.
    pub period: YearRange,
    pub decision: DecisionId,
}

/// Allocate part of the fund to a pillar, an intervention or an area for one year.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocateBudget {
    pub allocation_id: AllocationId,
    pub target: AllocationTarget,
    pub year: i32,
    pub amount: Cents,
    pub decision: DecisionId,
}

/// Commit (contract, reserve) part of an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitBudget {
    pub line_id: BudgetLineId,
    pub allocation_id: AllocationId,
    pub amount: Cents,
    pub description: String,
    pub date: NaiveDate,
}

/// Record money spent from an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordExpenditure {
    pub line_id: BudgetLineId,
    pub allocation_id: AllocationId,
    pub amount: Cents,
    pub description: String,
    pub date: NaiveDate,
}

/// Change the amount of an allocation, with a reason, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviseAllocation {
    pub allocation_id: AllocationId,
    pub amount: Cents,
    pub reason: String,
    pub decision: DecisionId,
}

/// Change the amount of the fund, with a reason, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviseFund {
    pub amount: Cents,
    pub reason: String,
    pub decision: DecisionId,
}
