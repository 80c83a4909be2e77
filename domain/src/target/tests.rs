use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;

use super::*;
use crate::decision::DecisionStatus;
use crate::error::{ErrorKind, RuleViolation};
use crate::period::YearRange;
use crate::reference::ReferenceError;
use crate::testing::{
    adopted_decision, area, foreign_decision, indicator, open_decision, other_programme_id,
    programme_id, services, unknown_decision,
};
use crate::text::TextError;

type TargetTest = TestFramework<Target>;

fn target_test() -> TargetTest {
    TargetTest::with(services())
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn key() -> TargetKey {
    TargetKey {
        programme_id: programme_id(),
        indicator: indicator("ernstig-overgewicht"),
        area: area("crabbehof"),
        horizon_year: 2030,
    }
}

fn at_dordrecht_average() -> TargetValue {
    TargetValue::RelativeToComparator {
        comparator: area("dordrecht"),
        margin: Decimal::ZERO,
    }
}

fn set() -> SetTarget {
    SetTarget {
        key: key(),
        value: TargetValue::Absolute(dec("18.5")),
        baseline: Some(Baseline {
            value: dec("23.4"),
            year: 2022,
        }),
        decision: adopted_decision(),
        reason: " Vastgesteld in het Nationaal Programma ".into(),
    }
}

fn was_set() -> TargetEvent {
    TargetEvent::TargetSet {
        programme_id: programme_id(),
        indicator: indicator("ernstig-overgewicht"),
        area: area("crabbehof"),
        horizon_year: 2030,
        value: TargetValue::Absolute(dec("18.5")),
        baseline: Some(Baseline {
            value: dec("23.4"),
            year: 2022,
        }),
        decision: adopted_decision(),
        reason: "Vastgesteld in het Nationaal Programma".into(),
    }
}

fn change(value: TargetValue) -> ChangeTarget {
    ChangeTarget {
        value,
        decision: adopted_decision(),
        reason: "Monitor 2025: groei naar het Dordts gemiddelde".into(),
    }
}

fn withdraw() -> WithdrawTarget {
    WithdrawTarget {
        decision: adopted_decision(),
        reason: "Indicator vervangen".into(),
    }
}

fn withdrawn() -> TargetEvent {
    TargetEvent::TargetWithdrawn {
        decision: adopted_decision(),
        reason: "Indicator vervangen".into(),
    }
}

fn refused_citations() -> [(DecisionId, ReferenceError); 3] {
    [
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
    ]
}

// --- setting ---

#[tokio::test]
async fn setting_a_target_records_value_baseline_decision_and_reason() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(set()))
        .await
        .then_expect_events(vec![was_set()]);
}

#[tokio::test]
async fn a_target_can_aim_at_the_dordrecht_average() {
    let TargetEvent::TargetSet {
        programme_id,
        indicator,
        area,
        horizon_year,
        decision,
        reason,
        ..
    } = was_set()
    else {
        unreachable!()
    };
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            value: at_dordrecht_average(),
            baseline: None,
            ..set()
        }))
        .await
        .then_expect_events(vec![TargetEvent::TargetSet {
            programme_id,
            indicator,
            area,
            horizon_year,
            value: at_dordrecht_average(),
            baseline: None,
            decision,
            reason,
        }]);
}

#[tokio::test]
async fn a_target_is_set_once() {
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Set(set()))
        .await
        .then_expect_error(TargetError::AlreadySet);
}

#[tokio::test]
async fn a_target_is_for_a_known_indicator_and_area() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                indicator: indicator("startkwalificatie"),
                ..key()
            },
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Reference(ReferenceError::UnknownIndicator {
            field: "indicator",
            programme: programme_id(),
            indicator: indicator("startkwalificatie"),
        }));
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                area: area("oud-krispijn"),
                ..key()
            },
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Reference(ReferenceError::UnknownArea {
            field: "area",
            programme: programme_id(),
            area: area("oud-krispijn"),
        }));
}

#[tokio::test]
async fn a_target_belongs_to_an_established_programme() {
    let unknown = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                programme_id: unknown.clone(),
                ..key()
            },
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Reference(ReferenceError::UnknownProgramme {
            programme: unknown,
        }));
}

