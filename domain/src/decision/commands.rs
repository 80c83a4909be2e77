use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{DecisionError, Vote, TEXT_MAX, TITLE_MAX};
use crate::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};

/// Everything that can be asked of a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionCommand {
    Propose(ProposeDecision),
    Amend(AmendDecision),
    Adopt(AdoptDecision),
    Reject(RejectDecision),
    Withdraw(WithdrawDecision),
}

impl DecisionCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Propose(_) => "ProposeDecision",
            Self::Amend(_) => "AmendDecision",
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
        if self.description.chars().count() > TEXT_MAX {
            return Err(DecisionError::TooLong {
                field: "description",
                max: TEXT_MAX,
            });
        }
        Ok(())
    }
}

/// Change an open proposal's title or description, with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct AmendDecision {
    pub title: Option<String>,
    pub description: Option<String>,
    pub reason: String,
}

impl AmendDecision {
    /// The trimmed title, description and reason, or why they are refused.
    pub(super) fn validate(
        &self,
    ) -> Result<(Option<String>, Option<String>, String), DecisionError> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(DecisionError::ReasonRequired);
        }
        if reason.chars().count() > TEXT_MAX {
            return Err(DecisionError::TooLong {
                field: "reason",
                max: TEXT_MAX,
            });
        }
        if self.title.is_none() && self.description.is_none() {
            return Err(DecisionError::NothingToAmend);
        }
        let title = match &self.title {
            Some(t) if t.trim().is_empty() => return Err(DecisionError::TitleRequired),
            Some(t) if t.trim().chars().count() > TITLE_MAX => {
                return Err(DecisionError::TooLong {
                    field: "title",
                    max: TITLE_MAX,
                })
            }
            t => t.as_ref().map(|t| t.trim().to_owned()),
        };
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > TEXT_MAX)
        {
            return Err(DecisionError::TooLong {
                field: "description",
                max: TEXT_MAX,
            });
        }
        let description = self.description.as_ref().map(|d| d.trim().to_owned());
        Ok((title, description, reason.to_owned()))
    }
}

/// What a meeting decided about a proposal: which meeting, when, who was there, and how each
/// voted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingOutcome {
    /// The recorded meeting (absent only in events recorded before meetings were recorded).
    pub meeting_id: Option<MeetingId>,
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

/// Record that a recorded meeting adopted the proposal, with each member's vote.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptDecision {
    pub meeting_id: MeetingId,
    pub votes: Vec<Vote>,
}

/// Record that a recorded meeting rejected the proposal, with each member's vote.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectDecision {
    pub meeting_id: MeetingId,
    pub votes: Vec<Vote>,
}

/// Take a proposal off the table before a meeting decides on it.
#[derive(Debug, Clone, PartialEq)]
pub struct WithdrawDecision {
    pub reason: String,
}
