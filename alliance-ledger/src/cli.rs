use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use store::{Database, DatabaseUrl, Role, DEFAULT_DATABASE_URL};
use uuid::Uuid;

/// An event-sourced governance ledger for the alliances of the Nationaal Programma
/// Leefbaarheid en Veiligheid: every decision, budget line, target and measurement is recorded
/// as an event that can be replayed and audited.
///
/// With no command, `serve` runs: the GraphQL API on http://127.0.0.1:8080/graphql, on a SQLite
/// file in the working folder unless --database-url names another database.
///
/// Every option can also be set by the environment variable shown beside it.
#[derive(Debug, Parser)]
#[command(name = "alliance-ledger", version, propagate_version = true)]
pub struct Cli {
    /// The database holding the ledger: postgres://USER:PASSWORD@HOST:PORT/DB, or sqlite://PATH
    /// (created when missing). Without this option or its variable, DATABASE_URL is used, else
    /// sqlite://alliance-ledger.db in the working folder.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_DATABASE_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    database_url: Option<String>,

    /// How log lines are written to standard error: text for people, json (one object a line,
    /// with the request id and the other fields of its span) for log collectors.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,

    /// Which log lines to write, as a tracing filter: a level (error, warn, info, debug, trace)
    /// and per-module levels, e.g. `info,api=debug`. Without this option or its variable,
    /// RUST_LOG is used, else `info`.
    #[arg(long, env = "ALLIANCE_LEDGER_LOG", global = true, value_name = "FILTER", value_parser = parse_log_filter)]
    log: Option<String>,

