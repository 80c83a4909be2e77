//! Live updates over a websocket (graphql-transport-ws): `eventRecorded` tells a subscriber of
//! what other clients record, filtered by programme and by what the subscriber may see; and
//! several servers on one PostgreSQL database serve the same ledger.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cqrs_es::Aggregate;
use domain::access::Role;
use domain::decision::{Decision, DecisionCommand, ProposeDecision};
use domain::ids::{DecisionId, ProgrammeId};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use store::CommandContext;
use tests::{on_both_backends, Backend, GraphqlClient, LedgerProcess, TestDb, TestServer};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a subscriber waits for a message it expects.
const PATIENCE: Duration = Duration::from_secs(10);

const SUBSCRIBE: &str = "subscription($programmeId: String, $after: Int) {
    eventRecorded(programmeId: $programmeId, after: $after) {
        position recordedAt aggregateType aggregateId eventType programmeId actor role organisation
    }
}";

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id }
}";

/// One websocket connection to a ledger server, speaking graphql-transport-ws.
struct Live {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Why the server would not open a connection.
#[derive(Debug, PartialEq)]
enum Refused {
    /// The upgrade request was answered with this HTTP status.
    Http(u16),
    /// The socket was closed after `connection_init` with this code and reason.
    Closed(u16, String),
}

impl Live {
    /// Opens a websocket to `GET /graphql` with the graphql-transport-ws subprotocol (and the
    /// token in the upgrade request's `Authorization` header, when given).
    async fn open(client: &GraphqlClient, header_token: Option<&str>) -> Result<Self, Refused> {
        Self::open_with(client, Some("graphql-transport-ws"), header_token).await
    }

    async fn open_with(
        client: &GraphqlClient,
        protocol: Option<&str>,
        header_token: Option<&str>,
    ) -> Result<Self, Refused> {
        let url = format!("{}/graphql", client.base().replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("a websocket request");
        if let Some(protocol) = protocol {
            request.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_str(protocol).expect("header"),
            );
        }
        if let Some(token) = header_token {
            request.headers_mut().insert(
                "Authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, response)) => {
                assert_eq!(
                    response
                        .headers()
                        .get("sec-websocket-protocol")
                        .and_then(|v| v.to_str().ok()),
                    Some("graphql-transport-ws")
                );
                Ok(Self { socket })
            }
            Err(WsError::Http(response)) => Err(Refused::Http(response.status().as_u16())),
            Err(e) => panic!("cannot open a websocket to {}: {e}", client.base()),
        }
    }

    /// Opens a connection and signs in with `token` in the `connection_init` payload.
    async fn signed_in(client: &GraphqlClient, token: &str) -> Self {
        let mut live = Self::open(client, None).await.expect("the upgrade");
        live.init(json!({ "Authorization": format!("Bearer {token}") }))
            .await
            .expect("the connection is acknowledged");
        live
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send over the websocket");
    }

