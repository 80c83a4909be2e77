use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventStore, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use domain::access::Role;
use domain::metadata;
use tokio::sync::Notify;

use crate::group_commit::{AppendFailure, GroupCommit};
use crate::{Database, EventRepository, Position};

/// Who sends a command, in which role, for which request. Becomes every event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    pub actor: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    /// A hash of the request, compared when a key is used again; see
    /// [`domain::metadata::REQUEST_HASH`].
    pub request_hash: Option<String>,
}

impl CommandContext {
    pub(crate) fn metadata(&self, command: &str) -> HashMap<String, String> {
        let mut m = HashMap::from([
            (metadata::ACTOR.to_owned(), self.actor.clone()),
            (metadata::ROLE.to_owned(), self.role.as_str().to_owned()),
            (metadata::REQUEST_ID.to_owned(), self.request_id.clone()),
            (metadata::COMMAND.to_owned(), command.to_owned()),
        ]);
        if let Some(org) = &self.organisation {
            m.insert(metadata::ORGANISATION.to_owned(), org.clone());
        }
        if let Some(key) = &self.idempotency_key {
            m.insert(metadata::IDEMPOTENCY_KEY.to_owned(), key.clone());
        }
        if let Some(hash) = &self.request_hash {
            m.insert(metadata::REQUEST_HASH.to_owned(), hash.clone());
        }
        m
    }
}

/// Why a command recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command under one of its rules.
    #[error(transparent)]
    Domain(E),
    /// Another writer changed the aggregate first, on every attempt.
    #[error("another change to the same record was recorded first; try again")]
    Conflict,
    /// The database could not be reached.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The idempotency key was used before for a different request.
    #[error("this idempotency key was used before for a different request")]
    IdempotencyKeyReused,
    /// Something that should not happen; details are logged, not shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Its events were appended to the log.
    Recorded,
    /// It was accepted but changed nothing, so nothing was appended.
    Unchanged,
    /// Its idempotency key was in the log already for the same request: the first result was
    /// answered and nothing was appended.
    Replayed,
    /// A rule of the aggregate refused it, or its idempotency key belonged to another request.
    Refused,
    /// Another writer changed the aggregate first on every attempt.
    Conflict,
    /// The database was unavailable, or something else went wrong.
    Error,
}

impl CommandOutcome {
    /// The outcome's name in logs and metrics: `recorded`, `unchanged`, `replayed`,
    /// `refused`, `conflict` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Unchanged => "unchanged",
            Self::Replayed => "replayed",
            Self::Refused => "refused",
            Self::Conflict => "conflict",
            Self::Error => "error",
        }
    }

    pub(crate) fn of_error<E: std::error::Error>(error: &CommandError<E>) -> Self {
        match error {
            CommandError::Domain(_) | CommandError::IdempotencyKeyReused => Self::Refused,
            CommandError::Conflict => Self::Conflict,
            CommandError::Unavailable(_) | CommandError::Internal(_) => Self::Error,
        }
    }
}

/// Hears how every command through a [`CommandBus`] ended, e.g. to count them. Called on the
/// command's task; it must not block.
pub trait CommandObserver: Send + Sync + std::fmt::Debug {
    /// `command` (its domain name, e.g. `AllocateBudget`) ended with `outcome` after `elapsed`,
    /// retries and waiting for its turn included.
    fn command_finished(
        &self,
        command: &str,
        context: &CommandContext,
        outcome: CommandOutcome,
        elapsed: Duration,
    );

    /// `command` met a conflict with another writer and is run again against the fresh state.
    fn conflict_retried(&self, command: &str);
}

/// Runs commands against aggregates loaded from the event log, and appends their events.
///
/// This is cqrs-es's command path (load, handle, commit) in plain event-store mode, without its
/// in-process query dispatch: read models follow the log by position instead.
#[derive(Debug, Clone)]
pub struct CommandBus {
    pub(crate) db: Database,
    pub(crate) conflict_retries: u32,
    pub(crate) committed: Arc<Notify>,
    turns: Arc<AggregateTurns>,
    /// Commands decided at the same time share a commit.
    group: Arc<GroupCommit>,
    pub(crate) observer: Option<Arc<dyn CommandObserver>>,
    /// Commands per transaction of a bulk ([`CommandBus::execute_bulk`]).
    pub(crate) bulk_batch: usize,
    /// The programmes and alliances the rules read, kept between commands.
    pub(crate) kept: Arc<crate::lookup::KeptAggregates>,
}

