use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use uuid::Uuid;

use super::*;
use crate::decision::DecisionStatus;
use crate::error::{ErrorKind, RuleViolation};
use crate::period::YearRange;
use crate::reference::ReferenceError;
use crate::testing::{
    adopted_decision, area, date, foreign_decision, open_decision, other_programme_id,
    programme_id, services, unknown_decision,
};
use crate::text::TextError;

type ResidentInputTest = TestFramework<ResidentInput>;

fn input_test() -> ResidentInputTest {
    ResidentInputTest::with(services())
}

fn input_id() -> ResidentInputId {
    ResidentInputId::from_uuid(Uuid::from_u128(0xa001))
}

fn record() -> RecordResidentInput {
    RecordResidentInput {
        resident_input_id: input_id(),
        programme_id: programme_id(),
        channel: Channel::Session,
        area: area("crabbehof"),
        theme: " Veilig buitenspelen ".into(),
        summary: " Bewoners willen meer licht op het speelplein ".into(),
        residents: 34,
        collected_on: date(2023, 10, 12),
    }
}

fn recorded() -> ResidentInputEvent {
    ResidentInputEvent::ResidentInputRecorded {
        resident_input_id: input_id(),
        programme_id: programme_id(),
        channel: Channel::Session,
        area: area("crabbehof"),
        theme: "Veilig buitenspelen".into(),
        summary: "Bewoners willen meer licht op het speelplein".into(),
        residents: 34,
        collected_on: date(2023, 10, 12),
    }
}

fn considered(decision: DecisionId) -> ResidentInputEvent {
    ResidentInputEvent::ResidentInputConsidered { decision }
}

fn consider(decision: DecisionId) -> ResidentInputCommand {
    ResidentInputCommand::Consider(ConsiderResidentInput { decision })
}

#[tokio::test]
async fn resident_input_is_recorded_by_area_and_theme_with_a_count() {
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(record()))
        .await
        .then_expect_events(vec![recorded()]);
}

#[tokio::test]
async fn resident_input_is_recorded_once() {
    input_test()
        .given(vec![recorded()])
        .when_async(ResidentInputCommand::Record(record()))
        .await
        .then_expect_error(ResidentInputError::AlreadyRecorded);
}

#[tokio::test]
async fn at_least_one_resident_took_part() {
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            residents: 0,
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::NoResidents);
}

#[tokio::test]
async fn input_has_a_theme_and_a_summary() {
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            theme: String::new(),
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::Text(TextError::Required {
            field: "theme",
        }));
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            summary: "  ".into(),
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::Text(TextError::Required {
            field: "summary",
        }));
}

#[tokio::test]
async fn input_is_about_a_known_area_of_an_established_programme() {
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            area: area("nieuw-krispijn"),
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::Reference(ReferenceError::UnknownArea {
            field: "area",
            programme: programme_id(),
            area: area("nieuw-krispijn"),
        }));
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            programme_id: unknown.clone(),
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::Reference(
            ReferenceError::UnknownProgramme { programme: unknown },
        ));
}

#[tokio::test]
async fn input_is_collected_inside_the_programme_period() {
    input_test()
        .given_no_previous_events()
        .when_async(ResidentInputCommand::Record(RecordResidentInput {
            collected_on: date(2022, 11, 1),
            ..record()
        }))
        .await
        .then_expect_error(ResidentInputError::Reference(
            ReferenceError::OutsidePeriod {
                field: "collectedOn",
                value: "2022-11-01".into(),
                period: YearRange::new(2023, 2043).expect("range"),
            },
        ));
}

#[tokio::test]
async fn input_is_linked_to_the_decisions_that_took_it_into_account() {
    let earlier = DecisionId::from_uuid(Uuid::from_u128(0x2100));
    input_test()
        .given(vec![recorded(), considered(earlier)])
        .when_async(consider(adopted_decision()))
        .await
        .then_expect_events(vec![considered(adopted_decision())]);
}

#[tokio::test]
async fn a_decision_is_linked_once() {
    input_test()
        .given(vec![recorded(), considered(adopted_decision())])
        .when_async(consider(adopted_decision()))
        .await
        .then_expect_error(ResidentInputError::AlreadyConsidered(adopted_decision()));
}

#[tokio::test]
async fn only_adopted_decisions_of_the_same_programme_are_linked() {
    let cases = [
        (
            open_decision(),
            ReferenceError::DecisionNotAdopted {
                field: "decisionId",
                decision: open_decision(),
                status: DecisionStatus::Proposed,
            },
        ),
        (
            unknown_decision(),
            ReferenceError::UnknownDecision {
                field: "decisionId",
                decision: unknown_decision(),
            },
        ),
        (
            foreign_decision(),
            ReferenceError::DecisionOfOtherProgramme {
                field: "decisionId",
                decision: foreign_decision(),
                programme: programme_id(),
                other: other_programme_id(),
            },
        ),
    ];
    for (decision, error) in cases {
        input_test()
            .given(vec![recorded()])
            .when_async(consider(decision))
            .await
            .then_expect_error(ResidentInputError::Reference(error));
    }
}

#[tokio::test]
async fn only_recorded_input_is_linked() {
    input_test()
        .given_no_previous_events()
        .when_async(consider(adopted_decision()))
        .await
        .then_expect_error(ResidentInputError::NotFound);
}

#[test]
fn the_state_lists_the_decisions_that_considered_it() {
    let mut input = ResidentInput::default();
    input.apply(recorded());
    input.apply(considered(adopted_decision()));
    let state = input.state().expect("recorded");
    assert_eq!(state.residents, 34);
    assert_eq!(state.channel, Channel::Session);
    assert_eq!(state.considered_in, vec![adopted_decision()]);
}

#[test]
fn events_keep_their_stored_names() {
    assert_eq!(recorded().event_type(), "ResidentInputRecorded");
    assert_eq!(
        considered(adopted_decision()).event_type(),
        "ResidentInputConsidered"
    );
    assert_eq!(recorded().event_version(), "1");
    let json = serde_json::to_value(recorded()).expect("serialises");
    assert_eq!(json["ResidentInputRecorded"]["channel"], "Session");
    let back: ResidentInputEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, recorded());
}

#[test]
fn errors_name_their_rule_and_field() {
    assert_eq!(
        ResidentInputError::NoResidents.kind(),
        ErrorKind::InvalidInput { field: "residents" }
    );
    assert_eq!(
        ResidentInputError::AlreadyConsidered(adopted_decision()).rule(),
        "resident_input.considered_once"
    );
    assert_eq!(ResidentInputError::NotFound.kind(), ErrorKind::NotFound);
}
