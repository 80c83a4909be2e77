//! Snapshots of the read models: written by a running server (every N events, after an interval,
//! at a graceful shutdown) and by `alliance-ledger snapshot`; at start the newest one that checks
//! out against the log is used and only the later events are folded; a corrupt or stale snapshot
//! is ignored, never trusted.

use std::time::{Duration, Instant};

use domain::access::Role;
use domain::decision::{Decision, DecisionCommand, ProposeDecision};
use domain::ids::{DecisionId, ProgrammeId};
use projections::snapshot::{self, Rejection, SnapshotPolicy};
use projections::{LedgerState, Until};
use serde_json::{json, Value};
use store::{CommandBus, CommandContext, Database, Position, StoredSnapshot};
use tests::{
    cli, ledger_checksum, on_both_backends, replay_checksum, GraphqlClient, LedgerProcess, TestDb,
    TestServer,
};
use uuid::Uuid;

async fn replayed_state(db: &Database, until: Until) -> LedgerState {
    projections::replay(db, until, |_, _| {})
        .await
        .expect("replay")
}

/// A policy that reads snapshots at start but writes none.
fn read_only() -> SnapshotPolicy {
    SnapshotPolicy {
        every_events: 0,
        interval: Duration::ZERO,
        on_shutdown: false,
        ..SnapshotPolicy::default()
    }
}

/// Builds the read models as a server does at start (writing no snapshot) and reports how.
async fn start(t: &TestDb) -> api::Startup {
    let (state, task) = api::AppState::start_with(t.db.clone(), read_only())
        .await
        .expect("build the read models");
    let startup = state.startup;
    assert_eq!(startup.position, t.db.head().await.expect("head"));
    task.stop().await;
    startup
}

/// Writes a snapshot of the state at `position` (replayed), keeping up to 10.
async fn snapshot_at(t: &TestDb, position: Position) -> snapshot::Written {
    let state = replayed_state(&t.db, Until::Position(position)).await;
    assert_eq!(state.position(), position);
    snapshot::write_snapshot(&t.db, state, 10)
        .await
        .expect("write a snapshot")
        .expect("not empty")
}

async fn positions(t: &TestDb) -> Vec<Position> {
    t.db.list_snapshots()
        .await
        .expect("list snapshots")
        .iter()
        .map(|s| s.position)
        .collect()
}

/// Records `n` proposed decisions through the command bus, as another writer would.
async fn propose(t: &TestDb, n: usize) {
    let bus = CommandBus::new(t.db.clone());
    let services = bus.services();
    let context = CommandContext {
        actor: "Schrijver".into(),
        role: Role::Secretary,
        organisation: None,
        request_id: "snapshots".into(),
        idempotency_key: None,
        request_hash: None,
    };
    for i in 0..n {
        let id = DecisionId::from_uuid(Uuid::new_v4());
        let command = DecisionCommand::Propose(ProposeDecision {
            decision_id: id,
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            title: format!("Besluit {i}"),
            description: String::new(),
        });
        bus.execute::<Decision>(
            &id.to_string(),
            command,
            "ProposeDecision",
            &services,
            &context,
        )
        .await
        .expect("recorded");
    }
}

async fn demo(t: &TestDb) -> Position {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    t.db.head().await.expect("head")
}

/// Runs SQL that changes rows of `projection_snapshots`, binding one blob or none.
async fn execute(t: &TestDb, sql: &str, blob: Option<Vec<u8>>) {
    match &t.db {
        Database::Postgres(pool) => {
            let mut q = sqlx::query(sql);
            if let Some(b) = blob {
                q = q.bind(b);
            }
            q.execute(pool).await.expect("SQL");
        }
        Database::Sqlite(pool) => {
            let mut q = sqlx::query(sql);
            if let Some(b) = blob {
                q = q.bind(b);
            }
            q.execute(pool).await.expect("SQL");
        }
    }
}

/// The server's binary as a process with extra `serve` flags and its log (JSON lines) in a file.
struct Server(LedgerProcess);

