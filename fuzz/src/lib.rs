//! What the fuzz targets share: a small fixed ledger (Dordt West with its areas, indicators and
//! pillars, two adopted decisions and one proposed, one fund with allocations) and the import
//! of a table as each layout, checked and planned against that ledger.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use chrono::NaiveDate;
use domain::budget::{AllocationTarget, FundEvent, Funder};
use domain::decision::{DecisionState, DecisionStatus};
use domain::ids::{AllocationId, AreaId, DecisionId, FundId, IndicatorKey, PillarId, ProgrammeId};
use domain::measurement::MeasurementState;
use domain::money::Cents;
use domain::period::YearRange;
use domain::programme::{Area, AreaKind, Direction, Indicator, Pillar, ProgrammeState};
use domain::target::{TargetState, TargetValue};
use import::budget::{self, BudgetFile, RecordedFund};
use import::measurements::{self, MeasurementFile};
use import::targets::{self, TargetFile};
use import::{Layout, Reference, Table};
use rust_decimal::Decimal;

/// The decisions of the sample targets file (`docs/examples/targets.csv`), both adopted.
pub const ADOPTED: [&str; 2] = [
    "9ee601de-30b9-55c7-810d-c003508b1219",
    "79810fed-d6ee-58dd-a6a7-34e24845261d",
];
/// A decision that is only proposed: a target citing it is refused.
pub const PROPOSED: &str = "00000000-0000-0000-0000-0000000000d2";
/// The fund of the sample budget file (`docs/examples/budget-lines.csv`).
pub const FUND: &str = "00000000-0000-0000-0000-0000000000f0";

/// The reference data every import target checks against.
pub struct Ledger {
    pub programme: ProgrammeState,
    pub decisions: Vec<DecisionState>,
    pub fund: RecordedFund,
}

fn slug<T>(parse: impl Fn(&str) -> Result<T, domain::ids::SlugError>, text: &str) -> T {
    parse(text).unwrap_or_else(|_| panic!("{text} is a slug"))
}

fn uuid(text: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(text).unwrap_or_else(|_| panic!("{text} is a uuid"))
}

