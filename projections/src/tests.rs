//! The fold on its own: events in, read models out, no IO.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::DomainEvent;
use domain::decision::{DecisionEvent, DecisionStatus};
use domain::ids::{DecisionId, ProgrammeId};
use serde_json::json;
use store::LoggedEvent;
use uuid::Uuid;

use crate::state::FoldError;
use crate::{DecodeError, LedgerState};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 31, 12, 0, 0)
        .single()
        .expect("time")
}

fn logged(position: i64, aggregate_id: &str, sequence: i64, event: &DecisionEvent) -> LoggedEvent {
    LoggedEvent {
        position,
        recorded_at: t0() + Duration::hours(position),
        aggregate_type: "Decision".into(),
        aggregate_id: aggregate_id.into(),
        sequence,
        event_type: event.event_type(),
        event_version: event.event_version(),
        payload: serde_json::to_value(event).expect("serialises"),
        metadata: json!({"actor": "Sanne", "role": "secretary", "request_id": "r"}),
    }
}

fn proposed(id: DecisionId, title: &str) -> DecisionEvent {
    DecisionEvent::DecisionProposed {
        decision_id: id,
        programme_id: ProgrammeId::parse("dordt-west").expect("slug"),
        title: title.into(),
        description: String::new(),
    }
}

fn withdrawn() -> DecisionEvent {
    DecisionEvent::DecisionWithdrawn {
        reason: "vervangen".into(),
    }
}

fn two_decisions() -> (Vec<LoggedEvent>, String, String) {
    let a = DecisionId::from_uuid(Uuid::from_u128(1));
    let b = DecisionId::from_uuid(Uuid::from_u128(2));
    let (ia, ib) = (a.to_string(), b.to_string());
    let log = vec![
        logged(1, &ia, 1, &proposed(a, "A")),
        logged(2, &ib, 1, &proposed(b, "B")),
        logged(3, &ia, 2, &withdrawn()),
    ];
    (log, ia, ib)
}

fn fold(log: &[LoggedEvent]) -> LedgerState {
    let mut state = LedgerState::default();
    for e in log {
        state.apply(e).expect("folds");
    }
    state
}

#[test]
fn a_record_is_read_as_it_stood_at_any_position() {
    let (log, a, b) = two_decisions();
    let state = fold(&log);
    let status = |id: &str, at| {
        state
            .decision(id, at)
            .and_then(|d| d.state())
            .map(|s| s.status)
    };
    assert_eq!(status(&a, 1), Some(DecisionStatus::Proposed));
    assert_eq!(status(&a, 2), Some(DecisionStatus::Proposed));
    assert_eq!(status(&a, 3), Some(DecisionStatus::Withdrawn));
    assert_eq!(status(&b, 1), None, "B did not exist yet at position 1");
    assert_eq!(state.all_decisions(1).count(), 1);
    assert_eq!(state.all_decisions(3).count(), 2);
}

#[test]
fn as_of_a_time_includes_every_event_recorded_up_to_that_instant() {
    let (log, ..) = two_decisions();
    let state = fold(&log);
    assert_eq!(state.position_at(t0()), 0);
    assert_eq!(state.position_at(t0() + Duration::hours(2)), 2);
    assert_eq!(state.position_at(t0() + Duration::minutes(150)), 2);
    assert_eq!(state.position_at(t0() + Duration::days(9)), 3);
    let stamp = state.stamp(3).expect("stamp");
    assert_eq!(&*stamp.actor, "Sanne");
    assert_eq!(&*stamp.role, "secretary");
}

#[test]
fn a_gap_or_reordering_in_the_log_stops_the_fold_and_changes_nothing() {
    let (log, ..) = two_decisions();
    let mut state = LedgerState::default();
    state.apply(&log[0]).expect("first");
    let before = state.clone();
    assert_eq!(
        state.apply(&log[2]),
        Err(FoldError::OutOfOrder {
            expected: 2,
            found: 3
        })
    );
    assert_eq!(state, before);
}

#[test]
fn an_unreadable_event_stops_the_fold_and_changes_nothing() {
    let (mut log, ..) = two_decisions();
    log[0].aggregate_type = "Spaceship".into();
    let mut state = LedgerState::default();
    assert!(matches!(
        state.apply(&log[0]),
        Err(FoldError::Decode(DecodeError::UnknownAggregate { .. }))
    ));
    assert_eq!(state, LedgerState::default());
    let (mut log, ..) = two_decisions();
    log[0].event_version = "7".into();
    assert!(matches!(
        state.apply(&log[0]),
        Err(FoldError::Decode(DecodeError::UnknownVersion { .. }))
    ));
}

#[test]
fn the_checksum_is_the_same_for_the_same_log_and_differs_for_another() {
    let (log, ..) = two_decisions();
    let once = fold(&log).checksum();
    assert_eq!(once.len(), 64);
    assert_eq!(fold(&log).checksum(), once);
    let mut other = log.clone();
    other[1].payload["DecisionProposed"]["title"] = json!("B2");
    assert_ne!(fold(&other).checksum(), once);
    assert_ne!(fold(&log[..2]).checksum(), once);
}

#[test]
fn events_citing_a_decision_are_its_consequences() {
    let (mut log, a, _) = two_decisions();
    let cited = json!({"TargetWithdrawn": {"decision": a, "reason": "x"}});
    log.push(LoggedEvent {
        position: 4,
        aggregate_type: "Target".into(),
        aggregate_id: "dordt-west/ernstig-overgewicht/crabbehof/2030".into(),
        event_type: "TargetWithdrawn".into(),
        payload: cited,
        ..log[2].clone()
    });
    let state = fold(&log);
    assert_eq!(state.consequences(&a, 3).len(), 0);
    let found = state.consequences(&a, 4);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].event_type, "TargetWithdrawn");
}

#[test]
fn a_record_names_its_programme_after_every_event_of_it() {
    let (log, a, b) = two_decisions();
    let state = fold(&log);
    // `a` was withdrawn by an event that does not name the programme; its record still does.
    for id in [&a, &b] {
        assert_eq!(
            state.programme_of("Decision", id).map(|p| p.as_str()),
            Some("dordt-west")
        );
    }
    assert_eq!(state.programme_of("Decision", "no-such-decision"), None);
    assert_eq!(
        state.programme_of("Fund", &a),
        None,
        "the type picks the records"
    );
    assert_eq!(state.programme_of("Unknown", &a), None);
}
