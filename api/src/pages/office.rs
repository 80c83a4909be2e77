//! Secretariaat: the programme office's forms. Each form is one GraphQL mutation sent with the
//! signed-in user's token; its field names are the mutation input's field names, so an error
//! the API reports for a field (`extensions.field`) is shown next to that field, and nothing is
//! recorded. Every form carries the session's CSRF token and an idempotency key made when the
//! form was drawn, so a form sent twice records once.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::i18n::{Lang, Texts};
use super::messages::{self, Check, Facts};
use super::{answer, session, Ctx, Layout, PageError, Section};

/// The forms, in the order the office page lists them.
const FORMS: [&str; 7] = [
    "vergadering",
    "besluit",
    "stemmen",
    "streefwaarde",
    "meting",
    "budget",
    "voortgang",
];

fn form_title(t: &Texts, form: &str, soort: Option<&str>) -> &'static str {
    match form {
        "vergadering" => t.form_vergadering,
        "besluit" => t.form_besluit,
        "stemmen" => t.form_stemmen,
        "streefwaarde" => t.form_streefwaarde,
        "meting" => t.form_meting,
        "budget" => t.form_budget,
        "voortgang" if soort == Some("interventie") => t.form_voortgang_interventie,
        "voortgang" => t.form_voortgang,
        _ => t.form_import,
    }
}

const LOOKUPS: &str = "query($p: String!, $first: Int) {
  programme(id: $p) {
    id name period { first last }
    areas { id name kind }
    pillars { id number name indicators { key name } }
  }
  alliance(programmeId: $p) { members { id organisation } meetings { id date title } }
  decisions(programmeId: $p, first: $first) { nodes { id title status } }
  budget(programmeId: $p) { byFund { fundId name funderName left } }
  commitments(programmeId: $p, first: $first) { nodes { id description partnerOrganisation isFinal } }
  interventions(programmeId: $p, first: $first) { nodes { id title isFinal } }
}";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lookups {
    programme: Option<Programme>,
    alliance: Option<Alliance>,
    decisions: Nodes<Decision>,
    budget: Budget,
    commitments: Nodes<Commitment>,
    interventions: Nodes<Intervention>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
struct Programme {
    id: String,
    name: String,
    period: YearRange,
    areas: Vec<Area>,
    pillars: Vec<Pillar>,
}

#[derive(Deserialize)]
struct YearRange {
    first: i32,
    last: i32,
}

#[derive(Deserialize)]
struct Area {
    id: String,
    name: String,
    kind: String,
}

#[derive(Deserialize)]
struct Pillar {
    id: String,
    number: i32,
    name: String,
    indicators: Vec<Indicator>,
}

#[derive(Deserialize)]
struct Indicator {
    key: String,
    name: String,
}

#[derive(Deserialize)]
struct Alliance {
    members: Vec<Member>,
    meetings: Vec<Meeting>,
}

#[derive(Deserialize)]
struct Member {
    id: String,
    organisation: String,
}

#[derive(Deserialize)]
struct Meeting {
    id: String,
    date: String,
    title: String,
}

