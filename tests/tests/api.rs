//! The GraphQL API over real HTTP: recording decisions, reading the log, and who may do what.

use domain::access::Role;
use serde_json::{json, Value};
use tests::{fixtures, on_both_backends, GraphqlClient, TestDb, TestServer};

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id programmeId title status }
}";
const ADOPT: &str = "mutation($input: DecideInput!) {
    adoptDecision(input: $input) { id status meeting { meetingId date present votes { member choice } } }
}";
const EVENTS: &str = "query($after: Int, $first: Int) {
    events(after: $after, first: $first) {
        position recordedAt aggregateType aggregateId sequence eventType eventVersion payload metadata
    }
}";

fn proposal(title: &str) -> Value {
    json!({ "input": { "programmeId": "dordt-west", "title": title } })
}

fn adoption(id: &str) -> Value {
    json!({ "input": {
        "decisionId": id,
        "meetingId": fixtures::meeting_id().to_string(),
        "votes": [
            { "member": "gemeente", "choice": "FOR" },
            { "member": "woningcorporatie", "choice": "CONSENT" },
            { "member": "rijk", "choice": "ABSTAIN" }
        ]
    }})
}

/// The decision events of the log.
async fn log_of(auditor: &GraphqlClient) -> Vec<Value> {
    auditor
        .query(EVENTS, json!({ "first": 1000 }))
        .await
        .expect_ok()["events"]
        .as_array()
        .cloned()
        .expect("a list")
        .into_iter()
        .filter(|e| e["aggregateType"] == "Decision")
        .collect()
}

async fn a_secretary_records_and_an_auditor_sees_who_did(t: TestDb) {
    let start = t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server.client().with_token(
        &t.token("Sanne", Role::Secretary, Some("Gemeente Dordrecht"))
            .await,
    );
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);

    let proposed = secretary
        .query(
            PROPOSE,
            proposal("Vaststellen Nationaal Programma Dordt West"),
        )
        .await
        .expect_ok();
    let id = proposed["proposeDecision"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_eq!(proposed["proposeDecision"]["status"], "PROPOSED");
    let adopted = secretary.query(ADOPT, adoption(&id)).await.expect_ok();
    assert_eq!(adopted["adoptDecision"]["status"], "ADOPTED");
    assert_eq!(adopted["adoptDecision"]["meeting"]["date"], "2023-06-15");

    let events = log_of(&auditor).await;
    assert_eq!(events.len(), 2);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["position"], json!(start + i as i64 + 1));
        assert_eq!(event["aggregateType"], "Decision");
        assert_eq!(event["aggregateId"], json!(id));
        assert_eq!(event["metadata"]["actor"], "Sanne");
        assert_eq!(event["metadata"]["role"], "secretary");
        assert_eq!(event["metadata"]["organisation"], "Gemeente Dordrecht");
        assert!(event["recordedAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")));
    }
    assert_eq!(events[0]["eventType"], "DecisionProposed");
    assert_eq!(events[1]["eventType"], "DecisionAdopted");
    assert_eq!(
        events[0]["payload"]["DecisionProposed"]["title"],
        "Vaststellen Nationaal Programma Dordt West"
    );

    let page = auditor
        .query(EVENTS, json!({ "after": start + 1, "first": 10 }))
        .await
        .expect_ok();
    assert_eq!(page["events"].as_array().map(Vec::len), Some(1));

    let read = secretary
        .query(
            "query($id: ID!) { decision(id: $id) { title status meeting { votes { choice } } } }",
            json!({ "id": id }),
        )
        .await
        .expect_ok();
    assert_eq!(read["decision"]["status"], "ADOPTED");
    server.stop().await;
}

