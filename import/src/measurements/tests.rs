use domain::ids::{AreaId, IndicatorKey};
use domain::period::Period;

use super::*;
use crate::testing::{date, dec, found, programme};

fn options() -> Options {
    Options {
        programme: None,
        source: None,
        file_name: "cijfers.csv".into(),
    }
}

fn file(text: &str, options: Options) -> Result<MeasurementFile, Vec<Problem>> {
    MeasurementFile::new(Table::read_csv(text.as_bytes()).expect("a table"), options)
}

fn check(text: &str, options: Options) -> Result<Vec<MeasurementRow>, Vec<Problem>> {
    let state = programme();
    let reference = Reference::new([&state]);
    file(text, options)?.check(&reference)
}

const GOOD: &str =
    "\u{feff}programma;indicator;gebied;periode;waarde;bron;publicatiedatum;illustratief
dordt-west;Ernstig overgewicht;Crabbehof;2023;23,4;RIVM Gezondheidsmonitor;01-03-2024;ja
dordt-west;ernstig-overgewicht;GM0505;2023JJ00;16,1;RIVM Gezondheidsmonitor;2024-03-01;nee
dordt-west;bijstand;bu05051203;2024-Q2;7;CBS;15-07-2024;
dordt-west;BIJSTAND;wielwijk;2023-06;8,25;CBS;15-07-2024;
";

#[test]
fn a_dutch_file_reads_into_typed_measurements() {
    let rows = check(GOOD, options()).expect("all rows good");
    let summary: Vec<(usize, &str, &str, Period, Decimal)> = rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.key.indicator.as_str(),
                r.key.area.as_str(),
                r.key.period,
                r.value,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                2,
                "ernstig-overgewicht",
                "crabbehof",
                Period::Year(2023),
                dec("23.4")
            ),
            (
                3,
                "ernstig-overgewicht",
                "dordrecht",
                Period::Year(2023),
                dec("16.1")
            ),
            (
                4,
                "bijstand",
                "crabbehof-noord",
                Period::Quarter(2024, 2),
                dec("7")
            ),
            (
                5,
                "bijstand",
                "wielwijk",
                Period::Month(2023, 6),
                dec("8.25")
            ),
        ]
    );
    assert_eq!(rows[0].source, "RIVM Gezondheidsmonitor");
    assert_eq!(rows[0].published_on, date(2024, 3, 1));
    assert_eq!(rows[1].published_on, date(2024, 3, 1));
    assert!(rows[0].illustrative);
    assert!(!rows[1].illustrative && !rows[2].illustrative);
}

#[test]
fn every_bad_row_is_reported_with_its_line_column_and_rule() {
    let text = "indicator,area,period,value,source,published_on
ernstig-overgewicht,crabbehof,2023,23.4,RIVM,2024-03-01
eenzaamheid,crabbehof,2023,12.0,RIVM,2024-03-01
bijstand,zuidwijk,2023,4.5,CBS,2024-03-01
bijstand,crabbehof,2050,4.5,CBS,2024-03-01
bijstand,wielwijk,2023,\"4,5x\",CBS,2024-03-01
ernstig-overgewicht,Crabbehof,2023,23.5,RIVM,2024-03-01
bijstand,dordrecht,2023,3.1,,2024-03-02
bijstand,nederland,2023,2.9,CBS,1 maart
bijstand,dordt-west,,,CBS,2024-03-01
";
    let mut options = options();
    options.programme = Some(ProgrammeId::parse("dordt-west").expect("slug"));
    let problems = check(text, options).expect_err("refused");
    assert_eq!(
        found(&problems),
        [
            (3, Some("indicator"), "reference.known_indicator"),
            (4, Some("area"), "reference.known_area"),
            (5, Some("period"), "programme.period"),
            (6, Some("value"), "import.number"),
            (7, None, "import.duplicate_row"),
            (8, Some("source"), "import.required"),
            (9, Some("published_on"), "import.date"),
            (10, Some("period"), "import.required"),
            (10, Some("value"), "import.required"),
        ]
    );
    assert!(
        problems[4].message.contains("line 2"),
        "{}",
        problems[4].message
    );
    assert_eq!(
        problems[0].to_string(),
        "line 3, column \"indicator\": programme dordt-west has no indicator \"eenzaamheid\" \
         (by key or name) [reference.known_indicator]"
    );
}

#[test]
fn a_file_that_mixes_decimal_commas_and_points_is_refused_where_it_differs() {
    let text = "programme;indicator;area;period;value;source;published_on
dordt-west;bijstand;crabbehof;2023;4,5;CBS;2024-03-01
dordt-west;bijstand;wielwijk;2023;1.234;CBS;2024-03-01
dordt-west;bijstand;dordrecht;2023;3,1;CBS;2024-03-01
dordt-west;bijstand;nederland;2023;3;CBS;2024-03-01
";
    let problems = check(text, options()).expect_err("refused");
    assert_eq!(
        found(&problems),
        [(3, Some("value"), "import.decimal_mark")]
    );
}

