//! Budget lines from a file: commitments (verplichtingen) and expenditures (uitgaven) booked
//! on the allocations of a fund, as a financial administration exports them. The column
//! layout, the checks of every row against the fund as recorded, and the plan of commands.
//!
//! | column | also read as | required | what it holds |
//! |---|---|---|---|
//! | `programme` | `programma` | unless `--programme` | the programme id, e.g. `dordt-west` |
//! | `fund` | `fonds`, `fund_id` | unless `--fund` | the fund's id or name |
//! | `allocation` | `toekenning`, `allocation_id` | `allocation`, or a target and `year` | the allocation's id |
//! | `pillar` | `pijler` | | the allocation's pillar, by id or name |
//! | `area` | `gebied`, `wijk`, `buurt`, … | | the allocation's area, by id, name or CBS code |
//! | `intervention` | `interventie`, `intervention_id` | | the allocation's intervention, by id |
//! | `year` | `jaar`, `begrotingsjaar`, `boekjaar` | with a target | the allocation's year |
//! | `kind` | `soort`, `type` | yes | `verplichting` (commitment) or `uitgave` (expenditure) |
//! | `amount` | `bedrag` | yes | euros: `1.234,56`, `1234,56` or `1234.56` |
//! | `description` | `omschrijving` | yes | what the money is for |
//! | `date` | `datum`, `boekdatum`, `factuurdatum` | yes | `2024-03-01` or `01-03-2024` |
//! | `reference` | `kenmerk`, `factuurnummer`, `referentie` | no | the line's own number in the administration |
//!
//! Each row is one line of the ledger, whose id ([`line_id`]) is derived from the fund, the
//! kind and the reference (or, without one, the row's content), so that a file imported again
//! finds its lines recorded. A recorded line is final: the ledger has no command that changes
//! one, so a row whose line is recorded with another amount or allocation is refused
//! (`budget_line.final`). `docs/import.md` is the user's guide.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::fmt;

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::budget::{
    AllocationTarget, CommitBudget, Fund, FundCommand, FundError, FundEvent, FundState,
    RecordExpenditure, TEXT_MAX,
};
use domain::ids::{AllocationId, BudgetLineId, FundId, InterventionId, ProgrammeId};
use domain::money::Cents;
use domain::RuleViolation;
use uuid::Uuid;

use crate::check::{ProgrammeIndex, Reference, RowChecker};
use crate::layout::{self, check_rows, named, require_rows, Layout, PlanOf, Step};
use crate::problem::Problem;
use crate::table::{ColumnSpec, Columns, Table};

const PROGRAMME: usize = 0;
const FUND: usize = 1;
const ALLOCATION: usize = 2;
const PILLAR: usize = 3;
const AREA: usize = 4;
const INTERVENTION: usize = 5;
const YEAR: usize = 6;
const KIND: usize = 7;
const AMOUNT: usize = 8;
const DESCRIPTION: usize = 9;
const DATE: usize = 10;
const REFERENCE: usize = 11;

/// Longest line reference (kenmerk, factuurnummer).
pub const REFERENCE_MAX: usize = 300;

fn specs(options: &Options) -> [ColumnSpec; 12] {
    [
        ColumnSpec {
            name: "programme",
            aliases: &["programma", "programme_id"],
            required: options.programme.is_none(),
        },
        ColumnSpec {
            name: "fund",
            aliases: &["fonds", "fund_id", "fonds_id"],
            required: options.fund.is_none(),
        },
        ColumnSpec {
            name: "allocation",
            aliases: &["toekenning", "allocation_id", "toekenning_id"],
            required: false,
        },
        ColumnSpec {
            name: "pillar",
            aliases: &["pijler", "pillar_id"],
            required: false,
        },
        ColumnSpec {
            name: "area",
            aliases: &["gebied", "gebiedscode", "area_code", "wijk", "buurt"],
            required: false,
        },
        ColumnSpec {
            name: "intervention",
            aliases: &["interventie", "intervention_id", "interventie_id"],
            required: false,
        },
        ColumnSpec {
            name: "year",
            aliases: &["jaar", "begrotingsjaar", "boekjaar"],
            required: false,
        },
        ColumnSpec {
            name: "kind",
            aliases: &["soort", "type"],
            required: true,
        },
        ColumnSpec {
            name: "amount",
            aliases: &["bedrag", "amount_eur", "bedrag_eur"],
            required: true,
        },
        ColumnSpec {
            name: "description",
            aliases: &["omschrijving"],
            required: true,
        },
        ColumnSpec {
            name: "date",
            aliases: &["datum", "boekdatum", "factuurdatum"],
            required: true,
        },
        ColumnSpec {
            name: "reference",
            aliases: &["kenmerk", "factuurnummer", "referentie", "line_reference"],
            required: false,
        },
    ]
}

