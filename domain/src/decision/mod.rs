//! A decision of an alliance: proposed, then adopted, rejected or withdrawn in a meeting.
//!
//! Rules:
//! - a decision is proposed once, with a title;
//! - it is adopted or rejected in a meeting, by the members present; only members present vote,
//!   each at most once;
//! - it is adopted when the votes carry it under the adoption rule, and rejected when they do not;
//! - adopted and rejected are final; a proposal can be withdrawn while it is still open.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::{
    AdoptDecision, DecisionCommand, MeetingOutcome, ProposeDecision, RejectDecision,
    WithdrawDecision,
};
pub use error::DecisionError;
pub use events::DecisionEvent;

use crate::ids::{DecisionId, MemberId, ProgrammeId};

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

/// The rule an alliance applies until its settings name another.
pub const DEFAULT_ADOPTION_RULE: AdoptionRule = AdoptionRule::Majority;

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
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            DecisionCommand::Propose(cmd) => {
                if self.state.is_some() {
                    return Err(DecisionError::AlreadyProposed);
                }
                cmd.validate()?;
                DecisionEvent::DecisionProposed {
                    decision_id: cmd.decision_id,
                    programme_id: cmd.programme_id,
                    title: cmd.title.trim().to_owned(),
                    description: cmd.description.trim().to_owned(),
                }
            }
            DecisionCommand::Adopt(AdoptDecision { outcome }) => {
                self.open()?;
                outcome.validate()?;
                if !DEFAULT_ADOPTION_RULE.carried(outcome.present.len(), &outcome.votes) {
                    return Err(DecisionError::NotCarried {
                        rule: DEFAULT_ADOPTION_RULE,
                    });
                }
                DecisionEvent::DecisionAdopted {
                    meeting_date: outcome.meeting_date,
                    present: outcome.present,
                    votes: outcome.votes,
                }
            }
            DecisionCommand::Reject(RejectDecision { outcome }) => {
                self.open()?;
                outcome.validate()?;
                if DEFAULT_ADOPTION_RULE.carried(outcome.present.len(), &outcome.votes) {
                    return Err(DecisionError::VotesCarryIt {
                        rule: DEFAULT_ADOPTION_RULE,
                    });
                }
                DecisionEvent::DecisionRejected {
                    meeting_date: outcome.meeting_date,
                    present: outcome.present,
                    votes: outcome.votes,
                }
            }
            DecisionCommand::Withdraw(WithdrawDecision { reason }) => {
                self.open()?;
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(DecisionError::ReasonRequired);
                }
                if reason.len() > TEXT_MAX {
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
                });
            }
            DecisionEvent::DecisionAdopted {
                meeting_date,
                present,
                votes,
            } => self.close(
                DecisionStatus::Adopted,
                MeetingOutcome {
                    meeting_date,
                    present,
                    votes,
                },
            ),
            DecisionEvent::DecisionRejected {
                meeting_date,
                present,
                votes,
            } => self.close(
                DecisionStatus::Rejected,
                MeetingOutcome {
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
    fn close(&mut self, status: DecisionStatus, meeting: MeetingOutcome) {
        if let Some(state) = self.state.as_mut() {
            state.status = status;
            state.meeting = Some(meeting);
        }
    }
}
