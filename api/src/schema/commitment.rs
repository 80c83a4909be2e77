//! Commitments: what a partner of the alliance promised the programme, and how delivery goes.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::commitment::{
    Commitment, CommitmentCommand, CommitmentReport, CommitmentState, CommitmentStatus,
    MakeCommitment, ReportCommitmentProgress,
};
use domain::ids::{CommitmentId, DecisionId, MemberId, ProgrammeId};
use store::CommandContext;

use super::alliance::SectorValue;
use super::input::{self, slug};
use super::programme::mirror_enum;
use super::scalars::{Date, Money};
use super::{load, record};
use crate::auth::{require_progress_reporter, require_recorder, require_signed_in};
use crate::ApiError;

mirror_enum!(CommitmentStatusValue as "CommitmentStatus" <=> CommitmentStatus {
    OnTrack, AtRisk, Late, Delivered, Withdrawn
});

/// One progress report on a commitment.
#[derive(SimpleObject, Debug)]
#[graphql(name = "CommitmentReport")]
pub struct CommitmentReportObject {
    status: CommitmentStatusValue,
    note: String,
    reported_on: Date,
}

impl From<&CommitmentReport> for CommitmentReportObject {
    fn from(r: &CommitmentReport) -> Self {
        Self {
            status: r.status.into(),
            note: r.note.clone(),
            reported_on: Date(r.reported_on),
        }
    }
}

/// What a partner promised the programme, and where it stands.
#[derive(Debug)]
pub struct CommitmentObject(CommitmentState);

#[Object(name = "Commitment")]
impl CommitmentObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn programme_id(&self) -> String {
        self.0.programme_id.to_string()
    }
    /// The alliance member that promised it.
    async fn partner(&self) -> String {
        self.0.partner.to_string()
    }
    /// The partner's organisation when the commitment was made.
    async fn partner_organisation(&self) -> &str {
        &self.0.partner_organisation
    }
    async fn partner_sector(&self) -> SectorValue {
        self.0.partner_sector.into()
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The money promised, when the promise is about money.
    async fn amount(&self) -> Option<Money> {
        self.0.amount.map(Money)
    }
    async fn due(&self) -> Date {
        Date(self.0.due)
    }
    /// The adopted decision it rests on.
    async fn decision_id(&self) -> ID {
        ID(self.0.decision.to_string())
    }
    /// `ON_TRACK` until the first report, then the last reported status.
    async fn status(&self) -> CommitmentStatusValue {
        self.0.status.into()
    }
    /// Delivered and withdrawn commitments never change again.
    async fn is_final(&self) -> bool {
        self.0.status.is_final()
    }
    /// Every progress report, in the order recorded.
    async fn reports(&self) -> Vec<CommitmentReportObject> {
        self.0.reports.iter().map(Into::into).collect()
    }
}

#[derive(Default)]
pub struct CommitmentQuery;

#[Object]
impl CommitmentQuery {
    /// One commitment by id, as it stands now.
    async fn commitment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<CommitmentObject>> {
        require_signed_in(ctx)?;
        let id = input::uuid("id", &id, CommitmentId::parse)?;
        let commitment: Commitment = load(ctx, &id.to_string(), as_of).await?;
        Ok(commitment.state().cloned().map(CommitmentObject))
    }

