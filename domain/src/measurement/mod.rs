//! A measurement (monitoring result): the value of one indicator for one area and period, with
//! its source and publication date. Its aggregate id is the composite [`MeasurementKey`],
//! e.g. `dordt-west/ernstig-overgewicht/crabbehof/2023`.
//!
//! Sources revise figures: a correction is a new event that keeps the previous value, so both
//! what was true for the period (valid time: the period) and what the ledger knew when (record
//! time: the event's position and `recorded_at`) stay queryable.
//!
//! Rules:
//! - the indicator and area are known in the programme, and the period's year lies inside the
//!   programme period;
//! - a measurement is recorded once (`measurement.recorded_once`); after that it is corrected;
//! - a source is named;
//! - a correction changes the value, gives a reason, and is not published before the figure
//!   it corrects;
//! - `illustrative` marks figures that are examples, not published data; a correction keeps
//!   the mark.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use commands::{CorrectMeasurement, MeasurementCommand, RecordMeasurement};
pub use error::MeasurementError;
pub use events::MeasurementEvent;

use crate::ids::{AreaId, IndicatorKey, ProgrammeId};
use crate::period::Period;
use crate::reference::LedgerServices;
use crate::text;

/// Longest source name.
pub const SOURCE_MAX: usize = 300;
/// Longest reason.
pub const TEXT_MAX: usize = 20_000;

/// What a measurement is about: programme, indicator, area and period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MeasurementKey {
    pub programme_id: ProgrammeId,
    pub indicator: IndicatorKey,
    pub area: AreaId,
    pub period: Period,
}

impl MeasurementKey {
    /// The aggregate id: `programme/indicator/area/period`, e.g.
    /// `dordt-west/ernstig-overgewicht/crabbehof/2023` or `.../crabbehof/2023-Q2`.
    pub fn aggregate_id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.programme_id, self.indicator, self.area, self.period
        )
    }

    /// Reads an aggregate id back into its key; `None` when it is not one.
    pub fn from_aggregate_id(id: &str) -> Option<Self> {
        let mut parts = id.split('/');
        let key = Self {
            programme_id: ProgrammeId::parse(parts.next()?).ok()?,
            indicator: IndicatorKey::parse(parts.next()?).ok()?,
            area: AreaId::parse(parts.next()?).ok()?,
            period: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(key)
    }
}

/// The state of one measurement, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    state: Option<MeasurementState>,
}

/// The recorded facts of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementState {
    pub key: MeasurementKey,
    /// The current value (after the latest correction).
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    pub source: String,
    /// When the current value was published.
    pub published_on: NaiveDate,
    pub illustrative: bool,
    /// How often the value was corrected.
    pub corrections: u32,
    /// Every value the ledger recorded for this measurement, oldest first: the recorded one,
    /// then each correction. The last entry is the current value; a correction keeps the value
    /// it corrects.
    #[serde(default)]
    pub history: Vec<MeasurementRevision>,
}

/// One value of a measurement as it was recorded or corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurementRevision {
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    pub source: String,
    pub published_on: NaiveDate,
    /// Why the value was corrected; `None` for the value first recorded.
    pub reason: Option<String>,
}

impl Measurement {
    /// The measurement's facts, or `None` before it was recorded.
    pub fn state(&self) -> Option<&MeasurementState> {
        self.state.as_ref()
    }
}

impl Aggregate for Measurement {
    const TYPE: &'static str = "Measurement";
    type Command = MeasurementCommand;
    type Event = MeasurementEvent;
    type Error = MeasurementError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            MeasurementCommand::Record(cmd) => {
                if self.state.is_some() {
                    return Err(MeasurementError::AlreadyRecorded);
                }
                let source = text::required("source", &cmd.source, SOURCE_MAX)?;
                let key = cmd.key;
                let programme = services.programme(&key.programme_id).await?;
                programme.indicator("indicator", &key.indicator)?;
                programme.area("area", &key.area)?;
                programme.within_period_year("period", key.period.year())?;
                MeasurementEvent::MeasurementRecorded {
                    programme_id: key.programme_id,
                    indicator: key.indicator,
                    area: key.area,
                    period: key.period,
                    value: cmd.value,
                    source,
                    published_on: cmd.published_on,
                    illustrative: cmd.illustrative,
                }
            }
            MeasurementCommand::Correct(cmd) => {
                let state = self.state.as_ref().ok_or(MeasurementError::NotFound)?;
                if cmd.value == state.value {
                    return Err(MeasurementError::Unchanged);
                }
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                let source = match &cmd.source {
                    Some(source) => text::required("source", source, SOURCE_MAX)?,
                    None => state.source.clone(),
                };
                if cmd.published_on < state.published_on {
                    return Err(MeasurementError::PublishedEarlier {
                        published_on: cmd.published_on,
                        current: state.published_on,
                    });
                }
                MeasurementEvent::MeasurementCorrected {
                    previous_value: state.value,
                    value: cmd.value,
                    reason,
                    source,
                    published_on: cmd.published_on,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            MeasurementEvent::MeasurementRecorded {
                programme_id,
                indicator,
                area,
                period,
                value,
                source,
                published_on,
                illustrative,
            } => {
                self.state = Some(MeasurementState {
                    key: MeasurementKey {
                        programme_id,
                        indicator,
                        area,
                        period,
                    },
                    value,
                    source: source.clone(),
                    published_on,
                    illustrative,
                    corrections: 0,
                    history: vec![MeasurementRevision {
                        value,
                        source,
                        published_on,
                        reason: None,
                    }],
                });
            }
            MeasurementEvent::MeasurementCorrected {
                value,
                reason,
                source,
                published_on,
                ..
            } => {
                if let Some(state) = self.state.as_mut() {
                    state.value = value;
                    state.source = source.clone();
                    state.published_on = published_on;
                    state.corrections += 1;
                    state.history.push(MeasurementRevision {
                        value,
                        source,
                        published_on,
                        reason: Some(reason),
                    });
                }
            }
        }
    }
}
