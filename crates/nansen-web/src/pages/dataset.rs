//! A dataset's page: metadata, a quick chart of its main series, versions and what changed,
//! a preview, downloads, and (for its owner) sharing; for a `listed` one, asking for access.

use super::{admitted, blocking, see_other, Address};
use crate::charts::{self, Series};
use crate::error::WebError;
use crate::layout::{self, csrf, indicator_label, number, place, when, Section};
use crate::pages::catalogue::sharing_label;
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Path, Query as QueryString};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use nansen_app::{Coverage, DatasetView, ExportFile, OrgRecord};
use nansen_formats::ExportFormat;
use nansen_model::{DatasetName, DatasetReach, Query, Sharing, Table};
use serde::Deserialize;

pub const FORMATS: [(&str, &str); 6] = [
    ("csv", "CSV"),
    ("xlsx", "Excel (XLSX)"),
    ("json", "JSON"),
    ("hxl", "HXL-tagged CSV"),
    ("sdmx-csv", "SDMX-CSV"),
    ("parquet", "Parquet"),
];

/// The indicator a dataset is mostly about: applications when it has them, else its first.
pub fn main_indicator(cov: &Coverage) -> Option<String> {
    cov.indicators
        .iter()
        .find(|i| i.as_str() == "asylum_applications")
        .or(cov.indicators.first())
        .cloned()
}

struct Page {
    d: DatasetView,
    cov: Coverage,
    main: Option<(String, Table)>,
    preview: Option<Table>,
    orgs: Vec<OrgRecord>,
    threshold: Option<i64>,
}

pub async fn page(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let name = DatasetName::new(org, slug);
    let p = blocking(&web.app, move |app| {
        let d = app.dataset(&who, &name)?;
        let cov = app.coverage(&who, &name)?;
        let sees_data = d.access != DatasetReach::Metadata;
        let main = match main_indicator(&cov).filter(|_| sees_data) {
            Some(ind) => {
                let q = Query {
                    filters: vec![("indicator".into(), vec![ind.clone()])],
                    group_by: vec!["period".into()],
                    ..Query::default()
                };
                Some((ind, app.query(&who, &name, None, &q)?))
            }
            None => None,
        };
        let preview = if sees_data {
            Some(app.preview(&who, &name, 20)?)
        } else {
            None
        };
        // Who administers the dataset is the app's decision, made once for every door.
        let admin = d.may_administer;
        let orgs = if admin {
            app.organisations(&who)?
        } else {
            Vec::new()
        };
        let threshold = d.threshold;
        Ok(Page {
            d,
            cov,
            main,
            preview,
            orgs,
            threshold,
        })
    })
    .await?;
    let d = &p.d;
    let name = &d.name;
    let body = html! {
        p.crumbs { a href="/" { "Datasets" } " › " (d.org) }
        h1 { (d.title) }
        p.meta {
            span.badge.org { (d.org) }
            span class=(format!("badge sharing-{}", d.sharing.split(':').next().unwrap_or(""))) { (sharing_label(&d.sharing)) }
            @if d.sensitive { span.badge.sensitive { "sensitive: small counts suppressed outside " (d.org) } }
            span class=(format!("badge fresh-{}", d.freshness.as_str())) { (d.freshness.as_str()) }
        }
        @if !d.description.is_empty() { p.lead { (d.description) } }
        dl.facts {
            dt { "Source" } dd { (if d.source.is_empty() { "–" } else { &d.source }) }
            dt { "Licence" } dd { (if d.licence.is_empty() { "–" } else { &d.licence }) }
            dt { "Updated" } dd { (d.updated_at.as_ref().map(when).unwrap_or_else(|| "never".into())) @if !d.update_frequency.is_empty() { " (expected " (d.update_frequency) ")" } }
            dt { "Periods" } dd { @if let (Some(a), Some(b)) = (&p.cov.first_period, &p.cov.last_period) { (a) " to " (b) } @else { "–" } @if let Some(f) = &p.cov.frequency { " (by " (f) ")" } }
            dt { "Indicators" } dd { (p.cov.indicators.iter().map(|i| indicator_label(i)).collect::<Vec<_>>().join("; ")) }
            dt { "Dimensions" } dd { (p.cov.dims.join(", ")) }
            dt { "Places" } dd { (p.cov.places.len()) @if !p.cov.places.is_empty() { ": " (p.cov.places.iter().take(12).map(|c| place(c)).collect::<Vec<_>>().join(", ")) @if p.cov.places.len() > 12 { ", …" } } }
            @if !d.tags.is_empty() { dt { "Themes" } dd { (d.tags.join(", ")) } }
        }
        @if !d.methodology.is_empty() { h2 { "Methodology" } p { (d.methodology) } }

        @if let Some((ind, t)) = &p.main {
            h2 { "Main series" }
            @let periods: Vec<String> = t.rows.iter().map(|r| r.key[0].clone()).collect();
            @let values: Vec<Option<f64>> = t.rows.iter().map(|r| r.value).collect();
            @let incomplete: Vec<String> = t.rows.iter().filter(|r| r.incomplete).map(|r| r.key[0].clone()).collect();
            (charts::line("quick-chart", &format!("{}, all places, by {}", indicator_label(ind), p.cov.frequency.as_deref().unwrap_or("period")), &periods, &[Series::new(indicator_label(ind), values)], &incomplete))
            p { a.button href=(format!("/explore?{}", serde_urlencoded::to_string([("dataset", name.as_str()), ("indicator", ind.as_str())]).unwrap_or_default())) { "Open in Explore" }
                " " a href=(format!("/datasets/{name}/backtest?{}", serde_urlencoded::to_string([("wheres", format!("indicator={ind}").as_str()), ("series_by", "geo")]).unwrap_or_default())) { "Backtest the forecasts" }
                @if viewer.signed_in() { " " a href="/watches#new-watch" { "Watch a series" } } }
        }
        @if d.access == DatasetReach::Metadata {
            (request_form(&viewer, d))
        }
        @if let Some(t) = &p.preview {
            h2 { "Preview" }
            (table_of(t, &format!("The first {} of {} observations", t.rows.len(), number(Some(p.cov.observations as f64)))))
            h2 { "Download" }
            ul.downloads {
                @for (f, label) in FORMATS {
                    li { a href=(format!("/datasets/{name}/download?format={f}")) download { (label) } }
                }
            }
        }
        h2 { "Versions" }
        (versions(d))
        @if !p.orgs.is_empty() { (sharing_form(&viewer, d, &p.orgs, p.threshold.unwrap_or(5))) }
    };
    Ok(layout::page(&viewer, &d.title, Section::Catalogue, body))
}