/// What the command line adds to every row.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The programme of rows without a `programme` cell; a row naming another is refused.
    pub programme: Option<ProgrammeId>,
    /// The fund (its id or name) of rows without a `fund` cell.
    pub fund: Option<String>,
}

/// Whether a line commits money or spends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// A commitment (verplichting): money promised by contract, order or grant decision.
    Commitment,
    /// An expenditure (uitgave): money paid.
    Expenditure,
}

impl LineKind {
    /// The kind a cell names: `verplichting` or `commitment`, `uitgave` or `expenditure`.
    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_lowercase().as_str() {
            "verplichting" | "commitment" => Some(Self::Commitment),
            "uitgave" | "expenditure" => Some(Self::Expenditure),
            _ => None,
        }
    }
}

impl fmt::Display for LineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Commitment => "commitment",
            Self::Expenditure => "expenditure",
        })
    }
}

/// The id of a budget line: a name-based uuid (version 5, in the URL namespace) of
/// `alliance-ledger:budget-line:<fund>:<kind>:<identity>`, where the identity is
/// `reference:<the reference as written, trimmed>` or, for a row without one,
/// `content:<allocation>:<amount in cents>:<date>:<description>`. The same reference of the
/// same kind on the same fund is always the same line, in every import and every ledger.
pub fn line_id(fund: FundId, kind: LineKind, identity: &LineIdentity<'_>) -> BudgetLineId {
    let identity = match identity {
        LineIdentity::Reference(reference) => format!("reference:{}", reference.trim()),
        LineIdentity::Content {
            allocation,
            amount,
            date,
            description,
        } => format!(
            "content:{allocation}:{}:{date}:{description}",
            amount.cents()
        ),
    };
    BudgetLineId::from_uuid(Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("alliance-ledger:budget-line:{fund}:{kind}:{identity}").as_bytes(),
    ))
}

/// What tells a line apart from the other lines of its fund and kind.
#[derive(Debug, Clone, Copy)]
pub enum LineIdentity<'a> {
    /// The line's own number in the administration (kenmerk, factuurnummer).
    Reference(&'a str),
    /// Without a reference: everything the row records.
    Content {
        allocation: AllocationId,
        amount: Cents,
        date: NaiveDate,
        description: &'a str,
    },
}

/// A budget lines file whose header names every required column; its rows are not checked
/// yet.
#[derive(Debug, Clone)]
pub struct BudgetFile {
    table: Table,
    columns: Columns,
    options: Options,
}

/// One checked row: a commitment or expenditure as the file gives it, on an allocation the
/// fund has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetRow {
    pub line: usize,
    pub programme_id: ProgrammeId,
    pub fund_id: FundId,
    pub allocation_id: AllocationId,
    pub kind: LineKind,
    /// The line's id, derived by [`line_id`].
    pub line_id: BudgetLineId,
    /// The row's reference (kenmerk), when it gives one.
    pub reference: Option<String>,
    pub amount: Cents,
    pub description: String,
    pub date: NaiveDate,
    /// Whether the check found the line recorded, with the row's kind, allocation and
    /// amount.
    pub recorded: bool,
}

