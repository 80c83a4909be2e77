//! Running the ledger: `GET /metrics` in the Prometheus text format, request ids, and the
//! structured log, over real HTTP.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use domain::access::Role;
use serde_json::{json, Value};
use tests::{fixtures, on_both_backends, Backend, LedgerProcess, TestDb, TestServer};

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id status }
}";
const ADOPT: &str = "mutation($input: DecideInput!) {
    adoptDecision(input: $input) { id status }
}";
const EVENTS: &str = "query { events(first: 1000) { aggregateType metadata } }";

fn proposal(title: &str, key: Option<&str>) -> Value {
    let mut input = json!({ "programmeId": "dordt-west", "title": title });
    if let Some(key) = key {
        input["idempotencyKey"] = json!(key);
    }
    json!({ "input": input })
}

/// An adoption that the only vote cast is against: refused under the adoption rule.
fn lost_adoption(id: &str) -> Value {
    json!({ "input": {
        "decisionId": id,
        "meetingId": fixtures::meeting_id().to_string(),
        "votes": [{ "member": "gemeente", "choice": "AGAINST" }]
    }})
}

/// One sample of a scrape: its metric name, labels and value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape, parsed as the Prometheus text format (version 0.0.4); panics on any line that is
/// not a comment, a `# HELP`/`# TYPE` line or a sample of a declared family.
#[derive(Debug)]
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let mut types = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "unknown metric type in {line:?}"
                );
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with("# HELP ") || line.starts_with('#') {
                continue;
            }
            let sample = parse_sample(line);
            let family = ["_bucket", "_sum", "_count", ""]
                .iter()
                .filter_map(|suffix| sample.name.strip_suffix(suffix))
                .find(|family| types.contains_key(*family));
            assert!(
                family.is_some(),
                "the sample {line:?} belongs to no family declared before it"
            );
            samples.push(sample);
        }
        Self { types, samples }
    }

    /// The value of the sample with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// The sum over every sample of `name` that has these labels (and maybe others).
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    }

    fn gauge(&self, name: &str) -> f64 {
        assert_eq!(self.types.get(name).map(String::as_str), Some("gauge"));
        self.value(name, &[])
            .unwrap_or_else(|| panic!("no gauge {name}"))
    }
}

/// `name{label="value",...} number` or `name number`.
fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "bad metric name in {line:?}"
    );
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let end;
        loop {
            let (start, c) = chars
                .next()
                .unwrap_or_else(|| panic!("open {{ in {line:?}"));
            if c == '}' {
                end = start;
                break;
            }
            if c == ',' {
                continue;
            }
            let mut key = String::from(c);
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "in {line:?}");
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c) => value.push(c),
                        None => panic!("unterminated label value in {line:?}"),
                    },
                    Some(c) => value.push(c),
                    None => panic!("unterminated label value in {line:?}"),
                }
            }
            labels.insert(key, value);
        }
        rest = &inner[end + 1..];
    }
    let value = rest.trim();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value {v:?} in {line:?}")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// `GET /metrics`: status, content type and the parsed text.
async fn scrape(base: &str) -> (u16, String, Exposition, String) {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("the ledger answers /metrics");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("a body");
    let parsed = Exposition::parse(&text);
    (status, content_type, parsed, text)
}

