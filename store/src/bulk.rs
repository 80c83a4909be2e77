//! The bulk command path: many commands on many aggregates, their events appended a batch per
//! transaction instead of one command per transaction.
//!
//! Every command is still decided by its aggregate's own `handle`, against the aggregate's state
//! as recorded (loaded for a whole batch in one query), with the same services, and every event
//! carries the metadata a single command's would. A batch is appended in one transaction (one
//! statement on PostgreSQL, statements of a few hundred rows on SQLite) through the same tables
//! and triggers as a single command, so the database assigns positions and times, claims the
//! idempotency keys and refuses anything else exactly as it does for [`CommandBus::execute`].
//! Optimistic concurrency works as for a single command: an event takes the sequence after the
//! one its aggregate was loaded at, so another writer that appended to one of the batch's
//! aggregates (or claimed one of its idempotency keys) in the meantime makes the whole batch
//! fail on the primary key, and the batch is decided again against the fresh state, a bounded
//! number of times.
//!
//! The database's work on one batch and the deciding of the next overlap: a batch is appended
//! by a task of its own while the next one is decided, and committed before that one is
//! appended.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, EventEnvelope};
use serde_json::Value;
use sqlx::Row;

use crate::{
    CommandBus, CommandContext, CommandError, CommandOutcome, Database, Position, StoreError,
};

/// Commands per transaction of a bulk, unless [`CommandBus::with_bulk_batch`] says otherwise.
pub const DEFAULT_BULK_BATCH: usize = 5_000;

/// Aggregate ids per query when loading many aggregates.
const LOAD_CHUNK: usize = 10_000;

/// Rows per `INSERT` statement on SQLite (7 parameters a row, well below SQLite's limit).
const SQLITE_ROWS_PER_STATEMENT: usize = 500;

/// An aggregate as recorded, and the sequence of its last event (0 when it has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A> {
    pub aggregate: A,
    pub sequence: usize,
}

/// One command of a bulk: the aggregate it is for, and the idempotency key and request hash
/// its events carry (the rest of the metadata is the bulk's [`CommandContext`]).
#[derive(Debug, Clone)]
pub struct BulkCommand<A: Aggregate> {
    pub aggregate_id: String,
    pub command: A::Command,
    /// The command's domain name, e.g. `RecordMeasurement`, recorded as the event's `command`.
    pub command_name: &'static str,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

/// What a bulk did, counted by command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Commands whose events were appended.
    pub recorded: usize,
    /// Commands that were accepted but yielded no event.
    pub unchanged: usize,
    /// Commands whose idempotency key was in the log already for the same request: nothing
    /// was appended for them, as [`CommandOutcome::Replayed`].
    pub replayed: usize,
    /// Events appended.
    pub events: usize,
    /// Transactions committed.
    pub batches: usize,
    /// Times a batch was decided again because another writer came first.
    pub conflict_retries: usize,
}

impl BulkOutcome {
    fn add(&mut self, other: &BulkOutcome) {
        self.recorded += other.recorded;
        self.unchanged += other.unchanged;
        self.replayed += other.replayed;
        self.events += other.events;
        self.batches += other.batches;
        self.conflict_retries += other.conflict_retries;
    }

    fn count(&mut self, outcome: CommandOutcome) {
        match outcome {
            CommandOutcome::Recorded => self.recorded += 1,
            CommandOutcome::Unchanged => self.unchanged += 1,
            CommandOutcome::Replayed => self.replayed += 1,
            _ => {}
        }
    }
}

/// Why a bulk stopped: the command at `index` (counted from 0 in the order given) was refused
/// or could not be recorded. Every command before it was recorded (or needed nothing), as
/// `done` counts; it and every command after it recorded nothing.
#[derive(Debug, thiserror::Error)]
#[error("command {index} of the bulk: {error}")]
pub struct BulkFailure<E: std::error::Error> {
    pub index: usize,
    pub error: CommandError<E>,
    pub done: BulkOutcome,
}

