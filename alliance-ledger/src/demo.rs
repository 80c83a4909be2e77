//! The Dordt West demo ledger: the programme as the document "Nationaal Programma Dordt West.
//! Voorstel ambitie, opgaven en thema's" describes it, recorded through the same command path a
//! secretary uses.
//!
//! What the document gives is recorded as it stands: the period, ambition, central goal,
//! subgoals, action lines, opgaven, uitgangspunten and ingredients; the five pillars with every
//! theme, koppelkans (with its ministry) and indicator (with its source); the four wijken and
//! the comparators Dordrecht and Nederland; the alliance's sectors, chaired by the mayor; the
//! adoption of the programme (second quarter of 2023) and of the first execution programme
//! (third quarter of 2023); and EUR 27.5 million of the gemeente for eleven schools over ten
//! years. What the document does not give (exact meeting dates, the alliance's formation date,
//! how each member voted, which ten years, units of the indicators) is marked *illustratief* in the data itself.
//!
//! Every step carries an idempotency key (`demo/dordt-west/...`); a step whose key is already
//! in the log is skipped, so recording the demo twice adds nothing the second time.

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::access::Role;
use domain::alliance::{Alliance, AllianceCommand, FormAlliance, HoldMeeting, NewMember, Sector};
use domain::budget::{AllocateBudget, AllocationTarget, Fund, FundCommand, Funder, RegisterFund};
use domain::decision::{
    AdoptDecision, AdoptionRule, Decision, DecisionCommand, ProposeDecision, Vote, VoteChoice,
};
use domain::ids::{
    AllocationId, AreaId, DecisionId, ExecutionProgrammeId, FundId, IndicatorKey, MeetingId,
    MemberId, PillarId, ProgrammeId, SlugError,
};
use domain::money::Cents;
use domain::period::YearRange;
use domain::programme::{
    AddArea, AddExecutionProgramme, AddIndicator, AddKoppelkans, AddPillar,
    AdvanceExecutionProgramme, AreaKind, Direction, EstablishProgramme, Phase, Programme,
    ProgrammeCommand, SetProgrammeText, TextKind, Theme,
};
use domain::reference::LedgerServices;
use domain::RuleViolation;
use store::{CommandBus, CommandContext, CommandError, Database, StoreError};
use uuid::Uuid;

/// The programme the demo records.
pub const PROGRAMME: &str = "dordt-west";

/// What recording the demo did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoReport {
    /// Steps recorded now.
    pub recorded: usize,
    /// Steps found in the log already and skipped.
    pub skipped: usize,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo step {step} was refused: {reason}")]
    Refused { step: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A uuid that is the same on every run, derived from a name.
fn stable_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("alliance-ledger:demo:{name}").as_bytes(),
    )
}

