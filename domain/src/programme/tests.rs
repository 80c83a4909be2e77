use cqrs_es::test::TestFramework;

use super::*;
use crate::decision::DecisionStatus;
use crate::reference::ReferenceError;
use crate::testing::{
    self, adopted_decision, area, execution_programme, foreign_decision, indicator, open_decision,
    other_programme_id, pillar, programme_id, unknown_decision,
};
use crate::text::TextError;

fn framework() -> TestFramework<Programme> {
    TestFramework::with(testing::services())
}

fn period() -> YearRange {
    YearRange::new(2023, 2043).expect("range")
}

fn years(first: i32, last: i32) -> YearRange {
    YearRange::new(first, last).expect("range")
}

fn established() -> ProgrammeEvent {
    ProgrammeEvent::ProgrammeEstablished {
        programme_id: programme_id(),
        name: "Nationaal Programma Dordt West".into(),
        municipality_code: "GM0505".into(),
        national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
        period: period(),
        ambition: "Dordt West is in 2043 een wijk waar het goed wonen is".into(),
    }
}

fn establish() -> EstablishProgramme {
    EstablishProgramme {
        programme_id: programme_id(),
        name: "  Nationaal Programma Dordt West ".into(),
        municipality_code: "GM0505".into(),
        national_programme: " Nationaal Programma Leefbaarheid en Veiligheid".into(),
        period: period(),
        ambition: "Dordt West is in 2043 een wijk waar het goed wonen is \n".into(),
    }
}

fn area_added(
    id: &str,
    kind: AreaKind,
    parent: Option<&str>,
    code: Option<&str>,
) -> ProgrammeEvent {
    ProgrammeEvent::AreaAdded {
        area_id: area(id),
        name: id.to_owned(),
        kind,
        parent: parent.map(area),
        cbs_code: code.map(str::to_owned),
    }
}

/// Nederland > Dordrecht > Dordt West > Crabbehof.
fn with_areas() -> Vec<ProgrammeEvent> {
    vec![
        established(),
        area_added("nederland", AreaKind::Land, None, Some("NL01")),
        area_added(
            "dordrecht",
            AreaKind::Gemeente,
            Some("nederland"),
            Some("GM0505"),
        ),
        area_added("dordt-west", AreaKind::FocusArea, Some("dordrecht"), None),
        area_added(
            "crabbehof",
            AreaKind::Wijk,
            Some("dordt-west"),
            Some("WK050512"),
        ),
    ]
}

fn add_area(
    id: &str,
    kind: AreaKind,
    parent: Option<&str>,
    code: Option<&str>,
) -> ProgrammeCommand {
    ProgrammeCommand::AddArea(AddArea {
        area_id: area(id),
        name: id.to_owned(),
        kind,
        parent: parent.map(area),
        cbs_code: code.map(str::to_owned),
    })
}

fn pillar_added(id: &str, number: u8) -> ProgrammeEvent {
    ProgrammeEvent::PillarAdded {
        pillar_id: pillar(id),
        number,
        name: format!("Pijler {number}"),
        ambition: String::new(),
        themes: vec![],
    }
}

fn with_pillars() -> Vec<ProgrammeEvent> {
    vec![
        established(),
        pillar_added("gezond-en-samen-leven", 1),
        pillar_added("leren-en-ontwikkelen", 3),
    ]
}

fn add_pillar(id: &str, number: u8) -> ProgrammeCommand {
    ProgrammeCommand::AddPillar(AddPillar {
        pillar_id: pillar(id),
        number,
        name: "Veilig wonen".into(),
        ambition: String::new(),
        themes: vec![],
    })
}

fn theme(name: &str) -> Theme {
    Theme {
        name: name.into(),
        description: String::new(),
    }
}

fn add_koppelkans(pillar_id: &str, name: &str) -> ProgrammeCommand {
    ProgrammeCommand::AddKoppelkans(AddKoppelkans {
        pillar_id: pillar(pillar_id),
        name: name.into(),
        owner: Some("VWS".into()),
    })
}

