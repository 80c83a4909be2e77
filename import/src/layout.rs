//! What every kind of row shares: the [`Layout`] a kind implements (its columns, the checks of
//! one row, and what one row does given what the ledger holds for it), and the two steps that
//! are the same for every kind: checking all rows of a file ([`check_rows`]) and planning them
//! against the recorded state ([`plan`]), with an idempotency key per row.
//!
//! A new kind of row (budget lines, say) implements [`Layout`] with its own columns, row check
//! and [`Layout::decide`]; reading the reference data, the all-or-nothing checks, the plan, the
//! keys and the writing (the caller's part) come with it.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use cqrs_es::Aggregate;
use domain::ids::{DecisionId, ProgrammeId};
use domain::reference::LedgerServices;
use domain::RuleViolation;

use crate::check::{content_hash, mixed_marks, Reference, RowChecker};
use crate::problem::{self, Problem};
use crate::table::{Cell, Columns, Table};

/// The command a row of layout `L` sends.
pub type Command<L> = <<L as Layout>::Aggregate as Aggregate>::Command;

/// A kind of row a file holds: a file of that kind whose header is bound to the layout's
/// columns, how its rows are checked, and what one row does to the ledger.
pub trait Layout: Sized + Send + Sync {
    /// The aggregate each row records on (one per row's identity).
    type Aggregate: Aggregate<Services = LedgerServices, Command: Clone + Send + Sync, Error: RuleViolation>
        + Clone
        + Send
        + Sync;
    /// What the caller adds to every row: the programme, source, decision or reason of rows
    /// that name none.
    type Options: Send;
    /// One checked row.
    type Row: Send + Sync;
    /// What the ledger holds for a row: its aggregate's state.
    type State: Send + Sync;
    /// The recorded value a changed row replaces.
    type Previous: Send + Sync;

    /// The kind of row in idempotency keys: `import/<KIND>/<aggregate id>/...`.
    const KIND: &'static str;
    /// What a summary calls the rows that change a recorded value (`corrections`, `changes`).
    const CHANGES: &'static str;

    /// Binds the table's header to the layout's columns: every problem of the header, or of
    /// a file without rows.
    fn new(table: Table, options: Self::Options) -> Result<Self, Vec<Problem>>;

    /// How many rows the file holds (blank rows left out).
    fn rows(&self) -> usize;

    /// Header cells that are no column of the layout; their cells are not read.
    fn ignored_columns(&self) -> &[String];

    /// The programmes the rows name (or the options name): the reference data to read
    /// before [`check`](Self::check). Cells that are no programme id are left out (`check`
    /// reports them).
    fn programmes(&self) -> BTreeSet<ProgrammeId>;

    /// The decisions the rows cite (or the options name), read before [`check`](Self::check);
    /// none unless the layout cites decisions.
    fn decisions(&self) -> BTreeSet<DecisionId> {
        BTreeSet::new()
    }

    /// Checks every row against the reference data: all rows, or every problem of every row
    /// in line order.
    fn check(&self, reference: &Reference<'_>) -> Result<Vec<Self::Row>, Vec<Problem>>;

    /// The line (or sheet row) a checked row came from.
    fn line(row: &Self::Row) -> usize;

    /// The aggregate id a row records on.
    fn aggregate_id(row: &Self::Row) -> String;

    /// The state of a recorded aggregate; `None` when nothing is recorded for it.
    fn state(aggregate: &Self::Aggregate) -> Option<&Self::State>;

    /// What importing one checked row does, given what the ledger holds for it; a problem
    /// when the ledger's state refuses the row.
    fn decide(
        &self,
        row: &Self::Row,
        recorded: Option<&Self::State>,
    ) -> Result<Step<Self::Previous, Command<Self>>, Problem>;

    /// A command's content in a fixed text form (numbers normalised as the ledger compares
    /// them), for its request hash.
    fn content(row: &Self::Row, command: &Command<Self>) -> String;

    /// The command's domain name, recorded with its events (`RecordMeasurement`).
    fn command_name(command: &Command<Self>) -> &'static str;

    /// Decides for every checked row what importing it does ([`plan`]).
    fn plan<'s>(
        &self,
        rows: Vec<Self::Row>,
        recorded: impl Fn(&Self::Row) -> Option<&'s Self::State>,
    ) -> Result<PlanOf<Self>, Vec<Problem>>
    where
        Self::State: 's,
    {
        plan(self, rows, recorded)
    }
}

/// What a layout decides for one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<P, C> {
    /// Nothing is recorded for the row's identity: the command records it.
    New(C),
    /// Another value is recorded: the command changes it. `events_before` counts the events
    /// the aggregate has, so that the same row on a later state is a new request.
    Change {
        previous: P,
        command: C,
        events_before: u64,
    },
    /// The row's value is recorded already: nothing to send.
    Unchanged,
}

/// What importing a row does to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<P> {
    /// Nothing is recorded for the row's identity: record it (a figure, a target).
    New,
    /// Another value is recorded: change it (a correction, a target change), keeping the
    /// previous one in the record's history.
    Changed { previous: P },
    /// The same value is recorded: nothing to do.
    Unchanged,
}