    /// The next protocol message: `Ok` with a JSON text, or `Err` with the close frame's
    /// code and reason. Answers the server's pings.
    async fn receive(&mut self, within: Duration) -> Option<Result<Value, (u16, String)>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Ok(value));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Err(frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()))));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(Err((0, e.to_string()))),
                None => return Some(Err((0, "the connection ended".into()))),
            }
        }
    }

    /// Sends `connection_init` with `payload`; the server acknowledges or closes.
    async fn init(&mut self, payload: Value) -> Result<(), Refused> {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match self.receive(PATIENCE).await {
            Some(Ok(m)) if m["type"] == "connection_ack" => Ok(()),
            Some(Ok(other)) => panic!("expected connection_ack, got {other}"),
            Some(Err((code, reason))) => Err(Refused::Closed(code, reason)),
            None => panic!("no answer to connection_init"),
        }
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next `next` message of subscription `id` within `within`: its payload.
    async fn next_payload(&mut self, id: &str, within: Duration) -> Option<Value> {
        match self.receive(within).await? {
            Ok(m) if m["type"] == "next" && m["id"] == id => Some(m["payload"].clone()),
            Ok(other) => panic!("expected the next result of subscription {id}, got {other}"),
            Err(closed) => panic!("the connection closed: {closed:?}"),
        }
    }

    /// The next event of subscription `id`; panics on an error or when none comes in time.
    async fn next_event(&mut self, id: &str) -> Value {
        let payload = self
            .next_payload(id, PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no event for subscription {id} within {PATIENCE:?}"));
        assert!(
            payload["errors"].is_null(),
            "subscription {id} failed: {payload}"
        );
        payload["data"]["eventRecorded"].clone()
    }

    /// The errors subscription `id` answered with, after which it completes.
    async fn errors(&mut self, id: &str) -> Vec<Value> {
        let payload = self
            .next_payload(id, PATIENCE)
            .await
            .expect("an answer to the subscription");
        let errors = payload["errors"].as_array().cloned().unwrap_or_default();
        assert!(!errors.is_empty(), "expected errors, got {payload}");
        match self.receive(PATIENCE).await {
            Some(Ok(m)) if m["type"] == "complete" && m["id"] == id => {}
            other => panic!("expected subscription {id} to complete, got {other:?}"),
        }
        errors
    }
}

fn codes(errors: &[Value]) -> Vec<&str> {
    errors
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
        .collect()
}

async fn position(client: &GraphqlClient) -> i64 {
    client
        .query("{ ledger { position } }", json!({}))
        .await
        .expect_ok()["ledger"]["position"]
        .as_i64()
        .expect("a position")
}

/// Proposes a decision in `programme` through `client`; returns its id.
async fn propose(client: &GraphqlClient, programme: &str, title: &str) -> String {
    client
        .query(
            PROPOSE,
            json!({ "input": { "programmeId": programme, "title": title } }),
        )
        .await
        .expect_ok()["proposeDecision"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn establish_dordt_oost(secretary: &GraphqlClient) {
    secretary
        .query(
            "mutation { establishProgramme(input: { programmeId: \"dordt-oost\",
                name: \"Dordt Oost\", municipalityCode: \"GM0505\",
                nationalProgramme: \"Nationaal Programma Leefbaarheid en Veiligheid\",
                firstYear: 2024, lastYear: 2044 }) { id } }",
            json!({}),
        )
        .await
        .expect_ok();
}

async fn a_subscriber_receives_what_another_client_records(t: TestDb) {
    let before = t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let partner_token = t.token("Pim", Role::Partner, Some("Woonkracht10")).await;
    let partner = server.client().with_token(&partner_token);

    let mut live = Live::signed_in(&server.client(), &partner_token).await;
    live.subscribe("1", SUBSCRIBE, json!({ "programmeId": "dordt-west" }))
        .await;
    // Without `after`, a subscriber hears of what is recorded once it is listening: propose
    // until one arrives (the subscription starts listening as the server reads it).
    let mut proposed = Vec::new();
    let mut first = None;
    for i in 0..40 {
        proposed.push(propose(&secretary, "dordt-west", &format!("Voorstel {i}")).await);
        if let Some(payload) = live.next_payload("1", Duration::from_millis(250)).await {
            first = Some(payload["data"]["eventRecorded"].clone());
            break;
        }
    }
    let first = first.expect("the subscriber hears of a proposal");
    assert_eq!(first["eventType"], "DecisionProposed");
    assert_eq!(first["aggregateType"], "Decision");
    assert_eq!(first["programmeId"], "dordt-west");
    let id = first["aggregateId"].as_str().expect("an id").to_owned();
    assert!(proposed.contains(&id), "{first}");
    let at = first["position"].as_i64().expect("a position");
    assert!(at > before, "nothing recorded before subscribing is sent");
    assert!(first["recordedAt"].is_string());
    // A partner sees under which role it was recorded (the secretary's token names no
    // organisation), but not who recorded it.
    assert_eq!(first["actor"], Value::Null);
    assert_eq!(first["role"], "secretary");
    assert_eq!(first["organisation"], Value::Null);

    // Once told, the subscriber reads the new state from the same server at once.
    let read = partner
        .query(
            "query($id: ID!) { decision(id: $id) { id status } }",
            json!({ "id": id }),
        )
        .await
        .expect_ok();
    assert_eq!(read["decision"]["id"], json!(id));
    assert_eq!(read["decision"]["status"], "PROPOSED");

    // Every later event follows in position order, none skipped.
    let last = propose(&secretary, "dordt-west", "Nog een voorstel").await;
    let mut expected = at + 1;
    loop {
        let event = live.next_event("1").await;
        assert_eq!(event["position"], json!(expected));
        expected += 1;
        if event["aggregateId"] == json!(last) {
            break;
        }
    }
    server.stop().await;
}

