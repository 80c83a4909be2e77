//! Properties of the read models over random command sequences: the live state (events
//! folded batch by batch, as the projector does, restarting once from a snapshot) equals a
//! replay of the same log, and the state as of any position or time equals the replay up to
//! it (`replay --until`).
//!
//! The logs are made by deciding generated commands with the aggregates' own rules
//! (`domain::arbitrary`), then stamped with positions, non-decreasing record times (several
//! events often share one) and the metadata of a few recorders. No IO. 64 cases by default;
//! `PROPTEST_CASES` for a longer run (see `docs/reliability.md`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::arbitrary::{strategy, MemoryLedger, Step, DORDT_WEST, HEERLEN_NOORD};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::json;
use store::{LoggedEvent, Position};

use crate::budget::budget_summary;
use crate::{snapshot, LedgerState};

/// 64 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config
}

/// Who records: actor, role and organisation.
const RECORDERS: [(&str, &str, Option<&str>); 4] = [
    ("sanne.de.vries", "secretary", None),
    ("bzk-koppeling", "rijk", Some("Ministerie van BZK")),
    ("woonbron-portaal", "partner", Some("Woonbron")),
    ("beheer", "admin", None),
];

/// A generated log and the way the projector takes it in.
#[derive(Debug, Clone)]
struct Case {
    steps: Vec<Step>,
    /// Per event (cycled): seconds since the event before (0 = the same instant) and who.
    stamps: Vec<(u8, usize)>,
    /// How many events each read of the log returns (cycled).
    batches: Vec<usize>,
    /// Where the live state is written to a snapshot and read back, as after a restart.
    restart_at: Index,
}

fn case() -> impl Strategy<Value = Case> {
    (
        strategy::steps(40),
        proptest::collection::vec((0..=2u8, 0..RECORDERS.len()), 1..=16),
        proptest::collection::vec(1..=12usize, 1..=8),
        any::<Index>(),
    )
        .prop_map(|(steps, stamps, batches, restart_at)| Case {
            steps,
            stamps,
            batches,
            restart_at,
        })
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 0, 0)
        .single()
        .expect("a time")
}

/// The log the case's accepted commands make, as the store would hand it out.
fn log_of(case: &Case) -> Vec<LoggedEvent> {
    let mut ledger = MemoryLedger::dordt_west();
    for step in &case.steps {
        // A refused command records nothing; that is all the log needs to know.
        let _ = ledger.execute(step);
    }
    let mut at = t0();
    ledger
        .log()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (gap, who) = case.stamps[i % case.stamps.len()];
            at += Duration::seconds(i64::from(gap));
            let (actor, role, organisation) = RECORDERS[who];
            let mut metadata = json!({
                "actor": actor,
                "role": role,
                "request_id": format!("request-{i}"),
                "command": r.command,
            });
            if let Some(organisation) = organisation {
                metadata["organisation"] = json!(organisation);
            }
            LoggedEvent {
                position: i as Position + 1,
                recorded_at: at,
                aggregate_type: r.aggregate_type.to_owned(),
                aggregate_id: r.aggregate_id.clone(),
                sequence: r.sequence,
                event_type: r.event.event_type(),
                event_version: r.event.event_version(),
                payload: r.event.payload(),
                metadata,
            }
        })
        .collect()
}

/// A replay: every event folded into an empty state, in position order.
fn replay(log: &[LoggedEvent]) -> LedgerState {
    let mut state = LedgerState::default();
    for event in log {
        state.apply(event).expect("a log the ledger wrote folds");
    }
    state
}

