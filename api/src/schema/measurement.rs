//! Measurements (monitoring results): an indicator's value for an area and period, with its
//! source; a correction keeps the value it corrects.
//!
//! Reading them is bitemporal (`docs/time.md`, `docs/monitor.md`): `measurements` filters on the
//! period a figure is about (`from`, `to`) and answers as the ledger knew it at `knownAt`, with
//! every value it had learned by then and when it learned each.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{AreaId, IndicatorKey, ProgrammeId};
use domain::measurement::{
    CorrectMeasurement, Measurement, MeasurementCommand, MeasurementKey, MeasurementRevision,
    MeasurementState, RecordMeasurement,
};
use projections::LedgerState;
use store::{CommandContext, Position};

use super::input::slug;
use super::page::DEFAULT_PAGE;
use super::scalars::{Date, Decimal, Period};
use super::{load, position_of, record, state};
use crate::auth::{require_reader, require_recorder};
use crate::ApiError;

/// One value of a measurement as it was recorded or corrected.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MeasurementRevision")]
pub struct MeasurementRevisionObject {
    value: Decimal,
    source: String,
    published_on: Date,
    /// Why the value was corrected; null for the value first recorded.
    reason: Option<String>,
}

impl From<&MeasurementRevision> for MeasurementRevisionObject {
    fn from(r: &MeasurementRevision) -> Self {
        Self {
            value: Decimal(r.value),
            source: r.source.clone(),
            published_on: Date(r.published_on),
            reason: r.reason.clone(),
        }
    }
}

/// The value of an indicator for an area and period.
#[derive(Debug)]
pub struct MeasurementObject(MeasurementState);

#[Object(name = "Measurement")]
impl MeasurementObject {
    /// The measurement's key, e.g. `dordt-west/ernstig-overgewicht/crabbehof/2023`.
    async fn key(&self) -> String {
        self.0.key.aggregate_id()
    }
    async fn programme_id(&self) -> String {
        self.0.key.programme_id.to_string()
    }
    async fn indicator(&self) -> String {
        self.0.key.indicator.to_string()
    }
    async fn area(&self) -> String {
        self.0.key.area.to_string()
    }
    async fn period(&self) -> Period {
        Period(self.0.key.period)
    }
    /// The current value, after the latest correction.
    async fn value(&self) -> Decimal {
        Decimal(self.0.value)
    }
    /// Who published the current value: RIVM, CBS, Leefbaarometer, ...
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// When the current value was published.
    async fn published_on(&self) -> Date {
        Date(self.0.published_on)
    }
    /// The figure is an example, not published data.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
    /// How often the value was corrected.
    async fn corrections(&self) -> u32 {
        self.0.corrections
    }
    /// Every value recorded, oldest first: the first recorded, then each correction. The last
    /// is the current value.
    async fn history(&self) -> Vec<MeasurementRevisionObject> {
        self.0.history.iter().map(Into::into).collect()
    }
}

fn measurement_key(
    programme_id: &str,
    indicator: &str,
    area: &str,
    period: Period,
) -> Result<MeasurementKey, ApiError> {
    Ok(MeasurementKey {
        programme_id: slug("programmeId", programme_id, ProgrammeId::parse)?,
        indicator: slug("indicator", indicator, IndicatorKey::parse)?,
        area: slug("area", area, AreaId::parse)?,
        period: period.0,
    })
}

/// One value of a measurement as the ledger learned it: recorded first, or a correction.
#[derive(SimpleObject, Debug)]
#[graphql(name = "MeasurementVersion")]
pub struct MeasurementVersionObject {
    value: Decimal,
    source: String,
    published_on: Date,
    /// Why the value was corrected; null for the value first recorded.
    reason: Option<String>,
    /// When the ledger learned this value (record time).
    recorded_at: DateTime<Utc>,
    /// The log position of the event that recorded it.
    position: Position,
}

/// A measurement as the ledger knew it at `knownAt`: the value it held then, and every value it
/// had learned by then.
#[derive(SimpleObject, Debug)]
#[graphql(name = "KnownMeasurement")]
pub struct KnownMeasurementObject {
    /// The measurement's key, e.g. `dordt-west/ernstig-overgewicht/crabbehof/2023`; also its
    /// cursor.
    key: String,
    programme_id: String,
    indicator: String,
    area: String,
    /// What the figure is about (valid time).
    period: Period,
    /// The value the ledger held at `knownAt`.
    value: Decimal,
    source: String,
    published_on: Date,
    /// The figure is an example, not published data.
    illustrative: bool,
    /// How often the value had been corrected by `knownAt`.
    corrections: u32,
    /// When the ledger learned the value shown (record time of its version).
    recorded_at: DateTime<Utc>,
    /// The log position of the version shown.
    position: Position,
    /// Every value the ledger had learned by `knownAt`, oldest first; the last is `value`.
    history: Vec<MeasurementVersionObject>,
}

