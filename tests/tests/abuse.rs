//! Hostile clients over real HTTP: failed sign-ins limited per client (GraphQL, its websocket
//! and the pages' sign-in), tokens and keys kept out of the logs, GraphQL's limits holding for
//! aliases, batches, fragments and directives, security headers on every answer, CORS closed,
//! CSRF refused, and the attacks of the OWASP GraphQL Cheat Sheet, each refused with its code
//! and changing nothing. `docs/reliability.md` (Abuse) has the figures.

use std::time::{Duration, Instant};

use domain::access::Role;
use futures::{SinkExt, StreamExt};
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{json, Value};
use tests::{
    cli, closed_while_sending, on_both_backends, Backend, GraphqlClient, LedgerProcess, TestDb,
    TestServer,
};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const PROPOSE: &str = "mutation($input: ProposeDecisionInput!) {
    proposeDecision(input: $input) { id title }
}";

fn proposal(title: &str) -> Value {
    json!({ "input": { "programmeId": "dordt-west", "title": title } })
}

/// An answer as it came: status, headers and body (JSON when it is JSON).
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    fn codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn message(&self) -> String {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Posts `body` as JSON to `/graphql`, with a bearer token and extra headers.
async fn post_json(
    base: &str,
    token: Option<&str>,
    body: &Value,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = http()
        .post(format!("{base}/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    Answer::of(request.send().await.expect("the ledger answers")).await
}

async fn query(base: &str, token: Option<&str>, query: &str, variables: Value) -> Answer {
    post_json(
        base,
        token,
        &json!({ "query": query, "variables": variables }),
        &[],
    )
    .await
}

/// How the server met a body over its limit. It refuses by the `Content-Length` header, before
/// reading the body, and closes the connection: the client either reads the 413 or, when it was
/// still sending the rest of the body, finds the connection closed under it.
#[derive(Debug, PartialEq, Eq)]
enum Oversized {
    Answered(u16),
    ClosedWhileSending,
}

impl Oversized {
    fn refused(&self) -> bool {
        matches!(self, Self::Answered(413) | Self::ClosedWhileSending)
    }
}

/// Posts a body over the server's limit as JSON to `/graphql`.
async fn post_oversized(base: &str, token: Option<&str>, body: &Value) -> Oversized {
    let mut request = http()
        .post(format!("{base}/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(answer) => Oversized::Answered(answer.status().as_u16()),
        Err(error) if closed_while_sending(&error) => Oversized::ClosedWhileSending,
        Err(error) => panic!("the ledger answers: {error:?}"),
    }
}

async fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = http().get(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Answer::of(request.send().await.expect("the ledger answers")).await
}

/// How many events the log holds, as an auditor reads it.
async fn log_size(auditor: &GraphqlClient) -> usize {
    auditor
        .query("{ events(first: 1000) { position } }", json!({}))
        .await
        .expect_ok()["events"]
        .as_array()
        .map_or(0, Vec::len)
}

/// A server whose clients may fail to sign in `failures` times a window of `window`.
async fn limited_server(t: &TestDb, failures: u32, window: Duration) -> TestServer {
    TestServer::start_configured(t, |state| {
        state.limits.sign_in.max_failures = failures;
        state.limits.sign_in.window = window;
    })
    .await
}

/// How a websocket sign-in ended.
#[derive(Debug, PartialEq)]
enum Socket {
    /// The upgrade was answered with this status (and `Retry-After`, when sent).
    Http(u16, Option<String>),
    /// `connection_ack`: signed in.
    Acknowledged,
    /// Closed after `connection_init` with this code and reason.
    Closed(u16, String),
}

/// Opens a graphql-transport-ws websocket, with `header_token` in the upgrade request and
/// `init_token` in `connection_init`, and says how the sign-in ended.
async fn websocket(base: &str, header_token: Option<&str>, init_token: Option<&str>) -> Socket {
    let url = format!("{}/graphql", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("a websocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    if let Some(token) = header_token {
        request.headers_mut().insert(
            "Authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).expect("a header"),
        );
    }
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Socket::Http(response.status().as_u16(), retry);
        }
        Err(e) => panic!("the websocket upgrade failed: {e}"),
    };
    let payload = match init_token {
        Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
        None => json!({}),
    };
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .expect("send connection_init");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an answer within 10 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "connection_ack" {
                    let _ = socket.close(None).await;
                    return Socket::Acknowledged;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((0, String::new()));
                return Socket::Closed(code, reason);
            }
            Some(Ok(_)) => {}
            other => panic!("the websocket ended without a close frame: {other:?}"),
        }
    }
}

/// A browser without JavaScript on the pages: keeps its cookies, follows no redirects.
struct Browser {
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("a cookie");
            let (name, value) = text
                .split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
                .expect("name=value");
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() && !text.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    async fn get(&mut self, path: &str) -> Answer {
        let response = http()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the ledger answers");
        let answer = Answer::of(response).await;
        self.keep(&answer.headers);
        answer
    }

    /// Posts a form, as this browser (its cookies) or as another site's page would.
    async fn post(&mut self, path: &str, form: &[(&str, &str)], extra: &[(&str, &str)]) -> Answer {
        let mut request = http()
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let answer = Answer::of(request.send().await.expect("the ledger answers")).await;
        self.keep(&answer.headers);
        answer
    }

    /// The value of the page's hidden field `name`.
    fn hidden(page: &Answer, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("the page has a field {name}:\n{}", page.text))
            + marker.len();
        let rest = &page.text[start..];
        rest[..rest.find('"').expect("a closing quote")].to_owned()
    }

    /// Signs in through the sign-in form with `token`.
    async fn sign_in(&mut self, token: &str) -> Answer {
        let form = self.get("/aanmelden").await;
        assert_eq!(form.status, 200, "{}", form.text);
        let csrf = Self::hidden(&form, "csrf");
        self.post(
            "/aanmelden",
            &[("token", token), ("csrf", &csrf), ("terug", "")],
            &[],
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Failed sign-ins
// ---------------------------------------------------------------------------------------------

async fn failed_sign_ins_are_limited_per_client_and_good_ones_never(t: TestDb) {
    t.with_programme().await;
    let server = limited_server(&t, 3, Duration::from_secs(60)).await;
    let base = server.client().base().to_owned();
    let secretary = t.token("Sanne", Role::Secretary, None).await;
    // This client will be refused, an auditor's token included: the log is read directly.
    let before = t.db.head().await.expect("the log's head");

    // A client with a good token is never slowed, however often it asks.
    let started = Instant::now();
    for _ in 0..50 {
        let answer = query(
            &base,
            Some(&secretary),
            "{ ledger { position } }",
            json!({}),
        )
        .await;
        assert_eq!(answer.status, 200);
        assert!(answer.codes().is_empty(), "{}", answer.text);
    }
    assert!(started.elapsed() < Duration::from_secs(20));

    // Three bad tokens are answered as such ...
    for bad in ["alt_00", "alt_11", "geen token"] {
        let answer = query(&base, Some(bad), PROPOSE, proposal("Geraden")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.codes(), vec!["UNAUTHENTICATED"], "{}", answer.text);
    }
    // ... the fourth is not even looked at: 429 with Retry-After, for any token of this client.
    for token in ["alt_22", secretary.as_str()] {
        let answer = query(&base, Some(token), PROPOSE, proposal("Geraden")).await;
        assert_eq!(answer.status, 429, "{}", answer.text);
        assert_eq!(answer.codes(), vec!["RATE_LIMITED"]);
        let retry: u64 = answer
            .header("retry-after")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_eq!(answer.body["errors"][0]["extensions"]["retryAfter"], retry);
        assert!(answer.message().contains("too many failed sign-ins"));
    }
    // Without a token there is nothing to guess: answered as always.
    let anonymous = query(&base, None, "{ ledger { position } }", json!({})).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.codes(), vec!["UNAUTHENTICATED"]);

    // The websocket and the pages' sign-in refuse this client too, before looking at the token.
    assert!(matches!(
        websocket(&base, Some(&secretary), None).await,
        Socket::Http(429, Some(_))
    ));
    match websocket(&base, None, Some(&secretary)).await {
        Socket::Closed(4403, reason) => {
            assert!(reason.contains("too many failed sign-ins"), "{reason}")
        }
        other => panic!("connection_init of a limited client: {other:?}"),
    }
    let mut browser = Browser::new(&base);
    let page = browser.sign_in(&secretary).await;
    assert_eq!(page.status, 429, "{}", page.text);
    assert!(page.header("retry-after").parse::<u64>().is_ok());
    assert!(page.text.contains("Te veel mislukte aanmeldpogingen"));
    assert_eq!(browser.cookie("al_sessie"), None, "no session");

    assert_eq!(
        t.db.head().await.expect("the log's head"),
        before,
        "nothing was recorded"
    );
    server.stop().await;
}

async fn the_pages_and_the_websocket_count_as_failures_and_the_window_ends(t: TestDb) {
    t.with_programme().await;
    let server = limited_server(&t, 3, Duration::from_secs(2)).await;
    let base = server.client().base().to_owned();
    let secretary = t.token("Sanne", Role::Secretary, None).await;

    // One bad token at the pages' sign-in, one in a websocket's upgrade, one in its
    // connection_init: three failures of one client.
    let mut browser = Browser::new(&base);
    let page = browser.sign_in("alt_niet-goed").await;
    assert_eq!(page.status, 401, "{}", page.text);
    assert_eq!(
        websocket(&base, Some("alt_fout"), None).await,
        Socket::Http(401, None)
    );
    assert!(matches!(
        websocket(&base, None, Some("alt_ook-fout")).await,
        Socket::Closed(4403, _)
    ));
    let answer = query(
        &base,
        Some(&secretary),
        "{ ledger { position } }",
        json!({}),
    )
    .await;
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.codes(), vec!["RATE_LIMITED"]);

    // Once the window has ended, the good token works again, on every way in.
    let retry: u64 = answer.header("retry-after").parse().expect("Retry-After");
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(200)).await;
    let answer = query(
        &base,
        Some(&secretary),
        "{ ledger { position } }",
        json!({}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.codes().is_empty());
    assert_eq!(
        websocket(&base, None, Some(&secretary)).await,
        Socket::Acknowledged
    );
    let signed_in = browser.sign_in(&secretary).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    assert!(browser.cookie("al_sessie").is_some());
    server.stop().await;
}

/// Backend-independent (who the client is, not what is stored): on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_and_nobody_else_forwards() {
    let t = TestDb::new(Backend::Sqlite).await;
    let secretary = t.token("Sanne", Role::Secretary, None).await;
    let proxied = TestServer::start_configured(&t, |state| {
        state.limits.sign_in.max_failures = 2;
        state.limits.sign_in.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await;
    let base = proxied.client().base().to_owned();
    let ask = |token: String, forwarded: &'static str| {
        let base = base.clone();
        async move {
            post_json(
                &base,
                Some(&token),
                &json!({ "query": "{ ledger { position } }" }),
                &[("x-forwarded-for", forwarded)],
            )
            .await
            .status
        }
    };
    assert_eq!(ask("alt_x".into(), "192.0.2.1").await, 200);
    assert_eq!(ask("alt_y".into(), "203.0.113.50, 192.0.2.1").await, 200);
    assert_eq!(ask(secretary.clone(), "192.0.2.1").await, 429);
    assert_eq!(
        ask(secretary.clone(), "192.0.2.2").await,
        200,
        "another client"
    );
    assert_eq!(
        ask(secretary.clone(), "192.0.2.1, 192.0.2.2").await,
        200,
        "the proxy names the right-most address"
    );
    proxied.stop().await;

    // Without a trusted proxy, X-Forwarded-For is the client's own word: ignored.
    let direct = limited_server(&t, 2, Duration::from_secs(60)).await;
    let base = direct.client().base().to_owned();
    for (token, forwarded) in [("alt_a", "192.0.2.1"), ("alt_b", "192.0.2.2")] {
        let answer = post_json(
            &base,
            Some(token),
            &json!({ "query": "{ ledger { position } }" }),
            &[("x-forwarded-for", forwarded)],
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    let answer = post_json(
        &base,
        Some(&secretary),
        &json!({ "query": "{ ledger { position } }" }),
        &[("x-forwarded-for", "192.0.2.3")],
    )
    .await;
    assert_eq!(
        answer.status, 429,
        "a forged X-Forwarded-For escapes nothing"
    );
    direct.stop().await;
}

/// Backend-independent (the command line's settings): on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_takes_the_sign_in_limit_from_its_flags() {
    let t = TestDb::new(Backend::Sqlite).await;
    let server = LedgerProcess::start_with(
        &t,
        &["--sign-in-failures", "2", "--sign-in-window-secs", "30"],
        &[],
    )
    .await;
    let base = format!("http://127.0.0.1:{}", server.port);
    for _ in 0..2 {
        let answer = query(
            &base,
            Some("alt_fout"),
            "{ ledger { position } }",
            json!({}),
        )
        .await;
        assert_eq!(answer.codes(), vec!["UNAUTHENTICATED"], "{}", answer.text);
    }
    let answer = query(
        &base,
        Some("alt_fout"),
        "{ ledger { position } }",
        json!({}),
    )
    .await;
    assert_eq!(answer.status, 429, "{}", answer.text);
    let retry: u64 = answer.header("retry-after").parse().expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
}

// ---------------------------------------------------------------------------------------------
// Tokens and keys never in the logs
// ---------------------------------------------------------------------------------------------

async fn tokens_and_keys_never_reach_the_logs(t: TestDb) {
    t.with_programme().await;
    let folder = tempfile::tempdir().expect("a folder");
    let key_file = folder.path().join("signing.key");
    let key_path = key_file.to_str().expect("a UTF-8 path");
    let generated = cli(
        None,
        &[
            "key",
            "generate",
            "--name",
            "abuse.test",
            "--output",
            key_path,
        ],
    );
    assert!(generated.status.success(), "{generated:?}");
    let signing_key = std::fs::read_to_string(&key_file).expect("the key file");
    let signing_key = signing_key.trim().to_owned();
    // PRIVATE+KEY+<name>+<id>+<key>: the key is the fifth part (its base64 may hold '+').
    let key_material = signing_key
        .splitn(5, '+')
        .nth(4)
        .expect("the key's last part")
        .to_owned();
    assert!(key_material.len() >= 40, "{signing_key}");

    // Tokens made on the command line: printed once on standard output, never on the log.
    let mut command_logs = String::new();
    let mut token = |actor: &str, role: &str| {
        let made = cli(
            Some(&t),
            &[
                "--log", "trace", "token", "create", "--actor", actor, "--role", role,
            ],
        );
        assert!(made.status.success(), "{made:?}");
        command_logs.push_str(&String::from_utf8_lossy(&made.stderr));
        let stdout = String::from_utf8_lossy(&made.stdout).to_string();
        stdout
            .split_whitespace()
            .find(|w| w.starts_with("alt_"))
            .unwrap_or_else(|| panic!("a token on standard output: {stdout}"))
            .to_owned()
    };
    let secretary = token("Sanne de Vries", "secretary");
    let auditor = token("Aad", "auditor");
    let revoked = token("Oud", "secretary");
    let listed = cli(Some(&t), &["token", "list"]);
    let id = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .find(|l| l.contains("Oud"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the revoked token's id")
        .to_owned();
    let revoke = cli(Some(&t), &["--log", "trace", "token", "revoke", &id]);
    assert!(revoke.status.success(), "{revoke:?}");
    command_logs.push_str(&String::from_utf8_lossy(&revoke.stderr));
    let guessed = "alt_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let metrics_token = "scrape-secret-4f1c2e";

    let mut server = LedgerProcess::start_with(
        &t,
        &[
            "--signing-key-file",
            key_path,
            "--checkpoint-every-events",
            "1",
        ],
        &[
            ("ALLIANCE_LEDGER_LOG_FORMAT", "json"),
            ("ALLIANCE_LEDGER_LOG", "trace"),
            ("ALLIANCE_LEDGER_METRICS_TOKEN", metrics_token),
        ],
    )
    .await;
    let base = format!("http://127.0.0.1:{}", server.port);

    // GraphQL: good, bad, revoked and guessed tokens; a recording; errors with a token in a
    // variable and in the query text.
    let recorded = query(&base, Some(&secretary), PROPOSE, proposal("Logboekproef")).await;
    assert!(recorded.codes().is_empty(), "{}", recorded.text);
    for bad in [revoked.as_str(), guessed, "Bearer-but-not-a-token"] {
        let answer = query(&base, Some(bad), "{ ledger { position } }", json!({})).await;
        assert_eq!(answer.codes(), vec!["UNAUTHENTICATED"]);
    }
    let in_variable = query(
        &base,
        Some(&secretary),
        "query($id: String!) { decisions(programmeId: $id) { nodes { id } } }",
        json!({ "id": secretary }),
    )
    .await;
    assert_eq!(
        in_variable.codes(),
        vec!["BAD_USER_INPUT"],
        "{}",
        in_variable.text
    );
    let wrong_type = query(
        &base,
        Some(&secretary),
        "query($at: DateTime) { programmes(asOf: $at) { nodes { id } } }",
        json!({ "at": auditor }),
    )
    .await;
    assert!(!wrong_type.codes().is_empty(), "{}", wrong_type.text);
    let in_query = query(
        &base,
        Some(&auditor),
        &format!("{{ decision(id: \"{auditor}\") {{ id }} }}"),
        json!({}),
    )
    .await;
    assert!(!in_query.codes().is_empty(), "{}", in_query.text);
    let auditor_reads = query(
        &base,
        Some(&auditor),
        "{ events(first: 5) { position } }",
        json!({}),
    )
    .await;
    assert!(auditor_reads.codes().is_empty(), "{}", auditor_reads.text);

    // Websockets: a good token in the header and in connection_init, a bad one in each.
    assert_eq!(
        websocket(&base, Some(&auditor), None).await,
        Socket::Acknowledged
    );
    assert_eq!(
        websocket(&base, None, Some(&auditor)).await,
        Socket::Acknowledged
    );
    assert_eq!(
        websocket(&base, Some(guessed), None).await,
        Socket::Http(401, None)
    );
    assert!(matches!(
        websocket(&base, None, Some(&revoked)).await,
        Socket::Closed(4403, _)
    ));

    // The pages: a bad and a good sign-in, a page with the session, signing out.
    let mut browser = Browser::new(&base);
    assert_eq!(browser.sign_in(guessed).await.status, 401);
    let signed_in = browser.sign_in(&secretary).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    let location = signed_in.header(LOCATION.as_str()).to_owned();
    let office = browser.get(&location).await;
    assert_eq!(office.status, 200);
    let csrf = Browser::hidden(&office, "csrf");
    assert_eq!(
        browser
            .post("/afmelden", &[("csrf", &csrf)], &[])
            .await
            .status,
        303
    );

    // Metrics with a wrong and the right token.
    let scrape = |token: &'static str| {
        let base = base.clone();
        async move {
            http()
                .get(format!("{base}/metrics"))
                .bearer_auth(token)
                .send()
                .await
                .expect("an answer")
                .status()
                .as_u16()
        }
    };
    assert_eq!(scrape("scrape-wrong").await, 401);
    assert_eq!(scrape(metrics_token).await, 200);

    // A graceful stop: the last checkpoint and snapshot, and their log lines.
    assert!(server.terminate().success());
    let server_log = server.log_text();
    assert!(
        server_log.contains("signed in on the pages") && server_log.contains("checkpoint"),
        "the log was written at debug level:\n{server_log}"
    );
    let logs = format!("{command_logs}\n{server_log}");
    for (what, secret) in [
        ("the secretary's token", secretary.as_str()),
        ("the auditor's token", auditor.as_str()),
        ("a revoked token", revoked.as_str()),
        ("a guessed token", guessed),
        ("the metrics token", metrics_token),
        ("the signing key", signing_key.as_str()),
        ("the signing key's material", key_material.as_str()),
        ("any token's prefix", "alt_"),
    ] {
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(secret)).collect();
        assert!(
            lines.is_empty(),
            "the logs show {what}:\n{}",
            lines.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// GraphQL's limits: aliases, batches, introspection, fragments, directives, sizes
// ---------------------------------------------------------------------------------------------

/// `n` aliases of `field` in one query.
fn aliased(n: usize, field: &str) -> String {
    let body: String = (0..n).map(|i| format!("a{i}: {field} ")).collect();
    format!("{{ {body}}}")
}

/// Backend-independent (refused before anything is read): on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aliases_batches_fragments_and_directives_count_towards_the_limits() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let base = server.client().base().to_owned();
    let auditor = t.token("Aad", Role::Auditor, None).await;
    let secretary = t.token("Sanne", Role::Secretary, None).await;
    let auditor_client = server.client().with_token(&auditor);
    let before = log_size(&auditor_client).await;

    // Aliases: 1,000 of an expensive field are refused before anything runs; 50 are served.
    let started = Instant::now();
    let answer = query(
        &base,
        Some(&auditor),
        &aliased(1_000, "events(first: 1000) { position payload }"),
        json!({}),
    )
    .await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
    assert!(
        answer.message().contains("1000 aliases"),
        "{}",
        answer.message()
    );
    assert!(answer.body["data"].is_null());
    assert!(started.elapsed() < Duration::from_secs(5));
    // Twice: the second time from the parsed document the server kept, refused all the same.
    for _ in 0..2 {
        let answer = query(&base, Some(&auditor), &aliased(51, "__typename"), json!({})).await;
        assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
    }
    let answer = query(
        &base,
        Some(&auditor),
        &aliased(50, "ledger { position }"),
        json!({}),
    )
    .await;
    assert!(answer.codes().is_empty(), "{}", answer.text);

    // Complexity counts every alias and a page by its size: where aliases are allowed freely,
    // 200 aliases of a page of 1,000 events are still too complex, 200 of a page of 10 are not.
    let many_aliases =
        TestServer::start_configured(&t, |state| state.limits.max_aliases = 10_000).await;
    let free = many_aliases.client().base().to_owned();
    let answer = query(
        &free,
        Some(&auditor),
        &aliased(200, "events(first: 1000) { position }"),
        json!({}),
    )
    .await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
    assert!(
        answer.message().contains("too complex"),
        "{}",
        answer.message()
    );
    let answer = query(
        &free,
        Some(&auditor),
        &aliased(1_000, "ledger { position }"),
        json!({}),
    )
    .await;
    assert!(
        answer.codes().is_empty(),
        "1,000 cheap aliases cost 2,000 points: {}",
        answer.message()
    );
    let answer = query(
        &free,
        Some(&auditor),
        &aliased(1_001, "ledger { position }"),
        json!({}),
    )
    .await;
    assert!(answer.message().contains("too complex"), "{}", answer.text);
    let answer = query(
        &free,
        Some(&auditor),
        &aliased(200, "events(first: 10) { position }"),
        json!({}),
    )
    .await;
    assert!(answer.codes().is_empty(), "{}", answer.text);
    many_aliases.stop().await;

    // Aliased mutations: refused whole, nothing recorded.
    let mutations: String = (0..60)
        .map(|i| format!("m{i}: proposeDecision(input: {{ programmeId: \"dordt-west\", title: \"Vloed {i}\" }}) {{ id }} "))
        .collect();
    let answer = query(
        &base,
        Some(&secretary),
        &format!("mutation {{ {mutations}}}"),
        json!({}),
    )
    .await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);

    // Batches: refused whole, with 400; none of their operations runs.
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({ "query": PROPOSE, "variables": proposal(&format!("Batch {i}")) }))
        .collect();
    let answer = post_json(&base, Some(&secretary), &Value::Array(batch), &[]).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"]);
    assert!(
        answer.message().contains("batches are not served"),
        "{}",
        answer.text
    );

    // Fragments: a cycle is refused; so is a chain of 3,000 spreads (depth), quickly, and the
    // server stays up.
    let cycle = "query { ...A } fragment A on Query { ledger { position } ...B } fragment B on Query { ...A }";
    let answer = query(&base, Some(&auditor), cycle, json!({})).await;
    assert_eq!(
        answer.codes().first().map(String::as_str),
        Some("BAD_USER_INPUT"),
        "{}",
        answer.text
    );
    assert!(
        answer.message().contains("recursion depth") || answer.message().contains("cycle"),
        "{}",
        answer.text
    );
    let mut chain = String::from("query { ...F0 } ");
    for i in 0..3_000 {
        chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }} ", i + 1));
    }
    chain.push_str("fragment F3000 on Query { ledger { position } }");
    let started = Instant::now();
    let answer = query(&base, Some(&auditor), &chain, json!({})).await;
    assert_eq!(answer.status, 200);
    assert!(
        !answer.codes().is_empty() && answer.body["data"].is_null(),
        "{}",
        answer.text
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let nested_fragments = format!(
        "query {{ ...N0 }} {} fragment N20 on Query {{ ledger {{ position }} }}",
        (0..20)
            .map(|i| format!("fragment N{i} on Query {{ programmes {{ nodes {{ programme: __typename }} }} ...N{} }}", i + 1))
            .collect::<String>()
    );
    let answer = query(&base, Some(&auditor), &nested_fragments, json!({})).await;
    assert!(
        answer.codes().is_empty() || answer.codes()[0] == "BAD_USER_INPUT",
        "{}",
        answer.text
    );

    // Directives: @skip 10,000 times on one field is refused before it is validated.
    let skips = "@skip(if: false) ".repeat(10_000);
    let started = Instant::now();
    let answer = query(
        &base,
        Some(&auditor),
        &format!("{{ ledger {skips} {{ position }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
    assert!(
        answer.message().contains("directives"),
        "{}",
        answer.message()
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // A huge string variable is bounded by the body limit.
    let huge = "x".repeat(2 * 1024 * 1024);
    let answer = post_oversized(
        &base,
        Some(&secretary),
        &json!({ "query": PROPOSE, "variables": proposal(&huge) }),
    )
    .await;
    assert!(answer.refused(), "{answer:?}");

    // Several operations without a name to choose: refused.
    let answer = query(
        &base,
        Some(&auditor),
        "query A { ledger { position } } query B { ledger { position } }",
        json!({}),
    )
    .await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);

    assert_eq!(
        log_size(&auditor_client).await,
        before,
        "nothing was recorded"
    );
    assert_eq!(
        get(&base, "/healthz", &[]).await.status,
        200,
        "the server is well"
    );
    server.stop().await;
}

/// Backend-independent (the schema's own answers): on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn introspection_and_suggestions_follow_the_setting() {
    let t = TestDb::new(Backend::Sqlite).await;
    let reader = t.token("Marieke", Role::Rijk, None).await;
    let typo = "{ ledgr { position } }";
    let introspect = "{ __schema { queryType { name } } }";
    let type_probe = "{ __type(name: \"Decision\") { fields { name } } }";

    // On (the default): the schema is published, introspection and suggestions answer.
    let open = TestServer::start(&t).await;
    let base = open.client().base().to_owned();
    let answer = query(&base, Some(&reader), introspect, json!({})).await;
    assert_eq!(
        answer.body["data"]["__schema"]["queryType"]["name"], "Query",
        "{}",
        answer.text
    );
    let answer = query(&base, Some(&reader), typo, json!({})).await;
    assert!(
        answer.message().contains("Did you mean \"ledger\""),
        "{}",
        answer.text
    );
    open.stop().await;

    // Off: neither answers, and the errors name nothing of the schema. Each probe goes twice:
    // the second time the server parses nothing (it keeps parsed documents by their text), and
    // the limits still refuse it.
    let closed = TestServer::start_configured(&t, |state| state.limits.introspection = false).await;
    let base = closed.client().base().to_owned();
    for probe in [introspect, type_probe, introspect, type_probe] {
        let answer = query(&base, Some(&reader), probe, json!({})).await;
        assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
        assert!(answer.body["data"].is_null(), "{}", answer.text);
        assert!(
            answer.message().contains("introspection") && !answer.text.contains("Decision"),
            "{}",
            answer.text
        );
    }
    let answer = query(&base, Some(&reader), typo, json!({})).await;
    assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"], "{}", answer.text);
    assert!(
        !answer.message().contains("Did you mean"),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("ledger"), "{}", answer.text);
    // The ledger itself still answers.
    let answer = query(&base, Some(&reader), "{ ledger { position } }", json!({})).await;
    assert!(answer.codes().is_empty(), "{}", answer.text);
    closed.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Security headers, CORS, CSRF
// ---------------------------------------------------------------------------------------------

fn assert_secure_headers(what: &str, answer: &Answer) {
    assert_eq!(answer.header("x-content-type-options"), "nosniff", "{what}");
    assert!(
        !answer.header("referrer-policy").is_empty(),
        "{what}: Referrer-Policy"
    );
    assert_eq!(answer.header("x-frame-options"), "DENY", "{what}");
    let csp = answer.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        answer.header("access-control-allow-origin").is_empty(),
        "{what}: CORS is closed"
    );
}

/// Backend-independent (headers of the router): on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answer_carries_the_security_headers_and_cors_stays_closed() {
    let t = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_configured(&t, |state| {
        state.limits.max_body_bytes = 4 * 1024;
    })
    .await;
    let base = server.client().base().to_owned();
    let reader = t.token("Marieke", Role::Rijk, None).await;
    let foreign = [("origin", "https://evil.example")];

    let graphiql = get(&base, "/graphql", &foreign).await;
    assert_eq!(graphiql.status, 200);
    assert_secure_headers("GraphiQL", &graphiql);
    let csp = graphiql.header("content-security-policy");
    // GraphiQL's files come from this server only (compiled into it).
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert!(
        !csp.contains("unsafe") && !csp.contains("http") && !csp.contains('*'),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self'"), "{csp}");

    let answers = [
        (
            "a query",
            post_json(
                &base,
                Some(&reader),
                &json!({ "query": "{ ledger { position } }" }),
                &foreign,
            )
            .await,
        ),
        (
            "a refused query",
            post_json(
                &base,
                Some("alt_x"),
                &json!({ "query": "{ ledger { position } }" }),
                &foreign,
            )
            .await,
        ),
        (
            "a body over the limit",
            post_json(
                &base,
                None,
                &json!({ "query": "x".repeat(8 * 1024) }),
                &foreign,
            )
            .await,
        ),
        ("/healthz", get(&base, "/healthz", &foreign).await),
        ("/metrics", get(&base, "/metrics", &foreign).await),
        (
            "a page that does not exist",
            get(&base, "/bestaat-niet", &foreign).await,
        ),
        (
            "a query in the URL",
            get(&base, "/graphql?query=%7Bledger%7Bposition%7D%7D", &foreign).await,
        ),
        ("a page", get(&base, "/aanmelden", &foreign).await),
    ];
    for (what, answer) in &answers {
        assert_secure_headers(what, answer);
    }
    assert_eq!(answers[2].1.status, 413);
    // The pages keep their own, stricter policy.
    assert!(answers[7]
        .1
        .header("content-security-policy")
        .contains("style-src 'self'"));
    assert!(answers[3]
        .1
        .header("content-security-policy")
        .starts_with("default-src 'none'"));

    // A preflight from another site is refused, and allows nothing.
    let preflight = Answer::of(
        http()
            .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert!(
        !(200..300).contains(&preflight.status),
        "preflight answered {}",
        preflight.status
    );
    for header in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-allow-credentials",
    ] {
        assert!(preflight.header(header).is_empty(), "{header}");
    }
    server.stop().await;
}

/// Backend-independent (sessions and cookies live in the server): on SQLite only. The office
/// forms' own CSRF refusals are in `pages_http`; these are the other ways a site could act for
/// a signed-in user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_site_cannot_act_for_a_signed_in_user() {
    let t = TestDb::new(Backend::Sqlite).await;
    t.with_programme().await;
    let server = TestServer::start(&t).await;
    let base = server.client().base().to_owned();
    let secretary = t.token("Sanne", Role::Secretary, None).await;
    let auditor = server
        .client()
        .with_token(&t.token("Aad", Role::Auditor, None).await);
    let before = log_size(&auditor).await;

    // Login CSRF: a sign-in posted by another site (no CSRF cookie of this site) is refused.
    let mut victim = Browser::new(&base);
    let forged = victim
        .post(
            "/aanmelden",
            &[("token", &secretary), ("csrf", "0000"), ("terug", "")],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert_eq!(victim.cookie("al_sessie"), None);

    // Signed in, the session cookie is SameSite=Strict and HttpOnly ...
    let signed_in = victim.sign_in(&secretary).await;
    assert_eq!(signed_in.status, 303);
    let set_cookie = signed_in
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("al_sessie="))
        .expect("the session cookie")
        .to_owned();
    assert!(set_cookie.contains("SameSite=Strict") && set_cookie.contains("HttpOnly"));
    // ... and even sent along, a sign-out without the session's CSRF token is refused.
    let out = victim
        .post("/afmelden", &[], &[("origin", "https://evil.example")])
        .await;
    assert_eq!(out.status, 403, "{}", out.text);
    let out = victim.post("/afmelden", &[("csrf", "0000")], &[]).await;
    assert_eq!(out.status, 403, "{}", out.text);
    let location = signed_in.header(LOCATION.as_str()).to_owned();
    assert_eq!(victim.get(&location).await.status, 200, "still signed in");

    // /graphql reads no cookie: a mutation sent with the session cookie is anonymous.
    let with_cookie = Answer::of(
        http()
            .post(format!("{base}/graphql"))
            .header(COOKIE, victim.cookie_header())
            .header(CONTENT_TYPE, "application/json")
            .header("origin", "https://evil.example")
            .body(json!({ "query": PROPOSE, "variables": proposal("Via een cookie") }).to_string())
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert_eq!(
        with_cookie.codes(),
        vec!["UNAUTHENTICATED"],
        "{}",
        with_cookie.text
    );
    // The encodings a cross-site form can send without a preflight are refused unread.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let answer = Answer::of(
            http()
                .post(format!("{base}/graphql"))
                .header(COOKIE, victim.cookie_header())
                .header(CONTENT_TYPE, content_type)
                .body(
                    json!({ "query": PROPOSE, "variables": proposal("Via een formulier") })
                        .to_string(),
                )
                .send()
                .await
                .expect("an answer"),
        )
        .await;
        assert_eq!(answer.status, 415, "{content_type}: {}", answer.text);
        assert_eq!(answer.codes(), vec!["BAD_USER_INPUT"]);
    }
    assert_eq!(log_size(&auditor).await, before, "nothing was recorded");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The OWASP GraphQL Cheat Sheet's attacks
// ---------------------------------------------------------------------------------------------

/// One attack: what it is, and whether the ledger refused it as it should.
struct Attacks {
    sent: Vec<(&'static str, bool)>,
}

impl Attacks {
    fn check(&mut self, name: &'static str, refused: bool, detail: &str) {
        assert!(refused, "{name} was not refused: {detail}");
        self.sent.push((name, refused));
    }
}

async fn the_owasp_graphql_cheat_sheet_attacks_are_refused(t: TestDb) {
    t.with_programme().await;
    let server = TestServer::start_configured(&t, |state| {
        state.limits.introspection = false;
        state.limits.sign_in.max_failures = 5;
    })
    .await;
    let base = server.client().base().to_owned();
    let secretary = t.token("Sanne", Role::Secretary, None).await;
    let auditor_token = t.token("Aad", Role::Auditor, None).await;
    let auditor = server.client().with_token(&auditor_token);
    let mut attacks = Attacks { sent: Vec::new() };
    let mut expected_log = log_size(&auditor).await;

    // Introspection (off on this server).
    let answer = query(
        &base,
        Some(&secretary),
        "{ __schema { types { name fields { name } } } }",
        json!({}),
    )
    .await;
    attacks.check(
        "introspection (__schema)",
        answer.codes() == ["BAD_USER_INPUT"] && !answer.text.contains("ProposeDecisionInput"),
        &answer.text,
    );
    let answer = query(
        &base,
        Some(&secretary),
        "{ __type(name: \"Mutation\") { fields { name } } }",
        json!({}),
    )
    .await;
    attacks.check(
        "introspection (__type)",
        !answer.codes().is_empty() && !answer.text.contains("proposeDecision"),
        &answer.text,
    );
    // Field suggestion probing.
    let answer = query(
        &base,
        Some(&secretary),
        "mutation { propose { id } }",
        json!({}),
    )
    .await;
    attacks.check(
        "field suggestions",
        answer.codes() == ["BAD_USER_INPUT"]
            && !answer.text.contains("Did you mean")
            && !answer.text.contains("proposeDecision"),
        &answer.text,
    );

    // Batching to try many tokens' worth of operations at once.
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({ "query": format!("{{ decision(id: \"00000000-0000-4000-8000-{i:012}\") {{ title }} }}") }))
        .collect();
    let answer = post_json(&base, Some(&secretary), &Value::Array(batch), &[]).await;
    attacks.check(
        "batched operations",
        answer.status == 400 && answer.codes() == ["BAD_USER_INPUT"],
        &answer.text,
    );

    // Brute force of tokens: each request carries one; after 5 failures the client is refused
    // without its tokens being looked at.
    let mut statuses = Vec::new();
    for i in 0..8 {
        let guess = format!("alt_{i:064x}");
        statuses.push(
            query(&base, Some(&guess), "{ ledger { position } }", json!({}))
                .await
                .status,
        );
    }
    attacks.check(
        "token brute force",
        statuses[..5].iter().all(|s| *s == 200) && statuses[5..].iter().all(|s| *s == 429),
        &format!("{statuses:?}"),
    );
    // The limit holds for this client whatever it sends now; the rest of the suite uses a
    // fresh server, as another client would.
    server.stop().await;
    let server = TestServer::start_configured(&t, |state| state.limits.introspection = false).await;
    let base = server.client().base().to_owned();
    let auditor = server.client().with_token(&auditor_token);

    // Alias-based brute force (guessing record ids in one request).
    let guesses: String = (0..200)
        .map(|i| format!("g{i}: decision(id: \"00000000-0000-4000-8000-{i:012}\") {{ title }} "))
        .collect();
    let answer = query(
        &base,
        Some(&secretary),
        &format!("{{ {guesses}}}"),
        json!({}),
    )
    .await;
    attacks.check(
        "alias brute force",
        answer.codes() == ["BAD_USER_INPUT"] && answer.body["data"].is_null(),
        &answer.text,
    );
    // Alias-based mutation flooding.
    let flood: String = (0..100)
        .map(|i| format!("m{i}: proposeDecision(input: {{ programmeId: \"dordt-west\", title: \"Vloed {i}\" }}) {{ id }} "))
        .collect();
    let answer = query(
        &base,
        Some(&secretary),
        &format!("mutation {{ {flood}}}"),
        json!({}),
    )
    .await;
    attacks.check(
        "aliased mutations",
        answer.codes() == ["BAD_USER_INPUT"],
        &answer.text,
    );

    // Deep recursion: by the parser's bound and by the depth limit.
    let nested = |levels: usize| {
        format!(
            "{{ {}position{} }}",
            "ledger { ".repeat(levels),
            " }".repeat(levels)
        )
    };
    for (name, levels, says) in [
        ("deep recursion (parser)", 40, "recursion depth"),
        ("deep recursion (depth limit)", 20, "nested too deep"),
    ] {
        let answer = query(&base, Some(&secretary), &nested(levels), json!({})).await;
        attacks.check(
            name,
            answer.codes() == ["BAD_USER_INPUT"]
                && answer.body["data"].is_null()
                && answer.message().contains(says),
            &answer.text,
        );
    }
    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let answer = query(&base, Some(&secretary), cycle, json!({})).await;
    attacks.check(
        "fragment cycle",
        answer.codes().first().map(String::as_str) == Some("BAD_USER_INPUT"),
        &answer.text,
    );

    // Resource exhaustion by pagination.
    let answer = query(
        &base,
        Some(&secretary),
        "{ decisions(programmeId: \"dordt-west\", first: 1000000) { nodes { title } } }",
        json!({}),
    )
    .await;
    attacks.check(
        "pagination first: 1000000",
        answer.codes() == ["BAD_USER_INPUT"]
            && answer.body["errors"][0]["extensions"]["field"] == "first",
        &answer.text,
    );
    let answer = query(
        &base,
        Some(&auditor_token),
        "{ events(first: 1000000) { position } }",
        json!({}),
    )
    .await;
    attacks.check(
        "log pagination first: 1000000",
        answer.codes() == ["BAD_USER_INPUT"]
            && answer.body["errors"][0]["extensions"]["field"] == "first",
        &answer.text,
    );

    // Directive overloading.
    let answer = query(
        &base,
        Some(&secretary),
        &format!(
            "{{ ledger {} {{ position }} }}",
            "@skip(if: false) ".repeat(10_000)
        ),
        json!({}),
    )
    .await;
    attacks.check(
        "directive overloading",
        answer.codes() == ["BAD_USER_INPUT"],
        &answer.text,
    );

    // Injection in string arguments: stored verbatim by bound parameters, the log intact.
    let injection = "'; DROP TABLE events; --";
    let answer = query(&base, Some(&secretary), PROPOSE, proposal(injection)).await;
    assert!(answer.codes().is_empty(), "{}", answer.text);
    expected_log += 1;
    let id = answer.body["data"]["proposeDecision"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let stored = query(
        &base,
        Some(&secretary),
        "query($id: ID!) { decision(id: $id) { title } }",
        json!({ "id": id }),
    )
    .await;
    let events = auditor
        .query(
            "{ events(first: 1000, aggregateType: \"Decision\") { payload } }",
            json!({}),
        )
        .await
        .expect_ok();
    attacks.check(
        "SQL injection in a title",
        stored.body["data"]["decision"]["title"] == injection
            && events["events"][0]["payload"]["DecisionProposed"]["title"] == injection
            && log_size(&auditor).await == expected_log,
        &stored.text,
    );
    let answer = query(
        &base,
        Some(&auditor_token),
        "{ events(first: 1000, actor: \"' OR '1'='1\") { position } }",
        json!({}),
    )
    .await;
    attacks.check(
        "SQL injection in a filter",
        answer.codes().is_empty() && answer.body["data"]["events"] == json!([]),
        &answer.text,
    );
    let answer = query(
        &base,
        Some(&auditor_token),
        "{ events(first: 1000, aggregateType: \"Decision' OR 1=1 --\") { position } }",
        json!({}),
    )
    .await;
    attacks.check(
        "SQL injection in a type filter",
        answer.body["data"]["events"] == json!([]) || answer.codes() == ["BAD_USER_INPUT"],
        &answer.text,
    );

    // CSRF by GET: a mutation in a link.
    let link = reqwest::Url::parse_with_params(
        &format!("{base}/graphql"),
        [("query", "mutation { proposeDecision(input: {programmeId: \"dordt-west\", title: \"Via GET\"}) { id } }")],
    )
    .expect("a URL");
    let answer = Answer::of(
        http()
            .get(link)
            .bearer_auth(&secretary)
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    attacks.check(
        "mutation over GET",
        answer.status == 405 && answer.codes() == ["BAD_USER_INPUT"],
        &answer.text,
    );
    // CSRF by a cross-site form (text/plain, no preflight).
    let answer = Answer::of(
        http()
            .post(format!("{base}/graphql"))
            .header(CONTENT_TYPE, "text/plain")
            .bearer_auth(&secretary)
            .body(
                json!({ "query": PROPOSE, "variables": proposal("Via een formulier") }).to_string(),
            )
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    attacks.check("cross-site form post", answer.status == 415, &answer.text);

    // Oversized payloads: a query and a variable beyond the body limit.
    let huge = "x".repeat(2 * 1024 * 1024);
    let answer = post_oversized(
        &base,
        Some(&secretary),
        &json!({ "query": format!("{{ ledger {{ position }} }} # {huge}") }),
    )
    .await;
    attacks.check("oversized query", answer.refused(), &format!("{answer:?}"));
    let answer = post_oversized(
        &base,
        Some(&secretary),
        &json!({ "query": PROPOSE, "variables": proposal(&huge) }),
    )
    .await;
    attacks.check(
        "oversized variable",
        answer.refused(),
        &format!("{answer:?}"),
    );

    assert_eq!(
        log_size(&auditor).await,
        expected_log,
        "only the verbatim title was recorded"
    );
    let sent = attacks.sent.len();
    let refused = attacks.sent.iter().filter(|(_, r)| *r).count();
    println!("OWASP GraphQL Cheat Sheet attacks sent: {sent}, refused: {refused}");
    assert_eq!(
        (sent, refused),
        (20, 20),
        "the suite's count in docs/reliability.md"
    );
    server.stop().await;
}

on_both_backends!(
    failed_sign_ins_are_limited_per_client_and_good_ones_never,
    the_pages_and_the_websocket_count_as_failures_and_the_window_ends,
    tokens_and_keys_never_reach_the_logs,
    the_owasp_graphql_cheat_sheet_attacks_are_refused,
);
