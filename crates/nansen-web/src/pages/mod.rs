//! One module per part of the site.

pub mod account;
pub mod admin;
pub mod catalogue;
pub mod dataset;
pub mod documents;
pub mod explore;
pub mod upload;
pub mod warning;

use crate::error::WebError;
use nansen_app::{App, AppError};
use std::sync::Arc;

/// A form that carries nothing but the session's token (a button that acts).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// Runs application work off the async threads.
pub async fn blocking<T: Send + 'static>(app: &Arc<App>, f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static) -> Result<T, WebError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| WebError::App(AppError::BadRequest(format!("the request could not finish: {e}"))))?
        .map_err(WebError::App)
}

/// A redirect after a form, so that reloading the next page does not send it again.
pub fn see_other(to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (axum::http::StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to.to_string())]).into_response()
}

/// `ORG/SLUG` split, or a clear refusal.
pub fn split_name(name: &str) -> Result<(String, String), WebError> {
    name.split_once('/')
        .filter(|(o, s)| !o.is_empty() && !s.is_empty())
        .map(|(o, s)| (o.to_string(), s.to_string()))
        .ok_or_else(|| WebError::Form(format!("choose a dataset (ORG/SLUG), not {name:?}")))
}
