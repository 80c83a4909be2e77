//! The web pages in a real browser (headless Chromium from Debian over WebDriver, see
//! `tests/src/browser.rs`), on the Dordt West demo ledger with the example figures, targets and
//! budget lines of `docs/examples/` imported: the monitor draws charts with the target line; a
//! secretary signs in, records a decision through the form and finds it on the timeline; a bad
//! value in a form is shown next to its field and records nothing; a refused file lists every
//! problem; every page renders on a laptop and a phone screen, saved as
//! `docs/screenshots/<page>.png`, and its load time is measured.
//!
//! One backend is enough here: the pages are in-process GraphQL clients of the server's own
//! schema, so they never see the store, and the API suites already run every query and mutation
//! on both backends. These run on SQLite, the embedded default that `alliance-ledger serve
//! --demo` uses, which needs no server and keeps the browser tests quick.

use std::time::Duration;

use domain::access::Role;
use projections::notary::{CheckpointPolicy, Notary};
use serde_json::{json, Value};
use tests::{cli, Backend, Browser, GraphqlClient, TestDb, TestServer, Viewport};

const PROGRAMME: &str = "dordt-west";
const ACTOR: &str = "Secretaris Dordt West";

fn page(path: &str) -> String {
    format!("/programmas/{PROGRAMME}/{path}")
}

/// Figures beside those of `docs/examples/measurements.csv` (which has 2024 only for ernstig
/// overgewicht), so that the charts draw lines over several periods with both comparators.
/// Illustrative, as the example files are.
const MORE_FIGURES: &[(&str, &str, &str, &str)] = &[
    ("ernstig-overgewicht", "crabbehof", "2023", "24.1"),
    ("ernstig-overgewicht", "crabbehof", "2025", "22.8"),
    ("ernstig-overgewicht", "dordrecht", "2023", "16.1"),
    ("ernstig-overgewicht", "dordrecht", "2025", "15.8"),
    ("ernstig-overgewicht", "nederland", "2023", "15.0"),
    ("ernstig-overgewicht", "nederland", "2024", "15.2"),
    ("ernstig-overgewicht", "nederland", "2025", "15.1"),
    ("ernstig-overgewicht", "wielwijk", "2023", "23.2"),
    ("ernstig-overgewicht", "wielwijk", "2025", "22.5"),
    ("totaal-misdrijven", "crabbehof", "2023", "58.1"),
    ("totaal-misdrijven", "crabbehof", "2025", "56.0"),
    ("totaal-misdrijven", "dordrecht", "2023", "47.0"),
    ("totaal-misdrijven", "dordrecht", "2025", "46.1"),
];

/// The demo ledger served over HTTP as an alliance that publishes it (readable without
/// signing in), with the example figures, targets and budget lines imported, a signed
/// checkpoint and its public key, and a secretary's token.
struct Site {
    t: TestDb,
    server: TestServer,
    /// The token a secretary signs in with.
    secretary_token: String,
    /// The secretary over GraphQL, to check what the pages recorded.
    secretary: GraphqlClient,
}