fn add_indicator(key: &str, pillar_id: &str) -> AddIndicator {
    AddIndicator {
        key: indicator(key),
        name: "Ernstig overgewicht".into(),
        pillar_id: pillar(pillar_id),
        source: "RIVM".into(),
        unit: "% van de volwassenen".into(),
        direction: Direction::LowerIsBetter,
        definition: String::new(),
    }
}

fn indicator_added() -> ProgrammeEvent {
    ProgrammeEvent::IndicatorAdded {
        key: indicator("ernstig-overgewicht"),
        name: "Ernstig overgewicht".into(),
        pillar_id: pillar("gezond-en-samen-leven"),
        source: "RIVM".into(),
        unit: "% van de volwassenen".into(),
        direction: Direction::LowerIsBetter,
        definition: String::new(),
    }
}

fn add_execution_programme() -> AddExecutionProgramme {
    AddExecutionProgramme {
        execution_programme_id: execution_programme(),
        name: " Uitvoeringsprogramma 2024-2027 ".into(),
        period: years(2024, 2027),
        areas: vec![area("crabbehof")],
        decision: adopted_decision(),
    }
}

fn execution_programme_added() -> ProgrammeEvent {
    ProgrammeEvent::ExecutionProgrammeAdded {
        execution_programme_id: execution_programme(),
        name: "Uitvoeringsprogramma 2024-2027".into(),
        period: years(2024, 2027),
        areas: vec![area("crabbehof")],
        decision: adopted_decision(),
    }
}

fn with_execution_programme() -> Vec<ProgrammeEvent> {
    let mut events = with_areas();
    events.push(execution_programme_added());
    events
}

fn advance(phase: Phase) -> ProgrammeCommand {
    ProgrammeCommand::AdvanceExecutionProgramme(AdvanceExecutionProgramme {
        execution_programme_id: execution_programme(),
        phase,
    })
}

fn phase_changed(from: Phase, to: Phase) -> ProgrammeEvent {
    ProgrammeEvent::ExecutionProgrammePhaseChanged {
        execution_programme_id: execution_programme(),
        from,
        to,
    }
}

fn set_text(kind: TextKind, items: &[&str]) -> ProgrammeCommand {
    ProgrammeCommand::SetText(SetProgrammeText {
        kind,
        items: items.iter().map(|i| (*i).to_owned()).collect(),
    })
}

// Establishing a programme.

#[tokio::test]
async fn establishing_records_the_programme_with_trimmed_texts() {
    framework()
        .given_no_previous_events()
        .when_async(ProgrammeCommand::Establish(establish()))
        .await
        .then_expect_events(vec![established()]);
}

#[tokio::test]
async fn a_programme_is_established_only_once() {
    framework()
        .given(vec![established()])
        .when_async(ProgrammeCommand::Establish(establish()))
        .await
        .then_expect_error(ProgrammeError::AlreadyEstablished);
}

#[tokio::test]
async fn the_municipality_code_is_the_cbs_code_of_a_gemeente() {
    for code in [
        "GM505", "GM05050", "gm0505", "0505", "GM05O5", "WK050512", " GM0505", "",
    ] {
        framework()
            .given_no_previous_events()
            .when_async(ProgrammeCommand::Establish(EstablishProgramme {
                municipality_code: code.into(),
                ..establish()
            }))
            .await
            .then_expect_error(ProgrammeError::BadCbsCode {
                field: "municipalityCode",
                code: code.into(),
                kind: AreaKind::Gemeente,
            });
    }
}

