//! Importing files into the ledger, all or nothing: the one runner behind
//! `alliance-ledger import` and the GraphQL mutations `importMeasurements`, `importTargets` and
//! `importBudgetLines`.
//!
//! The file is read and every row checked (against the programmes and decisions as recorded,
//! the reference data its layout reads besides ([`LedgerData`]: the funds of a budget file with
//! their lines), and against what is recorded for the row already) before anything is written:
//! a file with any bad row records nothing, and every bad row is reported
//! ([`ImportError::Refused`]). Then
//! each row that adds or changes something is sent through the command bus's bulk path
//! (`CommandBus::execute_bulk`), in file order, under the caller's request id and an idempotency
//! key derived from the row (see the `import` crate): the recorded state of every row's
//! aggregate is read in a few queries, each row's command is decided by its aggregate in
//! memory, and the events are appended a few thousand per transaction, with the same metadata,
//! order and idempotency keys as one command per row. The command bus checks every rule again
//! against what is recorded at that moment. A batch is recorded whole or not at all, so a crash
//! or a lost connection halfway leaves the batches before it recorded; importing the same file
//! again then records exactly the rest (rows already recorded are unchanged).
//!
//! Every kind of row is an [`import::Layout`] that says what else it reads from the ledger
//! ([`LedgerData`]); [`Importer::import`] runs any of them. Progress is reported to a
//! [`Progress`]: the command line draws a progress bar, the API reports none.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;

use cqrs_es::Aggregate;
use domain::budget::{Fund, FundEvent};
use domain::decision::{Decision, DecisionState};
use domain::ids::{DecisionId, ProgrammeId};
use domain::programme::{Programme, ProgrammeState};
use domain::{ErrorKind, RuleViolation};
use import::budget::{BudgetFile, RecordedFund};
use import::measurements::MeasurementFile;
use import::targets::TargetFile;
use import::{Change, Format, Layout, Reference, Table};
use store::{
    BulkCommand, CommandBus, CommandContext, CommandError, Database, Loaded, LogFilter,
    LoggedEvent, StoreError,
};

pub use import::{FileError, Problem};

/// A file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// The file's name without its folder: its extension decides the format (`.csv`, `.txt`,
    /// `.tsv` or `.xlsx`), and a correction's reason names it.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The sheet of a workbook to read; the first when `None`.
    pub sheet: Option<String>,
}

/// The stages of an import whose progress is reported, each counted in rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading what the ledger holds for every row.
    Checking,
    /// Appending the rows' events.
    Recording,
}

/// Hears how an import gets on. Every method does nothing unless implemented, so `&()`
/// reports nothing.
pub trait Progress: Sync {
    /// Header cells that are no column of the layout: their cells are not read.
    fn ignored_columns(&self, _columns: &[String]) {}
    /// A stage begins with `total` rows to go.
    fn started(&self, _stage: Stage, _total: usize) {}
    /// `done` rows of the stage are done.
    fn advanced(&self, _stage: Stage, _done: usize) {}
    /// The stage ended after `done` rows (fewer than its total when the import stopped).
    fn finished(&self, _stage: Stage, _done: usize) {}
}

impl Progress for () {}

/// What an import found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Rows of the file (blank rows left out).
    pub rows: usize,
    /// Rows that record something new: a figure, a target.
    pub new: usize,
    /// Rows that change a recorded value: a correction, a target change.
    pub changed: usize,
    /// Rows whose value is recorded already.
    pub unchanged: usize,
    /// Header cells that are no column of the layout; their cells were not read.
    pub ignored_columns: Vec<String>,
    /// What was written; `None` for a dry run.
    pub written: Option<Written>,
}

/// What an import appended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Events appended.
    pub recorded: usize,
    /// Rows whose idempotency key was in the log already (an import of the same rows that ran
    /// at the same time, or was interrupted after its commit): nothing appended for them.
    pub replayed: usize,
}

