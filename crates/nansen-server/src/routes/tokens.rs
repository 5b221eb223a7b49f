use super::{blocking, AppState, Who};
use crate::error::ApiError;
use axum::extract::Path;
use axum::Json;
use nansen_app::AppError;
use serde::Deserialize;

pub async fn list(
    state: AppState,
    Who(who): Who,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let app = state.0.clone();
    let tokens = blocking(move || app.tokens(&who)).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| serde_json::json!({ "id": t.id, "name": t.name, "created_at": t.created_at, "last_used_at": t.last_used_at, "revoked_at": t.revoked_at }))
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct NewToken {
    #[serde(default)]
    name: String,
}

/// A new token for the caller, shown once.
pub async fn create(
    state: AppState,
    Who(who): Who,
    Json(b): Json<NewToken>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    let app = state.0.clone();
    if who.user_id().is_none() {
        return Err(ApiError(AppError::Unauthorized));
    }
    let token = blocking(move || {
        let email = who.label.clone();
        app.create_token(&who, &email, &b.name)
    })
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "token": token })),
    ))
}

pub async fn revoke(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    blocking(move || app.revoke_token(&who, id)).await?;
    Ok(Json(serde_json::json!({ "id": id, "revoked": true })))
}