#[tokio::test]
async fn a_programme_needs_a_name_and_a_national_programme() {
    framework()
        .given_no_previous_events()
        .when_async(ProgrammeCommand::Establish(EstablishProgramme {
            name: "  ".into(),
            ..establish()
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required { field: "name" }));
    framework()
        .given_no_previous_events()
        .when_async(ProgrammeCommand::Establish(EstablishProgramme {
            national_programme: String::new(),
            ..establish()
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required {
            field: "nationalProgramme",
        }));
}

#[tokio::test]
async fn the_ambition_may_be_left_empty_but_not_run_past_the_limit() {
    framework()
        .given_no_previous_events()
        .when_async(ProgrammeCommand::Establish(EstablishProgramme {
            ambition: " ".into(),
            ..establish()
        }))
        .await
        .then_expect_events(vec![ProgrammeEvent::ProgrammeEstablished {
            programme_id: programme_id(),
            name: "Nationaal Programma Dordt West".into(),
            municipality_code: "GM0505".into(),
            national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
            period: period(),
            ambition: String::new(),
        }]);
    framework()
        .given_no_previous_events()
        .when_async(ProgrammeCommand::Establish(EstablishProgramme {
            ambition: "x".repeat(TEXT_MAX + 1),
            ..establish()
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::TooLong {
            field: "ambition",
            max: TEXT_MAX,
        }));
}

#[tokio::test]
async fn nothing_can_be_added_to_a_programme_never_established() {
    for command in [
        set_text(TextKind::Opgaven, &["Veilig opgroeien"]),
        add_area("dordt-west", AreaKind::FocusArea, Some("dordrecht"), None),
        add_pillar("veilig-wonen", 2),
        add_koppelkans("gezond-en-samen-leven", "Gezond en Actief Leven Akkoord"),
        ProgrammeCommand::AddIndicator(add_indicator(
            "ernstig-overgewicht",
            "gezond-en-samen-leven",
        )),
        ProgrammeCommand::AddExecutionProgramme(add_execution_programme()),
        advance(Phase::Execute),
    ] {
        framework()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(ProgrammeError::NotFound);
    }
}

// Texts.

#[tokio::test]
async fn a_text_is_set_as_trimmed_items_replacing_what_it_held() {
    framework()
        .given(vec![
            established(),
            ProgrammeEvent::ProgrammeTextSet {
                kind: TextKind::Opgaven,
                items: vec!["Oude opgave".into()],
            },
        ])
        .when_async(set_text(
            TextKind::Opgaven,
            &[" Veilig opgroeien ", "Goed wonen\n"],
        ))
        .await
        .then_expect_events(vec![ProgrammeEvent::ProgrammeTextSet {
            kind: TextKind::Opgaven,
            items: vec!["Veilig opgroeien".into(), "Goed wonen".into()],
        }]);
}

#[tokio::test]
async fn the_central_goal_is_one_statement() {
    framework()
        .given(vec![established()])
        .when_async(set_text(
            TextKind::CentralGoal,
            &["Leefbare en veilige wijken", "Kansengelijkheid"],
        ))
        .await
        .then_expect_error(ProgrammeError::OneCentralGoal);
    framework()
        .given(vec![established()])
        .when_async(set_text(
            TextKind::CentralGoal,
            &["Leefbare en veilige wijken"],
        ))
        .await
        .then_expect_events(vec![ProgrammeEvent::ProgrammeTextSet {
            kind: TextKind::CentralGoal,
            items: vec!["Leefbare en veilige wijken".into()],
        }]);
}

#[tokio::test]
async fn other_texts_may_hold_several_statements() {
    framework()
        .given(vec![established()])
        .when_async(set_text(
            TextKind::Subgoals,
            &["Veiligheid", "Onderwijs", "Wonen"],
        ))
        .await
        .then_expect_events(vec![ProgrammeEvent::ProgrammeTextSet {
            kind: TextKind::Subgoals,
            items: vec!["Veiligheid".into(), "Onderwijs".into(), "Wonen".into()],
        }]);
}

#[tokio::test]
async fn a_text_item_cannot_be_empty() {
    framework()
        .given(vec![established()])
        .when_async(set_text(
            TextKind::Uitgangspunten,
            &["Samen met bewoners", "  "],
        ))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::EmptyItem {
            field: "items",
            index: 1,
        }));
}

#[tokio::test]
async fn a_text_item_appears_only_once() {
    framework()
        .given(vec![established()])
        .when_async(set_text(
            TextKind::ActionLines,
            &["Investeren in jeugd", " Investeren in jeugd"],
        ))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Duplicate {
            field: "items",
            value: "Investeren in jeugd".into(),
        }));
}

