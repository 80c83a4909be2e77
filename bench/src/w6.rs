//! W6 footprint: how long the ledger's server takes to start on the workload's log and how much
//! memory it then holds, without a snapshot and from one, beside the baseline of fetching the
//! whole log with a plain `SELECT` (W3's baseline).
//!
//! **Ours.** The release binary, `alliance-ledger serve`, as a process of its own on a free port
//! of 127.0.0.1 against the benchmark's database (snapshots not written: every interval 0 and
//! `--snapshot-on-shutdown false`; no signing key; JSON log lines at `info`):
//! - *without a snapshot*: `--ignore-snapshots`, so it folds the whole log;
//! - *from a snapshot*: the one `alliance-ledger snapshot` stored at the log's head before the
//!   runs, so it folds no event.
//!
//! Start-up is the time from spawning the process until `GET /healthz` first answers 200,
//! polled every 10 ms. The server binds its listener only once its read models have folded the
//! log to the head and the audit trail is loaded (`api::AppState::start_with_audit`), so its
//! first answer comes from caught-up read models; the check right after confirms it. Beside
//! it, the server's own `read models ready` log line (`ms`: restoring the snapshot and
//! folding). Memory: `VmRSS` (resident now) and `VmHWM` (the peak resident so far) of
//! `/proc/<pid>/status`, read once the server has answered and then sat idle for a second.
//! Then it is stopped with SIGTERM.
//!
//! Before the runs, a first start folds the whole log and hashes and records every event's
//! audit leaf (`audit_leaves`), which later starts only read; it is timed once, apart.
//!
//! Answer checks, for every start: the server's `ledger { position stateChecksum }` equals the
//! log's head and W3's reference checksum; its log line names the snapshot it started from
//! (none, or the one at the head) and the events it folded (the whole log, or none); it stops
//! with exit status 0 on SIGTERM. `alliance-ledger snapshot` reports the head and the reference
//! checksum, and stores a row of the size it prints; before it, no snapshot exists. Every
//! baseline read returns positions 1 to the head once each.

use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use serde_json::{json, Value};
use sqlx::PgPool;
use store::Role;

use crate::ledger::{memory, LedgerBinary};
use crate::report::{Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::w3;
use crate::workload::Recorded;

/// How often start-up polls `/healthz`.
const POLL: Duration = Duration::from_millis(10);
/// How long the server sits idle after its first answer before its memory is read.
const IDLE: Duration = Duration::from_secs(1);
/// The longest a start (or a stop) may take before the benchmark gives up.
const TIMEOUT: Duration = Duration::from_secs(900);

/// How a server starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// `--ignore-snapshots`: folds the whole log.
    Folding,
    /// From the snapshot at the head.
    FromSnapshot,
}

/// One start of the server, measured and checked.
struct Started {
    startup: Duration,
    /// The `ms` of the server's `read models ready` line.
    ready: Duration,
    rss_mib: f64,
    hwm_mib: f64,
}

