//! The peer event stores, run beside the ledger on the same PostgreSQL server and the same W1
//! and W3 workloads: Eventide's message-db (`write_message`, `get_category_messages`; every
//! stream in the one category `measurement`, since message-db locks writers per category),
//! Emmett's PostgreSQL event store (`appendToStream`, `readMessagesBatch`; a `pg.Pool` of our
//! own) and the Python `eventsourcing` library's PostgreSQL recorder (`Application.save`,
//! `select_notifications`; no pool overflow). Every peer's pool has as many connections as
//! clients, at most the ledger's 16, as W1's baselines (the drivers' default).
//!
//! `bench/peers/install.sh` installs them from npm and PyPI at pinned versions into a folder
//! of its own (default `target/bench-peers`); the benchmark runs it (it keeps an installation
//! that matches) and reads the versions it prints. Each peer gets a fresh database of its own,
//! its schema installed by its driver (`setup`); the drivers under `bench/peers/` share one
//! command line (`w1`, `fill`, `w3`) and answer one JSON object each, after checking their own
//! answers (the store grew by exactly the appends acknowledged; every event read back, in
//! strictly increasing global position, payloads equal to those written). Every event they
//! write carries the bytes the ledger stores: W1 the payload and metadata W1's baselines insert,
//! W3 those of the log's last measurement.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::report::{Ratio, Series, Table};
use crate::server::checkpoint;

/// A peer event store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    MessageDb,
    Emmett,
    Eventsourcing,
}

impl Peer {
    const ALL: [Peer; 3] = [Peer::MessageDb, Peer::Emmett, Peer::Eventsourcing];

    /// Short name, in database names and ratios.
    fn key(self) -> &'static str {
        match self {
            Peer::MessageDb => "message-db",
            Peer::Emmett => "Emmett",
            Peer::Eventsourcing => "eventsourcing",
        }
    }

    /// The package whose version names it.
    fn package(self) -> &'static str {
        match self {
            Peer::MessageDb => "@eventide/message-db",
            Peer::Emmett => "@event-driven-io/emmett-postgresql",
            Peer::Eventsourcing => "eventsourcing",
        }
    }

    fn w1_call(self) -> &'static str {
        match self {
            Peer::MessageDb => "write_message",
            Peer::Emmett => "appendToStream",
            Peer::Eventsourcing => "Application.save",
        }
    }

    fn w3_call(self) -> &'static str {
        match self {
            Peer::MessageDb => "get_category_messages",
            Peer::Emmett => "readMessagesBatch",
            Peer::Eventsourcing => "select_notifications",
        }
    }
}

/// One installed peer with its database.
#[derive(Debug)]
struct Installed {
    peer: Peer,
    version: String,
    database: String,
    url: String,
}

impl Installed {
    fn store(&self, call: &str) -> String {
        format!("peer: {} {} ({call})", self.peer.key(), self.version)
    }
}

/// The installed peers, each with a fresh database on the benchmark's server.
#[derive(Debug)]
pub struct Peers {
    admin: PgPool,
    dir: PathBuf,
    /// `package version` as install.sh printed them.
    versions: Vec<(String, String)>,
    installed: Vec<Installed>,
    /// Where the payload files go; removed at the end.
    scratch: PathBuf,
}

/// What a driver's `w1` answers.
#[derive(Debug, Deserialize)]
struct W1Answer {
    appended: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    checks: Vec<String>,
}

/// What a driver's `w3` answers.
#[derive(Debug, Deserialize)]
struct W3Answer {
    events: i64,
    seconds: f64,
    checks: Vec<String>,
}

/// The folder of the drivers and the install script.
fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// Fails with the way to install what is missing unless `program --version` runs.
fn require(program: &str, what: &str) -> anyhow::Result<()> {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => bail!(
            "--peers needs {what} ({program} was not found or did not run); install it, then \
             bench/peers/install.sh installs the peers (or leave out --peers)"
        ),
    }
}

