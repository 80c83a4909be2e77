//! The crash drill (`docs/reliability.md`, "Crash drill"): clients send mutations with
//! idempotency keys and retry each until it is answered, while the real server process is killed
//! with SIGKILL at random moments and started again on the same database. Afterwards the log
//! holds exactly one effect per acknowledged key and none of a refused one, every retried key is
//! answered as it was first, the read models of a freshly started server equal a replay of the
//! log, and `alliance-ledger verify` passes.
//!
//! The sizes are settable for a longer run: `CRASH_DRILL_MUTATIONS` (default 10,000),
//! `CRASH_DRILL_KILLS` (20), `CRASH_DRILL_CLIENTS` (16); `CRASH_DRILL_SEED` repeats a run (the seed
//! is printed).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use domain::access::Role;
use futures::StreamExt;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use store::{LogFilter, LoggedEvent};
use tests::{
    cli, ledger_checksum, on_both_backends, replay_checksum, GraphqlClient, GraphqlReply,
    LedgerProcess, TestDb,
};

/// Every key of the drill starts with this, so that its events are told apart from the demo's.
const KEY_PREFIX: &str = "crash-drill/";
/// Longer than any answer of a live server takes; a request that takes longer is sent again.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Buurten added under each wijk of the demo before the drill, so that measurements spread over
/// many areas.
const BUURTEN_PER_WIJK: usize = 3;

const RECORD_MEASUREMENT: &str = "mutation($input: RecordMeasurementInput!) {
    recordMeasurement(input: $input) { key value source }
}";
const RECORD_EXPENDITURE: &str = "mutation($input: RecordExpenditureInput!) {
    recordExpenditure(input: $input) { spent }
}";
const PROPOSE_DECISION: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id title status }
}";

/// How large the drill is; from the environment, for a longer run.
#[derive(Debug, Clone, Copy)]
struct Settings {
    mutations: usize,
    kills: usize,
    clients: usize,
    seed: u64,
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Self {
        let seed = env_number(
            "CRASH_DRILL_SEED",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970")
                .as_nanos() as u64,
        );
        let settings = Self {
            mutations: env_number("CRASH_DRILL_MUTATIONS", 10_000) as usize,
            kills: env_number("CRASH_DRILL_KILLS", 20) as usize,
            clients: env_number("CRASH_DRILL_CLIENTS", 16).max(1) as usize,
            seed,
        };
        assert!(
            settings.mutations >= 100,
            "CRASH_DRILL_MUTATIONS: at least 100"
        );
        settings
    }
}

/// What one mutation is, and what its effect in the log must look like.
#[derive(Debug, Clone)]
enum Kind {
    /// A measurement, whose aggregate id is its key (`programme/indicator/area/period`).
    Measurement { aggregate_id: String },
    /// An expenditure of this many cents on the drill's allocation.
    Expenditure { cents: i64 },
    /// A proposed decision; the ledger makes its id.
    Proposal,
}

#[derive(Debug, Clone)]
struct Job {
    key: String,
    kind: Kind,
    query: &'static str,
    variables: Value,
}

/// How the ledger finally answered a key.
#[derive(Debug, Clone)]
enum Answer {
    /// Recorded: the answer's `data`.
    Acknowledged(Value),
    /// Refused by a rule (an expenditure over what the allocation has left).
    Refused,
    /// Anything else: a defect the drill reports.
    Unexpected(String),
}

#[derive(Debug, Clone)]
struct Outcome {
    answer: Answer,
    /// How many times the request was sent.
    attempts: u32,
}

/// What clients and the killer share: where the server is now, and how far the clients are.
struct Drill {
    /// The base URL of the server that runs now; the killer changes it after each restart.
    base: RwLock<String>,
    answered: AtomicUsize,
    done: AtomicBool,
    /// Failed attempts by reason (refused, reset, timeout, 5xx, UNAVAILABLE, CONFLICT).
    failures: Mutex<BTreeMap<String, usize>>,
}

