//! Besluiten: the decisions on a timeline, newest first, and one decision's page with its
//! votes, its meeting and every consequence that cites it (allocations, targets, commitments
//! and the rest), from the API's `decisions`, `decision { consequences }`, `targets`,
//! `commitments` and `fund`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::i18n::{Lang, Texts};
use super::{answer, Ctx, Layout, PageError, ProgrammeName, Section};

#[derive(Deserialize)]
struct TimelineData {
    programme: Option<ProgrammeName>,
    decisions: DecisionPage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionPage {
    nodes: Vec<DecisionItem>,
    page_info: super::monitor::PageInfo,
}

#[derive(Deserialize)]
struct DecisionItem {
    id: String,
    title: String,
    status: String,
    meeting: Option<MeetingDate>,
    consequences: Vec<Value>,
}

#[derive(Deserialize)]
struct MeetingDate {
    date: String,
}

pub(crate) struct TimelineEntry {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) title: String,
    pub(crate) status: &'static str,
    pub(crate) when: String,
    pub(crate) consequences: usize,
}

#[derive(Template)]
#[template(path = "besluiten.html")]
struct TimelinePage {
    layout: Layout,
    entries: Vec<TimelineEntry>,
}

pub(crate) fn status_text(t: &Texts, status: &str) -> &'static str {
    match status {
        "ADOPTED" => t.adopted,
        "REJECTED" => t.rejected,
        "WITHDRAWN" => t.withdrawn,
        _ => t.proposed,
    }
}

pub(crate) async fn timeline(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = build_timeline(&ctx, &programme).await;
    answer(&ctx, result)
}

async fn build_timeline(ctx: &Ctx, programme_id: &str) -> Result<Response, PageError> {
    let t = ctx.t();
    let query = "query($p: String!, $asOf: DateTime, $first: Int, $after: String) {
      programme(id: $p, asOf: $asOf) { id name }
      decisions(programmeId: $p, asOf: $asOf, first: $first, after: $after) {
        nodes { id title status meeting { date } consequences { position } }
        pageInfo { hasNextPage endCursor }
      }
    }";
    let mut after: Option<String> = None;
    let mut decisions = Vec::new();
    let programme = loop {
        let data: TimelineData = ctx
            .read(
                query,
                json!({
                    "p": programme_id, "asOf": ctx.as_of(),
                    "first": ctx.state().limits.max_page_size, "after": after,
                }),
            )
            .await?;
        let programme = data.programme.ok_or(PageError::NotFound)?;
        decisions.extend(data.decisions.nodes);
        if !data.decisions.page_info.has_next_page {
            break programme;
        }
        after = data.decisions.page_info.end_cursor;
    };
    // The API lists them in the order they were proposed; the timeline shows the newest first.
    decisions.reverse();
    let base = format!("/programmas/{}/besluiten", programme.id);
    let entries = decisions
        .into_iter()
        .map(|d| TimelineEntry {
            href: ctx.link(&format!("{base}/{}", d.id)),
            id: d.id,
            title: d.title,
            status: status_text(t, &d.status),
            when: d
                .meeting
                .map(|m| ctx.lang.date(&m.date))
                .unwrap_or_default(),
            consequences: d.consequences.len(),
        })
        .collect();
    Ok(ctx.render(&TimelinePage {
        layout: ctx.layout(
            t.decisions,
            Some((&programme.id, &programme.name)),
            Section::Decisions,
        ),
        entries,
    }))
}