/// Runs a command to its end off the async runtime; its standard output, or an error with its
/// standard error.
async fn run_command(mut command: Command, what: String) -> anyhow::Result<String> {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .with_context(|| format!("starting {what}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(stdout)
}

impl Peers {
    /// Installs the peers (bench/peers/install.sh into `dir`, or its default) and gives each a
    /// fresh database with its schema on the server `admin_url` names.
    pub async fn start(admin_url: &str, dir: Option<&Path>) -> anyhow::Result<Self> {
        require("node", "Node.js 20 or later with npm")?;
        require("python3", "Python 3.11 or later with venv")?;
        require(
            "psql",
            "the PostgreSQL client psql (message-db's installer runs it)",
        )?;
        let script = source_dir().join("install.sh");
        let mut command = Command::new("bash");
        command.arg(&script);
        if let Some(dir) = dir {
            command.arg(dir);
        }
        eprintln!("peers: {}", script.display());
        let printed = run_command(command, format!("{}", script.display())).await?;
        let mut versions = Vec::new();
        let mut installed_dir = None;
        let mut listing = false;
        for line in printed.lines() {
            if line == "versions:" {
                listing = true;
            } else if let Some(path) = line.strip_prefix("dir ") {
                installed_dir = Some(PathBuf::from(path));
            } else if listing {
                if let Some((package, version)) = line.split_once(' ') {
                    versions.push((package.to_owned(), version.to_owned()));
                }
            }
        }
        let dir = installed_dir.context("install.sh did not say where it installed the peers")?;

        let options: PgConnectOptions = admin_url
            .parse()
            .with_context(|| format!("--database-url {admin_url:?} is not a PostgreSQL URL"))?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .context("connecting to the PostgreSQL server for the peers")?;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let scratch = std::env::temp_dir().join(format!("alliance_ledger_bench_peers_{tag}"));
        std::fs::create_dir_all(&scratch)?;
        let mut peers = Self {
            admin,
            dir,
            versions,
            installed: Vec::new(),
            scratch,
        };
        match peers.install_all(admin_url, &tag).await {
            Ok(()) => Ok(peers),
            Err(e) => {
                // Leave no database behind for a peer that could not be set up.
                if let Err(dropping) = peers.drop_now().await {
                    eprintln!("peers: {dropping:#}");
                }
                Err(e)
            }
        }
    }

    /// Creates each peer's database and installs its schema.
    async fn install_all(&mut self, admin_url: &str, tag: &str) -> anyhow::Result<()> {
        let peers = self;
        for peer in Peer::ALL {
            let version = peers
                .version(peer.package())
                .with_context(|| format!("install.sh printed no version of {}", peer.package()))?;
            let database = format!(
                "alliance_ledger_bench_{}_{tag}",
                peer.key().to_lowercase().replace('-', "_")
            );
            sqlx::query(&format!("CREATE DATABASE {database}"))
                .execute(&peers.admin)
                .await
                .with_context(|| format!("creating the database of {}", peer.key()))?;
            let url = database_url(admin_url, &database)?;
            peers.installed.push(Installed {
                peer,
                version,
                database,
                url,
            });
            let installed = peers.installed.last().context("just pushed")?;
            peers.call(installed, &["setup"]).await?;
            eprintln!(
                "peers: {} {} in {}",
                peer.key(),
                installed.version,
                installed.database
            );
        }
        Ok(())
    }

    /// The version install.sh printed for `package`.
    pub fn version(&self, package: &str) -> Option<String> {
        self.versions
            .iter()
            .find(|(p, _)| p == package)
            .map(|(_, v)| v.clone())
    }

    /// The folder of the npm packages and the Node drivers (W4 starts PostGraphile from it).
    pub fn node_dir(&self) -> PathBuf {
        self.dir.join("node")
    }

    /// Drops the peers' databases and the payload files.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        for installed in &self.installed {
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                installed.database
            ))
            .execute(&self.admin)
            .await
            .with_context(|| format!("dropping {}", installed.database))?;
        }
        self.admin.close().await;
        let _ = std::fs::remove_dir_all(&self.scratch);
        Ok(())
    }

    /// Runs the peer's driver with `args` and its database; the JSON it answers.
    async fn call(&self, installed: &Installed, args: &[&str]) -> anyhow::Result<Value> {
        let mut command = match installed.peer {
            Peer::MessageDb | Peer::Emmett => {
                let script = match installed.peer {
                    Peer::MessageDb => "message-db.mjs",
                    _ => "emmett.mjs",
                };
                let node = self.dir.join("node");
                let mut command = Command::new("node");
                command.arg(node.join(script)).current_dir(node);
                command
            }
            Peer::Eventsourcing => {
                let mut command = Command::new(self.dir.join("venv/bin/python"));
                command.arg(source_dir().join("eventsourcing_peer.py"));
                command
            }
        };
        command.args(args).args(["--database-url", &installed.url]);
        let what = format!("the {} driver ({})", installed.peer.key(), args[0]);
        let printed = run_command(command, what.clone()).await?;
        let line = printed
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .with_context(|| format!("{what} answered nothing"))?;
        serde_json::from_str(line).with_context(|| format!("{what} answered {line:?}"))
    }

    /// Writes a payload file: the event type, version, payload and metadata every peer writes.
    fn payload_file(&self, name: &str, event: &Value) -> anyhow::Result<PathBuf> {
        let path = self.scratch.join(name);
        std::fs::write(&path, serde_json::to_vec(event)?)?;
        Ok(path)
    }

    /// The sentence the workloads' methods end with.
    fn describe(&self) -> String {
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(p, v)| format!("{p} {v}"))
            .collect();
        format!(
            " Peers (bench/peers/, installed by install.sh: {}), each in a fresh database of \
             its own on the same server, driven by a process of their own: message-db with \
             every stream in the one category `measurement` (it locks writers per category), \
             message-db and Emmett \
             through a pg.Pool and eventsourcing through its pool (POSTGRES_POOL_SIZE, no \
             overflow) of as many connections as clients, at most the ledger's 16 as the \
             baselines.",
            versions.join(", ")
        )
    }

    /// W1 for the peers: fills each store to `events` (so that it is as large as the ledger's
    /// log; nothing when W3 filled it), then measures at each concurrency when asked.
    pub async fn w1(
        &self,
        event: Value,
        concurrency: &[usize],
        events: i64,
    ) -> anyhow::Result<W1Peers<'_>> {
        let payload = self.payload_file("w1.json", &event)?;
        let events_arg = events.to_string();
        for installed in &self.installed {
            self.call(
                installed,
                &[
                    "fill",
                    "--events",
                    &events_arg,
                    "--payload",
                    path(&payload)?,
                ],
            )
            .await?;
        }
        Ok(W1Peers {
            peers: self,
            payload,
            runs: concurrency
                .iter()
                .map(|_| self.installed.iter().map(|_| Vec::new()).collect())
                .collect(),
            checks: self.installed.iter().map(|_| Vec::new()).collect(),
        })
    }

    /// W3 for the peers, with the payload and metadata of the log's last measurement.
    pub async fn w3(&self, pool: &PgPool, events: i64) -> anyhow::Result<W3Peers<'_>> {
        let (event_type, event_version, payload, metadata): (String, String, Value, Value) =
            sqlx::query_as(
                "SELECT event_type, event_version, payload, metadata FROM events \
                 WHERE aggregate_type = 'Measurement' ORDER BY position DESC LIMIT 1",
            )
            .fetch_one(pool)
            .await
            .context("W3 peers: the log's last measurement")?;
        let event = json!({
            "event_type": event_type,
            "event_version": event_version,
            "payload": payload,
            "metadata": metadata,
        });
        Ok(W3Peers {
            peers: self,
            payload: self.payload_file("w3.json", &event)?,
            events,
            runs: self.installed.iter().map(|_| Vec::new()).collect(),
            checks: self.installed.iter().map(|_| Vec::new()).collect(),
        })
    }
}