/// One turn at a time per aggregate within this process: commands on the same aggregate wait
/// for each other instead of racing to a conflict. Writers in other processes still meet
/// conflicts, which the retries handle.
#[derive(Debug, Default)]
struct AggregateTurns {
    locks: std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl AggregateTurns {
    fn lock_for(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = locks.get(&key).and_then(Weak::upgrade) {
            return existing;
        }
        // Forget the locks nobody holds any more, so the map stays as small as the traffic.
        locks.retain(|_, weak| weak.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key, Arc::downgrade(&lock));
        lock
    }
}

impl CommandBus {
    /// A bus that re-runs a command up to 8 times when another writer wins the race.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            conflict_retries: 8,
            committed: Arc::new(Notify::new()),
            turns: Arc::new(AggregateTurns::default()),
            group: Arc::new(GroupCommit::default()),
            observer: None,
            bulk_batch: crate::bulk::DEFAULT_BULK_BATCH,
            kept: Arc::default(),
        }
    }

    /// Tells `observer` how every command ends, and of every conflict retry.
    pub fn with_observer(mut self, observer: Arc<dyn CommandObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Signalled after every commit through this bus: wakes this process's projector.
    pub fn commit_signal(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// The database the bus writes to.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Sets how often a command that met a conflict is re-run against the fresh state.
    pub fn with_conflict_retries(mut self, retries: u32) -> Self {
        self.conflict_retries = retries;
        self
    }

    fn event_store<A: Aggregate>(&self) -> PersistedEventStore<EventRepository, A> {
        PersistedEventStore::new_event_store(EventRepository::new(&self.db))
    }

    /// The current state of one aggregate, from its events.
    pub async fn load<A>(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let context = self
            .event_store::<A>()
            .load_aggregate(aggregate_id)
            .await
            .map_err(from_aggregate_error)?;
        Ok(context.aggregate)
    }

    /// Handles `command` on the aggregate and appends the events it yields, all or nothing.
    /// Returns the aggregate's state after the command.
    pub async fn execute<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        command_name: &str,
        services: &A::Services,
        context: &CommandContext,
    ) -> Result<A, CommandError<A::Error>>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        self.execute_at(aggregate_id, command, command_name, services, context)
            .await
            .map(|(after, _)| after)
    }

    /// As [`execute`](Self::execute), and the log position of the command's last event when
    /// it appended any (`None` when it changed nothing or was answered from an earlier request
    /// with its idempotency key).
    pub async fn execute_at<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        command_name: &str,
        services: &A::Services,
        context: &CommandContext,
    ) -> Result<(A, Option<Position>), CommandError<A::Error>>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let started = Instant::now();
        let result = self
            .run::<A>(aggregate_id, command, command_name, services, context)
            .await;
        if let Some(observer) = &self.observer {
            let outcome = match &result {
                Ok((_, outcome, _)) => *outcome,
                Err(e) => CommandOutcome::of_error(e),
            };
            observer.command_finished(command_name, context, outcome, started.elapsed());
        }
        result.map(|(after, _, position)| (after, position))
    }

    async fn run<A>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        command_name: &str,
        services: &A::Services,
        context: &CommandContext,
    ) -> Result<(A, CommandOutcome, Option<Position>), CommandError<A::Error>>
    where
        A: Aggregate + Clone,
        A::Command: Clone,
    {
        let metadata = context.metadata(command_name);
        let turn = self.turns.lock_for(format!("{}/{aggregate_id}", A::TYPE));
        let _turn = turn.lock().await;
        let mut attempt = 0;
        loop {
            let loaded = self
                .load_unless_keyed::<A>(aggregate_id, context.idempotency_key.as_deref())
                .await?;
            let Some(mut loaded) = loaded else {
                // The key is in the log already: answer as the first request was answered.
                if let Some(first) = self.earlier_result::<A>(context).await? {
                    return Ok((first, CommandOutcome::Replayed, None));
                }
                // Unreachable unless the key's events were just found and are now gone.
                return Err(CommandError::Internal(
                    "the events of an idempotency key could not be read".into(),
                ));
            };
            let sink = EventSink::default();
            loaded
                .aggregate
                .handle(command.clone(), services, &sink)
                .await
                .map_err(CommandError::Domain)?;
            let events = sink.collect().await;
            // The sink applied each event to the aggregate as the handler wrote it.
            let after = loaded.aggregate;
            if events.is_empty() {
                return Ok((after, CommandOutcome::Unchanged, None));
            }
            let serialized = serialize::<A>(aggregate_id, loaded.sequence, &events, &metadata)?;
            match self.group.append(&self.db, serialized).await {
                Ok(position) => {
                    self.committed.notify_one();
                    return Ok((after, CommandOutcome::Recorded, Some(position)));
                }
                Err(AppendFailure::Conflict) if attempt < self.conflict_retries => {
                    attempt += 1;
                    if let Some(observer) = &self.observer {
                        observer.conflict_retried(command_name);
                    }
                    // Spread the retries of concurrent writers apart.
                    let jitter = rand::random::<u64>() % (2 << attempt.min(6));
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(AppendFailure::Conflict) => return Err(CommandError::Conflict),
                Err(AppendFailure::Unavailable(e)) => return Err(CommandError::Unavailable(e)),
                Err(AppendFailure::Internal(e)) => return Err(CommandError::Internal(e)),
            }
        }
    }
}

