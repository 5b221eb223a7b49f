use super::{blocking, AppState, IdPath, Who};
use crate::error::ApiError;
use crate::openapi::{BadBody, BadRequest, NotFound, NotJson, Unauthorized};
use crate::views::{self, NewTokenSecret, Token, TokenRevoked};
use axum::extract::Path;
use axum::Json;
use nansen_app::AppError;
use serde::Deserialize;

/// The caller's tokens; never their secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", operation_id = "listTokens",
    responses((status = 200, description = "Tokens", body = Vec<Token>), Unauthorized))]
pub async fn list(state: AppState, Who(who): Who) -> Result<Json<Vec<Token>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(blocking(move || app.tokens(&who)).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// What the token is for.
    #[serde(default)]
    #[schema(example = "nightly export")]
    name: String,
}

/// A new token for the caller, shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", operation_id = "createToken",
    request_body = NewToken,
    responses((status = 201, description = "The token, shown once", body = NewTokenSecret),
        BadRequest, Unauthorized, NotJson, BadBody))]
pub async fn create(
    state: AppState,
    Who(who): Who,
    Json(b): Json<NewToken>,
) -> Result<(axum::http::StatusCode, Json<NewTokenSecret>), ApiError> {
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
        Json(NewTokenSecret { token }),
    ))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "access", operation_id = "revokeToken",
    params(IdPath),
    responses((status = 200, description = "Revoked", body = TokenRevoked), BadRequest, Unauthorized, NotFound))]
pub async fn revoke(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<TokenRevoked>, ApiError> {
    let app = state.0.clone();
    blocking(move || app.revoke_token(&who, id)).await?;
    Ok(Json(TokenRevoked { id, revoked: true }))
}
