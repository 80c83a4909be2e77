//! Targets (streefwaarden) from a file: the column layout, the checks of every row against the
//! ledger's reference data, and the plan of commands.
//!
//! | column | also read as | required | what it holds |
//! |---|---|---|---|
//! | `programme` | `programma` | unless `--programme` | the programme id, e.g. `dordt-west` |
//! | `indicator` | | yes | the indicator's key or name |
//! | `area` | `gebied`, `gebiedscode`, `area_code`, `wijk`, `buurt` | yes | the area's id, name or CBS code |
//! | `horizon_year` | `horizon`, `streefjaar`, `jaar`, `year` | yes | the year the target is for, e.g. `2030` |
//! | `value` | `waarde`, `streefwaarde` | unless `comparator` | an absolute target, e.g. `18,5` |
//! | `comparator` | `vergelijkingsgebied`, `vergelijking` | unless `value` | the area a relative target follows (a gemeente or land, e.g. `Dordrecht` or `GM0505`) |
//! | `margin` | `marge` | no | with `comparator`: the margin above (or, negative, below) its value; 0 when empty |
//! | `baseline_value` | `nulmeting`, `basiswaarde` | no | where the indicator stood when the target was set |
//! | `baseline_year` | `jaar_nulmeting`, `basisjaar` | with `baseline_value` | the year of the baseline |
//! | `decision` | `besluit`, `decision_id` | unless `--decision` | the id of the adopted decision the target rests on |
//! | `reason` | `reden`, `toelichting` | unless `--reason` | why the target is set or changed |

use std::collections::{BTreeSet, HashMap};

use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::AreaKind;
use domain::target::{
    Baseline, ChangeTarget, SetTarget, TargetCommand, TargetKey, TargetState, TargetValue, TEXT_MAX,
};

use crate::check::{content_hash, mixed_marks, Reference, RowChecker};
use crate::problem::{self, Problem};
use crate::table::{Cell, ColumnSpec, Columns, Table};

const PROGRAMME: usize = 0;
const INDICATOR: usize = 1;
const AREA: usize = 2;
const HORIZON_YEAR: usize = 3;
const VALUE: usize = 4;
const COMPARATOR: usize = 5;
const MARGIN: usize = 6;
const BASELINE_VALUE: usize = 7;
const BASELINE_YEAR: usize = 8;
const DECISION: usize = 9;
const REASON: usize = 10;

fn specs(options: &Options) -> [ColumnSpec; 11] {
    [
        ColumnSpec {
            name: "programme",
            aliases: &["programma", "programme_id"],
            required: options.programme.is_none(),
        },
        ColumnSpec {
            name: "indicator",
            aliases: &["indicator_key"],
            required: true,
        },
        ColumnSpec {
            name: "area",
            aliases: &["gebied", "gebiedscode", "area_code", "wijk", "buurt"],
            required: true,
        },
        ColumnSpec {
            name: "horizon_year",
            aliases: &["horizon", "streefjaar", "jaar", "year"],
            required: true,
        },
        ColumnSpec {
            name: "value",
            aliases: &["waarde", "streefwaarde"],
            required: false,
        },
        ColumnSpec {
            name: "comparator",
            aliases: &["vergelijkingsgebied", "vergelijking"],
            required: false,
        },
        ColumnSpec {
            name: "margin",
            aliases: &["marge"],
            required: false,
        },
        ColumnSpec {
            name: "baseline_value",
            aliases: &["nulmeting", "basiswaarde"],
            required: false,
        },
        ColumnSpec {
            name: "baseline_year",
            aliases: &["jaar_nulmeting", "basisjaar"],
            required: false,
        },
        ColumnSpec {
            name: "decision",
            aliases: &["besluit", "decision_id"],
            required: options.decision.is_none(),
        },
        ColumnSpec {
            name: "reason",
            aliases: &["reden", "toelichting"],
            required: options.reason.is_none(),
        },
    ]
}

/// What the command line adds to every row.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The programme of rows without a `programme` cell; a row naming another is refused.
    pub programme: Option<ProgrammeId>,
    /// The decision of rows without a `decision` cell.
    pub decision: Option<DecisionId>,
    /// The reason of rows without a `reason` cell.
    pub reason: Option<String>,
}

/// A targets file whose header names every required column; its rows are not checked yet.
#[derive(Debug, Clone)]
pub struct TargetFile {
    table: Table,
    columns: Columns,
    options: Options,
}