    /// The same as --log-format json.
    #[arg(long, env = "ALLIANCE_LEDGER_LOG_JSON", global = true, hide = true)]
    log_json: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API (the default). Applies pending schema migrations first.
    Serve(ServeArgs),
    /// Apply pending schema migrations and exit.
    Migrate,
    /// Create, list and revoke the bearer tokens that give people access.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write the whole event log as JSON lines, one event a line with every column and its leaf
    /// hash; with --output, the signed checkpoints go beside it (<output>.checkpoints.jsonl).
    Export(ExportArgs),
    /// Manage the key the ledger signs its checkpoints with.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check that no event was changed, removed, inserted or reordered: the database's log (or,
    /// with --export, an export offline) against the signed checkpoints. Exits 0 when all
    /// holds, 1 naming the first position that fails.
    Verify(VerifyArgs),
    /// Record the Dordt West demo programme into the database (skipping what is there already).
    Demo,
    /// Import monitoring results, targets or budget lines from a CSV or Excel file, all or
    /// nothing (docs/import.md).
    #[command(subcommand)]
    Import(crate::imports::ImportCommand),
    /// Print the GraphQL schema (SDL) the server serves.
    Schema,
    /// Rebuild every read model from the log, from nothing, and print the number of events and
    /// a SHA-256 checksum of the whole state; a server at the same position reports the same.
    Replay {
        /// Stop at a position (e.g. 1234) or at a time (e.g. 2025-01-01T00:00:00Z, inclusive).
        #[arg(long)]
        until: Option<projections::Until>,
    },
    /// Rebuild every read model from the log, from nothing, and store a snapshot of them in the
    /// database, from which servers start (e.g. after an upgrade that changed the snapshot
    /// format). Prints the position and the checksum.
    Snapshot {
        /// How many snapshots to keep (the newest).
        #[arg(long, env = "ALLIANCE_LEDGER_SNAPSHOT_KEEP", default_value_t = projections::snapshot::DEFAULT_KEEP)]
        keep: usize,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "ALLIANCE_LEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Record the Dordt West demo programme first (nothing is added when it is there already).
    #[arg(long, env = "ALLIANCE_LEDGER_DEMO")]
    demo: bool,
    /// Let anonymous clients read what an alliance publishes (programme, decisions, targets,
    /// measurements, monitor, budget totals); everything else still needs a token.
    #[arg(long, env = "ALLIANCE_LEDGER_PUBLIC_READ")]
    public_read: bool,
    /// Deepest nesting a GraphQL query may have.
    #[arg(long, env = "ALLIANCE_LEDGER_MAX_QUERY_DEPTH", default_value_t = api::Limits::default().max_depth, value_name = "LEVELS")]
    max_query_depth: usize,
    /// Highest complexity score a GraphQL query may have (about one point per field returned).
    #[arg(long, env = "ALLIANCE_LEDGER_MAX_QUERY_COMPLEXITY", default_value_t = api::Limits::default().max_complexity, value_name = "POINTS")]
    max_query_complexity: usize,
    /// Most items one page of a list may hold (`first`).
    #[arg(long, env = "ALLIANCE_LEDGER_MAX_PAGE_SIZE", default_value_t = api::Limits::default().max_page_size, value_name = "ITEMS")]
    max_page_size: u32,
    /// Largest request body, in bytes.
    #[arg(long, env = "ALLIANCE_LEDGER_MAX_BODY_BYTES", default_value_t = api::Limits::default().max_body_bytes, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Longest a request may take before it is answered with 408 Request Timeout.
    #[arg(long, env = "ALLIANCE_LEDGER_REQUEST_TIMEOUT_SECS", default_value_t = api::Limits::default().request_timeout.as_secs(), value_name = "SECONDS")]
    request_timeout_secs: u64,
    /// How often to ping each websocket (subscription) connection, so proxies keep it open
    /// (0: never).
    #[arg(long, env = "ALLIANCE_LEDGER_WEBSOCKET_PING_SECS", default_value_t = api::Limits::default().websocket_keepalive.as_secs(), value_name = "SECONDS")]
    websocket_ping_secs: u64,
    /// How long a websocket client has to sign in (`connection_init`) before it is closed (0: no
    /// limit).
    #[arg(long, env = "ALLIANCE_LEDGER_WEBSOCKET_INIT_TIMEOUT_SECS", default_value_t = api::Limits::default().websocket_init_timeout.as_secs(), value_name = "SECONDS")]
    websocket_init_timeout_secs: u64,
    /// How often an open websocket's token is checked again, so a revoked token ends its
    /// subscriptions (0: never).
    #[arg(long, env = "ALLIANCE_LEDGER_WEBSOCKET_TOKEN_RECHECK_SECS", default_value_t = api::Limits::default().websocket_token_recheck.as_secs(), value_name = "SECONDS")]
    websocket_token_recheck_secs: u64,
    /// Most aliases (`name: field`) one GraphQL query may hold.
    #[arg(long, env = "ALLIANCE_LEDGER_MAX_QUERY_ALIASES", default_value_t = api::Limits::default().max_aliases, value_name = "ALIASES")]
    max_query_aliases: usize,
    /// Answer introspection (`__schema`, `__type`; GraphiQL's schema browser) and suggest field
    /// names in errors. The schema is published, so this is on unless turned off.
    #[arg(long, env = "ALLIANCE_LEDGER_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    introspection: bool,
    /// Failed sign-ins (unknown or revoked tokens) a client may have in one window; then every
    /// request of it that carries a token is answered 429 until the window ends (0: no limit).
    #[arg(long, env = "ALLIANCE_LEDGER_SIGN_IN_FAILURES", default_value_t = api::SignInLimit::default().max_failures, value_name = "FAILURES")]
    sign_in_failures: u32,
    /// How long a window of failed sign-ins lasts, from the client's first failure in it.
    #[arg(long, env = "ALLIANCE_LEDGER_SIGN_IN_WINDOW_SECS", default_value_t = api::SignInLimit::default().window.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    sign_in_window_secs: u64,
    /// A reverse proxy whose X-Forwarded-For names the client (failed sign-ins are counted per
    /// client); may be given more than once, or as a comma-separated list in the variable.
    /// Without one, the client is the peer address.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "IP"
    )]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Store a snapshot of the read models after this many new events (0: never by count).
    /// A server starts from the newest snapshot it can verify and folds only the later events.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_SNAPSHOT_EVERY_EVENTS",
        default_value_t = 100_000,
        value_name = "EVENTS"
    )]
    snapshot_every_events: u64,
    /// Store a snapshot at most this many seconds after the last one when there are new events
    /// (0: never by time).
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_SNAPSHOT_INTERVAL_SECS",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    snapshot_interval_secs: u64,
    /// Store a snapshot on a graceful shutdown (SIGTERM, Ctrl-C) when there are new events.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_SNAPSHOT_ON_SHUTDOWN",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    snapshot_on_shutdown: bool,
    /// How many snapshots to keep in the database (the newest).
    #[arg(long, env = "ALLIANCE_LEDGER_SNAPSHOT_KEEP", default_value_t = projections::snapshot::DEFAULT_KEEP, value_name = "N")]
    snapshot_keep: usize,
    /// Do not start from a snapshot: fold the whole log (snapshots are still written).
    #[arg(long, env = "ALLIANCE_LEDGER_IGNORE_SNAPSHOTS")]
    ignore_snapshots: bool,
    /// The file holding the key to sign audit checkpoints with (from `key generate`). Without
    /// one the log is still hashed and proofs are served, but no checkpoint is signed.
    #[arg(long, env = "ALLIANCE_LEDGER_SIGNING_KEY_FILE", value_name = "FILE")]
    signing_key_file: Option<PathBuf>,
    /// Sign a checkpoint after this many new events.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_CHECKPOINT_EVERY_EVENTS",
        default_value_t = 1000,
        value_name = "EVENTS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    checkpoint_every_events: u64,
    /// Sign a checkpoint at most this many seconds after the last one when there are new events.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_CHECKPOINT_INTERVAL_SECS",
        default_value_t = 60,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    checkpoint_interval_secs: u64,
    /// Answer GET /metrics only to scrapers that send this bearer token (without it /metrics
    /// is open to anyone who reaches the listener).
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    metrics_token: Option<String>,
}

