//! The audit trail as an auditor meets it: the Dordt West demo hashed and signed, verified clean
//! through `alliance-ledger verify` (on the database, and offline on an export); then the tamper
//! drill: with the append-only protection lifted as a superuser would, one byte of one payload
//! changed, one event deleted, two events' positions swapped, a forged event inserted. Each is
//! caught, and the failure names the position.

use std::path::Path;

use audit::CheckpointVerifier;
use projections::notary::{CheckpointPolicy, Notary};
use sqlx::Row;
use store::Database;
use tests::{cli, on_both_backends, TestDb};

/// The position every tamper aims at: a decision of the demo, well inside the first checkpoint.
const TARGET: i64 = 40;

struct Signed {
    public_key: String,
    key_dir: tempfile::TempDir,
}

/// Records the demo, hashes it and signs a checkpoint of it with a new key.
async fn signed_demo(t: &TestDb) -> Signed {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    let key_dir = tempfile::tempdir().expect("a folder");
    let key_file = key_dir.path().join("signing.key");
    let public_key = alliance_ledger::trail::generate_key("dordt-west.alliance-ledger", &key_file)
        .expect("a key");
    let signer = alliance_ledger::trail::read_signing_key(&key_file).expect("the key");
    let verifier = CheckpointVerifier::new(&public_key).expect("the public key");
    let (mut notary, trail) = Notary::start(
        t.db.clone(),
        Some(signer),
        Some(verifier),
        CheckpointPolicy::default(),
    )
    .await
    .expect("start the notary");
    notary.catch_up().await.expect("hash the log");
    notary
        .sign_if_due(true)
        .await
        .expect("sign")
        .expect("a checkpoint");
    let head = t.db.head().await.expect("head");
    assert_eq!(trail.read().await.tree().size(), head as u64);
    assert!(head > TARGET + 5, "the demo is long enough for the drill");
    Signed {
        public_key,
        key_dir,
    }
}

