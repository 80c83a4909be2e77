//! Read models and time: `asOf`, restarts, replay and the state checksum.

use std::time::Duration;

use domain::access::Role;
use domain::decision::{Decision, DecisionCommand, ProposeDecision};
use domain::ids::{DecisionId, ProgrammeId};
use serde_json::{json, Value};
use store::{CommandBus, CommandContext};
use tests::{
    ledger_checksum, on_both_backends, replay_checksum, GraphqlClient, LedgerProcess, TestDb,
    TestServer,
};
use uuid::Uuid;

const DECISION: &str = "query($id: ID!, $asOf: DateTime) {
    decision(id: $id, asOf: $asOf) { title status amendments }
}";

async fn decision_at(client: &GraphqlClient, id: &str, as_of: Option<&str>) -> Value {
    client
        .query(DECISION, json!({ "id": id, "asOf": as_of }))
        .await
        .expect_ok()["decision"]
        .clone()
}

async fn as_of_a_time_shows_the_state_recorded_by_then_also_after_a_restart(t: TestDb) {
    t.with_programme().await;
    let token = t.token("Sanne", Role::Secretary, None).await;
    let server = LedgerProcess::start(&t).await;
    let client = server.client().with_token(&token);

    let proposed = client
        .query(
            "mutation { proposeDecision(input: {programmeId: \"dordt-west\", title: \"Versie A\"}) { id } }",
            json!({}),
        )
        .await
        .expect_ok();
    let id = proposed["proposeDecision"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let between = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(20)).await;
    client
        .query(
            "mutation($id: ID!) { amendDecision(input: {decisionId: $id, title: \"Versie B\", reason: \"na inspraak\"}) { title } }",
            json!({ "id": id }),
        )
        .await
        .expect_ok();

    let check = |client: GraphqlClient, id: String, between: String| async move {
        let then = decision_at(&client, &id, Some(&between)).await;
        assert_eq!(
            then["title"], "Versie A",
            "as of T: the state recorded by then"
        );
        assert_eq!(then["amendments"], 0);
        let now = decision_at(&client, &id, None).await;
        assert_eq!(now["title"], "Versie B");
        assert_eq!(now["amendments"], 1);
        let before_anything = decision_at(&client, &id, Some("2020-01-01T00:00:00Z")).await;
        assert!(before_anything.is_null(), "it did not exist in 2020");
    };
    check(client, id.clone(), between.clone()).await;
    server.kill();

    let restarted = LedgerProcess::start(&t).await;
    check(restarted.client().with_token(&token), id, between).await;
}

async fn replay_prints_the_same_checksum_as_the_live_server(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let head = t.db.head().await.expect("head");
    let first = replay_checksum(&t, None);
    let second = replay_checksum(&t, None);
    assert_eq!(first, second, "two replays of one log agree");
    assert_eq!(first.0, head);

    let server = TestServer::start(&t).await;
    let client = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    assert_eq!(
        ledger_checksum(&client).await,
        (head, first.1.clone()),
        "the live server agrees"
    );

    // A replay up to an earlier position is the state at that position: shorter, different.
    let partial = replay_checksum(&t, Some("40"));
    assert_eq!(partial.0, 40);
    assert_ne!(partial.1, first.1);
    server.stop().await;
}

/// A server killed while another writer records 5,000 events rebuilds, after its restart,
/// exactly the state a fresh replay of the log gives.
async fn after_a_crash_the_read_models_equal_a_fresh_replay(t: TestDb) {
    const EVENTS: usize = 5_000;
    const WRITERS: usize = 4;
    t.with_programme().await;
    let token = t.token("Aad", Role::Auditor, None).await;
    let server = LedgerProcess::start(&t).await;
    let start = t.db.head().await.expect("head");

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let bus = CommandBus::new(t.reconnect().await);
        writers.push(tokio::spawn(async move {
            let context = CommandContext {
                actor: format!("Schrijver {w}"),
                role: Role::Secretary,
                organisation: None,
                request_id: format!("writer-{w}"),
                idempotency_key: None,
                request_hash: None,
            };
            let services = bus.services();
            for n in 0..EVENTS / WRITERS {
                let id = DecisionId::from_uuid(Uuid::new_v4());
                let command = DecisionCommand::Propose(ProposeDecision {
                    decision_id: id,
                    programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
                    title: format!("Besluit {w}-{n}"),
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
        }));
    }
    // Let the server follow part of the stream, then kill it mid-way.
    loop {
        let head = t.db.head().await.expect("head");
        if head - start > (EVENTS / 3) as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    for writer in writers {
        writer.await.expect("writer");
    }
    let head = t.db.head().await.expect("head");
    assert_eq!(head - start, EVENTS as i64);

    let restarted = LedgerProcess::start(&t).await;
    let client = restarted.client().with_token(&token);
    let (position, live) = ledger_checksum(&client).await;
    assert_eq!(
        position, head,
        "after the restart the read models include every event"
    );
    let (events, replayed) = replay_checksum(&t, None);
    assert_eq!(events, head);
    assert_eq!(live, replayed, "the read models equal a fresh replay");
}

on_both_backends!(
    as_of_a_time_shows_the_state_recorded_by_then_also_after_a_restart,
    replay_prints_the_same_checksum_as_the_live_server,
    after_a_crash_the_read_models_equal_a_fresh_replay,
);
