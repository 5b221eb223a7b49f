use super::{blocking, AppState, SignedIn, Who};
use crate::error::ApiError;
use axum::extract::Path;
use axum::Json;
use nansen_app::Subject;
use nansen_model::RequestStatus;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct RequestBody {
    reason: String,
}

/// `POST /api/v1/datasets/{org}/{slug}/access-requests`
pub async fn request_dataset(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    Json(b): Json<RequestBody>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    request(state, who, Subject::Dataset { org, slug }, b).await
}

/// `POST /api/v1/documents/{id}/access-requests`
pub async fn request_document(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Json(b): Json<RequestBody>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    request(state, who, Subject::Document(id), b).await
}

async fn request(
    state: AppState,
    who: nansen_app::Caller,
    subject: Subject,
    b: RequestBody,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    let app = state.0.clone();
    let id = blocking(move || app.request_access(&who, &subject, &b.reason)).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "id": id, "status": RequestStatus::Pending })),
    ))
}

pub async fn list(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let app = state.0.clone();
    let rows = blocking(move || app.access_requests(&who)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                // `dataset` (ORG/SLUG) or `document` (its id) names the subject, as before the
                // kinds shared one list; `subject` is its name for people.
                let mut item = serde_json::json!({
                    "id": r.id, "kind": r.kind, "subject": r.subject, "owner": r.owner,
                    "org": r.org, "user": r.user_email, "reason": r.reason,
                    "status": r.status, "created_at": r.created_at, "decided_by": r.decided_by,
                });
                if r.kind == "document" {
                    item["document"] = r.subject_id.into();
                } else {
                    item["dataset"] = r.subject.clone().into();
                }
                item
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct Decision {
    approve: bool,
    #[serde(default)]
    note: String,
}

pub async fn decide(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    blocking(move || app.decide_access(&who, id, d.approve, &d.note)).await?;
    Ok(Json(
        serde_json::json!({ "id": id, "status": if d.approve { RequestStatus::Approved } else { RequestStatus::Refused } }),
    ))
}

#[derive(Deserialize, Default)]
pub struct Revocation {
    #[serde(default)]
    pub note: String,
}

/// Takes back an approved request; the body (a note) may be left out.
pub async fn revoke(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    body: Option<Json<Revocation>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let note = body.map(|b| b.0.note).unwrap_or_default();
    let app = state.0.clone();
    blocking(move || app.revoke_access(&who, id, &note)).await?;
    Ok(Json(
        serde_json::json!({ "id": id, "status": RequestStatus::Revoked }),
    ))
}
