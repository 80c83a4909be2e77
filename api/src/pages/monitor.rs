//! The monitor: per pillar its status in each wijk, and per indicator and wijk a chart of the
//! figures over the periods with the target line and the Dordrecht and Nederland figures, the
//! latest value, the gap and the trend. The figures and their rules are the API's `monitor`
//! (`docs/monitor.md`); the series are its `measurements`.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::chart::{self, Point, Series, SeriesKind};
use super::decisions::{target_value_text, TargetValue};
use super::i18n::{Lang, Texts};
use super::{answer, Ctx, Layout, PageError, Section};

const PROGRAMME_QUERY: &str = "query($p: String!, $asOf: DateTime) {
  programme(id: $p, asOf: $asOf) {
    id name
    areas { id name kind parent }
    pillars { id number name indicators { key name unit direction } }
  }
}";

const MONITOR_FIELDS: &str = "area pillars { id status indicators { indicator latest { period value illustrative } trend gemeente { area } land { area } gap gapFavourable target { horizonYear value { kind value comparator margin } resolved } meetsTarget onTrack } }";
const SERIES_FIELDS: &str =
    "nodes { indicator area period value } pageInfo { hasNextPage endCursor }";

#[derive(Deserialize)]
struct ProgrammeData {
    programme: Option<Programme>,
}

#[derive(Deserialize)]
struct Programme {
    id: String,
    name: String,
    areas: Vec<Area>,
    pillars: Vec<Pillar>,
}

#[derive(Deserialize, Clone)]
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
    unit: String,
    direction: String,
}

#[derive(Deserialize)]
struct Monitor {
    area: String,
    pillars: Vec<MonitorPillar>,
}

