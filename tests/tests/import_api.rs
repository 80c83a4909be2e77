//! Importing files over GraphQL (`importMeasurements`, `importTargets`, `importBudgetLines`) on
//! the Dordt West demo ledger, over real HTTP: the file as text or as a multipart upload, refused
//! whole with every problem, idempotent, a dry run that records nothing, the body limit, and
//! only for the secretary and admin roles.

use std::path::Path;

use domain::access::Role;
use domain::measurement::Measurement;
use domain::programme::Programme;
use serde_json::{json, Value};
use store::{CommandBus, LogFilter, LoggedEvent};
use tests::{
    closed_while_sending, on_both_backends, GraphqlClient, GraphqlReply, TestDb, TestServer,
};

const SECRETARY: &str = "Sanne de Vries";

const IMPORT_MEASUREMENTS: &str = "mutation($input: ImportMeasurementsInput!) {
  importMeasurements(input: $input) {
    fileName rows new corrections unchanged recorded recordedBefore dryRun ignoredColumns
  }
}";

const IMPORT_TARGETS: &str = "mutation($input: ImportTargetsInput!) {
  importTargets(input: $input) { fileName rows new corrections unchanged recorded dryRun }
}";

const IMPORT_BUDGET_LINES: &str = "mutation($input: ImportBudgetLinesInput!) {
  importBudgetLines(input: $input) {
    fileName rows new corrections unchanged recorded recordedBefore dryRun
  }
}";

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples")
}

/// The demo ledger served over HTTP, and a secretary's client of it.
async fn demo_server(db: &TestDb) -> (TestServer, GraphqlClient) {
    alliance_ledger::demo::record_demo(&db.db)
        .await
        .expect("record the demo");
    let server = TestServer::start(db).await;
    let token = db
        .token(
            SECRETARY,
            Role::Secretary,
            Some("Programmabureau Dordt West"),
        )
        .await;
    let client = server.client().with_token(&token);
    (server, client)
}

async fn measurement_events(db: &TestDb) -> Vec<LoggedEvent> {
    let filter = LogFilter {
        aggregate_type: Some("Measurement".into()),
        ..LogFilter::default()
    };
    db.db
        .read_log(0, 10_000, &filter)
        .await
        .expect("read the log")
}

/// The report's counts: rows, new, corrections, unchanged, recorded.
fn counts(report: &Value) -> [u64; 5] {
    ["rows", "new", "corrections", "unchanged", "recorded"].map(|k| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no count {k:?} in {report}"))
    })
}

/// The one error of a reply: its code and extensions.
fn the_error(reply: &GraphqlReply) -> (String, Value) {
    let errors = reply.errors();
    assert_eq!(errors.len(), 1, "one error: {}", reply.body);
    assert!(
        reply.data().is_null()
            || reply
                .data()
                .as_object()
                .is_some_and(|d| d.values().all(Value::is_null)),
        "no data with the error: {}",
        reply.body
    );
    (
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        errors[0]["extensions"].clone(),
    )
}

/// 100 rows of 2023 figures, one per demo indicator and area (the four wijken and Dordrecht),
/// with decimal commas; line 2 holds the first row.
async fn hundred_rows(db: &TestDb) -> Vec<Vec<String>> {
    let programme = CommandBus::new(db.db.clone())
        .load::<Programme>("dordt-west")
        .await
        .expect("load the programme");
    let state = programme.state().expect("the demo programme");
    let areas: Vec<String> = state
        .areas_in_order()
        .iter()
        .filter(|a| a.id.as_str() != "nederland" && a.id.as_str() != "dordt-west")
        .map(|a| a.name.clone())
        .collect();
    let mut rows = Vec::new();
    for indicator in state.indicators_in_order() {
        for area in &areas {
            let n = rows.len();
            rows.push(vec![
                indicator.key.to_string(),
                area.clone(),
                "2023".to_owned(),
                format!("{},{}", 10 + n, n % 10),
                "CBS Kerncijfers wijken en buurten".to_owned(),
                "15-05-2024".to_owned(),
            ]);
        }
    }
    rows.truncate(100);
    assert_eq!(rows.len(), 100, "the demo has enough indicators and areas");
    rows
}

fn csv(rows: &[Vec<String>]) -> String {
    let mut text = String::from("indicator;gebied;periode;waarde;bron;publicatiedatum\n");
    for row in rows {
        text.push_str(&row.join(";"));
        text.push('\n');
    }
    text
}