/// A batch decided in memory: its events in command order, how each command before the first
/// refusal ended, and that refusal.
struct Decided<E: std::error::Error> {
    events: Vec<SerializedEvent>,
    outcomes: Vec<CommandOutcome>,
    refusal: Option<(usize, CommandError<E>)>,
}

/// How a batch ended: what it recorded and the end of its commands in the bulk, or the command
/// it stopped at, why, and what it recorded before.
type BatchResult<E> = Result<(BulkOutcome, usize), (usize, CommandError<E>, BulkOutcome)>;

impl BulkOutcome {
    /// Adds a batch's result; a failure ends the bulk with everything recorded so far.
    fn record<E: std::error::Error>(
        &mut self,
        result: BatchResult<E>,
        progress: &mut impl FnMut(usize),
    ) -> Result<(), BulkFailure<E>> {
        match result {
            Ok((outcome, end)) => {
                self.add(&outcome);
                progress(end);
                Ok(())
            }
            Err((index, error, outcome)) => {
                self.add(&outcome);
                Err(BulkFailure {
                    index,
                    error,
                    done: *self,
                })
            }
        }
    }
}

/// A decided batch whose events a task of their own is appending.
struct InFlight<'a> {
    offset: usize,
    end: usize,
    ids: HashSet<&'a str>,
    keys: HashSet<&'a str>,
    outcomes: Vec<CommandOutcome>,
    events: usize,
    started: Instant,
    append: tokio::task::JoinHandle<Result<Position, StoreError>>,
}

impl InFlight<'_> {
    /// Whether `batch` names one of this batch's aggregates or idempotency keys.
    fn overlaps<A: Aggregate>(&self, batch: &[BulkCommand<A>]) -> bool {
        batch.iter().any(|c| {
            self.ids.contains(c.aggregate_id.as_str())
                || c.idempotency_key
                    .as_deref()
                    .is_some_and(|k| self.keys.contains(k))
        })
    }
}

fn store_error<E: std::error::Error>(error: StoreError) -> CommandError<E> {
    if error.is_unavailable() {
        CommandError::Unavailable(error.to_string())
    } else {
        CommandError::Internal(error.to_string())
    }
}

/// Whether the database refused a row because another writer holds its key: an event at the
/// same aggregate sequence, or an idempotency key claimed for another request.
fn is_conflict(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
}

impl CommandBus {
    /// Sets how many commands a bulk decides and appends per transaction (at least 1).
    pub fn with_bulk_batch(mut self, commands: usize) -> Self {
        self.bulk_batch = commands.max(1);
        self
    }

    /// The current state of each aggregate in `ids` (one query per 10,000 ids), with the
    /// sequence of its last event. Every id gets an entry; one with no events is the default
    /// aggregate at sequence 0.
    pub async fn load_many<A>(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Loaded<A>>, CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let mut loaded: HashMap<String, Loaded<A>> = ids
            .iter()
            .map(|id| {
                let empty = Loaded {
                    aggregate: A::default(),
                    sequence: 0,
                };
                (id.clone(), empty)
            })
            .collect();
        for chunk in ids.chunks(LOAD_CHUNK) {
            let rows = self
                .db
                .payloads_of(A::TYPE, chunk)
                .await
                .map_err(store_error)?;
            for (id, sequence, payload) in rows {
                let event: A::Event = serde_json::from_value(payload).map_err(|e| {
                    CommandError::Internal(format!(
                        "a stored event could not be read: {} {id} #{sequence}: {e}",
                        A::TYPE
                    ))
                })?;
                if let Some(entry) = loaded.get_mut(&id) {
                    entry.aggregate.apply(event);
                    entry.sequence = usize::try_from(sequence).unwrap_or_default();
                }
            }
        }
        Ok(loaded)
    }