/// A refusal of the ledger's rules, of whichever aggregate, in words with its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub rule: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl RuleViolation for Refusal {
    fn rule(&self) -> &'static str {
        self.rule
    }

    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// A command error of any aggregate, its refusal made a [`Refusal`].
fn erase<E: RuleViolation>(error: CommandError<E>) -> CommandError<Refusal> {
    match error {
        CommandError::Domain(e) => CommandError::Domain(Refusal {
            rule: e.rule(),
            kind: e.kind(),
            message: e.to_string(),
        }),
        CommandError::Conflict => CommandError::Conflict,
        CommandError::Unavailable(detail) => CommandError::Unavailable(detail),
        CommandError::IdempotencyKeyReused => CommandError::IdempotencyKeyReused,
        CommandError::Internal(detail) => CommandError::Internal(detail),
    }
}

/// Why an import recorded nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as a table at all: not a file type the import reads, not UTF-8,
    /// an unreadable workbook, no such sheet. Nothing was recorded.
    #[error("{0}")]
    Unreadable(FileError),
    /// Rows (or the header) break rules: every problem, in line order. Nothing was recorded.
    #[error("{}; nothing was recorded", refused_summary(.0))]
    Refused(Vec<Problem>),
    /// The ledger could not be read while checking. Nothing was recorded.
    #[error("cannot read {what}: {error}")]
    Ledger {
        what: String,
        error: CommandError<Refusal>,
    },
    /// The ledger refused a row while writing (another writer changed its record in a way the
    /// checks could not know), conflicts went on, or the database went away: the rows before
    /// it were recorded, it and the rows after it were not.
    #[error(
        "line {line}: {}. The {rows_before} rows before it were recorded, it and the rows after \
         it were not; import the file again to record the rest",
        described(.error)
    )]
    Stopped {
        /// The line of the row the import stopped at.
        line: usize,
        /// Rows sent before it, all recorded.
        rows_before: usize,
        error: CommandError<Refusal>,
    },
}

/// `N problems on M lines`.
pub fn refused_summary(problems: &[Problem]) -> String {
    let mut lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    lines.sort_unstable();
    lines.dedup();
    format!(
        "{} on {}",
        counted(problems.len(), "problem"),
        counted(lines.len(), "line")
    )
}

/// A number and its noun, in the plural unless it is one.
fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A command error in words, with the rule a refusal breaks.
fn described(error: &CommandError<Refusal>) -> String {
    match error {
        CommandError::Domain(e) => format!("{e} [{}]", e.rule),
        other => other.to_string(),
    }
}

/// Reads `file` as rows of layout `L`, without the ledger: the table, and its header bound to
/// the layout's columns. The rows are checked by [`Importer::import_read`].
pub fn read<L: Layout>(file: &ImportFile, options: L::Options) -> Result<L, ImportError> {
    let format = Format::from_file_name(&file.name).map_err(ImportError::Unreadable)?;
    let table =
        Table::read(format, &file.bytes, file.sheet.as_deref()).map_err(ImportError::Unreadable)?;
    L::new(table, options).map_err(ImportError::Refused)
}

/// What a layout reads from the ledger before its rows are checked, besides the programmes and
/// decisions they name ([`Layout::programmes`], [`Layout::decisions`]): the funds of a budget
/// file with their lines, say. When what it reads holds the rows' own aggregates, the writing
/// starts from that state ([`recorded`](Self::recorded)) rather than reading them again. A
/// layout that needs nothing more says `type Data = ();`.
pub trait LedgerData: Layout {
    /// What is read.
    type Data: Default + Send + Sync;

    /// Reads it, given the programmes the rows name as recorded (the established ones among
    /// them); nothing unless the layout says otherwise.
    fn read_data(
        _bus: &CommandBus,
        _programmes: &[ProgrammeState],
    ) -> impl Future<Output = Result<Self::Data, ImportError>> + Send {
        async { Ok(Self::Data::default()) }
    }

    /// Adds what was read to the reference data the rows are checked against.
    fn reference<'r>(reference: Reference<'r>, _data: &'r Self::Data) -> Reference<'r> {
        reference
    }

