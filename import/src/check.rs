//! What every layout checks the same way: the reference data (programmes with their indicators,
//! areas and pillars, decisions, funds), and the reading of one row's cells into typed values,
//! each bad cell a [`Problem`].

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::NaiveDate;
use domain::decision::{DecisionState, DecisionStatus};
use domain::ids::{AreaId, DecisionId, FundId, IndicatorKey, PillarId, ProgrammeId};
use domain::money::Cents;
use domain::programme::ProgrammeState;
use rust_decimal::Decimal;

use crate::budget::RecordedFund;
use crate::problem::Problem;
use crate::table::{Cell, Columns, Row};
use crate::value::{self, DecimalMark};

/// The reference data rows are checked against: the programmes they name, the decisions
/// they cite and the funds they book on, as recorded.
#[derive(Debug, Default)]
pub struct Reference<'a> {
    programmes: HashMap<&'a ProgrammeId, ProgrammeIndex<'a>>,
    decisions: HashMap<DecisionId, &'a DecisionState>,
    funds: HashMap<FundId, &'a RecordedFund>,
    /// Funds by programme and folded name.
    fund_names: HashMap<(&'a ProgrammeId, String), Vec<FundId>>,
}

/// One programme with its indicators and areas indexed by every name a file may use.
#[derive(Debug)]
pub(crate) struct ProgrammeIndex<'a> {
    pub(crate) state: &'a ProgrammeState,
    indicators: HashMap<String, Vec<&'a IndicatorKey>>,
    areas: HashMap<String, Vec<&'a AreaId>>,
    pillars: HashMap<String, Vec<&'a PillarId>>,
}

/// How a name is compared: without case, with runs of white space as one space.
fn folded(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl<'a> Reference<'a> {
    /// Indexes the programmes' indicators (by key and name), areas (by id, name and CBS
    /// code) and pillars (by id and name).
    pub fn new(programmes: impl IntoIterator<Item = &'a ProgrammeState>) -> Self {
        let mut indexed = HashMap::new();
        for state in programmes {
            let mut indicators: HashMap<String, Vec<&IndicatorKey>> = HashMap::new();
            for (key, indicator) in &state.indicators {
                let mut names = BTreeSet::from([folded(key.as_str()), folded(&indicator.name)]);
                names.retain(|n| !n.is_empty());
                for name in names {
                    indicators.entry(name).or_default().push(key);
                }
            }
            let mut areas: HashMap<String, Vec<&AreaId>> = HashMap::new();
            for (id, area) in &state.areas {
                let mut names = BTreeSet::from([folded(id.as_str()), folded(&area.name)]);
                if let Some(code) = &area.cbs_code {
                    names.insert(folded(code));
                }
                names.retain(|n| !n.is_empty());
                for name in names {
                    areas.entry(name).or_default().push(id);
                }
            }
            let mut pillars: HashMap<String, Vec<&PillarId>> = HashMap::new();
            for (id, pillar) in &state.pillars {
                let mut names = BTreeSet::from([folded(id.as_str()), folded(&pillar.name)]);
                names.retain(|n| !n.is_empty());
                for name in names {
                    pillars.entry(name).or_default().push(id);
                }
            }
            indexed.insert(
                &state.id,
                ProgrammeIndex {
                    state,
                    indicators,
                    areas,
                    pillars,
                },
            );
        }
        Self {
            programmes: indexed,
            ..Self::default()
        }
    }

    /// Adds the decisions rows may cite (the ones a file names, as recorded).
    pub fn with_decisions(
        mut self,
        decisions: impl IntoIterator<Item = &'a DecisionState>,
    ) -> Self {
        self.decisions
            .extend(decisions.into_iter().map(|d| (d.id, d)));
        self
    }

    /// Adds the funds rows may book on, as recorded with their lines, found by id or by name
    /// within their programme. Funds never registered are left out.
    pub fn with_funds(mut self, funds: impl IntoIterator<Item = &'a RecordedFund>) -> Self {
        for recorded in funds {
            let Some(fund) = recorded.state() else {
                continue;
            };
            self.funds.insert(fund.id, recorded);
            let name = folded(&fund.name);
            if !name.is_empty() {
                self.fund_names
                    .entry((&fund.programme_id, name))
                    .or_default()
                    .push(fund.id);
            }
        }
        self
    }

    /// A fund by id or by name: `None` when no fund has that id or name, and an error
    /// listing the funds a name fits when it fits several. `programme`, when given, limits
    /// the names to its funds.
    pub(crate) fn find_fund(
        &self,
        text: &str,
        programme: Option<&ProgrammeId>,
    ) -> Result<Option<&'a RecordedFund>, Vec<FundId>> {
        if let Ok(id) = FundId::parse(text) {
            return Ok(self.funds.get(&id).copied());
        }
        let name = folded(text);
        let mut fits: Vec<FundId> = self
            .fund_names
            .iter()
            .filter(|((p, n), _)| *n == name && programme.is_none_or(|wanted| *p == wanted))
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        fits.sort_unstable();
        match fits.as_slice() {
            [] => Ok(None),
            [one] => Ok(self.funds.get(one).copied()),
            _ => Err(fits),
        }
    }

    pub(crate) fn programme(&self, id: &ProgrammeId) -> Option<&ProgrammeIndex<'a>> {
        self.programmes.get(id)
    }

    /// A problem on the header line when the programme an option names is not established.
    pub(crate) fn check_option(
        &self,
        programme: Option<&ProgrammeId>,
        line: usize,
    ) -> Option<Problem> {
        let id = programme?;
        (!self.programmes.contains_key(id)).then(|| {
            Problem::new(
                line,
                None,
                "reference.known_programme",
                format!("no programme {id} has been established"),
            )
        })
    }
}