async fn a_subscriber_resumes_after_a_position(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let rijk_token = t.token("Rik", Role::Rijk, None).await;
    let from = position(&secretary).await;
    let mut earlier = Vec::new();
    for title in ["Eerste", "Tweede", "Derde"] {
        earlier.push(propose(&secretary, "dordt-west", title).await);
    }

    let mut live = Live::signed_in(&server.client(), &rijk_token).await;
    live.subscribe("resume", SUBSCRIBE, json!({ "after": from }))
        .await;
    for (i, id) in earlier.iter().enumerate() {
        let event = live.next_event("resume").await;
        assert_eq!(event["position"], json!(from + 1 + i as i64));
        assert_eq!(event["aggregateId"], json!(id));
    }
    let later = propose(&secretary, "dordt-west", "Vierde").await;
    let event = live.next_event("resume").await;
    assert_eq!(event["position"], json!(from + 4));
    assert_eq!(event["aggregateId"], json!(later));
    assert_eq!(event["actor"], Value::Null, "a Rijk token sees no actors");
    assert_eq!(event["role"], "secretary", "but it sees their role");
    server.stop().await;
}

async fn a_subscriber_of_another_programme_receives_none_of_its_events(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let token = t.token("Pim", Role::Partner, Some("Woonkracht10")).await;
    establish_dordt_oost(&secretary).await;
    let from = position(&secretary).await;

    let mut live = Live::signed_in(&server.client(), &token).await;
    live.subscribe(
        "west",
        SUBSCRIBE,
        json!({ "programmeId": "dordt-west", "after": from }),
    )
    .await;
    live.subscribe(
        "oost",
        SUBSCRIBE,
        json!({ "programmeId": "dordt-oost", "after": from }),
    )
    .await;
    let mut all = Live::signed_in(&server.client(), &token).await;
    all.subscribe("all", SUBSCRIBE, json!({ "after": from }))
        .await;

    let oost = propose(&secretary, "dordt-oost", "Voorstel voor Oost").await;
    let west = propose(&secretary, "dordt-west", "Voorstel voor West").await;

    // Every programme: both, in order.
    let first = all.next_event("all").await;
    assert_eq!(first["aggregateId"], json!(oost));
    assert_eq!(first["programmeId"], "dordt-oost");
    let second = all.next_event("all").await;
    assert_eq!(second["aggregateId"], json!(west));
    assert_eq!(second["programmeId"], "dordt-west");

    // One connection carries both filtered subscriptions; each gets only its programme's
    // event, so the Dordt West subscriber's first event is the later one.
    let mut got = Vec::new();
    for _ in 0..2 {
        let message = live
            .receive(PATIENCE)
            .await
            .expect("a message")
            .expect("the connection stays open");
        assert_eq!(message["type"], "next", "{message}");
        got.push((
            message["id"].as_str().unwrap_or("").to_owned(),
            message["payload"]["data"]["eventRecorded"].clone(),
        ));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0].0, "oost");
    assert_eq!(got[0].1["aggregateId"], json!(oost));
    assert_eq!(got[0].1["position"], json!(from + 1));
    assert_eq!(got[1].0, "west");
    assert_eq!(got[1].1["aggregateId"], json!(west));
    assert_eq!(got[1].1["position"], json!(from + 2));
    assert!(
        live.receive(Duration::from_millis(300)).await.is_none(),
        "nothing else is sent"
    );

    // A programme that does not exist, a malformed one, and a negative position are refused.
    live.subscribe(
        "nowhere",
        SUBSCRIBE,
        json!({ "programmeId": "dordt-noord" }),
    )
    .await;
    assert_eq!(codes(&live.errors("nowhere").await), vec!["NOT_FOUND"]);
    live.subscribe("bad", SUBSCRIBE, json!({ "programmeId": "Dordt West!" }))
        .await;
    let errors = live.errors("bad").await;
    assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    assert_eq!(errors[0]["extensions"]["field"], "programmeId");
    live.subscribe("negative", SUBSCRIBE, json!({ "after": -1 }))
        .await;
    let errors = live.errors("negative").await;
    assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    assert_eq!(errors[0]["extensions"]["field"], "after");
    server.stop().await;
}

