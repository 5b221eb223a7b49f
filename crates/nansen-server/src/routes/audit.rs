use super::{admitted, blocking, Address, AppState, SignedIn, Who};
use crate::error::ApiError;
use axum::extract::Query;
use axum::Json;
use nansen_app::Work;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Page {
    /// Entries after this one (0: from the start).
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// A page of the log, oldest first: `after` the last entry of the page before.
pub async fn log(
    state: AppState,
    Who(who): Who,
    Query(p): Query<Page>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let app = state.0.clone();
    let limit = p.limit.unwrap_or(1000).clamp(1, 10_000);
    let entries = blocking(move || app.audit_log_page(&who, p.after.max(0), limit)).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target,
                    "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
                    "hash": e.hash,
                })
            })
            .collect(),
    ))
}

/// Any signed-in person may check that the chain is intact; it reveals no entry. It reads the
/// whole chain, so it counts as an export against the caller's limits.
pub async fn verify(
    state: AppState,
    SignedIn(who): SignedIn,
    Address(address): Address,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    let permit = app.admit(&who, address, Work::Export)?;
    let result = admitted(&state.0, permit, move |app, _| app.verify_audit()).await?;
    Ok(Json(match result {
        Ok(r) => serde_json::json!({ "intact": true, "entries": r.entries, "head": r.head }),
        Err(b) => {
            serde_json::json!({ "intact": false, "first_bad_entry": b.seq, "reason": b.reason })
        }
    }))
}
