//! Upload: choose a file, see it validated; when refused, the rows, columns and reasons with
//! nothing saved; when valid, what it would add, change and remove, then confirm.

use super::{blocking, dataset_name, see_other, Address};
use crate::error::WebError;
use crate::layout::{self, csrf, number, Section};
use crate::session::{NoFields, Posted, Viewer};
use crate::WebState;
use axum::extract::{Multipart, Path, Query};
use axum::response::Response;
use futures_util::StreamExt;
use maud::{html, Markup};
use nansen_app::{AppError, ImportReport, ImportRequest, Upload, UploadState};
use nansen_model::{DatasetReach, Role};
use serde::Deserialize;
use std::io::Write;

/// The largest file the web takes, as the API.
const MAX_UPLOAD: u64 = 4 << 30;

#[derive(Deserialize, Default)]
pub struct Choose {
    #[serde(default)]
    dataset: String,
}

struct Targets {
    datasets: Vec<(String, String)>,
    orgs: Vec<String>,
}

async fn targets(web: &WebState, viewer: &Viewer) -> Result<Targets, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        let may =
            |org: &str| matches!(who.principal.role_in(org), Some(Role::Editor | Role::Admin));
        let datasets = app
            .list_datasets(&who)?
            .into_iter()
            .filter(|d| d.access == DatasetReach::Owner && may(&d.org))
            .map(|d| (d.name, d.title))
            .collect();
        let orgs = app
            .organisations(&who)?
            .into_iter()
            .map(|o| o.slug)
            .filter(|o| may(o))
            .collect();
        Ok(Targets { datasets, orgs })
    })
    .await
}

fn upload_form(viewer: &Viewer, t: &Targets, chosen: &str) -> Markup {
    // A dataset not in the list is a new one being made: keep what was typed.
    let known = t.datasets.iter().any(|(n, _)| n == chosen);
    let (new_org, new_slug) = if known {
        ("", "")
    } else {
        chosen.split_once('/').unwrap_or(("", ""))
    };
    let chosen = if known || new_slug.is_empty() {
        chosen
    } else {
        "new"
    };
    html! {
        form.stack #upload-form method="post" action="/upload" enctype="multipart/form-data" data-progress="upload-progress" {
            (csrf(viewer))
            label for="dataset" { "Dataset" }
            select #dataset name="dataset" required {
                @for (name, title) in &t.datasets { option value=(name) selected[chosen == name] { (title) " (" (name) ")" } }
                @if !t.orgs.is_empty() { option value="new" selected[chosen == "new"] { "A new dataset…" } }
            }
            fieldset {
                legend { "For a new dataset" }
                label for="new-org" { "Organisation" }
                select #new-org name="new_org" { @for o in &t.orgs { option value=(o) selected[o == new_org] { (o) } } }
                label for="new-slug" { "Short name (letters, digits, -)" }
                input #new-slug type="text" name="new_slug" pattern="[a-z0-9_\\-]{1,64}" placeholder="arrivals-by-sea" value=(new_slug);
                label for="title" { "Title" }
                input #title type="text" name="title" maxlength="200";
            }
            label for="file" { "File (CSV, Excel, JSON, Parquet, SDMX-CSV, HXL)" }
            input #file type="file" name="file" required;
            div.choice {
                input #append type="checkbox" name="append" value="on";
                label for="append" { "Add to the current observations instead of replacing them" }
            }
            label for="sheet" { "Sheet (Excel files with several)" }
            input #sheet type="text" name="sheet";
            button type="submit" { "Validate" }
            progress #upload-progress max="100" value="0" hidden aria-label="Upload progress" {}
            p #upload-status role="status" {}
        }
    }
}

pub async fn form(
    web: WebState,
    viewer: Viewer,
    Query(c): Query<Choose>,
) -> Result<Markup, WebError> {
    viewer.require("/upload")?;
    let t = targets(&web, &viewer).await?;
    let body = html! {
        h1 { "Upload a file" }
        p { "The file is checked and compared with the dataset first. Nothing is saved until you confirm." }
        @if t.datasets.is_empty() && t.orgs.is_empty() {
            p { "Only editors and administrators of an organisation may upload." }
        } @else { (upload_form(&viewer, &t, &c.dataset)) }
    };
    Ok(layout::page(&viewer, "Upload", Section::Upload, body))
}