impl ServeArgs {
    fn snapshot_policy(&self) -> projections::SnapshotPolicy {
        projections::SnapshotPolicy {
            every_events: self.snapshot_every_events,
            interval: std::time::Duration::from_secs(self.snapshot_interval_secs),
            on_shutdown: self.snapshot_on_shutdown,
            restore: !self.ignore_snapshots,
            keep: self.snapshot_keep,
        }
    }
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it once; only its hash is stored.
    Create {
        /// Who will use the token, as recorded with every event they record (e.g. a name).
        #[arg(long)]
        actor: String,
        /// admin, secretary (records), partner, rijk (read) or auditor (reads the raw log).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organisation the actor acts for, e.g. "Gemeente Dordrecht".
        #[arg(long)]
        organisation: Option<String>,
    },
    /// List every token (never the secret), revoked ones included.
    List,
    /// Revoke a token by its id (from `token list`); it stops working at once.
    Revoke {
        /// The token's id.
        id: Uuid,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Make a new Ed25519 signing key, write it to a file readable only by its owner, and print
    /// the public key to publish (e.g. in the minutes of the alliance).
    Generate {
        /// The key's name, which every checkpoint carries as its origin.
        #[arg(long, default_value = "alliance-ledger")]
        name: String,
        /// Where to write the signing key (never overwritten).
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The ledger's public key (`<name>+<id>+<key>`), or a file holding it. Give it once more
    /// for every key the ledger signed with before its key was replaced (or list them in the
    /// file, one a line): each checkpoint must be signed by one of them.
    #[arg(
        long,
        env = "ALLIANCE_LEDGER_PUBLIC_KEY",
        required = true,
        value_name = "KEY"
    )]
    public_key: Vec<String>,
    /// Verify this export (from `alliance-ledger export`) instead of the database; needs
    /// neither server nor database.
    #[arg(long)]
    export: Option<PathBuf>,
    /// A checkpoint to verify against: a signed note as published, or an export's
    /// checkpoints file. May be given more than once; with --export, the checkpoints file beside
    /// the export is read too.
    #[arg(long)]
    checkpoint: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Stop after this position; the checkpoints file then holds only the checkpoints of at
    /// most this many events.
    #[arg(long)]
    until: Option<i64>,
}

fn parse_log_filter(s: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("not a log filter ({e}); e.g. info, or warn,api=debug"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: domain::access::UnknownRole| e.to_string())
}