#[tokio::test]
async fn a_text_holds_at_most_the_list_limit() {
    let items: Vec<String> = (0..=LIST_MAX).map(|i| format!("Ingredient {i}")).collect();
    framework()
        .given(vec![established()])
        .when_async(ProgrammeCommand::SetText(SetProgrammeText {
            kind: TextKind::Ingredients,
            items,
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::TooMany {
            field: "items",
            max: LIST_MAX,
        }));
}

// Areas.

#[tokio::test]
async fn an_area_is_added_under_its_parent_with_a_trimmed_name() {
    framework()
        .given(vec![
            established(),
            area_added("nederland", AreaKind::Land, None, Some("NL01")),
            area_added(
                "dordrecht",
                AreaKind::Gemeente,
                Some("nederland"),
                Some("GM0505"),
            ),
        ])
        .when_async(ProgrammeCommand::AddArea(AddArea {
            area_id: area("dordt-west"),
            name: "  Dordt West ".into(),
            kind: AreaKind::FocusArea,
            parent: Some(area("dordrecht")),
            cbs_code: None,
        }))
        .await
        .then_expect_events(vec![ProgrammeEvent::AreaAdded {
            area_id: area("dordt-west"),
            name: "Dordt West".into(),
            kind: AreaKind::FocusArea,
            parent: Some(area("dordrecht")),
            cbs_code: None,
        }]);
}

#[tokio::test]
async fn the_land_and_a_gemeente_may_stand_alone_as_comparators() {
    framework()
        .given(vec![established()])
        .when_async(add_area("nederland", AreaKind::Land, None, Some("NL01")))
        .await
        .then_expect_events(vec![area_added(
            "nederland",
            AreaKind::Land,
            None,
            Some("NL01"),
        )]);
    framework()
        .given(vec![established()])
        .when_async(add_area(
            "dordrecht",
            AreaKind::Gemeente,
            None,
            Some("GM0505"),
        ))
        .await
        .then_expect_events(vec![area_added(
            "dordrecht",
            AreaKind::Gemeente,
            None,
            Some("GM0505"),
        )]);
}

#[tokio::test]
async fn a_wijk_sits_under_the_focus_area_or_its_gemeente() {
    for parent in ["dordt-west", "dordrecht"] {
        framework()
            .given(with_areas())
            .when_async(add_area("wielwijk", AreaKind::Wijk, Some(parent), None))
            .await
            .then_expect_events(vec![area_added(
                "wielwijk",
                AreaKind::Wijk,
                Some(parent),
                None,
            )]);
    }
    for (parent, parent_kind) in [("nederland", AreaKind::Land), ("crabbehof", AreaKind::Wijk)] {
        framework()
            .given(with_areas())
            .when_async(add_area("wielwijk", AreaKind::Wijk, Some(parent), None))
            .await
            .then_expect_error(ProgrammeError::WrongParentKind {
                kind: AreaKind::Wijk,
                parent_kind,
            });
    }
}

#[tokio::test]
async fn a_buurt_sits_under_a_wijk() {
    framework()
        .given(with_areas())
        .when_async(add_area(
            "crabbehof-noord",
            AreaKind::Buurt,
            Some("crabbehof"),
            Some("BU05051203"),
        ))
        .await
        .then_expect_events(vec![area_added(
            "crabbehof-noord",
            AreaKind::Buurt,
            Some("crabbehof"),
            Some("BU05051203"),
        )]);
    framework()
        .given(with_areas())
        .when_async(add_area(
            "crabbehof-noord",
            AreaKind::Buurt,
            Some("dordt-west"),
            None,
        ))
        .await
        .then_expect_error(ProgrammeError::WrongParentKind {
            kind: AreaKind::Buurt,
            parent_kind: AreaKind::FocusArea,
        });
}

#[tokio::test]
async fn each_larger_area_sits_only_under_the_kind_above_it() {
    let cases = [
        // A focus area sits under its gemeente, not directly under the land.
        (AreaKind::FocusArea, "nederland", AreaKind::Land),
        // A gemeente sits under the land, not under a focus area.
        (AreaKind::Gemeente, "dordt-west", AreaKind::FocusArea),
        // The land sits under nothing.
        (AreaKind::Land, "dordrecht", AreaKind::Gemeente),
    ];
    for (kind, parent, parent_kind) in cases {
        framework()
            .given(with_areas())
            .when_async(add_area("nieuw-gebied", kind, Some(parent), None))
            .await
            .then_expect_error(ProgrammeError::WrongParentKind { kind, parent_kind });
    }
}

#[tokio::test]
async fn a_focus_area_wijk_or_buurt_needs_a_parent() {
    for kind in [AreaKind::FocusArea, AreaKind::Wijk, AreaKind::Buurt] {
        framework()
            .given(with_areas())
            .when_async(add_area("nieuw-gebied", kind, None, None))
            .await
            .then_expect_error(ProgrammeError::ParentRequired { kind });
    }
}

#[tokio::test]
async fn the_parent_area_must_already_exist() {
    framework()
        .given(with_areas())
        .when_async(add_area(
            "wielwijk",
            AreaKind::Wijk,
            Some("zwijndrecht"),
            None,
        ))
        .await
        .then_expect_error(ProgrammeError::Reference(ReferenceError::UnknownArea {
            field: "parent",
            programme: programme_id(),
            area: area("zwijndrecht"),
        }));
}

#[tokio::test]
async fn a_cbs_code_has_the_shape_of_its_kind_of_area() {
    let cases = [
        (AreaKind::Land, "dordrecht", "NL1"),
        (AreaKind::Wijk, "dordt-west", "GM0505"),
        (AreaKind::Wijk, "dordt-west", "WK05051"),
        (AreaKind::Buurt, "crabbehof", "BU0505120"),
        (AreaKind::Buurt, "crabbehof", "WK05051203"),
        // CBS has no codes for focus areas.
        (AreaKind::FocusArea, "dordrecht", "GM0505"),
    ];
    for (kind, parent, code) in cases {
        framework()
            .given(with_areas())
            .when_async(add_area("nieuw-gebied", kind, Some(parent), Some(code)))
            .await
            .then_expect_error(ProgrammeError::BadCbsCode {
                field: "cbsCode",
                code: code.into(),
                kind,
            });
    }
    framework()
        .given(with_areas())
        .when_async(add_area(
            "wielwijk",
            AreaKind::Wijk,
            Some("dordt-west"),
            Some("WK050513"),
        ))
        .await
        .then_expect_events(vec![area_added(
            "wielwijk",
            AreaKind::Wijk,
            Some("dordt-west"),
            Some("WK050513"),
        )]);
}

#[tokio::test]
async fn a_cbs_code_belongs_to_one_area_only() {
    framework()
        .given(with_areas())
        .when_async(add_area(
            "wielwijk",
            AreaKind::Wijk,
            Some("dordt-west"),
            Some("WK050512"),
        ))
        .await
        .then_expect_error(ProgrammeError::CbsCodeTaken("WK050512".into()));
}

#[tokio::test]
async fn an_area_is_added_only_once() {
    framework()
        .given(with_areas())
        .when_async(add_area(
            "crabbehof",
            AreaKind::Wijk,
            Some("dordrecht"),
            None,
        ))
        .await
        .then_expect_error(ProgrammeError::AreaExists(area("crabbehof")));
}

#[tokio::test]
async fn an_area_needs_a_name() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddArea(AddArea {
            area_id: area("wielwijk"),
            name: " ".into(),
            kind: AreaKind::Wijk,
            parent: Some(area("dordt-west")),
            cbs_code: None,
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required { field: "name" }));
}