fn slug<T>(parse: fn(&str) -> Result<T, SlugError>, text: &str) -> T {
    match parse(text) {
        Ok(v) => v,
        Err(e) => unreachable!("demo slug {text:?} is invalid: {e}"),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn years(first: i32, last: i32) -> YearRange {
    match YearRange::new(first, last) {
        Ok(r) => r,
        Err(e) => unreachable!("demo period {first}-{last} is invalid: {e}"),
    }
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

enum Command {
    Programme(ProgrammeCommand),
    Alliance(AllianceCommand),
    Decision(DecisionId, DecisionCommand),
    Fund(FundId, FundCommand),
}

struct Step {
    key: String,
    command: Command,
}

struct Recorder<'a> {
    bus: &'a CommandBus,
    db: &'a Database,
    services: LedgerServices,
    report: DemoReport,
}

impl Recorder<'_> {
    async fn run<A>(
        &self,
        key: &str,
        aggregate_id: &str,
        command: A::Command,
        name: &str,
    ) -> Result<(), DemoError>
    where
        A: Aggregate<Services = LedgerServices> + Clone,
        A::Command: Clone,
        A::Error: RuleViolation,
    {
        let context = CommandContext {
            actor: "Dordt West demo".into(),
            role: Role::Secretary,
            organisation: Some("Programmabureau Dordt West".into()),
            request_id: format!("demo-{}", Uuid::new_v4()),
            idempotency_key: Some(key.to_owned()),
            request_hash: None,
        };
        self.bus
            .execute::<A>(aggregate_id, command, name, &self.services, &context)
            .await
            .map(|_| ())
            .map_err(|e| DemoError::Refused {
                step: key.to_owned(),
                reason: match e {
                    CommandError::Domain(e) => format!("{e} ({})", e.rule()),
                    other => other.to_string(),
                },
            })
    }

    async fn record(&mut self, step: Step) -> Result<(), DemoError> {
        if !self
            .db
            .events_with_idempotency_key(&step.key)
            .await?
            .is_empty()
        {
            self.report.skipped += 1;
            return Ok(());
        }
        let key = step.key.as_str();
        match step.command {
            Command::Programme(c) => {
                let name = c.name();
                self.run::<Programme>(key, PROGRAMME, c, name).await?;
            }
            Command::Alliance(c) => {
                let name = c.name();
                self.run::<Alliance>(key, PROGRAMME, c, name).await?;
            }
            Command::Decision(id, c) => {
                let name = c.name();
                self.run::<Decision>(key, &id.to_string(), c, name).await?;
            }
            Command::Fund(id, c) => {
                let name = c.name();
                self.run::<Fund>(key, &id.to_string(), c, name).await?;
            }
        }
        self.report.recorded += 1;
        Ok(())
    }
}

/// Records the Dordt West demo into `db`, skipping every step already recorded.
pub async fn record_demo(db: &Database) -> Result<DemoReport, DemoError> {
    let bus = CommandBus::new(db.clone());
    let mut recorder = Recorder {
        services: bus.services(),
        bus: &bus,
        db,
        report: DemoReport::default(),
    };
    for step in steps() {
        recorder.record(step).await?;
    }
    Ok(recorder.report)
}

fn step(key: impl Into<String>, command: Command) -> Step {
    Step {
        key: format!("demo/{PROGRAMME}/{}", key.into()),
        command,
    }
}

fn programme_id() -> ProgrammeId {
    slug(ProgrammeId::parse, PROGRAMME)
}

struct PillarData {
    id: &'static str,
    number: u8,
    name: &'static str,
    ambition: &'static str,
    themes: &'static [(&'static str, &'static str)],
    koppelkansen: &'static [(&'static str, Option<&'static str>)],
    indicators: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Direction,
    )],
}