async fn only_valid_tokens_subscribe_to_a_server_that_does_not_read_publicly(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let client = server.client();

    // No token at all.
    let mut anonymous = Live::open(&client, None).await.expect("the upgrade");
    match anonymous.init(json!({})).await {
        Err(Refused::Closed(4403, reason)) => assert!(reason.contains("sign in"), "{reason}"),
        other => panic!("expected 4403 Forbidden, got {other:?}"),
    }
    // An unknown token in connection_init.
    let mut unknown = Live::open(&client, None).await.expect("the upgrade");
    match unknown
        .init(json!({ "Authorization": "Bearer not-a-token" }))
        .await
    {
        Err(Refused::Closed(4403, reason)) => {
            assert!(reason.contains("unknown or revoked"), "{reason}")
        }
        other => panic!("expected 4403 Forbidden, got {other:?}"),
    }
    // A revoked token.
    let revoked =
        t.db.create_token("Oud", Role::Auditor, None)
            .await
            .expect("a token");
    t.db.revoke_token(revoked.info.id)
        .await
        .expect("revoke the token");
    let mut old = Live::open(&client, None).await.expect("the upgrade");
    assert!(matches!(
        old.init(json!({ "Authorization": format!("Bearer {}", revoked.secret) }))
            .await,
        Err(Refused::Closed(4403, _))
    ));
    // An unknown token in the upgrade request is refused before upgrading.
    assert_eq!(
        Live::open(&client, Some("not-a-token")).await.err(),
        Some(Refused::Http(401))
    );
    // Without the graphql-transport-ws subprotocol there is no upgrade.
    assert_eq!(
        Live::open_with(&client, None, None).await.err(),
        Some(Refused::Http(400))
    );

    // A valid token in the upgrade request's header serves as the sign-in.
    let token = t.token("Aad", Role::Auditor, None).await;
    let mut by_header = Live::open(&client, Some(&token)).await.expect("upgrade");
    by_header.init(json!({})).await.expect("acknowledged");
    by_header
        .subscribe("q", "query { ledger { position } }", json!({}))
        .await;
    let errors = by_header.errors("q").await;
    assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("POST /graphql")),
        "{errors:?}"
    );
    server.stop().await;
}

async fn anonymous_readers_of_a_public_server_follow_only_what_is_published(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start_public(&t).await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let partner_token = t.token("Pim", Role::Partner, Some("Woonkracht10")).await;
    let from = position(&secretary).await;

    let mut anonymous = Live::open(&server.client(), None)
        .await
        .expect("the upgrade");
    anonymous.init(json!({})).await.expect("acknowledged");
    anonymous
        .subscribe("public", SUBSCRIBE, json!({ "after": from }))
        .await;
    let mut partner = Live::signed_in(&server.client(), &partner_token).await;
    partner
        .subscribe("signed-in", SUBSCRIBE, json!({ "after": from }))
        .await;

    // A meeting of the alliance (not published), then a proposal (published).
    secretary
        .query(
            "mutation { holdMeeting(input: { programmeId: \"dordt-west\", date: \"2023-09-14\",
                title: \"Alliantieoverleg\", present: [\"gemeente\", \"rijk\"] }) { programmeId } }",
            json!({}),
        )
        .await
        .expect_ok();
    let decision = propose(&secretary, "dordt-west", "Openbaar voorstel").await;

    let meeting = partner.next_event("signed-in").await;
    assert_eq!(meeting["aggregateType"], "Alliance");
    assert_eq!(meeting["eventType"], "MeetingHeld");
    assert_eq!(meeting["position"], json!(from + 1));
    assert_eq!(meeting["programmeId"], "dordt-west");
    assert_eq!(
        partner.next_event("signed-in").await["aggregateId"],
        json!(decision)
    );

    let published = anonymous.next_event("public").await;
    assert_eq!(published["position"], json!(from + 2));
    assert_eq!(published["aggregateId"], json!(decision));
    assert_eq!(published["eventType"], "DecisionProposed");
    // Who recorded it stays hidden; the role it was recorded under is institutional, and shown
    // to the public as a target's history shows it.
    assert_eq!(published["actor"], Value::Null);
    assert_eq!(published["role"], "secretary");
    assert_eq!(
        published["organisation"],
        Value::Null,
        "the token names no organisation"
    );
    server.stop().await;
}

