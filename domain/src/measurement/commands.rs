use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::MeasurementKey;

/// Everything that can be asked of a measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum MeasurementCommand {
    Record(RecordMeasurement),
    Correct(CorrectMeasurement),
}

impl MeasurementCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Record(_) => "RecordMeasurement",
            Self::Correct(_) => "CorrectMeasurement",
        }
    }
}

/// Record the value of an indicator for an area and period, as a source published it. The
/// aggregate id is `key.aggregate_id()`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordMeasurement {
    pub key: MeasurementKey,
    pub value: Decimal,
    /// Who published it: RIVM, CBS, Leefbaarometer, ...
    pub source: String,
    pub published_on: NaiveDate,
    /// The figure is an example, not published data.
    pub illustrative: bool,
}

/// Record that a source revised a figure. Both values stay visible.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectMeasurement {
    pub value: Decimal,
    pub reason: String,
    /// The source of the corrected figure; `None` keeps the current source.
    pub source: Option<String>,
    pub published_on: NaiveDate,
}
