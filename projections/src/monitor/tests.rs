//! The monitor rules of `docs/monitor.md`, branch by branch, over read models folded from
//! domain events.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use domain::ids::{AreaId, DecisionId, IndicatorKey, PillarId, ProgrammeId};
use domain::measurement::{Measurement, MeasurementEvent};
use domain::period::{Period, YearRange};
use domain::programme::{AreaKind, Direction, Programme, ProgrammeEvent};
use domain::target::{Target, TargetEvent, TargetKey, TargetValue};
use rust_decimal::Decimal;
use serde_json::json;
use store::{LoggedEvent, Position};
use uuid::Uuid;

use super::*;

const PROGRAMME: &str = "dordt-west";
/// Lower is better, pillar 1.
const OVERGEWICHT: &str = "ernstig-overgewicht";
/// Higher is better, pillar 1.
const SPORTERS: &str = "wekelijkse-sporters";
/// Higher is better, pillar 2.
const WOZ: &str = "gemiddelde-woz-waarde";
/// Lower is better, pillar 3.
const MISDRIJVEN: &str = "totaal-misdrijven";
const CRABBEHOF: &str = "crabbehof";
const DORDRECHT: &str = "dordrecht";
const NEDERLAND: &str = "nederland";

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn area(id: &str) -> AreaId {
    AreaId::parse(id).expect("area slug")
}

fn indicator(key: &str) -> IndicatorKey {
    IndicatorKey::parse(key).expect("indicator slug")
}

fn programme_id() -> ProgrammeId {
    ProgrammeId::parse(PROGRAMME).expect("programme slug")
}

fn period(text: &str) -> Period {
    text.parse().expect("a period")
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .expect("time")
}

fn decision() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(7))
}

/// A log under construction, one event per call, folded on demand.
#[derive(Default)]
struct Log {
    events: Vec<LoggedEvent>,
    sequences: BTreeMap<(String, String), i64>,
}

impl Log {
    fn push<A: Aggregate>(&mut self, aggregate_id: &str, event: A::Event) -> Position {
        let position = self.events.len() as Position + 1;
        let sequence = self
            .sequences
            .entry((A::TYPE.to_owned(), aggregate_id.to_owned()))
            .or_default();
        *sequence += 1;
        self.events.push(LoggedEvent {
            position,
            recorded_at: t0() + Duration::minutes(position),
            aggregate_type: A::TYPE.into(),
            aggregate_id: aggregate_id.into(),
            sequence: *sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_value(&event).expect("serialises"),
            metadata: json!({"actor": "Sanne", "role": "secretary", "request_id": "r"}),
        });
        position
    }

    fn state(&self) -> LedgerState {
        let mut state = LedgerState::default();
        for e in &self.events {
            state.apply(e).expect("folds");
        }
        state
    }

    fn programme(&mut self, event: ProgrammeEvent) {
        self.push::<Programme>(PROGRAMME, event);
    }

    fn add_area(&mut self, id: &str, kind: AreaKind, parent: Option<&str>) {
        self.programme(ProgrammeEvent::AreaAdded {
            area_id: area(id),
            name: id.to_uppercase(),
            kind,
            parent: parent.map(area),
            cbs_code: None,
        });
    }

    /// Dordt West with Nederland > Dordrecht > Dordt West > Crabbehof, three pillars and four
    /// indicators (two in pillar 1).
    fn dordt_west() -> Self {
        let mut log = Self::default();
        log.programme(ProgrammeEvent::ProgrammeEstablished {
            programme_id: programme_id(),
            name: "Nationaal Programma Dordt West".into(),
            municipality_code: "GM0505".into(),
            national_programme: "NPLV".into(),
            period: YearRange::new(2023, 2043).expect("years"),
            ambition: "Naar het Dordts gemiddelde".into(),
        });
        log.add_area(NEDERLAND, AreaKind::Land, None);
        log.add_area(DORDRECHT, AreaKind::Gemeente, Some(NEDERLAND));
        log.add_area("dordt-west", AreaKind::FocusArea, Some(DORDRECHT));
        log.add_area(CRABBEHOF, AreaKind::Wijk, Some("dordt-west"));
        // Added out of number order: the monitor orders pillars by number.
        for (id, number) in [
            ("wonen", 2),
            ("gezond-en-samen-leven", 1),
            ("veilig-en-prettig", 3),
        ] {
            log.programme(ProgrammeEvent::PillarAdded {
                pillar_id: PillarId::parse(id).expect("pillar slug"),
                number,
                name: id.replace('-', " "),
                ambition: String::new(),
                themes: Vec::new(),
            });
        }
        for (key, pillar, direction) in [
            (
                OVERGEWICHT,
                "gezond-en-samen-leven",
                Direction::LowerIsBetter,
            ),
            (WOZ, "wonen", Direction::HigherIsBetter),
            (SPORTERS, "gezond-en-samen-leven", Direction::HigherIsBetter),
            (MISDRIJVEN, "veilig-en-prettig", Direction::LowerIsBetter),
        ] {
            log.programme(ProgrammeEvent::IndicatorAdded {
                key: indicator(key),
                name: key.replace('-', " "),
                pillar_id: PillarId::parse(pillar).expect("pillar slug"),
                source: "RIVM".into(),
                unit: "%".into(),
                direction,
                definition: String::new(),
            });
        }
        log
    }

