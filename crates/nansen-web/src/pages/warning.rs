//! Early warning on the web: the alert inbox and each alert with why it fired, watched
//! series with their history, forecast fan and alerts, backtests of a dataset, and
//! contingency plans with their triggers and checklists.

use super::{admitted, blocking, dataset_name, see_other, Address};
use crate::charts::{self, FanSeries};
use crate::error::WebError;
use crate::layout::{self, csrf, number, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Path, Query};
use axum::response::Response;
use maud::{html, Markup};
use nansen_app::{
    AlertChange, AlertStatus, AlertView, Capacity, CommentRecord, PlanSpec, PlanView, Trigger,
    WatchSpec, WatchView,
};
use nansen_forecast::detect::Rule;
use nansen_model::{DatasetName, DatasetReach};
use serde::Deserialize;

fn subnav(current: &str) -> Markup {
    let item = |href: &str, label: &str| html! { li { a href=(href) aria-current=[(href == current).then_some("page")] { (label) } } };
    html! {
        nav aria-label="Early warning" { ul.inline {
            (item("/alerts", "Alerts")) (item("/watches", "Watched series")) (item("/plans", "Contingency plans"))
        } }
    }
}

/// A series' name for people: country codes become "Germany (DEU)".
fn series_label(key: &str) -> String {
    key.split(" · ")
        .map(layout::place)
        .collect::<Vec<_>>()
        .join(" · ")
}

fn status_label(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::New => "New",
        AlertStatus::Acknowledged => "Acknowledged",
        AlertStatus::Resolved => "Resolved",
        AlertStatus::FalseAlarm => "False alarm",
    }
}

fn rule_label(name: &str) -> &'static str {
    match name {
        "c1" => "EARS C1",
        "c2" => "EARS C2",
        "c3" => "EARS C3",
        "farrington" => "Farrington flexible",
        "cusum" => "CUSUM of forecast residuals",
        _ => "rule",
    }
}

/// What the rule does, in words, with the parameters this watch gave it.
fn rule_explained(
    rule: &str,
    params: &std::collections::BTreeMap<String, f64>,
    season: usize,
) -> String {
    let r = Rule {
        name: rule.to_string(),
        params: params.clone(),
    };
    let get = |k: &str, d: f64| params.get(k).copied().unwrap_or(d);
    match rule {
        "c1" => format!("EARS C1 compares a period with the mean of the {} periods just before it, and alarms when the count is more than {} standard deviations above that mean (and at least {}).", get("baseline", 7.0), get("threshold", 3.0), get("min_count", 5.0)),
        "c2" => format!("EARS C2 compares a period with the mean of {} periods ending three before it (two are left out, so a rise already under way does not raise its own baseline), and alarms when the count is more than {} standard deviations above that mean (and at least {}).", get("baseline", 7.0), get("threshold", 3.0), get("min_count", 5.0)),
        "c3" => format!("EARS C3 adds up, over this period and the two before, how far each stood above C2's baseline beyond one standard deviation, and alarms when the sum passes {}.", get("threshold", 2.0)),
        "farrington" => {
            let p = r.farrington_params(season);
            format!(
                "The Farrington flexible method (Noufaily et al. 2013) fits a model of counts to the same time of year in each of the last {} years ({} either side) and the rest of those years, with a trend when it is supported, leaving out the latest {} and down-weighting past outbreaks. The expected value is its prediction for this period; the alarm threshold is the {}% quantile of a negative binomial around it.",
                p.years,
                periods(p.half_window),
                periods(p.left_out),
                100.0 * (1.0 - p.alpha)
            )
        }
        "cusum" => format!("CUSUM adds up, period after period, how far the counts stood above the forecast made the period before (in standard deviations of its 80% interval, less an allowance of {}), and alarms when the sum passes {}.", get("k", 0.5), get("h", 4.0)),
        _ => String::new(),
    }
}

fn periods(n: usize) -> String {
    if n == 1 {
        "1 period".into()
    } else {
        format!("{n} periods")
    }
}

