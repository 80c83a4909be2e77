//! Importing monitoring results, targets and budget lines from files with `alliance-ledger
//! import`, on the Dordt West demo ledger: all or nothing with every bad row reported,
//! idempotent, corrections for changed figures, Dutch CSV conventions and Excel workbooks,
//! budget lines that together stay within their allocations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use domain::access::Role;
use domain::budget::{AllocationTarget, Fund};
use domain::ids::AllocationId;
use domain::measurement::{Measurement, MeasurementState};
use domain::programme::Programme;
use serde_json::{json, Value};
use store::{CommandBus, LogFilter, LoggedEvent};
use tests::{cli, on_both_backends, TestDb, TestServer};

const ACTOR: &str = "Secretaris Dordt West";

async fn demo(db: &TestDb) {
    alliance_ledger::demo::record_demo(&db.db)
        .await
        .expect("record the demo");
}

fn import(db: &TestDb, file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["import", "measurements", file, "--actor", ACTOR];
    args.extend_from_slice(extra);
    cli(Some(db), &args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `key: value` lines an import prints on standard output.
fn summary(out: &Output) -> BTreeMap<String, String> {
    assert!(out.status.success(), "the import failed:\n{}", stderr(out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn counts(out: &Output) -> [String; 5] {
    let s = summary(out);
    ["rows", "new", "corrections", "unchanged", "recorded"].map(|k| {
        s.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("no {k:?} in {s:?}"))
    })
}

/// The problems an import reported on standard error, one a line.
fn problems(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.contains(": line "))
        .map(str::to_owned)
        .collect()
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

async fn measurement(db: &TestDb, id: &str) -> MeasurementState {
    CommandBus::new(db.db.clone())
        .load::<Measurement>(id)
        .await
        .expect("load the measurement")
        .state()
        .cloned()
        .unwrap_or_else(|| panic!("no measurement {id}"))
}

/// The demo's indicators (keys) and its four wijken and Dordrecht (names), in order.
async fn indicators_and_areas(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let programme = CommandBus::new(db.db.clone())
        .load::<Programme>("dordt-west")
        .await
        .expect("load the programme");
    let state = programme.state().expect("the demo programme");
    let indicators = state
        .indicators_in_order()
        .iter()
        .map(|i| i.key.to_string())
        .collect();
    let areas = state
        .areas_in_order()
        .iter()
        .filter(|a| a.id.as_str() != "nederland" && a.id.as_str() != "dordt-west")
        .map(|a| a.name.clone())
        .collect();
    (indicators, areas)
}

struct Sample {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// The rows after the header, as written.
    rows: Vec<Vec<String>>,
}

/// The sample files name no programme: the command line does.
const DORDT_WEST: &[&str] = &["--programme", "dordt-west"];

const HEADER: &str = "indicator;gebied;periode;waarde;bron;publicatiedatum";

impl Sample {
    /// 100 rows of 2023 figures, one per indicator and area, with decimal commas.
    async fn hundred(db: &TestDb) -> Self {
        let (indicators, areas) = indicators_and_areas(db).await;
        let mut rows = Vec::new();
        for indicator in &indicators {
            for area in &areas {
                let n = rows.len();
                rows.push(vec![
                    indicator.clone(),
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
        let dir = tempfile::tempdir().expect("a folder");
        Self {
            dir: dir.path().to_owned(),
            _dir: dir,
            rows,
        }
    }

    /// Writes the rows under the header as `name`; line 2 holds the first row.
    fn write(&self, name: &str) -> PathBuf {
        let mut text = format!("{HEADER}\n");
        for row in &self.rows {
            text.push_str(&row.join(";"));
            text.push('\n');
        }
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write the file");
        path
    }

    /// Sets column `column` of the row on line `line`.
    fn set(&mut self, line: usize, column: usize, value: &str) {
        self.rows[line - 2][column] = value.to_owned();
    }
}

async fn a_file_with_bad_rows_is_refused_whole_then_imports_once_fixed_and_once_only(db: TestDb) {
    demo(&db).await;
    let mut sample = Sample::hundred(&db).await;
    let good = sample.rows.clone();
    sample.set(13, 1, "Zuidwijk");
    sample.set(41, 3, "12,3x");
    sample.set(78, 2, "2050");
    let bad = sample.write("metingen-2023.csv");
    let head = db.db.head().await.expect("head");

    let out = import(&db, &bad, DORDT_WEST);
    assert!(!out.status.success(), "a file with bad rows is refused");
    let reported = problems(&out);
    assert_eq!(
        reported.len(),
        3,
        "all three bad rows, and only them:\n{}",
        stderr(&out)
    );
    for (problem, expected) in reported.iter().zip([
        "line 13, column \"gebied\": programme dordt-west has no area \"Zuidwijk\"",
        "line 41, column \"waarde\": \"12,3x\" is not a number",
        "line 78, column \"periode\": 2050 lies outside the programme period 2023-2043",
    ]) {
        assert!(problem.contains(expected), "{problem:?} says {expected:?}");
    }
    assert!(
        reported[0].ends_with("[reference.known_area]"),
        "{}",
        reported[0]
    );
    assert!(reported[1].ends_with("[import.number]"), "{}", reported[1]);
    assert!(
        reported[2].ends_with("[programme.period]"),
        "{}",
        reported[2]
    );
    assert!(
        stderr(&out).contains("nothing was recorded"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");

    sample.rows = good;
    let fixed = sample.write("metingen-2023.csv");
    let out = import(&db, &fixed, DORDT_WEST);
    assert_eq!(
        counts(&out),
        ["100", "100", "0", "0", "100"].map(String::from)
    );
    let events = measurement_events(&db).await;
    assert_eq!(events.len(), 100);
    assert!(events.iter().all(|e| e.event_type == "MeasurementRecorded"));
    let request = events[0].meta("request_id").expect("a request id");
    assert!(request.starts_with("import-"), "{request}");
    for event in &events {
        assert_eq!(
            event.meta("request_id"),
            Some(request),
            "one import, one request"
        );
        assert_eq!(event.meta("actor"), Some(ACTOR));
        assert_eq!(event.meta("role"), Some("secretary"));
        assert_eq!(event.meta("command"), Some("RecordMeasurement"));
        let key = event.meta("idempotency_key").expect("a key");
        assert!(
            key.starts_with(&format!("import/measurement/{}/0/", event.aggregate_id)),
            "{key}"
        );
    }
    // The log holds the rows in file order.
    let first = measurement(&db, &events[0].aggregate_id).await;
    assert_eq!(first.value.to_string(), "10.0");
    assert_eq!(first.source, "CBS Kerncijfers wijken en buurten");
    assert_eq!(first.published_on.to_string(), "2024-05-15");
    assert!(!first.illustrative);
    let last = measurement(&db, &events[99].aggregate_id).await;
    assert_eq!(last.value.to_string(), "109.9");

    let head = db.db.head().await.expect("head");
    let out = import(&db, &fixed, DORDT_WEST);
    assert_eq!(
        counts(&out),
        ["100", "0", "0", "100", "0"].map(String::from)
    );
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "imported again: nothing new"
    );
}

async fn a_changed_figure_records_a_correction_and_keeps_the_earlier_one(db: TestDb) {
    demo(&db).await;
    let mut sample = Sample::hundred(&db).await;
    let original = sample.write("metingen.csv");
    summary(&import(&db, &original, DORDT_WEST));
    let id = |row: &[String]| -> String {
        let area = row[1].to_lowercase().replace(' ', "-");
        format!("dordt-west/{}/{area}/2023", row[0])
    };

    // CBS revised two figures and published them later.
    sample.set(2, 3, "10,5");
    sample.set(50, 3, "60");
    for line in [2, 50] {
        sample.set(line, 5, "01-09-2024");
    }
    let revised = sample.write("metingen-herzien.csv");
    let out = import(&db, &revised, DORDT_WEST);
    assert_eq!(counts(&out), ["100", "0", "2", "98", "2"].map(String::from));
    let corrections: Vec<LoggedEvent> = measurement_events(&db)
        .await
        .into_iter()
        .filter(|e| e.event_type == "MeasurementCorrected")
        .collect();
    assert_eq!(corrections.len(), 2);
    assert_eq!(corrections[0].aggregate_id, id(&sample.rows[0]));
    assert_eq!(
        corrections[0].sequence, 2,
        "a new event on the same measurement"
    );
    let corrected = measurement(&db, &id(&sample.rows[0])).await;
    assert_eq!(corrected.value.to_string(), "10.5");
    assert_eq!(corrected.corrections, 1);
    let history: Vec<String> = corrected
        .history
        .iter()
        .map(|r| r.value.to_string())
        .collect();
    assert_eq!(history, ["10.0", "10.5"], "the earlier figure stays");
    assert_eq!(
        corrected.history[1].reason.as_deref(),
        Some("Revised figure of CBS Kerncijfers wijken en buurten, imported from metingen-herzien.csv")
    );
    assert_eq!(corrected.published_on.to_string(), "2024-09-01");

    let head = db.db.head().await.expect("head");
    let out = import(&db, &revised, DORDT_WEST);
    assert_eq!(
        counts(&out),
        ["100", "0", "0", "100", "0"].map(String::from)
    );
    assert_eq!(db.db.head().await.expect("head"), head);

    // The older file again would put back figures published before the revision: refused.
    let out = import(&db, &original, DORDT_WEST);
    assert!(!out.status.success());
    let lines: Vec<&str> = problems(&out)
        .iter()
        .map(|p| {
            assert!(p.ends_with("[measurement.publication_order]"), "{p}");
            if p.contains(": line 2, ") {
                "2"
            } else if p.contains(": line 50, ") {
                "50"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(lines, ["2", "50"], "{}", stderr(&out));
    assert_eq!(db.db.head().await.expect("head"), head);

    // A figure that would correct a later one with an earlier publication is refused whole.
    sample.set(3, 3, "99");
    sample.set(3, 5, "01-01-2024");
    sample.set(4, 3, "98");
    let out = import(&db, &sample.write("te-vroeg.csv"), DORDT_WEST);
    assert!(!out.status.success());
    let reported = problems(&out);
    assert_eq!(reported.len(), 1, "{}", stderr(&out));
    assert!(
        reported[0].contains("line 3, column \"publicatiedatum\"")
            && reported[0].ends_with("[measurement.publication_order]"),
        "{}",
        reported[0]
    );
    assert_eq!(db.db.head().await.expect("head"), head, "not even line 4");
}

async fn bom_semicolons_decimal_commas_and_cbs_codes_are_read_as_dutch_files_write_them(
    db: TestDb,
) {
    demo(&db).await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("rivm.csv");
    let text = "\u{feff}Programma;Indicator;Gebied;Perioden;Waarde;Bron;Publicatiedatum;Illustratief;Opmerking\r\n\
                dordt-west;Ernstig overgewicht;Crabbehof;2023JJ00;23,4;RIVM;01-03-2024;ja;\"tekst; met puntkomma\"\r\n\
                dordt-west;ernstig-overgewicht;GM0505;2023;15,90;RIVM;1-3-2024;nee;\r\n\
                \r\n\
                dordt-west;wekelijkse-sporters;Oud-Krispijn;2024-Q2;37,5;RIVM;2024-09-01;;\r\n";
    std::fs::write(&path, text).expect("write the file");

    let out = import(&db, &path, &["--dry-run"]);
    assert_eq!(counts(&out), ["3", "3", "0", "0", "0"].map(String::from));
    assert!(
        measurement_events(&db).await.is_empty(),
        "a dry run records nothing"
    );
    assert!(
        stderr(&out).contains("Opmerking"),
        "ignored columns are named"
    );

    let out = import(&db, &path, &[]);
    assert_eq!(counts(&out), ["3", "3", "0", "0", "3"].map(String::from));
    let crabbehof = measurement(&db, "dordt-west/ernstig-overgewicht/crabbehof/2023").await;
    assert_eq!(crabbehof.value.to_string(), "23.4");
    assert_eq!(crabbehof.published_on.to_string(), "2024-03-01");
    assert!(crabbehof.illustrative);
    let dordrecht = measurement(&db, "dordt-west/ernstig-overgewicht/dordrecht/2023").await;
    assert_eq!(dordrecht.value.to_string(), "15.90", "recorded as written");
    assert!(!dordrecht.illustrative);
    let quarter = measurement(&db, "dordt-west/wekelijkse-sporters/oud-krispijn/2024-Q2").await;
    assert_eq!(quarter.value.to_string(), "37.5");
}

async fn an_excel_workbook_imports_like_its_csv(db: TestDb) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    demo(&db).await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("leefbaarometer.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Leefbaarometer").expect("name");
    let date = Format::new().set_num_format("dd-mm-yyyy");
    for (c, name) in [
        "indicator",
        "area",
        "period",
        "value",
        "source",
        "published_on",
    ]
    .iter()
    .enumerate()
    {
        sheet
            .write_string(0, u16::try_from(c).expect("column"), *name)
            .expect("header");
    }
    let published = ExcelDateTime::from_ymd(2025, 7, 1).expect("date");
    for (r, (area, value)) in [("Wielwijk", 4.1), ("Crabbehof", 4.25), ("GM0505", 5.0)]
        .into_iter()
        .enumerate()
    {
        let r = u32::try_from(r + 1).expect("row");
        sheet
            .write_string(r, 0, "Leefbaarometer wonen")
            .expect("cell");
        sheet.write_string(r, 1, area).expect("cell");
        sheet.write_number(r, 2, 2024).expect("cell");
        sheet.write_number(r, 3, value).expect("cell");
        sheet
            .write_string(r, 4, "Leefbaarometer 3.0")
            .expect("cell");
        sheet
            .write_datetime_with_format(r, 5, &published, &date)
            .expect("cell");
    }
    // A text cell with a decimal comma, as pasted from a Dutch source.
    sheet
        .write_string(4, 0, "leefbaarometer-wonen")
        .expect("cell");
    sheet.write_string(4, 1, "Oud-Krispijn").expect("cell");
    sheet.write_string(4, 2, "2024").expect("cell");
    sheet.write_string(4, 3, "3,6").expect("cell");
    sheet
        .write_string(4, 4, "Leefbaarometer 3.0")
        .expect("cell");
    sheet.write_string(4, 5, "01-07-2025").expect("cell");
    workbook.save(&path).expect("save the workbook");

    let out = import(&db, &path, &["--programme", "dordt-west"]);
    assert_eq!(counts(&out), ["4", "4", "0", "0", "4"].map(String::from));
    for (area, value) in [
        ("wielwijk", "4.1"),
        ("crabbehof", "4.25"),
        ("dordrecht", "5"),
        ("oud-krispijn", "3.6"),
    ] {
        let m = measurement(&db, &format!("dordt-west/leefbaarometer-wonen/{area}/2024")).await;
        assert_eq!(m.value.to_string(), value, "{area}");
        assert_eq!(m.published_on.to_string(), "2025-07-01");
    }

    // A bad cell of a workbook is reported by its sheet row and column.
    sheet_with_bad_row(&path);
    let out = import(&db, &path, &["--programme", "dordt-west"]);
    assert!(!out.status.success());
    let reported = problems(&out);
    assert_eq!(reported.len(), 1, "{}", stderr(&out));
    assert!(
        reported[0].contains("line 3, column \"value\"")
            && reported[0].ends_with("[import.number]"),
        "{}",
        reported[0]
    );
}

/// Rewrites the workbook at `path` with one good row and a text in the value cell of row 3.
fn sheet_with_bad_row(path: &Path) {
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
    workbook.save(path).expect("save the workbook");
}

async fn the_documented_sample_files_import_on_the_demo(db: TestDb) {
    demo(&db).await;
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    let out = import(&db, &examples.join("measurements.csv"), &[]);
    assert_eq!(counts(&out), ["20", "20", "0", "0", "20"].map(String::from));
    let crabbehof = measurement(&db, "dordt-west/ernstig-overgewicht/crabbehof/2024").await;
    assert_eq!(crabbehof.value.to_string(), "23.4");
    assert!(crabbehof.illustrative, "the sample's figures are examples");
    // The workbook holds the same figures: nothing new.
    let out = import(&db, &examples.join("measurements.xlsx"), &[]);
    assert_eq!(counts(&out), ["20", "0", "0", "20", "0"].map(String::from));
    // The targets sample cites the demo's decisions by their stable ids.
    let out = import_targets(&db, &examples.join("targets.csv"), &[]);
    let s = summary(&out);
    assert_eq!(
        ["rows", "new", "changes", "unchanged", "recorded"].map(|k| s[k].as_str()),
        ["6", "6", "0", "0", "6"]
    );
}

/// An adopted decision of the demo programme.
async fn adopted_decision(db: &TestDb) -> String {
    let filter = LogFilter {
        aggregate_type: Some("Decision".into()),
        ..LogFilter::default()
    };
    db.db
        .read_log(0, 1_000, &filter)
        .await
        .expect("read the log")
        .into_iter()
        .find(|e| e.event_type == "DecisionAdopted")
        .map(|e| e.aggregate_id)
        .expect("the demo adopts a decision")
}

fn import_targets(db: &TestDb, file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["import", "targets", file, "--actor", ACTOR];
    args.extend_from_slice(extra);
    cli(Some(db), &args)
}

async fn targets_are_set_on_a_decision_changed_when_their_value_differs_and_checked_first(
    db: TestDb,
) {
    demo(&db).await;
    let decision = adopted_decision(&db).await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("streefwaarden.csv");
    let write = |rows: &str| {
        let text = format!(
            "programma;indicator;gebied;streefjaar;streefwaarde;vergelijkingsgebied;marge;nulmeting;basisjaar\n{rows}"
        );
        std::fs::write(&path, text).expect("write the file");
    };
    write(
        "dordt-west;Ernstig overgewicht;Crabbehof;2030;18,5;;;23,4;2022\n\
         dordt-west;bijstand;Wielwijk;2030;;Dordrecht;2,0;;\n\
         dordt-west;bijstand;Crabbehof;2043;;GM0505;;;\n",
    );
    let reason = "Streefwaarden uitvoeringsprogramma 2024-2027";
    let with_decision = ["--decision", decision.as_str(), "--reason", reason];

    let out = import_targets(&db, &path, &with_decision);
    let s = summary(&out);
    assert_eq!(
        ["rows", "new", "changes", "unchanged", "recorded"].map(|k| s[k].as_str()),
        ["3", "3", "0", "0", "3"]
    );
    let bus = CommandBus::new(db.db.clone());
    let target = bus
        .load::<domain::target::Target>("dordt-west/ernstig-overgewicht/crabbehof/2030")
        .await
        .expect("load");
    let state = target.state().expect("set");
    assert_eq!(state.decision.to_string(), decision);
    assert_eq!(state.history[0].reason, reason);
    assert_eq!(
        state
            .baseline
            .as_ref()
            .map(|b| (b.value.to_string(), b.year)),
        Some(("23.4".to_owned(), 2022))
    );
    let relative = bus
        .load::<domain::target::Target>("dordt-west/bijstand/wielwijk/2030")
        .await
        .expect("load");
    assert!(matches!(
        &relative.state().expect("set").value,
        domain::target::TargetValue::RelativeToComparator { comparator, margin }
            if comparator.as_str() == "dordrecht" && margin.to_string() == "2.0"
    ));

    let head = db.db.head().await.expect("head");
    let out = import_targets(&db, &path, &with_decision);
    assert_eq!(
        summary(&out)["recorded"],
        "0",
        "imported again: nothing new"
    );
    assert_eq!(db.db.head().await.expect("head"), head);

    // A new value changes the target; a bad row anywhere refuses the file whole.
    write(
        "dordt-west;Ernstig overgewicht;Crabbehof;2030;17,0;;;23,4;2022\n\
         dordt-west;bijstand;Wielwijk;2030;;Dordrecht;2,0;;\n\
         dordt-west;bijstand;Crabbehof;2043;;Oud-Krispijn;;;\n",
    );
    let out = import_targets(&db, &path, &with_decision);
    assert!(!out.status.success());
    let reported = problems(&out);
    assert_eq!(reported.len(), 1, "{}", stderr(&out));
    assert!(
        reported[0].contains("line 4, column \"vergelijkingsgebied\"")
            && reported[0].ends_with("[target.comparator_kind]"),
        "{}",
        reported[0]
    );
    assert_eq!(db.db.head().await.expect("head"), head);

    let out = import_targets(
        &db,
        &path,
        &[
            "--decision",
            "00000000-0000-0000-0000-000000000001",
            "--reason",
            reason,
        ],
    );
    assert!(!out.status.success());
    let rules: Vec<&str> = problems(&out)
        .iter()
        .map(|p| {
            if p.ends_with("[citation.adopted_decision]") {
                "citation"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(
        rules,
        ["citation", "citation", "other", "citation"],
        "every row cites the unknown decision; line 4 has its comparator too:\n{}",
        stderr(&out)
    );
    assert_eq!(db.db.head().await.expect("head"), head);

    write(
        "dordt-west;Ernstig overgewicht;Crabbehof;2030;17,0;;;23,4;2022\n\
         dordt-west;bijstand;Wielwijk;2030;;Dordrecht;2,0;;\n",
    );
    let out = import_targets(&db, &path, &with_decision);
    let s = summary(&out);
    assert_eq!(
        ["rows", "new", "changes", "unchanged", "recorded"].map(|k| s[k].as_str()),
        ["2", "0", "1", "1", "1"]
    );
    let changed = bus
        .load::<domain::target::Target>("dordt-west/ernstig-overgewicht/crabbehof/2030")
        .await
        .expect("load");
    let history: Vec<String> = changed
        .state()
        .expect("set")
        .history
        .iter()
        .map(|r| format!("{:?}", r.value))
        .collect();
    assert_eq!(history, ["Absolute(18.5)", "Absolute(17.0)"]);
}

// Budget lines: commitments and expenditures on the allocations of the demo's schools fund.

const SCHOOLS_FUND: &str = "Extra middelen elf scholen (kansengelijkheid)";

fn import_budget(db: &TestDb, file: &Path, extra: &[&str]) -> Output {
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["import", "budget", file, "--actor", ACTOR];
    args.extend_from_slice(extra);
    cli(Some(db), &args)
}

/// rows, new, changes, unchanged and recorded of a budget import's summary.
fn budget_counts(out: &Output) -> [String; 5] {
    let s = summary(out);
    ["rows", "new", "changes", "unchanged", "recorded"].map(|k| {
        s.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("no {k:?} in {s:?}"))
    })
}

async fn fund_events(db: &TestDb) -> Vec<LoggedEvent> {
    let filter = LogFilter {
        aggregate_type: Some("Fund".into()),
        ..LogFilter::default()
    };
    db.db
        .read_log(0, 10_000, &filter)
        .await
        .expect("read the log")
}

/// The demo's schools fund: its id, and the id of its allocation for `year`.
async fn schools_fund(db: &TestDb, year: i32) -> (String, String) {
    let id = fund_events(db)
        .await
        .into_iter()
        .find(|e| e.event_type == "FundRegistered")
        .map(|e| e.aggregate_id)
        .expect("the demo registers a fund");
    let fund = CommandBus::new(db.db.clone())
        .load::<Fund>(&id)
        .await
        .expect("load the fund");
    let state = fund.state().expect("registered");
    assert_eq!(state.name, SCHOOLS_FUND);
    let allocation = state
        .allocations
        .values()
        .find(|a| {
            a.year == year
                && matches!(&a.target, AllocationTarget::Pillar(p) if p.as_str() == "leren-en-ontwikkelen")
        })
        .map(|a| a.id.to_string())
        .unwrap_or_else(|| panic!("the demo allocates {year}"));
    (id, allocation)
}

/// The budget as the server's read models show it: the fund's allocations (year, committed,
/// spent) and the programme's 2024 totals (committed, spent).
async fn budget_shown(db: &TestDb, fund: &str) -> (Vec<(i64, String, String)>, Value) {
    let server = TestServer::start(db).await;
    let token = db.token("Marieke Visser", Role::Rijk, None).await;
    let data = server
        .client()
        .with_token(&token)
        .query(
            "query($fund: ID!) {
               fund(id: $fund) { allocations { year committed spent } }
               budget(programmeId: \"dordt-west\", year: 2024) { committed spent }
             }",
            json!({ "fund": fund }),
        )
        .await
        .expect_ok();
    server.stop().await;
    let allocations = data["fund"]["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .filter(|a| a["committed"] != "0.00" || a["spent"] != "0.00")
        .map(|a| {
            (
                a["year"].as_i64().expect("a year"),
                a["committed"].as_str().expect("money").to_owned(),
                a["spent"].as_str().expect("money").to_owned(),
            )
        })
        .collect();
    (allocations, data["budget"].clone())
}

async fn the_sample_budget_lines_record_once_and_show_in_the_budget(db: TestDb) {
    demo(&db).await;
    let (fund, _) = schools_fund(&db, 2024).await;
    let before = fund_events(&db).await.len();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/budget-lines.csv");

    let out = import_budget(&db, &sample, &[]);
    assert_eq!(
        budget_counts(&out),
        ["6", "6", "0", "0", "6"].map(String::from)
    );
    let events = fund_events(&db).await;
    let new = &events[before..];
    let kinds: Vec<&str> = new.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "BudgetCommitted",
            "ExpenditureRecorded",
            "BudgetCommitted",
            "ExpenditureRecorded",
            "BudgetCommitted",
            "ExpenditureRecorded",
        ],
        "the lines in file order"
    );
    for (event, sequence) in new.iter().zip(before + 1..) {
        assert_eq!(event.aggregate_id, fund);
        assert_eq!(
            event.sequence as usize, sequence,
            "the fund's next sequences"
        );
        assert_eq!(event.meta("actor"), Some(ACTOR));
        assert_eq!(event.meta("role"), Some("secretary"));
        let command = if event.event_type == "BudgetCommitted" {
            "CommitBudget"
        } else {
            "RecordExpenditure"
        };
        assert_eq!(event.meta("command"), Some(command));
        let key = event.meta("idempotency_key").expect("a key per line");
        assert!(
            key.starts_with(&format!("import/budget/{fund}/0/")),
            "{key}"
        );
    }
    // Amounts are recorded in cents, as written in the file.
    assert_eq!(new[0].payload["BudgetCommitted"]["amount"], 125_000_000);
    assert_eq!(new[3].payload["ExpenditureRecorded"]["amount"], 4_235_075);

    // The server's read models show what was committed and spent per allocation.
    let (allocations, budget) = budget_shown(&db, &fund).await;
    assert_eq!(
        allocations,
        [
            (2024, "1335000.00".to_owned(), "354850.75".to_owned()),
            (2025, "1375000.00".to_owned(), "343750.00".to_owned()),
        ]
    );
    assert_eq!(budget["committed"], "1335000.00");
    assert_eq!(budget["spent"], "354850.75");

    let head = db.db.head().await.expect("head");
    let out = import_budget(&db, &sample, &[]);
    assert_eq!(
        budget_counts(&out),
        ["6", "0", "0", "6", "0"].map(String::from)
    );
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "imported again: nothing new"
    );
}

async fn a_bad_budget_file_is_refused_whole_with_every_problem(db: TestDb) {
    demo(&db).await;
    let head = db.db.head().await.expect("head");
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("verplichtingen.csv");
    let unknown_allocation = "00000000-0000-0000-0000-0000000000a1";
    std::fs::write(
        &path,
        format!(
            "fonds;toekenning;pijler;jaar;soort;bedrag;omschrijving;datum;kenmerk\n\
             Extra middelen twaalf scholen;;Leren en ontwikkelen;2024;verplichting;1.000,00;Opdracht;15-01-2024;INK-1\n\
             {SCHOOLS_FUND};{unknown_allocation};;;verplichting;2.500,00;Opdracht;15-01-2024;INK-2\n\
             {SCHOOLS_FUND};;Leren en ontwikkelen;2024;uitgave;1.234;Factuur;15-02-2024;FAC-1\n\
             {SCHOOLS_FUND};;Leren en ontwikkelen;2024;creditnota;100,00;Factuur;15-02-2024;FAC-2\n\
             {SCHOOLS_FUND};;Leren en ontwikkelen;2024;uitgave;100,00;Factuur;15-02-2024;FAC-3\n"
        ),
    )
    .expect("write the file");

    let out = import_budget(&db, &path, DORDT_WEST);
    assert!(!out.status.success(), "a file with bad rows is refused");
    let reported = problems(&out);
    let expected = [
        (
            "line 2, column \"fonds\": programme dordt-west has no fund \"Extra middelen twaalf scholen\"",
            "[reference.known_fund]",
        ),
        (
            "line 3, column \"toekenning\": fund Extra middelen elf scholen (kansengelijkheid) has no allocation 00000000-0000-0000-0000-0000000000a1",
            "[budget.known_allocation]",
        ),
        (
            "line 4, column \"bedrag\": \"1.234\" is ambiguous",
            "[import.amount]",
        ),
        (
            "line 5, column \"soort\": \"creditnota\" is no kind of budget line",
            "[import.line_kind]",
        ),
    ];
    assert_eq!(
        reported.len(),
        expected.len(),
        "every bad row, and only them:\n{}",
        stderr(&out)
    );
    for (problem, (text, rule)) in reported.iter().zip(expected) {
        assert!(problem.contains(text), "{problem:?} says {text:?}");
        assert!(problem.ends_with(rule), "{problem:?} breaks {rule}");
    }
    assert!(
        stderr(&out).contains("4 problems on 4 lines (listed above); nothing was recorded"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "not even the good row"
    );
}

async fn budget_lines_that_together_overdraw_an_allocation_are_refused(db: TestDb) {
    demo(&db).await;
    let (fund, allocation) = schools_fund(&db, 2026).await;
    let head = db.db.head().await.expect("head");
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("boekingen-2026.csv");
    // The 2026 allocation holds 2,750,000.00; each row fits alone, the second and fourth do
    // not after the rows before them. The file names neither programme nor fund: the options
    // do.
    let write = |rows: &[[&str; 4]]| {
        let mut text = String::from("toekenning;soort;bedrag;omschrijving;datum\n");
        for row in rows {
            let cells: Vec<&str> = std::iter::once(allocation.as_str())
                .chain(row.iter().copied())
                .collect();
            text.push_str(&cells.join(";"));
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write the file");
    };
    let rows = [
        [
            "verplichting",
            "2.000.000,00",
            "Subsidie schooljaar 2026-2027",
            "15-01-2026",
        ],
        [
            "verplichting",
            "750.000,01",
            "Aanvullende subsidie",
            "15-02-2026",
        ],
        [
            "verplichting",
            "750.000,00",
            "Opdracht leesondersteuning",
            "01-03-2026",
        ],
        ["uitgave", "2.750.000,01", "Betaling subsidie", "01-04-2026"],
    ];
    write(&rows);
    let options = ["--programme", "dordt-west", "--fund", SCHOOLS_FUND];

    // A fund the programme lacks is reported once, on the header line.
    let out = import_budget(
        &db,
        &path,
        &[
            "--programme",
            "dordt-west",
            "--fund",
            "Extra middelen twaalf scholen",
        ],
    );
    assert!(!out.status.success());
    assert_eq!(
        problems(&out),
        [format!(
            "{}: line 1: programme dordt-west has no fund \"Extra middelen twaalf scholen\" \
             (by id or name) [reference.known_fund]",
            path.display()
        )]
    );

    let out = import_budget(&db, &path, &options);
    assert!(!out.status.success(), "overdrawn: refused");
    let reported = problems(&out);
    assert_eq!(reported.len(), 2, "{}", stderr(&out));
    assert!(
        reported[0].contains("line 3, column \"bedrag\"")
            && reported[0].contains("750000.00 of the allocation is uncommitted")
            && reported[0].ends_with("[budget.committed_within_allocation]"),
        "{}",
        reported[0]
    );
    assert!(
        reported[1].contains("line 5, column \"bedrag\"")
            && reported[1].ends_with("[budget.within_allocation]"),
        "{}",
        reported[1]
    );
    assert_eq!(db.db.head().await.expect("head"), head, "nothing recorded");

    // A dry run of the file without the overdrawing rows counts and records nothing; then it
    // imports, each line once, on the fund's next sequences.
    write(&[rows[0], rows[2]]);
    let out = import_budget(&db, &path, &[&options[..], &["--dry-run"]].concat());
    assert_eq!(
        budget_counts(&out),
        ["2", "2", "0", "0", "0"].map(String::from)
    );
    assert_eq!(
        db.db.head().await.expect("head"),
        head,
        "a dry run records nothing"
    );
    let out = import_budget(&db, &path, &options);
    assert_eq!(
        budget_counts(&out),
        ["2", "2", "0", "0", "2"].map(String::from)
    );
    let loaded = CommandBus::new(db.db.clone())
        .load::<Fund>(&fund)
        .await
        .expect("load the fund");
    let state = loaded.state().expect("registered");
    let id = AllocationId::parse(&allocation).expect("an allocation id");
    let allocated = &state.allocations[&id];
    assert_eq!(allocated.committed.to_string(), "2750000.00");
    assert_eq!(allocated.uncommitted().to_string(), "0.00");

    // Now a single cent more is refused.
    write(&[["verplichting", "0,01", "Nog een cent", "02-03-2026"]]);
    let out = import_budget(&db, &path, &options);
    assert!(!out.status.success());
    let reported = problems(&out);
    assert_eq!(reported.len(), 1, "{}", stderr(&out));
    assert!(
        reported[0].ends_with("[budget.committed_within_allocation]"),
        "{}",
        reported[0]
    );
}

async fn a_fund_with_more_events_than_a_page_is_read_whole(db: TestDb) {
    demo(&db).await;
    let (fund, allocation) = schools_fund(&db, 2028).await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("kleine-uitgaven.csv");
    // More lines than the import reads of a fund's events per query (5,000), so that the lines
    // recorded last are on the log's second page.
    let write = |count: usize| {
        let mut text = String::from("toekenning;soort;bedrag;omschrijving;datum;kenmerk\n");
        for i in 0..count {
            text.push_str(&format!(
                "{allocation};verplichting;1,00;Kleine opdracht {i};15-01-2028;K-{i:05}\n"
            ));
        }
        std::fs::write(&path, text).expect("write the file");
    };
    let options = ["--programme", "dordt-west", "--fund", fund.as_str()];
    write(5_010);
    let out = import_budget(&db, &path, &options);
    assert_eq!(
        budget_counts(&out),
        ["5010", "5010", "0", "0", "5010"].map(String::from)
    );
    let head = db.db.head().await.expect("head");

    // Every line is found again, those on the second page too; one line more is new.
    write(5_011);
    let out = import_budget(&db, &path, &options);
    assert_eq!(
        budget_counts(&out),
        ["5011", "1", "0", "5010", "1"].map(String::from)
    );
    assert_eq!(db.db.head().await.expect("head"), head + 1);
    let events = fund_events(&db).await;
    let last = events.last().expect("events");
    assert_eq!(
        (last.aggregate_id.as_str(), last.sequence as usize),
        (fund.as_str(), events.len()),
        "the fund's next sequence"
    );
    let loaded = CommandBus::new(db.db.clone())
        .load::<Fund>(&fund)
        .await
        .expect("load the fund");
    let id = AllocationId::parse(&allocation).expect("an allocation id");
    let committed = loaded.state().expect("registered").allocations[&id].committed;
    assert_eq!(committed.to_string(), "5011.00");
}

on_both_backends!(
    a_fund_with_more_events_than_a_page_is_read_whole,
    the_sample_budget_lines_record_once_and_show_in_the_budget,
    a_bad_budget_file_is_refused_whole_with_every_problem,
    budget_lines_that_together_overdraw_an_allocation_are_refused,
    targets_are_set_on_a_decision_changed_when_their_value_differs_and_checked_first,
    a_file_with_bad_rows_is_refused_whole_then_imports_once_fixed_and_once_only,
    a_changed_figure_records_a_correction_and_keeps_the_earlier_one,
    bom_semicolons_decimal_commas_and_cbs_codes_are_read_as_dutch_files_write_them,
    an_excel_workbook_imports_like_its_csv,
    the_documented_sample_files_import_on_the_demo,
);
