//! W5 projection lag: how long after a command's commit is acknowledged the read models
//! include it, with writes arriving at half of W1's peak.
//!
//! **Writes.** An open-loop writer issues single-event commands (`recordMeasurement`, a new
//! measurement each with an idempotency key, as W1's mutations) at a fixed rate: command `k`
//! is due at `start + k / rate` whether or not the earlier ones have been answered. Each goes
//! through the real command path, `store::CommandBus::execute_at` of the API's own
//! `AppState` (the bus a mutation resolver calls: its turn per aggregate, group commit, the
//! observer and the commit signal that wakes the projector), in this process; not over HTTP,
//! because a mutation answers only once the server's read models include it (read your
//! writes), which would hide the commit time inside the lag. The bus answers once the commit
//! is durable, with the position of the command's event.
//!
//! **Lag, in two places.** (1) *Own projector*: the projector of the same `AppState`, woken by
//! its bus after each commit (and by PostgreSQL's notification); (2) *second server*: a second
//! `AppState` on its own pool onto the same database, as a second server behind a load
//! balancer: nothing in its process writes, so it learns of new events only through
//! `LISTEN ledger_events` (the log's `NOTIFY` trigger; its one-second fallback poll aside).
//! A follower task per server records when each new position of that server's read models
//! (`Projection`'s watch of its position) became visible. Per write: commit time =
//! acknowledged − due, lag = visible − acknowledged (0 when the read models already included
//! it by the acknowledgement). The aim: the lag's p99 no more than twice the commit time's.
//!
//! Answer checks, per run: every command was acknowledged with a position and the aggregate's
//! value sent; the log grew by exactly the commands sent, each acknowledged position holds
//! that command's aggregate, the positions are distinct; both servers' read models reach the
//! log's head and hold every measurement written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _};
use domain::access::Role;
use domain::measurement::{Measurement, MeasurementCommand};
use projections::snapshot::SnapshotPolicy;
use projections::Projection;
use store::{CommandBus, CommandContext, Database, DatabaseUrl, Position};
use tokio::task::JoinSet;

use crate::report::{quantile, Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::w1;
use crate::workload::{self, Recorded, Shape};

/// The rate without `--rate` when W1 did not run first: half of W1's peak on an idle machine
/// (`docs/performance.md`, "Benchmarks": 1,353 events/s at 64 clients), in events per second.
pub const DEFAULT_RATE: f64 = 675.0;

/// How long a server's read models may take to reach the log's head after the last write.
const CATCH_UP: Duration = Duration::from_secs(30);

/// How W5 runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Commands per second.
    pub rate: f64,
    /// Where the rate comes from, for the report.
    pub rate_from: String,
    /// How long each run writes.
    pub duration: Duration,
    pub runs: usize,
}

/// The rate: `--rate` when given; else half of W1's best median throughput when W1 ran in
/// this run (`w1`); else [`DEFAULT_RATE`]. Answers the rate and where it comes from.
pub fn rate(given: Option<f64>, w1: Option<&WorkloadReport>) -> anyhow::Result<(f64, String)> {
    if let Some(rate) = given {
        ensure!(
            rate.is_finite() && rate > 0.0,
            "--rate takes commands per second, more than 0, e.g. 675"
        );
        return Ok((rate, format!("--rate {rate}")));
    }
    if let Some(report) = w1 {
        let peak = report
            .tables
            .iter()
            .flat_map(|t| &t.series)
            .filter(|s| s.store.starts_with("ours") && s.measure == "events/s")
            .map(|s| s.median)
            .fold(f64::NAN, f64::max);
        ensure!(
            peak.is_finite() && peak > 0.0,
            "W5: W1's report holds no throughput of ours to take half of"
        );
        return Ok((
            peak / 2.0,
            format!("half of W1's best median in this run ({peak:.0} events/s)"),
        ));
    }
    Ok((
        DEFAULT_RATE,
        "the default: half of W1's idle-machine peak in docs/performance.md (1,353 events/s)"
            .into(),
    ))
}

/// When each position became visible in one server's read models.
struct Follower {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(Position, Instant)>>,
}

impl Follower {
    fn start(projection: Projection) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut seen = vec![(projection.position(), Instant::now())];
            while !stopped.load(Ordering::Relaxed) {
                let last = seen.last().map_or(0, |(p, _)| *p);
                if projection
                    .wait_for(last + 1, Duration::from_millis(50))
                    .await
                {
                    seen.push((projection.position(), Instant::now()));
                }
            }
            seen
        });
        Self { stop, task }
    }

    async fn finish(self) -> anyhow::Result<Vec<(Position, Instant)>> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(self.task.await?)
    }
}