/// A table of observations or query results, with a caption.
pub fn table_of(t: &Table, caption: &str) -> Markup {
    // Flags, and `incomplete` where the data covers only part of a row's period.
    let with_flags = t.rows.iter().any(|r| !r.flags.is_empty() || r.incomplete);
    html! {
        div.table-wrap tabindex="0" role="region" aria-label=(caption) {
            table.data {
                caption { (caption) }
                thead { tr {
                    @for c in &t.columns { th scope="col" { (c) } }
                    th scope="col" class="num" { "value" }
                    @if with_flags { th scope="col" { "flags" } }
                    @for e in &t.extra { th scope="col" class="num" { (e) } }
                } }
                tbody {
                    @for r in &t.rows {
                        tr.incomplete[r.incomplete] {
                            @for (i, k) in r.key.iter().enumerate() {
                                td { (k) @if t.is_aggregate(r, i) { " " span.aggregate title="an aggregate of other rows" { "(aggregate)" } } }
                            }
                            td.num { (number(r.value)) }
                            @if with_flags { td { (nansen_formats::row_flags(r)) } }
                            @for e in &r.extra { td.num { (number(*e)) } }
                        }
                    }
                }
            }
        }
    }
}

fn versions(d: &DatasetView) -> Markup {
    html! {
        @if d.versions.is_empty() { p { "No versions yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Versions" {
                table {
                    caption { "Each version and what it changed" }
                    thead { tr {
                        th scope="col" { "Version" } th scope="col" { "Landed" } th scope="col" { "By" } th scope="col" { "File" }
                        th scope="col" class="num" { "Added" } th scope="col" class="num" { "Changed" } th scope="col" class="num" { "Removed" } th scope="col" class="num" { "Observations" }
                        @if d.access != DatasetReach::Metadata { th scope="col" { "Download" } }
                    } }
                    tbody {
                        @for v in d.versions.iter().rev() {
                            tr {
                                td { (v.number) @if v.redacted_at.is_some() { " (redacted)" } }
                                td { (when(&v.created_at)) }
                                td { (v.created_by) }
                                td { (v.file_name) }
                                td.num { (number(Some(v.added as f64))) }
                                td.num { (number(Some(v.changed as f64))) }
                                td.num { (number(Some(v.removed as f64))) }
                                td.num { (number(Some(v.observations as f64))) }
                                @if d.access != DatasetReach::Metadata {
                                    td { @if v.redacted_at.is_none() {
                                        a href=(format!("/datasets/{}/download?format=csv&version={}", d.name, v.number)) download aria-label=(format!("Version {} as CSV", v.number)) { "CSV" }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn request_form(viewer: &Viewer, d: &DatasetView) -> Markup {
    access_request_form(
        viewer,
        "dataset",
        "data",
        &d.org,
        &format!("/datasets/{}", d.name),
    )
}

/// Asking for a `listed` dataset's data or document's text, posted to `PAGE/access-request`.
pub fn access_request_form(
    viewer: &Viewer,
    what: &str,
    content: &str,
    owner: &str,
    page: &str,
) -> Markup {
    html! {
        section.notice aria-labelledby="ask" {
            h2 #ask { "Ask for access" }
            p { "This " (what) " is listed: its description is public to signed-in users, its " (content) " is shared when " (owner) " approves a request." }
            @if viewer.signed_in() {
                form.stack method="post" action=(format!("{page}/access-request")) {
                    (csrf(viewer))
                    label for="reason" { "Why your organisation needs it" }
                    textarea #reason name="reason" rows="3" required minlength="10" {}
                    button type="submit" { "Request access" }
                }
            } @else {
                p { a href=(format!("/sign-in?next={page}")) { "Sign in" } " to ask for access." }
            }
        }
    }
}

/// The sharing levels and partner organisations, as form fields; datasets and documents share them.
pub fn sharing_fields(what: &str, sharing: &str, owner: &str, orgs: &[OrgRecord]) -> Markup {
    let current: Sharing = sharing.parse().unwrap_or(Sharing::Private);
    let partners: Vec<String> = match &current {
        Sharing::Partners(p) => p.clone(),
        _ => Vec::new(),
    };
    let now = match &current {
        Sharing::Private => "private",
        Sharing::Listed => "listed",
        Sharing::Partners(_) => "partners",
        Sharing::Public => "public",
    };
    html! {
        fieldset {
            legend { "Who sees this " (what) }
            @for (v, text) in [("private", "Private: only your organisation"), ("listed", "Listed: others see that it exists and may ask for access"), ("partners", "Partners: the organisations chosen below"), ("public", "Public: everyone, signed in or not")] {
                div.choice {
                    input type="radio" name="level" value=(v) id=(format!("level-{v}")) checked[now == v];
                    label for=(format!("level-{v}")) { (text) }
                }
            }
        }
        fieldset {
            legend { "Partner organisations" }
            @for o in orgs.iter().filter(|o| o.slug != owner) {
                div.choice {
                    input type="checkbox" name="partner" value=(o.slug) id=(format!("partner-{}", o.slug)) checked[partners.contains(&o.slug)];
                    label for=(format!("partner-{}", o.slug)) { (o.name) " (" (o.slug) ")" }
                }
            }
        }
    }
}

/// The sharing a form chose, or why it cannot be.
pub fn chosen_sharing(fields: &[(String, String)]) -> Result<Sharing, WebError> {
    let partners: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "partner")
        .map(|(_, v)| v.clone())
        .collect();
    Ok(match field(fields, "level").unwrap_or("") {
        "private" => Sharing::Private,
        "listed" => Sharing::Listed,
        "public" => Sharing::Public,
        "partners" if partners.is_empty() => {
            return Err(WebError::Form(
                "choose at least one partner organisation for partner sharing".into(),
            ))
        }
        "partners" => Sharing::Partners(partners),
        other => return Err(WebError::Form(format!("unknown sharing level {other:?}"))),
    })
}

fn sharing_form(viewer: &Viewer, d: &DatasetView, orgs: &[OrgRecord], threshold: i64) -> Markup {
    html! {
        section aria-labelledby="sharing" {
            h2 #sharing { "Sharing" }
            form.stack method="post" action=(format!("/datasets/{}/sharing", d.name)) {
                (csrf(viewer))
                (sharing_fields("dataset", &d.sharing, &d.org, orgs))
                div.choice {
                    input #sensitive type="checkbox" name="sensitive" value="on" checked[d.sensitive];
                    label for="sensitive" { "Sensitive: suppress small counts for readers outside " (d.org) }
                }
                label for="threshold" { "Smallest count shown to outside readers" }
                input #threshold type="number" name="threshold" min="1" max="1000" value=(threshold);
                button type="submit" { "Save sharing" }
            }
        }
    }
}

/// Form fields arrive as a list so that every checked partner is kept.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn share(
    web: WebState,
    Path((org, slug)): Path<(String, String)>,
    Posted {
        viewer,
        form: fields,
    }: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let sharing = chosen_sharing(&fields)?;
    let sensitive = field(&fields, "sensitive") == Some("on");
    let threshold = match field(&fields, "threshold")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => Some(t.parse::<i64>().map_err(|_| {
            WebError::Form(format!("the threshold must be a whole number, not {t:?}"))
        })?),
        None => None,
    };
    let who = viewer.who.clone();
    let name = DatasetName::new(&org, &slug);
    blocking(&web.app, move |app| {
        app.share(&who, &name, sharing, Some(sensitive), threshold)
    })
    .await?;
    Ok(see_other(&format!("/datasets/{org}/{slug}#sharing")))
}

#[derive(Deserialize)]
pub struct AccessForm {
    reason: String,
}

pub async fn request_access(
    web: WebState,
    Path((org, slug)): Path<(String, String)>,
    Posted { viewer, form: f }: Posted<AccessForm>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let subject = nansen_app::Subject::Dataset(DatasetName::new(&org, &slug));
    blocking(&web.app, move |app| {
        app.request_access(&who, &subject, &f.reason)
    })
    .await?;
    let body = html! {
        h1 { "Access requested" }
        p role="status" { "Your request for " (org) "/" (slug) " was sent to its administrators. You can follow it on " a href="/account" { "your account page" } "." }
        p { a href=(format!("/datasets/{org}/{slug}")) { "Back to the dataset" } }
    };
    Ok(layout::page(
        &viewer,
        "Access requested",
        Section::Catalogue,
        body,
    ))
}

#[derive(Deserialize)]
pub struct DownloadParams {
    format: Option<String>,
    version: Option<i64>,
}

pub async fn download(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    QueryString(p): QueryString<DownloadParams>,
) -> Result<Response, WebError> {
    let format: ExportFormat = p
        .format
        .as_deref()
        .unwrap_or("csv")
        .parse()
        .map_err(WebError::Form)?;
    let who = viewer.who.clone();
    let permit = web.app.admit(&who, address, nansen_app::Work::Export)?;
    Ok(attachment(
        admitted(&web.app, permit, move |app, _| {
            app.export_file(&who, &DatasetName::new(&org, &slug), p.version, format)
        })
        .await?,
    ))
}

/// An export as a download, with where it comes from and the audit chain's head for the
/// recipient's manifest.
pub fn attachment(f: ExportFile) -> Response {
    let mut headers = vec![
        (header::CONTENT_TYPE, f.media_type.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", f.file_name),
        ),
        (
            header::HeaderName::from_static("x-nansen-audit-head"),
            f.audit_head,
        ),
    ];
    headers.extend(provenance_headers(&f.provenance));
    with_headers(headers, f.bytes)
}

/// Where a download comes from, beside a CSV that has no room for it: `X-Nansen-Dataset`,
/// `-Version`, `-Title`, `-Source`, `-Licence`, `-Unit` and `-Query`, percent-encoded where
/// they are not plain ASCII.
pub fn provenance_headers(p: &nansen_model::Provenance) -> Vec<(header::HeaderName, String)> {
    let field = |name: &'static str, v: &str| {
        let value: String = v
            .bytes()
            .map(|b| {
                if (0x20..0x7f).contains(&b) && b != b'%' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        (header::HeaderName::from_static(name), value)
    };
    let version = p.version.map(|v| v.to_string()).unwrap_or_default();
    [
        field("x-nansen-dataset", &p.dataset),
        field("x-nansen-version", &version),
        field("x-nansen-title", &p.title),
        field("x-nansen-source", &p.source),
        field("x-nansen-licence", &p.licence),
        field("x-nansen-unit", &p.unit),
        field("x-nansen-query", &p.query),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect()
}

/// A body with its headers.
pub fn with_headers(headers: Vec<(header::HeaderName, String)>, body: Vec<u8>) -> Response {
    let mut r = body.into_response();
    for (name, value) in headers {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    r
}