// Pillars and koppelkansen.

#[tokio::test]
async fn a_pillar_is_added_with_its_number_ambition_and_themes() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddPillar(AddPillar {
            pillar_id: pillar("veilig-wonen"),
            number: 2,
            name: " Veilig wonen ".into(),
            ambition: " Iedereen woont veilig ".into(),
            themes: vec![theme("Woonoverlast"), theme("Ondermijning")],
        }))
        .await
        .then_expect_events(vec![ProgrammeEvent::PillarAdded {
            pillar_id: pillar("veilig-wonen"),
            number: 2,
            name: "Veilig wonen".into(),
            ambition: "Iedereen woont veilig".into(),
            themes: vec![theme("Woonoverlast"), theme("Ondermijning")],
        }]);
}

#[tokio::test]
async fn a_pillar_is_added_only_once() {
    framework()
        .given(with_pillars())
        .when_async(add_pillar("gezond-en-samen-leven", 2))
        .await
        .then_expect_error(ProgrammeError::PillarExists(pillar(
            "gezond-en-samen-leven",
        )));
}

#[tokio::test]
async fn each_pillar_has_its_own_number_counting_from_one() {
    framework()
        .given(with_pillars())
        .when_async(add_pillar("veilig-wonen", 3))
        .await
        .then_expect_error(ProgrammeError::PillarNumberTaken(3));
    framework()
        .given(with_pillars())
        .when_async(add_pillar("veilig-wonen", 0))
        .await
        .then_expect_error(ProgrammeError::PillarNumberTaken(0));
}