const PILLARS: &[PillarData] = &[
    PillarData {
        id: "gezond-en-samen-leven",
        number: 1,
        name: "Gezond en samen leven",
        ambition: "Een gezonde leefstijl bestaande uit goed eten en voldoende bewegen is voor meer bewoners bereikbaar en ze voelen zich meer verbonden met hun buurt en wijk.",
        themes: &[
            ("Gezonde leefstijl", "Sport & bewegen en gezonde voeding."),
            ("Positieve gezondheid", "Het accent ligt niet op ziekte/aandoening, maar op mensen zelf, op hun veerkracht en op wat hun leven betekenisvol maakt. Met die bredere benadering draag je bij aan het vermogen van mensen om met de fysieke, emotionele en sociale uitdagingen in het leven om te gaan. Én om zo veel mogelijk eigen regie te voeren."),
            ("Community building", "Eenzaamheid, informele zorg en ondersteuning, trots op de wijk, nabijheid/zichtbaarheid professionele instanties."),
            ("Samen in de wijk", "Vrijwilligerswerk, inclusie, omkijken naar je buren."),
        ],
        koppelkansen: &[
            ("Preventieakkoord", Some("VWS")),
            ("Kansrijke Start", Some("VWS")),
            ("Agenda Veerkracht en weerbaarheid", Some("SZW")),
            ("Opdracht Dordt Sociaal", None),
            ("Opgave Inclusieve Stad", None),
            ("Lokale Sportvisie 2030", None),
            ("Dordtpas", None),
        ],
        indicators: &[
            ("zeer-ernstig-eenzaam", "(Zeer) ernstig eenzaam", "RIVM", "% van de volwassenen", Direction::LowerIsBetter),
            ("ernstig-overgewicht", "Ernstig overgewicht", "RIVM", "% van de volwassenen", Direction::LowerIsBetter),
            ("goed-ervaren-gezondheid", "Goed ervaren gezondheid", "RIVM", "% van de volwassenen", Direction::HigherIsBetter),
            ("wekelijkse-sporters", "Wekelijkse sporters", "RIVM", "% van de volwassenen", Direction::HigherIsBetter),
            ("vrijwilligerswerk", "Vrijwilligerswerk", "RIVM", "% van de volwassenen", Direction::HigherIsBetter),
        ],
    },
    PillarData {
        id: "wonen-en-fysieke-leefomgeving",
        number: 2,
        name: "Wonen en fysieke leefomgeving",
        ambition: "We realiseren meer kwalitatief goede woningen in een gemengde wijk waar het veilig en leefbaar wonen is. We zetten in op verduurzaming die zorgt voor meer comfortabele toekomstbestendige woningen met lagere energielasten. We werken aan een betere kwaliteit van de openbare ruimte.",
        themes: &[
            ("Diverse woningvoorraad", "Kwalitatief goede woningen, goed onderhouden woningen."),
            ("Aanpak slechte energielabels E, F, G", "In het kader van de verduurzaming en energiearmoede."),
            ("Schoon, heel en groen", ""),
        ],
        koppelkansen: &[
            ("Volkshuisvestingsfonds", Some("VRO")),
            ("Nationaal isolatieprogramma", Some("BZK")),
            ("Verduurzaming maatschappelijk vastgoed", Some("BZK")),
            ("Ontwikkelkader Crabbehof", None),
            ("Dordrecht Klimaatneutraal 2040", None),
        ],
        indicators: &[
            ("leefbaarometer-wonen", "Leefbaarometer wonen", "Leefbaarometer", "score", Direction::HigherIsBetter),
            ("gemiddelde-woz-waarde", "Gem. WOZ waarde", "CBS", "euro", Direction::HigherIsBetter),
            ("energielabels-e-g", "Energielabels E-G", "RVO", "% van de woningen", Direction::LowerIsBetter),
        ],
    },
    PillarData {
        id: "leren-en-ontwikkelen",
        number: 3,
        name: "Leren en ontwikkelen",
        ambition: "We zetten in op het verkleinen van onderwijsachterstanden en het verbeteren van de kwaliteit van het onderwijs. Onze aanpak is erop gericht dat meer kinderen en jongeren in staat worden gesteld hun talenten te ontwikkelen met perspectief op betaald werk.",
        themes: &[
            ("Onderwijsachterstanden", "Vroege voorschoolse educatie, ouderbetrokkenheid, taalontwikkeling, schoolverzuim."),
            ("Toekomstperspectief", "Ontbreken startkwalificatie, talentontwikkeling."),
            ("Laaggeletterdheid", "Taal, rekenen en digitale vaardigheden."),
        ],
        koppelkansen: &[
            ("School en omgeving", Some("OCW")),
            ("Tel mee met taal", Some("OCW")),
            ("Dordts leerprogramma", None),
            ("Glansrijke Toekomst voor Dordtse jongeren", None),
        ],
        indicators: &[
            ("verwachte-onderwijsachterstand", "Verwachte onderwijsachterstand", "CBS", "% van de kinderen", Direction::LowerIsBetter),
            ("zonder-startkwalificatie", "18 t/m 30 jarigen zonder startkwalificatie", "KIS Wijkmonitor", "% van de 18- tot en met 30-jarigen", Direction::LowerIsBetter),
            ("onder-advisering", "Onder advisering", "DUO", "% van de leerlingen", Direction::LowerIsBetter),
        ],
    },
    PillarData {
        id: "werk-en-inkomen",
        number: 4,
        name: "Werk en inkomen",
        ambition: "We voorkomen dat huishoudens geldzorgen krijgen en dat kinderen opgroeien in armoede. We verbeteren de bestaanszekerheid van bewoners met een laag inkomen. We willen dat meer mensen aan het werk zijn, makkelijker rond kunnen komen en een buffer hebben voor eventuele tegenvallers. We stimuleren de participatie te beginnen met dagbesteding: school of werk.",
        themes: &[
            ("Bestaanszekerheid", "Aanpak armoede en schulden."),
            ("Aandachthuishoudens", "Multiproblematiek."),
            ("Arbeidspotentieel beroepsbevolking", "Benutten, vergroten en behouden."),
        ],
        koppelkansen: &[
            ("Aanpak Geldzorgen, armoede en schulden", Some("SZW")),
            ("Glansrijke toekomst Dordtse jongeren", None),
            ("Banen met impact", None),
            ("Maatschappelijk betrokken ondernemen", None),
            ("Uitvoeringsbrigade", None),
        ],
        indicators: &[
            ("ses-woa-score", "SES-WOA score", "CBS", "score", Direction::HigherIsBetter),
            ("arbeidsparticipatie", "Arbeidsparticipatie", "CBS", "% van de beroepsbevolking", Direction::HigherIsBetter),
            ("persoonlijk-inkomen", "Persoonlijk inkomen", "CBS", "euro per jaar", Direction::HigherIsBetter),
            ("bijstand", "Bijstand", "CBS", "% van de inwoners", Direction::LowerIsBetter),
            ("ww-uitkering", "WW- uitkering", "CBS", "% van de inwoners", Direction::LowerIsBetter),
            ("huishoudens-rond-sociaal-minimum", "Huishoudens onder of rond sociaal minimum", "CBS", "% van de huishoudens", Direction::LowerIsBetter),
        ],
    },
    PillarData {
        id: "leefbaar-en-veilig",
        number: 5,
        name: "Leefbaar en veilig",
        ambition: "Iedere jongere groeit veilig op in een leefbare wijk met zicht op een mooie kansrijke toekomst. Bewoners voelen zich veilig in hun wijk waar ze zichzelf kunnen zijn.",
        themes: &[
            ("Jeugd en veiligheid", "Voorkomen jonge aanwas, wapenbezit, online criminaliteit."),
            ("Ondermijning", "Drugsaanpak, prominente negatieve rolmodellen, vastgoedcriminaliteit."),
            ("Sociale overlast", "Jongeren, middelengebruik, personen met onbegrepen gedrag."),
            ("Woonoverlast", "Slecht verhuurderschap."),
        ],
        koppelkansen: &[
            ("Preventie met gezag", Some("J&V")),
            ("Re-integratie officier", Some("J&V")),
            ("Integrale persoonsgerichte toeleiding naar arbeid", Some("J&V")),
            ("Alleen jij bepaalt", None),
            ("Meldpunt Ongewenst Verhuurbedrag", None),
        ],
        indicators: &[
            ("totaal-misdrijven", "Totaal aantal misdrijven", "Politie", "per 1.000 inwoners", Direction::LowerIsBetter),
            ("risicoscore-jonge-aanwas", "Risicoscore jonge aanwas", "Zicht op ondermijning", "score", Direction::LowerIsBetter),
            ("leefbaarometer-veiligheid", "Leefbaarometer veiligheid", "Leefbaarometer", "score", Direction::HigherIsBetter),
            ("sociale-overlast", "Sociale overlast", "Veiligheidsmonitor", "% van de inwoners", Direction::LowerIsBetter),
            ("onveiligheidsgevoelens", "Onveiligheidsgevoelens in de buurt", "Veiligheidsmonitor", "% van de inwoners", Direction::LowerIsBetter),
        ],
    },
];