/// The instant `position` was first seen in `seen` (in position order).
fn visible_at(seen: &[(Position, Instant)], position: Position) -> Option<Instant> {
    let i = seen.partition_point(|(p, _)| *p < position);
    seen.get(i).map(|(_, at)| *at)
}

/// One acknowledged write.
struct Write {
    aggregate_id: String,
    due: Instant,
    acknowledged: Instant,
    position: Position,
}

fn context(i: usize, aggregate_id: &str, value: &rust_decimal::Decimal) -> CommandContext {
    let key = format!("bench/w5/{aggregate_id}");
    CommandContext {
        actor: "Benchmark".into(),
        role: Role::Secretary,
        organisation: Some("Programmabureau (benchmark)".into()),
        request_id: format!("bench-w5-{i}"),
        request_hash: Some(workload::content_hash(&format!("{key};{value}"))),
        idempotency_key: Some(key),
    }
}

/// Sends the `i`-th extra measurement through the bus and checks the answer.
async fn write(bus: &CommandBus, shape: &Shape, i: usize, due: Instant) -> anyhow::Result<Write> {
    let extra = w1::extra(shape, i)?;
    let command = MeasurementCommand::Record(extra.command.clone());
    let name = command.name();
    let context = context(i, &extra.aggregate_id, &extra.value);
    let (after, position) = bus
        .execute_at::<Measurement>(
            &extra.aggregate_id,
            command,
            name,
            &bus.services(),
            &context,
        )
        .await
        .map_err(|e| anyhow!("W5: recordMeasurement {} failed: {e}", extra.aggregate_id))?;
    let acknowledged = Instant::now();
    let position = position.with_context(|| {
        format!(
            "W5: recordMeasurement {} was acknowledged without a position (nothing recorded)",
            extra.aggregate_id
        )
    })?;
    let value = after.state().map(|s| s.value);
    ensure!(
        value == Some(extra.value),
        "W5: recordMeasurement {} answered the value {value:?}, sent {}",
        extra.aggregate_id,
        extra.value
    );
    Ok(Write {
        aggregate_id: extra.aggregate_id,
        due,
        acknowledged,
        position,
    })
}

/// One run's figures, in milliseconds, sorted.
struct Measured {
    sent: usize,
    /// Writes per second, from the first due time to the last acknowledgement.
    rate: f64,
    commit: Vec<f64>,
    own_lag: Vec<f64>,
    second_lag: Vec<f64>,
    /// Writes the read models included by the time the bus acknowledged them.
    own_before_ack: usize,
    second_before_ack: usize,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn measure(
    fresh: &FreshDatabase,
    own: &api::AppState,
    second: &api::AppState,
    shape: &Shape,
    options: &Options,
    first: usize,
) -> anyhow::Result<Measured> {
    let before = own.db.head().await?;
    for (name, state) in [("own", own), ("second", second)] {
        ensure!(
            state.projection.wait_for(before, CATCH_UP).await,
            "W5: the {name} server's read models stand at {}, the log at {before}",
            state.projection.position()
        );
    }
    let count = (options.rate * options.duration.as_secs_f64()).round() as usize;
    ensure!(
        count > 0,
        "W5: a run of no writes: raise --rate or --seconds"
    );
    let own_follower = Follower::start(own.projection.clone());
    let second_follower = Follower::start(second.projection.clone());

    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    let mut latest_start = Duration::ZERO;
    for k in 0..count {
        let due = started + interval.mul_f64(k as f64);
        tokio::time::sleep_until(due.into()).await;
        latest_start = latest_start.max(due.elapsed());
        let bus = own.bus.clone();
        let shape = *shape;
        tasks.spawn(async move { write(&bus, &shape, first + k, due).await });
    }
    let mut writes = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        writes.push(done??);
    }
    let last_ack = writes
        .iter()
        .map(|w| w.acknowledged)
        .max()
        .unwrap_or(started);
    let after = own.db.head().await?;

