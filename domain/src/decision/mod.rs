//! A decision of an alliance: proposed, then adopted, rejected or withdrawn in a meeting.
//!
//! Rules:
//! - a decision is proposed once, with a title;
//! - it belongs to an established programme;
//! - while open it can be amended (with a reason) or withdrawn;
//! - it is adopted or rejected in a recorded meeting of the programme's alliance; only members
//!   present at that meeting vote, each at most once;
//! - it is adopted when the votes carry it under the alliance's adoption rule, and rejected when
//!   they do not;
//! - adopted and rejected are final.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{
    AdoptDecision, AmendDecision, DecisionCommand, MeetingOutcome, ProposeDecision, RejectDecision,
    WithdrawDecision,
};
pub use error::DecisionError;
pub use events::DecisionEvent;

use crate::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};
use crate::reference::LedgerServices;

/// Longest title a decision may have.
pub const TITLE_MAX: usize = 300;
/// Longest description or reason a decision may carry.
pub const TEXT_MAX: usize = 20_000;

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionStatus {
    Proposed,
    Adopted,
    Rejected,
    Withdrawn,
}

impl DecisionStatus {
    /// Adopted and rejected decisions can never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Adopted | Self::Rejected)
    }
}

/// How a member voted, or that it consented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoteChoice {
    For,
    Against,
    Abstain,
    /// Consent without a formal vote, as in a consensus meeting; counts in favour.
    Consent,
}

impl VoteChoice {
    fn in_favour(self) -> bool {
        matches!(self, Self::For | Self::Consent)
    }
}

/// One member's vote on a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub member: MemberId,
    pub choice: VoteChoice,
}

/// When the votes of a meeting carry a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdoptionRule {
    /// More than half of the members present vote in favour.
    Majority,
    /// Every member present votes in favour or consents.
    Consensus,
}

impl AdoptionRule {
    /// Whether these votes, cast by some of `present` members, carry the decision.
    pub fn carried(self, present: usize, votes: &[Vote]) -> bool {
        let in_favour = votes.iter().filter(|v| v.choice.in_favour()).count();
        match self {
            Self::Majority => in_favour * 2 > present,
            Self::Consensus => present > 0 && in_favour == present,
        }
    }
}

/// The state of one decision, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    state: Option<DecisionState>,
}

/// The recorded facts of a decision that exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionState {
    pub id: DecisionId,
    pub programme_id: ProgrammeId,
    pub title: String,
    pub description: String,
    pub status: DecisionStatus,
    /// The meeting that adopted or rejected it.
    pub meeting: Option<MeetingOutcome>,
    /// Why it was withdrawn, when it was.
    pub withdrawal_reason: Option<String>,
    /// How often the proposal was amended.
    pub amendments: u32,
}

/// The meeting a decision is decided in, with the rule that applies.
struct Outcome {
    meeting: MeetingOutcome,
    rule: AdoptionRule,
}

impl Decision {
    /// The decision's facts, or `None` before it was proposed.
    pub fn state(&self) -> Option<&DecisionState> {
        self.state.as_ref()
    }

    fn open(&self) -> Result<&DecisionState, DecisionError> {
        let state = self.state.as_ref().ok_or(DecisionError::NotFound)?;
        match state.status {
            DecisionStatus::Proposed => Ok(state),
            DecisionStatus::Withdrawn => Err(DecisionError::Withdrawn),
            status => Err(DecisionError::Final { status }),
        }
    }
}

