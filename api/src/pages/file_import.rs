//! Secretariaat: importing a file of measurements, targets or budget lines (`docs/import.md`).
//!
//! The form posts the file as `multipart/form-data`; the page runs `importMeasurements`,
//! `importTargets` or `importBudgetLines` in-process with the file attached as the mutation's
//! `file` upload, exactly as a GraphQL multipart request would, so the import's checks, rules
//! and counts are the API's. A refused file shows every problem (line, column, rule, what is
//! wrong) and that nothing was recorded; a good one the counts of what it recorded. Importing
//! is idempotent, so a form sent twice records once.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::messages::{self, Facts};
use super::office::gate;
use super::{answer, session, Ctx, Layout, PageError, Section};

/// What a file holds: the form's `soort`, its label and the mutation that imports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Measurements,
    Targets,
    BudgetLines,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Measurements, Kind::Targets, Kind::BudgetLines];

    fn key(self) -> &'static str {
        match self {
            Kind::Measurements => "metingen",
            Kind::Targets => "streefwaarden",
            Kind::BudgetLines => "budgetregels",
        }
    }

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The mutation, its input type and the field of its answer.
    fn mutation(self) -> (&'static str, &'static str) {
        match self {
            Kind::Measurements => ("importMeasurements", "ImportMeasurementsInput"),
            Kind::Targets => ("importTargets", "ImportTargetsInput"),
            Kind::BudgetLines => ("importBudgetLines", "ImportBudgetLinesInput"),
        }
    }
}

/// One input of the form: what was sent, and the error next to it.
#[derive(Default)]
pub(crate) struct Input {
    pub(crate) value: String,
    pub(crate) error: Option<String>,
}

impl Input {
    fn of(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            error: None,
        }
    }
}

/// The counts of an import that went through (the API's `ImportReport`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    pub(crate) file_name: String,
    pub(crate) rows: u64,
    pub(crate) new: u64,
    pub(crate) corrections: u64,
    pub(crate) unchanged: u64,
    pub(crate) recorded: u64,
    pub(crate) recorded_before: u64,
    pub(crate) dry_run: bool,
    pub(crate) ignored_columns: Vec<String>,
}

/// One problem of a refused file, as the page shows it.
pub(crate) struct ProblemRow {
    pub(crate) line: u64,
    pub(crate) column: String,
    pub(crate) rule: String,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "importeren.html")]
struct ImportPage {
    layout: Layout,
    action: String,
    csrf: String,
    /// `(key, label, chosen)` of each kind of file.
    kinds: Vec<(&'static str, &'static str, bool)>,
    file: Input,
    sheet: Input,
    source: Input,
    decision: Input,
    reason: Input,
    fund: Input,
    dry_run: bool,
    /// `(id, title)` of the adopted decisions a target may rest on.
    decisions: Vec<(String, String)>,
    /// `(id, name)` of the programme's funds.
    funds: Vec<(String, String)>,
    form_error: Option<String>,
    report: Option<Report>,
    problems: Vec<ProblemRow>,
}

const LOOKUPS: &str = "query($p: String!, $first: Int) {
  programme(id: $p) { id name period { first last } }
  decisions(programmeId: $p, first: $first) { nodes { id title status } }
  budget(programmeId: $p) { byFund { fundId name funderName } }
}";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lookups {
    programme: Option<Programme>,
    decisions: super::Connection<Decision>,
    budget: Budget,
}

#[derive(Deserialize)]
struct Programme {
    id: String,
    name: String,
    period: Period,
}

#[derive(Deserialize)]
struct Period {
    first: i32,
    last: i32,
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
}

/// The programme, and the choices its form offers.
struct Choices {
    programme: Programme,
    decisions: Vec<(String, String)>,
    funds: Vec<(String, String)>,
}

async fn choices(ctx: &Ctx, programme: &str) -> Result<Choices, PageError> {
    let data: Lookups = ctx
        .read(
            LOOKUPS,
            json!({ "p": programme, "first": ctx.state().limits.max_page_size }),
        )
        .await?;
    let programme = data.programme.ok_or(PageError::NotFound)?;
    let mut decisions: Vec<(String, String)> = data
        .decisions
        .nodes
        .into_iter()
        .filter(|d| d.status == "ADOPTED")
        .map(|d| (d.id, d.title))
        .collect();
    decisions.reverse();
    let funds = data
        .budget
        .by_fund
        .into_iter()
        .map(|f| (f.fund_id, format!("{} ({})", f.name, f.funder_name)))
        .collect();
    Ok(Choices {
        programme,
        decisions,
        funds,
    })
}

