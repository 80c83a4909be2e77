//! Rules that look beyond one aggregate: a citation of an adopted decision, a known area,
//! indicator, pillar or member, a date inside the programme's period.
//!
//! The domain defines what it needs to read ([`Lookup`]); the storage layer implements it by
//! loading the aggregates from the event log. Aggregates receive it as their services.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::alliance::{Alliance, AllianceState, Meeting, Member};
use crate::decision::{Decision, DecisionState, DecisionStatus};
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::{
    AreaId, DecisionId, ExecutionProgrammeId, IndicatorKey, MeetingId, MemberId, PillarId,
    ProgrammeId,
};
use crate::period::YearRange;
use crate::programme::{Area, ExecutionProgramme, Indicator, Pillar, Programme, ProgrammeState};

/// The ledger could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the ledger could not be read: {0}")]
pub struct LookupError(pub String);

/// What the domain reads from the rest of the ledger when it handles a command.
#[async_trait::async_trait]
pub trait Lookup: Send + Sync {
    /// The programme's current state (empty when never established).
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError>;
    /// The established programme's state, shared rather than copied (`None` when never
    /// established). A lookup that keeps programmes in memory answers it without a copy; by
    /// default it is [`programme`](Self::programme)'s state.
    async fn programme_state(
        &self,
        id: &ProgrammeId,
    ) -> Result<Option<Arc<ProgrammeState>>, LookupError> {
        Ok(self.programme(id).await?.state().cloned().map(Arc::new))
    }
    /// The programme's alliance (empty when never formed).
    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError>;
    /// A decision (empty when never proposed).
    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError>;
}

/// The services every aggregate receives: read access to the rest of the ledger.
#[derive(Clone)]
pub struct LedgerServices(Arc<dyn Lookup>);

impl fmt::Debug for LedgerServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerServices")
    }
}

/// A reference to something outside the aggregate that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("programmeId: no programme {programme} has been established")]
    UnknownProgramme { programme: ProgrammeId },
    #[error("programmeId: programme {programme} has no alliance yet")]
    NoAlliance { programme: ProgrammeId },
    #[error(
        "{field}: no decision {decision} has been proposed; this must cite an adopted decision"
    )]
    UnknownDecision {
        field: &'static str,
        decision: DecisionId,
    },
    #[error("{field}: decision {decision} is {status:?}, not adopted; this must cite an adopted decision")]
    DecisionNotAdopted {
        field: &'static str,
        decision: DecisionId,
        status: DecisionStatus,
    },
    #[error("{field}: decision {decision} belongs to programme {other}, not {programme}")]
    DecisionOfOtherProgramme {
        field: &'static str,
        decision: DecisionId,
        programme: ProgrammeId,
        other: ProgrammeId,
    },
    #[error("{field}: programme {programme} has no area {area}")]
    UnknownArea {
        field: &'static str,
        programme: ProgrammeId,
        area: AreaId,
    },
    #[error("{field}: programme {programme} has no pillar {pillar}")]
    UnknownPillar {
        field: &'static str,
        programme: ProgrammeId,
        pillar: PillarId,
    },
    #[error("{field}: programme {programme} has no indicator {indicator}")]
    UnknownIndicator {
        field: &'static str,
        programme: ProgrammeId,
        indicator: IndicatorKey,
    },
    #[error("{field}: programme {programme} has no execution programme {execution_programme}")]
    UnknownExecutionProgramme {
        field: &'static str,
        programme: ProgrammeId,
        execution_programme: ExecutionProgrammeId,
    },
    #[error("{field}: {member} is not a member of the alliance of {programme}")]
    UnknownMember {
        field: &'static str,
        programme: ProgrammeId,
        member: MemberId,
    },
    #[error("{field}: the alliance of {programme} held no meeting {meeting}")]
    UnknownMeeting {
        field: &'static str,
        programme: ProgrammeId,
        meeting: MeetingId,
    },
    #[error("{field}: {value} lies outside the programme period {period}")]
    OutsidePeriod {
        field: &'static str,
        value: String,
        period: YearRange,
    },
    #[error(transparent)]
    Unavailable(#[from] LookupError),
}

impl RuleViolation for ReferenceError {
    fn rule(&self) -> &'static str {
        match self {
            Self::UnknownProgramme { .. } => "reference.known_programme",
            Self::NoAlliance { .. } => "reference.alliance_formed",
            Self::UnknownDecision { .. } | Self::DecisionNotAdopted { .. } => {
                "citation.adopted_decision"
            }
            Self::DecisionOfOtherProgramme { .. } => "citation.same_programme",
            Self::UnknownArea { .. } => "reference.known_area",
            Self::UnknownPillar { .. } => "reference.known_pillar",
            Self::UnknownIndicator { .. } => "reference.known_indicator",
            Self::UnknownExecutionProgramme { .. } => "reference.known_execution_programme",
            Self::UnknownMember { .. } => "reference.known_member",
            Self::UnknownMeeting { .. } => "reference.known_meeting",
            Self::OutsidePeriod { .. } => "programme.period",
            Self::Unavailable(_) => "ledger.available",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownProgramme { .. } | Self::NoAlliance { .. } => ErrorKind::InvalidInput {
                field: "programmeId",
            },
            Self::UnknownArea { field, .. }
            | Self::UnknownPillar { field, .. }
            | Self::UnknownIndicator { field, .. }
            | Self::UnknownExecutionProgramme { field, .. }
            | Self::UnknownMember { field, .. }
            | Self::UnknownMeeting { field, .. }
            | Self::OutsidePeriod { field, .. } => ErrorKind::InvalidInput { field },
            Self::UnknownDecision { .. }
            | Self::DecisionNotAdopted { .. }
            | Self::DecisionOfOtherProgramme { .. } => ErrorKind::RuleViolated,
            Self::Unavailable(_) => ErrorKind::Unavailable,
        }
    }
}