async fn only_auditors_and_admins_see_who_recorded_an_event(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let secretary = server.client().with_token(
        &t.token("Sanne", Role::Secretary, Some("Gemeente Dordrecht"))
            .await,
    );
    let from = position(&secretary).await;
    let mut subscribers = Vec::new();
    for (name, role) in [
        ("Aad", Role::Auditor),
        ("Ada", Role::Admin),
        ("Pim", Role::Partner),
        ("Rik", Role::Rijk),
    ] {
        let organisation = (role == Role::Partner).then_some("Woonkracht10");
        let token = t.token(name, role, organisation).await;
        let mut live = Live::signed_in(&server.client(), &token).await;
        live.subscribe("1", SUBSCRIBE, json!({ "after": from }))
            .await;
        subscribers.push((role, live));
    }
    propose(&secretary, "dordt-west", "Wie heeft dit vastgelegd?").await;
    for (role, live) in &mut subscribers {
        let event = live.next_event("1").await;
        // Every signed-in reader sees the role and organisation it was recorded under, as in
        // a target's history; only auditors and admins see the actor.
        assert_eq!(event["role"], "secretary", "{role}");
        assert_eq!(event["organisation"], "Gemeente Dordrecht", "{role}");
        if role.may_read_log() {
            assert_eq!(event["actor"], "Sanne", "{role}");
        } else {
            assert_eq!(event["actor"], Value::Null, "{role}");
        }
    }
    server.stop().await;
}

async fn every_event_maps_to_the_programme_of_its_record(t: TestDb) {
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
        .clone();
    // A record of every kind the demo leaves out.
    for (mutation, input) in [
        (
            "makeCommitment",
            json!({
                "programmeId": "dordt-west", "partner": "rijk", "description": "Middelen",
                "amount": "12000000.00", "due": "2026-12-31", "decisionId": decision,
            }),
        ),
        (
            "setTarget",
            json!({
                "programmeId": "dordt-west", "indicator": "ernstig-overgewicht",
                "area": "crabbehof", "horizonYear": 2030, "comparator": "dordrecht",
                "decisionId": decision, "reason": "Groeien naar het Dordts gemiddelde",
            }),
        ),
        (
            "recordMeasurement",
            json!({
                "programmeId": "dordt-west", "indicator": "ernstig-overgewicht",
                "area": "crabbehof", "period": "2024", "value": "23.4",
                "source": "RIVM Gezondheidsmonitor", "publishedOn": "2025-03-01",
                "illustrative": true,
            }),
        ),
        (
            "planIntervention",
            json!({
                "programmeId": "dordt-west", "executionProgramme": "uitvoeringsprogramma-2024-2027",
                "pillar": "gezond-en-samen-leven", "themes": ["Gezonde leefstijl"],
                "areas": ["crabbehof"], "leadPartner": "sociaal-wijkteam",
                "title": "Buurtsportcoach Crabbehof", "description": "",
            }),
        ),
        (
            "recordResidentInput",
            json!({
                "programmeId": "dordt-west", "channel": "SESSION", "area": "crabbehof",
                "theme": "Gezonde leefstijl", "summary": "Meer sportaanbod op het plein.",
                "residents": 34, "collectedOn": "2024-03-12",
            }),
        ),
    ] {
        let input_type = format!("{}{}Input", mutation[..1].to_uppercase(), &mutation[1..]);
        secretary
            .query(
                &format!(
                    "mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ __typename }} }}"
                ),
                json!({ "input": input }),
            )
            .await
            .expect_ok();
    }
    establish_dordt_oost(&secretary).await;
    let oost = propose(&secretary, "dordt-oost", "Voorstel voor Oost").await;
    let head = t.db.head().await.expect("head");

    let token = t.token("Aad", Role::Auditor, None).await;
    let mut live = Live::signed_in(&server.client(), &token).await;
    live.subscribe("all", SUBSCRIBE, json!({ "after": 0 }))
        .await;
    let mut types = BTreeSet::new();
    for position in 1..=head {
        let event = live.next_event("all").await;
        assert_eq!(event["position"], json!(position));
        let kind = event["aggregateType"].as_str().expect("a type").to_owned();
        let expected =
            if event["aggregateId"] == "dordt-oost" || event["aggregateId"] == json!(oost) {
                "dordt-oost"
            } else {
                "dordt-west"
            };
        assert_eq!(event["programmeId"], expected, "{event}");
        types.insert(kind);
    }
    // Every kind of record there is was mapped to its programme.
    let every_kind = [
        "Alliance",
        "Commitment",
        "Decision",
        "Fund",
        "Intervention",
        "Measurement",
        "Programme",
        "ResidentInput",
        "Target",
    ];
    assert_eq!(types, every_kind.into_iter().map(str::to_owned).collect());
    server.stop().await;
}