async fn a_file_with_three_bad_rows_is_refused_whole_then_imports_once_fixed_and_once_only(
    db: TestDb,
) {
    let (server, secretary) = demo_server(&db).await;
    let good = hundred_rows(&db).await;
    let mut bad = good.clone();
    bad[13 - 2][1] = "Zuidwijk".into();
    bad[41 - 2][3] = "12,3x".into();
    bad[78 - 2][2] = "2050".into();
    let head = db.db.head().await.expect("head");
    let input = |text: String| {
        json!({ "input": {
            "content": text, "fileName": "metingen-2023.csv", "programmeId": "dordt-west"
        }})
    };

    let reply = secretary.query(IMPORT_MEASUREMENTS, input(csv(&bad))).await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(code, "IMPORT_REFUSED", "{}", reply.body);
    assert_eq!(extensions["field"], "content");
    assert_eq!(
        reply.errors()[0]["message"],
        "metingen-2023.csv: 3 problems on 3 lines; nothing was recorded"
    );
    let problems = extensions["problems"].as_array().expect("the problems");
    let found: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("a line"),
                p["column"].as_str().expect("a column"),
                p["rule"].as_str().expect("a rule"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (13, "gebied", "reference.known_area"),
            (41, "waarde", "import.number"),
            (78, "periode", "programme.period"),
        ],
        "all three bad rows, and only them"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("has no area \"Zuidwijk\"")),
        "{}",
        problems[0]
    );
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");

    let report = secretary
        .query(IMPORT_MEASUREMENTS, input(csv(&good)))
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(counts(&report), [100, 100, 0, 0, 100]);
    assert_eq!(report["fileName"], "metingen-2023.csv");
    assert_eq!(report["dryRun"], false);
    assert_eq!(report["recordedBefore"], 0);
    let events = measurement_events(&db).await;
    assert_eq!(events.len(), 100);
    let request = events[0]
        .meta("request_id")
        .expect("a request id")
        .to_owned();
    for event in &events {
        assert_eq!(event.event_type, "MeasurementRecorded");
        assert_eq!(
            event.meta("request_id"),
            Some(request.as_str()),
            "one request"
        );
        assert_eq!(event.meta("actor"), Some(SECRETARY), "the token's actor");
        assert_eq!(event.meta("role"), Some("secretary"));
        assert_eq!(
            event.meta("organisation"),
            Some("Programmabureau Dordt West")
        );
        let key = event.meta("idempotency_key").expect("a key per row");
        assert!(
            key.starts_with(&format!("import/measurement/{}/0/", event.aggregate_id)),
            "{key}"
        );
    }
    // The answer comes once the read models hold the rows: the API shows them at once.
    let first = secretary
        .query(
            "query($indicator: String!, $area: String!) { measurement(programmeId: \
             \"dordt-west\", indicator: $indicator, area: $area, period: \"2023\") \
             { value source } }",
            json!({
                "indicator": good[0][0],
                "area": good[0][1].to_lowercase().replace(' ', "-"),
            }),
        )
        .await
        .expect_ok();
    assert_eq!(first["measurement"]["value"], "10", "{first}");

    let head = db.db.head().await.expect("head");
    let again = secretary
        .query(IMPORT_MEASUREMENTS, input(csv(&good)))
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(counts(&again), [100, 0, 0, 100, 0]);
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "imported again: nothing new"
    );

    // A revised figure is a correction, counted as such.
    let mut revised = good.clone();
    revised[0][3] = "10,5".into();
    revised[0][5] = "01-09-2024".into();
    let report = secretary
        .query(IMPORT_MEASUREMENTS, input(csv(&revised)))
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(counts(&report), [100, 0, 1, 99, 1]);
    let corrected = CommandBus::new(db.db.clone())
        .load::<Measurement>(&events[0].aggregate_id)
        .await
        .expect("load");
    let corrected = corrected.state().expect("recorded");
    assert_eq!(corrected.value.to_string(), "10.5");
    assert_eq!(
        corrected.history[1].reason.as_deref(),
        Some(
            "Revised figure of CBS Kerncijfers wijken en buurten, imported from metingen-2023.csv"
        )
    );
    server.stop().await;
}