#[derive(Deserialize)]
struct MonitorPillar {
    id: String,
    status: String,
    indicators: Vec<MonitorIndicator>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MonitorIndicator {
    indicator: String,
    latest: Option<Value_>,
    trend: String,
    gemeente: Option<Comparator>,
    land: Option<Comparator>,
    gap: Option<String>,
    gap_favourable: Option<bool>,
    target: Option<Target>,
    meets_target: Option<bool>,
}

#[derive(Deserialize)]
struct Value_ {
    period: String,
    value: String,
    illustrative: bool,
}

#[derive(Deserialize)]
struct Comparator {
    area: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    horizon_year: i32,
    value: TargetValue,
    resolved: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeriesPage {
    nodes: Vec<Measurement>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Measurement {
    indicator: String,
    area: String,
    period: String,
    value: String,
}

/// A pillar's status in one wijk, as the page shows it.
pub(crate) struct StatusCell {
    pub(crate) class: &'static str,
    pub(crate) label: &'static str,
}

pub(crate) struct StatusRow {
    pub(crate) name: String,
    pub(crate) cells: Vec<StatusCell>,
}

/// One wijk's figures of one indicator.
pub(crate) struct Figure {
    pub(crate) area_name: String,
    pub(crate) chart: Option<String>,
    pub(crate) latest: String,
    pub(crate) illustrative: bool,
    pub(crate) gap: String,
    pub(crate) trend: String,
    pub(crate) target: String,
    /// The figures behind the chart, for a table: `(period, wijk, dordrecht, nederland)`.
    pub(crate) table: Vec<(String, String, String, String)>,
    pub(crate) dordrecht_name: String,
    pub(crate) nederland_name: String,
}

pub(crate) struct IndicatorBlock {
    pub(crate) name: String,
    pub(crate) about: String,
    pub(crate) figures: Vec<Figure>,
}

pub(crate) struct PillarBlock {
    pub(crate) number: i32,
    pub(crate) name: String,
    pub(crate) indicators: Vec<IndicatorBlock>,
    pub(crate) without_data: Vec<String>,
}

#[derive(Template)]
#[template(path = "monitor.html")]
struct MonitorPage {
    layout: Layout,
    wijken: Vec<(String, String, bool)>,
    pillar_options: Vec<(String, String, bool)>,
    wijk_names: Vec<String>,
    status: Vec<StatusRow>,
    pillars: Vec<PillarBlock>,
    filter_action: String,
    peildatum: String,
}

pub(crate) async fn page(ctx: Ctx, Path(programme): Path<String>) -> Response {
    let result = build(&ctx, &programme).await;
    answer(&ctx, result)
}

fn status_cell(t: &Texts, status: &str) -> StatusCell {
    match status {
        "GREEN" => StatusCell {
            class: "status status-green",
            label: t.status_green,
        },
        "ORANGE" => StatusCell {
            class: "status status-orange",
            label: t.status_orange,
        },
        "RED" => StatusCell {
            class: "status status-red",
            label: t.status_red,
        },
        _ => StatusCell {
            class: "status status-grey",
            label: t.status_grey,
        },
    }
}

fn trend_text(t: &Texts, trend: &str) -> &'static str {
    match trend {
        "IMPROVING" => t.trend_improving,
        "STABLE" => t.trend_stable,
        "WORSENING" => t.trend_worsening,
        _ => t.trend_unknown,
    }
}

fn period_start(period: &str) -> Option<chrono::NaiveDate> {
    period
        .parse::<domain::period::Period>()
        .ok()
        .map(|p| p.start())
}

async fn build(ctx: &Ctx, programme_id: &str) -> Result<Response, PageError> {
    let t = ctx.t();
    let lang = ctx.lang;
    let data: ProgrammeData = ctx
        .read(
            PROGRAMME_QUERY,
            json!({ "p": programme_id, "asOf": ctx.as_of() }),
        )
        .await?;
    let programme = data.programme.ok_or(PageError::NotFound)?;
    let names: HashMap<&str, &str> = programme
        .areas
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let mut wijken: Vec<&Area> = programme
        .areas
        .iter()
        .filter(|a| a.kind == "WIJK")
        .collect();
    if wijken.is_empty() {
        wijken = programme
            .areas
            .iter()
            .filter(|a| a.kind != "GEMEENTE" && a.kind != "LAND")
            .collect();
    }
    let comparators: Vec<&Area> = programme
        .areas
        .iter()
        .filter(|a| a.kind == "GEMEENTE" || a.kind == "LAND")
        .collect();
    let chosen_wijk = ctx.param("wijk").filter(|w| !w.is_empty());
    let chosen_pillar = ctx.param("pijler").filter(|p| !p.is_empty());
    if chosen_wijk.is_some_and(|w| !wijken.iter().any(|a| a.id == w))
        || chosen_pillar.is_some_and(|p| !programme.pillars.iter().any(|x| x.id == p))
    {
        return Err(PageError::NotFound);
    }
    let shown: Vec<&Area> = wijken
        .iter()
        .copied()
        .filter(|a| chosen_wijk.is_none_or(|w| a.id == w))
        .collect();

    // One query: the monitor of every wijk shown and the measurements of it and of the
    // comparators.
    let mut fields = Vec::new();
    let mut vars = serde_json::Map::new();
    vars.insert("p".into(), json!(programme_id));
    vars.insert("asOf".into(), ctx.as_of());
    vars.insert("first".into(), json!(ctx.state().limits.max_page_size));
    let mut declarations = vec![
        "$p: String!".to_owned(),
        "$asOf: DateTime".to_owned(),
        "$first: Int".to_owned(),
    ];
    let series_areas: Vec<&Area> = shown.iter().chain(comparators.iter()).copied().collect();
    for i in 0..shown.len() {
        fields.push(format!(
            "m{i}: monitor(programmeId: $p, area: $a{i}, asOf: $asOf) {{ {MONITOR_FIELDS} }}"
        ));
    }
    for (i, area) in series_areas.iter().enumerate() {
        if i < shown.len() {
            debug_assert_eq!(area.id, shown[i].id);
        }
        declarations.push(format!("$a{i}: String!"));
        vars.insert(format!("a{i}"), json!(area.id));
        fields.push(format!(
            "s{i}: measurements(programmeId: $p, area: $a{i}, knownAt: $asOf, first: $first) {{ {SERIES_FIELDS} }}"
        ));
    }
    let query = format!(
        "query({}) {{ {} }}",
        declarations.join(", "),
        fields.join("\n")
    );
    let answer: HashMap<String, Value> = ctx.read(&query, Value::Object(vars)).await?;
    let mut monitors: HashMap<String, Monitor> = HashMap::new();
    for i in 0..shown.len() {
        if let Some(value) = answer.get(&format!("m{i}")).filter(|v| !v.is_null()) {
            let monitor: Monitor = serde_json::from_value(value.clone()).map_err(|e| {
                tracing::error!(error = %e, "the monitor page could not read the monitor");
                PageError::Internal
            })?;
            monitors.insert(monitor.area.clone(), monitor);
        }
    }
    // Measurements by (area, indicator), in the API's order (by period start).
    let mut series: HashMap<(String, String), Vec<Measurement>> = HashMap::new();
    for (i, area) in series_areas.iter().enumerate() {
        let Some(value) = answer.get(&format!("s{i}")) else {
            continue;
        };
        let mut page: SeriesPage = serde_json::from_value(value.clone()).map_err(|e| {
            tracing::error!(error = %e, "the monitor page could not read the measurements");
            PageError::Internal
        })?;
        loop {
            for m in page.nodes.drain(..) {
                series
                    .entry((m.area.clone(), m.indicator.clone()))
                    .or_default()
                    .push(m);
            }
            if !page.page_info.has_next_page {
                break;
            }
            page =
                more_measurements(ctx, programme_id, &area.id, page.page_info.end_cursor).await?;
        }
    }

    let sources = Sources {
        lang,
        t,
        series: &series,
        names: &names,
    };
    let mut status = Vec::new();
    let mut blocks = Vec::new();
    let mut chart_number = 0;
    for pillar in &programme.pillars {
        if chosen_pillar.is_some_and(|p| p != pillar.id) {
            continue;
        }
        status.push(StatusRow {
            name: format!("{}. {}", pillar.number, pillar.name),
            cells: shown
                .iter()
                .map(|area| {
                    let s = monitors
                        .get(&area.id)
                        .and_then(|m| m.pillars.iter().find(|p| p.id == pillar.id))
                        .map_or("GREY", |p| p.status.as_str());
                    status_cell(t, s)
                })
                .collect(),
        });
        let mut block = PillarBlock {
            number: pillar.number,
            name: pillar.name.clone(),
            indicators: Vec::new(),
            without_data: Vec::new(),
        };
        for indicator in &pillar.indicators {
            let mut figures = Vec::new();
            for area in &shown {
                let figure = monitors
                    .get(&area.id)
                    .and_then(|m| m.pillars.iter().find(|p| p.id == pillar.id))
                    .and_then(|p| p.indicators.iter().find(|i| i.indicator == indicator.key));
                let Some(figure) = figure else { continue };
                let Some(latest) = &figure.latest else {
                    continue;
                };
                chart_number += 1;
                figures.push(self::figure(
                    &sources,
                    chart_number,
                    indicator,
                    area,
                    figure,
                    latest,
                ));
            }
            if figures.is_empty() {
                block.without_data.push(indicator.name.clone());
            } else {
                let direction = if indicator.direction == "HIGHER_IS_BETTER" {
                    t.higher_better
                } else {
                    t.lower_better
                };
                block.indicators.push(IndicatorBlock {
                    name: indicator.name.clone(),
                    about: format!("{}, {direction}", indicator.unit),
                    figures,
                });
            }
        }
        blocks.push(block);
    }

    let base = format!("/programmas/{}/monitor", programme.id);
    let page = MonitorPage {
        layout: ctx.layout(
            t.monitor,
            Some((&programme.id, &programme.name)),
            Section::Monitor,
        ),
        wijken: wijken
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.name.clone(),
                    chosen_wijk == Some(a.id.as_str()),
                )
            })
            .collect(),
        pillar_options: programme
            .pillars
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    format!("{}. {}", p.number, p.name),
                    chosen_pillar == Some(p.id.as_str()),
                )
            })
            .collect(),
        wijk_names: shown.iter().map(|a| a.name.clone()).collect(),
        status,
        pillars: blocks,
        filter_action: base,
        peildatum: ctx
            .peildatum
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    };
    Ok(ctx.render(&page))
}

