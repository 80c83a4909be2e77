//! A PostgreSQL cluster of one test's own, which the test may stop and start again.
//!
//! The shared server that [`crate::pg_server`] finds must keep running for every other test, so
//! a test that takes the database away (the outage drill) gets a private, throwaway cluster
//! instead: made by `initdb` in a fresh temporary directory, listening on 127.0.0.1 on a free
//! port, with PostgreSQL's durable defaults (`fsync`, `synchronous_commit` and
//! `full_page_writes` on), since what such a test checks is that nothing acknowledged is lost.
//! [`PgCluster::stop`] and [`PgCluster::start`] stop and start it on the same port and data
//! directory, so every URL into it stays valid; dropping it stops the server at once and deletes
//! the directory.
//!
//! The PostgreSQL binaries are found as [`crate::pg_server`] finds them (`pg_config --bindir`,
//! `/usr/lib/postgresql/<version>/bin`, `/usr/local/pgsql/bin`, `PATH`). PostgreSQL refuses to
//! run as root, so when the tests run as root `initdb` and `pg_ctl` run as the OS user
//! `postgres` and the directory is given to that user.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::pg_server::{self, HarnessError};

/// `pg_ctl -t`: how long `pg_ctl start` and `pg_ctl stop` wait.
const PG_CTL_WAIT_SECS: &str = "60";
/// How long a started cluster gets to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How [`PgCluster::stop`] stops the server (`pg_ctl stop -m MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// `fast`: sessions are told the server is shutting down (SQLSTATE 57P01), open
    /// transactions are rolled back, a checkpoint is written. What `systemctl stop` does.
    Fast,
    /// `immediate`: every server process is killed at once, without a checkpoint; the next
    /// start recovers from the write-ahead log, as after a crash.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Immediate => "immediate",
        }
    }
}

/// A private PostgreSQL cluster in a temporary directory; stopped and deleted on drop.
#[derive(Debug)]
pub struct PgCluster {
    bindir: PathBuf,
    /// Holds `data/`, `server.log` and the server's unix socket.
    dir: tempfile::TempDir,
    port: u16,
    /// `initdb`/`pg_ctl` run as the OS user `postgres` (because the tests run as root).
    as_postgres: bool,
    running: bool,
}

impl PgCluster {
    /// Creates the cluster (`initdb`) and starts it; returns once it accepts connections.
    pub async fn new() -> Result<Self, HarnessError> {
        let bindir = pg_server::find_bindir()
            .await
            .ok_or(HarnessError::NoPostgres)?;
        let dir = tempfile::Builder::new()
            .prefix("alliance-ledger-test-cluster-")
            .tempdir()
            .map_err(|e| HarnessError::PrivateCluster {
                dir: std::env::temp_dir(),
                reason: format!("cannot create a temporary directory: {e}"),
            })?;
        let as_postgres = pg_server::current_uid().await == Some(0);
        if as_postgres && pg_server::postgres_uid().await.is_none() {
            return Err(HarnessError::NoPostgresUser {
                dir: dir.path().to_owned(),
            });
        }
        let port = pg_server::free_port().map_err(|e| HarnessError::PrivateCluster {
            dir: dir.path().to_owned(),
            reason: format!("cannot find a free port: {e}"),
        })?;
        let mut cluster = Self {
            bindir,
            dir,
            port,
            as_postgres,
            running: false,
        };
        cluster.create().await.map_err(|r| cluster.error(r))?;
        cluster.start().await?;
        Ok(cluster)
    }

    /// `postgres://` URL of the cluster's `postgres` database, as the superuser `postgres`.
    pub fn admin_url(&self) -> String {
        pg_server::url_for(self.port)
    }

    /// The TCP port the cluster listens on, the same after every [`start`](Self::start).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the server (`pg_ctl stop -m MODE`) and waits until it has; from then on
    /// connections to [`port`](Self::port) are refused. Returns how long stopping took.
    pub async fn stop(&mut self, mode: StopMode) -> Result<Duration, HarnessError> {
        let started = Instant::now();
        let mut pg_ctl = self.pg_command("pg_ctl");
        pg_ctl.arg("stop").arg("-D").arg(self.data_dir()).args([
            "-m",
            mode.as_arg(),
            "-w",
            "-t",
            PG_CTL_WAIT_SECS,
        ]);
        self.run(&mut pg_ctl).await.map_err(|r| self.error(r))?;
        self.running = false;
        Ok(started.elapsed())
    }

    /// Starts the server on its port and data directory (after [`stop`](Self::stop)), and
    /// returns once it accepts connections. Returns how long starting took.
    pub async fn start(&mut self) -> Result<Duration, HarnessError> {
        let started = Instant::now();
        let log = self.log_path();
        let mut pg_ctl = self.pg_command("pg_ctl");
        pg_ctl
            .arg("start")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", PG_CTL_WAIT_SECS]);
        if let Err(reason) = self.run(&mut pg_ctl).await {
            return Err(self.error(format!(
                "{reason}\nlast lines of {}:\n{}",
                log.display(),
                pg_server::tail(&log)
            )));
        }
        self.running = true;
        pg_server::wait_until_connectable(&self.admin_url(), READY_TIMEOUT)
            .await
            .map_err(|r| self.error(r))?;
        Ok(started.elapsed())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn error(&self, reason: String) -> HarnessError {
        HarnessError::PrivateCluster {
            dir: self.dir.path().to_owned(),
            reason,
        }
    }

    /// `initdb` and the configuration: 127.0.0.1 and the chosen port only, the socket in the
    /// cluster's directory, durable settings left as PostgreSQL ships them.
    async fn create(&self) -> Result<(), String> {
        if self.as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:").arg(self.dir.path());
            self.run(&mut chown).await?;
        }
        let mut initdb = self.pg_command("initdb");
        initdb
            .arg("-D")
            .arg(self.data_dir())
            .args(["--auth=trust", "-U", "postgres", "--no-locale"])
            .args(["--encoding=UTF8", "--no-sync"]);
        self.run(&mut initdb).await?;

        let mut settings = String::from(
            "\n# Throwaway cluster of one alliance-ledger test (tests/src/pg_cluster.rs).\n\
             listen_addresses = '127.0.0.1'\n\
             max_connections = 100\n",
        );
        let _ = writeln!(settings, "port = {}", self.port);
        let socket_dir = self.dir.path().to_string_lossy().replace('\'', "''");
        let _ = writeln!(settings, "unix_socket_directories = '{socket_dir}'");
        append(&self.data_dir().join("postgresql.conf"), &settings)
    }

    /// A command for one of the PostgreSQL binaries, run as `postgres` when we are root.
    fn pg_command(&self, tool: &str) -> Command {
        let program = self.bindir.join(tool);
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        // The working directory of the tests may be unreadable for the postgres user.
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    /// Runs a command to completion; an error carries the command line and its output.
    async fn run(&self, command: &mut Command) -> Result<(), String> {
        let std_command = command.as_std();
        let line = std::iter::once(std_command.get_program())
            .chain(std_command.get_args())
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let output = command
            .output()
            .await
            .map_err(|e| format!("cannot run `{line}`: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "`{line}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

impl Drop for PgCluster {
    /// Stops the server at once (nothing in it is kept); the directory goes with `dir`.
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let program = self.bindir.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut runuser = std::process::Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            std::process::Command::new(program)
        };
        let _ = command
            .arg("stop")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "-t", PG_CTL_WAIT_SECS])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
