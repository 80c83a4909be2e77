//! Decisions: propose, then adopt, reject or withdraw.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::decision::{
    AdoptDecision, AmendDecision, Decision, DecisionCommand, DecisionStatus, ProposeDecision,
    RejectDecision, Vote, VoteChoice, WithdrawDecision,
};
use domain::ids::{DecisionId, MeetingId, MemberId, ProgrammeId};
use store::CommandContext;

use super::input::{self, slug};
use super::page::page;
use super::scalars::Date;
use super::{position_of, record, state};
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

/// The meeting that decided, as the decision recorded it.
#[derive(SimpleObject)]
#[graphql(name = "DecisionMeeting")]
struct MeetingObject {
    meeting_id: Option<ID>,
    date: Date,
    present: Vec<String>,
    votes: Vec<VoteObject>,
}

/// A decision of an alliance and where it stands.
#[derive(SimpleObject)]
#[graphql(name = "Decision", complex)]
pub struct DecisionObject {
    /// The log position the decision is read at: its consequences are those recorded by then.
    #[graphql(skip)]
    at: Option<i64>,
    id: ID,
    programme_id: String,
    title: String,
    description: String,
    status: DecisionStatusValue,
    /// How often the proposal was amended before it was decided.
    amendments: u32,
    /// The meeting that adopted or rejected it.
    meeting: Option<MeetingObject>,
    withdrawal_reason: Option<String>,
}

impl DecisionObject {
    fn from_aggregate(decision: &Decision) -> Option<Self> {
        let s = decision.state()?;
        Some(Self {
            at: None,
            id: ID(s.id.to_string()),
            programme_id: s.programme_id.to_string(),
            title: s.title.clone(),
            description: s.description.clone(),
            status: s.status.into(),
            amendments: s.amendments,
            meeting: s.meeting.as_ref().map(|m| MeetingObject {
                meeting_id: m.meeting_id.map(|id| ID(id.to_string())),
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

/// An event that cites a decision: what the decision led to.
#[derive(SimpleObject, Debug)]
#[graphql(name = "Consequence")]
pub struct ConsequenceObject {
    position: i64,
    recorded_at: Option<DateTime<Utc>>,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
}

#[ComplexObject]
impl DecisionObject {
    /// Every event that cites this decision (allocations, targets, commitments, execution
    /// programmes, membership changes, ...), in the order they were recorded.
    async fn consequences(&self, ctx: &Context<'_>) -> Vec<ConsequenceObject> {
        let models = state(ctx).projection.read().await;
        let at = self.at.unwrap_or(models.position());
        models
            .consequences(self.id.as_str(), at)
            .iter()
            .map(|c| ConsequenceObject {
                position: c.position,
                recorded_at: models.stamp(c.position).map(|s| s.recorded_at),
                aggregate_type: c.aggregate_type.clone(),
                aggregate_id: c.aggregate_id.clone(),
                event_type: c.event_type.clone(),
            })
            .collect()
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

/// The recorded meeting that decides on a proposal, and the votes cast there.
#[derive(InputObject)]
pub struct DecideInput {
    decision_id: ID,
    /// A meeting recorded with `holdMeeting`; only the members present there vote.
    meeting_id: ID,
    /// How each voting member voted or consented.
    votes: Vec<VoteInput>,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct AmendDecisionInput {
    decision_id: ID,
    title: Option<String>,
    description: Option<String>,
    reason: String,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawDecisionInput {
    decision_id: ID,
    reason: String,
    idempotency_key: Option<String>,
}

fn parse_decision_id(field: &str, id: &ID) -> Result<DecisionId, ApiError> {
    input::uuid(field, id, DecisionId::parse)
}

impl DecideInput {
    fn votes(&self) -> Result<Vec<Vote>, ApiError> {
        self.votes
            .iter()
            .map(|v| {
                Ok(Vote {
                    member: slug("votes", &v.member, MemberId::parse)?,
                    choice: v.choice.into(),
                })
            })
            .collect()
    }
}

async fn execute(
    ctx: &Context<'_>,
    context: CommandContext,
    id: DecisionId,
    command: DecisionCommand,
) -> Result<DecisionObject> {
    let name = command.name();
    let decision: Decision = record(ctx, &context, &id.to_string(), command, name).await?;
    DecisionObject::from_aggregate(&decision).ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct DecisionQuery;

#[Object]
impl DecisionQuery {
    /// One decision by id, as it stands now.
    async fn decision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<DecisionObject>> {
        require_reader(ctx)?;
        let id = parse_decision_id("id", &id)?;
        let models = state(ctx).projection.read().await;
        let at = position_of(&models, as_of);
        Ok(models
            .decision(&id.to_string(), at)
            .and_then(DecisionObject::from_aggregate)
            .map(|d| DecisionObject { at: Some(at), ..d }))
    }

    /// The decisions of a programme, oldest first: those decided in a meeting between `from`
    /// and `to` (inclusive) when either is given, and of one status when `status` is given.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        programme_id: String,
        from: Option<Date>,
        to: Option<Date>,
        status: Option<DecisionStatusValue>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, DecisionObject>> {
        require_reader(ctx)?;
        let programme = slug("programmeId", &programme_id, ProgrammeId::parse)?;
        let models = state(ctx).projection.read().await;
        let at = position_of(&models, as_of);
        let mut found: Vec<(i64, DecisionObject)> = models
            .all_decisions(at)
            .filter_map(|r| {
                let s = r.state.state()?;
                if s.programme_id != programme {
                    return None;
                }
                if status.is_some_and(|st| DecisionStatusValue::from(s.status) != st) {
                    return None;
                }
                if from.is_some() || to.is_some() {
                    let day = s.meeting.as_ref()?.meeting_date;
                    if from.is_some_and(|f| day < f.0) || to.is_some_and(|t| day > t.0) {
                        return None;
                    }
                }
                let first = models.first_position_of_decision(r.aggregate_id)?;
                let object = DecisionObject::from_aggregate(r.state)?;
                Some((
                    first,
                    DecisionObject {
                        at: Some(at),
                        ..object
                    },
                ))
            })
            .collect();
        found.sort_by_key(|(first, _)| *first);
        let items = found
            .into_iter()
            .map(|(_, d)| (d.id.to_string(), d))
            .collect();
        Ok(page(ctx, items, after, first)?)
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
        let programme_id = slug("programmeId", &input.programme_id, ProgrammeId::parse)?;
        let decision_id =
            input::new_or_given("decisionId", input.decision_id.as_ref(), DecisionId::parse)?;
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
        let command = DecisionCommand::Adopt(AdoptDecision {
            meeting_id: input::uuid("meetingId", &input.meeting_id, MeetingId::parse)?,
            votes: input.votes()?,
        });
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
        let command = DecisionCommand::Reject(RejectDecision {
            meeting_id: input::uuid("meetingId", &input.meeting_id, MeetingId::parse)?,
            votes: input.votes()?,
        });
        execute(ctx, context, id, command).await
    }

    /// Change an open proposal's title or description, with a reason.
    async fn amend_decision(
        &self,
        ctx: &Context<'_>,
        input: AmendDecisionInput,
    ) -> Result<DecisionObject> {
        let context = require_recorder(ctx, input.idempotency_key.clone())?;
        let id = parse_decision_id("decisionId", &input.decision_id)?;
        let command = DecisionCommand::Amend(AmendDecision {
            title: input.title,
            description: input.description,
            reason: input.reason,
        });
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