const DECISION_QUERY: &str = "query($p: String!, $id: ID!, $asOf: DateTime, $signedIn: Boolean!, $first: Int) {
  programme(id: $p, asOf: $asOf) { id name areas { id name } pillars { id name } indicators { key name } }
  decision(id: $id, asOf: $asOf) {
    id programmeId title description status amendments withdrawalReason
    meeting { meetingId date present votes { member choice } }
    consequences { position recordedAt aggregateType aggregateId eventType }
  }
  targets(programmeId: $p, includeWithdrawn: true, asOf: $asOf, first: $first) {
    nodes { indicator area horizonYear history { kind value { kind value comparator margin } decisionId reason position } }
  }
  alliance(programmeId: $p, asOf: $asOf) @include(if: $signedIn) {
    meetings { id title } members(includeFormer: true) { id organisation }
  }
  commitments(programmeId: $p, asOf: $asOf, first: $first) @include(if: $signedIn) {
    nodes { id partnerOrganisation description amount due status decisionId }
  }
}";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionData {
    programme: Option<FullProgramme>,
    decision: Option<Decision>,
    targets: Nodes<Target>,
    alliance: Option<Alliance>,
    commitments: Option<Nodes<Commitment>>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct IndicatorName {
    key: String,
    name: String,
}