/// A server process; killed if dropped still running.
struct ServerProcess {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl ServerProcess {
    /// The server's standard error so far (its log lines).
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The last lines of the log, for an error message.
    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Sends SIGTERM and waits for the exit.
    async fn stop(mut self) -> anyhow::Result<ExitStatus> {
        let pid = i32::try_from(self.child.id())?;
        let pid = rustix::process::Pid::from_raw(pid).context("the server's process id")?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .context("sending SIGTERM to the server")?;
        let asked = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            ensure!(
                asked.elapsed() < TIMEOUT,
                "W6: the server did not stop within {} s of SIGTERM",
                TIMEOUT.as_secs()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What every start needs.
struct Context<'a> {
    binary: &'a LedgerBinary,
    url: &'a str,
    head: i64,
    reference: &'a str,
    token: String,
    http: reqwest::Client,
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The fields of the server's `read models ready` log line (JSON log format).
fn ready_line(log: &str) -> Option<serde_json::Map<String, Value>> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l.get("fields").and_then(Value::as_object).cloned())
        .find(|f| f.get("message").and_then(Value::as_str) == Some("read models ready"))
}

/// Starts a server, measures its start-up and memory, checks its answers, and stops it.
async fn start_once(cx: &Context<'_>, start: Start) -> anyhow::Result<Started> {
    let port = free_port()?;
    let log = tempfile::Builder::new()
        .prefix("alliance-ledger-bench-w6-")
        .suffix(".log")
        .tempfile()?;
    let mut command = cx.binary.command(cx.url);
    command
        .args(["--log-format", "json", "--log", "info", "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "--snapshot-every-events",
            "0",
            "--snapshot-interval-secs",
            "0",
            "--snapshot-on-shutdown",
            "false",
        ])
        .stdout(Stdio::null())
        .stderr(log.reopen()?);
    if start == Start::Folding {
        command.arg("--ignore-snapshots");
    }
    let base = format!("http://127.0.0.1:{port}");
    let health = format!("{base}/healthz");
    let started = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("starting {}", cx.binary.path.display()))?;
    let mut server = ServerProcess { child, log };
    let startup = loop {
        if let Ok(reply) = cx.http.get(&health).send().await {
            let status = reply.status();
            if status.is_success() {
                break started.elapsed();
            }
            bail!(
                "W6: /healthz answered {status} at start: {}",
                reply.text().await.unwrap_or_default()
            );
        }
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "W6: the server exited ({status}) before answering; its log ends:\n{}",
                server.log_tail()
            );
        }
        ensure!(
            started.elapsed() < TIMEOUT,
            "W6: the server did not answer within {} s; its log ends:\n{}",
            TIMEOUT.as_secs(),
            server.log_tail()
        );
        tokio::time::sleep(POLL).await;
    };
    tokio::time::sleep(IDLE).await;
    let (rss_mib, hwm_mib) = memory(server.child.id())?;

    let reply = cx
        .http
        .post(format!("{base}/graphql"))
        .bearer_auth(&cx.token)
        .json(&json!({ "query": "{ ledger { position stateChecksum } }" }))
        .send()
        .await?;
    let status = reply.status();
    let body: Value = reply.json().await?;
    ensure!(status.is_success(), "W6: HTTP {status}: {body}");
    if let Some(errors) = body.get("errors") {
        bail!("W6: GraphQL errors: {errors}");
    }
    let position = body["data"]["ledger"]["position"].as_i64();
    let checksum = body["data"]["ledger"]["stateChecksum"].as_str();
    ensure!(
        position == Some(cx.head),
        "W6: the server's read models stand at {position:?}, the log's head is {}",
        cx.head
    );
    ensure!(
        checksum == Some(cx.reference),
        "W6: the server's stateChecksum {checksum:?} differs from the reference fold's {}",
        cx.reference
    );

    let fields = ready_line(&server.log()).with_context(|| {
        format!(
            "W6: the server logged no `read models ready` line; its log ends:\n{}",
            server.log_tail()
        )
    })?;
    let snapshot = fields.get("snapshot").and_then(Value::as_i64);
    let folded = fields.get("events_folded").and_then(Value::as_i64);
    let ms = fields
        .get("ms")
        .and_then(Value::as_f64)
        .context("W6: the `read models ready` line has no ms")?;
    let (expected_snapshot, expected_folded) = match start {
        Start::Folding => (None, cx.head),
        Start::FromSnapshot => (Some(cx.head), 0),
    };
    ensure!(
        snapshot == expected_snapshot && folded == Some(expected_folded),
        "W6: the server started from snapshot {snapshot:?} and folded {folded:?} events; \
         expected snapshot {expected_snapshot:?} and {expected_folded} events"
    );
    let status = server.stop().await?;
    ensure!(
        status.success(),
        "W6: the server stopped with {status} on SIGTERM"
    );
    Ok(Started {
        startup,
        ready: Duration::from_secs_f64(ms / 1e3),
        rss_mib,
        hwm_mib,
    })
}

async fn count(pool: &PgPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// What `alliance-ledger snapshot` stored.
struct Snapshot {
    time: Duration,
    bytes: i64,
}

/// Stores a snapshot at the head with `alliance-ledger snapshot`, and checks what it reports.
async fn take_snapshot(cx: &Context<'_>, pool: &PgPool) -> anyhow::Result<Snapshot> {
    let mut command = cx.binary.command(cx.url);
    command.args(["--log", "warn", "snapshot"]);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || command.output()).await??;
    let time = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "W6: `alliance-ledger snapshot` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::to_owned)
            .with_context(|| format!("W6: `alliance-ledger snapshot` printed no {name}: {stdout}"))
    };
    let position: i64 = field("position")?.parse()?;
    let checksum = field("checksum")?;
    let bytes: i64 = field("bytes")?.parse()?;
    ensure!(
        position == cx.head && checksum == cx.reference,
        "W6: `alliance-ledger snapshot` stored position {position}, checksum {checksum}; the \
         log's head is {}, the reference checksum {}",
        cx.head,
        cx.reference
    );
    let stored: Option<i64> = sqlx::query_scalar(
        "SELECT octet_length(state)::bigint FROM projection_snapshots WHERE position = $1",
    )
    .bind(position)
    .fetch_optional(pool)
    .await?;
    ensure!(
        stored == Some(bytes),
        "W6: the stored snapshot holds {stored:?} bytes, `alliance-ledger snapshot` printed {bytes}"
    );
    Ok(Snapshot { time, bytes })
}