#[test]
fn the_programme_option_fills_rows_and_refuses_other_programmes() {
    let text = "programme,indicator,area,period,value,published_on
,bijstand,crabbehof,2023,4.5,2024-03-01
dordt-west,bijstand,wielwijk,2023,4.5,2024-03-01
rotterdam-zuid,bijstand,dordrecht,2023,4.5,2024-03-01
";
    let mut options = options();
    options.programme = Some(ProgrammeId::parse("dordt-west").expect("slug"));
    options.source = Some("CBS".into());
    let problems = check(text, options.clone()).expect_err("refused");
    assert_eq!(
        found(&problems),
        [(4, Some("programme"), "import.programme_option")]
    );

    options.programme = Some(ProgrammeId::parse("rotterdam-zuid").expect("slug"));
    let problems = check(text, options).expect_err("refused");
    assert_eq!(found(&problems), [(1, None, "reference.known_programme")]);
}

#[test]
fn a_header_without_the_required_columns_is_refused_before_any_row() {
    let text = "indicator;gebied;waarde\nbijstand;crabbehof;4,5\n";
    let problems = file(text, options()).expect_err("refused");
    let missing: Vec<&str> = problems
        .iter()
        .map(|p| {
            assert_eq!((p.line, p.rule), (1, "import.column_missing"));
            p.message.trim_start_matches("the header has no column ")
        })
        .collect();
    assert_eq!(missing, ["programme", "period", "source", "published_on"]);

    let problems = file(
        "programme;indicator;area;period;value;source;published_on\n",
        options(),
    )
    .expect_err("refused");
    assert_eq!(found(&problems), [(1, None, "import.no_rows")]);
}

fn recorded(value: &str, published_on: NaiveDate, corrections: u32) -> MeasurementState {
    MeasurementState {
        key: MeasurementKey {
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            indicator: IndicatorKey::parse("ernstig-overgewicht").expect("slug"),
            area: AreaId::parse("crabbehof").expect("slug"),
            period: Period::Year(2023),
        },
        value: dec(value),
        source: "RIVM".into(),
        published_on,
        illustrative: false,
        corrections,
        history: Vec::new(),
    }
}

fn plan_of(text: &str, state: Option<&MeasurementState>) -> Result<Plan, Vec<Problem>> {
    let programme = programme();
    let reference = Reference::new([&programme]);
    let file = file(text, options()).expect("a file");
    let rows = file.check(&reference).expect("good rows");
    file.plan(rows, |row| state.filter(|s| s.key == row.key))
}

const ONE: &str = "programme,indicator,area,period,value,source,published_on
dordt-west,ernstig-overgewicht,crabbehof,2023,23.40,RIVM,2024-03-01
";

#[test]
fn a_new_figure_is_recorded_and_the_same_figure_changes_nothing() {
    let plan = plan_of(ONE, None).expect("a plan");
    assert_eq!(
        (plan.new_rows(), plan.changed_rows(), plan.unchanged_rows()),
        (1, 0, 0)
    );
    let row = &plan.rows[0];
    assert!(matches!(row.command, Some(MeasurementCommand::Record(_))));
    assert!(
        row.idempotency_key
            .starts_with("import/measurement/dordt-west/ernstig-overgewicht/crabbehof/2023/0/"),
        "{}",
        row.idempotency_key
    );
    assert_eq!(
        plan_of(ONE, None).expect("a plan"),
        plan,
        "the same file plans alike"
    );

    // 23.40 and 23.4 are the same figure, whatever the source says now.
    let same = recorded("23.4", date(2024, 1, 1), 0);
    let plan = plan_of(ONE, Some(&same)).expect("a plan");
    assert_eq!(
        (plan.new_rows(), plan.changed_rows(), plan.unchanged_rows()),
        (0, 0, 1)
    );
    assert_eq!(plan.rows[0].command, None);
}

#[test]
fn a_changed_figure_is_corrected_with_a_new_key_unless_published_earlier() {
    let earlier = recorded("25.0", date(2024, 1, 1), 0);
    let plan = plan_of(ONE, Some(&earlier)).expect("a plan");
    assert_eq!(
        plan.rows[0].change,
        Change::Changed {
            previous: dec("25.0")
        }
    );
    let Some(MeasurementCommand::Correct(correct)) = &plan.rows[0].command else {
        panic!("a correction: {:?}", plan.rows[0].command);
    };
    assert_eq!(correct.value, dec("23.40"));
    assert_eq!(correct.source.as_deref(), Some("RIVM"));
    assert_eq!(
        correct.reason,
        "Revised figure of RIVM, imported from cijfers.csv"
    );
    assert!(plan.rows[0].idempotency_key.contains("/2023/1/"));

    // After two corrections the same row is a new request.
    let twice = recorded("25.0", date(2024, 1, 1), 2);
    let again = plan_of(ONE, Some(&twice)).expect("a plan");
    assert!(again.rows[0].idempotency_key.contains("/2023/3/"));
    assert_ne!(again.rows[0].idempotency_key, plan.rows[0].idempotency_key);

    let later = recorded("25.0", date(2024, 6, 1), 0);
    let problems = plan_of(ONE, Some(&later)).expect_err("refused");
    assert_eq!(
        found(&problems),
        [(2, Some("published_on"), "measurement.publication_order")]
    );
}
