use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;

use super::*;
use crate::error::{ErrorKind, RuleViolation};
use crate::period::YearRange;
use crate::reference::ReferenceError;
use crate::testing::{area, date, indicator, programme_id, services};
use crate::text::TextError;

type MeasurementTest = TestFramework<Measurement>;

fn measurement_test() -> MeasurementTest {
    MeasurementTest::with(services())
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn key() -> MeasurementKey {
    MeasurementKey {
        programme_id: programme_id(),
        indicator: indicator("ernstig-overgewicht"),
        area: area("crabbehof"),
        period: Period::Year(2023),
    }
}

fn record() -> RecordMeasurement {
    RecordMeasurement {
        key: key(),
        value: dec("23.40"),
        source: " RIVM Gezondheidsmonitor ".into(),
        published_on: date(2024, 3, 1),
        illustrative: false,
    }
}

fn recorded() -> MeasurementEvent {
    MeasurementEvent::MeasurementRecorded {
        programme_id: programme_id(),
        indicator: indicator("ernstig-overgewicht"),
        area: area("crabbehof"),
        period: Period::Year(2023),
        value: dec("23.40"),
        source: "RIVM Gezondheidsmonitor".into(),
        published_on: date(2024, 3, 1),
        illustrative: false,
    }
}

fn correct(value: &str) -> CorrectMeasurement {
    CorrectMeasurement {
        value: dec(value),
        reason: " RIVM herzag de weging ".into(),
        source: None,
        published_on: date(2024, 9, 1),
    }
}

fn corrected(value: &str) -> MeasurementEvent {
    MeasurementEvent::MeasurementCorrected {
        previous_value: dec("23.40"),
        value: dec(value),
        reason: "RIVM herzag de weging".into(),
        source: "RIVM Gezondheidsmonitor".into(),
        published_on: date(2024, 9, 1),
    }
}

#[tokio::test]
async fn a_published_value_is_recorded_with_its_source_and_date() {
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(record()))
        .await
        .then_expect_events(vec![recorded()]);
}

#[tokio::test]
async fn an_illustrative_figure_is_marked_as_such() {
    let result = measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            illustrative: true,
            ..record()
        }))
        .await
        .inspect_result()
        .expect("recorded");
    assert!(matches!(
        result.as_slice(),
        [MeasurementEvent::MeasurementRecorded {
            illustrative: true,
            ..
        }]
    ));
}

#[tokio::test]
async fn a_measurement_is_recorded_once() {
    measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Record(record()))
        .await
        .then_expect_error(MeasurementError::AlreadyRecorded);
}

#[test]
fn the_refusal_to_record_twice_points_to_correcting() {
    let error = MeasurementError::AlreadyRecorded;
    assert_eq!(error.rule(), "measurement.recorded_once");
    assert_eq!(error.kind(), ErrorKind::RuleViolated);
    assert!(error.to_string().contains("correction"), "{error}");
}

#[tokio::test]
async fn a_measurement_is_for_a_known_indicator_and_area() {
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            key: MeasurementKey {
                indicator: indicator("startkwalificatie"),
                ..key()
            },
            ..record()
        }))
        .await
        .then_expect_error(MeasurementError::Reference(
            ReferenceError::UnknownIndicator {
                field: "indicator",
                programme: programme_id(),
                indicator: indicator("startkwalificatie"),
            },
        ));
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            key: MeasurementKey {
                area: area("oud-krispijn"),
                ..key()
            },
            ..record()
        }))
        .await
        .then_expect_error(MeasurementError::Reference(ReferenceError::UnknownArea {
            field: "area",
            programme: programme_id(),
            area: area("oud-krispijn"),
        }));
}

#[tokio::test]
async fn a_measurement_belongs_to_an_established_programme() {
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            key: MeasurementKey {
                programme_id: unknown.clone(),
                ..key()
            },
            ..record()
        }))
        .await
        .then_expect_error(MeasurementError::Reference(
            ReferenceError::UnknownProgramme { programme: unknown },
        ));
}

#[tokio::test]
async fn the_period_lies_inside_the_programme_period() {
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            key: MeasurementKey {
                period: Period::Quarter(2022, 4),
                ..key()
            },
            ..record()
        }))
        .await
        .then_expect_error(MeasurementError::Reference(ReferenceError::OutsidePeriod {
            field: "period",
            value: "2022".into(),
            period: YearRange::new(2023, 2043).expect("range"),
        }));
}

#[tokio::test]
async fn a_measurement_names_its_source() {
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Record(RecordMeasurement {
            source: " ".into(),
            ..record()
        }))
        .await
        .then_expect_error(MeasurementError::Text(TextError::Required {
            field: "source",
        }));
}

#[tokio::test]
async fn a_correction_keeps_the_previous_value_visible() {
    measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Correct(correct("22.9")))
        .await
        .then_expect_events(vec![corrected("22.9")]);
}

#[tokio::test]
async fn a_correction_may_name_a_new_source() {
    measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Correct(CorrectMeasurement {
            source: Some(" CBS ".into()),
            ..correct("22.9")
        }))
        .await
        .then_expect_events(vec![MeasurementEvent::MeasurementCorrected {
            previous_value: dec("23.40"),
            value: dec("22.9"),
            reason: "RIVM herzag de weging".into(),
            source: "CBS".into(),
            published_on: date(2024, 9, 1),
        }]);
    measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Correct(CorrectMeasurement {
            source: Some(String::new()),
            ..correct("22.9")
        }))
        .await
        .then_expect_error(MeasurementError::Text(TextError::Required {
            field: "source",
        }));
}