async fn a_dry_run_checks_and_counts_but_records_nothing(db: TestDb) {
    let (server, secretary) = demo_server(&db).await;
    let rows = hundred_rows(&db).await;
    let head = db.db.head().await.expect("head");
    let input = |text: String| {
        json!({ "input": {
            "content": text, "programmeId": "dordt-west", "dryRun": true
        }})
    };
    let report = secretary
        .query(IMPORT_MEASUREMENTS, input(csv(&rows)))
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(counts(&report), [100, 100, 0, 0, 0]);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["fileName"], "import.csv", "text without a name");
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "a dry run records nothing"
    );
    assert!(measurement_events(&db).await.is_empty());

    // A dry run of a bad file reports its problems the same way.
    let mut bad = rows.clone();
    bad[0][0] = "eenzaamheid".into();
    let reply = secretary.query(IMPORT_MEASUREMENTS, input(csv(&bad))).await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(code, "IMPORT_REFUSED");
    assert_eq!(extensions["problems"][0]["line"], 2);
    assert_eq!(
        extensions["problems"][0]["rule"],
        "reference.known_indicator"
    );
    assert_eq!(db.db.head().await.expect("head"), head);
    server.stop().await;
}

async fn the_sample_workbook_imports_as_a_multipart_upload_within_the_body_limit(db: TestDb) {
    alliance_ledger::demo::record_demo(&db.db)
        .await
        .expect("record the demo");
    let server = TestServer::start_configured(&db, |state| {
        state.limits.max_body_bytes = 64 * 1024;
    })
    .await;
    let token = db.token(SECRETARY, Role::Admin, None).await;
    let admin = server.client().with_token(&token);
    let workbook = std::fs::read(examples().join("measurements.xlsx")).expect("the sample");
    let head = db.db.head().await.expect("head");

    let reply = admin
        .upload(
            IMPORT_MEASUREMENTS,
            json!({ "input": { "file": null } }),
            vec![(
                "variables.input.file",
                "measurements.xlsx",
                workbook.clone(),
            )],
        )
        .await;
    let report = reply.expect_ok()["importMeasurements"].clone();
    assert_eq!(counts(&report), [20, 20, 0, 0, 20]);
    assert_eq!(
        report["fileName"], "measurements.xlsx",
        "the upload's own name"
    );
    let events = measurement_events(&db).await;
    assert_eq!(events.len(), 20);
    assert_eq!(events[0].meta("role"), Some("admin"));

    // The CSV sample holds the same figures: nothing new, as text or as an upload.
    let text = std::fs::read_to_string(examples().join("measurements.csv")).expect("the sample");
    let report = admin
        .query(IMPORT_MEASUREMENTS, json!({ "input": { "content": text } }))
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(counts(&report), [20, 0, 0, 20, 0]);
    let report = admin
        .upload(
            IMPORT_MEASUREMENTS,
            json!({ "input": { "file": null, "fileName": "metingen.csv" } }),
            vec![(
                "variables.input.file",
                "upload.bin",
                text.clone().into_bytes(),
            )],
        )
        .await
        .expect_ok()["importMeasurements"]
        .clone();
    assert_eq!(report["fileName"], "metingen.csv", "fileName wins");
    assert_eq!(counts(&report), [20, 0, 0, 20, 0]);

    // A bad cell of a workbook is reported by its sheet row and column, as Excel shows them.
    let reply = admin
        .upload(
            IMPORT_MEASUREMENTS,
            json!({ "input": { "file": null, "programmeId": "dordt-west" } }),
            vec![("variables.input.file", "cijfers.xlsx", bad_workbook())],
        )
        .await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(code, "IMPORT_REFUSED", "{}", reply.body);
    assert_eq!(extensions["field"], "file");
    assert_eq!(
        extensions["problems"],
        json!([{
            "line": 3, "column": "value", "rule": "import.number",
            "message": extensions["problems"][0]["message"]
        }])
    );

    // The body limit holds for uploads: a larger file is refused before it is read.
    let mut large = text.clone().into_bytes();
    while large.len() <= 64 * 1024 {
        large.extend_from_slice(text.as_bytes());
    }
    match admin
        .try_upload(
            IMPORT_MEASUREMENTS,
            json!({ "input": { "file": null } }),
            vec![("variables.input.file", "groot.csv", large)],
        )
        .await
    {
        Ok(reply) => assert_eq!(reply.status, 413, "{}", reply.body),
        Err(error) => assert!(closed_while_sending(&error), "{error:?}"),
    }

    // A file type the import does not read names the field that decides it.
    let reply = admin
        .upload(
            IMPORT_MEASUREMENTS,
            json!({ "input": { "file": null } }),
            vec![("variables.input.file", "cijfers.pdf", workbook)],
        )
        .await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(
        (code.as_str(), &extensions["field"]),
        ("BAD_USER_INPUT", &json!("fileName"))
    );
    assert_eq!(
        db.db.head().await.expect("head"),
        head + 20,
        "only the first import recorded"
    );
    server.stop().await;
}