    fn measure(&mut self, key: &str, area_id: &str, at: &str, value: &str) -> Position {
        let id = format!("{PROGRAMME}/{key}/{area_id}/{at}");
        self.push::<Measurement>(
            &id,
            MeasurementEvent::MeasurementRecorded {
                programme_id: programme_id(),
                indicator: indicator(key),
                area: area(area_id),
                period: period(at),
                value: d(value),
                source: "RIVM".into(),
                published_on: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
                illustrative: false,
            },
        )
    }

    fn correct(&mut self, key: &str, area_id: &str, at: &str, from: &str, to: &str) -> Position {
        let id = format!("{PROGRAMME}/{key}/{area_id}/{at}");
        self.push::<Measurement>(
            &id,
            MeasurementEvent::MeasurementCorrected {
                previous_value: d(from),
                value: d(to),
                reason: "herziene weging".into(),
                source: "RIVM".into(),
                published_on: NaiveDate::from_ymd_opt(2025, 6, 1).expect("date"),
            },
        )
    }

    fn target(&mut self, key: &str, area_id: &str, horizon_year: i32, value: TargetValue) {
        let key = TargetKey {
            programme_id: programme_id(),
            indicator: indicator(key),
            area: area(area_id),
            horizon_year,
        };
        self.push::<Target>(
            &key.aggregate_id(),
            TargetEvent::TargetSet {
                programme_id: key.programme_id.clone(),
                indicator: key.indicator.clone(),
                area: key.area.clone(),
                horizon_year,
                value,
                baseline: None,
                decision: decision(),
                reason: "streefwaarde".into(),
            },
        );
    }

    fn withdraw(&mut self, key: &str, area_id: &str, horizon_year: i32) {
        let id = format!("{PROGRAMME}/{key}/{area_id}/{horizon_year}");
        self.push::<Target>(
            &id,
            TargetEvent::TargetWithdrawn {
                decision: decision(),
                reason: "vervalt".into(),
            },
        );
    }

    fn figures(&self, key: &str, area_id: &str) -> IndicatorFigures {
        let state = self.state();
        indicator_figures(
            &state,
            state.position(),
            &programme_id(),
            &indicator(key),
            &area(area_id),
        )
        .expect("figures")
    }

    fn monitor(&self, area_id: &str) -> Monitor {
        let state = self.state();
        monitor(&state, state.position(), &programme_id(), &area(area_id)).expect("monitor")
    }
}

fn absolute(value: &str) -> TargetValue {
    TargetValue::Absolute(d(value))
}

fn relative(comparator: &str, margin: &str) -> TargetValue {
    TargetValue::RelativeToComparator {
        comparator: area(comparator),
        margin: d(margin),
    }
}

fn values(texts: &[&str]) -> Vec<Decimal> {
    texts.iter().map(|t| d(t)).collect()
}

// --- Trend ---

#[test]
fn the_trend_is_unknown_with_fewer_than_two_periods() {
    assert_eq!(trend(Direction::LowerIsBetter, &[]), Trend::Unknown);
    assert_eq!(
        trend(Direction::LowerIsBetter, &values(&["21.4"])),
        Trend::Unknown
    );
    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "21.4");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert!(f.has_data());
    assert_eq!(f.trend, Trend::Unknown);
    assert_eq!(f.trend_window.len(), 1);
    let none = log.figures(SPORTERS, CRABBEHOF);
    assert!(!none.has_data());
    assert_eq!(none.latest, None);
    assert_eq!(none.trend, Trend::Unknown);
    assert!(none.trend_window.is_empty());
}