const MEMBERS: &[(&str, Sector, &str, &str)] = &[
    (
        "gemeente-dordrecht",
        Sector::Gemeente,
        "Gemeente Dordrecht",
        "De burgemeester (voorzitter)",
    ),
    (
        "woningcorporatie",
        Sector::Woningcorporatie,
        "Woningcorporatie in Dordt West",
        "Vertegenwoordiger namens de woningcorporatie",
    ),
    (
        "primair-onderwijs",
        Sector::PrimairOnderwijs,
        "Primair onderwijs Dordrecht",
        "Vertegenwoordiger namens het primair onderwijs",
    ),
    (
        "voortgezet-onderwijs",
        Sector::VoortgezetOnderwijs,
        "Voortgezet onderwijs Dordrecht",
        "Vertegenwoordiger namens het voortgezet onderwijs",
    ),
    (
        "ondernemers",
        Sector::Ondernemers,
        "Ondernemers in Dordt West",
        "Vertegenwoordiger namens de ondernemers",
    ),
    (
        "sociaal-wijkteam",
        Sector::SociaalWijkteam,
        "Sociaal wijkteam, buurtwerk en jongerenwerk",
        "Vertegenwoordiger namens sociaal wijkteam, buurtwerk en jongerenwerk",
    ),
    (
        "politie",
        Sector::Politie,
        "Politie",
        "Vertegenwoordiger namens de politie",
    ),
    (
        "rijk",
        Sector::Rijk,
        "Het Rijk",
        "Vertegenwoordiger namens het Rijk",
    ),
];

const WIJKEN: &[(&str, &str)] = &[
    ("oud-krispijn", "Oud-Krispijn"),
    ("nieuw-krispijn", "Nieuw-Krispijn"),
    ("wielwijk", "Wielwijk"),
    ("crabbehof", "Crabbehof"),
];

