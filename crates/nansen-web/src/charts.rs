//! Charts as data for the page script, each in a figure with a caption and a text
//! alternative; the table behind every chart is on the page as well.

use crate::layout::{json_data, number};
use maud::{html, Markup};
use serde_json::{json, Value};

pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// An aggregate (EU28, the world) drawn beside its members: dashed, never stacked.
    pub aggregate: bool,
}

impl Series {
    pub fn new(name: String, values: Vec<Option<f64>>) -> Series {
        Series {
            name,
            values,
            aggregate: false,
        }
    }
}

fn series_json(series: &[Series]) -> Vec<Value> {
    series
        .iter()
        .map(|s| json!({ "name": s.name, "data": s.values, "aggregate": s.aggregate }))
        .collect()
}

/// What the caption adds about marks on the chart: periods the data covers only in part,
/// aggregates drawn apart.
fn marks_note(incomplete: &[String], series: &[Series]) -> String {
    let mut note = String::new();
    if !incomplete.is_empty() {
        note.push_str(&format!(
            " (* incomplete: the data covers only part of {}; hollow points)",
            incomplete.join(", ")
        ));
    }
    let aggregates: Vec<&str> = series
        .iter()
        .filter(|s| s.aggregate)
        .map(|s| s.name.as_str())
        .collect();
    note.push_str(&apart("dashed", &aggregates));
    note
}

/// How the caption names the aggregates drawn apart (`dashed`, `hatched`); nothing if none.
fn apart(style: &str, aggregates: &[&str]) -> String {
    if aggregates.is_empty() {
        return String::new();
    }
    format!(
        " ({style}: {}, aggregates of the places beside them, not added to them)",
        aggregates.join(", ")
    )
}

/// A figure the page script draws into; without the script, the caption and the text
/// alternative are what shows.
pub fn figure(id: &str, caption: &str, spec: Value, summary: &str) -> Markup {
    html! {
        figure.chart #(id) data-chart=(format!("{id}-data")) {
            div.canvas role="img" aria-label=(summary) {}
            figcaption {
                (caption)
                @if !crate::assets::charts_built() { " (this build has no chart bundle: run npm run build in web/, then build again)" }
            }
            (json_data(&format!("{id}-data"), &spec))
        }
    }
}

