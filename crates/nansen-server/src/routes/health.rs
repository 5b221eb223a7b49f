use crate::views::Health;
use axum::Json;

/// Is the server up?
#[utoipa::path(get, path = "/api/v1/health", tag = "service", operation_id = "health", security(()),
    responses((status = 200, description = "Up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service", operation_id = "openapi", security(()),
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub async fn openapi() -> Json<&'static serde_json::Value> {
    Json(crate::openapi::document())
}
