use crate::error::{ErrorKind, RuleViolation};
use crate::ids::{AllocationId, BudgetLineId};
use crate::money::Cents;
use crate::period::YearRange;
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a fund refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundError {
    #[error("no fund with this id has been registered")]
    NotFound,
    #[error("a fund with this id has already been registered")]
    AlreadyRegistered,
    #[error("{field}: must be a positive amount of euros")]
    NotPositive { field: &'static str },
    #[error("allocationId: the fund already has an allocation {0}")]
    AllocationExists(AllocationId),
    #[error("allocationId: the fund has no allocation {0}")]
    UnknownAllocation(AllocationId),
    #[error("lineId: the fund already has a commitment or expenditure {0}")]
    LineExists(BudgetLineId),
    #[error("year: {year} lies outside the fund's period {period}")]
    OutsideFundPeriod { year: i32, period: YearRange },
    #[error("amount: an allocation never exceeds what its fund has left; {left} is left, so {amount} cannot be allocated")]
    ExceedsFund { amount: Cents, left: Cents },
    #[error("amount: commitments never exceed their allocation; {left} of the allocation is uncommitted, so {amount} cannot be committed")]
    CommitmentExceedsAllocation { amount: Cents, left: Cents },
    #[error("amount: an expenditure never exceeds its allocation; {left} of the allocation is unspent, so {amount} cannot be spent")]
    ExceedsAllocation { amount: Cents, left: Cents },
    #[error("amount: {committed} of the allocation is committed and {spent} spent, so it cannot be revised to {amount}")]
    AllocationBelowUse {
        amount: Cents,
        committed: Cents,
        spent: Cents,
    },
    #[error("amount: {allocated} of the fund is allocated, so it cannot be revised to {amount}")]
    FundBelowAllocations { amount: Cents, allocated: Cents },
    #[error("amount: the amount is already {amount}; a revision changes it")]
    AmountUnchanged { amount: Cents },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for FundError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "fund.exists",
            Self::AlreadyRegistered => "fund.unique",
            Self::NotPositive { .. } => "budget.positive_amount",
            Self::AllocationExists(_) => "allocation.unique",
            Self::UnknownAllocation(_) => "budget.known_allocation",
            Self::LineExists(_) => "budget_line.unique",
            Self::OutsideFundPeriod { .. } => "budget.fund_period",
            Self::ExceedsFund { .. } => "budget.within_fund",
            Self::CommitmentExceedsAllocation { .. } => "budget.committed_within_allocation",
            Self::ExceedsAllocation { .. } => "budget.within_allocation",
            Self::AllocationBelowUse { .. } => "budget.allocation_covers_use",
            Self::FundBelowAllocations { .. } => "budget.fund_covers_allocations",
            Self::AmountUnchanged { .. } => "budget.revision_changes",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::NotPositive { field } => ErrorKind::InvalidInput { field },
            Self::UnknownAllocation(_) => ErrorKind::InvalidInput {
                field: "allocationId",
            },
            Self::OutsideFundPeriod { .. } => ErrorKind::InvalidInput { field: "year" },
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyRegistered
            | Self::AllocationExists(_)
            | Self::LineExists(_)
            | Self::ExceedsFund { .. }
            | Self::CommitmentExceedsAllocation { .. }
            | Self::ExceedsAllocation { .. }
            | Self::AllocationBelowUse { .. }
            | Self::FundBelowAllocations { .. }
            | Self::AmountUnchanged { .. } => ErrorKind::RuleViolated,
        }
    }
}