#[test]
fn the_trend_follows_the_indicators_direction() {
    let lower = Direction::LowerIsBetter;
    let higher = Direction::HigherIsBetter;
    assert_eq!(trend(lower, &values(&["24", "22"])), Trend::Improving);
    assert_eq!(trend(lower, &values(&["22", "24"])), Trend::Worsening);
    assert_eq!(trend(higher, &values(&["22", "24"])), Trend::Improving);
    assert_eq!(trend(higher, &values(&["24", "22"])), Trend::Worsening);
}

#[test]
fn a_change_within_one_percent_of_the_earlier_values_magnitude_is_stable() {
    let higher = Direction::HigherIsBetter;
    // Exactly 1% either way is still stable; a hair more is not.
    assert_eq!(trend(higher, &values(&["20.0", "20.2"])), Trend::Stable);
    assert_eq!(trend(higher, &values(&["20.0", "19.8"])), Trend::Stable);
    assert_eq!(
        trend(higher, &values(&["20.0", "20.2001"])),
        Trend::Improving
    );
    assert_eq!(
        trend(higher, &values(&["20.0", "19.7999"])),
        Trend::Worsening
    );
    // The band is 1% of the earlier value's magnitude, also when it is negative.
    assert_eq!(trend(higher, &values(&["-50", "-50.5"])), Trend::Stable);
    assert_eq!(trend(higher, &values(&["-50", "-50.6"])), Trend::Worsening);
    // From 0 only no change at all is stable.
    assert_eq!(trend(higher, &values(&["0", "0.00"])), Trend::Stable);
    assert_eq!(trend(higher, &values(&["0", "0.001"])), Trend::Improving);
    // A change too large to compute exactly is far beyond 1%.
    assert_eq!(
        trend(higher, &[Decimal::MIN, Decimal::MAX]),
        Trend::Improving
    );
    assert_eq!(
        trend(higher, &[Decimal::MAX, Decimal::MIN]),
        Trend::Worsening
    );
}

#[test]
fn the_trend_compares_the_latest_with_the_oldest_of_the_last_three_periods() {
    let mut log = Log::dordt_west();
    // Recorded out of period order: the series is ordered by period.
    log.measure(OVERGEWICHT, CRABBEHOF, "2026", "22");
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "30");
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "20");
    log.measure(OVERGEWICHT, CRABBEHOF, "2025", "19");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    let window: Vec<String> = f
        .trend_window
        .iter()
        .map(|o| format!("{}={}", o.period, o.value))
        .collect();
    assert_eq!(window, ["2024=20", "2025=19", "2026=22"]);
    // 22 against 20 (not against 30, which is four periods back): worse for lower-is-better,
    // although it dipped in between.
    assert_eq!(f.trend, Trend::Worsening);
    assert_eq!(f.latest.map(|l| l.value), Some(d("22")));
}

#[test]
fn periods_of_another_kind_stay_out_of_the_trend() {
    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "20");
    log.measure(OVERGEWICHT, CRABBEHOF, "2024-Q3", "25");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(
        f.latest.map(|l| l.period),
        Some(period("2024-Q3")),
        "the latest period is the one that starts last"
    );
    assert_eq!(f.trend_window.len(), 1, "years do not mix with quarters");
    assert_eq!(f.trend, Trend::Unknown);
    log.measure(OVERGEWICHT, CRABBEHOF, "2024-Q1", "26");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(f.trend_window.len(), 2);
    assert_eq!(f.trend, Trend::Improving, "26 to 25, lower is better");
}

// --- Comparators and gap ---