/// The next page of an area's measurements, when it has more than one page holds.
async fn more_measurements(
    ctx: &Ctx,
    programme: &str,
    area: &str,
    after: Option<String>,
) -> Result<SeriesPage, PageError> {
    #[derive(Deserialize)]
    struct More {
        measurements: SeriesPage,
    }
    let query = format!(
        "query($p: String!, $a: String!, $asOf: DateTime, $first: Int, $after: String) {{
           measurements(programmeId: $p, area: $a, knownAt: $asOf, first: $first, after: $after) {{ {SERIES_FIELDS} }}
         }}"
    );
    let more: More = ctx
        .read(
            &query,
            json!({
                "p": programme, "a": area, "asOf": ctx.as_of(),
                "first": ctx.state().limits.max_page_size, "after": after,
            }),
        )
        .await?;
    Ok(more.measurements)
}

fn points(list: Option<&Vec<Measurement>>) -> Vec<Point> {
    list.map(|ms| {
        ms.iter()
            .filter_map(|m| {
                Some(Point {
                    start: period_start(&m.period)?,
                    period: m.period.clone(),
                    value: m.value.parse().ok()?,
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

/// What every figure of a monitor page is drawn from: the page's language, every series of
/// measurements by (area, indicator), and the areas' names by id.
struct Sources<'a> {
    lang: Lang,
    t: &'a Texts,
    series: &'a HashMap<(String, String), Vec<Measurement>>,
    names: &'a HashMap<&'a str, &'a str>,
}

/// One indicator's figure in one area: its chart (numbered `number` on the page), the facts
/// beside it and the table of figures behind it.
fn figure(
    sources: &Sources<'_>,
    number: usize,
    indicator: &Indicator,
    area: &Area,
    figure: &MonitorIndicator,
    latest: &Value_,
) -> Figure {
    let Sources {
        lang,
        t,
        series,
        names,
    } = *sources;
    let of = |id: &str| (id.to_owned(), indicator.key.clone());
    let name = |id: &str| names.get(id).copied().unwrap_or(id).to_owned();
    let gemeente = figure.gemeente.as_ref().map(|c| c.area.clone());
    let land = figure.land.as_ref().map(|c| c.area.clone());
    let own = series.get(&of(&area.id));
    let dordrecht = gemeente.as_deref().and_then(|g| series.get(&of(g)));
    let nederland = land.as_deref().and_then(|l| series.get(&of(l)));
    let chart_series = vec![
        Series {
            kind: SeriesKind::Value,
            label: area.name.clone(),
            points: points(own),
        },
        Series {
            kind: SeriesKind::Dordrecht,
            label: gemeente.as_deref().map(name).unwrap_or_default(),
            points: points(dordrecht),
        },
        Series {
            kind: SeriesKind::Nederland,
            label: land.as_deref().map(name).unwrap_or_default(),
            points: points(nederland),
        },
    ];
    let target_text = match &figure.target {
        None => t.no_target.to_owned(),
        Some(target) => {
            let set = target_value_text(lang, t, &target.value, &name);
            let resolved = match &target.resolved {
                Some(r) if target.value.kind != "ABSOLUTE" => format!(" = {}", lang.number(r)),
                Some(_) => String::new(),
                None => format!(" ({})", t.target_unresolved),
            };
            let met = match figure.meets_target {
                Some(true) => format!(", {}", t.meets_target),
                Some(false) => format!(", {}", t.misses_target),
                None => String::new(),
            };
            format!(
                "{} {}: {set}{resolved}{met}",
                t.horizon, target.horizon_year
            )
        }
    };
    let target_line = figure.target.as_ref().and_then(|target| {
        let value: f64 = target.resolved.as_deref()?.parse().ok()?;
        Some((value, format!("{} {}", t.target, target.horizon_year)))
    });
    let title = format!("{} {} {}", t.chart_of, indicator.name, area.name);
    let desc = format!(
        "{}: {} {}; {}: {}",
        t.latest,
        latest.period,
        lang.number(&latest.value),
        t.target,
        target_text
    );
    let svg = chart::line_chart(
        lang,
        chart::LineSpec {
            id: format!("chart-{number}"),
            indicator: &indicator.key,
            area: &area.id,
            title,
            desc,
            series: &chart_series,
            target: target_line,
        },
    );
    let chart = svg.render().ok();
    let gap = match (&figure.gap, figure.gap_favourable) {
        (Some(gap), Some(favourable)) => format!(
            "{} ({})",
            lang.number(gap),
            if favourable {
                t.favourable
            } else {
                t.unfavourable
            }
        ),
        (Some(gap), None) => lang.number(gap),
        _ => "–".to_owned(),
    };
    // The table behind the chart: every period of any series.
    let mut rows: BTreeMap<(chrono::NaiveDate, String), (String, String, String)> = BTreeMap::new();
    for (i, list) in [own, dordrecht, nederland].into_iter().enumerate() {
        for m in list.into_iter().flatten() {
            let Some(start) = period_start(&m.period) else {
                continue;
            };
            let row = rows.entry((start, m.period.clone())).or_default();
            let text = lang.number(&m.value);
            match i {
                0 => row.0 = text,
                1 => row.1 = text,
                _ => row.2 = text,
            }
        }
    }
    Figure {
        area_name: area.name.clone(),
        chart,
        latest: format!("{}: {}", latest.period, lang.number(&latest.value)),
        illustrative: latest.illustrative,
        gap,
        trend: trend_text(t, &figure.trend).to_owned(),
        target: target_text,
        table: rows
            .into_iter()
            .map(|((_, period), (a, b, c))| (period, a, b, c))
            .collect(),
        dordrecht_name: gemeente.as_deref().map(name).unwrap_or_default(),
        nederland_name: land.as_deref().map(name).unwrap_or_default(),
    }
}
