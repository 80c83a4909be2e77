//! Random command sequences over the aggregates, for property tests (the `arbitrary` feature;
//! always built for this crate's own tests).
//!
//! [`MemoryLedger`] keeps every aggregate in memory and decides each [`Step`] with the
//! aggregate's own `handle`, against a [`Lookup`] over what it holds: the rules that look
//! beyond one aggregate (an adopted decision of the same programme, a known area, a current
//! member, a recorded meeting) see exactly what the steps before recorded, as
//! `store::StoreLookup` sees the log. Accepted steps append their events to an in-memory log
//! in order; refused steps leave everything as it was. [`strategy`] generates the steps:
//! small pools of ids, so that steps keep meeting the same funds, decisions and targets, and
//! amounts, dates and texts that sit on both sides of each rule.
//!
//! [`MemoryLedger::dordt_west`] starts from a fixed prologue (two programmes with their
//! alliances, a meeting each, one adopted decision each, and a fund with one allocation),
//! itself decided step by step.

pub mod strategy;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, Waker};

use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use uuid::Uuid;

use crate::alliance::{
    Alliance, AllianceCommand, AllianceEvent, FormAlliance, HoldMeeting, NewMember, Sector,
};
use crate::budget::{
    AllocateBudget, AllocationTarget, Fund, FundCommand, FundEvent, Funder, RegisterFund,
};
use crate::commitment::{Commitment, CommitmentCommand, CommitmentEvent};
use crate::decision::{
    AdoptDecision, AdoptionRule, Decision, DecisionCommand, DecisionEvent, ProposeDecision, Vote,
    VoteChoice,
};
use crate::error::RuleViolation;
use crate::ids::{
    AllocationId, AreaId, BudgetLineId, CommitmentId, DecisionId, FundId, IndicatorKey, MeetingId,
    MemberId, PillarId, ProgrammeId,
};
use crate::money::Cents;
use crate::period::YearRange;
use crate::programme::{
    AddArea, AddIndicator, AddPillar, AreaKind, Direction, EstablishProgramme, Programme,
    ProgrammeCommand, ProgrammeEvent,
};
use crate::reference::{LedgerServices, Lookup, LookupError};
use crate::target::{Target, TargetCommand, TargetEvent, TargetKey};

/// One command addressed to one aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Programme(ProgrammeId, ProgrammeCommand),
    Alliance(ProgrammeId, AllianceCommand),
    Decision(DecisionId, DecisionCommand),
    Fund(FundId, FundCommand),
    Target(TargetKey, TargetCommand),
    Commitment(CommitmentId, CommitmentCommand),
}

impl Step {
    /// The aggregate type and id the step is addressed to.
    pub fn aggregate(&self) -> (&'static str, String) {
        match self {
            Self::Programme(id, _) => (Programme::TYPE, id.to_string()),
            Self::Alliance(id, _) => (Alliance::TYPE, id.to_string()),
            Self::Decision(id, _) => (Decision::TYPE, id.to_string()),
            Self::Fund(id, _) => (Fund::TYPE, id.to_string()),
            Self::Target(key, _) => (Target::TYPE, key.aggregate_id()),
            Self::Commitment(id, _) => (Commitment::TYPE, id.to_string()),
        }
    }

    /// The command's name, as recorded in event metadata.
    pub fn command_name(&self) -> &'static str {
        match self {
            Self::Programme(_, c) => c.name(),
            Self::Alliance(_, c) => c.name(),
            Self::Decision(_, c) => c.name(),
            Self::Fund(_, c) => c.name(),
            Self::Target(_, c) => c.name(),
            Self::Commitment(_, c) => c.name(),
        }
    }
}

/// An event of any of the aggregates a [`Step`] reaches.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    Programme(ProgrammeEvent),
    Alliance(AllianceEvent),
    Decision(DecisionEvent),
    Fund(FundEvent),
    Target(TargetEvent),
    Commitment(CommitmentEvent),
}

impl AnyEvent {
    fn domain_event(&self) -> &dyn ErasedEvent {
        match self {
            Self::Programme(e) => e,
            Self::Alliance(e) => e,
            Self::Decision(e) => e,
            Self::Fund(e) => e,
            Self::Target(e) => e,
            Self::Commitment(e) => e,
        }
    }

    pub fn event_type(&self) -> String {
        self.domain_event().event_type()
    }

    pub fn event_version(&self) -> String {
        self.domain_event().event_version()
    }

    /// The payload as the event store serialises it.
    pub fn payload(&self) -> serde_json::Value {
        self.domain_event().payload()
    }

