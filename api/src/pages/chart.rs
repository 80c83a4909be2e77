//! Charts drawn on the server as inline SVG: a line chart of an indicator over its periods
//! (the wijk, Dordrecht and Nederland, and the target line), and horizontal bar charts of
//! money. Only geometry is computed here; the templates `chart_line.html` and
//! `chart_bars.html` write the SVG, so every text in it is escaped.

use askama::Template;
use chrono::NaiveDate;

use super::i18n::Lang;

/// The viewBox of a line chart.
const W: f64 = 360.0;
const H: f64 = 200.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

/// What a series of a line chart is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeriesKind {
    /// The wijk's own values.
    Value,
    Dordrecht,
    Nederland,
}

impl SeriesKind {
    fn class(self) -> &'static str {
        match self {
            SeriesKind::Value => "series series-value",
            SeriesKind::Dordrecht => "series series-dordrecht",
            SeriesKind::Nederland => "series series-nederland",
        }
    }

    fn marker_class(self) -> &'static str {
        match self {
            SeriesKind::Value => "point point-value",
            SeriesKind::Dordrecht => "point point-dordrecht",
            SeriesKind::Nederland => "point point-nederland",
        }
    }
}

/// One point: where its period starts, and its value.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) start: NaiveDate,
    pub(crate) period: String,
    pub(crate) value: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) kind: SeriesKind,
    pub(crate) label: String,
    pub(crate) points: Vec<Point>,
}

/// A drawn series: its path and its points' markers.
pub(crate) struct DrawnSeries {
    pub(crate) class: &'static str,
    pub(crate) marker_class: &'static str,
    pub(crate) label: String,
    pub(crate) path: String,
    pub(crate) markers: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "chart_line.html")]
pub(crate) struct LineChart {
    pub(crate) id: String,
    pub(crate) indicator: String,
    pub(crate) area: String,
    pub(crate) title: String,
    pub(crate) desc: String,
    pub(crate) series: Vec<DrawnSeries>,
    /// `(y, label)` of a horizontal target line.
    pub(crate) target: Option<(String, String)>,
    pub(crate) x_labels: Vec<(String, String)>,
    pub(crate) y_labels: Vec<(String, String)>,
    pub(crate) x0: String,
    pub(crate) x1: String,
    pub(crate) y0: String,
    pub(crate) y1: String,
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// A value on an axis, with as few decimals as its range needs.
fn axis_label(lang: Lang, value: f64, span: f64) -> String {
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    };
    lang.number(&format!("{value:.decimals$}"))
}

/// What a line chart shows: its series (each ordered by period start), the target, and the
/// names that identify and describe it.
pub(crate) struct LineSpec<'a> {
    /// The chart's element id, unique on the page (its title and description hang off it).
    pub(crate) id: String,
    pub(crate) indicator: &'a str,
    pub(crate) area: &'a str,
    pub(crate) title: String,
    pub(crate) desc: String,
    pub(crate) series: &'a [Series],
    /// The target's value and its label, drawn as a horizontal line.
    pub(crate) target: Option<(f64, String)>,
}

/// Lays out a line chart of the given series and target.
pub(crate) fn line_chart(lang: Lang, spec: LineSpec<'_>) -> LineChart {
    let LineSpec {
        id,
        indicator,
        area,
        title,
        desc,
        series,
        target,
    } = spec;
    let points = || series.iter().flat_map(|s| s.points.iter());
    let days = |d: NaiveDate| d.num_days_from_ce() as f64;
    let first = points()
        .map(|p| days(p.start))
        .fold(f64::INFINITY, f64::min);
    let last = points()
        .map(|p| days(p.start))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut low = points().map(|p| p.value).fold(f64::INFINITY, f64::min);
    let mut high = points().map(|p| p.value).fold(f64::NEG_INFINITY, f64::max);
    if let Some((t, _)) = &target {
        low = low.min(*t);
        high = high.max(*t);
    }
    if !low.is_finite() || !high.is_finite() {
        low = 0.0;
        high = 1.0;
    }
    let (data_low, data_high) = (low, high);
    if (high - low).abs() < f64::EPSILON {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        low -= pad;
        high += pad;
    } else {
        let pad = (high - low) * 0.08;
        low -= pad;
        high += pad;
    }
    let x = |d: f64| {
        if last <= first {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (d - first) / (last - first) * (W - LEFT - RIGHT)
        }
    };
    let y = |v: f64| TOP + (high - v) / (high - low) * (H - TOP - BOTTOM);
    let drawn = series
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| {
            let path = s
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    format!(
                        "{}{},{}",
                        if i == 0 { "M" } else { "L" },
                        f(x(days(p.start))),
                        f(y(p.value))
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            let markers = s
                .points
                .iter()
                .map(|p| {
                    (
                        f(x(days(p.start))),
                        f(y(p.value)),
                        format!(
                            "{} {}: {}",
                            s.label,
                            p.period,
                            lang.number(&p.value.to_string())
                        ),
                    )
                })
                .collect();
            DrawnSeries {
                class: s.kind.class(),
                marker_class: s.kind.marker_class(),
                label: s.label.clone(),
                path,
                markers,
            }
        })
        .collect();
    // The periods on the x axis: the first and the last, and the ones between when few.
    let mut periods: Vec<(NaiveDate, String)> =
        points().map(|p| (p.start, p.period.clone())).collect();
    periods.sort();
    periods.dedup();
    let x_labels = if periods.len() <= 6 {
        periods.clone()
    } else {
        vec![periods[0].clone(), periods[periods.len() - 1].clone()]
    }
    .into_iter()
    .map(|(start, period)| (f(x(days(start))), period))
    .collect();
    let span = high - low;
    let mut ticks = vec![data_high, (data_high + data_low) / 2.0, data_low];
    ticks.dedup_by(|a, b| (*a - *b).abs() < f64::EPSILON);
    let y_labels = ticks
        .into_iter()
        .map(|v| (f(y(v) + 4.0), axis_label(lang, v, span)))
        .collect();
    LineChart {
        id,
        indicator: indicator.to_owned(),
        area: area.to_owned(),
        title,
        desc,
        series: drawn,
        target: target.map(|(t, label)| (f(y(t)), label)),
        x_labels,
        y_labels,
        x0: f(LEFT),
        x1: f(W - RIGHT),
        y0: f(TOP),
        y1: f(H - BOTTOM),
    }
}

