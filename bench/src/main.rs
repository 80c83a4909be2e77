//! The ledger's benchmarks: one command that generates a seeded national workload into a
//! fresh PostgreSQL database, runs the workloads against a raw-database baseline in the same
//! run, checks every answer, and reports medians and ratios (`docs/performance.md`,
//! "Benchmarks").
//!
//! ```sh
//! cargo run --release -p bench -- all                 # 1,000,000 events, 3 runs
//! cargo run --release -p bench -- all --quick         # 20,000 events, 3 s a measurement
//! cargo run --release -p bench -- w3 --events 200000 --runs 5 --output w3.json
//! ```
//!
//! Modules: [`workload`] (the generator), [`server`] (the fresh database, the machine and the
//! server's settings), [`report`] (medians, ratios, the table and the JSON), and one module per
//! workload: [`w1`] commands, [`w3`] replay.
//!
//! Adding a workload: a module with `run(&FreshDatabase, &Recorded, …) ->
//! anyhow::Result<WorkloadReport>` that measures ours and its baseline in turn, run after run,
//! fails on any wrong answer, and reports one [`report::Table`] per setting, each store's runs
//! as a [`report::Series`] and ours over the others as a [`report::Ratio`]; then a
//! [`Workload`] variant. Still to come: W2 bulk import (today `cargo bench -p tests --bench
//! import`, whose writing step and plain-INSERT baseline move here), W4 reads (`asOf` and by-id
//! queries over HTTP against a static axum handler answering as many bytes), W5 projection lag
//! (writes at half of W1's peak), W6 footprint (memory and start-up, with and without a
//! snapshot). With `--peers`, [`peers`] adds the peer event stores (message-db, Emmett, Python
//! eventsourcing; installed from npm and PyPI by `bench/peers/install.sh`) to W1's and W3's
//! tables; PostGraphile for W4 is still to come.

mod peers;
mod report;
mod server;
mod w1;
mod w3;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};

use crate::report::Report;
use crate::server::FreshDatabase;

/// A workload of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    /// W1: single-event commands over HTTP at each concurrency, against single-row INSERTs.
    W1,
    /// W3: replay every read model from the log, against a plain SELECT of the same rows.
    W3,
    /// Every workload above, on one generated ledger.
    All,
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
    /// Seconds of each W1 measurement [default: 10; with --quick 3].
    #[arg(long)]
    seconds: Option<f64>,
    /// W1's numbers of concurrent clients.
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
    /// Also run the peer event stores (message-db, Emmett, eventsourcing) on W1 and W3,
    /// installed by bench/peers/install.sh (needs node, npm, python3 and psql).
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

    let peers = if args.peers {
        Some(peers::Peers::start(&args.database_url, args.peers_dir.as_deref()).await?)
    } else {
        None
    };
    let fresh = FreshDatabase::create(&args.database_url).await?;
    eprintln!("database {}", fresh.name);
    let result = measure(&args, &fresh, shape, runs, seconds, peers.as_ref()).await;
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

async fn measure(
    args: &Args,
    fresh: &FreshDatabase,
    shape: workload::Shape,
    runs: usize,
    seconds: f64,
    peers: Option<&peers::Peers>,
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
    // W3 runs first, on the log as generated; it gives the reference checksum W1 checks the
    // server against.
    let reference = if wants(Workload::W3) {
        let (report, reference) = w3::run(fresh, &recorded, runs, peers).await?;
        workloads.push(report);
        reference
    } else {
        w3::reference_checksum(&fresh.pool).await?.1
    };
    if wants(Workload::W1) {
        let options = w1::Options {
            concurrency: args.concurrency.clone(),
            duration: Duration::from_secs_f64(seconds),
            runs,
        };
        workloads.push(w1::run(fresh, &recorded, &reference, &options, peers).await?);
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