#[test]
fn comparators_are_the_gemeente_and_land_values_for_the_latest_period() {
    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "23");
    log.measure(OVERGEWICHT, DORDRECHT, "2023", "17");
    log.measure(OVERGEWICHT, DORDRECHT, "2024", "16.5");
    log.measure(OVERGEWICHT, NEDERLAND, "2023", "15");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(
        f.gemeente,
        Some(Comparator {
            area: area(DORDRECHT),
            value: Some(d("16.5"))
        })
    );
    assert_eq!(
        f.land,
        Some(Comparator {
            area: area(NEDERLAND),
            value: None
        }),
        "Nederland has no 2024 figure; its 2023 one is not used"
    );
    assert_eq!(
        f.gap,
        Some(d("6.5")),
        "value minus the gemeente's, sign as is"
    );
    assert_eq!(
        f.gap_favourable,
        Some(false),
        "above Dordrecht, lower is better"
    );

    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "23");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(
        f.gemeente.map(|g| g.value),
        Some(None),
        "no Dordrecht figure"
    );
    assert_eq!(f.gap, None);
    assert_eq!(f.gap_favourable, None);
}

#[test]
fn the_gap_is_favourable_when_the_area_is_at_least_as_good_as_the_gemeente() {
    let mut log = Log::dordt_west();
    for (key, value, dordrecht) in [
        (OVERGEWICHT, "15", "16.5"),
        (MISDRIJVEN, "40", "40.0"),
        (SPORTERS, "48", "52"),
        (WOZ, "310000", "300000"),
    ] {
        log.measure(key, CRABBEHOF, "2024", value);
        log.measure(key, DORDRECHT, "2024", dordrecht);
    }
    let gap = |key| {
        let f = log.figures(key, CRABBEHOF);
        (f.gap, f.gap_favourable)
    };
    assert_eq!(gap(OVERGEWICHT), (Some(d("-1.5")), Some(true)));
    assert_eq!(gap(MISDRIJVEN), (Some(Decimal::ZERO), Some(true)));
    assert_eq!(gap(SPORTERS), (Some(d("-4")), Some(false)));
    assert_eq!(gap(WOZ), (Some(d("10000")), Some(true)));
}

#[test]
fn a_comparator_is_the_nearest_ancestor_of_its_kind_else_the_first_listed() {
    let mut log = Log::dordt_west();
    log.add_area("zwijndrecht", AreaKind::Gemeente, Some(NEDERLAND));
    let state = log.state();
    let programme = state
        .programme(PROGRAMME, state.position())
        .and_then(Programme::state)
        .expect("programme");
    let comparator = |of: &str, kind| comparator_area(programme, &area(of), kind);
    assert_eq!(
        comparator(CRABBEHOF, AreaKind::Gemeente),
        Some(area(DORDRECHT))
    );
    assert_eq!(comparator(CRABBEHOF, AreaKind::Land), Some(area(NEDERLAND)));
    assert_eq!(
        comparator("zwijndrecht", AreaKind::Gemeente),
        Some(area(DORDRECHT)),
        "a gemeente compares with the first other gemeente"
    );
    assert_eq!(
        comparator(DORDRECHT, AreaKind::Gemeente),
        Some(area("zwijndrecht"))
    );
    assert_eq!(comparator(NEDERLAND, AreaKind::Land), None, "never itself");
}

// --- Targets ---

#[test]
fn the_current_target_is_the_nearest_horizon_at_or_after_the_latest_period() {
    let mut log = Log::dordt_west();
    log.target(OVERGEWICHT, CRABBEHOF, 2026, absolute("20"));
    log.target(OVERGEWICHT, CRABBEHOF, 2040, absolute("15"));
    log.target(OVERGEWICHT, CRABBEHOF, 2030, absolute("18"));
    let horizon = |log: &Log| {
        log.figures(OVERGEWICHT, CRABBEHOF)
            .target
            .map(|t| t.key.horizon_year)
    };
    assert_eq!(
        horizon(&log),
        Some(2026),
        "no data yet: the earliest horizon"
    );
    log.measure(OVERGEWICHT, CRABBEHOF, "2026", "21");
    assert_eq!(horizon(&log), Some(2026), "the horizon year itself counts");
    log.measure(OVERGEWICHT, CRABBEHOF, "2027", "21");
    assert_eq!(horizon(&log), Some(2030));
    log.withdraw(OVERGEWICHT, CRABBEHOF, 2030);
    assert_eq!(
        horizon(&log),
        Some(2040),
        "a withdrawn target does not apply"
    );
    log.measure(OVERGEWICHT, CRABBEHOF, "2041", "16");
    assert_eq!(horizon(&log), Some(2040), "past every horizon: the latest");
    log.withdraw(OVERGEWICHT, CRABBEHOF, 2026);
    log.withdraw(OVERGEWICHT, CRABBEHOF, 2040);
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(f.target, None);
    assert_eq!(f.meets_target, None);
}

