use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{GraphqlClient, TestDb};

/// The ledger's own binary, built by cargo beside this crate's test executables (which live in
/// `target/<profile>/deps`) whenever this crate's integration tests are built.
pub fn ledger_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables live in target/<profile>/deps");
    let binary = profile_dir.join(format!("ledger-under-test{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run the tests with cargo, which builds it",
        binary.display()
    );
    binary
}

/// Runs the ledger's command line with `args` (after `--database-url` when `db` is given) and
/// waits for it.
pub fn cli(db: Option<&TestDb>, args: &[&str]) -> Output {
    let mut command = Command::new(ledger_binary());
    command.env_remove("DATABASE_URL");
    if let Some(db) = db {
        command.arg("--database-url").arg(db.url.expose());
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the ledger binary")
}

/// A ledger server running as its own process, as in production.
#[derive(Debug)]
pub struct LedgerProcess {
    child: Child,
    pub port: u16,
    /// The server's standard error.
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl LedgerProcess {
    /// Starts `serve` on `db` and waits until `/healthz` answers.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, &[], &[]).await
    }

    /// Starts `serve` on `db` with `args` after `serve --listen ...` (e.g.
    /// `["--signing-key-file", path]`) and `env` set in its environment (after `RUST_LOG=warn`,
    /// which it may override), and waits until `/healthz` answers. Panics with the server's log
    /// when it exits before that.
    pub async fn start_with(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log_dir = tempfile::tempdir().expect("a folder for the server's log");
        let log = log_dir.path().join("server.log");
        let child = Command::new(ledger_binary())
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .arg("--database-url")
            .arg(db.url.expose())
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("create the server's log file"))
            .spawn()
            .expect("start the ledger binary");
        let mut process = Self {
            child,
            port,
            log,
            _log_dir: log_dir,
        };
        let client = process.client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/healthz", client.base())).await {
                if response.status().is_success() {
                    return process;
                }
            }
            if let Ok(Some(exit)) = process.child.try_wait() {
                panic!("the ledger exited with {exit}:\n{}", process.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "the ledger did not start in 30 s:\n{}",
                process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn client(&self) -> GraphqlClient {
        GraphqlClient::new(format!("http://127.0.0.1:{}", self.port))
    }

    /// What the server wrote to standard error so far: its log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Asks the server to stop as an operator does (SIGTERM), waits until it has, and returns
    /// how it exited. Its log stays readable.
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {}", self.child.id());
        self.child.wait().expect("wait for the ledger to stop")
    }

    /// Kills the server at once (SIGKILL): no shutdown, no flushing, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LedgerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