impl BudgetFile {
    /// Rows on one fund share its allocations: decides them in file order on a copy of each
    /// fund as recorded (`recorded`), to which every new line is booked before the next row
    /// is decided, so that together they never commit or spend more than an allocation has.
    /// Every row the fund's rules refuse is a problem.
    pub fn decide_in_order<'s>(
        &self,
        rows: &[BudgetRow],
        recorded: impl Fn(&BudgetRow) -> Option<&'s FundState>,
    ) -> Vec<Problem> {
        let mut funds: HashMap<FundId, Option<FundState>> = HashMap::new();
        let mut problems = Vec::new();
        for row in rows {
            let fund = funds
                .entry(row.fund_id)
                .or_insert_with(|| recorded(row).cloned());
            match self.decide(row, fund.as_ref()) {
                Ok(Step::New(_)) => {
                    if let Some(fund) = fund {
                        book(fund, row);
                    }
                }
                Ok(Step::Unchanged | Step::Change { .. }) => {}
                Err(problem) => problems.push(problem),
            }
        }
        problems
    }
}

/// Books a new line on a fund in memory, as the fund's events would.
fn book(fund: &mut FundState, row: &BudgetRow) {
    fund.lines.insert(row.line_id);
    if let Some(allocation) = fund.allocations.get_mut(&row.allocation_id) {
        let used = match row.kind {
            LineKind::Commitment => &mut allocation.committed,
            LineKind::Expenditure => &mut allocation.spent,
        };
        *used = used.checked_add(row.amount).unwrap_or(Cents::new(i64::MAX));
    }
}

impl Layout for BudgetFile {
    type Aggregate = Fund;
    type Options = Options;
    type Row = BudgetRow;
    type State = FundState;
    /// A recorded line is never changed.
    type Previous = Infallible;

    const KIND: &'static str = "budget";
    const CHANGES: &'static str = "changes";

    /// Binds the table's header to the budget columns. A file needs an `allocation` column,
    /// or a `year` column with a `pillar`, `area` or `intervention` column.
    fn new(table: Table, options: Options) -> Result<Self, Vec<Problem>> {
        let columns = Columns::bind(&table, &specs(&options))?;
        let has = |spec| columns.name(spec).is_some();
        let by_target = has(YEAR) && (has(PILLAR) || has(AREA) || has(INTERVENTION));
        if !has(ALLOCATION) && !by_target {
            return Err(vec![Problem::new(
                table.header_line,
                None,
                "import.column_missing",
                "the header has no column allocation, nor year with pillar, area or \
                 intervention: a row names its allocation by id, or by its target and year",
            )]);
        }
        require_rows(&table)?;
        Ok(Self {
            table,
            columns,
            options,
        })
    }

    fn rows(&self) -> usize {
        self.table.rows.len()
    }

    fn ignored_columns(&self) -> &[String] {
        &self.columns.ignored
    }

    /// The programmes the rows name (or the option names), to read before
    /// [`check`](Layout::check), with every fund recorded for them
    /// ([`Reference::with_funds`]).
    fn programmes(&self) -> BTreeSet<ProgrammeId> {
        named(
            &self.table,
            &self.columns,
            PROGRAMME,
            self.options.programme.clone(),
            |text| ProgrammeId::parse(text).ok(),
        )
    }

