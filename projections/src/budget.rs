//! Budget figures per programme: allocated, committed, spent and left, by fund, funder,
//! pillar, area and year.

use std::collections::BTreeMap;

use domain::budget::{AllocationTarget, Funder};
use domain::money::Cents;
use store::Position;

use crate::LedgerState;

/// Money allocated, committed to contracts, spent, and left (allocated but not yet spent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub allocated: Cents,
    pub committed: Cents,
    pub spent: Cents,
}

impl Totals {
    /// Allocated but not yet spent.
    pub fn left(&self) -> Cents {
        self.allocated
            .checked_sub(self.spent)
            .unwrap_or(Cents::ZERO)
    }

    fn add(&mut self, allocated: Cents, committed: Cents, spent: Cents) {
        let plus = |a: Cents, b: Cents| a.checked_add(b).unwrap_or(Cents::new(i64::MAX));
        self.allocated = plus(self.allocated, allocated);
        self.committed = plus(self.committed, committed);
        self.spent = plus(self.spent, spent);
    }
}

/// One fund's line in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundLine {
    pub fund_id: String,
    pub name: String,
    pub funder: Funder,
    pub funder_name: String,
    /// What the fund holds in all.
    pub amount: Cents,
    pub totals: Totals,
}

/// The budget of one programme at one position, optionally for one year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetSummary {
    pub totals: Totals,
    pub by_fund: Vec<FundLine>,
    pub by_funder: BTreeMap<Funder, Totals>,
    pub by_pillar: BTreeMap<String, Totals>,
    pub by_area: BTreeMap<String, Totals>,
    /// Allocations for an intervention, by intervention id.
    pub by_intervention: BTreeMap<String, Totals>,
    pub by_year: BTreeMap<i32, Totals>,
}

/// Sums every allocation of the programme's funds as they stood at `at`; only allocations for
/// `year` when given.
pub fn budget_summary(
    state: &LedgerState,
    programme: &str,
    year: Option<i32>,
    at: Position,
) -> BudgetSummary {
    let mut summary = BudgetSummary::default();
    for record in state.all_funds(at) {
        let Some(fund) = record.state.state() else {
            continue;
        };
        if fund.programme_id.as_str() != programme {
            continue;
        }
        let mut line = FundLine {
            fund_id: record.aggregate_id.to_owned(),
            name: fund.name.clone(),
            funder: fund.funder,
            funder_name: fund.funder_name.clone(),
            amount: fund.amount,
            totals: Totals::default(),
        };
        for a in fund.allocations.values() {
            if year.is_some_and(|y| y != a.year) {
                continue;
            }
            let (allocated, committed, spent) = (a.amount, a.committed, a.spent);
            line.totals.add(allocated, committed, spent);
            summary.totals.add(allocated, committed, spent);
            summary
                .by_funder
                .entry(fund.funder)
                .or_default()
                .add(allocated, committed, spent);
            summary
                .by_year
                .entry(a.year)
                .or_default()
                .add(allocated, committed, spent);
            let by_target = match &a.target {
                AllocationTarget::Pillar(p) => summary.by_pillar.entry(p.to_string()),
                AllocationTarget::Area(area) => summary.by_area.entry(area.to_string()),
                AllocationTarget::Intervention(i) => summary.by_intervention.entry(i.to_string()),
            };
            by_target.or_default().add(allocated, committed, spent);
        }
        summary.by_fund.push(line);
    }
    summary
}