impl Drill {
    fn failed(&self, reason: &str) {
        *self
            .failures
            .lock()
            .expect("not poisoned")
            .entry(reason.to_owned())
            .or_default() += 1;
    }
}

/// The drill's fund and the allocation its expenditures are booked on.
struct Budget {
    fund_id: String,
    allocation_id: String,
    /// What the allocation has left to spend before the drill, in cents.
    left_cents: i64,
}

fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn text_cents(text: &str) -> i64 {
    let (euros, cents) = text.split_once('.').unwrap_or((text, "0"));
    let euros: i64 = euros.parse().expect("whole euros");
    let cents: i64 = format!("{cents:0<2}")[..2].parse().expect("cents");
    euros * 100 + cents
}

/// Starts the real binary on `t`, signing checkpoints often and writing snapshots often, so
/// that kills also land while a checkpoint or a snapshot is written.
async fn start_server(t: &TestDb, key_file: &str) -> LedgerProcess {
    LedgerProcess::start_with(
        t,
        &[
            "--checkpoint-every-events",
            "200",
            "--checkpoint-interval-secs",
            "1",
            "--snapshot-every-events",
            "400",
            "--snapshot-interval-secs",
            "1",
        ],
        &[("ALLIANCE_LEDGER_SIGNING_KEY_FILE", key_file)],
    )
    .await
}

/// Adds buurten under the demo's wijken, then reads the programme's areas and indicators.
async fn areas_and_indicators(secretary: &GraphqlClient) -> (Vec<String>, Vec<String>) {
    let wijken = secretary
        .query(
            "{ programme(id: \"dordt-west\") { areas(kind: WIJK) { id } } }",
            json!({}),
        )
        .await
        .expect_ok();
    for wijk in wijken["programme"]["areas"].as_array().expect("wijken") {
        let wijk = wijk["id"].as_str().expect("an area id");
        for n in 1..=BUURTEN_PER_WIJK {
            secretary
                .query(
                    "mutation($input: AddAreaInput!) { addArea(input: $input) { id } }",
                    json!({ "input": {
                        "programmeId": "dordt-west", "areaId": format!("{wijk}-buurt-{n}"),
                        "name": format!("Buurt {n} van {wijk}"), "kind": "BUURT",
                        "parent": wijk, "idempotencyKey": format!("area/{wijk}-buurt-{n}"),
                    }}),
                )
                .await
                .expect_ok();
        }
    }
    let programme = secretary
        .query(
            "{ programme(id: \"dordt-west\") { areas { id } indicators { key } } }",
            json!({}),
        )
        .await
        .expect_ok();
    let ids = |list: &Value, field: &str| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|v| v[field].as_str().expect("an id").to_owned())
            .collect()
    };
    let areas = ids(&programme["programme"]["areas"], "id");
    let indicators = ids(&programme["programme"]["indicators"], "key");
    assert!(
        areas.len() >= 4 * BUURTEN_PER_WIJK && indicators.len() >= 10,
        "the demo's programme has areas and indicators: {programme}"
    );
    (areas, indicators)
}

/// The demo's fund and its allocation of 2025, found in the log and read over the API.
async fn demo_budget(t: &TestDb, secretary: &GraphqlClient) -> Budget {
    let filter = LogFilter {
        aggregate_type: Some("Fund".into()),
        ..LogFilter::default()
    };
    let funds = t.db.read_log(0, 100, &filter).await.expect("read the log");
    let fund_id = funds
        .iter()
        .find(|e| e.event_type == "FundRegistered")
        .expect("the demo registers a fund")
        .aggregate_id
        .clone();
    let fund = secretary
        .query(
            "query($id: ID!) { fund(id: $id) { allocations { id year left } } }",
            json!({ "id": fund_id }),
        )
        .await
        .expect_ok();
    let allocation = fund["fund"]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .find(|a| a["year"] == 2025)
        .expect("the demo allocates 2025")
        .clone();
    Budget {
        fund_id,
        allocation_id: allocation["id"].as_str().expect("an id").to_owned(),
        left_cents: text_cents(allocation["left"].as_str().expect("money")),
    }
}

