//! The ledger's benchmarks: one command that generates a seeded national workload into a
//! fresh PostgreSQL database, runs the workloads against a raw-database baseline in the same
//! run, checks every answer, and reports medians and ratios (`docs/performance.md`,
//! "Benchmarks").
//!
//! ```sh
//! cargo run --release -p bench -- all                 # 1,000,000 events, 3 runs
//! cargo run --release -p bench -- all --quick         # 20,000 events, 3 s a measurement
//! cargo run --release -p bench -- w3 --events 200000 --runs 5 --output w3.json
//! cargo build --release -p alliance-ledger && cargo run --release -p bench -- soak --minutes 10
//! ```
//!
//! Modules: [`workload`] (the generator), [`server`] (the fresh database, the machine and the
//! server's settings), [`report`] (medians, ratios, the table and the JSON), and one module per
//! workload: [`w1`] commands, [`w2`] bulk import, [`w3`] replay, [`w4`] reads, [`w5`]
//! projection lag, [`w6`] footprint (W2 and W6 run the ledger's release binary, found by
//! [`ledger`]: build it with `cargo build --release -p alliance-ledger` first); and [`soak`]
//! (not in `all`):
//! the server binary as a process of its own, written to at a fixed rate for `--minutes`, its
//! memory and latency recorded minute by minute.
//!
//! Adding a workload: a module with `run(&FreshDatabase, &Recorded, …) ->
//! anyhow::Result<WorkloadReport>` that measures ours and its baseline in turn, run after run,
//! fails on any wrong answer, and reports one [`report::Table`] per setting, each store's runs
//! as a [`report::Series`] and ours over the others as a [`report::Ratio`]; then a
//! [`Workload`] variant. With `--peers`, [`peers`] adds the peer event stores (message-db,
//! Emmett, Python eventsourcing; installed from npm and PyPI by `bench/peers/install.sh`) to
//! W1's and W3's tables, and W4 adds PostGraphile (npm, by the same script) serving the same
//! measurements from a plain table.

mod ledger;
mod peers;
mod report;
mod server;
mod soak;
mod w1;
mod w2;
mod w3;
mod w4;
mod w5;
mod w6;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};

use crate::report::Report;
use crate::server::FreshDatabase;

// The allocator of the ledger's own binary, so that W1, W3, W4 and W5, which run the ledger's
// parts in this process, measure them as `alliance-ledger` runs them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A workload of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    /// W1: single-event commands over HTTP at each concurrency, against single-row INSERTs.
    W1,
    /// W2: `alliance-ledger import measurements` of a file, against plain multi-row INSERTs
    /// of the same rows.
    W2,
    /// W3: replay every read model from the log, against a plain SELECT of the same rows.
    W3,
    /// W4: an asOf read and a by-id read over HTTP, against a static handler answering as
    /// many bytes.
    W4,
    /// W5: commands at a fixed rate (half of W1's peak); how long until the read models
    /// include each, in this server and in a second one on the same database.
    W5,
    /// W6: the server binary's start-up time and memory, without a snapshot and from one.
    W6,
    /// Every workload above, on one generated ledger.
    All,
    /// The soak (not part of `all`): the server binary written to over HTTP at `--rate` for
    /// `--minutes`, its memory and latency per minute.
    Soak,
}

/// Benchmarks of the alliance ledger against the raw database, in the same run.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// Which workload to run.
    workload: Workload,
    /// Events in the generated ledger [default: 1,000,000; with --quick 20,000].
    #[arg(long, value_parser = parse_count)]
    events: Option<usize>,
    /// Runs of each measurement; the report gives their medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// Seconds of each W1, W4 and W5 measurement [default: 10; with --quick 3].
    #[arg(long)]
    seconds: Option<f64>,
    /// W5's and the soak's writes per second [default: W5 half of W1's best median when W1
    /// runs too; else 675, half of W1's idle-machine peak].
    #[arg(long)]
    rate: Option<f64>,
    /// Minutes of the soak.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    minutes: u32,
    /// The ledger's binary that W2, W6 and the soak run [default: alliance-ledger beside this
    /// binary; build it with `cargo build --release -p alliance-ledger`].
    #[arg(long)]
    ledger_binary: Option<PathBuf>,
    /// Rows of each W2 import file [default: 100,000; with --quick 10,000].
    #[arg(long, value_parser = parse_count)]
    import_rows: Option<usize>,
    /// W1's and W4's numbers of concurrent clients.
    #[arg(long, value_delimiter = ',', default_values_t = [1_usize, 16, 64])]
    concurrency: Vec<usize>,
    /// Small sizes to check that the benchmark works: figures not for quoting.
    #[arg(long)]
    quick: bool,
    /// The workload's seed: the same seed gives the same commands.
    #[arg(long, default_value_t = 2023)]
    seed: u64,
    /// A PostgreSQL server where the benchmark may create and drop a database.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Keep the benchmark's database instead of dropping it at the end.
    #[arg(long)]
    keep_database: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Also run the peer event stores (message-db, Emmett, eventsourcing) on W1 and W3 and
    /// PostGraphile on W4, installed by bench/peers/install.sh (needs node, npm, python3 and
    /// psql).
    #[arg(long)]
    peers: bool,
    /// Where bench/peers/install.sh installs the peers [default: target/bench-peers].
    #[arg(long, requires = "peers")]
    peers_dir: Option<PathBuf>,
}

