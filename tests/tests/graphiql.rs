//! GraphiQL on `GET /graphql`, self-contained: its files are served by the ledger itself under
//! `/graphiql/`, with their content types and cache headers, and GraphiQL runs in a real
//! browser (headless Chromium, `tests/src/browser.rs`) that can resolve no name but this
//! machine's, under a content security policy of `'self'` only: it renders, runs a query with
//! the bearer token set in its headers pane and shows the answer, runs a subscription over the
//! websocket on `/graphql` signed in with the same headers, and nothing it loads comes from
//! elsewhere.
//!
//! The HTTP surface is the router's and backend-independent: SQLite only.

use std::time::Duration;

use domain::access::Role;
use serde_json::{json, Value};
use tests::{Backend, Browser, TestDb, TestServer};

/// The files under `api/assets/graphiql/` the server must serve byte for byte, by name, with
/// their content type and whether their name carries a version (cached for good) or not.
const ASSETS: &[(&str, &str, bool)] = &[
    ("react-18.3.1.production.min.js", "text/javascript", true),
    (
        "react-dom-18.3.1.production.min.js",
        "text/javascript",
        true,
    ),
    ("graphiql-4.1.2.min.js", "text/javascript", true),
    ("graphiql-4.1.2.min.css", "text/css", true),
    ("graphiql-start.js", "text/javascript", false),
    ("graphiql-page.css", "text/css", false),
];

fn asset_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../api/assets/graphiql")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphiqls_files_are_served_with_their_content_types() {
    let t = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&t).await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();

    // The page loads its scripts and stylesheets from this server's `/graphiql/` only.
    let page = http
        .get(format!("{base}/graphql"))
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(page.status(), 200);
    assert!(
        header(&page, "content-type").starts_with("text/html"),
        "{:?}",
        page.headers()
    );
    let csp = header(&page, "content-security-policy").to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    let html = page.text().await.expect("the page");
    let mut loaded: Vec<String> = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for rest in html.split(attribute).skip(1) {
            let url = &rest[..rest.find('"').expect("a closing quote")];
            if url != "data:," {
                loaded.push(url.to_owned());
            }
        }
    }
    let mut expected: Vec<String> = ASSETS
        .iter()
        .map(|(name, _, _)| format!("/graphiql/{name}"))
        .collect();
    loaded.sort();
    expected.sort();
    assert_eq!(loaded, expected, "the page loads every file and only those");

    for (name, content_type, versioned) in ASSETS {
        let answer = http
            .get(format!("{base}/graphiql/{name}"))
            .send()
            .await
            .expect("GET an asset");
        assert_eq!(answer.status(), 200, "{name}");
        assert_eq!(
            header(&answer, "content-type"),
            format!("{content_type}; charset=utf-8"),
            "{name}"
        );
        assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
        let cache = header(&answer, "cache-control").to_owned();
        if *versioned {
            assert!(cache.contains("immutable") && cache.contains("max-age=31536000"));
        } else {
            assert_eq!(cache, "no-cache", "{name}");
        }
        let body = answer.bytes().await.expect("the body");
        assert!(body[..] == asset_file(name)[..], "{name} is served as is");
    }

    for missing in ["graphiql-4.0.0.min.js", "README.txt", "..%2FCargo.toml"] {
        let answer = http
            .get(format!("{base}/graphiql/{missing}"))
            .send()
            .await
            .expect("GET a missing asset");
        assert_eq!(answer.status(), 404, "{missing}");
    }
    server.stop().await;
}