/// What the form was sent with.
#[derive(Default)]
struct Sent {
    csrf: String,
    kind: String,
    sheet: String,
    source: String,
    decision: String,
    reason: String,
    fund: String,
    dry_run: bool,
    /// The file's name and content, when one was chosen.
    file: Option<(String, Option<String>, axum::body::Bytes)>,
}

impl Sent {
    async fn read(mut multipart: Multipart) -> Result<Self, MultipartError> {
        let mut sent = Self::default();
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await?;
                if !file_name.is_empty() || !bytes.is_empty() {
                    sent.file = Some((file_name, content_type, bytes));
                }
                continue;
            }
            let text = field.text().await?;
            match name.as_str() {
                "csrf" => sent.csrf = text,
                "soort" => sent.kind = text,
                "sheet" => sent.sheet = text,
                "source" => sent.source = text,
                "decisionId" => sent.decision = text,
                "reason" => sent.reason = text,
                "fund" => sent.fund = text,
                "dryRun" => sent.dry_run = text == "true" || text == "on",
                _ => {}
            }
        }
        Ok(sent)
    }
}

fn import_page(ctx: &Ctx, choices: Choices, sent: &Sent) -> ImportPage {
    let t = ctx.t();
    let chosen = Kind::parse(&sent.kind).unwrap_or(Kind::Measurements);
    let kinds = Kind::ALL
        .into_iter()
        .map(|k| {
            let label = match k {
                Kind::Measurements => t.i_kind_measurements,
                Kind::Targets => t.i_kind_targets,
                Kind::BudgetLines => t.i_kind_budget,
            };
            (k.key(), label, k == chosen)
        })
        .collect();
    ImportPage {
        layout: ctx.layout(
            t.form_import,
            Some((&choices.programme.id, &choices.programme.name)),
            Section::Office,
        ),
        action: format!("/programmas/{}/secretariaat/import", choices.programme.id),
        csrf: ctx
            .session
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default(),
        kinds,
        file: Input::default(),
        sheet: Input::of(&sent.sheet),
        source: Input::of(&sent.source),
        decision: Input::of(&sent.decision),
        reason: Input::of(&sent.reason),
        fund: Input::of(&sent.fund),
        dry_run: sent.dry_run,
        decisions: choices.decisions,
        funds: choices.funds,
        form_error: None,
        report: None,
        problems: Vec::new(),
    }
}

fn render(ctx: &Ctx, status: StatusCode, page: &ImportPage) -> Result<Response, PageError> {
    let body = page.render().map_err(|e| {
        tracing::error!(error = %e, "the import page failed");
        PageError::Internal
    })?;
    Ok(ctx.html(status, body))
}

/// `GET …/secretariaat/import`: the form.
pub(crate) async fn form(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = async {
        gate(&ctx)?;
        let choices = choices(&ctx, &programme).await?;
        let page = import_page(&ctx, choices, &Sent::default());
        render(&ctx, StatusCode::OK, &page)
    }
    .await;
    answer(&ctx, result)
}

