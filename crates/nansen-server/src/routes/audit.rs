use super::{blocking, AppState, Who};
use crate::error::ApiError;
use axum::Json;

pub async fn log(state: AppState, Who(who): Who) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let app = state.0.clone();
    let entries = blocking(move || app.audit_log(&who)).await?;
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

/// Anyone may check that the chain is intact; it reveals no entry.
pub async fn verify(state: AppState) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    let result = blocking(move || app.verify_audit()).await?;
    Ok(Json(match result {
        Ok(r) => serde_json::json!({ "intact": true, "entries": r.entries, "head": r.head }),
        Err(b) => serde_json::json!({ "intact": false, "first_bad_entry": b.seq, "reason": b.reason }),
    }))
}