    /// Checks every row against the programme (pillars, areas) and its funds as recorded
    /// (allocations, the programme period, the lines recorded already): a row whose line is
    /// recorded with another kind, allocation or amount is refused here (`budget_line.final`).
    fn check(&self, reference: &Reference<'_>) -> Result<Vec<BudgetRow>, Vec<Problem>> {
        let header_line = self.table.header_line;
        if let Some(problem) = reference.check_option(self.options.programme.as_ref(), header_line)
        {
            return Err(vec![problem]);
        }
        if let Some(fund) = &self.options.fund {
            let problem = match reference.find_fund(fund, self.options.programme.as_ref()) {
                Ok(Some(_)) => None,
                Ok(None) => Some((
                    "reference.known_fund",
                    match &self.options.programme {
                        Some(programme) => {
                            format!("programme {programme} has no fund {fund:?} (by id or name)")
                        }
                        None => format!(
                            "the programmes the file names have no fund {fund:?} (by id or name)"
                        ),
                    },
                )),
                Err(several) => Some((
                    "import.ambiguous",
                    format!(
                        "--fund {fund:?} names several funds ({}); give the id",
                        several
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            };
            if let Some((rule, message)) = problem {
                return Err(vec![Problem::new(header_line, None, rule, message)]);
            }
        }
        check_rows(
            &self.table,
            &self.columns,
            self.options.programme.as_ref(),
            reference,
            |checker| read_row(checker, &self.options, reference),
            |row| &row.line_id,
            |first, row| match &row.reference {
                Some(reference) => format!(
                    "line {first} has the {} {reference:?} of this fund already",
                    row.kind
                ),
                None => format!(
                    "line {first} has the same {} (allocation, amount, date and description) \
                     already; give each its reference (kenmerk) to record both",
                    row.kind
                ),
            },
        )
    }

    fn line(row: &BudgetRow) -> usize {
        row.line
    }

    fn aggregate_id(row: &BudgetRow) -> String {
        row.fund_id.to_string()
    }

    fn state(aggregate: &Fund) -> Option<&FundState> {
        aggregate.state()
    }

    /// Decides one row against its fund (as recorded, or as the rows before it leave it, see
    /// [`decide_in_order`](BudgetFile::decide_in_order)): a line the check found recorded
    /// changes nothing; a new line must fit in what its allocation has uncommitted (a
    /// commitment, `budget.committed_within_allocation`) or unspent (an expenditure,
    /// `budget.within_allocation`).
    fn decide(
        &self,
        row: &BudgetRow,
        recorded: Option<&FundState>,
    ) -> Result<Step<Infallible, FundCommand>, Problem> {
        let amount_column = self.columns.name(AMOUNT);
        let Some(fund) = recorded else {
            return Err(refusal(row, self.columns.name(FUND), &FundError::NotFound));
        };
        if fund.lines.contains(&row.line_id) {
            if row.recorded {
                return Ok(Step::Unchanged);
            }
            // Recorded by another writer after the check read the fund's lines.
            let mut problem = refusal(row, None, &FundError::LineExists(row.line_id));
            problem
                .message
                .push_str(", recorded while the file was checked; import the file again");
            return Err(problem);
        }
        let allocation = fund
            .allocation(row.allocation_id)
            .map_err(|e| refusal(row, self.columns.name(ALLOCATION), &e))?;
        let command = match row.kind {
            LineKind::Commitment => {
                let left = allocation.uncommitted();
                if row.amount > left {
                    let e = FundError::CommitmentExceedsAllocation {
                        amount: row.amount,
                        left,
                    };
                    return Err(refusal(row, amount_column, &e));
                }
                FundCommand::Commit(CommitBudget {
                    line_id: row.line_id,
                    allocation_id: row.allocation_id,
                    amount: row.amount,
                    description: row.description.clone(),
                    date: row.date,
                })
            }
            LineKind::Expenditure => {
                let left = allocation.unspent();
                if row.amount > left {
                    let e = FundError::ExceedsAllocation {
                        amount: row.amount,
                        left,
                    };
                    return Err(refusal(row, amount_column, &e));
                }
                FundCommand::RecordExpenditure(RecordExpenditure {
                    line_id: row.line_id,
                    allocation_id: row.allocation_id,
                    amount: row.amount,
                    description: row.description.clone(),
                    date: row.date,
                })
            }
        };
        Ok(Step::New(command))
    }

    /// Everything the command records, amounts in cents.
    fn content(row: &BudgetRow, command: &FundCommand) -> String {
        let (kind, line, allocation, amount, description, date) = match command {
            FundCommand::Commit(c) => (
                "commit",
                c.line_id,
                c.allocation_id,
                c.amount,
                &c.description,
                c.date,
            ),
            FundCommand::RecordExpenditure(c) => (
                "expenditure",
                c.line_id,
                c.allocation_id,
                c.amount,
                &c.description,
                c.date,
            ),
            other => return format!("{}\n{}", other.name(), row.fund_id),
        };
        format!(
            "{kind}\n{}\n{line}\n{allocation}\n{}\n{date}\n{description}",
            row.fund_id,
            amount.cents()
        )
    }

    fn command_name(command: &FundCommand) -> &'static str {
        command.name()
    }

    /// [`decide_in_order`](BudgetFile::decide_in_order) first, so that rows on one
    /// allocation are refused when together they exceed it; then the plan every layout
    /// makes ([`layout::plan`]): a row that fits after the rows before it fits on the fund
    /// as recorded too. Keys are `import/budget/<fund id>/0/<content hash>`; the hash covers
    /// the line id, so every line has its own key, the same in every import.
    fn plan<'s>(
        &self,
        rows: Vec<BudgetRow>,
        recorded: impl Fn(&BudgetRow) -> Option<&'s FundState>,
    ) -> Result<PlanOf<Self>, Vec<Problem>>
    where
        FundState: 's,
    {
        let problems = self.decide_in_order(&rows, &recorded);
        if !problems.is_empty() {
            return Err(problems);
        }
        layout::plan(self, rows, recorded)
    }
}

/// Reads one row; `None` when any of its cells is bad (each one a problem).
fn read_row(
    checker: &mut RowChecker<'_, '_>,
    options: &Options,
    reference: &Reference<'_>,
) -> Option<BudgetRow> {
    let before = checker.problem_count();
    checker.check_width();
    let programme = checker.programme(PROGRAMME, options.programme.as_ref(), reference);
    let recorded =
        programme.and_then(|p| checker.fund(FUND, options.fund.as_deref(), p, reference));
    let fund = recorded.and_then(RecordedFund::state);
    let allocation = match (programme, fund) {
        (Some(programme), Some(fund)) => allocation(checker, programme, fund),
        _ => None,
    };
    let kind = checker.required(KIND, "kind").and_then(|(cell, column)| {
        let kind = LineKind::parse(&cell.display());
        if kind.is_none() {
            checker.problem(
                &column,
                "import.line_kind",
                format!(
                    "{:?} is no kind of budget line: write verplichting (a commitment) or \
                     uitgave (an expenditure)",
                    cell.display()
                ),
            );
        }
        kind
    });
    let amount = checker
        .required(AMOUNT, "amount")
        .and_then(|(cell, column)| {
            let amount = checker.euros_in(cell, &column)?;
            if !amount.is_positive() {
                checker.problem(
                    &column,
                    "budget.positive_amount",
                    format!(
                        "{amount} is not a positive amount of euros; a commitment or expenditure \
                     is recorded as a positive amount (a credit cannot be recorded)"
                    ),
                );
                return None;
            }
            Some(amount)
        });
    let description = checker
        .required(DESCRIPTION, "description")
        .and_then(|(cell, column)| {
            let text = cell.display();
            if text.chars().count() > TEXT_MAX {
                checker.problem(
                    &column,
                    "text.max_length",
                    format!("the description is longer than {TEXT_MAX} characters"),
                );
                return None;
            }
            Some(text)
        });
    let date = checker.date(DATE, "date").and_then(|date| {
        let period = fund?.programme_period;
        if period.contains_date(date) {
            return Some(date);
        }
        let column = checker.cell(DATE).map(|(_, c)| c).unwrap_or_default();
        checker.problem(
            &column,
            "programme.period",
            format!("{date} lies outside the programme period {period}"),
        );
        None
    });
    let line_reference = checker.optional_text(REFERENCE, "reference", REFERENCE_MAX);
    if checker.problem_count() > before {
        return None;
    }
    let (recorded, fund, allocation, kind, amount, description, date) = (
        recorded?,
        fund?,
        allocation?,
        kind?,
        amount?,
        description?,
        date?,
    );
    let line_reference = line_reference?;
    let identity = match &line_reference {
        Some(reference) => LineIdentity::Reference(reference),
        None => LineIdentity::Content {
            allocation,
            amount,
            date,
            description: &description,
        },
    };
    let row = BudgetRow {
        line: checker.row.line,
        programme_id: fund.programme_id.clone(),
        fund_id: fund.id,
        allocation_id: allocation,
        kind,
        line_id: line_id(fund.id, kind, &identity),
        reference: line_reference,
        amount,
        description,
        date,
        recorded: false,
    };
    match recorded.lines.get(&row.line_id) {
        None => Some(row),
        Some(line)
            if line.kind == row.kind
                && line.allocation_id == row.allocation_id
                && line.amount == row.amount =>
        {
            Some(BudgetRow {
                recorded: true,
                ..row
            })
        }
        Some(line) => {
            let what = match &row.reference {
                Some(reference) => format!("the {} {reference:?}", row.kind),
                None => format!("this {}", row.kind),
            };
            let column = checker.cell(AMOUNT).map(|(_, c)| c).unwrap_or_default();
            checker.problem(
                &column,
                "budget_line.final",
                format!(
                    "the ledger records {what} as {} {} on allocation {}; a recorded line \
                     cannot be changed, so {} on allocation {} cannot be imported for it",
                    line.kind, line.amount, line.allocation_id, row.amount, row.allocation_id
                ),
            );
            None
        }
    }
}

/// The allocation a row books on: by its id, or by its target (pillar, area or
/// intervention) and year when the fund has exactly one such allocation. With an id, a target
/// or year the row gives as well must be the allocation's.
fn allocation(
    checker: &mut RowChecker<'_, '_>,
    programme: &ProgrammeIndex<'_>,
    fund: &FundState,
) -> Option<AllocationId> {
    let before = checker.problem_count();
    let mut targets = Vec::new();
    if let Some((cell, column)) = checker.filled(PILLAR) {
        if let Some(pillar) = checker.pillar_in(cell, &column, programme) {
            targets.push((AllocationTarget::Pillar(pillar), column));
        }
    }
    if let Some((cell, column)) = checker.filled(AREA) {
        if let Some(area) = checker.area_in(cell, &column, programme) {
            targets.push((AllocationTarget::Area(area), column));
        }
    }
    if let Some((cell, column)) = checker.filled(INTERVENTION) {
        match InterventionId::parse(&cell.display()) {
            Ok(id) => targets.push((AllocationTarget::Intervention(id), column)),
            Err(_) => checker.problem(
                &column,
                "import.intervention_id",
                format!("{:?} is not an intervention id (a uuid)", cell.display()),
            ),
        }
    }
    let year = checker
        .filled(YEAR)
        .and_then(|(cell, column)| Some((checker.year_in(cell, &column, "year")?, column)));
    if checker.problem_count() > before {
        return None;
    }
    if targets.len() > 1 {
        let columns: Vec<&str> = targets.iter().map(|(_, c)| c.as_str()).collect();
        checker.problem(
            "",
            "import.allocation_target",
            format!(
                "an allocation is for one pillar, area or intervention; the row gives {}",
                columns.join(" and ")
            ),
        );
        return None;
    }
    let target = targets.pop();

    if let Some((cell, column)) = checker.filled(ALLOCATION) {
        let text = cell.display();
        let Ok(id) = AllocationId::parse(&text) else {
            checker.problem(
                &column,
                "import.allocation_id",
                format!("{text:?} is not an allocation id (a uuid)"),
            );
            return None;
        };
        let Some(found) = fund.allocations.get(&id) else {
            checker.problem(
                &column,
                "budget.known_allocation",
                format!("fund {} has no allocation {id}", fund.name),
            );
            return None;
        };
        if let Some((target, target_column)) = &target {
            if *target != found.target {
                checker.problem(
                    target_column,
                    "import.allocation_mismatch",
                    format!(
                        "allocation {id} is for {}, not {}",
                        describe(&found.target),
                        describe(target)
                    ),
                );
            }
        }
        if let Some((year, year_column)) = &year {
            if *year != found.year {
                checker.problem(
                    year_column,
                    "import.allocation_mismatch",
                    format!("allocation {id} is for {}, not {year}", found.year),
                );
            }
        }
        return (checker.problem_count() == before).then_some(id);
    }

    let (target, year) = match (target, year) {
        (Some((target, _)), Some((year, _))) => (target, year),
        (Some(_), None) => {
            let column = checker.cell(YEAR).map(|(_, c)| c).unwrap_or_default();
            checker.problem(
                &column,
                "import.required",
                "the year of the allocation is missing",
            );
            return None;
        }
        (None, _) => {
            checker.problem(
                "",
                "import.required",
                "the allocation is missing: give its id, or its pillar, area or intervention \
                 and its year",
            );
            return None;
        }
    };
    let fits: Vec<AllocationId> = fund
        .allocations
        .values()
        .filter(|a| a.target == target && a.year == year)
        .map(|a| a.id)
        .collect();
    match fits.as_slice() {
        [one] => Some(*one),
        [] => {
            checker.problem(
                "",
                "budget.known_allocation",
                format!(
                    "fund {} has no allocation for {} in {year}",
                    fund.name,
                    describe(&target)
                ),
            );
            None
        }
        several => {
            checker.problem(
                "",
                "import.ambiguous",
                format!(
                    "fund {} has {} allocations for {} in {year} ({}); give the allocation id",
                    fund.name,
                    several.len(),
                    describe(&target),
                    several
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            None
        }
    }
}

fn describe(target: &AllocationTarget) -> String {
    match target {
        AllocationTarget::Pillar(p) => format!("pillar {p}"),
        AllocationTarget::Area(a) => format!("area {a}"),
        AllocationTarget::Intervention(i) => format!("intervention {i}"),
    }
}

/// A commitment or expenditure as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedLine {
    pub kind: LineKind,
    pub allocation_id: AllocationId,
    pub amount: Cents,
    pub description: String,
    pub date: NaiveDate,
}

/// What the ledger holds for one fund: the fund as its events built it, the sequence of its
/// last event, and every commitment and expenditure with its content (the fund's state keeps
/// only their ids). Built from the fund's events as the log holds them
/// ([`from_events`](Self::from_events)); [`Reference::with_funds`] takes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedFund {
    /// The aggregate, folded by its own rules; what the bulk path decides the commands on.
    pub fund: Fund,
    /// The sequence of the fund's last event (0 when it has none).
    pub sequence: usize,
    pub lines: BTreeMap<BudgetLineId, RecordedLine>,
}

impl RecordedFund {
    /// Folds all of a fund's events, in sequence order from the first, so that
    /// [`sequence`](Self::sequence) is the last one's.
    pub fn from_events(events: impl IntoIterator<Item = FundEvent>) -> Self {
        let mut recorded = Self::default();
        for event in events {
            recorded.apply(event);
        }
        recorded
    }

