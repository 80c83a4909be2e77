//! A programme: the 20-year plan of one alliance (e.g. Nationaal Programma Dordt West
//! 2023-2043) with its texts, areas, pillars, indicators and execution programmes.
//!
//! Rules:
//! - a programme is established once, with a period of whole years;
//! - areas form a tree: land > gemeente > focus area > wijk > buurt, each kind under the kind
//!   above it (a wijk may also sit directly under its gemeente); CBS codes match the kind;
//! - pillars, areas, indicators and execution programmes are added once each, under unique ids;
//! - an indicator belongs to a known pillar; a koppelkans to a known pillar;
//! - an execution programme spans four years inside the programme period, covers known areas,
//!   cites an adopted decision, and moves through its phases in order.

mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use commands::*;
pub use error::ProgrammeError;
pub use events::ProgrammeEvent;

use crate::ids::{AreaId, DecisionId, ExecutionProgrammeId, IndicatorKey, PillarId, ProgrammeId};
use crate::period::YearRange;
use crate::reference::LedgerServices;

/// Longest name or short text field.
pub const NAME_MAX: usize = 300;
/// Longest free text (ambition, definition, description).
pub const TEXT_MAX: usize = 20_000;
/// Most items in one list (opgaven, themes, ...).
pub const LIST_MAX: usize = 100;
/// Length in years of an execution programme.
pub const EXECUTION_PROGRAMME_YEARS: u32 = 4;

/// The kinds of area, from largest to smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AreaKind {
    /// The country, a comparator (Nederland).
    Land,
    /// A municipality (gemeente), e.g. Dordrecht; a comparator.
    Gemeente,
    /// The programme's focus area (stedelijk focusgebied), e.g. Dordt West.
    FocusArea,
    /// A district (wijk), e.g. Crabbehof.
    Wijk,
    /// A neighbourhood (buurt).
    Buurt,
}

impl AreaKind {
    /// The kinds an area of this kind may sit under.
    pub fn allowed_parents(self) -> &'static [AreaKind] {
        match self {
            AreaKind::Land => &[],
            AreaKind::Gemeente => &[AreaKind::Land],
            AreaKind::FocusArea => &[AreaKind::Gemeente],
            AreaKind::Wijk => &[AreaKind::FocusArea, AreaKind::Gemeente],
            AreaKind::Buurt => &[AreaKind::Wijk],
        }
    }

    /// The CBS code prefix and digit count for this kind, where CBS has codes.
    pub fn cbs_code_shape(self) -> (&'static str, usize) {
        match self {
            AreaKind::Land => ("NL", 2),
            AreaKind::Gemeente => ("GM", 4),
            AreaKind::FocusArea => ("", 0),
            AreaKind::Wijk => ("WK", 6),
            AreaKind::Buurt => ("BU", 8),
        }
    }
}

/// An area of the programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub id: AreaId,
    pub name: String,
    pub kind: AreaKind,
    pub parent: Option<AreaId>,
    pub cbs_code: Option<String>,
    /// 1 for the first area added, then one more for each: the order the programme lists them.
    pub ordinal: usize,
}

/// A theme of a pillar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub name: String,
    pub description: String,
}

/// A linked programme or fund (koppelkans) of a pillar, with its owner (e.g. a ministry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Koppelkans {
    pub name: String,
    pub owner: Option<String>,
}

/// A pillar (pijler) of the programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pillar {
    pub id: PillarId,
    pub number: u8,
    pub name: String,
    pub ambition: String,
    pub themes: Vec<Theme>,
    pub koppelkansen: Vec<Koppelkans>,
}

/// Whether a higher value of an indicator is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// An indicator the programme monitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub key: IndicatorKey,
    pub name: String,
    pub pillar: PillarId,
    /// Who publishes it: RIVM, CBS, Leefbaarometer, RVO, KIS Wijkmonitor, DUO, Politie, ...
    pub source: String,
    pub unit: String,
    pub direction: Direction,
    pub definition: String,
    /// 1 for the first indicator added, then one more for each: the order the programme lists
    /// them.
    pub ordinal: usize,
}

/// The phases of an execution programme's cycle, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Opstellen: drawn up with residents.
    DrawUp,
    /// Uitvoeren.
    Execute,
    /// Leren.
    Learn,
    /// Evalueren.
    Evaluate,
}