/// The order of the `measurements` list: indicator, area, then period (by its start; a year
/// before a quarter, month or day that starts on the same day).
type Order<'a> = (
    &'a IndicatorKey,
    &'a AreaId,
    NaiveDate,
    domain::period::Period,
);

fn order(key: &MeasurementKey) -> Order<'_> {
    (&key.indicator, &key.area, key.period.start(), key.period)
}

/// The measurement with this aggregate id as the ledger knew it at `at`, with its versions.
fn known(
    models: &LedgerState,
    aggregate_id: &str,
    at: Position,
) -> Result<KnownMeasurementObject, ApiError> {
    let recorded_at = |position: Position| {
        models
            .stamp(position)
            .map(|s| s.recorded_at)
            .ok_or(ApiError::Internal)
    };
    let mut history = Vec::new();
    let mut shown: Option<(Position, &MeasurementState)> = None;
    for (position, version) in models.measurement_history(aggregate_id) {
        if position > at {
            break;
        }
        let Some(m) = version.state() else { continue };
        let Some(revision) = m.history.last() else {
            continue;
        };
        history.push(MeasurementVersionObject {
            value: Decimal(revision.value),
            source: revision.source.clone(),
            published_on: Date(revision.published_on),
            reason: revision.reason.clone(),
            recorded_at: recorded_at(position)?,
            position,
        });
        shown = Some((position, m));
    }
    let (position, m) = shown.ok_or(ApiError::Internal)?;
    Ok(KnownMeasurementObject {
        key: aggregate_id.to_owned(),
        programme_id: m.key.programme_id.to_string(),
        indicator: m.key.indicator.to_string(),
        area: m.key.area.to_string(),
        period: Period(m.key.period),
        value: Decimal(m.value),
        source: m.source.clone(),
        published_on: Date(m.published_on),
        illustrative: m.illustrative,
        corrections: m.corrections,
        recorded_at: recorded_at(position)?,
        position,
        history,
    })
}

/// How many items a page holds: `first`, or 100 when left out; never more than the server's
/// page limit.
fn page_size(first: Option<i32>, max: u32) -> Result<usize, ApiError> {
    let max_items = usize::try_from(max).unwrap_or(usize::MAX);
    match first {
        None => Ok(DEFAULT_PAGE.min(max_items)),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= max_items)
            .ok_or_else(|| ApiError::bad_input("first", format!("must be between 0 and {max}"))),
    }
}

/// The key a cursor names; it must be a measurement key of the programme listed.
fn cursor(programme: &ProgrammeId, after: &str) -> Result<MeasurementKey, ApiError> {
    MeasurementKey::from_aggregate_id(after)
        .filter(|key| &key.programme_id == programme)
        .ok_or_else(|| {
            ApiError::bad_input(
                "after",
                format!("{after:?} is not a cursor of this list: give the `cursor` of an edge"),
            )
        })
}

#[derive(Default)]
pub struct MeasurementQuery;

