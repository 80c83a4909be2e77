//! The benchmark's workload: a national view of the Nationaal Programma Leefbaarheid en
//! Veiligheid, generated from a seed and recorded through the ledger's own command path.
//!
//! Twenty programmes (`focusgebied-01` … `focusgebied-20`, synthetic: names, CBS codes and
//! figures are made up), each shaped like the Dordt West demo ledger:
//!
//! - the programme with its central goal and subgoals, the comparators (Nederland, its
//!   gemeente), the focus area, its wijken and buurten (25 buurten a wijk at most, at least 4
//!   wijken), the five pillars and the 22 indicators of the demo;
//! - the alliance with eight members (gemeente in the chair, consensus), a meeting a year
//!   2023-2026;
//! - six decisions, each proposed and adopted in a meeting; one of them amended before, and a
//!   seventh proposed and withdrawn;
//! - the first execution programme (2024-2027), added on its decision and put into execution;
//! - a Rijk fund of EUR 20 million for 2024-2027, allocated to each pillar each year;
//! - a target (streefwaarde) for 2030 per indicator for the focus area;
//! - then the measurements: every indicator in every buurt for every year 2023-2043, a value
//!   drawn from the seed, year by year (one year of every programme after the other), until the
//!   log holds exactly the requested number of events (the last year may stop part-way).
//!
//! The set-up goes command by command through [`CommandBus::execute`] (as the demo does), the
//! buurten and the measurements through the bulk path ([`CommandBus::execute_bulk`], as a file
//! import does), every command with an idempotency key. The number of buurten a programme gets
//! is the smallest that lets the measurements fill the log to the requested size.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::access::Role;
use domain::alliance::{Alliance, AllianceCommand, FormAlliance, HoldMeeting, NewMember, Sector};
use domain::budget::{AllocateBudget, AllocationTarget, Fund, FundCommand, Funder, RegisterFund};
use domain::decision::{
    AdoptDecision, AdoptionRule, AmendDecision, Decision, DecisionCommand, ProposeDecision, Vote,
    VoteChoice, WithdrawDecision,
};
use domain::ids::{
    AllocationId, AreaId, DecisionId, ExecutionProgrammeId, FundId, IndicatorKey, MeetingId,
    MemberId, PillarId, ProgrammeId,
};
use domain::measurement::{Measurement, MeasurementCommand, MeasurementKey, RecordMeasurement};
use domain::money::Cents;
use domain::period::{Period, YearRange};
use domain::programme::{
    AddArea, AddExecutionProgramme, AddIndicator, AddPillar, AdvanceExecutionProgramme, AreaKind,
    Direction, EstablishProgramme, Phase, Programme, ProgrammeCommand, SetProgrammeText, TextKind,
    Theme,
};
use domain::reference::LedgerServices;
use domain::target::{Baseline, SetTarget, Target, TargetCommand, TargetKey, TargetValue};
use domain::RuleViolation;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{BulkCommand, CommandBus, CommandContext, CommandError, Database, Loaded};
use uuid::Uuid;

/// Programmes of the national view.
pub const PROGRAMMES: usize = 20;
/// Years measured: the programme period.
pub const FIRST_YEAR: i32 = 2023;
pub const LAST_YEAR: i32 = 2043;
/// Buurten under one wijk at most.
const BUURTEN_PER_WIJK: usize = 25;
/// Wijken of a programme at least.
const MIN_WIJKEN: usize = 4;
/// Measurements per call of the bulk path (it appends them 5,000 a transaction).
const BULK_CHUNK: usize = 100_000;
/// Who records the workload.
const ACTOR: &str = "Benchmark";
const ORGANISATION: &str = "Programmabureau (benchmark)";