    /// The decision the event cites in a `decision` field, as the read models find it.
    pub fn cited_decision(&self) -> Option<DecisionId> {
        let payload = self.payload();
        let body = payload.as_object()?.values().next()?;
        DecisionId::parse(body.get("decision")?.as_str()?).ok()
    }
}

/// [`DomainEvent`] and serialisation, object safe.
trait ErasedEvent {
    fn event_type(&self) -> String;
    fn event_version(&self) -> String;
    fn payload(&self) -> serde_json::Value;
}

impl<E: DomainEvent> ErasedEvent for E {
    fn event_type(&self) -> String {
        DomainEvent::event_type(self)
    }
    fn event_version(&self) -> String {
        DomainEvent::event_version(self)
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("events serialise")
    }
}

/// One event of the in-memory log.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    /// The event's sequence within its aggregate, from 1.
    pub sequence: i64,
    /// The command that recorded it.
    pub command: &'static str,
    pub event: AnyEvent,
}

/// Why a step was refused, and whether the refusing handler left its aggregate alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The rule the error names (`RuleViolation::rule`).
    pub rule: &'static str,
    pub message: String,
    /// The handler changed its copy of the aggregate or wrote events before it refused.
    pub touched: bool,
}

/// Every aggregate the steps reach, by aggregate id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregates {
    pub programmes: BTreeMap<String, Programme>,
    pub alliances: BTreeMap<String, Alliance>,
    pub decisions: BTreeMap<String, Decision>,
    pub funds: BTreeMap<String, Fund>,
    pub targets: BTreeMap<String, Target>,
    pub commitments: BTreeMap<String, Commitment>,
}

impl Aggregates {
    /// Folds a log into aggregates with each aggregate's own `apply`: what loading each one
    /// from the event store gives.
    pub fn fold(log: &[Recorded]) -> Self {
        fn fold_into<A: Aggregate>(map: &mut BTreeMap<String, A>, id: &str, event: A::Event) {
            map.entry(id.to_owned()).or_default().apply(event);
        }
        let mut all = Self::default();
        for r in log {
            let id = r.aggregate_id.as_str();
            match r.event.clone() {
                AnyEvent::Programme(e) => fold_into(&mut all.programmes, id, e),
                AnyEvent::Alliance(e) => fold_into(&mut all.alliances, id, e),
                AnyEvent::Decision(e) => fold_into(&mut all.decisions, id, e),
                AnyEvent::Fund(e) => fold_into(&mut all.funds, id, e),
                AnyEvent::Target(e) => fold_into(&mut all.targets, id, e),
                AnyEvent::Commitment(e) => fold_into(&mut all.commitments, id, e),
            }
        }
        all
    }
}

/// The domain's [`Lookup`] over the aggregates a [`MemoryLedger`] holds.
#[derive(Debug, Clone)]
struct MemoryLookup(Arc<RwLock<Aggregates>>);

impl MemoryLookup {
    fn read<T>(&self, f: impl FnOnce(&Aggregates) -> T) -> Result<T, LookupError> {
        let all = self
            .0
            .read()
            .map_err(|_| LookupError("the in-memory ledger is poisoned".into()))?;
        Ok(f(&all))
    }
}

#[async_trait::async_trait]
impl Lookup for MemoryLookup {
    async fn programme(&self, id: &ProgrammeId) -> Result<Programme, LookupError> {
        self.read(|a| a.programmes.get(id.as_str()).cloned().unwrap_or_default())
    }

    async fn alliance(&self, programme: &ProgrammeId) -> Result<Alliance, LookupError> {
        self.read(|a| {
            a.alliances
                .get(programme.as_str())
                .cloned()
                .unwrap_or_default()
        })
    }

    async fn decision(&self, id: DecisionId) -> Result<Decision, LookupError> {
        self.read(|a| {
            a.decisions
                .get(&id.to_string())
                .cloned()
                .unwrap_or_default()
        })
    }
}

/// Runs a future that never waits: the handlers' only awaits are the in-memory lookup and an
/// uncontended lock of the event sink.
fn run_to_completion<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("a command handler waited on something the in-memory ledger never provides")
}

/// Every aggregate in memory, with the log of the events that built them.
#[derive(Debug, Clone, Default)]
pub struct MemoryLedger {
    aggregates: Arc<RwLock<Aggregates>>,
    log: Vec<Recorded>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ledger after the fixed prologue (see [`prologue`]).
    pub fn dordt_west() -> Self {
        let mut ledger = Self::new();
        for step in prologue() {
            if let Err(refusal) = ledger.execute(&step) {
                panic!("the prologue step {step:?} was refused: {refusal:?}");
            }
        }
        ledger
    }

