use super::{
    AreaKind, Phase, ProgrammeError, ProgrammeState, TextKind, Theme, EXECUTION_PROGRAMME_YEARS,
    LIST_MAX, NAME_MAX, TEXT_MAX,
};
use crate::ids::{AreaId, DecisionId, ExecutionProgrammeId, IndicatorKey, PillarId, ProgrammeId};
use crate::period::YearRange;
use crate::programme::Direction;
use crate::text;

/// Everything that can be asked of a programme.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgrammeCommand {
    Establish(EstablishProgramme),
    SetText(SetProgrammeText),
    AddArea(AddArea),
    AddPillar(AddPillar),
    AddKoppelkans(AddKoppelkans),
    AddIndicator(AddIndicator),
    AddExecutionProgramme(AddExecutionProgramme),
    AdvanceExecutionProgramme(AdvanceExecutionProgramme),
}

impl ProgrammeCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Establish(_) => "EstablishProgramme",
            Self::SetText(_) => "SetProgrammeText",
            Self::AddArea(_) => "AddArea",
            Self::AddPillar(_) => "AddPillar",
            Self::AddKoppelkans(_) => "AddKoppelkans",
            Self::AddIndicator(_) => "AddIndicator",
            Self::AddExecutionProgramme(_) => "AddExecutionProgramme",
            Self::AdvanceExecutionProgramme(_) => "AdvanceExecutionProgramme",
        }
    }
}

/// Establish a programme with its period and ambition.
#[derive(Debug, Clone, PartialEq)]
pub struct EstablishProgramme {
    pub programme_id: ProgrammeId,
    pub name: String,
    /// The municipality's CBS code, e.g. `GM0505` for Dordrecht.
    pub municipality_code: String,
    /// The national programme it belongs to.
    pub national_programme: String,
    pub period: YearRange,
    pub ambition: String,
}

impl EstablishProgramme {
    pub(super) fn validate(&self) -> Result<(), ProgrammeError> {
        text::required("name", &self.name, NAME_MAX)?;
        text::required("nationalProgramme", &self.national_programme, NAME_MAX)?;
        text::optional("ambition", &self.ambition, TEXT_MAX)?;
        check_cbs_code(
            "municipalityCode",
            &self.municipality_code,
            AreaKind::Gemeente,
        )?;
        Ok(())
    }
}

pub(super) fn check_cbs_code(
    field: &'static str,
    code: &str,
    kind: AreaKind,
) -> Result<(), ProgrammeError> {
    let (prefix, digits) = kind.cbs_code_shape();
    let ok = !prefix.is_empty()
        && code.len() == prefix.len() + digits
        && code.starts_with(prefix)
        && code[prefix.len()..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ProgrammeError::BadCbsCode {
            field,
            code: code.to_owned(),
            kind,
        })
    }
}

/// Set one of the programme's lists of statements (opgaven, uitgangspunten, ...), replacing
/// what it held.
#[derive(Debug, Clone, PartialEq)]
pub struct SetProgrammeText {
    pub kind: TextKind,
    pub items: Vec<String>,
}

impl SetProgrammeText {
    pub(super) fn validate(&self) -> Result<Vec<String>, ProgrammeError> {
        let items = text::list("items", &self.items, LIST_MAX, TEXT_MAX)?;
        if self.kind == TextKind::CentralGoal && items.len() > 1 {
            return Err(ProgrammeError::OneCentralGoal);
        }
        Ok(items)
    }
}

/// Add an area (focus area, wijk, buurt, or a comparator: gemeente or land).
#[derive(Debug, Clone, PartialEq)]
pub struct AddArea {
    pub area_id: AreaId,
    pub name: String,
    pub kind: AreaKind,
    pub parent: Option<AreaId>,
    /// The area's CBS code where CBS has one: `NL01`, `GM0505`, `WK050512`, `BU05051203`.
    pub cbs_code: Option<String>,
}

impl AddArea {
    pub(super) fn validate(&self, state: &ProgrammeState) -> Result<(), ProgrammeError> {
        text::required("name", &self.name, NAME_MAX)?;
        if state.areas.contains_key(&self.area_id) {
            return Err(ProgrammeError::AreaExists(self.area_id.clone()));
        }
        if let Some(code) = &self.cbs_code {
            check_cbs_code("cbsCode", code, self.kind)?;
            if state
                .areas
                .values()
                .any(|a| a.cbs_code.as_deref() == Some(code.as_str()))
            {
                return Err(ProgrammeError::CbsCodeTaken(code.clone()));
            }
        }
        let allowed = self.kind.allowed_parents();
        match &self.parent {
            None if allowed.is_empty() || matches!(self.kind, AreaKind::Gemeente) => Ok(()),
            None => Err(ProgrammeError::ParentRequired { kind: self.kind }),
            Some(parent_id) => {
                let parent = state.area("parent", parent_id)?;
                if allowed.contains(&parent.kind) {
                    Ok(())
                } else {
                    Err(ProgrammeError::WrongParentKind {
                        kind: self.kind,
                        parent_kind: parent.kind,
                    })
                }
            }
        }
    }
}

