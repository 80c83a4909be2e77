//! `alliance-ledger import`: monitoring results and targets from CSV and Excel files, all or
//! nothing.
//!
//! The file is read and every row checked (against the programme and decisions as recorded,
//! and against what is recorded for the row already) before anything is written: a file with
//! any bad row records nothing, and every bad row is reported. Then each row that adds or
//! changes something is sent through the command bus, one command per row, in file order,
//! under one request id for the whole import and an idempotency key derived from the row (see
//! the `import` crate). The command bus checks every rule again against what is recorded at
//! that moment.
//!
//! The rows are written through the command bus's bulk path (`CommandBus::execute_bulk`): the
//! recorded state of every row's aggregate is read in a few queries, each row's command is
//! decided by its aggregate in memory, and the events are appended a few thousand per
//! transaction, with the same metadata, order and idempotency keys as one command per row. A
//! batch is recorded whole or not at all, so a crash or a lost connection halfway leaves the
//! batches before it recorded; importing the same file again then records exactly the rest
//! (rows already recorded are unchanged).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use cqrs_es::Aggregate;
use domain::access::Role;
use domain::decision::{Decision, DecisionState};
use domain::ids::{DecisionId, ProgrammeId};
use domain::measurement::Measurement;
use domain::programme::{Programme, ProgrammeState};
use domain::reference::LedgerServices;
use domain::target::Target;
use domain::RuleViolation;
use import::{measurements, targets, Format, Problem, Reference, Table};
use store::{BulkCommand, CommandBus, CommandContext, CommandError, Database, DatabaseUrl, Loaded};
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

fn parse_programme(text: &str) -> Result<ProgrammeId, String> {
    ProgrammeId::parse(text).map_err(|e| format!("not a programme id such as dordt-west: {e}"))
}

fn parse_decision(text: &str) -> Result<DecisionId, String> {
    DecisionId::parse(text).map_err(|e| format!("not a decision id (a uuid): {e}"))
}

/// Runs an import command against the database at `url`.
pub(crate) async fn run(url: &DatabaseUrl, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Measurements(args) => import_measurements(url, args).await,
        ImportCommand::Targets(args) => import_targets(url, args).await,
    }
}

/// A file refused: every problem is printed, then this ends the command with a failure.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problems} on {lines} (listed above); nothing was recorded")]
struct Refused {
    file: String,
    problems: Counted,
    lines: Counted,
}

/// A number and its noun, in the plural unless it is one.
#[derive(Debug)]
struct Counted(usize, &'static str);

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Counted(n, noun) = self;
        write!(f, "{n} {noun}{}", if *n == 1 { "" } else { "s" })
    }
}

/// The file being imported, read as a table, with who imports it.
struct Source {
    /// The path as given, for messages.
    shown: String,
    /// The file's name without its folder.
    name: String,
    actor: String,
    organisation: Option<String>,
    dry_run: bool,
    started: Instant,
}

impl Source {
    /// Reads the file as a table, and who imports it.
    fn read(args: &FileArgs) -> anyhow::Result<(Self, Table)> {
        let started = Instant::now();
        let shown = args.file.display().to_string();
        let name = args
            .file
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        let actor = actor(args.actor.clone())?;
        let format = Format::from_file_name(&name)?;
        let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
        let table = Table::read(format, &bytes, args.sheet.as_deref())
            .with_context(|| format!("cannot read {shown}"))?;
        let source = Self {
            shown,
            name,
            actor,
            organisation: args.organisation.clone(),
            dry_run: args.dry_run,
            started,
        };
        Ok((source, table))
    }

    /// Prints every problem and ends the import.
    fn refuse(&self, problems: &[Problem]) -> anyhow::Error {
        for problem in problems {
            eprintln!("{}: {problem}", self.shown);
        }
        let mut lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        lines.sort_unstable();
        lines.dedup();
        Refused {
            file: self.shown.clone(),
            problems: Counted(problems.len(), "problem"),
            lines: Counted(lines.len(), "line"),
        }
        .into()
    }

    fn ignored(&self, columns: &[String]) {
        if !columns.is_empty() {
            eprintln!(
                "{}: not read, as no column of the layout: {}",
                self.shown,
                columns.join(", ")
            );
        }
    }

