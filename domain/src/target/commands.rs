use super::{Baseline, TargetKey, TargetValue};
use crate::ids::DecisionId;

/// Everything that can be asked of a target.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetCommand {
    Set(SetTarget),
    Change(ChangeTarget),
    Withdraw(WithdrawTarget),
}

impl TargetCommand {
    /// The command's name as recorded in event metadata.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Set(_) => "SetTarget",
            Self::Change(_) => "ChangeTarget",
            Self::Withdraw(_) => "WithdrawTarget",
        }
    }
}

/// Set the target value (streefwaarde) of an indicator for an area and horizon year. The
/// aggregate id is `key.aggregate_id()`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetTarget {
    pub key: TargetKey,
    pub value: TargetValue,
    pub baseline: Option<Baseline>,
    pub decision: DecisionId,
    pub reason: String,
}

/// Change the target value, on an adopted decision, with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeTarget {
    pub value: TargetValue,
    pub decision: DecisionId,
    pub reason: String,
}

/// Withdraw the target for good, on an adopted decision, with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct WithdrawTarget {
    pub decision: DecisionId,
    pub reason: String,
}