/// The events a command yielded, as the log stores them: each takes the sequence after the
/// one before, starting after `loaded_at` (the sequence its aggregate was loaded at), and
/// carries the command's metadata.
fn serialize<A: Aggregate>(
    aggregate_id: &str,
    loaded_at: usize,
    events: &[A::Event],
    metadata: &HashMap<String, String>,
) -> Result<Vec<SerializedEvent>, CommandError<A::Error>> {
    events
        .iter()
        .zip(loaded_at + 1..)
        .map(|(payload, sequence)| {
            let envelope = EventEnvelope::<A> {
                aggregate_id: aggregate_id.to_owned(),
                sequence,
                payload: payload.clone(),
                metadata: metadata.clone(),
            };
            SerializedEvent::try_from(&envelope)
                .map_err(|e| CommandError::Internal(format!("an event could not be written: {e}")))
        })
        .collect()
}

impl CommandBus {
    /// The aggregate as recorded, with the sequence of its last event, unless `key` is in the
    /// log already (`None`). One query: the aggregate's events, and whether an event carries
    /// the key.
    async fn load_unless_keyed<A>(
        &self,
        aggregate_id: &str,
        key: Option<&str>,
    ) -> Result<Option<crate::Loaded<A>>, CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let (keyed, rows) = self
            .db
            .events_unless_keyed(A::TYPE, aggregate_id, key, 0)
            .await
            .map_err(|e| {
                if e.is_unavailable() {
                    CommandError::Unavailable(e.to_string())
                } else {
                    CommandError::Internal(e.to_string())
                }
            })?;
        if keyed {
            return Ok(None);
        }
        let mut loaded = crate::Loaded {
            aggregate: A::default(),
            sequence: 0,
        };
        for (sequence, payload) in rows {
            let event: A::Event = serde_json::from_value(payload).map_err(|e| {
                CommandError::Internal(format!(
                    "a stored event could not be read: {} {aggregate_id} #{sequence}: {e}",
                    A::TYPE
                ))
            })?;
            loaded.aggregate.apply(event);
            loaded.sequence = usize::try_from(sequence).unwrap_or_default();
        }
        Ok(Some(loaded))
    }

    /// When the request's idempotency key is in the log already: the aggregate as that request
    /// left it (the first result), or a refusal when the key was used for another request.
    pub(crate) async fn earlier_result<A>(
        &self,
        context: &CommandContext,
    ) -> Result<Option<A>, CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let Some(key) = &context.idempotency_key else {
            return Ok(None);
        };
        let earlier = self
            .db
            .events_with_idempotency_key(key)
            .await
            .map_err(|e| {
                if e.is_unavailable() {
                    CommandError::Unavailable(e.to_string())
                } else {
                    CommandError::Internal(e.to_string())
                }
            })?;
        let Some(last) = earlier.last() else {
            return Ok(None);
        };
        let same_request = earlier.iter().all(|e| {
            e.aggregate_type == A::TYPE
                && e.aggregate_id == last.aggregate_id
                && e.meta(metadata::REQUEST_HASH) == context.request_hash.as_deref()
        });
        if !same_request {
            return Err(CommandError::IdempotencyKeyReused);
        }
        // Replay the aggregate up to the request's last event: exactly what it answered then.
        let events = self
            .event_store::<A>()
            .load_events(&last.aggregate_id)
            .await
            .map_err(from_aggregate_error)?;
        let mut aggregate = A::default();
        for envelope in events {
            if envelope.sequence as i64 > last.sequence {
                break;
            }
            aggregate.apply(envelope.payload);
        }
        Ok(Some(aggregate))
    }
}

