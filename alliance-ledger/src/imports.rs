//! `alliance-ledger import`: monitoring results, targets and budget lines from CSV and Excel
//! files, all or nothing.
//!
//! The arguments, the file's bytes, the summary and the progress on the terminal are the
//! command line's part; checking, planning and writing are the API library's runner
//! (`api::imports`), which the GraphQL mutations `importMeasurements`, `importTargets` and
//! `importBudgetLines` run too.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use api::imports::{ImportError, ImportFile, Importer, LedgerData, Progress, Report, Stage};
use domain::access::Role;
use domain::ids::{DecisionId, ProgrammeId};
use import::budget::BudgetFile;
use import::measurements::MeasurementFile;
use import::targets::TargetFile;
use import::{budget, measurements, targets, Format, Layout};
use store::{CommandBus, CommandContext, Database, DatabaseUrl};
use uuid::Uuid;

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ImportCommand {
    /// Import monitoring results (measurements) from a .csv or .xlsx file: one row per
    /// indicator, area and period, with its value, source and publication date (the columns are
    /// in docs/import.md). Every row is checked first; a file with any bad row records nothing
    /// and every bad row is listed. A row already recorded with the same value adds nothing; a
    /// row with a new value for a recorded figure records a correction.
    Measurements(MeasurementsArgs),
    /// Import targets (streefwaarden) from a .csv or .xlsx file: one row per indicator, area
    /// and horizon year, with an absolute value or a comparator area and margin, on an adopted
    /// decision and with a reason (docs/import.md). All or nothing, like measurements; a row
    /// with a new value for a set target changes it.
    Targets(TargetsArgs),
    /// Import budget lines from a .csv or .xlsx file: commitments (verplichtingen) and
    /// expenditures (uitgaven), one row per line with its kind, amount in euros, description,
    /// date and reference (kenmerk), booked on an allocation of a fund named by id or by its
    /// pillar, area or intervention and year (docs/import.md). All or nothing, like
    /// measurements; the rows together must fit in what each allocation has left, and a line
    /// recorded already adds nothing.
    Budget(BudgetArgs),
}

/// What every import takes.
#[derive(Debug, clap::Args)]
pub(crate) struct FileArgs {
    /// The file: .csv (comma, semicolon or tab; UTF-8) or .xlsx.
    file: PathBuf,
    /// The programme of rows that name none (e.g. dordt-west); rows naming another are refused.
    #[arg(long, value_parser = parse_programme)]
    programme: Option<ProgrammeId>,
    /// The sheet of an .xlsx file to read (the first when not given).
    #[arg(long)]
    sheet: Option<String>,
    /// Check the file and report what it would record, without recording anything.
    #[arg(long)]
    dry_run: bool,
    /// Who imports, as recorded with every event; the login name when not given.
    #[arg(long, env = "ALLIANCE_LEDGER_ACTOR")]
    actor: Option<String>,
    /// The organisation the importer acts for, e.g. "Programmabureau Dordt West".
    #[arg(long, env = "ALLIANCE_LEDGER_ORGANISATION")]
    organisation: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MeasurementsArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The source of rows that name none (e.g. "CBS Kerncijfers wijken en buurten").
    #[arg(long)]
    source: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TargetsArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The adopted decision (its id) of rows that cite none.
    #[arg(long, value_parser = parse_decision)]
    decision: Option<DecisionId>,
    /// The reason of rows that give none.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct BudgetArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The fund of rows that name none: its id, or its name (e.g. "Extra middelen elf scholen
    /// (kansengelijkheid)").
    #[arg(long)]
    fund: Option<String>,
}

fn parse_programme(text: &str) -> Result<ProgrammeId, String> {
    ProgrammeId::parse(text).map_err(|e| format!("not a programme id such as dordt-west: {e}"))
}

fn parse_decision(text: &str) -> Result<DecisionId, String> {
    DecisionId::parse(text).map_err(|e| format!("not a decision id (a uuid): {e}"))
}

/// Runs an import command against the database at `url`.
pub(crate) async fn run(url: &DatabaseUrl, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Measurements(args) => {
            let options = |name: &str| measurements::Options {
                programme: args.file.programme.clone(),
                source: args.source.clone(),
                file_name: name.to_owned(),
            };
            import::<MeasurementFile>(url, &args.file, options).await
        }
        ImportCommand::Targets(args) => {
            let options = |_: &str| targets::Options {
                programme: args.file.programme.clone(),
                decision: args.decision,
                reason: args.reason.clone(),
            };
            import::<TargetFile>(url, &args.file, options).await
        }
        ImportCommand::Budget(args) => {
            let options = |_: &str| budget::Options {
                programme: args.file.programme.clone(),
                fund: args.fund.clone(),
            };
            import::<BudgetFile>(url, &args.file, options).await
        }
    }
}