#[test]
fn meeting_a_target_follows_the_direction_and_equal_meets_it() {
    let mut log = Log::dordt_west();
    log.target(OVERGEWICHT, CRABBEHOF, 2030, absolute("18"));
    log.target(SPORTERS, CRABBEHOF, 2030, absolute("60"));
    log.target(MISDRIJVEN, CRABBEHOF, 2030, absolute("40"));
    log.target(WOZ, CRABBEHOF, 2030, absolute("300000"));
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "18.5");
    log.measure(SPORTERS, CRABBEHOF, "2024", "61");
    log.measure(MISDRIJVEN, CRABBEHOF, "2024", "40.00");
    log.measure(WOZ, CRABBEHOF, "2024", "299999.99");
    let meets = |key| log.figures(key, CRABBEHOF).meets_target;
    assert_eq!(
        meets(OVERGEWICHT),
        Some(false),
        "18.5 > 18, lower is better"
    );
    assert_eq!(meets(SPORTERS), Some(true), "61 >= 60, higher is better");
    assert_eq!(meets(MISDRIJVEN), Some(true), "at the target meets it");
    assert_eq!(meets(WOZ), Some(false));
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    let target = f.target.expect("a target");
    assert_eq!(target.resolved, Some(d("18")));
    assert_eq!(
        target.key.aggregate_id(),
        "dordt-west/ernstig-overgewicht/crabbehof/2030"
    );
}

#[test]
fn a_relative_target_resolves_to_its_comparators_value_for_the_same_period() {
    let mut log = Log::dordt_west();
    log.target(OVERGEWICHT, CRABBEHOF, 2030, relative(DORDRECHT, "0.5"));
    log.target(SPORTERS, CRABBEHOF, 2030, relative(NEDERLAND, "0"));
    log.measure(OVERGEWICHT, CRABBEHOF, "2024", "17");
    log.measure(OVERGEWICHT, DORDRECHT, "2023", "30");
    log.measure(OVERGEWICHT, DORDRECHT, "2024", "16.5");
    log.measure(SPORTERS, CRABBEHOF, "2024", "50");
    log.measure(SPORTERS, DORDRECHT, "2024", "49");
    let f = log.figures(OVERGEWICHT, CRABBEHOF);
    assert_eq!(f.target.and_then(|t| t.resolved), Some(d("17.0")));
    assert_eq!(f.meets_target, Some(true), "17 is at Dordrecht 2024 + 0.5");
    // Relative to Nederland, which has no 2024 figure: the target comes to no number.
    let f = log.figures(SPORTERS, CRABBEHOF);
    let target = f.target.expect("a target");
    assert_eq!(target.value, relative(NEDERLAND, "0"));
    assert_eq!(target.resolved, None);
    assert_eq!(f.meets_target, None);
    log.measure(SPORTERS, NEDERLAND, "2024", "50.0");
    let f = log.figures(SPORTERS, CRABBEHOF);
    assert_eq!(f.target.and_then(|t| t.resolved), Some(d("50")));
    assert_eq!(f.meets_target, Some(true));
}

// --- Pillar status ---

/// Pillar 1 (overgewicht, sporters) in Crabbehof after the given measurements and targets.
fn pillar_one(setup: impl FnOnce(&mut Log)) -> PillarMonitor {
    let mut log = Log::dordt_west();
    setup(&mut log);
    let monitor = log.monitor(CRABBEHOF);
    monitor
        .pillars
        .into_iter()
        .find(|p| p.pillar.number == 1)
        .expect("pillar 1")
}

#[test]
fn a_pillar_is_grey_when_none_of_its_indicators_has_data() {
    let p = pillar_one(|log| {
        log.target(OVERGEWICHT, CRABBEHOF, 2030, absolute("18"));
        log.measure(OVERGEWICHT, DORDRECHT, "2024", "16");
    });
    assert_eq!(
        p.status,
        PillarStatus::Grey,
        "data elsewhere does not count"
    );
    assert_eq!(pillar_status(&[]), PillarStatus::Grey);
}