#[derive(Deserialize)]
struct Decision {
    id: String,
    title: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Budget {
    by_fund: Vec<Fund>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fund {
    fund_id: String,
    name: String,
    funder_name: String,
    /// What the fund has left to allocate, in euros (`"400000.00"`).
    left: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commitment {
    id: String,
    description: String,
    partner_organisation: String,
    is_final: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Intervention {
    id: String,
    title: String,
    is_final: bool,
}

/// How a field's text is checked before it is sent: by the parser of the API's own scalar,
/// since the API reports a malformed scalar without naming the field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Text,
    Int,
    Date,
    Decimal,
    Money,
    Period,
    /// A whole percentage, 0 to 100.
    Percent,
}

/// What kind of control a field is.
pub(crate) enum Control {
    Text,
    TextArea,
    Date,
    Select(Vec<(String, String)>),
    Checkbox,
    Checks(Vec<(String, String)>),
    /// One vote select per member: `(member id, organisation)`.
    Votes(Vec<(String, String)>),
}

pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) hint: Option<&'static str>,
    pub(crate) required: bool,
    pub(crate) control: Control,
    scalar: Scalar,
    pub(crate) value: String,
    pub(crate) values: Vec<String>,
    pub(crate) error: Option<String>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, control: Control) -> Self {
        Self {
            name,
            label,
            hint: None,
            required: false,
            control,
            scalar: Scalar::Text,
            value: String::new(),
            values: Vec::new(),
            error: None,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    fn scalar(mut self, scalar: Scalar) -> Self {
        self.scalar = scalar;
        self
    }

    pub(crate) fn is_textarea(&self) -> bool {
        matches!(self.control, Control::TextArea)
    }
    pub(crate) fn is_date(&self) -> bool {
        matches!(self.control, Control::Date)
    }
    pub(crate) fn is_checkbox(&self) -> bool {
        matches!(self.control, Control::Checkbox)
    }
    pub(crate) fn options(&self) -> Option<&Vec<(String, String)>> {
        match &self.control {
            Control::Select(options) => Some(options),
            _ => None,
        }
    }
    pub(crate) fn checks(&self) -> Option<&Vec<(String, String)>> {
        match &self.control {
            Control::Checks(options) => Some(options),
            _ => None,
        }
    }
    pub(crate) fn voters(&self) -> Option<&Vec<(String, String)>> {
        match &self.control {
            Control::Votes(members) => Some(members),
            _ => None,
        }
    }
    pub(crate) fn has(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }
    /// The vote chosen for a member (votes are sent as `vote-{member}`).
    pub(crate) fn vote_of(&self, member: &str) -> &str {
        self.values
            .iter()
            .find_map(|v| v.strip_prefix(&format!("{member}=")))
            .unwrap_or("")
    }
    /// The id of the element an error describes.
    pub(crate) fn input_id(&self) -> String {
        self.name.replace('.', "-")
    }
}

#[derive(Template)]
#[template(path = "formulier.html")]
struct FormPage {
    layout: Layout,
    heading: &'static str,
    action: String,
    csrf: String,
    hidden: Vec<(&'static str, String)>,
    fields: Vec<Field>,
    form_error: Option<String>,
    vote_choices: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "secretariaat.html")]
struct OfficePage {
    layout: Layout,
    forms: Vec<(String, &'static str)>,
    meetings: Vec<(String, String)>,
    past: bool,
    now: String,
}

/// The office's pages need a signed-in secretary or admin, and the present.
pub(super) fn gate(ctx: &Ctx) -> Result<(), PageError> {
    match &ctx.session {
        None => Err(PageError::SignIn),
        Some(s) if !s.role.may_record() => {
            Err(PageError::Forbidden(ctx.t().office_forbidden.to_owned()))
        }
        Some(_) => Ok(()),
    }
}

async fn lookups(ctx: &Ctx, programme: &str) -> Result<(Lookups, Programme), PageError> {
    let mut data: Lookups = ctx
        .read(
            LOOKUPS,
            json!({ "p": programme, "first": ctx.state().limits.max_page_size }),
        )
        .await?;
    let programme = data.programme.take().ok_or(PageError::NotFound)?;
    Ok((data, programme))
}

pub(crate) async fn index(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = async {
        gate(&ctx)?;
        let t = ctx.t();
        let (data, programme) = lookups(&ctx, &programme).await?;
        let base = format!("/programmas/{}/secretariaat", programme.id);
        let mut forms: Vec<(String, &'static str)> = FORMS
            .iter()
            .map(|f| (format!("{base}/{f}"), form_title(t, f, None)))
            .collect();
        forms.push((
            format!("{base}/voortgang?soort=interventie"),
            t.form_voortgang_interventie,
        ));
        forms.push((format!("{base}/import"), t.form_import));
        let mut meetings: Vec<(String, String)> = data
            .alliance
            .map(|a| {
                a.meetings
                    .into_iter()
                    .map(|m| (ctx.lang.date(&m.date), m.title))
                    .collect()
            })
            .unwrap_or_default();
        meetings.reverse();
        Ok(ctx.render(&OfficePage {
            layout: ctx.layout(
                t.office,
                Some((&programme.id, &programme.name)),
                Section::Office,
            ),
            forms,
            meetings,
            past: ctx.peildatum.is_some(),
            now: base,
        }))
    }
    .await;
    answer(&ctx, result)
}

/// The fields of a form, filled from the ledger's lists.
fn fields(
    t: &Texts,
    form: &str,
    soort: Option<&str>,
    data: &Lookups,
    programme: &Programme,
) -> Option<Vec<Field>> {
    let members: Vec<(String, String)> = data
        .alliance
        .as_ref()
        .map(|a| {
            a.members
                .iter()
                .map(|m| (m.id.clone(), m.organisation.clone()))
                .collect()
        })
        .unwrap_or_default();
    let decisions = |status: &str| -> Vec<(String, String)> {
        let mut list: Vec<(String, String)> = data
            .decisions
            .nodes
            .iter()
            .filter(|d| d.status == status)
            .map(|d| (d.id.clone(), d.title.clone()))
            .collect();
        list.reverse();
        list
    };
    let indicators: Vec<(String, String)> = programme
        .pillars
        .iter()
        .flat_map(|p| {
            p.indicators
                .iter()
                .map(move |i| (i.key.clone(), format!("{}. {}", p.number, i.name)))
        })
        .collect();
    let areas = |comparators: bool| -> Vec<(String, String)> {
        programme
            .areas
            .iter()
            .filter(|a| comparators || (a.kind != "GEMEENTE" && a.kind != "LAND"))
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect()
    };
    let select = |options: Vec<(String, String)>| {
        let mut all = vec![(String::new(), t.choose.to_owned())];
        all.extend(options);
        Control::Select(all)
    };
    Some(match (form, soort) {
        ("vergadering", _) => vec![
            Field::new("date", t.f_date, Control::Date)
                .required()
                .scalar(Scalar::Date),
            Field::new("title", t.f_title, Control::Text).required(),
            Field::new("present", t.f_present, Control::Checks(members)),
        ],
        ("besluit", _) => vec![
            Field::new("title", t.f_title, Control::Text).required(),
            Field::new("description", t.f_description, Control::TextArea),
        ],
        ("stemmen", _) => {
            let mut meetings: Vec<(String, String)> = data
                .alliance
                .as_ref()
                .map(|a| {
                    a.meetings
                        .iter()
                        .map(|m| (m.id.clone(), format!("{}: {}", m.date, m.title)))
                        .collect()
                })
                .unwrap_or_default();
            meetings.reverse();
            vec![
                Field::new("decisionId", t.f_decision, select(decisions("PROPOSED"))).required(),
                Field::new("meetingId", t.f_meeting, select(meetings)).required(),
                Field::new(
                    "outcome",
                    t.f_outcome,
                    Control::Select(vec![
                        ("adopt".into(), t.f_adopt.into()),
                        ("reject".into(), t.f_reject.into()),
                    ]),
                )
                .required(),
                Field::new("votes", t.f_votes, Control::Votes(members)),
            ]
        }
        ("streefwaarde", _) => {
            let comparators: Vec<(String, String)> =
                std::iter::once((String::new(), t.f_comparator_none.to_owned()))
                    .chain(
                        programme
                            .areas
                            .iter()
                            .filter(|a| a.kind == "GEMEENTE" || a.kind == "LAND")
                            .map(|a| (a.id.clone(), a.name.clone())),
                    )
                    .collect();
            vec![
                Field::new("indicator", t.f_indicator, select(indicators)).required(),
                Field::new("area", t.f_area, select(areas(false))).required(),
                Field::new("horizonYear", t.f_horizon, Control::Text)
                    .required()
                    .scalar(Scalar::Int),
                Field::new("value", t.f_value, Control::Text)
                    .scalar(Scalar::Decimal)
                    .hint(t.f_value_hint),
                Field::new("comparator", t.f_comparator, Control::Select(comparators)),
                Field::new("margin", t.f_margin, Control::Text).scalar(Scalar::Decimal),
                Field::new("baseline.value", t.f_baseline_value, Control::Text)
                    .scalar(Scalar::Decimal),
                Field::new("baseline.year", t.f_baseline_year, Control::Text).scalar(Scalar::Int),
                Field::new("decisionId", t.f_decision, select(decisions("ADOPTED"))).required(),
                Field::new("reason", t.f_reason, Control::TextArea).required(),
            ]
        }
        ("meting", _) => vec![
            Field::new("indicator", t.f_indicator, select(indicators)).required(),
            Field::new("area", t.f_area, select(areas(true))).required(),
            Field::new("period", t.f_period, Control::Text)
                .required()
                .scalar(Scalar::Period)
                .hint(t.f_period_hint),
            Field::new("value", t.f_value, Control::Text)
                .required()
                .scalar(Scalar::Decimal)
                .hint(t.f_value_hint),
            Field::new("source", t.f_source, Control::Text).required(),
            Field::new("publishedOn", t.f_published, Control::Date)
                .required()
                .scalar(Scalar::Date),
            Field::new("illustrative", t.f_illustrative, Control::Checkbox),
        ],
        ("budget", _) => {
            let funds = data
                .budget
                .by_fund
                .iter()
                .map(|f| (f.fund_id.clone(), format!("{} ({})", f.name, f.funder_name)))
                .collect();
            let mut targets: Vec<(String, String)> = programme
                .pillars
                .iter()
                .map(|p| {
                    (
                        format!("pillar:{}", p.id),
                        format!("{}: {}. {}", t.pillar, p.number, p.name),
                    )
                })
                .collect();
            targets.extend(
                programme
                    .areas
                    .iter()
                    .filter(|a| a.kind != "GEMEENTE" && a.kind != "LAND")
                    .map(|a| {
                        (
                            format!("area:{}", a.id),
                            format!("{}: {}", t.f_area, a.name),
                        )
                    }),
            );
            targets.extend(
                data.interventions
                    .nodes
                    .iter()
                    .filter(|i| !i.is_final)
                    .map(|i| {
                        (
                            format!("intervention:{}", i.id),
                            format!("{}: {}", t.f_intervention, i.title),
                        )
                    }),
            );
            vec![
                Field::new("fundId", t.f_fund, select(funds)).required(),
                Field::new("target", t.f_for, select(targets)).required(),
                Field::new("year", t.f_year, Control::Text)
                    .required()
                    .scalar(Scalar::Int),
                Field::new("amount", t.f_amount, Control::Text)
                    .required()
                    .scalar(Scalar::Money)
                    .hint(t.f_amount_hint),
                Field::new("decisionId", t.f_decision, select(decisions("ADOPTED"))).required(),
            ]
        }
        ("voortgang", Some("interventie")) => {
            let interventions = data
                .interventions
                .nodes
                .iter()
                .filter(|i| !i.is_final)
                .map(|i| (i.id.clone(), i.title.clone()))
                .collect();
            vec![
                Field::new("interventionId", t.f_intervention, select(interventions)).required(),
                Field::new("progress", t.f_progress, Control::Text)
                    .required()
                    .scalar(Scalar::Percent),
                Field::new(
                    "status",
                    t.f_status,
                    Control::Select(vec![
                        ("RUNNING".into(), t.f_running.into()),
                        ("PLANNED".into(), t.f_planned.into()),
                        ("PAUSED".into(), t.f_paused.into()),
                    ]),
                )
                .required(),
                Field::new("note", t.f_note, Control::TextArea),
                Field::new("reportedOn", t.f_reported, Control::Date)
                    .required()
                    .scalar(Scalar::Date),
            ]
        }
        ("voortgang", _) => {
            let commitments = data
                .commitments
                .nodes
                .iter()
                .filter(|c| !c.is_final)
                .map(|c| {
                    (
                        c.id.clone(),
                        format!("{}: {}", c.partner_organisation, c.description),
                    )
                })
                .collect();
            vec![
                Field::new("commitmentId", t.f_commitment, select(commitments)).required(),
                Field::new(
                    "status",
                    t.f_status,
                    Control::Select(vec![
                        ("ON_TRACK".into(), t.on_track.into()),
                        ("AT_RISK".into(), t.at_risk.into()),
                        ("LATE".into(), t.late.into()),
                        ("DELIVERED".into(), t.delivered.into()),
                        ("WITHDRAWN".into(), t.withdrawn.into()),
                    ]),
                )
                .required(),
                Field::new("note", t.f_note, Control::TextArea),
                Field::new("reportedOn", t.f_reported, Control::Date)
                    .required()
                    .scalar(Scalar::Date),
            ]
        }
        _ => return None,
    })
}

/// The hidden ids and key a fresh form carries: the ids the ledger would otherwise make, so a
/// form sent twice finds the same record, and the idempotency key.
fn fresh_hidden(form: &str) -> Vec<(&'static str, String)> {
    let new_id = || uuid::Uuid::new_v4().to_string();
    let mut hidden = vec![("idempotencyKey", new_id())];
    match form {
        "vergadering" => hidden.push(("meetingId", new_id())),
        "besluit" => hidden.push(("decisionId", new_id())),
        "budget" => hidden.push(("allocationId", new_id())),
        _ => {}
    }
    hidden
}

fn vote_choices(t: &Texts) -> Vec<(&'static str, &'static str)> {
    vec![
        ("", t.f_no_vote),
        ("CONSENT", t.vote_consent),
        ("FOR", t.vote_for),
        ("AGAINST", t.vote_against),
        ("ABSTAIN", t.vote_abstain),
    ]
}

#[derive(Deserialize)]
pub(crate) struct FormQuery {
    soort: Option<String>,
}

fn form_page(
    ctx: &Ctx,
    programme: &Programme,
    form: &str,
    soort: Option<&str>,
    fields: Vec<Field>,
    hidden: Vec<(&'static str, String)>,
    form_error: Option<String>,
) -> FormPage {
    let t = ctx.t();
    let heading = form_title(t, form, soort);
    let mut action = format!("/programmas/{}/secretariaat/{form}", programme.id);
    if let Some(soort) = soort {
        action.push_str(&format!("?soort={soort}"));
    }
    FormPage {
        layout: ctx.layout(
            heading,
            Some((&programme.id, &programme.name)),
            Section::Office,
        ),
        heading,
        action,
        csrf: ctx
            .session
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default(),
        hidden,
        fields,
        form_error,
        vote_choices: vote_choices(t),
    }
}

pub(crate) async fn form(
    ctx: Ctx,
    Path((programme, form)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<FormQuery>,
) -> Response {
    let result = async {
        if !FORMS.contains(&form.as_str()) {
            return Err(PageError::NotFound);
        }
        gate(&ctx)?;
        let (data, programme) = lookups(&ctx, &programme).await?;
        let soort = query.soort.as_deref().filter(|s| *s == "interventie");
        let fields = fields(ctx.t(), &form, soort, &data, &programme).ok_or(PageError::NotFound)?;
        let page = form_page(
            &ctx,
            &programme,
            &form,
            soort,
            fields,
            fresh_hidden(&form),
            None,
        );
        Ok(ctx.render(&page))
    }
    .await;
    answer(&ctx, result)
}

/// Checks a field's text with the parser of the API's scalar.
fn check_scalar(scalar: Scalar, text: &str) -> Result<Value, Check> {
    match scalar {
        Scalar::Text => Ok(json!(text)),
        Scalar::Int => text
            .trim()
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|_| Check::WholeNumber(text.to_owned())),
        Scalar::Percent => match text.trim().parse::<i64>() {
            Ok(n) if (0..=100).contains(&n) => Ok(json!(n)),
            _ => Err(Check::Percent(text.to_owned())),
        },
        Scalar::Date => chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(|_| json!(text.trim()))
            .map_err(|_| Check::Date(text.to_owned())),
        Scalar::Decimal => {
            let normal = decimal_point(text);
            normal
                .parse::<rust_decimal::Decimal>()
                .map(|_| json!(normal))
                .map_err(|_| Check::Decimal(text.to_owned()))
        }
        Scalar::Money => {
            let normal = decimal_point(text);
            normal
                .parse::<domain::money::Cents>()
                .map(|_| json!(normal))
                .map_err(|e| Check::Money(text.to_owned(), e.to_string()))
        }
        Scalar::Period => text
            .trim()
            .parse::<domain::period::Period>()
            .map(|p| json!(p.to_string()))
            .map_err(|e| Check::Period(text.to_owned(), e.to_string())),
    }
}

/// A target is an absolute value, or follows a comparator with a margin: checked here, since
/// the API names no rule for it.
fn check_target_value(lang: Lang, fields: &mut [Field]) -> bool {
    let given = |fields: &[Field], name: &str| {
        fields
            .iter()
            .any(|f| f.name == name && !f.value.trim().is_empty())
    };
    let (value, comparator, margin) = (
        given(fields, "value"),
        given(fields, "comparator"),
        given(fields, "margin"),
    );
    let problem = match (value, comparator) {
        (true, true) => Some(("value", Check::ValueAndComparator)),
        (false, false) => Some(("value", Check::NoValueNorComparator)),
        (true, false) if margin => Some(("margin", Check::MarginWithoutComparator)),
        _ => None,
    };
    match problem {
        Some((name, check)) => {
            if let Some(field) = fields.iter_mut().find(|f| f.name == name) {
                if field.error.is_none() {
                    field.error = Some(check.message(lang));
                }
            }
            true
        }
        None => false,
    }
}

/// A number as a Dutch secretary types it (`21,4`) in the API's notation (`21.4`): one comma
/// and no point is a decimal comma.
fn decimal_point(text: &str) -> String {
    let text = text.trim();
    if text.matches(',').count() == 1 && !text.contains('.') {
        text.replace(',', ".")
    } else {
        text.to_owned()
    }
}

/// The mutation a form sends, and where its result is shown.
fn mutation(form: &str, soort: Option<&str>, outcome: &str) -> (&'static str, &'static str) {
    match (form, soort) {
        ("vergadering", _) => (
            "mutation($input: HoldMeetingInput!) { holdMeeting(input: $input) { programmeId } }",
            "holdMeeting",
        ),
        ("besluit", _) => (
            "mutation($input: ProposeDecisionInput!) { proposeDecision(input: $input) { id } }",
            "proposeDecision",
        ),
        ("stemmen", _) if outcome == "reject" => (
            "mutation($input: DecideInput!) { rejectDecision(input: $input) { id } }",
            "rejectDecision",
        ),
        ("stemmen", _) => (
            "mutation($input: DecideInput!) { adoptDecision(input: $input) { id } }",
            "adoptDecision",
        ),
        ("streefwaarde", _) => (
            "mutation($input: SetTargetInput!) { setTarget(input: $input) { key } }",
            "setTarget",
        ),
        ("meting", _) => (
            "mutation($input: RecordMeasurementInput!) { recordMeasurement(input: $input) { key } }",
            "recordMeasurement",
        ),
        ("budget", _) => (
            "mutation($input: AllocateBudgetInput!) { allocateBudget(input: $input) { id } }",
            "allocateBudget",
        ),
        ("voortgang", Some("interventie")) => (
            "mutation($input: ReportInterventionProgressInput!) { reportInterventionProgress(input: $input) { id } }",
            "reportInterventionProgress",
        ),
        _ => (
            "mutation($input: ReportCommitmentProgressInput!) { reportCommitmentProgress(input: $input) { id } }",
            "reportCommitmentProgress",
        ),
    }
}

/// The form field an API error belongs to: the one it names, the one under it
/// (`baseline` → `baseline.value`), or the one above it (`target.pillar` → `target`).
fn field_of<'a>(fields: &'a [Field], named: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| f.name == named)
        .or_else(|| {
            fields
                .iter()
                .find(|f| named.starts_with(&format!("{}.", f.name)))
        })
        .or_else(|| {
            fields
                .iter()
                .find(|f| f.name.starts_with(&format!("{named}.")))
        })
        .map(|f| f.name)
}

/// The field a fieldless GraphQL error names in its text (`argument "input.horizonYear"`).
fn field_in_message(message: &str) -> Option<&str> {
    let start = message.find("\"input.")? + "\"input.".len();
    let rest = &message[start..];
    Some(&rest[..rest.find('"')?])
}

/// The field a message of the ledger's rules names in front (`amount: an allocation never
/// exceeds ...`); rule violations carry no `extensions.field`.
fn field_prefix(message: &str) -> Option<&str> {
    let (name, _) = message.split_once(": ")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.')
        .then_some(name)
}

pub(crate) async fn submit(
    ctx: Ctx,
    Path((programme, form)): Path<(String, String)>,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        if !FORMS.contains(&form.as_str()) {
            return Err(PageError::NotFound);
        }
        gate(&ctx)?;
        let t = ctx.t();
        let values = |name: &str| -> Vec<String> {
            body.iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let value = |name: &str| values(name).into_iter().next().unwrap_or_default();
        let session = ctx.session.as_ref().ok_or(PageError::SignIn)?;
        let (data, programme) = lookups(&ctx, &programme).await?;
        let soort_text = value("soort");
        let soort = Some(soort_text.as_str()).filter(|s| *s == "interventie");
        let mut fields = fields(t, &form, soort, &data, &programme).ok_or(PageError::NotFound)?;
        // Fill the fields with what was sent, to draw them again on an error.
        for field in &mut fields {
            match &field.control {
                Control::Checks(_) => field.values = values(field.name),
                Control::Votes(members) => {
                    field.values = members
                        .iter()
                        .map(|(id, _)| format!("{id}={}", value(&format!("vote-{id}"))))
                        .collect()
                }
                _ => field.value = value(field.name),
            }
        }
        let mut hidden: Vec<(&'static str, String)> = fresh_hidden(&form)
            .into_iter()
            .map(|(k, fresh)| {
                let sent = value(k);
                (k, if sent.is_empty() { fresh } else { sent })
            })
            .collect();
        if let Some(soort) = soort {
            hidden.push(("soort", soort.to_owned()));
        }
        let csrf_ok = session::same_secret(&session.csrf, &value("csrf"));
        if !csrf_ok {
            let page = form_page(
                &ctx,
                &programme,
                &form,
                soort,
                fields,
                hidden,
                Some(t.csrf_failed.into()),
            );
            let body = page.render().map_err(|_| PageError::Internal)?;
            return Ok(ctx.html(StatusCode::FORBIDDEN, body));
        }

        // The mutation's input, field by field.
        let mut input = Map::new();
        input.insert("programmeId".into(), json!(programme.id));
        for (k, v) in &hidden {
            if *k != "soort" {
                input.insert((*k).into(), json!(v));
            }
        }
        let mut invalid = false;
        let mut outcome = String::new();
        for field in &mut fields {
            match &field.control {
                Control::Checks(_) => {
                    input.insert(field.name.into(), json!(field.values));
                }
                Control::Votes(members) => {
                    let votes: Vec<Value> = members
                        .iter()
                        .filter_map(|(id, _)| {
                            let choice = field.vote_of(id);
                            (!choice.is_empty()).then(|| json!({ "member": id, "choice": choice }))
                        })
                        .collect();
                    input.insert("votes".into(), json!(votes));
                }
                Control::Checkbox => {
                    input.insert(
                        field.name.into(),
                        json!(field.value == "true" || field.value == "on"),
                    );
                }
                Control::Select(_) if field.required && field.value.trim().is_empty() => {
                    // A choice the form asks for and that was not made.
                    field.error = Some(Check::Required.message(ctx.lang));
                    invalid = true;
                }
                _ if field.name == "outcome" => outcome = field.value.clone(),
                _ if field.name == "target" => {
                    let target = match field.value.split_once(':') {
                        Some((kind @ ("pillar" | "area" | "intervention"), id)) => {
                            json!({ kind: id })
                        }
                        _ => json!({}),
                    };
                    input.insert("target".into(), target);
                }
                _ => {
                    let text = field.value.trim();
                    if text.is_empty() && !field.required {
                        continue;
                    }
                    // A required field left empty goes to the API as it is, and the API says
                    // what is missing; a typed one is checked here with the scalar's parser.
                    let checked = if text.is_empty() && field.scalar != Scalar::Text {
                        Err(Check::Required)
                    } else {
                        check_scalar(field.scalar, text)
                    };
                    match checked {
                        Ok(v) => match field.name.split_once('.') {
                            Some((outer, inner)) => {
                                let entry =
                                    input.entry(outer.to_owned()).or_insert_with(|| json!({}));
                                entry[inner] = v;
                            }
                            None => {
                                input.insert(field.name.into(), v);
                            }
                        },
                        Err(check) => {
                            field.error = Some(check.message(ctx.lang));
                            invalid = true;
                        }
                    }
                }
            }
        }
        if form == "vergadering" || form == "besluit" || form == "streefwaarde" || form == "meting"
        {
            // programmeId is an input field of these mutations only.
        } else {
            input.remove("programmeId");
        }
        if form == "streefwaarde" && check_target_value(ctx.lang, &mut fields) {
            invalid = true;
        }
        if invalid {
            let page = form_page(&ctx, &programme, &form, soort, fields, hidden, None);
            let body = page.render().map_err(|_| PageError::Internal)?;
            return Ok(ctx.html(StatusCode::UNPROCESSABLE_ENTITY, body));
        }

        let (query, operation) = mutation(&form, soort, &outcome);
        let answer = ctx
            .graphql(query, json!({ "input": Value::Object(input.clone()) }))
            .await;
        if answer.errors.is_empty() {
            let base = format!("/programmas/{}", programme.id);
            let to = match form.as_str() {
                "besluit" | "stemmen" => {
                    let id = answer.data[operation]["id"].as_str().unwrap_or_default();
                    format!("{base}/besluiten/{id}?melding={form}")
                }
                "streefwaarde" | "meting" => {
                    let area = input
                        .get("area")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let is_wijk = programme
                        .areas
                        .iter()
                        .any(|a| a.id == area && a.kind == "WIJK");
                    if is_wijk {
                        format!("{base}/monitor?wijk={area}&melding={form}")
                    } else {
                        format!("{base}/monitor?melding={form}")
                    }
                }
                "budget" => format!("{base}/geld?melding=budget"),
                "voortgang" if soort.is_none() => format!("{base}/geld?melding=voortgang"),
                _ => format!("{base}/secretariaat?melding={form}"),
            };
            return Ok(ctx.redirect(&to));
        }
        if let Some(e) = answer.errors.iter().find(|e| e.code == "UNAUTHENTICATED") {
            tracing::debug!(message = %e.message, "a page session's token no longer signs in");
            return Err(PageError::SignIn);
        }
        // Show each error next to the field it names; the rest above the form. Each in the
        // page's language, with what the page knows to make it precise.
        let facts = Facts {
            period: Some(format!(
                "{}–{}",
                programme.period.first, programme.period.last
            )),
            fund_left: (form == "budget")
                .then(|| input.get("fundId").and_then(Value::as_str))
                .flatten()
                .and_then(|id| data.budget.by_fund.iter().find(|f| f.fund_id == id))
                .map(|f| ctx.lang.money(&f.left)),
        };
        let mut form_errors = Vec::new();
        for error in &answer.errors {
            let message = messages::api_error(ctx.lang, error, &facts);
            let named = [
                error.field.as_deref(),
                field_in_message(&error.message),
                field_prefix(&error.message),
            ]
            .into_iter()
            .flatten()
            .find_map(|f| field_of(&fields, f))
            .map(str::to_owned);
            match named.and_then(|n| fields.iter_mut().find(|f| f.name == n)) {
                Some(field) => field.error = Some(message),
                None => form_errors.push(message),
            }
        }
        // A fresh idempotency key for the next attempt: this one recorded nothing.
        for (k, v) in &mut hidden {
            if *k == "idempotencyKey" {
                *v = uuid::Uuid::new_v4().to_string();
            }
        }
        let form_error = (!form_errors.is_empty()).then(|| form_errors.join(" "));
        let page = form_page(&ctx, &programme, &form, soort, fields, hidden, form_error);
        let body = page.render().map_err(|_| PageError::Internal)?;
        Ok(ctx.html(StatusCode::UNPROCESSABLE_ENTITY, body))
    }
    .await;
    answer(&ctx, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_checked_by_the_apis_parsers() {
        assert_eq!(check_scalar(Scalar::Decimal, "21,4"), Ok(json!("21.4")));
        assert!(check_scalar(Scalar::Decimal, "abc").is_err());
        assert_eq!(
            check_scalar(Scalar::Money, "400000,00"),
            Ok(json!("400000.00"))
        );
        assert_eq!(
            check_scalar(Scalar::Period, "2023-q2"),
            Ok(json!("2023-Q2"))
        );
        assert!(check_scalar(Scalar::Period, "2023-13").is_err());
        assert_eq!(check_scalar(Scalar::Int, " 2030 "), Ok(json!(2030)));
        assert_eq!(
            check_scalar(Scalar::Date, "10-12-2024"),
            Err(Check::Date("10-12-2024".into()))
        );
        assert_eq!(check_scalar(Scalar::Percent, "100"), Ok(json!(100)));
        assert!(check_scalar(Scalar::Percent, "101").is_err());
    }

    #[test]
    fn errors_find_their_field() {
        let fields = vec![
            Field::new("title", "t", Control::Text),
            Field::new("baseline.value", "b", Control::Text),
            Field::new("target", "x", Control::Text),
        ];
        assert_eq!(field_of(&fields, "title"), Some("title"));
        assert_eq!(field_of(&fields, "baseline"), Some("baseline.value"));
        assert_eq!(field_of(&fields, "target.pillar"), Some("target"));
        assert_eq!(field_of(&fields, "votes"), None);
        assert_eq!(
            field_in_message(
                "Invalid value for argument \"input.horizonYear\", expected type \"Int\""
            ),
            Some("horizonYear")
        );
        assert_eq!(field_in_message("title: must not be empty"), None);
        assert_eq!(
            field_prefix("amount: an allocation never exceeds"),
            Some("amount")
        );
        assert_eq!(field_prefix("the decision is Adopted; final"), None);
    }
}