#[tokio::test]
async fn the_comparator_is_a_known_gemeente_or_land() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                area: area("wielwijk"),
                ..key()
            },
            value: TargetValue::RelativeToComparator {
                comparator: area("crabbehof"),
                margin: Decimal::ZERO,
            },
            ..set()
        }))
        .await
        .then_expect_error(TargetError::ComparatorKind {
            comparator: area("crabbehof"),
            kind: AreaKind::Wijk,
        });
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            value: TargetValue::RelativeToComparator {
                comparator: area("zwijndrecht"),
                margin: Decimal::ZERO,
            },
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Reference(ReferenceError::UnknownArea {
            field: "comparator",
            programme: programme_id(),
            area: area("zwijndrecht"),
        }));
    // Nederland is a comparator too.
    let result = target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            value: TargetValue::RelativeToComparator {
                comparator: area("nederland"),
                margin: dec("2.0"),
            },
            ..set()
        }))
        .await
        .inspect_result();
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn a_target_is_not_relative_to_its_own_area() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                area: area("dordrecht"),
                ..key()
            },
            value: at_dordrecht_average(),
            ..set()
        }))
        .await
        .then_expect_error(TargetError::ComparatorIsArea {
            area: area("dordrecht"),
        });
}

#[tokio::test]
async fn the_horizon_year_lies_inside_the_programme_period() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            key: TargetKey {
                horizon_year: 2050,
                ..key()
            },
            baseline: None,
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Reference(ReferenceError::OutsidePeriod {
            field: "horizonYear",
            value: "2050".into(),
            period: YearRange::new(2023, 2043).expect("range"),
        }));
}

#[tokio::test]
async fn the_baseline_is_not_after_the_horizon_year() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            baseline: Some(Baseline {
                value: dec("20"),
                year: 2031,
            }),
            ..set()
        }))
        .await
        .then_expect_error(TargetError::BaselineAfterHorizon {
            baseline_year: 2031,
            horizon_year: 2030,
        });
}

#[tokio::test]
async fn every_revision_gives_a_reason() {
    target_test()
        .given_no_previous_events()
        .when_async(TargetCommand::Set(SetTarget {
            reason: " ".into(),
            ..set()
        }))
        .await
        .then_expect_error(TargetError::Text(TextError::Required { field: "reason" }));
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Change(ChangeTarget {
            reason: String::new(),
            ..change(at_dordrecht_average())
        }))
        .await
        .then_expect_error(TargetError::Text(TextError::Required { field: "reason" }));
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Withdraw(WithdrawTarget {
            reason: String::new(),
            ..withdraw()
        }))
        .await
        .then_expect_error(TargetError::Text(TextError::Required { field: "reason" }));
}

#[tokio::test]
async fn every_revision_cites_an_adopted_decision_of_the_programme() {
    for (decision, error) in refused_citations() {
        target_test()
            .given_no_previous_events()
            .when_async(TargetCommand::Set(SetTarget { decision, ..set() }))
            .await
            .then_expect_error(TargetError::Reference(error.clone()));
        target_test()
            .given(vec![was_set()])
            .when_async(TargetCommand::Change(ChangeTarget {
                decision,
                ..change(at_dordrecht_average())
            }))
            .await
            .then_expect_error(TargetError::Reference(error.clone()));
        target_test()
            .given(vec![was_set()])
            .when_async(TargetCommand::Withdraw(WithdrawTarget {
                decision,
                ..withdraw()
            }))
            .await
            .then_expect_error(TargetError::Reference(error));
    }
}

// --- changing and withdrawing ---

#[tokio::test]
async fn a_change_keeps_the_previous_value_visible() {
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Change(change(at_dordrecht_average())))
        .await
        .then_expect_events(vec![TargetEvent::TargetChanged {
            previous_value: TargetValue::Absolute(dec("18.5")),
            value: at_dordrecht_average(),
            decision: adopted_decision(),
            reason: "Monitor 2025: groei naar het Dordts gemiddelde".into(),
        }]);
}

#[tokio::test]
async fn a_change_changes_the_value() {
    for same in [dec("18.5"), dec("18.50")] {
        target_test()
            .given(vec![was_set()])
            .when_async(TargetCommand::Change(change(TargetValue::Absolute(same))))
            .await
            .then_expect_error(TargetError::Unchanged);
    }
}

#[tokio::test]
async fn a_change_to_a_relative_value_checks_its_comparator() {
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Change(change(
            TargetValue::RelativeToComparator {
                comparator: area("dordt-west"),
                margin: Decimal::ZERO,
            },
        )))
        .await
        .then_expect_error(TargetError::ComparatorKind {
            comparator: area("dordt-west"),
            kind: AreaKind::FocusArea,
        });
}