impl Aggregate for Decision {
    const TYPE: &'static str = "Decision";
    type Command = DecisionCommand;
    type Event = DecisionEvent;
    type Error = DecisionError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            DecisionCommand::Propose(cmd) => {
                if self.state.is_some() {
                    return Err(DecisionError::AlreadyProposed);
                }
                cmd.validate()?;
                services.programme(&cmd.programme_id).await?;
                DecisionEvent::DecisionProposed {
                    decision_id: cmd.decision_id,
                    programme_id: cmd.programme_id,
                    title: cmd.title.trim().to_owned(),
                    description: cmd.description.trim().to_owned(),
                }
            }
            DecisionCommand::Amend(cmd) => {
                self.open()?;
                let (title, description, reason) = cmd.validate()?;
                DecisionEvent::DecisionAmended {
                    title,
                    description,
                    reason,
                }
            }
            DecisionCommand::Adopt(AdoptDecision { meeting_id, votes }) => {
                let state = self.open()?;
                let outcome = self
                    .outcome_of(services, &state.programme_id, meeting_id, votes)
                    .await?;
                if !outcome
                    .rule
                    .carried(outcome.meeting.present.len(), &outcome.meeting.votes)
                {
                    return Err(DecisionError::NotCarried { rule: outcome.rule });
                }
                DecisionEvent::DecisionAdopted {
                    meeting_date: outcome.meeting.meeting_date,
                    present: outcome.meeting.present,
                    votes: outcome.meeting.votes,
                    meeting_id: Some(meeting_id),
                }
            }
            DecisionCommand::Reject(RejectDecision { meeting_id, votes }) => {
                let state = self.open()?;
                let outcome = self
                    .outcome_of(services, &state.programme_id, meeting_id, votes)
                    .await?;
                if outcome
                    .rule
                    .carried(outcome.meeting.present.len(), &outcome.meeting.votes)
                {
                    return Err(DecisionError::VotesCarryIt { rule: outcome.rule });
                }
                DecisionEvent::DecisionRejected {
                    meeting_date: outcome.meeting.meeting_date,
                    present: outcome.meeting.present,
                    votes: outcome.meeting.votes,
                    meeting_id: Some(meeting_id),
                }
            }
            DecisionCommand::Withdraw(WithdrawDecision { reason }) => {
                self.open()?;
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(DecisionError::ReasonRequired);
                }
                if reason.chars().count() > TEXT_MAX {
                    return Err(DecisionError::TooLong {
                        field: "reason",
                        max: TEXT_MAX,
                    });
                }
                DecisionEvent::DecisionWithdrawn {
                    reason: reason.to_owned(),
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            DecisionEvent::DecisionProposed {
                decision_id,
                programme_id,
                title,
                description,
            } => {
                self.state = Some(DecisionState {
                    id: decision_id,
                    programme_id,
                    title,
                    description,
                    status: DecisionStatus::Proposed,
                    meeting: None,
                    withdrawal_reason: None,
                    amendments: 0,
                });
            }
            DecisionEvent::DecisionAmended {
                title, description, ..
            } => {
                if let Some(state) = self.state.as_mut() {
                    if let Some(title) = title {
                        state.title = title;
                    }
                    if let Some(description) = description {
                        state.description = description;
                    }
                    state.amendments += 1;
                }
            }
            DecisionEvent::DecisionAdopted {
                meeting_date,
                present,
                votes,
                meeting_id,
            } => self.close(
                DecisionStatus::Adopted,
                MeetingOutcome {
                    meeting_id,
                    meeting_date,
                    present,
                    votes,
                },
            ),
            DecisionEvent::DecisionRejected {
                meeting_date,
                present,
                votes,
                meeting_id,
            } => self.close(
                DecisionStatus::Rejected,
                MeetingOutcome {
                    meeting_id,
                    meeting_date,
                    present,
                    votes,
                },
            ),
            DecisionEvent::DecisionWithdrawn { reason } => {
                if let Some(state) = self.state.as_mut() {
                    state.status = DecisionStatus::Withdrawn;
                    state.withdrawal_reason = Some(reason);
                }
            }
        }
    }
}

impl Decision {
    /// Checks the meeting and the votes against the programme's alliance.
    async fn outcome_of(
        &self,
        services: &LedgerServices,
        programme: &ProgrammeId,
        meeting_id: MeetingId,
        votes: Vec<Vote>,
    ) -> Result<Outcome, DecisionError> {
        let alliance = services.alliance(programme).await?;
        let meeting = alliance.meeting("meetingId", meeting_id)?;
        let outcome = MeetingOutcome {
            meeting_id: Some(meeting_id),
            meeting_date: meeting.date,
            present: meeting.present.clone(),
            votes,
        };
        outcome.validate()?;
        Ok(Outcome {
            meeting: outcome,
            rule: alliance.adoption_rule,
        })
    }

    fn close(&mut self, status: DecisionStatus, meeting: MeetingOutcome) {
        if let Some(state) = self.state.as_mut() {
            state.status = status;
            state.meeting = Some(meeting);
        }
    }
}
