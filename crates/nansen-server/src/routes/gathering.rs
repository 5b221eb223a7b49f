//! Data gathering: reporting templates, the period's workbook, returns and their review, and
//! who reported on time. A template or submission outside the caller's concern answers 404.

use super::{blocking, AppState, DatasetPath, Who};
use crate::error::ApiError;
use crate::openapi::{
    BadBody, BadRequest, Conflict, Forbidden, NotFound, NotJson, TooLarge, Unauthorized,
};
use crate::views::{
    self, Approval, Completeness, Reminder, Submission, SubmissionDetail, Template,
};
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

/// Largest return a request may carry (a workbook, SDMX-CSV or CSV), with room for nothing
/// more.
pub const MAX_RETURN_BYTES: usize = nansen_app::MAX_RETURN_BYTES;

/// A submission, by its opaque id.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubmissionPath {
    #[param(example = "4r1p6mfczyqkpt2f")]
    pub id: String,
}

/// A reporting period.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// The period, as the template's frequency writes it (2026-01, 2026-Q1, 2026-W03, ...)
    #[param(example = "2026-01")]
    pub period: String,
}

/// The period's workbook, for which reporter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkbookParams {
    #[param(example = "2026-01")]
    pub period: String,
    /// Whose workbook: reviewers name a reporter, a reporter gets its own.
    #[param(example = "deu")]
    pub reporter: Option<String>,
}

/// Submissions of one period, or all.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmissionsParams {
    #[param(example = "2026-01")]
    pub period: Option<String>,
}

/// The periods of a completeness matrix; by default the template's first to the current.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletenessParams {
    #[param(example = "2026-01")]
    pub from: Option<String>,
    #[param(example = "2026-06")]
    pub to: Option<String>,
}

/// Define a template, or its next version, from its TOML definition (its organisation's
/// admins); its returns land in the dataset of the same name. Refused whole, naming the
/// field, when anything is wrong.
#[utoipa::path(put, path = "/api/v1/templates/{org}/{slug}", tag = "gathering", operation_id = "putTemplate",
    params(DatasetPath),
    request_body(content = String, content_type = "text/plain", example = "title = \"Monthly asylum applications (EPS)\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"deu\"]\n[dimensions]\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n"),
    responses((status = 200, description = "The template at its new version", body = Template),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict))]
pub async fn put_template(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    definition: String,
) -> Result<Json<Template>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let t = blocking(move || app.add_template(&who, &name, &definition)).await?;
    Ok(Json(t.into()))
}

/// The templates the caller defines, reviews or reports to.
#[utoipa::path(get, path = "/api/v1/templates", tag = "gathering", operation_id = "listTemplates",
    responses((status = 200, description = "The templates", body = Vec<Template>), Unauthorized))]
pub async fn templates(state: AppState, Who(who): Who) -> Result<Json<Vec<Template>>, ApiError> {
    let app = state.0.clone();
    let list = blocking(move || app.templates(&who)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A template at its latest version.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}", tag = "gathering", operation_id = "getTemplate",
    params(DatasetPath),
    responses((status = 200, description = "The template", body = Template), Unauthorized, NotFound))]
pub async fn template(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
) -> Result<Json<Template>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    Ok(Json(
        blocking(move || app.template(&who, &name)).await?.into(),
    ))
}

/// The period's workbook (XLSX) for a reporter: the grid with its code lists as drop-downs
/// and its rules as data validation, and a sheet explaining the template.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}/workbook", tag = "gathering", operation_id = "getWorkbook",
    params(DatasetPath, WorkbookParams),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        BadRequest, Unauthorized, NotFound))]
pub async fn workbook(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Query(q): Query<WorkbookParams>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let (file_name, bytes) =
        blocking(move || app.workbook(&who, &name, &q.period, q.reporter.as_deref())).await?;
    Ok(attachment(&file_name, XLSX, bytes))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to save, under its name.
fn attachment(file_name: &str, media: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, media.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The export format of a template.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// sdmx (an SDMX-ML 2.1 structure message) or xlsform (for KoboToolbox and ODK)
    #[param(example = "sdmx")]
    pub format: String,
}

/// The template in another tool's terms: an SDMX-ML 2.1 structure message (code lists,
/// concept scheme, data structure definition and dataflow) or an XLSForm.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}/export", tag = "gathering", operation_id = "exportTemplate",
    params(DatasetPath, ExportParams),
    responses((status = 200, description = "The structure (XML) or the form (XLSX)", body = Vec<u8>),
        BadRequest, Unauthorized, NotFound))]
pub async fn export(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Query(q): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let (file_name, media, bytes) =
        blocking(move || app.export_template(&who, &name, &q.format)).await?;
    Ok(attachment(&file_name, media, bytes))
}

/// Submit a reporter's return for a period (an editor or admin of a reporting
/// organisation): the body is the period's workbook filled, an SDMX-CSV file, or a CSV with
/// the template's dimension columns and one column per indicator, up to 20 MB. Each
/// resubmission is the next revision. Refused whole, naming sheet or row, column and reason.
#[utoipa::path(post, path = "/api/v1/templates/{org}/{slug}/submissions", tag = "gathering", operation_id = "submitReturn",
    params(DatasetPath, PeriodParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", example = "origin,sex,asylum_applications\nSYR,F,120\n"),
    responses((status = 201, description = "The submission", body = Submission),
        BadRequest, Unauthorized, Forbidden, NotFound, TooLarge))]