impl Site {
    async fn demo() -> Self {
        let t = TestDb::new(Backend::Sqlite).await;
        alliance_ledger::demo::record_demo(&t.db)
            .await
            .expect("record the demo");
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
        for (kind, file) in [
            ("measurements", "measurements.csv"),
            ("targets", "targets.csv"),
            ("budget", "budget-lines.csv"),
        ] {
            let path = examples.join(file);
            let out = cli(
                Some(&t),
                &[
                    "import",
                    kind,
                    path.to_str().expect("a UTF-8 path"),
                    "--actor",
                    ACTOR,
                ],
            );
            assert!(
                out.status.success(),
                "importing {file} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Sign a checkpoint of it all, as a server run with a signing key does, for the audit page.
        let keys = tempfile::tempdir().expect("a folder for the key");
        let key_file = keys.path().join("signing.key");
        let public_key =
            alliance_ledger::trail::generate_key("dordt-west.alliance-ledger", &key_file)
                .expect("generate a signing key");
        let signer = alliance_ledger::trail::read_signing_key(&key_file).expect("read the key");
        let verifier = signer.verifier();
        let (mut notary, _) = Notary::start(
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
            .expect("sign a checkpoint")
            .expect("a checkpoint");
        let server = TestServer::start_configured(&t, |state| {
            state.public_read = true;
            state.public_key = Some(public_key);
        })
        .await;
        let secretary_token = t
            .token(
                "Sanne de Vries",
                Role::Secretary,
                Some("Programmabureau Dordt West"),
            )
            .await;
        let secretary = server.client().with_token(&secretary_token);
        for (indicator, area, period, value) in MORE_FIGURES {
            secretary
                .query(
                    "mutation($input: RecordMeasurementInput!) { recordMeasurement(input: $input) { key } }",
                    json!({ "input": {
                        "programmeId": PROGRAMME,
                        "indicator": indicator,
                        "area": area,
                        "period": period,
                        "value": value,
                        "source": "Illustratief voorbeeld",
                        "publishedOn": "2025-03-01",
                        "illustrative": true,
                    }}),
                )
                .await
                .expect_ok();
        }
        let site = Self {
            t,
            server,
            secretary_token,
            secretary,
        };
        site.settled().await;
        site
    }

    /// Waits until the server's read models hold every event of the log.
    async fn settled(&self) {
        let head = self.t.db.head().await.expect("head");
        for _ in 0..1000 {
            if self.ledger().await.0 >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the read models did not reach position {head}");
    }

    /// The ledger's position and state checksum, as the API reports them.
    async fn ledger(&self) -> (i64, String) {
        let data = self
            .secretary
            .query("{ ledger { position stateChecksum } }", json!({}))
            .await
            .expect_ok();
        (
            data["ledger"]["position"].as_i64().expect("a position"),
            data["ledger"]["stateChecksum"]
                .as_str()
                .expect("a checksum")
                .to_owned(),
        )
    }

    /// The adopted decision the demo's first execution programme rests on.
    async fn execution_programme_decision(&self) -> String {
        let data = self
            .secretary
            .query(
                "query($id: String!) { programme(id: $id) { executionProgrammes { decisionId } } }",
                json!({ "id": PROGRAMME }),
            )
            .await
            .expect_ok();
        data["programme"]["executionProgrammes"][0]["decisionId"]
            .as_str()
            .expect("a decision id")
            .to_owned()
    }

    /// A browser at `viewport`, signed in as the secretary through `/aanmelden`.
    async fn signed_in(&self, viewport: Viewport) -> Browser {
        let browser = Browser::start_at(&self.server, viewport).await;
        browser.open("/aanmelden").await;
        browser.fill("token", &self.secretary_token).await;
        browser.click_and_wait("#sign-in").await;
        let path = browser.path().await;
        assert_eq!(
            path.split('?').next(),
            Some(page("secretariaat").as_str()),
            "signing in leads to the secretariat's page; on the {}",
            browser.describe().await
        );
        browser
    }
}

/// The numbers of an SVG path's `d`, as (x, y) pairs.
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let numbers: Vec<f64> = d
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or_else(|_| panic!("{s:?} in {d:?}")))
        .collect();
    assert!(
        numbers.len().is_multiple_of(2),
        "an odd count of coordinates in {d:?}"
    );
    numbers.chunks(2).map(|p| (p[0], p[1])).collect()
}

/// A date as the pages write it in Dutch: `28 november 2026`.
fn dutch_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    format!(
        "{} {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// A file of measurements with four bad rows among good ones: an unknown indicator, an unknown
/// wijk, a period outside the programme and a value with a unit.
const BAD_MEASUREMENTS: &str =
    "programma;indicator;gebied;periode;waarde;bron;publicatiedatum;illustratief
dordt-west;Ernstig overgewicht;Crabbehof;2026;22,1;RIVM Gezondheidsmonitor;02-10-2026;ja
dordt-west;Eenzaamheid;Crabbehof;2026;30,2;RIVM Gezondheidsmonitor;02-10-2026;ja
dordt-west;Ernstig overgewicht;Zuidwijk;2026;20,0;RIVM Gezondheidsmonitor;02-10-2026;ja
dordt-west;Ernstig overgewicht;Wielwijk;2050;20,4;RIVM Gezondheidsmonitor;02-10-2026;ja
dordt-west;Bijstand;Wielwijk;2026;13,1%;CBS;02-10-2026;ja
";

/// The server's time and the whole load of each page the test opened, in milliseconds.
#[derive(Default)]
struct Timings(Vec<(String, f64, f64)>);

impl Timings {
    async fn note(&mut self, name: &str, browser: &Browser) {
        let (server, load) = browser.timing().await;
        self.0.push((name.to_owned(), server, load));
    }

    /// Prints the figures (`cargo nextest run ... --no-capture` shows them; docs/pages.md
    /// records them).
    fn report(&self) {
        println!("page load times on the demo ledger (server time to first byte, whole load):");
        for (name, server, load) in &self.0 {
            println!("  {name:<24} {server:>7.1} ms {load:>7.1} ms");
        }
    }
}

/// The heading of the page's main content.
async fn heading(browser: &Browser) -> String {
    browser.text("main#content h1").await
}

/// The page shows the heading `expected` (a part of it, in the page's words).
async fn assert_heading(browser: &Browser, expected: &str) {
    let h1 = heading(browser).await;
    assert!(
        h1.contains(expected),
        "expected a heading with {expected:?}, got {h1:?} on the {}",
        browser.describe().await
    );
}

/// The monitor of Crabbehof draws the example target for ernstig overgewicht (21.0 in 2027,
/// from `docs/examples/targets.csv`) as a line below the wijk's figures, which lie above it,
/// with the Dordrecht and Nederland figures beside them; an indicator without a target gets no
/// target line.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_monitor_draws_a_chart_with_the_target_line() {
    let site = Site::demo().await;
    let browser = Browser::start(&site.server).await;
    browser
        .open(&format!("{}?wijk=crabbehof", page("monitor")))
        .await;
    assert_heading(&browser, "Monitor").await;

    let chart = "svg.chart[data-indicator=\"ernstig-overgewicht\"][data-area=\"crabbehof\"]";
    browser.wait_for(chart).await;
    assert_eq!(
        browser.attr(chart, "role").await.as_deref(),
        Some("img"),
        "the chart is an image to assistive technology"
    );
    let labelled_by = browser
        .attr(chart, "aria-labelledby")
        .await
        .unwrap_or_default();
    let label = browser
        .eval(
            "return arguments[0].split(' ').map(id => document.getElementById(id))
                 .map(e => e ? e.textContent : '').join(' ')",
            vec![json!(labelled_by)],
        )
        .await;
    assert!(
        label.as_str().is_some_and(|l| l.contains("Crabbehof")),
        "the chart's accessible name names the wijk: {label}"
    );

    let value_d = browser
        .attr(&format!("{chart} path.series-value"), "d")
        .await
        .unwrap_or_default();
    let values = path_points(&value_d);
    assert_eq!(
        values.len(),
        3,
        "Crabbehof's line runs through its three figures (2023, 2024, 2025): d={value_d:?}"
    );
    assert!(
        values.windows(2).all(|w| w[0].0 < w[1].0),
        "the periods run left to right: {values:?}"
    );

    let target = format!("{chart} .target-line");
    let target_y = if browser.attr(&target, "y1").await.is_some() {
        let y1: f64 = browser
            .attr(&target, "y1")
            .await
            .and_then(|v| v.parse().ok())
            .expect("a numeric y1");
        let y2: f64 = browser
            .attr(&target, "y2")
            .await
            .and_then(|v| v.parse().ok())
            .expect("a numeric y2");
        assert!(
            (y1 - y2).abs() < 0.01,
            "the target is a level line: {y1} {y2}"
        );
        y1
    } else {
        let d = browser.attr(&target, "d").await.unwrap_or_default();
        let points = path_points(&d);
        assert!(!points.is_empty(), "the target line has a path: {d:?}");
        points[0].1
    };
    // 21.0 is below every figure (24.1, 23.4, 22.8): lower in the chart, so a larger y.
    assert!(
        values.iter().all(|(_, y)| *y < target_y),
        "the target (y {target_y}) is drawn below the figures above it ({values:?})"
    );

    for comparator in ["series-dordrecht", "series-nederland"] {
        let d = browser
            .attr(&format!("{chart} path.{comparator}"), "d")
            .await
            .unwrap_or_default();
        assert!(
            path_points(&d).len() >= 2,
            "the {comparator} line runs through its figures: {d:?}"
        );
    }

    let no_target = "svg.chart[data-indicator=\"totaal-misdrijven\"][data-area=\"crabbehof\"]";
    browser.wait_for(no_target).await;
    assert!(
        !browser.exists(&format!("{no_target} .target-line")).await,
        "totaal misdrijven has no target in Crabbehof, so no target line"
    );

    // Filtering on another wijk shows that wijk's chart, with the target it has there.
    browser
        .open(&format!("{}?wijk=wielwijk", page("monitor")))
        .await;
    let wielwijk = "svg.chart[data-indicator=\"ernstig-overgewicht\"][data-area=\"wielwijk\"]";
    browser.wait_for(&format!("{wielwijk} .target-line")).await;
    assert!(
        !browser.exists("svg.chart[data-area=\"crabbehof\"]").await,
        "the Wielwijk filter shows no Crabbehof charts"
    );
    browser.close().await;
}

/// A secretary signs in with a token, records a decision through the `besluit` form and finds
/// it on the timeline with its title, leading to the decision's own page; the API has it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secretary_records_a_decision_and_sees_it_on_the_timeline() {
    let site = Site::demo().await;
    let browser = site.signed_in(Viewport::Desktop).await;
    let before = site.ledger().await;

    browser.open(&page("secretariaat/besluit")).await;
    let title = "Buurtkamer Wielwijk twee jaar verlengen";
    browser.fill("title", title).await;
    browser
        .fill(
            "description",
            "De buurtkamer blijft open tot eind 2027; de gemeente en de corporatie delen de huur.",
        )
        .await;
    browser.submit().await;
    let notice = browser.text(".notice[role=\"status\"]").await;
    assert!(
        !notice.trim().is_empty(),
        "the page after the form confirms what was recorded"
    );
    site.settled().await;
    assert!(
        site.ledger().await.0 > before.0,
        "the form recorded an event"
    );

    browser.open(&page("besluiten")).await;
    browser.wait_for("ol#timeline").await;
    let item = browser
        .eval(
            "const li = [...document.querySelectorAll('#timeline li[data-decision-id]')]
                 .find(li => li.innerText.includes(arguments[0]));
             return li ? li.getAttribute('data-decision-id') : null;",
            vec![json!(title)],
        )
        .await;
    let id = item.as_str().unwrap_or_else(|| {
        panic!("no timeline item with the title {title:?}");
    });
    let decision = site
        .secretary
        .query(
            "query($id: ID!) { decision(id: $id) { title programmeId } }",
            json!({ "id": id }),
        )
        .await
        .expect_ok();
    assert_eq!(
        decision["decision"],
        json!({ "title": title, "programmeId": PROGRAMME }),
        "the timeline item's id is the recorded decision"
    );

    // The item links to the decision's page, which shows its title.
    browser
        .click_and_wait(&format!("#timeline li[data-decision-id=\"{id}\"] a"))
        .await;
    assert_eq!(browser.path().await, page(&format!("besluiten/{id}")));
    assert_heading(&browser, title).await;
    browser.close().await;
}

/// A form's bad value comes back next to its field (`.field-error#error-{field}`, the input
/// marked invalid and described by it), keeps what was typed, and records nothing: the log
/// and the state checksum are what they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_value_in_a_form_shows_the_field_error_and_records_nothing() {
    let site = Site::demo().await;
    let browser = site.signed_in(Viewport::Desktop).await;
    let before = site.ledger().await;

