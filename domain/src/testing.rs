//! A small, fixed ledger for the given/when/then tests of aggregates whose rules look beyond
//! themselves: the Dordt West programme, its alliance, a meeting, and a few decisions. Each
//! aggregate in it is built by applying events, as the store would load it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use uuid::Uuid;

use crate::alliance::{Alliance, AllianceEvent, NewMember, Sector};
use crate::decision::{AdoptionRule, Decision, DecisionEvent, Vote, VoteChoice};
use crate::ids::{
    AreaId, DecisionId, ExecutionProgrammeId, IndicatorKey, MeetingId, MemberId, PillarId,
    ProgrammeId,
};
use crate::period::YearRange;
use crate::programme::{AreaKind, Direction, Programme, ProgrammeEvent};
use crate::reference::{LedgerServices, Lookup, LookupError};

pub fn programme_id() -> ProgrammeId {
    ProgrammeId::parse("dordt-west").expect("slug")
}
pub fn other_programme_id() -> ProgrammeId {
    ProgrammeId::parse("heerlen-noord").expect("slug")
}
pub fn member(id: &str) -> MemberId {
    MemberId::parse(id).expect("slug")
}
pub fn area(id: &str) -> AreaId {
    AreaId::parse(id).expect("slug")
}
pub fn pillar(id: &str) -> PillarId {
    PillarId::parse(id).expect("slug")
}
pub fn indicator(id: &str) -> IndicatorKey {
    IndicatorKey::parse(id).expect("slug")
}
pub fn execution_programme() -> ExecutionProgrammeId {
    ExecutionProgrammeId::parse("uitvoeringsprogramma-2024-2027").expect("slug")
}
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// The meeting of 15 June 2023, where gemeente, politie and rijk were present.
pub fn meeting_id() -> MeetingId {
    MeetingId::from_uuid(Uuid::from_u128(0x1001))
}
/// An adopted decision of Dordt West.
pub fn adopted_decision() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2001))
}
/// A decision of Dordt West still open.
pub fn open_decision() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2002))
}
/// An adopted decision of another programme.
pub fn foreign_decision() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2003))
}
/// A decision nobody proposed.
pub fn unknown_decision() -> DecisionId {
    DecisionId::from_uuid(Uuid::from_u128(0x2999))
}

fn build<A: Aggregate>(events: Vec<A::Event>) -> A {
    let mut aggregate = A::default();
    for e in events {
        aggregate.apply(e);
    }
    aggregate
}

fn programme_events(id: ProgrammeId) -> Vec<ProgrammeEvent> {
    let add_area =
        |id: &str, kind, parent: Option<&str>, code: Option<&str>| ProgrammeEvent::AreaAdded {
            area_id: area(id),
            name: id.to_owned(),
            kind,
            parent: parent.map(area),
            cbs_code: code.map(str::to_owned),
        };
    vec![
        ProgrammeEvent::ProgrammeEstablished {
            programme_id: id,
            name: "Nationaal Programma Dordt West".into(),
            municipality_code: "GM0505".into(),
            national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
            period: YearRange::new(2023, 2043).expect("range"),
            ambition: "We groeien met Dordt West naar het Dordts gemiddelde.".into(),
        },
        add_area("nederland", AreaKind::Land, None, Some("NL01")),
        add_area(
            "dordrecht",
            AreaKind::Gemeente,
            Some("nederland"),
            Some("GM0505"),
        ),
        add_area("dordt-west", AreaKind::FocusArea, Some("dordrecht"), None),
        add_area("crabbehof", AreaKind::Wijk, Some("dordt-west"), None),
        add_area("wielwijk", AreaKind::Wijk, Some("dordt-west"), None),
        ProgrammeEvent::PillarAdded {
            pillar_id: pillar("gezond-en-samen-leven"),
            number: 1,
            name: "Gezond en samen leven".into(),
            ambition: String::new(),
            themes: vec![],
        },
        ProgrammeEvent::PillarAdded {
            pillar_id: pillar("leren-en-ontwikkelen"),
            number: 3,
            name: "Leren en ontwikkelen".into(),
            ambition: String::new(),
            themes: vec![],
        },
        ProgrammeEvent::IndicatorAdded {
            key: indicator("ernstig-overgewicht"),
            name: "Ernstig overgewicht".into(),
            pillar_id: pillar("gezond-en-samen-leven"),
            source: "RIVM".into(),
            unit: "% van de volwassenen".into(),
            direction: Direction::LowerIsBetter,
            definition: String::new(),
        },
        ProgrammeEvent::IndicatorAdded {
            key: indicator("wekelijkse-sporters"),
            name: "Wekelijkse sporters".into(),
            pillar_id: pillar("gezond-en-samen-leven"),
            source: "RIVM".into(),
            unit: "% van de volwassenen".into(),
            direction: Direction::HigherIsBetter,
            definition: String::new(),
        },
        ProgrammeEvent::ExecutionProgrammeAdded {
            execution_programme_id: execution_programme(),
            name: "Uitvoeringsprogramma 2024-2027".into(),
            period: YearRange::new(2024, 2027).expect("range"),
            areas: vec![area("crabbehof"), area("wielwijk")],
            decision: adopted_decision(),
        },
    ]
}

