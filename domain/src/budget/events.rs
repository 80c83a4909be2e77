use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{AllocationTarget, Funder};
use crate::ids::{AllocationId, BudgetLineId, DecisionId, FundId, ProgrammeId};
use crate::money::Cents;
use crate::period::YearRange;

/// What happened to a fund. Stored data: change only by adding optional fields.
///
/// Only `FundRegistered` names the programme and funder; every later event belongs to the
/// fund its aggregate id names, so a projection folding one fund's events has all it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FundEvent {
    FundRegistered {
        fund_id: FundId,
        programme_id: ProgrammeId,
        funder: Funder,
        funder_name: String,
        name: String,
        amount: Cents,
        period: YearRange,
        decision: DecisionId,
        /// The programme period at registration; commitment and expenditure dates lie in it.
        programme_period: YearRange,
    },
    BudgetAllocated {
        allocation_id: AllocationId,
        target: AllocationTarget,
        year: i32,
        amount: Cents,
        decision: DecisionId,
    },
    BudgetCommitted {
        line_id: BudgetLineId,
        allocation_id: AllocationId,
        amount: Cents,
        description: String,
        date: NaiveDate,
    },
    ExpenditureRecorded {
        line_id: BudgetLineId,
        allocation_id: AllocationId,
        amount: Cents,
        description: String,
        date: NaiveDate,
    },
    AllocationRevised {
        allocation_id: AllocationId,
        previous_amount: Cents,
        amount: Cents,
        reason: String,
        decision: DecisionId,
    },
    FundRevised {
        previous_amount: Cents,
        amount: Cents,
        reason: String,
        decision: DecisionId,
    },
}

impl DomainEvent for FundEvent {
    fn event_type(&self) -> String {
        match self {
            Self::FundRegistered { .. } => "FundRegistered",
            Self::BudgetAllocated { .. } => "BudgetAllocated",
            Self::BudgetCommitted { .. } => "BudgetCommitted",
            Self::ExpenditureRecorded { .. } => "ExpenditureRecorded",
            Self::AllocationRevised { .. } => "AllocationRevised",
            Self::FundRevised { .. } => "FundRevised",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