/// Add a pillar with its ambition and themes.
#[derive(Debug, Clone, PartialEq)]
pub struct AddPillar {
    pub pillar_id: PillarId,
    /// Its number in the programme (1-5 in Dordt West).
    pub number: u8,
    pub name: String,
    pub ambition: String,
    pub themes: Vec<Theme>,
}

impl AddPillar {
    pub(super) fn validate(&self, state: &ProgrammeState) -> Result<(), ProgrammeError> {
        text::required("name", &self.name, NAME_MAX)?;
        text::optional("ambition", &self.ambition, TEXT_MAX)?;
        if state.pillars.contains_key(&self.pillar_id) {
            return Err(ProgrammeError::PillarExists(self.pillar_id.clone()));
        }
        if self.number == 0 || state.pillars.values().any(|p| p.number == self.number) {
            return Err(ProgrammeError::PillarNumberTaken(self.number));
        }
        let names: Vec<String> = self.themes.iter().map(|t| t.name.clone()).collect();
        text::list("themes", &names, LIST_MAX, NAME_MAX)?;
        for theme in &self.themes {
            text::optional("themes", &theme.description, TEXT_MAX)?;
        }
        Ok(())
    }
}

/// Add a linked programme or fund (koppelkans) to a pillar.
#[derive(Debug, Clone, PartialEq)]
pub struct AddKoppelkans {
    pub pillar_id: PillarId,
    pub name: String,
    /// Who owns it, e.g. a ministry (`VWS`).
    pub owner: Option<String>,
}

impl AddKoppelkans {
    pub(super) fn validate(&self, state: &ProgrammeState) -> Result<(), ProgrammeError> {
        let name = text::required("name", &self.name, NAME_MAX)?;
        if let Some(owner) = &self.owner {
            text::optional("owner", owner, NAME_MAX)?;
        }
        let pillar = state.pillar("pillarId", &self.pillar_id)?;
        if pillar.koppelkansen.iter().any(|k| k.name == name) {
            return Err(ProgrammeError::KoppelkansExists(name));
        }
        Ok(())
    }
}

/// Add an indicator to monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct AddIndicator {
    pub key: IndicatorKey,
    pub name: String,
    pub pillar_id: PillarId,
    pub source: String,
    pub unit: String,
    pub direction: Direction,
    pub definition: String,
}

impl AddIndicator {
    pub(super) fn validate(&self, state: &ProgrammeState) -> Result<(), ProgrammeError> {
        text::required("name", &self.name, NAME_MAX)?;
        text::required("source", &self.source, NAME_MAX)?;
        text::required("unit", &self.unit, NAME_MAX)?;
        text::optional("definition", &self.definition, TEXT_MAX)?;
        state.pillar("pillarId", &self.pillar_id)?;
        if state.indicators.contains_key(&self.key) {
            return Err(ProgrammeError::IndicatorExists(self.key.clone()));
        }
        Ok(())
    }
}

/// Add an execution programme adopted by the alliance.
#[derive(Debug, Clone, PartialEq)]
pub struct AddExecutionProgramme {
    pub execution_programme_id: ExecutionProgrammeId,
    pub name: String,
    pub period: YearRange,
    pub areas: Vec<AreaId>,
    /// The adopted decision it rests on.
    pub decision: DecisionId,
}

impl AddExecutionProgramme {
    pub(super) fn validate(&self, state: &ProgrammeState) -> Result<(), ProgrammeError> {
        text::required("name", &self.name, NAME_MAX)?;
        if state
            .execution_programmes
            .contains_key(&self.execution_programme_id)
        {
            return Err(ProgrammeError::ExecutionProgrammeExists(
                self.execution_programme_id.clone(),
            ));
        }
        if self.period.years() != EXECUTION_PROGRAMME_YEARS {
            return Err(ProgrammeError::NotFourYears {
                years: self.period.years(),
            });
        }
        state.within_period_range("period", self.period)?;
        if self.areas.is_empty() {
            return Err(ProgrammeError::NoAreas);
        }
        for area in &self.areas {
            state.area("areas", area)?;
        }
        Ok(())
    }
}

/// Move an execution programme to a later phase of its cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvanceExecutionProgramme {
    pub execution_programme_id: ExecutionProgrammeId,
    pub phase: Phase,
}
