//! Monitor figures: per indicator and area the latest value, its trend, the comparators' values
//! for the same period, the gap to the gemeente, the current target and whether the latest value
//! meets it; per pillar a status from its indicators. `docs/monitor.md` states every rule in
//! words, with a worked example; this module is the one place they are applied.
//!
//! Everything here is a pure function of the read models at one position: no clock, no IO, and
//! only exact decimal arithmetic (`rust_decimal`), never floats.

use std::collections::BTreeMap;

use domain::ids::{AreaId, IndicatorKey, ProgrammeId};
use domain::period::Period;
use domain::programme::{AreaKind, Direction, Indicator, Pillar, ProgrammeState};
use domain::target::{TargetKey, TargetValue};
use rust_decimal::Decimal;
use store::Position;

use crate::LedgerState;

/// How many of the latest periods the trend looks at, at most.
pub const TREND_PERIODS: usize = 3;

/// One period of an indicator in an area, with the value the ledger held for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub period: Period,
    pub value: Decimal,
    /// The figure is an example, not published data.
    pub illustrative: bool,
}

/// Where an indicator is heading over its last periods, judged by its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trend {
    Improving,
    Stable,
    Worsening,
    /// Fewer than two periods of the same kind to compare.
    Unknown,
}

/// A pillar's status from its indicators; see [`pillar_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PillarStatus {
    Green,
    Orange,
    Red,
    /// None of the pillar's indicators has data for the area.
    Grey,
}

/// A comparator area and its value for the period of the latest value (`None` when the ledger
/// holds none for that period).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparator {
    pub area: AreaId,
    pub value: Option<Decimal>,
}

/// The target that applies to the latest value, with the number it comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentTarget {
    pub key: TargetKey,
    pub value: TargetValue,
    /// The value aimed for: the absolute value, or the target's comparator's value for the
    /// period of the latest value plus the margin; `None` when that comparator value is unknown.
    pub resolved: Option<Decimal>,
}

/// The monitor figures of one indicator in one area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorFigures {
    pub indicator: Indicator,
    pub area: AreaId,
    /// The measurement with the latest period.
    pub latest: Option<Observation>,
    pub trend: Trend,
    /// The periods the trend compares, oldest first (the latest is the last).
    pub trend_window: Vec<Observation>,
    /// The gemeente comparator (e.g. Dordrecht) for the latest period.
    pub gemeente: Option<Comparator>,
    /// The land comparator (Nederland) for the latest period.
    pub land: Option<Comparator>,
    /// Latest value minus the gemeente comparator's value, sign as is.
    pub gap: Option<Decimal>,
    /// The area is at least as good as the gemeente comparator.
    pub gap_favourable: Option<bool>,
    pub target: Option<CurrentTarget>,
    /// The latest value is at least as good as the resolved target.
    pub meets_target: Option<bool>,
}

impl IndicatorFigures {
    /// The ledger holds at least one measurement of the indicator for the area.
    pub fn has_data(&self) -> bool {
        self.latest.is_some()
    }

    /// Improving, or at (or better than) its target: what makes a pillar green.
    pub fn on_track(&self) -> bool {
        self.trend == Trend::Improving || self.meets_target == Some(true)
    }
}

/// A pillar with its status and its indicators' figures, for one area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PillarMonitor {
    pub pillar: Pillar,
    pub status: PillarStatus,
    pub indicators: Vec<IndicatorFigures>,
}

/// The monitor of one area of a programme at one position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    pub programme_id: ProgrammeId,
    pub area: AreaId,
    pub position: Position,
    /// In pillar number order; each pillar's indicators in the order the programme lists them.
    pub pillars: Vec<PillarMonitor>,
}

/// Why there are no figures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorError {
    #[error("there is no programme {0}")]
    UnknownProgramme(ProgrammeId),
    #[error("{area} is not an area of programme {programme}")]
    UnknownArea {
        programme: ProgrammeId,
        area: AreaId,
    },
    #[error("{indicator} is not an indicator of programme {programme}")]
    UnknownIndicator {
        programme: ProgrammeId,
        indicator: IndicatorKey,
    },
}

/// `value` is at least as good as `reference`, by the indicator's direction.
pub fn at_least_as_good(direction: Direction, value: Decimal, reference: Decimal) -> bool {
    match direction {
        Direction::HigherIsBetter => value >= reference,
        Direction::LowerIsBetter => value <= reference,
    }
}

/// The trend of the values of a trend window, oldest first (`docs/monitor.md`, rule 3).
///
/// With fewer than 2 values the trend is UNKNOWN. Otherwise, with `O` the oldest and `L` the
/// latest value: STABLE when `|L − O| × 100 ≤ |O|` (a change within 1% of the earlier value's
/// magnitude, the boundary included; from `O = 0` only `L = 0` is stable); else IMPROVING when
/// `L` is better than `O` by the indicator's direction, WORSENING when it is worse.
pub fn trend(direction: Direction, values: &[Decimal]) -> Trend {
    let (oldest, latest) = match values {
        [oldest, .., latest] => (*oldest, *latest),
        _ => return Trend::Unknown,
    };
    // An overflow means a change far beyond 1% of any representable value: not stable.
    let stable = latest
        .checked_sub(oldest)
        .and_then(|change| change.abs().checked_mul(Decimal::ONE_HUNDRED))
        .is_some_and(|scaled| scaled <= oldest.abs());
    if stable {
        Trend::Stable
    } else if at_least_as_good(direction, latest, oldest) {
        Trend::Improving
    } else {
        Trend::Worsening
    }
}

