//! The import benchmark (not a test): imports N measurements into a fresh PostgreSQL ledger
//! with `alliance-ledger import measurements`, then inserts the very same event rows with plain
//! multi-row INSERTs into a table of the same shape without triggers, and reports both rates and
//! their ratio. `docs/performance.md` records the figures.
//!
//! ```sh
//! cargo bench -p tests --bench import -- --rows 1000000
//! ```
//!
//! Workload: the Dordt West demo ledger (`alliance-ledger demo`), then one CSV file of N
//! measurements, one per indicator, area and day (every indicator of the demo programme in every
//! area, day after day from 2023-01-01), with a value, the source given by `--source` and a
//! publication date. The database is a new one on the server the test harness finds
//! (`DATABASE_URL`, else 127.0.0.1:5432, see `tests/src/pg_server.rs`), dropped at the end.
//!
//! 1. **Import**: the ledger binary (release build) imports the file, as a user would: it reads
//!    and checks every row, reads what the ledger holds for every row's measurement, and records
//!    the rows through the bulk path (`CommandBus::execute_bulk`), `DEFAULT_BULK_BATCH` events
//!    per transaction. Timed from start to exit; the binary's own line for the writing step
//!    (`… rows recorded in S s`) gives the bulk path's share.
//! 2. **Plain**: `plain_events` is created `LIKE events INCLUDING ALL` (the same columns,
//!    primary key and indexes, no triggers), and the events the import appended are read back
//!    from the log and inserted into it in batches of the same size, one transaction each, with
//!    the same `INSERT … SELECT … FROM unnest(…)` statement the bulk path uses plus explicit
//!    `position` and `recorded_at`. Only the inserts and commits are timed, not the reading.

use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use domain::programme::Programme;
use store::{CommandBus, Database, LogFilter, DEFAULT_BULK_BATCH};
use tests::{cli, Backend, TestDb};

const SOURCE: &str = "CBS Kerncijfers wijken en buurten";

struct Args {
    rows: usize,
}

fn args() -> Args {
    let mut rows = 100_000;
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--rows" => {
                rows = given
                    .next()
                    .and_then(|n| n.replace('_', "").parse().ok())
                    .expect("--rows takes a number, e.g. --rows 1000000");
            }
            // cargo bench passes --bench to every benchmark binary.
            "--bench" => {}
            other => panic!("unknown argument {other:?}; the benchmark takes --rows N"),
        }
    }
    assert!(rows > 0, "--rows must be at least 1");
    Args { rows }
}

