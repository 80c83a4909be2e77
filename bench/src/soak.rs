//! The soak: the real server binary (`alliance-ledger serve`, its default settings: snapshots
//! every 100,000 events or 5 minutes and at shutdown, the notary hashing every event) as a
//! process of its own on the benchmark's generated ledger, written to over HTTP at a fixed rate
//! for many minutes, with its memory and the latency recorded minute by minute.
//!
//! **Load.** An open-loop writer: `recordMeasurement` mutations (a new measurement each, with an
//! idempotency key `bench/soak/<measurement>`) due at `start + k / rate`, whether or not the
//! earlier ones were answered; latency from the due time to the checked reply, so a server
//! that falls behind shows it. Every 20th write is read back once answered (the `measurement`
//! query: the server's read models, read your writes), a light read mix.
//!
//! **Recorded.** The server's `VmRSS` and `VmHWM` (`/proc/<pid>/status`) every 10 s; per
//! minute (by due time) the writes due, answered and failed, their p50, p99 and max latency,
//! the reads' p99, the load average, RSS at the minute's end and its maximum.
//!
//! **Checks**, at the end: no write or read failed (HTTP status, GraphQL errors, the key and
//! value answered); the log grew by exactly the writes answered, each under its own idempotency
//! key, none twice; the server's `ledger { position stateChecksum }` equals the log's head and
//! the checksum of a fresh fold of the whole log (`w3::reference_checksum`); the server stops
//! cleanly on SIGTERM.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::ledger::{memory, LedgerBinary};
use crate::report::{quantile, Environment};
use crate::server::{self, FreshDatabase};
use crate::w1::{self, Extra};
use crate::workload::{Recorded, Shape};

/// Without `--rate`: half of W1's peak on an idle machine (`docs/performance.md`).
pub const DEFAULT_RATE: f64 = crate::w5::DEFAULT_RATE;

/// How often the server's memory is read.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// One write in this many is read back once answered.
const READ_EVERY: usize = 20;

/// A request's time limit; a slower answer counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the server may take to fold the log and answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(1200);

const READ: &str = "query($p: String!, $i: String!, $a: String!, $period: Period!) { \
                    measurement(programmeId: $p, indicator: $i, area: $a, period: $period) \
                    { key value } }";

/// How the soak runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub rate: f64,
    pub minutes: u32,
    /// The `alliance-ledger` binary [default: beside this benchmark's binary].
    pub binary: Option<PathBuf>,
}

/// The server as a process of its own; killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
    log: PathBuf,
}