    /// Commitments, in order of due date: of one programme when `programmeId` is given (else of
    /// every programme, as the Rijk reads them), of one partner or sector, of one status.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn commitments(
        &self,
        ctx: &Context<'_>,
        programme_id: Option<String>,
        partner: Option<String>,
        sector: Option<SectorValue>,
        status: Option<CommitmentStatusValue>,
        #[graphql(
            desc = "The state as recorded up to and including this instant (RFC 3339); now when left out."
        )]
        as_of: Option<DateTime<Utc>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, CommitmentObject>> {
        require_signed_in(ctx)?;
        let programme = programme_id
            .as_deref()
            .map(|p| slug("programmeId", p, ProgrammeId::parse))
            .transpose()?;
        let partner = partner
            .as_deref()
            .map(|p| slug("partner", p, MemberId::parse))
            .transpose()?;
        let models = super::state(ctx).projection.read().await;
        let at = super::position_of(&models, as_of);
        let mut found: Vec<CommitmentState> = models
            .all_commitments(at)
            .filter_map(|r| r.state.state().cloned())
            .filter(|c| programme.as_ref().is_none_or(|p| &c.programme_id == p))
            .filter(|c| partner.as_ref().is_none_or(|p| &c.partner == p))
            .filter(|c| sector.is_none_or(|s| SectorValue::from(c.partner_sector) == s))
            .filter(|c| status.is_none_or(|s| CommitmentStatusValue::from(c.status) == s))
            .collect();
        found.sort_by_key(|c| (c.due, c.id));
        let items = found
            .into_iter()
            .map(|c| (c.id.to_string(), CommitmentObject(c)))
            .collect();
        Ok(super::page::page(ctx, items, after, first)?)
    }
}

#[derive(InputObject)]
pub struct MakeCommitmentInput {
    /// Choose the commitment's id (a UUID); the ledger makes one when left out.
    commitment_id: Option<ID>,
    programme_id: String,
    /// The alliance member that promises it, e.g. `rijk`.
    partner: String,
    description: String,
    /// The money promised, when the promise is about money: a decimal string.
    amount: Option<Money>,
    due: Date,
    /// The adopted decision it rests on.
    decision_id: ID,
    idempotency_key: Option<String>,
}

#[derive(InputObject)]
pub struct ReportCommitmentProgressInput {
    commitment_id: ID,
    status: CommitmentStatusValue,
    #[graphql(default)]
    note: String,
    reported_on: Date,
    idempotency_key: Option<String>,
}

async fn run(
    ctx: &Context<'_>,
    context: CommandContext,
    id: CommitmentId,
    command: CommitmentCommand,
) -> Result<CommitmentObject> {
    let name = command.name();
    let commitment: Commitment = record(ctx, &context, &id.to_string(), command, name).await?;
    commitment
        .state()
        .cloned()
        .map(CommitmentObject)
        .ok_or_else(|| ApiError::Internal.into())
}

#[derive(Default)]
pub struct CommitmentMutation;

#[Object]
impl CommitmentMutation {
    /// Record what a partner promised the programme, by when and for how much, on an adopted
    /// decision.
    async fn make_commitment(
        &self,
        ctx: &Context<'_>,
        input: MakeCommitmentInput,
    ) -> Result<CommitmentObject> {
        let context = require_recorder(ctx, input.idempotency_key)?;
        let id = input::new_or_given(
            "commitmentId",
            input.commitment_id.as_ref(),
            CommitmentId::parse,
        )?;
        let command = CommitmentCommand::Make(MakeCommitment {
            commitment_id: id,
            programme_id: slug("programmeId", &input.programme_id, ProgrammeId::parse)?,
            partner: slug("partner", &input.partner, MemberId::parse)?,
            description: input.description,
            amount: input.amount.map(|a| a.0),
            due: input.due.0,
            decision: input::uuid("decisionId", &input.decision_id, DecisionId::parse)?,
        });
        run(ctx, context, id, command).await
    }

    /// Report where a commitment stands; delivered and withdrawn are final. The secretary and
    /// admin roles report on any commitment, a partner only on its own organisation's.
    async fn report_commitment_progress(
        &self,
        ctx: &Context<'_>,
        input: ReportCommitmentProgressInput,
    ) -> Result<CommitmentObject> {
        let (context, reporter) = require_progress_reporter(ctx, input.idempotency_key)?;
        let id = input::uuid("commitmentId", &input.commitment_id, CommitmentId::parse)?;
        let command = CommitmentCommand::ReportProgress(ReportCommitmentProgress {
            reporter,
            status: input.status.into(),
            note: input.note,
            reported_on: input.reported_on.0,
        });
        run(ctx, context, id, command).await
    }
}