async fn subscriptions_obey_the_request_limits(t: TestDb) {
    t.with_programme().await;
    // Aliases allowed freely, so that complexity is what refuses the query below.
    let server = TestServer::start_configured(&t, |state| state.limits.max_aliases = 10_000).await;
    let token = t.token("Aad", Role::Auditor, None).await;
    let mut live = Live::signed_in(&server.client(), &token).await;
    let fields: String = (0..2_100).map(|i| format!(" p{i}: position")).collect();
    live.subscribe(
        "complex",
        &format!("subscription {{ eventRecorded {{{fields} }} }}"),
        json!({}),
    )
    .await;
    let errors = live.errors("complex").await;
    assert_eq!(codes(&errors), vec!["BAD_USER_INPUT"]);
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("complex")),
        "{errors:?}"
    );

    // A message larger than the request body limit ends the connection.
    let padding = "x".repeat(2 * 1024 * 1024);
    live.subscribe(
        "huge",
        &format!("subscription {{ eventRecorded {{ position }} }} # {padding}"),
        json!({}),
    )
    .await;
    match live.receive(PATIENCE).await {
        Some(Err(_)) => {}
        other => panic!("expected the connection to close, got {other:?}"),
    }
    server.stop().await;
}

/// A feed that falls more than a channel's worth of announcements behind reads what it
/// missed from the log: nothing is skipped.
async fn a_feed_that_falls_behind_reads_what_it_missed_from_the_log(t: TestDb) {
    t.with_programme().await;
    let (state, projector) = api::AppState::start(t.db.clone())
        .await
        .expect("read models");
    let from = state.projection.position();
    let mut feed = state.projection.feed(None);
    let context = CommandContext {
        actor: "Sanne".into(),
        role: Role::Secretary,
        organisation: None,
        request_id: "feed".into(),
        idempotency_key: None,
        request_hash: None,
    };
    let services = state.bus.services();
    let count = 1_100;
    for i in 0..count {
        let id = DecisionId::from_uuid(uuid::Uuid::new_v4());
        let command = DecisionCommand::Propose(ProposeDecision {
            decision_id: id,
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            title: format!("Voorstel {i}"),
            description: String::new(),
        });
        state
            .bus
            .execute::<Decision>(
                &id.to_string(),
                command,
                "ProposeDecision",
                &services,
                &context,
            )
            .await
            .expect("propose");
    }
    let head = t.db.head().await.expect("head");
    assert_eq!(head, from + count);
    assert!(
        state
            .projection
            .wait_for(head, Duration::from_secs(30))
            .await
    );
    for expected in from + 1..=head {
        let event = tokio::time::timeout(PATIENCE, feed.next())
            .await
            .expect("the next event in time")
            .expect("the feed goes on")
            .expect("no error");
        assert_eq!(event.position, expected);
        assert_eq!(event.aggregate_type, Decision::TYPE);
        assert_eq!(event.programme_id.as_deref(), Some("dordt-west"));
        assert_eq!(event.actor.as_deref(), Some("Sanne"));
    }
    projector.stop().await;
    // The projector stopped: the feed ends rather than waiting for ever.
    let end = tokio::time::timeout(PATIENCE, feed.next())
        .await
        .expect("the feed ends in time");
    assert!(end.is_none());
}

