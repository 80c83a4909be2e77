//! Importing a file of measurements, targets or budget lines (`docs/import.md`): the same
//! runner, checks, rules and counts as `alliance-ledger import` (`crate::imports`), for the
//! secretary's web page and other clients. The file comes as text (`content`) or as a
//! multipart upload (`file`); a refused file is an `IMPORT_REFUSED` error listing every problem
//! (`error::ApiError::ImportRefused`).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};
use domain::ids::{DecisionId, ProgrammeId};
use import::budget::{self, BudgetFile};
use import::measurements::{self, MeasurementFile};
use import::targets::{self, TargetFile};
use store::CommandContext;

use super::input::{slug, uuid};
use super::{read_your_writes, state};
use crate::auth::require_recorder;
use crate::imports::{ImportFile, Importer, LedgerData, Report};
use crate::ApiError;

/// The file name a file given as `content` has when `fileName` is left out.
const CONTENT_NAME: &str = "import.csv";

/// The file and what every import takes.
#[derive(InputObject)]
pub struct ImportFileInput {
    /// The file's text: CSV with a header line (comma, semicolon or tab). Give this or `file`.
    content: Option<String>,
    /// The file as an upload in a multipart request (the GraphQL multipart request
    /// specification): CSV or an Excel workbook (.xlsx). Give this or `content`.
    file: Option<Upload>,
    /// The file's name; its extension decides how it is read (`.csv`, `.txt`, `.tsv` or
    /// `.xlsx`), and a correction's reason names it. An upload's own file name when left out;
    /// `import.csv` for `content`.
    file_name: Option<String>,
    /// The programme of rows without a `programme` cell, e.g. `dordt-west`; a row naming another
    /// programme is refused.
    programme_id: Option<String>,
    /// The sheet of a workbook to read; the first when left out.
    sheet: Option<String>,
    /// Check the file and report what it would record, without recording anything.
    #[graphql(default)]
    dry_run: bool,
}

/// A file of monitoring results: one row per indicator, area and period.
#[derive(InputObject)]
pub struct ImportMeasurementsInput {
    #[graphql(flatten)]
    file: ImportFileInput,
    /// The source of rows without a `source` cell, e.g. "CBS Kerncijfers wijken en buurten".
    source: Option<String>,
}

/// A file of targets (streefwaarden): one row per indicator, area and horizon year.
#[derive(InputObject)]
pub struct ImportTargetsInput {
    #[graphql(flatten)]
    file: ImportFileInput,
    /// The adopted decision rows without a `decision` cell rest on.
    decision_id: Option<ID>,
    /// The reason of rows without a `reason` cell.
    reason: Option<String>,
}

/// A file of budget lines: commitments (verplichtingen) and expenditures (uitgaven), one row
/// per line, each booked on an allocation of a fund.
#[derive(InputObject)]
pub struct ImportBudgetLinesInput {
    #[graphql(flatten)]
    file: ImportFileInput,
    /// The fund of rows without a `fund` cell: its id, or its name as the programme records it
    /// (e.g. "Extra middelen elf scholen (kansengelijkheid)").
    fund: Option<String>,
}

/// What an import found in the file and recorded. A refused file records nothing and answers
/// the error `IMPORT_REFUSED` with every problem instead.
#[derive(SimpleObject, Debug)]
pub struct ImportReport {
    /// The file's name, as read.
    file_name: String,
    /// Rows of the file (blank lines left out).
    rows: usize,
    /// Rows that record something new: a figure, a target not set before, a budget line.
    new: usize,
    /// Rows that change a recorded value: a measurement's correction, a target's change (a
    /// recorded budget line is never changed: 0).
    corrections: usize,
    /// Rows whose value (or budget line) is recorded already: nothing to record.
    unchanged: usize,
    /// Events recorded by this import; 0 for a dry run.
    recorded: usize,
    /// Rows another import of the same rows recorded first (at the same time, or before it
    /// was interrupted): nothing recorded for them now.
    recorded_before: usize,
    /// Only checked: nothing was recorded.
    dry_run: bool,
    /// Header cells that are no column of the layout; their cells were not read.
    ignored_columns: Vec<String>,
}

impl ImportReport {
    fn from_report(file_name: String, report: Report) -> Self {
        let written = report.written.unwrap_or_default();
        Self {
            file_name,
            rows: report.rows,
            new: report.new,
            corrections: report.changed,
            unchanged: report.unchanged,
            recorded: written.recorded,
            recorded_before: written.replayed,
            dry_run: report.written.is_none(),
            ignored_columns: report.ignored_columns,
        }
    }
}