/// A count with optional `_` or `,` separators: `1_000_000`.
fn parse_count(text: &str) -> Result<usize, String> {
    text.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number, e.g. 1000000"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let events = args
        .events
        .unwrap_or(if args.quick { 20_000 } else { 1_000_000 });
    let seconds = args.seconds.unwrap_or(if args.quick { 3.0 } else { 10.0 });
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "--seconds must be more than 0"
    );
    anyhow::ensure!(
        !args.concurrency.is_empty() && args.concurrency.iter().all(|c| *c > 0),
        "--concurrency takes numbers of clients of at least 1, e.g. 1,16,64"
    );
    let shape = workload::Shape::for_events(events, args.seed)?;
    let runs = usize::from(args.runs);
    anyhow::ensure!(
        args.import_rows != Some(0),
        "--import-rows must be at least 1"
    );
    // W2 and W6 run the ledger's binary: find it before generating anything.
    let binary = if matches!(args.workload, Workload::W2 | Workload::W6 | Workload::All) {
        Some(ledger::LedgerBinary::locate(args.ledger_binary.as_deref())?)
    } else {
        None
    };

    let peers = if args.peers {
        Some(peers::Peers::start(&args.database_url, args.peers_dir.as_deref()).await?)
    } else {
        None
    };
    let fresh = FreshDatabase::create(&args.database_url).await?;
    eprintln!("database {}", fresh.name);
    if args.workload == Workload::Soak {
        let result = soak(&args, &fresh, shape).await;
        if args.keep_database {
            eprintln!("kept the database {}", fresh.name);
        } else {
            fresh.drop_now().await?;
        }
        let report = result?;
        print!("{}", report.text());
        if let Some(path) = &args.output {
            let json = serde_json::to_string_pretty(&report)?;
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        }
        anyhow::ensure!(
            report.failed.is_empty(),
            "the soak failed: {}",
            report.failed.join("; ")
        );
        return Ok(());
    }
    let result = measure(
        &args,
        &fresh,
        shape,
        runs,
        seconds,
        peers.as_ref(),
        binary.as_ref(),
    )
    .await;
    if args.keep_database {
        eprintln!("kept the database {}", fresh.name);
    } else {
        fresh.drop_now().await?;
    }
    if let Some(peers) = peers {
        peers.drop_now().await?;
    }
    let report = result?;
    print!("{}", report.text());
    if let Some(path) = &args.output {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

async fn soak(
    args: &Args,
    fresh: &FreshDatabase,
    shape: workload::Shape,
) -> anyhow::Result<soak::SoakReport> {
    let environment = server::environment(&fresh.pool).await?;
    eprintln!("generating: {}", shape.describe());
    let recorded = workload::record(&fresh.db, shape).await?;
    let options = soak::Options {
        rate: args.rate.unwrap_or(soak::DEFAULT_RATE),
        minutes: args.minutes,
        binary: args.ledger_binary.clone(),
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    soak::run(fresh, &recorded, &options, environment, command, args.quick).await
}

async fn measure(
    args: &Args,
    fresh: &FreshDatabase,
    shape: workload::Shape,
    runs: usize,
    seconds: f64,
    peers: Option<&peers::Peers>,
    binary: Option<&ledger::LedgerBinary>,
) -> anyhow::Result<Report> {
    let mut environment = server::environment(&fresh.pool).await?;
    eprintln!("generating: {}", shape.describe());
    let recorded = workload::record(&fresh.db, shape).await?;
    eprintln!(
        "generated in {:.1} s (set-up) + {:.1} s (measurements)",
        recorded.setup_time.as_secs_f64(),
        recorded.measurements_time.as_secs_f64()
    );
    let mut workloads = Vec::new();
    let wants = |w: Workload| args.workload == w || args.workload == Workload::All;
    // W3 runs first, on the log as generated; it gives the reference checksum W6 and W1 check
    // the servers against. W6 and W4 append nothing (W4 checks the log as generated); W1, W5
    // and W2 append.
    let reference = if wants(Workload::W3) {
        let (report, reference) = w3::run(fresh, &recorded, runs, peers).await?;
        workloads.push(report);
        reference
    } else {
        w3::reference_checksum(&fresh.pool).await?.1
    };
    let binary = || binary.context("the ledger's binary was not located");
    if wants(Workload::W6) {
        workloads.push(w6::run(fresh, &recorded, &reference, binary()?, runs).await?);
    }
    let options = w1::Options {
        concurrency: args.concurrency.clone(),
        duration: Duration::from_secs_f64(seconds),
        runs,
    };
    if wants(Workload::W4) {
        workloads.push(w4::run(fresh, &recorded, &options, peers).await?);
    }
    if wants(Workload::W1) {
        workloads.push(w1::run(fresh, &recorded, &reference, &options, peers).await?);
    }
    if wants(Workload::W5) {
        let w1 = workloads.iter().find(|w| w.id == "W1");
        let (rate, rate_from) = w5::rate(args.rate, w1)?;
        let options = w5::Options {
            rate,
            rate_from,
            duration: Duration::from_secs_f64(seconds),
            runs,
        };
        workloads.push(w5::run(fresh, &recorded, &options).await?);
    }
    if wants(Workload::W2) {
        let options = w2::Options {
            rows: args
                .import_rows
                .unwrap_or(if args.quick { 10_000 } else { 100_000 }),
            runs,
        };
        workloads.push(w2::run(fresh, &recorded, binary()?, &options).await?);
    }
    environment.load_after = server::load();
    Ok(Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        quick: args.quick,
        runs,
        environment,
        workload: recorded,
        workloads,
    })
}