async fn a_connection_that_does_not_sign_in_in_time_is_closed(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start_configured(&t, |state| {
        state.limits.websocket_init_timeout = Duration::from_secs(1);
    })
    .await;
    let token = t.token("Aad", Role::Auditor, None).await;
    let opened = Instant::now();
    let mut silent = Live::open(&server.client(), None)
        .await
        .expect("the upgrade");
    let mut prompt = Live::signed_in(&server.client(), &token).await;
    match silent.receive(PATIENCE).await {
        Some(Err((code, reason))) => {
            assert_eq!(code, 4408, "{reason}");
            assert_eq!(reason, "Connection initialisation timeout");
        }
        other => panic!("expected the connection to close with 4408, got {other:?}"),
    }
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "closed after {waited:?}, with a timeout of 1 s"
    );

    // A connection that signed in in time outlives the timeout and serves its subscriptions.
    let head = position(&server.client().with_token(&token)).await;
    prompt
        .subscribe("1", SUBSCRIBE, json!({ "after": head - 1 }))
        .await;
    assert_eq!(prompt.next_event("1").await["position"], json!(head));
    server.stop().await;
}

/// The settings reach the real binary from its flags: a silent connection is closed after the
/// `--websocket-init-timeout-secs` given, not after the default 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_takes_its_websocket_settings_from_flags() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let server = LedgerProcess::start_with(&t, &["--websocket-init-timeout-secs", "1"], &[]).await;
    let opened = Instant::now();
    let mut silent = Live::open(&server.client(), None)
        .await
        .expect("the upgrade");
    match silent.receive(PATIENCE).await {
        Some(Err((code, reason))) => assert_eq!(code, 4408, "{reason}"),
        other => panic!("expected the connection to close with 4408, got {other:?}"),
    }
    assert!(
        opened.elapsed() < Duration::from_secs(5),
        "closed after {:?}, with a timeout of 1 s",
        opened.elapsed()
    );
}

async fn the_server_pings_open_connections(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start_configured(&t, |state| {
        state.limits.websocket_keepalive = Duration::from_millis(200);
    })
    .await;
    let token = t.token("Aad", Role::Auditor, None).await;
    let mut live = Live::signed_in(&server.client(), &token).await;
    // Read the socket itself for a while: the server's pings, answered with pongs.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let mut pings = 0;
    while let Ok(message) = tokio::time::timeout_at(deadline, live.socket.next()).await {
        match message {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).expect("JSON");
                assert_eq!(message, json!({ "type": "ping" }));
                pings += 1;
                live.send(json!({ "type": "pong" })).await;
            }
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    assert!(
        (3..=9).contains(&pings),
        "{pings} pings in 1.5 s, one every 200 ms"
    );

    // The connection lives on and serves its subscriptions.
    let head = position(&server.client().with_token(&token)).await;
    live.subscribe("1", SUBSCRIBE, json!({ "after": head - 1 }))
        .await;
    assert_eq!(live.next_event("1").await["position"], json!(head));
    server.stop().await;
}

async fn a_revoked_token_ends_its_subscriptions(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start_configured(&t, |state| {
        state.limits.websocket_token_recheck = Duration::from_millis(300);
    })
    .await;
    let secretary = server
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    let in_payload =
        t.db.create_token("Pim", Role::Partner, Some("Woonkracht10"))
            .await
            .expect("a token");
    let in_header =
        t.db.create_token("Rik", Role::Rijk, None)
            .await
            .expect("a token");
    let kept = t.token("Aad", Role::Auditor, None).await;
    let from = position(&secretary).await;

    let mut by_payload = Live::signed_in(&server.client(), &in_payload.secret).await;
    let mut by_header = Live::open(&server.client(), Some(&in_header.secret))
        .await
        .expect("the upgrade");
    by_header.init(json!({})).await.expect("acknowledged");
    let mut staying = Live::signed_in(&server.client(), &kept).await;
    for live in [&mut by_payload, &mut by_header, &mut staying] {
        live.subscribe("1", SUBSCRIBE, json!({ "after": from }))
            .await;
    }
    let first = propose(&secretary, "dordt-west", "Voor iedereen").await;
    for live in [&mut by_payload, &mut by_header, &mut staying] {
        assert_eq!(live.next_event("1").await["aggregateId"], json!(first));
    }

    t.db.revoke_token(in_payload.info.id)
        .await
        .expect("revoke the token");
    t.db.revoke_token(in_header.info.id)
        .await
        .expect("revoke the token");
    let revoked = Instant::now();
    for live in [&mut by_payload, &mut by_header] {
        match live.receive(PATIENCE).await {
            Some(Err((code, reason))) => {
                assert_eq!(code, 4403, "{reason}");
                assert!(reason.contains("revoked"), "{reason}");
            }
            other => panic!("expected the connection to close with 4403, got {other:?}"),
        }
    }
    assert!(
        revoked.elapsed() < Duration::from_secs(3),
        "closed {:?} after the revocation, rechecking every 300 ms",
        revoked.elapsed()
    );

    // A connection whose token stands lives on and hears what comes next.
    let second = propose(&secretary, "dordt-west", "Na de intrekking").await;
    assert_eq!(staying.next_event("1").await["aggregateId"], json!(second));
    server.stop().await;
}