/// A text the client may leave out or send empty (as a form does).
fn given(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

impl ImportFileInput {
    /// The file, and the input field that holds it (`content` or `file`).
    fn read(&self, ctx: &Context<'_>) -> Result<(ImportFile, &'static str), ApiError> {
        let name = given(self.file_name.clone());
        let sheet = given(self.sheet.clone());
        match (&self.content, &self.file) {
            (Some(content), None) => {
                let name = name.unwrap_or_else(|| CONTENT_NAME.to_owned());
                if import::Format::from_file_name(&name).ok() == Some(import::Format::Xlsx) {
                    return Err(ApiError::bad_input(
                        "fileName",
                        format!(
                            "{name:?} names a workbook, but `content` is text: send a workbook \
                             as `file` (an upload)"
                        ),
                    ));
                }
                let file = ImportFile {
                    name,
                    bytes: content.clone().into_bytes(),
                    sheet,
                };
                Ok((file, "content"))
            }
            (None, Some(upload)) => {
                let value = upload.value(ctx).map_err(|e| {
                    tracing::warn!(error = %e, "cannot read an uploaded file");
                    ApiError::bad_input("file", "the upload cannot be read; send it again")
                })?;
                let name = name
                    .or_else(|| given(Some(value.filename.clone())))
                    .ok_or_else(|| {
                        ApiError::bad_input(
                            "fileName",
                            "the upload has no file name: give `fileName` (e.g. cijfers.xlsx)",
                        )
                    })?;
                let file = ImportFile {
                    name,
                    bytes: value.content.to_vec(),
                    sheet,
                };
                Ok((file, "file"))
            }
            (Some(_), Some(_)) => Err(ApiError::bad_input(
                "content",
                "give the file as `content` or as `file`, not both",
            )),
            (None, None) => Err(ApiError::bad_input(
                "file",
                "give the file: its text as `content`, or an upload as `file`",
            )),
        }
    }

    fn programme(&self) -> Result<Option<ProgrammeId>, ApiError> {
        given(self.programme_id.clone())
            .map(|p| slug("programmeId", &p, ProgrammeId::parse))
            .transpose()
    }
}

/// Runs the import of `file` as rows of layout `L` under the request's principal; answers once
/// this server's read models include what it recorded.
async fn run<L: LedgerData>(
    ctx: &Context<'_>,
    context: &CommandContext,
    (file, field): (ImportFile, &'static str),
    options: L::Options,
    dry_run: bool,
) -> Result<ImportReport> {
    let app = state(ctx);
    let result = Importer::new(&app.bus)
        .import::<L>(&file, options, dry_run, context, &())
        .await;
    let report = result.map_err(|e| ApiError::from_import(e, &file.name, field))?;
    if report.written.is_some_and(|w| w.recorded > 0) {
        read_your_writes(app).await;
    }
    Ok(ImportReport::from_report(file.name, report))
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Import monitoring results from a CSV or Excel file (`docs/import.md`), all or nothing:
    /// every row is checked first, and a file with any bad row records nothing and is refused
    /// with `IMPORT_REFUSED`, listing every problem (`extensions.problems`: line, column, rule,
    /// message). A row already recorded with the same value adds nothing; a row with a new
    /// value for a recorded figure records a correction. Importing the same file again records
    /// nothing new: every row carries an idempotency key of its own.
    async fn import_measurements(
        &self,
        ctx: &Context<'_>,
        input: ImportMeasurementsInput,
    ) -> Result<ImportReport> {
        let context = require_recorder(ctx, None)?;
        let programme = input.file.programme()?;
        let file = input.file.read(ctx)?;
        let options = measurements::Options {
            programme,
            source: given(input.source),
            file_name: file.0.name.clone(),
        };
        run::<MeasurementFile>(ctx, &context, file, options, input.file.dry_run).await
    }

    /// Import targets (streefwaarden) from a CSV or Excel file (`docs/import.md`), all or
    /// nothing, like `importMeasurements`: a row with no target set sets it, a row with
    /// another value than the one set changes it, on the row's adopted decision and with its
    /// reason.
    async fn import_targets(
        &self,
        ctx: &Context<'_>,
        input: ImportTargetsInput,
    ) -> Result<ImportReport> {
        let context = require_recorder(ctx, None)?;
        let programme = input.file.programme()?;
        let decision = input
            .decision_id
            .filter(|d| !d.trim().is_empty())
            .map(|d| uuid("decisionId", &d, DecisionId::parse))
            .transpose()?;
        let file = input.file.read(ctx)?;
        let options = targets::Options {
            programme,
            decision,
            reason: given(input.reason),
        };
        run::<TargetFile>(ctx, &context, file, options, input.file.dry_run).await
    }

    /// Import budget lines from a CSV or Excel file (`docs/import.md`), all or nothing, like
    /// `importMeasurements`: each row is a commitment (verplichting) or an expenditure
    /// (uitgave) booked on an allocation of a fund, decided in file order by the rules of
    /// `commitBudget` and `recordExpenditure`, so that the rows together never commit or spend
    /// more than an allocation holds. A row whose line is recorded already (by its reference,
    /// or its content when it has none) adds nothing; a recorded line is never changed.
    async fn import_budget_lines(
        &self,
        ctx: &Context<'_>,
        input: ImportBudgetLinesInput,
    ) -> Result<ImportReport> {
        let context = require_recorder(ctx, None)?;
        let programme = input.file.programme()?;
        let file = input.file.read(ctx)?;
        let options = budget::Options {
            programme,
            fund: given(input.fund).map(|f| f.trim().to_owned()),
        };
        run::<BudgetFile>(ctx, &context, file, options, input.file.dry_run).await
    }
}
