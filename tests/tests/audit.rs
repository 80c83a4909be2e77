//! The audit trail as an auditor meets it: the Dordt West demo hashed and signed, verified clean
//! through `alliance-ledger verify` (on the database, and offline on an export); then the tamper
//! drill: with the append-only protection lifted as a superuser would, one byte of one payload
//! changed, one event deleted, two events' positions swapped, a forged event inserted. Each is
//! caught, and the failure names the position.
//!
//! Then the running server, as its own process with a signing key: checkpoints every N events and
//! at a graceful stop, proofs fetched over GraphQL and checked with nothing but the `audit` crate
//! and the public key, a restart that carries the trail on; and the command line around it (key
//! generation, exports up to a position, offline verification refusing what it cannot trust).

use std::path::{Path, PathBuf};
use std::process::Command;

use audit::{CheckpointSigner, CheckpointVerifier, Hash, LeafEvent, SignedCheckpoint};
use domain::access::Role;
use domain::decision::{Decision, DecisionCommand, ProposeDecision};
use domain::ids::{DecisionId, ProgrammeId};
use projections::notary::{CheckpointPolicy, Notary};
use serde_json::{json, Value};
use sqlx::Row;
use store::{CommandBus, CommandContext, Database};
use tests::{cli, ledger_binary, on_both_backends, Backend, GraphqlClient, LedgerProcess, TestDb};
use uuid::Uuid;

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

// The running server, as an auditor meets it over GraphQL.

/// Every how many events the servers below sign a checkpoint.
const EVERY: i64 = 10;

const ORIGIN: &str = "dordt-west.alliance-ledger";

const CHECKPOINT: &str =
    "query($size: Int) { checkpoint(treeSize: $size) { origin treeSize rootHash signedAt note } }";
const INCLUSION: &str = "query($position: Int!, $size: Int) { inclusionProof(position: $position, \
     treeSize: $size) { position treeSize leafHash rootHash path } }";
const CONSISTENCY: &str = "query($from: Int!, $to: Int) { consistencyProof(from: $from, to: $to) \
     { from to fromRoot toRoot path } }";
const EVENTS: &str = "{ events(after: 0, first: 1000) { position recordedAt aggregateType \
     aggregateId sequence eventType eventVersion payload metadata leafHash } }";
const PROPOSE: &str = "mutation($title: String!) { proposeDecision(input: { programmeId: \
     \"dordt-west\", title: $title }) { id } }";

/// A signing key made with `alliance-ledger key generate`, as an operator makes it.
struct Key {
    _dir: tempfile::TempDir,
    file: PathBuf,
    /// What `key generate` printed for publication.
    public_key: String,
}