    // The log grew by exactly the writes, each at the position the bus answered.
    ensure!(
        usize::try_from(after - before)? == writes.len(),
        "W5: the log grew by {} events for {} writes acknowledged",
        after - before,
        writes.len()
    );
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT position, aggregate_id FROM events WHERE position > $1 ORDER BY position",
    )
    .bind(before)
    .fetch_all(&fresh.pool)
    .await?;
    writes.sort_by_key(|w| w.position);
    ensure!(
        rows.len() == writes.len(),
        "W5: {} events after position {before}, {} writes",
        rows.len(),
        writes.len()
    );
    for ((position, aggregate_id), w) in rows.iter().zip(&writes) {
        ensure!(
            *position == w.position && *aggregate_id == w.aggregate_id,
            "W5: the bus answered position {} for {}, the log holds {aggregate_id} at {position}",
            w.position,
            w.aggregate_id
        );
    }

    // Both read models reach the head and hold every write.
    for (name, state) in [("own", own), ("second", second)] {
        ensure!(
            state.projection.wait_for(after, CATCH_UP).await,
            "W5: the {name} server's read models stand at {} {} s after the last write, the \
             log at {after}",
            state.projection.position(),
            CATCH_UP.as_secs()
        );
        let read = state.projection.read().await;
        let at = read.position();
        for w in &writes {
            ensure!(
                read.measurement(&w.aggregate_id, at).is_some(),
                "W5: measurement {} was acknowledged but is not in the {name} server's read models",
                w.aggregate_id
            );
        }
    }
    let own_seen = own_follower.finish().await?;
    let second_seen = second_follower.finish().await?;

    let mut commit = Vec::with_capacity(writes.len());
    let mut own_lag = Vec::with_capacity(writes.len());
    let mut second_lag = Vec::with_capacity(writes.len());
    let (mut own_before_ack, mut second_before_ack) = (0, 0);
    for w in &writes {
        commit.push(millis(w.acknowledged.saturating_duration_since(w.due)));
        for (seen, lags, before_ack, name) in [
            (&own_seen, &mut own_lag, &mut own_before_ack, "own"),
            (
                &second_seen,
                &mut second_lag,
                &mut second_before_ack,
                "second",
            ),
        ] {
            let visible = visible_at(seen, w.position).with_context(|| {
                format!(
                    "W5: the {name} server's follower never saw position {}",
                    w.position
                )
            })?;
            if visible <= w.acknowledged {
                *before_ack += 1;
            }
            lags.push(millis(visible.saturating_duration_since(w.acknowledged)));
        }
    }
    for v in [&mut commit, &mut own_lag, &mut second_lag] {
        v.sort_by(f64::total_cmp);
    }
    if latest_start > Duration::from_millis(100) {
        eprintln!(
            "W5: the writer fell behind its schedule by up to {:.0} ms",
            millis(latest_start)
        );
    }
    Ok(Measured {
        sent: writes.len(),
        rate: writes.len() as f64 / last_ack.duration_since(started).as_secs_f64(),
        commit,
        own_lag,
        second_lag,
        own_before_ack,
        second_before_ack,
    })
}

/// The first extra measurement W5 writes: half-way through the extra measurements' keys, far
/// beyond what W1 uses in the same run (its mutations and baselines count up from 0).
fn first_index(shape: &Shape) -> anyhow::Result<usize> {
    let days = chrono::NaiveDate::from_ymd_opt(workload::LAST_YEAR, 12, 31)
        .zip(chrono::NaiveDate::from_ymd_opt(workload::FIRST_YEAR, 1, 1))
        .map(|(last, first)| (last - first).num_days() + 1)
        .context("the programme period")?;
    let capacity =
        shape.programmes * shape.indicators * shape.buurten_per_programme * usize::try_from(days)?;
    Ok(capacity / 2)
}

/// A server's state on its own pool onto the benchmark's database.
async fn second_server(
    fresh: &FreshDatabase,
) -> anyhow::Result<(Database, api::AppState, api::ProjectorTask)> {
    let db = Database::open(&fresh.url.parse::<DatabaseUrl>()?).await?;
    let (state, projector) = api::AppState::start_with(db.clone(), SnapshotPolicy::disabled())
        .await
        .context("W5: starting the second server's read models")?;
    Ok((db, state, projector))
}

/// Runs W5: `options.runs` runs of `options.duration` each, after a `CHECKPOINT`.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    options: &Options,
) -> anyhow::Result<WorkloadReport> {
    let (own, own_projector) =
        api::AppState::start_with(fresh.db.clone(), SnapshotPolicy::disabled()).await?;
    let (second_db, second, second_projector) = second_server(fresh).await?;
    let result = run_on(fresh, recorded, options, &own, &second).await;
    own_projector.stop().await;
    second_projector.stop().await;
    second_db.close().await;
    result
}