async fn metrics_count_requests_commands_and_errors(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let base = server.client().base().to_owned();
    let secretary_secret = t.token("Sanne", Role::Secretary, None).await;
    let secretary = server.client().with_token(&secretary_secret);
    let auditor_secret = t.token("Aad", Role::Auditor, None).await;
    let auditor = server.client().with_token(&auditor_secret);

    let first = secretary
        .query(
            PROPOSE,
            proposal("Speelplek Wielwijk", Some("ops/propose-1")),
        )
        .await
        .expect_ok();
    let id = first["proposeDecision"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let again = secretary
        .query(
            PROPOSE,
            proposal("Speelplek Wielwijk", Some("ops/propose-1")),
        )
        .await
        .expect_ok();
    assert_eq!(again["proposeDecision"]["id"], json!(id));
    let refused = secretary.query(ADOPT, lost_adoption(&id)).await;
    assert_eq!(refused.error_codes(), vec!["RULE_VIOLATED"]);
    let forbidden = auditor
        .query(PROPOSE, proposal("Niet van de auditor", None))
        .await;
    assert_eq!(forbidden.error_codes(), vec!["FORBIDDEN"]);
    let unknown_field = secretary.query("{ nope }", json!({})).await;
    assert_eq!(unknown_field.error_codes(), vec!["BAD_USER_INPUT"]);
    let unparsable = secretary.query("mutation {", json!({})).await;
    assert_eq!(unparsable.error_codes(), vec!["BAD_USER_INPUT"]);

    let (status, content_type, m, text) = scrape(&base).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );

    let commands = "alliance_ledger_commands_total";
    assert_eq!(m.types.get(commands).map(String::as_str), Some("counter"));
    let command =
        |name: &str, outcome: &str| m.value(commands, &[("command", name), ("outcome", outcome)]);
    assert_eq!(command("ProposeDecision", "recorded"), Some(1.0), "{text}");
    assert_eq!(command("ProposeDecision", "replayed"), Some(1.0), "{text}");
    assert_eq!(command("AdoptDecision", "refused"), Some(1.0), "{text}");
    assert_eq!(
        m.sum(commands, &[]),
        3.0,
        "the forbidden proposal never reached the command bus: {text}"
    );

    let errors = "alliance_ledger_graphql_errors_total";
    assert_eq!(m.value(errors, &[("code", "RULE_VIOLATED")]), Some(1.0));
    assert_eq!(m.value(errors, &[("code", "FORBIDDEN")]), Some(1.0));
    assert_eq!(m.value(errors, &[("code", "BAD_USER_INPUT")]), Some(2.0));
    assert_eq!(m.sum(errors, &[]), 4.0, "{text}");

    let operations = "alliance_ledger_graphql_operations_total";
    let operation = |kind: &str, outcome: &str| {
        m.value(operations, &[("operation", kind), ("outcome", outcome)])
    };
    assert_eq!(operation("mutation", "ok"), Some(2.0), "{text}");
    assert_eq!(operation("mutation", "error"), Some(2.0), "{text}");
    assert_eq!(operation("query", "error"), Some(1.0), "{text}");
    assert_eq!(operation("unknown", "error"), Some(1.0), "{text}");

    let requests = "alliance_ledger_http_requests_total";
    assert_eq!(
        m.sum(requests, &[("method", "POST"), ("route", "/graphql")]),
        6.0,
        "{text}"
    );
    let latency = "alliance_ledger_http_request_duration_seconds";
    assert_eq!(m.types.get(latency).map(String::as_str), Some("histogram"));
    assert_eq!(
        m.value(&format!("{latency}_count"), &[("route", "/graphql")]),
        Some(6.0)
    );
    assert_eq!(
        m.value(
            &format!("{latency}_bucket"),
            &[("route", "/graphql"), ("le", "+Inf")]
        ),
        Some(6.0)
    );
    let sum = m
        .value(&format!("{latency}_sum"), &[("route", "/graphql")])
        .expect("a latency sum");
    assert!(sum > 0.0 && sum < 60.0, "{sum}");

    let head = t.db.head().await.expect("head") as f64;
    assert_eq!(m.gauge("alliance_ledger_log_head_position"), head);
    assert_eq!(m.gauge("alliance_ledger_projector_position"), head);
    assert_eq!(m.gauge("alliance_ledger_projector_lag_events"), 0.0);
    assert_eq!(m.gauge("alliance_ledger_database_up"), 1.0);

    for secret in ["Sanne", "Aad", &secretary_secret, &auditor_secret, "alt_"] {
        assert!(!text.contains(secret), "/metrics shows {secret:?}:\n{text}");
    }

    // The scrape itself is counted by the next one.
    let (_, _, m, _) = scrape(&base).await;
    assert_eq!(
        m.value(
            requests,
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        ),
        Some(1.0)
    );
    server.stop().await;
}