/// The text of the CodeMirror editor inside `selector`.
async fn editor_text(browser: &Browser, selector: &str) -> String {
    browser
        .eval(
            "const e = document.querySelector(arguments[0]);\
             return e && e.CodeMirror ? e.CodeMirror.getValue() : '';",
            vec![json!(selector)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Puts `text` into the CodeMirror editor inside `selector`, as typing it would.
async fn set_editor_text(browser: &Browser, selector: &str, text: &str) {
    browser.wait_for(selector).await;
    browser
        .eval(
            "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1]);",
            vec![json!(selector), json!(text)],
        )
        .await;
}

/// Clicks Run and waits until the result pane shows an answer other than `before`.
async fn run(browser: &Browser, before: &str) -> String {
    browser
        .wait_for(".graphiql-execute-button")
        .await
        .click()
        .await
        .expect("click Run");
    for _ in 0..300 {
        let text = editor_text(browser, ".graphiql-response .CodeMirror").await;
        if !text.trim().is_empty() && text != before {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "GraphiQL showed no answer; on the {}",
        browser.describe().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphiql_runs_a_query_and_a_subscription_with_a_bearer_token_without_the_internet() {
    let t = TestDb::new(Backend::Sqlite).await;
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    // Not public: reading needs the token set in GraphiQL's headers pane.
    let server = TestServer::start(&t).await;
    let token = t.token("Marieke", Role::Rijk, None).await;
    let browser = Browser::start(&server).await;
    browser.open("/graphql").await;
    browser.wait_for(".graphiql-container").await;
    // GraphiQL's stylesheet applies (the policy let it load): its layout is a flex box.
    let display = browser
        .eval(
            "return getComputedStyle(document.querySelector('.graphiql-container')).display;",
            vec![],
        )
        .await;
    assert_eq!(display, json!("flex"));

    let query = ".graphiql-query-editor .CodeMirror";
    set_editor_text(&browser, query, "{ programmes { nodes { id } } }").await;
    let refused = run(&browser, "").await;
    assert!(!refused.contains("dordt-west"), "{refused}");
    assert!(refused.contains("errors"), "without a token: {refused}");

    // The headers pane, as a user opens and fills it.
    let opened = browser
        .eval(
            "const tab = [...document.querySelectorAll('.graphiql-editor-tools button')]\
                 .find(b => b.textContent.trim() === 'Headers');\
             if (!tab) return false; tab.click(); return true;",
            vec![],
        )
        .await;
    assert_eq!(opened, json!(true), "a Headers tab");
    let headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
    set_editor_text(
        &browser,
        headers,
        &json!({ "Authorization": format!("Bearer {token}") }).to_string(),
    )
    .await;
    let answer = run(&browser, &refused).await;
    let answer: Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("the result pane shows JSON ({e}): {answer}"));
    assert!(answer.get("errors").is_none(), "{answer}");
    let ids: Vec<&str> = answer["data"]["programmes"]["nodes"]
        .as_array()
        .expect("programmes")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(ids.contains(&"dordt-west"), "{answer}");

    // A subscription, over the websocket on /graphql, signed in with the same headers pane:
    // from position 0 it replays the demo's events.
    set_editor_text(
        &browser,
        query,
        "subscription { eventRecorded(programmeId: \"dordt-west\", after: 0) { position programmeId } }",
    )
    .await;
    // GraphiQL parses the edited query after a pause in typing, and only then knows that it is
    // a subscription (which it sends over the websocket): pause as a user would.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let before = editor_text(&browser, ".graphiql-response .CodeMirror").await;
    let event = run(&browser, &before).await;
    let event: Value = serde_json::from_str(&event)
        .unwrap_or_else(|e| panic!("the result pane shows JSON ({e}): {event}"));
    assert_eq!(
        event["data"]["eventRecorded"]["programmeId"],
        json!("dordt-west"),
        "{event}"
    );
    assert!(
        event["data"]["eventRecorded"]["position"].as_i64() > Some(0),
        "{event}"
    );

    // A dialog opens and closes (the policy refuses the one `<style>` element GraphiQL writes,
    // its scroll lock while a dialog is open, without harm to the dialog).
    browser
        .wait_for("[aria-label=\"Open settings dialog\"]")
        .await
        .click()
        .await
        .expect("open the settings");
    let dialog = browser.wait_for(".graphiql-dialog").await;
    assert!(dialog.is_displayed().await.expect("a dialog"));
    browser
        .wait_for(".graphiql-dialog-close")
        .await
        .click()
        .await
        .expect("close the settings");

    // Everything the page loaded came from this server.
    let own = browser.url("/");
    let loaded = browser
        .eval(
            "return performance.getEntriesByType('resource').map(e => e.name)\
                 .concat([location.href]);",
            vec![],
        )
        .await;
    let loaded: Vec<&str> = loaded
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        loaded
            .iter()
            .any(|u| u.ends_with("/graphiql/graphiql-4.1.2.min.js")),
        "{loaded:?}"
    );
    for url in &loaded {
        assert!(url.starts_with(&own), "{url} is not this server's");
    }
    browser.close().await;
    server.stop().await;
}