impl Server {
    async fn start(t: &TestDb, flags: &[&str]) -> Self {
        let json_logs = [("ALLIANCE_LEDGER_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
        Self(LedgerProcess::start_with(t, flags, &json_logs).await)
    }

    fn client(&self) -> GraphqlClient {
        self.0.client()
    }

    /// The fields of the first log line with this message.
    fn log_line(&self, message: &str) -> Value {
        let text = self.0.log_text();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["fields"]["message"] == message)
            .map(|l| l["fields"].clone())
            .unwrap_or_else(|| panic!("no log line {message:?} in:\n{text}"))
    }

    /// (the snapshot started from, the events folded at start), from the server's log.
    fn startup(&self) -> (Option<i64>, i64) {
        let line = self.log_line("read models ready");
        (
            line["snapshot"].as_i64(),
            line["events_folded"].as_i64().expect("events_folded"),
        )
    }

    /// Asks the server to stop (SIGTERM) and waits until it has.
    fn terminate(mut self) {
        let exit = self.0.terminate();
        assert!(
            exit.success(),
            "a clean stop: {exit}\n{}",
            self.0.log_text()
        );
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    fn kill(self) {
        self.0.kill();
    }
}

/// Waits up to `within` for `check` to hold.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_server_writes_a_snapshot_at_shutdown_and_starts_from_it_after_a_restart(t: TestDb) {
    let head = demo(&t).await;
    let server = TestServer::start(&t).await;
    server.stop().await;
    let stored = t.db.list_snapshots().await.expect("list");
    assert_eq!(stored.len(), 1, "one snapshot, of the final state");
    let (events, checksum) = replay_checksum(&t, None);
    assert_eq!(events, head);
    assert_eq!(stored[0].position, head);
    assert_eq!(stored[0].format, projections::SNAPSHOT_FORMAT);
    assert_eq!(stored[0].checksum, checksum, "the checksum replay prints");

    let restart = start(&t).await;
    assert_eq!(restart.snapshot, Some(head), "started from the snapshot");
    assert_eq!(restart.events_folded, 0, "no event before it folded again");
    assert_eq!(restart.snapshots_ignored, 0);

    propose(&t, 7).await;
    let restart = start(&t).await;
    assert_eq!(restart.snapshot, Some(head));
    assert_eq!(
        restart.events_folded, 7,
        "only the events after the snapshot"
    );

    // The real program, restarted, reports what a fresh replay gives.
    let process = Server::start(&t, &[]).await;
    assert_eq!(process.startup(), (Some(head), 7));
    let token = t.token("Aad", Role::Auditor, None).await;
    assert_eq!(
        ledger_checksum(&process.client().with_token(&token)).await,
        replay_checksum(&t, None),
        "the restarted server agrees with a fresh replay"
    );
}

async fn a_running_server_writes_a_snapshot_every_n_events_and_a_restart_folds_only_the_rest(
    t: TestDb,
) {
    let server = Server::start(
        &t,
        &[
            "--snapshot-every-events",
            "40",
            "--snapshot-interval-secs",
            "0",
            "--snapshot-on-shutdown",
            "false",
        ],
    )
    .await;
    assert_eq!(server.startup(), (None, 0), "an empty log");
    let token = t.token("Aad", Role::Auditor, None).await;
    let client = server.client().with_token(&token);
    let head = demo(&t).await;
    assert!(
        head > 80,
        "the demo is long enough for two snapshots: {head}"
    );
    eventually(
        Duration::from_secs(30),
        "the server follows the log",
        || {
            let client = client.clone();
            async move { ledger_checksum(&client).await.0 == head }
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "the server writes a snapshot",
        || async { positions(&t).await.first().is_some_and(|p| head - p < 40) },
    )
    .await;
    server.kill();
    let newest = positions(&t).await[0];
    assert!(newest >= 40);

    let restarted = Server::start(&t, &["--snapshot-on-shutdown", "false"]).await;
    assert_eq!(
        restarted.startup(),
        (Some(newest), head - newest),
        "the restart folds only the events after the newest snapshot"
    );
    assert_eq!(
        ledger_checksum(&restarted.client().with_token(&token)).await,
        replay_checksum(&t, None)
    );
}

async fn a_graceful_shutdown_of_the_program_writes_a_snapshot_of_the_final_state(t: TestDb) {
    let head = demo(&t).await;
    let server = Server::start(&t, &[]).await;
    assert_eq!(server.startup(), (None, head));
    assert!(positions(&t).await.is_empty(), "none before the shutdown");
    server.terminate();
    assert_eq!(positions(&t).await, vec![head]);

    let restarted = Server::start(&t, &[]).await;
    assert_eq!(restarted.startup(), (Some(head), 0));
    let token = t.token("Aad", Role::Auditor, None).await;
    assert_eq!(
        ledger_checksum(&restarted.client().with_token(&token)).await,
        replay_checksum(&t, None)
    );
}

async fn a_snapshot_is_written_after_the_interval_only_when_events_came_in(t: TestDb) {
    let policy = SnapshotPolicy {
        every_events: 0,
        interval: Duration::from_millis(500),
        on_shutdown: false,
        ..SnapshotPolicy::default()
    };
    let (_state, task) = api::AppState::start_with(t.db.clone(), policy)
        .await
        .expect("start");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(positions(&t).await.is_empty(), "nothing to snapshot yet");
    let head = t.with_programme().await;
    eventually(
        Duration::from_secs(10),
        "a snapshot after the interval",
        || async { positions(&t).await == vec![head] },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        positions(&t).await,
        vec![head],
        "no new snapshot without new events"
    );
    task.stop().await;
    assert_eq!(
        positions(&t).await,
        vec![head],
        "no shutdown snapshot when it says so"
    );
}

async fn corrupt_snapshots_are_ignored_and_the_next_older_one_is_used(t: TestDb) {
    let head = demo(&t).await;
    let (p1, p2, p3) = (head / 3, 2 * head / 3, head);
    for p in [p1, p2, p3] {
        snapshot_at(&t, p).await;
    }
    // Flip bytes in the middle of the newest one's stored state.
    let mut state =
        t.db.load_snapshot(p3)
            .await
            .expect("load")
            .expect("there")
            .state;
    let middle = state.len() / 2;
    for b in &mut state[middle..middle + 8] {
        *b ^= 0xff;
    }
    execute(
        &t,
        &format!("UPDATE projection_snapshots SET state = $1 WHERE position = {p3}"),
        Some(state),
    )
    .await;
    // A checksum that is not the state's.
    execute(
        &t,
        &format!(
            "UPDATE projection_snapshots SET checksum = '{}' WHERE position = {p2}",
            "0".repeat(64)
        ),
        None,
    )
    .await;

    let restored = snapshot::restore(&t.db).await.expect("restore");
    assert_eq!(restored.from, Some(p1), "the newest one that checks out");
    assert!(
        matches!(
            restored.rejected.as_slice(),
            [(a, Rejection::Corrupt(_)), (b, Rejection::Checksum { .. })] if *a == p3 && *b == p2
        ),
        "{:?}",
        restored.rejected
    );
    assert_eq!(
        restored.state,
        replayed_state(&t.db, Until::Position(p1)).await
    );
    let startup = start(&t).await;
    assert_eq!(
        (
            startup.snapshot,
            startup.snapshots_ignored,
            startup.events_folded
        ),
        (Some(p1), 2, (head - p1) as u64)
    );

    // A format this ledger does not know: none is left, so the whole log is folded.
    execute(
        &t,
        &format!("UPDATE projection_snapshots SET format = 99 WHERE position = {p1}"),
        None,
    )
    .await;
    let restored = snapshot::restore(&t.db).await.expect("restore");
    assert_eq!(restored.from, None);
    assert!(matches!(
        restored.rejected.last(),
        Some((_, Rejection::Format { found: 99, .. }))
    ));
    let startup = start(&t).await;
    assert_eq!(
        (
            startup.snapshot,
            startup.snapshots_ignored,
            startup.events_folded
        ),
        (None, 3, head as u64)
    );

    let server = TestServer::start(&t).await;
    let token = t.token("Aad", Role::Auditor, None).await;
    assert_eq!(
        ledger_checksum(&server.client().with_token(&token)).await,
        replay_checksum(&t, None),
        "the state is still right"
    );
    server.stop().await;
}

async fn stale_snapshots_are_ignored(t: TestDb) {
    let head = demo(&t).await;
    let good = snapshot_at(&t, head - 20).await;

    // A snapshot of another log: the same demo recorded into another database, whose events
    // are other events (other times, other request ids). In itself it is perfectly sound.
    let other = TestDb::new(t.backend()).await;
    assert_eq!(demo(&other).await, head);
    let foreign = replayed_state(&other.db, Until::Position(head - 5)).await;
    let foreign_last = other
        .db
        .read_log(head - 6, 1, &store::LogFilter::default())
        .await
        .expect("read")
        .remove(0);
    let (bytes, checksum) = snapshot::encode(&foreign).expect("encode");
    t.db.save_snapshot(
        &StoredSnapshot {
            position: head - 5,
            checksum,
            format: projections::SNAPSHOT_FORMAT,
            last_event_hash: snapshot::event_hash(&foreign_last),
            state: bytes,
            created_at: chrono::Utc::now(),
        },
        10,
    )
    .await
    .expect("store the foreign snapshot");

    // A row claiming a position beyond the head (a copy of the good one, moved).
    execute(
        &t,
        &format!(
            "INSERT INTO projection_snapshots \
             (position, checksum, format, last_event_hash, state, created_at) \
             SELECT {}, checksum, format, last_event_hash, state, created_at \
             FROM projection_snapshots WHERE position = {}",
            head + 10,
            head - 20
        ),
        None,
    )
    .await;
    assert_eq!(positions(&t).await, vec![head + 10, head - 5, head - 20]);

    let restored = snapshot::restore(&t.db).await.expect("restore");
    assert_eq!(restored.from, Some(good.position));
    assert_eq!(
        restored.rejected,
        vec![
            (
                head + 10,
                Rejection::BeyondHead {
                    position: head + 10,
                    head
                }
            ),
            (head - 5, Rejection::OtherLog { position: head - 5 }),
        ]
    );
    let startup = start(&t).await;
    assert_eq!(
        (
            startup.snapshot,
            startup.snapshots_ignored,
            startup.events_folded
        ),
        (Some(head - 20), 2, 20)
    );
    let server = TestServer::start(&t).await;
    let token = t.token("Aad", Role::Auditor, None).await;
    assert_eq!(
        ledger_checksum(&server.client().with_token(&token)).await,
        replay_checksum(&t, None),
        "the state is still right"
    );
    server.stop().await;
    // Writing the shutdown snapshot removed the one beyond the head, which could otherwise
    // crowd the real ones out of the newest three.
    assert_eq!(positions(&t).await, vec![head, head - 5, head - 20]);
}

async fn the_snapshot_command_replays_and_stores_one(t: TestDb) {
    let out = cli(Some(&t), &["snapshot"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the log is empty"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = demo(&t).await;
    let out = cli(Some(&t), &["snapshot"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let (events, checksum) = replay_checksum(&t, None);
    assert!(text.contains(&format!("position: {events}\n")), "{text}");
    assert!(text.contains(&format!("checksum: {checksum}\n")), "{text}");
    assert_eq!(positions(&t).await, vec![head]);
    // Again: the same snapshot is there already; nothing changes.
    let again = cli(Some(&t), &["snapshot"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("stored already"));
    assert_eq!(positions(&t).await, vec![head]);
    let startup = start(&t).await;
    assert_eq!((startup.snapshot, startup.events_folded), (Some(head), 0));
}

async fn a_restored_state_is_exactly_the_replayed_state(t: TestDb) {
    let head = demo(&t).await;
    snapshot_at(&t, head - 10).await;
    let restored = snapshot::restore(&t.db).await.expect("restore");
    assert_eq!(restored.from, Some(head - 10));
    // Every record, version, stamp and citation, and the shared names.
    assert_eq!(
        restored.state,
        replayed_state(&t.db, Until::Position(head - 10)).await
    );
    let (state, task) = api::AppState::start_with(t.db.clone(), read_only())
        .await
        .expect("start");
    assert_eq!(state.startup.events_folded, 10);
    let live = state.projection.read().await.clone();
    assert_eq!(live, replayed_state(&t.db, Until::End).await);
    task.stop().await;
}

async fn only_the_newest_snapshots_are_kept(t: TestDb) {
    demo(&t).await;
    for p in [10, 20, 30, 40, 50] {
        let state = replayed_state(&t.db, Until::Position(p)).await;
        snapshot::write_snapshot(&t.db, state, 3)
            .await
            .expect("write")
            .expect("written");
    }
    assert_eq!(positions(&t).await, vec![50, 40, 30]);
    let head = t.db.head().await.expect("head");
    assert!(
        snapshot::write_snapshot(&t.db, LedgerState::default(), 3)
            .await
            .expect("write")
            .is_none(),
        "an empty state is not worth a snapshot"
    );
    assert!(head > 50);
}

/// Not a test: records a synthetic log for the start-up measurements of docs/performance.md.
/// Appends `SYNTHETIC_EVENTS` (default 200,000) decision events (proposals, amendments and
/// withdrawals on the programme `dordt-west`, as the command path would record them) to the
/// database `SYNTHETIC_DATABASE_URL`, after recording the demo ledger there. The events are
/// inserted straight into the log (the database still assigns position and time), in batches:
/// this takes seconds, the command path would take many minutes.
///
/// `SYNTHETIC_DATABASE_URL=sqlite:///tmp/big.db cargo test -p tests --test snapshots -- --ignored synthetic`
#[tokio::test]
#[ignore = "a tool for measurements, run by hand"]
async fn synthetic_log_for_start_up_measurements() {
    use cqrs_es::DomainEvent;
    use domain::decision::DecisionEvent;
    use sqlx::QueryBuilder;

    let url: store::DatabaseUrl = std::env::var("SYNTHETIC_DATABASE_URL")
        .expect("SYNTHETIC_DATABASE_URL names the database to fill")
        .parse()
        .expect("a database URL");
    let total: usize = std::env::var("SYNTHETIC_EVENTS")
        .map(|n| n.parse().expect("a number"))
        .unwrap_or(200_000);
    let db = Database::open(&url).await.expect("open");
    alliance_ledger::demo::record_demo(&db).await.expect("demo");
    let programme = ProgrammeId::parse("dordt-west").expect("slug");

    // (aggregate id, sequence, event) in log order: each decision is proposed and amended,
    // every other one is withdrawn.
    let mut events = Vec::with_capacity(total);
    let mut n: u128 = 0;
    while events.len() < total {
        n += 1;
        let id = DecisionId::from_uuid(Uuid::from_u128(0x5_0000_0000 + n));
        let key = id.to_string();
        events.push((
            key.clone(),
            1,
            DecisionEvent::DecisionProposed {
                decision_id: id,
                programme_id: programme.clone(),
                title: format!("Synthetisch besluit {n}"),
                description: "Een besluit om de start van de server te meten.".into(),
            },
        ));
        events.push((
            key.clone(),
            2,
            DecisionEvent::DecisionAmended {
                title: Some(format!("Synthetisch besluit {n}, gewijzigd")),
                description: None,
                reason: "na inspraak".into(),
            },
        ));
        if n & 1 == 0 {
            events.push((
                key,
                3,
                DecisionEvent::DecisionWithdrawn {
                    reason: "vervangen".into(),
                },
            ));
        }
    }
    events.truncate(total);

    let started = Instant::now();
    for (b, batch) in events.chunks(1_000).enumerate() {
        let columns = "(aggregate_type, aggregate_id, sequence, event_type, event_version, \
                       payload, metadata) ";
        let rows = batch.iter().enumerate().map(|(i, (id, sequence, event))| {
            let payload = serde_json::to_value(event).expect("payload");
            let metadata = json!({
                "actor": "Synthetisch",
                "role": "secretary",
                "request_id": format!("synthetic-{b}-{i}"),
                "command": match event {
                    DecisionEvent::DecisionProposed { .. } => "ProposeDecision",
                    DecisionEvent::DecisionAmended { .. } => "AmendDecision",
                    _ => "WithdrawDecision",
                },
            });
            let event_type = event.event_type();
            let version = event.event_version();
            (
                id.as_str(),
                *sequence,
                event_type,
                version,
                payload,
                metadata,
            )
        });
        match &db {
            Database::Postgres(pool) => {
                let mut insert = QueryBuilder::new(format!("INSERT INTO events {columns}"));
                insert.push_values(rows, |mut row, (id, seq, kind, version, payload, meta)| {
                    row.push_bind("Decision")
                        .push_bind(id)
                        .push_bind(seq)
                        .push_bind(kind)
                        .push_bind(version)
                        .push_bind(payload)
                        .push_bind(meta);
                });
                insert.build().execute(pool).await.expect("insert");
            }
            Database::Sqlite(pool) => {
                let mut insert = QueryBuilder::new(format!("INSERT INTO event_appends {columns}"));
                insert.push_values(rows, |mut row, (id, seq, kind, version, payload, meta)| {
                    row.push_bind("Decision")
                        .push_bind(id)
                        .push_bind(seq)
                        .push_bind(kind)
                        .push_bind(version)
                        .push_bind(payload.to_string())
                        .push_bind(meta.to_string());
                });
                insert.build().execute(pool).await.expect("insert");
            }
        }
    }
    let head = db.head().await.expect("head");
    eprintln!(
        "recorded {total} synthetic events in {:.1} s; the log's head is {head}",
        started.elapsed().as_secs_f64()
    );
    db.close().await;
}

on_both_backends!(
    a_server_writes_a_snapshot_at_shutdown_and_starts_from_it_after_a_restart,
    a_running_server_writes_a_snapshot_every_n_events_and_a_restart_folds_only_the_rest,
    a_graceful_shutdown_of_the_program_writes_a_snapshot_of_the_final_state,
    a_snapshot_is_written_after_the_interval_only_when_events_came_in,
    corrupt_snapshots_are_ignored_and_the_next_older_one_is_used,
    stale_snapshots_are_ignored,
    the_snapshot_command_replays_and_stores_one,
    a_restored_state_is_exactly_the_replayed_state,
    only_the_newest_snapshots_are_kept,
);