#[test]
fn a_pillar_is_green_when_every_indicator_with_data_improves_or_meets_its_target() {
    // Overgewicht improves; sporters has no data and does not count.
    let p = pillar_one(|log| {
        log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
        log.measure(OVERGEWICHT, CRABBEHOF, "2024", "22");
    });
    assert_eq!(p.status, PillarStatus::Green);
    // Sporters worsens but meets its target: on track too.
    let p = pillar_one(|log| {
        log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
        log.measure(OVERGEWICHT, CRABBEHOF, "2024", "22");
        log.measure(SPORTERS, CRABBEHOF, "2023", "70");
        log.measure(SPORTERS, CRABBEHOF, "2024", "65");
        log.target(SPORTERS, CRABBEHOF, 2030, absolute("60"));
    });
    assert_eq!(
        p.indicators.iter().map(|f| f.trend).collect::<Vec<_>>(),
        [Trend::Improving, Trend::Worsening]
    );
    assert_eq!(p.status, PillarStatus::Green);
    // One period only, but at target.
    let p = pillar_one(|log| {
        log.measure(OVERGEWICHT, CRABBEHOF, "2024", "17");
        log.target(OVERGEWICHT, CRABBEHOF, 2030, absolute("18"));
    });
    assert_eq!(p.status, PillarStatus::Green);
}

#[test]
fn a_pillar_is_orange_when_some_but_not_all_indicators_with_data_are_on_track() {
    let p = pillar_one(|log| {
        log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
        log.measure(OVERGEWICHT, CRABBEHOF, "2024", "22");
        log.measure(SPORTERS, CRABBEHOF, "2023", "50");
        log.measure(SPORTERS, CRABBEHOF, "2024", "45");
    });
    assert_eq!(p.status, PillarStatus::Orange);
}

#[test]
fn a_pillar_is_red_when_no_indicator_with_data_is_on_track() {
    // Worsening, below target.
    let p = pillar_one(|log| {
        log.measure(SPORTERS, CRABBEHOF, "2023", "50");
        log.measure(SPORTERS, CRABBEHOF, "2024", "45");
        log.target(SPORTERS, CRABBEHOF, 2030, absolute("60"));
    });
    assert_eq!(p.status, PillarStatus::Red);
    // Stable is not improving; a trend that cannot be told is not either.
    let p = pillar_one(|log| {
        log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
        log.measure(OVERGEWICHT, CRABBEHOF, "2024", "24.2");
        log.measure(SPORTERS, CRABBEHOF, "2024", "45");
    });
    assert_eq!(
        p.indicators.iter().map(|f| f.trend).collect::<Vec<_>>(),
        [Trend::Stable, Trend::Unknown]
    );
    assert_eq!(p.status, PillarStatus::Red);
}

// --- The monitor as a whole ---

#[test]
fn the_monitor_lists_pillars_by_number_with_indicators_in_programme_order() {
    let mut log = Log::dordt_west();
    log.measure(WOZ, CRABBEHOF, "2024", "250000");
    let m = log.monitor(CRABBEHOF);
    assert_eq!(m.area, area(CRABBEHOF));
    assert_eq!(m.position, log.events.len() as Position);
    let layout: Vec<(u8, Vec<String>, PillarStatus)> = m
        .pillars
        .iter()
        .map(|p| {
            (
                p.pillar.number,
                p.indicators
                    .iter()
                    .map(|f| f.indicator.key.to_string())
                    .collect(),
                p.status,
            )
        })
        .collect();
    assert_eq!(
        layout,
        [
            (
                1,
                vec![OVERGEWICHT.to_owned(), SPORTERS.to_owned()],
                PillarStatus::Grey
            ),
            (2, vec![WOZ.to_owned()], PillarStatus::Red),
            (3, vec![MISDRIJVEN.to_owned()], PillarStatus::Grey),
        ]
    );
}

