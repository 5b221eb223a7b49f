use super::{blocking, AppState, DatasetPath, IdPath, SignedIn, Who};
use crate::error::ApiError;
use crate::openapi::{BadBody, BadRequest, Conflict, NotFound, NotJson, Unauthorized};
use crate::views::{self, AccessRequest, RequestState};
use axum::extract::Path;
use axum::Json;
use nansen_app::Subject;
use nansen_model::{DatasetName, RequestStatus};
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RequestBody {
    /// Why the caller's organisation needs it; the owner reads this.
    #[schema(example = "Planning reception capacity in Bavaria")]
    reason: String,
}

/// Ask for the data of a listed dataset.
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/access-requests", tag = "access", operation_id = "requestAccess",
    params(DatasetPath), request_body = RequestBody,
    responses((status = 201, description = "The request, pending", body = RequestState),
        BadRequest, Unauthorized, NotFound, Conflict, NotJson, BadBody))]
pub async fn request_dataset(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    Json(b): Json<RequestBody>,
) -> Result<(axum::http::StatusCode, Json<RequestState>), ApiError> {
    request(state, who, Subject::Dataset(DatasetName::new(org, slug)), b).await
}

/// Ask to read a document whose metadata the caller sees.
#[utoipa::path(post, path = "/api/v1/documents/{id}/access-requests", tag = "access", operation_id = "requestDocumentAccess",
    params(IdPath), request_body = RequestBody,
    responses((status = 201, description = "The request, pending", body = RequestState),
        BadRequest, Unauthorized, NotFound, Conflict, NotJson, BadBody))]
pub async fn request_document(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<RequestBody>,
) -> Result<(axum::http::StatusCode, Json<RequestState>), ApiError> {
    request(state, who, Subject::Document(id), b).await
}

async fn request(
    state: AppState,
    who: nansen_app::Caller,
    subject: Subject,
    b: RequestBody,
) -> Result<(axum::http::StatusCode, Json<RequestState>), ApiError> {
    let app = state.0.clone();
    let id = blocking(move || app.request_access(&who, &subject, &b.reason)).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(RequestState {
            id,
            status: RequestStatus::Pending.into(),
        }),
    ))
}

/// Requests for access the caller made or decides, oldest first.
///
/// `kind` is dataset or document, `subject` its name, `owner` the organisation that decides.
#[utoipa::path(get, path = "/api/v1/access-requests", tag = "access", operation_id = "listAccessRequests",
    responses((status = 200, description = "Requests, oldest first", body = Vec<AccessRequest>), Unauthorized))]
pub async fn list(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<AccessRequest>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.access_requests(&who)).await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Decision {
    approve: bool,
    /// Told to the person who asked.
    #[serde(default)]
    note: String,
}

/// Approve or refuse a pending request (admins of the owner).
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/decision", tag = "access", operation_id = "decideAccessRequest",
    params(IdPath), request_body = Decision,
    responses((status = 200, description = "Decided", body = RequestState),
        BadRequest, Unauthorized, NotFound, Conflict, NotJson, BadBody))]
pub async fn decide(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Json(d): Json<Decision>,
) -> Result<Json<RequestState>, ApiError> {
    let app = state.0.clone();
    blocking(move || app.decide_access(&who, id, d.approve, &d.note)).await?;
    let status = if d.approve {
        RequestStatus::Approved
    } else {
        RequestStatus::Refused
    };
    Ok(Json(RequestState {
        id,
        status: status.into(),
    }))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct Revocation {
    #[serde(default)]
    pub note: String,
}

/// Take back an approved request (admins of the owner); the body (a note) may be left out.
#[utoipa::path(post, path = "/api/v1/access-requests/{id}/revoke", tag = "access", operation_id = "revokeAccessRequest",
    params(IdPath), request_body(content = Option<Revocation>, content_type = "application/json"),
    responses((status = 200, description = "Revoked", body = RequestState),
        BadRequest, Unauthorized, NotFound, Conflict, NotJson, BadBody))]
pub async fn revoke(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    body: Option<Json<Revocation>>,
) -> Result<Json<RequestState>, ApiError> {
    let note = body.map(|b| b.0.note).unwrap_or_default();
    let app = state.0.clone();
    blocking(move || app.revoke_access(&who, id, &note)).await?;
    Ok(Json(RequestState {
        id,
        status: RequestStatus::Revoked.into(),
    }))
}
