use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{DecisionError, Vote, TEXT_MAX, TITLE_MAX};
use crate::ids::{DecisionId, MemberId, ProgrammeId};

/// Everything that can be asked of a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionCommand {
    Propose(ProposeDecision),
    Adopt(AdoptDecision),
    Reject(RejectDecision),
    Withdraw(WithdrawDecision),
}

impl DecisionCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Propose(_) => "ProposeDecision",
            Self::Adopt(_) => "AdoptDecision",
            Self::Reject(_) => "RejectDecision",
            Self::Withdraw(_) => "WithdrawDecision",
        }
    }
}

/// Put a decision before the alliance.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposeDecision {
    pub decision_id: DecisionId,
    pub programme_id: ProgrammeId,
    pub title: String,
    pub description: String,
}

impl ProposeDecision {
    pub(super) fn validate(&self) -> Result<(), DecisionError> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(DecisionError::TitleRequired);
        }
        if title.chars().count() > TITLE_MAX {
            return Err(DecisionError::TooLong {
                field: "title",
                max: TITLE_MAX,
            });
        }
        if self.description.len() > TEXT_MAX {
            return Err(DecisionError::TooLong {
                field: "description",
                max: TEXT_MAX,
            });
        }
        Ok(())
    }
}

/// What a meeting decided about a proposal: when, who was there, and how each voted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingOutcome {
    pub meeting_date: NaiveDate,
    pub present: Vec<MemberId>,
    pub votes: Vec<Vote>,
}

impl MeetingOutcome {
    pub(super) fn validate(&self) -> Result<(), DecisionError> {
        if self.present.is_empty() {
            return Err(DecisionError::NobodyPresent);
        }
        let mut present = HashSet::new();
        for member in &self.present {
            if !present.insert(member) {
                return Err(DecisionError::PresentTwice {
                    member: member.clone(),
                });
            }
        }
        let mut voted = HashSet::new();
        for vote in &self.votes {
            if !present.contains(&vote.member) {
                return Err(DecisionError::VoterNotPresent {
                    member: vote.member.clone(),
                });
            }
            if !voted.insert(&vote.member) {
                return Err(DecisionError::VotedTwice {
                    member: vote.member.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Record that a meeting adopted the proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptDecision {
    pub outcome: MeetingOutcome,
}

/// Record that a meeting rejected the proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectDecision {
    pub outcome: MeetingOutcome,
}

/// Take a proposal off the table before a meeting decides on it.
#[derive(Debug, Clone, PartialEq)]
pub struct WithdrawDecision {
    pub reason: String,
}
