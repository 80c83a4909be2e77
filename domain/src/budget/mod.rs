//! A fund: money one funder (the Rijk, the gemeente, a woningcorporatie, another) makes
//! available to a programme, its allocations to a pillar, an intervention or an area per
//! year, and the commitments and expenditures made from each allocation.
//!
//! Rules:
//! - a fund is registered once, for a period inside the programme period, on an adopted
//!   decision of the programme;
//! - every amount in a command is a positive number of cents;
//! - an allocation is for one year of the fund's period and a known pillar or area of the
//!   programme (an intervention target is taken as given: interventions are other aggregates);
//! - an allocation never exceeds what its fund has left (`budget.within_fund`);
//! - commitments never exceed their allocation (`budget.committed_within_allocation`);
//! - an expenditure never exceeds its allocation (`budget.within_allocation`);
//! - commitment and expenditure dates lie inside the programme period;
//! - allocation, commitment and expenditure ids are used once within the fund;
//! - a revision changes the amount, gives a reason and cites an adopted decision; an
//!   allocation is never revised below what was committed or spent from it, nor above what the
//!   fund has left; a fund is never revised below what it has allocated.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{
    AllocateBudget, CommitBudget, FundCommand, RecordExpenditure, RegisterFund, ReviseAllocation,
    ReviseFund,
};
pub use error::FundError;
pub use events::FundEvent;

use crate::ids::{
    AllocationId, AreaId, BudgetLineId, DecisionId, FundId, InterventionId, PillarId, ProgrammeId,
};
use crate::money::Cents;
use crate::period::YearRange;
use crate::reference::{LedgerServices, ReferenceError};
use crate::text;

/// Longest name of a fund or funder.
pub const NAME_MAX: usize = 300;
/// Longest description or reason.
pub const TEXT_MAX: usize = 20_000;

/// Who provides a fund's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Funder {
    /// The national government.
    Rijk,
    Gemeente,
    Woningcorporatie,
    /// Any other funder (a province, a foundation, a company, ...).
    Other,
}

/// What an allocation is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AllocationTarget {
    Pillar(PillarId),
    Intervention(InterventionId),
    Area(AreaId),
}

/// Part of a fund allocated for one year, with what was committed and spent from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub id: AllocationId,
    pub target: AllocationTarget,
    pub year: i32,
    /// The allocated amount, as last revised.
    pub amount: Cents,
    pub committed: Cents,
    pub spent: Cents,
    /// The decision it was allocated or last revised on.
    pub decision: DecisionId,
}

impl Allocation {
    /// What is not yet committed.
    pub fn uncommitted(&self) -> Cents {
        self.amount
            .checked_sub(self.committed)
            .unwrap_or(Cents::ZERO)
    }

    /// What is not yet spent.
    pub fn unspent(&self) -> Cents {
        self.amount.checked_sub(self.spent).unwrap_or(Cents::ZERO)
    }
}

/// The state of one fund, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fund {
    state: Option<FundState>,
}

/// The recorded facts of a registered fund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundState {
    pub id: FundId,
    pub programme_id: ProgrammeId,
    pub funder: Funder,
    pub funder_name: String,
    pub name: String,
    /// The fund's amount, as last revised.
    pub amount: Cents,
    pub period: YearRange,
    /// The decision it was registered or last revised on.
    pub decision: DecisionId,
    pub programme_period: YearRange,
    pub allocations: BTreeMap<AllocationId, Allocation>,
    /// Ids of every commitment and expenditure recorded against the fund.
    pub lines: BTreeSet<BudgetLineId>,
}

/// Adds two amounts the handler has already checked; saturates rather than wraps.
fn plus(a: Cents, b: Cents) -> Cents {
    a.checked_add(b).unwrap_or(Cents::new(i64::MAX))
}

impl FundState {
    /// The sum of all allocations (saturating: never less than the true sum).
    pub fn allocated(&self) -> Cents {
        Cents::sum(self.allocations.values().map(|a| &a.amount)).unwrap_or(Cents::new(i64::MAX))
    }

    /// What the fund has left to allocate.
    pub fn left(&self) -> Cents {
        self.amount
            .checked_sub(self.allocated())
            .unwrap_or(Cents::ZERO)
    }

    /// The sum of what was committed from all allocations.
    pub fn committed(&self) -> Cents {
        self.allocations
            .values()
            .fold(Cents::ZERO, |acc, a| plus(acc, a.committed))
    }

