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

use std::collections::BTreeSet;

use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::AreaKind;
use domain::target::{
    Baseline, ChangeTarget, SetTarget, Target, TargetCommand, TargetKey, TargetState, TargetValue,
    TEXT_MAX,
};

use crate::check::{Reference, RowChecker};
use crate::layout::{self, check_rows, named, require_rows, Layout, Step};
use crate::problem::Problem;
use crate::table::{ColumnSpec, Columns, Table};

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

impl Layout for TargetFile {
    type Aggregate = Target;
    type Options = Options;
    type Row = TargetRow;
    type State = TargetState;
    type Previous = TargetValue;

    const KIND: &'static str = "target";
    const CHANGES: &'static str = "changes";

    /// Binds the table's header to the target columns; a file needs `value` or `comparator`.
    fn new(table: Table, options: Options) -> Result<Self, Vec<Problem>> {
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

    fn programmes(&self) -> BTreeSet<ProgrammeId> {
        named(
            &self.table,
            &self.columns,
            PROGRAMME,
            self.options.programme.clone(),
            |text| ProgrammeId::parse(text).ok(),
        )
    }

    fn decisions(&self) -> BTreeSet<DecisionId> {
        named(
            &self.table,
            &self.columns,
            DECISION,
            self.options.decision,
            |text| DecisionId::parse(text).ok(),
        )
    }

    fn check(&self, reference: &Reference<'_>) -> Result<Vec<TargetRow>, Vec<Problem>> {
        check_rows(
            &self.table,
            &self.columns,
            self.options.programme.as_ref(),
            reference,
            |checker| read_row(checker, &self.options, reference),
            |row| &row.key,
            |first, row| {
                format!(
                    "line {first} has a target for the same indicator, area and horizon year \
                     ({}, {}, {}) already",
                    row.key.indicator, row.key.area, row.key.horizon_year
                )
            },
        )
    }

    fn line(row: &TargetRow) -> usize {
        row.line
    }

    fn aggregate_id(row: &TargetRow) -> String {
        row.key.aggregate_id()
    }

    fn state(aggregate: &Target) -> Option<&TargetState> {
        aggregate.state()
    }

    /// A row whose value equals the set one changes nothing (its baseline, decision and
    /// reason are not compared: a change changes the value); a row with another value changes
    /// it; a withdrawn target is final and refuses the row.
    fn decide(
        &self,
        row: &TargetRow,
        recorded: Option<&TargetState>,
    ) -> Result<Step<TargetValue, TargetCommand>, Problem> {
        let Some(state) = recorded else {
            return Ok(Step::New(TargetCommand::Set(SetTarget {
                key: row.key.clone(),
                value: row.value.clone(),
                baseline: row.baseline.clone(),
                decision: row.decision,
                reason: row.reason.clone(),
            })));
        };
        if state.withdrawn {
            return Err(Problem::new(
                row.line,
                None,
                "target.final",
                format!(
                    "the target for {}, {}, {} was withdrawn; a withdrawn target is final",
                    row.key.indicator, row.key.area, row.key.horizon_year
                ),
            ));
        }
        if same_value(&state.value, &row.value) {
            return Ok(Step::Unchanged);
        }
        Ok(Step::Change {
            previous: state.value.clone(),
            command: TargetCommand::Change(ChangeTarget {
                value: row.value.clone(),
                decision: row.decision,
                reason: row.reason.clone(),
            }),
            events_before: state.history.len() as u64,
        })
    }

    fn content(row: &TargetRow, command: &TargetCommand) -> String {
        let key = &row.key;
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

    fn command_name(command: &TargetCommand) -> &'static str {
        command.name()
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

/// What importing a row does: set a new target, change a set one (`previous`), or nothing.
pub type Change = layout::Change<TargetValue>;

/// One row and what importing it does.
pub type PlannedTarget = layout::PlannedRow<TargetRow, TargetValue, TargetCommand>;

/// Every row of a file and what importing it does, in file order.
pub type Plan = layout::PlanOf<TargetFile>;

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

#[cfg(test)]
mod tests;
