//! Measurements (monitoring results) from a file: the column layout, the checks of every row
//! against the ledger's reference data, and the plan of commands.
//!
//! | column | also read as | required | what it holds |
//! |---|---|---|---|
//! | `programme` | `programma` | unless `--programme` | the programme id, e.g. `dordt-west` |
//! | `indicator` | | yes | the indicator's key (`ernstig-overgewicht`) or name (`Ernstig overgewicht`) |
//! | `area` | `gebied`, `gebiedscode`, `area_code`, `wijk`, `buurt` | yes | the area's id (`crabbehof`), name (`Crabbehof`) or CBS code (`GM0505`, `WK050512`, `BU05051203`) |
//! | `period` | `periode`, `jaar`, `perioden` | yes | `2023`, `2023-Q2`, `2023-06`, `2023-06-15`, `15-06-2023`, or CBS `2023JJ00`, `2023KW02`, `2023MM06` |
//! | `value` | `waarde` | yes | the figure: `23,4` or `23.4` |
//! | `source` | `bron` | unless `--source` | who published it, e.g. `RIVM Gezondheidsmonitor` |
//! | `published_on` | `publicatiedatum`, `gepubliceerd_op`, `published` | yes | `2024-03-01` or `01-03-2024` |
//! | `illustrative` | `illustratief` | no | `ja` when the figure is an example, not published data |
//! | `reason` | `reden` | no | why a figure changed, recorded with a correction |
//!
//! Header names are compared without case, with spaces, hyphens and dots read as underscores;
//! other columns are ignored. `docs/import.md` is the user's guide.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use domain::ids::ProgrammeId;
use domain::measurement::{
    CorrectMeasurement, MeasurementCommand, MeasurementKey, MeasurementState, RecordMeasurement,
    SOURCE_MAX, TEXT_MAX,
};
use rust_decimal::Decimal;

pub use crate::check::Reference;
use crate::check::{content_hash, mixed_marks, RowChecker};
use crate::problem::{self, Problem};
use crate::table::{Cell, ColumnSpec, Columns, Table};
use crate::value;

const PROGRAMME: usize = 0;
const INDICATOR: usize = 1;
const AREA: usize = 2;
const PERIOD: usize = 3;
const VALUE: usize = 4;
const SOURCE: usize = 5;
const PUBLISHED_ON: usize = 6;
const ILLUSTRATIVE: usize = 7;
const REASON: usize = 8;

/// The columns of a measurements file; whether `programme` and `source` are required depends
/// on the options.
fn specs(options: &Options) -> [ColumnSpec; 9] {
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
            name: "period",
            aliases: &["periode", "perioden", "jaar", "year"],
            required: true,
        },
        ColumnSpec {
            name: "value",
            aliases: &["waarde"],
            required: true,
        },
        ColumnSpec {
            name: "source",
            aliases: &["bron"],
            required: options.source.is_none(),
        },
        ColumnSpec {
            name: "published_on",
            aliases: &["publicatiedatum", "gepubliceerd_op", "published"],
            required: true,
        },
        ColumnSpec {
            name: "illustrative",
            aliases: &["illustratief"],
            required: false,
        },
        ColumnSpec {
            name: "reason",
            aliases: &["reden"],
            required: false,
        },
    ]
}

/// What the command line adds to every row.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The programme of rows without a `programme` cell; a row naming another is refused.
    pub programme: Option<ProgrammeId>,
    /// The source of rows without a `source` cell.
    pub source: Option<String>,
    /// The file's name (without its folder), named in the reason of a correction when the row
    /// gives none.
    pub file_name: String,
}

/// A measurements file whose header names every required column; its rows are not checked
/// yet.
#[derive(Debug, Clone)]
pub struct MeasurementFile {
    table: Table,
    columns: Columns,
    options: Options,
}

/// One checked row: a measurement as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementRow {
    pub line: usize,
    pub key: MeasurementKey,
    pub value: Decimal,
    pub source: String,
    pub published_on: NaiveDate,
    pub illustrative: bool,
    /// The row's reason, for a correction.
    pub reason: Option<String>,
}