/// Reads the file, imports it as rows of layout `L` (with the options `options` makes of the
/// file's name), and prints the summary, or every problem.
async fn import<L: LedgerData>(
    url: &DatabaseUrl,
    args: &FileArgs,
    options: impl FnOnce(&str) -> L::Options,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let shown = args.file.display().to_string();
    let name = args
        .file
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let actor = actor(args.actor.clone())?;
    Format::from_file_name(&name)?;
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
    let file = ImportFile {
        name,
        bytes,
        sheet: args.sheet.clone(),
    };
    let context = CommandContext {
        actor,
        role: Role::Secretary,
        organisation: args.organisation.clone(),
        request_id: format!("import-{}", Uuid::new_v4()),
        idempotency_key: None,
        request_hash: None,
    };
    let progress = Terminal::new(&shown);
    // The file is read before the ledger is opened: a file that cannot be read needs no ledger.
    let layout =
        api::imports::read::<L>(&file, options(&file.name)).map_err(|e| failure(&shown, e))?;
    let db = Database::open(url).await?;
    let bus = CommandBus::new(db.clone());
    let result = Importer::new(&bus)
        .import_read(layout, args.dry_run, &context, &progress)
        .await;
    db.close().await;
    let report = result.map_err(|e| failure(&shown, e))?;
    summary::<L>(&shown, &report, started);
    Ok(())
}

/// The error that ends an import of the file shown as `shown`; a refused file's problems are
/// printed first, one a line.
fn failure(shown: &str, error: ImportError) -> anyhow::Error {
    match error {
        ImportError::Refused(problems) => {
            for problem in &problems {
                eprintln!("{shown}: {problem}");
            }
            anyhow::anyhow!(
                "{shown}: {} (listed above); nothing was recorded",
                api::imports::refused_summary(&problems)
            )
        }
        ImportError::Unreadable(e) => anyhow::Error::new(e).context(format!("cannot read {shown}")),
        e @ ImportError::Stopped { .. } => anyhow::anyhow!("{shown}: {e}"),
        e @ ImportError::Ledger { .. } => e.into(),
    }
}

/// Prints the summary: `rows`, one line per kind of change, `recorded` (and `recorded
/// before`) on standard output, and the time it took on standard error.
fn summary<L: Layout>(shown: &str, report: &Report, started: Instant) {
    println!("rows: {}", report.rows);
    println!("new: {}", report.new);
    println!("{}: {}", L::CHANGES, report.changed);
    println!("unchanged: {}", report.unchanged);
    let seconds = started.elapsed().as_secs_f64();
    let rows = report.rows;
    match &report.written {
        None => {
            println!("recorded: 0");
            eprintln!(
                "{shown}: checked {rows} rows in {seconds:.1} s; dry run, nothing was recorded"
            );
        }
        Some(written) => {
            println!("recorded: {}", written.recorded);
            if written.replayed > 0 {
                println!("recorded before: {}", written.replayed);
            }
            eprintln!(
                "{shown}: imported {rows} rows in {seconds:.1} s; events recorded: {}",
                written.recorded
            );
        }
    }
}

/// The actor recorded with every event: --actor, else the login name.
fn actor(given: Option<String>) -> anyhow::Result<String> {
    let name = given
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    name.context("name who imports with --actor (or ALLIANCE_LEDGER_ACTOR)")
}

/// Progress on standard error: a bar per stage on a terminal; otherwise a plain line every five
/// seconds and one at the end of each stage, with the stage's time.
struct Terminal {
    shown: String,
    stage: Mutex<Option<StageProgress>>,
}

/// The stage under way.
struct StageProgress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    what: &'static str,
    started: Instant,
    last_line: Instant,
}

impl Terminal {
    fn new(shown: &str) -> Self {
        Self {
            shown: shown.to_owned(),
            stage: Mutex::new(None),
        }
    }

    fn stage(&self) -> std::sync::MutexGuard<'_, Option<StageProgress>> {
        self.stage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Progress for Terminal {
    fn ignored_columns(&self, columns: &[String]) {
        if !columns.is_empty() {
            eprintln!(
                "{}: not read, as no column of the layout: {}",
                self.shown,
                columns.join(", ")
            );
        }
    }

    fn started(&self, stage: Stage, total: usize) {
        let what = match stage {
            Stage::Checking => "checked against the ledger",
            Stage::Recording => "recorded",
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} rows {what}, {{per_sec}}, {{eta}} left"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        *self.stage() = Some(StageProgress {
            bar,
            total,
            what,
            started: Instant::now(),
            last_line: Instant::now(),
        });
    }

    fn advanced(&self, _stage: Stage, done: usize) {
        let mut stage = self.stage();
        let Some(stage) = stage.as_mut() else { return };
        match &stage.bar {
            Some(bar) => bar.set_position(done as u64),
            None => {
                if stage.last_line.elapsed() >= Duration::from_secs(5) {
                    eprintln!("{done} of {} rows {}", stage.total, stage.what);
                    stage.last_line = Instant::now();
                }
            }
        }
    }

    /// Clears the bar, or prints a last line with the stage's time.
    fn finished(&self, _stage: Stage, done: usize) {
        let Some(stage) = self.stage().take() else {
            return;
        };
        match &stage.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!(
                "{done} of {} rows {} in {:.2} s",
                stage.total,
                stage.what,
                stage.started.elapsed().as_secs_f64()
            ),
        }
    }
}