#[tokio::test]
async fn withdrawing_a_target_records_the_decision_and_reason() {
    target_test()
        .given(vec![was_set()])
        .when_async(TargetCommand::Withdraw(withdraw()))
        .await
        .then_expect_events(vec![withdrawn()]);
}

#[tokio::test]
async fn a_withdrawn_target_is_final() {
    for command in [
        TargetCommand::Change(change(at_dordrecht_average())),
        TargetCommand::Withdraw(withdraw()),
        TargetCommand::Set(set()),
    ] {
        target_test()
            .given(vec![was_set(), withdrawn()])
            .when_async(command)
            .await
            .then_expect_error(TargetError::Withdrawn);
    }
}

#[tokio::test]
async fn a_target_never_set_cannot_be_changed_or_withdrawn() {
    for command in [
        TargetCommand::Change(change(at_dordrecht_average())),
        TargetCommand::Withdraw(withdraw()),
    ] {
        target_test()
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(TargetError::NotFound);
    }
}

// --- key, state and stored form ---

#[test]
fn the_aggregate_id_names_programme_indicator_area_and_horizon_year() {
    assert_eq!(
        key().aggregate_id(),
        "dordt-west/ernstig-overgewicht/crabbehof/2030"
    );
    assert_eq!(
        TargetKey::from_aggregate_id("dordt-west/ernstig-overgewicht/crabbehof/2030"),
        Some(key())
    );
    assert_eq!(
        TargetKey::from_aggregate_id("dordt-west/ernstig-overgewicht/crabbehof"),
        None
    );
    assert_eq!(TargetKey::from_aggregate_id("a/b/c/2030/x"), None);
    assert_eq!(TargetKey::from_aggregate_id("a/b/C/2030"), None);
}

#[test]
fn the_state_keeps_every_revision() {
    let mut target = Target::default();
    for event in [
        was_set(),
        TargetEvent::TargetChanged {
            previous_value: TargetValue::Absolute(dec("18.5")),
            value: at_dordrecht_average(),
            decision: adopted_decision(),
            reason: "bijgesteld".into(),
        },
        withdrawn(),
    ] {
        target.apply(event);
    }
    let state = target.state().expect("set");
    assert_eq!(state.key, key());
    assert!(state.withdrawn);
    assert_eq!(state.value, at_dordrecht_average());
    let kinds: Vec<RevisionKind> = state.history.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RevisionKind::Set,
            RevisionKind::Changed,
            RevisionKind::Withdrawn
        ]
    );
    assert_eq!(state.history[1].reason, "bijgesteld");
}

#[test]
fn a_relative_value_resolves_against_the_comparator() {
    let relative = TargetValue::RelativeToComparator {
        comparator: area("dordrecht"),
        margin: dec("-1.5"),
    };
    assert_eq!(relative.resolve(Some(dec("14.0"))), Some(dec("12.5")));
    assert_eq!(relative.resolve(None), None);
    assert_eq!(
        TargetValue::Absolute(dec("18.5")).resolve(None),
        Some(dec("18.5"))
    );
}

#[test]
fn stored_values_keep_their_exact_decimal_text() {
    let event = TargetEvent::TargetChanged {
        previous_value: TargetValue::Absolute(dec("18.50")),
        value: TargetValue::RelativeToComparator {
            comparator: area("dordrecht"),
            margin: dec("0.0"),
        },
        decision: adopted_decision(),
        reason: "r".into(),
    };
    let json = serde_json::to_value(&event).expect("serialises");
    assert_eq!(json["TargetChanged"]["previous_value"]["Absolute"], "18.50");
    assert_eq!(
        json["TargetChanged"]["value"]["RelativeToComparator"]["margin"],
        "0.0"
    );
    let back: TargetEvent = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, event);
    assert_eq!(event.event_type(), "TargetChanged");
    assert_eq!(was_set().event_type(), "TargetSet");
    assert_eq!(withdrawn().event_type(), "TargetWithdrawn");
    assert_eq!(was_set().event_version(), "1");
}

#[test]
fn errors_name_their_rule_and_field() {
    assert_eq!(TargetError::Withdrawn.rule(), "target.final");
    assert_eq!(TargetError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(
        TargetError::ComparatorIsArea {
            area: area("dordrecht")
        }
        .kind(),
        ErrorKind::InvalidInput {
            field: "comparator"
        }
    );
    assert_eq!(TargetError::Unchanged.kind(), ErrorKind::RuleViolated);
}
