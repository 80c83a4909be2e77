//! W2 bulk import: `alliance-ledger import measurements` of a CSV file of N new measurements
//! into the workload's ledger, beside plain multi-row INSERTs of the very same event rows into a
//! table of the same shape without triggers.
//!
//! **The file** (written before each run, not timed): N measurements of the workload's first
//! programme (`focusgebied-01`), one per indicator, buurt and day, counted back from the last
//! day of the programme period (2043-12-31; W1's extra measurements count forward from
//! 2023-01-01), each run its own days; columns `indicator;gebied;periode;waarde;
//! publicatiedatum`, a value with a decimal comma, the source from `--source`.
//!
//! **Ours.** The ledger's release binary imports the file as a user would: it reads and checks
//! every row, reads what the ledger holds for every row's measurement, and records the rows
//! through the bulk path (`CommandBus::execute_bulk`, `DEFAULT_BULK_BATCH` events a
//! transaction). *Whole import*: from starting the process to its exit. *Bulk path*: the
//! binary's own line for the writing step (`… rows recorded in S s`).
//!
//! **Baseline.** `plain_import_events`, created before the runs `LIKE events INCLUDING ALL`
//! (the same columns, primary key and indexes, no triggers) and filled with a copy of the log so
//! that it is as large; after each import, the events it appended are read back from the log
//! (not timed) and inserted into it in batches of `DEFAULT_BULK_BATCH`, one transaction each,
//! with the bulk path's own `INSERT … SELECT … FROM unnest(…)` plus explicit `position` and
//! `recorded_at`; only the inserts and commits are timed.
//!
//! Answer checks: the import exits 0 and reports N rows, N new and N recorded; the log grew by
//! exactly N events; each of them is a `MeasurementRecorded` of a row of the file, with its
//! programme, indicator, buurt, day, value, source and publication date, and every row is
//! found once; the plain table grew by exactly N rows.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use chrono::{Days, NaiveDate};
use domain::ids::{AreaId, IndicatorKey};
use domain::measurement::MeasurementEvent;
use domain::period::Period;
use rust_decimal::Decimal;
use sqlx::PgPool;
use store::{Database, LogFilter, LoggedEvent, DEFAULT_BULK_BATCH};

use crate::ledger::LedgerBinary;
use crate::report::{Ratio, Series, Table, WorkloadReport};
use crate::server::{checkpoint, FreshDatabase};
use crate::workload::{self, Recorded, FIRST_YEAR, LAST_YEAR};

/// The source every row gets (`--source`).
const SOURCE: &str = "CBS Kerncijfers wijken en buurten";
/// The publication date of every row, as the file writes it.
const PUBLISHED: &str = "15-05-2044";
/// The programme the file is for.
const PROGRAMME: usize = 1;

/// How W2 runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows of each run's file.
    pub rows: usize,
    pub runs: usize,
}

/// The values of one file's rows by their measurement's indicator, area and day.
type Rows = HashMap<(IndicatorKey, AreaId, NaiveDate), Decimal>;

/// A file of one run.
struct File {
    file: tempfile::NamedTempFile,
    rows: Rows,
    bytes: u64,
    first: NaiveDate,
    last: NaiveDate,
}