/// The drill's mutations, in a seeded random order: about 85% measurements (each on its own
/// indicator, area and day), 10% expenditures on one allocation that together ask a quarter
/// more than it has left, and 5% proposed decisions.
fn jobs(
    settings: &Settings,
    rng: &mut ChaCha8Rng,
    areas: &[String],
    indicators: &[String],
    budget: &Budget,
) -> Vec<Job> {
    let n = settings.mutations;
    let expenditures = (n / 10).max(1);
    let proposals = n / 20;
    let measurements = n - expenditures - proposals;
    let pairs: Vec<(&String, &String)> = indicators
        .iter()
        .flat_map(|i| areas.iter().map(move |a| (i, a)))
        .collect();
    let first_day = NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date");
    let days_in_period = 365 * 20;
    assert!(
        measurements <= pairs.len() * days_in_period,
        "CRASH_DRILL_MUTATIONS: at most {} measurements fit the programme",
        pairs.len() * days_in_period
    );
    // Together the expenditures ask 1.25 times what the allocation has left (less a cent each
    // for rounding, far less than the quarter more), so some must be refused; one weighs up to
    // three times another.
    let weights: Vec<i64> = (0..expenditures)
        .map(|_| rng.gen_range(100..=300))
        .collect();
    let weight: i64 = weights.iter().sum();
    let asked = budget.left_cents * 5 / 4;
    assert!(
        asked - expenditures as i64 > budget.left_cents,
        "the allocation has left more than a cent per expenditure"
    );
    let amounts: Vec<i64> = weights
        .iter()
        .map(|w| (asked * w / weight).max(1))
        .collect();
    let mut kinds = Vec::with_capacity(n);
    kinds.extend((0..measurements).map(|i| (0, i)));
    kinds.extend((0..expenditures).map(|i| (1, i)));
    kinds.extend((0..proposals).map(|i| (2, i)));
    kinds.shuffle(rng);
    kinds
        .into_iter()
        .enumerate()
        .map(|(n, (kind, i))| {
            let key = format!("{KEY_PREFIX}{n:06}");
            match kind {
                0 => {
                    let (indicator, area) = pairs[i % pairs.len()];
                    let day = first_day + Days::new((i / pairs.len()) as u64);
                    let period = day.format("%Y-%m-%d").to_string();
                    let value = format!("{}.{}", rng.gen_range(1..100), rng.gen_range(0..10));
                    Job {
                        kind: Kind::Measurement {
                            aggregate_id: format!("dordt-west/{indicator}/{area}/{period}"),
                        },
                        query: RECORD_MEASUREMENT,
                        variables: json!({ "input": {
                            "programmeId": "dordt-west", "indicator": indicator, "area": area,
                            "period": period, "value": value, "source": "CBS",
                            "publishedOn": "2025-01-01", "illustrative": true,
                            "idempotencyKey": key,
                        }}),
                        key,
                    }
                }
                1 => {
                    let cents = amounts[i];
                    Job {
                        kind: Kind::Expenditure { cents },
                        query: RECORD_EXPENDITURE,
                        variables: json!({ "input": {
                            "fundId": budget.fund_id, "allocationId": budget.allocation_id,
                            "amount": cents_text(cents), "description": format!("Uitgave {i}"),
                            "date": "2025-03-01", "idempotencyKey": key,
                        }}),
                        key,
                    }
                }
                _ => Job {
                    kind: Kind::Proposal,
                    query: PROPOSE_DECISION,
                    variables: json!({ "input": {
                        "programmeId": "dordt-west", "title": format!("Voorstel {i}"),
                        "idempotencyKey": key,
                    }}),
                    key,
                },
            }
        })
        .collect()
}