/// The status of a pillar from its indicators' figures in one area. The rule, as
/// `docs/monitor.md` states it:
///
/// For one area at one moment, a pillar's status comes from its indicators in that area. An
/// indicator *has data* when the ledger holds at least one measurement of it for the area. An
/// indicator with data is *on track* when its trend is improving or its latest value meets its
/// current target. The pillar is **GREY** when none of its indicators has data; **GREEN** when
/// every one of its indicators with data is on track; **RED** when none of its indicators with
/// data is on track; **ORANGE** otherwise (some, but not all, of its indicators with data are on
/// track).
pub fn pillar_status<'a>(figures: impl IntoIterator<Item = &'a IndicatorFigures>) -> PillarStatus {
    let (mut with_data, mut on_track) = (0_usize, 0_usize);
    for f in figures.into_iter().filter(|f| f.has_data()) {
        with_data += 1;
        if f.on_track() {
            on_track += 1;
        }
    }
    if with_data == 0 {
        PillarStatus::Grey
    } else if on_track == with_data {
        PillarStatus::Green
    } else if on_track == 0 {
        PillarStatus::Red
    } else {
        PillarStatus::Orange
    }
}

/// The comparator areas of `area`: the nearest ancestor of `kind`, else the first area of
/// `kind` the programme lists that is not `area` itself.
pub fn comparator_area(
    programme: &ProgrammeState,
    area: &AreaId,
    kind: AreaKind,
) -> Option<AreaId> {
    let mut current = programme.areas.get(area).and_then(|a| a.parent.as_ref());
    // Areas form a tree; the bound only guards against a malformed one.
    for _ in 0..programme.areas.len() {
        let Some(id) = current else { break };
        let Some(found) = programme.areas.get(id) else {
            break;
        };
        if found.kind == kind {
            return Some(found.id.clone());
        }
        current = found.parent.as_ref();
    }
    programme
        .areas_in_order()
        .into_iter()
        .find(|a| a.kind == kind && &a.id != area)
        .map(|a| a.id.clone())
}

/// The order of periods: by start, then (same start) a year before a quarter before a month
/// before a day.
fn period_order(period: Period) -> (chrono::NaiveDate, Period) {
    (period.start(), period)
}

fn same_kind(a: Period, b: Period) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// Targets by horizon year.
type Targets<'a> = BTreeMap<i32, (&'a TargetKey, &'a TargetValue)>;

/// One programme's measurements and live targets at one position, by indicator and area.
struct Index<'a> {
    programme: &'a ProgrammeState,
    /// Each series by indicator and area, in period order.
    series: BTreeMap<&'a IndicatorKey, BTreeMap<&'a AreaId, Vec<Observation>>>,
    /// The non-withdrawn targets by indicator and area, by horizon year.
    targets: BTreeMap<&'a IndicatorKey, BTreeMap<&'a AreaId, Targets<'a>>>,
}

impl<'a> Index<'a> {
    fn new(
        state: &'a LedgerState,
        at: Position,
        programme_id: &ProgrammeId,
    ) -> Result<Self, MonitorError> {
        let programme = state
            .programme(programme_id.as_str(), at)
            .and_then(|p| p.state())
            .ok_or_else(|| MonitorError::UnknownProgramme(programme_id.clone()))?;
        let mut series: BTreeMap<_, BTreeMap<_, Vec<Observation>>> = BTreeMap::new();
        for record in state.measurements_of(programme_id, None, None, at) {
            let Some(m) = record.state.state() else {
                continue;
            };
            if &m.key.programme_id != programme_id {
                continue;
            }
            series
                .entry(&m.key.indicator)
                .or_default()
                .entry(&m.key.area)
                .or_default()
                .push(Observation {
                    period: m.key.period,
                    value: m.value,
                    illustrative: m.illustrative,
                });
        }
        for values in series.values_mut().flat_map(BTreeMap::values_mut) {
            values.sort_by_key(|o| period_order(o.period));
        }
        let mut targets: BTreeMap<_, BTreeMap<_, Targets<'a>>> = BTreeMap::new();
        for record in state.all_targets(at) {
            let Some(t) = record.state.state() else {
                continue;
            };
            if &t.key.programme_id != programme_id || t.withdrawn {
                continue;
            }
            targets
                .entry(&t.key.indicator)
                .or_default()
                .entry(&t.key.area)
                .or_default()
                .insert(t.key.horizon_year, (&t.key, &t.value));
        }
        Ok(Self {
            programme,
            series,
            targets,
        })
    }