impl MeasurementFile {
    /// Binds the table's header to the measurement columns.
    pub fn new(table: Table, options: Options) -> Result<Self, Vec<Problem>> {
        let columns = Columns::bind(&table, &specs(&options))?;
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

    /// The programmes the rows name (or the option names): the reference data to load before
    /// [`check`](Self::check). Cells that are no programme id are left out (`check` reports
    /// them).
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

    /// Checks every row against the reference data and returns them all, or every problem
    /// of every row, in line order.
    pub fn check(&self, reference: &Reference<'_>) -> Result<Vec<MeasurementRow>, Vec<Problem>> {
        if let Some(problem) =
            reference.check_option(self.options.programme.as_ref(), self.table.header_line)
        {
            return Err(vec![problem]);
        }
        let mut problems = Vec::new();
        let mut marks = Vec::new();
        let mut rows = Vec::with_capacity(self.table.rows.len());
        let mut seen: HashMap<MeasurementKey, usize> = HashMap::new();
        for row in &self.table.rows {
            let mut checker = RowChecker {
                row,
                columns: &self.columns,
                problems: &mut problems,
                marks: &mut marks,
            };
            let Some(measurement) = read_row(&mut checker, &self.options, reference) else {
                continue;
            };
            if let Some(first) = seen.get(&measurement.key) {
                problems.push(Problem::new(
                    row.line,
                    None,
                    "import.duplicate_row",
                    format!(
                        "line {first} has a figure for the same indicator, area and period \
                         ({}, {}, {}) already",
                        measurement.key.indicator, measurement.key.area, measurement.key.period
                    ),
                ));
                continue;
            }
            seen.insert(measurement.key.clone(), row.line);
            rows.push(measurement);
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
) -> Option<MeasurementRow> {
    let before = checker.problem_count();
    checker.check_width();
    let programme = checker.programme(PROGRAMME, options.programme.as_ref(), reference);
    let indicator = programme.and_then(|p| checker.indicator(INDICATOR, p));
    let area = programme.and_then(|p| checker.area(AREA, p));
    let period = checker
        .required(PERIOD, "period")
        .and_then(|(cell, column)| {
            let period = value::period(cell)
                .map_err(|m| checker.problem(&column, "import.period", m))
                .ok()?;
            match programme {
                Some(p) => checker
                    .within_period(&column, period.year(), &period, p)
                    .then_some(period),
                None => Some(period),
            }
        });
    let value = checker.decimal(VALUE, "value");
    let source = checker.text(
        SOURCE,
        "source",
        SOURCE_MAX,
        options.source.as_deref(),
        "--source",
    );
    let published_on = checker.date(PUBLISHED_ON, "publication date");
    let illustrative = checker.yes_no(ILLUSTRATIVE);
    let reason = checker.optional_text(REASON, "reason", TEXT_MAX);
    if checker.problem_count() > before {
        return None;
    }
    Some(MeasurementRow {
        line: checker.row.line,
        key: MeasurementKey {
            programme_id: programme?.state.id.clone(),
            indicator: indicator?,
            area: area?,
            period: period?,
        },
        value: value?,
        source: source?,
        published_on: published_on?,
        illustrative: illustrative?,
        reason: reason?,
    })
}

/// What importing a row does to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// No figure is recorded for the row's indicator, area and period: record it.
    Record,
    /// A different figure is recorded: correct it, keeping the previous one.
    Correct { previous: Decimal },
    /// The same figure is recorded: nothing to do.
    Unchanged,
}

/// One row and what importing it does.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow {
    pub row: MeasurementRow,
    pub change: Change,
    /// The command to send, `None` when the row changes nothing.
    pub command: Option<MeasurementCommand>,
    /// `import/measurement/<aggregate id>/<events before>/<content hash>`: the same row
    /// imported onto the same recorded state carries the same key, so a second import (or
    /// two at once) records it once.
    pub idempotency_key: String,
    /// A SHA-256 of the command's content (hex), the key's request hash.
    pub request_hash: String,
}

impl PlannedRow {
    /// The measurement's aggregate id.
    pub fn aggregate_id(&self) -> String {
        self.row.key.aggregate_id()
    }
}

/// Every row of a file and what importing it does, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub rows: Vec<PlannedRow>,
}

