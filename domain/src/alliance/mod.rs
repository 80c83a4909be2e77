//! The alliance of a programme: its chair, its members by sector with their representatives
//! and mandates, its meetings, and the rule by which its meetings adopt decisions.
//!
//! Rules:
//! - an alliance is formed once per programme (its aggregate id is the programme id), with
//!   founding members of which one is the chair;
//! - a member joins, leaves or is made chair only on an adopted decision of the programme;
//! - a representative changes without a decision: that is the member's own mandate;
//! - a meeting lists who was present, and only current members can be present;
//! - every date lies inside the programme period.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::*;
pub use error::AllianceError;
pub use events::AllianceEvent;

use crate::decision::AdoptionRule;
use crate::ids::{MeetingId, MemberId, ProgrammeId};
use crate::period::YearRange;
use crate::reference::LedgerServices;

/// The sectors an alliance draws its members from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sector {
    Gemeente,
    Woningcorporatie,
    PrimairOnderwijs,
    VoortgezetOnderwijs,
    Ondernemers,
    /// Sociaal wijkteam, buurtwerk and jongerenwerk.
    SociaalWijkteam,
    Politie,
    Rijk,
    Bewoners,
}

/// A member of the alliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub sector: Sector,
    pub organisation: String,
    pub representative: String,
    pub mandate: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
}

/// A meeting of the alliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub date: NaiveDate,
    pub title: String,
    pub present: Vec<MemberId>,
}

/// The state of an alliance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alliance {
    state: Option<AllianceState>,
}

/// The recorded facts of a formed alliance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllianceState {
    pub programme_id: ProgrammeId,
    /// The programme period, fixed when the programme was established.
    pub period: YearRange,
    pub chair: MemberId,
    pub adoption_rule: AdoptionRule,
    pub formed_on: NaiveDate,
    pub members: BTreeMap<MemberId, Member>,
    pub meetings: BTreeMap<MeetingId, Meeting>,
}

impl Alliance {
    pub fn state(&self) -> Option<&AllianceState> {
        self.state.as_ref()
    }

    fn formed(&self) -> Result<&AllianceState, AllianceError> {
        self.state.as_ref().ok_or(AllianceError::NotFormed)
    }
}

impl AllianceState {
    fn within_period(&self, field: &'static str, date: NaiveDate) -> Result<(), AllianceError> {
        if self.period.contains_date(date) {
            Ok(())
        } else {
            Err(AllianceError::OutsidePeriod {
                field,
                date,
                period: self.period,
            })
        }
    }
}

