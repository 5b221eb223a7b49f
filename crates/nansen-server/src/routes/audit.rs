use super::{admitted, blocking, Address, AppState, SignedIn, Who};
use crate::error::ApiError;
use crate::openapi::{BadRequest, Forbidden, Limited, Unauthorized};
use crate::views::{self, AuditCheck, AuditEntry};
use axum::extract::Query;
use axum::Json;
use nansen_app::Work;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Entries after this one (0: from the start).
    #[serde(default)]
    after: i64,
    /// At most this many entries (1000 without it, 10000 at most).
    #[param(maximum = 10000)]
    limit: Option<i64>,
}

/// The audit log, oldest first (the operator: all; an organisation's admins: their datasets).
///
/// `after` the last entry of the page before.
#[utoipa::path(get, path = "/api/v1/audit", tag = "access", operation_id = "auditLog",
    params(Page),
    responses((status = 200, description = "Entries, oldest first", body = Vec<AuditEntry>),
        BadRequest, Unauthorized, Forbidden))]
pub async fn log(
    state: AppState,
    Who(who): Who,
    Query(p): Query<Page>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let app = state.0.clone();
    let limit = p.limit.unwrap_or(1000).clamp(1, 10_000);
    let entries = blocking(move || app.audit_log_page(&who, p.after.max(0), limit)).await?;
    Ok(Json(views::all(entries)))
}

/// Is the audit chain unbroken, untruncated and not rewritten? It reveals no entry.
///
/// Any signed-in person may ask. It reads the whole chain, so it counts as an export against
/// the caller's limits.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "access", operation_id = "verifyAudit",
    responses((status = 200, description = "The result", body = AuditCheck), Unauthorized, Limited))]
pub async fn verify(
    state: AppState,
    SignedIn(who): SignedIn,
    Address(address): Address,
) -> Result<Json<AuditCheck>, ApiError> {
    let app = state.0.clone();
    let permit = app.admit(&who, address, Work::Export)?;
    let result = admitted(&state.0, permit, move |app, _| app.verify_audit()).await?;
    Ok(Json(result.into()))
}
