//! Decisions: propose, then adopt, reject or withdraw.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use domain::decision::{
    AdoptDecision, Decision, DecisionCommand, DecisionStatus, MeetingOutcome, ProposeDecision,
    RejectDecision, Vote, VoteChoice, WithdrawDecision,
};
use domain::ids::{DecisionId, MemberId, ProgrammeId};
use store::CommandContext;
use uuid::Uuid;

use super::scalars::Date;
use super::state;
use crate::auth::{require_reader, require_recorder};
use crate::ApiError;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "DecisionStatus")]
pub enum DecisionStatusValue {
    Proposed,
    Adopted,
    Rejected,
    Withdrawn,
}

impl From<DecisionStatus> for DecisionStatusValue {
    fn from(s: DecisionStatus) -> Self {
        match s {
            DecisionStatus::Proposed => Self::Proposed,
            DecisionStatus::Adopted => Self::Adopted,
            DecisionStatus::Rejected => Self::Rejected,
            DecisionStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "VoteChoice")]
pub enum VoteChoiceValue {
    For,
    Against,
    Abstain,
    /// Consent without a formal vote; counts in favour.
    Consent,
}

impl From<VoteChoiceValue> for VoteChoice {
    fn from(v: VoteChoiceValue) -> Self {
        match v {
            VoteChoiceValue::For => Self::For,
            VoteChoiceValue::Against => Self::Against,
            VoteChoiceValue::Abstain => Self::Abstain,
            VoteChoiceValue::Consent => Self::Consent,
        }
    }
}

impl From<VoteChoice> for VoteChoiceValue {
    fn from(v: VoteChoice) -> Self {
        match v {
            VoteChoice::For => Self::For,
            VoteChoice::Against => Self::Against,
            VoteChoice::Abstain => Self::Abstain,
            VoteChoice::Consent => Self::Consent,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Vote")]
struct VoteObject {
    member: String,
    choice: VoteChoiceValue,
}

#[derive(SimpleObject)]
#[graphql(name = "Meeting")]
struct MeetingObject {
    date: Date,
    present: Vec<String>,
    votes: Vec<VoteObject>,
}

/// A decision of an alliance and where it stands.
#[derive(SimpleObject)]
#[graphql(name = "Decision")]
pub struct DecisionObject {
    id: ID,
    programme_id: String,
    title: String,
    description: String,
    status: DecisionStatusValue,
    /// The meeting that adopted or rejected it.
    meeting: Option<MeetingObject>,
    withdrawal_reason: Option<String>,
}

impl DecisionObject {
    fn from_aggregate(decision: &Decision) -> Option<Self> {
        let s = decision.state()?;
        Some(Self {
            id: ID(s.id.to_string()),
            programme_id: s.programme_id.to_string(),
            title: s.title.clone(),
            description: s.description.clone(),
            status: s.status.into(),
            meeting: s.meeting.as_ref().map(|m| MeetingObject {
                date: Date(m.meeting_date),
                present: m.present.iter().map(ToString::to_string).collect(),
                votes: m
                    .votes
                    .iter()
                    .map(|v| VoteObject {
                        member: v.member.to_string(),
                        choice: v.choice.into(),
                    })
                    .collect(),
            }),
            withdrawal_reason: s.withdrawal_reason.clone(),
        })
    }
}

#[derive(InputObject)]
pub struct ProposeDecisionInput {
    /// The programme the decision belongs to, e.g. `dordt-west`.
    programme_id: String,
    title: String,
    #[graphql(default)]
    description: String,
    /// Choose the decision's id (a UUID); the ledger makes one when left out.
    decision_id: Option<ID>,
    /// A retry with the same key is recognised as the same request.
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct VoteInput {
    member: String,
    choice: VoteChoiceValue,
}

/// The meeting that decides on a proposal.
#[derive(InputObject)]
pub struct DecideInput {
    decision_id: ID,
    meeting_date: Date,
    /// The members present at the meeting; only they vote.
    present: Vec<String>,
    /// How each voting member voted or consented.
    votes: Vec<VoteInput>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawDecisionInput {
    decision_id: ID,
    reason: String,
    idempotency_key: Option<String>,
}

fn parse_decision_id(field: &str, id: &ID) -> Result<DecisionId, ApiError> {
    Uuid::parse_str(id.as_str())
        .map(DecisionId::from_uuid)
        .map_err(|_| ApiError::bad_input(field, format!("{:?} is not a UUID", id.as_str())))
}

fn parse_member(field: &str, id: &str) -> Result<MemberId, ApiError> {
    MemberId::parse(id).map_err(|e| ApiError::bad_input(field, format!("member {id:?} {e}")))
}

impl DecideInput {
    fn outcome(&self) -> Result<MeetingOutcome, ApiError> {
        let present = self
            .present
            .iter()
            .map(|m| parse_member("present", m))
            .collect::<Result<_, _>>()?;
        let votes = self
            .votes
            .iter()
            .map(|v| {
                Ok(Vote {
                    member: parse_member("votes", &v.member)?,
                    choice: v.choice.into(),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(MeetingOutcome {
            meeting_date: self.meeting_date.0,
            present,
            votes,
        })
    }
}

async fn execute(
    ctx: &Context<'_>,
    context: CommandContext,
    id: DecisionId,
    command: DecisionCommand,
) -> Result<DecisionObject> {
    let name = command.name();
    let decision = state(ctx)
        .bus
        .execute::<Decision>(&id.to_string(), command, name, &(), &context)
        .await
        .map_err(ApiError::from)?;
    DecisionObject::from_aggregate(&decision).ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct DecisionQuery;

#[Object]
impl DecisionQuery {
    /// One decision by id, as it stands now.
    async fn decision(&self, ctx: &Context<'_>, id: ID) -> Result<Option<DecisionObject>> {
        require_reader(ctx)?;
        let id = parse_decision_id("id", &id)?;
        let decision = state(ctx)
            .bus
            .load::<Decision>(&id.to_string())
            .await
            .map_err(ApiError::from)?;
        Ok(DecisionObject::from_aggregate(&decision))
    }
}

#[derive(Default)]
pub struct DecisionMutation;

#[Object]
impl DecisionMutation {
    /// Put a decision before the alliance.
    async fn propose_decision(
        &self,
        ctx: &Context<'_>,
        input: ProposeDecisionInput,
    ) -> Result<DecisionObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let programme_id = ProgrammeId::parse(&input.programme_id)
            .map_err(|e| ApiError::bad_input("programmeId", e))?;
        let decision_id = match &input.decision_id {
            Some(id) => parse_decision_id("decisionId", id)?,
            None => DecisionId::from_uuid(Uuid::new_v4()),
        };
        let command = DecisionCommand::Propose(ProposeDecision {
            decision_id,
            programme_id,
            title: input.title,
            description: input.description,
        });
        execute(ctx, context, decision_id, command).await
    }

    /// Record that a meeting adopted a proposal.
    async fn adopt_decision(
        &self,
        ctx: &Context<'_>,
        input: DecideInput,
    ) -> Result<DecisionObject> {
        let context = require_recorder(ctx, input.idempotency_key.clone())?;
        let id = parse_decision_id("decisionId", &input.decision_id)?;
        let outcome = input.outcome()?;
        let command = DecisionCommand::Adopt(AdoptDecision { outcome });
        execute(ctx, context, id, command).await
    }

    /// Record that a meeting rejected a proposal.
    async fn reject_decision(
        &self,
        ctx: &Context<'_>,
        input: DecideInput,
    ) -> Result<DecisionObject> {
        let context = require_recorder(ctx, input.idempotency_key.clone())?;
        let id = parse_decision_id("decisionId", &input.decision_id)?;
        let outcome = input.outcome()?;
        let command = DecisionCommand::Reject(RejectDecision { outcome });
        execute(ctx, context, id, command).await
    }

    /// Take an open proposal off the table.
    async fn withdraw_decision(
        &self,
        ctx: &Context<'_>,
        input: WithdrawDecisionInput,
    ) -> Result<DecisionObject> {
        let context = require_recorder(ctx, input.idempotency_key.clone())?;
        let id = parse_decision_id("decisionId", &input.decision_id)?;
        let command = DecisionCommand::Withdraw(WithdrawDecision {
            reason: input.reason,
        });
        execute(ctx, context, id, command).await
    }
}