impl ServerProcess {
    async fn start(binary: &LedgerBinary, database_url: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log =
            std::env::temp_dir().join(format!("bench-soak-{}.log", uuid::Uuid::new_v4().simple()));
        let child = binary
            .command(database_url)
            .env("RUST_LOG", "warn")
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", binary.path.display()))?;
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        loop {
            if let Ok(reply) = reqwest::get(format!("{}/healthz", server.url)).await {
                if reply.status().is_success() {
                    return Ok(server);
                }
            }
            if let Some(exit) = server.child.try_wait()? {
                bail!(
                    "the server exited with {exit} before it answered /healthz:\n{}",
                    server.log_text()
                );
            }
            ensure!(
                started.elapsed() < START_TIMEOUT,
                "the server did not answer /healthz in {} s:\n{}",
                START_TIMEOUT.as_secs(),
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as an operator stops it; waits for the exit.
    async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        ensure!(sent.success(), "kill -TERM {} failed", self.pid());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the server did not stop within 300 s of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One reading of the server's memory.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    /// Seconds since the writes started (negative: before).
    pub at: f64,
    pub rss_mib: f64,
    pub hwm_mib: f64,
}

/// How one request ended: which minute it was due in, its latency, and its error if any.
struct Outcome {
    minute: usize,
    write_ms: f64,
    write_error: Option<String>,
    read_ms: Option<f64>,
    read_error: Option<String>,
}

/// One minute of the soak.
#[derive(Debug, Clone, Serialize)]
pub struct Minute {
    pub minute: usize,
    pub due: usize,
    pub answered: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub reads: usize,
    pub read_p99_ms: f64,
    pub load: String,
    /// RSS at the minute's last sample and the highest in it, in MiB.
    pub rss_end_mib: f64,
    pub rss_max_mib: f64,
}

/// The soak's result.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub command: String,
    pub quick: bool,
    pub environment: Environment,
    pub workload: Recorded,
    pub rate: f64,
    pub minutes: Vec<Minute>,
    pub samples: Vec<Sample>,
    /// The server's memory once it answered `/healthz`, before any write, in MiB.
    pub rss_start_mib: f64,
    pub hwm_end_mib: f64,
    pub writes: usize,
    pub writes_answered: usize,
    pub reads: usize,
    pub errors: Vec<String>,
    pub error_count: usize,
    /// Writes per second, from the first due time to the last answer.
    pub throughput: f64,
    pub checks: Vec<String>,
    /// Checks that failed (the soak fails when any did).
    pub failed: Vec<String>,
}

/// Sends the `i`-th extra measurement, then (every [`READ_EVERY`]th) reads it back.
async fn request(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    extra: &Extra,
    read: bool,
    due: Instant,
) -> (f64, Option<String>, Option<f64>, Option<String>) {
    let write = post(
        http,
        url,
        token,
        w1::MUTATION,
        json!({ "input": extra.input }),
    )
    .await
    .and_then(|data| w1::check_measurement(&data["recordMeasurement"], extra));
    let write_ms = due.elapsed().as_secs_f64() * 1e3;
    let write_error = write
        .err()
        .map(|e| format!("{}: {e:#}", extra.aggregate_id));
    if !read || write_error.is_some() {
        return (write_ms, write_error, None, None);
    }
    let input = &extra.input;
    let sent = Instant::now();
    let variables = json!({
        "p": input["programmeId"],
        "i": input["indicator"],
        "a": input["area"],
        "period": input["period"],
    });
    let read = post(http, url, token, READ, variables)
        .await
        .and_then(|data| w1::check_measurement(&data["measurement"], extra));
    let read_ms = sent.elapsed().as_secs_f64() * 1e3;
    let read_error = read
        .err()
        .map(|e| format!("reading {}: {e:#}", extra.aggregate_id));
    (write_ms, write_error, Some(read_ms), read_error)
}

/// Posts a GraphQL document; its `data` when the reply is 200 without errors.
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let reply = http
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(status.is_success(), "HTTP {status}: {body}");
    if let Some(errors) = body.get("errors") {
        bail!("GraphQL errors: {errors}");
    }
    body.get("data").cloned().context("a reply without data")
}

/// Reads the server's memory every [`SAMPLE_EVERY`] until stopped.
fn sampler(
    pid: u32,
    origin: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tick.tick() => {}
            }
            if let Ok((rss_mib, hwm_mib)) = memory(pid) {
                let at = Instant::now().duration_since(origin).as_secs_f64();
                samples
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Sample {
                        at,
                        rss_mib,
                        hwm_mib,
                    });
            }
        }
    });
    (stop, task)
}