    /// Handles each command on its aggregate, in the order given, and appends the events in
    /// batches of [`with_bulk_batch`](Self::with_bulk_batch) commands, one transaction each.
    ///
    /// `services` gives the services of one batch: each batch (and each new attempt of one)
    /// asks for them anew, so they may cache what they read for that batch
    /// ([`CommandBus::batch_services`]).
    ///
    /// `context` names the actor, role, organisation and request of every command; each command
    /// brings its own idempotency key and request hash. A command whose key is in the log
    /// already for the same request is answered as [`CommandBus::execute`] would (replayed,
    /// nothing appended); for another request it is refused with
    /// [`CommandError::IdempotencyKeyReused`]. `known` may hold states loaded before (by
    /// [`load_many`](Self::load_many)); a batch uses them at first and loads the rest, and a
    /// conflict reloads them all. `progress` hears how many commands are done after each batch.
    ///
    /// While one batch is appended (by a task of its own, on a connection of its own), the next
    /// one is loaded and decided, unless it shares an aggregate or a key with it; it is appended
    /// only once that one is committed, so batches commit in order.
    ///
    /// Stops at the first command refused: the commands before it in its batch are appended,
    /// it and everything after it are not.
    pub async fn execute_bulk<A>(
        &self,
        commands: Vec<BulkCommand<A>>,
        services: impl Fn() -> A::Services,
        context: &CommandContext,
        mut known: HashMap<String, Loaded<A>>,
        mut progress: impl FnMut(usize),
    ) -> Result<BulkOutcome, BulkFailure<A::Error>>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let mut done = BulkOutcome::default();
        // The batch whose events a task of its own appends while the next batch is decided.
        let mut flight: Option<InFlight<'_>> = None;
        let mut start = 0;
        while start < commands.len() {
            let end = (start + self.bulk_batch).min(commands.len());
            let batch = &commands[start..end];
            // A batch that shares an aggregate or a key with the one in flight is decided on
            // what that one recorded.
            if flight.as_ref().is_some_and(|f| f.overlaps(batch)) {
                if let Some(previous) = flight.take() {
                    let landed = self.land(previous, &commands, &services, context).await;
                    done.record(landed, &mut progress)?;
                }
            }
            let started = Instant::now();
            let mut states: HashMap<String, Loaded<A>> = batch
                .iter()
                .filter_map(|c| known.remove_entry(&c.aggregate_id))
                .collect();
            let decided = self
                .prepare(start, batch, &services, context, &mut states)
                .await;
            if let Some(previous) = flight.take() {
                let landed = self.land(previous, &commands, &services, context).await;
                done.record(landed, &mut progress)?;
            }
            let decided = match decided {
                Ok(decided) => decided,
                Err(error) => {
                    let outcome = CommandOutcome::of_error(&error);
                    self.observe(batch[0].command_name, context, outcome, started);
                    return Err(BulkFailure {
                        index: start,
                        error,
                        done,
                    });
                }
            };
            if decided.refusal.is_none() && !decided.events.is_empty() {
                flight = Some(self.take_off(start, batch, decided, started));
            } else {
                // Nothing to append, or a refusal: what comes before it is appended now.
                let result = self
                    .run_batch(start, batch, &services, context, Some(decided), 0, started)
                    .await;
                done.record(result.map(|outcome| (outcome, end)), &mut progress)?;
            }
            start = end;
        }
        if let Some(previous) = flight.take() {
            let landed = self.land(previous, &commands, &services, context).await;
            done.record(landed, &mut progress)?;
        }
        Ok(done)
    }

    /// Loads the batch's aggregates that `states` lacks, looks up its idempotency keys, and
    /// decides it.
    async fn prepare<A>(
        &self,
        offset: usize,
        batch: &[BulkCommand<A>],
        services: &impl Fn() -> A::Services,
        context: &CommandContext,
        states: &mut HashMap<String, Loaded<A>>,
    ) -> Result<Decided<A::Error>, CommandError<A::Error>>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let mut missing: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for command in batch {
            let id = command.aggregate_id.as_str();
            if !states.contains_key(id) && seen.insert(id) {
                missing.push(id.to_owned());
            }
        }
        if !missing.is_empty() {
            states.extend(self.load_many::<A>(&missing).await?);
        }
        let keys: Vec<String> = batch
            .iter()
            .filter_map(|c| c.idempotency_key.clone())
            .collect();
        let claimed = if keys.is_empty() {
            HashSet::new()
        } else {
            self.db
                .claimed_idempotency_keys(&keys)
                .await
                .map_err(store_error)?
        };
        Ok(self
            .decide(offset, batch, &services(), context, states, &claimed)
            .await)
    }

    /// Starts appending a decided batch in a task of its own.
    fn take_off<'a, A, E>(
        &self,
        offset: usize,
        batch: &'a [BulkCommand<A>],
        decided: Decided<E>,
        started: Instant,
    ) -> InFlight<'a>
    where
        A: Aggregate,
        E: std::error::Error,
    {
        let db = self.db.clone();
        let events = decided.events;
        let count = events.len();
        InFlight {
            offset,
            end: offset + batch.len(),
            ids: batch.iter().map(|c| c.aggregate_id.as_str()).collect(),
            keys: batch
                .iter()
                .filter_map(|c| c.idempotency_key.as_deref())
                .collect(),
            outcomes: decided.outcomes,
            events: count,
            started,
            append: tokio::spawn(async move { db.append_events(&events).await }),
        }
    }

    /// Waits until a batch in flight is appended; decides it again when another writer came
    /// first. Answers what it recorded and where the bulk stands then.
    async fn land<A>(
        &self,
        flight: InFlight<'_>,
        commands: &[BulkCommand<A>],
        services: &impl Fn() -> A::Services,
        context: &CommandContext,
    ) -> BatchResult<A::Error>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let batch = &commands[flight.offset..flight.end];
        let appended = match flight.append.await {
            Ok(appended) => appended,
            Err(stopped) => {
                let error = CommandError::Internal(format!("appending a batch stopped: {stopped}"));
                let outcome = CommandOutcome::of_error(&error);
                self.observe(batch[0].command_name, context, outcome, flight.started);
                return Err((flight.offset, error, BulkOutcome::default()));
            }
        };
        match appended {
            Ok(_) => {
                self.committed.notify_one();
                let mut outcome = BulkOutcome {
                    batches: 1,
                    events: flight.events,
                    ..BulkOutcome::default()
                };
                for (command, result) in batch.iter().zip(&flight.outcomes) {
                    outcome.count(*result);
                    self.observe(command.command_name, context, *result, flight.started);
                }
                Ok((outcome, flight.end))
            }
            Err(e) if is_conflict(&e) => self
                .run_batch(
                    flight.offset,
                    batch,
                    services,
                    context,
                    None,
                    1,
                    flight.started,
                )
                .await
                .map(|outcome| (outcome, flight.end)),
            Err(e) => {
                let error = store_error(e);
                let outcome = CommandOutcome::of_error(&error);
                self.observe(batch[0].command_name, context, outcome, flight.started);
                Err((flight.offset, error, BulkOutcome::default()))
            }
        }
    }

    /// Appends one batch whose first command is number `offset` of the bulk: `first` as decided
    /// already, else decided now; decided again (after a pause) whenever another writer came
    /// first, until `conflicts` reaches the bus's limit.
    #[allow(clippy::too_many_arguments)]
    async fn run_batch<A>(
        &self,
        offset: usize,
        batch: &[BulkCommand<A>],
        services: &impl Fn() -> A::Services,
        context: &CommandContext,
        first: Option<Decided<A::Error>>,
        mut conflicts: u32,
        started: Instant,
    ) -> Result<BulkOutcome, (usize, CommandError<A::Error>, BulkOutcome)>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let first_name = batch.first().map_or("", |c| c.command_name);
        let mut outcome = BulkOutcome::default();
        let mut next = first;
        loop {
            if next.is_none() && conflicts > 0 {
                if conflicts > self.conflict_retries {
                    let error = CommandError::Conflict;
                    let result = CommandOutcome::of_error(&error);
                    self.observe(first_name, context, result, started);
                    return Err((offset, error, outcome));
                }
                outcome.conflict_retries += 1;
                if let Some(observer) = &self.observer {
                    observer.conflict_retried(first_name);
                }
                // Spread the retries of concurrent writers apart.
                let jitter = rand::random::<u64>() % (2 << conflicts.min(6));
                tokio::time::sleep(Duration::from_millis(jitter)).await;
            }
            let decided = match next.take() {
                Some(decided) => decided,
                None => {
                    let mut states = HashMap::new();
                    let prepared = self
                        .prepare(offset, batch, services, context, &mut states)
                        .await;
                    match prepared {
                        Ok(decided) => decided,
                        Err(error) => {
                            let result = CommandOutcome::of_error(&error);
                            self.observe(first_name, context, result, started);
                            return Err((offset, error, outcome));
                        }
                    }
                }
            };
            if !decided.events.is_empty() {
                match self.db.append_events(&decided.events).await {
                    Ok(_) => {
                        self.committed.notify_one();
                        outcome.batches += 1;
                        outcome.events += decided.events.len();
                    }
                    Err(e) if is_conflict(&e) => {
                        conflicts += 1;
                        continue;
                    }
                    Err(e) => {
                        let error = store_error(e);
                        let result = CommandOutcome::of_error(&error);
                        self.observe(first_name, context, result, started);
                        return Err((offset, error, outcome));
                    }
                }
            }
            for (command, result) in batch.iter().zip(&decided.outcomes) {
                outcome.count(*result);
                self.observe(command.command_name, context, *result, started);
            }
            return match decided.refusal {
                None => Ok(outcome),
                Some((index, error)) => {
                    let name = batch[index - offset].command_name;
                    self.observe(name, context, CommandOutcome::of_error(&error), started);
                    Err((index, error, outcome))
                }
            };
        }
    }

    fn observe(
        &self,
        command: &str,
        context: &CommandContext,
        outcome: CommandOutcome,
        started: Instant,
    ) {
        if let Some(observer) = &self.observer {
            observer.command_finished(command, context, outcome, started.elapsed());
        }
    }

    /// Handles the batch's commands in order on `states`, up to the first refusal.
    async fn decide<A>(
        &self,
        offset: usize,
        batch: &[BulkCommand<A>],
        services: &A::Services,
        context: &CommandContext,
        states: &mut HashMap<String, Loaded<A>>,
        claimed: &HashSet<String>,
    ) -> Decided<A::Error>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let mut decided = Decided {
            events: Vec::with_capacity(batch.len()),
            outcomes: Vec::with_capacity(batch.len()),
            refusal: None,
        };
        // Keys recorded by earlier commands of this batch: (aggregate id, request hash).
        let mut recorded_keys: HashMap<&str, (&str, Option<&str>)> = HashMap::new();
        for (i, command) in batch.iter().enumerate() {
            let context = CommandContext {
                idempotency_key: command.idempotency_key.clone(),
                request_hash: command.request_hash.clone(),
                ..context.clone()
            };
            match self
                .earlier_in_bulk::<A>(command, &context, &recorded_keys, claimed)
                .await
            {
                Ok(true) => {
                    decided.outcomes.push(CommandOutcome::Replayed);
                    continue;
                }
                Ok(false) => {}
                Err(error) => {
                    decided.refusal = Some((offset + i, error));
                    break;
                }
            }
            let Some(loaded) = states.get_mut(&command.aggregate_id) else {
                let error = CommandError::Internal(format!(
                    "{} {} was not loaded",
                    A::TYPE,
                    command.aggregate_id
                ));
                decided.refusal = Some((offset + i, error));
                break;
            };
            let mut after = loaded.aggregate.clone();
            let sink = EventSink::default();
            if let Err(e) = after.handle(command.command.clone(), services, &sink).await {
                decided.refusal = Some((offset + i, CommandError::Domain(e)));
                break;
            }
            let events = sink.collect().await;
            if events.is_empty() {
                decided.outcomes.push(CommandOutcome::Unchanged);
                loaded.aggregate = after;
                continue;
            }
            let metadata = context.metadata(command.command_name);
            let mut sequence = loaded.sequence;
            let mut serialized = Vec::with_capacity(events.len());
            for payload in events {
                sequence += 1;
                let envelope = EventEnvelope::<A> {
                    aggregate_id: command.aggregate_id.clone(),
                    sequence,
                    payload,
                    metadata: metadata.clone(),
                };
                match SerializedEvent::try_from(&envelope) {
                    Ok(event) => serialized.push(event),
                    Err(e) => {
                        let error =
                            CommandError::Internal(format!("an event could not be written: {e}"));
                        decided.refusal = Some((offset + i, error));
                        return decided;
                    }
                }
            }
            decided.events.extend(serialized);
            decided.outcomes.push(CommandOutcome::Recorded);
            loaded.aggregate = after;
            loaded.sequence = sequence;
            if let Some(key) = &command.idempotency_key {
                recorded_keys.insert(
                    key,
                    (&command.aggregate_id, command.request_hash.as_deref()),
                );
            }
        }
        decided
    }

    /// Whether the command's idempotency key was used already, by an earlier command of the
    /// batch or in the log: `true` for the same request (answer it as replayed), a refusal for
    /// another request, `false` when the key is new (or the command has none).
    async fn earlier_in_bulk<A>(
        &self,
        command: &BulkCommand<A>,
        context: &CommandContext,
        recorded_keys: &HashMap<&str, (&str, Option<&str>)>,
        claimed: &HashSet<String>,
    ) -> Result<bool, CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let Some(key) = command.idempotency_key.as_deref() else {
            return Ok(false);
        };
        if let Some((aggregate_id, hash)) = recorded_keys.get(key) {
            return if *aggregate_id == command.aggregate_id
                && *hash == command.request_hash.as_deref()
            {
                Ok(true)
            } else {
                Err(CommandError::IdempotencyKeyReused)
            };
        }
        if !claimed.contains(key) {
            return Ok(false);
        }
        Ok(self.earlier_result::<A>(context).await?.is_some())
    }
}

