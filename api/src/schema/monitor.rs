//! The monitor: per pillar a status, and per indicator in one area its latest value, trend,
//! comparators, gap, current target and whether it is met. The figures come from
//! `projections::monitor`, which applies the rules of `docs/monitor.md`; nothing is computed here.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::ids::{AreaId, ProgrammeId};
use projections::monitor::{
    self, Comparator, CurrentTarget, IndicatorFigures, MonitorError, Observation, PillarMonitor,
    PillarStatus, Trend,
};
use store::Position;

use super::input::slug;
use super::programme::{mirror_enum, DirectionValue};
use super::scalars::{Decimal, Period};
use super::target::TargetValueObject;
use super::{position_of, state};
use crate::auth::require_reader;
use crate::ApiError;

mirror_enum!(TrendValue as "Trend" <=> Trend { Improving, Stable, Worsening, Unknown });
mirror_enum!(PillarStatusValue as "PillarStatus" <=> PillarStatus { Green, Orange, Red, Grey });

/// An indicator's value for one period.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MonitorValue")]
pub struct MonitorValueObject {
    period: Period,
    value: Decimal,
    /// The figure is an example, not published data.
    illustrative: bool,
}

impl From<&Observation> for MonitorValueObject {
    fn from(o: &Observation) -> Self {
        Self {
            period: Period(o.period),
            value: Decimal(o.value),
            illustrative: o.illustrative,
        }
    }
}

/// A comparator area and its value for the period of the latest value.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MonitorComparator")]
pub struct MonitorComparatorObject {
    area: String,
    /// Null when the ledger holds no figure of the comparator for that period.
    value: Option<Decimal>,
}

impl From<&Comparator> for MonitorComparatorObject {
    fn from(c: &Comparator) -> Self {
        Self {
            area: c.area.to_string(),
            value: c.value.map(Decimal),
        }
    }
}

/// The target that applies to the latest value.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MonitorTarget")]
pub struct MonitorTargetObject {
    /// The target's key, e.g. `dordt-west/ernstig-overgewicht/crabbehof/2030`.
    key: String,
    horizon_year: i32,
    /// The value as set: absolute, or relative to a comparator.
    value: TargetValueObject,
    /// The number it comes to for the latest period; null when it is relative and the
    /// comparator has no figure for that period.
    resolved: Option<Decimal>,
}

impl From<&CurrentTarget> for MonitorTargetObject {
    fn from(t: &CurrentTarget) -> Self {
        Self {
            key: t.key.aggregate_id(),
            horizon_year: t.key.horizon_year,
            value: (&t.value).into(),
            resolved: t.resolved.map(Decimal),
        }
    }
}

/// The monitor figures of one indicator in one area.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MonitorIndicator")]
pub struct MonitorIndicatorObject {
    /// The indicator's key, e.g. `ernstig-overgewicht`.
    indicator: String,
    name: String,
    unit: String,
    direction: DirectionValue,
    area: String,
    /// The measurement with the latest period; null when there is none.
    latest: Option<MonitorValueObject>,
    /// The latest value against the oldest of the last (up to 3) periods of the same kind.
    trend: TrendValue,
    /// The periods the trend compares, oldest first.
    trend_periods: Vec<MonitorValueObject>,
    /// The gemeente comparator (e.g. `dordrecht`) for the latest period.
    gemeente: Option<MonitorComparatorObject>,
    /// The land comparator (`nederland`) for the latest period.
    land: Option<MonitorComparatorObject>,
    /// Latest value minus the gemeente comparator's value, sign as is.
    gap: Option<Decimal>,
    /// The area is at least as good as the gemeente comparator, by the indicator's direction.
    gap_favourable: Option<bool>,
    target: Option<MonitorTargetObject>,
    /// The latest value is at least as good as the resolved target.
    meets_target: Option<bool>,
    /// Improving or meeting its target: what the pillar status counts.
    on_track: bool,
}

impl From<&IndicatorFigures> for MonitorIndicatorObject {
    fn from(f: &IndicatorFigures) -> Self {
        Self {
            indicator: f.indicator.key.to_string(),
            name: f.indicator.name.clone(),
            unit: f.indicator.unit.clone(),
            direction: f.indicator.direction.into(),
            area: f.area.to_string(),
            latest: f.latest.as_ref().map(Into::into),
            trend: f.trend.into(),
            trend_periods: f.trend_window.iter().map(Into::into).collect(),
            gemeente: f.gemeente.as_ref().map(Into::into),
            land: f.land.as_ref().map(Into::into),
            gap: f.gap.map(Decimal),
            gap_favourable: f.gap_favourable,
            target: f.target.as_ref().map(Into::into),
            meets_target: f.meets_target,
            on_track: f.on_track(),
        }
    }
}

/// A pillar's status in one area, with its indicators' figures.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MonitorPillar")]
pub struct MonitorPillarObject {
    id: String,
    number: i32,
    name: String,
    /// GREEN, ORANGE, RED or GREY by the rule in `docs/monitor.md`.
    status: PillarStatusValue,
    indicators: Vec<MonitorIndicatorObject>,
}

impl From<&PillarMonitor> for MonitorPillarObject {
    fn from(p: &PillarMonitor) -> Self {
        Self {
            id: p.pillar.id.to_string(),
            number: i32::from(p.pillar.number),
            name: p.pillar.name.clone(),
            status: p.status.into(),
            indicators: p.indicators.iter().map(Into::into).collect(),
        }
    }
}

/// The monitor of one area of a programme, as the ledger stood at `asOf`.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Monitor")]
pub struct MonitorObject {
    programme_id: String,
    area: String,
    /// The log position the figures are read at.
    position: Position,
    /// When the event at that position was recorded; null for the empty ledger.
    recorded_at: Option<DateTime<Utc>>,
    /// In pillar number order.
    pillars: Vec<MonitorPillarObject>,
}

#[derive(Default)]
pub struct MonitorQuery;

#[Object]
impl MonitorQuery {
    /// The monitor of an area: per pillar its status and its indicators' figures. Null when
    /// the programme did not exist at `asOf`.
    async fn monitor(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        #[graphql(desc = "The area, e.g. `crabbehof`.")] area: String,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<MonitorObject>> {
        require_reader(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let area = slug("area", &area, AreaId::parse)?;
        let models = state(ctx).projection.read().await;
        let at = position_of(&models, as_of);
        let found = match monitor::monitor(&models, at, &programme, &area) {
            Ok(found) => found,
            Err(MonitorError::UnknownProgramme(_)) => return Ok(None),
            Err(e @ MonitorError::UnknownArea { .. }) => {
                return Err(ApiError::NotFound(e.to_string()).into())
            }
            Err(MonitorError::UnknownIndicator { .. }) => return Err(ApiError::Internal.into()),
        };
        Ok(Some(MonitorObject {
            programme_id: found.programme_id.to_string(),
            area: found.area.to_string(),
            position: found.position,
            recorded_at: models.stamp(found.position).map(|s| s.recorded_at),
            pillars: found.pillars.iter().map(Into::into).collect(),
        }))
    }
}