#[Object]
impl MeasurementQuery {
    /// The value of an indicator for an area and period, with every correction.
    async fn measurement(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        indicator: String,
        area: String,
        period: Period,
        #[graphql(desc = "What the ledger knew at this instant (RFC 3339); now when left out.")]
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<MeasurementObject>> {
        require_reader(ctx)?;
        let key = measurement_key(&programme_id, &indicator, &area, period)?;
        let measurement: Measurement = load(ctx, &key.aggregate_id(), known_at).await?;
        Ok(measurement.state().cloned().map(MeasurementObject))
    }

    /// The programme's measurements whose period starts within `from`..`to`, as the ledger knew
    /// them at `knownAt`, each with every value learned by then and when: so a correction shows
    /// both values. Ordered by indicator, area and period; the cursor is the measurement's key.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn measurements(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        #[graphql(desc = "Only this indicator, e.g. `ernstig-overgewicht`.")] indicator: Option<
            String,
        >,
        #[graphql(desc = "Only this area, e.g. `crabbehof`.")] area: Option<String>,
        #[graphql(
            desc = "Only periods that start on or after the start of this one (valid time)."
        )]
        from: Option<Period>,
        #[graphql(
            desc = "Only periods that start on or before the start of this one (valid time): `to: \"2023\"` ends at 2023-01-01, so it takes the year 2023 but not 2023-Q2; write `2023-Q4` for every quarter of 2023."
        )]
        to: Option<Period>,
        #[graphql(desc = "What the ledger knew at this instant (RFC 3339); now when left out.")]
        known_at: Option<DateTime<Utc>>,
        #[graphql(desc = "How many to return (default 100, at most the server's page limit).")]
        first: Option<i32>,
        #[graphql(desc = "Continue after the item with this cursor.")] after: Option<String>,
    ) -> Result<Connection<String, KnownMeasurementObject>> {
        require_reader(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let indicator = indicator
            .map(|i| slug("indicator", &i, IndicatorKey::parse))
            .transpose()?;
        let area = area.map(|a| slug("area", &a, AreaId::parse)).transpose()?;
        let (from, to) = (from.map(|p| p.0.start()), to.map(|p| p.0.start()));
        if from.zip(to).is_some_and(|(f, t)| f > t) {
            return Err(
                ApiError::bad_input("to", "the range ends before it starts (`from`)").into(),
            );
        }
        let size = page_size(first, state(ctx).limits.max_page_size)?;
        let after = after.map(|a| cursor(&programme, &a)).transpose()?;

        let models = state(ctx).projection.read().await;
        let at = position_of(&models, known_at);
        let mut found: Vec<(Order<'_>, &str)> = models
            .measurements_of(&programme, indicator.as_ref(), area.as_ref(), at)
            .filter_map(|r| {
                let m = r.state.state()?;
                (m.key.programme_id == programme).then(|| (order(&m.key), r.aggregate_id))
            })
            .filter(|((i, a, start, _), _)| {
                indicator.as_ref().is_none_or(|want| want == *i)
                    && area.as_ref().is_none_or(|want| want == *a)
                    && from.is_none_or(|f| *start >= f)
                    && to.is_none_or(|t| *start <= t)
            })
            .collect();
        found.sort_unstable();
        let start = after
            .as_ref()
            .map_or(0, |a| found.partition_point(|(o, _)| *o <= order(a)));
        let end = start.saturating_add(size).min(found.len());
        let mut connection = Connection::new(start > 0, end < found.len());
        for (_, id) in &found[start..end] {
            connection
                .edges
                .push(Edge::new((*id).to_owned(), known(&models, id, at)?));
        }
        Ok(connection)
    }
}

#[derive(InputObject)]
pub struct RecordMeasurementInput {
    programme_id: String,
    /// The indicator, e.g. `ernstig-overgewicht`.
    indicator: String,
    /// The area, e.g. `crabbehof`.
    area: String,
    /// `2023`, `2023-Q2`, `2023-06` or `2023-06-15`.
    period: Period,
    /// The value as a decimal string, e.g. `"23.4"`.
    value: Decimal,
    /// Who published it: RIVM, CBS, Leefbaarometer, ...
    source: String,
    published_on: Date,
    /// The figure is an example, not published data.
    #[graphql(default)]
    illustrative: bool,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct CorrectMeasurementInput {
    programme_id: String,
    indicator: String,
    area: String,
    period: Period,
    /// The corrected value.
    value: Decimal,
    reason: String,
    /// The source of the corrected figure; the current source when left out.
    source: Option<String>,
    published_on: Date,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    key: &MeasurementKey,
    command: MeasurementCommand,
) -> Result<MeasurementObject> {
    let name = command.name();
    let measurement: Measurement =
        record(ctx, &context, &key.aggregate_id(), command, name).await?;
    measurement
        .state()
        .cloned()
        .map(MeasurementObject)
        .ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct MeasurementMutation;

#[Object]
impl MeasurementMutation {
    /// Record an indicator's value for an area and period, as its source published it; once
    /// per measurement, after that it is corrected.
    async fn record_measurement(
        &self,
        ctx: &Context<'_>,
        input: RecordMeasurementInput,
    ) -> Result<MeasurementObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let key = measurement_key(
            &input.programme_id,
            &input.indicator,
            &input.area,
            input.period,
        )?;
        let command = MeasurementCommand::Record(RecordMeasurement {
            key: key.clone(),
            value: input.value.0,
            source: input.source,
            published_on: input.published_on.0,
            illustrative: input.illustrative,
        });
        run(ctx, context, &key, command).await
    }

    /// Record that a source revised a figure, with the reason; both values stay visible.
    async fn correct_measurement(
        &self,
        ctx: &Context<'_>,
        input: CorrectMeasurementInput,
    ) -> Result<MeasurementObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let key = measurement_key(
            &input.programme_id,
            &input.indicator,
            &input.area,
            input.period,
        )?;
        let command = MeasurementCommand::Correct(CorrectMeasurement {
            value: input.value.0,
            reason: input.reason,
            source: input.source,
            published_on: input.published_on.0,
        });
        run(ctx, context, &key, command).await
    }
}