impl Aggregate for Alliance {
    const TYPE: &'static str = "Alliance";
    type Command = AllianceCommand;
    type Event = AllianceEvent;
    type Error = AllianceError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            AllianceCommand::Form(cmd) => {
                if self.state.is_some() {
                    return Err(AllianceError::AlreadyFormed);
                }
                let programme = services.programme(&cmd.programme_id).await?;
                programme.within_period("formedOn", cmd.formed_on)?;
                cmd.validate()?;
                AllianceEvent::AllianceFormed {
                    programme_id: cmd.programme_id,
                    period: programme.period,
                    chair: cmd.chair,
                    adoption_rule: cmd.adoption_rule,
                    formed_on: cmd.formed_on,
                    members: cmd
                        .founding_members
                        .into_iter()
                        .map(NewMember::trimmed)
                        .collect(),
                }
            }
            AllianceCommand::Admit(cmd) => {
                let state = self.formed()?;
                state.within_period("joinedOn", cmd.joined_on)?;
                cmd.member.validate("member")?;
                if state
                    .members
                    .get(&cmd.member.member_id)
                    .is_some_and(|m| m.left_on.is_none())
                {
                    return Err(AllianceError::AlreadyMember(cmd.member.member_id));
                }
                if cmd.joined_on < state.formed_on {
                    return Err(AllianceError::JoinedBeforeFormed {
                        formed_on: state.formed_on,
                    });
                }
                if let Some(left_on) = state
                    .members
                    .get(&cmd.member.member_id)
                    .and_then(|m| m.left_on)
                {
                    if cmd.joined_on <= left_on {
                        return Err(AllianceError::RejoinedBeforeLeaving { left_on });
                    }
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                AllianceEvent::MemberJoined {
                    member: cmd.member.trimmed(),
                    joined_on: cmd.joined_on,
                    decision: cmd.decision,
                }
            }
            AllianceCommand::Remove(cmd) => {
                let state = self.formed()?;
                state.within_period("leftOn", cmd.left_on)?;
                let member = state.member("memberId", &cmd.member_id)?;
                if member.id == state.chair {
                    return Err(AllianceError::ChairCannotLeave);
                }
                if cmd.left_on < member.joined_on {
                    return Err(AllianceError::LeftBeforeJoining);
                }
                let reason = crate::text::required("reason", &cmd.reason, commands::TEXT_MAX)?;
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                AllianceEvent::MemberLeft {
                    member_id: cmd.member_id,
                    left_on: cmd.left_on,
                    reason,
                    decision: cmd.decision,
                }
            }
            AllianceCommand::ChangeRepresentative(cmd) => {
                let state = self.formed()?;
                state.within_period("changedOn", cmd.changed_on)?;
                let member = state.member("memberId", &cmd.member_id)?;
                let representative = crate::text::required(
                    "representative",
                    &cmd.representative,
                    commands::NAME_MAX,
                )?;
                if representative == member.representative {
                    return Err(AllianceError::SameRepresentative);
                }
                AllianceEvent::RepresentativeChanged {
                    member_id: cmd.member_id,
                    representative,
                    changed_on: cmd.changed_on,
                }
            }
            AllianceCommand::ChangeChair(cmd) => {
                let state = self.formed()?;
                state.member("memberId", &cmd.member_id)?;
                if cmd.member_id == state.chair {
                    return Err(AllianceError::AlreadyChair);
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                AllianceEvent::ChairChanged {
                    member_id: cmd.member_id,
                    decision: cmd.decision,
                }
            }
            AllianceCommand::ChangeAdoptionRule(cmd) => {
                let state = self.formed()?;
                if cmd.rule == state.adoption_rule {
                    return Err(AllianceError::SameRule);
                }
                services
                    .adopted_decision("decisionId", &state.programme_id, cmd.decision)
                    .await?;
                AllianceEvent::AdoptionRuleChanged {
                    rule: cmd.rule,
                    decision: cmd.decision,
                }
            }
            AllianceCommand::HoldMeeting(cmd) => {
                let state = self.formed()?;
                state.within_period("date", cmd.date)?;
                if state.meetings.contains_key(&cmd.meeting_id) {
                    return Err(AllianceError::MeetingExists(cmd.meeting_id));
                }
                let title = crate::text::required("title", &cmd.title, commands::NAME_MAX)?;
                if cmd.present.is_empty() {
                    return Err(AllianceError::NobodyPresent);
                }
                let mut seen = std::collections::BTreeSet::new();
                for member in &cmd.present {
                    let m = state.member("present", member)?;
                    if m.joined_on > cmd.date {
                        return Err(AllianceError::NotYetMember {
                            member: member.clone(),
                        });
                    }
                    if !seen.insert(member) {
                        return Err(AllianceError::PresentTwice(member.clone()));
                    }
                }
                AllianceEvent::MeetingHeld {
                    meeting_id: cmd.meeting_id,
                    date: cmd.date,
                    title,
                    present: cmd.present,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let AllianceEvent::AllianceFormed {
            programme_id,
            period,
            chair,
            adoption_rule,
            formed_on,
            members,
        } = event
        {
            self.state = Some(AllianceState {
                programme_id,
                period,
                chair,
                adoption_rule,
                formed_on,
                members: members
                    .into_iter()
                    .map(|m| (m.member_id.clone(), m.into_member(formed_on)))
                    .collect(),
                meetings: BTreeMap::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            AllianceEvent::AllianceFormed { .. } => {}
            AllianceEvent::MemberJoined {
                member, joined_on, ..
            } => {
                state
                    .members
                    .insert(member.member_id.clone(), member.into_member(joined_on));
            }
            AllianceEvent::MemberLeft {
                member_id, left_on, ..
            } => {
                if let Some(m) = state.members.get_mut(&member_id) {
                    m.left_on = Some(left_on);
                }
            }
            AllianceEvent::RepresentativeChanged {
                member_id,
                representative,
                ..
            } => {
                if let Some(m) = state.members.get_mut(&member_id) {
                    m.representative = representative;
                }
            }
            AllianceEvent::ChairChanged { member_id, .. } => state.chair = member_id,
            AllianceEvent::AdoptionRuleChanged { rule, .. } => state.adoption_rule = rule,
            AllianceEvent::MeetingHeld {
                meeting_id,
                date,
                title,
                present,
            } => {
                state.meetings.insert(
                    meeting_id,
                    Meeting {
                        id: meeting_id,
                        date,
                        title,
                        present,
                    },
                );
            }
        }
    }
}