pub fn founding_member(id: &str, sector: Sector) -> NewMember {
    NewMember {
        member_id: member(id),
        sector,
        organisation: format!("Organisatie {id}"),
        representative: format!("Vertegenwoordiger {id}"),
        mandate: "Mandaat namens de achterban".into(),
    }
}

fn alliance_events(rule: AdoptionRule) -> Vec<AllianceEvent> {
    vec![
        AllianceEvent::AllianceFormed {
            programme_id: programme_id(),
            period: YearRange::new(2023, 2043).expect("range"),
            chair: member("gemeente"),
            adoption_rule: rule,
            formed_on: date(2023, 1, 15),
            members: vec![
                founding_member("gemeente", Sector::Gemeente),
                founding_member("woningcorporatie", Sector::Woningcorporatie),
                founding_member("politie", Sector::Politie),
                founding_member("rijk", Sector::Rijk),
            ],
        },
        AllianceEvent::MeetingHeld {
            meeting_id: meeting_id(),
            date: date(2023, 6, 15),
            title: "Alliantieoverleg".into(),
            present: vec![member("gemeente"), member("politie"), member("rijk")],
        },
    ]
}

fn proposed(id: DecisionId, programme: ProgrammeId) -> DecisionEvent {
    DecisionEvent::DecisionProposed {
        decision_id: id,
        programme_id: programme,
        title: "Besluit".into(),
        description: String::new(),
    }
}

fn adopted() -> DecisionEvent {
    DecisionEvent::DecisionAdopted {
        meeting_date: date(2023, 6, 15),
        present: vec![member("gemeente")],
        votes: vec![Vote {
            member: member("gemeente"),
            choice: VoteChoice::For,
        }],
        meeting_id: Some(meeting_id()),
    }
}

/// The fixed ledger; `rule` is the alliance's adoption rule.
#[derive(Debug, Clone)]
pub struct FakeLedger {
    programmes: HashMap<ProgrammeId, Programme>,
    alliances: HashMap<ProgrammeId, Alliance>,
    decisions: HashMap<DecisionId, Decision>,
}

impl FakeLedger {
    pub fn with_rule(rule: AdoptionRule) -> Self {
        let programmes = HashMap::from([
            (programme_id(), build(programme_events(programme_id()))),
            (
                other_programme_id(),
                build(programme_events(other_programme_id())),
            ),
        ]);
        let alliances = HashMap::from([(programme_id(), build(alliance_events(rule)))]);
        let decisions = HashMap::from([
            (
                adopted_decision(),
                build(vec![
                    proposed(adopted_decision(), programme_id()),
                    adopted(),
                ]),
            ),
            (
                open_decision(),
                build(vec![proposed(open_decision(), programme_id())]),
            ),
            (
                foreign_decision(),
                build(vec![
                    proposed(foreign_decision(), other_programme_id()),
                    adopted(),
                ]),
            ),
        ]);
        Self {
            programmes,
            alliances,
            decisions,
        }
    }

    pub fn services(self) -> LedgerServices {
        LedgerServices::new(Arc::new(self))
    }
}

/// The standard fixed ledger, with majority adoption.
pub fn services() -> LedgerServices {
    FakeLedger::with_rule(AdoptionRule::Majority).services()
}

#[async_trait::async_trait]
impl Lookup for FakeLedger {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        Ok(self.programmes.get(id).cloned().unwrap_or_default())
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        Ok(self.alliances.get(programme).cloned().unwrap_or_default())
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        Ok(self.decisions.get(&id).cloned().unwrap_or_default())
    }
}