    /// The rows' aggregates among what was read, by id, each with the sequence of its last
    /// event: the state their commands are decided on first. The rows' other aggregates are
    /// read in bulk ([`CommandBus::load_many`]).
    fn recorded(_data: Self::Data) -> HashMap<String, Loaded<Self::Aggregate>> {
        HashMap::new()
    }
}

/// Measurements read nothing but their programmes and the measurements the rows name.
impl LedgerData for MeasurementFile {
    type Data = ();
}

/// Targets read the decisions the rows cite ([`Layout::decisions`]) besides their programmes.
impl LedgerData for TargetFile {
    type Data = ();
}

/// Budget lines are checked against the funds of the rows' programmes, found by id or name,
/// with every line recorded on them ([`Reference::with_funds`]); the funds as read are where the
/// writing starts.
impl LedgerData for BudgetFile {
    type Data = Vec<RecordedFund>;

    fn read_data(
        bus: &CommandBus,
        programmes: &[ProgrammeState],
    ) -> impl Future<Output = Result<Self::Data, ImportError>> + Send {
        recorded_funds(bus.database(), programmes)
    }

    fn reference<'r>(reference: Reference<'r>, data: &'r Self::Data) -> Reference<'r> {
        reference.with_funds(data)
    }

    fn recorded(data: Self::Data) -> HashMap<String, Loaded<Fund>> {
        data.into_iter()
            .filter_map(|recorded| {
                let id = recorded.state()?.id.to_string();
                let loaded = Loaded {
                    aggregate: recorded.fund,
                    sequence: recorded.sequence,
                };
                Some((id, loaded))
            })
            .collect()
    }
}

/// `Fund` events read per query.
const FUND_PAGE: u32 = 5_000;

/// Every fund of `programmes` as recorded, with its lines: the log's `Fund` events (and no
/// others) in position order, a page at a time, each folded into its fund. A fund of another
/// programme is passed over from its first event, the registration that names its programme.
async fn recorded_funds(
    db: &Database,
    programmes: &[ProgrammeState],
) -> Result<Vec<RecordedFund>, ImportError> {
    let wanted: BTreeSet<&ProgrammeId> = programmes.iter().map(|p| &p.id).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let unreadable = |error: CommandError<Refusal>| ImportError::Ledger {
        what: "the recorded funds".to_owned(),
        error,
    };
    let filter = LogFilter {
        aggregate_type: Some(Fund::TYPE.to_owned()),
        ..LogFilter::default()
    };
    let mut funds: BTreeMap<String, RecordedFund> = BTreeMap::new();
    let mut others: HashSet<String> = HashSet::new();
    let mut after = 0;
    loop {
        let page = db
            .read_log(after, FUND_PAGE, &filter)
            .await
            .map_err(|e| unreadable(store_error(&e)))?;
        let more = page.len() == FUND_PAGE as usize;
        for logged in page {
            let LoggedEvent {
                position,
                aggregate_id,
                sequence,
                payload,
                ..
            } = logged;
            after = position;
            if others.contains(&aggregate_id) {
                continue;
            }
            let corrupt = |why: String| {
                unreadable(CommandError::Internal(format!(
                    "{} {aggregate_id} #{sequence} at position {position}: {why}",
                    Fund::TYPE
                )))
            };
            let event: FundEvent = serde_json::from_value(payload)
                .map_err(|e| corrupt(format!("the event cannot be read: {e}")))?;
            if !funds.contains_key(&aggregate_id) {
                if let FundEvent::FundRegistered { programme_id, .. } = &event {
                    if !wanted.contains(programme_id) {
                        others.insert(aggregate_id);
                        continue;
                    }
                }
            }
            let fund = funds.entry(aggregate_id.clone()).or_default();
            let next = i64::try_from(fund.sequence + 1).unwrap_or(i64::MAX);
            if sequence != next {
                return Err(corrupt(format!(
                    "the fund's events are not in sequence: expected #{next}"
                )));
            }
            fund.apply(event);
        }
        if !more {
            break;
        }
    }
    // A fund's first event registers it; anything else never came from the fund's rules.
    if let Some((id, _)) = funds.iter().find(|(_, f)| f.state().is_none()) {
        return Err(unreadable(CommandError::Internal(format!(
            "{} {id} has events but was never registered",
            Fund::TYPE
        ))));
    }
    Ok(funds.into_values().collect())
}