    /// The sum of what was spent from all allocations.
    pub fn spent(&self) -> Cents {
        self.allocations
            .values()
            .fold(Cents::ZERO, |acc, a| plus(acc, a.spent))
    }

    /// An allocation of this fund, or a refusal naming it.
    pub fn allocation(&self, id: AllocationId) -> Result<&Allocation, FundError> {
        self.allocations
            .get(&id)
            .ok_or(FundError::UnknownAllocation(id))
    }

    fn within_programme_period(
        &self,
        field: &'static str,
        date: NaiveDate,
    ) -> Result<(), ReferenceError> {
        if self.programme_period.contains_date(date) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: date.to_string(),
                period: self.programme_period,
            })
        }
    }

    /// The checks a commitment and an expenditure share: a new line id, a positive amount, a
    /// description, a known allocation and a date in the programme period.
    fn check_line(
        &self,
        line_id: BudgetLineId,
        allocation_id: AllocationId,
        amount: Cents,
        description: &str,
        date: NaiveDate,
    ) -> Result<(&Allocation, String), FundError> {
        if self.lines.contains(&line_id) {
            return Err(FundError::LineExists(line_id));
        }
        positive("amount", amount)?;
        let description = text::required("description", description, TEXT_MAX)?;
        let allocation = self.allocation(allocation_id)?;
        self.within_programme_period("date", date)?;
        Ok((allocation, description))
    }
}

fn positive(field: &'static str, amount: Cents) -> Result<(), FundError> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(FundError::NotPositive { field })
    }
}

impl Fund {
    /// The fund's facts, or `None` before it was registered.
    pub fn state(&self) -> Option<&FundState> {
        self.state.as_ref()
    }

    fn registered(&self) -> Result<&FundState, FundError> {
        self.state.as_ref().ok_or(FundError::NotFound)
    }
}

