use domain::decision::DecisionStatus;
use domain::ids::{AreaId, IndicatorKey};
use rust_decimal::Decimal;

use super::*;
use crate::testing::{dec, decision, found, programme, uuid_of};

const ADOPTED: u128 = 1;
const PROPOSED: u128 = 2;
const OTHER_PROGRAMME: u128 = 3;

fn options() -> Options {
    Options {
        programme: Some(ProgrammeId::parse("dordt-west").expect("slug")),
        decision: None,
        reason: Some("Streefwaarden uitvoeringsprogramma 2024-2027".into()),
    }
}

fn check(text: &str, options: Options) -> Result<Vec<TargetRow>, Vec<Problem>> {
    let state = programme();
    let decisions = [
        decision(ADOPTED, "dordt-west", DecisionStatus::Adopted),
        decision(PROPOSED, "dordt-west", DecisionStatus::Proposed),
        decision(OTHER_PROGRAMME, "rotterdam-zuid", DecisionStatus::Adopted),
    ];
    let reference = Reference::new([&state]).with_decisions(&decisions);
    let file = TargetFile::new(Table::read_csv(text.as_bytes()).expect("a table"), options)?;
    file.check(&reference)
}

fn adopted() -> String {
    uuid_of(ADOPTED).to_string()
}

#[test]
fn absolute_and_relative_targets_with_baselines_read_into_commands() {
    let text = format!(
        "indicator;gebied;streefjaar;streefwaarde;vergelijkingsgebied;marge;nulmeting;basisjaar;besluit
Ernstig overgewicht;Crabbehof;2030;18,5;;;23,4;2022;{a}
bijstand;WK050512;2030;;Dordrecht;2,0;;;{a}
bijstand;wielwijk;2043;;GM0505;;;;{a}
",
        a = adopted()
    );
    let rows = check(&text, options()).expect("good rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].key.aggregate_id(),
        "dordt-west/ernstig-overgewicht/crabbehof/2030"
    );
    assert_eq!(rows[0].value, TargetValue::Absolute(dec("18.5")));
    assert_eq!(
        rows[0].baseline,
        Some(Baseline {
            value: dec("23.4"),
            year: 2022
        })
    );
    assert_eq!(rows[0].decision, DecisionId::from_uuid(uuid_of(ADOPTED)));
    assert_eq!(
        rows[0].reason,
        "Streefwaarden uitvoeringsprogramma 2024-2027"
    );
    let dordrecht = AreaId::parse("dordrecht").expect("slug");
    assert_eq!(
        rows[1].value,
        TargetValue::RelativeToComparator {
            comparator: dordrecht.clone(),
            margin: dec("2.0")
        }
    );
    assert_eq!(rows[1].key.area.as_str(), "crabbehof");
    assert_eq!(
        rows[2].value,
        TargetValue::RelativeToComparator {
            comparator: dordrecht,
            margin: Decimal::ZERO
        }
    );
}

#[test]
fn every_bad_target_row_is_reported() {
    let text = format!(
        "indicator,area,horizon_year,value,comparator,margin,baseline_value,baseline_year,decision,reason
bijstand,crabbehof,2030,8.0,,,,,{a},
bijstand,wielwijk,2050,8.0,,,,,{a},
bijstand,wielwijk,2030,8.0,dordrecht,,,,{a},
bijstand,dordrecht,2030,,dordrecht,,,,{a},
bijstand,crabbehof,2031,,wielwijk,,,,{a},
bijstand,crabbehof,2032,8.0,,,9.0,2033,{a},
bijstand,crabbehof,2033,8.0,,,9.0,,{a},
bijstand,crabbehof,2034,8.0,,,,,{p},
bijstand,crabbehof,2035,8.0,,,,,{o},
bijstand,crabbehof,2036,8.0,,,,,geen-id,
bijstand,Crabbehof,2030,7.5,,,,,{a},
bijstand,crabbehof,dertig,8.0,,,,,{a},
bijstand,crabbehof,2037,,,,,,{a},
",
        a = adopted(),
        p = uuid_of(PROPOSED),
        o = uuid_of(OTHER_PROGRAMME)
    );
    let problems = check(&text, options()).expect_err("refused");
    assert_eq!(
        found(&problems),
        [
            (3, Some("horizon_year"), "programme.period"),
            (4, Some("value"), "import.target_value"),
            (5, Some("comparator"), "target.comparator_differs"),
            (6, Some("comparator"), "target.comparator_kind"),
            (7, Some("baseline_year"), "target.baseline_before_horizon"),
            (8, Some("baseline_value"), "import.baseline"),
            (9, Some("decision"), "citation.adopted_decision"),
            (10, Some("decision"), "citation.same_programme"),
            (11, Some("decision"), "import.decision_id"),
            (12, None, "import.duplicate_row"),
            (13, Some("horizon_year"), "import.year"),
            (14, None, "import.required"),
        ]
    );
}

