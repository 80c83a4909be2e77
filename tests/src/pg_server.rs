//! Finding (or starting) a PostgreSQL server for the integration tests.
//!
//! [`admin_url`] answers the URL of a PostgreSQL server on which the harness may create and drop
//! databases. It looks, in this order:
//!
//! 1. **`DATABASE_URL`**, if it is set and starts with `postgres://` or `postgresql://`. The
//!    harness creates its own databases on that server, so the role in the URL only needs the
//!    `CREATEDB` right. If the server does not answer within 5 s the tests fail with an error that
//!    names the URL (password masked); they do *not* fall through to another server, because a
//!    `DATABASE_URL` that is set but wrong is a mistake worth hearing about. A `DATABASE_URL` with
//!    any other scheme (for example `sqlite:`) is ignored.
//! 2. **The local server** `postgres://postgres@127.0.0.1:5432/postgres`, if a connection succeeds
//!    within 2 s (a Debian/Ubuntu `postgresql` package with `trust` authentication on
//!    127.0.0.1, as `.ci/run` sets up).
//! 3. **A private throwaway cluster** started from the installed PostgreSQL binaries, found via
//!    `pg_config --bindir`, else the highest `/usr/lib/postgresql/<version>/bin`, else
//!    `/usr/local/pgsql/bin`, else any directory on `PATH` that holds both `initdb` and `pg_ctl`.
//!    Its directory is `<temp dir>/alliance-ledger-test-pg-<uid>` (`<temp dir>` is
//!    [`std::env::temp_dir`], i.e. `$TMPDIR` or `/tmp`), holding
//!    - `data/`: the cluster, made by `initdb --auth=trust -U postgres` (no locale, UTF-8) and
//!      configured for throwaway use (`fsync = off`, `synchronous_commit = off`,
//!      `full_page_writes = off`, 200 connections, listening on 127.0.0.1 only);
//!    - `port`: the TCP port it was started on (a free port, chosen at start);
//!    - `server.log`: the server's log;
//!    - `lock`: the lock file that serialises creation and start;
//!    - the server's unix socket (`.s.PGSQL.<port>`).
//!
//!    Several test processes may run at once (`cargo test` runs test binaries one after the
//!    other, `cargo nextest` runs one process per test, in parallel), so every process takes an
//!    exclusive lock on `lock` before it looks at the cluster; the first one creates and starts
//!    it, the others find it running (`pg_ctl status`), read `port` and reuse it. A cluster that
//!    exists but is stopped is started again on a fresh port; one that cannot be started (a
//!    different PostgreSQL major version, a damaged directory) is deleted and created anew.
//!
//!    PostgreSQL refuses to run as root. When the tests run as root, `initdb` and `pg_ctl` run as
//!    the OS user `postgres` (`runuser -u postgres -- …`) and the directory is given to that user
//!    (`chown -R postgres: DIR`); without a `postgres` user the harness fails with
//!    [`HarnessError::NoPostgresUser`].
//!
//!    **The cluster is left running** when the tests end, so that later test runs start in
//!    milliseconds instead of seconds. Stop it with
//!    `pg_ctl -D /tmp/alliance-ledger-test-pg-$(id -u)/data stop` (as root:
//!    `runuser -u postgres -- /usr/lib/postgresql/<version>/bin/pg_ctl -D /tmp/alliance-ledger-test-pg-0/data stop`);
//!    delete the directory to throw it away entirely.
//! 4. Otherwise the harness fails with [`HarnessError::NoPostgres`], which says how to install
//!    PostgreSQL.
//!
//! The environment variable **`ALLIANCE_LEDGER_TEST_PG=private`** skips steps 1 and 2 and always
//! uses the private cluster of step 3 (to test that step, or to keep the tests away from a
//! server that runs on 5432 for other purposes). Unset, empty or `auto` means the order above;
//! any other value is an error.
//!
//! The answer is memoised for the life of the process: the first call does the work, later calls
//! (from any test, on any tokio runtime) get the same URL, or the same error, at once.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection as _;
use tokio::process::Command;
use tokio::sync::OnceCell;

