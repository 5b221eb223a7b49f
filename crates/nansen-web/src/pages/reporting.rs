//! Reporting on the web (issue 17): the templates a person defines, reviews or reports to; a
//! template's page with who reported which period on time as a heat map with timeliness
//! rates, the period's workbook to download and a return to upload; and a submission's page
//! with its difference from the revision before, its comments, and the reviewers' decisions.

use super::dataset::field;
use super::{blocking, see_other, CsrfOnly};
use crate::error::WebError;
use crate::layout::{self, csrf, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Multipart, Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use nansen_app::{CompletenessRow, FormOutcome, ReturnForm, Selection, TemplateView};
use nansen_model::DatasetName;
use serde::Deserialize;

fn template_name(org: &str, slug: &str) -> DatasetName {
    DatasetName::new(org, slug)
}

fn template_href(name: &DatasetName) -> String {
    format!("/templates/{}/{}", name.org, name.slug)
}

fn submission_href(id: &str) -> String {
    format!("/submissions/{id}")
}

/// The templates the person defines, reviews or reports to.
pub async fn templates(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/reporting")?;
    let who = viewer.who.clone();
    let list = blocking(&web.app, move |app| app.templates(&who)).await?;
    let body = html! {
        h1 { "Reporting" }
        p { "Regular collections: each template says what is reported, by whom and when. Its returns, once approved, are versions of the dataset of the same name." }
        @if list.is_empty() { p { "No template concerns you yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Templates" {
                table {
                    caption { "Templates" }
                    thead { tr { th scope="col" { "Template" } th scope="col" { "Title" } th scope="col" { "Every" }
                        th scope="col" .num { "Due (days after)" } th scope="col" { "Reporters" } th scope="col" .num { "Version" } } }
                    tbody { @for t in &list { tr {
                        th scope="row" { a href=(template_href(&t.name)) { (t.name) } }
                        td { (t.title) } td { (t.frequency) } td.num { (t.deadline_days) }
                        td { (t.reporters.join(", ")) } td.num { (t.version) }
                    } } }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Reporting", Section::Reporting, body))
}

#[derive(Deserialize, Default)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// A reporter's timeliness: of the periods due, how many came on time.
fn rate(rows: &[&CompletenessRow]) -> String {
    let due: Vec<_> = rows.iter().filter(|r| r.status != "open").collect();
    let on_time = due.iter().filter(|r| r.days_late == Some(0)).count();
    if due.is_empty() {
        "nothing due yet".into()
    } else {
        format!(
            "{on_time} of {} on time ({:.0}%)",
            due.len(),
            100.0 * on_time as f64 / due.len() as f64
        )
    }
}

fn status_cell(r: &CompletenessRow) -> Markup {
    let late = match r.days_late {
        Some(d) if d > 0 => format!(", {d} days late"),
        _ => String::new(),
    };
    html! {
        td class=(format!("status status-{}", r.status)) title=(format!("{} {}: {}{late}", r.reporter, r.period, r.status)) {
            (r.status) @if !late.is_empty() { br; small { (late.trim_start_matches(", ")) } }
        }
    }
}

/// The heat map of reporters by periods, with each reporter's timeliness rate.
fn heat_map(t: &TemplateView, rows: &[CompletenessRow]) -> Markup {
    let mut periods: Vec<&str> = Vec::new();
    for r in rows {
        if !periods.contains(&r.period.as_str()) {
            periods.push(&r.period);
        }
    }
    let reporters: Vec<&String> = t
        .reporters
        .iter()
        .filter(|o| rows.iter().any(|r| &r.reporter == *o))
        .collect();
    let all: Vec<&CompletenessRow> = rows.iter().collect();
    html! {
        div.table-wrap tabindex="0" role="region" aria-label="Who reported on time" {
            table.heat-map {
                caption { "Who reported which period: " (rate(&all)) " overall" }
                thead { tr { th scope="col" { "Reporter" } @for p in &periods { th scope="col" { (p) } } th scope="col" { "Timeliness" } } }
                tbody { @for o in &reporters {
                    @let mine: Vec<&CompletenessRow> = rows.iter().filter(|r| &r.reporter == *o).collect();
                    tr {
                        th scope="row" { (o) }
                        @for r in &mine { (status_cell(r)) }
                        td { (rate(&mine)) }
                    }
                } }
            }
        }
    }
}

/// A template: the heat map, the period's workbook and upload for reporters, the returns,
/// and bulk approval for reviewers.
pub async fn template(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
    Query(range): Query<Range>,
) -> Result<Markup, WebError> {
    let name = template_name(&org, &slug);
    viewer.require(&template_href(&name))?;
    let who = viewer.who.clone();
    let n = name.clone();
    let (t, rows, submissions, reminders, drafts) = blocking(&web.app, move |app| {
        let t = app.template(&who, &n)?;
        let span = match (&range.from, &range.to) {
            (Some(a), Some(b)) => Some((a.as_str(), b.as_str())),
            _ => None,
        };
        let mut rows = app.completeness(&who, &n, span)?;
        // By default the last twelve periods, so the map fits a screen.
        if span.is_none() {
            let mut periods: Vec<String> = rows.iter().map(|r| r.period.clone()).collect();
            periods.sort();
            periods.dedup();
            let keep: Vec<String> = periods.iter().rev().take(12).cloned().collect();
            rows.retain(|r| keep.contains(&r.period));
        }
        let submissions = app.submissions(&who, &n, None)?;
        let reminders = app.reminders(&who, &n)?;
        let drafts = app.drafts(&who, &n)?;
        Ok((t, rows, submissions, reminders, drafts))
    })
    .await?;
    let href = template_href(&name);
    // The period a reporter most likely reports: the latest that has ended, else the current.
    let current = rows
        .iter()
        .filter(|r| r.status != "open")
        .map(|r| r.period.clone())
        .max()
        .or_else(|| rows.last().map(|r| r.period.clone()))
        .unwrap_or_default();
    let body = html! {
        h1 { (t.title) }
        p.meta { (t.name) ", version " (t.version) ": every " (t.frequency) ", due " (t.deadline_days) " days after each period ends, from " (t.reporters.join(", ")) "." }
        (heat_map(&t, &rows))
        form.inline method="get" action=(href) {
            label for="from" { "From" } input #from name="from" size="8" placeholder=(current);
            label for="to" { "to" } input #to name="to" size="8" placeholder=(current);
            button type="submit" { "Show" }
        }
        section aria-labelledby="report" {
            h2 #report { "Report a period" }
            p { "Fill the return in on the web (a draft is kept until you submit it); or download the period's workbook, fill it in Excel or LibreOffice, and upload it here; or upload SDMX-CSV, or a CSV with the template's columns. A return with any problem is refused whole, saying where." }
            form.inline method="get" action=(format!("{href}/form")) {
                label for="form-period" { "Period" }
                input #form-period name="period" required value=(current);
                button type="submit" { "Fill in on the web" }
            }
            @if !drafts.is_empty() {
                p { "Drafts kept until submitted: "
                    @for d in &drafts { a href=(form_href(&t.name, &d.period, &d.reporter)) { (d.period) " for " (d.reporter) } " (saved by " (d.saved_by) " at " (when(&d.saved_at)) ") " } }
            }
            form.inline method="get" action=(format!("{href}/workbook")) {
                label for="workbook-period" { "Period" }
                input #workbook-period name="period" required value=(current);
                button type="submit" { "Download the workbook" }
            }
            form.stack method="post" action=(format!("{href}/submissions")) enctype="multipart/form-data" {
                (csrf(&viewer))
                label for="period" { "Period" }
                input #period name="period" required value=(current);
                label for="return-file" { "The return (XLSX, SDMX-CSV or CSV)" }
                input #return-file type="file" name="file" required accept=".xlsx,.csv";
                button type="submit" { "Submit" }
            }
        }
        @if t.may_review {
            section aria-labelledby="approve-all" {
                h2 #approve-all { "Approve what is submitted" }
                p { "Every latest return at submitted for the period lands as one version; returns with issues are decided one by one." }
                form.inline method="post" action=(format!("{href}/approvals")) {
                    (csrf(&viewer))
                    label for="approve-period" { "Period" }
                    input #approve-period name="period" required value=(current);
                    button type="submit" { "Approve all submitted" }
                }
            }
        }
        @if !reminders.is_empty() {
            h2 { "Reminders" }
            div.table-wrap tabindex="0" role="region" aria-label="Reminders" {
                table.reminders {
                    caption { "Reminders sent to reporters that had sent nothing, newest first" }
                    thead { tr { th scope="col" { "Reporter" } th scope="col" { "Period" } th scope="col" { "Reminder" } th scope="col" { "Due" }
                        th scope="col" { "E-mail" } th scope="col" .num { "Webhooks" } th scope="col" { "Sent" } } }
                    tbody { @for r in reminders.iter().take(50) { tr {
                        td { (r.reporter) } td { (r.period) } td { (r.event) } td { (r.deadline) }
                        td { (r.email) @if !r.recipients.is_empty() { " to " (r.recipients.join(", ")) } @if !r.email_error.is_empty() { " (" (r.email_error) ")" } }
                        td.num { (r.webhooks) } td { (when(&r.created_at)) }
                    } } }
                }
            }
        }
        h2 { "Returns" }
        @if submissions.is_empty() { p { "None yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Returns" {
                table {
                    caption { "Returns, by period and reporter" }
                    thead { tr { th scope="col" { "Return" } th scope="col" { "Reporter" } th scope="col" { "Period" } th scope="col" .num { "Revision" }
                        th scope="col" { "Status" } th scope="col" .num { "Cells" } th scope="col" { "Submitted" } } }
                    tbody { @for s in submissions.iter().rev().take(200) { tr {
                        th scope="row" { a href=(submission_href(&s.id)) { code { (s.id) } } }
                        td { (s.reporter) } td { (s.period) } td.num { (s.revision) }
                        td { span class=(format!("badge status-{}", s.status)) { (s.status) } }
                        td.num { (s.cells) } td { (when(&s.submitted_at)) }
                    } } }
                }
            }
        }
    };
    Ok(layout::page(&viewer, &t.title, Section::Reporting, body))
}

#[derive(Deserialize)]
pub struct WorkbookQuery {
    period: String,
    reporter: Option<String>,
}

pub async fn workbook(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
    Query(q): Query<WorkbookQuery>,
) -> Result<Response, WebError> {
    let name = template_name(&org, &slug);
    viewer.require(&template_href(&name))?;
    let who = viewer.who.clone();
    let (file_name, bytes) = blocking(&web.app, move |app| {
        app.workbook(&who, &name, q.period.trim(), q.reporter.as_deref())
    })
    .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A return uploaded: the form's token and period come before the file.
pub async fn submit(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
    mut parts: Multipart,
) -> Result<Response, WebError> {
    let name = template_name(&org, &slug);
    viewer.require(&template_href(&name))?;
    let bad = |e: String| WebError::Form(format!("the upload did not arrive whole: {e}"));
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(mut part) = parts.next_field().await.map_err(|e| bad(e.to_string()))? {
        if part.name() == Some("file") && file.is_none() {
            viewer.check(field(&fields, "csrf").unwrap_or(""))?;
            let mut bytes = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|e| bad(e.to_string()))? {
                if bytes.len() + chunk.len() > nansen_app::MAX_RETURN_BYTES {
                    return Err(WebError::App(nansen_app::AppError::TooLarge(format!(
                        "a return is at most {} MB",
                        nansen_app::MAX_RETURN_BYTES >> 20
                    ))));
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some(bytes);
        } else {
            let name = part.name().unwrap_or("").to_string();
            fields.push((name, super::text_field(part).await?));
        }
        if fields.len() > super::MAX_FIELDS {
            return Err(WebError::Form(
                "the form has more fields than this page sends".into(),
            ));
        }
    }
    viewer.check(field(&fields, "csrf").unwrap_or(""))?;
    let bytes = file
        .filter(|b| !b.is_empty())
        .ok_or_else(|| WebError::Form("choose a file to upload; the one sent was empty".into()))?;
    let period = field(&fields, "period").unwrap_or("").trim().to_string();
    let who = viewer.who.clone();
    let s = blocking(&web.app, move |app| app.submit(&who, &name, &period, bytes)).await?;
    Ok(see_other(&submission_href(&s.id)))
}

#[derive(Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    period: String,
}

pub async fn approve_all(
    web: WebState,
    Path((org, slug)): Path<(String, String)>,
    Posted { viewer, form }: Posted<PeriodForm>,
) -> Result<Response, WebError> {
    let name = template_name(&org, &slug);
    let href = template_href(&name);
    let who = viewer.who.clone();
    let selection = Selection {
        period: Some(form.period.trim().to_string()),
        reporter: None,
    };
    blocking(&web.app, move |app| {
        app.approve_submissions(&who, &name, &selection)
    })
    .await?;
    Ok(see_other(&href))
}

/// A submission: its figures, its difference from the revision before, its comments, and the
/// reviewers' decisions.
pub async fn submission(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, WebError> {
    viewer.require(&submission_href(&id))?;
    let who = viewer.who.clone();
    let i = id.clone();
    let (d, reviews) = blocking(&web.app, move |app| {
        let d = app.submission(&who, &i)?;
        let reviews = app.template(&who, &d.submission.template)?.may_review;
        Ok((d, reviews))
    })
    .await?;
    let s = &d.submission;
    let href = submission_href(&s.id);
    let shown = |v: Option<u64>| v.map_or("–".to_string(), |v| v.to_string());
    let undecided =
        matches!(s.status.as_str(), "submitted" | "has-issues") && d.superseded_by.is_none();
    let body = html! {
        h1 { (s.reporter) "'s return for " (s.period) }
        p.meta {
            "Template " a href=(template_href(&s.template)) { (s.template) } ", revision " (s.revision) ", " (s.cells) " cells, submitted by " (s.submitted_by) " " (when(&s.submitted_at)) "."
        }
        p {
            "Status: " strong class=(format!("status-{}", s.status)) { (s.status) }
            @if let Some(v) = s.dataset_version { ", landed as " a href=(format!("/datasets/{}/{}", s.template.org, s.template.slug)) { "version " (v) " of the dataset" } }
            @if let Some(n) = d.superseded_by { ", superseded by revision " (n) }
        }
        @if reviews && undecided {
            section aria-labelledby="decide" {
                h2 #decide { "Decide" }
                form.inline method="post" action=(format!("{href}/approve")) {
                    (csrf(&viewer))
                    button type="submit" { "Approve into the dataset" }
                }
                form.inline method="post" action=(format!("{href}/reject")) {
                    (csrf(&viewer))
                    label for="reason" { "Reason" }
                    input #reason name="reason" required size="40";
                    button type="submit" { "Reject" }
                }
            }
        }
        @if let Some(p) = d.previous_revision {
            h2 { "What changed since revision " (p) }
            @if d.changes.is_empty() { p { "No cell changed." } } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Changes" {
                    table {
                        caption { (d.changes.len()) " cells changed" }
                        thead { tr { th scope="col" { "Cell" } th scope="col" .num { "Before" } th scope="col" .num { "After" } } }
                        tbody { @for c in d.changes.iter().take(500) { tr {
                            th scope="row" { code { (c.cell) } } td.num { (shown(c.before)) } td.num { (shown(c.after)) }
                        } } }
                    }
                }
            }
        }
        h2 { "Comments" }
        @if d.comments.is_empty() { p { "None." } } @else {
            ul { @for c in &d.comments { li {
                @if c.cell.is_empty() { "On the return" } @else { "On " code { (c.cell) } }
                ", " (c.author) @if c.reviewer { " (reviewer)" } ", " (when(&c.created_at)) ": " (c.text)
            } } }
        }
        form.stack method="post" action=(format!("{href}/comments")) {
            (csrf(&viewer))
            label for="cell" { "Cell (its dimension codes, then the indicator, as SYR.F.asylum_applications; empty for the whole return)" }
            input #cell name="cell";
            label for="text" { "Comment" }
            textarea #text name="text" rows="3" required {}
            button type="submit" { "Comment" }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Return {}", s.id),
        Section::Reporting,
        body,
    ))
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    cell: String,
    #[serde(default)]
    text: String,
}

pub async fn comment(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<CommentForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let i = id.clone();
    blocking(&web.app, move |app| {
        let cell = Some(form.cell.trim()).filter(|c| !c.is_empty());
        app.comment_submission(&who, &i, cell, &form.text)
    })
    .await?;
    Ok(see_other(&submission_href(&id)))
}

pub async fn approve(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, .. }: Posted<CsrfOnly>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let i = id.clone();
    blocking(&web.app, move |app| app.approve_submission(&who, &i)).await?;
    Ok(see_other(&submission_href(&id)))
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

pub async fn reject(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<RejectForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let i = id.clone();
    blocking(&web.app, move |app| {
        app.reject_submission(&who, &i, &form.reason)
    })
    .await?;
    Ok(see_other(&submission_href(&id)))
}

#[derive(Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    period: String,
    reporter: Option<String>,
}

/// The form's address on this site, as a reminder's link names it.
fn form_href(name: &DatasetName, period: &str, reporter: &str) -> String {
    nansen_app::form_link("", name, period, reporter)
}

/// The grid form of a reporter's return: each cell as typed, with its problem in the cell.
fn return_form_page(viewer: &Viewer, f: &ReturnForm) -> Markup {
    layout::page(
        viewer,
        &f.title,
        Section::Reporting,
        return_form_body(viewer, f),
    )
}

fn return_form_body(viewer: &Viewer, f: &ReturnForm) -> Markup {
    let href = template_href(&f.template);
    let mut problems: std::collections::HashMap<(usize, &str), Vec<&str>> = Default::default();
    let mut row_problems: std::collections::HashMap<usize, Vec<String>> = Default::default();
    for p in &f.problems {
        if f.columns.iter().any(|c| c == &p.column) {
            problems
                .entry((p.row, p.column.as_str()))
                .or_default()
                .push(&p.reason);
        } else if p.column == "-" {
            row_problems
                .entry(p.row)
                .or_default()
                .push(p.reason.clone());
        } else {
            row_problems
                .entry(p.row)
                .or_default()
                .push(format!("{}: {}", p.column, p.reason));
        }
    }
    html! {
        h1 { (f.title) ", " (f.period) }
        p.meta { "The return of " strong { (f.reporter) } " for " (f.period) ", due on " (f.deadline) ". "
            a href=(href) { "The template" } }
        @if let (Some(by), Some(at)) = (&f.saved_by, &f.saved_at) {
            p.notice role="status" { "Draft saved by " (by) " at " (when(at)) ". It is kept until you submit it." }
        }
        @if !f.submitted.is_empty() {
            p { "Submitted for this period: "
                @for s in &f.submitted { a href=(submission_href(&s.id)) { "revision " (s.revision) " (" (s.status) ")" } " " } }
        }
        @if !f.problems.is_empty() {
            div.error role="alert" {
                p { (f.problems.len()) " problem" @if f.problems.len() != 1 { "s" } " to fix before this return can be submitted; each is shown in its cell." }
                ul { @for p in f.problems.iter().take(20) {
                    li { a href=(format!("#row-{}", p.row)) { "Row " (p.row) } ", " (p.column) ": " (p.reason) }
                } }
            }
        }
        @for (d, codes) in f.codes.iter().enumerate() {
            datalist id=(format!("codes-{d}")) { @for (c, label) in codes { option value=(c) { (label) } } }
        }
        form.grid-form method="post" action=(format!("{href}/form")) {
            (csrf(viewer))
            input type="hidden" name="period" value=(f.period);
            input type="hidden" name="reporter" value=(f.reporter);
            input type="hidden" name="rows" value=(f.rows.len());
            div.table-wrap tabindex="0" role="region" aria-label="The return" {
                table.return-grid {
                    caption { "Leave a count empty when there is nothing to report; a row left empty is passed over." }
                    thead { tr { th scope="col" { "Row" } @for c in &f.columns { th scope="col" { (c) } } th scope="col" { "Problems" } } }
                    tbody {
                        @for (i, row) in f.rows.iter().enumerate() {
                            @let n = i + 1;
                            tr id=(format!("row-{n}")) data-key=(row[..f.dimensions].join(".")) {
                                th scope="row" { (n) }
                                @for (j, value) in row.iter().enumerate() {
                                    @let column = f.columns[j].as_str();
                                    @let said = problems.get(&(n, column));
                                    td class=[said.map(|_| "invalid")] {
                                        @if j < f.dimensions {
                                            input name=(format!("r{i}c{j}")) value=(value) list=(format!("codes-{j}")) size="8"
                                                data-col=(column) aria-label=(format!("Row {n}, {column}"))
                                                aria-invalid=[said.map(|_| "true")]
                                                aria-describedby=[said.map(|_| format!("p{n}-{j}"))];
                                        } @else {
                                            input name=(format!("r{i}c{j}")) value=(value) inputmode="numeric" size="7"
                                                data-col=(column) aria-label=(format!("Row {n}, {column}"))
                                                aria-invalid=[said.map(|_| "true")]
                                                aria-describedby=[said.map(|_| format!("p{n}-{j}"))];
                                        }
                                        @if let Some(reasons) = said {
                                            span.cell-problem id=(format!("p{n}-{j}")) { (reasons.join("; ")) }
                                        }
                                    }
                                }
                                td.row-problem { @if let Some(r) = row_problems.get(&n) { (r.join("; ")) } }
                            }
                        }
                    }
                }
            }
            div.actions {
                button type="submit" name="action" value="save" { "Save the draft" }
                button type="submit" name="action" value="add-rows" { "Add 20 rows" }
                button.primary type="submit" name="action" value="submit" { "Submit the return" }
            }
        }
    }
}

/// The grid form for a period (from a reminder's link, or the template's page).
pub async fn return_form(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
    Query(q): Query<FormQuery>,
) -> Result<Markup, WebError> {
    let name = template_name(&org, &slug);
    viewer.require(&form_href(
        &name,
        &q.period,
        q.reporter.as_deref().unwrap_or(""),
    ))?;
    let who = viewer.who.clone();
    let f = blocking(&web.app, move |app| {
        app.return_form(
            &who,
            &name,
            q.period.trim(),
            q.reporter.as_deref().filter(|r| !r.is_empty()),
        )
    })
    .await?;
    Ok(return_form_page(&viewer, &f))
}

/// The grid form sent: saved as the draft, grown by blank rows, or submitted.
pub async fn save_return_form(
    web: WebState,
    Path((org, slug)): Path<(String, String)>,
    Posted { viewer, form }: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let name = template_name(&org, &slug);
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (period, reporter, action) = (get("period"), get("reporter"), get("action"));
    let count: usize = get("rows").parse().unwrap_or(0);
    if count > nansen_app::MAX_FORM_ROWS {
        return Err(WebError::Form(format!(
            "a form holds at most {} rows",
            nansen_app::MAX_FORM_ROWS
        )));
    }
    // Cells are named r{row}c{column}; any other name is the form's own.
    let mut cells: std::collections::HashMap<(usize, usize), String> = Default::default();
    let mut width = 0;
    for (k, v) in &form {
        let Some((r, c)) = k
            .strip_prefix('r')
            .and_then(|rest| rest.split_once('c'))
            .and_then(|(r, c)| Some((r.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
        else {
            continue;
        };
        if r < count && c < 256 {
            width = width.max(c + 1);
            cells.insert((r, c), v.clone());
        }
    }
    // What a form of this page can hold; a crafted one asks for no more.
    if count.saturating_mul(width) > nansen_app::MAX_FORM_ROWS * 64 {
        return Err(WebError::Form(format!(
            "a form holds at most {} cells",
            nansen_app::MAX_FORM_ROWS * 64
        )));
    }
    let mut rows: Vec<Vec<String>> = (0..count)
        .map(|r| {
            (0..width)
                .map(|c| cells.remove(&(r, c)).unwrap_or_default())
                .collect()
        })
        .collect();
    if action == "add-rows" {
        rows.extend(std::iter::repeat_n(vec![String::new(); width], 20));
    }
    let who = viewer.who.clone();
    let n = name.clone();
    let reporter_given = Some(reporter.clone()).filter(|r| !r.is_empty());
    if action == "submit" {
        let outcome = blocking(&web.app, move |app| {
            app.submit_return_form(&who, &n, &period, reporter_given.as_deref(), rows)
        })
        .await?;
        return Ok(match outcome {
            FormOutcome::Submitted(s) => see_other(&submission_href(&s.id)),
            FormOutcome::Refused(f) => return_form_page(&viewer, &f).into_response(),
        });
    }
    let f = blocking(&web.app, move |app| {
        app.save_return_draft(&who, &n, &period, reporter_given.as_deref(), rows)
    })
    .await?;
    Ok(return_form_page(&viewer, &f).into_response())
}