impl Aggregate for Fund {
    const TYPE: &'static str = "Fund";
    type Command = FundCommand;
    type Event = FundEvent;
    type Error = FundError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            FundCommand::Register(cmd) => {
                if self.state.is_some() {
                    return Err(FundError::AlreadyRegistered);
                }
                positive("amount", cmd.amount)?;
                let funder_name = text::required("funderName", &cmd.funder_name, NAME_MAX)?;
                let name = text::required("name", &cmd.name, NAME_MAX)?;
                let programme = services.programme(&cmd.programme_id).await?;
                programme.within_period_range("period", cmd.period)?;
                services
                    .adopted_decision("decisionId", &cmd.programme_id, cmd.decision)
                    .await?;
                FundEvent::FundRegistered {
                    fund_id: cmd.fund_id,
                    programme_id: cmd.programme_id,
                    funder: cmd.funder,
                    funder_name,
                    name,
                    amount: cmd.amount,
                    period: cmd.period,
                    decision: cmd.decision,
                    programme_period: programme.period,
                }
            }
            FundCommand::Allocate(cmd) => {
                let state = self.registered()?;
                if state.allocations.contains_key(&cmd.allocation_id) {
                    return Err(FundError::AllocationExists(cmd.allocation_id));
                }
                positive("amount", cmd.amount)?;
                if !state.period.contains_year(cmd.year) {
                    return Err(FundError::OutsideFundPeriod {
                        year: cmd.year,
                        period: state.period,
                    });
                }
                match &cmd.target {
                    AllocationTarget::Pillar(pillar) => {
                        let programme = services.programme(&state.programme_id).await?;
                        programme.pillar("target", pillar)?;
                    }
                    AllocationTarget::Area(area) => {
                        let programme = services.programme(&state.programme_id).await?;
                        programme.area("target", area)?;
                    }
                    AllocationTarget::Intervention(_) => {}
                }
                let left = state.left();
                if cmd.amount > left {
                    return Err(FundError::ExceedsFund {
                        amount: cmd.amount,
                        left,
                    });
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                FundEvent::BudgetAllocated {
                    allocation_id: cmd.allocation_id,
                    target: cmd.target,
                    year: cmd.year,
                    amount: cmd.amount,
                    decision: cmd.decision,
                }
            }
            FundCommand::Commit(cmd) => {
                let state = self.registered()?;
                let (allocation, description) = state.check_line(
                    cmd.line_id,
                    cmd.allocation_id,
                    cmd.amount,
                    &cmd.description,
                    cmd.date,
                )?;
                let left = allocation.uncommitted();
                if cmd.amount > left {
                    return Err(FundError::CommitmentExceedsAllocation {
                        amount: cmd.amount,
                        left,
                    });
                }
                FundEvent::BudgetCommitted {
                    line_id: cmd.line_id,
                    allocation_id: cmd.allocation_id,
                    amount: cmd.amount,
                    description,
                    date: cmd.date,
                }
            }
            FundCommand::RecordExpenditure(cmd) => {
                let state = self.registered()?;
                let (allocation, description) = state.check_line(
                    cmd.line_id,
                    cmd.allocation_id,
                    cmd.amount,
                    &cmd.description,
                    cmd.date,
                )?;
                let left = allocation.unspent();
                if cmd.amount > left {
                    return Err(FundError::ExceedsAllocation {
                        amount: cmd.amount,
                        left,
                    });
                }
                FundEvent::ExpenditureRecorded {
                    line_id: cmd.line_id,
                    allocation_id: cmd.allocation_id,
                    amount: cmd.amount,
                    description,
                    date: cmd.date,
                }
            }
            FundCommand::ReviseAllocation(cmd) => {
                let state = self.registered()?;
                let allocation = state.allocation(cmd.allocation_id)?;
                positive("amount", cmd.amount)?;
                if cmd.amount == allocation.amount {
                    return Err(FundError::AmountUnchanged { amount: cmd.amount });
                }
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                if cmd.amount < allocation.committed.max(allocation.spent) {
                    return Err(FundError::AllocationBelowUse {
                        amount: cmd.amount,
                        committed: allocation.committed,
                        spent: allocation.spent,
                    });
                }
                // What the fund has left if this allocation were returned to it.
                let left = plus(state.left(), allocation.amount);
                if cmd.amount > left {
                    return Err(FundError::ExceedsFund {
                        amount: cmd.amount,
                        left,
                    });
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                FundEvent::AllocationRevised {
                    allocation_id: cmd.allocation_id,
                    previous_amount: allocation.amount,
                    amount: cmd.amount,
                    reason,
                    decision: cmd.decision,
                }
            }
            FundCommand::Revise(cmd) => {
                let state = self.registered()?;
                positive("amount", cmd.amount)?;
                if cmd.amount == state.amount {
                    return Err(FundError::AmountUnchanged { amount: cmd.amount });
                }
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                let allocated = state.allocated();
                if cmd.amount < allocated {
                    return Err(FundError::FundBelowAllocations {
                        amount: cmd.amount,
                        allocated,
                    });
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                FundEvent::FundRevised {
                    previous_amount: state.amount,
                    amount: cmd.amount,
                    reason,
                    decision: cmd.decision,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let FundEvent::FundRegistered {
            fund_id,
            programme_id,
            funder,
            funder_name,
            name,
            amount,
            period,
            decision,
            programme_period,
        } = event
        {
            self.state = Some(FundState {
                id: fund_id,
                programme_id,
                funder,
                funder_name,
                name,
                amount,
                period,
                decision,
                programme_period,
                allocations: BTreeMap::new(),
                lines: BTreeSet::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            FundEvent::FundRegistered { .. } => {}
            FundEvent::BudgetAllocated {
                allocation_id,
                target,
                year,
                amount,
                decision,
            } => {
                state.allocations.insert(
                    allocation_id,
                    Allocation {
                        id: allocation_id,
                        target,
                        year,
                        amount,
                        committed: Cents::ZERO,
                        spent: Cents::ZERO,
                        decision,
                    },
                );
            }
            FundEvent::BudgetCommitted {
                line_id,
                allocation_id,
                amount,
                ..
            } => {
                state.lines.insert(line_id);
                if let Some(a) = state.allocations.get_mut(&allocation_id) {
                    a.committed = plus(a.committed, amount);
                }
            }
            FundEvent::ExpenditureRecorded {
                line_id,
                allocation_id,
                amount,
                ..
            } => {
                state.lines.insert(line_id);
                if let Some(a) = state.allocations.get_mut(&allocation_id) {
                    a.spent = plus(a.spent, amount);
                }
            }
            FundEvent::AllocationRevised {
                allocation_id,
                amount,
                decision,
                ..
            } => {
                if let Some(a) = state.allocations.get_mut(&allocation_id) {
                    a.amount = amount;
                    a.decision = decision;
                }
            }
            FundEvent::FundRevised {
                amount, decision, ..
            } => {
                state.amount = amount;
                state.decision = decision;
            }
        }
    }
}
