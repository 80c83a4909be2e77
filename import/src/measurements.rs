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

use std::collections::BTreeSet;

use chrono::NaiveDate;
use domain::ids::ProgrammeId;
use domain::measurement::{
    CorrectMeasurement, Measurement, MeasurementCommand, MeasurementKey, MeasurementState,
    RecordMeasurement, SOURCE_MAX, TEXT_MAX,
};
use rust_decimal::Decimal;

pub use crate::check::Reference;
use crate::check::RowChecker;
use crate::layout::{self, check_rows, named, require_rows, Layout, Step};
use crate::problem::Problem;
use crate::table::{ColumnSpec, Columns, Table};
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

impl Layout for MeasurementFile {
    type Aggregate = Measurement;
    type Options = Options;
    type Row = MeasurementRow;
    type State = MeasurementState;
    type Previous = Decimal;

    const KIND: &'static str = "measurement";
    const CHANGES: &'static str = "corrections";

    /// Binds the table's header to the measurement columns.
    fn new(table: Table, options: Options) -> Result<Self, Vec<Problem>> {
        let columns = Columns::bind(&table, &specs(&options))?;
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

    fn check(&self, reference: &Reference<'_>) -> Result<Vec<MeasurementRow>, Vec<Problem>> {
        check_rows(
            &self.table,
            &self.columns,
            self.options.programme.as_ref(),
            reference,
            |checker| read_row(checker, &self.options, reference),
            |row| &row.key,
            |first, row| {
                format!(
                    "line {first} has a figure for the same indicator, area and period \
                     ({}, {}, {}) already",
                    row.key.indicator, row.key.area, row.key.period
                )
            },
        )
    }

    fn line(row: &MeasurementRow) -> usize {
        row.line
    }

    fn aggregate_id(row: &MeasurementRow) -> String {
        row.key.aggregate_id()
    }

    fn state(aggregate: &Measurement) -> Option<&MeasurementState> {
        aggregate.state()
    }

    /// A row whose value equals the recorded one changes nothing, whatever its source or
    /// date; a row with another value corrects it, which the ledger allows only when the
    /// row's figure was not published before the recorded one.
    fn decide(
        &self,
        row: &MeasurementRow,
        recorded: Option<&MeasurementState>,
    ) -> Result<Step<Decimal, MeasurementCommand>, Problem> {
        let Some(state) = recorded else {
            return Ok(Step::New(MeasurementCommand::Record(RecordMeasurement {
                key: row.key.clone(),
                value: row.value,
                source: row.source.clone(),
                published_on: row.published_on,
                illustrative: row.illustrative,
            })));
        };
        if state.value == row.value {
            return Ok(Step::Unchanged);
        }
        if row.published_on < state.published_on {
            return Err(Problem::new(
                row.line,
                self.columns.name(PUBLISHED_ON),
                "measurement.publication_order",
                format!(
                    "the recorded figure {} was published on {}; this row's figure {} \
                     corrects it, so it cannot be published before ({})",
                    state.value, state.published_on, row.value, row.published_on
                ),
            ));
        }
        let reason = row.reason.clone().unwrap_or_else(|| {
            format!(
                "Revised figure of {}, imported from {}",
                row.source, self.options.file_name
            )
        });
        Ok(Step::Change {
            previous: state.value,
            command: MeasurementCommand::Correct(CorrectMeasurement {
                value: row.value,
                reason,
                source: Some(row.source.clone()),
                published_on: row.published_on,
            }),
            events_before: u64::from(state.corrections) + 1,
        })
    }

    /// Numbers normalised, so that `23.40` and `23.4` hash alike as the ledger compares them
    /// alike.
    fn content(row: &MeasurementRow, command: &MeasurementCommand) -> String {
        let key = &row.key;
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

    fn command_name(command: &MeasurementCommand) -> &'static str {
        command.name()
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

/// What importing a row does: record a new figure, correct a recorded one (`previous`), or
/// nothing.
pub type Change = layout::Change<Decimal>;

/// One row and what importing it does.
pub type PlannedRow = layout::PlannedRow<MeasurementRow, Decimal, MeasurementCommand>;

/// Every row of a file and what importing it does, in file order.
pub type Plan = layout::PlanOf<MeasurementFile>;

#[cfg(test)]
mod tests;
