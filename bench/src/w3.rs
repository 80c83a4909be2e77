//! W3 replay: rebuild every read model from the whole log, as `alliance-ledger replay` does
//! (`projections::replay`: the log read 10,000 events a query in position order, each event
//! decoded and folded into `LedgerState` by its aggregate's own `apply`), beside the baseline
//! of fetching the same rows with a plain `SELECT` (the same columns, the same order, the same
//! batch size) and decoding them into `serde_json::Value` and plain Rust types.
//!
//! Answer checks: the replay folds exactly the log's head, and its checksum
//! (`LedgerState::checksum`) equals that of a second fold made before the runs from the rows
//! the baseline's reader returns; the read models hold what the workload recorded (20
//! programmes and alliances, their funds, decisions and targets, every measurement); the
//! baseline returns every position from 1 to the head once.

use std::time::{Duration, Instant};

use anyhow::ensure;
use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use projections::{LedgerState, Until};
use serde_json::Value;
use sqlx::{PgPool, Row as _};
use store::LoggedEvent;

use crate::report::{Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::workload::Recorded;

/// Rows per query: the replay's own batch (`projections::replay`).
pub const BATCH: i64 = 10_000;

/// One row of the log as the baseline reads it.
struct PlainRow {
    position: i64,
    recorded_at: DateTime<Utc>,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: Value,
}

/// Reads every row of the log in position order, `BATCH` a query, decoding each; hands each
/// row to `each`.
async fn fetch_plain(pool: &PgPool, mut each: impl FnMut(PlainRow)) -> anyhow::Result<()> {
    let mut after = 0_i64;
    loop {
        let mut rows = sqlx::query(
            "SELECT position, recorded_at, aggregate_type, aggregate_id, sequence, event_type, \
                    event_version, payload, metadata \
             FROM events WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after)
        .bind(BATCH)
        .fetch(pool);
        let mut got = 0;
        while let Some(row) = rows.try_next().await? {
            let row = PlainRow {
                position: row.try_get(0)?,
                recorded_at: row.try_get(1)?,
                aggregate_type: row.try_get(2)?,
                aggregate_id: row.try_get(3)?,
                sequence: row.try_get(4)?,
                event_type: row.try_get(5)?,
                event_version: row.try_get(6)?,
                payload: row.try_get(7)?,
                metadata: row.try_get(8)?,
            };
            after = row.position;
            got += 1;
            each(row);
        }
        if got < BATCH {
            return Ok(());
        }
    }
}

/// The checksum of a fold of the rows the baseline's reader returns: the second, independent
/// route to the read models that every replay must agree with.
pub async fn reference_checksum(pool: &PgPool) -> anyhow::Result<(i64, String)> {
    let mut state = LedgerState::default();
    let mut failed = None;
    fetch_plain(pool, |row| {
        if failed.is_some() {
            return;
        }
        let event = LoggedEvent {
            position: row.position,
            recorded_at: row.recorded_at,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: row.payload,
            metadata: row.metadata,
        };
        if let Err(e) = state.apply(&event) {
            failed = Some(e);
        }
    })
    .await?;
    if let Some(e) = failed {
        anyhow::bail!("the reference fold failed: {e}");
    }
    Ok((state.position(), state.checksum()))
}

struct Replayed {
    time: Duration,
    checksum_time: Duration,
}

/// One replay with its checks.
async fn replay_once(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    reference: &str,
) -> anyhow::Result<Replayed> {
    let started = Instant::now();
    let state = projections::replay(&fresh.db, Until::End, |_, _| {}).await?;
    let time = started.elapsed();
    let head = recorded.head;
    ensure!(
        state.position() == head,
        "W3: the replay stopped at position {}, the log's head is {head}",
        state.position()
    );
    let started = Instant::now();
    let checksum = state.checksum();
    let checksum_time = started.elapsed();
    ensure!(
        checksum == reference,
        "W3: the replay's checksum {checksum} differs from the reference fold's {reference}"
    );
    let shape = &recorded.shape;
    let counts = [
        (
            "programmes",
            state.all_programmes(head).count(),
            shape.programmes,
        ),
        (
            "alliances",
            state.all_alliances(head).count(),
            shape.programmes,
        ),
        ("funds", state.all_funds(head).count(), shape.programmes),
        (
            "decisions",
            state.all_decisions(head).count(),
            shape.programmes * 7,
        ),
        (
            "targets",
            state.all_targets(head).count(),
            shape.programmes * shape.indicators,
        ),
        (
            "measurements",
            state.all_measurements(head).count(),
            shape.measurements,
        ),
    ];
    for (what, found, expected) in counts {
        ensure!(
            found == expected,
            "W3: the replayed read models hold {found} {what}, the workload recorded {expected}"
        );
    }
    drop(state);
    Ok(Replayed {
        time,
        checksum_time,
    })
}

/// One baseline read with its checks; its time.
pub(crate) async fn baseline_once(pool: &PgPool, head: i64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut count = 0_i64;
    let mut positions = 0_i128;
    let mut bytes = 0_usize;
    fetch_plain(pool, |row| {
        count += 1;
        positions += i128::from(row.position);
        // Touch the decoded values so that nothing is decoded for nothing.
        bytes += row.aggregate_id.len() + row.event_type.len() + row.aggregate_type.len();
        bytes += usize::from(row.payload.is_object()) + usize::from(row.metadata.is_object());
        bytes += row.event_version.len() + usize::from(row.sequence > 0);
        bytes += usize::from(row.recorded_at.timestamp() > 0);
    })
    .await?;
    let time = started.elapsed();
    ensure!(
        count == head,
        "W3 baseline: read {count} rows, the log holds {head}"
    );
    let expected = i128::from(head) * i128::from(head + 1) / 2;
    ensure!(
        positions == expected,
        "W3 baseline: the positions read do not cover 1..={head} once each"
    );
    ensure!(bytes > 0, "W3 baseline: decoded nothing");
    Ok(time)
}

/// Runs W3 `runs` times, the replay and the baseline in turn (which goes first alternates),
/// each after a `CHECKPOINT`. Answers the report and the reference checksum.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    runs: usize,
    peers: Option<&crate::peers::Peers>,
) -> anyhow::Result<(WorkloadReport, String)> {
    let started = Instant::now();
    let (position, reference) = reference_checksum(&fresh.pool).await?;
    ensure!(
        position == recorded.head,
        "W3: the reference fold stopped at {position}, the log's head is {}",
        recorded.head
    );
    eprintln!(
        "W3: reference fold of {position} events in {:.1} s, checksum {reference}",
        started.elapsed().as_secs_f64()
    );
    let head = recorded.head;
    let events = head as f64;
    let mut ours = Vec::new();
    let mut checksums = Vec::new();
    let mut plain = Vec::new();
    let mut peers = match peers {
        Some(peers) => Some(peers.w3(&fresh.pool, head).await?),
        None => None,
    };
    for run in 0..runs {
        for turn in 0..2 {
            checkpoint(&fresh.pool).await?;
            if (run + turn) % 2 == 0 {
                let replayed = replay_once(fresh, recorded, &reference).await?;
                eprintln!(
                    "W3 run {}: replay {:.2} s ({:.0} events/s), checksum {:.2} s",
                    run + 1,
                    replayed.time.as_secs_f64(),
                    events / replayed.time.as_secs_f64(),
                    replayed.checksum_time.as_secs_f64()
                );
                ours.push(replayed.time);
                checksums.push(replayed.checksum_time);
            } else {
                let time = baseline_once(&fresh.pool, head).await?;
                eprintln!(
                    "W3 run {}: plain SELECT {:.2} s ({:.0} rows/s)",
                    run + 1,
                    time.as_secs_f64(),
                    events / time.as_secs_f64()
                );
                plain.push(time);
            }
        }
        if let Some(peers) = &mut peers {
            peers.run(run, &fresh.pool).await?;
        }
    }
    let rate = |times: &[Duration]| -> Vec<f64> {
        times.iter().map(|t| events / t.as_secs_f64()).collect()
    };
    let secs =
        |times: &[Duration]| -> Vec<f64> { times.iter().map(Duration::as_secs_f64).collect() };
    let ours_rate = rate(&ours);
    let plain_rate = rate(&plain);
    let mut table = Table {
        title: format!("replay of {head} events"),
        series: vec![
            Series::new("ours: replay", "events/s", ours_rate.clone()),
            Series::new("ours: replay", "s", secs(&ours)),
            Series::new("ours: checksum", "s", secs(&checksums)),
            Series::new("baseline: plain SELECT", "rows/s", plain_rate.clone()),
            Series::new("baseline: plain SELECT", "s", secs(&plain)),
        ],
        ratios: vec![Ratio::of("ours / plain SELECT", &ours_rate, &plain_rate)],
    };
    let shape = &recorded.shape;
    let mut report = WorkloadReport {
        id: "W3",
        name: "replay",
        method: format!(
            "Rebuild every read model from the log (projections::replay, as `alliance-ledger \
                 replay`: {BATCH} events a query, decoded and folded into LedgerState; the \
                 checksum timed apart) against reading the same rows with a plain SELECT of the \
                 same columns in position order, {BATCH} a query, decoded into serde_json::Value \
                 and plain Rust types."
        ),
        tables: Vec::new(),
        checks: vec![
            format!("every replay folded exactly the log's head, {head} events"),
            format!(
                "every replay's checksum equals the reference fold's (from the baseline \
                     reader's rows): {reference}"
            ),
            format!(
                "every replay holds {} programmes, alliances and funds, {} decisions, {} \
                     targets and {} measurements, as recorded",
                shape.programmes,
                shape.programmes * 7,
                shape.programmes * shape.indicators,
                shape.measurements
            ),
            format!("every baseline read returned positions 1 to {head} once each"),
        ],
    };
    if let Some(peers) = &peers {
        peers.finish(
            &mut table,
            &ours_rate,
            &mut report.method,
            &mut report.checks,
        );
    }
    report.tables.push(table);
    Ok((report, reference))
}