fn programme_steps() -> Vec<Step> {
    let mut steps = vec![step(
        "programme",
        Command::Programme(ProgrammeCommand::Establish(EstablishProgramme {
            programme_id: programme_id(),
            name: "Nationaal Programma Dordt West".into(),
            municipality_code: "GM0505".into(),
            national_programme: "Nationaal Programma Leefbaarheid en Veiligheid".into(),
            period: years(2023, 2043),
            ambition: "De volgende generatie jeugd groeit gezonder op, heeft betere ontwikkelkansen, meer perspectief op werk en een fijnere woon- en leefomgeving. Daarvoor investeren we niet alleen in de jeugd, maar ook in de overige inwoners en hun woon, werk en leefomgeving. We groeien met Dordt West naar het Dordts gemiddelde.".into(),
        })),
    )];
    let text_steps: [(TextKind, &str, &[&str]); 6] = [
        (TextKind::CentralGoal, "central-goal", &["De leefbaarheid en veiligheid van de meest kwetsbare gebieden in Nederland in 15-20 jaar tijd op orde brengen en het perspectief van de bewoners verbeteren."]),
        (TextKind::Subgoals, "subgoals", &[
            "Het verbeteren van de fysieke leefomgeving",
            "Het bieden van een beter perspectief",
            "Het vergroten van de veiligheid",
        ]),
        (TextKind::ActionLines, "action-lines", &[
            "We zorgen voor een integrale aanpak met duidelijke regie en een adequaat juridisch instrumentarium",
            "We verbeteren slechte woningen en zorgen voor meer gemengde wijken",
            "We zorgen ervoor dat bewoners kunnen meedoen in de samenleving",
            "We investeren in de preventie van jeugdcriminaliteit en vergroten de weerbaarheid van jongeren",
        ]),
        (TextKind::Opgaven, "opgaven", &[
            "Het doorbreken van de intergenerationele overdracht van uitdagingen en achterstanden op diverse leefgebieden. Daar waar een samenloop is van problematieken zetten we ons extra in.",
            "Het vergroten van de bestaanszekerheid van de inwoners van Dordt West.",
            "Het versterken van het vertrouwen van de bewoners van Dordt West in de overheid en haar partners. Goede samenwerking tussen professionals en nabijheid in de wijk dragen daaraan bij.",
            "Het inzetten op community building om naast professionele ondersteuning ook informele netwerken te versterken.",
        ]),
        (TextKind::Uitgangspunten, "uitgangspunten", &[
            "We stellen bewoners centraal en betrekken ze actief.",
            "We focussen niet alleen op problemen, maar ook op kansen. Denk aan positieve gezondheid, talentontwikkeling en een beter imago van de wijken.",
            "We committeren ons aan een meerjarige aanpak en prioriteren de wijken in Dordt West.",
            "We vinden een balans tussen het aanpakken van dieperliggende oorzaken op de lange termijn en het op korte termijn inzetten op de aanpak van zichtbare symptomen die bewoners hinderen en ergeren in hun dagdagelijkse leven.",
            "We werken wijkgericht en waar het kan buurtgericht aan het behalen van onze ambitie, opgaven en doelstellingen.",
            "We zoeken zo veel mogelijk de verbinding met lopende initiatieven en projecten.",
            "We verbinden fysieke en sociale opgaven en interventies.",
            "De lessen die we leren en inzichten die we opdoen delen we met de rest van Dordrecht en de regio.",
        ]),
        (TextKind::Ingredients, "ingredients", &[
            "Een analyse van wat er aan de hand is",
            "Opgaven die worden opgepakt",
            "Doelstellingen en ambities",
            "Streefwaarden ten aanzien van de te realiseren doelen",
            "Een systeem van monitoring/meten van de voortgang van acties en interventies",
            "Hoe en waarbij bewoners worden betrokken",
        ]),
    ];
    for (kind, key, items) in text_steps {
        steps.push(step(
            format!("text/{key}"),
            Command::Programme(ProgrammeCommand::SetText(SetProgrammeText {
                kind,
                items: texts(items),
            })),
        ));
    }
    let area = |id: &str, name: &str, kind, parent: Option<&str>, code: Option<&str>| {
        step(
            format!("area/{id}"),
            Command::Programme(ProgrammeCommand::AddArea(AddArea {
                area_id: slug(AreaId::parse, id),
                name: name.into(),
                kind,
                parent: parent.map(|p| slug(AreaId::parse, p)),
                cbs_code: code.map(str::to_owned),
            })),
        )
    };
    steps.push(area(
        "nederland",
        "Nederland",
        AreaKind::Land,
        None,
        Some("NL01"),
    ));
    steps.push(area(
        "dordrecht",
        "Dordrecht",
        AreaKind::Gemeente,
        Some("nederland"),
        Some("GM0505"),
    ));
    steps.push(area(
        "dordt-west",
        "Dordt West",
        AreaKind::FocusArea,
        Some("dordrecht"),
        None,
    ));
    for (id, name) in WIJKEN {
        steps.push(area(id, name, AreaKind::Wijk, Some("dordt-west"), None));
    }
    for pillar in PILLARS {
        let pillar_id = slug(PillarId::parse, pillar.id);
        steps.push(step(
            format!("pillar/{}", pillar.id),
            Command::Programme(ProgrammeCommand::AddPillar(AddPillar {
                pillar_id: pillar_id.clone(),
                number: pillar.number,
                name: pillar.name.into(),
                ambition: pillar.ambition.into(),
                themes: pillar
                    .themes
                    .iter()
                    .map(|(name, description)| Theme {
                        name: (*name).into(),
                        description: (*description).into(),
                    })
                    .collect(),
            })),
        ));
        for (name, owner) in pillar.koppelkansen {
            steps.push(step(
                format!("pillar/{}/koppelkans/{name}", pillar.id),
                Command::Programme(ProgrammeCommand::AddKoppelkans(AddKoppelkans {
                    pillar_id: pillar_id.clone(),
                    name: (*name).into(),
                    owner: owner.map(str::to_owned),
                })),
            ));
        }
        for (key, name, source, unit, direction) in pillar.indicators {
            steps.push(step(
                format!("indicator/{key}"),
                Command::Programme(ProgrammeCommand::AddIndicator(AddIndicator {
                    key: slug(IndicatorKey::parse, key),
                    name: (*name).into(),
                    pillar_id: pillar_id.clone(),
                    source: (*source).into(),
                    unit: (*unit).into(),
                    direction: *direction,
                    definition: format!(
                        "Mogelijke indicator uit het programmadocument, bron {source}. De eenheid is illustratief; de monitor legt de definitie vast."
                    ),
                })),
            ));
        }
    }
    steps
}