#[tokio::test]
async fn the_themes_of_a_pillar_are_named_and_distinct() {
    let with_themes = |themes: Vec<Theme>| {
        ProgrammeCommand::AddPillar(AddPillar {
            pillar_id: pillar("veilig-wonen"),
            number: 2,
            name: "Veilig wonen".into(),
            ambition: String::new(),
            themes,
        })
    };
    framework()
        .given(with_pillars())
        .when_async(with_themes(vec![theme("Woonoverlast"), theme(" ")]))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::EmptyItem {
            field: "themes",
            index: 1,
        }));
    framework()
        .given(with_pillars())
        .when_async(with_themes(vec![
            theme("Woonoverlast"),
            theme("Woonoverlast"),
        ]))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Duplicate {
            field: "themes",
            value: "Woonoverlast".into(),
        }));
}

#[tokio::test]
async fn a_koppelkans_is_added_to_a_known_pillar() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddKoppelkans(AddKoppelkans {
            pillar_id: pillar("gezond-en-samen-leven"),
            name: " Gezond en Actief Leven Akkoord ".into(),
            owner: Some(" VWS ".into()),
        }))
        .await
        .then_expect_events(vec![ProgrammeEvent::KoppelkansAdded {
            pillar_id: pillar("gezond-en-samen-leven"),
            name: "Gezond en Actief Leven Akkoord".into(),
            owner: Some("VWS".into()),
        }]);
}

#[tokio::test]
async fn a_koppelkans_without_an_owner_is_recorded_without_one() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddKoppelkans(AddKoppelkans {
            pillar_id: pillar("leren-en-ontwikkelen"),
            name: "Brede brugklas".into(),
            owner: Some("  ".into()),
        }))
        .await
        .then_expect_events(vec![ProgrammeEvent::KoppelkansAdded {
            pillar_id: pillar("leren-en-ontwikkelen"),
            name: "Brede brugklas".into(),
            owner: None,
        }]);
}

#[tokio::test]
async fn a_koppelkans_needs_a_known_pillar() {
    framework()
        .given(with_pillars())
        .when_async(add_koppelkans("veilig-wonen", "Volkshuisvestingsfonds"))
        .await
        .then_expect_error(ProgrammeError::Reference(ReferenceError::UnknownPillar {
            field: "pillarId",
            programme: programme_id(),
            pillar: pillar("veilig-wonen"),
        }));
}