async fn each_server_counts_its_own_and_sees_the_same_head(t: TestDb) {
    t.with_programme().await;
    let a = TestServer::start(&t).await;
    let b = TestServer::start(&t).await;
    let secretary = a
        .client()
        .with_token(&t.token("Sanne", Role::Secretary, None).await);
    secretary
        .query(PROPOSE, proposal("Buurthuis Crabbehof", None))
        .await
        .expect_ok();
    let head = t.db.head().await.expect("head") as f64;

    let (_, _, on_a, _) = scrape(a.client().base()).await;
    assert_eq!(
        on_a.value(
            "alliance_ledger_commands_total",
            &[("command", "ProposeDecision"), ("outcome", "recorded")]
        ),
        Some(1.0)
    );

    // Server b recorded nothing and answered no GraphQL, but follows the same log.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, on_b, text) = scrape(b.client().base()).await;
        assert_eq!(
            on_b.sum("alliance_ledger_commands_total", &[]),
            0.0,
            "{text}"
        );
        assert_eq!(
            on_b.sum(
                "alliance_ledger_http_requests_total",
                &[("route", "/graphql")]
            ),
            0.0,
            "{text}"
        );
        assert_eq!(on_b.gauge("alliance_ledger_log_head_position"), head);
        if on_b.gauge("alliance_ledger_projector_lag_events") == 0.0 {
            assert_eq!(on_b.gauge("alliance_ledger_projector_position"), head);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server b did not catch up in 10 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.stop().await;
    b.stop().await;
}

on_both_backends!(
    metrics_count_requests_commands_and_errors,
    each_server_counts_its_own_and_sees_the_same_head,
);

/// Sends a request with the given `x-request-id` (none when `None`); returns the id answered.
async fn answered_id(request: reqwest::RequestBuilder, sent: Option<&str>) -> String {
    let request = match sent {
        Some(id) => request.header("x-request-id", id),
        None => request,
    };
    let response = request.send().await.expect("the ledger answers");
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("every response names its request id")
        .to_owned()
}

fn is_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

#[tokio::test]
async fn a_sane_request_id_is_kept_and_recorded_and_any_other_replaced() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let base = server.client().base().to_owned();
    let secret = t.token("Sanne", Role::Secretary, None).await;
    let http = reqwest::Client::new();
    let propose = |title: &str| {
        http.post(format!("{base}/graphql"))
            .bearer_auth(&secret)
            .json(&json!({ "query": PROPOSE, "variables": proposal(title, None) }))
    };

    assert_eq!(
        answered_id(propose("Groene schoolpleinen"), Some("abc-123")).await,
        "abc-123"
    );
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let events = auditor.query(EVENTS, json!({})).await.expect_ok();
    let decision = events["events"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["aggregateType"] == "Decision")
        .cloned()
        .expect("the proposal's event");
    assert_eq!(decision["metadata"]["request_id"], "abc-123");

    for path in ["/healthz", "/metrics", "/no-such-page"] {
        let get = http.get(format!("{base}{path}"));
        assert_eq!(answered_id(get, Some("probe-7")).await, "probe-7", "{path}");
    }

    let oversized = "a".repeat(200);
    for bad in [oversized.as_str(), "two words", "abc/123", "{\"x\":1}", ""] {
        let answered = answered_id(http.get(format!("{base}/healthz")), Some(bad)).await;
        assert_ne!(answered, bad);
        assert!(is_uuid(&answered), "{bad:?} was replaced by {answered:?}");
    }
    let first = answered_id(http.get(format!("{base}/healthz")), None).await;
    let second = answered_id(http.get(format!("{base}/healthz")), None).await;
    assert!(is_uuid(&first) && is_uuid(&second) && first != second);
    server.stop().await;
}

