//! A target (streefwaarde): the value the alliance aims for on one indicator, in one area, by
//! one horizon year. Absolute (`12.5`) or relative to a comparator area (`the Dordrecht
//! average + 0`), with a baseline. Its aggregate id is the composite [`TargetKey`], e.g.
//! `dordt-west/ernstig-overgewicht/crabbehof/2030`.
//!
//! Rules:
//! - a target is set once per programme, indicator, area and horizon year; after that it is
//!   changed, never set again;
//! - the indicator, area and comparator are known in the programme; the comparator is a
//!   gemeente or land and not the area itself;
//! - the horizon year lies inside the programme period; a baseline year is not after it;
//! - every change (set, change, withdraw) cites an adopted decision of the programme and gives
//!   a reason;
//! - a change changes the value;
//! - a withdrawn target is final.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use commands::{ChangeTarget, SetTarget, TargetCommand, WithdrawTarget};
pub use error::TargetError;
pub use events::TargetEvent;

use crate::ids::{AreaId, DecisionId, IndicatorKey, ProgrammeId};
use crate::programme::{AreaKind, ProgrammeState};
use crate::reference::LedgerServices;
use crate::text;

/// Longest reason.
pub const TEXT_MAX: usize = 20_000;

/// What a target is about: programme, indicator, area and horizon year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TargetKey {
    pub programme_id: ProgrammeId,
    pub indicator: IndicatorKey,
    pub area: AreaId,
    pub horizon_year: i32,
}

impl TargetKey {
    /// The aggregate id: `programme/indicator/area/horizon year`, e.g.
    /// `dordt-west/ernstig-overgewicht/crabbehof/2030`.
    pub fn aggregate_id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.programme_id, self.indicator, self.area, self.horizon_year
        )
    }

    /// Reads an aggregate id back into its key; `None` when it is not one.
    pub fn from_aggregate_id(id: &str) -> Option<Self> {
        let mut parts = id.split('/');
        let key = Self {
            programme_id: ProgrammeId::parse(parts.next()?).ok()?,
            indicator: IndicatorKey::parse(parts.next()?).ok()?,
            area: AreaId::parse(parts.next()?).ok()?,
            horizon_year: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(key)
    }
}

/// The value a target aims for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetValue {
    /// A fixed value in the indicator's unit.
    Absolute(#[serde(with = "rust_decimal::serde::str")] Decimal),
    /// The comparator area's value plus `margin`; a margin of 0 means "at the Dordrecht
    /// average" when the comparator is Dordrecht.
    RelativeToComparator {
        comparator: AreaId,
        #[serde(with = "rust_decimal::serde::str")]
        margin: Decimal,
    },
}

impl TargetValue {
    /// The value aimed for, given the comparator's value where the target is relative;
    /// `None` when that value is unknown (or the sum overflows).
    pub fn resolve(&self, comparator_value: Option<Decimal>) -> Option<Decimal> {
        match self {
            Self::Absolute(value) => Some(*value),
            Self::RelativeToComparator { margin, .. } => comparator_value?.checked_add(*margin),
        }
    }

    /// The comparator area, for a relative target.
    pub fn comparator(&self) -> Option<&AreaId> {
        match self {
            Self::Absolute(_) => None,
            Self::RelativeToComparator { comparator, .. } => Some(comparator),
        }
    }
}

/// Where the indicator stood when the target was set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Baseline {
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    pub year: i32,
}

/// What a revision of a target did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RevisionKind {
    Set,
    Changed,
    Withdrawn,
}

/// One entry of a target's history: its value after the revision, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRevision {
    pub kind: RevisionKind,
    pub value: TargetValue,
    pub decision: DecisionId,
    pub reason: String,
}

/// The state of one target, as its events built it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    state: Option<TargetState>,
}

/// The recorded facts of a target that was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetState {
    pub key: TargetKey,
    /// The current (or, once withdrawn, the last) value.
    pub value: TargetValue,
    pub baseline: Option<Baseline>,
    /// The decision of the latest revision.
    pub decision: DecisionId,
    pub withdrawn: bool,
    /// Every revision, oldest first, starting with the one that set the target.
    pub history: Vec<TargetRevision>,
}

impl Target {
    /// The target's facts, or `None` before it was set.
    pub fn state(&self) -> Option<&TargetState> {
        self.state.as_ref()
    }