fn from_aggregate_error<E: std::error::Error>(err: AggregateError<E>) -> CommandError<E> {
    match err {
        AggregateError::UserError(e) => CommandError::Domain(e),
        AggregateError::AggregateConflict => CommandError::Conflict,
        AggregateError::DatabaseConnectionError(e) => CommandError::Unavailable(e.to_string()),
        AggregateError::DeserializationError(e) => {
            CommandError::Internal(format!("a stored event could not be read: {e}"))
        }
        AggregateError::UnexpectedError(e) => CommandError::Internal(e.to_string()),
    }
}

impl Database {
    /// Whether an event carries the idempotency key `key` (never, without one), and the
    /// sequence and payload of every event of one aggregate after sequence `after`, in order:
    /// one round trip.
    pub(crate) async fn events_unless_keyed(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        key: Option<&str>,
        after: i64,
    ) -> Result<(bool, Vec<(i64, serde_json::Value)>), crate::StoreError> {
        use sqlx::Row;
        let mut keyed = false;
        let mut events = Vec::new();
        match self {
            Database::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT k.keyed, e.sequence, e.payload \
                     FROM (SELECT EXISTS (SELECT 1 FROM events \
                                          WHERE metadata ->> 'idempotency_key' = $3) AS keyed) k \
                     LEFT JOIN events e ON e.aggregate_type = $1 AND e.aggregate_id = $2 \
                                        AND e.sequence > $4 \
                     ORDER BY e.sequence",
                )
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(key)
                .bind(after)
                .fetch_all(pool)
                .await?;
                for row in rows {
                    keyed = row.try_get("keyed")?;
                    if let Some(sequence) = row.try_get::<Option<i64>, _>("sequence")? {
                        events.push((sequence, row.try_get("payload")?));
                    }
                }
            }
            Database::Sqlite(pool) => {
                let rows = sqlx::query(
                    "SELECT k.keyed, e.position, e.sequence, e.payload \
                     FROM (SELECT EXISTS (SELECT 1 FROM events \
                                          WHERE json_extract(metadata, '$.idempotency_key') = ?3) \
                                   AS keyed) k \
                     LEFT JOIN events e ON e.aggregate_type = ?1 AND e.aggregate_id = ?2 \
                                        AND e.sequence > ?4 \
                     ORDER BY e.sequence",
                )
                .bind(aggregate_type)
                .bind(aggregate_id)
                .bind(key)
                .bind(after)
                .fetch_all(pool)
                .await?;
                for row in rows {
                    keyed = row.try_get("keyed")?;
                    if let Some(sequence) = row.try_get::<Option<i64>, _>("sequence")? {
                        let payload: String = row.try_get("payload")?;
                        let payload = serde_json::from_str(&payload).map_err(|e| {
                            crate::StoreError::CorruptEvent {
                                position: row.try_get("position").unwrap_or_default(),
                                reason: format!(
                                    "payload of {aggregate_type} {aggregate_id} #{sequence}: {e}"
                                ),
                            }
                        })?;
                        events.push((sequence, payload));
                    }
                }
            }
        }
        Ok((keyed, events))
    }
}
