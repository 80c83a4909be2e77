//! Alliances: members by sector, their representatives, meetings, and the adoption rule.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::alliance::{
    AdmitMember, Alliance, AllianceCommand, AllianceState, ChangeAdoptionRule, ChangeChair,
    ChangeRepresentative, FormAlliance, HoldMeeting, Meeting, Member, NewMember, RemoveMember,
    Sector,
};
use domain::decision::AdoptionRule;
use domain::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};

use super::input::{self, slug, slugs};
use super::programme::mirror_enum;
use super::scalars::Date;
use super::{load, record};
use crate::auth::{require_recorder, require_signed_in};
use crate::ApiError;

mirror_enum!(SectorValue as "Sector" <=> Sector {
    Gemeente, Woningcorporatie, PrimairOnderwijs, VoortgezetOnderwijs, Ondernemers,
    SociaalWijkteam, Politie, Rijk, Bewoners
});
mirror_enum!(AdoptionRuleValue as "AdoptionRule" <=> AdoptionRule { Majority, Consensus });

/// A member of an alliance.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Member")]
pub struct MemberObject {
    id: String,
    sector: SectorValue,
    organisation: String,
    representative: String,
    mandate: String,
    joined_on: Date,
    left_on: Option<Date>,
}

impl From<&Member> for MemberObject {
    fn from(m: &Member) -> Self {
        Self {
            id: m.id.to_string(),
            sector: m.sector.into(),
            organisation: m.organisation.clone(),
            representative: m.representative.clone(),
            mandate: m.mandate.clone(),
            joined_on: Date(m.joined_on),
            left_on: m.left_on.map(Date),
        }
    }
}

/// A recorded meeting and who was present.
#[derive(SimpleObject, Debug)]
#[graphql(name = "AllianceMeeting")]
pub struct MeetingObject {
    id: ID,
    date: Date,
    title: String,
    present: Vec<String>,
}

