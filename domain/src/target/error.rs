use crate::error::{ErrorKind, RuleViolation};
use crate::ids::AreaId;
use crate::programme::AreaKind;
use crate::reference::ReferenceError;
use crate::text::TextError;

/// Why a target refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no target has been set for this indicator, area and horizon year")]
    NotFound,
    #[error("a target has already been set for this indicator, area and horizon year; change it instead")]
    AlreadySet,
    #[error("the target was withdrawn; a withdrawn target is final")]
    Withdrawn,
    #[error("value: the target value is already this; a change changes it")]
    Unchanged,
    #[error("comparator: {comparator} is a {kind:?}; a target is relative to a gemeente or land (e.g. the Dordrecht average)")]
    ComparatorKind { comparator: AreaId, kind: AreaKind },
    #[error("comparator: a target for {area} cannot be relative to {area} itself")]
    ComparatorIsArea { area: AreaId },
    #[error(
        "baseline: the baseline year {baseline_year} is after the horizon year {horizon_year}"
    )]
    BaselineAfterHorizon {
        baseline_year: i32,
        horizon_year: i32,
    },
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl RuleViolation for TargetError {
    fn rule(&self) -> &'static str {
        match self {
            Self::NotFound => "target.exists",
            Self::AlreadySet => "target.unique",
            Self::Withdrawn => "target.final",
            Self::Unchanged => "target.value_changes",
            Self::ComparatorKind { .. } => "target.comparator_kind",
            Self::ComparatorIsArea { .. } => "target.comparator_differs",
            Self::BaselineAfterHorizon { .. } => "target.baseline_before_horizon",
            Self::Text(e) => e.rule(),
            Self::Reference(e) => e.rule(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::ComparatorKind { .. } | Self::ComparatorIsArea { .. } => {
                ErrorKind::InvalidInput {
                    field: "comparator",
                }
            }
            Self::BaselineAfterHorizon { .. } => ErrorKind::InvalidInput { field: "baseline" },
            Self::Text(e) => e.kind(),
            Self::Reference(e) => e.kind(),
            Self::AlreadySet | Self::Withdrawn | Self::Unchanged => ErrorKind::RuleViolated,
        }
    }
}