async fn without_a_valid_token_nothing_is_recorded(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let revoked_secret = t.token("Oud", Role::Secretary, None).await;
    let revoked_id =
        t.db.list_tokens()
            .await
            .expect("list")
            .into_iter()
            .find(|i| i.actor == "Oud")
            .expect("the token")
            .id;
    t.db.revoke_token(revoked_id).await.expect("revoke");

    for client in [
        server.client(),
        server.client().with_token("alt_0000000000"),
        server.client().with_token("not even a token"),
        server.client().with_token(&revoked_secret),
    ] {
        let reply = client.query(PROPOSE, proposal("Zonder toegang")).await;
        assert_eq!(
            reply.error_codes(),
            vec!["UNAUTHENTICATED"],
            "{:?}",
            reply.body
        );
        assert!(reply.data().is_null());
    }
    assert!(log_of(&auditor).await.is_empty(), "nothing was recorded");
    server.stop().await;
}

async fn roles_too_low_are_forbidden(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    for role in [Role::Partner, Role::Rijk, Role::Auditor] {
        let client = server
            .client()
            .with_token(&t.token("Iemand", role, partner_organisation(role)).await);
        let reply = client.query(PROPOSE, proposal("Niet mijn rol")).await;
        assert_eq!(
            reply.error_codes(),
            vec!["FORBIDDEN"],
            "{role}: {:?}",
            reply.body
        );
    }
    for role in [Role::Secretary, Role::Partner, Role::Rijk] {
        let client = server
            .client()
            .with_token(&t.token("Lezer", role, partner_organisation(role)).await);
        let reply = client.query(EVENTS, json!({})).await;
        assert_eq!(
            reply.error_codes(),
            vec!["FORBIDDEN"],
            "{role}: {:?}",
            reply.body
        );
    }
    assert!(log_of(&auditor).await.is_empty());
    let admin = server
        .client()
        .with_token(&t.token("Beheer", Role::Admin, None).await);
    admin
        .query(PROPOSE, proposal("Beheerder mag"))
        .await
        .expect_ok();
    assert_eq!(log_of(&admin).await.len(), 1);
    server.stop().await;
}

async fn bad_input_names_the_field_and_rule_and_records_nothing(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);

    let reply = secretary
        .query(
            PROPOSE,
            json!({ "input": { "programmeId": "Dordt West", "title": "x" } }),
        )
        .await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "programmeId");

    let reply = secretary.query(PROPOSE, proposal("   ")).await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "title");

    let id = secretary
        .query(PROPOSE, proposal("Echt voorstel"))
        .await
        .expect_ok()["proposeDecision"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut outsider = adoption(&id);
    outsider["input"]["votes"][2]["member"] = json!("politie");
    let reply = secretary.query(ADOPT, outsider).await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "votes");
    assert!(reply.errors()[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("politie") && m.contains("not present")));

    let mut lost = adoption(&id);
    lost["input"]["votes"] = json!([{ "member": "gemeente", "choice": "AGAINST" }]);
    let reply = secretary.query(ADOPT, lost).await;
    assert_eq!(reply.error_codes(), vec!["RULE_VIOLATED"]);
    assert_eq!(
        reply.errors()[0]["extensions"]["rule"],
        "decision.adoption_rule"
    );

    let reply = secretary.query(ADOPT, adoption("not-a-uuid")).await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "decisionId");

    let reply = secretary
        .query(ADOPT, adoption("6f0c1f4e-0000-4000-8000-00000000dead"))
        .await;
    assert_eq!(reply.error_codes(), vec!["NOT_FOUND"]);

    secretary.query(ADOPT, adoption(&id)).await.expect_ok();
    let reply = secretary.query(ADOPT, adoption(&id)).await;
    assert_eq!(reply.error_codes(), vec!["RULE_VIOLATED"]);
    assert_eq!(reply.errors()[0]["extensions"]["rule"], "decision.final");

    let events = log_of(&auditor).await;
    let types: Vec<_> = events.iter().map(|e| e["eventType"].clone()).collect();
    assert_eq!(
        types,
        vec![json!("DecisionProposed"), json!("DecisionAdopted")]
    );
    server.stop().await;
}

async fn health_reports_the_database_and_position(t: TestDb) {
    let start = t.with_programme().await;
    let server = TestServer::start(&t).await;
    let (status, body) = server.client().get("/healthz").await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["position"], start);
    let (status, page) = server.client().get("/graphql").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("graphiql"),
        "GraphiQL is served on GET /graphql"
    );
    server.stop().await;
}