fn programme() -> ProgrammeState {
    let areas_data: [(&str, &str, AreaKind, Option<&str>); 8] = [
        ("nederland", "Nederland", AreaKind::Land, Some("NL01")),
        ("dordrecht", "Dordrecht", AreaKind::Gemeente, Some("GM0505")),
        ("dordt-west", "Dordt West", AreaKind::FocusArea, None),
        ("crabbehof", "Crabbehof", AreaKind::Wijk, Some("WK050512")),
        ("wielwijk", "Wielwijk", AreaKind::Wijk, None),
        ("oud-krispijn", "Oud-Krispijn", AreaKind::Wijk, None),
        ("nieuw-krispijn", "Nieuw-Krispijn", AreaKind::Wijk, None),
        (
            "crabbehof-noord",
            "Crabbehof-Noord",
            AreaKind::Buurt,
            Some("BU05051203"),
        ),
    ];
    let mut areas = BTreeMap::new();
    for (ordinal, (id, name, kind, code)) in areas_data.into_iter().enumerate() {
        let id = slug(AreaId::parse, id);
        areas.insert(
            id.clone(),
            Area {
                id,
                name: name.into(),
                kind,
                parent: None,
                cbs_code: code.map(str::to_owned),
                ordinal: ordinal + 1,
            },
        );
    }
    let mut indicators = BTreeMap::new();
    for (ordinal, (key, name)) in [
        ("ernstig-overgewicht", "Ernstig overgewicht"),
        ("bijstand", "Bijstand"),
    ]
    .into_iter()
    .enumerate()
    {
        let key = slug(IndicatorKey::parse, key);
        indicators.insert(
            key.clone(),
            Indicator {
                key,
                name: name.into(),
                pillar: slug(PillarId::parse, "gezond-en-samen-leven"),
                source: "RIVM".into(),
                unit: "%".into(),
                direction: Direction::LowerIsBetter,
                definition: String::new(),
                ordinal: ordinal + 1,
            },
        );
    }
    let mut pillars = BTreeMap::new();
    for (number, (id, name)) in [
        ("gezond-en-samen-leven", "Gezond en samen leven"),
        ("leren-en-ontwikkelen", "Leren en ontwikkelen"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = slug(PillarId::parse, id);
        pillars.insert(
            id.clone(),
            Pillar {
                id,
                number: u8::try_from(number + 1).unwrap_or(u8::MAX),
                name: name.into(),
                ambition: String::new(),
                themes: Vec::new(),
                koppelkansen: Vec::new(),
            },
        );
    }
    ProgrammeState {
        id: slug(ProgrammeId::parse, "dordt-west"),
        name: "Nationaal Programma Dordt West".into(),
        municipality_code: "GM0505".into(),
        national_programme: "NPLV".into(),
        period: YearRange::new(2023, 2043).expect("a year range"),
        ambition: String::new(),
        texts: BTreeMap::new(),
        areas,
        pillars,
        indicators,
        execution_programmes: BTreeMap::new(),
    }
}

fn decision(id: &str, status: DecisionStatus) -> DecisionState {
    DecisionState {
        id: DecisionId::from_uuid(uuid(id)),
        programme_id: slug(ProgrammeId::parse, "dordt-west"),
        title: format!("Besluit {id}"),
        description: String::new(),
        status,
        meeting: None,
        withdrawal_reason: None,
        amendments: 0,
    }
}

fn fund() -> RecordedFund {
    let fund_id = FundId::from_uuid(uuid(FUND));
    let decision = DecisionId::from_uuid(uuid(ADOPTED[0]));
    let allocated =
        |n: u128, target: AllocationTarget, year: i32, euros: i64| FundEvent::BudgetAllocated {
            allocation_id: AllocationId::from_uuid(uuid::Uuid::from_u128(0xa00 + n)),
            target,
            year,
            amount: Cents::euros(euros),
            decision,
        };
    let pillar = |id: &str| AllocationTarget::Pillar(slug(PillarId::parse, id));
    RecordedFund::from_events([
        FundEvent::FundRegistered {
            fund_id,
            programme_id: slug(ProgrammeId::parse, "dordt-west"),
            funder: Funder::Gemeente,
            funder_name: "Gemeente Dordrecht".into(),
            name: "Extra middelen elf scholen (kansengelijkheid)".into(),
            amount: Cents::euros(10_000_000),
            period: YearRange::new(2024, 2027).expect("a year range"),
            decision,
            programme_period: YearRange::new(2023, 2043).expect("a year range"),
        },
        allocated(1, pillar("leren-en-ontwikkelen"), 2024, 3_000_000),
        allocated(2, pillar("leren-en-ontwikkelen"), 2025, 3_000_000),
        allocated(
            3,
            AllocationTarget::Area(slug(AreaId::parse, "crabbehof")),
            2024,
            500_000,
        ),
        allocated(4, pillar("gezond-en-samen-leven"), 2024, 10_000),
    ])
}

/// The fixed ledger, built once.
pub fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| Ledger {
        programme: programme(),
        decisions: vec![
            decision(ADOPTED[0], DecisionStatus::Adopted),
            decision(ADOPTED[1], DecisionStatus::Adopted),
            decision(PROPOSED, DecisionStatus::Proposed),
        ],
        fund: fund(),
    })
}

/// How the fuzz input varies the command line's options and the recorded state: one byte.
#[derive(Debug, Clone, Copy)]
pub struct Variant(pub u8);

impl Variant {
    fn with_options(self) -> bool {
        self.0 & 1 != 0
    }

    /// The shift of a recorded value against the row's (0: the same value).
    fn shift(self) -> Decimal {
        Decimal::from(i64::from(self.0 >> 4) - 8)
    }

