//! Many clients writing to one record at once: nothing lost, nothing beyond the rules, and no
//! client sees a conflict while retries remain.

use domain::access::Role;
use serde_json::json;
use tests::{on_both_backends, TestDb, TestServer};

const CLIENTS: usize = 20;
const EACH: usize = 50;

async fn twenty_clients_spend_from_one_allocation_without_losing_a_cent(t: TestDb) {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("demo");
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let decision = secretary
        .query(
            "{ programme(id: \"dordt-west\") { executionProgrammes { decisionId } } }",
            json!({}),
        )
        .await
        .expect_ok()["programme"]["executionProgrammes"][0]["decisionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let fund = secretary
        .query(
            "mutation($input: RegisterFundInput!) { registerFund(input: $input) { id } }",
            json!({ "input": {
                "programmeId": "dordt-west", "funder": "GEMEENTE", "funderName": "Gemeente Dordrecht",
                "name": "Wijkbudget", "amount": "1000.00", "firstYear": 2024, "lastYear": 2024,
                "decisionId": decision,
            }}),
        )
        .await
        .expect_ok()["registerFund"]["id"]
        .as_str()
        .expect("fund")
        .to_owned();
    let allocation = "6f0c1f4e-0000-4000-8000-00000000a110";
    secretary
        .query(
            "mutation($input: AllocateBudgetInput!) { allocateBudget(input: $input) { allocated } }",
            json!({ "input": {
                "fundId": fund, "allocationId": allocation, "target": { "area": "wielwijk" },
                "year": 2024, "amount": "1000.00", "decisionId": decision,
            }}),
        )
        .await
        .expect_ok();

    let spend =
        "mutation($input: RecordExpenditureInput!) { recordExpenditure(input: $input) { spent } }";
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let client = secretary.clone();
        let fund = fund.clone();
        clients.push(tokio::spawn(async move {
            for n in 0..EACH {
                let reply = client
                    .query(
                        spend,
                        json!({ "input": {
                            "fundId": fund, "allocationId": allocation, "amount": "1.00",
                            "description": format!("Uitgave {c}-{n}"), "date": "2024-06-01",
                        }}),
                    )
                    .await;
                assert!(
                    reply.errors().is_empty(),
                    "client {c}, expenditure {n}: {}",
                    reply.body
                );
            }
        }));
    }
    for client in clients {
        client.await.expect("client finished");
    }
    let fund_now = secretary
        .query(
            "query($id: ID!) { fund(id: $id) { spent allocations { spent left } } }",
            json!({ "id": fund }),
        )
        .await
        .expect_ok();
    assert_eq!(
        fund_now["fund"]["spent"], "1000.00",
        "all 1,000 expenditures recorded"
    );
    assert_eq!(fund_now["fund"]["allocations"][0]["left"], "0.00");
    let over = secretary
        .query(
            spend,
            json!({ "input": {
                "fundId": fund, "allocationId": allocation, "amount": "0.01",
                "description": "Eén cent te veel", "date": "2024-06-02",
            }}),
        )
        .await;
    assert_eq!(over.error_codes(), vec!["RULE_VIOLATED"]);
    assert_eq!(
        over.errors()[0]["extensions"]["rule"],
        "budget.within_allocation"
    );
    let recorded =
        t.db.read_log(
            0,
            100_000,
            &store::LogFilter {
                aggregate_type: Some("Fund".into()),
                aggregate_id: Some(fund.clone()),
                ..store::LogFilter::default()
            },
        )
        .await
        .expect("log")
        .into_iter()
        .filter(|e| e.event_type == "ExpenditureRecorded")
        .count();
    assert_eq!(recorded, CLIENTS * EACH, "none lost, none doubled");
    server.stop().await;
}

on_both_backends!(twenty_clients_spend_from_one_allocation_without_losing_a_cent);
