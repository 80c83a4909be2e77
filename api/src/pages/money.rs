//! Geld en toezeggingen: the budget per pillar, funder, year and fund (allocated, committed,
//! spent, left) as bar charts and tables, the commitments per partner with their status, and
//! each table as a CSV download. From the API's `budget` and `commitments`.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::chart::{self, BarRow};
use super::decisions::commitment_status;
use super::i18n::Texts;
use super::monitor::PageInfo;
use super::{answer, Ctx, Layout, PageError, Section};

const MONEY_QUERY: &str = "query($p: String!, $asOf: DateTime, $signedIn: Boolean!, $first: Int) {
  programme(id: $p, asOf: $asOf) { id name pillars { id number name } areas { id name } }
  budget(programmeId: $p, asOf: $asOf) {
    allocated committed spent left
    byFund { fundId name funder funderName amount allocated committed spent left }
    byFunder { key allocated committed spent left }
    byPillar { key allocated committed spent left }
    byYear { key allocated committed spent left }
  }
  commitments(programmeId: $p, asOf: $asOf, first: $first) @include(if: $signedIn) {
    nodes { id partner partnerOrganisation description amount due status decisionId }
    pageInfo { hasNextPage endCursor }
  }
}";

const MORE_COMMITMENTS: &str = "query($p: String!, $asOf: DateTime, $first: Int, $after: String) {
  commitments(programmeId: $p, asOf: $asOf, first: $first, after: $after) {
    nodes { id partner partnerOrganisation description amount due status decisionId }
    pageInfo { hasNextPage endCursor }
  }
}";

#[derive(Deserialize)]
struct MoneyData {
    programme: Option<Programme>,
    budget: Budget,
    commitments: Option<Commitments>,
}

#[derive(Deserialize)]
struct Programme {
    id: String,
    name: String,
    pillars: Vec<Pillar>,
}

#[derive(Deserialize)]
struct Pillar {
    id: String,
    number: i32,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Budget {
    allocated: String,
    committed: String,
    spent: String,
    left: String,
    by_fund: Vec<FundLine>,
    by_funder: Vec<Line>,
    by_pillar: Vec<Line>,
    by_year: Vec<Line>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FundLine {
    name: String,
    funder_name: String,
    amount: String,
    allocated: String,
    committed: String,
    spent: String,
    left: String,
}

#[derive(Deserialize)]
struct Line {
    key: String,
    allocated: String,
    committed: String,
    spent: String,
    left: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commitments {
    nodes: Vec<Commitment>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commitment {
    partner_organisation: String,
    description: String,
    amount: Option<String>,
    due: String,
    status: String,
    decision_id: String,
}

/// A cell: the text a person reads, and the value the CSV holds.
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) raw: String,
    pub(crate) num: bool,
    pub(crate) href: Option<String>,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            raw: text.clone(),
            text,
            num: false,
            href: None,
        }
    }

    fn money(ctx: &Ctx, amount: &str) -> Self {
        Self {
            text: ctx.lang.money(amount),
            raw: amount.to_owned(),
            num: true,
            href: None,
        }
    }
}

/// A table of the page, which is also a CSV download.
pub(crate) struct Table {
    pub(crate) file: &'static str,
    pub(crate) title: String,
    pub(crate) headers: Vec<(String, bool)>,
    pub(crate) rows: Vec<Vec<Cell>>,
    pub(crate) csv_href: String,
    pub(crate) chart: Option<String>,
}

pub(crate) struct PartnerGroup {
    pub(crate) partner: String,
    pub(crate) rows: Vec<Vec<Cell>>,
}