    fn current(&self) -> Result<&TargetState, TargetError> {
        let state = self.state.as_ref().ok_or(TargetError::NotFound)?;
        if state.withdrawn {
            return Err(TargetError::Withdrawn);
        }
        Ok(state)
    }
}

/// Checks that a relative value's comparator is a known gemeente or land other than `area`.
fn check_value(
    programme: &ProgrammeState,
    area: &AreaId,
    value: &TargetValue,
) -> Result<(), TargetError> {
    if let Some(comparator) = value.comparator() {
        let found = programme.area("comparator", comparator)?;
        if !matches!(found.kind, AreaKind::Gemeente | AreaKind::Land) {
            return Err(TargetError::ComparatorKind {
                comparator: comparator.clone(),
                kind: found.kind,
            });
        }
        if comparator == area {
            return Err(TargetError::ComparatorIsArea { area: area.clone() });
        }
    }
    Ok(())
}

impl Aggregate for Target {
    const TYPE: &'static str = "Target";
    type Command = TargetCommand;
    type Event = TargetEvent;
    type Error = TargetError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            TargetCommand::Set(cmd) => {
                if let Some(state) = &self.state {
                    return Err(if state.withdrawn {
                        TargetError::Withdrawn
                    } else {
                        TargetError::AlreadySet
                    });
                }
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                let key = cmd.key;
                if let Some(baseline) = &cmd.baseline {
                    if baseline.year > key.horizon_year {
                        return Err(TargetError::BaselineAfterHorizon {
                            baseline_year: baseline.year,
                            horizon_year: key.horizon_year,
                        });
                    }
                }
                let programme = services.programme(&key.programme_id).await?;
                programme.indicator("indicator", &key.indicator)?;
                programme.area("area", &key.area)?;
                programme.within_period_year("horizonYear", key.horizon_year)?;
                check_value(&programme, &key.area, &cmd.value)?;
                services
                    .adopted_decision("decisionId", &key.programme_id, cmd.decision)
                    .await?;
                TargetEvent::TargetSet {
                    programme_id: key.programme_id,
                    indicator: key.indicator,
                    area: key.area,
                    horizon_year: key.horizon_year,
                    value: cmd.value,
                    baseline: cmd.baseline,
                    decision: cmd.decision,
                    reason,
                }
            }
            TargetCommand::Change(cmd) => {
                let state = self.current()?;
                if cmd.value == state.value {
                    return Err(TargetError::Unchanged);
                }
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                if cmd.value.comparator().is_some() {
                    let programme = services.programme(&state.key.programme_id).await?;
                    check_value(&programme, &state.key.area, &cmd.value)?;
                }
                services
                    .adopted_decision("decisionId", &state.key.programme_id, cmd.decision)
                    .await?;
                TargetEvent::TargetChanged {
                    previous_value: state.value.clone(),
                    value: cmd.value,
                    decision: cmd.decision,
                    reason,
                }
            }
            TargetCommand::Withdraw(cmd) => {
                let state = self.current()?;
                let reason = text::required("reason", &cmd.reason, TEXT_MAX)?;
                services
                    .adopted_decision("decisionId", &state.key.programme_id, cmd.decision)
                    .await?;
                TargetEvent::TargetWithdrawn {
                    decision: cmd.decision,
                    reason,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TargetEvent::TargetSet {
                programme_id,
                indicator,
                area,
                horizon_year,
                value,
                baseline,
                decision,
                reason,
            } => {
                self.state = Some(TargetState {
                    key: TargetKey {
                        programme_id,
                        indicator,
                        area,
                        horizon_year,
                    },
                    value: value.clone(),
                    baseline,
                    decision,
                    withdrawn: false,
                    history: vec![TargetRevision {
                        kind: RevisionKind::Set,
                        value,
                        decision,
                        reason,
                    }],
                });
            }
            TargetEvent::TargetChanged {
                value,
                decision,
                reason,
                ..
            } => {
                if let Some(state) = self.state.as_mut() {
                    state.value = value.clone();
                    state.decision = decision;
                    state.history.push(TargetRevision {
                        kind: RevisionKind::Changed,
                        value,
                        decision,
                        reason,
                    });
                }
            }
            TargetEvent::TargetWithdrawn { decision, reason } => {
                if let Some(state) = self.state.as_mut() {
                    state.withdrawn = true;
                    state.decision = decision;
                    state.history.push(TargetRevision {
                        kind: RevisionKind::Withdrawn,
                        value: state.value.clone(),
                        decision,
                        reason,
                    });
                }
            }
        }
    }
}