/// One checked row: a target as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub line: usize,
    pub key: TargetKey,
    pub value: TargetValue,
    pub baseline: Option<Baseline>,
    pub decision: DecisionId,
    pub reason: String,
}

impl TargetFile {
    /// Binds the table's header to the target columns; a file needs `value` or `comparator`.
    pub fn new(table: Table, options: Options) -> Result<Self, Vec<Problem>> {
        let columns = Columns::bind(&table, &specs(&options))?;
        if columns.name(VALUE).is_none() && columns.name(COMPARATOR).is_none() {
            return Err(vec![Problem::new(
                table.header_line,
                None,
                "import.column_missing",
                "the header has no column value (for absolute targets) nor comparator (for \
                 targets relative to another area)",
            )]);
        }
        if table.rows.is_empty() {
            return Err(vec![Problem::new(
                table.header_line,
                None,
                "import.no_rows",
                "the file has a header but no rows",
            )]);
        }
        Ok(Self {
            table,
            columns,
            options,
        })
    }

    /// How many rows the file holds (blank rows left out).
    pub fn rows(&self) -> usize {
        self.table.rows.len()
    }

    /// Header cells that are no column of the layout; their cells are not read.
    pub fn ignored_columns(&self) -> &[String] {
        &self.columns.ignored
    }

    /// The programmes the rows name (or the option names), to load before
    /// [`check`](Self::check).
    pub fn programmes(&self) -> BTreeSet<ProgrammeId> {
        let mut ids: BTreeSet<ProgrammeId> = self.options.programme.iter().cloned().collect();
        for row in &self.table.rows {
            if let Some((Cell::Text(text), _)) = self.columns.get(row, PROGRAMME) {
                if let Ok(id) = ProgrammeId::parse(text) {
                    ids.insert(id);
                }
            }
        }
        ids
    }

    /// The decisions the rows cite (or the option names), to load before
    /// [`check`](Self::check).
    pub fn decisions(&self) -> BTreeSet<DecisionId> {
        let mut ids: BTreeSet<DecisionId> = self.options.decision.iter().copied().collect();
        for row in &self.table.rows {
            if let Some((Cell::Text(text), _)) = self.columns.get(row, DECISION) {
                if let Ok(id) = DecisionId::parse(text) {
                    ids.insert(id);
                }
            }
        }
        ids
    }

    /// Checks every row against the reference data and returns them all, or every problem
    /// of every row, in line order.
    pub fn check(&self, reference: &Reference<'_>) -> Result<Vec<TargetRow>, Vec<Problem>> {
        if let Some(problem) =
            reference.check_option(self.options.programme.as_ref(), self.table.header_line)
        {
            return Err(vec![problem]);
        }
        let mut problems = Vec::new();
        let mut marks = Vec::new();
        let mut rows = Vec::with_capacity(self.table.rows.len());
        let mut seen: HashMap<TargetKey, usize> = HashMap::new();
        for row in &self.table.rows {
            let mut checker = RowChecker {
                row,
                columns: &self.columns,
                problems: &mut problems,
                marks: &mut marks,
            };
            let Some(target) = read_row(&mut checker, &self.options, reference) else {
                continue;
            };
            if let Some(first) = seen.get(&target.key) {
                problems.push(Problem::new(
                    row.line,
                    None,
                    "import.duplicate_row",
                    format!(
                        "line {first} has a target for the same indicator, area and horizon \
                         year ({}, {}, {}) already",
                        target.key.indicator, target.key.area, target.key.horizon_year
                    ),
                ));
                continue;
            }
            seen.insert(target.key.clone(), row.line);
            rows.push(target);
        }
        problems.extend(mixed_marks(&marks));
        if problems.is_empty() {
            Ok(rows)
        } else {
            problem::sort(&mut problems);
            Err(problems)
        }
    }
}