async fn run_on(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    options: &Options,
    own: &api::AppState,
    second: &api::AppState,
) -> anyhow::Result<WorkloadReport> {
    let mut first = first_index(&recorded.shape)?;
    let mut runs = Vec::new();
    for run in 0..options.runs {
        checkpoint(&fresh.pool).await?;
        let m = measure(fresh, own, second, &recorded.shape, options, first).await?;
        first += m.sent;
        eprintln!(
            "W5 run {}: {} writes at {:.0}/s (due {:.0}/s); commit p50 {:.2} ms p99 {:.2} ms; \
             lag own p50 {:.2} ms p99 {:.2} ms ({} by the ack); second p50 {:.2} ms p99 {:.2} ms \
             ({} by the ack)",
            run + 1,
            m.sent,
            m.rate,
            options.rate,
            quantile(&m.commit, 0.5),
            quantile(&m.commit, 0.99),
            quantile(&m.own_lag, 0.5),
            quantile(&m.own_lag, 0.99),
            m.own_before_ack,
            quantile(&m.second_lag, 0.5),
            quantile(&m.second_lag, 0.99),
            m.second_before_ack,
        );
        runs.push(m);
    }
    let per_run = |f: &dyn Fn(&Measured) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
    let commit_p99 = per_run(&|m| quantile(&m.commit, 0.99));
    let own_p99 = per_run(&|m| quantile(&m.own_lag, 0.99));
    let second_p99 = per_run(&|m| quantile(&m.second_lag, 0.99));
    const WRITES: &str = "writes: CommandBus (in-process)";
    const OWN: &str = "lag: own projector";
    const SECOND: &str = "lag: second server (NOTIFY)";
    let table = Table {
        title: format!(
            "{:.0} commands/s for {:.0} s a run",
            options.rate,
            options.duration.as_secs_f64()
        ),
        series: vec![
            Series::new(WRITES, "events/s", per_run(&|m| m.rate)),
            Series::new(
                WRITES,
                "commit p50 ms",
                per_run(&|m| quantile(&m.commit, 0.5)),
            ),
            Series::new(WRITES, "commit p99 ms", commit_p99.clone()),
            Series::new(OWN, "p50 ms", per_run(&|m| quantile(&m.own_lag, 0.5))),
            Series::new(OWN, "p99 ms", own_p99.clone()),
            Series::new(OWN, "max ms", per_run(&|m| quantile(&m.own_lag, 1.0))),
            Series::new(SECOND, "p50 ms", per_run(&|m| quantile(&m.second_lag, 0.5))),
            Series::new(SECOND, "p99 ms", second_p99.clone()),
            Series::new(SECOND, "max ms", per_run(&|m| quantile(&m.second_lag, 1.0))),
        ],
        ratios: vec![
            Ratio::of("own lag p99 / commit p99", &own_p99, &commit_p99),
            Ratio::of("second lag p99 / commit p99", &second_p99, &commit_p99),
        ],
    };
    let sent: Vec<String> = runs.iter().map(|m| m.sent.to_string()).collect();
    Ok(WorkloadReport {
        id: "W5",
        name: "projection lag",
        method: format!(
            "An open-loop writer: recordMeasurement commands (a new measurement each, with an \
             idempotency key) due at a fixed {:.0}/s ({}), each through the API state's \
             CommandBus::execute_at in this process (not HTTP, whose mutations wait for the read \
             models), snapshots off. Commit time: from the command's due time to the bus's \
             acknowledgement of the durable commit. Lag: from that acknowledgement until the \
             read models include the command's position (0 when they already did), in the same \
             server's projector and in a second server's (its own pool onto the same database, \
             told of commits only by LISTEN/NOTIFY). Aim: lag p99 at most 2 x commit p99.",
            options.rate, options.rate_from
        ),
        tables: vec![table],
        checks: vec![
            format!(
                "every command was acknowledged with a position and the value sent ({} writes \
                 a run)",
                sent.join(" / ")
            ),
            "after every run the log grew by exactly the writes acknowledged, each at the \
             position the bus answered"
                .into(),
            "after every run both servers' read models reached the log's head and held every \
             measurement written"
                .into(),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_is_visible_from_the_first_reading_that_includes_it() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let seen = [(10, at(0)), (12, at(5)), (15, at(9))];
        assert_eq!(visible_at(&seen, 10), Some(at(0)));
        assert_eq!(visible_at(&seen, 11), Some(at(5)));
        assert_eq!(visible_at(&seen, 15), Some(at(9)));
        assert_eq!(visible_at(&seen, 16), None);
    }

    #[test]
    fn the_rate_is_given_or_half_of_w1s_best_median() {
        let w1 = WorkloadReport {
            id: "W1",
            name: "commands",
            method: String::new(),
            tables: vec![Table {
                title: "c".into(),
                series: vec![
                    Series::new("ours: recordMeasurement over HTTP", "events/s", vec![900.0]),
                    Series::new("ours: recordMeasurement over HTTP", "p99 ms", vec![5_000.0]),
                    Series::new("baseline: INSERT", "rows/s", vec![6_000.0]),
                ],
                ratios: Vec::new(),
            }],
            checks: Vec::new(),
        };
        assert_eq!(rate(None, Some(&w1)).expect("a rate").0, 450.0);
        assert_eq!(rate(Some(100.0), Some(&w1)).expect("a rate").0, 100.0);
        assert_eq!(rate(None, None).expect("a rate").0, DEFAULT_RATE);
        assert!(rate(Some(0.0), None).is_err());
    }
}
