use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{AreaKind, Direction, Phase, TextKind, Theme};
use crate::ids::{AreaId, DecisionId, ExecutionProgrammeId, IndicatorKey, PillarId, ProgrammeId};
use crate::period::YearRange;

/// What happened to a programme. Stored data: change only by adding optional fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProgrammeEvent {
    ProgrammeEstablished {
        programme_id: ProgrammeId,
        name: String,
        municipality_code: String,
        national_programme: String,
        period: YearRange,
        ambition: String,
    },
    ProgrammeTextSet {
        kind: TextKind,
        items: Vec<String>,
    },
    AreaAdded {
        area_id: AreaId,
        name: String,
        kind: AreaKind,
        parent: Option<AreaId>,
        cbs_code: Option<String>,
    },
    PillarAdded {
        pillar_id: PillarId,
        number: u8,
        name: String,
        ambition: String,
        themes: Vec<Theme>,
    },
    KoppelkansAdded {
        pillar_id: PillarId,
        name: String,
        owner: Option<String>,
    },
    IndicatorAdded {
        key: IndicatorKey,
        name: String,
        pillar_id: PillarId,
        source: String,
        unit: String,
        direction: Direction,
        definition: String,
    },
    ExecutionProgrammeAdded {
        execution_programme_id: ExecutionProgrammeId,
        name: String,
        period: YearRange,
        areas: Vec<AreaId>,
        decision: DecisionId,
    },
    ExecutionProgrammePhaseChanged {
        execution_programme_id: ExecutionProgrammeId,
        from: Phase,
        to: Phase,
    },
}

impl DomainEvent for ProgrammeEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ProgrammeEstablished { .. } => "ProgrammeEstablished",
            Self::ProgrammeTextSet { .. } => "ProgrammeTextSet",
            Self::AreaAdded { .. } => "AreaAdded",
            Self::PillarAdded { .. } => "PillarAdded",
            Self::KoppelkansAdded { .. } => "KoppelkansAdded",
            Self::IndicatorAdded { .. } => "IndicatorAdded",
            Self::ExecutionProgrammeAdded { .. } => "ExecutionProgrammeAdded",
            Self::ExecutionProgrammePhaseChanged { .. } => "ExecutionProgrammePhaseChanged",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