    // A measurement whose value is not a number.
    browser.open(&page("secretariaat/meting")).await;
    browser.fill("indicator", "ernstig-overgewicht").await;
    browser.fill("area", "crabbehof").await;
    browser.fill("period", "2025").await;
    browser.fill("value", "ongeveer twintig").await;
    browser.fill("source", "RIVM Gezondheidsmonitor").await;
    browser.set_value("publishedOn", "2025-10-02").await;
    browser.submit().await;
    assert_field_error(&browser, "value").await;
    assert_eq!(
        browser.attr("[name=\"value\"]", "value").await.as_deref(),
        Some("ongeveer twintig"),
        "the form keeps what was typed"
    );
    browser.screenshot("secretariaat-meting-fout", 1800).await;

    // A period the ledger refuses (outside the programme's 2023-2043): only the API knows,
    // and its error names the field.
    browser.open(&page("secretariaat/meting")).await;
    browser.fill("indicator", "ernstig-overgewicht").await;
    browser.fill("area", "crabbehof").await;
    browser.fill("period", "2019").await;
    browser.fill("value", "23,9").await;
    browser.fill("source", "RIVM Gezondheidsmonitor").await;
    browser.set_value("publishedOn", "2025-10-02").await;
    browser.submit().await;
    assert_field_error(&browser, "period").await;
    let message = browser.text("#error-period").await;
    assert!(
        message.contains("2023"),
        "the error says which periods the programme has: {message:?}"
    );
    assert!(
        !browser.exists("#error-value").await,
        "23,9 is a good value: only the period is marked"
    );