/// Why an answer is sent again, or `None` when it is final.
fn retry_reason(reply: &GraphqlReply) -> Option<&'static str> {
    if reply.status >= 500 {
        return Some("HTTP 5xx");
    }
    match reply.error_codes().as_slice() {
        [code] if code == "UNAVAILABLE" => Some("UNAVAILABLE"),
        [code] if code == "CONFLICT" => Some("CONFLICT"),
        _ => None,
    }
}

/// The final answer to `job` as a client sees it.
fn final_answer(job: &Job, reply: GraphqlReply) -> Answer {
    if reply.status == 200 && reply.errors().is_empty() {
        return Answer::Acknowledged(reply.body["data"].clone());
    }
    let errors = reply.errors();
    let rule = errors
        .first()
        .and_then(|e| e["extensions"]["rule"].as_str())
        .unwrap_or("");
    match (&job.kind, reply.error_codes().as_slice()) {
        (Kind::Expenditure { .. }, [code])
            if code == "RULE_VIOLATED" && rule == "budget.within_allocation" =>
        {
            Answer::Refused
        }
        _ => Answer::Unexpected(format!("{} {}", reply.status, reply.body)),
    }
}

/// Sends `job` until it is answered: a refused or reset connection, a timeout, a 5xx, an
/// `UNAVAILABLE` or a `CONFLICT` is sent again, with the same key, after a short backoff.
async fn send_until_answered(
    drill: &Drill,
    token: &str,
    client: &mut Option<(String, GraphqlClient)>,
    rng: &mut ChaCha8Rng,
    job: &Job,
) -> Outcome {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let base = drill.base.read().expect("not poisoned").clone();
        if client.as_ref().is_none_or(|(b, _)| *b != base) {
            *client = Some((base.clone(), GraphqlClient::new(base).with_token(token)));
        }
        let (_, http) = client.as_ref().expect("a client");
        let reason = match tokio::time::timeout(
            REQUEST_TIMEOUT,
            http.try_query(job.query, job.variables.clone()),
        )
        .await
        {
            Err(_) => "timeout",
            Ok(Err(e)) if e.is_connect() => "connection refused",
            Ok(Err(_)) => "connection reset or closed",
            Ok(Ok(reply)) => match retry_reason(&reply) {
                Some(reason) => reason,
                None => {
                    return Outcome {
                        answer: final_answer(job, reply),
                        attempts,
                    }
                }
            },
        };
        drill.failed(reason);
        let backoff = 10 * (1 << attempts.min(5)) + rng.gen_range(0..20);
        tokio::time::sleep(Duration::from_millis(backoff)).await;
    }
}

async fn client_task(
    drill: Arc<Drill>,
    token: String,
    seed: u64,
    jobs: Vec<(usize, Job)>,
) -> Vec<(usize, Outcome)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut client = None;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (n, job) in jobs {
        let outcome = send_until_answered(&drill, &token, &mut client, &mut rng, &job).await;
        drill.answered.fetch_add(1, Ordering::Relaxed);
        outcomes.push((n, outcome));
    }
    outcomes
}

/// One kill and restart.
struct Kill {
    /// Answers the clients had when it fell.
    answered: usize,
    /// From the kill until the new server answered `/healthz`.
    restart: Duration,
}

/// Kills the server with SIGKILL when the clients reach each of `at` answers (after a random
/// delay of up to 100 ms), and starts a new one on the same database, whose address the clients
/// follow. Returns the server that runs at the end.
async fn killer(
    drill: Arc<Drill>,
    t: &TestDb,
    key_file: &str,
    mut server: LedgerProcess,
    at: Vec<(usize, u64)>,
) -> (LedgerProcess, Vec<Kill>) {
    let mut kills = Vec::new();
    for (answers, delay_ms) in at {
        while drill.answered.load(Ordering::Relaxed) < answers
            && !drill.done.load(Ordering::Relaxed)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let answered = drill.answered.load(Ordering::Relaxed);
        server.kill();
        let killed = Instant::now();
        server = start_server(t, key_file).await;
        *drill.base.write().expect("not poisoned") = server.client().base().to_owned();
        kills.push(Kill {
            answered,
            restart: killed.elapsed(),
        });
    }
    (server, kills)
}