impl LedgerServices {
    pub fn new(lookup: Arc<dyn Lookup>) -> Self {
        Self(lookup)
    }

    /// The established programme, or a refusal naming it.
    pub async fn programme(&self, id: &ProgrammeId) -> Result<Arc<ProgrammeState>, ReferenceError> {
        self.0
            .programme_state(id)
            .await?
            .ok_or_else(|| ReferenceError::UnknownProgramme {
                programme: id.clone(),
            })
    }

    /// The programme's formed alliance, or a refusal naming it.
    pub async fn alliance(&self, programme: &ProgrammeId) -> Result<AllianceState, ReferenceError> {
        self.0
            .alliance(programme)
            .await?
            .state()
            .cloned()
            .ok_or_else(|| ReferenceError::NoAlliance {
                programme: programme.clone(),
            })
    }

    /// The decision `field` cites: it must exist, be adopted, and belong to `programme`.
    pub async fn adopted_decision(
        &self,
        field: &'static str,
        programme: &ProgrammeId,
        decision: DecisionId,
    ) -> Result<DecisionState, ReferenceError> {
        let found = self.0.decision(decision).await?;
        let state = found
            .state()
            .ok_or(ReferenceError::UnknownDecision { field, decision })?;
        if &state.programme_id != programme {
            return Err(ReferenceError::DecisionOfOtherProgramme {
                field,
                decision,
                programme: programme.clone(),
                other: state.programme_id.clone(),
            });
        }
        if state.status != DecisionStatus::Adopted {
            return Err(ReferenceError::DecisionNotAdopted {
                field,
                decision,
                status: state.status,
            });
        }
        Ok(state.clone())
    }
}

impl ProgrammeState {
    pub fn area(&self, field: &'static str, id: &AreaId) -> Result<&Area, ReferenceError> {
        self.areas
            .get(id)
            .ok_or_else(|| ReferenceError::UnknownArea {
                field,
                programme: self.id.clone(),
                area: id.clone(),
            })
    }

    pub fn pillar(&self, field: &'static str, id: &PillarId) -> Result<&Pillar, ReferenceError> {
        self.pillars
            .get(id)
            .ok_or_else(|| ReferenceError::UnknownPillar {
                field,
                programme: self.id.clone(),
                pillar: id.clone(),
            })
    }

    pub fn indicator(
        &self,
        field: &'static str,
        key: &IndicatorKey,
    ) -> Result<&Indicator, ReferenceError> {
        self.indicators
            .get(key)
            .ok_or_else(|| ReferenceError::UnknownIndicator {
                field,
                programme: self.id.clone(),
                indicator: key.clone(),
            })
    }

    pub fn execution_programme(
        &self,
        field: &'static str,
        id: &ExecutionProgrammeId,
    ) -> Result<&ExecutionProgramme, ReferenceError> {
        self.execution_programmes
            .get(id)
            .ok_or_else(|| ReferenceError::UnknownExecutionProgramme {
                field,
                programme: self.id.clone(),
                execution_programme: id.clone(),
            })
    }

    /// Refuses a year outside the programme period.
    pub fn within_period_year(&self, field: &'static str, year: i32) -> Result<(), ReferenceError> {
        if self.period.contains_year(year) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: year.to_string(),
                period: self.period,
            })
        }
    }

    /// Refuses a date outside the programme period.
    pub fn within_period(
        &self,
        field: &'static str,
        date: NaiveDate,
    ) -> Result<(), ReferenceError> {
        if self.period.contains_date(date) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: date.to_string(),
                period: self.period,
            })
        }
    }

    /// Refuses a range of years not wholly inside the programme period.
    pub fn within_period_range(
        &self,
        field: &'static str,
        range: YearRange,
    ) -> Result<(), ReferenceError> {
        if self.period.covers(range) {
            Ok(())
        } else {
            Err(ReferenceError::OutsidePeriod {
                field,
                value: range.to_string(),
                period: self.period,
            })
        }
    }
}

impl AllianceState {
    /// A current member (one that has not left).
    pub fn member(&self, field: &'static str, id: &MemberId) -> Result<&Member, ReferenceError> {
        self.members
            .get(id)
            .filter(|m| m.left_on.is_none())
            .ok_or_else(|| ReferenceError::UnknownMember {
                field,
                programme: self.programme_id.clone(),
                member: id.clone(),
            })
    }

    pub fn meeting(&self, field: &'static str, id: MeetingId) -> Result<&Meeting, ReferenceError> {
        self.meetings
            .get(&id)
            .ok_or_else(|| ReferenceError::UnknownMeeting {
                field,
                programme: self.programme_id.clone(),
                meeting: id,
            })
    }
}