/// Runs the soak on `fresh`, holding the generated ledger `recorded`.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    options: &Options,
    mut environment: Environment,
    command: String,
    quick: bool,
) -> anyhow::Result<SoakReport> {
    ensure!(
        options.rate.is_finite() && options.rate > 0.0,
        "--rate takes writes per second, more than 0, e.g. 675"
    );
    ensure!(options.minutes > 0, "--minutes takes at least 1");
    let binary = LedgerBinary::locate(options.binary.as_deref())?;
    let token = fresh.secretary_token().await?;
    eprintln!(
        "soak: starting {} ({}; it folds the log first)",
        binary.path.display(),
        binary.version
    );
    let started_server = Instant::now();
    let server = ServerProcess::start(&binary, &fresh.url).await?;
    let (rss_start, hwm_start) = memory(server.pid()).context("reading the server's memory")?;
    eprintln!(
        "soak: the server answers after {:.1} s, RSS {:.0} MiB; writing {:.0}/s for {} min",
        started_server.elapsed().as_secs_f64(),
        rss_start,
        options.rate,
        options.minutes
    );
    let before = fresh.db.head().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(REQUEST_TIMEOUT)
        .build()?;

    let total = Duration::from_secs(u64::from(options.minutes) * 60);
    let count = (options.rate * total.as_secs_f64()).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let origin = Instant::now();
    let samples = Arc::new(Mutex::new(vec![Sample {
        at: 0.0,
        rss_mib: rss_start,
        hwm_mib: hwm_start,
    }]));
    let (stop_sampler, sampler_task) = sampler(server.pid(), origin, samples.clone());
    let minutes = usize::try_from(options.minutes)?;
    let mut loads = vec![String::new(); minutes];
    let shape: Shape = recorded.shape;
    let url = Arc::new(server.url.clone());
    let token = Arc::new(token);
    let mut tasks = JoinSet::new();
    let mut outcomes = Vec::with_capacity(count);
    let mut last_answer = origin;
    let mut current = 0;
    for k in 0..count {
        let due = origin + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due.into()).await;
        let minute = (k as f64 / options.rate / 60.0) as usize;
        let minute = minute.min(minutes - 1);
        if minute != current {
            // The one-minute load average as the minute ends.
            loads[current] = server::load();
            eprintln!(
                "soak: minute {current_1} done (load {}); {} in flight",
                loads[current],
                tasks.len(),
                current_1 = current + 1
            );
            current = minute;
        }
        let mut extra = w1::extra(&shape, k)?;
        extra.input["idempotencyKey"] = json!(format!("bench/soak/{}", extra.aggregate_id));
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tasks.spawn(async move {
            let (write_ms, write_error, read_ms, read_error) =
                request(&http, &url, &token, &extra, k % READ_EVERY == 0, due).await;
            (
                Instant::now(),
                Outcome {
                    minute,
                    write_ms,
                    write_error,
                    read_ms,
                    read_error,
                },
            )
        });
        // Collect what is done, so finished tasks do not pile up.
        while let Some(done) = tasks.try_join_next() {
            let (at, outcome) = done?;
            last_answer = last_answer.max(at);
            outcomes.push(outcome);
        }
    }
    loads[current] = server::load();
    while let Some(done) = tasks.join_next().await {
        let (at, outcome) = done?;
        last_answer = last_answer.max(at);
        outcomes.push(outcome);
    }
    let throughput_span = last_answer.duration_since(origin).as_secs_f64();
    let _ = stop_sampler.send(());
    sampler_task.await?;
    let mut samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (rss_mib, hwm_mib) = memory(server.pid())?;
    samples.push(Sample {
        at: origin.elapsed().as_secs_f64(),
        rss_mib,
        hwm_mib,
    });

    // Per minute.
    let mut table = Vec::with_capacity(minutes);
    for (m, load) in loads.into_iter().enumerate() {
        let of_minute: Vec<&Outcome> = outcomes.iter().filter(|o| o.minute == m).collect();
        let mut latencies: Vec<f64> = of_minute
            .iter()
            .filter(|o| o.write_error.is_none())
            .map(|o| o.write_ms)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let mut reads: Vec<f64> = of_minute.iter().filter_map(|o| o.read_ms).collect();
        reads.sort_by(f64::total_cmp);
        let errors = of_minute
            .iter()
            .filter(|o| o.write_error.is_some() || o.read_error.is_some())
            .count();
        let (start, end) = ((m * 60) as f64, ((m + 1) * 60) as f64);
        let in_minute: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at > start && s.at <= end + SAMPLE_EVERY.as_secs_f64() / 2.0)
            .collect();
        table.push(Minute {
            minute: m + 1,
            due: of_minute.len(),
            answered: latencies.len(),
            errors,
            p50_ms: quantile(&latencies, 0.5),
            p99_ms: quantile(&latencies, 0.99),
            max_ms: quantile(&latencies, 1.0),
            reads: reads.len(),
            read_p99_ms: quantile(&reads, 0.99),
            load,
            rss_end_mib: in_minute.last().map_or(f64::NAN, |s| s.rss_mib),
            rss_max_mib: in_minute.iter().map(|s| s.rss_mib).fold(f64::NAN, f64::max),
        });
    }
    let errors: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.write_error.iter().chain(o.read_error.iter()))
        .cloned()
        .collect();
    let writes_answered = outcomes.iter().filter(|o| o.write_error.is_none()).count();
    let reads = outcomes.iter().filter(|o| o.read_ms.is_some()).count();

    // The checks.
    let mut checks = Vec::new();
    let mut failed = Vec::new();
    let mut check = |ok: bool, text: String| {
        if ok {
            checks.push(text);
        } else {
            failed.push(text);
        }
    };
    check(
        errors.is_empty(),
        format!(
            "{} errors in {count} writes and {reads} reads (HTTP status, GraphQL errors, the key \
             and value answered){}",
            errors.len(),
            errors
                .first()
                .map(|e| format!("; the first: {e}"))
                .unwrap_or_default()
        ),
    );
    let head = fresh.db.head().await?;
    check(
        usize::try_from(head - before)? == writes_answered,
        format!(
            "the log grew by {} events for {writes_answered} writes answered",
            head - before
        ),
    );
    let (events, keys, ours): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT metadata->>'idempotency_key'), \
                count(*) FILTER (WHERE metadata->>'idempotency_key' LIKE 'bench/soak/%') \
         FROM events WHERE position > $1",
    )
    .bind(before)
    .fetch_one(&fresh.pool)
    .await?;
    check(
        events == keys && events == ours,
        format!(
            "the {events} new events carry {keys} distinct idempotency keys, {ours} of them the \
             soak's: no key recorded twice"
        ),
    );
    let data = post(
        &http,
        &server.url,
        &token,
        "{ ledger { position stateChecksum } }",
        json!({}),
    )
    .await?;
    let position = data["ledger"]["position"].as_i64().unwrap_or(-1);
    let checksum = data["ledger"]["stateChecksum"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    eprintln!("soak: folding the log afresh for the reference checksum");
    let (folded, reference) = crate::w3::reference_checksum(&fresh.pool).await?;
    check(
        position == head && folded == head && checksum == reference,
        format!(
            "the server's read models stand at {position} with stateChecksum {checksum}; a fresh \
             fold of the log's {folded} events (head {head}) gives {reference}"
        ),
    );
    let (_, hwm_end) = memory(server.pid())?;
    let log = server.log_text();
    let status = server.terminate().await?;
    check(
        status.success(),
        format!("the server stopped on SIGTERM with {status}"),
    );
    let logged_errors = log.lines().filter(|l| l.contains("ERROR")).count();
    check(
        logged_errors == 0,
        format!("the server logged {logged_errors} ERROR lines"),
    );
    environment.load_after = server::load();
    Ok(SoakReport {
        command,
        quick,
        environment,
        workload: recorded.clone(),
        rate: options.rate,
        minutes: table,
        samples,
        rss_start_mib: rss_start,
        hwm_end_mib: hwm_end,
        writes: count,
        writes_answered,
        reads,
        error_count: errors.len(),
        errors: errors.into_iter().take(20).collect(),
        throughput: writes_answered as f64 / throughput_span,
        checks,
        failed,
    })
}

