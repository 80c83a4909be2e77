use chrono::NaiveDate;

use super::CommitmentStatus;
use crate::access::Reporter;
use crate::ids::{CommitmentId, DecisionId, MemberId, ProgrammeId};
use crate::money::Cents;

/// Everything that can be asked of a commitment.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitmentCommand {
    Make(MakeCommitment),
    ReportProgress(ReportCommitmentProgress),
}

impl CommitmentCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Make(_) => "MakeCommitment",
            Self::ReportProgress(_) => "ReportCommitmentProgress",
        }
    }
}

/// Record what a partner promised the programme, by when and for how much, on an adopted
/// decision.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCommitment {
    pub commitment_id: CommitmentId,
    pub programme_id: ProgrammeId,
    /// The alliance member that promised it.
    pub partner: MemberId,
    pub description: String,
    /// The money promised, when the promise is about money.
    pub amount: Option<Cents>,
    pub due: NaiveDate,
    pub decision: DecisionId,
}

/// Report where a commitment stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportCommitmentProgress {
    /// Who reports: the programme office, or the partner that made the commitment.
    pub reporter: Reporter,
    pub status: CommitmentStatus,
    pub note: String,
    pub reported_on: NaiveDate,
}