    /// The days a recorded publication date lies before (or after) the row's.
    fn days(self) -> i64 {
        i64::from((self.0 >> 1) & 7) - 3
    }

    fn withdrawn(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// Reads a table as each layout, checks its rows against the fixed ledger and plans them,
/// first against a ledger that records none of them, then against one that records each row
/// with a value the variant shifts. Every outcome is a plan or a list of problems.
pub fn import_table(table: &Table, variant: Variant) {
    let ledger = ledger();
    let reference = Reference::new([&ledger.programme])
        .with_decisions(&ledger.decisions)
        .with_funds([&ledger.fund]);
    let programme = variant.with_options().then(|| ledger.programme.id.clone());

    let options = measurements::Options {
        programme: programme.clone(),
        source: variant.with_options().then(|| "CBS".to_owned()),
        file_name: "figures.csv".into(),
    };
    if let Ok(file) = MeasurementFile::new(table.clone(), options) {
        let _ = file.ignored_columns();
        let _ = (file.rows(), file.programmes(), file.decisions());
        if let Ok(rows) = file.check(&reference) {
            let _ = file.plan(rows.clone(), |_| None);
            let recorded: HashMap<String, MeasurementState> = rows
                .iter()
                .map(|row| {
                    let published_on = row
                        .published_on
                        .checked_add_signed(chrono::TimeDelta::days(variant.days()))
                        .unwrap_or(NaiveDate::MIN);
                    let state = MeasurementState {
                        key: row.key.clone(),
                        value: row.value.saturating_add(variant.shift()),
                        source: row.source.clone(),
                        published_on,
                        illustrative: row.illustrative,
                        corrections: 0,
                        history: Vec::new(),
                    };
                    (MeasurementFile::aggregate_id(row), state)
                })
                .collect();
            let _ = file.plan(rows, |row| {
                recorded.get(&MeasurementFile::aggregate_id(row))
            });
        }
    }

    let options = targets::Options {
        programme: programme.clone(),
        decision: variant
            .with_options()
            .then(|| DecisionId::from_uuid(uuid(ADOPTED[0]))),
        reason: variant
            .with_options()
            .then(|| "Vastgesteld uitvoeringsprogramma".to_owned()),
    };
    if let Ok(file) = TargetFile::new(table.clone(), options) {
        let _ = (file.rows(), file.programmes(), file.decisions());
        if let Ok(rows) = file.check(&reference) {
            let _ = file.plan(rows.clone(), |_| None);
            let recorded: HashMap<String, TargetState> = rows
                .iter()
                .map(|row| {
                    let value = match &row.value {
                        TargetValue::Absolute(value) => {
                            TargetValue::Absolute(value.saturating_add(variant.shift()))
                        }
                        other => other.clone(),
                    };
                    let state = TargetState {
                        key: row.key.clone(),
                        value,
                        baseline: row.baseline.clone(),
                        decision: row.decision,
                        withdrawn: variant.withdrawn(),
                        history: Vec::new(),
                    };
                    (TargetFile::aggregate_id(row), state)
                })
                .collect();
            let _ = file.plan(rows, |row| recorded.get(&TargetFile::aggregate_id(row)));
        }
    }

    let options = budget::Options {
        programme,
        fund: variant
            .with_options()
            .then(|| "Extra middelen elf scholen (kansengelijkheid)".to_owned()),
    };
    if let Ok(file) = BudgetFile::new(table.clone(), options) {
        let _ = (file.rows(), file.programmes(), file.decisions());
        if let Ok(rows) = file.check(&reference) {
            let recorded =
                |row: &budget::BudgetRow| ledger.fund.state().filter(|fund| fund.id == row.fund_id);
            let _ = file.decide_in_order(&rows, recorded);
            let _ = file.plan(rows, recorded);
        }
    }
}