fn figure(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl SoakReport {
    /// The plain-text report: the set-up, the table per minute, the memory and the checks.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let e = &self.environment;
        let _ = writeln!(out, "command: {}", self.command);
        if self.quick {
            let _ = writeln!(out, "QUICK RUN: small sizes, not for quoting");
        }
        let _ = writeln!(
            out,
            "machine: {} CPUs ({}), {} memory, {} build; load average {} before, {} after",
            e.cpus, e.cpu_model, e.memory, e.build, e.load_before, e.load_after
        );
        let _ = writeln!(out, "PostgreSQL {}", e.postgres_version);
        let _ = writeln!(out, "workload: {}", self.workload.shape.describe());
        let _ = writeln!(
            out,
            "soak: recordMeasurement over HTTP to `alliance-ledger serve` (its own process, \
             default settings), open loop at {:.0} writes/s, every {READ_EVERY}th read back; \
             latency from the due time to the checked reply",
            self.rate
        );
        let _ = writeln!(
            out,
            "\n{:>6}  {:>6}  {:>8}  {:>6}  {:>8}  {:>8}  {:>8}  {:>6}  {:>9}  {:>9}  {:>9}  load",
            "minute",
            "due",
            "answered",
            "errors",
            "p50 ms",
            "p99 ms",
            "max ms",
            "reads",
            "read p99",
            "RSS MiB",
            "RSS max"
        );
        for m in &self.minutes {
            let _ = writeln!(
                out,
                "{:>6}  {:>6}  {:>8}  {:>6}  {:>8}  {:>8}  {:>8}  {:>6}  {:>9}  {:>9}  {:>9}  {}",
                m.minute,
                m.due,
                m.answered,
                m.errors,
                figure(m.p50_ms),
                figure(m.p99_ms),
                figure(m.max_ms),
                m.reads,
                figure(m.read_p99_ms),
                figure(m.rss_end_mib),
                figure(m.rss_max_mib),
                m.load
            );
        }
        let rss: Vec<f64> = self.samples.iter().map(|s| s.rss_mib).collect();
        let _ = writeln!(
            out,
            "\nwrites: {} due, {} answered, {:.0}/s; reads: {}; errors: {}",
            self.writes, self.writes_answered, self.throughput, self.reads, self.error_count
        );
        let _ = writeln!(
            out,
            "server memory: RSS {:.0} MiB after start, {:.0} MiB at the end, {:.0} MiB at most \
             ({} samples, every {} s); VmHWM {:.0} MiB at the end",
            self.rss_start_mib,
            rss.last().copied().unwrap_or(f64::NAN),
            rss.iter().copied().fold(f64::NAN, f64::max),
            rss.len(),
            SAMPLE_EVERY.as_secs(),
            self.hwm_end_mib
        );
        let _ = writeln!(out, "\nchecks:");
        for c in &self.checks {
            let _ = writeln!(out, "  ok    {c}");
        }
        for c in &self.failed {
            let _ = writeln!(out, "  FAIL  {c}");
        }
        for e in &self.errors {
            let _ = writeln!(out, "  error {e}");
        }
        out
    }
}
