//! Measurements (monitoring results): an indicator's value for an area and period, with its
//! source; a correction keeps the value it corrects.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::ids::{AreaId, IndicatorKey, ProgrammeId};
use domain::measurement::{
    CorrectMeasurement, Measurement, MeasurementCommand, MeasurementKey, MeasurementRevision,
    MeasurementState, RecordMeasurement,
};
use store::CommandContext;

use super::input::slug;
use super::scalars::{Date, Decimal, Period};
use super::{load, record};
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