impl From<&Meeting> for MeetingObject {
    fn from(m: &Meeting) -> Self {
        Self {
            id: ID(m.id.to_string()),
            date: Date(m.date),
            title: m.title.clone(),
            present: m.present.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The alliance of a programme.
#[derive(Debug)]
pub struct AllianceObject(pub(crate) AllianceState);

#[Object(name = "Alliance")]
impl AllianceObject {
    async fn programme_id(&self) -> String {
        self.0.programme_id.to_string()
    }
    /// The member that chairs the alliance (the mayor's municipality).
    async fn chair(&self) -> String {
        self.0.chair.to_string()
    }
    async fn adoption_rule(&self) -> AdoptionRuleValue {
        self.0.adoption_rule.into()
    }
    async fn formed_on(&self) -> Date {
        Date(self.0.formed_on)
    }
    /// Members; those who left only when `includeFormer` is true.
    async fn members(&self, #[graphql(default)] include_former: bool) -> Vec<MemberObject> {
        self.0
            .members
            .values()
            .filter(|m| include_former || m.left_on.is_none())
            .map(Into::into)
            .collect()
    }
    /// Meetings in date order.
    async fn meetings(&self) -> Vec<MeetingObject> {
        let mut meetings: Vec<&Meeting> = self.0.meetings.values().collect();
        meetings.sort_by_key(|m| (m.date, m.id));
        meetings.into_iter().map(Into::into).collect()
    }
}

#[derive(Default)]
pub struct AllianceQuery;

#[Object]
impl AllianceQuery {
    /// The alliance of a programme.
    async fn alliance(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<AllianceObject>> {
        require_signed_in(ctx)?;
        let id = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let alliance: Alliance = load(ctx, id.as_str(), as_of).await?;
        Ok(alliance.state().cloned().map(AllianceObject))
    }
}

#[derive(InputObject)]
pub struct NewMemberInput {
    member_id: String,
    sector: SectorValue,
    organisation: String,
    representative: String,
    #[graphql(default)]
    mandate: String,
}

impl NewMemberInput {
    fn into_domain(self) -> Result<NewMember, ApiError> {
        Ok(NewMember {
            member_id: slug("memberId", &self.member_id, MemberId::parse)?,
            sector: self.sector.into(),
            organisation: self.organisation,
            representative: self.representative,
            mandate: self.mandate,
        })
    }
}

#[derive(InputObject)]
pub struct FormAllianceInput {
    programme_id: String,
    chair: String,
    adoption_rule: AdoptionRuleValue,
    formed_on: Date,
    founding_members: Vec<NewMemberInput>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AdmitMemberInput {
    programme_id: String,
    member: NewMemberInput,
    joined_on: Date,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct RemoveMemberInput {
    programme_id: String,
    member_id: String,
    left_on: Date,
    reason: String,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ChangeRepresentativeInput {
    programme_id: String,
    member_id: String,
    representative: String,
    changed_on: Date,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ChangeChairInput {
    programme_id: String,
    member_id: String,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ChangeAdoptionRuleInput {
    programme_id: String,
    rule: AdoptionRuleValue,
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct HoldMeetingInput {
    programme_id: String,
    /// Choose the meeting's id (a UUID); the ledger makes one when left out.
    meeting_id: Option<ID>,
    date: Date,
    title: String,
    present: Vec<String>,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: store::CommandContext,
    programme_id: &str,
    command: AllianceCommand,
) -> Result<AllianceObject> {
    let id = slug("programmeId", programme_id, ProgrammeId::parse)?;
    let name = command.name();
    let alliance: Alliance = record(ctx, &context, id.as_str(), command, name).await?;
    alliance
        .state()
        .cloned()
        .map(AllianceObject)
        .ok_or_else(|| ApiError::Internal.into())
}

fn decision(id: &ID) -> Result<DecisionId, ApiError> {
    input::uuid("decisionId", id, DecisionId::parse)
}

fn member_id(value: &str) -> Result<MemberId, ApiError> {
    slug("memberId", value, MemberId::parse)
}

#[derive(Default)]
pub struct AllianceMutation;

#[Object]
impl AllianceMutation {
    /// Form a programme's alliance with its founding members.
    async fn form_alliance(
        &self,
        ctx: &Context<'_>,
        input: FormAllianceInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::Form(FormAlliance {
            programme_id: slug("programmeId", &input.programme_id, ProgrammeId::parse)?,
            chair: slug("chair", &input.chair, MemberId::parse)?,
            adoption_rule: input.adoption_rule.into(),
            formed_on: input.formed_on.0,
            founding_members: input
                .founding_members
                .into_iter()
                .map(NewMemberInput::into_domain)
                .collect::<Result<_, _>>()?,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Admit a member, on an adopted decision.
    async fn admit_member(
        &self,
        ctx: &Context<'_>,
        input: AdmitMemberInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::Admit(AdmitMember {
            member: input.member.into_domain()?,
            joined_on: input.joined_on.0,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Record that a member left, on an adopted decision.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::Remove(RemoveMember {
            member_id: member_id(&input.member_id)?,
            left_on: input.left_on.0,
            reason: input.reason,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Record a member's new representative.
    async fn change_representative(
        &self,
        ctx: &Context<'_>,
        input: ChangeRepresentativeInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::ChangeRepresentative(ChangeRepresentative {
            member_id: member_id(&input.member_id)?,
            representative: input.representative,
            changed_on: input.changed_on.0,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Make another member the chair, on an adopted decision.
    async fn change_chair(
        &self,
        ctx: &Context<'_>,
        input: ChangeChairInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::ChangeChair(ChangeChair {
            member_id: member_id(&input.member_id)?,
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Change how meetings adopt decisions, on an adopted decision.
    async fn change_adoption_rule(
        &self,
        ctx: &Context<'_>,
        input: ChangeAdoptionRuleInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::ChangeAdoptionRule(ChangeAdoptionRule {
            rule: input.rule.into(),
            decision: decision(&input.decision_id)?,
        });
        run(ctx, context, &input.programme_id, command).await
    }

    /// Record a meeting of the alliance and who was present.
    async fn hold_meeting(
        &self,
        ctx: &Context<'_>,
        input: HoldMeetingInput,
    ) -> Result<AllianceObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let command = AllianceCommand::HoldMeeting(HoldMeeting {
            meeting_id: input::new_or_given(
                "meetingId",
                input.meeting_id.as_ref(),
                MeetingId::parse,
            )?,
            date: input.date.0,
            title: input.title,
            present: slugs("present", &input.present, MemberId::parse)?,
        });
        run(ctx, context, &input.programme_id, command).await
    }
}