fn rate(count: usize, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64()
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let db = TestDb::new(Backend::Postgres).await;
    let Database::Postgres(pool) = &db.db else {
        unreachable!("a PostgreSQL database")
    };
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(pool)
        .await
        .expect("the server's version");
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings WHERE name IN \
         ('fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("the server's settings");
    println!(
        "PostgreSQL {version} ({}), database {}",
        settings
            .iter()
            .map(|(n, v)| format!("{n} = {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        db.url
    );

    alliance_ledger::demo::record_demo(&db.db)
        .await
        .expect("record the demo");
    let demo_head = db.db.head().await.expect("head");
    let (file, shape) = write_file(&db, args.rows).await;
    let size = std::fs::metadata(file.path()).expect("the file").len();
    println!(
        "workload: {} measurements of the demo programme dordt-west ({shape}), CSV {:.1} MB; \
         the demo ledger holds {demo_head} events; {DEFAULT_BULK_BATCH} events per transaction",
        args.rows,
        size as f64 / 1e6
    );

    checkpoint(pool).await;
    let path = file.path().to_str().expect("a UTF-8 path").to_owned();
    let started = Instant::now();
    let out = cli(
        Some(&db),
        &[
            "import",
            "measurements",
            &path,
            "--programme",
            "dordt-west",
            "--source",
            SOURCE,
            "--actor",
            "Benchmark",
        ],
    );
    let import_time = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        println!("  | {line}");
    }
    assert!(out.status.success(), "the import failed");
    let head = db.db.head().await.expect("head");
    assert_eq!(
        head,
        demo_head + i64::try_from(args.rows).expect("rows"),
        "one event per row"
    );
    let write_time = stderr
        .lines()
        .find_map(|l| {
            let rest = l.split_once("rows recorded in ")?.1;
            rest.strip_suffix(" s")?.parse::<f64>().ok()
        })
        .map(Duration::from_secs_f64)
        .expect("the import reports the time of its writing step");

    checkpoint(pool).await;
    let plain_time = plain_inserts(&db.db, pool, demo_head, args.rows).await;

    let import_rate = rate(args.rows, import_time);
    let write_rate = rate(args.rows, write_time);
    let plain_rate = rate(args.rows, plain_time);
    println!(
        "import, end to end:          {} events in {:>7.2} s = {:>8.0} events/s",
        args.rows,
        import_time.as_secs_f64(),
        import_rate
    );
    println!(
        "  of which the bulk path:    {} events in {:>7.2} s = {:>8.0} events/s",
        args.rows,
        write_time.as_secs_f64(),
        write_rate
    );
    println!(
        "plain multi-row INSERT:      {} rows   in {:>7.2} s = {:>8.0} rows/s",
        args.rows,
        plain_time.as_secs_f64(),
        plain_rate
    );
    println!(
        "ratio to plain: bulk path {:.2}, whole import {:.2}",
        write_rate / plain_rate,
        import_rate / plain_rate
    );
}

/// Asks the server to write its dirty pages now, so that a checkpoint due to the previous step
/// does not land in the next one.
async fn checkpoint(pool: &sqlx::PgPool) {
    sqlx::query("CHECKPOINT")
        .execute(pool)
        .await
        .expect("CHECKPOINT");
}

/// Writes `rows` measurements, one per indicator, area and day, as a CSV file; with how the
/// keys were made.
async fn write_file(db: &TestDb, rows: usize) -> (tempfile::NamedTempFile, String) {
    let programme = CommandBus::new(db.db.clone())
        .load::<Programme>("dordt-west")
        .await
        .expect("load the programme");
    let state = programme.state().expect("the demo programme");
    let indicators: Vec<String> = state
        .indicators_in_order()
        .iter()
        .map(|i| i.key.to_string())
        .collect();
    let areas: Vec<String> = state
        .areas_in_order()
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    let per_day = indicators.len() * areas.len();
    let days = rows.div_ceil(per_day);
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date");
    let last = first + Days::new(u64::try_from(days).expect("days") - 1);
    assert!(
        last.format("%Y").to_string().as_str() <= "2043",
        "{rows} rows need days up to {last}, beyond the programme period 2023-2043"
    );
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("a temporary file");
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        writeln!(out, "indicator;gebied;periode;waarde;publicatiedatum").expect("write");
        let mut n = 0;
        'days: for day in 0..days {
            let date = first + Days::new(u64::try_from(day).expect("day"));
            for indicator in &indicators {
                for area in &areas {
                    if n == rows {
                        break 'days;
                    }
                    let value = (n * 7_919) % 100_000;
                    writeln!(
                        out,
                        "{indicator};{area};{date};{},{:02};15-05-2044",
                        value / 100,
                        value % 100
                    )
                    .expect("write");
                    n += 1;
                }
            }
        }
        out.flush().expect("write");
    }
    let shape = format!(
        "{} indicators x {} areas x {days} days from {first} to {last}",
        indicators.len(),
        areas.len()
    );
    (file, shape)
}

/// Inserts the `rows` events after `after` once more into `plain_events`, a table of the same
/// shape as `events` without triggers, in batches of the bulk path's size; the time of the
/// inserts and commits alone.
async fn plain_inserts(db: &Database, pool: &sqlx::PgPool, after: i64, rows: usize) -> Duration {
    sqlx::query("CREATE TABLE plain_events (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await
        .expect("create plain_events");
    let filter = LogFilter::default();
    let batch = u32::try_from(DEFAULT_BULK_BATCH).expect("batch size");
    let mut position = after;
    let mut inserted = 0;
    let mut timed = Duration::ZERO;
    loop {
        let events = db
            .read_log(position, batch, &filter)
            .await
            .expect("read the log");
        let Some(last) = events.last() else { break };
        position = last.position;
        let started = Instant::now();
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(
            "INSERT INTO plain_events (aggregate_type, aggregate_id, sequence, event_type, \
                                       event_version, payload, metadata, position, recorded_at) \
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
        .await
        .expect("insert into plain_events");
        tx.commit().await.expect("commit");
        timed += started.elapsed();
        inserted += events.len();
    }
    assert_eq!(inserted, rows, "every imported event inserted once more");
    timed
}