use chrono::Datelike;

/// One bar group of a bar chart: a label and its money figures in euros, each as the API
/// writes it (`"2750000.00"`).
pub(crate) struct BarRow {
    pub(crate) label: String,
    pub(crate) values: Vec<String>,
}

/// A bar and the amount written at its end.
pub(crate) struct DrawnBar {
    pub(crate) class: &'static str,
    /// Its top, in pixels from the chart's top.
    pub(crate) y: String,
    /// Its length, in percent of the chart's width.
    pub(crate) width: String,
    pub(crate) height: String,
    /// The amount as people read it, written at the bar's end.
    pub(crate) amount: String,
    /// The amount's position: its x in percent, its offset from there in pixels, its baseline
    /// in pixels, its anchor, and whether it stands inside the bar (light on the bar's colour)
    /// rather than after it.
    pub(crate) text_x: String,
    pub(crate) text_dx: String,
    pub(crate) text_y: String,
    pub(crate) anchor: &'static str,
    pub(crate) inside: bool,
    pub(crate) title: String,
}

#[derive(Template)]
#[template(path = "chart_bars.html")]
pub(crate) struct BarChart {
    pub(crate) id: String,
    pub(crate) title: String,
    /// The chart's height in pixels.
    pub(crate) height: String,
    /// `(baseline y, label)` of each group.
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) bars: Vec<DrawnBar>,
}

/// A bar chart is drawn in CSS pixels, with no viewBox to scale it: its texts keep the page's
/// size at any width, its heights are fixed, and only the bars' lengths follow the width (in
/// percent). Each group is its label on a line of its own and one bar per figure under it.
const BAR_LABEL: f64 = 24.0;
const BAR_H: f64 = 22.0;
const BAR_GAP: f64 = 4.0;
const GROUP_GAP: f64 = 14.0;
/// Bars longer than this (percent) carry their amount inside; shorter ones after their end.
/// A phone's chart is about 330 pixels wide: 45% of it still holds `€ 27.500.000,00`.
const BAR_INSIDE: f64 = 55.0;