/// A store error as the command bus reports it: the database is unavailable, or something else
/// went wrong.
fn store_error(error: &StoreError) -> CommandError<Refusal> {
    if error.is_unavailable() {
        CommandError::Unavailable(error.to_string())
    } else {
        CommandError::Internal(error.to_string())
    }
}

/// Imports files through a command bus.
#[derive(Debug, Clone, Copy)]
pub struct Importer<'a> {
    bus: &'a CommandBus,
}

/// Aggregates read per query when checking rows against the ledger.
const READ_CHUNK: usize = 10_000;

impl<'a> Importer<'a> {
    pub fn new(bus: &'a CommandBus) -> Self {
        Self { bus }
    }

    /// Imports `file` as rows of layout `L`, all or nothing: reads it, checks every row
    /// against the ledger (the programmes and decisions the rows name and what else the layout
    /// reads, [`LedgerData`]), plans every row against what is recorded for it, and (unless
    /// `dry_run`) records the rows that add or change something, under `context` (actor, role,
    /// organisation and request id of every event; each row brings its own idempotency key).
    pub async fn import<L: LedgerData>(
        &self,
        file: &ImportFile,
        options: L::Options,
        dry_run: bool,
        context: &CommandContext,
        progress: &dyn Progress,
    ) -> Result<Report, ImportError> {
        let layout = read::<L>(file, options)?;
        self.import_read(layout, dry_run, context, progress).await
    }

    /// [`import`](Self::import) of a file [`read`] already.
    pub async fn import_read<L: LedgerData>(
        &self,
        layout: L,
        dry_run: bool,
        context: &CommandContext,
        progress: &dyn Progress,
    ) -> Result<Report, ImportError> {
        progress.ignored_columns(layout.ignored_columns());

        let programmes = self.programmes(layout.programmes()).await?;
        let decisions = self.decisions(layout.decisions()).await?;
        let data = L::read_data(self.bus, &programmes).await?;
        let rows = {
            let reference = L::reference(
                Reference::new(&programmes).with_decisions(&decisions),
                &data,
            );
            layout.check(&reference).map_err(ImportError::Refused)?
        };
        let recorded = self
            .recorded::<L::Aggregate>(
                rows.iter().map(L::aggregate_id),
                L::recorded(data),
                progress,
            )
            .await?;
        let plan = layout
            .plan(rows, |row| {
                recorded
                    .get(&L::aggregate_id(row))
                    .and_then(|loaded| L::state(&loaded.aggregate))
            })
            .map_err(ImportError::Refused)?;

        let mut report = Report {
            rows: layout.rows(),
            new: plan.new_rows(),
            changed: plan.changed_rows(),
            unchanged: plan.unchanged_rows(),
            ignored_columns: layout.ignored_columns().to_vec(),
            written: None,
        };
        if dry_run {
            return Ok(report);
        }
        let mut lines = Vec::new();
        let mut commands = Vec::new();
        for planned in plan.rows {
            let Some(command) = planned.command else {
                debug_assert!(matches!(planned.change, Change::Unchanged));
                continue;
            };
            lines.push(L::line(&planned.row));
            commands.push(BulkCommand::<L::Aggregate> {
                aggregate_id: L::aggregate_id(&planned.row),
                command_name: L::command_name(&command),
                command,
                idempotency_key: Some(planned.idempotency_key),
                request_hash: Some(planned.request_hash),
            });
        }
        report.written = Some(
            self.send(commands, &lines, context, recorded, progress)
                .await?,
        );
        Ok(report)
    }