fn describe_max(kind: &str, categories: &[String], series: &[Series]) -> String {
    let best = series
        .iter()
        .flat_map(|s| {
            s.values
                .iter()
                .enumerate()
                .filter_map(move |(i, v)| v.map(|v| (v, &s.name, i)))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).take(6).collect();
    let mut text = format!("{kind} of {}", names.join(", "));
    if series.len() > 6 {
        text.push_str(&format!(" and {} more", series.len() - 6));
    }
    if let (Some(first), Some(last)) = (categories.first(), categories.last()) {
        text.push_str(&format!(", {first} to {last}"));
    }
    if let Some((v, name, i)) = best {
        text.push_str(&format!(
            "; highest: {} for {name} in {}",
            number(Some(v)),
            categories.get(i).map(String::as_str).unwrap_or("")
        ));
    }
    text.push_str(". The table below holds every value.");
    text
}

/// Periods in `incomplete` (covered only in part by the data) are marked on the axis and
/// drawn hollow.
pub fn line(
    id: &str,
    caption: &str,
    periods: &[String],
    series: &[Series],
    incomplete: &[String],
) -> Markup {
    let spec = json!({
        "kind": "line",
        "x": periods,
        "series": series_json(series),
        "incomplete": incomplete,
    });
    figure(
        id,
        &format!("{caption}{}", marks_note(incomplete, series)),
        spec,
        &describe_max("Line chart", periods, series),
    )
}

/// Categories in `aggregates` (EU28 among its members) are drawn hatched and pale.
pub fn bar(
    id: &str,
    caption: &str,
    categories: &[String],
    series: &[Series],
    aggregates: &[String],
) -> Markup {
    let spec = json!({
        "kind": "bar",
        "x": categories,
        "series": series_json(series),
        "aggregates": aggregates,
    });
    let names: Vec<&str> = aggregates.iter().map(String::as_str).collect();
    let note = apart("hatched", &names);
    figure(
        id,
        &format!("{caption}{note}"),
        spec,
        &describe_max("Bar chart", categories, series),
    )
}

/// A choropleth of values by ISO alpha-3 code: on the world, zoomed to Europe, or (`fit`)
/// fitted by the page script to the places that have a value.
pub fn map(id: &str, caption: &str, region: &str, values: &[(String, String, f64)]) -> Markup {
    let spec = json!({
        "kind": "map",
        "region": region,
        "data": values.iter().map(|(code, name, v)| json!({ "name": code, "label": name, "value": v })).collect::<Vec<_>>(),
    });
    let top: Vec<String> = {
        let mut v: Vec<&(String, String, f64)> = values.iter().collect();
        v.sort_by(|a, b| b.2.total_cmp(&a.2));
        v.iter()
            .take(5)
            .map(|(_, n, x)| format!("{n} {}", number(Some(*x))))
            .collect()
    };
    let summary = format!(
        "Map of {} places coloured by value{}. The table below holds every value.",
        values.len(),
        if top.is_empty() {
            String::new()
        } else {
            format!("; highest: {}", top.join(", "))
        }
    );
    figure(id, caption, spec, &summary)
}

pub struct FlowNode {
    pub id: String,
    pub label: String,
}

pub fn sankey(
    id: &str,
    caption: &str,
    nodes: &[FlowNode],
    links: &[(String, String, f64)],
) -> Markup {
    let spec = json!({
        "kind": "sankey",
        "nodes": nodes.iter().map(|n| json!({ "name": n.id, "label": n.label })).collect::<Vec<_>>(),
        "links": links.iter().map(|(s, t, v)| json!({ "source": s, "target": t, "value": v })).collect::<Vec<_>>(),
    });
    let label = |id: &str| {
        nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.label.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut biggest: Vec<&(String, String, f64)> = links.iter().collect();
    biggest.sort_by(|a, b| b.2.total_cmp(&a.2));
    let summary = format!(
        "Flow diagram from origins to destinations, {} links; largest: {}. The table below holds every flow.",
        links.len(),
        biggest.iter().take(3).map(|(s, t, v)| format!("{} to {} {}", label(s), label(t), number(Some(*v)))).collect::<Vec<_>>().join("; ")
    );
    figure(id, caption, spec, &summary)
}

/// One line of a fan chart: `style` is line, dashed, points, band-base or band (see app.js).
pub struct FanSeries {
    pub name: String,
    pub style: &'static str,
    pub values: Vec<Option<f64>>,
}

/// A forecast interval, shaded between its bounds.
pub struct Band<'a> {
    pub lo: &'a [Option<f64>],
    pub hi: &'a [Option<f64>],
    pub name: &'a str,
}

/// History, a forecast with its interval shaded, and marked points; `summary` is the text
/// alternative, which the caller words for what the chart shows.
pub fn fan(
    id: &str,
    caption: &str,
    periods: &[String],
    lines: &[FanSeries],
    interval: Option<Band>,
    summary: &str,
) -> Markup {
    let mut series: Vec<Value> = lines
        .iter()
        .map(|s| json!({ "name": s.name, "style": s.style, "data": s.values }))
        .collect();
    if let Some(Band { lo, hi, name }) = interval {
        let width: Vec<Option<f64>> = lo
            .iter()
            .zip(hi)
            .map(|(l, h)| Some(h.as_ref()? - l.as_ref()?))
            .collect();
        let labels: Vec<String> = lo
            .iter()
            .zip(hi)
            .map(|(l, h)| match (l, h) {
                (Some(l), Some(h)) => format!("{} – {}", number(Some(*l)), number(Some(*h))),
                _ => String::new(),
            })
            .collect();
        series.push(
            json!({ "name": format!("{name} lower bound"), "style": "band-base", "data": lo }),
        );
        series.push(json!({ "name": name, "style": "band", "data": width, "labels": labels }));
    }
    figure(
        id,
        caption,
        json!({ "kind": "fan", "x": periods, "series": series }),
        summary,
    )
}