    /// Adds the next event of the fund.
    pub fn apply(&mut self, event: FundEvent) {
        let line = match &event {
            FundEvent::BudgetCommitted {
                line_id,
                allocation_id,
                amount,
                description,
                date,
            } => Some((
                *line_id,
                LineKind::Commitment,
                allocation_id,
                amount,
                description,
                date,
            )),
            FundEvent::ExpenditureRecorded {
                line_id,
                allocation_id,
                amount,
                description,
                date,
            } => Some((
                *line_id,
                LineKind::Expenditure,
                allocation_id,
                amount,
                description,
                date,
            )),
            _ => None,
        };
        if let Some((line_id, kind, allocation_id, amount, description, date)) = line {
            self.lines.insert(
                line_id,
                RecordedLine {
                    kind,
                    allocation_id: *allocation_id,
                    amount: *amount,
                    description: description.clone(),
                    date: *date,
                },
            );
        }
        self.fund.apply(event);
        self.sequence += 1;
    }

    /// The fund's facts, or `None` when it was never registered.
    pub fn state(&self) -> Option<&FundState> {
        self.fund.state()
    }
}

/// A row the fund's rules refuse, with the domain's rule and words (without the field name
/// the domain puts first).
fn refusal(row: &BudgetRow, column: Option<&str>, error: &FundError) -> Problem {
    let text = error.to_string();
    let message = text
        .split_once(": ")
        .filter(|(field, _)| !field.contains(' '))
        .map_or(text.as_str(), |(_, rest)| rest);
    Problem::new(row.line, column, error.rule(), message)
}

#[cfg(test)]
mod tests;