async fn read_whole_log(t: &TestDb) -> Vec<LoggedEvent> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page =
            t.db.read_log(after, 5_000, &LogFilter::default())
                .await
                .expect("read the log");
        let Some(last) = page.last() else {
            return events;
        };
        after = last.position;
        events.extend(page);
    }
}

/// Waits until the server behind `client` has folded the whole log, and returns its
/// (position, checksum).
async fn caught_up(t: &TestDb, client: &GraphqlClient) -> (i64, String) {
    let head = t.db.head().await.expect("head");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ledger = ledger_checksum(client).await;
        if ledger.0 == head {
            return ledger;
        }
        assert!(
            Instant::now() < deadline,
            "the server reaches the head {head} within 60 s, at {}",
            ledger.0
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn crash_drill(t: TestDb) {
    let settings = Settings::from_env();
    let backend = t.backend();
    println!(
        "crash drill on {backend}: {} mutations, {} kills, {} clients, seed {} \
         (CRASH_DRILL_SEED={} repeats it)",
        settings.mutations, settings.kills, settings.clients, settings.seed, settings.seed
    );
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    let key_dir = tempfile::tempdir().expect("a folder");
    let key_path = key_dir.path().join("signing.key");
    let public_key = alliance_ledger::trail::generate_key("dordt-west.alliance-ledger", &key_path)
        .expect("a signing key");
    let key_file = key_path.to_str().expect("a UTF-8 path").to_owned();
    let token = t.token("Drill", Role::Secretary, None).await;
    let auditor_token = t.token("Aad", Role::Auditor, None).await;

    let server = start_server(&t, &key_file).await;
    let secretary = server.client().with_token(&token);
    let (areas, indicators) = areas_and_indicators(&secretary).await;
    let budget = demo_budget(&t, &secretary).await;
    let jobs = jobs(&settings, &mut rng, &areas, &indicators, &budget);
    let head_before = t.db.head().await.expect("head");

    // The kills fall at random numbers of answers, spread over the whole run.
    let n = settings.mutations;
    let mut at: Vec<(usize, u64)> = (0..settings.kills)
        .map(|_| (rng.gen_range(n / 50..n * 49 / 50), rng.gen_range(0..=100)))
        .collect();
    at.sort_unstable();

    let drill = Arc::new(Drill {
        base: RwLock::new(server.client().base().to_owned()),
        answered: AtomicUsize::new(0),
        done: AtomicBool::new(false),
        failures: Mutex::new(BTreeMap::new()),
    });
    let started = Instant::now();
    let mut per_client: Vec<Vec<(usize, Job)>> = vec![Vec::new(); settings.clients];
    for (n, job) in jobs.iter().cloned().enumerate() {
        per_client[n % settings.clients].push((n, job));
    }
    let clients: Vec<_> = per_client
        .into_iter()
        .enumerate()
        .map(|(c, jobs)| {
            let seed = settings.seed.wrapping_add(c as u64 + 1);
            tokio::spawn(client_task(drill.clone(), token.clone(), seed, jobs))
        })
        .collect();
    let killing = killer(drill.clone(), &t, &key_file, server, at);
    let answering = async {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; jobs.len()];
        for client in clients {
            for (n, outcome) in client.await.expect("a client ran to its end") {
                outcomes[n] = Some(outcome);
            }
        }
        drill.done.store(true, Ordering::Relaxed);
        outcomes
    };
    let (outcomes, (server, kills)) = tokio::join!(answering, killing);
    let drill_time = started.elapsed();
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.expect("every job answered"))
        .collect();

    // Every answer is one a client may get: recorded, or refused for want of money.
    let unexpected: Vec<String> = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(job, o)| match &o.answer {
            Answer::Unexpected(what) => Some(format!("{}: {what}", job.key)),
            _ => None,
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected answers, e.g. {:?}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(5)]
    );

    // The log: exactly one effect per acknowledged key, none of a refused one.
    let log = read_whole_log(&t).await;
    let mut effects: HashMap<&str, Vec<&LoggedEvent>> = HashMap::new();
    for event in &log {
        if let Some(key) = event.meta("idempotency_key") {
            if key.starts_with(KEY_PREFIX) {
                effects.entry(key).or_default().push(event);
            }
        }
    }
    let (mut acknowledged, mut refused, mut lost, mut duplicates, mut recorded_refusals) =
        (0, 0, 0, 0, 0);
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        let events = effects.remove(job.key.as_str()).unwrap_or_default();
        match &outcome.answer {
            Answer::Acknowledged(data) => {
                acknowledged += 1;
                match events.len() {
                    0 => lost += 1,
                    1 => check_effect(job, data, events[0], &budget),
                    more => duplicates += more - 1,
                }
            }
            Answer::Refused => {
                refused += 1;
                recorded_refusals += events.len();
            }
            Answer::Unexpected(_) => unreachable!("checked above"),
        }
    }
    let retried = outcomes.iter().filter(|o| o.attempts > 1).count();
    let failures = drill.failures.lock().expect("not poisoned").clone();
    let restarts: Vec<Duration> = kills.iter().map(|k| k.restart).collect();
    println!(
        "crash drill on {backend}: {} kills survived (at answers {:?}), restarts took {:.1}-{:.1} s; \
         {acknowledged} acknowledged, {refused} refused (allocation exhausted), {retried} keys \
         retried; failed attempts: {failures:?}; lost {lost}, duplicates {duplicates}, refused \
         but recorded {recorded_refusals}; drill {:.1} s",
        kills.len(),
        kills.iter().map(|k| k.answered).collect::<Vec<_>>(),
        restarts.iter().min().unwrap_or(&Duration::ZERO).as_secs_f64(),
        restarts.iter().max().unwrap_or(&Duration::ZERO).as_secs_f64(),
        drill_time.as_secs_f64(),
    );
    assert_eq!(kills.len(), settings.kills, "every kill fell");
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert_eq!(duplicates, 0, "keys recorded more than once");
    assert_eq!(recorded_refusals, 0, "refused expenditures recorded");
    assert!(
        effects.is_empty(),
        "events under keys no client sent: {:?}",
        effects.keys().take(5).collect::<Vec<_>>()
    );
    assert_eq!(
        log.len() as i64 - head_before,
        acknowledged as i64,
        "the drill added one event per acknowledged key and nothing else"
    );
    assert!(
        refused > 0,
        "the expenditures asked more than the allocation had"
    );

    // The money: what was acknowledged is what was spent, never more than the allocation had,
    // and each acknowledged expenditure answered a different total.
    let spent_cents: i64 = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(job, o)| match (&job.kind, &o.answer) {
            (Kind::Expenditure { cents }, Answer::Acknowledged(_)) => Some(*cents),
            _ => None,
        })
        .sum();
    assert!(
        spent_cents <= budget.left_cents,
        "the allocation is not overdrawn"
    );
    let mut totals: Vec<i64> = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(job, o)| match (&job.kind, &o.answer) {
            (Kind::Expenditure { .. }, Answer::Acknowledged(data)) => Some(text_cents(
                data["recordExpenditure"]["spent"].as_str().expect("money"),
            )),
            _ => None,
        })
        .collect();
    totals.sort_unstable();
    let distinct = totals.len();
    totals.dedup();
    assert_eq!(
        totals.len(),
        distinct,
        "each expenditure answered its own total"
    );

    // A retry answers what the first answer was, and records nothing: every key that needed
    // more than one attempt, every expenditure and every tenth other key is sent once more.
    let client = server.client().with_token(&token);
    let head = t.db.head().await.expect("head");
    let resends: Vec<(&Job, &Value)> = jobs
        .iter()
        .zip(&outcomes)
        .enumerate()
        .filter_map(|(n, (job, outcome))| match &outcome.answer {
            Answer::Acknowledged(first)
                if outcome.attempts > 1
                    || matches!(job.kind, Kind::Expenditure { .. })
                    || n % 10 == 0 =>
            {
                Some((job, first))
            }
            _ => None,
        })
        .collect();
    let resent = resends.len();
    futures::stream::iter(resends)
        .for_each_concurrent(settings.clients, |(job, first)| {
            let client = &client;
            async move {
                let again = client
                    .query(job.query, job.variables.clone())
                    .await
                    .expect_ok();
                assert_eq!(&again, first, "{} answered as at first", job.key);
            }
        })
        .await;
    assert_eq!(
        t.db.head().await.expect("head"),
        head,
        "retries record nothing"
    );

    // The read models of the server that ran last, and of a fresh one, equal a replay.
    let auditor = server.client().with_token(&auditor_token);
    let replayed = replay_checksum(&t, None);
    assert_eq!(replayed.0, head);
    assert_eq!(caught_up(&t, &auditor).await, replayed, "the last server");
    let fund = auditor
        .query(
            "query($id: ID!) { fund(id: $id) { allocations { id spent } } }",
            json!({ "id": budget.fund_id }),
        )
        .await
        .expect_ok();
    let allocation = fund["fund"]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .find(|a| a["id"] == json!(budget.allocation_id))
        .expect("the allocation")
        .clone();
    assert_eq!(
        text_cents(allocation["spent"].as_str().expect("money")),
        spent_cents,
        "the allocation spent exactly the acknowledged expenditures"
    );
    assert_eq!(
        totals.last().copied().unwrap_or(0),
        spent_cents,
        "the last expenditure answered the final total"
    );
    server.kill();
    let mut fresh = start_server(&t, &key_file).await;
    assert_eq!(
        caught_up(&t, &fresh.client().with_token(&auditor_token)).await,
        replayed,
        "a freshly started server equals a replay"
    );

    // A graceful stop signs a checkpoint of the whole log; then the trail verifies.
    assert!(fresh.terminate().success(), "{}", fresh.log_text());
    let out = cli(Some(&t), &["verify", "--public-key", &public_key]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("verified: {head} events,"))
            && stdout.contains(&format!("the newest covers {head} events")),
        "{stdout}"
    );
    println!(
        "crash drill on {backend}: {resent} retries answered as at first; replay and a fresh \
         server agree at position {head}; verify passed; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// Checks that `event` is the effect `job` asked for, as acknowledged with `data`.
fn check_effect(job: &Job, data: &Value, event: &LoggedEvent, budget: &Budget) {
    match &job.kind {
        Kind::Measurement { aggregate_id } => {
            assert_eq!(
                (event.event_type.as_str(), &event.aggregate_id),
                ("MeasurementRecorded", aggregate_id),
                "{}",
                job.key
            );
            assert_eq!(data["recordMeasurement"]["key"], json!(aggregate_id));
        }
        Kind::Expenditure { cents } => {
            assert_eq!(
                (event.event_type.as_str(), &event.aggregate_id),
                ("ExpenditureRecorded", &budget.fund_id),
                "{}",
                job.key
            );
            assert_eq!(
                event.payload["ExpenditureRecorded"]["amount"],
                json!(cents),
                "{}: {}",
                job.key,
                event.payload
            );
        }
        Kind::Proposal => {
            assert_eq!(
                (event.event_type.as_str(), Some(event.aggregate_id.as_str())),
                ("DecisionProposed", data["proposeDecision"]["id"].as_str()),
                "{}",
                job.key
            );
        }
    }
}

on_both_backends!(crash_drill);
