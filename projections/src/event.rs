use cqrs_es::Aggregate;
use domain::alliance::{Alliance, AllianceEvent};
use domain::budget::{Fund, FundEvent};
use domain::commitment::{Commitment, CommitmentEvent};
use domain::decision::{Decision, DecisionEvent};
use domain::intervention::{Intervention, InterventionEvent};
use domain::measurement::{Measurement, MeasurementEvent};
use domain::programme::{Programme, ProgrammeEvent};
use domain::resident_input::{ResidentInput, ResidentInputEvent};
use domain::target::{Target, TargetEvent};
use store::LoggedEvent;

/// An event of the log, decoded into the domain's own event type.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerEvent {
    Programme(ProgrammeEvent),
    Alliance(AllianceEvent),
    Decision(DecisionEvent),
    Fund(FundEvent),
    Commitment(CommitmentEvent),
    Target(TargetEvent),
    Measurement(MeasurementEvent),
    Intervention(InterventionEvent),
    ResidentInput(ResidentInputEvent),
}

/// A stored event this version of the ledger cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("event at position {position}: unknown aggregate type {aggregate_type:?} (written by a newer ledger?)")]
    UnknownAggregate {
        position: i64,
        aggregate_type: String,
    },
    #[error("event at position {position}: version {version:?} of {event_type} is unknown")]
    UnknownVersion {
        position: i64,
        event_type: String,
        version: String,
    },
    #[error("event at position {position} ({event_type}) does not decode: {reason}")]
    Payload {
        position: i64,
        event_type: String,
        reason: String,
    },
}

fn payload<E: serde::de::DeserializeOwned>(logged: &LoggedEvent) -> Result<E, DecodeError> {
    if logged.event_version != "1" {
        return Err(DecodeError::UnknownVersion {
            position: logged.position,
            event_type: logged.event_type.clone(),
            version: logged.event_version.clone(),
        });
    }
    E::deserialize(&logged.payload).map_err(|e| DecodeError::Payload {
        position: logged.position,
        event_type: logged.event_type.clone(),
        reason: e.to_string(),
    })
}

impl LedgerEvent {
    /// Decodes a logged event by its aggregate type and event version.
    pub fn decode(logged: &LoggedEvent) -> Result<Self, DecodeError> {
        let t = logged.aggregate_type.as_str();
        Ok(if t == Programme::TYPE {
            Self::Programme(payload(logged)?)
        } else if t == Alliance::TYPE {
            Self::Alliance(payload(logged)?)
        } else if t == Decision::TYPE {
            Self::Decision(payload(logged)?)
        } else if t == Fund::TYPE {
            Self::Fund(payload(logged)?)
        } else if t == Commitment::TYPE {
            Self::Commitment(payload(logged)?)
        } else if t == Target::TYPE {
            Self::Target(payload(logged)?)
        } else if t == Measurement::TYPE {
            Self::Measurement(payload(logged)?)
        } else if t == Intervention::TYPE {
            Self::Intervention(payload(logged)?)
        } else if t == ResidentInput::TYPE {
            Self::ResidentInput(payload(logged)?)
        } else {
            return Err(DecodeError::UnknownAggregate {
                position: logged.position,
                aggregate_type: logged.aggregate_type.clone(),
            });
        })
    }
}