    fn series(&self, indicator: &IndicatorKey, area: &AreaId) -> &[Observation] {
        self.series
            .get(indicator)
            .and_then(|by_area| by_area.get(area))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn value(&self, indicator: &IndicatorKey, area: &AreaId, period: Period) -> Option<Decimal> {
        self.series(indicator, area)
            .iter()
            .find(|o| o.period == period)
            .map(|o| o.value)
    }

    /// The target with the nearest horizon year at or after `year`, else the one with the
    /// latest horizon; with no year (no data yet), the one with the earliest horizon.
    fn target(
        &self,
        indicator: &IndicatorKey,
        area: &AreaId,
        year: Option<i32>,
    ) -> Option<(&'a TargetKey, &'a TargetValue)> {
        let by_horizon = self.targets.get(indicator)?.get(area)?;
        let from = year.unwrap_or(i32::MIN);
        by_horizon
            .range(from..)
            .next()
            .or_else(|| by_horizon.iter().next_back())
            .map(|(_, found)| *found)
    }

    fn figures(&self, indicator: &Indicator, area: &AreaId) -> IndicatorFigures {
        let direction = indicator.direction;
        let series = self.series(&indicator.key, area);
        let latest = series.last().copied();
        let trend_window: Vec<Observation> = match latest {
            Some(l) => {
                let same: Vec<Observation> = series
                    .iter()
                    .filter(|o| same_kind(o.period, l.period))
                    .copied()
                    .collect();
                same[same.len().saturating_sub(TREND_PERIODS)..].to_vec()
            }
            None => Vec::new(),
        };
        let values: Vec<Decimal> = trend_window.iter().map(|o| o.value).collect();
        let comparator = |kind| {
            comparator_area(self.programme, area, kind).map(|id| Comparator {
                value: latest.and_then(|l| self.value(&indicator.key, &id, l.period)),
                area: id,
            })
        };
        let gemeente = comparator(AreaKind::Gemeente);
        let land = comparator(AreaKind::Land);
        let gap = latest
            .zip(gemeente.as_ref().and_then(|g| g.value))
            .and_then(|(l, g)| l.value.checked_sub(g));
        let gap_favourable = gap.map(|g| at_least_as_good(direction, g, Decimal::ZERO));
        let target = self
            .target(&indicator.key, area, latest.map(|l| l.period.year()))
            .map(|(key, value)| {
                let comparator_value = value
                    .comparator()
                    .zip(latest)
                    .and_then(|(c, l)| self.value(&indicator.key, c, l.period));
                CurrentTarget {
                    key: key.clone(),
                    value: value.clone(),
                    resolved: value.resolve(comparator_value),
                }
            });
        let meets_target = latest
            .zip(target.as_ref().and_then(|t| t.resolved))
            .map(|(l, t)| at_least_as_good(direction, l.value, t));
        IndicatorFigures {
            indicator: indicator.clone(),
            area: area.clone(),
            latest,
            trend: trend(direction, &values),
            trend_window,
            gemeente,
            land,
            gap,
            gap_favourable,
            target,
            meets_target,
        }
    }
}

fn known_area(programme: &ProgrammeState, area: &AreaId) -> Result<(), MonitorError> {
    if programme.areas.contains_key(area) {
        Ok(())
    } else {
        Err(MonitorError::UnknownArea {
            programme: programme.id.clone(),
            area: area.clone(),
        })
    }
}

/// The figures of one indicator in one area, as the ledger stood at `at`.
pub fn indicator_figures(
    state: &LedgerState,
    at: Position,
    programme_id: &ProgrammeId,
    indicator: &IndicatorKey,
    area: &AreaId,
) -> Result<IndicatorFigures, MonitorError> {
    let index = Index::new(state, at, programme_id)?;
    known_area(index.programme, area)?;
    let found = index.programme.indicators.get(indicator).ok_or_else(|| {
        MonitorError::UnknownIndicator {
            programme: programme_id.clone(),
            indicator: indicator.clone(),
        }
    })?;
    Ok(index.figures(found, area))
}

/// Every pillar of the programme with its status and its indicators' figures in `area`, as the
/// ledger stood at `at`.
pub fn monitor(
    state: &LedgerState,
    at: Position,
    programme_id: &ProgrammeId,
    area: &AreaId,
) -> Result<Monitor, MonitorError> {
    let index = Index::new(state, at, programme_id)?;
    known_area(index.programme, area)?;
    let mut pillars: Vec<&Pillar> = index.programme.pillars.values().collect();
    pillars.sort_by_key(|p| (p.number, &p.id));
    let indicators = index.programme.indicators_in_order();
    let pillars = pillars
        .into_iter()
        .map(|pillar| {
            let figures: Vec<IndicatorFigures> = indicators
                .iter()
                .filter(|i| i.pillar == pillar.id)
                .map(|i| index.figures(i, area))
                .collect();
            PillarMonitor {
                pillar: pillar.clone(),
                status: pillar_status(&figures),
                indicators: figures,
            }
        })
        .collect();
    Ok(Monitor {
        programme_id: programme_id.clone(),
        area: area.clone(),
        position: at,
        pillars,
    })
}

#[cfg(test)]
mod tests;