/// A workbook with one good row and a text in the value cell of sheet row 3.
fn bad_workbook() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, cells) in [
        [
            "indicator",
            "area",
            "period",
            "value",
            "source",
            "published_on",
        ],
        ["bijstand", "Wielwijk", "2024", "12,0", "CBS", "2025-05-15"],
        ["bijstand", "Crabbehof", "2024", "n.b.", "CBS", "2025-05-15"],
    ]
    .iter()
    .enumerate()
    {
        for (c, text) in cells.iter().enumerate() {
            sheet
                .write_string(
                    u32::try_from(r).expect("row"),
                    u16::try_from(c).expect("column"),
                    *text,
                )
                .expect("cell");
        }
    }
    workbook.save_to_buffer().expect("the workbook")
}

async fn only_the_secretary_and_admin_import(db: TestDb) {
    let (server, _secretary) = demo_server(&db).await;
    let text = std::fs::read_to_string(examples().join("measurements.csv")).expect("the sample");
    let input = json!({ "input": { "content": text } });
    let head = db.db.head().await.expect("head");

    let rijk = db.token("Marieke Visser", Role::Rijk, None).await;
    let reply = server
        .client()
        .with_token(&rijk)
        .query(IMPORT_MEASUREMENTS, input.clone())
        .await;
    assert_eq!(the_error(&reply).0, "FORBIDDEN", "{}", reply.body);
    let partner = db.token("Woonbron", Role::Partner, Some("Woonbron")).await;
    let reply = server
        .client()
        .with_token(&partner)
        .query(IMPORT_TARGETS, input.clone())
        .await;
    assert_eq!(the_error(&reply).0, "FORBIDDEN", "{}", reply.body);
    let reply = server.client().query(IMPORT_MEASUREMENTS, input).await;
    assert_eq!(the_error(&reply).0, "UNAUTHENTICATED", "{}", reply.body);
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");
    server.stop().await;
}

async fn targets_import_on_their_decision_and_refuse_bad_input_by_field(db: TestDb) {
    let (server, secretary) = demo_server(&db).await;
    let text = std::fs::read_to_string(examples().join("targets.csv")).expect("the sample");
    let head = db.db.head().await.expect("head");

    // Input that is wrong before the file is read names its field.
    for (input, field) in [
        (
            json!({ "content": text, "decisionId": "besluit-12" }),
            "decisionId",
        ),
        (
            json!({ "content": text, "programmeId": "Dordt West" }),
            "programmeId",
        ),
        (
            json!({ "content": text, "fileName": "streefwaarden.xlsx" }),
            "fileName",
        ),
        (json!({}), "file"),
    ] {
        let reply = secretary
            .query(IMPORT_TARGETS, json!({ "input": input }))
            .await;
        let (code, extensions) = the_error(&reply);
        assert_eq!(
            (code.as_str(), &extensions["field"]),
            ("BAD_USER_INPUT", &json!(field))
        );
    }
    // The file names every row's decision; a decision given for rows without one is unused.
    let report = secretary
        .query(
            IMPORT_TARGETS,
            json!({ "input": { "content": text, "fileName": "targets.csv" } }),
        )
        .await
        .expect_ok()["importTargets"]
        .clone();
    assert_eq!(counts(&report), [6, 6, 0, 0, 6]);
    assert_eq!(db.db.head().await.expect("head"), head + 6);
    let target = secretary
        .query(
            "{ target(programmeId: \"dordt-west\", indicator: \"ernstig-overgewicht\", \
             area: \"crabbehof\", horizonYear: 2027) { decisionId } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        target["target"]["decisionId"], "9ee601de-30b9-55c7-810d-c003508b1219",
        "{target}"
    );
    server.stop().await;
}

/// The (line, column, rule) of every problem of an `IMPORT_REFUSED` error.
fn refused(extensions: &Value) -> Vec<(u64, Option<String>, String)> {
    extensions["problems"]
        .as_array()
        .expect("the problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().expect("a line"),
                p["column"].as_str().map(str::to_owned),
                p["rule"].as_str().expect("a rule").to_owned(),
            )
        })
        .collect()
}

