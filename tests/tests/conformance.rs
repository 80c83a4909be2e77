//! The storage conformance suite: every backend must pass all of it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, EventStore};
use domain::access::Role;
use domain::budget::{CommitBudget, Fund, FundCommand, RecordExpenditure};
use domain::decision::{
    AdoptDecision, Decision, DecisionCommand, DecisionEvent, DecisionStatus, ProposeDecision, Vote,
    VoteChoice,
};
use domain::ids::{AreaId, BudgetLineId, DecisionId, MemberId, ProgrammeId};
use domain::measurement::{
    CorrectMeasurement, Measurement, MeasurementCommand, MeasurementError, MeasurementKey,
    RecordMeasurement,
};
use domain::programme::Programme;
use domain::RuleViolation;
use projections::notary::{CheckpointPolicy, Notary};
use rust_decimal::Decimal;
use serde_json::json;
use store::{
    BulkCommand, BulkFailure, BulkOutcome, CommandBus, CommandContext, CommandError,
    CommandObserver, CommandOutcome, Database, EventRepository, LogFilter, LoggedEvent,
};
use tests::{
    cli, fixtures, ledger_checksum, on_both_backends, replay_checksum, Backend, LedgerProcess,
    TestDb, TestServer,
};
use uuid::Uuid;

fn context() -> CommandContext {
    CommandContext {
        actor: "Sanne de Secretaris".into(),
        role: Role::Secretary,
        organisation: Some("Programmabureau Dordt West".into()),
        request_id: "req-42".into(),
        idempotency_key: None,
        request_hash: None,
    }
}

/// A request that carries an idempotency key (each key names one request).
fn keyed_context() -> CommandContext {
    CommandContext {
        idempotency_key: Some("key-7".into()),
        request_hash: Some("hash-9".into()),
        ..context()
    }
}

fn propose(id: DecisionId, title: &str) -> DecisionCommand {
    DecisionCommand::Propose(ProposeDecision {
        decision_id: id,
        programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
        title: title.into(),
        description: String::new(),
    })
}

fn adopt() -> DecisionCommand {
    let member = |m: &str| MemberId::parse(m).expect("slug");
    DecisionCommand::Adopt(AdoptDecision {
        meeting_id: fixtures::meeting_id(),
        votes: vec![
            Vote {
                member: member("gemeente"),
                choice: VoteChoice::For,
            },
            Vote {
                member: member("rijk"),
                choice: VoteChoice::Consent,
            },
        ],
    })
}

async fn run(bus: &CommandBus, id: DecisionId, command: DecisionCommand) -> Decision {
    let name = command.name();
    bus.execute::<Decision>(&id.to_string(), command, name, &bus.services(), &context())
        .await
        .expect("the command is recorded")
}

/// Handles an adoption on a loaded decision without committing it.
async fn decide(aggregate: &mut Decision, bus: &CommandBus) -> Vec<DecisionEvent> {
    let sink = cqrs_es::event_sink::EventSink::default();
    aggregate
        .handle(adopt(), &bus.services(), &sink)
        .await
        .expect("adoption is allowed");
    sink.collect().await
}

async fn whole_log(db: &Database) -> Vec<LoggedEvent> {
    db.read_log(0, 100_000, &LogFilter::default())
        .await
        .expect("read the log")
}

fn assert_well_ordered(log: &[LoggedEvent]) {
    for (i, event) in log.iter().enumerate() {
        assert_eq!(event.position, i as i64 + 1, "positions are dense from 1");
    }
    for pair in log.windows(2) {
        assert!(
            pair[0].recorded_at <= pair[1].recorded_at,
            "recorded_at never decreases: {} then {}",
            pair[0].recorded_at,
            pair[1].recorded_at
        );
    }
}

async fn events_are_appended_and_loaded_back(t: TestDb) {
    let start = t.with_programme().await;
    let bus = CommandBus::new(t.db.clone());
    let id = DecisionId::from_uuid(Uuid::new_v4());
    run(&bus, id, propose(id, "Vaststellen programma")).await;
    let after = run(&bus, id, adopt()).await;
    assert_eq!(
        after.state().map(|s| s.status),
        Some(DecisionStatus::Adopted)
    );

    let loaded: Decision = bus.load(&id.to_string()).await.expect("load");
    assert_eq!(loaded, after, "loading replays to the same state");

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    let kinds: Vec<_> = log[start as usize..]
        .iter()
        .map(|e| (e.sequence, e.event_type.as_str(), e.aggregate_type.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, "DecisionProposed", "Decision"),
            (2, "DecisionAdopted", "Decision")
        ]
    );
    assert_eq!(t.db.head().await.expect("head"), start + 2);
    let only_this =
        t.db.read_log(
            start + 1,
            10,
            &LogFilter {
                aggregate_id: Some(id.to_string()),
                ..LogFilter::default()
            },
        )
        .await
        .expect("read after 1");
    assert_eq!(only_this.len(), 1);
    assert_eq!(only_this[0].event_type, "DecisionAdopted");
}

async fn concurrent_commands_on_one_aggregate_give_one_success_and_one_conflict(t: TestDb) {
    let start = t.with_programme().await;
    let bus = CommandBus::new(t.db.clone());
    let id = DecisionId::from_uuid(Uuid::new_v4());
    run(&bus, id, propose(id, "Eén voorstel")).await;

    // Two writers load the same state, decide, and commit at the same time.
    let store = PersistedEventStore::<EventRepository, Decision>::new_event_store(
        EventRepository::new(&t.db),
    );
    let other = t.reconnect().await;
    let other_store = PersistedEventStore::<EventRepository, Decision>::new_event_store(
        EventRepository::new(&other),
    );
    let agg = id.to_string();
    let mut first = store.load_aggregate(&agg).await.expect("load");
    let mut second = other_store.load_aggregate(&agg).await.expect("load");
    let first_events = decide(&mut first.aggregate, &bus).await;
    let second_events = decide(&mut second.aggregate, &bus).await;
    let (a, b) = tokio::join!(
        store.commit(first_events, first, HashMap::new()),
        other_store.commit(second_events, second, HashMap::new()),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "exactly one commit wins"
    );
    let loser = if a.is_ok() { b } else { a };
    assert!(
        matches!(loser, Err(AggregateError::AggregateConflict)),
        "the other is told it conflicted, got {loser:?}"
    );

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(
        log.len() as i64,
        start + 2,
        "one proposal and one adoption, nothing lost or doubled"
    );

    // Through the bus, a conflicting command is re-run against the fresh state instead.
    let strict = CommandBus::new(t.db.clone()).with_conflict_retries(0);
    let refused = strict
        .execute::<Decision>(
            &agg,
            adopt(),
            "AdoptDecision",
            &strict.services(),
            &context(),
        )
        .await;
    assert!(
        matches!(refused, Err(store::CommandError::Domain(_))),
        "the adopted decision is final"
    );
    other.close().await;
}