#[derive(Deserialize)]
struct FullProgramme {
    id: String,
    name: String,
    areas: Vec<Named>,
    pillars: Vec<Named>,
    indicators: Vec<IndicatorName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Decision {
    id: String,
    programme_id: String,
    title: String,
    description: String,
    status: String,
    amendments: i32,
    withdrawal_reason: Option<String>,
    meeting: Option<Meeting>,
    consequences: Vec<Consequence>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meeting {
    meeting_id: Option<String>,
    date: String,
    present: Vec<String>,
    votes: Vec<Vote>,
}

#[derive(Deserialize)]
struct Vote {
    member: String,
    choice: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consequence {
    position: i64,
    recorded_at: Option<String>,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    indicator: String,
    area: String,
    horizon_year: i32,
    history: Vec<Revision>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Revision {
    kind: String,
    value: TargetValue,
    decision_id: String,
    reason: String,
    position: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct TargetValue {
    pub(crate) kind: String,
    pub(crate) value: Option<String>,
    pub(crate) comparator: Option<String>,
    pub(crate) margin: Option<String>,
}

#[derive(Deserialize)]
struct Alliance {
    meetings: Vec<MeetingTitle>,
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct MeetingTitle {
    id: String,
    title: String,
}

#[derive(Deserialize)]
struct Member {
    id: String,
    organisation: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commitment {
    id: String,
    partner_organisation: String,
    description: String,
    amount: Option<String>,
    due: String,
    status: String,
    decision_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fund {
    id: String,
    name: String,
    funder_name: String,
    amount: String,
    decision_id: String,
    allocations: Vec<Allocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Allocation {
    id: String,
    pillar_id: Option<String>,
    intervention_id: Option<String>,
    area_id: Option<String>,
    year: i32,
    amount: String,
    decision_id: String,
}

/// The rows of the decision page's sections.
pub(crate) struct AllocationRow {
    pub(crate) fund: String,
    pub(crate) year: i32,
    pub(crate) target: String,
    pub(crate) amount: String,
}

pub(crate) struct TargetRow {
    pub(crate) indicator: String,
    pub(crate) area: String,
    pub(crate) horizon: i32,
    pub(crate) change: String,
    pub(crate) value: String,
    pub(crate) reason: String,
}

pub(crate) struct CommitmentRow {
    pub(crate) partner: String,
    pub(crate) description: String,
    pub(crate) amount: String,
    pub(crate) due: String,
    pub(crate) status: &'static str,
}

pub(crate) struct OtherRow {
    pub(crate) when: String,
    pub(crate) what: String,
    pub(crate) subject: String,
}

#[derive(Template)]
#[template(path = "besluit.html")]
struct DecisionView {
    layout: Layout,
    id: String,
    title: String,
    description: String,
    status: &'static str,
    amendments: i32,
    withdrawal_reason: Option<String>,
    meeting: Option<(String, String)>,
    present: Vec<String>,
    votes: Vec<(String, &'static str)>,
    allocations: Vec<AllocationRow>,
    targets: Vec<TargetRow>,
    commitments: Vec<CommitmentRow>,
    others: Vec<OtherRow>,
    consequences: usize,
    signed_in: bool,
    back: String,
}

pub(crate) async fn page(
    ctx: Ctx,
    Path((programme, decision)): Path<(String, String)>,
) -> Response {
    let result = build_page(&ctx, &programme, &decision).await;
    answer(&ctx, result)
}

fn vote_text(t: &Texts, choice: &str) -> &'static str {
    match choice {
        "FOR" => t.vote_for,
        "AGAINST" => t.vote_against,
        "ABSTAIN" => t.vote_abstain,
        _ => t.vote_consent,
    }
}

pub(crate) fn commitment_status(t: &Texts, status: &str) -> &'static str {
    match status {
        "AT_RISK" => t.at_risk,
        "LATE" => t.late,
        "DELIVERED" => t.delivered,
        "WITHDRAWN" => t.withdrawn,
        _ => t.on_track,
    }
}

/// What an event that cites a decision did, in words.
fn event_text(lang: Lang, event_type: &str) -> String {
    let (nl, en) = match event_type {
        "BudgetAllocated" => ("Budget toegewezen", "Budget allocated"),
        "AllocationRevised" => ("Toewijzing herzien", "Allocation revised"),
        "FundRegistered" => ("Fonds ingesteld", "Fund registered"),
        "FundRevised" => ("Fonds herzien", "Fund revised"),
        "CommitmentMade" => ("Toezegging gedaan", "Commitment made"),
        "TargetSet" => ("Streefwaarde vastgesteld", "Target set"),
        "TargetChanged" => ("Streefwaarde gewijzigd", "Target changed"),
        "TargetWithdrawn" => ("Streefwaarde ingetrokken", "Target withdrawn"),
        "ExecutionProgrammeAdded" => (
            "Uitvoeringsprogramma vastgesteld",
            "Execution programme added",
        ),
        "MemberJoined" => ("Lid toegetreden", "Member joined"),
        "MemberLeft" => ("Lid vertrokken", "Member left"),
        "ChairChanged" => ("Nieuwe voorzitter", "Chair changed"),
        "AdoptionRuleChanged" => ("Besluitregel gewijzigd", "Adoption rule changed"),
        "ResidentInputConsidered" => (
            "Inbreng van bewoners meegewogen",
            "Resident input considered",
        ),
        other => (other, other),
    };
    match lang {
        Lang::Nl => nl.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// A target value in words: `18,0`, or `gemiddelde van Dordrecht + 1`.
pub(crate) fn target_value_text(
    lang: Lang,
    t: &Texts,
    value: &TargetValue,
    area_name: &dyn Fn(&str) -> String,
) -> String {
    if value.kind == "ABSOLUTE" {
        return value
            .value
            .as_deref()
            .map(|v| lang.number(v))
            .unwrap_or_default();
    }
    let comparator = value
        .comparator
        .as_deref()
        .map(area_name)
        .unwrap_or_default();
    let margin = value.margin.as_deref().unwrap_or("0");
    let zero = margin
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.');
    if zero {
        format!("{} {comparator}", t.target_relative)
    } else if let Some(negative) = margin.strip_prefix('-') {
        format!(
            "{} {comparator} − {}",
            t.target_relative,
            lang.number(negative)
        )
    } else {
        format!(
            "{} {comparator} + {}",
            t.target_relative,
            lang.number(margin)
        )
    }
}

async fn build_page(
    ctx: &Ctx,
    programme_id: &str,
    decision_id: &str,
) -> Result<Response, PageError> {
    let t = ctx.t();
    let lang = ctx.lang;
    let signed_in = ctx.session.is_some();
    let data: DecisionData = ctx
        .read(
            DECISION_QUERY,
            json!({
                "p": programme_id, "id": decision_id, "asOf": ctx.as_of(),
                "signedIn": signed_in, "first": ctx.state().limits.max_page_size,
            }),
        )
        .await?;
    let programme = data.programme.ok_or(PageError::NotFound)?;
    let decision = data
        .decision
        .filter(|d| d.programme_id == programme.id)
        .ok_or(PageError::NotFound)?;
    let area_names: HashMap<&str, &str> = programme
        .areas
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let area_name = |id: &str| area_names.get(id).copied().unwrap_or(id).to_owned();
    let pillar_names: HashMap<&str, &str> = programme
        .pillars
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let indicator_names: HashMap<&str, &str> = programme
        .indicators
        .iter()
        .map(|i| (i.key.as_str(), i.name.as_str()))
        .collect();
    let members: HashMap<String, String> = data
        .alliance
        .as_ref()
        .map(|a| {
            a.members
                .iter()
                .map(|m| (m.id.clone(), m.organisation.clone()))
                .collect()
        })
        .unwrap_or_default();
    let member_name = |id: &str| members.get(id).cloned().unwrap_or_else(|| id.to_owned());

    // Funds cited: read them (signed-in readers only; funds in detail are not published).
    let fund_ids: Vec<&str> = {
        let mut ids: Vec<&str> = decision
            .consequences
            .iter()
            .filter(|c| c.aggregate_type == "Fund")
            .map(|c| c.aggregate_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut funds: HashMap<String, Fund> = HashMap::new();
    if signed_in && !fund_ids.is_empty() {
        let mut declarations = vec!["$asOf: DateTime".to_owned()];
        let mut fields = Vec::new();
        let mut vars = serde_json::Map::new();
        vars.insert("asOf".into(), ctx.as_of());
        for (i, id) in fund_ids.iter().enumerate() {
            declarations.push(format!("$f{i}: ID!"));
            vars.insert(format!("f{i}"), json!(id));
            fields.push(format!(
                "f{i}: fund(id: $f{i}, asOf: $asOf) {{ id name funderName amount decisionId allocations {{ id pillarId interventionId areaId year amount decisionId }} }}"
            ));
        }
        let query = format!(
            "query({}) {{ {} }}",
            declarations.join(", "),
            fields.join("\n")
        );
        let answer: HashMap<String, Option<Fund>> = ctx.read(&query, Value::Object(vars)).await?;
        for fund in answer.into_values().flatten() {
            funds.insert(fund.id.clone(), fund);
        }
    }

    let mut allocations = Vec::new();
    let mut targets = Vec::new();
    let mut commitments = Vec::new();
    let mut others = Vec::new();
    let mut fund_shown: Vec<&str> = Vec::new();
    for c in &decision.consequences {
        let when = c
            .recorded_at
            .as_deref()
            .map(|r| lang.date(r.get(..10).unwrap_or(r)))
            .unwrap_or_default();
        match (c.aggregate_type.as_str(), c.event_type.as_str()) {
            ("Fund", "BudgetAllocated" | "AllocationRevised")
                if funds.contains_key(&c.aggregate_id) =>
            {
                if fund_shown.contains(&c.aggregate_id.as_str()) {
                    continue;
                }
                fund_shown.push(&c.aggregate_id);
                let fund = &funds[&c.aggregate_id];
                for a in fund
                    .allocations
                    .iter()
                    .filter(|a| a.decision_id == decision.id)
                {
                    let target = if let Some(p) = &a.pillar_id {
                        format!(
                            "{}: {}",
                            t.pillar,
                            pillar_names.get(p.as_str()).copied().unwrap_or(p)
                        )
                    } else if let Some(area) = &a.area_id {
                        format!("{}: {}", t.f_area, area_name(area))
                    } else {
                        format!(
                            "{}: {}",
                            t.f_intervention,
                            a.intervention_id.as_deref().unwrap_or(&a.id)
                        )
                    };
                    allocations.push(AllocationRow {
                        fund: format!("{} ({})", fund.name, fund.funder_name),
                        year: a.year,
                        target,
                        amount: lang.money(&a.amount),
                    });
                }
            }
            ("Fund", "FundRegistered" | "FundRevised") if funds.contains_key(&c.aggregate_id) => {
                let fund = &funds[&c.aggregate_id];
                let amount = if fund.decision_id == decision.id {
                    format!(": {}", lang.money(&fund.amount))
                } else {
                    String::new()
                };
                others.push(OtherRow {
                    when,
                    what: event_text(lang, &c.event_type),
                    subject: format!("{} ({}){amount}", fund.name, fund.funder_name),
                });
            }
            ("Target", _) => {
                let found = data.targets.nodes.iter().find_map(|target| {
                    target
                        .history
                        .iter()
                        .find(|r| r.position == Some(c.position) && r.decision_id == decision.id)
                        .map(|r| (target, r))
                });
                match found {
                    Some((target, revision)) => targets.push(TargetRow {
                        indicator: indicator_names
                            .get(target.indicator.as_str())
                            .copied()
                            .unwrap_or(&target.indicator)
                            .to_owned(),
                        area: area_name(&target.area),
                        horizon: target.horizon_year,
                        change: event_text(
                            lang,
                            match revision.kind.as_str() {
                                "SET" => "TargetSet",
                                "CHANGED" => "TargetChanged",
                                _ => "TargetWithdrawn",
                            },
                        ),
                        value: target_value_text(lang, t, &revision.value, &area_name),
                        reason: revision.reason.clone(),
                    }),
                    None => others.push(OtherRow {
                        when,
                        what: event_text(lang, &c.event_type),
                        subject: c.aggregate_id.clone(),
                    }),
                }
            }
            ("Commitment", _) => {
                let found = data
                    .commitments
                    .as_ref()
                    .and_then(|list| list.nodes.iter().find(|m| m.id == c.aggregate_id));
                match found {
                    Some(m) if m.decision_id == decision.id => commitments.push(CommitmentRow {
                        partner: m.partner_organisation.clone(),
                        description: m.description.clone(),
                        amount: m
                            .amount
                            .as_deref()
                            .map(|a| lang.money(a))
                            .unwrap_or_default(),
                        due: lang.date(&m.due),
                        status: commitment_status(t, &m.status),
                    }),
                    _ => others.push(OtherRow {
                        when,
                        what: event_text(lang, &c.event_type),
                        subject: String::new(),
                    }),
                }
            }
            _ => others.push(OtherRow {
                when,
                what: event_text(lang, &c.event_type),
                subject: if c.aggregate_type == "Fund" || c.aggregate_type == "Commitment" {
                    String::new()
                } else {
                    c.aggregate_id.clone()
                },
            }),
        }
    }

    let meeting_title = |id: &Option<String>| {
        id.as_ref().and_then(|id| {
            data.alliance
                .as_ref()
                .and_then(|a| a.meetings.iter().find(|m| &m.id == id))
                .map(|m| m.title.clone())
        })
    };
    let meeting = decision.meeting.as_ref().map(|m| {
        (
            lang.date(&m.date),
            meeting_title(&m.meeting_id).unwrap_or_default(),
        )
    });
    let layout = ctx.layout(
        decision.title.clone(),
        Some((&programme.id, &programme.name)),
        Section::Decisions,
    );
    Ok(ctx.render(&DecisionView {
        layout,
        id: decision.id.clone(),
        title: decision.title.clone(),
        description: decision.description.clone(),
        status: status_text(t, &decision.status),
        amendments: decision.amendments,
        withdrawal_reason: decision.withdrawal_reason.clone(),
        present: decision
            .meeting
            .as_ref()
            .map(|m| m.present.iter().map(|p| member_name(p)).collect())
            .unwrap_or_default(),
        votes: decision
            .meeting
            .as_ref()
            .map(|m| {
                m.votes
                    .iter()
                    .map(|v| (member_name(&v.member), vote_text(t, &v.choice)))
                    .collect()
            })
            .unwrap_or_default(),
        meeting,
        allocations,
        targets,
        commitments,
        others,
        consequences: decision.consequences.len(),
        signed_in,
        back: ctx.link(&format!("/programmas/{}/besluiten", programme.id)),
    }))
}
