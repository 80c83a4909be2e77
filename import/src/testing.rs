//! A fixed programme for the unit tests: Dordt West with some areas and indicators.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::ids::{AreaId, IndicatorKey, PillarId, ProgrammeId};
use domain::period::YearRange;
use domain::programme::{Area, AreaKind, Direction, Indicator, ProgrammeState};
use rust_decimal::Decimal;

use crate::problem::Problem;

pub fn programme() -> ProgrammeState {
    let mut areas = BTreeMap::new();
    let areas_data: [(&str, &str, AreaKind, Option<&str>); 6] = [
        ("nederland", "Nederland", AreaKind::Land, Some("NL01")),
        ("dordrecht", "Dordrecht", AreaKind::Gemeente, Some("GM0505")),
        ("dordt-west", "Dordt West", AreaKind::FocusArea, None),
        ("crabbehof", "Crabbehof", AreaKind::Wijk, Some("WK050512")),
        ("wielwijk", "Wielwijk", AreaKind::Wijk, None),
        (
            "crabbehof-noord",
            "Crabbehof-Noord",
            AreaKind::Buurt,
            Some("BU05051203"),
        ),
    ];
    for (ordinal, (id, name, kind, code)) in areas_data.into_iter().enumerate() {
        let id = AreaId::parse(id).expect("slug");
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
        let key = IndicatorKey::parse(key).expect("slug");
        indicators.insert(
            key.clone(),
            Indicator {
                key,
                name: name.into(),
                pillar: PillarId::parse("gezond-en-samen-leven").expect("slug"),
                source: "RIVM".into(),
                unit: "%".into(),
                direction: Direction::LowerIsBetter,
                definition: String::new(),
                ordinal: ordinal + 1,
            },
        );
    }
    ProgrammeState {
        id: ProgrammeId::parse("dordt-west").expect("slug"),
        name: "Nationaal Programma Dordt West".into(),
        municipality_code: "GM0505".into(),
        national_programme: "NPLV".into(),
        period: YearRange::new(2023, 2043).expect("range"),
        ambition: String::new(),
        texts: BTreeMap::new(),
        areas,
        pillars: BTreeMap::new(),
        indicators,
        execution_programmes: BTreeMap::new(),
    }
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("decimal")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// (line, column, rule) of each problem.
pub fn found(problems: &[Problem]) -> Vec<(usize, Option<&str>, &str)> {
    problems
        .iter()
        .map(|p| (p.line, p.column.as_deref(), p.rule))
        .collect()
}

/// A decision of Dordt West (or of `programme`) with the given status.
pub fn decision(
    id: u128,
    programme: &str,
    status: domain::decision::DecisionStatus,
) -> domain::decision::DecisionState {
    domain::decision::DecisionState {
        id: domain::ids::DecisionId::from_uuid(uuid_of(id)),
        programme_id: ProgrammeId::parse(programme).expect("slug"),
        title: format!("Besluit {id}"),
        description: String::new(),
        status,
        meeting: None,
        withdrawal_reason: None,
        amendments: 0,
    }
}

/// A fixed uuid, as text in files.
pub fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}