    // A decision without a title.
    browser.open(&page("secretariaat/besluit")).await;
    // Spaces pass the browser's own check of a required field (which would stop the form
    // before the server sees it) and are still no title.
    browser.fill("title", "   ").await;
    browser.fill("description", "Zonder titel.").await;
    browser.submit().await;
    assert_field_error(&browser, "title").await;

    site.settled().await;
    assert_eq!(
        site.ledger().await,
        before,
        "a refused form records nothing: the same position and state checksum"
    );
    browser.close().await;
}

async fn assert_field_error(browser: &Browser, field: &str) {
    let error = format!("p.field-error#error-{field}");
    let message = browser.text(&error).await;
    assert!(
        !message.trim().is_empty(),
        "the error next to {field} says what is wrong"
    );
    let input = format!("[name=\"{field}\"]");
    assert_eq!(
        browser.attr(&input, "aria-invalid").await.as_deref(),
        Some("true"),
        "the {field} field is marked invalid"
    );
    assert_eq!(
        browser.attr(&input, "aria-describedby").await.as_deref(),
        Some(format!("error-{field}").as_str()),
        "the {field} field is described by its error"
    );
    let next_to = browser
        .eval(
            "const input = document.querySelector(arguments[0]);
             const error = document.getElementById(arguments[1]);
             return !!input && !!error && input.parentElement === error.parentElement;",
            vec![json!(input), json!(format!("error-{field}"))],
        )
        .await;
    assert_eq!(
        next_to,
        Value::Bool(true),
        "the error of {field} stands next to its field on the {}",
        browser.describe().await
    );
}