fn member(id: &str) -> MemberId {
    slug(MemberId::parse, id)
}

fn all_consent() -> Vec<Vote> {
    MEMBERS
        .iter()
        .map(|(id, ..)| Vote {
            member: member(id),
            choice: VoteChoice::Consent,
        })
        .collect()
}

fn meeting(id: &str) -> MeetingId {
    MeetingId::from_uuid(stable_id(&format!("meeting/{id}")))
}

fn decision(id: &str) -> DecisionId {
    DecisionId::from_uuid(stable_id(&format!("decision/{id}")))
}

fn decided(key: &str, meeting_key: &str, title: &str, description: &str) -> [Step; 2] {
    let id = decision(key);
    [
        step(
            format!("decision/{key}/proposed"),
            Command::Decision(
                id,
                DecisionCommand::Propose(ProposeDecision {
                    decision_id: id,
                    programme_id: programme_id(),
                    title: title.into(),
                    description: description.into(),
                }),
            ),
        ),
        step(
            format!("decision/{key}/adopted"),
            Command::Decision(
                id,
                DecisionCommand::Adopt(AdoptDecision {
                    meeting_id: meeting(meeting_key),
                    votes: all_consent(),
                }),
            ),
        ),
    ]
}

fn hold(key: &str, on: NaiveDate, title: &str) -> Step {
    step(
        format!("meeting/{key}"),
        Command::Alliance(AllianceCommand::HoldMeeting(HoldMeeting {
            meeting_id: meeting(key),
            date: on,
            title: title.into(),
            present: MEMBERS.iter().map(|(id, ..)| member(id)).collect(),
        })),
    )
}