/// Writes run `run`'s file of `count` rows: every indicator in every buurt of the programme,
/// day after day over the run's own days, counted back from the end of the programme period.
fn write_file(recorded: &Recorded, count: usize, run: usize) -> anyhow::Result<File> {
    let indicators: Vec<IndicatorKey> = workload::indicators().into_iter().map(|i| i.0).collect();
    let areas = workload::buurten(&recorded.shape);
    let per_day = indicators.len() * areas.len();
    let days = u64::try_from(count.div_ceil(per_day))?;
    let end = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31).context("the period's last day")?;
    let start = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).context("the period's first day")?;
    let last = end
        .checked_sub_days(Days::new(days * u64::try_from(run)?))
        .context("a day")?;
    let first = last
        .checked_sub_days(Days::new(days - 1))
        .context("a day")?;
    ensure!(
        first >= start,
        "W2: {count} rows a run take {days} days of {per_day} rows each; run {} would start on \
         {first}, before the programme period ({start}): take fewer --import-rows or --runs, \
         or more --events (more buurten)",
        run + 1
    );
    let mut file = tempfile::Builder::new()
        .prefix("alliance-ledger-bench-w2-")
        .suffix(".csv")
        .tempfile()?;
    let mut rows = Rows::with_capacity(count);
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        writeln!(out, "indicator;gebied;periode;waarde;publicatiedatum")?;
        let mut n = 0;
        'days: for day in 0..days {
            let date = first + Days::new(day);
            for indicator in &indicators {
                for area in &areas {
                    if n == count {
                        break 'days;
                    }
                    let cents = (n * 7_919 + run * 104_729) % 100_000;
                    writeln!(
                        out,
                        "{indicator};{area};{date};{},{:02};{PUBLISHED}",
                        cents / 100,
                        cents % 100
                    )?;
                    let value = Decimal::new(i64::try_from(cents)?, 2);
                    rows.insert((indicator.clone(), area.clone(), date), value);
                    n += 1;
                }
            }
        }
        out.flush()?;
    }
    ensure!(rows.len() == count, "W2: the file repeats a measurement");
    let bytes = file.as_file().metadata()?.len();
    Ok(File {
        file,
        rows,
        bytes,
        first,
        last,
    })
}

/// What one import took.
struct Imported {
    whole: Duration,
    bulk: Duration,
}

/// Imports `file` with the binary; checks what it reports and that the log grew by every row.
async fn import(
    fresh: &FreshDatabase,
    binary: &LedgerBinary,
    file: &File,
    count: usize,
) -> anyhow::Result<Imported> {
    let path = file
        .file
        .path()
        .to_str()
        .context("the file's path is not UTF-8")?
        .to_owned();
    let before = fresh.db.head().await?;
    let mut command = binary.command(&fresh.url);
    command.args([
        "--log",
        "warn",
        "import",
        "measurements",
        &path,
        "--programme",
        &workload::programme(PROGRAMME).to_string(),
        "--source",
        SOURCE,
        "--actor",
        "Benchmark",
    ]);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || command.output()).await??;
    let whole = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "W2: the import failed ({}):\n{stdout}{stderr}",
        out.status
    );
    let field = |name: &str| -> anyhow::Result<usize> {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .with_context(|| format!("W2: the import printed no `{name}`: {stdout}"))?
            .parse()
            .with_context(|| format!("W2: the import's `{name}` is not a count: {stdout}"))
    };
    let (rows, new, recorded) = (field("rows")?, field("new")?, field("recorded")?);
    ensure!(
        rows == count && new == count && recorded == count,
        "W2: the import of {count} new rows reported rows {rows}, new {new}, recorded \
         {recorded}:\n{stdout}"
    );
    let bulk = stderr
        .lines()
        .find_map(|l| {
            let rest = l.split_once("rows recorded in ")?.1;
            rest.strip_suffix(" s")?.parse::<f64>().ok()
        })
        .map(Duration::from_secs_f64)
        .with_context(|| {
            format!("W2: the import printed no `… rows recorded in S s` line:\n{stderr}")
        })?;
    let after = fresh.db.head().await?;
    ensure!(
        after - before == i64::try_from(count)?,
        "W2: the log grew by {} events for {count} rows",
        after - before
    );
    Ok(Imported { whole, bulk })
}

/// Checks that `event` records a row of the file, and takes the row off `left`.
fn check_event(event: &LoggedEvent, left: &mut Rows) -> anyhow::Result<()> {
    let decoded: MeasurementEvent = serde_json::from_value(event.payload.clone())
        .with_context(|| format!("W2: event {} is no measurement event", event.position))?;
    let MeasurementEvent::MeasurementRecorded {
        programme_id,
        indicator,
        area,
        period,
        value,
        source,
        published_on,
        ..
    } = decoded
    else {
        bail!(
            "W2: event {} is a {}, not a MeasurementRecorded",
            event.position,
            event.event_type
        );
    };
    let Period::Day(day) = period else {
        bail!(
            "W2: event {} has the period {period}, not a day",
            event.position
        );
    };
    let row = left.remove(&(indicator.clone(), area.clone(), day));
    let published = NaiveDate::parse_from_str(PUBLISHED, "%d-%m-%Y")?;
    ensure!(
        programme_id == workload::programme(PROGRAMME)
            && row == Some(value)
            && source == SOURCE
            && published_on == published,
        "W2: event {} records {programme_id} {indicator} {area} {day} = {value} ({source}, \
         {published_on}); the file has {row:?} for it (or had it once already)",
        event.position
    );
    Ok(())
}

