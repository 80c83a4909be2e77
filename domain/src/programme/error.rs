use super::{AreaKind, Phase};
use crate::error::{ErrorKind, RuleViolation};
use crate::ids::{AreaId, ExecutionProgrammeId, IndicatorKey, PillarId};
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a programme refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgrammeError {
    #[error("no programme with this id has been established")]
    NotFound,
    #[error("a programme with this id has already been established")]
    AlreadyEstablished,
    #[error("{field}: {code:?} is not a CBS code of a {kind:?}")]
    BadCbsCode {
        field: &'static str,
        code: String,
        kind: AreaKind,
    },
    #[error("items: the central goal is one statement")]
    OneCentralGoal,
    #[error("areaId: the programme already has an area {0}")]
    AreaExists(AreaId),
    #[error("cbsCode: another area already has CBS code {0}")]
    CbsCodeTaken(String),
    #[error("parent: a {kind:?} needs a parent area")]
    ParentRequired { kind: AreaKind },
    #[error("parent: a {kind:?} cannot sit under a {parent_kind:?}")]
    WrongParentKind {
        kind: AreaKind,
        parent_kind: AreaKind,
    },
    #[error("pillarId: the programme already has a pillar {0}")]
    PillarExists(PillarId),
    #[error("number: pillar number {0} is taken (or zero)")]
    PillarNumberTaken(u8),
    #[error("name: the pillar already has a koppelkans {0:?}")]
    KoppelkansExists(String),
    #[error("key: the programme already has an indicator {0}")]
    IndicatorExists(IndicatorKey),
    #[error("executionProgrammeId: the programme already has an execution programme {0}")]
    ExecutionProgrammeExists(ExecutionProgrammeId),
    #[error("period: an execution programme spans 4 years, not {years}")]
    NotFourYears { years: u32 },
    #[error("areas: an execution programme covers at least one area")]
    NoAreas,
    #[error("phase: an execution programme moves forward through draw up, execute, learn and evaluate; it cannot go from {from:?} to {to:?}")]
    PhaseNotForward { from: Phase, to: Phase },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for ProgrammeError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "programme.exists",
            Self::AlreadyEstablished => "programme.unique",
            Self::BadCbsCode { .. } => "area.cbs_code",
            Self::OneCentralGoal => "programme.one_central_goal",
            Self::AreaExists(_) => "area.unique",
            Self::CbsCodeTaken(_) => "area.unique_cbs_code",
            Self::ParentRequired { .. } | Self::WrongParentKind { .. } => "area.hierarchy",
            Self::PillarExists(_) => "pillar.unique",
            Self::PillarNumberTaken(_) => "pillar.unique_number",
            Self::KoppelkansExists(_) => "koppelkans.unique",
            Self::IndicatorExists(_) => "indicator.unique",
            Self::ExecutionProgrammeExists(_) => "execution_programme.unique",
            Self::NotFourYears { .. } => "execution_programme.four_years",
            Self::NoAreas => "execution_programme.areas",
            Self::PhaseNotForward { .. } => "execution_programme.phase_order",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::BadCbsCode { field, .. } => ErrorKind::InvalidInput { field },
            Self::OneCentralGoal => ErrorKind::InvalidInput { field: "items" },
            Self::NotFourYears { .. } => ErrorKind::InvalidInput { field: "period" },
            Self::NoAreas => ErrorKind::InvalidInput { field: "areas" },
            Self::ParentRequired { .. } | Self::WrongParentKind { .. } => {
                ErrorKind::InvalidInput { field: "parent" }
            }
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadyEstablished
            | Self::AreaExists(_)
            | Self::CbsCodeTaken(_)
            | Self::PillarExists(_)
            | Self::PillarNumberTaken(_)
            | Self::KoppelkansExists(_)
            | Self::IndicatorExists(_)
            | Self::ExecutionProgrammeExists(_)
            | Self::PhaseNotForward { .. } => ErrorKind::RuleViolated,
        }
    }
}