/// Parses the command line, runs the command, and turns any error into a message and exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.log_json {
        LogFormat::Json
    } else {
        cli.log_format
    };
    init_tracing(format, cli.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error with the filter from --log (already checked), else RUST_LOG, else
/// `info`.
fn init_tracing(format: LogFormat, filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(filter) => EnvFilter::new(filter),
        None => match std::env::var(EnvFilter::DEFAULT_ENV) {
            Ok(filter) => EnvFilter::try_new(&filter).unwrap_or_else(|e| {
                eprintln!("warning: RUST_LOG={filter:?} is not a log filter ({e}); logging info");
                EnvFilter::new("info")
            }),
            Err(_) => EnvFilter::new("info"),
        },
    };
    // The websocket library logs every frame it receives at trace level, and a subscription's
    // `connection_init` carries a bearer token: its frames never reach the log.
    let filter = match "tungstenite::protocol=debug".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The database named by --database-url or ALLIANCE_LEDGER_DATABASE_URL, else by
/// DATABASE_URL, else the embedded default.
fn database_url(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let url: DatabaseUrl = database_url(cli.database_url).parse()?;
    match cli
        .command
        .unwrap_or(Command::Serve(ServeArgs::default_from_env()?))
    {
        Command::Serve(args) => serve(&url, args).await,
        Command::Migrate => {
            let db = Database::open(&url).await?;
            db.close().await;
            eprintln!("schema of {url} is up to date");
            Ok(())
        }
        Command::Token(cmd) => token(&url, cmd).await,
        Command::Export(args) => export(&url, args).await,
        Command::Key(KeyCommand::Generate { name, output }) => {
            let public_key = crate::trail::generate_key(&name, &output)?;
            eprintln!(
                "wrote the signing key to {}; keep it secret, outside the database. Publish the \
                 public key:",
                output.display()
            );
            println!("{public_key}");
            Ok(())
        }
        Command::Verify(args) => verify(&url, args).await,
        Command::Replay { until } => replay(&url, until.unwrap_or(projections::Until::End)).await,
        Command::Snapshot { keep } => snapshot(&url, keep).await,
        Command::Schema => {
            print!("{}", api::sdl());
            Ok(())
        }
        Command::Import(cmd) => crate::imports::run(&url, cmd).await,
        Command::Demo => {
            let db = Database::open(&url).await?;
            let report = alliance_ledger_demo(&db).await;
            db.close().await;
            report
        }
    }
}

impl ServeArgs {
    /// `serve`'s defaults (with its environment variables) when no command is given.
    fn default_from_env() -> anyhow::Result<Self> {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Ok(Only::try_parse_from(["serve"])?.args)
    }
}

async fn alliance_ledger_demo(db: &Database) -> anyhow::Result<()> {
    let report = crate::demo::record_demo(db).await?;
    tracing::info!(
        recorded = report.recorded,
        already_there = report.skipped,
        "Dordt West demo programme recorded"
    );
    Ok(())
}

/// Replays the log into an empty state, showing progress on standard error.
async fn replay_with_progress(
    db: &Database,
    until: projections::Until,
) -> anyhow::Result<projections::LedgerState> {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} events, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_line = std::time::Instant::now();
    let state = projections::replay(db, until, |position, head| match &bar {
        Some(bar) => {
            bar.set_length(head.unsigned_abs());
            bar.set_position(position.unsigned_abs());
        }
        None => {
            if last_line.elapsed().as_secs() >= 5 {
                eprintln!("replayed {position} of {head} events");
                last_line = std::time::Instant::now();
            }
        }
    })
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(state)
}