pub async fn submit(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Query(q): Query<PeriodParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<Submission>), ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let s = blocking(move || app.submit(&who, &name, &q.period, &body[..])).await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// A template's submissions: every reporter's to its reviewers, a reporter's own to it.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}/submissions", tag = "gathering", operation_id = "listSubmissions",
    params(DatasetPath, SubmissionsParams),
    responses((status = 200, description = "The submissions, by period, reporter and revision", body = Vec<Submission>),
        BadRequest, Unauthorized, NotFound))]
pub async fn submissions(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Query(q): Query<SubmissionsParams>,
) -> Result<Json<Vec<Submission>>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let list = blocking(move || app.submissions(&who, &name, q.period.as_deref())).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Approve, as one version of the template's dataset, the latest revision at submitted of
/// each reporter and period the selection names (the template's admins and editors).
#[utoipa::path(post, path = "/api/v1/templates/{org}/{slug}/approvals", tag = "gathering", operation_id = "approveReturns",
    params(DatasetPath), request_body = views::BulkApproval,
    responses((status = 200, description = "What landed", body = Approval),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn approve_all(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Json(b): Json<views::BulkApproval>,
) -> Result<Json<Approval>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let selection = nansen_app::Selection {
        period: b.period,
        reporter: b.reporter,
    };
    Ok(Json(
        blocking(move || app.approve_submissions(&who, &name, &selection))
            .await?
            .into(),
    ))
}

/// Who reported which period on time: each reporter by each period, with its status, first
/// submission and days late. A reporter sees its own rows.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}/completeness", tag = "gathering", operation_id = "completeness",
    params(DatasetPath, CompletenessParams),
    responses((status = 200, description = "The matrix, by reporter then period", body = Vec<Completeness>),
        BadRequest, Unauthorized, NotFound))]
pub async fn completeness(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
    Query(q): Query<CompletenessParams>,
) -> Result<Json<Vec<Completeness>>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let rows = blocking(move || {
        let range = match (&q.from, &q.to) {
            (Some(a), Some(b)) => Some((a.as_str(), b.as_str())),
            (None, None) => None,
            _ => {
                return Err(nansen_app::AppError::BadRequest(
                    "from and to: give both, or neither for the template's first period to the current one".into(),
                ))
            }
        };
        app.completeness(&who, &name, range)
    })
    .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The reminders sent to the template's reporters, newest first; a reporter sees its own.
#[utoipa::path(get, path = "/api/v1/templates/{org}/{slug}/reminders", tag = "gathering", operation_id = "listReminders",
    params(DatasetPath),
    responses((status = 200, description = "The reminders", body = Vec<Reminder>), Unauthorized, NotFound))]
pub async fn reminders(
    state: AppState,
    Who(who): Who,
    Path(p): Path<DatasetPath>,
) -> Result<Json<Vec<Reminder>>, ApiError> {
    let app = state.0.clone();
    let name = nansen_model::DatasetName::new(p.org, p.slug);
    let rows = blocking(move || app.reminders(&who, &name)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// One revision with its comments and its difference from the revision before.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "gathering", operation_id = "getSubmission",
    params(SubmissionPath),
    responses((status = 200, description = "The submission", body = SubmissionDetail), Unauthorized, NotFound))]
pub async fn submission(
    state: AppState,
    Who(who): Who,
    Path(SubmissionPath { id }): Path<SubmissionPath>,
) -> Result<Json<SubmissionDetail>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.submission(&who, &id)).await?.into(),
    ))
}

/// Comment on a return, pinned to a cell; a reviewer's comment on a submitted return marks
/// it has-issues.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/comments", tag = "gathering", operation_id = "commentSubmission",
    params(SubmissionPath), request_body = views::NewSubmissionComment,
    responses((status = 200, description = "The submission", body = SubmissionDetail),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn comment(
    state: AppState,
    Who(who): Who,
    Path(SubmissionPath { id }): Path<SubmissionPath>,
    Json(b): Json<views::NewSubmissionComment>,
) -> Result<Json<SubmissionDetail>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.comment_submission(&who, &id, b.cell.as_deref(), &b.text))
            .await?
            .into(),
    ))
}

/// Approve a return into the template's dataset: it replaces its reporter's cells for its
/// period, and nothing else.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/approve", tag = "gathering", operation_id = "approveSubmission",
    params(SubmissionPath),
    responses((status = 200, description = "What landed", body = Approval),
        Unauthorized, Forbidden, NotFound, Conflict))]
pub async fn approve(
    state: AppState,
    Who(who): Who,
    Path(SubmissionPath { id }): Path<SubmissionPath>,
) -> Result<Json<Approval>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.approve_submission(&who, &id))
            .await?
            .into(),
    ))
}

/// Reject a return, saying why.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/reject", tag = "gathering", operation_id = "rejectSubmission",
    params(SubmissionPath), request_body = views::Rejection,
    responses((status = 200, description = "The submission", body = SubmissionDetail),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn reject(
    state: AppState,
    Who(who): Who,
    Path(SubmissionPath { id }): Path<SubmissionPath>,
    Json(b): Json<views::Rejection>,
) -> Result<Json<SubmissionDetail>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.reject_submission(&who, &id, &b.reason))
            .await?
            .into(),
    ))
}