/// An execution programme (uitvoeringsprogramma): four years of concrete interventions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionProgramme {
    pub id: ExecutionProgrammeId,
    pub name: String,
    pub period: YearRange,
    pub areas: Vec<AreaId>,
    pub phase: Phase,
    pub decision: DecisionId,
}

/// The texts of a programme that are lists of statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TextKind {
    /// The national programme's central goal (one item).
    CentralGoal,
    /// Subdoelen of the national programme.
    Subgoals,
    /// Actielijnen of the national programme.
    ActionLines,
    /// Opgaven: the main tasks.
    Opgaven,
    /// Uitgangspunten: the principles.
    Uitgangspunten,
    /// The ingredients every programme must contain (analysis, tasks, goals, ...).
    Ingredients,
}

/// The state of a programme.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Programme {
    state: Option<ProgrammeState>,
}

/// The recorded facts of an established programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgrammeState {
    pub id: ProgrammeId,
    pub name: String,
    pub municipality_code: String,
    pub national_programme: String,
    pub period: YearRange,
    pub ambition: String,
    pub texts: BTreeMap<TextKind, Vec<String>>,
    pub areas: BTreeMap<AreaId, Area>,
    pub pillars: BTreeMap<PillarId, Pillar>,
    pub indicators: BTreeMap<IndicatorKey, Indicator>,
    pub execution_programmes: BTreeMap<ExecutionProgrammeId, ExecutionProgramme>,
}

impl ProgrammeState {
    /// The areas in the order they were added.
    pub fn areas_in_order(&self) -> Vec<&Area> {
        let mut areas: Vec<&Area> = self.areas.values().collect();
        areas.sort_by_key(|a| a.ordinal);
        areas
    }

    /// The indicators in the order they were added.
    pub fn indicators_in_order(&self) -> Vec<&Indicator> {
        let mut indicators: Vec<&Indicator> = self.indicators.values().collect();
        indicators.sort_by_key(|i| i.ordinal);
        indicators
    }
}

impl Programme {
    pub fn state(&self) -> Option<&ProgrammeState> {
        self.state.as_ref()
    }

    fn established(&self) -> Result<&ProgrammeState, ProgrammeError> {
        self.state.as_ref().ok_or(ProgrammeError::NotFound)
    }
}