pub async fn stage(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    mut parts: Multipart,
) -> Result<Response, WebError> {
    viewer.require("/upload")?;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<(tempfile::NamedTempFile, String, u64, nansen_app::Permit)> = None;
    let bad = |e: String| WebError::Form(format!("the upload did not arrive whole: {e}"));
    let target =
        |fields: &[(String, String)]| -> Result<(String, String, Option<String>), WebError> {
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(f, _)| f == k)
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default()
            };
            Ok(match get("dataset").as_str() {
                "new" => (
                    get("new_org"),
                    get("new_slug"),
                    Some(get("title")).filter(|t| !t.is_empty()),
                ),
                name => {
                    let n = dataset_name(name)?;
                    (n.org, n.slug, None)
                }
            })
        };
    while let Some(mut part) = parts.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" && file.is_none() {
            // The form token and the dataset come before the file in the form: the caller must
            // be allowed to import there before a byte of the file is taken.
            viewer.check(
                fields
                    .iter()
                    .find(|(k, _)| k == "csrf")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or(""),
            )?;
            let (org, slug, title) = target(&fields)?;
            let asked = ImportRequest {
                org,
                slug,
                title,
                ..Default::default()
            };
            let who = viewer.who.clone();
            blocking(&web.app, move |app| app.may_import(&who, &asked)).await?;
            let permit = web
                .app
                .admit(&viewer.who, address, nansen_app::Work::Upload)?;
            let file_name = part.file_name().unwrap_or("upload").to_string();
            let dir = web.app.uploads_dir()?;
            // Removed when dropped: an upload cut short leaves nothing behind.
            let mut out = tempfile::Builder::new()
                .prefix("staged-")
                .tempfile_in(&dir)
                .map_err(|e| bad(e.to_string()))?;
            let mut size = 0u64;
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(|e| bad(e.to_string()))?;
                size += chunk.len() as u64;
                if size > MAX_UPLOAD {
                    return Err(WebError::App(AppError::TooLarge(
                        "the file is larger than 4 GiB; use the command line or the API".into(),
                    )));
                }
                out.write_all(&chunk).map_err(|e| bad(e.to_string()))?;
            }
            file = Some((out, file_name, size, permit));
        } else {
            fields.push((name, super::text_field(part).await?));
        }
        if fields.len() > super::MAX_FIELDS {
            return Err(WebError::Form(
                "the form has more fields than this page sends".into(),
            ));
        }
    }
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    viewer.check(&get("csrf"))?;
    let Some((out, file_name, _, permit)) = file.filter(|(_, _, size, _)| *size > 0) else {
        return Err(WebError::Form(
            "choose a file to upload; the one sent was empty".into(),
        ));
    };
    let (org, slug, title) = target(&fields)?;
    let mut options = nansen_formats::ImportOptions {
        file_name: file_name.clone(),
        ..Default::default()
    };
    let sheet = get("sheet");
    if !sheet.is_empty() {
        options.sheet = Some(sheet);
    }
    let path = out
        .into_temp_path()
        .keep()
        .map_err(|e| bad(e.to_string()))?;
    let request = ImportRequest {
        org,
        slug,
        file_name,
        options,
        append: get("append") == "on",
        title,
        ..Default::default()
    };
    let who = viewer.who.clone();
    let upload = blocking(&web.app, move |app| app.stage_upload(&who, request, path)).await?;
    // Validation runs on its own, holding the upload's place; the page shows where it is.
    let (app, who, id) = (web.app.clone(), viewer.who.clone(), upload.id.clone());
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        app.validate_upload(&who, &id)
    });
    Ok(see_other(&format!("/uploads/{}", upload.id)))
}