/// `admin_url` (user, password, host and port) naming `database`, without its query: the
/// drivers' clients read parameters such as sslmode differently from libpq.
fn database_url(admin_url: &str, database: &str) -> anyhow::Result<String> {
    let base = admin_url
        .split_once('?')
        .map_or(admin_url, |(base, _)| base);
    let (scheme, rest) = base
        .split_once("://")
        .with_context(|| format!("--database-url {admin_url:?} is not a postgres:// URL"))?;
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    Ok(format!("{scheme}://{authority}/{database}"))
}

fn path(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

/// One W1 measurement of a peer.
struct W1Run {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// The peers' W1 runs, per concurrency, per peer.
pub struct W1Peers<'a> {
    peers: &'a Peers,
    payload: PathBuf,
    runs: Vec<Vec<Vec<W1Run>>>,
    checks: Vec<Vec<String>>,
}

impl W1Peers<'_> {
    /// One run of every peer at `clients` (the `ci`-th concurrency), each after a CHECKPOINT.
    pub async fn run(
        &mut self,
        run: usize,
        ci: usize,
        clients: usize,
        duration: Duration,
        pool: &PgPool,
    ) -> anyhow::Result<()> {
        let clients_arg = clients.to_string();
        let seconds = format!("{}", duration.as_secs_f64());
        let count = self.peers.installed.len();
        for turn in 0..count {
            let pi = (run + turn) % count;
            let installed = &self.peers.installed[pi];
            checkpoint(pool).await?;
            let answer = self
                .peers
                .call(
                    installed,
                    &[
                        "w1",
                        "--concurrency",
                        &clients_arg,
                        "--seconds",
                        &seconds,
                        "--payload",
                        path(&self.payload)?,
                    ],
                )
                .await?;
            let answer: W1Answer = serde_json::from_value(answer)
                .with_context(|| format!("W1: {}'s answer", installed.peer.key()))?;
            ensure!(
                answer.appended > 0 && answer.seconds > 0.0,
                "W1: {} appended {} events in {} s",
                installed.peer.key(),
                answer.appended,
                answer.seconds
            );
            let measured = W1Run {
                rate: answer.appended as f64 / answer.seconds,
                p50: answer.p50_ms,
                p99: answer.p99_ms,
            };
            eprintln!(
                "W1 run {} c={clients:<3} {:<34} {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} in {:.1} s)",
                run + 1,
                installed.store(installed.peer.w1_call()),
                measured.rate,
                measured.p50,
                measured.p99,
                answer.appended,
                answer.seconds
            );
            self.runs[ci][pi].push(measured);
            self.checks[pi] = answer.checks;
        }
        Ok(())
    }

    /// Adds each peer's series at the `ci`-th concurrency and ours over each peer to `table`.
    pub fn extend(&self, ci: usize, table: &mut Table, ours: &[f64]) {
        for (pi, installed) in self.peers.installed.iter().enumerate() {
            let runs = &self.runs[ci][pi];
            let rate: Vec<f64> = runs.iter().map(|r| r.rate).collect();
            let store = installed.store(installed.peer.w1_call());
            table
                .series
                .push(Series::new(&store, "events/s", rate.clone()));
            table.series.push(Series::new(
                &store,
                "p50 ms",
                runs.iter().map(|r| r.p50).collect(),
            ));
            table.series.push(Series::new(
                &store,
                "p99 ms",
                runs.iter().map(|r| r.p99).collect(),
            ));
            table.ratios.push(Ratio::of(
                &format!("ours / {}", installed.peer.key()),
                ours,
                &rate,
            ));
        }
    }

    /// The checks the peers passed (each driver's own, from its last run), and the method's
    /// sentence on them.
    pub fn finish(&self, method: &mut String, checks: &mut Vec<String>) {
        method.push_str(&self.peers.describe());
        method.push_str(
            " Each peer's clients append one event to a new stream at a time (expected \
             version: none yet), with the payload and metadata W1's baselines insert; the \
             store starts as large as the ledger's log; the peers take turns after ours and \
             the baselines in each round.",
        );
        for (installed, mine) in self.peers.installed.iter().zip(&self.checks) {
            for check in mine {
                checks.push(format!("{} (last run): {check}", installed.peer.key()));
            }
        }
    }
}