/// `postgres://` URL of the server the distribution's `postgresql` package runs by default.
const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Environment variable that selects the discovery mode (`private` forces step 3).
const MODE_VAR: &str = "ALLIANCE_LEDGER_TEST_PG";
/// How long a server named by `DATABASE_URL` gets to accept a connection.
const DATABASE_URL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the local server on 127.0.0.1:5432 gets to accept a connection.
const LOCAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a private cluster that runs (or has just been started) gets to accept connections.
const PRIVATE_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// `pg_ctl -t`: how long `pg_ctl start` waits for the server to come up.
const PG_CTL_WAIT_SECS: &str = "60";

const NO_POSTGRES_HELP: &str = "no PostgreSQL server for the integration tests: DATABASE_URL is \
unset (or not a postgres:// URL), nothing accepted a connection as user `postgres` on \
127.0.0.1:5432 without a password (or ALLIANCE_LEDGER_TEST_PG=private skipped both), and no \
PostgreSQL binaries (initdb, pg_ctl) were found via `pg_config --bindir`, \
/usr/lib/postgresql/*/bin, /usr/local/pgsql/bin or PATH to start a private one. Install \
PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`), or set \
DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE to any PostgreSQL server on which that \
user may CREATE DATABASE.";

/// Why no PostgreSQL server could be found or started for the tests.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HarnessError {
    /// `ALLIANCE_LEDGER_TEST_PG` has a value other than `private`, `auto` or empty.
    #[error(
        "ALLIANCE_LEDGER_TEST_PG={0:?} is not understood: use `private` to force a private \
         throwaway PostgreSQL cluster, or leave it unset"
    )]
    InvalidMode(String),

    /// `DATABASE_URL` starts with `postgres://` but cannot be parsed.
    #[error("DATABASE_URL={url} is not a valid PostgreSQL URL: {reason}")]
    InvalidDatabaseUrl {
        /// The URL, password masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// `DATABASE_URL` names a server that did not accept a connection.
    #[error(
        "cannot connect to the PostgreSQL server in DATABASE_URL={url}: {reason}. Start that \
         server or fix the URL (its role needs CREATEDB), or unset DATABASE_URL to let the tests \
         use the server on 127.0.0.1:5432 or a private throwaway cluster"
    )]
    DatabaseUrlUnreachable {
        /// The URL, password masked.
        url: String,
        /// Why the connection failed.
        reason: String,
    },

    /// No server to use and no PostgreSQL binaries to start one with.
    #[error("{}", NO_POSTGRES_HELP)]
    NoPostgres,

    /// Running as root (PostgreSQL refuses that) and there is no `postgres` OS user to run the
    /// private cluster as.
    #[error(
        "the tests run as root, and PostgreSQL refuses to run as root, so the private test \
         cluster in {dir} would run as the OS user `postgres`, but there is no such user. Create \
         it (installing the `postgresql` package does), run the tests as another user, or set \
         DATABASE_URL to a PostgreSQL server"
    )]
    NoPostgresUser {
        /// The directory the cluster would have lived in.
        dir: PathBuf,
    },

    /// Creating, starting or reaching the private cluster failed.
    #[error("private PostgreSQL test cluster in {dir}: {reason}")]
    PrivateCluster {
        /// The cluster's directory (`data/`, `server.log`, `port`, `lock` are inside).
        dir: PathBuf,
        /// What failed, with the output of the failing command where there was one.
        reason: String,
    },
}

/// A PostgreSQL server the test harness may create and drop databases on.
///
/// Returns a `postgres://` URL whose role may `CREATE DATABASE`; see the module documentation for
/// where it comes from (`DATABASE_URL`, 127.0.0.1:5432, or a private cluster it starts) and for
/// `ALLIANCE_LEDGER_TEST_PG`. Memoised per process, errors included.
pub async fn admin_url() -> Result<String, HarnessError> {
    static ADMIN_URL: OnceCell<Result<String, HarnessError>> = OnceCell::const_new();
    ADMIN_URL.get_or_init(discover).await.clone()
}