#[derive(Template)]
#[template(path = "geld.html")]
struct MoneyPage {
    layout: Layout,
    totals: Vec<(&'static str, String)>,
    tables: Vec<Table>,
    commitments_shown: bool,
    partners: Vec<PartnerGroup>,
    commitments_csv: String,
    commitment_headers: Vec<(String, bool)>,
}

/// The tables' file names, in the page's order.
const FILES: [&str; 5] = ["pijlers", "financiers", "jaren", "fondsen", "toezeggingen"];

fn funder_name(t: &Texts, key: &str) -> String {
    match key {
        "RIJK" => t.funder_rijk,
        "GEMEENTE" => t.funder_gemeente,
        "WONINGCORPORATIE" => t.funder_corporatie,
        "OTHER" => t.funder_other,
        other => other,
    }
    .to_owned()
}

struct Loaded {
    programme: Programme,
    budget: Budget,
    commitments: Option<Vec<Commitment>>,
}

async fn load(ctx: &Ctx, programme_id: &str, with_commitments: bool) -> Result<Loaded, PageError> {
    let first = ctx.state().limits.max_page_size;
    let data: MoneyData = ctx
        .read(
            MONEY_QUERY,
            json!({ "p": programme_id, "asOf": ctx.as_of(), "signedIn": with_commitments, "first": first }),
        )
        .await?;
    let programme = data.programme.ok_or(PageError::NotFound)?;
    let commitments = match data.commitments {
        None => None,
        Some(mut page) => {
            let mut all = std::mem::take(&mut page.nodes);
            let mut info = page.page_info;
            while info.has_next_page {
                #[derive(Deserialize)]
                struct More {
                    commitments: Commitments,
                }
                let mut more: More = ctx
                    .read(
                        MORE_COMMITMENTS,
                        json!({ "p": programme_id, "asOf": ctx.as_of(), "first": first, "after": info.end_cursor }),
                    )
                    .await?;
                all.append(&mut more.commitments.nodes);
                info = more.commitments.page_info;
            }
            Some(all)
        }
    };
    Ok(Loaded {
        programme,
        budget: data.budget,
        commitments,
    })
}

fn money_headers(t: &Texts, first: &str) -> Vec<(String, bool)> {
    vec![
        (first.to_owned(), false),
        (t.allocated.to_owned(), true),
        (t.committed.to_owned(), true),
        (t.spent.to_owned(), true),
        (t.left.to_owned(), true),
    ]
}

fn line_row(ctx: &Ctx, label: String, line: &Line) -> Vec<Cell> {
    vec![
        Cell::text(label),
        Cell::money(ctx, &line.allocated),
        Cell::money(ctx, &line.committed),
        Cell::money(ctx, &line.spent),
        Cell::money(ctx, &line.left),
    ]
}

fn bars(ctx: &Ctx, id: &str, title: &str, lines: &[(String, &Line)]) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    let t = ctx.t();
    let names = [
        ("bar-allocated", t.allocated.to_owned()),
        ("bar-committed", t.committed.to_owned()),
        ("bar-spent", t.spent.to_owned()),
    ];
    let rows: Vec<BarRow> = lines
        .iter()
        .map(|(label, line)| BarRow {
            label: label.clone(),
            values: vec![
                line.allocated.clone(),
                line.committed.clone(),
                line.spent.clone(),
            ],
        })
        .collect();
    chart::bar_chart(ctx.lang, id.to_owned(), title.to_owned(), &names, &rows)
        .render()
        .ok()
}

fn tables(ctx: &Ctx, loaded: &Loaded) -> Vec<Table> {
    let t = ctx.t();
    let programme = &loaded.programme;
    let budget = &loaded.budget;
    let csv = |file: &str| ctx.link(&format!("/programmas/{}/geld/{file}.csv", programme.id));
    let pillar_name: HashMap<&str, String> = programme
        .pillars
        .iter()
        .map(|p| (p.id.as_str(), format!("{}. {}", p.number, p.name)))
        .collect();
    let by_pillar: Vec<(String, &Line)> = budget
        .by_pillar
        .iter()
        .map(|l| {
            (
                pillar_name
                    .get(l.key.as_str())
                    .cloned()
                    .unwrap_or_else(|| l.key.clone()),
                l,
            )
        })
        .collect();
    let by_funder: Vec<(String, &Line)> = budget
        .by_funder
        .iter()
        .map(|l| (funder_name(t, &l.key), l))
        .collect();
    let by_year: Vec<(String, &Line)> = budget.by_year.iter().map(|l| (l.key.clone(), l)).collect();
    let table = |file: &'static str, title: &str, first: &str, lines: &[(String, &Line)]| Table {
        file,
        title: title.to_owned(),
        headers: money_headers(t, first),
        rows: lines
            .iter()
            .map(|(label, line)| line_row(ctx, label.clone(), line))
            .collect(),
        csv_href: csv(file),
        chart: bars(ctx, &format!("bars-{file}"), title, lines),
    };
    let mut fund_headers = vec![
        (t.fund.to_owned(), false),
        (t.funder.to_owned(), false),
        (t.amount.to_owned(), true),
    ];
    fund_headers.extend(money_headers(t, "").into_iter().skip(1));
    vec![
        table("pijlers", t.by_pillar, t.pillar, &by_pillar),
        table("financiers", t.by_funder, t.funder, &by_funder),
        table("jaren", t.by_year, t.year, &by_year),
        Table {
            file: "fondsen",
            title: t.by_fund.to_owned(),
            headers: fund_headers,
            rows: budget
                .by_fund
                .iter()
                .map(|f| {
                    vec![
                        Cell::text(f.name.clone()),
                        Cell::text(f.funder_name.clone()),
                        Cell::money(ctx, &f.amount),
                        Cell::money(ctx, &f.allocated),
                        Cell::money(ctx, &f.committed),
                        Cell::money(ctx, &f.spent),
                        Cell::money(ctx, &f.left),
                    ]
                })
                .collect(),
            csv_href: csv("fondsen"),
            chart: None,
        },
    ]
}