async fn queries_beyond_the_limits_are_refused_clearly(t: TestDb) {
    let server = TestServer::start(&t).await;
    let reader = server
        .client()
        .with_token(&t.token("Lezer", Role::Rijk, None).await);
    let nested = |levels: usize| {
        let mut q = String::from("{ __schema { types { fields { type ");
        q.push_str(&"{ ofType ".repeat(levels));
        q.push_str("{ name }");
        q.push_str(&" }".repeat(levels));
        q.push_str(" } } } }");
        q
    };
    // 50 levels: refused by the parser's recursion bound; 20: by the ledger's depth limit (16).
    for (levels, says) in [(50, "recursion depth"), (20, "nested too deep")] {
        let reply = reader.query(&nested(levels), json!({})).await;
        assert_eq!(
            reply.error_codes(),
            vec!["BAD_USER_INPUT"],
            "{}",
            reply.body
        );
        assert!(reply.data().is_null());
        assert!(
            reply.errors()[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{levels} levels: {}",
            reply.body
        );
    }
    reader.query(&nested(2), json!({})).await.expect_ok();
    let reply = reader
        .query(
            "{ decisions(programmeId: \"dordt-west\", first: 1000000) { nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"]);
    assert_eq!(reply.errors()[0]["extensions"]["field"], "first");

    // Just over the 1 MiB default: small enough to be written whole before the server answers.
    let huge = "x".repeat(1024 * 1024 + 10 * 1024);
    let status = reqwest::Client::new()
        .post(format!("{}/graphql", reader.base()))
        .header("content-type", "application/json")
        .body(json!({ "query": format!("{{ ledger {{ position }} }} # {huge}") }).to_string())
        .send()
        .await
        .expect("an answer")
        .status();
    assert_eq!(status.as_u16(), 413, "a body over the limit is refused");
    server.stop().await;
}

async fn an_auditor_reads_the_log_by_actor_and_time_page_by_page(t: TestDb) {
    let start = t.with_programme().await;
    let server = TestServer::start(&t).await;
    let sanne = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let anne_marie = server
        .client()
        .with_token(&t.token("Anne-Marie 't Hart", Role::Secretary, None).await);
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    for (who, title) in [
        (&sanne, "Vaststellen programma"),
        (&anne_marie, "Elf scholen"),
        (&sanne, "Uitvoeringsprogramma"),
        (&anne_marie, "Streefwaarden"),
        (&sanne, "Wijkbudget Crabbehof"),
    ] {
        who.query(PROPOSE, proposal(title)).await.expect_ok();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let filtered = "query($after: Int, $first: Int, $actor: String, $from: DateTime, $to: DateTime) {
        events(after: $after, first: $first, aggregateType: \"Decision\", actor: $actor, from: $from, to: $to) {
            position recordedAt payload metadata
        }
    }";
    let read = |variables: Value| {
        let auditor = auditor.clone();
        async move {
            auditor.query(filtered, variables).await.expect_ok()["events"]
                .as_array()
                .cloned()
                .expect("a list")
        }
    };
    let positions = |events: &[Value]| -> Vec<i64> {
        events
            .iter()
            .filter_map(|e| e["position"].as_i64())
            .collect()
    };

    let by_sanne = read(json!({ "actor": "Sanne" })).await;
    assert_eq!(positions(&by_sanne), vec![start + 1, start + 3, start + 5]);
    assert!(by_sanne.iter().all(|e| e["metadata"]["actor"] == "Sanne"));
    let by_anne_marie = read(json!({ "actor": "Anne-Marie 't Hart" })).await;
    assert_eq!(positions(&by_anne_marie), vec![start + 2, start + 4]);

    // Page by page: the last position of a page is where the next one starts.
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = read(json!({ "actor": "Sanne", "first": 2, "after": after })).await;
        if page.is_empty() {
            break;
        }
        after = page
            .last()
            .and_then(|e| e["position"].as_i64())
            .expect("a position");
        pages.push(positions(&page));
    }
    assert_eq!(
        pages,
        vec![vec![start + 1, start + 3], vec![start + 5]],
        "two pages of Sanne's proposals"
    );

    // From the second proposal's time (inclusive) to the fourth's (exclusive).
    let all = read(json!({})).await;
    assert_eq!(all.len(), 5);
    let (second, fourth) = (all[1]["recordedAt"].clone(), all[3]["recordedAt"].clone());
    let window = read(json!({ "from": second, "to": fourth })).await;
    assert_eq!(positions(&window), vec![start + 2, start + 3]);
    let window_by_sanne = read(json!({ "from": second, "to": fourth, "actor": "Sanne" })).await;
    assert_eq!(positions(&window_by_sanne), vec![start + 3]);
    assert_eq!(
        read(json!({ "from": second, "to": second })).await,
        Vec::<Value>::new()
    );

    let backwards = auditor
        .query(filtered, json!({ "from": fourth, "to": second }))
        .await;
    assert_eq!(
        backwards.error_codes(),
        vec!["BAD_USER_INPUT"],
        "{}",
        backwards.body
    );
    assert_eq!(backwards.errors()[0]["extensions"]["field"], "to");
    assert!(
        backwards.errors()[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("before `from`")),
        "{}",
        backwards.body
    );
    let not_a_time = auditor.query(filtered, json!({ "from": "gisteren" })).await;
    assert!(!not_a_time.errors().is_empty(), "{}", not_a_time.body);
    server.stop().await;
}