#[tokio::test]
async fn a_correction_changes_the_value() {
    for same in ["23.40", "23.4"] {
        measurement_test()
            .given(vec![recorded()])
            .when_async(MeasurementCommand::Correct(correct(same)))
            .await
            .then_expect_error(MeasurementError::Unchanged);
    }
}

#[tokio::test]
async fn a_correction_gives_a_reason() {
    measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Correct(CorrectMeasurement {
            reason: String::new(),
            ..correct("22.9")
        }))
        .await
        .then_expect_error(MeasurementError::Text(TextError::Required {
            field: "reason",
        }));
}

#[tokio::test]
async fn a_correction_is_not_published_before_the_figure_it_corrects() {
    measurement_test()
        .given(vec![recorded(), corrected("22.9")])
        .when_async(MeasurementCommand::Correct(CorrectMeasurement {
            published_on: date(2024, 8, 31),
            ..correct("22.7")
        }))
        .await
        .then_expect_error(MeasurementError::PublishedEarlier {
            published_on: date(2024, 8, 31),
            current: date(2024, 9, 1),
        });
    // The same publication date is fine: a source may fix a figure on the day.
    let result = measurement_test()
        .given(vec![recorded()])
        .when_async(MeasurementCommand::Correct(CorrectMeasurement {
            published_on: date(2024, 3, 1),
            ..correct("22.7")
        }))
        .await
        .inspect_result();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn only_a_recorded_measurement_is_corrected() {
    measurement_test()
        .given_no_previous_events()
        .when_async(MeasurementCommand::Correct(correct("22.9")))
        .await
        .then_expect_error(MeasurementError::NotFound);
}

#[test]
fn the_aggregate_id_names_programme_indicator_area_and_period() {
    assert_eq!(
        key().aggregate_id(),
        "dordt-west/ernstig-overgewicht/crabbehof/2023"
    );
    let quarter = MeasurementKey {
        period: Period::Quarter(2024, 2),
        ..key()
    };
    assert_eq!(
        quarter.aggregate_id(),
        "dordt-west/ernstig-overgewicht/crabbehof/2024-Q2"
    );
    for k in [key(), quarter] {
        assert_eq!(
            MeasurementKey::from_aggregate_id(&k.aggregate_id()),
            Some(k)
        );
    }
    assert_eq!(MeasurementKey::from_aggregate_id("dordt-west/x/y"), None);
}

#[test]
fn the_state_holds_the_current_value_and_counts_corrections() {
    let mut measurement = Measurement::default();
    measurement.apply(recorded());
    measurement.apply(MeasurementEvent::MeasurementCorrected {
        previous_value: dec("23.40"),
        value: dec("22.9"),
        reason: "herzien".into(),
        source: "CBS".into(),
        published_on: date(2024, 9, 1),
    });
    let state = measurement.state().expect("recorded");
    assert_eq!(state.key, key());
    assert_eq!(state.value, dec("22.9"));
    assert_eq!(state.source, "CBS");
    assert_eq!(state.published_on, date(2024, 9, 1));
    assert_eq!(state.corrections, 1);
    assert!(!state.illustrative);
}

#[test]
fn a_correction_keeps_both_values_in_the_history() {
    let mut measurement = Measurement::default();
    measurement.apply(recorded());
    measurement.apply(MeasurementEvent::MeasurementCorrected {
        previous_value: dec("23.40"),
        value: dec("22.9"),
        reason: "herzien".into(),
        source: "CBS".into(),
        published_on: date(2024, 9, 1),
    });
    let state = measurement.state().expect("recorded");
    assert_eq!(
        state.history,
        vec![
            MeasurementRevision {
                value: dec("23.40"),
                source: "RIVM Gezondheidsmonitor".into(),
                published_on: date(2024, 3, 1),
                reason: None,
            },
            MeasurementRevision {
                value: dec("22.9"),
                source: "CBS".into(),
                published_on: date(2024, 9, 1),
                reason: Some("herzien".into()),
            },
        ]
    );
    assert_eq!(
        state.history.last().map(|r| r.value),
        Some(state.value),
        "the last entry is the current value"
    );
}

#[test]
fn stored_values_keep_their_exact_decimal_text() {
    let json = serde_json::to_value(recorded()).expect("serialises");
    assert_eq!(json["MeasurementRecorded"]["value"], "23.40");
    // Published data is the rule: the mark is stored only on illustrative figures.
    assert!(json["MeasurementRecorded"].get("illustrative").is_none());
    let back: MeasurementEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, recorded());
    let json = serde_json::to_value(corrected("22.90")).expect("serialises");
    assert_eq!(json["MeasurementCorrected"]["previous_value"], "23.40");
    assert_eq!(json["MeasurementCorrected"]["value"], "22.90");
    assert_eq!(recorded().event_type(), "MeasurementRecorded");
    assert_eq!(corrected("1").event_type(), "MeasurementCorrected");
    assert_eq!(recorded().event_version(), "1");
}

#[test]
fn errors_name_their_rule_and_field() {
    assert_eq!(MeasurementError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(
        MeasurementError::Unchanged.rule(),
        "measurement.correction_changes"
    );
    assert_eq!(
        MeasurementError::PublishedEarlier {
            published_on: date(2024, 1, 1),
            current: date(2024, 2, 1)
        }
        .rule(),
        "measurement.publication_order"
    );
}