/// Finds one entry by a folded name; an error names none or several.
fn find<'a, T>(index: &HashMap<String, Vec<&'a T>>, name: &str) -> Result<&'a T, Vec<&'a T>> {
    match index.get(&folded(name)).map(Vec::as_slice) {
        Some([one]) => Ok(*one),
        Some(several) => Err(several.to_vec()),
        None => Err(Vec::new()),
    }
}

fn list<T: std::fmt::Display>(items: &[&T]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{item}");
    }
    out
}

/// The cells of one row read into typed values; every bad cell adds a problem.
pub(crate) struct RowChecker<'r, 'p> {
    pub(crate) row: &'r Row,
    pub(crate) columns: &'r Columns,
    pub(crate) problems: &'p mut Vec<Problem>,
    /// The decimal mark of every number read with one: (line, column, mark).
    pub(crate) marks: &'p mut Vec<(usize, String, DecimalMark)>,
}

impl<'r> RowChecker<'r, '_> {
    /// Adds a problem in `column` (the whole row when empty).
    pub(crate) fn problem(&mut self, column: &str, rule: &'static str, message: impl Into<String>) {
        let column = (!column.is_empty()).then_some(column);
        self.problems
            .push(Problem::new(self.row.line, column, rule, message));
    }

    /// How many problems were found so far (in every row).
    pub(crate) fn problem_count(&self) -> usize {
        self.problems.len()
    }

    /// Values right of the header's last column are a problem.
    pub(crate) fn check_width(&mut self) {
        if let Some(problem) = self.columns.check_width(self.row) {
            self.problems.push(problem);
        }
    }

    /// The cell of a column and the column's name as the header writes it; `None` when the
    /// file has no such column.
    pub(crate) fn cell(&self, spec: usize) -> Option<(&'r Cell, String)> {
        self.columns
            .get(self.row, spec)
            .map(|(cell, name)| (cell, name.to_owned()))
    }

    /// The cell of a column when it is not empty.
    pub(crate) fn filled(&self, spec: usize) -> Option<(&'r Cell, String)> {
        self.cell(spec).filter(|(cell, _)| !cell.is_empty())
    }

    /// A required cell: a problem when it is empty (a missing column is reported once, for
    /// the header).
    pub(crate) fn required(&mut self, spec: usize, what: &str) -> Option<(&'r Cell, String)> {
        let (cell, column) = self.cell(spec)?;
        if cell.is_empty() {
            self.problem(&column, "import.required", format!("the {what} is missing"));
            return None;
        }
        Some((cell, column))
    }

    /// The row's programme: its cell, else `option`; a cell naming another programme than
    /// the option is refused.
    pub(crate) fn programme<'x>(
        &mut self,
        spec: usize,
        option: Option<&ProgrammeId>,
        reference: &'x Reference<'_>,
    ) -> Option<&'x ProgrammeIndex<'x>> {
        let (id, column) = match (self.filled(spec), option) {
            (None, Some(option)) => (option.clone(), column_name(self.cell(spec))),
            (None, None) => {
                let column = column_name(self.cell(spec));
                self.problem(&column, "import.required", "the programme is missing");
                return None;
            }
            (Some((cell, column)), option) => {
                let text = cell.display();
                let Ok(id) = ProgrammeId::parse(&text) else {
                    self.problem(
                        &column,
                        "reference.known_programme",
                        format!("{text:?} is not a programme id such as dordt-west"),
                    );
                    return None;
                };
                if let Some(option) = option {
                    if *option != id {
                        self.problem(
                            &column,
                            "import.programme_option",
                            format!("the row is for programme {id}, the import for {option}"),
                        );
                        return None;
                    }
                }
                (id, column)
            }
        };
        let found = reference.programme(&id);
        if found.is_none() {
            self.problem(
                &column,
                "reference.known_programme",
                format!("no programme {id} has been established"),
            );
        }
        found
    }

    /// A required indicator, by key or name.
    pub(crate) fn indicator(
        &mut self,
        spec: usize,
        programme: &ProgrammeIndex<'_>,
    ) -> Option<IndicatorKey> {
        let (cell, column) = self.required(spec, "indicator")?;
        let name = cell.display();
        match find(&programme.indicators, &name) {
            Ok(key) => Some(key.clone()),
            Err(several) if !several.is_empty() => {
                self.problem(
                    &column,
                    "import.ambiguous",
                    format!(
                        "{name:?} names several indicators of programme {}: {}; give the key",
                        programme.state.id,
                        list(&several)
                    ),
                );
                None
            }
            Err(_) => {
                self.problem(
                    &column,
                    "reference.known_indicator",
                    format!(
                        "programme {} has no indicator {name:?} (by key or name)",
                        programme.state.id
                    ),
                );
                None
            }
        }
    }

    /// An area in a cell, by id, name or CBS code.
    pub(crate) fn area_in(
        &mut self,
        cell: &Cell,
        column: &str,
        programme: &ProgrammeIndex<'_>,
    ) -> Option<AreaId> {
        let name = cell.display();
        match find(&programme.areas, &name) {
            Ok(id) => Some(id.clone()),
            Err(several) if !several.is_empty() => {
                self.problem(
                    column,
                    "import.ambiguous",
                    format!(
                        "{name:?} names several areas of programme {}: {}; give the id",
                        programme.state.id,
                        list(&several)
                    ),
                );
                None
            }
            Err(_) => {
                self.problem(
                    column,
                    "reference.known_area",
                    format!(
                        "programme {} has no area {name:?} (by id, name or CBS code)",
                        programme.state.id
                    ),
                );
                None
            }
        }
    }

    /// A required area, by id, name or CBS code.
    pub(crate) fn area(&mut self, spec: usize, programme: &ProgrammeIndex<'_>) -> Option<AreaId> {
        let (cell, column) = self.required(spec, "area")?;
        self.area_in(cell, &column, programme)
    }

    /// A pillar in a cell, by id or name.
    pub(crate) fn pillar_in(
        &mut self,
        cell: &Cell,
        column: &str,
        programme: &ProgrammeIndex<'_>,
    ) -> Option<PillarId> {
        let name = cell.display();
        match find(&programme.pillars, &name) {
            Ok(id) => Some(id.clone()),
            Err(several) if !several.is_empty() => {
                self.problem(
                    column,
                    "import.ambiguous",
                    format!(
                        "{name:?} names several pillars of programme {}: {}; give the id",
                        programme.state.id,
                        list(&several)
                    ),
                );
                None
            }
            Err(_) => {
                self.problem(
                    column,
                    "reference.known_pillar",
                    format!(
                        "programme {} has no pillar {name:?} (by id or name)",
                        programme.state.id
                    ),
                );
                None
            }
        }
    }

    /// The fund a row books on: its cell (an id or a name), else `option`; it must be a
    /// registered fund of the row's programme.
    pub(crate) fn fund<'x>(
        &mut self,
        spec: usize,
        option: Option<&str>,
        programme: &ProgrammeIndex<'_>,
        reference: &Reference<'x>,
    ) -> Option<&'x RecordedFund> {
        let (text, column) = match (self.filled(spec), option) {
            (Some((cell, column)), _) => (cell.display(), column),
            (None, Some(option)) => (option.trim().to_owned(), column_name(self.cell(spec))),
            (None, None) => {
                let column = column_name(self.cell(spec));
                self.problem(
                    &column,
                    "import.required",
                    "the fund is missing (or give --fund)",
                );
                return None;
            }
        };
        let programme_id = &programme.state.id;
        let found = reference.find_fund(&text, Some(programme_id));
        match found.map(|f| f.and_then(|recorded| Some((recorded, recorded.state()?)))) {
            Ok(Some((recorded, fund))) if fund.programme_id == *programme_id => Some(recorded),
            Ok(Some((_, fund))) => {
                self.problem(
                    &column,
                    "reference.known_fund",
                    format!(
                        "fund {} ({}) belongs to programme {}, not {programme_id}",
                        fund.id, fund.name, fund.programme_id
                    ),
                );
                None
            }
            Ok(None) => {
                self.problem(
                    &column,
                    "reference.known_fund",
                    format!("programme {programme_id} has no fund {text:?} (by id or name)"),
                );
                None
            }
            Err(several) => {
                self.problem(
                    &column,
                    "import.ambiguous",
                    format!(
                        "{text:?} names several funds of programme {programme_id}: {}; give the id",
                        list(&several.iter().collect::<Vec<_>>())
                    ),
                );
                None
            }
        }
    }

    /// An amount of euros in a cell ([`value::euros`]); its convention is remembered for the
    /// file-wide check.
    pub(crate) fn euros_in(&mut self, cell: &Cell, column: &str) -> Option<Cents> {
        match value::euros(cell) {
            Ok((amount, mark)) => {
                if mark != DecimalMark::None {
                    self.marks.push((self.row.line, column.to_owned(), mark));
                }
                Some(amount)
            }
            Err(message) => {
                self.problem(column, "import.amount", message);
                None
            }
        }
    }

    /// A number in a cell; its decimal mark is remembered for the file-wide check.
    pub(crate) fn decimal_in(&mut self, cell: &Cell, column: &str) -> Option<Decimal> {
        match value::decimal(cell) {
            Ok((number, mark)) => {
                if mark != DecimalMark::None {
                    self.marks.push((self.row.line, column.to_owned(), mark));
                }
                Some(number)
            }
            Err(message) => {
                self.problem(column, "import.number", message);
                None
            }
        }
    }

    /// A required number.
    pub(crate) fn decimal(&mut self, spec: usize, what: &str) -> Option<Decimal> {
        let (cell, column) = self.required(spec, what)?;
        self.decimal_in(cell, &column)
    }

    /// A required date.
    pub(crate) fn date(&mut self, spec: usize, what: &str) -> Option<NaiveDate> {
        let (cell, column) = self.required(spec, what)?;
        value::date(cell)
            .map_err(|m| self.problem(&column, "import.date", m))
            .ok()
    }

    /// Yes or no; no when the file has no such column or the cell is empty.
    pub(crate) fn yes_no(&mut self, spec: usize) -> Option<bool> {
        let Some((cell, column)) = self.cell(spec) else {
            return Some(false);
        };
        value::yes_no(cell)
            .map_err(|m| self.problem(&column, "import.yes_no", m))
            .ok()
    }

    /// A whole year, as text or a workbook number.
    pub(crate) fn year_in(&mut self, cell: &Cell, column: &str, what: &str) -> Option<i32> {
        let year = match cell {
            Cell::Number(n) if n.fract() == 0.0 && (1900.0..=2200.0).contains(n) => Some(*n as i32),
            Cell::Text(text) if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().ok().filter(|y| (1900..=2200).contains(y))
            }
            _ => None,
        };
        if year.is_none() {
            self.problem(
                column,
                "import.year",
                format!(
                    "{:?} is not a year (1900-2200) for the {what}",
                    cell.display()
                ),
            );
        }
        year
    }

    /// A year that must lie inside the programme period.
    pub(crate) fn within_period(
        &mut self,
        column: &str,
        year: i32,
        shown: &dyn std::fmt::Display,
        programme: &ProgrammeIndex<'_>,
    ) -> bool {
        let range = programme.state.period;
        let inside = range.contains_year(year);
        if !inside {
            self.problem(
                column,
                "programme.period",
                format!(
                    "{shown} lies outside the programme period {range} of {}",
                    programme.state.id
                ),
            );
        }
        inside
    }

    /// A text: the cell, else `default`; a problem when neither gives one, or when it is
    /// longer than `max` characters.
    pub(crate) fn text(
        &mut self,
        spec: usize,
        what: &str,
        max: usize,
        default: Option<&str>,
        option: &str,
    ) -> Option<String> {
        match (self.filled(spec), default) {
            (Some((cell, column)), _) => {
                let text = cell.display();
                if text.chars().count() > max {
                    self.problem(
                        &column,
                        "text.max_length",
                        format!("the {what} is longer than {max} characters"),
                    );
                    return None;
                }
                Some(text)
            }
            (None, Some(default)) => Some(default.trim().to_owned()),
            (None, None) => {
                let column = column_name(self.cell(spec));
                self.problem(
                    &column,
                    "import.required",
                    format!("the {what} is missing (or give {option})"),
                );
                None
            }
        }
    }

    /// An optional text of at most `max` characters.
    pub(crate) fn optional_text(
        &mut self,
        spec: usize,
        what: &str,
        max: usize,
    ) -> Option<Option<String>> {
        let Some((cell, column)) = self.filled(spec) else {
            return Some(None);
        };
        let text = cell.display();
        if text.chars().count() > max {
            self.problem(
                &column,
                "text.max_length",
                format!("the {what} is longer than {max} characters"),
            );
            return None;
        }
        Some(Some(text))
    }

    /// The decision a row cites: its cell (a decision id), else `option`; it must be an
    /// adopted decision of the row's programme.
    pub(crate) fn decision(
        &mut self,
        spec: usize,
        option: Option<DecisionId>,
        programme: Option<&ProgrammeIndex<'_>>,
        reference: &Reference<'_>,
    ) -> Option<DecisionId> {
        let (id, column) = match (self.filled(spec), option) {
            (Some((cell, column)), _) => {
                let text = cell.display();
                match DecisionId::parse(&text) {
                    Ok(id) => (id, column),
                    Err(_) => {
                        self.problem(
                            &column,
                            "import.decision_id",
                            format!("{text:?} is not a decision id (a uuid)"),
                        );
                        return None;
                    }
                }
            }
            (None, Some(option)) => (option, column_name(self.cell(spec))),
            (None, None) => {
                let column = column_name(self.cell(spec));
                self.problem(
                    &column,
                    "import.required",
                    "the decision is missing (or give --decision)",
                );
                return None;
            }
        };
        let programme = programme?;
        let Some(decision) = reference.decisions.get(&id) else {
            self.problem(
                &column,
                "citation.adopted_decision",
                format!("no decision {id} has been proposed; cite an adopted decision"),
            );
            return None;
        };
        if decision.programme_id != programme.state.id {
            self.problem(
                &column,
                "citation.same_programme",
                format!(
                    "decision {id} belongs to programme {}, not {}",
                    decision.programme_id, programme.state.id
                ),
            );
            return None;
        }
        if decision.status != DecisionStatus::Adopted {
            self.problem(
                &column,
                "citation.adopted_decision",
                format!(
                    "decision {id} is {:?}, not adopted; cite an adopted decision",
                    decision.status
                ),
            );
            return None;
        }
        Some(id)
    }
}

fn column_name(cell: Option<(&Cell, String)>) -> String {
    cell.map(|(_, c)| c).unwrap_or_default()
}

/// When a file writes some numbers with a decimal comma and others with a point, one of them
/// was likely meant as a thousands separator: every number written with the less used mark
/// is refused (with the point when both are used as often).
pub(crate) fn mixed_marks(marks: &[(usize, String, DecimalMark)]) -> Vec<Problem> {
    let commas = marks.iter().filter(|m| m.2 == DecimalMark::Comma).count();
    let points = marks.len() - commas;
    if commas == 0 || points == 0 {
        return Vec::new();
    }
    let (odd, usual) = if commas > points {
        (DecimalMark::Point, "commas")
    } else {
        (DecimalMark::Comma, "points")
    };
    marks
        .iter()
        .filter(|m| m.2 == odd)
        .map(|(line, column, _)| {
            Problem::new(
                *line,
                Some(column),
                "import.decimal_mark",
                format!(
                    "the file writes its other figures with decimal {usual}; write this one the \
                     same way (a mark that differs may be a thousands separator)"
                ),
            )
        })
        .collect()
}

/// SHA-256 (hex) of a command's content in a fixed text form.
pub(crate) fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}