fn alert_rows(alerts: &[AlertView], with_watch: bool) -> Markup {
    html! {
        div.table-scroll tabindex="0" role="region" aria-label="Alerts" {
            table {
                thead { tr {
                    th scope="col" { "Status" } th scope="col" { "Period" } th scope="col" { "Series" }
                    @if with_watch { th scope="col" { "Watch" } }
                    th scope="col" { "Rule" } th.num scope="col" { "Observed" } th.num scope="col" { "Expected" } th.num scope="col" { "Alarm above" }
                    th scope="col" { "Assigned to" } th scope="col" { "Raised" }
                } }
                tbody {
                    @for a in alerts { tr {
                        td { span class=(format!("status status-{}", a.status)) { (status_label(a.status)) } }
                        td { a href=(format!("/alerts/{}", a.id)) { (a.period) } }
                        td { (if a.series.is_empty() { "–".to_string() } else { series_label(&a.series) }) }
                        @if with_watch { td { a href=(format!("/watches/{}", a.watch_id)) { (a.watch) } } }
                        td { (rule_label(&a.rule)) }
                        td.num { (number(Some(a.detail.observed))) }
                        td.num { (number(Some(a.detail.expected))) }
                        td.num { (number(Some(a.detail.upper))) }
                        td { (a.assignee.as_deref().unwrap_or("–")) }
                        td { (when(&a.created_at)) }
                    } }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct InboxFilter {
    #[serde(default)]
    status: String,
}

/// The alert inbox: open alerts first.
pub async fn inbox(
    web: WebState,
    viewer: Viewer,
    Query(f): Query<InboxFilter>,
) -> Result<Markup, WebError> {
    viewer.require("/alerts")?;
    let who = viewer.who.clone();
    // "open" (new and acknowledged, the default) is the inbox's, not a status of its own.
    let status = match f.status.as_str() {
        "" | "open" => None,
        s => Some(s.parse::<AlertStatus>().map_err(WebError::Form)?),
    };
    let alerts = blocking(&web.app, move |app| app.alerts(&who, status)).await?;
    let open = f.status.is_empty() || f.status == "open";
    let alerts: Vec<AlertView> = alerts
        .into_iter()
        .filter(|a| !open || a.status.is_open())
        .collect();
    let body = html! {
        h1 { "Alerts" }
        (subnav("/alerts"))
        form.row method="get" action="/alerts" {
            label for="status" { "Show" }
            select #status name="status" {
                option value="open" selected[open] { "Open (new and acknowledged)" }
                @for s in AlertStatus::ALL { option value=(s) selected[f.status == s.as_str()] { (status_label(s)) } }
            }
            button type="submit" { "Show" }
        }
        @if alerts.is_empty() {
            p { "No alerts here. Alerts are raised when a new version of a watched dataset lands and a rule finds an unusual rise; " a href="/watches" { "watch a series" } " to receive them." }
        } @else {
            p { (alerts.len()) " alerts. Open one to see why it fired." }
            (alert_rows(&alerts, true))
        }
    };
    Ok(layout::page(&viewer, "Alerts", Section::Warning, body))
}

/// The season of a history, as the check that raised the alert took it.
fn season_of(periods: &[(String, Option<f64>)]) -> usize {
    periods
        .first()
        .and_then(|(p, _)| nansen_codes::Period::parse(p))
        .map_or(1, |p| nansen_app::season_of(p.frequency()))
}

/// One alert: why it fired, in numbers, words and a chart; its lifecycle and comments.
pub async fn alert(web: WebState, viewer: Viewer, Path(id): Path<i64>) -> Result<Markup, WebError> {
    viewer.require(&format!("/alerts/{id}"))?;
    let who = viewer.who.clone();
    let (a, comments, members) = blocking(&web.app, move |app| {
        let (a, comments) = app.alert(&who, id)?;
        let members = app.assignees(&who, &a)?;
        Ok((a, comments, members))
    })
    .await?;
    Ok(layout::page(
        &viewer,
        &format!("Alert {}", a.id),
        Section::Warning,
        alert_body(&viewer, &a, &comments, &members),
    ))
}

fn alert_body(
    viewer: &Viewer,
    a: &AlertView,
    comments: &[CommentRecord],
    members: &[String],
) -> Markup {
    let d = &a.detail;
    let periods: Vec<String> = d.history.iter().map(|(p, _)| p.clone()).collect();
    let at = |v: f64| {
        periods
            .iter()
            .map(|p| (p == &a.period).then_some(v))
            .collect::<Vec<_>>()
    };
    let series_name = if a.series.is_empty() {
        a.watch.clone()
    } else {
        series_label(&a.series)
    };
    let lines = [
        FanSeries {
            name: series_name.clone(),
            style: "line",
            values: d.history.iter().map(|(_, v)| *v).collect(),
        },
        FanSeries {
            name: "Expected".into(),
            style: "points",
            values: at(d.expected),
        },
        FanSeries {
            name: "Alarm threshold".into(),
            style: "points",
            values: at(d.upper),
        },
    ];
    let summary = format!(
        "Line chart of {series_name}, {} to {}. In {} it reached {}, against {} expected and an alarm threshold of {}. The table below holds every value.",
        periods.first().map(String::as_str).unwrap_or(""), periods.last().map(String::as_str).unwrap_or(""), a.period, number(Some(d.observed)), number(Some(d.expected)), number(Some(d.upper))
    );
    let times = if d.expected > 0.0 {
        format!(" ({:.1} times the expected)", d.observed / d.expected)
    } else {
        String::new()
    };
    html! {
        p { a href="/alerts" { "← Alerts" } }
        h1 { (series_name) ", " (a.period) ": " (rule_label(&a.rule)) }
        p { span class=(format!("status status-{}", a.status)) { (status_label(a.status)) }
            " · watch " a href=(format!("/watches/{}", a.watch_id)) { (a.watch) } " of " (a.org)
            " · dataset " a href=(format!("/datasets/{}", a.dataset)) { (a.dataset) } ", version " (a.version)
            " · raised " (when(&a.created_at)) }
        section.why aria-labelledby="why" {
            h2 #why { "Why this alert fired" }
            p.lead { (series_name) " had " strong { (number(Some(d.observed))) } " in " (a.period) (times) "; " (rule_label(&a.rule))
                " expected " strong { (number(Some(d.expected.round()))) } " and alarms above " strong { (number(Some(d.upper))) } "." }
            p { (rule_explained(&a.rule, &d.params, season_of(&d.history))) }
            dl.facts {
                dt { "Observed" } dd { (number(Some(d.observed))) }
                dt { "Expected" } dd { (number(Some(d.expected))) }
                dt { "Alarm threshold" } dd { (number(Some(d.upper))) }
                dt { "Statistic" } dd { (format!("{:.2}", d.statistic)) }
                dt { "Parameters" } dd { @if d.params.is_empty() { "the rule's defaults" } @else { (d.params.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")) } }
            }
        }
        (charts::fan("alert-chart", &format!("{series_name}: the history, with the expected value and the alarm threshold in {}", a.period), &periods, &lines, None, &summary))
        details {
            summary { "The values behind the chart" }
            div.table-scroll tabindex="0" role="region" aria-label="History" { table {
                thead { tr { th scope="col" { "Period" } th.num scope="col" { "Value" } } }
                tbody { @for (p, v) in &d.history { tr { td { (p) @if p == &a.period { " (alert)" } } td.num { (number(*v)) } } } }
            } }
        }
        section aria-labelledby="handling" {
            h2 #handling { "Handling" }
            p { "Assigned to: " (a.assignee.as_deref().unwrap_or("no one")) ". Last changed " (when(&a.updated_at)) "." }
            @if a.may_change {
                form.row method="post" action=(format!("/alerts/{}", a.id)) {
                    (csrf(viewer))
                    label for="alert-status" { "Status" }
                    select #alert-status name="status" {
                        @for s in AlertStatus::ALL.into_iter().filter(|s| *s != AlertStatus::New || a.status == AlertStatus::New) { option value=(s) selected[a.status == s] { (status_label(s)) } }
                    }
                    label for="alert-assignee" { "Assign to" }
                    select #alert-assignee name="assignee" {
                        option value="" { "no one" }
                        @for m in members { option value=(m) selected[a.assignee.as_deref() == Some(m.as_str())] { (m) } }
                    }
                    button type="submit" { "Save" }
                }
            }
        }
        section aria-labelledby="comments" {
            h2 #comments { "Comments" }
            @if comments.is_empty() { p { "No comments yet." } }
            @for c in comments { article.comment { p.meta { (c.author) ", " (when(&c.created_at)) } p { (c.body) } } }
            form.stack method="post" action=(format!("/alerts/{}/comments", a.id)) {
                (csrf(viewer))
                label for="comment-body" { "Add a comment" }
                textarea #comment-body name="body" rows="3" required {}
                button type="submit" { "Comment" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AlertForm {
    status: String,
    #[serde(default)]
    assignee: String,
}

pub async fn update_alert(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, form: f }: Posted<AlertForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let change = AlertChange {
        status: Some(f.status.parse().map_err(WebError::Form)?),
        assignee: Some(Some(f.assignee).filter(|a| !a.is_empty())),
    };
    blocking(&web.app, move |app| app.update_alert(&who, id, &change)).await?;
    Ok(see_other(&format!("/alerts/{id}")))
}

#[derive(Deserialize)]
pub struct CommentForm {
    body: String,
}

pub async fn comment(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, form: f }: Posted<CommentForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| app.comment_alert(&who, id, &f.body)).await?;
    Ok(see_other(&format!("/alerts/{id}#comments")))
}

/// Watched series, and a form to watch another.
pub async fn watches(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/watches")?;
    let who = viewer.who.clone();
    let (watches, datasets) = blocking(&web.app, move |app| {
        Ok((app.watches(&who)?, app.list_datasets(&who)?))
    })
    .await?;
    let orgs = editable_orgs(&viewer);
    let readable: Vec<_> = datasets
        .iter()
        .filter(|d| d.access != DatasetReach::Metadata)
        .collect();
    let body = html! {
        h1 { "Watched series" }
        (subnav("/watches"))
        @if watches.is_empty() { p { "No watched series yet." } } @else {
            div.table-scroll tabindex="0" role="region" aria-label="Watched series" { table {
                thead { tr { th scope="col" { "Watch" } th scope="col" { "Of" } th scope="col" { "Dataset" } th scope="col" { "Series" } th scope="col" { "Rules" } th.num scope="col" { "Open alerts" } th scope="col" { "Checked" } } }
                tbody { @for w in &watches { tr {
                    td { a href=(format!("/watches/{}", w.id)) { (w.name) } }
                    td { (w.org) }
                    td { a href=(format!("/datasets/{}", w.spec.dataset)) { (w.spec.dataset) } }
                    td { (describe_series(&w.spec)) }
                    td { (w.spec.rules.iter().map(|r| rule_label(&r.name)).collect::<Vec<_>>().join(", ")) }
                    td.num { (w.open_alerts) }
                    td { "version " (w.checked_version) @if let Some(at) = &w.checked_at { ", " (when(at)) } }
                } } }
            } }
        }
        @if !orgs.is_empty() {
            section aria-labelledby="new-watch" {
                h2 #new-watch { "Watch a series" }
                p { "The rules run on the latest periods each time a new version of the dataset lands; the forecast is recomputed with it." }
                form.stack method="post" action="/watches" {
                    (csrf(&viewer))
                    label for="w-org" { "For organisation" }
                    select #w-org name="org" { @for o in &orgs { option value=(o) { (o) } } }
                    label for="w-name" { "Name" }
                    input #w-name type="text" name="name" required placeholder="Syrian applications in the EU+";
                    label for="w-dataset" { "Dataset" }
                    select #w-dataset name="dataset" { @for d in &readable { option value=(d.name) { (d.title) " (" (d.name) ")" } } }
                    label for="w-where" { "Filters, one per line (DIM=VALUE[,VALUE])" }
                    textarea #w-where name="wheres" rows="2" placeholder="indicator=asylum_applications\ncitizen=SYR" {}
                    label for="w-series" { "One series per value of (optional, e.g. geo)" }
                    input #w-series type="text" name="series_by";
                    fieldset {
                        legend { "Rules" }
                        @for (name, _) in nansen_forecast::detect::RULES {
                            label.check { input type="checkbox" name="rule" value=(name) checked[*name == "farrington" || *name == "cusum"]; " " (rule_label(name)) }
                        }
                    }
                    label for="w-lookback" { "Periods judged at each check" }
                    input #w-lookback type="number" name="lookback" value="3" min="1" max="60";
                    label for="w-horizon" { "Forecast periods ahead" }
                    input #w-horizon type="number" name="horizon" value="3" min="1" max="24";
                    label for="w-partners" { "Partner organisations that may follow it (comma-separated, optional)" }
                    input #w-partners type="text" name="partners";
                    button type="submit" { "Watch" }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        "Watched series",
        Section::Warning,
        body,
    ))
}

/// The organisations for which the viewer may watch series and write plans.
fn editable_orgs(viewer: &Viewer) -> Vec<String> {
    match &viewer.who.principal {
        nansen_model::Principal::User { memberships, .. } => memberships
            .iter()
            .filter(|m| m.role >= nansen_model::Role::Editor)
            .map(|m| m.org.clone())
            .collect(),
        _ => Vec::new(),
    }
}

fn describe_series(spec: &WatchSpec) -> String {
    let mut parts = spec.wheres.clone();
    if !spec.series_by.is_empty() {
        parts.push(format!("by {}", spec.series_by.join(", ")));
    }
    if parts.is_empty() {
        "everything".into()
    } else {
        parts.join("; ")
    }
}

pub async fn create_watch(
    web: WebState,
    Posted {
        viewer,
        form: pairs,
    }: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let rules = pairs
        .iter()
        .filter(|(k, _)| k == "rule")
        .map(|(_, v)| Rule::parse(v).map_err(|e| WebError::Form(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let list = |s: String, sep: char| {
        s.split(sep)
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
    };
    let whole = |k: &str, d: usize| get(k).parse().unwrap_or(d);
    let spec = WatchSpec {
        dataset: get("dataset"),
        wheres: list(get("wheres"), '\n'),
        frequency: None,
        series_by: list(get("series_by"), ','),
        rules,
        horizon: whole("horizon", 3),
        lookback: whole("lookback", 3),
        level: 80.0,
    };
    dataset_name(&spec.dataset)?;
    let (org, name, partners) = (get("org"), get("name"), list(get("partners"), ','));
    let who = viewer.who.clone();
    let w = blocking(&web.app, move |app| {
        app.create_watch(&who, &org, &name, spec, &partners)
    })
    .await?;
    Ok(see_other(&format!("/watches/{}", w.id)))
}

#[derive(Deserialize, Default)]
pub struct SeriesChoice {
    #[serde(default)]
    series: String,
}

/// A watched series: history, forecast fan and alerts; one series at a time when there are several.
pub async fn watch(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(choice): Query<SeriesChoice>,
) -> Result<Markup, WebError> {
    viewer.require(&format!("/watches/{id}"))?;
    let who = viewer.who.clone();
    let (w, alerts) = blocking(&web.app, move |app| {
        let w = app.watch(&who, id)?;
        let alerts: Vec<AlertView> = app
            .alerts(&who, None)?
            .into_iter()
            .filter(|a| a.watch_id == id)
            .collect();
        Ok((w, alerts))
    })
    .await?;
    Ok(layout::page(
        &viewer,
        &w.name,
        Section::Warning,
        watch_body(&w, &alerts, &choice.series),
    ))
}

fn watch_body(w: &WatchView, alerts: &[AlertView], chosen: &str) -> Markup {
    let outlook = w.outlook.clone().unwrap_or_default();
    let keys: Vec<String> = outlook.series.iter().map(|s| s.key.join(" · ")).collect();
    // The chosen series, else the one with the most open alerts, else the first.
    let open = |k: &str| {
        alerts
            .iter()
            .filter(|a| a.series == k && a.status.is_open())
            .count()
    };
    let pick = keys
        .iter()
        .position(|k| k == chosen)
        .or_else(|| (0..keys.len()).max_by_key(|&i| (open(&keys[i]), std::cmp::Reverse(i))));
    html! {
        p { a href="/watches" { "← Watched series" } }
        h1 { (w.name) }
        p { "Watched by " (w.org) " since " (when(&w.created_at)) ", set up by " (w.created_by) ". "
            "Dataset " a href=(format!("/datasets/{}", w.spec.dataset)) { (w.spec.dataset) } " (" (describe_series(&w.spec)) "); last checked at version " (w.checked_version)
            @if let Some(at) = &w.checked_at { ", " (when(at)) } "." }
        @if !w.problem.is_empty() { p.error role="alert" { "The last check could not run: " (w.problem) } }
        p { "Rules: " (w.spec.rules.iter().map(|r| if r.params.is_empty() { rule_label(&r.name).to_string() } else { format!("{} ({})", rule_label(&r.name), r.params.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")) }).collect::<Vec<_>>().join("; "))
            ". Each check judges the latest " (w.spec.lookback) " periods." }
        @if keys.len() > 1 {
            form.row method="get" action=(format!("/watches/{}", w.id)) {
                label for="series" { "Series" }
                select #series name="series" { @for (i, k) in keys.iter().enumerate() { option value=(k) selected[Some(i) == pick] { (series_label(k)) " (" (open(k)) " open alerts)" } } }
                button type="submit" { "Show" }
            }
        }
        @if let Some(s) = pick.and_then(|i| outlook.series.get(i)) {
            (series_chart(w, s, alerts, outlook.level))
            h2 { "Forecast" }
            div.table-scroll tabindex="0" role="region" aria-label="Forecast" { table {
                thead { tr { th scope="col" { "Period" } th.num scope="col" { "Forecast" } th.num scope="col" { "Lower " (outlook.level) "%" } th.num scope="col" { "Upper " (outlook.level) "%" } } }
                tbody { @for f in &s.forecast { tr { td { (f.period) } td.num { (number(Some(f.mean))) } td.num { (number(Some(f.lo))) } td.num { (number(Some(f.hi))) } } } }
            } }
            details {
                summary { "The history behind the chart" }
                div.table-scroll tabindex="0" role="region" aria-label="History" { table {
                    thead { tr { th scope="col" { "Period" } th.num scope="col" { "Value" } } }
                    tbody { @for (p, v) in &s.history { tr { td { (p) } td.num { (number(*v)) } } } }
                } }
            }
        } @else {
            p { "No forecast yet: the series is too short, or the watch has not been checked." }
        }
        h2 { "Alerts of this watch" }
        @if alerts.is_empty() { p { "None." } } @else { (alert_rows(alerts, false)) }
    }
}

/// The fan chart of one series of a watch: history, forecast, interval and alerts.
fn series_chart(
    w: &WatchView,
    s: &nansen_app::SeriesOutlook,
    alerts: &[AlertView],
    level: f64,
) -> Markup {
    let name = if s.key.is_empty() {
        w.name.clone()
    } else {
        series_label(&s.key.join(" · "))
    };
    let mut periods: Vec<String> = s.history.iter().map(|(p, _)| p.clone()).collect();
    let n = periods.len();
    periods.extend(s.forecast.iter().map(|f| f.period.clone()));
    let total = periods.len();
    let pad = |v: Vec<Option<f64>>, before: usize| {
        let mut out = vec![None; before];
        out.extend(v);
        out.resize(total, None);
        out
    };
    let history = pad(s.history.iter().map(|(_, v)| *v).collect(), 0);
    let mut mean = pad(s.forecast.iter().map(|f| Some(f.mean)).collect(), n);
    // The forecast line starts at the last reported value, so the two join.
    if n > 0 {
        mean[n - 1] = history[n - 1];
    }
    let lo = pad(s.forecast.iter().map(|f| Some(f.lo)).collect(), n);
    let hi = pad(s.forecast.iter().map(|f| Some(f.hi)).collect(), n);
    let key = s.key.join(" · ");
    let marks: Vec<Option<f64>> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            alerts
                .iter()
                .any(|a| a.series == key && &a.period == p)
                .then(|| history[i])
                .flatten()
        })
        .collect();
    let lines = [
        FanSeries {
            name: name.clone(),
            style: "line",
            values: history,
        },
        FanSeries {
            name: "Forecast".into(),
            style: "dashed",
            values: mean,
        },
        FanSeries {
            name: "Alerts".into(),
            style: "points",
            values: marks,
        },
    ];
    let last = s.forecast.last();
    let summary = format!(
        "Chart of {name}, {} to {}, with a forecast to {}{}. {} alerts are marked. The tables below hold every value.",
        periods.first().map(String::as_str).unwrap_or(""),
        s.history.last().map(|h| h.0.as_str()).unwrap_or(""),
        last.map(|f| f.period.as_str()).unwrap_or("–"),
        last.map(|f| format!(" of {} ({level}% interval {} to {})", number(Some(f.mean)), number(Some(f.lo)), number(Some(f.hi)))).unwrap_or_default(),
        alerts.iter().filter(|a| a.series == key).count()
    );
    let band = format!("{level}% interval");
    charts::fan(
        "watch-chart",
        &format!("{name}: history, forecast and its {level}% interval, and alerts"),
        &periods,
        &lines,
        Some(charts::Band {
            lo: &lo,
            hi: &hi,
            name: &band,
        }),
        &summary,
    )
}

#[derive(Deserialize, Default)]
pub struct BacktestForm {
    #[serde(default)]
    wheres: String,
    #[serde(default)]
    series_by: String,
    #[serde(default)]
    horizon: Option<usize>,
    #[serde(default)]
    windows: Option<usize>,
    #[serde(default)]
    model: String,
}

/// Backtests of a dataset's series: how each model would have done over the last origins.
pub async fn backtest(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    Query(f): Query<BacktestForm>,
) -> Result<Markup, WebError> {
    let name = DatasetName::new(org, slug);
    let wheres: Vec<String> = f
        .wheres
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let series_by: Vec<String> = f
        .series_by
        .split(',')
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect();
    let (horizon, windows) = (
        f.horizon.unwrap_or(3).clamp(1, 24),
        f.windows.unwrap_or(12).clamp(1, 60),
    );
    let model = if f.model.is_empty() {
        "all".to_string()
    } else {
        f.model.clone()
    };
    let run = !series_by.is_empty();
    let who = viewer.who.clone();
    let dataset = name.clone();
    let (wh, sb, m) = (wheres.clone(), series_by.clone(), model.clone());
    let permit = web.app.admit(&who, address, nansen_app::Work::Forecast)?;
    let report = admitted(&web.app, permit, move |app, budget| {
        app.dataset(&who, &dataset)?;
        if !run {
            return Ok(None);
        }
        let query = nansen_model::Query::parse(&wh, None, None)?;
        let models: Vec<nansen_forecast::Model> = match m.as_str() {
            "all" => nansen_forecast::MODELS.to_vec(),
            one => vec![one.parse()?],
        };
        let request = nansen_app::SeriesRequest {
            query,
            series_by: sb,
            horizon,
        };
        Ok(Some(
            app.backtest(&who, &dataset, &request, windows, &models, budget)?
                .1,
        ))
    })
    .await?;
    let body = html! {
        p { a href=(format!("/datasets/{name}")) { "← " (name) } }
        h1 { "Backtest of " (name) }
        p { "Each model forecasts from each of the last origins using only the history before it; the scores compare those forecasts with what happened. MASE below 1 beats a seasonal naive forecast; coverage is the share of actual values inside the 80% interval (0.8 is right)." }
        form.stack method="get" action=(format!("/datasets/{name}/backtest")) {
            label for="b-where" { "Filters, one per line (DIM=VALUE[,VALUE])" }
            textarea #b-where name="wheres" rows="2" { (f.wheres) }
            label for="b-series" { "One series per value of" }
            input #b-series type="text" name="series_by" required value=(f.series_by) placeholder="geo";
            label for="b-horizon" { "Periods ahead" }
            input #b-horizon type="number" name="horizon" min="1" max="24" value=(horizon);
            label for="b-windows" { "Origins" }
            input #b-windows type="number" name="windows" min="1" max="60" value=(windows);
            label for="b-model" { "Model" }
            select #b-model name="model" { @for m in ["all", "auto", "naive", "snaive", "ets", "theta", "pooled"] { option value=(m) selected[m == model] { (m) } } }
            button type="submit" { "Run the backtest" }
        }
        @if let Some(r) = report {
            h2 { "All series" }
            div.table-scroll tabindex="0" role="region" aria-label="Scores over all series" { table {
                thead { tr { th scope="col" { "Model" } th.num scope="col" { "MASE" } th.num scope="col" { "sMAPE" } th.num scope="col" { "80% coverage" } th.num scope="col" { "MSIS" } } }
                tbody { @for o in &r.overall { tr { td { (o.model) } td.num { (format!("{:.3}", o.mase)) } td.num { (format!("{:.2}", o.smape)) } td.num { (format!("{:.3}", o.coverage80)) } td.num { (format!("{:.2}", o.msis)) } } } }
            } }
            h2 { "Each series" }
            div.table-scroll tabindex="0" role="region" aria-label="Scores by series" { table {
                thead { tr { @for d in &series_by { th scope="col" { (d) } } th scope="col" { "Model" } th.num scope="col" { "MASE" } th.num scope="col" { "sMAPE" } th.num scope="col" { "80% coverage" } th.num scope="col" { "MSIS" } th.num scope="col" { "Forecasts" } } }
                tbody { @for sc in &r.scores { tr {
                    @for k in nansen_app::Panel::key(&sc.series) { td { (k) } }
                    td { (sc.model) } td.num { (format!("{:.3}", sc.mase)) } td.num { (format!("{:.2}", sc.smape)) } td.num { (format!("{:.3}", sc.coverage80)) } td.num { (format!("{:.2}", sc.msis)) } td.num { (sc.forecasts) }
                } } }
            } }
            @if !r.skipped.is_empty() { p { "Left out, too short for these windows: " (r.skipped.iter().map(|s| s.replace(nansen_app::KEY_SEPARATOR, " · ")).collect::<Vec<_>>().join(", ")) "." } }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Backtest of {name}"),
        Section::Explore,
        body,
    ))
}

fn plan_status(p: &PlanView) -> Markup {
    html! {
        @if let Some(since) = &p.triggered_since { span.status.status-new { "Triggered since " (when(since)) } }
        @else { span.status.status-resolved { "Not triggered" } }
    }
}

/// Contingency plans, and a form to write one.
pub async fn plans(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/plans")?;
    let who = viewer.who.clone();
    let (plans, watches) = blocking(&web.app, move |app| {
        Ok((app.plans(&who)?, app.watches(&who)?))
    })
    .await?;
    let orgs = editable_orgs(&viewer);
    let body = html! {
        h1 { "Contingency plans" }
        (subnav("/plans"))
        @if plans.is_empty() { p { "No plans yet." } }
        @for p in &plans {
            article.plan {
                h2 { a href=(format!("/plans/{}", p.id)) { (p.title) } }
                p { (plan_status(p)) " · " (p.org) " · " (p.spec.actions.iter().filter(|a| a.done).count()) " of " (p.spec.actions.len()) " actions done" }
                @if !p.reason.is_empty() { p { (p.reason) } }
            }
        }
        @if !orgs.is_empty() && !watches.is_empty() {
            section aria-labelledby="new-plan" {
                h2 #new-plan { "Write a plan" }
                p { "A plan is triggered when its trigger fires: the forecast of a watched series above a capacity, or open alerts on enough of its series." }
                form.stack method="post" action="/plans" {
                    (csrf(&viewer))
                    label for="p-org" { "For organisation" }
                    select #p-org name="org" { @for o in &orgs { option value=(o) { (o) } } }
                    label for="p-title" { "Title" }
                    input #p-title type="text" name="title" required;
                    label for="p-scenario" { "Scenario" }
                    textarea #p-scenario name="scenario" rows="2" {}
                    label for="p-watch" { "Watched series" }
                    select #p-watch name="watch" { @for w in &watches { option value=(w.id) { (w.name) " (" (w.org) ")" } } }
                    fieldset {
                        legend { "Trigger" }
                        label.check { input type="radio" name="kind" value="alerts" checked; " Open alerts on at least this many series:" }
                        label for="p-series" { "Series" }
                        input #p-series type="number" name="series" value="1" min="1";
                        label for="p-rule" { "Of rule (any if empty)" }
                        select #p-rule name="rule" { option value="" { "any" } @for (n, _) in nansen_forecast::detect::RULES { option value=(n) { (rule_label(n)) } } }
                        label.check { input type="radio" name="kind" value="forecast"; " The upper bound of the forecast in the next periods exceeds a capacity:" }
                        label for="p-periods" { "Next periods" }
                        input #p-periods type="number" name="periods" value="2" min="1";
                        label for="p-capacity" { "Capacity (a number, or a dataset as ORG/SLUG holding it)" }
                        input #p-capacity type="text" name="capacity";
                        label for="p-capacity-where" { "Filters on the capacity dataset, one per line" }
                        textarea #p-capacity-where name="capacity_where" rows="2" {}
                    }
                    label for="p-actions" { "Actions, one per line: what | owner" }
                    textarea #p-actions name="actions" rows="3" placeholder="Open the overflow centre | ops@euaa.europa.eu" {}
                    button type="submit" { "Write the plan" }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        "Contingency plans",
        Section::Warning,
        body,
    ))
}

#[derive(Deserialize)]
pub struct PlanForm {
    org: String,
    title: String,
    #[serde(default)]
    scenario: String,
    watch: i64,
    kind: String,
    #[serde(default)]
    series: Option<usize>,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    periods: Option<usize>,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    capacity_where: String,
    #[serde(default)]
    actions: String,
}

pub async fn create_plan(
    web: WebState,
    Posted { viewer, form: f }: Posted<PlanForm>,
) -> Result<Response, WebError> {
    let trigger = match f.kind.as_str() {
        "alerts" => Trigger::Alerts {
            watch: f.watch,
            rule: Some(f.rule.clone()).filter(|r| !r.is_empty()),
            series: f.series.unwrap_or(1),
        },
        "forecast" => {
            let cap = f.capacity.trim();
            let above = match cap.replace(',', "").parse::<f64>() {
                Ok(n) => Capacity::Number(n),
                Err(_) if cap.contains('/') => Capacity::Dataset {
                    dataset: cap.to_string(),
                    wheres: f
                        .capacity_where
                        .lines()
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty())
                        .collect(),
                },
                Err(_) => {
                    return Err(WebError::Form(format!(
                        "the capacity is a number or a dataset (ORG/SLUG), not {cap:?}"
                    )))
                }
            };
            Trigger::Forecast {
                watch: f.watch,
                series: Vec::new(),
                periods: f.periods.unwrap_or(2),
                bound: "hi".into(),
                above,
            }
        }
        k => return Err(WebError::Form(format!("choose a trigger, not {k:?}"))),
    };
    let mut actions = Vec::new();
    for (i, line) in f
        .actions
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let (what, owner) = line
            .split_once('|')
            .ok_or_else(|| WebError::Form(format!("action {}: write what | owner", i + 1)))?;
        actions.push(nansen_app::Action {
            what: what.trim().to_string(),
            owner: owner.trim().to_string(),
            done: false,
        });
    }
    let spec = PlanSpec {
        triggers: vec![trigger],
        actions,
    };
    let who = viewer.who.clone();
    let p = blocking(&web.app, move |app| {
        app.create_plan(&who, &f.org, &f.title, &f.scenario, spec)
    })
    .await?;
    Ok(see_other(&format!("/plans/{}", p.id)))
}

/// A plan: whether it is triggered, why and since when, and its checklist.
pub async fn plan(web: WebState, viewer: Viewer, Path(id): Path<i64>) -> Result<Markup, WebError> {
    viewer.require(&format!("/plans/{id}"))?;
    let who = viewer.who.clone();
    let p = blocking(&web.app, move |app| app.plan(&who, id)).await?;
    let body = html! {
        p { a href="/plans" { "← Contingency plans" } }
        h1 { (p.title) }
        p { (plan_status(&p)) " · " (p.org) " · written by " (p.created_by) " " (when(&p.created_at)) }
        @if !p.scenario.is_empty() { p { (p.scenario) } }
        section aria-labelledby="triggers" {
            h2 #triggers { "Triggers" }
            ul { @for (t, s) in p.spec.triggers.iter().zip(&p.triggers) {
                li { strong { (if s.fired { "Fired: " } else { "Not fired: " }) } (s.why)
                    @let watch = match t { Trigger::Forecast { watch, .. } | Trigger::Alerts { watch, .. } => *watch };
                    " (" a href=(format!("/watches/{watch}")) { "the watch" } ")" }
            } }
        }
        section aria-labelledby="actions" {
            h2 #actions { "Actions" }
            @if p.spec.actions.is_empty() { p { "None written." } }
            ul.checklist { @for (i, a) in p.spec.actions.iter().enumerate() {
                li {
                    (if a.done { "Done: " } else { "To do: " }) (a.what) " (" (a.owner) ") "
                    @if p.may_change {
                        form.inline method="post" action=(format!("/plans/{}/actions/{}", p.id, i + 1)) {
                            (csrf(&viewer))
                            input type="hidden" name="done" value=(if a.done { "false" } else { "true" });
                            button.link type="submit" { (if a.done { "Mark not done" } else { "Mark done" }) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(&viewer, &p.title, Section::Warning, body))
}

#[derive(Deserialize)]
pub struct TickForm {
    done: bool,
}

pub async fn tick(
    web: WebState,
    Path((id, n)): Path<(i64, usize)>,
    Posted { viewer, form: f }: Posted<TickForm>,
) -> Result<Response, WebError> {
    if n == 0 {
        return Err(WebError::Form("actions are numbered from 1".into()));
    }
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.set_action_done(&who, id, n - 1, f.done)
    })
    .await?;
    Ok(see_other(&format!("/plans/{id}#actions")))
}