on_both_backends!(
    a_connection_that_does_not_sign_in_in_time_is_closed,
    the_server_pings_open_connections,
    a_revoked_token_ends_its_subscriptions,
    a_subscriber_receives_what_another_client_records,
    a_subscriber_resumes_after_a_position,
    a_subscriber_of_another_programme_receives_none_of_its_events,
    only_valid_tokens_subscribe_to_a_server_that_does_not_read_publicly,
    anonymous_readers_of_a_public_server_follow_only_what_is_published,
    only_auditors_and_admins_see_who_recorded_an_event,
    every_event_maps_to_the_programme_of_its_record,
    subscriptions_obey_the_request_limits,
    a_feed_that_falls_behind_reads_what_it_missed_from_the_log,
);

/// Several servers, each its own process with its own projector, on one PostgreSQL database.
mod scale_out {
    use super::*;

    /// Polls `client` until `decision(id)` is readable; returns how long that took.
    async fn readable_after(client: &GraphqlClient, id: &str) -> Duration {
        let started = Instant::now();
        loop {
            let reply = client
                .query(
                    "query($id: ID!) { decision(id: $id) { id } }",
                    json!({ "id": id }),
                )
                .await
                .expect_ok();
            if reply["decision"]["id"] == json!(id) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "decision {id} never became readable"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_servers_on_one_postgresql_database_serve_the_same_ledger() {
        let t = TestDb::new(tests::Backend::Postgres).await;
        t.with_programme().await;
        let a = LedgerProcess::start(&t).await;
        let b = LedgerProcess::start(&t).await;
        let token = t.token("Sanne", Role::Secretary, None).await;
        let (at_a, at_b) = (a.client().with_token(&token), b.client().with_token(&token));
        let from = position(&at_b).await;

        // A subscriber on B hears of what is recorded through A.
        let mut live = Live::signed_in(&b.client(), &token).await;
        live.subscribe("b", SUBSCRIBE, json!({ "after": from }))
            .await;

        let mut expected = from + 1;
        let mut waits = Vec::new();
        for round in 0..3 {
            let id = propose(&at_a, "dordt-west", &format!("Via server A, {round}")).await;
            let waited = readable_after(&at_b, &id).await;
            waits.push(waited);
            assert!(
                waited < Duration::from_secs(1),
                "a mutation through A took {waited:?} to be readable through B"
            );
            let event = live.next_event("b").await;
            assert_eq!(event["aggregateId"], json!(id));
            assert_eq!(event["position"], json!(expected));
            expected += 1;

            // And the other way round.
            let id = propose(&at_b, "dordt-west", &format!("Via server B, {round}")).await;
            let waited = readable_after(&at_a, &id).await;
            waits.push(waited);
            assert!(
                waited < Duration::from_secs(1),
                "a mutation through B took {waited:?} to be readable through A"
            );
            let event = live.next_event("b").await;
            assert_eq!(event["aggregateId"], json!(id));
            assert_eq!(event["position"], json!(expected));
            expected += 1;
        }
        // The other server's projector is woken by PostgreSQL's NOTIFY, not by its fallback
        // poll once a second (which would make the typical wait about half a second).
        waits.sort();
        assert!(
            waits[waits.len() / 2] < Duration::from_millis(250),
            "waits {waits:?}: the projectors do not wake on NOTIFY"
        );

        // Both servers stand at the same position with the same state.
        let checksum = "{ ledger { position stateChecksum } }";
        let on_a = at_a.query(checksum, json!({})).await.expect_ok();
        let on_b = at_b.query(checksum, json!({})).await.expect_ok();
        assert_eq!(on_a, on_b);
    }
}