#[tokio::test]
async fn a_koppelkans_appears_once_per_pillar() {
    let mut given = with_pillars();
    given.push(ProgrammeEvent::KoppelkansAdded {
        pillar_id: pillar("gezond-en-samen-leven"),
        name: "Gezond en Actief Leven Akkoord".into(),
        owner: Some("VWS".into()),
    });
    framework()
        .given(given.clone())
        .when_async(add_koppelkans(
            "gezond-en-samen-leven",
            " Gezond en Actief Leven Akkoord",
        ))
        .await
        .then_expect_error(ProgrammeError::KoppelkansExists(
            "Gezond en Actief Leven Akkoord".into(),
        ));
    // The same fund may also serve another pillar.
    framework()
        .given(given)
        .when_async(add_koppelkans(
            "leren-en-ontwikkelen",
            "Gezond en Actief Leven Akkoord",
        ))
        .await
        .then_expect_events(vec![ProgrammeEvent::KoppelkansAdded {
            pillar_id: pillar("leren-en-ontwikkelen"),
            name: "Gezond en Actief Leven Akkoord".into(),
            owner: Some("VWS".into()),
        }]);
}

// Indicators.

#[tokio::test]
async fn an_indicator_is_added_under_a_known_pillar() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddIndicator(AddIndicator {
            name: " Ernstig overgewicht ".into(),
            source: " RIVM".into(),
            ..add_indicator("ernstig-overgewicht", "gezond-en-samen-leven")
        }))
        .await
        .then_expect_events(vec![indicator_added()]);
}

#[tokio::test]
async fn an_indicator_needs_a_known_pillar() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddIndicator(add_indicator(
            "woninginbraken",
            "veilig-wonen",
        )))
        .await
        .then_expect_error(ProgrammeError::Reference(ReferenceError::UnknownPillar {
            field: "pillarId",
            programme: programme_id(),
            pillar: pillar("veilig-wonen"),
        }));
}

#[tokio::test]
async fn an_indicator_key_is_used_only_once() {
    let mut given = with_pillars();
    given.push(indicator_added());
    framework()
        .given(given)
        .when_async(ProgrammeCommand::AddIndicator(add_indicator(
            "ernstig-overgewicht",
            "leren-en-ontwikkelen",
        )))
        .await
        .then_expect_error(ProgrammeError::IndicatorExists(indicator(
            "ernstig-overgewicht",
        )));
}

#[tokio::test]
async fn an_indicator_names_its_source_and_unit() {
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddIndicator(AddIndicator {
            source: " ".into(),
            ..add_indicator("ernstig-overgewicht", "gezond-en-samen-leven")
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required {
            field: "source",
        }));
    framework()
        .given(with_pillars())
        .when_async(ProgrammeCommand::AddIndicator(AddIndicator {
            unit: String::new(),
            ..add_indicator("ernstig-overgewicht", "gezond-en-samen-leven")
        }))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required { field: "unit" }));
}

// Execution programmes.

#[tokio::test]
async fn an_execution_programme_is_added_on_an_adopted_decision() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            add_execution_programme(),
        ))
        .await
        .then_expect_events(vec![execution_programme_added()]);
}

#[tokio::test]
async fn an_execution_programme_cannot_rest_on_an_open_decision() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                decision: open_decision(),
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::Reference(
            ReferenceError::DecisionNotAdopted {
                field: "decisionId",
                decision: open_decision(),
                status: DecisionStatus::Proposed,
            },
        ));
}

#[tokio::test]
async fn an_execution_programme_cannot_cite_an_unknown_decision() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                decision: unknown_decision(),
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::Reference(ReferenceError::UnknownDecision {
            field: "decisionId",
            decision: unknown_decision(),
        }));
}

#[tokio::test]
async fn an_execution_programme_cannot_cite_a_decision_of_another_programme() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                decision: foreign_decision(),
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::Reference(
            ReferenceError::DecisionOfOtherProgramme {
                field: "decisionId",
                decision: foreign_decision(),
                programme: programme_id(),
                other: other_programme_id(),
            },
        ));
}

#[tokio::test]
async fn an_execution_programme_spans_four_years() {
    for (range, length) in [(years(2024, 2026), 3), (years(2024, 2028), 5)] {
        framework()
            .given(with_areas())
            .when_async(ProgrammeCommand::AddExecutionProgramme(
                AddExecutionProgramme {
                    period: range,
                    ..add_execution_programme()
                },
            ))
            .await
            .then_expect_error(ProgrammeError::NotFourYears { years: length });
    }
}