fn verify(t: &TestDb, public_key: &str) -> (bool, String, String) {
    let out = cli(Some(t), &["verify", "--public-key", public_key]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs SQL as a superuser who lifted the log's append-only protection.
async fn as_superuser(db: &Database, statements: &[String]) {
    match db {
        Database::Postgres(pool) => {
            let mut conn = pool.acquire().await.expect("a connection");
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut *conn)
                .await
                .expect("lift the triggers");
            for sql in statements {
                sqlx::query(sql).execute(&mut *conn).await.expect(sql);
            }
            sqlx::query("SET session_replication_role = origin")
                .execute(&mut *conn)
                .await
                .expect("restore the triggers");
        }
        Database::Sqlite(pool) => {
            for trigger in ["events_no_update", "events_no_delete", "events_in_order"] {
                sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                    .execute(pool)
                    .await
                    .expect("lift the triggers");
            }
            for sql in statements {
                sqlx::query(sql).execute(pool).await.expect(sql);
            }
        }
    }
}

/// The payload of the event at `position`, as text.
async fn payload_text(db: &Database, position: i64) -> String {
    let sql = match db {
        Database::Postgres(_) => "SELECT payload::text AS p FROM events WHERE position = $1",
        Database::Sqlite(_) => "SELECT payload AS p FROM events WHERE position = $1",
    };
    match db {
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(position)
            .fetch_one(pool)
            .await
            .expect("the event")
            .get("p"),
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(position)
            .fetch_one(pool)
            .await
            .expect("the event")
            .get("p"),
    }
}

/// The payload with one letter inside its first string value changed: still valid JSON.
fn one_byte_changed(payload: &str) -> String {
    let start = payload
        .match_indices(':')
        .find_map(|(i, _)| {
            let rest = &payload[i + 1..];
            let value = rest.trim_start();
            value
                .starts_with('"')
                .then(|| i + 1 + (rest.len() - value.len()) + 1)
        })
        .expect("a string value");
    let offset = payload[start..]
        .find(|c: char| c.is_ascii_lowercase())
        .expect("a letter");
    let mut bytes = payload.as_bytes().to_vec();
    let i = start + offset;
    bytes[i] = if bytes[i] == b'x' { b'y' } else { b'x' };
    let changed = String::from_utf8(bytes).expect("UTF-8");
    serde_json::from_str::<serde_json::Value>(&changed).expect("still JSON");
    changed
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn assert_fails_at(result: (bool, String, String), position: i64, what: &str) {
    let (ok, stdout, stderr) = result;
    assert!(!ok, "verify must fail after {what}: {stdout}{stderr}");
    assert!(
        stderr.contains(&format!("verification FAILED at position {position}:")),
        "verify names position {position} after {what}: {stderr}"
    );
}

async fn an_untampered_ledger_verifies_clean(t: TestDb) {
    let signed = signed_demo(&t).await;
    let (ok, stdout, stderr) = verify(&t, &signed.public_key);
    assert!(ok, "{stdout}{stderr}");
    let head = t.db.head().await.expect("head");
    assert!(
        stdout.contains(&format!(
            "verified: {head} events, 1 checkpoints; the newest covers {head} events"
        )),
        "{stdout}"
    );
    // Another key's checkpoints are not the ledger's.
    let other = tempfile::tempdir().expect("a folder");
    let other_key =
        alliance_ledger::trail::generate_key("dordt-west.alliance-ledger", &other.path().join("k"))
            .expect("a key");
    let (ok, _, stderr) = verify(&t, &other_key);
    assert!(!ok, "a checkpoint does not verify under another key");
    assert!(stderr.contains("signature"), "{stderr}");
    drop(signed.key_dir);
}

async fn a_changed_byte_is_caught(t: TestDb) {
    let signed = signed_demo(&t).await;
    let changed = one_byte_changed(&payload_text(&t.db, TARGET).await);
    let cast = match t.db {
        Database::Postgres(_) => "::json",
        Database::Sqlite(_) => "",
    };
    as_superuser(
        &t.db,
        &[format!(
            "UPDATE events SET payload = {}{cast} WHERE position = {TARGET}",
            quoted(&changed)
        )],
    )
    .await;
    assert_fails_at(verify(&t, &signed.public_key), TARGET, "changing one byte");
}

async fn a_deleted_event_is_caught(t: TestDb) {
    let signed = signed_demo(&t).await;
    as_superuser(
        &t.db,
        &[format!("DELETE FROM events WHERE position = {TARGET}")],
    )
    .await;
    let result = verify(&t, &signed.public_key);
    assert!(result.2.contains("missing"), "{}", result.2);
    assert_fails_at(result, TARGET, "deleting an event");
}

async fn swapped_positions_are_caught(t: TestDb) {
    let signed = signed_demo(&t).await;
    let (a, b) = (TARGET, TARGET + 1);
    as_superuser(
        &t.db,
        &[
            format!("UPDATE events SET position = 1000000 WHERE position = {a}"),
            format!("UPDATE events SET position = {a} WHERE position = {b}"),
            format!("UPDATE events SET position = {b} WHERE position = 1000000"),
        ],
    )
    .await;
    assert_fails_at(
        verify(&t, &signed.public_key),
        TARGET,
        "swapping two events",
    );
}

async fn a_forged_event_is_caught(t: TestDb) {
    let signed = signed_demo(&t).await;
    let head = t.db.head().await.expect("head");
    // Make room at TARGET by moving every later event up one, then put the forgery there: a
    // copy of the event at TARGET under a new aggregate id, with its payload changed.
    let mut statements = vec![
        format!("UPDATE events SET position = position + 1000000 WHERE position >= {TARGET}"),
        format!(
            "UPDATE events SET position = position - 999999 WHERE position >= 1000000 AND position <= {}",
            head + 1_000_000
        ),
    ];
    let payload = one_byte_changed(&payload_text(&t.db, TARGET + 1).await);
    let (cast, time) = match t.db {
        Database::Postgres(_) => ("::json", "recorded_at"),
        Database::Sqlite(_) => ("", "recorded_at"),
    };
    statements.push(format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata, position, recorded_at) \
         SELECT aggregate_type, 'vervalst', 1, event_type, event_version, {}{cast}, metadata, \
         {TARGET}, {time} FROM events WHERE position = {}",
        quoted(&payload),
        TARGET + 1
    ));
    as_superuser(&t.db, &statements).await;
    assert_fails_at(
        verify(&t, &signed.public_key),
        TARGET,
        "inserting a forged event",
    );
}

async fn an_export_verifies_offline_and_a_changed_export_does_not(t: TestDb) {
    let signed = signed_demo(&t).await;
    let dir = tempfile::tempdir().expect("a folder");
    let export = dir.path().join("ledger.jsonl");
    let out = cli(
        Some(&t),
        &["export", "--output", export.to_str().expect("a path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checkpoints = alliance_ledger::trail::checkpoints_path(&export);
    assert!(
        checkpoints.exists(),
        "the checkpoints are written beside the events"
    );
    let public_key_file = dir.path().join("dordt-west.pub");
    std::fs::write(&public_key_file, &signed.public_key).expect("write the public key");

    let offline = |export: &Path| {
        // No --database-url: the verifier needs neither server nor database.
        let out = cli(
            None,
            &[
                "verify",
                "--export",
                export.to_str().expect("a path"),
                "--checkpoint",
                checkpoints.to_str().expect("a path"),
                "--public-key",
                public_key_file.to_str().expect("a path"),
            ],
        );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = offline(&export);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("verified:"), "{stdout}");

    // The same export with one event's payload changed by a byte.
    let text = std::fs::read_to_string(&export).expect("the export");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut event: serde_json::Value =
        serde_json::from_str(&lines[TARGET as usize - 1]).expect("json");
    let payload = one_byte_changed(&event["payload"].to_string());
    event["payload"] = serde_json::from_str(&payload).expect("json");
    lines[TARGET as usize - 1] = event.to_string();
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, lines.join("\n") + "\n").expect("write");
    assert_fails_at(offline(&tampered), TARGET, "changing an exported event");
}

on_both_backends!(
    an_untampered_ledger_verifies_clean,
    a_changed_byte_is_caught,
    a_deleted_event_is_caught,
    swapped_positions_are_caught,
    a_forged_event_is_caught,
    an_export_verifies_offline_and_a_changed_export_does_not,
);
