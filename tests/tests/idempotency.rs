//! Exactly once: a mutation retried under the same idempotency key has one effect.

use domain::access::Role;
use serde_json::{json, Value};
use tests::{on_both_backends, GraphqlClient, TestDb, TestServer};

const ALLOCATE: &str = "mutation($input: AllocateBudgetInput!) {
    allocateBudget(input: $input) { allocated allocations { id amount } }
}";

async fn decision_of_execution_programme(client: &GraphqlClient) -> String {
    client
        .query(
            "{ programme(id: \"dordt-west\") { executionProgrammes { decisionId } } }",
            json!({}),
        )
        .await
        .expect_ok()["programme"]["executionProgrammes"][0]["decisionId"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn events_of(auditor: &GraphqlClient, aggregate_type: &str) -> Vec<Value> {
    auditor
        .query(
            "query($t: String) { events(first: 1000, aggregateType: $t) { eventType aggregateId metadata } }",
            json!({ "t": aggregate_type }),
        )
        .await
        .expect_ok()["events"]
        .as_array()
        .cloned()
        .expect("events")
}

async fn a_retried_allocation_is_recorded_once(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let decision = decision_of_execution_programme(&secretary).await;
    let fund = secretary
        .query(
            "mutation($input: RegisterFundInput!) { registerFund(input: $input) { id } }",
            json!({ "input": {
                "programmeId": "dordt-west", "funder": "RIJK", "funderName": "Ministerie van BZK",
                "name": "Volkshuisvestingsfonds", "amount": "5000000.00",
                "firstYear": 2024, "lastYear": 2027, "decisionId": decision,
            }}),
        )
        .await
        .expect_ok()["registerFund"]["id"]
        .as_str()
        .expect("fund id")
        .to_owned();
    // No allocation id: the ledger makes one, so only the key can tell the retries apart.
    let input = json!({ "input": {
        "fundId": fund, "target": { "area": "crabbehof" }, "year": 2025,
        "amount": "250000.00", "decisionId": decision, "idempotencyKey": "alloc-2025-crabbehof",
    }});
    let (a, b, c) = tokio::join!(
        secretary.query(ALLOCATE, input.clone()),
        secretary.query(ALLOCATE, input.clone()),
        secretary.query(ALLOCATE, input.clone()),
    );
    let replies: Vec<Value> = [a, b, c].into_iter().map(|r| r.expect_ok()).collect();
    for reply in &replies {
        assert_eq!(reply["allocateBudget"]["allocated"], "250000.00", "{reply}");
        assert_eq!(reply, &replies[0], "every retry gets the first result");
    }
    let allocations: Vec<Value> = events_of(&auditor, "Fund")
        .await
        .into_iter()
        .filter(|e| e["aggregateId"] == json!(fund) && e["eventType"] == "BudgetAllocated")
        .collect();
    assert_eq!(
        allocations.len(),
        1,
        "one allocation, however often it was sent"
    );

    // A later retry still answers the first result and records nothing.
    let again = secretary.query(ALLOCATE, input.clone()).await.expect_ok();
    assert_eq!(again, replies[0]);

    // The same key for another request is refused, and nothing is recorded.
    let mut other = input.clone();
    other["input"]["amount"] = json!("300000.00");
    let refused = secretary.query(ALLOCATE, other).await;
    assert_eq!(
        refused.error_codes(),
        vec!["IDEMPOTENCY_KEY_REUSED"],
        "{}",
        refused.body
    );
    let after: Vec<Value> = events_of(&auditor, "Fund")
        .await
        .into_iter()
        .filter(|e| e["eventType"] == "BudgetAllocated" && e["aggregateId"] == json!(fund))
        .collect();
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0]["metadata"]["idempotency_key"], "alloc-2025-crabbehof",
        "the key is recorded with the event"
    );
    server.stop().await;
}

async fn a_retried_proposal_keeps_the_id_the_ledger_made(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let propose =
        "mutation($input: ProposeDecisionInput!) { proposeDecision(input: $input) { id title } }";
    let input = json!({ "input": {
        "programmeId": "dordt-west", "title": "Buurthuis Wielwijk", "idempotencyKey": "k-1",
    }});
    let first = secretary.query(propose, input.clone()).await.expect_ok();
    let second = secretary.query(propose, input).await.expect_ok();
    assert_eq!(first, second);
    assert_eq!(events_of(&auditor, "Decision").await.len(), 1);

    // A different operation under a used key is refused too.
    let reused = secretary
        .query(
            "mutation($input: RecordResidentInputInput!) { recordResidentInput(input: $input) { id } }",
            json!({ "input": {
                "programmeId": "dordt-west", "channel": "SURVEY", "area": "dordt-west",
                "theme": "Wonen", "summary": "Enquête", "residents": 12,
                "collectedOn": "2024-05-01", "idempotencyKey": "k-1",
            }}),
        )
        .await;
    assert_eq!(
        reused.error_codes(),
        vec!["IDEMPOTENCY_KEY_REUSED"],
        "{}",
        reused.body
    );
    server.stop().await;
}

on_both_backends!(
    a_retried_allocation_is_recorded_once,
    a_retried_proposal_keeps_the_id_the_ledger_made,
);