#[test]
fn the_figures_are_those_the_ledger_knew_at_the_position_asked() {
    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "24");
    let recorded = log.measure(OVERGEWICHT, CRABBEHOF, "2024", "22");
    log.correct(OVERGEWICHT, CRABBEHOF, "2024", "22", "24.1");
    let state = log.state();
    let at = |position| {
        indicator_figures(
            &state,
            position,
            &programme_id(),
            &indicator(OVERGEWICHT),
            &area(CRABBEHOF),
        )
        .expect("figures")
    };
    let then = at(recorded);
    assert_eq!(then.latest.map(|l| l.value), Some(d("22")));
    assert_eq!(then.trend, Trend::Improving);
    let now = at(state.position());
    assert_eq!(now.latest.map(|l| l.value), Some(d("24.1")));
    assert_eq!(now.trend, Trend::Stable, "24 to 24.1 is within 1%");
    let before = at(recorded - 1);
    assert_eq!(before.trend_window.len(), 1);
}

#[test]
fn an_unknown_programme_area_or_indicator_is_an_error() {
    let log = Log::dordt_west();
    let state = log.state();
    let at = state.position();
    let other = ProgrammeId::parse("rotterdam-zuid").expect("slug");
    assert_eq!(
        monitor(&state, at, &other, &area(CRABBEHOF)),
        Err(MonitorError::UnknownProgramme(other.clone()))
    );
    assert_eq!(
        monitor(&state, 0, &programme_id(), &area(CRABBEHOF)),
        Err(MonitorError::UnknownProgramme(programme_id())),
        "before the programme was established"
    );
    assert!(matches!(
        monitor(&state, at, &programme_id(), &area("wielwijk")),
        Err(MonitorError::UnknownArea { .. })
    ));
    assert!(matches!(
        indicator_figures(
            &state,
            at,
            &programme_id(),
            &indicator("geluk"),
            &area(CRABBEHOF)
        ),
        Err(MonitorError::UnknownIndicator { .. })
    ));
}

#[test]
fn the_measurements_of_a_programme_indicator_and_area_are_exactly_theirs() {
    let mut log = Log::dordt_west();
    log.measure(OVERGEWICHT, CRABBEHOF, "2023", "20");
    log.measure(OVERGEWICHT, DORDRECHT, "2023", "15");
    log.measure(SPORTERS, CRABBEHOF, "2023", "40");
    // Another programme whose slug starts with this one's, measuring the same.
    let other = ProgrammeId::parse("dordt-west-oost").expect("slug");
    log.push::<Measurement>(
        &format!("{other}/{OVERGEWICHT}/{CRABBEHOF}/2023"),
        MeasurementEvent::MeasurementRecorded {
            programme_id: other,
            indicator: indicator(OVERGEWICHT),
            area: area(CRABBEHOF),
            period: period("2023"),
            value: d("30"),
            source: "RIVM".into(),
            published_on: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            illustrative: false,
        },
    );
    let earlier = log.measure(OVERGEWICHT, CRABBEHOF, "2024", "19") - 1;
    let state = log.state();
    let ids = |i: Option<&str>, a: Option<&str>, at: Position| -> Vec<String> {
        state
            .measurements_of(
                &programme_id(),
                i.map(indicator).as_ref(),
                a.map(area).as_ref(),
                at,
            )
            .map(|r| r.aggregate_id.to_owned())
            .collect()
    };
    let all = |at: Position| -> Vec<String> {
        state
            .all_measurements(at)
            .filter(|r| r.state.state().expect("recorded").key.programme_id == programme_id())
            .map(|r| r.aggregate_id.to_owned())
            .collect()
    };
    let now = state.position();
    assert_eq!(ids(None, None, now), all(now));
    assert_eq!(ids(None, None, now).len(), 4, "{:?}", ids(None, None, now));
    assert_eq!(
        ids(Some(OVERGEWICHT), None, now),
        [
            "dordt-west/ernstig-overgewicht/crabbehof/2023",
            "dordt-west/ernstig-overgewicht/crabbehof/2024",
            "dordt-west/ernstig-overgewicht/dordrecht/2023",
        ]
    );
    assert_eq!(
        ids(Some(OVERGEWICHT), Some(CRABBEHOF), now),
        [
            "dordt-west/ernstig-overgewicht/crabbehof/2023",
            "dordt-west/ernstig-overgewicht/crabbehof/2024",
        ]
    );
    assert_eq!(
        ids(Some(OVERGEWICHT), Some(CRABBEHOF), earlier),
        ["dordt-west/ernstig-overgewicht/crabbehof/2023"],
        "as the ledger stood before the 2024 measurement"
    );
    assert_eq!(ids(None, None, earlier), all(earlier));
    assert!(ids(Some("geluk"), None, now).is_empty());
}