/// `POST …/secretariaat/import`: runs the import and shows its report, or every problem.
pub(crate) async fn submit(
    ctx: Ctx,
    Path(programme): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        gate(&ctx)?;
        let t = ctx.t();
        let session = ctx.session.as_ref().ok_or(PageError::SignIn)?;
        let read = match multipart {
            Ok(multipart) => Sent::read(multipart).await,
            Err(rejection) => {
                tracing::debug!(%rejection, "an import form that is no multipart body");
                let choices = choices(&ctx, &programme).await?;
                let mut page = import_page(&ctx, choices, &Sent::default());
                page.form_error = Some(t.csrf_failed.to_owned());
                return render(&ctx, StatusCode::BAD_REQUEST, &page);
            }
        };
        let sent = match read {
            Ok(sent) => sent,
            Err(e) => {
                let status = e.status();
                let choices = choices(&ctx, &programme).await?;
                let mut page = import_page(&ctx, choices, &Sent::default());
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    page.file.error = Some(t.i_too_large.to_owned());
                } else {
                    tracing::debug!(error = %e, "an import form that cannot be read");
                    page.form_error = Some(t.csrf_failed.to_owned());
                }
                return render(&ctx, status, &page);
            }
        };
        let choices = choices(&ctx, &programme).await?;
        let programme_id = choices.programme.id.clone();
        let facts = Facts {
            period: Some(format!(
                "{}–{}",
                choices.programme.period.first, choices.programme.period.last
            )),
            fund_left: None,
        };
        let mut page = import_page(&ctx, choices, &sent);
        if !session::same_secret(&session.csrf, &sent.csrf) {
            page.form_error = Some(t.csrf_failed.to_owned());
            return render(&ctx, StatusCode::FORBIDDEN, &page);
        }
        let Some(kind) = Kind::parse(&sent.kind) else {
            page.form_error = Some(messages::Check::Required.message(ctx.lang));
            return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &page);
        };
        // The file first: none chosen, or one the import cannot read by its name.
        let Some((file_name, content_type, bytes)) = sent.file.clone() else {
            page.file.error = Some(t.i_no_file.to_owned());
            return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &page);
        };
        if ::import::Format::from_file_name(&file_name).is_err() {
            page.file.error = Some(t.i_file_kind.to_owned());
            return render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &page);
        }

        let (operation, input_type) = kind.mutation();
        let query = format!(
            "mutation($input: {input_type}!) {{ {operation}(input: $input) {{
               fileName rows new corrections unchanged recorded recordedBefore dryRun ignoredColumns
             }} }}"
        );
        let mut input = json!({
            "programmeId": programme_id,
            "file": Value::Null,
            "sheet": sent.sheet,
            "dryRun": sent.dry_run,
        });
        match kind {
            Kind::Measurements => input["source"] = json!(sent.source),
            Kind::Targets => {
                input["decisionId"] = json!(sent.decision);
                input["reason"] = json!(sent.reason);
            }
            Kind::BudgetLines => input["fund"] = json!(sent.fund),
        }
        let upload = async_graphql::UploadValue {
            filename: file_name,
            content_type,
            content: bytes,
        };
        let answer = ctx
            .graphql_upload(
                &query,
                json!({ "input": input }),
                "variables.input.file",
                upload,
            )
            .await;
        if answer.errors.is_empty() {
            let report: Report =
                serde_json::from_value(answer.data[operation].clone()).map_err(|e| {
                    tracing::error!(error = %e, "the import page could not read the report");
                    PageError::Internal
                })?;
            page.report = Some(report);
            return render(&ctx, StatusCode::OK, &page);
        }
        if answer.errors.iter().any(|e| e.code == "UNAUTHENTICATED") {
            return Err(PageError::SignIn);
        }
        let mut form_errors = Vec::new();
        for error in &answer.errors {
            if error.code == "IMPORT_REFUSED" {
                let mut lines: Vec<u64> = error.problems.iter().map(|p| p.line).collect();
                lines.dedup();
                let file = page_file_name(&sent);
                form_errors.push(messages::refused_summary(
                    ctx.lang,
                    &file,
                    error.problems.len(),
                    lines.len(),
                ));
                page.problems = error
                    .problems
                    .iter()
                    .map(|p| ProblemRow {
                        line: p.line,
                        column: p.column.clone().unwrap_or_default(),
                        rule: p.rule.clone(),
                        message: messages::problem(ctx.lang, &p.rule, &p.message, &facts),
                    })
                    .collect();
                continue;
            }
            let message = match error.stopped {
                Some((line, recorded)) => messages::import_stopped(ctx.lang, error, line, recorded),
                None => messages::api_error(ctx.lang, error, &facts),
            };
            let input = match error.field.as_deref() {
                Some("file" | "content" | "fileName") => Some(&mut page.file),
                Some("sheet") => Some(&mut page.sheet),
                Some("source") => Some(&mut page.source),
                Some("decisionId") => Some(&mut page.decision),
                Some("reason") => Some(&mut page.reason),
                Some("fund") => Some(&mut page.fund),
                _ => None,
            };
            match input {
                Some(input) => input.error = Some(message),
                None => form_errors.push(message),
            }
        }
        page.form_error = (!form_errors.is_empty()).then(|| form_errors.join(" "));
        render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &page)
    }
    .await;
    answer(&ctx, result)
}

/// The sent file's name, as the summary of a refused file names it.
fn page_file_name(sent: &Sent) -> String {
    sent.file
        .as_ref()
        .map(|(name, _, _)| name.clone())
        .unwrap_or_default()
}