    /// A copy of every aggregate as it stands.
    pub fn aggregates(&self) -> Aggregates {
        self.aggregates.read().expect("not poisoned").clone()
    }

    /// Every event recorded, in order.
    pub fn log(&self) -> &[Recorded] {
        &self.log
    }

    /// Decides the step with its aggregate's own rules; on success records its events and
    /// keeps the aggregate as the handler left it, and returns the events.
    pub fn execute(&mut self, step: &Step) -> Result<Vec<AnyEvent>, Refusal> {
        let (aggregate_type, aggregate_id) = step.aggregate();
        let command = step.command_name();
        let events = match step.clone() {
            Step::Programme(_, c) => {
                self.decide(&aggregate_id, c, |a| &mut a.programmes, AnyEvent::Programme)
            }
            Step::Alliance(_, c) => {
                self.decide(&aggregate_id, c, |a| &mut a.alliances, AnyEvent::Alliance)
            }
            Step::Decision(_, c) => {
                self.decide(&aggregate_id, c, |a| &mut a.decisions, AnyEvent::Decision)
            }
            Step::Fund(_, c) => self.decide(&aggregate_id, c, |a| &mut a.funds, AnyEvent::Fund),
            Step::Target(_, c) => {
                self.decide(&aggregate_id, c, |a| &mut a.targets, AnyEvent::Target)
            }
            Step::Commitment(_, c) => self.decide(
                &aggregate_id,
                c,
                |a| &mut a.commitments,
                AnyEvent::Commitment,
            ),
        }?;
        let recorded = self
            .log
            .iter()
            .filter(|r| r.aggregate_type == aggregate_type && r.aggregate_id == aggregate_id)
            .count() as i64;
        for (sequence, event) in (recorded + 1..).zip(&events) {
            self.log.push(Recorded {
                aggregate_type,
                aggregate_id: aggregate_id.clone(),
                sequence,
                command,
                event: event.clone(),
            });
        }
        Ok(events)
    }

    fn decide<A>(
        &mut self,
        id: &str,
        command: A::Command,
        slot: fn(&mut Aggregates) -> &mut BTreeMap<String, A>,
        wrap: fn(A::Event) -> AnyEvent,
    ) -> Result<Vec<AnyEvent>, Refusal>
    where
        A: Aggregate<Services = LedgerServices> + Clone + PartialEq,
        A::Error: RuleViolation,
    {
        let before = {
            let mut all = self.aggregates.write().expect("not poisoned");
            slot(&mut all).get(id).cloned().unwrap_or_default()
        };
        let services = LedgerServices::new(Arc::new(MemoryLookup(self.aggregates.clone())));
        let mut aggregate = before.clone();
        let sink = EventSink::default();
        let decided = run_to_completion(aggregate.handle(command, &services, &sink));
        let events = run_to_completion(sink.collect());
        match decided {
            Ok(()) => {
                if !events.is_empty() {
                    let mut all = self.aggregates.write().expect("not poisoned");
                    slot(&mut all).insert(id.to_owned(), aggregate);
                }
                Ok(events.into_iter().map(wrap).collect())
            }
            Err(error) => Err(Refusal {
                rule: error.rule(),
                message: error.to_string(),
                touched: aggregate != before || !events.is_empty(),
            }),
        }
    }
}

// The fixed ids and names of the prologue and the generated steps.

/// A uuid that reads as what it is: `prefix` in front, `n` at the end.
pub(crate) fn tagged(prefix: u128, n: u128) -> Uuid {
    Uuid::from_u128((prefix << 96) | n)
}

pub fn decision(n: u128) -> DecisionId {
    DecisionId::from_uuid(tagged(0xdec0_0000, n))
}
pub fn meeting(n: u128) -> MeetingId {
    MeetingId::from_uuid(tagged(0xe000_0000, n))
}
pub fn fund(n: u128) -> FundId {
    FundId::from_uuid(tagged(0xf000_0000, n))
}
pub fn allocation(n: u128) -> AllocationId {
    AllocationId::from_uuid(tagged(0xa000_0000, n))
}
pub fn line(n: u128) -> BudgetLineId {
    BudgetLineId::from_uuid(tagged(0xb000_0000, n))
}
pub fn commitment(n: u128) -> CommitmentId {
    CommitmentId::from_uuid(tagged(0xc000_0000, n))
}