/// One row and what importing it does.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRow<R, P, C> {
    pub row: R,
    pub change: Change<P>,
    /// The command to send, `None` when the row changes nothing.
    pub command: Option<C>,
    /// `import/<kind>/<aggregate id>/<events before>/<content hash>`: the same row imported
    /// onto the same recorded state carries the same key, so a second import (or two at
    /// once) records it once. Empty when the row sends nothing.
    pub idempotency_key: String,
    /// A SHA-256 of the command's content (hex), the key's request hash.
    pub request_hash: String,
}

/// Every row of a file and what importing it does, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<R, P, C> {
    pub rows: Vec<PlannedRow<R, P, C>>,
}

/// The plan of a layout's rows.
pub type PlanOf<L> = Plan<<L as Layout>::Row, <L as Layout>::Previous, Command<L>>;

impl<R, P, C> Default for Plan<R, P, C> {
    fn default() -> Self {
        Self { rows: Vec::new() }
    }
}

impl<R, P, C> Plan<R, P, C> {
    /// Rows that record something new.
    pub fn new_rows(&self) -> usize {
        self.count(|c| matches!(c, Change::New))
    }

    /// Rows that change a recorded value.
    pub fn changed_rows(&self) -> usize {
        self.count(|c| matches!(c, Change::Changed { .. }))
    }

    /// Rows whose value is recorded already.
    pub fn unchanged_rows(&self) -> usize {
        self.count(|c| matches!(c, Change::Unchanged))
    }

    fn count(&self, f: impl Fn(&Change<P>) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.change)).count()
    }
}

/// Decides for every checked row what importing it does, given what the ledger holds for its
/// identity (`recorded`): [`Layout::decide`] for each row, with the idempotency key and request
/// hash of its command. Every row the ledger's state refuses is a problem, and then nothing
/// is planned.
pub fn plan<'s, L: Layout>(
    layout: &L,
    rows: Vec<L::Row>,
    recorded: impl Fn(&L::Row) -> Option<&'s L::State>,
) -> Result<PlanOf<L>, Vec<Problem>>
where
    L::State: 's,
{
    let mut problems = Vec::new();
    let mut planned = Vec::with_capacity(rows.len());
    for row in rows {
        let step = match layout.decide(&row, recorded(&row)) {
            Ok(step) => step,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let (change, command, events_before) = match step {
            Step::New(command) => (Change::New, Some(command), 0),
            Step::Change {
                previous,
                command,
                events_before,
            } => (Change::Changed { previous }, Some(command), events_before),
            Step::Unchanged => (Change::Unchanged, None, 0),
        };
        let (idempotency_key, request_hash) = match &command {
            Some(command) => {
                let hash = content_hash(&L::content(&row, command));
                let key = format!(
                    "import/{}/{}/{events_before}/{}",
                    L::KIND,
                    L::aggregate_id(&row),
                    &hash[..16]
                );
                (key, hash)
            }
            None => (String::new(), String::new()),
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

/// The problem of a file with a header and no rows; `Ok` when it has rows.
pub(crate) fn require_rows(table: &Table) -> Result<(), Vec<Problem>> {
    if table.rows.is_empty() {
        return Err(vec![Problem::new(
            table.header_line,
            None,
            "import.no_rows",
            "the file has a header but no rows",
        )]);
    }
    Ok(())
}

/// The ids a column names in any row that `parse` reads, and the option's.
pub(crate) fn named<T: Ord>(
    table: &Table,
    columns: &Columns,
    spec: usize,
    option: Option<T>,
    parse: impl Fn(&str) -> Option<T>,
) -> BTreeSet<T> {
    let mut ids: BTreeSet<T> = option.into_iter().collect();
    for row in &table.rows {
        if let Some((Cell::Text(text), _)) = columns.get(row, spec) {
            ids.extend(parse(text));
        }
    }
    ids
}

/// Checks every row of a file: the programme an option names must be established; `read`
/// reads one row's cells (`None` when any is bad, each a problem); a row whose `key` an
/// earlier row has is refused (`duplicate` says so, given the earlier line); numbers written
/// with the decimal mark the file uses less are refused. All rows, or every problem in line
/// order.
pub(crate) fn check_rows<R, K>(
    table: &Table,
    columns: &Columns,
    programme: Option<&ProgrammeId>,
    reference: &Reference<'_>,
    mut read: impl FnMut(&mut RowChecker<'_, '_>) -> Option<R>,
    key: impl Fn(&R) -> &K,
    duplicate: impl Fn(usize, &R) -> String,
) -> Result<Vec<R>, Vec<Problem>>
where
    K: Eq + Hash + Clone,
{
    if let Some(problem) = reference.check_option(programme, table.header_line) {
        return Err(vec![problem]);
    }
    let mut problems = Vec::new();
    let mut marks = Vec::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<K, usize> = HashMap::new();
    for row in &table.rows {
        let mut checker = RowChecker {
            row,
            columns,
            problems: &mut problems,
            marks: &mut marks,
        };
        let Some(checked) = read(&mut checker) else {
            continue;
        };
        if let Some(first) = seen.get(key(&checked)) {
            let message = duplicate(*first, &checked);
            problems.push(Problem::new(
                row.line,
                None,
                "import.duplicate_row",
                message,
            ));
            continue;
        }
        seen.insert(key(&checked).clone(), row.line);
        rows.push(checked);
    }
    problems.extend(mixed_marks(&marks));
    if problems.is_empty() {
        Ok(rows)
    } else {
        problem::sort(&mut problems);
        Err(problems)
    }
}