impl Key {
    fn generate() -> Self {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("signing.key");
        let out = cli(
            None,
            &[
                "key",
                "generate",
                "--name",
                ORIGIN,
                "--output",
                file.to_str().expect("a path"),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        Self {
            _dir: dir,
            file,
            public_key: text(&out.stdout).trim().to_owned(),
        }
    }

    fn path(&self) -> &str {
        self.file.to_str().expect("a path")
    }

    fn verifier(&self) -> CheckpointVerifier {
        CheckpointVerifier::new(&self.public_key).expect("the published key")
    }

    fn signer(&self) -> CheckpointSigner {
        alliance_ledger::trail::read_signing_key(&self.file).expect("the signing key")
    }

    fn private_text(&self) -> String {
        std::fs::read_to_string(&self.file)
            .expect("the key file")
            .trim()
            .to_owned()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hash(value: &Value) -> Hash {
    audit::hash_from_base64(value.as_str().expect("a hash as text")).expect("a base64 hash")
}

fn hashes(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("a list of hashes")
        .iter()
        .map(hash)
        .collect()
}

/// Starts the real binary on `t` signing with `key`, every [`EVERY`] events and (in practice)
/// never by time, so that the checkpoints fall where the test expects them.
async fn signing_server(t: &TestDb, key: &Key) -> LedgerProcess {
    let every = EVERY.to_string();
    LedgerProcess::start_with(
        t,
        &[
            "--checkpoint-every-events",
            &every,
            "--checkpoint-interval-secs",
            "3600",
        ],
        &[
            ("RUST_LOG", "info"),
            ("ALLIANCE_LEDGER_SIGNING_KEY_FILE", key.path()),
        ],
    )
    .await
}

/// The size of the server's tree (every event it hashed so far).
async fn tree_size(auditor: &GraphqlClient) -> i64 {
    let data = auditor
        .query(CONSISTENCY, json!({ "from": 1 }))
        .await
        .expect_ok();
    data["consistencyProof"]["to"]
        .as_i64()
        .expect("a tree size")
}

/// Waits until the server's tree holds the whole log.
async fn tree_reaches_head(t: &TestDb, auditor: &GraphqlClient) -> i64 {
    let head = t.db.head().await.expect("head");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tree_size(auditor).await != head {
        assert!(
            std::time::Instant::now() < deadline,
            "the server's tree reaches the head ({head}) within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    head
}

/// Records `n` proposals through the API, one event each, waiting after each until the server's
/// tree holds it, so that checkpoints fall exactly every [`EVERY`] events.
async fn record(t: &TestDb, recorder: &GraphqlClient, auditor: &GraphqlClient, n: usize) {
    for i in 0..n {
        let before = t.db.head().await.expect("head");
        recorder
            .query(PROPOSE, json!({ "title": format!("Besluit {before}-{i}") }))
            .await
            .expect_ok();
        assert_eq!(tree_reaches_head(t, auditor).await, before + 1, "one event");
    }
}

/// The tree sizes of the checkpoints stored in the database.
async fn stored_sizes(t: &TestDb) -> Vec<i64> {
    t.db.checkpoints(None)
        .await
        .expect("the checkpoints")
        .iter()
        .map(|c| c.tree_size)
        .collect()
}

/// Waits until the stored checkpoints are those of `sizes`: a running server signs just after
/// its tree took in the event that made a checkpoint due.
async fn signed_at(t: &TestDb, sizes: &[i64]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stored = stored_sizes(t).await;
        if stored == sizes {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "checkpoints of {sizes:?} within 10 s; stored: {stored:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The checkpoint of `size` (the newest when `None`) as the API serves it, checked with the
/// public key alone: the signed note verifies and says what the other fields say.
async fn fetch_checkpoint(
    auditor: &GraphqlClient,
    key: &Key,
    size: Option<i64>,
) -> SignedCheckpoint {
    let data = auditor
        .query(CHECKPOINT, json!({ "size": size }))
        .await
        .expect_ok();
    let served = &data["checkpoint"];
    assert!(served.is_object(), "a checkpoint of size {size:?}: {data}");
    let note = served["note"].as_str().expect("the note");
    let checked = key
        .verifier()
        .verify(note)
        .expect("the served note verifies with the published key");
    assert_eq!(served["origin"], ORIGIN);
    assert_eq!(served["treeSize"].as_i64(), Some(checked.size as i64));
    assert_eq!(hash(&served["rootHash"]), checked.root);
    if let Some(size) = size {
        assert_eq!(checked.size as i64, size);
    }
    checked
}

/// The leaf hash of an event as the API serves it, computed by the auditor from its fields.
fn leaf_of_served(event: &Value) -> Hash {
    let recorded_at =
        chrono::DateTime::parse_from_rfc3339(event["recordedAt"].as_str().expect("recordedAt"))
            .expect("an RFC 3339 time")
            .with_timezone(&chrono::Utc);
    let field = |name: &str| event[name].as_str().expect(name).to_owned();
    let (aggregate_type, aggregate_id) = (field("aggregateType"), field("aggregateId"));
    let (event_type, event_version) = (field("eventType"), field("eventVersion"));
    LeafEvent {
        position: event["position"].as_i64().expect("position"),
        recorded_at,
        aggregate_type: &aggregate_type,
        aggregate_id: &aggregate_id,
        sequence: event["sequence"].as_i64().expect("sequence"),
        event_type: &event_type,
        event_version: &event_version,
        payload: &event["payload"],
        metadata: &event["metadata"],
    }
    .leaf_hash()
}

/// Fetches the inclusion proof of `position` in the tree of `checkpoint` and checks it against
/// the checkpoint's signed root; returns the proof's leaf hash.
async fn prove_inclusion(
    auditor: &GraphqlClient,
    position: i64,
    checkpoint: &SignedCheckpoint,
) -> Hash {
    let size = checkpoint.size as i64;
    let data = auditor
        .query(INCLUSION, json!({ "position": position, "size": size }))
        .await
        .expect_ok();
    let proof = &data["inclusionProof"];
    assert_eq!(proof["position"].as_i64(), Some(position));
    assert_eq!(proof["treeSize"].as_i64(), Some(size));
    assert_eq!(hash(&proof["rootHash"]), checkpoint.root);
    let leaf = hash(&proof["leafHash"]);
    let path = hashes(&proof["path"]);
    let index = position as u64 - 1;
    assert_eq!(
        audit::verify_inclusion(&path, index, checkpoint.size, leaf, checkpoint.root),
        Ok(()),
        "the proof of position {position} in {size} verifies"
    );
    // The same path proves no other leaf at that place, nor this leaf at another.
    let other =
        audit::hash_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").expect("a hash");
    assert!(
        audit::verify_inclusion(&path, index, checkpoint.size, other, checkpoint.root).is_err()
    );
    let elsewhere = (index + 1) % checkpoint.size;
    assert!(
        audit::verify_inclusion(&path, elsewhere, checkpoint.size, leaf, checkpoint.root).is_err()
    );
    leaf
}

/// Fetches the consistency proof from `old` to `new` (to the whole tree when `to` is `None`) and
/// checks it against both checkpoints' signed roots.
async fn prove_consistency(
    auditor: &GraphqlClient,
    old: &SignedCheckpoint,
    new: &SignedCheckpoint,
    to: Option<i64>,
) {
    let data = auditor
        .query(CONSISTENCY, json!({ "from": old.size, "to": to }))
        .await
        .expect_ok();
    let proof = &data["consistencyProof"];
    assert_eq!(proof["from"].as_u64(), Some(old.size));
    assert_eq!(proof["to"].as_u64(), Some(new.size));
    assert_eq!(hash(&proof["fromRoot"]), old.root);
    assert_eq!(hash(&proof["toRoot"]), new.root);
    let path = hashes(&proof["path"]);
    assert_eq!(
        audit::verify_consistency(&path, old.size, old.root, new.size, new.root),
        Ok(()),
        "the log of {} events extends the checkpoint of {}",
        new.size,
        old.size
    );
    if old.size != new.size {
        let mut wrong = old.root;
        wrong.0[0] ^= 1;
        assert!(
            audit::verify_consistency(&path, old.size, wrong, new.size, new.root).is_err(),
            "a different old history is not proved"
        );
    }
}

async fn a_running_server_signs_checkpoints_whose_proofs_verify_offline(t: TestDb) {
    t.with_programme().await;
    let key = Key::generate();
    let auditor = t
        .token(
            "Ahmed El Amrani",
            Role::Auditor,
            Some("Rekenkamer Dordrecht"),
        )
        .await;
    let secretary = t.token("Sanne de Vries", Role::Secretary, None).await;

    let server = signing_server(&t, &key).await;
    let auditor = server.client().with_token(&auditor);
    let recorder = server.client().with_token(&secretary);
    assert_eq!(tree_reaches_head(&t, &auditor).await, 3);
    let none = auditor.query(CHECKPOINT, json!({})).await.expect_ok();
    assert_eq!(none["checkpoint"], Value::Null, "3 events: none due yet");

    record(&t, &recorder, &auditor, 22).await;
    assert_eq!(t.db.head().await.expect("head"), 25);
    assert_eq!(
        stored_sizes(&t).await,
        [EVERY, 2 * EVERY],
        "a checkpoint every {EVERY} events"
    );

    // The auditor keeps the older checkpoint's note, as from the minutes.
    let newest = fetch_checkpoint(&auditor, &key, None).await;
    assert_eq!(newest.size, 20);
    let held = fetch_checkpoint(&auditor, &key, Some(EVERY)).await;
    let absent = auditor
        .query(CHECKPOINT, json!({ "size": 15 }))
        .await
        .expect_ok();
    assert_eq!(absent["checkpoint"], Value::Null, "none was signed at 15");

    // Every event's leaf hash, as served and as the auditor computes it from the event.
    let events = auditor.query(EVENTS, json!({})).await.expect_ok()["events"].clone();
    let events = events.as_array().expect("the events").clone();
    assert_eq!(events.len(), 25);
    for event in &events {
        assert_eq!(
            hash(&event["leafHash"]),
            leaf_of_served(event),
            "the leaf hash of position {}",
            event["position"]
        );
    }
    for position in [1, 7, 10, 16, 20] {
        let leaf = prove_inclusion(&auditor, position, &newest).await;
        assert_eq!(
            leaf,
            hash(&events[position as usize - 1]["leafHash"]),
            "the proof's leaf is the event's leaf hash"
        );
    }
    for position in [3, 10] {
        prove_inclusion(&auditor, position, &held).await;
    }
    prove_consistency(&auditor, &held, &newest, Some(20)).await;

    // A graceful stop signs the events since the last checkpoint.
    let mut server = server;
    let exit = server.terminate();
    assert!(exit.success(), "a clean stop: {exit}");
    assert_eq!(stored_sizes(&t).await, [10, 20, 25], "a last checkpoint");
    let log = server.log_text();
    assert!(
        log.contains(&key.public_key),
        "the log names the key it signs with"
    );
    assert!(
        !log.contains(&key.private_text()),
        "the signing key is never logged"
    );
    drop(server);

    // A restart loads the trail: the tree holds the whole log, the old checkpoints still verify,
    // and the log of today extends the checkpoint the auditor held.
    let mut server = signing_server(&t, &key).await;
    let auditor = server
        .client()
        .with_token(&t.token("Auditor 2", Role::Auditor, None).await);
    assert_eq!(tree_size(&auditor).await, 25, "the tree equals the head");
    let at_stop = fetch_checkpoint(&auditor, &key, None).await;
    assert_eq!(at_stop.size, 25);
    for size in [10, 20] {
        fetch_checkpoint(&auditor, &key, Some(size)).await;
    }
    prove_consistency(&auditor, &held, &at_stop, None).await;

    // ... and carries on: ten more events, the next checkpoint.
    let recorder = server.client().with_token(&secretary);
    record(&t, &recorder, &auditor, EVERY as usize).await;
    signed_at(&t, &[10, 20, 25, 35]).await;
    let latest = fetch_checkpoint(&auditor, &key, Some(35)).await;
    prove_consistency(&auditor, &held, &latest, Some(35)).await;
    prove_consistency(&auditor, &newest, &latest, None).await;
    prove_inclusion(&auditor, 30, &latest).await;
    assert!(server.terminate().success());
    assert_eq!(
        stored_sizes(&t).await,
        [10, 20, 25, 35],
        "nothing new to sign at the stop"
    );

    let out = cli(Some(&t), &["verify", "--public-key", &key.public_key]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout)
            .contains("verified: 35 events, 4 checkpoints; the newest covers 35 events"),
        "{}",
        text(&out.stdout)
    );
}

async fn a_new_signing_key_carries_the_trail_on(t: TestDb) {
    t.with_programme().await;
    let (old, new) = (Key::generate(), Key::generate());
    let secretary = t.token("Sanne de Vries", Role::Secretary, None).await;
    let auditor = t.token("Ahmed El Amrani", Role::Auditor, None).await;

    let mut server = signing_server(&t, &old).await;
    let recorder = server.client().with_token(&secretary);
    record(&t, &recorder, &server.client().with_token(&auditor), 12).await;
    assert!(server.terminate().success());
    assert_eq!(stored_sizes(&t).await, [10, 15]);
    drop(server);

    // The server restarts with the new key: the trail signed with the old one is carried on.
    let mut server = signing_server(&t, &new).await;
    let client = server.client().with_token(&auditor);
    assert_eq!(
        tree_size(&client).await,
        15,
        "the trail is loaded, not refused"
    );
    let last_old = fetch_checkpoint(&client, &old, None).await;
    assert_eq!(last_old.size, 15);
    record(&t, &server.client().with_token(&secretary), &client, 10).await;
    signed_at(&t, &[10, 15, 25]).await;
    let first_new = fetch_checkpoint(&client, &new, Some(25)).await;
    assert!(
        old.verifier().verify(&first_new.note).is_err(),
        "signed with the new key only"
    );
    // The history signed with the old key is the start of the one signed with the new.
    prove_consistency(&client, &last_old, &first_new, None).await;
    assert!(server.terminate().success());

    // Verification needs every key the ledger signed with.
    let out = cli(Some(&t), &["verify", "--public-key", &new.public_key]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("no valid signature"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        Some(&t),
        &[
            "verify",
            "--public-key",
            &new.public_key,
            "--public-key",
            &old.public_key,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("verified: 25 events, 3 checkpoints; the newest covers 25 events"),
        "{}",
        text(&out.stdout)
    );
    // Offline, with a key file listing both, one a line.
    let dir = tempfile::tempdir().expect("a folder");
    let keys = dir.path().join("dordt-west.pub");
    std::fs::write(&keys, format!("{}\n{}\n", old.public_key, new.public_key)).expect("write");
    let file = dir.path().join("ledger.jsonl");
    export(&t, &file, &[]);
    let (ok, stdout, stderr) = verify_offline(&file, keys.to_str().expect("a path"), &[]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("3 checkpoints"), "{stdout}");
}

/// The `extensions.code` and `extensions.field` of the only error of a reply with no data.
fn refusal(reply: &tests::GraphqlReply) -> (String, String) {
    let errors = reply.errors();
    assert_eq!(errors.len(), 1, "one error: {}", reply.body);
    assert!(
        reply
            .data()
            .as_object()
            .is_none_or(|fields| fields.values().all(Value::is_null)),
        "no data: {}",
        reply.body
    );
    (
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        errors[0]["extensions"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn bad_proof_arguments_are_refused_by_field(t: TestDb) {
    t.with_programme().await;
    let key = Key::generate();
    let mut server = signing_server(&t, &key).await;
    let anonymous = server.client();
    let auditor = anonymous.with_token(&t.token("Ahmed", Role::Auditor, None).await);
    assert_eq!(tree_reaches_head(&t, &auditor).await, 3);

    let bad_input = |field: &str| ("BAD_USER_INPUT".to_owned(), field.to_owned());
    let cases: [(&str, Value, &str); 11] = [
        (INCLUSION, json!({ "position": 0 }), "position"),
        (INCLUSION, json!({ "position": -5 }), "position"),
        (INCLUSION, json!({ "position": 4 }), "position"),
        (INCLUSION, json!({ "position": 3, "size": 2 }), "position"),
        (INCLUSION, json!({ "position": 1, "size": 4 }), "treeSize"),
        (INCLUSION, json!({ "position": 1, "size": 0 }), "treeSize"),
        (CONSISTENCY, json!({ "from": 0 }), "from"),
        (CONSISTENCY, json!({ "from": 3, "to": 2 }), "from"),
        (CONSISTENCY, json!({ "from": 1, "to": 4 }), "to"),
        (CONSISTENCY, json!({ "from": 1, "to": 0 }), "to"),
        (CHECKPOINT, json!({ "size": 0 }), "treeSize"),
    ];
    for (query, variables, field) in cases {
        let reply = auditor.query(query, variables.clone()).await;
        assert_eq!(
            refusal(&reply),
            bad_input(field),
            "{variables}: {}",
            reply.body
        );
        let message = reply.errors()[0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.starts_with(&format!("{field}: ")), "{message}");
    }
    let beyond = auditor
        .query(INCLUSION, json!({ "position": 1, "size": 4 }))
        .await;
    assert!(
        beyond.errors()[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("3 events"),
        "the message says how far the tree goes: {}",
        beyond.body
    );

    for (query, variables) in [
        (INCLUSION, json!({ "position": 1 })),
        (CONSISTENCY, json!({ "from": 1 })),
        (CHECKPOINT, json!({})),
    ] {
        let reply = anonymous.query(query, variables.clone()).await;
        assert_eq!(refusal(&reply).0, "UNAUTHENTICATED", "{}", reply.body);
        let reply = anonymous
            .with_token("alt_0000000000000000000000000000000000000000000000000000000000000000")
            .query(query, variables)
            .await;
        assert_eq!(refusal(&reply).0, "UNAUTHENTICATED", "{}", reply.body);
    }
    // The same questions, well put, are answered.
    auditor
        .query(INCLUSION, json!({ "position": 3, "size": 3 }))
        .await
        .expect_ok();
    auditor
        .query(CONSISTENCY, json!({ "from": 2, "to": 3 }))
        .await
        .expect_ok();
    assert!(server.terminate().success());
}

/// A server whose recorded leaf hashes were tampered with does not prove from them: its health
/// check and metrics say so, and every proof is refused as unavailable, naming why.
async fn a_trail_that_does_not_check_out_is_reported_and_proves_nothing(t: TestDb) {
    signed_demo(&t).await;
    let healthy = LedgerProcess::start(&t).await;
    let health: Value = reqwest::get(format!("{}/healthz", healthy.client().base()))
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["audit"]["status"], "ok", "{health}");
    assert_eq!(health["audit"]["treeSize"], health["position"], "{health}");
    drop(healthy);

    let mut statements = vec![format!(
        "DELETE FROM audit_leaves WHERE position = {TARGET}"
    )];
    if let Database::Sqlite(_) = t.db {
        statements.insert(0, "DROP TRIGGER audit_leaves_no_delete".to_owned());
    }
    as_superuser(&t.db, &statements).await;

    let server = LedgerProcess::start(&t).await;
    let base = server.client().base().to_owned();
    let health: Value = reqwest::get(format!("{base}/healthz"))
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["status"], "ok", "the server still serves: {health}");
    assert_eq!(health["audit"]["status"], "failed", "{health}");
    assert!(
        health["audit"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!(
                "from position {} to {}",
                TARGET - 1,
                TARGET + 1
            ))),
        "the reason names where the recorded leaf hashes break: {health}"
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("an answer")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l == "alliance_ledger_audit_trail_ok 0"),
        "{metrics}"
    );
    let auditor = server
        .client()
        .with_token(&t.token("Ahmed", Role::Auditor, None).await);
    let reply = auditor
        .query("{ inclusionProof(position: 1) { rootHash } }", json!({}))
        .await;
    assert_eq!(reply.error_codes(), vec!["UNAVAILABLE"], "{}", reply.body);
    assert!(
        reply.errors()[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not check out")),
        "{}",
        reply.body
    );
}

on_both_backends!(
    a_trail_that_does_not_check_out_is_reported_and_proves_nothing,
    an_untampered_ledger_verifies_clean,
    a_changed_byte_is_caught,
    a_deleted_event_is_caught,
    swapped_positions_are_caught,
    a_forged_event_is_caught,
    an_export_verifies_offline_and_a_changed_export_does_not,
    a_running_server_signs_checkpoints_whose_proofs_verify_offline,
    bad_proof_arguments_are_refused_by_field,
    a_new_signing_key_carries_the_trail_on,
    an_export_until_a_position_carries_only_the_checkpoints_it_covers,
    offline_verification_refuses_missing_or_foreign_checkpoints,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_without_a_key_signs_nothing_and_says_how_to_make_one() {
    let t = TestDb::new(Backend::Sqlite).await;
    let mut server = LedgerProcess::start_with(&t, &["--demo"], &[]).await;
    let log = server.log_text();
    assert!(
        log.contains("no checkpoint will be signed")
            && log.contains("alliance-ledger key generate")
            && log.contains("--signing-key-file"),
        "the start-up log says so and how to make a key:\n{log}"
    );
    let auditor = server
        .client()
        .with_token(&t.token("Ahmed", Role::Auditor, None).await);
    let head = tree_reaches_head(&t, &auditor).await;
    assert!(head > 40, "the demo is recorded");
    let none = auditor.query(CHECKPOINT, json!({})).await.expect_ok();
    assert_eq!(none["checkpoint"], Value::Null);
    // Proofs are still served from the hashed log.
    auditor
        .query(INCLUSION, json!({ "position": head }))
        .await
        .expect_ok();
    assert!(server.terminate().success());
    assert!(
        stored_sizes(&t).await.is_empty(),
        "no key is invented: nothing is signed, not even at the stop"
    );
}

// The command line around the trail.

/// Proposes `n` decisions through the command bus, one event each.
async fn propose(t: &TestDb, n: i64) {
    let bus = CommandBus::new(t.db.clone());
    let services = bus.services();
    let context = CommandContext {
        actor: "Sanne de Vries".into(),
        role: Role::Secretary,
        organisation: None,
        request_id: "audit".into(),
        idempotency_key: None,
        request_hash: None,
    };
    for i in 0..n {
        let id = DecisionId::from_uuid(Uuid::new_v4());
        let command = DecisionCommand::Propose(ProposeDecision {
            decision_id: id,
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            title: format!("Besluit {i}"),
            description: String::new(),
        });
        bus.execute::<Decision>(
            &id.to_string(),
            command,
            "ProposeDecision",
            &services,
            &context,
        )
        .await
        .expect("recorded");
    }
}

/// The Dordt West fixture grown to each of `sizes` events in turn, with a checkpoint signed by
/// `key` at each.
async fn checkpoints_at(t: &TestDb, key: &Key, sizes: &[i64]) {
    t.with_programme().await;
    let (mut notary, _) = Notary::start(
        t.db.clone(),
        Some(key.signer()),
        Some(key.verifier()),
        CheckpointPolicy::default(),
    )
    .await
    .expect("start the notary");
    for &size in sizes {
        let head = t.db.head().await.expect("head");
        propose(t, size - head).await;
        notary.catch_up().await.expect("hash the log");
        let signed = notary.sign_if_due(true).await.expect("sign");
        assert_eq!(signed.map(|c| c.size as i64), Some(size));
    }
    assert_eq!(stored_sizes(t).await, sizes);
}

/// `export --output FILE` (with `extra` arguments); returns the path of the checkpoints file
/// written beside it.
fn export(t: &TestDb, file: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["export", "--output", file.to_str().expect("a path")];
    args.extend_from_slice(extra);
    let out = cli(Some(t), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    alliance_ledger::trail::checkpoints_path(file)
}

/// The tree sizes in an export's checkpoints file.
fn sizes_in(checkpoints: &Path) -> Vec<i64> {
    std::fs::read_to_string(checkpoints)
        .expect("the checkpoints file")
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["tree_size"]
                .as_i64()
                .expect("tree_size")
        })
        .collect()
}

/// `verify --export FILE --public-key KEY` with `extra` arguments, without a database.
fn verify_offline(export: &Path, public_key: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "verify",
        "--export",
        export.to_str().expect("a path"),
        "--public-key",
        public_key,
    ];
    args.extend_from_slice(extra);
    let out = cli(None, &args);
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

async fn an_export_until_a_position_carries_only_the_checkpoints_it_covers(t: TestDb) {
    let key = Key::generate();
    checkpoints_at(&t, &key, &[3, 8, 12]).await;
    let dir = tempfile::tempdir().expect("a folder");

    let whole = dir.path().join("whole.jsonl");
    let whole_checkpoints = export(&t, &whole, &[]);
    assert_eq!(sizes_in(&whole_checkpoints), [3, 8, 12]);

    let until_8 = dir.path().join("until-8.jsonl");
    let checkpoints = export(&t, &until_8, &["--until", "8"]);
    assert_eq!(sizes_in(&checkpoints), [3, 8]);
    let positions: Vec<i64> = std::fs::read_to_string(&until_8)
        .expect("the export")
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["position"]
                .as_i64()
                .expect("position")
        })
        .collect();
    assert_eq!(positions, (1..=8).collect::<Vec<_>>());
    let (ok, stdout, stderr) = verify_offline(&until_8, &key.public_key, &[]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("verified: 8 events, 2 checkpoints; the newest covers 8 events"),
        "{stdout}"
    );

    let until_10 = dir.path().join("until-10.jsonl");
    assert_eq!(sizes_in(&export(&t, &until_10, &["--until", "10"])), [3, 8]);
    let (ok, stdout, stderr) = verify_offline(&until_10, &key.public_key, &[]);
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("verified: 10 events, 2 checkpoints; the newest covers 8 events")
            && stdout.contains("2 events after the newest checkpoint"),
        "{stdout}"
    );

    // Before the first checkpoint: an empty checkpoints file, and only the leaf hashes to check.
    let until_2 = dir.path().join("until-2.jsonl");
    let checkpoints = export(&t, &until_2, &["--until", "2"]);
    assert_eq!(sizes_in(&checkpoints), Vec::<i64>::new());
    for extra in [
        vec![],
        vec!["--checkpoint", checkpoints.to_str().expect("a path")],
    ] {
        let (ok, stdout, stderr) = verify_offline(&until_2, &key.public_key, &extra);
        assert!(ok, "{stdout}{stderr}");
        assert!(
            stdout.contains("verified: 2 events, 0 checkpoints")
                && stdout.contains("nothing is proved beyond the recorded leaf hashes"),
            "{stdout}"
        );
    }
    // Any other file given as a checkpoint must hold one.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").expect("write");
    let (ok, _, stderr) = verify_offline(
        &until_2,
        &key.public_key,
        &["--checkpoint", empty.to_str().expect("a path")],
    );
    assert!(!ok);
    assert!(stderr.contains("empty.txt holds no checkpoint"), "{stderr}");

    // Held against a later checkpoint, the shorter export is found short.
    let (ok, stdout, stderr) = verify_offline(
        &until_8,
        &key.public_key,
        &["--checkpoint", whole_checkpoints.to_str().expect("a path")],
    );
    assert!(!ok, "{stdout}{stderr}");
    assert!(
        stderr.contains("verification FAILED at position 9:") && stderr.contains("12"),
        "{stderr}"
    );
}

async fn offline_verification_refuses_missing_or_foreign_checkpoints(t: TestDb) {
    let key = Key::generate();
    checkpoints_at(&t, &key, &[5]).await;
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("ledger.jsonl");
    let beside = export(&t, &file, &[]);

    // The ledger's own checkpoint, as published on its own: accepted.
    let stored = t.db.checkpoints(None).await.expect("checkpoints");
    let published = dir.path().join("from-the-minutes.txt");
    std::fs::write(&published, &stored[0].note).expect("write");
    let (ok, stdout, stderr) = verify_offline(
        &file,
        &key.public_key,
        &["--checkpoint", published.to_str().expect("a path")],
    );
    assert!(ok, "{stdout}{stderr}");

    let missing = dir.path().join("not-there.txt");
    let (ok, _, stderr) = verify_offline(
        &file,
        &key.public_key,
        &["--checkpoint", missing.to_str().expect("a path")],
    );
    assert!(!ok);
    assert!(
        stderr.contains("cannot read the checkpoints") && stderr.contains("not-there.txt"),
        "{stderr}"
    );

    // The same tree head, signed by another key under the same name: not the ledger's.
    let other = Key::generate();
    let root = audit::hash_from_base64(stored[0].note.lines().nth(2).expect("the root line"))
        .expect("a root");
    let forged = other
        .signer()
        .sign(5, root, chrono::Utc::now())
        .expect("signed");
    let foreign = dir.path().join("foreign.txt");
    std::fs::write(&foreign, &forged.note).expect("write");
    let (ok, _, stderr) = verify_offline(
        &file,
        &key.public_key,
        &["--checkpoint", foreign.to_str().expect("a path")],
    );
    assert!(!ok);
    assert!(
        stderr.contains("foreign.txt") && stderr.contains("no valid signature"),
        "{stderr}"
    );

    // The export's own checkpoints, checked with another key: refused too, naming the file.
    let (ok, _, stderr) = verify_offline(&file, &other.public_key, &[]);
    assert!(!ok);
    assert!(
        stderr.contains(
            &beside
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        ) && stderr.contains("no valid signature"),
        "{stderr}"
    );

    let (ok, _, stderr) = verify_offline(&dir.path().join("none.jsonl"), &key.public_key, &[]);
    assert!(!ok);
    assert!(stderr.contains("cannot read the export"), "{stderr}");
}

#[test]
fn key_generate_writes_a_private_file_once_and_prints_only_the_public_key() {
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("signing.key");
    let path = file.to_str().expect("a path");
    let out = cli(
        None,
        &["key", "generate", "--name", ORIGIN, "--output", path],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the public key on stdout: {stdout}");
    let public_key = lines[0];
    assert!(
        public_key.starts_with(&format!("{ORIGIN}+")),
        "{public_key}"
    );
    CheckpointVerifier::new(public_key).expect("a public key");

    let private = std::fs::read_to_string(&file).expect("the key file");
    assert!(private.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+")));
    assert!(!stdout.contains("PRIVATE") && !text(&out.stderr).contains(private.trim()));
    let signer = CheckpointSigner::new(&private).expect("a signing key");
    assert_eq!(
        signer.public_key(),
        public_key,
        "the printed key is its pair"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");

    let again = cli(
        None,
        &["key", "generate", "--name", ORIGIN, "--output", path],
    );
    assert!(!again.status.success(), "never overwritten");
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );
    assert!(again.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).expect("the key file"),
        private
    );

    let unnamed = dir.path().join("other.key");
    let out = cli(
        None,
        &[
            "key",
            "generate",
            "--name",
            "two words",
            "--output",
            unnamed.to_str().expect("a path"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("key name"),
        "{}",
        text(&out.stderr)
    );
    assert!(!unnamed.exists(), "no file for a refused key");
}

#[test]
fn a_server_with_a_missing_or_malformed_key_does_not_start() {
    let dir = tempfile::tempdir().expect("a folder");
    let malformed = dir.path().join("malformed.key");
    std::fs::write(&malformed, "PRIVATE+KEY+dordt-west+00000000+AAAA\n").expect("write");
    let missing = dir.path().join("missing.key");
    for (key, says) in [
        (&malformed, "the signing key is malformed"),
        (&missing, "cannot read the signing key"),
    ] {
        let out = Command::new(ledger_binary())
            .env_remove("DATABASE_URL")
            .env_remove("ALLIANCE_LEDGER_DATABASE_URL")
            .current_dir(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--signing-key-file"])
            .arg(key)
            .output()
            .expect("run the ledger binary");
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(says) && stderr.contains(&*key.to_string_lossy()),
            "{stderr}"
        );
        assert!(
            !dir.path().join("alliance-ledger.db").exists(),
            "the key is read before the database is opened"
        );
    }
}

#[test]
fn verify_without_a_public_key_says_it_is_needed() {
    let dir = tempfile::tempdir().expect("a folder");
    let out = Command::new(ledger_binary())
        .env_remove("ALLIANCE_LEDGER_PUBLIC_KEY")
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .arg("verify")
        .output()
        .expect("run the ledger binary");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--public-key") && stderr.contains("required"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("alliance-ledger.db").exists(),
        "nothing is opened without the key"
    );

    let out = Command::new(ledger_binary())
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .args(["verify", "--public-key", "not-a-key"])
        .output()
        .expect("run the ledger binary");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("public key is malformed"),
        "{}",
        text(&out.stderr)
    );
}

/// An auditor's database user may only read: `verify` applies no migrations and writes nothing,
/// so a PostgreSQL role with SELECT alone verifies the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_only_database_user_verifies() {
    let t = TestDb::new(Backend::Postgres).await;
    let signed = signed_demo(&t).await;
    let role = format!("auditor_{}", Uuid::new_v4().simple());
    let Database::Postgres(pool) = &t.db else {
        unreachable!("a PostgreSQL database")
    };
    for sql in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(&sql).execute(pool).await.expect(&sql);
    }
    let url = t.url.expose().replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(
        url,
        t.url.expose(),
        "the URL names the read-only user: {url}"
    );
    let out = Command::new(ledger_binary())
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            &url,
            "verify",
            "--public-key",
            &signed.public_key,
        ])
        .output()
        .expect("run verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    sqlx::query(&format!("DROP OWNED BY {role}"))
        .execute(pool)
        .await
        .expect("drop the grants");
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(pool)
        .await
        .expect("drop the role");
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified:"));
}