fn slug<T>(parse: fn(&str) -> Result<T, crate::ids::SlugError>, text: &str) -> T {
    parse(text).expect("a fixed slug")
}
pub fn programme(id: &str) -> ProgrammeId {
    slug(ProgrammeId::parse, id)
}
pub fn member(id: &str) -> MemberId {
    slug(MemberId::parse, id)
}
pub fn area(id: &str) -> AreaId {
    slug(AreaId::parse, id)
}
pub fn pillar(id: &str) -> PillarId {
    slug(PillarId::parse, id)
}
pub fn indicator(id: &str) -> IndicatorKey {
    slug(IndicatorKey::parse, id)
}
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

/// The programme with an alliance of five members, where most steps happen.
pub const DORDT_WEST: &str = "dordt-west";
/// A second programme, with an alliance of one, whose decisions the first may not cite.
pub const HEERLEN_NOORD: &str = "heerlen-noord";

/// The members of Dordt West's alliance with their organisations; the first chairs.
pub const DORDT_WEST_MEMBERS: [(&str, &str, Sector); 5] = [
    ("gemeente", "Gemeente Dordrecht", Sector::Gemeente),
    ("woonbron", "Woonbron", Sector::Woningcorporatie),
    ("politie", "Politie Zuid-Holland-Zuid", Sector::Politie),
    ("rijk", "Ministerie van BZK", Sector::Rijk),
    (
        "onderwijs",
        "Stichting Primair Onderwijs",
        Sector::PrimairOnderwijs,
    ),
];

/// The decision of Dordt West adopted in the prologue.
pub fn founding_decision() -> DecisionId {
    decision(0xa)
}
/// The decision of Heerlen Noord adopted in the prologue.
pub fn heerlen_decision() -> DecisionId {
    decision(0xb)
}
/// Dordt West's meeting of 15 June 2023, with gemeente, politie and rijk present.
pub fn first_meeting() -> MeetingId {
    meeting(1)
}
fn heerlen_meeting() -> MeetingId {
    meeting(0xb)
}

fn establish(id: &str, name: &str, code: &str) -> Step {
    Step::Programme(
        programme(id),
        ProgrammeCommand::Establish(EstablishProgramme {
            programme_id: programme(id),
            name: name.into(),
            municipality_code: code.into(),
            national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
            period: YearRange::new(2023, 2043).expect("a range"),
            ambition: String::new(),
        }),
    )
}

fn add_area(programme_id: &str, id: &str, kind: AreaKind, parent: Option<&str>) -> Step {
    let code = match (kind, id) {
        (AreaKind::Land, _) => Some("NL01"),
        (AreaKind::Gemeente, "dordrecht") => Some("GM0505"),
        (AreaKind::Gemeente, _) => Some("GM0917"),
        _ => None,
    };
    Step::Programme(
        programme(programme_id),
        ProgrammeCommand::AddArea(AddArea {
            area_id: area(id),
            name: id.into(),
            kind,
            parent: parent.map(area),
            cbs_code: code.map(str::to_owned),
        }),
    )
}

fn add_pillar(programme_id: &str, id: &str, number: u8) -> Step {
    Step::Programme(
        programme(programme_id),
        ProgrammeCommand::AddPillar(AddPillar {
            pillar_id: pillar(id),
            number,
            name: id.into(),
            ambition: String::new(),
            themes: vec![],
        }),
    )
}

fn add_indicator(id: &str, direction: Direction) -> Step {
    Step::Programme(
        programme(DORDT_WEST),
        ProgrammeCommand::AddIndicator(AddIndicator {
            key: indicator(id),
            name: id.into(),
            pillar_id: pillar("gezond-en-samen-leven"),
            source: "RIVM".into(),
            unit: "% van de volwassenen".into(),
            direction,
            definition: String::new(),
        }),
    )
}

fn new_member(id: &str, organisation: &str, sector: Sector) -> NewMember {
    NewMember {
        member_id: member(id),
        sector,
        organisation: organisation.into(),
        representative: format!("Vertegenwoordiger {id}"),
        mandate: String::new(),
    }
}

fn adopted(
    programme_id: &str,
    id: DecisionId,
    meeting_id: MeetingId,
    voters: &[&str],
) -> [Step; 2] {
    [
        Step::Decision(
            id,
            DecisionCommand::Propose(ProposeDecision {
                decision_id: id,
                programme_id: programme(programme_id),
                title: "Vaststelling".into(),
                description: String::new(),
            }),
        ),
        Step::Decision(
            id,
            DecisionCommand::Adopt(AdoptDecision {
                meeting_id,
                votes: voters
                    .iter()
                    .map(|m| Vote {
                        member: member(m),
                        choice: VoteChoice::For,
                    })
                    .collect(),
            }),
        ),
    ]
}