impl Aggregate for Programme {
    const TYPE: &'static str = "Programme";
    type Command = ProgrammeCommand;
    type Event = ProgrammeEvent;
    type Error = ProgrammeError;
    type Services = LedgerServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ProgrammeCommand::Establish(cmd) => {
                if self.state.is_some() {
                    return Err(ProgrammeError::AlreadyEstablished);
                }
                cmd.validate()?;
                ProgrammeEvent::ProgrammeEstablished {
                    programme_id: cmd.programme_id,
                    name: cmd.name.trim().to_owned(),
                    municipality_code: cmd.municipality_code,
                    national_programme: cmd.national_programme.trim().to_owned(),
                    period: cmd.period,
                    ambition: cmd.ambition.trim().to_owned(),
                }
            }
            ProgrammeCommand::SetText(cmd) => {
                self.established()?;
                let items = cmd.validate()?;
                ProgrammeEvent::ProgrammeTextSet {
                    kind: cmd.kind,
                    items,
                }
            }
            ProgrammeCommand::AddArea(cmd) => {
                let state = self.established()?;
                cmd.validate(state)?;
                ProgrammeEvent::AreaAdded {
                    area_id: cmd.area_id,
                    name: cmd.name.trim().to_owned(),
                    kind: cmd.kind,
                    parent: cmd.parent,
                    cbs_code: cmd.cbs_code,
                }
            }
            ProgrammeCommand::AddPillar(cmd) => {
                let state = self.established()?;
                cmd.validate(state)?;
                ProgrammeEvent::PillarAdded {
                    pillar_id: cmd.pillar_id,
                    number: cmd.number,
                    name: cmd.name.trim().to_owned(),
                    ambition: cmd.ambition.trim().to_owned(),
                    themes: cmd.themes,
                }
            }
            ProgrammeCommand::AddKoppelkans(cmd) => {
                let state = self.established()?;
                cmd.validate(state)?;
                ProgrammeEvent::KoppelkansAdded {
                    pillar_id: cmd.pillar_id,
                    name: cmd.name.trim().to_owned(),
                    owner: cmd
                        .owner
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty()),
                }
            }
            ProgrammeCommand::AddIndicator(cmd) => {
                let state = self.established()?;
                cmd.validate(state)?;
                ProgrammeEvent::IndicatorAdded {
                    key: cmd.key,
                    name: cmd.name.trim().to_owned(),
                    pillar_id: cmd.pillar_id,
                    source: cmd.source.trim().to_owned(),
                    unit: cmd.unit.trim().to_owned(),
                    direction: cmd.direction,
                    definition: cmd.definition.trim().to_owned(),
                }
            }
            ProgrammeCommand::AddExecutionProgramme(cmd) => {
                let state = self.established()?;
                cmd.validate(state)?;
                services
                    .adopted_decision("decisionId", &state.id, cmd.decision)
                    .await?;
                ProgrammeEvent::ExecutionProgrammeAdded {
                    execution_programme_id: cmd.execution_programme_id,
                    name: cmd.name.trim().to_owned(),
                    period: cmd.period,
                    areas: cmd.areas,
                    decision: cmd.decision,
                }
            }
            ProgrammeCommand::AdvanceExecutionProgramme(cmd) => {
                let state = self.established()?;
                let current = state
                    .execution_programme("executionProgrammeId", &cmd.execution_programme_id)?;
                if cmd.phase <= current.phase {
                    return Err(ProgrammeError::PhaseNotForward {
                        from: current.phase,
                        to: cmd.phase,
                    });
                }
                ProgrammeEvent::ExecutionProgrammePhaseChanged {
                    execution_programme_id: cmd.execution_programme_id,
                    from: current.phase,
                    to: cmd.phase,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let ProgrammeEvent::ProgrammeEstablished {
            programme_id,
            name,
            municipality_code,
            national_programme,
            period,
            ambition,
        } = event
        {
            self.state = Some(ProgrammeState {
                id: programme_id,
                name,
                municipality_code,
                national_programme,
                period,
                ambition,
                texts: BTreeMap::new(),
                areas: BTreeMap::new(),
                pillars: BTreeMap::new(),
                indicators: BTreeMap::new(),
                execution_programmes: BTreeMap::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            ProgrammeEvent::ProgrammeEstablished { .. } => {}
            ProgrammeEvent::ProgrammeTextSet { kind, items } => {
                state.texts.insert(kind, items);
            }
            ProgrammeEvent::AreaAdded {
                area_id,
                name,
                kind,
                parent,
                cbs_code,
            } => {
                let ordinal = state.areas.len() + 1;
                state.areas.insert(
                    area_id.clone(),
                    Area {
                        id: area_id,
                        name,
                        kind,
                        parent,
                        cbs_code,
                        ordinal,
                    },
                );
            }
            ProgrammeEvent::PillarAdded {
                pillar_id,
                number,
                name,
                ambition,
                themes,
            } => {
                state.pillars.insert(
                    pillar_id.clone(),
                    Pillar {
                        id: pillar_id,
                        number,
                        name,
                        ambition,
                        themes,
                        koppelkansen: Vec::new(),
                    },
                );
            }
            ProgrammeEvent::KoppelkansAdded {
                pillar_id,
                name,
                owner,
            } => {
                if let Some(pillar) = state.pillars.get_mut(&pillar_id) {
                    pillar.koppelkansen.push(Koppelkans { name, owner });
                }
            }
            ProgrammeEvent::IndicatorAdded {
                key,
                name,
                pillar_id,
                source,
                unit,
                direction,
                definition,
            } => {
                let ordinal = state.indicators.len() + 1;
                state.indicators.insert(
                    key.clone(),
                    Indicator {
                        key,
                        name,
                        pillar: pillar_id,
                        source,
                        unit,
                        direction,
                        definition,
                        ordinal,
                    },
                );
            }
            ProgrammeEvent::ExecutionProgrammeAdded {
                execution_programme_id,
                name,
                period,
                areas,
                decision,
            } => {
                state.execution_programmes.insert(
                    execution_programme_id.clone(),
                    ExecutionProgramme {
                        id: execution_programme_id,
                        name,
                        period,
                        areas,
                        phase: Phase::DrawUp,
                        decision,
                    },
                );
            }
            ProgrammeEvent::ExecutionProgrammePhaseChanged {
                execution_programme_id,
                to,
                ..
            } => {
                if let Some(ep) = state.execution_programmes.get_mut(&execution_programme_id) {
                    ep.phase = to;
                }
            }
        }
    }
}