/// Runs W6: a first start, the snapshot, then `runs` rounds of the start without a snapshot,
/// the start from it and the baseline, their order rotating, each after a `CHECKPOINT`.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    reference: &str,
    binary: &LedgerBinary,
    runs: usize,
) -> anyhow::Result<WorkloadReport> {
    let head = recorded.head;
    ensure!(
        fresh.db.head().await? == head,
        "W6: the log's head moved from {head} since the workload was recorded"
    );
    let token = fresh
        .db
        .create_token("Benchmark W6", Role::Rijk, Some("Benchmark"))
        .await?
        .secret;
    let cx = Context {
        binary,
        url: &fresh.url,
        head,
        reference,
        token,
        http: reqwest::Client::builder()
            .timeout(TIMEOUT)
            .pool_max_idle_per_host(0)
            .build()?,
    };
    let pool = &fresh.pool;
    let events = head as f64;
    let log_bytes = count(pool, "SELECT pg_total_relation_size('events')").await?;
    let snapshots = count(pool, "SELECT count(*) FROM projection_snapshots").await?;
    ensure!(
        snapshots == 0,
        "W6: the database holds {snapshots} snapshots before W6 stored one"
    );
    let mut checks = Vec::new();

    checkpoint(pool).await?;
    let leaves_before = count(pool, "SELECT count(*) FROM audit_leaves").await?;
    let first = start_once(&cx, Start::Folding).await?;
    let leaves = count(pool, "SELECT count(*) FROM audit_leaves").await?;
    ensure!(
        leaves == head,
        "W6: after the first start the audit trail records {leaves} leaves, the log holds {head}"
    );
    eprintln!(
        "W6 first start ({leaves_before} audit leaves recorded before): {:.2} s, RSS {:.0} MiB",
        first.startup.as_secs_f64(),
        first.rss_mib
    );
    let snapshots = count(pool, "SELECT count(*) FROM projection_snapshots").await?;
    ensure!(
        snapshots == 0,
        "W6: a server with snapshot writing off stored {snapshots} snapshots"
    );
    checks.push(format!(
        "the first start recorded the audit leaves of the whole log ({leaves_before} before, \
         {leaves} after); servers with snapshot writing off stored no snapshot"
    ));

    checkpoint(pool).await?;
    let snapshot = take_snapshot(&cx, pool).await?;
    eprintln!(
        "W6: `alliance-ledger snapshot` in {:.2} s, {} bytes",
        snapshot.time.as_secs_f64(),
        snapshot.bytes
    );
    checks.push(format!(
        "`alliance-ledger snapshot` stored a snapshot at the head, {head}, with the reference \
         checksum, {} bytes as it printed",
        snapshot.bytes
    ));

    let mut folding = Vec::new();
    let mut restoring = Vec::new();
    let mut plain = Vec::new();
    for run in 0..runs {
        for turn in 0..3 {
            checkpoint(pool).await?;
            match (run + turn) % 3 {
                which @ (0 | 1) => {
                    let (start, label, into) = if which == 0 {
                        (Start::Folding, "without a snapshot", &mut folding)
                    } else {
                        (Start::FromSnapshot, "from a snapshot", &mut restoring)
                    };
                    let s = start_once(&cx, start).await?;
                    eprintln!(
                        "W6 run {}: {label} {:.2} s (read models {:.2} s), RSS {:.0} MiB, \
                         peak {:.0} MiB",
                        run + 1,
                        s.startup.as_secs_f64(),
                        s.ready.as_secs_f64(),
                        s.rss_mib,
                        s.hwm_mib
                    );
                    into.push(s);
                }
                _ => {
                    let time = w3::baseline_once(pool, head).await?;
                    eprintln!(
                        "W6 run {}: plain SELECT of the log {:.2} s",
                        run + 1,
                        time.as_secs_f64()
                    );
                    plain.push(time);
                }
            }
        }
    }
    checks.push(format!(
        "every start answered `ledger {{ position stateChecksum }}` with the head, {head}, and \
         the reference checksum, {reference}"
    ));
    checks.push(format!(
        "every start without a snapshot logged none and {head} events folded; every start from \
         the snapshot logged it, at {head}, and 0 events folded; every server exited 0 on SIGTERM"
    ));
    checks.push(format!(
        "every baseline read returned positions 1 to {head} once each"
    ));

    let secs = |runs: &[Started], f: fn(&Started) -> Duration| -> Vec<f64> {
        runs.iter().map(|s| f(s).as_secs_f64()).collect()
    };
    let of =
        |runs: &[Started], f: fn(&Started) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
    let rate = |times: &[f64]| -> Vec<f64> { times.iter().map(|t| events / t).collect() };
    let folding_s = secs(&folding, |s| s.startup);
    let restoring_s = secs(&restoring, |s| s.startup);
    let plain_s: Vec<f64> = plain.iter().map(Duration::as_secs_f64).collect();
    let mib = |bytes: i64| bytes as f64 / 1024.0 / 1024.0;
    let series = |name: &str, runs: &[Started], s: &[f64]| {
        vec![
            Series::new(name, "start-up s", s.to_vec()),
            Series::new(name, "events/s", rate(s)),
            Series::new(name, "ready s", secs(runs, |s| s.ready)),
            Series::new(name, "VmRSS MiB", of(runs, |s| s.rss_mib)),
            Series::new(name, "VmHWM MiB", of(runs, |s| s.hwm_mib)),
        ]
    };
    let mut without = series("ours: without a snapshot", &folding, &folding_s);
    without.extend([
        Series::new(
            "ours: first start",
            "start-up s",
            vec![first.startup.as_secs_f64()],
        ),
        Series::new("ours: first start", "VmRSS MiB", vec![first.rss_mib]),
        Series::new("baseline: plain SELECT", "s", plain_s.clone()),
        Series::new("baseline: plain SELECT", "rows/s", rate(&plain_s)),
    ]);
    let mut from = series("ours: from a snapshot", &restoring, &restoring_s);
    from.push(Series::new("baseline: plain SELECT", "s", plain_s.clone()));
    let sizes = vec![
        Series::new("log: events with indexes", "MiB", vec![mib(log_bytes)]),
        Series::new("snapshot (LZ4)", "MiB", vec![mib(snapshot.bytes)]),
        Series::new(
            "alliance-ledger snapshot",
            "s",
            vec![snapshot.time.as_secs_f64()],
        ),
    ];
    let tables = vec![
        Table {
            title: format!("start-up without a snapshot (--ignore-snapshots), {head} events"),
            series: without,
            ratios: vec![Ratio::of(
                "ours / plain SELECT",
                &rate(&folding_s),
                &rate(&plain_s),
            )],
        },
        Table {
            title: format!("start-up from a snapshot at the head, {head} events"),
            series: from,
            ratios: vec![
                Ratio::of(
                    "from a snapshot / without",
                    &rate(&restoring_s),
                    &rate(&folding_s),
                ),
                Ratio::of("ours / plain SELECT", &rate(&restoring_s), &rate(&plain_s)),
            ],
        },
        Table {
            title: "sizes".into(),
            series: sizes,
            ratios: Vec::new(),
        },
    ];
    Ok(WorkloadReport {
        id: "W6",
        name: "footprint",
        method: format!(
            "`alliance-ledger serve` ({}, {}) started as a process on the log, snapshots not \
             written: start-up from spawning it until GET /healthz first answers 200 (polled \
             every {} ms; it listens only once its read models are at the head), `ready s` \
             the server's own `read models ready` time; VmRSS and VmHWM from /proc/<pid>/status \
             after {} s idle; stopped with SIGTERM. Without a snapshot (--ignore-snapshots, \
             folding the whole log) and from the snapshot `alliance-ledger snapshot` stored \
             at the head, against reading the log with W3's plain SELECT; ratios as rates \
             (events of the log per second of start-up). The first start, which also hashes \
             and records every audit leaf, is timed once apart.",
            binary.path.display(),
            binary.version,
            POLL.as_millis(),
            IDLE.as_secs()
        ),
        tables,
        checks,
    })
}