async fn budget_lines_import_once_show_in_the_budget_and_bad_files_are_refused_whole(db: TestDb) {
    let (server, secretary) = demo_server(&db).await;
    let text = std::fs::read_to_string(examples().join("budget-lines.csv")).expect("the sample");
    let head = db.db.head().await.expect("head");
    let input =
        |content: &str| json!({ "input": { "content": content, "fileName": "budget-lines.csv" } });

    // A row of an unknown kind and a row on a fund the programme lacks: refused whole.
    let bad = text
        .replacen(";uitgave;312.500,00;", ";betaling;312.500,00;", 1)
        .replacen(
            "dordt-west;Extra middelen elf scholen (kansengelijkheid);Leren en ontwikkelen;2025;uitgave",
            "dordt-west;Extra middelen twaalf scholen;Leren en ontwikkelen;2025;uitgave",
            1,
        );
    let reply = secretary.query(IMPORT_BUDGET_LINES, input(&bad)).await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(code, "IMPORT_REFUSED", "{}", reply.body);
    assert_eq!(extensions["field"], "content");
    assert_eq!(
        reply.errors()[0]["message"],
        "budget-lines.csv: 2 problems on 2 lines; nothing was recorded"
    );
    assert_eq!(
        refused(&extensions),
        [
            (3, Some("soort".to_owned()), "import.line_kind".to_owned()),
            (
                7,
                Some("fonds".to_owned()),
                "reference.known_fund".to_owned()
            ),
        ]
    );
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");

    // Lines that fit one by one but together spend more than the 2024 allocation holds.
    let overdrawn = format!(
        "{text}dordt-west;Extra middelen elf scholen (kansengelijkheid);Leren en ontwikkelen;2024;\
         uitgave;2.400.000,00;Slotbetaling (illustratief);01-12-2024;BET-2024-0999\n"
    );
    let reply = secretary
        .query(IMPORT_BUDGET_LINES, input(&overdrawn))
        .await;
    let (code, extensions) = the_error(&reply);
    assert_eq!(code, "IMPORT_REFUSED", "{}", reply.body);
    assert_eq!(
        refused(&extensions),
        [(
            8,
            Some("bedrag".to_owned()),
            "budget.within_allocation".to_owned()
        )]
    );
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");

    // The sample records its six lines, once.
    let report = secretary
        .query(IMPORT_BUDGET_LINES, input(&text))
        .await
        .expect_ok()["importBudgetLines"]
        .clone();
    assert_eq!(counts(&report), [6, 6, 0, 0, 6]);
    assert_eq!(report["fileName"], "budget-lines.csv");
    assert_eq!(db.db.head().await.expect("head"), head + 6);
    let filter = LogFilter {
        aggregate_type: Some("Fund".into()),
        ..LogFilter::default()
    };
    let lines: Vec<LoggedEvent> = db
        .db
        .read_log(head, 100, &filter)
        .await
        .expect("read the log");
    assert_eq!(lines.len(), 6);
    for event in &lines {
        assert_eq!(event.meta("actor"), Some(SECRETARY), "the token's actor");
        assert!(
            event
                .meta("idempotency_key")
                .is_some_and(|k| k.starts_with(&format!("import/budget/{}/0/", event.aggregate_id))),
            "{:?}",
            event.metadata
        );
    }
    // The answer comes once the read models hold the lines.
    let budget = secretary
        .query(
            "{ budget(programmeId: \"dordt-west\", year: 2024) { committed spent } }",
            json!({}),
        )
        .await
        .expect_ok();
    assert_eq!(
        budget["budget"],
        json!({ "committed": "1335000.00", "spent": "354850.75" })
    );

    // Again, with the programme and fund as fields: nothing new.
    let again = secretary
        .query(
            IMPORT_BUDGET_LINES,
            json!({ "input": {
                "content": text, "programmeId": "dordt-west",
                "fund": "Extra middelen elf scholen (kansengelijkheid)", "sheet": ""
            }}),
        )
        .await
        .expect_ok()["importBudgetLines"]
        .clone();
    assert_eq!(counts(&again), [6, 0, 0, 6, 0]);
    assert_eq!(again["fileName"], "import.csv");
    assert_eq!(db.db.head().await.expect("head"), head + 6);

    // Only the secretary and admin import.
    let rijk = db.token("Marieke Visser", Role::Rijk, None).await;
    let reply = server
        .client()
        .with_token(&rijk)
        .query(IMPORT_BUDGET_LINES, input(&text))
        .await;
    assert_eq!(the_error(&reply).0, "FORBIDDEN", "{}", reply.body);
    server.stop().await;
}

on_both_backends!(
    budget_lines_import_once_show_in_the_budget_and_bad_files_are_refused_whole,
    a_file_with_three_bad_rows_is_refused_whole_then_imports_once_fixed_and_once_only,
    a_dry_run_checks_and_counts_but_records_nothing,
    the_sample_workbook_imports_as_a_multipart_upload_within_the_body_limit,
    only_the_secretary_and_admin_import,
    targets_import_on_their_decision_and_refuse_bad_input_by_field,
);