impl Plan {
    /// Rows that record a new figure.
    pub fn records(&self) -> usize {
        self.count(|c| matches!(c, Change::Record))
    }

    /// Rows that correct a recorded figure.
    pub fn corrections(&self) -> usize {
        self.count(|c| matches!(c, Change::Correct { .. }))
    }

    /// Rows whose figure is recorded already.
    pub fn unchanged(&self) -> usize {
        self.count(|c| matches!(c, Change::Unchanged))
    }

    fn count(&self, f: impl Fn(&Change) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.change)).count()
    }
}

/// Decides for every checked row what importing it does, given the figure the ledger holds
/// for its indicator, area and period (`recorded`). A row whose value equals the recorded one
/// changes nothing, whatever its source or date; a row with another value corrects it, which
/// the ledger allows only when the row's figure was not published before the recorded one;
/// every such problem is reported, and then nothing is planned.
impl MeasurementFile {
    pub fn plan<'s>(
        &self,
        rows: Vec<MeasurementRow>,
        recorded: impl Fn(&MeasurementKey) -> Option<&'s MeasurementState>,
    ) -> Result<Plan, Vec<Problem>> {
        let options = &self.options;
        let published_column = self.columns.name(PUBLISHED_ON);
        let mut problems = Vec::new();
        let mut planned = Vec::with_capacity(rows.len());
        for row in rows {
            let state = recorded(&row.key);
            let (change, command, events_before) = match state {
                None => {
                    let command = MeasurementCommand::Record(RecordMeasurement {
                        key: row.key.clone(),
                        value: row.value,
                        source: row.source.clone(),
                        published_on: row.published_on,
                        illustrative: row.illustrative,
                    });
                    (Change::Record, Some(command), 0)
                }
                Some(state) if state.value == row.value => (Change::Unchanged, None, 0),
                Some(state) => {
                    if row.published_on < state.published_on {
                        problems.push(Problem::new(
                            row.line,
                            published_column,
                            "measurement.publication_order",
                            format!(
                                "the recorded figure {} was published on {}; this row's figure \
                             {} corrects it, so it cannot be published before ({})",
                                state.value, state.published_on, row.value, row.published_on
                            ),
                        ));
                        continue;
                    }
                    let reason = row.reason.clone().unwrap_or_else(|| {
                        format!(
                            "Revised figure of {}, imported from {}",
                            row.source, options.file_name
                        )
                    });
                    let command = MeasurementCommand::Correct(CorrectMeasurement {
                        value: row.value,
                        reason,
                        source: Some(row.source.clone()),
                        published_on: row.published_on,
                    });
                    (
                        Change::Correct {
                            previous: state.value,
                        },
                        Some(command),
                        u64::from(state.corrections) + 1,
                    )
                }
            };
            let request_hash = command
                .as_ref()
                .map(|c| content_hash(&content(&row.key, c)))
                .unwrap_or_default();
            let idempotency_key = if command.is_some() {
                format!(
                    "import/measurement/{}/{events_before}/{}",
                    row.key.aggregate_id(),
                    &request_hash[..16]
                )
            } else {
                String::new()
            };
            planned.push(PlannedRow {
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

/// A command's content in a fixed text form, for its hash; numbers normalised, so that
/// `23.40` and `23.4` hash alike as the ledger compares them alike.
fn content(key: &MeasurementKey, command: &MeasurementCommand) -> String {
    match command {
        MeasurementCommand::Record(c) => format!(
            "record\n{}\n{}\n{}\n{}\n{}",
            key.aggregate_id(),
            c.value.normalize(),
            c.source,
            c.published_on,
            c.illustrative
        ),
        MeasurementCommand::Correct(c) => format!(
            "correct\n{}\n{}\n{}\n{}\n{}",
            key.aggregate_id(),
            c.value.normalize(),
            c.source.as_deref().unwrap_or_default(),
            c.published_on,
            c.reason
        ),
    }
}

#[cfg(test)]
mod tests;