/// Eight writers in two server processes record 100 decisions while a reader tails the log.
async fn concurrent_writers_in_two_processes_keep_one_gapless_order(t: TestDb) {
    const DECISIONS: usize = 100;
    const WRITERS: usize = 8;
    let start = t.with_programme().await as usize;
    let token = t.token("Schrijver", Role::Secretary, None).await;
    let servers = [
        LedgerProcess::start(&t).await,
        LedgerProcess::start(&t).await,
    ];

    let reader_db = t.reconnect().await;
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let reader = tokio::spawn(async move {
        let mut seen: Vec<LoggedEvent> = Vec::new();
        loop {
            let finished = *done_rx.borrow();
            let after = seen.last().map_or(0, |e| e.position);
            let page = reader_db
                .read_log(after, 37, &LogFilter::default())
                .await
                .expect("tail the log");
            let empty = page.is_empty();
            seen.extend(page);
            if finished && empty {
                break;
            }
            if empty {
                let _ = tokio::time::timeout(Duration::from_millis(5), done_rx.changed()).await;
            }
        }
        reader_db.close().await;
        seen
    });

    let ids: Vec<Uuid> = (0..DECISIONS).map(|_| Uuid::new_v4()).collect();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = servers[w % 2].client().with_token(&token);
        let mine: Vec<Uuid> = ids.iter().copied().skip(w).step_by(WRITERS).collect();
        writers.push(tokio::spawn(async move {
            for id in &mine {
                client
                    .query(
                        "mutation($id: ID!) { proposeDecision(input: {programmeId: \"dordt-west\", \
                         title: \"Besluit\", decisionId: $id}) { id } }",
                        json!({ "id": id.to_string() }),
                    )
                    .await
                    .expect_ok();
            }
            for id in &mine {
                client
                    .query(
                        "mutation($id: ID!, $meeting: ID!) { adoptDecision(input: {decisionId: $id, \
                         meetingId: $meeting, votes: [{member: \"gemeente\", choice: FOR}, \
                         {member: \"rijk\", choice: FOR}]}) { status } }",
                        json!({ "id": id.to_string(), "meeting": fixtures::meeting_id().to_string() }),
                    )
                    .await
                    .expect_ok();
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer finished");
    }
    done_tx.send(true).expect("reader is listening");
    let seen = reader.await.expect("reader finished");

    let log = whole_log(&t.db).await;
    assert_eq!(
        log.len(),
        start + DECISIONS * 2,
        "every command recorded once"
    );
    assert_well_ordered(&log);
    assert_eq!(
        seen, log,
        "the tailing reader saw exactly the final log, in order: no gap was filled later"
    );
    let keys: HashSet<_> = log
        .iter()
        .map(|e| (e.aggregate_type.clone(), e.aggregate_id.clone(), e.sequence))
        .collect();
    assert_eq!(keys.len(), log.len());
    assert!(seen.len() == log.len());
    for id in ids {
        let mine: Vec<_> = log
            .iter()
            .filter(|e| e.aggregate_id == id.to_string())
            .map(|e| e.event_type.as_str())
            .collect();
        assert_eq!(mine, vec!["DecisionProposed", "DecisionAdopted"]);
    }
}

async fn history_cannot_be_changed_by_hand(t: TestDb) {
    t.with_programme().await;
    let bus = CommandBus::new(t.db.clone());
    let id = DecisionId::from_uuid(Uuid::new_v4());
    run(&bus, id, propose(id, "Vaststellen programma")).await;
    run(&bus, id, adopt()).await;
    let before = whole_log(&t.db).await;

    let mut statements = vec![
        "UPDATE events SET payload = '{}'".to_owned(),
        "DELETE FROM events".to_owned(),
        "DELETE FROM events WHERE position = 2".to_owned(),
        "UPDATE events SET recorded_at = recorded_at WHERE position = 1".to_owned(),
    ];
    match t.backend() {
        Backend::Postgres => {
            statements.push("TRUNCATE events".into());
            statements.push("UPDATE event_log_head SET position = 0".into());
            statements.push("DELETE FROM event_log_head".into());
        }
        Backend::Sqlite => {
            // A forged event must take the next position, not rewrite an earlier one.
            statements.push(
                "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, recorded_at) VALUES (1, 'Decision', 'x', 1, \
                 'DecisionProposed', '1', '{}', '{}', '2999-01-01T00:00:00.000Z')"
                    .into(),
            );
        }
    }
    for sql in &statements {
        let result = match &t.db {
            Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        };
        let err = result.expect_err(&format!("the database refuses {sql}"));
        let message = err.to_string();
        assert!(
            message.contains("append-only") || message.contains("only moves forward"),
            "{sql}: the refusal comes from the database and says why: {message}"
        );
    }
    assert_eq!(whole_log(&t.db).await, before, "the log is unchanged");
}

async fn metadata_names_who_recorded_what(t: TestDb) {
    let start = t.with_programme().await as usize;
    let bus = CommandBus::new(t.db.clone());
    let id = DecisionId::from_uuid(Uuid::new_v4());
    let command = propose(id, "Vaststellen programma");
    bus.execute::<Decision>(
        &id.to_string(),
        command,
        "ProposeDecision",
        &bus.services(),
        &keyed_context(),
    )
    .await
    .expect("the command is recorded");
    let log = whole_log(&t.db).await[start..].to_vec();
    assert_eq!(
        log[0].metadata,
        json!({
            "actor": "Sanne de Secretaris",
            "role": "secretary",
            "organisation": "Programmabureau Dordt West",
            "request_id": "req-42",
            "idempotency_key": "key-7",
            "request_hash": "hash-9",
            "command": "ProposeDecision",
        })
    );
    let payload: DecisionEvent =
        serde_json::from_value(log[0].payload.clone()).expect("payload decodes");
    assert!(matches!(payload, DecisionEvent::DecisionProposed { .. }));
    assert_eq!(<Decision as Aggregate>::TYPE, log[0].aggregate_type);
}

async fn export_writes_every_column_and_reads_back_the_same(t: TestDb) {
    let start = t.with_programme().await;
    let bus = CommandBus::new(t.db.clone());
    for n in 0..3 {
        let id = DecisionId::from_uuid(Uuid::new_v4());
        run(&bus, id, propose(id, &format!("Besluit {n}"))).await;
        run(&bus, id, adopt()).await;
    }
    let log = whole_log(&t.db).await;

    let mut buffer = Vec::new();
    let count = t.db.export(&mut buffer, None).await.expect("export");
    assert_eq!(count as i64, start + 6);
    let text = String::from_utf8(buffer).expect("UTF-8");
    let back: Vec<LoggedEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one event"))
        .collect();
    assert_eq!(back, log, "the export reads back as the log");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("JSON");
    for column in [
        "position",
        "recorded_at",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "event_type",
        "event_version",
        "payload",
        "metadata",
    ] {
        assert!(first.get(column).is_some(), "the export has {column}");
    }

    // The command line writes the same file, and stops where asked.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export.jsonl");
    let out = cli(
        Some(&t),
        &["export", "--output", path.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read export"), text);
    let out = cli(Some(&t), &["export", "--until", "2"]);
    assert!(out.status.success());
    let lines: Vec<LoggedEvent> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    assert_eq!(lines, log[..2].to_vec());
}

fn as_actor(actor: &str) -> CommandContext {
    CommandContext {
        actor: actor.into(),
        ..context()
    }
}

async fn run_as(bus: &CommandBus, actor: &str, id: DecisionId, command: DecisionCommand) {
    let name = command.name();
    bus.execute::<Decision>(
        &id.to_string(),
        command,
        name,
        &bus.services(),
        &as_actor(actor),
    )
    .await
    .expect("the command is recorded");
}

/// What a filter means, written out over the whole log: the reference the database must match.
fn matches(event: &LoggedEvent, after: i64, filter: &LogFilter) -> bool {
    event.position > after
        && filter
            .aggregate_type
            .as_ref()
            .is_none_or(|t| &event.aggregate_type == t)
        && filter
            .aggregate_id
            .as_ref()
            .is_none_or(|id| &event.aggregate_id == id)
        && filter
            .actor
            .as_deref()
            .is_none_or(|a| event.meta("actor") == Some(a))
        && filter.from.is_none_or(|from| event.recorded_at >= from)
        && filter.to.is_none_or(|to| event.recorded_at < to)
}

fn positions(events: &[LoggedEvent]) -> Vec<i64> {
    events.iter().map(|e| e.position).collect()
}

/// Reads every event the filter takes, `page` at a time, continuing after the last position.
async fn read_in_pages(db: &Database, filter: &LogFilter, page: u32) -> Vec<LoggedEvent> {
    let mut out: Vec<LoggedEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.position);
        let next = db.read_log(after, page, filter).await.expect("read a page");
        let done = next.len() < page as usize;
        out.extend(next);
        if done {
            return out;
        }
    }
}

async fn the_log_is_read_by_actor_and_time_with_the_other_filters(t: TestDb) {
    const SANNE: &str = "Sanne de Secretaris";
    // A quote in a name must reach the database as a value, never as SQL.
    const ANNE_MARIE: &str = "Anne-Marie 't Hart";
    let start = t.with_programme().await;
    let bus = CommandBus::new(t.db.clone());
    let ids: Vec<DecisionId> = (0..4)
        .map(|_| DecisionId::from_uuid(Uuid::new_v4()))
        .collect();
    // Three rounds, far enough apart that each starts at a later recorded time on both backends.
    run_as(
        &bus,
        SANNE,
        ids[0],
        propose(ids[0], "Vaststellen programma"),
    )
    .await;
    run_as(&bus, SANNE, ids[1], propose(ids[1], "Uitvoeringsprogramma")).await;
    tokio::time::sleep(Duration::from_millis(25)).await;
    run_as(&bus, ANNE_MARIE, ids[2], propose(ids[2], "Elf scholen")).await;
    run_as(&bus, ANNE_MARIE, ids[0], adopt()).await;
    tokio::time::sleep(Duration::from_millis(25)).await;
    run_as(&bus, SANNE, ids[1], adopt()).await;
    run_as(&bus, SANNE, ids[3], propose(ids[3], "Streefwaarden")).await;

    let log = whole_log(&t.db).await;
    assert_eq!(log.len() as i64, start + 6);
    let round_two = &log[start as usize + 2];
    let round_three = &log[start as usize + 4];
    assert!(round_two.recorded_at > log[start as usize + 1].recorded_at);
    assert!(round_three.recorded_at > log[start as usize + 3].recorded_at);
    let (b, c) = (round_two.recorded_at, round_three.recorded_at);
    let nano = chrono::TimeDelta::nanoseconds(1);
    let filter = LogFilter::default;

    let cases: Vec<(&str, i64, LogFilter, Option<Vec<i64>>)> = vec![
        ("nothing", 0, filter(), Some(positions(&log))),
        (
            "actor",
            0,
            LogFilter {
                actor: Some(ANNE_MARIE.into()),
                ..filter()
            },
            Some(vec![start + 3, start + 4]),
        ),
        (
            "other actor",
            0,
            LogFilter {
                actor: Some(SANNE.into()),
                ..filter()
            },
            Some(vec![start + 1, start + 2, start + 5, start + 6]),
        ),
        (
            "actor is exact, not a prefix",
            0,
            LogFilter {
                actor: Some("Sanne".into()),
                ..filter()
            },
            Some(vec![]),
        ),
        (
            "from is inclusive",
            0,
            LogFilter {
                from: Some(b),
                ..filter()
            },
            Some(vec![start + 3, start + 4, start + 5, start + 6]),
        ),
        (
            "to is exclusive",
            0,
            LogFilter {
                to: Some(b),
                ..filter()
            },
            Some((1..=start + 2).collect()),
        ),
        (
            "from and to",
            0,
            LogFilter {
                from: Some(b),
                to: Some(c),
                ..filter()
            },
            Some(vec![start + 3, start + 4]),
        ),
        (
            "from just after an event's time",
            0,
            LogFilter {
                from: Some(b + nano),
                ..filter()
            },
            None,
        ),
        (
            "to just after an event's time",
            0,
            LogFilter {
                to: Some(b + nano),
                ..filter()
            },
            None,
        ),
        (
            "actor, type and from",
            0,
            LogFilter {
                actor: Some(SANNE.into()),
                aggregate_type: Some("Decision".into()),
                from: Some(b),
                ..filter()
            },
            Some(vec![start + 5, start + 6]),
        ),
        (
            "actor and aggregate",
            0,
            LogFilter {
                actor: Some(ANNE_MARIE.into()),
                aggregate_id: Some(ids[0].to_string()),
                ..filter()
            },
            Some(vec![start + 4]),
        ),
        (
            "every filter and after",
            start + 2,
            LogFilter {
                aggregate_type: Some("Decision".into()),
                aggregate_id: Some(ids[1].to_string()),
                actor: Some(SANNE.into()),
                from: Some(log[0].recorded_at),
                to: Some(c + chrono::TimeDelta::seconds(1)),
            },
            Some(vec![start + 5]),
        ),
        (
            "to before from",
            0,
            LogFilter {
                from: Some(c),
                to: Some(b),
                ..filter()
            },
            Some(vec![]),
        ),
        (
            "to equal to from",
            0,
            LogFilter {
                from: Some(b),
                to: Some(b),
                ..filter()
            },
            Some(vec![]),
        ),
    ];
    for (name, after, filter, want) in cases {
        let reference: Vec<LoggedEvent> = log
            .iter()
            .filter(|e| matches(e, after, &filter))
            .cloned()
            .collect();
        if let Some(want) = want {
            assert_eq!(positions(&reference), want, "{name}: the reference itself");
        }
        let got =
            t.db.read_log(after, 1_000, &filter)
                .await
                .expect("read the log");
        assert_eq!(got, reference, "{name}");
        if after == 0 {
            let paged = read_in_pages(&t.db, &filter, 2).await;
            assert_eq!(paged, reference, "{name}, read two at a time");
        }
    }
}

/// Leaf hashes are recorded once per position: a second writer (another server) recording the
/// same leaves changes nothing, one recording a different hash for a position is told which, and
/// the table refuses changes like the log does.
async fn audit_leaves_are_recorded_once_and_differences_reported(t: TestDb) {
    let h = |n: u8| [n; 32];
    assert_eq!(
        t.db.record_leaves(&[(1, h(1)), (2, h(2))])
            .await
            .expect("record"),
        Vec::<i64>::new()
    );
    assert_eq!(
        t.db.record_leaves(&[(2, h(2)), (3, h(3))])
            .await
            .expect("record"),
        Vec::<i64>::new()
    );
    assert_eq!(
        t.db.record_leaves(&[(3, h(9)), (4, h(4)), (2, h(8))])
            .await
            .expect("record"),
        vec![2, 3],
        "the positions recorded before with another hash"
    );
    let stored = t.db.read_leaves(0, 10).await.expect("read");
    assert_eq!(
        stored,
        vec![
            (1, h(1).to_vec()),
            (2, h(2).to_vec()),
            (3, h(3).to_vec()),
            (4, h(4).to_vec())
        ],
        "the first hash recorded stays"
    );
    assert_eq!(
        t.db.read_leaves(2, 1).await.expect("read"),
        vec![(3, h(3).to_vec())]
    );
    let refused = match &t.db {
        Database::Postgres(pool) => sqlx::query("UPDATE audit_leaves SET leaf_hash = leaf_hash")
            .execute(pool)
            .await
            .is_err(),
        Database::Sqlite(pool) => sqlx::query("DELETE FROM audit_leaves WHERE position = 1")
            .execute(pool)
            .await
            .is_err(),
    };
    assert!(refused, "the audit trail is append-only");
}

// The bulk path: many commands decided in memory, their events appended a batch per
// transaction, with every invariant of a single command.

/// The demo ledger, whose programme has indicators and areas to measure; returns its head.
async fn demo(t: &TestDb) -> usize {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    t.db.head().await.expect("head") as usize
}

/// `n` new measurements of the demo programme, one per indicator, area and day from
/// 2023-01-01, each under its own idempotency key and request hash.
async fn records(t: &TestDb, n: usize) -> Vec<BulkCommand<Measurement>> {
    let programme = CommandBus::new(t.db.clone())
        .load::<Programme>("dordt-west")
        .await
        .expect("load the programme");
    let state = programme.state().expect("the demo programme");
    let indicators = state.indicators_in_order();
    let areas = state.areas_in_order();
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date");
    (0..n)
        .map(|i| {
            let pair = i % (indicators.len() * areas.len());
            let day = (i / (indicators.len() * areas.len())) as u64;
            let key = MeasurementKey {
                programme_id: state.id.clone(),
                indicator: indicators[pair / areas.len()].key.clone(),
                area: areas[pair % areas.len()].id.clone(),
                period: domain::period::Period::Day(first + Days::new(day)),
            };
            let aggregate_id = key.aggregate_id();
            BulkCommand {
                command: MeasurementCommand::Record(RecordMeasurement {
                    key,
                    value: Decimal::new(i as i64, 1),
                    source: "CBS Kerncijfers wijken en buurten".into(),
                    published_on: NaiveDate::from_ymd_opt(2024, 5, 15).expect("a date"),
                    illustrative: false,
                }),
                command_name: "RecordMeasurement",
                idempotency_key: Some(format!("bulk/{aggregate_id}")),
                request_hash: Some(format!("hash-{i}")),
                aggregate_id,
            }
        })
        .collect()
}

/// A correction of the measurement `aggregate_id` to `value`, published on 1 September 2024.
fn correction(aggregate_id: &str, value: i64, key: &str) -> BulkCommand<Measurement> {
    BulkCommand {
        aggregate_id: aggregate_id.to_owned(),
        command: MeasurementCommand::Correct(CorrectMeasurement {
            value: Decimal::new(value, 1),
            reason: "Herziene cijfers".into(),
            source: None,
            published_on: NaiveDate::from_ymd_opt(2024, 9, 1).expect("a date"),
        }),
        command_name: "CorrectMeasurement",
        idempotency_key: Some(key.to_owned()),
        request_hash: Some(format!("hash-{key}")),
    }
}

fn importer(request: &str) -> CommandContext {
    CommandContext {
        actor: "Importeur".into(),
        request_id: request.into(),
        ..context()
    }
}

/// The context a single command with the key and hash of `command` carries.
fn single(command: &BulkCommand<Measurement>, request: &str) -> CommandContext {
    CommandContext {
        idempotency_key: command.idempotency_key.clone(),
        request_hash: command.request_hash.clone(),
        ..importer(request)
    }
}

async fn bulk(
    bus: &CommandBus,
    commands: Vec<BulkCommand<Measurement>>,
    request: &str,
) -> Result<BulkOutcome, BulkFailure<MeasurementError>> {
    bus.execute_bulk::<Measurement>(
        commands,
        || bus.batch_services(),
        &importer(request),
        HashMap::new(),
        |_| {},
    )
    .await
}

async fn execute_single(
    bus: &CommandBus,
    command: &BulkCommand<Measurement>,
    context: &CommandContext,
) -> Result<Measurement, CommandError<MeasurementError>> {
    bus.execute::<Measurement>(
        &command.aggregate_id,
        command.command.clone(),
        command.command_name,
        &bus.services(),
        context,
    )
    .await
}

async fn a_bulk_append_keeps_the_log_dense_in_command_order_with_every_event_s_metadata(t: TestDb) {
    let start = demo(&t).await;
    let bus = CommandBus::new(t.db.clone()).with_bulk_batch(1_000);
    let mut commands = records(&t, 2_345).await;
    // The same bulk corrects its first measurement: the next sequence of that aggregate.
    let first = commands[0].aggregate_id.clone();
    commands.push(correction(&first, 99, "bulk/correction"));
    let mut progress = Vec::new();
    let outcome = bus
        .execute_bulk::<Measurement>(
            commands.clone(),
            || bus.batch_services(),
            &importer("import-1"),
            HashMap::new(),
            |done| progress.push(done),
        )
        .await
        .expect("the bulk is recorded");
    assert_eq!(
        outcome,
        BulkOutcome {
            recorded: 2_346,
            events: 2_346,
            batches: 3,
            ..BulkOutcome::default()
        }
    );
    assert_eq!(progress, [1_000, 2_000, 2_346]);

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(log.len(), start + 2_346);
    for (event, command) in log[start..].iter().zip(&commands) {
        assert_eq!(event.aggregate_type, "Measurement");
        assert_eq!(
            event.aggregate_id, command.aggregate_id,
            "in the order given"
        );
        assert_eq!(event.meta("actor"), Some("Importeur"));
        assert_eq!(event.meta("role"), Some("secretary"));
        assert_eq!(
            event.meta("organisation"),
            Some("Programmabureau Dordt West")
        );
        assert_eq!(event.meta("request_id"), Some("import-1"));
        assert_eq!(event.meta("command"), Some(command.command_name));
        assert_eq!(
            event.meta("idempotency_key"),
            command.idempotency_key.as_deref()
        );
        assert_eq!(event.meta("request_hash"), command.request_hash.as_deref());
    }
    let last = log.last().expect("events");
    assert_eq!(
        (last.event_type.as_str(), last.sequence),
        ("MeasurementCorrected", 2)
    );
    assert!(log[start..log.len() - 1].iter().all(|e| e.sequence == 1));

    // The state loaded in bulk is the state loaded one by one.
    let ids: Vec<String> = commands[..50]
        .iter()
        .map(|c| c.aggregate_id.clone())
        .collect();
    let loaded = bus.load_many::<Measurement>(&ids).await.expect("load");
    for id in &ids {
        let one: Measurement = bus.load(id).await.expect("load");
        assert_eq!(loaded[id].aggregate, one);
        let expected = if *id == first { 2 } else { 1 };
        assert_eq!(loaded[id].sequence, expected);
    }
    let corrected = loaded[&first].aggregate.state().expect("recorded");
    assert_eq!(corrected.value.to_string(), "9.9");
    assert_eq!(corrected.corrections, 1);
}

async fn a_refused_command_stops_a_bulk_with_the_commands_before_it_recorded(t: TestDb) {
    let start = demo(&t).await;
    let bus = CommandBus::new(t.db.clone()).with_bulk_batch(100);
    let mut commands = records(&t, 250).await;
    if let MeasurementCommand::Record(record) = &mut commands[150].command {
        record.key.area = AreaId::parse("zuidwijk").expect("a slug");
        commands[150].aggregate_id = record.key.aggregate_id();
    }
    let failure = bulk(&bus, commands.clone(), "import-1")
        .await
        .expect_err("an unknown area is refused");
    assert_eq!(failure.index, 150);
    match &failure.error {
        CommandError::Domain(e) => assert_eq!(e.rule(), "reference.known_area"),
        other => panic!("a refusal by the rules, got {other:?}"),
    }
    assert_eq!(failure.done.recorded, 150);
    assert_eq!(
        failure.done.batches, 2,
        "the refused command's batch up to it"
    );

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    let recorded: Vec<&str> = log[start..]
        .iter()
        .map(|e| e.aggregate_id.as_str())
        .collect();
    let expected: Vec<&str> = commands[..150]
        .iter()
        .map(|c| c.aggregate_id.as_str())
        .collect();
    assert_eq!(recorded, expected, "the commands before it, none after it");
}

async fn idempotency_keys_hold_across_bulks_and_single_commands(t: TestDb) {
    let start = demo(&t).await;
    let bus = CommandBus::new(t.db.clone()).with_bulk_batch(100);
    let commands = records(&t, 300).await;
    // A single command records one of the rows first, under the row's key.
    execute_single(&bus, &commands[10], &single(&commands[10], "single-1"))
        .await
        .expect("recorded");

    let outcome = bulk(&bus, commands.clone(), "import-1")
        .await
        .expect("recorded");
    assert_eq!((outcome.recorded, outcome.replayed), (299, 1));
    let head = t.db.head().await.expect("head");
    assert_eq!(head as usize, start + 300, "every row once");

    // The same bulk again (a re-import) records nothing.
    let again = bulk(&bus, commands.clone(), "import-2")
        .await
        .expect("answered");
    assert_eq!(
        again,
        BulkOutcome {
            replayed: 300,
            ..BulkOutcome::default()
        }
    );
    assert_eq!(t.db.head().await.expect("head"), head);

    // A single command under a key of the bulk answers the bulk's result and records nothing.
    let answered = execute_single(&bus, &commands[20], &single(&commands[20], "single-2"))
        .await
        .expect("the earlier result");
    let recorded: Measurement = bus.load(&commands[20].aggregate_id).await.expect("load");
    assert_eq!(answered, recorded);
    assert_eq!(t.db.head().await.expect("head"), head);

    // Another request under a used key is refused, alone and in a bulk.
    let mut other = commands[30].clone();
    other.request_hash = Some("another request".into());
    let refused = execute_single(&bus, &other, &single(&other, "single-3")).await;
    assert!(
        matches!(refused, Err(CommandError::IdempotencyKeyReused)),
        "{refused:?}"
    );
    let mut reused = commands[..50].to_vec();
    reused.push(other);
    let failure = bulk(&bus, reused, "import-3")
        .await
        .expect_err("a reused key is refused");
    assert_eq!(failure.index, 50);
    assert!(matches!(failure.error, CommandError::IdempotencyKeyReused));
    assert_eq!(failure.done.replayed, 50);
    assert_eq!(t.db.head().await.expect("head"), head, "nothing recorded");
}

/// Commitments (and every fifth an expenditure) of `count` euros 1,000 and up on one allocation
/// of the fund `fund`, numbered from `first`, each under its own key.
fn lines_on(
    fund: &str,
    allocation: domain::ids::AllocationId,
    first: usize,
    count: usize,
) -> Vec<BulkCommand<Fund>> {
    (first..first + count)
        .map(|i| {
            let line_id = BudgetLineId::from_uuid(Uuid::new_v4());
            let amount = domain::money::Cents::euros(1_000 + i as i64);
            let date = NaiveDate::from_ymd_opt(2027, 1, 1).expect("a date") + Days::new(i as u64);
            let description = format!("Regel {i}");
            let command = if i % 5 == 4 {
                FundCommand::RecordExpenditure(RecordExpenditure {
                    line_id,
                    allocation_id: allocation,
                    amount,
                    description,
                    date,
                })
            } else {
                FundCommand::Commit(CommitBudget {
                    line_id,
                    allocation_id: allocation,
                    amount,
                    description,
                    date,
                })
            };
            BulkCommand {
                aggregate_id: fund.to_owned(),
                command_name: command.name(),
                command,
                idempotency_key: Some(format!("bulk/{fund}/{i}")),
                request_hash: Some(format!("hash-{i}")),
            }
        })
        .collect()
}

async fn a_bulk_of_many_commands_on_one_aggregate_appends_its_sequences_in_order(t: TestDb) {
    let start = demo(&t).await;
    let bus = CommandBus::new(t.db.clone()).with_bulk_batch(10);
    let fund = whole_log(&t.db)
        .await
        .into_iter()
        .find(|e| e.event_type == "FundRegistered")
        .map(|e| e.aggregate_id)
        .expect("the demo registers a fund");
    // Decided first on the state read before, as an import does.
    let known = bus
        .load_many::<Fund>(std::slice::from_ref(&fund))
        .await
        .expect("load");
    let before = known[&fund].sequence;
    let state = known[&fund].aggregate.state().expect("registered").clone();
    let allocation = state
        .allocations
        .values()
        .find(|a| a.year == 2027)
        .map(|a| a.id)
        .expect("the demo allocates 2027");
    let commands = lines_on(&fund, allocation, 0, 35);
    let mut progress = Vec::new();
    let outcome = bus
        .execute_bulk::<Fund>(
            commands.clone(),
            || bus.batch_services(),
            &importer("import-fund"),
            known,
            |done| progress.push(done),
        )
        .await
        .expect("the bulk is recorded");
    assert_eq!(
        outcome,
        BulkOutcome {
            recorded: 35,
            events: 35,
            batches: 4,
            ..BulkOutcome::default()
        },
        "no conflict with itself across batches"
    );
    assert_eq!(progress, [10, 20, 30, 35]);

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(log.len(), start + 35);
    let sequences: Vec<usize> = log[start..].iter().map(|e| e.sequence as usize).collect();
    assert_eq!(
        sequences,
        (before + 1..=before + 35).collect::<Vec<_>>(),
        "the fund's next sequences, one after the other"
    );
    for (event, command) in log[start..].iter().zip(&commands) {
        assert_eq!(event.aggregate_id, fund);
        assert_eq!(event.meta("command"), Some(command.command_name));
        assert_eq!(
            event.meta("idempotency_key"),
            command.idempotency_key.as_deref(),
            "in the order given"
        );
    }
    let loaded: Fund = bus.load(&fund).await.expect("load");
    let after = loaded.state().expect("registered");
    assert_eq!(after.lines.len(), state.lines.len() + 35);
    let sum = |range: std::ops::Range<usize>, spent: bool| {
        range
            .filter(|i| (i % 5 == 4) == spent)
            .map(|i| 1_000 + i as i64)
            .sum::<i64>()
    };
    let booked = &after.allocations[&allocation];
    assert_eq!(
        booked.committed,
        domain::money::Cents::euros(sum(0..35, false))
    );
    assert_eq!(booked.spent, domain::money::Cents::euros(sum(0..35, true)));

    // A next bulk that reads the fund itself goes on from there.
    let more = lines_on(&fund, allocation, 35, 3);
    bulk_on_fund(&bus, more).await;
    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    let sequences: Vec<usize> = log[start + 35..]
        .iter()
        .map(|e| e.sequence as usize)
        .collect();
    assert_eq!(sequences, [before + 36, before + 37, before + 38]);
}

async fn bulk_on_fund(bus: &CommandBus, commands: Vec<BulkCommand<Fund>>) -> BulkOutcome {
    bus.execute_bulk::<Fund>(
        commands,
        || bus.batch_services(),
        &importer("import-fund-2"),
        HashMap::new(),
        |_| {},
    )
    .await
    .expect("the bulk is recorded")
}

/// Counts the conflict retries a bus reports.
#[derive(Debug, Default)]
struct Retries(AtomicUsize);

impl CommandObserver for Retries {
    fn command_finished(&self, _: &str, _: &CommandContext, _: CommandOutcome, _: Duration) {}

    fn conflict_retried(&self, _command: &str) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

async fn a_bulk_batch_is_decided_again_when_another_writer_came_first(t: TestDb) {
    let start = demo(&t).await;
    let retries = Arc::new(Retries::default());
    let bus = CommandBus::new(t.db.clone())
        .with_bulk_batch(50)
        .with_observer(retries.clone());
    let commands = records(&t, 100).await;
    bulk(&bus, commands.clone(), "import-1")
        .await
        .expect("recorded");
    let ids: Vec<String> = commands.iter().map(|c| c.aggregate_id.clone()).collect();

    // The bulk reads the states; then another server corrects measurement 70.
    let known = bus.load_many::<Measurement>(&ids).await.expect("load");
    let other_db = t.reconnect().await;
    let other = CommandBus::new(other_db.clone());
    let first_correction = correction(&ids[70], 5_000, "other/70");
    execute_single(
        &other,
        &first_correction,
        &single(&first_correction, "other-1"),
    )
    .await
    .expect("the other writer corrects first");
    let corrections: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| correction(id, 6_000 + i as i64, &format!("correct/{i}")))
        .collect();
    let outcome = bus
        .execute_bulk::<Measurement>(
            corrections,
            || bus.batch_services(),
            &importer("import-2"),
            known,
            |_| {},
        )
        .await
        .expect("recorded after deciding the batch again");
    assert_eq!(outcome.recorded, 100);
    assert_eq!(outcome.conflict_retries, 1, "the second batch, once");
    assert_eq!(retries.0.load(Ordering::Relaxed), 1);

    // Nothing lost, nothing doubled: the bulk's correction follows the other writer's.
    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(log.len(), start + 100 + 1 + 100);
    let history: Vec<(i64, String)> = log
        .iter()
        .filter(|e| e.aggregate_id == ids[70])
        .map(|e| (e.sequence, e.payload.to_string()))
        .collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history[1].1.contains("\"value\":\"500.0\""), "{history:?}");
    assert!(
        history[2].1.contains("\"previous_value\":\"500.0\"")
            && history[2].1.contains("\"value\":\"607.0\""),
        "decided on the fresh state: {history:?}"
    );

    // With no retries allowed, the batch fails whole and names its first command.
    let strict = CommandBus::new(t.db.clone())
        .with_bulk_batch(50)
        .with_conflict_retries(0);
    let known = strict.load_many::<Measurement>(&ids).await.expect("load");
    let second_correction = correction(&ids[60], 7_000, "other/60");
    execute_single(
        &other,
        &second_correction,
        &single(&second_correction, "other-2"),
    )
    .await
    .expect("the other writer corrects first");
    let head = t.db.head().await.expect("head");
    let corrections: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| correction(id, 8_000 + i as i64, &format!("again/{i}")))
        .collect();
    let failure = strict
        .execute_bulk::<Measurement>(
            corrections,
            || strict.batch_services(),
            &importer("import-3"),
            known,
            |_| {},
        )
        .await
        .expect_err("a conflict without retries");
    assert_eq!(failure.index, 50);
    assert!(matches!(failure.error, CommandError::Conflict));
    assert_eq!(failure.done.recorded, 50);
    assert_eq!(
        t.db.head().await.expect("head"),
        head + 50,
        "the first batch only"
    );
    other_db.close().await;
}

/// Counts how a bus's commands ended.
#[derive(Debug, Default)]
struct Outcomes {
    recorded: AtomicUsize,
    replayed: AtomicUsize,
}

impl CommandObserver for Outcomes {
    fn command_finished(&self, _: &str, _: &CommandContext, outcome: CommandOutcome, _: Duration) {
        match outcome {
            CommandOutcome::Recorded => self.recorded.fetch_add(1, Ordering::Relaxed),
            CommandOutcome::Replayed => self.replayed.fetch_add(1, Ordering::Relaxed),
            other => panic!("a single command ended {other:?}"),
        };
    }

    fn conflict_retried(&self, _command: &str) {}
}

/// A bulk and another server's single commands for every tenth of the same rows, under the same
/// idempotency keys, at the same time: each row is recorded once, by one or the other.
async fn concurrent_single_commands_under_the_bulk_s_keys_record_each_row_once(t: TestDb) {
    const ROWS: usize = 1_000;
    let start = demo(&t).await;
    let commands = records(&t, ROWS).await;
    let other_db = t.reconnect().await;
    let singles = Arc::new(Outcomes::default());
    let other = CommandBus::new(other_db.clone()).with_observer(singles.clone());
    // From the end, so that the two writers meet halfway.
    let mine: Vec<BulkCommand<Measurement>> = commands.iter().step_by(10).rev().cloned().collect();
    let writer = tokio::spawn(async move {
        for (i, command) in mine.iter().enumerate() {
            execute_single(&other, command, &single(command, &format!("single-{i}")))
                .await
                .expect("recorded or answered");
        }
    });
    let bus = CommandBus::new(t.db.clone())
        .with_bulk_batch(100)
        .with_conflict_retries(100);
    let outcome = bulk(&bus, commands.clone(), "import-1")
        .await
        .expect("recorded");
    writer.await.expect("the single commands");

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(log.len(), start + ROWS, "each row once");
    let ids: HashSet<&str> = log[start..]
        .iter()
        .map(|e| e.aggregate_id.as_str())
        .collect();
    assert_eq!(ids.len(), ROWS);
    assert!(log[start..].iter().all(|e| e.sequence == 1));
    let single_recorded = singles.recorded.load(Ordering::Relaxed);
    assert_eq!(
        single_recorded + singles.replayed.load(Ordering::Relaxed),
        ROWS / 10
    );
    assert_eq!(outcome.recorded + single_recorded, ROWS);
    assert_eq!(outcome.recorded + outcome.replayed, ROWS);
    other_db.close().await;
}

async fn the_projector_and_the_notary_see_every_event_of_a_bulk(t: TestDb) {
    demo(&t).await;
    let server = TestServer::start(&t).await;
    let client = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    // Another process's bus, as `alliance-ledger import` has.
    let writer_db = t.reconnect().await;
    let bus = CommandBus::new(writer_db.clone()).with_bulk_batch(400);
    bulk(&bus, records(&t, 1_000).await, "import-1")
        .await
        .expect("recorded");
    let head = t.db.head().await.expect("head");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut live = ledger_checksum(&client).await;
    while live.0 < head && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        live = ledger_checksum(&client).await;
    }
    assert_eq!(
        live,
        replay_checksum(&t, None),
        "the live read models equal a replay of the log"
    );

    let keys = tempfile::tempdir().expect("a folder");
    let key_file = keys.path().join("signing.key");
    let public_key = alliance_ledger::trail::generate_key("dordt-west.alliance-ledger", &key_file)
        .expect("a key");
    let signer = alliance_ledger::trail::read_signing_key(&key_file).expect("the key");
    let (mut notary, trail) = Notary::start(
        t.db.clone(),
        Some(signer),
        None,
        CheckpointPolicy::default(),
    )
    .await
    .expect("start the notary");
    notary.catch_up().await.expect("hash the log");
    let signed = notary.sign_if_due(true).await.expect("sign");
    assert_eq!(trail.read().await.tree().size(), head as u64);
    assert!(signed.is_some() || trail.read().await.latest_checkpoint().is_some());
    let out = cli(Some(&t), &["verify", "--public-key", &public_key]);
    assert!(
        out.status.success(),
        "every leaf and the checkpoint verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop().await;
    writer_db.close().await;
}

/// Commands decided at the same time share commits (group commit) in two processes at once:
/// each gets its own outcome and the position of its own event, the loser of a race on one
/// aggregate is decided again (and refused), and two requests under one idempotency key in one
/// group record one effect.
async fn commands_decided_together_commit_together_and_each_gets_its_own_outcome(t: TestDb) {
    const DECISIONS: usize = 30;
    let start = t.with_programme().await;
    let other = t.reconnect().await;
    let buses = [
        CommandBus::new(t.db.clone()),
        CommandBus::new(other.clone()),
    ];
    let ids: Vec<DecisionId> = (0..DECISIONS)
        .map(|_| DecisionId::from_uuid(Uuid::new_v4()))
        .collect();
    let mut races = tokio::task::JoinSet::new();
    for &id in &ids {
        for (b, bus) in buses.iter().enumerate() {
            let bus = bus.clone();
            races.spawn(async move {
                let title = format!("Voorstel uit proces {b}");
                let result = bus
                    .execute_at::<Decision>(
                        &id.to_string(),
                        propose(id, &title),
                        "ProposeDecision",
                        &bus.services(),
                        &context(),
                    )
                    .await;
                (id, title, result)
            });
        }
    }
    let mut keyed = tokio::task::JoinSet::new();
    for attempt in 0..2 {
        let bus = buses[0].clone();
        keyed.spawn(async move {
            // A client sending its request again: a new request under the same key.
            let context = CommandContext {
                request_id: format!("req-retry-{attempt}"),
                ..keyed_context()
            };
            let id = DecisionId::from_uuid(Uuid::new_v4());
            bus.execute_at::<Decision>(
                &id.to_string(),
                propose(id, "Eén verzoek"),
                "ProposeDecision",
                &bus.services(),
                &context,
            )
            .await
            .expect("recorded or answered from the first")
        });
    }
    let mut keyed_answers = Vec::new();
    while let Some(answer) = keyed.join_next().await {
        keyed_answers.push(answer.expect("task"));
    }
    let mut winners: HashMap<DecisionId, (String, i64)> = HashMap::new();
    while let Some(done) = races.join_next().await {
        let (id, title, result) = done.expect("task");
        match result {
            Ok((decision, Some(position))) => {
                assert!(
                    decision.state().is_some(),
                    "the answer is the proposed decision"
                );
                let earlier = winners.insert(id, (title, position));
                assert!(earlier.is_none(), "{id} was proposed twice");
            }
            Ok((_, None)) => panic!("{id}: a proposal that recorded nothing and was not refused"),
            Err(CommandError::Domain(_)) => {}
            Err(e) => panic!("{id}: {e}"),
        }
    }

    let log = whole_log(&t.db).await;
    assert_well_ordered(&log);
    assert_eq!(
        log.len() as i64,
        start + DECISIONS as i64 + 1,
        "one proposal per decision and one for the key"
    );
    assert_eq!(winners.len(), DECISIONS, "every decision proposed once");
    for (id, (title, position)) in &winners {
        let event = &log[usize::try_from(*position - 1).expect("position")];
        assert_eq!(event.aggregate_id, id.to_string(), "position {position}");
        assert_eq!(event.event_type, "DecisionProposed");
        assert!(
            event.payload.to_string().contains(title.as_str()),
            "the event at {position} is the winner's: {}",
            event.payload
        );
    }
    let recorded: Vec<_> = keyed_answers.iter().filter_map(|(_, p)| *p).collect();
    assert_eq!(recorded.len(), 1, "one of the two requests recorded");
    assert_eq!(
        keyed_answers[0].0, keyed_answers[1].0,
        "the second is answered with the first's result"
    );
    let with_key: Vec<_> = log
        .iter()
        .filter(|e| e.meta("idempotency_key") == Some("key-7"))
        .collect();
    assert_eq!(with_key.len(), 1);
    assert_eq!(with_key[0].position, recorded[0]);
    other.close().await;
}

/// A rule reads the programme as the log holds it when the command is decided, also when
/// another process changed it since this process last read it: a measurement of a buurt the
/// programme does not have is refused, and accepted once another server added the buurt.
async fn rules_read_what_another_process_recorded_since(t: TestDb) {
    demo(&t).await;
    let here = CommandBus::new(t.db.clone());
    let elsewhere = CommandBus::new(t.reconnect().await);
    let programme = here
        .load::<Programme>("dordt-west")
        .await
        .expect("load the programme");
    let state = programme.state().expect("the demo programme");
    let indicator = state.indicators_in_order()[0].key.clone();
    let wijk = state
        .areas_in_order()
        .into_iter()
        .find(|a| a.kind == domain::programme::AreaKind::Wijk)
        .expect("a wijk")
        .id
        .clone();
    let buurt = AreaId::parse("nieuwe-buurt").expect("slug");
    let key = MeasurementKey {
        programme_id: state.id.clone(),
        indicator,
        area: buurt.clone(),
        period: domain::period::Period::Year(2024),
    };
    let record = || {
        MeasurementCommand::Record(RecordMeasurement {
            key: key.clone(),
            value: Decimal::new(42, 1),
            source: "CBS Kerncijfers wijken en buurten".into(),
            published_on: NaiveDate::from_ymd_opt(2025, 5, 15).expect("a date"),
            illustrative: false,
        })
    };
    let first = here
        .execute::<Measurement>(
            &key.aggregate_id(),
            record(),
            "RecordMeasurement",
            &here.services(),
            &context(),
        )
        .await;
    assert!(
        matches!(&first, Err(CommandError::Domain(e)) if e.to_string().contains("nieuwe-buurt")),
        "a buurt the programme does not have is refused: {first:?}"
    );

    elsewhere
        .execute::<Programme>(
            "dordt-west",
            domain::programme::ProgrammeCommand::AddArea(domain::programme::AddArea {
                area_id: buurt.clone(),
                name: "Nieuwe buurt".into(),
                kind: domain::programme::AreaKind::Buurt,
                parent: Some(wijk),
                cbs_code: None,
            }),
            "AddArea",
            &elsewhere.services(),
            &context(),
        )
        .await
        .expect("the other process adds the buurt");

    let measured = here
        .execute::<Measurement>(
            &key.aggregate_id(),
            record(),
            "RecordMeasurement",
            &here.services(),
            &context(),
        )
        .await
        .expect("the buurt is known now");
    assert_eq!(measured.state().map(|m| m.value), Some(Decimal::new(42, 1)));
}

on_both_backends!(
    rules_read_what_another_process_recorded_since,
    commands_decided_together_commit_together_and_each_gets_its_own_outcome,
    a_bulk_append_keeps_the_log_dense_in_command_order_with_every_event_s_metadata,
    a_bulk_of_many_commands_on_one_aggregate_appends_its_sequences_in_order,
    a_refused_command_stops_a_bulk_with_the_commands_before_it_recorded,
    idempotency_keys_hold_across_bulks_and_single_commands,
    a_bulk_batch_is_decided_again_when_another_writer_came_first,
    concurrent_single_commands_under_the_bulk_s_keys_record_each_row_once,
    the_projector_and_the_notary_see_every_event_of_a_bulk,
    audit_leaves_are_recorded_once_and_differences_reported,
    the_log_is_read_by_actor_and_time_with_the_other_filters,
    events_are_appended_and_loaded_back,
    concurrent_commands_on_one_aggregate_give_one_success_and_one_conflict,
    concurrent_writers_in_two_processes_keep_one_gapless_order,
    history_cannot_be_changed_by_hand,
    metadata_names_who_recorded_what,
    export_writes_every_column_and_reads_back_the_same,
);