/// The peers' W3 runs, per peer.
pub struct W3Peers<'a> {
    peers: &'a Peers,
    payload: PathBuf,
    events: i64,
    /// Seconds per run.
    runs: Vec<Vec<f64>>,
    checks: Vec<Vec<String>>,
}

impl W3Peers<'_> {
    /// One run of every peer (the first fills its store, untimed), each after a CHECKPOINT.
    pub async fn run(&mut self, run: usize, pool: &PgPool) -> anyhow::Result<()> {
        let events = self.events.to_string();
        let count = self.peers.installed.len();
        for turn in 0..count {
            let pi = (run + turn) % count;
            let installed = &self.peers.installed[pi];
            if self.runs[pi].is_empty() {
                let started = std::time::Instant::now();
                self.peers
                    .call(
                        installed,
                        &[
                            "fill",
                            "--events",
                            &events,
                            "--payload",
                            path(&self.payload)?,
                        ],
                    )
                    .await?;
                eprintln!(
                    "W3: {} filled with {events} events in {:.1} s",
                    installed.peer.key(),
                    started.elapsed().as_secs_f64()
                );
            }
            checkpoint(pool).await?;
            let answer = self
                .peers
                .call(
                    installed,
                    &["w3", "--events", &events, "--payload", path(&self.payload)?],
                )
                .await?;
            let answer: W3Answer = serde_json::from_value(answer)
                .with_context(|| format!("W3: {}'s answer", installed.peer.key()))?;
            ensure!(
                answer.events == self.events && answer.seconds > 0.0,
                "W3: {} read {} events in {} s, the log holds {}",
                installed.peer.key(),
                answer.events,
                answer.seconds,
                self.events
            );
            eprintln!(
                "W3 run {}: {} {:.2} s ({:.0} events/s)",
                run + 1,
                installed.store(installed.peer.w3_call()),
                answer.seconds,
                self.events as f64 / answer.seconds
            );
            self.runs[pi].push(answer.seconds);
            self.checks[pi] = answer.checks;
        }
        Ok(())
    }

    /// Adds each peer's series and ours over each peer to `table`; the method's sentence and
    /// the checks.
    pub fn finish(
        &self,
        table: &mut Table,
        ours: &[f64],
        method: &mut String,
        checks: &mut Vec<String>,
    ) {
        let events = self.events as f64;
        for (pi, installed) in self.peers.installed.iter().enumerate() {
            let store = installed.store(installed.peer.w3_call());
            let rate: Vec<f64> = self.runs[pi].iter().map(|s| events / s).collect();
            table
                .series
                .push(Series::new(&store, "events/s", rate.clone()));
            table
                .series
                .push(Series::new(&store, "s", self.runs[pi].clone()));
            table.ratios.push(Ratio::of(
                &format!("ours / {}", installed.peer.key()),
                ours,
                &rate,
            ));
            for check in &self.checks[pi] {
                checks.push(format!("{} (last run): {check}", installed.peer.key()));
            }
        }
        method.push_str(&self.peers.describe());
        method.push_str(&format!(
            " Each peer's store is filled untimed with as many events as the log holds, each \
             with the payload and metadata of the log's last measurement, in large appends; \
             then every event is read in its global order, 10,000 a call, and its payload \
             decoded from JSON; the peers take turns after ours and the baseline in each \
             round. Emmett reads ORDER BY transaction_id, global_position with no index on \
             them (as shipped; not changed here). Peers read {} identical payloads, the \
             ledger its own varied log.",
            self.events
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_database_url_keeps_the_server_and_names_the_database() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "peer").unwrap(),
            "postgres://postgres@127.0.0.1:5432/peer"
        );
        assert_eq!(
            database_url("postgresql://u:p%40ss@db:6543/x?sslmode=disable", "peer").unwrap(),
            "postgresql://u:p%40ss@db:6543/peer"
        );
        assert_eq!(
            database_url("postgres://127.0.0.1", "peer").unwrap(),
            "postgres://127.0.0.1/peer"
        );
        assert!(database_url("127.0.0.1:5432", "peer").is_err());
    }
}