#[tokio::test]
async fn a_metrics_token_keeps_metrics_from_others() {
    let t = TestDb::new(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (mut state, projector) = api::AppState::start(t.db.clone())
        .await
        .expect("read models");
    state.metrics_token = Some(api::MetricsToken::new("scrape-me"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(api::serve_on(listener, state, async move {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let get = |token: Option<&str>| {
        let request = http.get(format!("{base}/metrics"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    for token in [None, Some("wrong"), Some("")] {
        let response = get(token).send().await.expect("an answer");
        assert_eq!(response.status().as_u16(), 401, "{token:?}");
        let body = response.text().await.expect("body");
        assert!(body.contains("metrics token"), "{body}");
        assert!(!body.contains("alliance_ledger_"), "{body}");
    }
    let response = get(Some("scrape-me")).send().await.expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let m = Exposition::parse(&response.text().await.expect("body"));
    assert_eq!(
        m.sum(
            "alliance_ledger_http_requests_total",
            &[("route", "/metrics"), ("status", "401")]
        ),
        3.0
    );
    // Everything else needs no metrics token.
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(health.status().as_u16(), 200);

    let _ = stop.send(());
    served.await.expect("join").expect("served");
    projector.stop().await;
}

fn request_id_of(line: &Value) -> Option<&str> {
    line["fields"]["request_id"]
        .as_str()
        .or_else(|| line["span"]["request_id"].as_str())
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_never_the_token() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let secret = t.token("Sanne", Role::Secretary, None).await;
    let json_logs = [
        ("ALLIANCE_LEDGER_LOG_FORMAT", "json"),
        ("ALLIANCE_LEDGER_LOG", "info"),
    ];
    let server = LedgerProcess::start_with(&t, &[], &json_logs).await;
    let base = format!("http://127.0.0.1:{}", server.port);
    let http = reqwest::Client::new();
    for (id, title) in [("log-check-1", "Wijkagent Wielwijk"), ("log-check-2", "")] {
        let response = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&secret)
            .header("x-request-id", id)
            .json(&json!({ "query": PROPOSE, "variables": proposal(title, None) }))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 200);
    }

    // Log lines are written as they happen; wait for the last request's line.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines: Vec<Value> = server
            .log_text()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l}"))
            })
            .collect();
        let done = lines.iter().any(|l| {
            l["fields"]["message"] == "request" && request_id_of(l) == Some("log-check-2")
        });
        if done {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "no request line for log-check-2:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let find = |message: &str, id: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["message"] == message && request_id_of(l) == Some(id))
            .unwrap_or_else(|| panic!("no {message:?} line for {id}:\n{}", server.log_text()))
    };
    let recorded = find("command", "log-check-1");
    assert_eq!(recorded["fields"]["command"], "ProposeDecision");
    assert_eq!(recorded["fields"]["outcome"], "recorded");
    let refused = find("command", "log-check-2");
    assert_eq!(refused["fields"]["outcome"], "refused");
    let request = find("request", "log-check-1");
    assert_eq!(request["span"]["status"], 200);
    assert!(request["span"]["ms"].is_u64());
    assert_eq!(request["span"]["method"], "POST");
    assert_eq!(request["span"]["route"], "/graphql");

    let text = server.log_text();
    assert!(!text.contains(&secret), "the log shows a token");
    assert!(!text.contains("alt_"), "the log shows a token");
}

/// Subscribes over graphql-transport-ws with `token` and returns the first message's payload.
async fn first_subscription_payload(base: &str, token: &str, query: &str) -> Value {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let url = format!("{}/graphql", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a websocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the websocket upgrade");
    let messages = [
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }),
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    ];
    for message in messages {
        socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an answer within 10 s")
            .expect("the connection stays open")
            .expect("a message");
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).expect("JSON");
        if value["type"] == "next" && value["id"] == "1" {
            let _ = socket.close(None).await;
            return value["payload"].clone();
        }
        assert!(
            ["connection_ack", "ping", "pong"].contains(&value["type"].as_str().unwrap_or("")),
            "unexpected message {value}"
        );
    }
}

#[tokio::test]
async fn subscriptions_are_counted_with_their_errors() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let base = server.client().base().to_owned();
    let token = t.token("Aad", Role::Auditor, None).await;

    let payload = first_subscription_payload(
        &base,
        &token,
        "subscription { eventRecorded(after: 0) { position } }",
    )
    .await;
    assert_eq!(payload["data"]["eventRecorded"]["position"], 1, "{payload}");
    let payload = first_subscription_payload(&base, &token, "subscription { nope }").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{payload}"
    );

    let (_, _, m, text) = scrape(&base).await;
    let operations = "alliance_ledger_graphql_operations_total";
    for outcome in ["ok", "error"] {
        assert_eq!(
            m.value(
                operations,
                &[("operation", "subscription"), ("outcome", outcome)]
            ),
            Some(1.0),
            "{text}"
        );
    }
    assert_eq!(
        m.value(
            "alliance_ledger_graphql_errors_total",
            &[("code", "BAD_USER_INPUT")]
        ),
        Some(1.0),
        "{text}"
    );
    server.stop().await;
}