async fn replay(url: &DatabaseUrl, until: projections::Until) -> anyhow::Result<()> {
    let db = Database::open(url).await?;
    let started = std::time::Instant::now();
    let state = replay_with_progress(&db, until).await?;
    db.close().await;
    println!("events: {}", state.position());
    println!("position: {}", state.position());
    if let Some(t) = state.recorded_at() {
        println!("recorded_at: {}", t.to_rfc3339());
    }
    println!("checksum: {}", state.checksum());
    eprintln!("replayed in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn snapshot(url: &DatabaseUrl, keep: usize) -> anyhow::Result<()> {
    let db = Database::open(url).await?;
    let started = std::time::Instant::now();
    let state = replay_with_progress(&db, projections::Until::End).await?;
    let replayed = started.elapsed();
    let written = projections::snapshot::write_snapshot(&db, state, keep).await;
    db.close().await;
    match written? {
        None => {
            eprintln!("the log is empty: no snapshot written");
        }
        Some(w) => {
            println!("position: {}", w.position);
            println!("checksum: {}", w.checksum);
            println!("format: {}", projections::SNAPSHOT_FORMAT);
            println!("bytes: {}", w.bytes);
            eprintln!(
                "replayed in {:.2} s, encoded in {:.2} s; {}",
                replayed.as_secs_f64(),
                w.encode_time.as_secs_f64(),
                if w.inserted {
                    "snapshot stored"
                } else {
                    "a snapshot at this position was stored already"
                }
            );
        }
    }
    Ok(())
}

async fn serve(url: &DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    let signer = match &args.signing_key_file {
        Some(path) => {
            let signer = crate::trail::read_signing_key(path)?;
            tracing::info!(
                public_key = signer.public_key(),
                "signing audit checkpoints with the key in {}",
                path.display()
            );
            Some(signer)
        }
        None => {
            tracing::warn!(
                "no signing key: the log is hashed and proofs are served, but no checkpoint will \
                 be signed. Make a key with `alliance-ledger key generate --name <name> --output \
                 <file>` and start with --signing-key-file <file> \
                 (ALLIANCE_LEDGER_SIGNING_KEY_FILE)"
            );
            None
        }
    };
    let db = Database::open(url).await?;
    if args.demo {
        alliance_ledger_demo(&db).await?;
    }
    let audit = api::AuditConfig {
        signer,
        checkpoints: projections::notary::CheckpointPolicy {
            every_events: args.checkpoint_every_events,
            every: std::time::Duration::from_secs(args.checkpoint_interval_secs),
        },
    };
    let (mut state, projector) =
        api::AppState::start_with_audit(db.clone(), args.snapshot_policy(), audit).await?;
    state.public_read = args.public_read;
    state.limits = api::Limits {
        max_depth: args.max_query_depth,
        max_complexity: args.max_query_complexity,
        max_page_size: args.max_page_size,
        max_body_bytes: args.max_body_bytes,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
        websocket_keepalive: std::time::Duration::from_secs(args.websocket_ping_secs),
        websocket_init_timeout: std::time::Duration::from_secs(args.websocket_init_timeout_secs),
        websocket_token_recheck: std::time::Duration::from_secs(args.websocket_token_recheck_secs),
        max_aliases: args.max_query_aliases,
        introspection: args.introspection,
        sign_in: api::SignInLimit {
            max_failures: args.sign_in_failures,
            window: std::time::Duration::from_secs(args.sign_in_window_secs),
            trusted_proxies: args.trusted_proxy.clone(),
            ..api::SignInLimit::default()
        },
    };
    state.metrics_token = args.metrics_token.as_deref().map(api::MetricsToken::new);
    let head = state.projection.position();
    tracing::info!(
        database = %url,
        backend = %db.backend(),
        position = head,
        snapshot = state.startup.snapshot,
        events_folded = state.startup.events_folded,
        startup_ms = state.startup.elapsed.as_millis() as u64,
        "serving the ledger on http://{}/graphql",
        args.listen
    );
    let served = api::serve(args.listen, state, shutdown_signal()).await;
    projector.stop().await;
    served?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn token(url: &DatabaseUrl, cmd: TokenCommand) -> anyhow::Result<()> {
    let db = Database::open(url).await?;
    let result = match cmd {
        TokenCommand::Create {
            actor,
            role,
            organisation,
        } => {
            let token = db
                .create_token(&actor, role, organisation.as_deref())
                .await?;
            eprintln!(
                "created token {} for {} ({}); it is shown once, keep it secret:",
                token.info.id, token.info.actor, token.info.role
            );
            println!("{}", token.secret);
            Ok(())
        }
        TokenCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "id\tactor\trole\torganisation\tcreated\trevoked")?;
            for t in db.list_tokens().await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.actor,
                    t.role,
                    t.organisation.as_deref().unwrap_or("-"),
                    t.created_at.to_rfc3339(),
                    t.revoked_at
                        .map(|r| r.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                )?;
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            db.revoke_token(id).await?;
            eprintln!("revoked token {id}");
            Ok(())
        }
    };
    db.close().await;
    result
}

async fn export(url: &DatabaseUrl, args: ExportArgs) -> anyhow::Result<()> {
    let db = Database::open(url).await?;
    let count = match &args.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            let n = crate::trail::export_events(&db, &mut out, args.until).await?;
            out.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            let beside = crate::trail::checkpoints_path(path);
            let checkpoints = crate::trail::export_checkpoints(&db, &beside, args.until).await?;
            eprintln!("wrote {checkpoints} checkpoints to {}", beside.display());
            n
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            crate::trail::export_events(&db, &mut out, args.until).await?
        }
    };
    db.close().await;
    eprintln!("exported {count} events");
    Ok(())
}

async fn verify(url: &DatabaseUrl, args: VerifyArgs) -> anyhow::Result<()> {
    let verifier = crate::trail::TrustedKeys::read(&args.public_key)?;
    let beside = args.export.as_deref().map(crate::trail::checkpoints_path);
    let mut checkpoints = Vec::new();
    for path in &args.checkpoint {
        let read = crate::trail::read_checkpoints(path, &verifier)?;
        // An export's own checkpoints file is empty when no checkpoint covers its events; any
        // other file given is meant to hold one.
        if read.is_empty() && beside.as_ref() != Some(path) {
            anyhow::bail!("{} holds no checkpoint", path.display());
        }
        checkpoints.extend(read);
    }
    let report = match &args.export {
        Some(export) => {
            if let Some(beside) = beside.filter(|b| b.exists() && !args.checkpoint.contains(b)) {
                checkpoints.extend(crate::trail::read_checkpoints(&beside, &verifier)?);
            }
            crate::trail::verify_export(export, &checkpoints)?
        }
        None => {
            // Only reads: no migrations, so an auditor's read-only database user suffices.
            let db = Database::connect(url).await?;
            let report = crate::trail::verify_database(&db, &verifier, checkpoints).await;
            db.close().await;
            report?
        }
    };
    if crate::trail::print_report(&report) {
        Ok(())
    } else {
        std::process::exit(1)
    }
}