#[test]
fn a_file_without_decision_or_reason_needs_them_from_the_command_line() {
    let text = "indicator;gebied;streefjaar;streefwaarde\nbijstand;crabbehof;2030;8\n";
    let problems = check(text, Options::default()).expect_err("refused");
    let missing: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        missing,
        [
            "the header has no column programme",
            "the header has no column decision",
            "the header has no column reason",
        ]
    );
    let text = "indicator;gebied;streefjaar\nbijstand;crabbehof;2030\n";
    let problems = check(text, options()).expect_err("refused");
    assert_eq!(found(&problems), [(1, None, "import.column_missing")]);
}

fn set(value: TargetValue, history: usize, withdrawn: bool) -> TargetState {
    let revision = domain::target::TargetRevision {
        kind: domain::target::RevisionKind::Set,
        value: value.clone(),
        decision: DecisionId::from_uuid(uuid_of(ADOPTED)),
        reason: "eerder".into(),
    };
    TargetState {
        key: TargetKey {
            programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
            indicator: IndicatorKey::parse("bijstand").expect("slug"),
            area: AreaId::parse("crabbehof").expect("slug"),
            horizon_year: 2030,
        },
        value,
        baseline: None,
        decision: DecisionId::from_uuid(uuid_of(ADOPTED)),
        withdrawn,
        history: vec![revision; history],
    }
}

fn plan_of(state: Option<&TargetState>) -> Result<Plan, Vec<Problem>> {
    let text = format!(
        "indicator;area;horizon_year;value;decision\nbijstand;crabbehof;2030;8,50;{}\n",
        adopted()
    );
    let programme = programme();
    let decisions = [decision(ADOPTED, "dordt-west", DecisionStatus::Adopted)];
    let reference = Reference::new([&programme]).with_decisions(&decisions);
    let file =
        TargetFile::new(Table::read_csv(text.as_bytes()).expect("t"), options()).expect("a file");
    let rows = file.check(&reference).expect("good rows");
    file.plan(rows, |row| state.filter(|s| s.key == row.key))
}

#[test]
fn targets_are_set_once_changed_when_their_value_differs_and_final_when_withdrawn() {
    let plan = plan_of(None).expect("a plan");
    assert_eq!(
        (plan.new_rows(), plan.changed_rows(), plan.unchanged_rows()),
        (1, 0, 0)
    );
    assert!(matches!(plan.rows[0].command, Some(TargetCommand::Set(_))));
    assert!(plan.rows[0]
        .idempotency_key
        .starts_with("import/target/dordt-west/bijstand/crabbehof/2030/0/"));

    let same = set(TargetValue::Absolute(dec("8.5")), 1, false);
    let plan = plan_of(Some(&same)).expect("a plan");
    assert_eq!(
        (plan.new_rows(), plan.changed_rows(), plan.unchanged_rows()),
        (0, 0, 1)
    );

    let other = set(TargetValue::Absolute(dec("9")), 2, false);
    let plan = plan_of(Some(&other)).expect("a plan");
    assert_eq!(
        plan.rows[0].change,
        Change::Changed {
            previous: TargetValue::Absolute(dec("9"))
        }
    );
    let Some(TargetCommand::Change(change)) = &plan.rows[0].command else {
        panic!("a change: {:?}", plan.rows[0].command);
    };
    assert_eq!(change.value, TargetValue::Absolute(dec("8.50")));
    assert_eq!(
        change.reason,
        "Streefwaarden uitvoeringsprogramma 2024-2027"
    );
    assert!(plan.rows[0].idempotency_key.contains("/2030/2/"));

    let withdrawn = set(TargetValue::Absolute(dec("9")), 2, true);
    let problems = plan_of(Some(&withdrawn)).expect_err("refused");
    assert_eq!(found(&problems), [(2, None, "target.final")]);
}