/// Reads one row; `None` when any of its cells is bad (each one a problem).
fn read_row(
    checker: &mut RowChecker<'_, '_>,
    options: &Options,
    reference: &Reference<'_>,
) -> Option<TargetRow> {
    let before = checker.problem_count();
    checker.check_width();
    let programme = checker.programme(PROGRAMME, options.programme.as_ref(), reference);
    let indicator = programme.and_then(|p| checker.indicator(INDICATOR, p));
    let area = programme.and_then(|p| checker.area(AREA, p));
    let horizon_year = checker
        .required(HORIZON_YEAR, "horizon year")
        .and_then(|(cell, column)| {
            let year = checker.year_in(cell, &column, "horizon year")?;
            match programme {
                Some(p) => checker
                    .within_period(&column, year, &year, p)
                    .then_some(year),
                None => Some(year),
            }
        });

    let value = match (checker.filled(VALUE), checker.filled(COMPARATOR)) {
        (Some((cell, column)), None) => {
            checker.decimal_in(cell, &column).map(TargetValue::Absolute)
        }
        (None, Some((cell, column))) => {
            let comparator = programme.and_then(|p| {
                let comparator = checker.area_in(cell, &column, p)?;
                let kind = p.state.areas.get(&comparator).map(|a| a.kind)?;
                if !matches!(kind, AreaKind::Gemeente | AreaKind::Land) {
                    checker.problem(
                        &column,
                        "target.comparator_kind",
                        format!(
                            "{comparator} is a {kind:?}; a target is relative to a gemeente or \
                             land (e.g. the Dordrecht average)"
                        ),
                    );
                    return None;
                }
                if area.as_ref() == Some(&comparator) {
                    checker.problem(
                        &column,
                        "target.comparator_differs",
                        format!("a target for {comparator} cannot be relative to itself"),
                    );
                    return None;
                }
                Some(comparator)
            });
            let margin = match checker.filled(MARGIN) {
                Some((cell, column)) => checker.decimal_in(cell, &column),
                None => Some(rust_decimal::Decimal::ZERO),
            };
            match (comparator, margin) {
                (Some(comparator), Some(margin)) => {
                    Some(TargetValue::RelativeToComparator { comparator, margin })
                }
                _ => None,
            }
        }
        (Some((_, column)), Some(_)) => {
            checker.problem(
                &column,
                "import.target_value",
                "give a value (an absolute target) or a comparator (a relative one), not both",
            );
            None
        }
        (None, None) => {
            checker.problem(
                "",
                "import.required",
                "the target is missing: give a value or a comparator",
            );
            None
        }
    };
    if checker.filled(MARGIN).is_some() && checker.filled(COMPARATOR).is_none() {
        let column = checker.cell(MARGIN).map(|(_, c)| c).unwrap_or_default();
        checker.problem(
            &column,
            "import.target_value",
            "a margin goes with a comparator; an absolute target has none",
        );
    }

    let baseline = match (
        checker.filled(BASELINE_VALUE),
        checker.filled(BASELINE_YEAR),
    ) {
        (None, None) => Some(None),
        (Some((value_cell, value_column)), Some((year_cell, year_column))) => {
            let value = checker.decimal_in(value_cell, &value_column);
            let year = checker.year_in(year_cell, &year_column, "baseline year");
            match (value, year, horizon_year) {
                (Some(_), Some(year), Some(horizon)) if year > horizon => {
                    checker.problem(
                        &year_column,
                        "target.baseline_before_horizon",
                        format!("the baseline year {year} is after the horizon year {horizon}"),
                    );
                    None
                }
                (Some(value), Some(year), _) => Some(Some(Baseline { value, year })),
                _ => None,
            }
        }
        (Some((_, column)), None) | (None, Some((_, column))) => {
            checker.problem(
                &column,
                "import.baseline",
                "a baseline needs both its value and its year",
            );
            None
        }
    };
    let decision = checker.decision(DECISION, options.decision, programme, reference);
    let reason = checker.text(
        REASON,
        "reason",
        TEXT_MAX,
        options.reason.as_deref(),
        "--reason",
    );
    if checker.problem_count() > before {
        return None;
    }
    Some(TargetRow {
        line: checker.row.line,
        key: TargetKey {
            programme_id: programme?.state.id.clone(),
            indicator: indicator?,
            area: area?,
            horizon_year: horizon_year?,
        },
        value: value?,
        baseline: baseline?,
        decision: decision?,
        reason: reason?,
    })
}

/// What importing a row does to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// No target is set for the row's indicator, area and horizon year: set it.
    Set,
    /// Another value is set: change it, on the row's decision and with its reason.
    Change { previous: TargetValue },
    /// The same value is set: nothing to do.
    Unchanged,
}

/// One row and what importing it does.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTarget {
    pub row: TargetRow,
    pub change: Change,
    /// The command to send, `None` when the row changes nothing.
    pub command: Option<TargetCommand>,
    /// `import/target/<aggregate id>/<events before>/<content hash>`.
    pub idempotency_key: String,
    /// A SHA-256 of the command's content (hex), the key's request hash.
    pub request_hash: String,
}