/// Dordt West (areas Nederland, Dordrecht, Dordt West, Crabbehof and Wielwijk; two pillars;
/// two indicators) with its alliance of five, the meeting of 15 June 2023 and an adopted
/// decision; Heerlen Noord (area Heerlen) with an alliance of one, a meeting and an adopted
/// decision; then Dordt West's fund 1 (50,000 euros for 2024-2027) with allocation 1
/// (20,000 euros to the first pillar in 2025).
pub fn prologue() -> Vec<Step> {
    let dw = DORDT_WEST;
    let hn = HEERLEN_NOORD;
    let mut steps = vec![
        establish(dw, "Nationaal Programma Dordt West", "GM0505"),
        add_area(dw, "nederland", AreaKind::Land, None),
        add_area(dw, "dordrecht", AreaKind::Gemeente, Some("nederland")),
        add_area(dw, "dordt-west", AreaKind::FocusArea, Some("dordrecht")),
        add_area(dw, "crabbehof", AreaKind::Wijk, Some("dordt-west")),
        add_area(dw, "wielwijk", AreaKind::Wijk, Some("dordt-west")),
        add_pillar(dw, "gezond-en-samen-leven", 1),
        add_pillar(dw, "leren-en-ontwikkelen", 3),
        add_indicator("ernstig-overgewicht", Direction::LowerIsBetter),
        add_indicator("wekelijkse-sporters", Direction::HigherIsBetter),
        Step::Alliance(
            programme(dw),
            AllianceCommand::Form(FormAlliance {
                programme_id: programme(dw),
                chair: member("gemeente"),
                adoption_rule: AdoptionRule::Majority,
                formed_on: date(2023, 1, 15),
                founding_members: DORDT_WEST_MEMBERS
                    .iter()
                    .map(|(id, organisation, sector)| new_member(id, organisation, *sector))
                    .collect(),
            }),
        ),
        Step::Alliance(
            programme(dw),
            AllianceCommand::HoldMeeting(HoldMeeting {
                meeting_id: first_meeting(),
                date: date(2023, 6, 15),
                title: "Alliantieoverleg".into(),
                present: vec![member("gemeente"), member("politie"), member("rijk")],
            }),
        ),
        establish(hn, "Nationaal Programma Heerlen Noord", "GM0917"),
        add_area(hn, "heerlen", AreaKind::Gemeente, None),
        add_pillar(hn, "veilig", 1),
        Step::Alliance(
            programme(hn),
            AllianceCommand::Form(FormAlliance {
                programme_id: programme(hn),
                chair: member("gemeente-heerlen"),
                adoption_rule: AdoptionRule::Majority,
                formed_on: date(2023, 2, 1),
                founding_members: vec![new_member(
                    "gemeente-heerlen",
                    "Gemeente Heerlen",
                    Sector::Gemeente,
                )],
            }),
        ),
        Step::Alliance(
            programme(hn),
            AllianceCommand::HoldMeeting(HoldMeeting {
                meeting_id: heerlen_meeting(),
                date: date(2023, 3, 1),
                title: "Alliantieoverleg Heerlen".into(),
                present: vec![member("gemeente-heerlen")],
            }),
        ),
    ];
    steps.extend(adopted(
        dw,
        founding_decision(),
        first_meeting(),
        &["gemeente", "politie", "rijk"],
    ));
    steps.extend(adopted(
        hn,
        heerlen_decision(),
        heerlen_meeting(),
        &["gemeente-heerlen"],
    ));
    steps.extend([
        Step::Fund(
            fund(1),
            FundCommand::Register(RegisterFund {
                fund_id: fund(1),
                programme_id: programme(dw),
                funder: Funder::Rijk,
                funder_name: "Ministerie van BZK".into(),
                name: "Volkshuisvestingsfonds".into(),
                amount: Cents::euros(50_000),
                period: YearRange::new(2024, 2027).expect("a range"),
                decision: founding_decision(),
            }),
        ),
        Step::Fund(
            fund(1),
            FundCommand::Allocate(AllocateBudget {
                allocation_id: allocation(1),
                target: AllocationTarget::Pillar(pillar("gezond-en-samen-leven")),
                year: 2025,
                amount: Cents::euros(20_000),
                decision: founding_decision(),
            }),
        ),
    ]);
    steps
}
