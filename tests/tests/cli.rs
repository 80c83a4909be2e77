//! The command line as a newcomer meets it: defaults, help, tokens, and clear errors.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::{cli, ledger_binary, Backend, TestDb};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_explains_every_command() {
    let out = cli(None, &["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for word in [
        "serve",
        "migrate",
        "token",
        "export",
        "--database-url",
        "DATABASE_URL",
    ] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
    let out = cli(None, &["token", "create", "--help"]);
    assert!(stdout(&out).contains("secretary"));
}

#[test]
fn unsupported_and_unreachable_databases_are_named_not_panicked() {
    let out = cli(
        None,
        &["--database-url", "mysql://root@localhost/x", "migrate"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not supported"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));

    let out = cli(
        None,
        &[
            "--database-url",
            "postgres://ledger:geheim@127.0.0.1:1/x",
            "migrate",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot reach the database"), "{err}");
    assert!(
        !err.contains("geheim"),
        "the password is never printed: {err}"
    );
    assert!(!err.contains("panicked"));
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked() {
    let t = TestDb::new(Backend::Sqlite).await;
    let out = cli(
        Some(&t),
        &[
            "token",
            "create",
            "--actor",
            "Sanne",
            "--role",
            "secretary",
            "--organisation",
            "Gemeente Dordrecht",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_owned();
    assert!(secret.starts_with("alt_") && secret.len() > 40);
    let principal = t.db.authenticate(&secret).await.expect("lookup");
    assert_eq!(principal.map(|p| p.actor), Some("Sanne".to_owned()));

    let out = cli(Some(&t), &["token", "list"]);
    let listing = stdout(&out);
    assert!(listing.contains("Sanne") && listing.contains("secretary"));
    assert!(!listing.contains(&secret), "the list never shows a secret");
    let id = listing
        .lines()
        .find(|l| l.contains("Sanne"))
        .and_then(|l| l.split('\t').next())
        .expect("an id column")
        .to_owned();

    let out = cli(Some(&t), &["token", "revoke", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(t.db.authenticate(&secret).await.expect("lookup"), None);

    let out = cli(
        Some(&t),
        &["token", "create", "--actor", "X", "--role", "chair"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("admin, secretary, partner, rijk or auditor"));
    let out = cli(
        Some(&t),
        &[
            "token",
            "create",
            "--actor",
            "Woonbedrijf",
            "--role",
            "partner",
        ],
    );
    assert!(
        !out.status.success(),
        "a partner token names its organisation"
    );
    assert!(stderr(&out).contains("organisation"), "{}", stderr(&out));
    let out = cli(
        Some(&t),
        &["token", "revoke", "6f0c1f4e-0000-4000-8000-00000000dead"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no token with id"));
}

#[tokio::test]
async fn with_no_arguments_it_serves_sqlite_in_the_working_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(ledger_binary())
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("ALLIANCE_LEDGER_LISTEN", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await {
            break r.text().await.expect("body");
        }
        assert!(Instant::now() < deadline, "the ledger did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(body.contains("SQLite"), "{body}");
    assert!(dir.path().join("alliance-ledger.db").exists());

    // A second ledger on the same port says so instead of panicking.
    let out = Command::new(ledger_binary())
        .current_dir(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .output()
        .expect("run");
    let _ = child.kill();
    let _ = child.wait();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already in use"), "{}", stderr(&out));
}

/// The options of a `--help` text: each option's name (without `--`) and its whole text.
fn options_of(help: &str) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let flag = trimmed
            .split_once(", ")
            .filter(|(short, _)| short.starts_with('-') && short.len() == 2)
            .map_or(trimmed, |(_, long)| long);
        match flag.strip_prefix("--") {
            Some(rest) if line.starts_with("  ") => {
                let name = rest.split([' ', '<']).next().unwrap_or_default();
                options.push((name.to_owned(), trimmed.to_owned()));
            }
            _ => {
                if let Some((_, text)) = options.last_mut() {
                    text.push(' ');
                    text.push_str(line.trim());
                }
            }
        }
    }
    options
}

#[test]
fn serve_help_names_the_variable_of_every_option_and_hides_secrets() {
    let out = Command::new(ledger_binary())
        .env_remove("DATABASE_URL")
        .env("ALLIANCE_LEDGER_METRICS_TOKEN", "scrape-secret")
        .env(
            "ALLIANCE_LEDGER_DATABASE_URL",
            "postgres://ledger:geheim@db.example/ledger",
        )
        .args(["serve", "--help"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    let options = options_of(&help);
    for (name, text) in &options {
        if name == "help" || name == "version" {
            continue;
        }
        let variable = format!(
            "ALLIANCE_LEDGER_{}",
            name.to_ascii_uppercase().replace('-', "_")
        );
        assert!(
            text.contains(&format!("[env: {variable}="))
                || text.contains(&format!("[env: {variable}]")),
            "--{name} names its variable {variable}: {text}"
        );
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "database-url",
        "listen",
        "demo",
        "public-read",
        "log-format",
        "log",
        "max-query-depth",
        "max-query-complexity",
        "max-page-size",
        "max-body-bytes",
        "request-timeout-secs",
        "snapshot-every-events",
        "snapshot-interval-secs",
        "snapshot-on-shutdown",
        "snapshot-keep",
        "ignore-snapshots",
        "metrics-token",
    ] {
        assert!(
            names.contains(&expected),
            "serve --help lists --{expected}:\n{help}"
        );
    }
    assert!(
        !help.contains("scrape-secret"),
        "the metrics token is never shown"
    );
    assert!(
        !help.contains("geheim"),
        "the database password is never shown"
    );
}

#[test]
fn bad_log_options_are_refused_by_name() {
    let out = cli(None, &["--log", "info,api=loud", "migrate"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a log filter"),
        "{}",
        stderr(&out)
    );
    let out = cli(None, &["serve", "--log-format", "yaml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("text") && err.contains("json"), "{err}");
}

#[test]
fn the_database_is_named_by_its_variable_before_database_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ours = dir.path().join("ours.db");
    let theirs = dir.path().join("theirs.db");
    let migrate = |variables: &[(&str, String)]| {
        let mut command = Command::new(ledger_binary());
        command
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("ALLIANCE_LEDGER_DATABASE_URL");
        for (name, value) in variables {
            command.env(name, value);
        }
        let out = command.arg("migrate").output().expect("run");
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let url = |path: &std::path::Path| format!("sqlite://{}", path.display());
    migrate(&[
        ("ALLIANCE_LEDGER_DATABASE_URL", url(&ours)),
        ("DATABASE_URL", url(&theirs)),
    ]);
    assert!(ours.exists() && !theirs.exists());
    migrate(&[("DATABASE_URL", url(&theirs))]);
    assert!(theirs.exists());
    assert!(!dir.path().join("alliance-ledger.db").exists());
}