impl PlannedTarget {
    /// The target's aggregate id.
    pub fn aggregate_id(&self) -> String {
        self.row.key.aggregate_id()
    }
}

/// Every row of a file and what importing it does, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub rows: Vec<PlannedTarget>,
}

impl Plan {
    /// Rows that set a new target.
    pub fn sets(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.change, Change::Set))
            .count()
    }

    /// Rows that change a target's value.
    pub fn changes(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.change, Change::Change { .. }))
            .count()
    }

    /// Rows whose value is set already.
    pub fn unchanged(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.change, Change::Unchanged))
            .count()
    }
}

/// A value in a fixed text form, numbers normalised (`18.50` as `18.5`), as the ledger
/// compares them.
fn value_text(value: &TargetValue) -> String {
    match value {
        TargetValue::Absolute(v) => v.normalize().to_string(),
        TargetValue::RelativeToComparator { comparator, margin } => {
            format!("{comparator}{:+}", margin.normalize())
        }
    }
}

/// Whether two values are the same target: equal numbers compare equal whatever their scale.
fn same_value(a: &TargetValue, b: &TargetValue) -> bool {
    value_text(a) == value_text(b)
}

impl TargetFile {
    /// Decides for every checked row what importing it does, given the target the ledger
    /// holds for its key (`recorded`). A row whose value equals the set one changes nothing
    /// (its baseline, decision and reason are not compared: a change changes the value); a
    /// row with another value changes it; a withdrawn target is final and refuses the row.
    pub fn plan<'s>(
        &self,
        rows: Vec<TargetRow>,
        recorded: impl Fn(&TargetKey) -> Option<&'s TargetState>,
    ) -> Result<Plan, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut planned = Vec::with_capacity(rows.len());
        for row in rows {
            let state = recorded(&row.key);
            let (change, command, events_before) = match state {
                None => {
                    let command = TargetCommand::Set(SetTarget {
                        key: row.key.clone(),
                        value: row.value.clone(),
                        baseline: row.baseline.clone(),
                        decision: row.decision,
                        reason: row.reason.clone(),
                    });
                    (Change::Set, Some(command), 0)
                }
                Some(state) if state.withdrawn => {
                    problems.push(Problem::new(
                        row.line,
                        None,
                        "target.final",
                        format!(
                            "the target for {}, {}, {} was withdrawn; a withdrawn target is final",
                            row.key.indicator, row.key.area, row.key.horizon_year
                        ),
                    ));
                    continue;
                }
                Some(state) if same_value(&state.value, &row.value) => (Change::Unchanged, None, 0),
                Some(state) => {
                    let command = TargetCommand::Change(ChangeTarget {
                        value: row.value.clone(),
                        decision: row.decision,
                        reason: row.reason.clone(),
                    });
                    (
                        Change::Change {
                            previous: state.value.clone(),
                        },
                        Some(command),
                        state.history.len(),
                    )
                }
            };
            let request_hash = command
                .as_ref()
                .map(|c| content_hash(&content(&row.key, c)))
                .unwrap_or_default();
            let idempotency_key = if command.is_some() {
                format!(
                    "import/target/{}/{events_before}/{}",
                    row.key.aggregate_id(),
                    &request_hash[..16]
                )
            } else {
                String::new()
            };
            planned.push(PlannedTarget {
                row,
                change,
                command,
                idempotency_key,
                request_hash,
            });
        }
        if problems.is_empty() {
            Ok(Plan { rows: planned })
        } else {
            Err(problems)
        }
    }
}

/// A command's content in a fixed text form, for its hash.
fn content(key: &TargetKey, command: &TargetCommand) -> String {
    match command {
        TargetCommand::Set(c) => format!(
            "set\n{}\n{}\n{}\n{}\n{}",
            key.aggregate_id(),
            value_text(&c.value),
            c.baseline
                .as_ref()
                .map(|b| format!("{}@{}", b.value.normalize(), b.year))
                .unwrap_or_default(),
            c.decision,
            c.reason
        ),
        TargetCommand::Change(c) => format!(
            "change\n{}\n{}\n{}\n{}",
            key.aggregate_id(),
            value_text(&c.value),
            c.decision,
            c.reason
        ),
        TargetCommand::Withdraw(c) => {
            format!(
                "withdraw\n{}\n{}\n{}",
                key.aggregate_id(),
                c.decision,
                c.reason
            )
        }
    }
}

#[cfg(test)]
mod tests;