    /// The established programmes among `ids`, as recorded.
    async fn programmes(
        &self,
        ids: impl IntoIterator<Item = ProgrammeId>,
    ) -> Result<Vec<ProgrammeState>, ImportError> {
        let mut found = Vec::new();
        for id in ids {
            let programme =
                self.bus
                    .load::<Programme>(id.as_str())
                    .await
                    .map_err(|e| ImportError::Ledger {
                        what: format!("programme {id}"),
                        error: erase(e),
                    })?;
            found.extend(programme.state().cloned());
        }
        Ok(found)
    }

    /// The proposed decisions among `ids`, as recorded.
    async fn decisions(
        &self,
        ids: impl IntoIterator<Item = DecisionId>,
    ) -> Result<Vec<DecisionState>, ImportError> {
        let mut found = Vec::new();
        for id in ids {
            let decision = self
                .bus
                .load::<Decision>(&id.to_string())
                .await
                .map_err(|e| ImportError::Ledger {
                    what: format!("decision {id}"),
                    error: erase(e),
                })?;
            found.extend(decision.state().cloned());
        }
        Ok(found)
    }

    /// What the ledger holds for each aggregate of `ids`: `known` for those read already, the
    /// others read a query per 10,000.
    async fn recorded<A>(
        &self,
        ids: impl Iterator<Item = String>,
        known: HashMap<String, Loaded<A>>,
        progress: &dyn Progress,
    ) -> Result<HashMap<String, Loaded<A>>, ImportError>
    where
        A: Aggregate,
        A::Error: RuleViolation,
    {
        let ids: Vec<String> = ids.filter(|id| !known.contains_key(id)).collect();
        if ids.is_empty() {
            return Ok(known);
        }
        progress.started(Stage::Checking, ids.len());
        let mut found = known;
        found.reserve(ids.len());
        let mut done = 0;
        for chunk in ids.chunks(READ_CHUNK) {
            let loaded = match self.bus.load_many::<A>(chunk).await {
                Ok(loaded) => loaded,
                Err(e) => {
                    progress.finished(Stage::Checking, done);
                    return Err(ImportError::Ledger {
                        what: format!("the recorded {}", A::TYPE),
                        error: erase(e),
                    });
                }
            };
            found.extend(loaded);
            done += chunk.len();
            progress.advanced(Stage::Checking, done);
        }
        progress.finished(Stage::Checking, done);
        Ok(found)
    }

    /// Sends the commands in order through the bulk path. `recorded` is what the checks read,
    /// the state the commands are decided on first. Stops at the first command the ledger
    /// refuses, naming its line.
    async fn send<A>(
        &self,
        commands: Vec<BulkCommand<A>>,
        lines: &[usize],
        context: &CommandContext,
        recorded: HashMap<String, Loaded<A>>,
        progress: &dyn Progress,
    ) -> Result<Written, ImportError>
    where
        A: Aggregate<Services = domain::reference::LedgerServices> + Clone,
        A::Command: Clone,
        A::Error: RuleViolation,
    {
        if commands.is_empty() {
            return Ok(Written::default());
        }
        tracing::info!(
            request_id = context.request_id,
            aggregate_type = A::TYPE,
            commands = commands.len(),
            "importing"
        );
        progress.started(Stage::Recording, commands.len());
        let bus = self.bus;
        let result = bus
            .execute_bulk::<A>(
                commands,
                || bus.batch_services(),
                context,
                recorded,
                |done| progress.advanced(Stage::Recording, done),
            )
            .await;
        match result {
            Ok(outcome) => {
                progress.finished(Stage::Recording, lines.len());
                Ok(Written {
                    recorded: outcome.events,
                    replayed: outcome.replayed,
                })
            }
            Err(failure) => {
                progress.finished(Stage::Recording, failure.index);
                Err(ImportError::Stopped {
                    line: lines.get(failure.index).copied().unwrap_or_default(),
                    rows_before: failure.index,
                    error: erase(failure.error),
                })
            }
        }
    }
}