async fn discover() -> Result<String, HarnessError> {
    let mode = std::env::var(MODE_VAR).unwrap_or_default();
    match mode.trim() {
        "" | "auto" => {}
        "private" => return private_cluster().await,
        _ => return Err(HarnessError::InvalidMode(mode)),
    }

    // 1. DATABASE_URL, if it is a PostgreSQL URL; no falling through if it does not answer.
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                url.parse::<PgConnectOptions>()
                    .map_err(|e| HarnessError::InvalidDatabaseUrl {
                        url: mask_password(&url),
                        reason: e.to_string(),
                    })?;
            return match try_connect(&options, DATABASE_URL_TIMEOUT).await {
                Ok(()) => Ok(url),
                Err(reason) => Err(HarnessError::DatabaseUrlUnreachable {
                    url: mask_password(&url),
                    reason,
                }),
            };
        }
    }

    // 2. The distribution's server on 127.0.0.1:5432.
    let local = LOCAL_URL
        .parse::<PgConnectOptions>()
        .expect("LOCAL_URL is a valid URL");
    if try_connect(&local, LOCAL_TIMEOUT).await.is_ok() {
        return Ok(LOCAL_URL.to_owned());
    }

    // 3. and 4.
    private_cluster().await
}

/// Opens (and closes) one connection, giving up after `within`.
async fn try_connect(options: &PgConnectOptions, within: Duration) -> Result<(), String> {
    match tokio::time::timeout(within, PgConnection::connect_with(options)).await {
        Err(_) => Err(format!("no connection within {} s", within.as_secs())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            Ok(())
        }
    }
}