impl Database {
    /// The payload of every event of the aggregates `ids` of type `aggregate_type`, with the
    /// aggregate id and sequence, ordered by aggregate and sequence.
    async fn payloads_of(
        &self,
        aggregate_type: &str,
        ids: &[String],
    ) -> Result<Vec<(String, i64, Value)>, StoreError> {
        match self {
            Database::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT aggregate_id, sequence, payload FROM events \
                     WHERE aggregate_type = $1 AND aggregate_id = ANY($2) \
                     ORDER BY aggregate_id, sequence",
                )
                .bind(aggregate_type)
                .bind(ids)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            row.try_get("aggregate_id")?,
                            row.try_get("sequence")?,
                            row.try_get("payload")?,
                        ))
                    })
                    .collect()
            }
            Database::Sqlite(pool) => {
                let ids = serde_json::to_string(ids).map_err(|e| StoreError::CorruptEvent {
                    position: 0,
                    reason: e.to_string(),
                })?;
                let rows = sqlx::query(
                    "SELECT position, aggregate_id, sequence, payload FROM events \
                     WHERE aggregate_type = ?1 \
                       AND aggregate_id IN (SELECT value FROM json_each(?2)) \
                     ORDER BY aggregate_id, sequence",
                )
                .bind(aggregate_type)
                .bind(ids)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let position: i64 = row.try_get("position")?;
                        let payload: String = row.try_get("payload")?;
                        let payload = serde_json::from_str(&payload).map_err(|e| {
                            StoreError::CorruptEvent {
                                position,
                                reason: format!("payload: {e}"),
                            }
                        })?;
                        Ok((
                            row.try_get("aggregate_id")?,
                            row.try_get("sequence")?,
                            payload,
                        ))
                    })
                    .collect()
            }
        }
    }

    /// Which of `keys` an event has claimed (`idempotency_keys`).
    async fn claimed_idempotency_keys(
        &self,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let found: Vec<String> = match self {
            Database::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT idempotency_key FROM idempotency_keys \
                     WHERE idempotency_key = ANY($1)",
                )
                .bind(keys)
                .fetch_all(pool)
                .await?
            }
            Database::Sqlite(pool) => {
                let keys = serde_json::to_string(keys).map_err(|e| StoreError::CorruptEvent {
                    position: 0,
                    reason: e.to_string(),
                })?;
                sqlx::query_scalar(
                    "SELECT idempotency_key FROM idempotency_keys \
                     WHERE idempotency_key IN (SELECT value FROM json_each(?1))",
                )
                .bind(keys)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(found.into_iter().collect())
    }

    /// Appends `events` in their order in one transaction, through the same tables and
    /// triggers as a single command's events: all of them or none. Answers the position of the
    /// last one (the positions of one append are dense and in the events' order).
    pub(crate) async fn append_events(
        &self,
        events: &[SerializedEvent],
    ) -> Result<Position, StoreError> {
        match self {
            Database::Postgres(pool) => {
                let mut types = Vec::with_capacity(events.len());
                let mut ids = Vec::with_capacity(events.len());
                let mut sequences = Vec::with_capacity(events.len());
                let mut event_types = Vec::with_capacity(events.len());
                let mut versions = Vec::with_capacity(events.len());
                let mut payloads = Vec::with_capacity(events.len());
                let mut metadata = Vec::with_capacity(events.len());
                for event in events {
                    types.push(event.aggregate_type.as_str());
                    ids.push(event.aggregate_id.as_str());
                    sequences.push(i64::try_from(event.sequence).unwrap_or(i64::MAX));
                    event_types.push(event.event_type.as_str());
                    versions.push(event.event_version.as_str());
                    payloads.push(&event.payload);
                    metadata.push(&event.metadata);
                }
                let mut tx = pool.begin().await?;
                // One statement: the triggers hand out the positions in the rows' order.
                let last: Option<Position> = sqlx::query_scalar(
                    "WITH appended AS ( \
                       INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                                           event_version, payload, metadata) \
                       SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, \
                              e.event_version, e.payload, e.metadata \
                       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], \
                                   $5::text[], $6::jsonb[], $7::jsonb[]) WITH ORDINALITY \
                            AS e(aggregate_type, aggregate_id, sequence, event_type, \
                                 event_version, payload, metadata, n) \
                       ORDER BY e.n \
                       RETURNING position) \
                     SELECT max(position) FROM appended",
                )
                .bind(types)
                .bind(ids)
                .bind(sequences)
                .bind(event_types)
                .bind(versions)
                .bind(payloads)
                .bind(metadata)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(last.unwrap_or_default())
            }
            Database::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for chunk in events.chunks(SQLITE_ROWS_PER_STATEMENT) {
                    let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                    let sql = format!(
                        "INSERT INTO event_appends (aggregate_type, aggregate_id, sequence, \
                         event_type, event_version, payload, metadata) VALUES {rows}"
                    );
                    let mut query = sqlx::query(&sql);
                    for event in chunk {
                        query = query
                            .bind(event.aggregate_type.as_str())
                            .bind(event.aggregate_id.as_str())
                            .bind(i64::try_from(event.sequence).unwrap_or(i64::MAX))
                            .bind(event.event_type.as_str())
                            .bind(event.event_version.as_str())
                            .bind(&event.payload)
                            .bind(&event.metadata);
                    }
                    query.execute(&mut *tx).await?;
                }
                // The only writer until it commits: the last position is the log's head.
                let last: Option<Position> = sqlx::query_scalar("SELECT max(position) FROM events")
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(last.unwrap_or_default())
            }
        }
    }
}