/// Horizontal grouped bars: per row one bar per figure (`names` gives the figures' classes and
/// names), scaled to the largest figure, each with its amount.
pub(crate) fn bar_chart(
    lang: Lang,
    id: String,
    title: String,
    names: &[(&'static str, String)],
    rows: &[BarRow],
) -> BarChart {
    let euros = |amount: &str| amount.parse::<f64>().unwrap_or(0.0);
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().map(|v| euros(v)))
        .fold(0.0_f64, f64::max);
    let group = BAR_LABEL + names.len() as f64 * (BAR_H + BAR_GAP) + GROUP_GAP;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let top = i as f64 * group;
        labels.push((f(top + BAR_LABEL - 7.0), row.label.clone()));
        for (j, (value, (class, name))) in row.values.iter().zip(names).enumerate() {
            let euros = euros(value);
            let percent = if max > 0.0 && euros > 0.0 {
                // A small amount still shows as a sliver.
                (euros / max * 100.0).max(0.4)
            } else {
                0.0
            };
            let y = top + BAR_LABEL + j as f64 * (BAR_H + BAR_GAP);
            let inside = percent > BAR_INSIDE;
            let amount = lang.money(value);
            bars.push(DrawnBar {
                class,
                y: f(y),
                width: f(percent),
                height: f(BAR_H),
                text_x: f(percent),
                text_dx: if inside { "-6".into() } else { "6".into() },
                text_y: f(y + BAR_H / 2.0),
                anchor: if inside { "end" } else { "start" },
                inside,
                title: format!("{}, {name}: {amount}", row.label),
                amount,
            });
        }
    }
    BarChart {
        id,
        title,
        height: f((rows.len() as f64 * group - GROUP_GAP).max(0.0)),
        labels,
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(year: i32, value: f64) -> Point {
        Point {
            start: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
            period: year.to_string(),
            value,
        }
    }

    #[test]
    fn a_line_chart_draws_every_series_and_the_target_inside_the_plot() {
        let series = vec![
            Series {
                kind: SeriesKind::Value,
                label: "Crabbehof".into(),
                points: vec![point(2023, 21.0), point(2024, 24.0), point(2026, 22.0)],
            },
            Series {
                kind: SeriesKind::Dordrecht,
                label: "Dordrecht".into(),
                points: vec![point(2026, 16.5)],
            },
            Series {
                kind: SeriesKind::Nederland,
                label: "Nederland".into(),
                points: vec![],
            },
        ];
        let chart = line_chart(
            Lang::Nl,
            LineSpec {
                id: "c1".into(),
                indicator: "ernstig-overgewicht",
                area: "crabbehof",
                title: "t".into(),
                desc: "d".into(),
                series: &series,
                target: Some((16.5, "2030".into())),
            },
        );
        assert_eq!(chart.series.len(), 2, "an empty series is not drawn");
        assert!(chart.series[0].path.starts_with("M52.0,"));
        assert!(chart.series[0].path.contains(" L340.0,"));
        let (target_y, _) = chart.target.clone().expect("a target line");
        let ty: f64 = target_y.parse().unwrap();
        assert!(ty > TOP && ty < H - BOTTOM);
        let svg = chart.render().unwrap();
        assert!(svg.contains(r#"class="series series-value""#));
        assert!(svg.contains(r#"class="series series-dordrecht""#));
        assert!(!svg.contains("series-nederland"));
        assert!(svg.contains(r#"class="target-line""#));
        assert!(svg.contains(r#"data-indicator="ernstig-overgewicht""#));
    }

    #[test]
    fn a_single_point_sits_in_the_middle() {
        let series = vec![Series {
            kind: SeriesKind::Value,
            label: "Wielwijk".into(),
            points: vec![point(2025, 3.0)],
        }];
        let chart = line_chart(
            Lang::En,
            LineSpec {
                id: "c2".into(),
                indicator: "i",
                area: "a",
                title: "t".into(),
                desc: "d".into(),
                series: &series,
                target: None,
            },
        );
        assert_eq!(chart.series[0].path, "M196.0,91.0");
        assert!(chart.target.is_none());
    }

    #[test]
    fn bars_scale_to_the_largest_figure_and_carry_their_amounts() {
        let chart = bar_chart(
            Lang::Nl,
            "b".into(),
            "t".into(),
            &[
                ("bar-allocated", "Toegewezen".into()),
                ("bar-spent", "Uitgegeven".into()),
            ],
            &[
                BarRow {
                    label: "2023".into(),
                    values: vec!["100.00".into(), "50.00".into()],
                },
                BarRow {
                    label: "2024".into(),
                    values: vec!["200.00".into(), "0.00".into()],
                },
            ],
        );
        let widths: Vec<f64> = chart
            .bars
            .iter()
            .map(|b| b.width.parse().unwrap())
            .collect();
        assert_eq!(widths, vec![50.0, 25.0, 100.0, 0.0]);
        let amounts: Vec<&str> = chart.bars.iter().map(|b| b.amount.as_str()).collect();
        assert_eq!(amounts, ["€ 100,00", "€ 50,00", "€ 200,00", "€ 0,00"]);
        // A long bar carries its amount inside, a short one after its end.
        let inside: Vec<bool> = chart.bars.iter().map(|b| b.inside).collect();
        assert_eq!(inside, [false, false, true, false]);
        assert_eq!(chart.bars[2].anchor, "end");
        assert!(chart.bars[0].title.contains("€ 100,00"));
        // Drawn in pixels, not scaled: no viewBox, and the groups stacked one under the other.
        let svg = chart.render().unwrap();
        assert!(!svg.contains("viewBox"), "{svg}");
        assert!(svg.contains(r#"width="50.0%""#), "{svg}");
        assert!(svg.contains(">€ 200,00</text>"), "{svg}");
        let group = BAR_LABEL + 2.0 * (BAR_H + BAR_GAP) + GROUP_GAP;
        assert_eq!(chart.height, f(2.0 * group - GROUP_GAP));
        assert!(chart.labels[1].0.parse::<f64>().unwrap() > group);
    }
}
