//! Explore: an indicator, places, origins and a period; then a line chart, a bar chart, a
//! map, the flows from origin to destination, and the table behind them, with a second
//! source beside the first when asked. The address is the view: it reproduces it, and the
//! download gives exactly the table on screen.

use super::{blocking, dataset_name};
use crate::charts::{self, FlowNode, Series};
use crate::error::WebError;
use crate::layout::{self, indicator_label, place, Section};
use crate::pages::dataset::{main_indicator, table_of};
use crate::session::Viewer;
use crate::WebState;
use axum::extract::RawQuery;
use axum::http::header;
use axum::response::Response;
use maud::{html, Markup};
use nansen_app::{App, AppError, Caller, Coverage, DatasetView};
use nansen_codes::{CodeLists, Frequency, Period};
use nansen_model::{DatasetName, DatasetReach, Query, Row, Table};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The view as the address gives it.
#[derive(Clone, Debug, Default)]
pub struct View {
    pub dataset: String,
    pub indicator: String,
    pub places: Vec<String>,
    pub origins: Vec<String>,
    pub from: String,
    pub to: String,
    /// `month`, `quarter`, `year` or empty (as the data comes).
    pub frequency: String,
    pub compare: String,
    /// `europe` or `world`; empty: as far as the data reaches.
    pub map: String,
    /// Filters on the dataset's other dimensions (`f.route=...`, `f.cause=...`).
    pub filters: Vec<(String, Vec<String>)>,
    /// A derived indicator (`recognition_rate`, `share_of_total`) in place of the indicator.
    pub derived: String,
    /// The dataset the form was showing: another one starts from its own defaults.
    pub was: String,
    /// The pivot table's row and column dimensions (`geo` by `period` without them).
    pub rows: String,
    pub cols: String,
}

impl View {
    fn parse(raw: Option<&str>) -> Result<View, WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| WebError::Form(e.to_string()))?;
        let mut v = View::default();
        for (k, val) in pairs {
            let val = val.trim().to_string();
            if val.is_empty() {
                continue;
            }
            let list = |val: &str| {
                val.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            };
            match k.as_str() {
                "dataset" => v.dataset = val,
                "indicator" => v.indicator = val,
                "geo" => v.places.extend(list(&val)),
                "origin" => v.origins.extend(list(&val)),
                "from" => v.from = val,
                "to" => v.to = val,
                "frequency" => v.frequency = val,
                "compare" => v.compare = val,
                "map" => v.map = val,
                "derived" => v.derived = val,
                "was" => v.was = val,
                "rows" => v.rows = val,
                "cols" => v.cols = val,
                k => {
                    if let Some(dim) = k.strip_prefix("f.").filter(|d| !d.is_empty()) {
                        match v.filters.iter_mut().find(|(d, _)| d == dim) {
                            Some((_, codes)) => codes.extend(list(&val)),
                            None => v.filters.push((dim.to_string(), list(&val))),
                        }
                    }
                }
            }
        }
        Ok(v)
    }

    /// The address of this view (for the link that reproduces it, and the download).
    pub fn query_string(&self) -> String {
        let mut p: Vec<(&str, String)> = vec![
            ("dataset", self.dataset.clone()),
            ("indicator", self.indicator.clone()),
        ];
        if !self.places.is_empty() {
            p.push(("geo", self.places.join(",")));
        }
        if !self.origins.is_empty() {
            p.push(("origin", self.origins.join(",")));
        }
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("frequency", &self.frequency),
            ("compare", &self.compare),
            ("map", &self.map),
            ("derived", &self.derived),
            ("rows", &self.rows),
            ("cols", &self.cols),
        ] {
            if !v.is_empty() {
                p.push((k, v.clone()));
            }
        }
        let named: Vec<(String, String)> = self
            .filters
            .iter()
            .map(|(d, codes)| (format!("f.{d}"), codes.join(",")))
            .collect();
        p.extend(named.iter().map(|(k, v)| (k.as_str(), v.clone())));
        serde_urlencoded::to_string(p).unwrap_or_default()
    }

    fn query(&self, cov: &Coverage, group_by: &[&str]) -> Result<Query, WebError> {
        let mut filters = vec![("indicator".to_string(), vec![self.indicator.clone()])];
        if !self.places.is_empty() && cov.dims.iter().any(|d| d == "geo") {
            filters.push(("geo".into(), self.places.clone()));
        }
        if !self.origins.is_empty() && cov.dims.iter().any(|d| d == "origin") {
            filters.push(("origin".into(), self.origins.clone()));
        }
        for (d, codes) in &self.filters {
            if !codes.is_empty() && cov.dims.contains(d) {
                filters.push((d.clone(), codes.clone()));
            }
        }
        let period = |s: &str, what: &str| -> Result<Option<Period>, WebError> {
            if s.is_empty() {
                return Ok(None);
            }
            Period::parse(s).map(Some).ok_or_else(|| {
                WebError::Form(format!(
                    "the {what} period {s:?} is not a period such as 2015, 2015-Q3 or 2015-09"
                ))
            })
        };
        let frequency = if self.frequency.is_empty() {
            None
        } else {
            Some(
                self.frequency
                    .parse::<Frequency>()
                    .map_err(WebError::Form)?,
            )
        };
        Ok(Query {
            filters,
            from: period(&self.from, "first")?,
            to: period(&self.to, "last")?,
            group_by: group_by
                .iter()
                .filter(|g| cov.dims.iter().any(|d| d == *g))
                .map(|g| g.to_string())
                .collect(),
            frequency,
            ..Query::default()
        })
    }
}