/// Every page on the demo ledger renders its heading, on a laptop screen and (the monitor, the
/// money and the audit pages) a phone's without reaching past it, and is saved as
/// `docs/screenshots/<page>.png` for the documentation; the import form lists every problem of
/// a bad file and records nothing. Each page's load time (Navigation Timing) is printed for
/// `docs/pages.md`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_renders_and_is_photographed() {
    let site = Site::demo().await;
    let decision = site.execution_programme_decision().await;
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();

    let browser = Browser::start(&site.server).await;
    let mut timings = Timings::default();
    let public: [(&str, String, &str); 6] = [
        (
            "monitor",
            format!("{}?wijk=crabbehof", page("monitor")),
            "Monitor",
        ),
        (
            "monitor-pijler",
            format!("{}?pijler=gezond-en-samen-leven", page("monitor")),
            "Monitor",
        ),
        ("besluiten", page("besluiten"), "Besluiten"),
        ("geld", page("geld"), "Geld en toezeggingen"),
        ("audit", page("audit"), "Audit"),
        ("aanmelden", "/aanmelden".to_owned(), "Aanmelden"),
    ];
    for (name, path, expected) in &public {
        browser.open(path).await;
        timings.note(name, &browser).await;
        assert_heading(&browser, expected).await;
        assert!(
            !browser.exists("#past-view").await,
            "{name} is the present, not a past view"
        );
        browser.screenshot(name, 2600).await;
    }

    // One decision's page: the execution programme's decision, with what cites it (among it the
    // example targets for Crabbehof and Wielwijk).
    browser.open(&page(&format!("besluiten/{decision}"))).await;
    timings.note("besluit", &browser).await;
    let title = site
        .secretary
        .query(
            "query($id: ID!) { decision(id: $id) { title } }",
            json!({ "id": decision }),
        )
        .await
        .expect_ok()["decision"]["title"]
        .as_str()
        .expect("a title")
        .to_owned();
    assert_heading(&browser, &title).await;
    let shown = browser.text("main#content").await;
    for area in ["Crabbehof", "Wielwijk"] {
        assert!(
            shown.contains(area),
            "the decision's page shows the targets that cite it (for {area}): {shown}"
        );
    }
    browser.screenshot("besluit", 2600).await;

    // Geschiedenis: the monitor as of a date, marked as a past view, its links keeping the date.
    browser
        .open(&format!(
            "{}?wijk=crabbehof&peildatum={today}",
            page("monitor")
        ))
        .await;
    timings.note("geschiedenis", &browser).await;
    assert_heading(&browser, "Monitor").await;
    let past = browser.text("#past-view[role=\"status\"]").await;
    assert!(
        past.contains(&dutch_date(chrono::Utc::now().date_naive())),
        "the past view names its date: {past:?}"
    );
    assert_eq!(
        browser.attr("#peildatum", "value").await.as_deref(),
        Some(today.as_str()),
        "the date picker shows the date of the past view"
    );
    let nav_links = browser
        .eval(
            "return [...document.querySelectorAll('nav a[href^=\"/programmas/\"]')].map(a => a.getAttribute('href'))",
            vec![],
        )
        .await;
    let nav_links: Vec<&str> = nav_links
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!nav_links.is_empty(), "the past view has a navigation");
    assert!(
        nav_links
            .iter()
            .all(|href| href.contains(&format!("peildatum={today}"))),
        "every link of the past view keeps the date: {nav_links:?}"
    );
    browser.screenshot("geschiedenis", 2600).await;
    browser.close().await;

    // The secretariat, signed in, and one of its forms.
    let secretary = site.signed_in(Viewport::Desktop).await;
    assert_heading(&secretary, "Secretariaat").await;
    secretary.screenshot("secretariaat", 2600).await;
    secretary.open(&page("secretariaat/besluit")).await;
    secretary.wait_for("form #submit[type=\"submit\"]").await;
    let unlabelled = secretary
        .eval(
            "return [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
                 .filter(f => !f.id || !document.querySelector('label[for=\"' + f.id + '\"]'))
                 .map(f => f.name)",
            vec![],
        )
        .await;
    assert_eq!(unlabelled, json!([]), "every field of the form has a label");
    secretary.screenshot("secretariaat-besluit", 2600).await;

    // The import form with a bad file: every problem in a table under an alert that says
    // nothing was recorded, and indeed nothing was.
    let before = site.ledger().await;
    let folder = tempfile::tempdir().expect("a folder for the file");
    let bad = folder.path().join("metingen-2026.csv");
    std::fs::write(&bad, BAD_MEASUREMENTS).expect("write the file");
    secretary.open(&page("secretariaat/import")).await;
    timings.note("secretariaat-import", &secretary).await;
    assert_heading(&secretary, "Bestand importeren").await;
    secretary.fill("soort", "metingen").await;
    secretary.upload("file", &bad).await;
    secretary.submit().await;
    let alert = secretary.text(".form-error[role=\"alert\"]").await;
    assert!(
        alert.contains("4 fouten op 4 regels") && alert.contains("niets vastgelegd"),
        "the alert sums up the refusal: {alert:?}"
    );
    let rows = secretary
        .eval(
            "return [...document.querySelectorAll('#import-problems tbody tr')]
                 .map(tr => [...tr.cells].map(td => td.innerText.trim()))",
            vec![],
        )
        .await;
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 4, "one row per problem: {rows:?}");
    let lines: Vec<&str> = rows.iter().filter_map(|r| r[0].as_str()).collect();
    assert_eq!(lines, ["3", "4", "5", "6"], "{rows:?}");
    assert_eq!(rows[1][1], "gebied", "the column as the file names it");
    assert_eq!(rows[1][3], "reference.known_area");
    assert!(
        rows[3][2]
            .as_str()
            .is_some_and(|m| m.starts_with("Geen getal")),
        "the problem in Dutch: {rows:?}"
    );
    secretary.screenshot("secretariaat-import", 2600).await;
    site.settled().await;
    assert_eq!(
        site.ledger().await,
        before,
        "a refused file records nothing: the same position and state checksum"
    );
    secretary.close().await;

    // The monitor on a phone: laid out for its width, nothing to scroll sideways.
    let phone = Browser::start_at(&site.server, Viewport::Phone).await;
    phone
        .open(&format!("{}?wijk=crabbehof", page("monitor")))
        .await;
    assert_heading(&phone, "Monitor").await;
    let widths = phone
        .eval(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "the monitor fits a phone's width (content, window): {widths}"
    );
    phone.screenshot("monitor-telefoon", 844).await;
    timings.note("monitor-telefoon", &phone).await;

    // Money and the audit trail on a phone: the bar charts' labels and amounts and the long
    // hashes and keys wrap inside the screen.
    for (name, path, expected) in [
        ("geld-telefoon", page("geld"), "Geld en toezeggingen"),
        ("audit-telefoon", page("audit"), "Audit"),
    ] {
        phone.open(&path).await;
        assert_heading(&phone, expected).await;
        let overflow = phone
            .eval(
                "const width = window.innerWidth;
                 return [...document.querySelectorAll('main *')]
                     .filter(e => e.getBoundingClientRect().right > width + 0.5)
                     .filter(e => !e.closest('.scroll'))
                     .map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').slice(0, 40))",
                vec![],
            )
            .await;
        assert_eq!(
            overflow,
            json!([]),
            "{name}: nothing reaches past the phone's screen (tables scroll in their own box)"
        );
        phone.screenshot(name, 844).await;
    }
    phone.close().await;
    timings.report();
}
