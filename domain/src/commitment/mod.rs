//! A commitment: what a partner of the alliance (the Rijk above all) promised the programme,
//! by when, for how much, resting on which decision; and how its delivery progresses.
//!
//! Rules:
//! - a commitment is made once, by a current member of the programme's alliance, on an
//!   adopted decision of the programme;
//! - its description is required; an amount, when given, is positive;
//! - its due date and every progress report lie inside the programme period;
//! - it starts on track; progress reports move it between on track, at risk, late, delivered
//!   and withdrawn;
//! - delivered and withdrawn are final (`commitment.final`);
//! - a partner reports progress only on its own organisation's commitments
//!   (`commitment.own_organisation`); the programme office reports on any.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{CommitmentCommand, MakeCommitment, ReportCommitmentProgress};
pub use error::CommitmentError;
pub use events::CommitmentEvent;

use crate::alliance::Sector;
use crate::ids::{CommitmentId, DecisionId, MemberId, ProgrammeId};
use crate::money::Cents;
use crate::period::YearRange;
use crate::reference::{LedgerServices, ReferenceError};
use crate::text;

/// Longest description or note.
pub const TEXT_MAX: usize = 20_000;

/// Where a commitment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CommitmentStatus {
    OnTrack,
    AtRisk,
    Late,
    Delivered,
    Withdrawn,
}

impl CommitmentStatus {
    /// Delivered and withdrawn commitments never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Withdrawn)
    }
}

/// One progress report on a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentReport {
    pub status: CommitmentStatus,
    pub note: String,
    pub reported_on: NaiveDate,
}

/// The state of one commitment, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Commitment {
    state: Option<CommitmentState>,
}

/// The recorded facts of a commitment that was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitmentState {
    pub id: CommitmentId,
    pub programme_id: ProgrammeId,
    /// The member that promised it.
    pub partner: MemberId,
    /// The partner's organisation when the commitment was made.
    pub partner_organisation: String,
    pub partner_sector: Sector,
    pub description: String,
    pub amount: Option<Cents>,
    pub due: NaiveDate,
    pub decision: DecisionId,
    /// `OnTrack` until the first report, then the last reported status.
    pub status: CommitmentStatus,
    pub programme_period: YearRange,
    /// Every progress report, in the order recorded.
    pub reports: Vec<CommitmentReport>,
}

impl Commitment {
    /// The commitment's facts, or `None` before it was made.
    pub fn state(&self) -> Option<&CommitmentState> {
        self.state.as_ref()
    }

    /// The member that made the commitment.
    pub fn partner(&self) -> Option<&MemberId> {
        self.state.as_ref().map(|s| &s.partner)
    }

    /// The organisation of the member that made the commitment.
    pub fn partner_organisation(&self) -> Option<&str> {
        self.state.as_ref().map(|s| s.partner_organisation.as_str())
    }

    fn made(&self) -> Result<&CommitmentState, CommitmentError> {
        self.state.as_ref().ok_or(CommitmentError::NotFound)
    }
}

impl CommitmentState {
    fn within_period(&self, field: &'static str, date: NaiveDate) -> Result<(), ReferenceError> {
        if self.programme_period.contains_date(date) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: date.to_string(),
                period: self.programme_period,
            })
        }
    }
}

impl Aggregate for Commitment {
    const TYPE: &'static str = "Commitment";
    type Command = CommitmentCommand;
    type Event = CommitmentEvent;
    type Error = CommitmentError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            CommitmentCommand::Make(cmd) => {
                if self.state.is_some() {
                    return Err(CommitmentError::AlreadyMade);
                }
                let description = text::required("description", &cmd.description, TEXT_MAX)?;
                if cmd.amount.is_some_and(|a| !a.is_positive()) {
                    return Err(CommitmentError::NotPositive);
                }
                let programme = services.programme(&cmd.programme_id).await?;
                programme.within_period("due", cmd.due)?;
                let alliance = services.alliance(&cmd.programme_id).await?;
                let partner = alliance.member("partner", &cmd.partner)?;
                services
                    .adopted_decision("decisionId", &cmd.programme_id, cmd.decision)
                    .await?;
                CommitmentEvent::CommitmentMade {
                    commitment_id: cmd.commitment_id,
                    programme_id: cmd.programme_id,
                    partner: cmd.partner,
                    partner_organisation: partner.organisation.clone(),
                    partner_sector: partner.sector,
                    description,
                    amount: cmd.amount,
                    due: cmd.due,
                    decision: cmd.decision,
                    programme_period: programme.period,
                }
            }
            CommitmentCommand::ReportProgress(cmd) => {
                let state = self.made()?;
                if !cmd.reporter.may_report_for(&state.partner_organisation) {
                    return Err(CommitmentError::NotOwnCommitment {
                        organisation: state.partner_organisation.clone(),
                    });
                }
                if state.status.is_final() {
                    return Err(CommitmentError::Final {
                        status: state.status,
                    });
                }
                let note = text::optional("note", &cmd.note, TEXT_MAX)?;
                state.within_period("reportedOn", cmd.reported_on)?;
                CommitmentEvent::CommitmentProgressReported {
                    status: cmd.status,
                    note,
                    reported_on: cmd.reported_on,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CommitmentEvent::CommitmentMade {
                commitment_id,
                programme_id,
                partner,
                partner_organisation,
                partner_sector,
                description,
                amount,
                due,
                decision,
                programme_period,
            } => {
                self.state = Some(CommitmentState {
                    id: commitment_id,
                    programme_id,
                    partner,
                    partner_organisation,
                    partner_sector,
                    description,
                    amount,
                    due,
                    decision,
                    status: CommitmentStatus::OnTrack,
                    programme_period,
                    reports: Vec::new(),
                });
            }
            CommitmentEvent::CommitmentProgressReported {
                status,
                note,
                reported_on,
            } => {
                if let Some(state) = self.state.as_mut() {
                    state.status = status;
                    state.reports.push(CommitmentReport {
                        status,
                        note,
                        reported_on,
                    });
                }
            }
        }
    }
}
