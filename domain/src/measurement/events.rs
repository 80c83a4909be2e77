use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{AreaId, IndicatorKey, ProgrammeId};
use crate::period::Period;

fn is_false(value: &bool) -> bool {
    !*value
}

/// What happened to a measurement. Stored data: change only by adding optional fields.
/// Values are stored as decimal text, exactly as recorded (`"23.40"` stays `"23.40"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeasurementEvent {
    MeasurementRecorded {
        programme_id: ProgrammeId,
        indicator: IndicatorKey,
        area: AreaId,
        period: Period,
        #[serde(with = "rust_decimal::serde::str")]
        value: Decimal,
        source: String,
        published_on: NaiveDate,
        /// Stored only when true: most figures are published data.
        #[serde(default, skip_serializing_if = "is_false")]
        illustrative: bool,
    },
    MeasurementCorrected {
        #[serde(with = "rust_decimal::serde::str")]
        previous_value: Decimal,
        #[serde(with = "rust_decimal::serde::str")]
        value: Decimal,
        reason: String,
        /// The source of the corrected figure (the previous one when the command named none).
        source: String,
        published_on: NaiveDate,
    },
}

impl DomainEvent for MeasurementEvent {
    fn event_type(&self) -> String {
        match self {
            Self::MeasurementRecorded { .. } => "MeasurementRecorded",
            Self::MeasurementCorrected { .. } => "MeasurementCorrected",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