/// Tries to connect, again and again, until `url` answers or `within` has passed.
pub(crate) async fn wait_until_connectable(url: &str, within: Duration) -> Result<(), String> {
    let options = url.parse::<PgConnectOptions>().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + within;
    loop {
        let attempt = try_connect(&options, Duration::from_secs(2)).await;
        match attempt {
            Ok(()) => return Ok(()),
            Err(reason) if Instant::now() >= deadline => {
                return Err(format!(
                    "{url} accepted no connection within {} s; last error: {reason}",
                    within.as_secs()
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Replaces the password of a URL (`user:password@` and `password=` parameters) with `***`.
fn mask_password(url: &str) -> String {
    let mut masked = url.to_owned();
    if let Some(scheme_end) = masked.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = masked[authority_start..]
            .find(['/', '?', '#'])
            .map_or(masked.len(), |i| authority_start + i);
        if let Some(at) = masked[authority_start..authority_end].rfind('@') {
            let userinfo = &masked[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let password_start = authority_start + colon + 1;
                masked.replace_range(password_start..authority_start + at, "***");
            }
        }
    }
    if let Some(query_start) = masked.find('?') {
        let (base, query) = masked.split_at(query_start + 1);
        let query = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        masked = format!("{base}{query}");
    }
    masked
}

/// Step 3: the private cluster under `<temp dir>/alliance-ledger-test-pg-<uid>`.
async fn private_cluster() -> Result<String, HarnessError> {
    let bindir = find_bindir().await.ok_or(HarnessError::NoPostgres)?;
    let uid = current_uid().await;
    let dir = std::env::temp_dir().join(format!(
        "alliance-ledger-test-pg-{}",
        uid.map_or_else(|| "unknown".to_owned(), |u| u.to_string())
    ));
    let fail = |reason: String| HarnessError::PrivateCluster {
        dir: dir.clone(),
        reason,
    };
    let as_postgres = uid == Some(0);
    let server_uid = if as_postgres {
        match postgres_uid().await {
            Some(id) => Some(id),
            None => return Err(HarnessError::NoPostgresUser { dir: dir.clone() }),
        }
    } else {
        uid
    };

    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    // The name is predictable and the temp dir shared: only use a directory that belongs to us
    // (or, as root, to the postgres user that runs the server).
    let meta = std::fs::symlink_metadata(&dir).map_err(|e| fail(format!("cannot stat it: {e}")))?;
    if !meta.is_dir() {
        return Err(fail("it exists but is not a directory".to_owned()));
    }
    if Some(meta.uid()) != uid && Some(meta.uid()) != server_uid {
        return Err(fail(format!(
            "it belongs to uid {}, not to this user; remove it",
            meta.uid()
        )));
    }

    // Serialise with other test processes: one creates/starts the cluster, the others wait and
    // then find it running. The lock is released when `lock` is dropped (closed).
    let lock_path = dir.join("lock");
    let lock = tokio::task::spawn_blocking(move || {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| fail(format!("waiting for the lock failed: {e}")))?
    .map_err(|e| fail(format!("cannot lock {}/lock: {e}", dir.display())))?;

    let cluster = Cluster {
        bindir,
        data: dir.join("data"),
        dir: dir.clone(),
        as_postgres,
    };
    if as_postgres {
        cluster
            .run(Command::new("chown").arg("-R").arg("postgres:").arg(&dir))
            .await
            .map_err(fail)?;
    }
    let result = cluster.ensure_running().await.map_err(fail);
    drop(lock);
    result
}

/// The first directory that holds both `initdb` and `pg_ctl`, in the documented order.
pub(crate) async fn find_bindir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(output) = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .await
    {
        if output.status.success() {
            candidates.push(PathBuf::from(
                String::from_utf8_lossy(&output.stdout).trim(),
            ));
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let version = name.split('.').map(|p| p.parse().unwrap_or(0)).collect();
                (version, entry.path().join("bin"))
            })
            .collect();
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        candidates.extend(versions.into_iter().map(|(_, path)| path));
    }
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// The effective uid, from `/proc/self/status`, else from `id -u`.
pub(crate) async fn current_uid() -> Option<u32> {
    let from_proc = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1))
                .and_then(|id| id.parse().ok())
        });
    match from_proc {
        Some(uid) => Some(uid),
        None => id_u(None).await,
    }
}

/// The uid of the OS user `postgres`, if there is one.
pub(crate) async fn postgres_uid() -> Option<u32> {
    id_u(Some("postgres")).await
}

async fn id_u(user: Option<&str>) -> Option<u32> {
    let mut command = Command::new("id");
    command.arg("-u").args(user).stdin(Stdio::null());
    let output = command.output().await.ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// The private cluster; every method expects the caller to hold the lock.
struct Cluster {
    bindir: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    /// Run `initdb`/`pg_ctl` as the OS user `postgres` (because we are root).
    as_postgres: bool,
}

impl Cluster {
    async fn ensure_running(&self) -> Result<String, String> {
        if self.data.join("PG_VERSION").is_file() {
            if self.is_running().await {
                let port = self.recorded_port().ok_or_else(|| {
                    format!(
                        "the server runs but its port is recorded neither in {} nor in {}; stop \
                         it with `pg_ctl -D {} stop`",
                        self.dir.join("port").display(),
                        self.data.join("postmaster.pid").display(),
                        self.data.display()
                    )
                })?;
                let url = url_for(port);
                wait_until_connectable(&url, PRIVATE_READY_TIMEOUT)
                    .await
                    .map_err(|reason| {
                        format!(
                            "the server runs but does not answer: {reason}; stop it with \
                             `pg_ctl -D {} stop`",
                            self.data.display()
                        )
                    })?;
                return Ok(url);
            }
            match self.start().await {
                Ok(url) => return Ok(url),
                Err(reason) => eprintln!(
                    "alliance-ledger tests: the existing PostgreSQL test cluster in {} did not \
                     start ({reason}); creating it anew",
                    self.data.display()
                ),
            }
        }
        self.create().await?;
        self.start().await
    }

    /// `pg_ctl status`: exit code 0 means a server runs on this data directory.
    async fn is_running(&self) -> bool {
        let mut command = self.pg_command("pg_ctl");
        command.arg("status").arg("-D").arg(&self.data);
        matches!(command.output().await, Ok(output) if output.status.success())
    }

    /// The port in `port`, else the one in `data/postmaster.pid` (its fourth line).
    fn recorded_port(&self) -> Option<u16> {
        let from_file = std::fs::read_to_string(self.dir.join("port"))
            .ok()
            .and_then(|text| text.trim().parse().ok());
        from_file.or_else(|| {
            std::fs::read_to_string(self.data.join("postmaster.pid"))
                .ok()
                .and_then(|pid| pid.lines().nth(3).and_then(|p| p.trim().parse().ok()))
        })
    }

    /// Deletes whatever is in `data/` and runs `initdb` and the throwaway configuration.
    async fn create(&self) -> Result<(), String> {
        if self.data.exists() {
            std::fs::remove_dir_all(&self.data)
                .map_err(|e| format!("cannot remove {}: {e}", self.data.display()))?;
        }
        let _ = std::fs::remove_file(self.dir.join("port"));
        let mut initdb = self.pg_command("initdb");
        initdb
            .arg("-D")
            .arg(&self.data)
            .args(["--auth=trust", "-U", "postgres", "--no-locale"])
            .args(["--encoding=UTF8", "--no-sync"]);
        self.run(&mut initdb).await?;

        let mut settings = String::from(
            "\n# Throwaway test cluster of alliance-ledger (tests/src/pg_server.rs).\n\
             listen_addresses = '127.0.0.1'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 200\n",
        );
        let socket_dir = self.dir.to_string_lossy().replace('\'', "''");
        let _ = writeln!(settings, "unix_socket_directories = '{socket_dir}'");
        let conf = self.data.join("postgresql.conf");
        let mut file = OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|e| format!("cannot open {}: {e}", conf.display()))?;
        std::io::Write::write_all(&mut file, settings.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        Ok(())
    }

    /// `pg_ctl start` on a free port (three tries, in case another process takes the port
    /// between our choosing and the server binding it); records the port in `port`.
    async fn start(&self) -> Result<String, String> {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| format!("cannot find a free port: {e}"))?;
            let log = self.dir.join("server.log");
            let mut pg_ctl = self.pg_command("pg_ctl");
            pg_ctl
                .arg("start")
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", PG_CTL_WAIT_SECS, "-o"])
                .arg(format!("-p {port}"));
            if let Err(reason) = self.run(&mut pg_ctl).await {
                last_error = format!("{reason}\nlast lines of {}:\n{}", log.display(), tail(&log));
                continue;
            }
            let port_file = self.dir.join("port");
            std::fs::write(&port_file, format!("{port}\n"))
                .map_err(|e| format!("cannot write {}: {e}", port_file.display()))?;
            let url = url_for(port);
            wait_until_connectable(&url, PRIVATE_READY_TIMEOUT).await?;
            eprintln!(
                "alliance-ledger tests: started a private PostgreSQL cluster at {url} (data in {}, \
                 left running for later runs; stop it with `pg_ctl -D {} stop`)",
                self.data.display(),
                self.data.display()
            );
            return Ok(url);
        }
        Err(last_error)
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
        command.current_dir(&self.dir).stdin(Stdio::null());
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

pub(crate) fn url_for(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The last 20 lines of a (log) file, or a note that it cannot be read.
pub(crate) fn tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("postgres://alice:s3cr:et@db.example:5432/ledger?sslmode=require"),
            "postgres://alice:***@db.example:5432/ledger?sslmode=require"
        );
        assert_eq!(
            mask_password("postgresql://db/ledger?user=bob&password=hunter2&sslmode=disable"),
            "postgresql://db/ledger?user=bob&password=***&sslmode=disable"
        );
        assert_eq!(
            mask_password("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
    }

    /// Checks the discovered server by hand, e.g. the private cluster:
    /// `ALLIANCE_LEDGER_TEST_PG=private cargo test -p tests --lib -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "starts or uses a PostgreSQL server; run by hand"]
    async fn admin_url_answers_select_1() {
        let started = Instant::now();
        let url = admin_url().await.unwrap_or_else(|e| panic!("{e}"));
        eprintln!("admin_url() = {url} after {:?}", started.elapsed());
        let options = url.parse::<PgConnectOptions>().expect("a valid URL");
        let mut connection = PgConnection::connect_with(&options).await.expect("connect");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut connection)
            .await
            .expect("SELECT 1");
        assert_eq!(one, 1);
        assert_eq!(admin_url().await.expect("memoised"), url);
    }
}