/// Inserts the `count` events after `after` once more into `plain_import_events`, in batches of
/// the bulk path's size, checking each against the file; the time of the inserts and commits.
async fn plain_inserts(
    db: &Database,
    pool: &PgPool,
    after: i64,
    count: usize,
    mut left: Rows,
) -> anyhow::Result<Duration> {
    let filter = LogFilter::default();
    let batch = u32::try_from(DEFAULT_BULK_BATCH)?;
    let mut position = after;
    let mut inserted = 0;
    let mut timed = Duration::ZERO;
    while inserted < count {
        let want = u32::try_from(count - inserted)?.min(batch);
        let events = db.read_log(position, want, &filter).await?;
        let Some(last) = events.last() else { break };
        position = last.position;
        for event in &events {
            check_event(event, &mut left)?;
        }
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO plain_import_events (aggregate_type, aggregate_id, sequence, \
                                              event_type, event_version, payload, metadata, \
                                              position, recorded_at) \
             SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, \
                    e.event_version, e.payload, e.metadata, e.position, now() \
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                         $6::jsonb[], $7::jsonb[], $8::bigint[]) WITH ORDINALITY \
                  AS e(aggregate_type, aggregate_id, sequence, event_type, event_version, \
                       payload, metadata, position, n) \
             ORDER BY e.n",
        )
        .bind(
            events
                .iter()
                .map(|e| e.aggregate_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.aggregate_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| e.sequence).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            events
                .iter()
                .map(|e| e.event_version.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
        .bind(events.iter().map(|e| &e.metadata).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.position).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        timed += started.elapsed();
        ensure!(
            done.rows_affected() == events.len() as u64,
            "W2 baseline: a batch of {} rows inserted {}",
            events.len(),
            done.rows_affected()
        );
        inserted += events.len();
    }
    ensure!(
        inserted == count && left.is_empty(),
        "W2: the log holds {inserted} events after the import's start, {} rows of the file \
         have none",
        left.len()
    );
    Ok(timed)
}

async fn plain_rows(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM plain_import_events")
            .fetch_one(pool)
            .await?,
    )
}

