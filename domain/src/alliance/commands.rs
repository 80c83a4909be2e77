use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{AllianceError, Member, Sector};
use crate::decision::AdoptionRule;
use crate::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};
use crate::text;

pub(super) const NAME_MAX: usize = 300;
pub(super) const TEXT_MAX: usize = 20_000;

/// Everything that can be asked of an alliance.
#[derive(Debug, Clone, PartialEq)]
pub enum AllianceCommand {
    Form(FormAlliance),
    Admit(AdmitMember),
    Remove(RemoveMember),
    ChangeRepresentative(ChangeRepresentative),
    ChangeChair(ChangeChair),
    ChangeAdoptionRule(ChangeAdoptionRule),
    HoldMeeting(HoldMeeting),
}

impl AllianceCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Form(_) => "FormAlliance",
            Self::Admit(_) => "AdmitMember",
            Self::Remove(_) => "RemoveMember",
            Self::ChangeRepresentative(_) => "ChangeRepresentative",
            Self::ChangeChair(_) => "ChangeChair",
            Self::ChangeAdoptionRule(_) => "ChangeAdoptionRule",
            Self::HoldMeeting(_) => "HoldMeeting",
        }
    }
}

/// A member as it joins: who, for which sector, represented by whom, with what mandate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    pub member_id: MemberId,
    pub sector: Sector,
    pub organisation: String,
    pub representative: String,
    pub mandate: String,
}

impl NewMember {
    pub(super) fn validate(&self, _field: &'static str) -> Result<(), AllianceError> {
        text::required("organisation", &self.organisation, NAME_MAX)?;
        text::required("representative", &self.representative, NAME_MAX)?;
        text::optional("mandate", &self.mandate, TEXT_MAX)?;
        Ok(())
    }

    pub(super) fn trimmed(self) -> Self {
        Self {
            organisation: self.organisation.trim().to_owned(),
            representative: self.representative.trim().to_owned(),
            mandate: self.mandate.trim().to_owned(),
            ..self
        }
    }

    pub(super) fn into_member(self, joined_on: NaiveDate) -> Member {
        Member {
            id: self.member_id,
            sector: self.sector,
            organisation: self.organisation,
            representative: self.representative,
            mandate: self.mandate,
            joined_on,
            left_on: None,
        }
    }
}

/// Form the programme's alliance with its founding members, chaired by one of them.
#[derive(Debug, Clone, PartialEq)]
pub struct FormAlliance {
    pub programme_id: ProgrammeId,
    pub chair: MemberId,
    pub adoption_rule: AdoptionRule,
    pub formed_on: NaiveDate,
    pub founding_members: Vec<NewMember>,
}

impl FormAlliance {
    pub(super) fn validate(&self) -> Result<(), AllianceError> {
        if self.founding_members.is_empty() {
            return Err(AllianceError::NoFoundingMembers);
        }
        let mut ids = std::collections::BTreeSet::new();
        for member in &self.founding_members {
            member.validate("foundingMembers")?;
            if !ids.insert(&member.member_id) {
                return Err(AllianceError::AlreadyMember(member.member_id.clone()));
            }
        }
        if !ids.contains(&self.chair) {
            return Err(AllianceError::ChairNotAMember(self.chair.clone()));
        }
        Ok(())
    }
}

/// Admit a new member, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmitMember {
    pub member: NewMember,
    pub joined_on: NaiveDate,
    pub decision: DecisionId,
}

/// Record that a member left, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveMember {
    pub member_id: MemberId,
    pub left_on: NaiveDate,
    pub reason: String,
    pub decision: DecisionId,
}

/// Record a member's new representative.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRepresentative {
    pub member_id: MemberId,
    pub representative: String,
    pub changed_on: NaiveDate,
}

/// Make another member the chair, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeChair {
    pub member_id: MemberId,
    pub decision: DecisionId,
}

/// Change how meetings adopt decisions, on an adopted decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeAdoptionRule {
    pub rule: AdoptionRule,
    pub decision: DecisionId,
}

/// Record a meeting and who was present.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldMeeting {
    pub meeting_id: MeetingId,
    pub date: NaiveDate,
    pub title: String,
    pub present: Vec<MemberId>,
}