#[tokio::test]
async fn an_execution_programme_lies_inside_the_programme_period() {
    for range in [years(2041, 2044), years(2020, 2023)] {
        framework()
            .given(with_areas())
            .when_async(ProgrammeCommand::AddExecutionProgramme(
                AddExecutionProgramme {
                    period: range,
                    ..add_execution_programme()
                },
            ))
            .await
            .then_expect_error(ProgrammeError::Reference(ReferenceError::OutsidePeriod {
                field: "period",
                value: range.to_string(),
                period: period(),
            }));
    }
    // The last four years of the programme are still inside it.
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                period: years(2040, 2043),
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_events(vec![ProgrammeEvent::ExecutionProgrammeAdded {
            execution_programme_id: execution_programme(),
            name: "Uitvoeringsprogramma 2024-2027".into(),
            period: years(2040, 2043),
            areas: vec![area("crabbehof")],
            decision: adopted_decision(),
        }]);
}

#[tokio::test]
async fn an_execution_programme_covers_at_least_one_area() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                areas: vec![],
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::NoAreas);
}

#[tokio::test]
async fn an_execution_programme_covers_only_known_areas() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                areas: vec![area("crabbehof"), area("wielwijk")],
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::Reference(ReferenceError::UnknownArea {
            field: "areas",
            programme: programme_id(),
            area: area("wielwijk"),
        }));
}

#[tokio::test]
async fn an_execution_programme_is_added_only_once() {
    framework()
        .given(with_execution_programme())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            add_execution_programme(),
        ))
        .await
        .then_expect_error(ProgrammeError::ExecutionProgrammeExists(
            execution_programme(),
        ));
}

#[tokio::test]
async fn an_execution_programme_needs_a_name() {
    framework()
        .given(with_areas())
        .when_async(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                name: "  ".into(),
                ..add_execution_programme()
            },
        ))
        .await
        .then_expect_error(ProgrammeError::Text(TextError::Required { field: "name" }));
}

#[tokio::test]
async fn an_execution_programme_moves_forward_through_its_phases() {
    framework()
        .given(with_execution_programme())
        .when_async(advance(Phase::Execute))
        .await
        .then_expect_events(vec![phase_changed(Phase::DrawUp, Phase::Execute)]);
    let mut given = with_execution_programme();
    given.push(phase_changed(Phase::DrawUp, Phase::Execute));
    given.push(phase_changed(Phase::Execute, Phase::Learn));
    framework()
        .given(given)
        .when_async(advance(Phase::Evaluate))
        .await
        .then_expect_events(vec![phase_changed(Phase::Learn, Phase::Evaluate)]);
}

#[tokio::test]
async fn an_execution_programme_never_goes_back_or_stays_in_its_phase() {
    let mut given = with_execution_programme();
    given.push(phase_changed(Phase::DrawUp, Phase::Execute));
    for to in [Phase::DrawUp, Phase::Execute] {
        framework()
            .given(given.clone())
            .when_async(advance(to))
            .await
            .then_expect_error(ProgrammeError::PhaseNotForward {
                from: Phase::Execute,
                to,
            });
    }
}

#[tokio::test]
async fn only_a_known_execution_programme_changes_phase() {
    framework()
        .given(with_areas())
        .when_async(advance(Phase::Execute))
        .await
        .then_expect_error(ProgrammeError::Reference(
            ReferenceError::UnknownExecutionProgramme {
                field: "executionProgrammeId",
                programme: programme_id(),
                execution_programme: execution_programme(),
            },
        ));
}

#[test]
fn programme_events_keep_their_stored_names() {
    use cqrs_es::DomainEvent;
    assert_eq!(established().event_type(), "ProgrammeEstablished");
    assert_eq!(established().event_version(), "1");
    let json = serde_json::to_value(execution_programme_added()).expect("serialises");
    assert!(json.get("ExecutionProgrammeAdded").is_some());
    let back: ProgrammeEvent = serde_json::from_value(json).expect("reads back");
    assert_eq!(back, execution_programme_added());
}