/// The five pillars of the national programme, with their indicators (key, name, source,
/// direction), as in the Dordt West demo.
/// An indicator: key, name, source, direction.
type IndicatorData = (&'static str, &'static str, &'static str, Direction);
/// A pillar: id, name, indicators.
type PillarData = (&'static str, &'static str, &'static [IndicatorData]);

const PILLARS: &[PillarData] = &[
    (
        "gezond-en-samen-leven",
        "Gezond en samen leven",
        &[
            (
                "zeer-ernstig-eenzaam",
                "(Zeer) ernstig eenzaam",
                "RIVM",
                Direction::LowerIsBetter,
            ),
            (
                "ernstig-overgewicht",
                "Ernstig overgewicht",
                "RIVM",
                Direction::LowerIsBetter,
            ),
            (
                "goed-ervaren-gezondheid",
                "Goed ervaren gezondheid",
                "RIVM",
                Direction::HigherIsBetter,
            ),
            (
                "wekelijkse-sporters",
                "Wekelijkse sporters",
                "RIVM",
                Direction::HigherIsBetter,
            ),
            (
                "vrijwilligerswerk",
                "Vrijwilligerswerk",
                "RIVM",
                Direction::HigherIsBetter,
            ),
        ],
    ),
    (
        "wonen-en-fysieke-leefomgeving",
        "Wonen en fysieke leefomgeving",
        &[
            (
                "leefbaarometer-wonen",
                "Leefbaarometer wonen",
                "Leefbaarometer",
                Direction::HigherIsBetter,
            ),
            (
                "gemiddelde-woz-waarde",
                "Gem. WOZ waarde",
                "CBS",
                Direction::HigherIsBetter,
            ),
            (
                "energielabels-e-g",
                "Energielabels E-G",
                "RVO",
                Direction::LowerIsBetter,
            ),
        ],
    ),
    (
        "leren-en-ontwikkelen",
        "Leren en ontwikkelen",
        &[
            (
                "verwachte-onderwijsachterstand",
                "Verwachte onderwijsachterstand",
                "CBS",
                Direction::LowerIsBetter,
            ),
            (
                "zonder-startkwalificatie",
                "18 t/m 30 jarigen zonder startkwalificatie",
                "KIS Wijkmonitor",
                Direction::LowerIsBetter,
            ),
            (
                "onder-advisering",
                "Onder advisering",
                "DUO",
                Direction::LowerIsBetter,
            ),
        ],
    ),
    (
        "werk-en-inkomen",
        "Werk en inkomen",
        &[
            (
                "ses-woa-score",
                "SES-WOA score",
                "CBS",
                Direction::HigherIsBetter,
            ),
            (
                "arbeidsparticipatie",
                "Arbeidsparticipatie",
                "CBS",
                Direction::HigherIsBetter,
            ),
            (
                "persoonlijk-inkomen",
                "Persoonlijk inkomen",
                "CBS",
                Direction::HigherIsBetter,
            ),
            ("bijstand", "Bijstand", "CBS", Direction::LowerIsBetter),
            (
                "ww-uitkering",
                "WW- uitkering",
                "CBS",
                Direction::LowerIsBetter,
            ),
            (
                "huishoudens-rond-sociaal-minimum",
                "Huishoudens onder of rond sociaal minimum",
                "CBS",
                Direction::LowerIsBetter,
            ),
        ],
    ),
    (
        "leefbaar-en-veilig",
        "Leefbaar en veilig",
        &[
            (
                "totaal-misdrijven",
                "Totaal aantal misdrijven",
                "Politie",
                Direction::LowerIsBetter,
            ),
            (
                "risicoscore-jonge-aanwas",
                "Risicoscore jonge aanwas",
                "Zicht op ondermijning",
                Direction::LowerIsBetter,
            ),
            (
                "leefbaarometer-veiligheid",
                "Leefbaarometer veiligheid",
                "Leefbaarometer",
                Direction::HigherIsBetter,
            ),
            (
                "ervaren-overlast",
                "Ervaren overlast",
                "Veiligheidsmonitor",
                Direction::LowerIsBetter,
            ),
            (
                "onveiligheidsgevoelens",
                "Onveiligheidsgevoelens",
                "Veiligheidsmonitor",
                Direction::LowerIsBetter,
            ),
        ],
    ),
];

/// The alliance's members: id and sector.
const MEMBERS: &[(&str, Sector)] = &[
    ("gemeente", Sector::Gemeente),
    ("woningcorporatie", Sector::Woningcorporatie),
    ("primair-onderwijs", Sector::PrimairOnderwijs),
    ("voortgezet-onderwijs", Sector::VoortgezetOnderwijs),
    ("ondernemers", Sector::Ondernemers),
    ("sociaal-wijkteam", Sector::SociaalWijkteam),
    ("politie", Sector::Politie),
    ("rijk", Sector::Rijk),
];

/// The decisions every programme takes: key, title, the year of the meeting that adopts it.
const DECISIONS: &[(&str, &str, i32)] = &[
    (
        "programma",
        "Vaststellen nationaal programma 2023-2043",
        2023,
    ),
    (
        "uitvoeringsprogramma",
        "Vaststellen eerste uitvoeringsprogramma",
        2023,
    ),
    ("rijksmiddelen", "Inzet rijksmiddelen 2024-2027", 2024),
    ("streefwaarden", "Vaststellen streefwaarden 2030", 2024),
    ("monitor", "Vaststellen monitor en indicatoren", 2025),
    ("bewonersparticipatie", "Aanpak bewonersparticipatie", 2026),
];

/// How large the workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// Events the log holds once the workload is recorded.
    pub events: usize,
    pub seed: u64,
    pub programmes: usize,
    pub wijken_per_programme: usize,
    pub buurten_per_programme: usize,
    pub indicators: usize,
    pub years: usize,
    /// Events of the set-up (everything but the measurements).
    pub setup_events: usize,
    /// Measurements recorded: `events - setup_events`.
    pub measurements: usize,
}

impl Shape {
    /// The shape of a log of `events` events: the fewest buurten a programme that let the
    /// measurements fill it.
    pub fn for_events(events: usize, seed: u64) -> anyhow::Result<Self> {
        let indicators: usize = PILLARS.iter().map(|p| p.2.len()).sum();
        let years = usize::try_from(LAST_YEAR - FIRST_YEAR + 1)?;
        for buurten in 1..=99 * BUURTEN_PER_WIJK {
            let wijken = buurten.div_ceil(BUURTEN_PER_WIJK).max(MIN_WIJKEN);
            let setup_events = PROGRAMMES * setup_commands(wijken, buurten);
            let capacity = PROGRAMMES * buurten * indicators * years;
            if setup_events >= events {
                bail!(
                    "--events {events} is too few: the set-up of {PROGRAMMES} programmes alone \
                     takes {setup_events} events"
                );
            }
            if setup_events + capacity >= events {
                return Ok(Self {
                    events,
                    seed,
                    programmes: PROGRAMMES,
                    wijken_per_programme: wijken,
                    buurten_per_programme: buurten,
                    indicators,
                    years,
                    setup_events,
                    measurements: events - setup_events,
                });
            }
        }
        bail!("--events {events} is more than 99 wijken of {BUURTEN_PER_WIJK} buurten can hold")
    }

    /// A short description, for the report.
    pub fn describe(&self) -> String {
        format!(
            "{} events: {} programmes, each with {} wijken and {} buurten, {} indicators; \
             {} set-up events, {} measurements (every indicator in every buurt for every year \
             {FIRST_YEAR}-{LAST_YEAR}, year by year until the log is full); seed {}",
            self.events,
            self.programmes,
            self.wijken_per_programme,
            self.buurten_per_programme,
            self.indicators,
            self.setup_events,
            self.measurements,
            self.seed
        )
    }
}

/// The commands of one programme's set-up, buurten included (one event each).
fn setup_commands(wijken: usize, buurten: usize) -> usize {
    let indicators: usize = PILLARS.iter().map(|p| p.2.len()).sum();
    let programme = 1 + 2 + 3 + wijken + buurten + PILLARS.len() + indicators + 2;
    let alliance = 1 + 4;
    let decisions = DECISIONS.len() * 2 + 1 + 2;
    let fund = 1 + PILLARS.len() * 4;
    programme + alliance + decisions + fund + indicators
}

/// The programme id of programme `n` (1-based).
pub fn programme(n: usize) -> ProgrammeId {
    id(ProgrammeId::parse, &format!("focusgebied-{n:02}"))
}

/// Every indicator key, in pillar order.
pub fn indicators() -> Vec<(IndicatorKey, &'static str)> {
    PILLARS
        .iter()
        .flat_map(|p| p.2.iter())
        .map(|(key, _, source, _)| (id(IndicatorKey::parse, key), *source))
        .collect()
}

/// The buurt ids of a programme of this shape, in order.
pub fn buurten(shape: &Shape) -> Vec<AreaId> {
    (0..shape.buurten_per_programme)
        .map(|b| id(AreaId::parse, &buurt_id(b)))
        .collect()
}

fn buurt_id(b: usize) -> String {
    format!(
        "buurt-{}-{:02}",
        b / BUURTEN_PER_WIJK + 1,
        b % BUURTEN_PER_WIJK + 1
    )
}

fn id<T, E: std::fmt::Display>(parse: fn(&str) -> Result<T, E>, text: &str) -> T {
    match parse(text) {
        Ok(v) => v,
        Err(e) => unreachable!("the workload's id {text:?} is invalid: {e}"),
    }
}

fn stable_uuid(seed: u64, name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("alliance-ledger:bench:{seed}:{name}").as_bytes(),
    )
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn years(first: i32, last: i32) -> YearRange {
    match YearRange::new(first, last) {
        Ok(r) => r,
        Err(e) => unreachable!("the workload's period {first}-{last} is invalid: {e}"),
    }
}

/// The SHA-256 of a command's content, as the import gives its rows (`request_hash`).
pub fn content_hash(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

enum Command {
    Programme(ProgrammeCommand),
    Alliance(AllianceCommand),
    Decision(DecisionId, DecisionCommand),
    Fund(FundId, FundCommand),
    Target(TargetKey, TargetCommand),
}

struct Step {
    key: String,
    command: Command,
}

/// One programme's set-up: the steps before its buurten, the buurten, and the steps after.
struct Setup {
    before: Vec<Step>,
    buurten: Vec<AddArea>,
    after: Vec<Step>,
}

fn setup(shape: &Shape, n: usize) -> Setup {
    let seed = shape.seed;
    let pid = programme(n);
    let gm = format!("{:04}", 9000 + n);
    let step = |key: &str, command| Step {
        key: format!("bench/{seed}/{pid}/{key}"),
        command,
    };
    let area = |area_id: &str, name: String, kind, parent: Option<&str>, code: Option<String>| {
        ProgrammeCommand::AddArea(AddArea {
            area_id: id(AreaId::parse, area_id),
            name,
            kind,
            parent: parent.map(|p| id(AreaId::parse, p)),
            cbs_code: code,
        })
    };
    let mut before = vec![
        step(
            "programme",
            Command::Programme(ProgrammeCommand::Establish(EstablishProgramme {
                programme_id: pid.clone(),
                name: format!("Nationaal Programma Focusgebied {n:02} (synthetisch)"),
                municipality_code: format!("GM{gm}"),
                national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
                period: years(FIRST_YEAR, LAST_YEAR),
                ambition:
                    "De volgende generatie groeit gezonder op, heeft betere ontwikkelkansen, \
                           meer perspectief op werk en een fijnere woon- en leefomgeving."
                        .into(),
            })),
        ),
        step(
            "text/central-goal",
            Command::Programme(ProgrammeCommand::SetText(SetProgrammeText {
                kind: TextKind::CentralGoal,
                items: vec![
                    "De leefbaarheid en veiligheid van de meest kwetsbare gebieden in \
                             15-20 jaar op orde brengen en het perspectief van de bewoners \
                             verbeteren."
                        .into(),
                ],
            })),
        ),
        step(
            "text/subgoals",
            Command::Programme(ProgrammeCommand::SetText(SetProgrammeText {
                kind: TextKind::Subgoals,
                items: vec![
                    "Het verbeteren van de fysieke leefomgeving".into(),
                    "Het bieden van een beter perspectief".into(),
                    "Het vergroten van de veiligheid".into(),
                ],
            })),
        ),
        step(
            "area/nederland",
            Command::Programme(area(
                "nederland",
                "Nederland".into(),
                AreaKind::Land,
                None,
                Some("NL01".into()),
            )),
        ),
        step(
            "area/gemeente",
            Command::Programme(area(
                "gemeente",
                format!("Gemeente {n:02}"),
                AreaKind::Gemeente,
                Some("nederland"),
                Some(format!("GM{gm}")),
            )),
        ),
        step(
            "area/focusgebied",
            Command::Programme(area(
                "focusgebied",
                format!("Focusgebied {n:02}"),
                AreaKind::FocusArea,
                Some("gemeente"),
                None,
            )),
        ),
    ];
    for w in 1..=shape.wijken_per_programme {
        before.push(step(
            &format!("area/wijk-{w}"),
            Command::Programme(area(
                &format!("wijk-{w}"),
                format!("Wijk {w}"),
                AreaKind::Wijk,
                Some("focusgebied"),
                Some(format!("WK{gm}{w:02}")),
            )),
        ));
    }
    let buurten = (0..shape.buurten_per_programme)
        .map(|b| {
            let (w, k) = (b / BUURTEN_PER_WIJK + 1, b % BUURTEN_PER_WIJK + 1);
            AddArea {
                area_id: id(AreaId::parse, &buurt_id(b)),
                name: format!("Buurt {w}-{k:02}"),
                kind: AreaKind::Buurt,
                parent: Some(id(AreaId::parse, &format!("wijk-{w}"))),
                cbs_code: Some(format!("BU{gm}{w:02}{k:02}")),
            }
        })
        .collect();
    for (number, (pillar, name, indicators)) in PILLARS.iter().enumerate() {
        let pillar_id = id(PillarId::parse, pillar);
        before.push(step(
            &format!("pillar/{pillar}"),
            Command::Programme(ProgrammeCommand::AddPillar(AddPillar {
                pillar_id: pillar_id.clone(),
                number: u8::try_from(number + 1).unwrap_or(u8::MAX),
                name: (*name).into(),
                ambition: format!("De ambitie van de pijler {name}."),
                themes: vec![Theme {
                    name: (*name).into(),
                    description: String::new(),
                }],
            })),
        ));
        for (key, name, source, direction) in *indicators {
            before.push(step(
                &format!("indicator/{key}"),
                Command::Programme(ProgrammeCommand::AddIndicator(AddIndicator {
                    key: id(IndicatorKey::parse, key),
                    name: (*name).into(),
                    pillar_id: pillar_id.clone(),
                    source: (*source).into(),
                    unit: "illustratief".into(),
                    direction: *direction,
                    definition: format!("Indicator van de landelijke monitor, bron {source}."),
                })),
            ));
        }
    }

    let member = |m: &str| id(MemberId::parse, m);
    let meeting =
        |year: i32| MeetingId::from_uuid(stable_uuid(seed, &format!("{pid}/meeting/{year}")));
    let decision =
        |key: &str| DecisionId::from_uuid(stable_uuid(seed, &format!("{pid}/decision/{key}")));
    let consent = || {
        MEMBERS
            .iter()
            .map(|(m, _)| Vote {
                member: member(m),
                choice: VoteChoice::Consent,
            })
            .collect::<Vec<_>>()
    };
    let mut after = vec![step(
        "alliance",
        Command::Alliance(AllianceCommand::Form(FormAlliance {
            programme_id: pid.clone(),
            chair: member("gemeente"),
            adoption_rule: AdoptionRule::Consensus,
            formed_on: date(FIRST_YEAR, 1, 1),
            founding_members: MEMBERS
                .iter()
                .map(|(m, sector)| NewMember {
                    member_id: member(m),
                    sector: *sector,
                    organisation: format!("{m} (focusgebied {n:02})"),
                    representative: format!("Vertegenwoordiger {m}"),
                    mandate: "Vertegenwoordigt met mandaat de eigen achterban.".into(),
                })
                .collect(),
        })),
    )];
    for year in 2023..=2026 {
        after.push(step(
            &format!("meeting/{year}"),
            Command::Alliance(AllianceCommand::HoldMeeting(HoldMeeting {
                meeting_id: meeting(year),
                date: date(year, 6, 15),
                title: format!("Alliantieoverleg {year}"),
                present: MEMBERS.iter().map(|(m, _)| member(m)).collect(),
            })),
        ));
    }
    for (i, (key, title, year)) in DECISIONS.iter().enumerate() {
        let did = decision(key);
        after.push(step(
            &format!("decision/{key}/proposed"),
            Command::Decision(
                did,
                DecisionCommand::Propose(ProposeDecision {
                    decision_id: did,
                    programme_id: pid.clone(),
                    title: (*title).into(),
                    description: format!("{title}, zoals voorgesteld aan de alliantie."),
                }),
            ),
        ));
        if i == 1 {
            after.push(step(
                &format!("decision/{key}/amended"),
                Command::Decision(
                    did,
                    DecisionCommand::Amend(AmendDecision {
                        title: None,
                        description: Some(format!("{title}, aangepast na inspraak.")),
                        reason: "Inbreng van bewoners verwerkt.".into(),
                    }),
                ),
            ));
        }
        after.push(step(
            &format!("decision/{key}/adopted"),
            Command::Decision(
                did,
                DecisionCommand::Adopt(AdoptDecision {
                    meeting_id: meeting(*year),
                    votes: consent(),
                }),
            ),
        ));
    }
    let withdrawn = decision("ingetrokken");
    after.push(step(
        "decision/ingetrokken/proposed",
        Command::Decision(
            withdrawn,
            DecisionCommand::Propose(ProposeDecision {
                decision_id: withdrawn,
                programme_id: pid.clone(),
                title: "Voorstel dat wordt ingetrokken".into(),
                description: "Vervangen door een beter voorstel.".into(),
            }),
        ),
    ));
    after.push(step(
        "decision/ingetrokken/withdrawn",
        Command::Decision(
            withdrawn,
            DecisionCommand::Withdraw(WithdrawDecision {
                reason: "Vervangen door een beter voorstel.".into(),
            }),
        ),
    ));
    let ep = id(
        ExecutionProgrammeId::parse,
        "uitvoeringsprogramma-2024-2027",
    );
    after.push(step(
        "execution-programme",
        Command::Programme(ProgrammeCommand::AddExecutionProgramme(
            AddExecutionProgramme {
                execution_programme_id: ep.clone(),
                name: "Eerste uitvoeringsprogramma".into(),
                period: years(2024, 2027),
                areas: (1..=shape.wijken_per_programme)
                    .map(|w| id(AreaId::parse, &format!("wijk-{w}")))
                    .collect(),
                decision: decision("uitvoeringsprogramma"),
            },
        )),
    ));
    after.push(step(
        "execution-programme/execute",
        Command::Programme(ProgrammeCommand::AdvanceExecutionProgramme(
            AdvanceExecutionProgramme {
                execution_programme_id: ep,
                phase: Phase::Execute,
            },
        )),
    ));
    let fund = FundId::from_uuid(stable_uuid(seed, &format!("{pid}/fund")));
    after.push(step(
        "fund",
        Command::Fund(
            fund,
            FundCommand::Register(RegisterFund {
                fund_id: fund,
                programme_id: pid.clone(),
                funder: Funder::Rijk,
                funder_name: "Het Rijk".into(),
                name: "Rijksmiddelen Leefbaarheid en Veiligheid".into(),
                amount: Cents::euros(20_000_000),
                period: years(2024, 2027),
                decision: decision("rijksmiddelen"),
            }),
        ),
    ));
    for year in 2024..=2027 {
        for (pillar, ..) in PILLARS {
            after.push(step(
                &format!("fund/allocation/{pillar}/{year}"),
                Command::Fund(
                    fund,
                    FundCommand::Allocate(AllocateBudget {
                        allocation_id: AllocationId::from_uuid(stable_uuid(
                            seed,
                            &format!("{pid}/allocation/{pillar}/{year}"),
                        )),
                        target: AllocationTarget::Pillar(id(PillarId::parse, pillar)),
                        year,
                        amount: Cents::euros(1_000_000),
                        decision: decision("rijksmiddelen"),
                    }),
                ),
            ));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for (indicator, _) in indicators() {
        let key = TargetKey {
            programme_id: pid.clone(),
            indicator: indicator.clone(),
            area: id(AreaId::parse, "focusgebied"),
            horizon_year: 2030,
        };
        let baseline = Decimal::new(rng.gen_range(50..=950), 1);
        after.push(step(
            &format!("target/{indicator}"),
            Command::Target(
                key.clone(),
                TargetCommand::Set(SetTarget {
                    key,
                    value: TargetValue::Absolute(baseline + Decimal::new(25, 1)),
                    baseline: Some(Baseline {
                        value: baseline,
                        year: FIRST_YEAR,
                    }),
                    decision: decision("streefwaarden"),
                    reason: "Streefwaarde uit het programma.".into(),
                }),
            ),
        ));
    }
    Setup {
        before,
        buurten,
        after,
    }
}

/// What recording the workload did.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub shape: Shape,
    /// The log's head afterwards: `shape.events`.
    pub head: i64,
    #[serde(with = "crate::report::seconds")]
    pub setup_time: Duration,
    #[serde(with = "crate::report::seconds")]
    pub measurements_time: Duration,
}

fn context(request: &str) -> CommandContext {
    CommandContext {
        actor: ACTOR.into(),
        role: Role::Secretary,
        organisation: Some(ORGANISATION.into()),
        request_id: request.into(),
        idempotency_key: None,
        request_hash: None,
    }
}

async fn execute<A>(
    bus: &CommandBus,
    services: &LedgerServices,
    key: &str,
    aggregate_id: &str,
    command: A::Command,
    name: &str,
) -> anyhow::Result<()>
where
    A: Aggregate<Services = LedgerServices> + Clone,
    A::Command: Clone,
    A::Error: RuleViolation,
{
    let mut context = context(&format!("bench-{key}"));
    context.idempotency_key = Some(key.to_owned());
    bus.execute::<A>(aggregate_id, command, name, services, &context)
        .await
        .map(|_| ())
        .map_err(|e| {
            let reason = match e {
                CommandError::Domain(e) => format!("{e} ({})", e.rule()),
                other => other.to_string(),
            };
            anyhow::anyhow!("the workload's step {key} was refused: {reason}")
        })
}

async fn run_step(
    bus: &CommandBus,
    services: &LedgerServices,
    pid: &str,
    step: Step,
) -> anyhow::Result<()> {
    let key = step.key.as_str();
    match step.command {
        Command::Programme(c) => {
            let name = c.name();
            execute::<Programme>(bus, services, key, pid, c, name).await
        }
        Command::Alliance(c) => {
            let name = c.name();
            execute::<Alliance>(bus, services, key, pid, c, name).await
        }
        Command::Decision(id, c) => {
            let name = c.name();
            execute::<Decision>(bus, services, key, &id.to_string(), c, name).await
        }
        Command::Fund(id, c) => {
            let name = c.name();
            execute::<Fund>(bus, services, key, &id.to_string(), c, name).await
        }
        Command::Target(target, c) => {
            let name = c.name();
            execute::<Target>(bus, services, key, &target.aggregate_id(), c, name).await
        }
    }
}

/// Sends `commands` through the bulk path as new aggregates (the database is new, so none of
/// them is recorded yet; were one, its append would conflict and the batch be decided again).
async fn bulk<A>(
    bus: &CommandBus,
    commands: Vec<BulkCommand<A>>,
    request: &str,
    fresh: bool,
) -> anyhow::Result<usize>
where
    A: Aggregate<Services = LedgerServices> + Clone,
    A::Command: Clone,
    A::Error: RuleViolation,
{
    let known: HashMap<String, Loaded<A>> = if fresh {
        commands
            .iter()
            .map(|c| {
                let empty = Loaded {
                    aggregate: A::default(),
                    sequence: 0,
                };
                (c.aggregate_id.clone(), empty)
            })
            .collect()
    } else {
        HashMap::new()
    };
    let count = commands.len();
    let outcome = bus
        .execute_bulk::<A>(
            commands,
            || bus.batch_services(),
            &context(request),
            known,
            |_| {},
        )
        .await
        .map_err(|failure| {
            let reason = match &failure.error {
                CommandError::Domain(e) => format!("{e} ({})", e.rule()),
                other => other.to_string(),
            };
            anyhow::anyhow!(
                "the workload's bulk {request} stopped at command {}: {reason}",
                failure.index
            )
        })?;
    ensure!(
        outcome.recorded == count && outcome.events == count,
        "the workload's bulk {request} recorded {} commands and {} events of {count}",
        outcome.recorded,
        outcome.events
    );
    Ok(count)
}

/// The measurement of `indicator` in `area` for `period` of programme `n`, as the workload
/// records it, with its value drawn from `rng`.
pub fn measurement(
    n: usize,
    indicator: &IndicatorKey,
    source: &str,
    area: &AreaId,
    period: Period,
    value: Decimal,
) -> RecordMeasurement {
    RecordMeasurement {
        key: MeasurementKey {
            programme_id: programme(n),
            indicator: indicator.clone(),
            area: area.clone(),
            period,
        },
        value,
        source: source.to_owned(),
        published_on: date(period.year() + 1, 6, 30),
        illustrative: true,
    }
}

/// Records the workload of `shape` into `db`, an empty ledger.
pub async fn record(db: &Database, shape: Shape) -> anyhow::Result<Recorded> {
    ensure!(db.head().await? == 0, "the workload needs an empty ledger");
    let bus = CommandBus::new(db.clone());
    let services = bus.services();
    let started = Instant::now();
    for n in 1..=shape.programmes {
        let pid = programme(n).to_string();
        let Setup {
            before,
            buurten,
            after,
        } = setup(&shape, n);
        for step in before {
            run_step(&bus, &services, &pid, step).await?;
        }
        let buurten = buurten
            .into_iter()
            .map(|area| {
                let key = format!("bench/{}/{pid}/area/{}", shape.seed, area.area_id);
                BulkCommand::<Programme> {
                    aggregate_id: pid.clone(),
                    command: ProgrammeCommand::AddArea(area),
                    command_name: "AddArea",
                    request_hash: Some(content_hash(&key)),
                    idempotency_key: Some(key),
                }
            })
            .collect();
        bulk(&bus, buurten, &format!("bench-{pid}-buurten"), false).await?;
        for step in after {
            run_step(&bus, &services, &pid, step).await?;
        }
    }
    let setup_time = started.elapsed();
    let head = db.head().await?;
    ensure!(
        usize::try_from(head)? == shape.setup_events,
        "the set-up recorded {head} events, the shape expects {}",
        shape.setup_events
    );

    let started = Instant::now();
    let indicators = indicators();
    let buurten = buurten(&shape);
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let mut pending: Vec<BulkCommand<Measurement>> = Vec::with_capacity(BULK_CHUNK);
    let mut left = shape.measurements;
    let mut chunk = 0;
    'years: for year in FIRST_YEAR..=LAST_YEAR {
        for n in 1..=shape.programmes {
            for area in &buurten {
                for (indicator, source) in &indicators {
                    if left == 0 {
                        break 'years;
                    }
                    left -= 1;
                    let value = Decimal::new(rng.gen_range(0..100_000), 1);
                    let command =
                        measurement(n, indicator, source, area, Period::Year(year), value);
                    let aggregate_id = command.key.aggregate_id();
                    let key = format!("bench/{}/measurement/{aggregate_id}", shape.seed);
                    pending.push(BulkCommand {
                        request_hash: Some(content_hash(&format!("{key};{value};{source}"))),
                        idempotency_key: Some(key),
                        aggregate_id,
                        command: MeasurementCommand::Record(command),
                        command_name: "RecordMeasurement",
                    });
                    if pending.len() == BULK_CHUNK {
                        chunk += 1;
                        let commands = std::mem::take(&mut pending);
                        bulk(&bus, commands, &format!("bench-measurements-{chunk}"), true).await?;
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        chunk += 1;
        bulk(&bus, pending, &format!("bench-measurements-{chunk}"), true).await?;
    }
    let measurements_time = started.elapsed();
    let head = db.head().await?;
    ensure!(
        usize::try_from(head)? == shape.events,
        "the workload recorded {head} events, not {}",
        shape.events
    );
    Ok(Recorded {
        shape,
        head,
        setup_time,
        measurements_time,
    })
}

/// The key of the `i`-th extra measurement (W1's mutations and their baselines): programme,
/// indicator and buurt in turn, then a day from 2023-01-01 on. Days are never the workload's
/// periods (years), so these measurements are new.
pub fn extra_measurement(
    shape: &Shape,
    i: usize,
) -> anyhow::Result<(usize, IndicatorKey, &'static str, AreaId, Period)> {
    let indicators = indicators();
    let n = i % shape.programmes + 1;
    let rest = i / shape.programmes;
    let (indicator, source) = indicators[rest % indicators.len()].clone();
    let rest = rest / indicators.len();
    let area = id(AreaId::parse, &buurt_id(rest % shape.buurten_per_programme));
    let day = u64::try_from(rest / shape.buurten_per_programme)?;
    let on = date(FIRST_YEAR, 1, 1)
        .checked_add_days(chrono::Days::new(day))
        .context("a day")?;
    ensure!(
        on <= date(LAST_YEAR, 12, 31),
        "extra measurement {i} falls after the programme period"
    );
    Ok((n, indicator, source, area, Period::Day(on)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_shape_takes_the_fewest_buurten_that_fill_the_log() {
        let shape = Shape::for_events(20_000, 1).expect("a shape");
        assert_eq!(shape.buurten_per_programme, 2);
        assert_eq!(shape.setup_events + shape.measurements, 20_000);
        for events in [20_000, 250_000, 1_000_000] {
            let shape = Shape::for_events(events, 1).expect("a shape");
            let capacity = |b: usize| PROGRAMMES * b * shape.indicators * shape.years;
            assert!(shape.measurements <= capacity(shape.buurten_per_programme));
            let fewer = shape.buurten_per_programme - 1;
            let wijken = fewer.div_ceil(BUURTEN_PER_WIJK).max(MIN_WIJKEN);
            assert!(
                PROGRAMMES * setup_commands(wijken, fewer) + capacity(fewer) < events,
                "{events} events fit with fewer buurten"
            );
        }
    }

    #[test]
    fn too_few_events_for_the_set_up_are_refused() {
        let error = Shape::for_events(1_000, 1).expect_err("too few");
        assert!(error.to_string().contains("too few"), "{error}");
    }

    #[test]
    fn the_set_up_has_as_many_commands_as_counted() {
        let shape = Shape::for_events(300_000, 7).expect("a shape");
        let setup = setup(&shape, 3);
        assert_eq!(
            setup.before.len() + setup.buurten.len() + setup.after.len(),
            setup_commands(shape.wijken_per_programme, shape.buurten_per_programme)
        );
    }

    #[test]
    fn extra_measurements_are_new_and_distinct() {
        let shape = Shape::for_events(20_000, 1).expect("a shape");
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            let (n, indicator, _, area, period) = extra_measurement(&shape, i).expect("a key");
            assert!(matches!(period, Period::Day(_)), "not a workload period");
            assert!(
                seen.insert((n, indicator, area, period)),
                "extra {i} repeats"
            );
        }
    }
}
