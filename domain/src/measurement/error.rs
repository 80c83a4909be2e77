use chrono::NaiveDate;

use crate::error::{ErrorKind, RuleViolation};
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a measurement refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeasurementError {
    #[error("no value has been recorded for this indicator, area and period")]
    NotFound,
    #[error("a value has already been recorded for this indicator, area and period; record a correction instead")]
    AlreadyRecorded,
    #[error("value: the recorded value is already this; a correction changes it")]
    Unchanged,
    #[error("publishedOn: the current figure was published on {current}; a correction is not published before it ({published_on})")]
    PublishedEarlier {
        published_on: NaiveDate,
        current: NaiveDate,
    },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for MeasurementError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "measurement.exists",
            Self::AlreadyRecorded => "measurement.recorded_once",
            Self::Unchanged => "measurement.correction_changes",
            Self::PublishedEarlier { .. } => "measurement.publication_order",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyRecorded | Self::Unchanged | Self::PublishedEarlier { .. } => {
                ErrorKind::RuleViolated
            }
        }
    }
}