fn commitment_headers(t: &Texts) -> Vec<(String, bool)> {
    vec![
        (t.partner.to_owned(), false),
        (t.description.to_owned(), false),
        (t.amount.to_owned(), true),
        (t.due.to_owned(), false),
        (t.status.to_owned(), false),
        (t.decision.to_owned(), false),
    ]
}

fn commitment_row(ctx: &Ctx, programme: &str, c: &Commitment) -> Vec<Cell> {
    let t = ctx.t();
    vec![
        Cell::text(c.partner_organisation.clone()),
        Cell::text(c.description.clone()),
        match &c.amount {
            Some(a) => Cell::money(ctx, a),
            None => Cell::text(""),
        },
        Cell {
            text: ctx.lang.date(&c.due),
            raw: c.due.clone(),
            num: false,
            href: None,
        },
        Cell::text(commitment_status(t, &c.status)),
        Cell {
            text: t.decision.to_owned(),
            raw: c.decision_id.clone(),
            num: false,
            href: Some(ctx.link(&format!(
                "/programmas/{programme}/besluiten/{}",
                c.decision_id
            ))),
        },
    ]
}

pub(crate) async fn page(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = async {
        let t = ctx.t();
        let loaded = load(&ctx, &programme, ctx.session.is_some()).await?;
        let mut partners: BTreeMap<String, Vec<Vec<Cell>>> = BTreeMap::new();
        for c in loaded.commitments.iter().flatten() {
            partners
                .entry(c.partner_organisation.clone())
                .or_default()
                .push(commitment_row(&ctx, &loaded.programme.id, c));
        }
        let budget = &loaded.budget;
        let page = MoneyPage {
            layout: ctx.layout(
                t.money,
                Some((&loaded.programme.id, &loaded.programme.name)),
                Section::Money,
            ),
            totals: vec![
                (t.allocated, ctx.lang.money(&budget.allocated)),
                (t.committed, ctx.lang.money(&budget.committed)),
                (t.spent, ctx.lang.money(&budget.spent)),
                (t.left, ctx.lang.money(&budget.left)),
            ],
            tables: tables(&ctx, &loaded),
            commitments_shown: loaded.commitments.is_some(),
            partners: partners
                .into_iter()
                .map(|(partner, rows)| PartnerGroup { partner, rows })
                .collect(),
            commitments_csv: ctx.link(&format!(
                "/programmas/{}/geld/toezeggingen.csv",
                loaded.programme.id
            )),
            commitment_headers: commitment_headers(t),
        };
        Ok(ctx.render(&page))
    }
    .await;
    answer(&ctx, result)
}

/// `/geld/{table}.csv`: one table of the page as CSV (comma separated, UTF-8, amounts as
/// decimal euros with a point), headers in the page's language.
pub(crate) async fn csv(ctx: Ctx, Path((programme, file)): Path<(String, String)>) -> Response {
    let result = async {
        let name = file
            .strip_suffix(".csv")
            .filter(|n| FILES.contains(n))
            .ok_or(PageError::NotFound)?;
        let commitments = name == "toezeggingen";
        if commitments && ctx.session.is_none() {
            // Commitments are not published: they need a signed-in reader, as in the API.
            return Err(PageError::SignIn);
        }
        let loaded = load(&ctx, &programme, commitments).await?;
        let (headers, rows) = if commitments {
            (
                commitment_headers(ctx.t()),
                loaded
                    .commitments
                    .iter()
                    .flatten()
                    .map(|c| commitment_row(&ctx, &loaded.programme.id, c))
                    .collect(),
            )
        } else {
            let table = tables(&ctx, &loaded)
                .into_iter()
                .find(|t| t.file == name)
                .ok_or(PageError::NotFound)?;
            (table.headers, table.rows)
        };
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        let write = |writer: &mut ::csv::Writer<Vec<u8>>, record: Vec<String>| {
            writer.write_record(record).map_err(|e| {
                tracing::error!(error = %e, "cannot write a CSV record");
                PageError::Internal
            })
        };
        write(&mut writer, headers.into_iter().map(|(h, _)| h).collect())?;
        for row in rows {
            write(&mut writer, row.into_iter().map(|c| c.raw).collect())?;
        }
        let body = writer.into_inner().map_err(|_| PageError::Internal)?;
        let stamp = ctx
            .peildatum
            .map(|d| format!("-{}", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        let disposition = format!(
            "attachment; filename=\"{}-{name}{stamp}.csv\"",
            loaded.programme.id
        );
        let mut response = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            body,
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(response)
    }
    .await;
    answer(&ctx, result)
}