fn alliance_steps() -> Vec<Step> {
    let mut steps = vec![step(
        "alliance",
        Command::Alliance(AllianceCommand::Form(FormAlliance {
            programme_id: programme_id(),
            chair: member("gemeente-dordrecht"),
            adoption_rule: AdoptionRule::Consensus,
            formed_on: date(2023, 1, 1),
            founding_members: MEMBERS
                .iter()
                .map(|(id, sector, organisation, representative)| NewMember {
                    member_id: member(id),
                    sector: *sector,
                    organisation: (*organisation).into(),
                    representative: (*representative).into(),
                    mandate: "Vertegenwoordigt met mandaat de eigen achterban, die via gremia en netwerken wordt betrokken.".into(),
                })
                .collect(),
        })),
    )];
    steps.push(hold(
        "2023-q2",
        date(2023, 6, 15),
        "Alliantie Dordt West: vaststelling Nationaal Programma (datum illustratief; het document noemt het tweede kwartaal 2023)",
    ));
    steps.extend(decided(
        "programme-adopted",
        "2023-q2",
        "Vaststellen Nationaal Programma Dordt West 2023-2043",
        "Ambitie, opgaven, uitgangspunten en de vijf pijlers met hun thema's, koppelkansen en mogelijke indicatoren, zoals voorgesteld in het programmadocument. Stemming illustratief: alle leden stemmen in.",
    ));
    steps.push(hold(
        "2023-q3",
        date(2023, 9, 21),
        "Alliantie Dordt West: vaststelling eerste uitvoeringsprogramma (datum illustratief; het document noemt het derde kwartaal 2023)",
    ));
    steps.extend(decided(
        "execution-programme-adopted",
        "2023-q3",
        "Vaststellen eerste uitvoeringsprogramma",
        "Concrete interventies per wijk, samen met bewoners opgesteld; looptijd vier jaar (jaren illustratief). Stemming illustratief: alle leden stemmen in.",
    ));
    steps.extend(decided(
        "schools-fund",
        "2023-q3",
        "Inzet gemeentelijke middelen voor elf scholen (27,5 miljoen euro over tien jaar)",
        "In de strijd tegen kansenongelijkheid krijgen elf scholen in Dordrecht tien jaar lang extra geld van de gemeente, in totaal 27,5 miljoen euro. Welke tien jaren is illustratief (2023-2032), evenals de verdeling over de jaren.",
    ));
    steps
}

fn execution_and_budget_steps() -> Vec<Step> {
    let ep = slug(
        ExecutionProgrammeId::parse,
        "uitvoeringsprogramma-2024-2027",
    );
    let mut steps = vec![
        step(
            "execution-programme/2024-2027",
            Command::Programme(ProgrammeCommand::AddExecutionProgramme(
                AddExecutionProgramme {
                    execution_programme_id: ep.clone(),
                    name: "Eerste uitvoeringsprogramma Dordt West (looptijd illustratief)".into(),
                    period: years(2024, 2027),
                    areas: WIJKEN
                        .iter()
                        .map(|(id, _)| slug(AreaId::parse, id))
                        .collect(),
                    decision: decision("execution-programme-adopted"),
                },
            )),
        ),
        step(
            "execution-programme/2024-2027/execute",
            Command::Programme(ProgrammeCommand::AdvanceExecutionProgramme(
                AdvanceExecutionProgramme {
                    execution_programme_id: ep,
                    phase: Phase::Execute,
                },
            )),
        ),
    ];
    let fund = FundId::from_uuid(stable_id("fund/elf-scholen"));
    steps.push(step(
        "fund/elf-scholen",
        Command::Fund(
            fund,
            FundCommand::Register(RegisterFund {
                fund_id: fund,
                programme_id: programme_id(),
                funder: Funder::Gemeente,
                funder_name: "Gemeente Dordrecht".into(),
                name: "Extra middelen elf scholen (kansengelijkheid)".into(),
                amount: Cents::euros(27_500_000),
                period: years(2023, 2032),
                decision: decision("schools-fund"),
            }),
        ),
    ));
    for year in 2023..=2032 {
        steps.push(step(
            format!("fund/elf-scholen/allocation/{year}"),
            Command::Fund(
                fund,
                FundCommand::Allocate(AllocateBudget {
                    allocation_id: AllocationId::from_uuid(stable_id(&format!(
                        "allocation/elf-scholen/{year}"
                    ))),
                    target: AllocationTarget::Pillar(slug(PillarId::parse, "leren-en-ontwikkelen")),
                    year,
                    amount: Cents::euros(2_750_000),
                    decision: decision("schools-fund"),
                }),
            ),
        ));
    }
    steps
}

fn steps() -> Vec<Step> {
    let mut all = programme_steps();
    all.extend(alliance_steps());
    all.extend(execution_and_budget_steps());
    all
}
