//! The database outage drill (docs/reliability.md, "Database outage"): PostgreSQL stops for 10 s
//! while clients write and read through a running ledger server, then starts again.
//!
//! What a user may expect, and what is checked:
//! - during the outage every mutation is answered within a few seconds (not left hanging) with
//!   the error code `UNAVAILABLE` and a message saying the database is unavailable; so is every
//!   signed-in read, since a bearer token cannot be checked without the database;
//! - anonymous reads of what the alliance publishes (`--public-read`) are answered from the read
//!   models in memory, as they stood when the database went away;
//! - `/healthz` answers 503 with `"status": "unavailable"` and the reason;
//! - once PostgreSQL is back the server recovers by itself, without a restart: mutations are
//!   acknowledged again (the time until the first one is the recovery time), `/healthz` is 200,
//!   the projector listens for new events again and its read models equal a replay of the log;
//! - clients that send every mutation with an idempotency key and send it again until it is
//!   acknowledged find each of their mutations in the log exactly once: nothing acknowledged is
//!   lost, nothing sent twice is recorded twice.
//!
//! The cluster is the test's own ([`PgCluster`]), so the shared server other tests use keeps
//! running; it keeps PostgreSQL's durable settings. One test stops it the ordinary way
//! (`pg_ctl stop -m fast`, as `systemctl stop` does: sessions are told the server is shutting
//! down), the other kills it (`-m immediate`: every server process killed, crash recovery at the
//! next start).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::access::Role;
use domain::decision::{Decision, DecisionCommand, ProposeDecision};
use domain::ids::{DecisionId, ProgrammeId};
use domain::metadata;
use serde_json::{json, Value};
use store::{CommandBus, CommandContext, Database, LogFilter};
use tests::{
    ledger_checksum, replay_checksum, GraphqlClient, LedgerProcess, PgCluster, StopMode, TestDb,
};
use uuid::Uuid;

/// How long PostgreSQL stays stopped.
const OUTAGE: Duration = Duration::from_secs(10);
/// The longest a request may take to be answered while the database is away: the server's wait
/// for a connection (2 s) and some slack for a loaded machine.
const FAIL_FAST: Duration = Duration::from_secs(4);
/// The longest any request of the drill may take to be answered, outage or not.
const NO_HANG: Duration = Duration::from_secs(15);
/// The longest the server may take, after PostgreSQL accepts connections again, to acknowledge
/// a mutation.
const RECOVERY_LIMIT: Duration = Duration::from_secs(15);
/// Concurrent writers, each sending one proposal after another.
const WRITERS: usize = 4;
/// How long a writer waits before sending a refused mutation again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id }
}";
const POSITION: &str = "{ ledger { position } }";

/// What became of one request.
#[derive(Debug, Clone)]
enum Outcome {
    /// Answered 200 without errors; for a mutation, the id of the decision proposed.
    Ok(Option<String>),
    /// Answered with errors: their codes and messages.
    Refused {
        codes: Vec<String>,
        messages: Vec<String>,
    },
    /// No HTTP answer: the connection failed (why, for the failure message).
    Transport(#[allow(dead_code)] String),
    /// No answer within [`NO_HANG`].
    Hung,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mutation,
    SignedInRead,
    AnonymousRead,
}

/// One request of the drill.
#[derive(Debug, Clone)]
struct Attempt {
    kind: Kind,
    sent: Instant,
    took: Duration,
    outcome: Outcome,
}

impl Attempt {
    fn answered(&self) -> Instant {
        self.sent + self.took
    }

    fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok(_))
    }

    /// Refused with `UNAVAILABLE` only, and a message that says what is unavailable.
    fn is_unavailable(&self) -> bool {
        match &self.outcome {
            Outcome::Refused { codes, messages } => {
                !codes.is_empty()
                    && codes.iter().all(|c| c == "UNAVAILABLE")
                    && messages
                        .iter()
                        .all(|m| m.contains("database is unavailable"))
            }
            _ => false,
        }
    }
}

type Attempts = Arc<Mutex<Vec<Attempt>>>;