/// A token revoked while its client keeps many requests in flight is refused for every request
/// sent after the revocation returned, and served for every request answered before it began:
/// requests that share a token's lookup never share one that started before they arrived.
async fn a_token_revoked_under_load_is_refused_from_that_moment(t: TestDb) {
    const CLIENTS: usize = 16;
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secret = t.token("Druk", Role::Secretary, None).await;
    let id =
        t.db.list_tokens()
            .await
            .expect("list")
            .into_iter()
            .find(|i| i.actor == "Druk")
            .expect("the token")
            .id;
    let started = std::time::Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let client = server.client().with_token(&secret);
        let stop = stop.clone();
        clients.spawn(async move {
            // (sent, answered, refused) for each request.
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let sent = started.elapsed();
                let reply = client.query("{ ledger { position } }", json!({})).await;
                let answered = started.elapsed();
                // After ten refusals the client's sign-ins are limited: refused unread.
                let refused = match reply.error_codes().as_slice() {
                    [] => false,
                    [code] if code == "UNAUTHENTICATED" || code == "RATE_LIMITED" => true,
                    other => panic!("an answer, UNAUTHENTICATED or RATE_LIMITED, got {other:?}"),
                };
                seen.push((sent, answered, refused));
            }
            seen
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let revoking = started.elapsed();
    t.db.revoke_token(id).await.expect("revoke");
    let revoked = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut before = 0;
    let mut after = 0;
    while let Some(seen) = clients.join_next().await {
        for (sent, answered, refused) in seen.expect("client") {
            if sent >= revoked {
                assert!(
                    refused,
                    "a request sent {sent:?} after the revocation at {revoked:?} was served"
                );
                after += 1;
            } else if answered <= revoking {
                assert!(
                    !refused,
                    "a request answered at {answered:?} before the revocation began was refused"
                );
                before += 1;
            }
        }
    }
    assert!(
        before >= CLIENTS && after >= CLIENTS,
        "{before} requests before, {after} after"
    );
    server.stop().await;
}

on_both_backends!(
    a_token_revoked_under_load_is_refused_from_that_moment,
    an_auditor_reads_the_log_by_actor_and_time_page_by_page,
    queries_beyond_the_limits_are_refused_clearly,
    a_secretary_records_and_an_auditor_sees_who_did,
    without_a_valid_token_nothing_is_recorded,
    roles_too_low_are_forbidden,
    bad_input_names_the_field_and_rule_and_records_nothing,
    health_reports_the_database_and_position,
);

/// The organisation a partner token names (partners always act for one); none for other roles.
fn partner_organisation(role: Role) -> Option<&'static str> {
    (role == Role::Partner).then_some("Organisatie woningcorporatie")
}