/// Everything a reader can ask of the state at `at`, as one comparable value.
fn reads_at(state: &LedgerState, at: Position, decisions: &[String]) -> String {
    fn records<'a, A: std::fmt::Debug + 'a>(
        all: impl Iterator<Item = crate::Record<'a, A>>,
    ) -> String {
        all.map(|r| format!("{} {:?}\n", r.aggregate_id, r.state))
            .collect()
    }
    let mut out = String::new();
    out += &records(state.all_programmes(at));
    out += &records(state.all_alliances(at));
    out += &records(state.all_decisions(at));
    out += &records(state.all_funds(at));
    out += &records(state.all_commitments(at));
    out += &records(state.all_targets(at));
    for decision in decisions {
        out += &format!("{decision} {:?}\n", state.consequences(decision, at));
    }
    for p in 1..=at {
        out += &format!("{p} {:?}\n", state.stamp(p));
    }
    for programme in [DORDT_WEST, HEERLEN_NOORD] {
        out += &format!("{:?}\n", budget_summary(state, programme, None, at));
    }
    out
}

proptest! {
    #![proptest_config(config())]

    /// The projector's state, folded batch by batch and restarted once from a snapshot,
    /// equals a replay of the same log after every batch and at the end: structurally and
    /// by checksum.
    #[test]
    fn live_read_models_equal_a_replay(case in case()) {
        let log = log_of(&case);
        let restart_at = case.restart_at.index(log.len() + 1) as Position;
        let mut live = LedgerState::default();
        let mut restarted = false;
        let mut batches = case.batches.iter().cycle();
        while (live.position() as usize) < log.len() {
            let from = live.position() as usize;
            let to = (from + batches.next().expect("cycled")).min(log.len());
            for event in &log[from..to] {
                live.apply(event).expect("folds");
            }
            let replayed = replay(&log[..to]);
            prop_assert_eq!(&live, &replayed, "after position {}", to);
            prop_assert_eq!(live.checksum(), replayed.checksum());
            if !restarted && live.position() >= restart_at {
                let (bytes, checksum) = snapshot::encode(&live).expect("encodes");
                prop_assert_eq!(&checksum, &live.checksum());
                live = snapshot::decode(&bytes).expect("decodes");
                prop_assert_eq!(live.checksum(), checksum);
                restarted = true;
            }
        }
        let replayed = replay(&log);
        prop_assert_eq!(live.checksum(), replayed.checksum());
        prop_assert_eq!(live, replayed);
    }

    /// The state as of every position equals the replay up to that position, read for read
    /// and as a whole (`LedgerState::until`, by checksum and structurally); as of a record
    /// time, the ledger stands at the position a replay up to that time stops at.
    #[test]
    fn the_state_as_of_any_position_is_the_replay_until_it(case in case()) {
        let log = log_of(&case);
        let full = replay(&log);
        let decisions: Vec<String> = log
            .iter()
            .filter(|e| e.aggregate_type == "Decision")
            .map(|e| e.aggregate_id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut until = LedgerState::default();
        for p in 0..=log.len() {
            if p > 0 {
                until.apply(&log[p - 1]).expect("folds");
            }
            let p = p as Position;
            prop_assert_eq!(
                reads_at(&full, p, &decisions),
                reads_at(&until, p, &decisions),
                "reads as of position {}", p
            );
            let cut = full.until(p);
            prop_assert_eq!(cut.checksum(), until.checksum(), "checksum at {}", p);
            prop_assert_eq!(&cut, &until, "state at {}", p);
        }
        prop_assert_eq!(full.until(Position::MAX), full.clone());
        // As of a time: the last position recorded at or before it. The replay up to a time
        // stops at the first event recorded after it; the events before that are exactly
        // those recorded by then (times never decrease), and their state is the one above.
        for event in &log {
            for t in [event.recorded_at - Duration::milliseconds(1), event.recorded_at] {
                let replayed_until = log.iter().take_while(|e| e.recorded_at <= t).count();
                let recorded_by_then = log.iter().filter(|e| e.recorded_at <= t).count();
                prop_assert_eq!(replayed_until, recorded_by_then);
                prop_assert_eq!(full.position_at(t), replayed_until as Position, "as of {}", t);
            }
        }
    }
}