    /// Prints the summary: `rows`, one line per kind of change, `recorded`.
    fn report(&self, rows: usize, changes: &[(&str, usize)], written: Option<&Written>) {
        println!("rows: {rows}");
        for (what, count) in changes {
            println!("{what}: {count}");
        }
        let seconds = self.started.elapsed().as_secs_f64();
        match written {
            None => {
                println!("recorded: 0");
                eprintln!(
                    "{}: checked {rows} rows in {seconds:.1} s; dry run, nothing was recorded",
                    self.shown
                );
            }
            Some(written) => {
                println!("recorded: {}", written.recorded);
                if written.replayed > 0 {
                    println!("recorded before: {}", written.replayed);
                }
                eprintln!(
                    "{}: imported {rows} rows in {seconds:.1} s; events recorded: {}",
                    self.shown, written.recorded
                );
            }
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

/// Opens the database, runs `work` on it, and closes it whatever the outcome.
async fn with_database<T>(
    url: &DatabaseUrl,
    work: impl AsyncFnOnce(&Importer) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = Database::open(url).await?;
    let importer = Importer {
        bus: CommandBus::new(db.clone()),
    };
    let result = work(&importer).await;
    db.close().await;
    result
}

async fn import_measurements(url: &DatabaseUrl, args: MeasurementsArgs) -> anyhow::Result<()> {
    let (source, table) = Source::read(&args.file)?;
    let options = measurements::Options {
        programme: args.file.programme,
        source: args.source,
        file_name: source.name.clone(),
    };
    let file = measurements::MeasurementFile::new(table, options).map_err(|p| source.refuse(&p))?;
    source.ignored(file.ignored_columns());
    let (plan, written) = with_database(url, async |importer| {
        let programmes = importer.programmes(file.programmes()).await?;
        let reference = Reference::new(&programmes);
        let rows = file.check(&reference).map_err(|p| source.refuse(&p))?;
        let recorded = importer
            .recorded::<Measurement>(rows.iter().map(|r| r.key.aggregate_id()).collect())
            .await?;
        let plan = file
            .plan(rows, |key| {
                recorded
                    .get(&key.aggregate_id())
                    .and_then(|m| m.aggregate.state())
            })
            .map_err(|p| source.refuse(&p))?;
        let sends = plan
            .rows
            .iter()
            .filter_map(|r| {
                Some(Send {
                    line: r.row.line,
                    aggregate_id: r.aggregate_id(),
                    command: r.command.clone()?,
                    idempotency_key: r.idempotency_key.clone(),
                    request_hash: r.request_hash.clone(),
                })
            })
            .collect();
        let written = importer
            .send::<Measurement>(&source, "measurements", sends, |c| c.name(), recorded)
            .await?;
        Ok((plan, written))
    })
    .await?;
    source.report(
        file.rows(),
        &[
            ("new", plan.records()),
            ("corrections", plan.corrections()),
            ("unchanged", plan.unchanged()),
        ],
        written.as_ref(),
    );
    Ok(())
}

async fn import_targets(url: &DatabaseUrl, args: TargetsArgs) -> anyhow::Result<()> {
    let (source, table) = Source::read(&args.file)?;
    let options = targets::Options {
        programme: args.file.programme,
        decision: args.decision,
        reason: args.reason,
    };
    let file = targets::TargetFile::new(table, options).map_err(|p| source.refuse(&p))?;
    source.ignored(file.ignored_columns());
    let (plan, written) = with_database(url, async |importer| {
        let programmes = importer.programmes(file.programmes()).await?;
        let decisions = importer.decisions(file.decisions()).await?;
        let reference = Reference::new(&programmes).with_decisions(&decisions);
        let rows = file.check(&reference).map_err(|p| source.refuse(&p))?;
        let recorded = importer
            .recorded::<Target>(rows.iter().map(|r| r.key.aggregate_id()).collect())
            .await?;
        let plan = file
            .plan(rows, |key| {
                recorded
                    .get(&key.aggregate_id())
                    .and_then(|t| t.aggregate.state())
            })
            .map_err(|p| source.refuse(&p))?;
        let sends = plan
            .rows
            .iter()
            .filter_map(|r| {
                Some(Send {
                    line: r.row.line,
                    aggregate_id: r.aggregate_id(),
                    command: r.command.clone()?,
                    idempotency_key: r.idempotency_key.clone(),
                    request_hash: r.request_hash.clone(),
                })
            })
            .collect();
        let written = importer
            .send::<Target>(&source, "targets", sends, |c| c.name(), recorded)
            .await?;
        Ok((plan, written))
    })
    .await?;
    source.report(
        file.rows(),
        &[
            ("new", plan.sets()),
            ("changes", plan.changes()),
            ("unchanged", plan.unchanged()),
        ],
        written.as_ref(),
    );
    Ok(())
}

/// One command to send for a row.
struct Send<C> {
    line: usize,
    aggregate_id: String,
    command: C,
    idempotency_key: String,
    request_hash: String,
}

/// The command bus of an import.
struct Importer {
    bus: CommandBus,
}

/// Aggregates read per query when checking rows against the ledger.
const READ_CHUNK: usize = 10_000;

impl Importer {
    /// The established programmes among `ids`, as recorded.
    async fn programmes(
        &self,
        ids: impl IntoIterator<Item = ProgrammeId>,
    ) -> anyhow::Result<Vec<ProgrammeState>> {
        let mut found = Vec::new();
        for id in ids {
            let programme = self
                .bus
                .load::<Programme>(id.as_str())
                .await
                .map_err(|e| anyhow::anyhow!("cannot read programme {id}: {e}"))?;
            found.extend(programme.state().cloned());
        }
        Ok(found)
    }

    /// The proposed decisions among `ids`, as recorded.
    async fn decisions(
        &self,
        ids: impl IntoIterator<Item = DecisionId>,
    ) -> anyhow::Result<Vec<DecisionState>> {
        let mut found = Vec::new();
        for id in ids {
            let decision = self
                .bus
                .load::<Decision>(&id.to_string())
                .await
                .map_err(|e| anyhow::anyhow!("cannot read decision {id}: {e}"))?;
            found.extend(decision.state().cloned());
        }
        Ok(found)
    }

    /// What the ledger holds for each aggregate (a query per 10,000), with progress.
    async fn recorded<A>(&self, ids: Vec<String>) -> anyhow::Result<HashMap<String, Loaded<A>>>
    where
        A: Aggregate,
    {
        let progress = Progress::new(ids.len(), "checked against the ledger");
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(READ_CHUNK) {
            let loaded = self
                .bus
                .load_many::<A>(chunk)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read the recorded {}: {e}", A::TYPE))?;
            found.extend(loaded);
            progress.at(found.len());
        }
        progress.finish(found.len());
        Ok(found)
    }

    /// Sends the commands in order under one request id through the bulk path; `None` for a
    /// dry run (nothing sent). `recorded` is what the checks read, the state the commands are
    /// decided on first. Stops at the first command the ledger refuses, naming its line.
    async fn send<A>(
        &self,
        source: &Source,
        what: &str,
        sends: Vec<Send<A::Command>>,
        name: impl Fn(&A::Command) -> &'static str,
        recorded: HashMap<String, Loaded<A>>,
    ) -> anyhow::Result<Option<Written>>
    where
        A: Aggregate<Services = LedgerServices> + Clone,
        A::Command: Clone,
        A::Error: RuleViolation,
    {
        if source.dry_run {
            return Ok(None);
        }
        if sends.is_empty() {
            return Ok(Some(Written::default()));
        }
        let request_id = format!("import-{}", Uuid::new_v4());
        tracing::info!(
            request_id,
            file = source.shown,
            commands = sends.len(),
            "importing {what}"
        );
        let lines: Vec<usize> = sends.iter().map(|s| s.line).collect();
        let commands: Vec<BulkCommand<A>> = sends
            .into_iter()
            .map(|send| BulkCommand {
                aggregate_id: send.aggregate_id,
                command_name: name(&send.command),
                command: send.command,
                idempotency_key: Some(send.idempotency_key),
                request_hash: Some(send.request_hash),
            })
            .collect();
        let context = CommandContext {
            actor: source.actor.clone(),
            role: Role::Secretary,
            organisation: source.organisation.clone(),
            request_id,
            idempotency_key: None,
            request_hash: None,
        };
        let progress = Progress::new(commands.len(), "recorded");
        let bus = &self.bus;
        let result = bus
            .execute_bulk::<A>(
                commands,
                || bus.batch_services(),
                &context,
                recorded,
                |done| progress.at(done),
            )
            .await;
        match result {
            Ok(outcome) => {
                progress.finish(lines.len());
                Ok(Some(Written {
                    recorded: outcome.events,
                    replayed: outcome.replayed,
                }))
            }
            Err(failure) => {
                progress.finish(failure.index);
                let why = match &failure.error {
                    CommandError::Domain(e) => format!("{e} [{}]", e.rule()),
                    other => other.to_string(),
                };
                anyhow::bail!(
                    "{}: line {}: {why}. The {} rows before it were recorded, it and the \
                     rows after it were not; import the file again to record the rest",
                    source.shown,
                    lines.get(failure.index).copied().unwrap_or_default(),
                    failure.index
                );
            }
        }
    }
}

#[derive(Default)]
struct Written {
    /// Events appended.
    recorded: usize,
    /// Commands whose idempotency key was in the log already (an import of the same rows that
    /// ran at the same time, or was interrupted after its commit).
    replayed: usize,
}

/// A progress bar on a terminal; otherwise a plain line every five seconds and one at the end.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    what: &'static str,
    started: Instant,
    last_line: std::sync::Mutex<Instant>,
}

impl Progress {
    fn new(total: usize, what: &'static str) -> Self {
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
        Self {
            bar,
            total,
            what,
            started: Instant::now(),
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn at(&self, done: usize) {
        match &self.bar {
            Some(bar) => bar.set_position(done as u64),
            None => {
                let mut last = self
                    .last_line
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if last.elapsed() >= Duration::from_secs(5) {
                    eprintln!("{done} of {} rows {}", self.total, self.what);
                    *last = Instant::now();
                }
            }
        }
    }

    /// Ends the progress after `done` rows: clears the bar, or prints a last line with the
    /// step's time.
    fn finish(&self, done: usize) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!(
                "{done} of {} rows {} in {:.2} s",
                self.total,
                self.what,
                self.started.elapsed().as_secs_f64()
            ),
        }
    }
}
