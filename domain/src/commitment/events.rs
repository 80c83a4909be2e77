use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::CommitmentStatus;
use crate::alliance::Sector;
use crate::ids::{CommitmentId, DecisionId, MemberId, ProgrammeId};
use crate::money::Cents;
use crate::period::YearRange;

/// What happened to a commitment. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitmentEvent {
    CommitmentMade {
        commitment_id: CommitmentId,
        programme_id: ProgrammeId,
        partner: MemberId,
        /// The partner's organisation and sector when the commitment was made, so that "what
        /// has the Rijk committed" needs no other aggregate.
        partner_organisation: String,
        partner_sector: Sector,
        description: String,
        amount: Option<Cents>,
        due: NaiveDate,
        decision: DecisionId,
        /// The programme period; progress is reported inside it.
        programme_period: YearRange,
    },
    CommitmentProgressReported {
        status: CommitmentStatus,
        note: String,
        reported_on: NaiveDate,
    },
}

impl DomainEvent for CommitmentEvent {
    fn event_type(&self) -> String {
        match self {
            Self::CommitmentMade { .. } => "CommitmentMade",
            Self::CommitmentProgressReported { .. } => "CommitmentProgressReported",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
