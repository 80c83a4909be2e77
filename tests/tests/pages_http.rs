//! The web pages over real HTTP (no browser), on the Dordt West demo ledger: every page
//! answers in Dutch with its heading, English on request, 404 for what does not exist, CSV
//! downloads, the programme office's forms (sign-in, CSRF, field errors, nothing recorded on a
//! refusal), and the past view. `docs/pages.md` describes the pages.

use domain::access::Role;
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use tests::{on_both_backends, GraphqlClient, TestDb, TestServer};

const SCHOOLS_DECISION: &str = "ae45d046-07cd-5010-927c-5ef706c5077e";

/// A browser without JavaScript: follows no redirects by itself, keeps its cookies.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first hidden input `name`.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("the page has a field {name}:\n{}", self.body))
            + marker.len();
        let rest = &self.body[start..];
        rest[..rest.find('"').expect("a closing quote")].to_owned()
    }
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            base: format!("http://{}", server.addr),
            cookies: Vec::new(),
        }
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("a cookie");
            let pair = text.split(';').next().expect("name=value");
            let (name, value) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(n, _)| n != name);
            let removed = text.contains("Max-Age=0") || value.is_empty();
            if !removed {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the ledger answers");
        self.page(response).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(
                form.iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
            .send()
            .await
            .expect("the ledger answers");
        self.page(response).await
    }

    /// Sends a form with a file, as a browser sends `enctype="multipart/form-data"`.
    async fn post_multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .expect("the ledger answers");
        self.page(response).await
    }

    async fn page(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.keep_cookies(&headers);
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    /// Signs in with a token through the sign-in form.
    async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/aanmelden").await;
        assert_eq!(form.status, 200);
        assert!(form
            .body
            .contains(r#"<input type="password" id="token" name="token""#));
        let csrf = form.hidden("csrf");
        self.post(
            "/aanmelden",
            &[("token", token), ("csrf", &csrf), ("terug", "")],
        )
        .await
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn demo_server(t: &TestDb, public: bool) -> TestServer {
    alliance_ledger::demo::record_demo(&t.db)
        .await
        .expect("record the demo");
    if public {
        TestServer::start_public(t).await
    } else {
        TestServer::start(t).await
    }
}

async fn decision_titles(client: &GraphqlClient) -> Vec<String> {
    let data = client
        .query(
            "{ decisions(programmeId: \"dordt-west\") { nodes { title } } }",
            json!({}),
        )
        .await
        .expect_ok();
    data["decisions"]["nodes"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| d["title"].as_str().expect("a title").to_owned())
        .collect()
}

async fn every_page_answers_in_dutch_with_its_heading(t: TestDb) {
    let server = demo_server(&t, true).await;
    let mut browser = Browser::new(&server);

    let home = browser.get("/").await;
    assert_eq!(home.status, 303, "one programme: straight to its monitor");
    assert_eq!(home.location(), "/programmas/dordt-west/monitor");

    let pages = [
        ("/programmas/dordt-west/monitor", "<h1>Monitor</h1>"),
        ("/programmas/dordt-west/besluiten", "<h1>Besluiten</h1>"),
        (
            &format!("/programmas/dordt-west/besluiten/{SCHOOLS_DECISION}"),
            "<h1>Inzet gemeentelijke middelen voor elf scholen",
        ),
        (
            "/programmas/dordt-west/geld",
            "<h1>Geld en toezeggingen</h1>",
        ),
        ("/programmas/dordt-west/audit", "<h1>Audit</h1>"),
        ("/aanmelden", "<h1>Aanmelden</h1>"),
    ];
    for (path, heading) in pages {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(r#"<html lang="nl">"#), "{path}");
        assert!(page.body.contains(heading), "{path}: {heading}");
        assert!(page.body.contains(r#"<main id="content""#), "{path}");
        assert!(
            page.body.contains(r##"<a class="skip" href="#content">"##),
            "{path}"
        );
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(
            !page.body.contains("<script"),
            "{path}: pages need no JavaScript"
        );
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert!(page.headers.contains_key("referrer-policy"));
    }

    // The timeline lists every decision of the demo, the newest first, each linking to its page.
    let timeline = browser.get("/programmas/dordt-west/besluiten").await;
    let at = |needle: &str| {
        timeline
            .body
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} on the timeline"))
    };
    assert!(timeline.body.contains(r#"<ol id="timeline">"#));
    assert!(
        at(&format!(r#"<li data-decision-id="{SCHOOLS_DECISION}">"#))
            < at("Vaststellen Nationaal Programma Dordt West 2023-2043"),
        "newest first"
    );
    assert!(timeline.body.contains(&format!(
        r#"href="/programmas/dordt-west/besluiten/{SCHOOLS_DECISION}""#
    )));

    // The decision page: its meeting, votes and consequences.
    let decision = browser
        .get(&format!(
            "/programmas/dordt-west/besluiten/{SCHOOLS_DECISION}"
        ))
        .await;
    assert!(decision.body.contains("21 september 2023"));
    assert!(decision.body.contains("instemming"));
    assert!(decision.body.contains("Budget toegewezen"));

    // Money: the schools' ten years of 2,750,000 under pillar 3.
    let money = browser.get("/programmas/dordt-west/geld").await;
    assert!(money.body.contains("€ 27.500.000,00"));
    assert!(money.body.contains("3. Leren en ontwikkelen"));
    assert!(money.body.contains(r#"<svg class="bars""#));

    // English on request, remembered in a cookie.
    let english = browser
        .get("/programmas/dordt-west/besluiten?lang=en")
        .await;
    assert!(english.body.contains(r#"<html lang="en">"#));
    assert!(english.body.contains("<h1>Decisions</h1>"));
    assert!(browser.cookies.contains(&("lang".into(), "en".into())));
    let remembered = browser.get("/programmas/dordt-west/geld").await;
    assert!(remembered.body.contains("<h1>Money and commitments</h1>"));
    assert!(remembered.body.contains("€ 27,500,000.00"));
    let back = browser.get("/programmas/dordt-west/geld?lang=nl").await;
    assert!(back.body.contains("<h1>Geld en toezeggingen</h1>"));
    server.stop().await;
}

async fn what_does_not_exist_is_not_found(t: TestDb) {
    let server = demo_server(&t, true).await;
    let mut browser = Browser::new(&server);
    for path in [
        "/programmas/nergens/monitor".to_owned(),
        "/programmas/nergens/besluiten".to_owned(),
        "/programmas/nergens/geld".to_owned(),
        "/programmas/nergens/audit".to_owned(),
        format!("/programmas/dordt-west/besluiten/{}", uuid::Uuid::new_v4()),
        "/programmas/dordt-west/besluiten/geen-uuid".to_owned(),
        "/programmas/dordt-west/geld/onbekend.csv".to_owned(),
        "/programmas/dordt-west/monitor?wijk=nergens".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("<h1>Niet gevonden</h1>"), "{path}");
    }
    let bad_date = browser
        .get("/programmas/dordt-west/monitor?peildatum=gisteren")
        .await;
    assert_eq!(bad_date.status, 400);
    server.stop().await;
}

async fn tables_download_as_csv(t: TestDb) {
    let server = demo_server(&t, true).await;
    let mut browser = Browser::new(&server);
    let years = browser.get("/programmas/dordt-west/geld/jaren.csv").await;
    assert_eq!(years.status, 200);
    assert_eq!(years.headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(years.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("dordt-west-jaren.csv"));
    let lines: Vec<&str> = years.body.lines().collect();
    assert_eq!(lines[0], "Jaar,Toegewezen,Verplicht,Uitgegeven,Over");
    assert_eq!(lines.len(), 11, "a header and the years 2023 to 2032");
    assert!(
        lines.contains(&"2023,2750000.00,0.00,0.00,2750000.00"),
        "{lines:?}"
    );

    let pillars = browser.get("/programmas/dordt-west/geld/pijlers.csv").await;
    assert_eq!(
        pillars.body.lines().nth(1),
        Some("3. Leren en ontwikkelen,27500000.00,0.00,0.00,27500000.00")
    );
    let funders = browser
        .get("/programmas/dordt-west/geld/financiers.csv?lang=en")
        .await;
    assert_eq!(
        funders.body.lines().collect::<Vec<_>>(),
        vec![
            "Funder,Allocated,Committed,Spent,Left",
            "Municipality,27500000.00,0.00,0.00,27500000.00"
        ]
    );
    // Commitments are not published: an anonymous reader is sent to sign in.
    let commitments = browser
        .get("/programmas/dordt-west/geld/toezeggingen.csv")
        .await;
    assert_eq!(commitments.status, 303);
    assert!(commitments.location().starts_with("/aanmelden"));
    server.stop().await;
}

async fn the_monitor_draws_the_figures_with_the_target_line(t: TestDb) {
    let server = demo_server(&t, true).await;
    let secretary = t.token("Sanne de Vries", Role::Secretary, None).await;
    let client = server.client().with_token(&secretary);
    let measurement = |area: &str, period: &str, value: &str| {
        json!({
            "programmeId": "dordt-west", "indicator": "ernstig-overgewicht", "area": area,
            "period": period, "value": value, "source": "RIVM", "publishedOn": "2025-06-30",
            "illustrative": true,
        })
    };
    for input in [
        measurement("crabbehof", "2023", "21.4"),
        measurement("crabbehof", "2024", "20.1"),
        measurement("dordrecht", "2024", "16.1"),
        measurement("nederland", "2024", "15.0"),
    ] {
        client
            .query(
                "mutation($input: RecordMeasurementInput!) { recordMeasurement(input: $input) { key } }",
                json!({ "input": input }),
            )
            .await
            .expect_ok();
    }
    client
        .query(
            "mutation($input: SetTargetInput!) { setTarget(input: $input) { key } }",
            json!({ "input": {
                "programmeId": "dordt-west", "indicator": "ernstig-overgewicht", "area": "crabbehof",
                "horizonYear": 2030, "comparator": "dordrecht", "margin": "0",
                "decisionId": SCHOOLS_DECISION, "reason": "Op het Dordtse gemiddelde",
            }}),
        )
        .await
        .expect_ok();
    let mut browser = Browser::new(&server);
    let page = browser
        .get("/programmas/dordt-west/monitor?wijk=crabbehof&pijler=gezond-en-samen-leven")
        .await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    let svg_start = body
        .find(r#"<svg class="chart" viewBox="0 0 360 200" data-indicator="ernstig-overgewicht" data-area="crabbehof""#)
        .expect("a chart of the indicator in Crabbehof");
    let svg = &body[svg_start..svg_start + body[svg_start..].find("</svg>").unwrap()];
    assert!(svg.contains(r#"role="img""#));
    assert!(svg.contains(r#"<path class="series series-value" d="M"#));
    assert!(svg.contains(r#"<line class="target-line""#));
    assert!(svg.contains(r#"class="series series-dordrecht""#));
    assert!(svg.contains(r#"class="series series-nederland""#));
    assert!(body.contains("2024: 20,1"), "the latest value");
    assert!(body.contains("verbetert"), "the trend");
    assert!(body.contains("4 (ongunstig)"), "the gap to Dordrecht");
    assert!(
        body.contains("gemiddelde van Dordrecht = 16,1"),
        "the target"
    );
    assert!(
        body.contains("status status-green"),
        "pillar 1 in Crabbehof"
    );
    // Another wijk has no figures and draws no chart.
    let wielwijk = browser
        .get("/programmas/dordt-west/monitor?wijk=wielwijk")
        .await;
    assert!(!wielwijk.body.contains(r#"<svg class="chart""#));
    assert!(wielwijk.body.contains("status status-grey"));
    server.stop().await;
}

async fn the_office_forms_need_a_secretary_and_a_csrf_token(t: TestDb) {
    let server = demo_server(&t, false).await;
    let secretary = t
        .token("Sanne de Vries", Role::Secretary, Some("Programmabureau"))
        .await;
    let client = server.client().with_token(&secretary);
    let before = decision_titles(&client).await;
    let mut browser = Browser::new(&server);

    // Not signed in: every page of this server (no public reading) and every form sends the
    // visitor to sign in; a form sent anyway records nothing.
    let monitor = browser.get("/programmas/dordt-west/monitor").await;
    assert_eq!(monitor.status, 303);
    assert_eq!(
        monitor.location(),
        "/aanmelden?terug=%2Fprogrammas%2Fdordt-west%2Fmonitor"
    );
    let form = browser
        .get("/programmas/dordt-west/secretariaat/besluit")
        .await;
    assert_eq!(form.status, 303);
    assert!(form.location().starts_with("/aanmelden"));
    let sent = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[("title", "Zonder aanmelding")],
        )
        .await;
    assert_eq!(sent.status, 303);
    assert!(sent.location().starts_with("/aanmelden"));

    // A wrong token does not sign in; the secretary's does, and lands on the office page.
    let refused = browser.sign_in("geen-token").await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains(r#"class="form-error" role="alert""#));
    let signed_in = browser.sign_in(&secretary).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(
        signed_in.location(),
        "/programmas/dordt-west/secretariaat?melding=aangemeld"
    );
    let session = browser
        .cookies
        .iter()
        .find(|(n, _)| n == "al_sessie")
        .expect("a session cookie")
        .1
        .clone();
    assert!(!session.contains(&secretary), "the cookie holds no token");
    let set_cookie = signed_in.headers[SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let office = browser.get(signed_in.location()).await;
    assert!(office.body.contains("<h1>Secretariaat</h1>"));
    assert!(office
        .body
        .contains(r#"<div class="notice" role="status">"#));

    // Without the CSRF token: refused, nothing recorded.
    let form = browser
        .get("/programmas/dordt-west/secretariaat/besluit")
        .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"<label for="title">"#));
    assert!(form.body.contains(r#"<button type="submit" id="submit">"#));
    let key = form.hidden("idempotencyKey");
    let decision_id = form.hidden("decisionId");
    let csrf = form.hidden("csrf");
    let forged = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "Vervalst besluit"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged
        .body
        .contains(r#"<div class="form-error" role="alert">"#));
    let wrong = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[
                ("csrf", "0000"),
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "Vervalst besluit"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(decision_titles(&client).await, before, "nothing recorded");

    // A field the API refuses: its error next to the field, nothing recorded.
    let empty = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "  "),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty
        .body
        .contains(r#"aria-invalid="true" aria-describedby="error-title""#));
    // In the page's language: Dutch here, the API's English on an English page.
    assert!(
        empty.body.contains(
            r#"<p class="field-error" id="error-title">Geef het besluit een titel; alleen spaties tellen niet.</p>"#
        ),
        "{}",
        empty.body
    );
    let english = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit?lang=en",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "  "),
            ],
        )
        .await;
    assert_eq!(english.status, 422);
    assert!(english
        .body
        .contains(r#"<p class="field-error" id="error-title">title: must not be empty</p>"#));
    browser
        .get("/programmas/dordt-west/secretariaat?lang=nl")
        .await;
    assert_eq!(decision_titles(&client).await, before, "nothing recorded");

    // A malformed number in the measurement form: the field says so, nothing recorded.
    let meting = browser
        .get("/programmas/dordt-west/secretariaat/meting")
        .await;
    let bad = browser
        .post(
            "/programmas/dordt-west/secretariaat/meting",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &meting.hidden("idempotencyKey")),
                ("indicator", "ernstig-overgewicht"),
                ("area", "crabbehof"),
                ("period", "2024"),
                ("value", "veel"),
                ("source", "RIVM"),
                ("publishedOn", "2025-06-30"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad
        .body
        .contains(r#"<p class="field-error" id="error-value">"#));
    assert!(bad.body.contains(r#"value="veel""#), "what was typed stays");
    assert!(
        bad.body.contains("zoals 21,4"),
        "the page's own check speaks Dutch, with a Dutch number: {}",
        bad.body
    );
    // A period the ledger refuses: the API's rule, said in Dutch with the programme's period.
    let outside = browser
        .post(
            "/programmas/dordt-west/secretariaat/meting",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &meting.hidden("idempotencyKey")),
                ("indicator", "ernstig-overgewicht"),
                ("area", "crabbehof"),
                ("period", "2019"),
                ("value", "21,4"),
                ("source", "RIVM"),
                ("publishedOn", "2025-06-30"),
            ],
        )
        .await;
    assert_eq!(outside.status, 422);
    assert!(
        outside.body.contains(
            r#"<p class="field-error" id="error-period">Dit valt buiten de looptijd van het programma (2023–2043).</p>"#
        ),
        "{}",
        outside.body
    );
    let measured = client
        .query(
            "{ measurements(programmeId: \"dordt-west\") { nodes { key } } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(measured["measurements"]["nodes"], json!([]));

    // The decision recorded: to its page with a notice, and on the timeline.
    let recorded = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "Aanpak gezonde leefstijl Crabbehof"),
                ("description", "Via het formulier"),
            ],
        )
        .await;
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    assert_eq!(
        recorded.location(),
        format!("/programmas/dordt-west/besluiten/{decision_id}?melding=besluit")
    );
    let page = browser.get(recorded.location()).await;
    assert!(page
        .body
        .contains("<h1>Aanpak gezonde leefstijl Crabbehof</h1>"));
    assert!(page.body.contains(r#"<div class="notice" role="status">"#));
    // Sent twice (a double click): recorded once.
    let again = browser
        .post(
            "/programmas/dordt-west/secretariaat/besluit",
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &key),
                ("decisionId", &decision_id),
                ("title", "Aanpak gezonde leefstijl Crabbehof"),
                ("description", "Via het formulier"),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    let after = decision_titles(&client).await;
    assert_eq!(after.len(), before.len() + 1);
    let timeline = browser.get("/programmas/dordt-west/besluiten").await;
    assert!(timeline
        .body
        .contains(&format!(r#"<li data-decision-id="{decision_id}">"#)));

    // Signing out ends the session: the forms ask for a sign-in again.
    let out = browser.post("/afmelden", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    let form = browser
        .get("/programmas/dordt-west/secretariaat/besluit")
        .await;
    assert_eq!(form.status, 303);
    assert!(form.location().starts_with("/aanmelden"));
    server.stop().await;
}

async fn a_reader_may_not_record(t: TestDb) {
    let server = demo_server(&t, true).await;
    let rijk = t.token("Marieke Visser", Role::Rijk, Some("BZK")).await;
    let mut browser = Browser::new(&server);
    let signed_in = browser.sign_in(&rijk).await;
    assert_eq!(
        signed_in.location(),
        "/programmas/dordt-west/monitor?melding=aangemeld"
    );
    let form = browser
        .get("/programmas/dordt-west/secretariaat/besluit")
        .await;
    assert_eq!(form.status, 403);
    // A signed-in reader sees the commitments table and may download it.
    let csv = browser
        .get("/programmas/dordt-west/geld/toezeggingen.csv")
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.body.lines().next(),
        Some("Partner,Omschrijving,Bedrag,Uiterlijk,Status,Besluit")
    );
    server.stop().await;
}

async fn a_past_view_is_marked_and_shows_the_ledger_as_it_stood(t: TestDb) {
    let server = demo_server(&t, true).await;
    let mut browser = Browser::new(&server);
    // The day the demo was recorded, as the ledger says.
    let ledger = server
        .client()
        .query("{ ledger { recordedAt } }", json!({}))
        .await
        .expect_ok();
    let recorded = ledger["ledger"]["recordedAt"].as_str().expect("a time");
    let today = chrono::NaiveDate::parse_from_str(&recorded[..10], "%Y-%m-%d").expect("a date");
    let yesterday = today - chrono::Days::new(1);
    // The demo was recorded today: the day before, the programme did not exist yet.
    let before = browser
        .get(&format!(
            "/programmas/dordt-west/besluiten?peildatum={yesterday}"
        ))
        .await;
    assert_eq!(before.status, 404);
    assert!(before
        .body
        .contains(r#"<div id="past-view" role="status">"#));
    let then = browser
        .get(&format!(
            "/programmas/dordt-west/besluiten?peildatum={today}"
        ))
        .await;
    assert_eq!(then.status, 200);
    assert!(then.body.contains(r#"<div id="past-view" role="status">"#));
    assert!(then
        .body
        .contains(&format!(r#"<li data-decision-id="{SCHOOLS_DECISION}">"#)));
    assert!(
        then.body.contains(&format!(
            r#"href="/programmas/dordt-west/besluiten/{SCHOOLS_DECISION}?peildatum={today}""#
        )),
        "links keep the date"
    );
    assert!(then.body.contains(&format!(
        r#"href="/programmas/dordt-west/geld?peildatum={today}""#
    )));
    let csv = browser
        .get(&format!(
            "/programmas/dordt-west/geld/jaren.csv?peildatum={yesterday}"
        ))
        .await;
    assert_eq!(csv.status, 404);
    // The present view carries no marker.
    let now = browser.get("/programmas/dordt-west/besluiten").await;
    assert!(!now.body.contains("past-view"));
    server.stop().await;
}

/// The audit page shows the signing key when the server signs; a plain demo server says it
/// signs nothing.
async fn the_audit_page_says_how_to_verify(t: TestDb) {
    let server = demo_server(&t, true).await;
    let mut browser = Browser::new(&server);
    let page = browser.get("/programmas/dordt-west/audit?lang=en").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("This server does not sign, so it shows no key."));
    assert!(page.body.contains("alliance-ledger verify"));
    server.stop().await;
}

/// The count the import report shows under `id`.
fn count(page: &Page, id: &str) -> u64 {
    let marker = format!(r#"id="{id}">"#);
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("the report has {id}:\n{}", page.body))
        + marker.len();
    let rest = &page.body[start..];
    rest[..rest.find('<').expect("the end of the count")]
        .parse()
        .unwrap_or_else(|e| panic!("a count under {id}: {e}"))
}

async fn measurement_count(client: &GraphqlClient) -> usize {
    let data = client
        .query(
            "{ measurements(programmeId: \"dordt-west\", first: 100) { nodes { key } } }",
            json!({}),
        )
        .await
        .expect_ok();
    data["measurements"]["nodes"]
        .as_array()
        .expect("measurements")
        .len()
}

fn file_form(csrf: &str, kind: &str, name: &str, content: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("soort", kind.to_owned())
        .text("sheet", "")
        .text("source", "")
        .text("decisionId", "")
        .text("reason", "")
        .text("fund", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(content)
                .file_name(name.to_owned())
                .mime_str("text/csv")
                .expect("a mime type"),
        )
}

/// The import form: a bad file lists every problem (line, column, rule, in Dutch) and records
/// nothing; a good file records its rows and shows the counts; the same file again records
/// nothing new. Budget lines go the same way.
async fn a_file_import_lists_every_problem_or_records_every_row(t: TestDb) {
    let server = demo_server(&t, true).await;
    let secretary = t
        .token("Sanne de Vries", Role::Secretary, Some("Programmabureau"))
        .await;
    let client = server.client().with_token(&secretary);
    let mut browser = Browser::new(&server);
    assert_eq!(browser.sign_in(&secretary).await.status, 303);
    let path = "/programmas/dordt-west/secretariaat/import";
    let form = browser.get(path).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"enctype="multipart/form-data""#));
    assert!(form
        .body
        .contains(r#"<input type="file" id="file" name="file" accept=".csv,.xlsx""#));
    assert!(form.body.contains(r#"<label for="file">"#));
    let csrf = form.hidden("csrf");
    let office = browser.get("/programmas/dordt-west/secretariaat").await;
    assert!(office.body.contains(&format!(r#"href="{path}""#)));

    // A bad file: every problem listed, nothing recorded.
    let bad = "programma;indicator;gebied;periode;waarde;bron;publicatiedatum;illustratief\n\
               dordt-west;Ernstig overgewicht;Crabbehof;2024;23,4;RIVM;02-10-2025;ja\n\
               dordt-west;Eenzaamheid;Crabbehof;2024;30;RIVM;02-10-2025;ja\n\
               dordt-west;Ernstig overgewicht;Zuidwijk;2024;20;RIVM;02-10-2025;ja\n\
               dordt-west;Ernstig overgewicht;Wielwijk;2050;20;RIVM;02-10-2025;ja\n\
               dordt-west;Ernstig overgewicht;Wielwijk;2024;13,1%;RIVM;02-10-2025;ja\n";
    let refused = browser
        .post_multipart(
            path,
            file_form(&csrf, "metingen", "fout.csv", bad.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains(
            r#"<div class="form-error" role="alert">fout.csv: 4 fouten op 4 regels. Er is niets vastgelegd"#
        ),
        "{}",
        refused.body
    );
    for (line, column, rule, dutch) in [
        (
            3,
            "indicator",
            "reference.known_indicator",
            "Dit programma heeft deze indicator niet.",
        ),
        (
            4,
            "gebied",
            "reference.known_area",
            "Dit programma heeft dit gebied niet.",
        ),
        (
            5,
            "periode",
            "programme.period",
            "Dit valt buiten de looptijd van het programma (2023–2043).",
        ),
        (6, "waarde", "import.number", "Geen getal: "),
    ] {
        let row = format!(r#"<tr><td class="num">{line}</td><td>{column}</td><td>{dutch}"#);
        assert!(refused.body.contains(&row), "{row} in\n{}", refused.body);
        assert!(refused.body.contains(&format!("<code>{rule}</code>")));
    }
    assert_eq!(
        refused.body.matches(r#"<tr><td class="num">"#).count(),
        4,
        "one row per problem"
    );
    assert_eq!(measurement_count(&client).await, 0, "nothing recorded");

    // Without the CSRF token: refused, nothing recorded.
    let example = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/measurements.csv"),
    )
    .expect("the example file");
    let forged = browser
        .post_multipart(
            path,
            file_form("0000", "metingen", "measurements.csv", example.clone()),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged
        .body
        .contains(r#"<div class="form-error" role="alert">"#));
    assert_eq!(measurement_count(&client).await, 0, "nothing recorded");

    // No file chosen: the file field says so.
    let none = browser
        .post_multipart(
            path,
            reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text("soort", "metingen"),
        )
        .await;
    assert_eq!(none.status, 422);
    assert!(none
        .body
        .contains(r#"<p class="field-error" id="error-file">Kies een bestand.</p>"#));

    // The example file: 20 figures recorded, the counts shown.
    let imported = browser
        .post_multipart(
            path,
            file_form(&csrf, "metingen", "measurements.csv", example.clone()),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(imported
        .body
        .contains(r#"<section class="notice import-report" role="status""#));
    assert_eq!(count(&imported, "count-rows"), 20);
    assert_eq!(count(&imported, "count-new"), 20);
    assert_eq!(count(&imported, "count-corrections"), 0);
    assert_eq!(count(&imported, "count-recorded"), 20);
    assert_eq!(measurement_count(&client).await, 20);

    // Again: nothing new.
    let again = browser
        .post_multipart(
            path,
            file_form(&csrf, "metingen", "measurements.csv", example),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(count(&again, "count-rows"), 20);
    assert_eq!(count(&again, "count-new"), 0);
    assert_eq!(count(&again, "count-unchanged"), 20);
    assert_eq!(count(&again, "count-recorded"), 0);
    assert_eq!(measurement_count(&client).await, 20);

    // Budget lines: a dry run records nothing, the import records the six lines.
    let lines = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/budget-lines.csv"),
    )
    .expect("the example budget lines");
    let dry = browser
        .post_multipart(
            path,
            file_form(&csrf, "budgetregels", "budget-lines.csv", lines.clone())
                .text("dryRun", "true"),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(count(&dry, "count-new"), 6);
    assert_eq!(count(&dry, "count-recorded"), 0);
    let money = browser.get("/programmas/dordt-west/geld").await;
    assert!(
        money.body.contains("<dt>Verplicht</dt><dd>€ 0,00</dd>"),
        "{}",
        money.body
    );
    let booked = browser
        .post_multipart(
            path,
            file_form(&csrf, "budgetregels", "budget-lines.csv", lines),
        )
        .await;
    assert_eq!(booked.status, 200, "{}", booked.body);
    assert_eq!(count(&booked, "count-new"), 6);
    assert_eq!(count(&booked, "count-recorded"), 6);
    let money = browser.get("/programmas/dordt-west/geld").await;
    assert!(
        !money.body.contains("<dt>Verplicht</dt><dd>€ 0,00</dd>"),
        "{}",
        money.body
    );
    server.stop().await;
}

on_both_backends!(
    every_page_answers_in_dutch_with_its_heading,
    what_does_not_exist_is_not_found,
    tables_download_as_csv,
    the_monitor_draws_the_figures_with_the_target_line,
    the_office_forms_need_a_secretary_and_a_csrf_token,
    a_reader_may_not_record,
    a_past_view_is_marked_and_shows_the_ledger_as_it_stood,
    the_audit_page_says_how_to_verify,
    a_file_import_lists_every_problem_or_records_every_row,
);