/// Sends one GraphQL request and records what became of it.
async fn send(
    client: &GraphqlClient,
    kind: Kind,
    query: &str,
    variables: Value,
    attempts: &Attempts,
) -> Attempt {
    let sent = Instant::now();
    let outcome = match tokio::time::timeout(NO_HANG, client.try_query(query, variables)).await {
        Err(_) => Outcome::Hung,
        Ok(Err(e)) => Outcome::Transport(e.to_string()),
        Ok(Ok(reply)) if reply.status == 200 && reply.errors().is_empty() => Outcome::Ok(
            reply.data()["proposeDecision"]["id"]
                .as_str()
                .map(str::to_owned),
        ),
        Ok(Ok(reply)) => Outcome::Refused {
            codes: reply.error_codes(),
            messages: reply
                .errors()
                .iter()
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .collect(),
        },
    };
    let attempt = Attempt {
        kind,
        sent,
        took: sent.elapsed(),
        outcome,
    };
    attempts.lock().expect("attempts").push(attempt.clone());
    attempt
}

fn proposal(key: &str) -> Value {
    json!({ "input": {
        "programmeId": "dordt-west",
        "title": format!("Voorstel {key}"),
        "idempotencyKey": key,
    }})
}

/// Sends the proposal with idempotency key `key` until it is acknowledged (giving up after
/// `patience`); returns the decision's id.
async fn propose_until_acknowledged(
    client: &GraphqlClient,
    key: &str,
    attempts: &Attempts,
    patience: Duration,
) -> Option<String> {
    let deadline = Instant::now() + patience;
    loop {
        let attempt = send(client, Kind::Mutation, PROPOSE, proposal(key), attempts).await;
        if let Outcome::Ok(id) = attempt.outcome {
            return Some(id.expect("an acknowledged proposal answers its id"));
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// A client that proposes one decision after another, each with its own idempotency key, until
/// `stop`; finishes the one it is sending. Returns (key, decision id) of each acknowledged one.
async fn writer(
    client: GraphqlClient,
    n: usize,
    stop: Arc<AtomicBool>,
    attempts: Attempts,
) -> Vec<(String, String)> {
    let mut acknowledged = Vec::new();
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("outage-writer{n}-{seq}");
        // Far longer than the outage: the writer keeps sending until the server is back.
        let id = propose_until_acknowledged(&client, &key, &attempts, Duration::from_secs(90))
            .await
            .unwrap_or_else(|| panic!("{key} was not acknowledged within 90 s"));
        acknowledged.push((key, id));
        seq += 1;
    }
    acknowledged
}

/// A client that reads the ledger's position every 200 ms until `stop`.
async fn reader(client: GraphqlClient, kind: Kind, stop: Arc<AtomicBool>, attempts: Attempts) {
    while !stop.load(Ordering::Relaxed) {
        send(&client, kind, POSITION, json!({}), &attempts).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET /healthz`: (status, body as JSON), and how long it took.
async fn healthz(client: &GraphqlClient) -> (u16, Value, Duration) {
    let sent = Instant::now();
    let (status, body) = tokio::time::timeout(NO_HANG, client.get("/healthz"))
        .await
        .expect("/healthz answers");
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, body, sent.elapsed())
}

/// Every event of the log, in position order.
async fn whole_log(db: &Database) -> Vec<store::LoggedEvent> {
    let mut events = Vec::new();
    loop {
        let after = events.last().map_or(0, |e: &store::LoggedEvent| e.position);
        let page = db
            .read_log(after, 10_000, &LogFilter::default())
            .await
            .expect("read the log");
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

/// How many connections of the ledger listen for new events on the database.
async fn listeners(db: &Database) -> i64 {
    let Database::Postgres(pool) = db else {
        unreachable!("the drill runs on PostgreSQL")
    };
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    .fetch_one(pool)
    .await
    .expect("read pg_stat_activity")
}

/// While `probing`: rounds of `/healthz`, the proposal with idempotency key `key`, a signed-in
/// and an anonymous read, sent together every 300 ms. Returns each `/healthz` answer (status,
/// body, time taken) with the instant it was sent.
async fn probe(
    [anonymous, recorder, signed_in]: [GraphqlClient; 3],
    key: String,
    probing: Arc<AtomicBool>,
    probes: Attempts,
) -> Vec<(u16, Value, Duration, Instant)> {
    let mut health = Vec::new();
    while probing.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let ((status, body, took), _, _, _) = tokio::join!(
            healthz(&anonymous),
            send(&recorder, Kind::Mutation, PROPOSE, proposal(&key), &probes),
            send(&signed_in, Kind::SignedInRead, POSITION, json!({}), &probes),
            send(
                &anonymous,
                Kind::AnonymousRead,
                POSITION,
                json!({}),
                &probes
            ),
        );
        health.push((status, body, took, sent));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    health
}

/// Waits (at most 15 s) until the server has one connection listening for new events.
async fn wait_for_listener(db: &Database, server: &LedgerProcess) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while listeners(db).await != 1 {
        assert!(
            Instant::now() < deadline,
            "the server listens for new events within 15 s:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort();
    durations
        .get(durations.len() / 2)
        .copied()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_stopped_for_10_seconds_under_load() {
    drill(StopMode::Fast).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_killed_for_10_seconds_under_load() {
    drill(StopMode::Immediate).await;
}

/// Stops PostgreSQL with `mode` for [`OUTAGE`] under load, starts it again, and checks what
/// the module documentation promises.
async fn drill(mode: StopMode) {
    let mut cluster = PgCluster::new()
        .await
        .unwrap_or_else(|e| panic!("a private PostgreSQL cluster: {e}"));
    let t = TestDb::on_postgres(cluster.admin_url()).await;
    t.with_programme().await;
    let secretary = t.token("Sanne de Vries", Role::Secretary, None).await;
    let auditor = t.token("Aad", Role::Auditor, None).await;
    let server = LedgerProcess::start_with(
        &t,
        &["--public-read"],
        &[("RUST_LOG", "warn,projections=info")],
    )
    .await;
    let anonymous = server.client();
    let recorder = anonymous.with_token(&secretary);
    let signed_in = anonymous.with_token(&auditor);
    wait_for_listener(&t.db, &server).await;

    // Load: writers and readers, all through the whole drill.
    let attempts: Attempts = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| tokio::spawn(writer(recorder.clone(), n, stop.clone(), attempts.clone())))
        .collect();
    let readers = [
        tokio::spawn(reader(
            anonymous.clone(),
            Kind::AnonymousRead,
            stop.clone(),
            attempts.clone(),
        )),
        tokio::spawn(reader(
            signed_in.clone(),
            Kind::SignedInRead,
            stop.clone(),
            attempts.clone(),
        )),
    ];
    let acknowledged_count = |attempts: &Attempts| {
        attempts
            .lock()
            .expect("attempts")
            .iter()
            .filter(|a| a.kind == Kind::Mutation && a.is_ok())
            .count()
    };
    let warm = Instant::now() + Duration::from_secs(30);
    while acknowledged_count(&attempts) < 20 {
        assert!(
            Instant::now() < warm,
            "20 writes acknowledged before the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let position_before = ledger_checksum(&signed_in).await.0;

    // The outage.
    let stopping = Instant::now();
    let stop_took = cluster
        .stop(mode)
        .await
        .unwrap_or_else(|e| panic!("stop PostgreSQL: {e}"));
    let stopped = Instant::now();
    let probes: Attempts = Arc::default();
    let probe_key = format!("outage-probe-{}", Uuid::new_v4().simple());
    let probing = Arc::new(AtomicBool::new(true));
    let probe_task = tokio::spawn(probe(
        [anonymous.clone(), recorder.clone(), signed_in.clone()],
        probe_key.clone(),
        probing.clone(),
        probes.clone(),
    ));
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    probing.store(false, Ordering::Relaxed);
    let starting = Instant::now();
    let start_took = cluster
        .start()
        .await
        .unwrap_or_else(|e| panic!("start PostgreSQL again: {e}\n{}", cluster.log_text()));
    let started = Instant::now();
    let health = probe_task.await.expect("probes");

    // Recovery, without restarting the server: the probe's proposal (refused all through the
    // outage) is acknowledged, and /healthz is 200 again.
    let recovered_id =
        propose_until_acknowledged(&recorder, &probe_key, &probes, RECOVERY_LIMIT).await;
    let recovery = started.elapsed();
    let recovery_from_start = starting.elapsed();
    let recovered_id = recovered_id.unwrap_or_else(|| {
        panic!(
            "no mutation was acknowledged within {RECOVERY_LIMIT:?} of PostgreSQL's start:\n{}",
            server.log_text()
        )
    });
    let (health_status, health_body, _) = healthz(&anonymous).await;
    assert_eq!(health_status, 200, "healthy again: {health_body}");
    assert_eq!(health_body["status"], "ok", "{health_body}");

    // Load goes on for a while after the recovery, then every client finishes what it sends.
    let after_recovery = acknowledged_count(&attempts);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged: Vec<(String, String)> = vec![(probe_key.clone(), recovered_id)];
    for w in writers {
        acknowledged.extend(w.await.expect("writer"));
    }
    for r in readers {
        r.await.expect("reader");
    }
    assert!(
        acknowledged_count(&attempts) > after_recovery,
        "the writers' mutations are acknowledged again after the outage"
    );

    // The projector listens for new events again: a write by another process (which the
    // server learns of only from the database) reaches its read models.
    wait_for_listener(&t.db, &server).await;
    let outside = DecisionId::from_uuid(Uuid::new_v4());
    let bus = CommandBus::new(t.db.clone());
    bus.execute::<Decision>(
        &outside.to_string(),
        DecisionCommand::Propose(ProposeDecision {
            decision_id: outside,
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            title: "Voorstel van buiten".into(),
            description: String::new(),
        }),
        "ProposeDecision",
        &bus.services(),
        &CommandContext {
            actor: "Import".into(),
            role: Role::Secretary,
            organisation: None,
            request_id: "outage-outside".into(),
            idempotency_key: None,
            request_hash: None,
        },
    )
    .await
    .expect("a write by another process after the outage");
    let seen = Instant::now() + Duration::from_secs(10);
    loop {
        let data = anonymous
            .query(
                "query($id: ID!) { decision(id: $id) { title } }",
                json!({ "id": outside.to_string() }),
            )
            .await
            .expect_ok();
        if data["decision"]["title"] == "Voorstel van buiten" {
            break;
        }
        assert!(
            Instant::now() < seen,
            "a write after the outage reaches the read models"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every request was answered, none hung or lost its connection, and every refusal was
    // UNAVAILABLE: the database's absence never looks like a client's mistake or a bug.
    let attempts = attempts.lock().expect("attempts").clone();
    let probes = probes.lock().expect("probes").clone();
    let all: Vec<Attempt> = attempts.into_iter().chain(probes).collect();
    for a in &all {
        assert!(
            a.is_ok() || a.is_unavailable(),
            "every request is acknowledged or refused as UNAVAILABLE: {a:?}"
        );
        assert!(a.took <= NO_HANG, "answered: {a:?}");
    }
    // Every request sent while PostgreSQL was stopping, down or starting was answered quickly,
    // the database's absence or not.
    for a in all
        .iter()
        .filter(|a| a.sent >= stopping && a.sent < started)
    {
        assert!(
            a.took <= FAIL_FAST,
            "answered within {FAIL_FAST:?}, not left hanging: {a:?}"
        );
    }
    // Those answered before it was started again: refused as UNAVAILABLE, but for anonymous
    // reads, which the read models in memory answer.
    let during: Vec<&Attempt> = all
        .iter()
        .filter(|a| a.sent >= stopped && a.answered() <= starting)
        .collect();
    let refused: Vec<&Attempt> = during
        .iter()
        .copied()
        .filter(|a| a.kind != Kind::AnonymousRead)
        .collect();
    assert!(
        refused.len() >= 10,
        "requests were sent and answered during the outage: {during:?}"
    );
    for a in &refused {
        assert!(a.is_unavailable(), "refused as UNAVAILABLE: {a:?}");
    }
    let anonymous_reads: Vec<&Attempt> = during
        .iter()
        .copied()
        .filter(|a| a.kind == Kind::AnonymousRead)
        .collect();
    assert!(
        !anonymous_reads.is_empty() && anonymous_reads.iter().all(|a| a.is_ok()),
        "anonymous reads answer from memory during the outage"
    );
    // /healthz says so, with the reason, quickly.
    let health_during: Vec<&(u16, Value, Duration, Instant)> = health
        .iter()
        .filter(|(_, _, took, sent)| *sent + *took <= starting)
        .collect();
    assert!(!health_during.is_empty());
    for (_, body, took, _) in &health {
        assert!(*took <= FAIL_FAST, "/healthz answered in {took:?}: {body}");
    }
    for (status, body, _, _) in &health_during {
        assert_eq!(*status, 503, "/healthz during the outage: {body}");
        assert_eq!(body["status"], "unavailable", "{body}");
        assert!(
            body["reason"]
                .as_str()
                .is_some_and(|r| r.contains("database")),
            "{body}"
        );
    }

    // Nothing acknowledged is lost, nothing is recorded twice, nothing unasked is recorded.
    let log = whole_log(&t.db).await;
    let mut by_key: HashMap<&str, Vec<&store::LoggedEvent>> = HashMap::new();
    for event in &log {
        if let Some(key) = event.meta(metadata::IDEMPOTENCY_KEY) {
            by_key.entry(key).or_default().push(event);
        }
    }
    for (key, id) in &acknowledged {
        let events = by_key.get(key.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(
            events.len(),
            1,
            "acknowledged {key} is in the log exactly once: {events:?}"
        );
        assert_eq!(
            &events[0].aggregate_id, id,
            "{key} recorded what was answered"
        );
    }
    assert_eq!(
        by_key.len(),
        acknowledged.len(),
        "no mutation is in the log that was not acknowledged"
    );

    // The read models equal a replay of the log.
    let head = log.last().expect("events").position;
    let reader = anonymous.with_token(&auditor);
    let caught_up = Instant::now() + Duration::from_secs(10);
    let mut live = ledger_checksum(&reader).await;
    while live.0 < head {
        assert!(Instant::now() < caught_up, "the read models reach {head}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        live = ledger_checksum(&reader).await;
    }
    let replayed = replay_checksum(&t, None);
    assert_eq!(live, replayed, "the read models equal a replay");

    // The figures of docs/reliability.md.
    let took = |kind: Kind| -> Vec<Duration> {
        during
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| a.took)
            .collect()
    };
    let mutations = took(Kind::Mutation);
    let signed_in_reads = took(Kind::SignedInRead);
    let anonymous_took = took(Kind::AnonymousRead);
    eprintln!(
        "outage drill: PostgreSQL stopped ({mode:?}) in {stop_took:?} at position \
         {position_before}, down {:?}, started in {start_took:?}\n\
         during the outage: {} mutations refused UNAVAILABLE (median {:?}, max {:?}), {} signed-in \
         reads refused UNAVAILABLE (median {:?}, max {:?}), {} anonymous reads answered (max \
         {:?}), {} /healthz 503 (max {:?})\n\
         recovery: first mutation acknowledged {recovery:?} after PostgreSQL accepted \
         connections again ({recovery_from_start:?} after `pg_ctl start`)\n\
         writes: {} acknowledged, {} requests in all, lost 0, recorded twice 0; read models \
         equal a replay at position {}",
        starting - stopping,
        mutations.len(),
        median(mutations.clone()),
        mutations.iter().max().copied().unwrap_or_default(),
        signed_in_reads.len(),
        median(signed_in_reads.clone()),
        signed_in_reads.iter().max().copied().unwrap_or_default(),
        anonymous_took.len(),
        anonymous_took.iter().max().copied().unwrap_or_default(),
        health_during.len(),
        health_during.iter().map(|h| h.2).max().unwrap_or_default(),
        acknowledged.len(),
        all.len(),
        live.0,
    );
    drop(server);
    drop(t);
    drop(cluster);
}