/// Everything the page shows, computed once.
struct Explored {
    choices: Vec<DatasetView>,
    cov: Coverage,
    compare_cov: Option<Coverage>,
    view: View,
    /// The places drawn when none were chosen.
    chosen_for_you: bool,
    table: Table,
    by_place: Vec<(String, Vec<Option<f64>>)>,
    /// The bars' range when it is not the view's: compared, the periods both sources cover.
    bar_periods: Option<String>,
    /// A derived indicator was asked for beside a comparison, which compares the indicator.
    derived_dropped: bool,
    map: Vec<(String, String, f64)>,
    /// `europe` or `world` as the person chose, else `fit`: as far as the data reaches.
    region: &'static str,
    /// The answer over every chosen place and the whole range, and whether it is incomplete.
    total: Option<(Option<f64>, bool)>,
    /// The same question by two dimensions, for the pivot table.
    pivot: Option<Table>,
    flows: Option<nansen_app::Flows>,
}

fn coarsest(a: Option<&str>, b: Option<&str>) -> Option<String> {
    let fa = a.and_then(|f| f.parse::<Frequency>().ok());
    let fb = b.and_then(|f| f.parse::<Frequency>().ok());
    fa.max(fb).map(|f| f.to_string())
}

/// Answers the view. Fills in what the address leaves out: the first dataset the person may
/// read, its main indicator, and its five largest places.
fn explore(app: &App, who: &Caller, mut view: View) -> Result<Explored, AppError> {
    let choices: Vec<DatasetView> = app
        .list_datasets(who)?
        .into_iter()
        .filter(|d| d.access != DatasetReach::Metadata && !d.versions.is_empty())
        .collect();
    if view.dataset.is_empty() {
        view.dataset = choices
            .iter()
            .find(|d| d.slug.contains("applicants"))
            .or(choices.first())
            .map(|d| d.name.clone())
            .unwrap_or_default();
    }
    if !view.was.is_empty() && view.was != view.dataset {
        // Another dataset: its own defaults, not the places and filters of the one before.
        view = View {
            dataset: std::mem::take(&mut view.dataset),
            ..View::default()
        };
    }
    let name: DatasetName = view
        .dataset
        .parse()
        .map_err(|_| AppError::NotFound("a dataset to explore".into()))?;
    let cov = app.coverage(who, &name)?;
    if view.indicator.is_empty() || !cov.indicators.contains(&view.indicator) {
        view.indicator = main_indicator(&cov).unwrap_or_default();
    }
    let compare_cov = if view.compare.is_empty() || view.compare == view.dataset {
        view.compare.clear();
        None
    } else {
        let other: DatasetName = view.compare.parse().map_err(AppError::BadRequest)?;
        Some(app.coverage(who, &other)?)
    };
    // Sources are compared on the indicator itself: a derived indicator is one source's
    // arithmetic, and the comparison says so rather than mixing the two.
    let mut derived_dropped = false;
    if compare_cov.is_some() && !view.derived.is_empty() {
        view.derived.clear();
        derived_dropped = true;
    }
    // Two sources are compared at the coarser of their frequencies.
    if let Some(c) = &compare_cov {
        if view.frequency.is_empty() {
            if let Some(f) = coarsest(cov.frequency.as_deref(), c.frequency.as_deref())
                .filter(|f| Some(f) != cov.frequency.as_ref())
            {
                view.frequency = f;
            }
        }
    }
    let q = |v: &View, g: &[&str]| {
        v.query(&cov, g)
            .map_err(|e| AppError::BadRequest(format!("{e:?}")))
    };
    let codes = CodeLists::get();
    // Totals by place over the period (bars and map): the map shows every place.
    let mut all_places = view.clone();
    all_places.places.clear();
    let totals = app.query(who, &name, None, &q(&all_places, &["geo"])?)?;
    let mut chosen_for_you = false;
    if view.places.is_empty() && cov.dims.iter().any(|d| d == "geo") {
        let mut ranked: Vec<(&String, f64)> = totals
            .rows
            .iter()
            .filter(|r| !codes.is_aggregate(&r.key[0]))
            .filter_map(|r| r.value.map(|v| (&r.key[0], v)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        view.places = ranked.iter().take(5).map(|(k, _)| (*k).clone()).collect();
        chosen_for_you = !view.places.is_empty();
    }
    let main = q(&view, &["geo", "period"])?;
    let ask = |query: Query| {
        let question = nansen_app::Question {
            query,
            derived: (!view.derived.is_empty()).then(|| view.derived.clone()),
            ..Default::default()
        };
        app.ask(who, &name, None, &question)
    };
    // The map shows what the other charts show: the derived indicator when one is chosen.
    let by_geo = if view.derived.is_empty() {
        totals
    } else {
        ask(q(&all_places, &["geo"])?)?
    };
    let map = by_geo
        .rows
        .iter()
        .filter(|r| !codes.is_aggregate(&r.key[0]))
        .filter_map(|r| r.value.map(|v| (r.key[0].clone(), place(&r.key[0]), v)))
        .collect();
    let table = match &compare_cov {
        Some(_) => app.compare(who, &[view.dataset.clone(), view.compare.clone()], &main)?,
        None => ask(main.clone())?,
    };
    // One figure for the whole question: "dead and missing in the Mediterranean in 2017".
    let total = if view.derived == "share_of_total" {
        None
    } else {
        let mut all = q(&view, &[])?;
        if chosen_for_you {
            // The places were picked to draw, not asked about: the figure is for all of them.
            all.filters.retain(|(d, _)| d != "geo");
        }
        ask(all)
            .ok()
            .and_then(|t| t.rows.first().map(|r| (r.value, r.incomplete)))
    };
    // The pivot: any two dimensions of the dataset, place by period unless asked.
    let pick = |asked: &str, default: &str| {
        if cov.dims.iter().any(|d| d == asked) && asked != "indicator" {
            asked.to_string()
        } else {
            default.to_string()
        }
    };
    let rows_dim = pick(&view.rows, "geo");
    let cols_dim = pick(&view.cols, "period");
    let pivot = if rows_dim != cols_dim && cov.dims.contains(&rows_dim) && compare_cov.is_none() {
        let mut pq = q(&view, &[])?;
        pq.group_by = vec![rows_dim, cols_dim];
        // Places picked to draw do not limit a pivot that is not by place.
        if chosen_for_you && !pq.group_by.iter().any(|g| g == "geo") {
            pq.filters.retain(|(d, _)| d != "geo");
        }
        ask(pq).ok()
    } else {
        None
    };
    // As far as the data reaches unless the person chose: the page script fits the map to
    // the places that have a value.
    let region = match view.map.as_str() {
        "world" => "world",
        "europe" => "europe",
        _ => "fit",
    };
    // Bars: one value per chosen place over the range. Compared, only the periods both sources
    // cover completely are added up, so that 17 months are never set against 12.
    let (by_place, bar_periods) = match &compare_cov {
        None => {
            let t = ask(q(&view, &["geo"])?)?;
            let values = view
                .places
                .iter()
                .map(|p| {
                    t.rows
                        .iter()
                        .find(|r| r.key.first() == Some(p))
                        .and_then(|r| r.value)
                })
                .collect();
            (vec![(view.dataset.clone(), values)], None)
        }
        Some(_) => {
            // A row counts when both sources have a value for it and its period is complete:
            // place by place, so no place sets one source's year against nothing.
            let like_for_like = |r: &&Row| {
                r.value.is_some() && r.extra.first().is_some_and(Option::is_some) && !r.incomplete
            };
            let common: BTreeSet<&String> = table
                .rows
                .iter()
                .filter(like_for_like)
                .filter_map(|r| r.key.get(1))
                .collect();
            let sum = |p: &String, pick: &dyn Fn(&Row) -> Option<f64>| {
                let vs: Vec<f64> = table
                    .rows
                    .iter()
                    .filter(|r| r.key.first() == Some(p))
                    .filter(like_for_like)
                    .filter_map(pick)
                    .collect();
                (!vs.is_empty()).then(|| vs.iter().sum())
            };
            let first: Vec<Option<f64>> =
                view.places.iter().map(|p| sum(p, &|r| r.value)).collect();
            let other: Vec<Option<f64>> = view
                .places
                .iter()
                .map(|p| sum(p, &|r| r.extra.first().copied().flatten()))
                .collect();
            let range = match (common.first(), common.last()) {
                (Some(a), Some(b)) if a == b => Some(a.to_string()),
                (Some(a), Some(b)) => {
                    Some(format!("{a} to {b}, the periods both cover completely"))
                }
                _ => Some("no period both sources cover completely".to_string()),
            };
            (
                vec![(view.dataset.clone(), first), (view.compare.clone(), other)],
                range,
            )
        }
    };
    let flows = if cov.dims.iter().any(|d| d == "origin") && cov.dims.iter().any(|d| d == "geo") {
        Some(app.flows(who, &name, None, &q(&view, &[])?, None)?)
    } else {
        None
    };
    Ok(Explored {
        choices,
        cov,
        compare_cov,
        view,
        chosen_for_you,
        table,
        by_place,
        bar_periods,
        derived_dropped,
        map,
        region,
        total,
        pivot,
        flows,
    })
}

/// An answer by two dimensions laid out as a grid: the first down, the second across.
fn pivot_of(t: &Table, caption: &str) -> Markup {
    let mut down: Vec<&String> = Vec::new();
    let mut across: Vec<&String> = Vec::new();
    for r in &t.rows {
        if !down.contains(&&r.key[0]) {
            down.push(&r.key[0]);
        }
        if !across.contains(&&r.key[1]) {
            across.push(&r.key[1]);
        }
    }
    across.sort();
    let cell = |d: &String, a: &String| t.rows.iter().find(|r| &r.key[0] == d && &r.key[1] == a);
    html! {
        div.table-wrap tabindex="0" role="region" aria-label=(caption) {
            table #pivot {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (t.columns[0]) " \\ " (t.columns[1]) }
                    @for a in &across { th scope="col" class="num" { (a) } }
                } }
                tbody {
                    @for d in &down {
                        tr {
                            th scope="row" { (d) @if t.is_aggregate(&t.rows.iter().find(|r| &r.key[0] == *d).cloned().unwrap_or_default(), 0) { " (aggregate)" } }
                            @for a in &across {
                                @let c = cell(d, a);
                                td.num.incomplete[c.is_some_and(|r| r.incomplete)] title=[c.filter(|r| r.incomplete).map(|_| "incomplete: the data covers only part of this period")] {
                                    (layout::number(c.and_then(|r| r.value)))
                                    @if c.is_some_and(|r| r.incomplete) { "*" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether every place of an answer by geo is a European country (or an EU aggregate).
/// The largest origins and destinations of a flow diagram, the rest in "other" nodes.
fn top_flows(f: &nansen_app::Flows, n: usize) -> (Vec<FlowNode>, Vec<(String, String, f64)>) {
    let mut weight: HashMap<&str, f64> = HashMap::new();
    for l in &f.links {
        *weight.entry(&l.source).or_default() += l.value;
        *weight.entry(&l.target).or_default() += l.value;
    }
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for column in ["origin:", "geo:"] {
        let mut ids: Vec<(&str, f64)> = weight
            .iter()
            .filter(|(k, _)| k.starts_with(column))
            .map(|(k, v)| (*k, *v))
            .collect();
        ids.sort_by(|a, b| b.1.total_cmp(&a.1));
        kept.extend(ids.iter().take(n).map(|(k, _)| *k));
    }
    let other = |id: &str| -> String {
        if kept.contains(id) {
            id.to_string()
        } else if id.starts_with("origin:") {
            "origin:OTHER".into()
        } else {
            "geo:OTHER".into()
        }
    };
    let mut links: BTreeMap<(String, String), f64> = BTreeMap::new();
    for l in &f.links {
        *links
            .entry((other(&l.source), other(&l.target)))
            .or_default() += l.value;
    }
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for (s, t) in links.keys() {
        ids.insert(s.clone());
        ids.insert(t.clone());
    }
    let nodes = ids
        .into_iter()
        .map(|id| {
            let label = match id.as_str() {
                "origin:OTHER" => "Other origins".to_string(),
                "geo:OTHER" => "Other destinations".to_string(),
                _ => f
                    .nodes
                    .iter()
                    .find(|n| n.id == id)
                    .map(|n| n.label.clone())
                    .unwrap_or_else(|| id.clone()),
            };
            FlowNode { id, label }
        })
        .collect();
    (
        nodes,
        links.into_iter().map(|((s, t), v)| (s, t, v)).collect(),
    )
}

fn multi(
    id: &str,
    label: &str,
    name: &str,
    options: &[String],
    chosen: &[String],
    hint: &str,
) -> Markup {
    html! {
        div.field.span2 {
            label for=(id) { (label) }
            select #(id) name=(name) multiple size="6" aria-describedby=(format!("{id}-hint")) {
                @for (o, text) in by_name(options) { option value=(o) selected[chosen.contains(&o)] { (text) } }
            }
            span.hint id=(format!("{id}-hint")) { (hint) }
        }
    }
}

/// Places as people look for them: by name, aggregates (EU, world) after the countries.
fn by_name(codes: &[String]) -> Vec<(String, String)> {
    let lists = CodeLists::get();
    let mut v: Vec<(String, String)> = codes.iter().map(|c| (c.clone(), place(c))).collect();
    v.sort_by(|a, b| (lists.is_aggregate(&a.0), &a.1).cmp(&(lists.is_aggregate(&b.0), &b.1)));
    v
}

fn periods_of(cov: &Coverage) -> Vec<String> {
    let (Some(a), Some(b)) = (
        cov.first_period.as_deref().and_then(Period::parse),
        cov.last_period.as_deref().and_then(Period::parse),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut p = a;
    while p <= b && out.len() < 2000 {
        out.push(p.to_string());
        p = p.next();
    }
    out
}

pub async fn page(
    web: WebState,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Markup, WebError> {
    let view = View::parse(raw.as_deref())?;
    let who = viewer.who.clone();
    let e = blocking(&web.app, move |app| explore(app, &who, view)).await?;
    let v = &e.view;
    let link = format!("/explore?{}", v.query_string());
    let ind = indicator_label(&v.indicator);
    // What the charts show: the derived indicator when one is chosen.
    let shown = match CodeLists::get().derived(&v.derived) {
        // The label's name, before its definition ("Recognition rate: positive ... over ...").
        Some(d) => format!("{} of {ind}", d.label.split(':').next().unwrap_or(&d.label)),
        None => ind.clone(),
    };
    let periods: Vec<String> = {
        let set: BTreeSet<&String> = e.table.rows.iter().filter_map(|r| r.key.get(1)).collect();
        set.into_iter().cloned().collect()
    };
    let mut lines = Vec::new();
    let sources: Vec<(String, usize)> = std::iter::once((v.dataset.clone(), usize::MAX))
        .chain((!v.compare.is_empty()).then(|| (v.compare.clone(), 0)))
        .collect();
    for p in &v.places {
        for (source, col) in &sources {
            let values = periods
                .iter()
                .map(|per| {
                    e.table
                        .rows
                        .iter()
                        .find(|r| r.key.first() == Some(p) && r.key.get(1) == Some(per))
                        .and_then(|r| {
                            if *col == usize::MAX {
                                r.value
                            } else {
                                r.extra.get(*col).copied().flatten()
                            }
                        })
                })
                .collect();
            let name = if sources.len() > 1 {
                format!("{} · {source}", place(p))
            } else {
                place(p)
            };
            lines.push(Series {
                name,
                values,
                aggregate: CodeLists::get().is_aggregate(p),
            });
        }
    }
    let bar_series: Vec<Series> = e
        .by_place
        .iter()
        .map(|(name, values)| Series::new(name.clone(), values.clone()))
        .collect();
    let place_names: Vec<String> = v.places.iter().map(|p| place(p)).collect();
    let aggregate_places: Vec<String> = v
        .places
        .iter()
        .filter(|p| CodeLists::get().is_aggregate(p))
        .map(|p| place(p))
        .collect();
    // A period is incomplete on the chart when any place's row says so.
    let incomplete: Vec<String> = periods
        .iter()
        .filter(|per| {
            e.table
                .rows
                .iter()
                .any(|r| r.incomplete && r.key.get(1) == Some(per))
        })
        .cloned()
        .collect();
    let region = e.region;
    let derived = CodeLists::get().derived_indicators();
    let all_periods = periods_of(&e.cov);
    let compare_choices: Vec<&DatasetView> =
        e.choices.iter().filter(|d| d.name != v.dataset).collect();
    let range = match (v.from.as_str(), v.to.as_str()) {
        ("", "") => "all periods".to_string(),
        (a, b) => format!(
            "{} to {}",
            if a.is_empty() { "the start" } else { a },
            if b.is_empty() { "the end" } else { b }
        ),
    };
    let body = html! {
        h1 { "Explore" }
        form.explore method="get" action="/explore" aria-label="What to show" {
            div.field.span2 {
                label for="x-dataset" { "Dataset" }
                select #x-dataset name="dataset" {
                    @for d in &e.choices { option value=(d.name) selected[d.name == v.dataset] { (d.title) } }
                }
            }
            div.field {
                label for="x-indicator" { "Indicator" }
                select #x-indicator name="indicator" {
                    @for i in &e.cov.indicators { option value=(i) selected[*i == v.indicator] { (indicator_label(i)) } }
                }
            }
            // Places picked to draw are not chosen on the form: the next question picks again.
            @if !e.cov.places.is_empty() { (multi("x-geo", "Places", "geo", &e.cov.places, if e.chosen_for_you { &[] } else { &v.places }, "Several with Ctrl or Shift; none chosen: the five largest")) }
            @if e.cov.origins.iter().any(|o| !CodeLists::get().is_aggregate(o)) { (multi("x-origin", "Origins", "origin", &e.cov.origins, &v.origins, "None chosen: all origins")) }
            @for (d, codes) in &e.cov.others {
                @if codes.len() > 1 {
                    @let chosen = v.filters.iter().find(|(f, _)| f == d).map(|(_, c)| c.clone()).unwrap_or_default();
                    (multi(&format!("x-f-{d}"), d, &format!("f.{d}"), codes, &chosen, "None chosen: its total, or all of them added"))
                }
            }
            div.field {
                label for="x-derived" { "Derived indicator" }
                select #x-derived name="derived" {
                    option value="" { "none: the indicator itself" }
                    @for x in derived.iter().filter(|x| x.code != "rate_per_100k") { option value=(x.code) selected[x.code == v.derived] { (x.label) } }
                }
            }
            input type="hidden" name="was" value=(v.dataset);
            div.field {
                label for="x-from" { "From" }
                select #x-from name="from" { option value="" { "the start" } @for p in &all_periods { option value=(p) selected[*p == v.from] { (p) } } }
            }
            div.field {
                label for="x-to" { "To" }
                select #x-to name="to" { option value="" { "the end" } @for p in &all_periods { option value=(p) selected[*p == v.to] { (p) } } }
            }
            div.field {
                label for="x-frequency" { "By" }
                select #x-frequency name="frequency" {
                    option value="" { "as published" }
                    @for f in ["month", "quarter", "year"] { option value=(f) selected[v.frequency == f] { (f) } }
                }
            }
            div.field.span2 {
                label for="x-compare" { "Compare with" }
                select #x-compare name="compare" {
                    option value="" { "no other source" }
                    @for d in &compare_choices { option value=(d.name) selected[d.name == v.compare] { (d.title) } }
                }
            }
            div.field {
                label for="x-map" { "Map" }
                select #x-map name="map" {
                    option value="" selected[v.map.is_empty()] { "as far as the data reaches" }
                    option value="europe" selected[v.map == "europe"] { "Europe" }
                    option value="world" selected[v.map == "world"] { "World" }
                }
            }
            div.field.go { button type="submit" { "Show" } }
        }
        p role="status" #summary {
            @if v.derived.is_empty() { (ind) } @else { (v.derived) " from " (ind) }
            @for (d, codes) in &v.filters { @if !codes.is_empty() { ", " (d) " " (codes.join(", ")) } }
            ", " (range) @if !v.frequency.is_empty() { ", by " (v.frequency) } ", from " (v.dataset)
            @if let Some(c) = &e.compare_cov { " compared with " (v.compare) " (" (c.frequency.as_deref().unwrap_or("")) ")" } "."
            @if e.chosen_for_you { " Showing the five largest places; choose places to change them." }
            @if e.derived_dropped { " Two sources are compared on the indicator itself, not on a derived indicator." }
        }
        @if let Some((value, incomplete)) = e.total {
            p #total {
                "In all: " strong { (crate::layout::number(value)) }
                @if !v.derived.is_empty() { " (" (v.derived) ")" }
                @if incomplete { " " span.incomplete { "incomplete: the data covers only part of this range" } }
            }
        }
        div.links {
            label for="view-link" { "Link to this view" }
            input #view-link type="text" readonly value=(link);
            a.button href=(format!("/explore/download?{}&format=csv", v.query_string())) download #download-csv { "Download the table (CSV)" }
            a href=(format!("/explore/download?{}&format=json", v.query_string())) download { "JSON" }
        }
        div.charts {
            (charts::line("line-chart", &format!("{shown} over time, by place"), &periods, &lines, &incomplete))
            (charts::bar("bar-chart", &format!("{shown}, {}, by place", e.bar_periods.as_deref().unwrap_or(&range)), &place_names, &bar_series, &aggregate_places))
            (charts::map("map-chart", &format!("{shown}, {range}, every place of {}", v.dataset), region, &e.map))
            @if let Some(f) = &e.flows {
                @let (nodes, links) = top_flows(f, 8);
                @if !links.is_empty() { (charts::sankey("flow-chart", &format!("{ind}, {range}: from origin to destination"), &nodes, &links)) }
            }
        }
        @if let Some(p) = &e.pivot {
            h2 { "Pivot table" }
            form.pivot method="get" action="/explore" aria-label="Pivot table dimensions" {
                @for (k, val) in serde_urlencoded::from_str::<Vec<(String, String)>>(&v.query_string()).unwrap_or_default() {
                    // Places picked to draw are picked again, as on the main form.
                    @if k != "rows" && k != "cols" && !(e.chosen_for_you && k == "geo") { input type="hidden" name=(k) value=(val); }
                }
                input type="hidden" name="was" value=(v.dataset);
                div.field {
                    label for="x-rows" { "Rows" }
                    select #x-rows name="rows" { @for d in e.cov.dims.iter().filter(|d| *d != "indicator") { option value=(d) selected[*d == p.columns[0]] { (d) } } }
                }
                div.field {
                    label for="x-cols" { "Columns" }
                    select #x-cols name="cols" { @for d in e.cov.dims.iter().filter(|d| *d != "indicator") { option value=(d) selected[*d == p.columns[1]] { (d) } } }
                }
                div.field.go { button type="submit" { "Lay out" } }
            }
            (pivot_of(p, &format!("{ind}: {} by {} (* incomplete)", p.columns[0], p.columns[1])))
        }
        h2 { "The table behind the charts" }
        (table_of(&e.table, &format!("{ind} by place and period")))
    };
    Ok(layout::page(&viewer, "Explore", Section::Explore, body))
}

pub async fn download(
    web: WebState,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let view = View::parse(raw.as_deref())?;
    dataset_name(&view.dataset)?;
    let json = raw
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|kv| kv == "format=json");
    let who = viewer.who.clone();
    let e = blocking(&web.app, move |app| explore(app, &who, view)).await?;
    let name = format!("{}-{}", e.view.dataset.replace('/', "-"), e.view.indicator);
    let (media, extension, body) = if json {
        (
            "application/json",
            "json",
            nansen_formats::table_json(&e.table)
                .to_string()
                .into_bytes(),
        )
    } else {
        let mut out = Vec::new();
        nansen_formats::table_csv(&e.table, false, &mut out)
            .map_err(|e| WebError::Form(e.to_string()))?;
        ("text/csv; charset=utf-8", "csv", out)
    };
    let mut headers = vec![
        (header::CONTENT_TYPE, media.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{extension}\""),
        ),
    ];
    headers.extend(crate::pages::dataset::provenance_headers(
        &e.table.provenance,
    ));
    Ok(crate::pages::dataset::with_headers(headers, body))
}