fn report_counts(r: &ImportReport) -> Markup {
    html! {
        ul.counts {
            li { strong #added { (number(Some(r.added as f64))) } " observations added" }
            li { strong #changed { (number(Some(r.changed as f64))) } " changed" }
            li { strong #removed { (number(Some(r.removed as f64))) } " removed" }
            li { (number(Some(r.observations as f64))) " in the dataset afterwards, from " (number(Some(r.rows as f64))) " rows of " (r.format) }
        }
        @if !r.warnings.is_empty() {
            h2 { "Warnings" }
            ul { @for w in &r.warnings { li { (w) } } }
        }
    }
}

pub async fn show(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, WebError> {
    viewer.require(&format!("/uploads/{id}"))?;
    let who = viewer.who.clone();
    let u: Upload = blocking(&web.app, move |app| app.upload(&who, &id)).await?;
    let body = html! {
        h1 { "Upload of " (u.file_name) }
        p { "Into " a href=(format!("/datasets/{}", u.dataset)) { (u.dataset) } }
        @match &u.state {
            UploadState::Validating { rows } => {
                p role="status" { "Checking the file: " (number(Some(*rows as f64))) " rows read…" }
                progress aria-label="Checking the file" {}
                (reload_hint())
            }
            UploadState::Refused { message, problems } => {
                div.error role="alert" #refused {
                    h2 { "The file was refused; nothing was saved" }
                    p { (message) }
                }
                @if !problems.is_empty() {
                    div.table-wrap tabindex="0" role="region" aria-label="Problems" {
                        table #problems {
                            caption { "What is wrong: each kind of problem once, with the rows that have it" }
                            thead { tr { th scope="col" class="num" { "Row" } th scope="col" class="num" { "Rows with it" } th scope="col" { "Column" } th scope="col" { "Value" } th scope="col" { "Reason" } } }
                            tbody { @for p in problems { tr { td.num { (p.row) } td.num { (p.count) } td { (p.column) } td { code { (p.value) } } td { (p.reason) @if let Some(r) = p.remedy { " (" (crate::error::remedy(r)) ")" } } } } }
                        }
                    }
                }
                h2 { "Try again with a corrected file" }
                @let t = targets(&web, &viewer).await?;
                (upload_form(&viewer, &t, &u.dataset))
            }
            UploadState::Ready { report } => {
                p role="status" #ready { "The file is valid. Nothing is saved yet: this is what confirming would do." }
                (report_counts(report))
                @if !report.sample.is_empty() {
                    div.table-wrap tabindex="0" role="region" aria-label="Examples of the changes" {
                        table #changes {
                            caption { "Examples of the changes" }
                            thead { tr {
                                th scope="col" { "Change" }
                                @for d in &report.dims { th scope="col" { (d) } }
                                th scope="col" class="num" { "Before" } th scope="col" class="num" { "After" }
                            } }
                            tbody { @for c in &report.sample { tr {
                                td { (c.kind) }
                                @for k in &c.key { td { (k) } }
                                td.num { @if c.kind == "added" { "–" } @else { (number(c.old)) } }
                                td.num { @if c.kind == "removed" { "–" } @else { (number(c.new)) } }
                            } } }
                        }
                    }
                }
                div.row {
                    form method="post" action=(format!("/uploads/{}/confirm", u.id)) {
                        (csrf(&viewer))
                        button type="submit" #confirm { "Confirm and save as a new version" }
                    }
                    form method="post" action=(format!("/uploads/{}/discard", u.id)) {
                        (csrf(&viewer))
                        button.secondary type="submit" { "Discard" }
                    }
                }
            }
            UploadState::Saving { done, total } => {
                p role="status" { "Saving: " (number(Some(*done as f64))) " of " (number(Some(*total as f64))) " observations…" }
                progress max=(total.max(&1)) value=(done) aria-label="Saving" {}
                (reload_hint())
            }
            UploadState::Landed { report } => {
                p role="status" #landed { "Saved as version " (report.version.unwrap_or_default()) " of " (u.dataset) "." }
                (report_counts(report))
                p { a.button href=(format!("/datasets/{}", u.dataset)) { "Go to the dataset" } }
            }
            UploadState::Failed { message } => {
                p.error role="alert" { (message) }
                p { a href="/upload" { "Upload again" } }
            }
        }
    };
    Ok(layout::page(&viewer, "Upload", Section::Upload, body))
}

/// While the server works the page script reloads the page each second; without it, a link.
fn reload_hint() -> Markup {
    html! { p data-reload="1000" { a href="" { "Reload" } " to see how far it is." } }
}

pub async fn confirm(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, .. }: Posted<NoFields>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    // Make sure it is theirs and ready before saving in the background.
    let u = blocking(&web.app, {
        let who = who.clone();
        let id = id.clone();
        move |app| app.upload(&who, &id)
    })
    .await?;
    if !matches!(u.state, UploadState::Ready { .. }) {
        return Err(WebError::App(AppError::Conflict(
            "this upload is not ready to confirm".into(),
        )));
    }
    let (app, i) = (web.app.clone(), id.clone());
    tokio::task::spawn_blocking(move || app.confirm_upload(&who, &i));
    // Let a small file land before the next page, so it rarely needs a reload.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    Ok(see_other(&format!("/uploads/{id}")))
}

pub async fn discard(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, .. }: Posted<NoFields>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| app.discard_upload(&who, &id)).await?;
    Ok(see_other("/upload"))
}