/// Runs W2 `options.runs` times: write the run's file, import it, insert its events plainly.
pub async fn run(
    fresh: &FreshDatabase,
    recorded: &Recorded,
    binary: &LedgerBinary,
    options: &Options,
) -> anyhow::Result<WorkloadReport> {
    ensure!(options.rows > 0, "--import-rows must be at least 1");
    let pool = &fresh.pool;
    let mut checks = Vec::new();
    sqlx::query("DROP TABLE IF EXISTS plain_import_events")
        .execute(pool)
        .await?;
    sqlx::query("CREATE TABLE plain_import_events (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await?;
    let copied = sqlx::query("INSERT INTO plain_import_events SELECT * FROM events")
        .execute(pool)
        .await?
        .rows_affected();
    sqlx::query("ANALYZE plain_import_events")
        .execute(pool)
        .await?;
    let triggers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'plain_import_events'::regclass",
    )
    .fetch_one(pool)
    .await?;
    ensure!(
        triggers == 0,
        "W2: plain_import_events has {triggers} triggers"
    );
    checks.push(format!(
        "plain_import_events (LIKE events INCLUDING ALL, no triggers) starts as a copy of the \
         log, {copied} rows"
    ));

    let count = options.rows;
    let mut whole = Vec::new();
    let mut bulk = Vec::new();
    let mut plain = Vec::new();
    let mut files = Vec::new();
    for run in 0..options.runs {
        let file = write_file(recorded, count, run)?;
        files.push(format!(
            "{} to {}, {:.1} MB",
            file.first,
            file.last,
            file.bytes as f64 / 1e6
        ));
        checkpoint(pool).await?;
        let before = fresh.db.head().await?;
        let imported = import(fresh, binary, &file, count).await?;
        eprintln!(
            "W2 run {}: import {:.2} s ({:.0} events/s), of which the bulk path {:.2} s ({:.0} \
             events/s)",
            run + 1,
            imported.whole.as_secs_f64(),
            count as f64 / imported.whole.as_secs_f64(),
            imported.bulk.as_secs_f64(),
            count as f64 / imported.bulk.as_secs_f64()
        );
        checkpoint(pool).await?;
        let rows_before = plain_rows(pool).await?;
        let time = plain_inserts(&fresh.db, pool, before, count, file.rows).await?;
        let rows_after = plain_rows(pool).await?;
        ensure!(
            usize::try_from(rows_after - rows_before)? == count,
            "W2 baseline: plain_import_events grew by {} rows for {count}",
            rows_after - rows_before
        );
        eprintln!(
            "W2 run {}: plain INSERT {:.2} s ({:.0} rows/s)",
            run + 1,
            time.as_secs_f64(),
            count as f64 / time.as_secs_f64()
        );
        whole.push(imported.whole);
        bulk.push(imported.bulk);
        plain.push(time);
    }
    sqlx::query("DROP TABLE plain_import_events")
        .execute(pool)
        .await?;
    checks.push(format!(
        "every import exited 0 reporting {count} rows, {count} new and {count} recorded; the log \
         grew by {count} events"
    ));
    checks.push(
        "every event the import appended is the MeasurementRecorded of a row of its file \
         (programme, indicator, buurt, day, value, source, publication date), every row once"
            .into(),
    );
    checks.push(format!(
        "every baseline run inserted {count} rows in batches of {DEFAULT_BULK_BATCH}, the table \
         grew by as many"
    ));

    let rows = count as f64;
    let rate =
        |times: &[Duration]| -> Vec<f64> { times.iter().map(|t| rows / t.as_secs_f64()).collect() };
    let secs =
        |times: &[Duration]| -> Vec<f64> { times.iter().map(Duration::as_secs_f64).collect() };
    let (whole_rate, bulk_rate, plain_rate) = (rate(&whole), rate(&bulk), rate(&plain));
    let table = Table {
        title: format!(
            "import of {count} measurements into a log of {} events",
            recorded.head
        ),
        series: vec![
            Series::new("ours: bulk path", "events/s", bulk_rate.clone()),
            Series::new("ours: bulk path", "s", secs(&bulk)),
            Series::new("ours: whole import", "events/s", whole_rate.clone()),
            Series::new("ours: whole import", "s", secs(&whole)),
            Series::new("baseline: plain INSERT", "rows/s", plain_rate.clone()),
            Series::new("baseline: plain INSERT", "s", secs(&plain)),
        ],
        ratios: vec![
            Ratio::of("bulk path / plain INSERT", &bulk_rate, &plain_rate),
            Ratio::of("whole import / plain INSERT", &whole_rate, &plain_rate),
        ],
    };
    Ok(WorkloadReport {
        id: "W2",
        name: "bulk import",
        method: format!(
            "`alliance-ledger import measurements` ({}) of a CSV file of {count} new \
             measurements of {} (every indicator in every buurt, day after day; each run its \
             own days: {}): the whole import from starting the process to its exit, and the \
             bulk path from its own `rows recorded in` line ({DEFAULT_BULK_BATCH} events a \
             transaction); against inserting the same event rows, read back from the log, into \
             plain_import_events (LIKE events INCLUDING ALL, no triggers, a copy of the log) \
             with the bulk path's INSERT … SELECT … FROM unnest(…), {DEFAULT_BULK_BATCH} a \
             transaction, only the inserts and commits timed. Each run imports, then inserts.",
            binary.version,
            workload::programme(PROGRAMME),
            files.join("; ")
        ),
        tables: vec![table],
        checks,
    })
}
