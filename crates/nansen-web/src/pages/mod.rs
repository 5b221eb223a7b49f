//! One module per part of the site.

pub mod account;
pub mod admin;
pub mod catalogue;
pub mod dataset;
pub mod documents;
pub mod explore;
pub mod matching;
pub mod operations;
pub mod reporting;
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
pub async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, WebError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| {
            WebError::App(AppError::BadRequest(format!(
                "the request could not finish: {e}"
            )))
        })?
        .map_err(WebError::App)
}

/// Runs admitted work off the async threads, holding the permit until the work ends and
/// cancelling it if the client goes away first (this future is then dropped). The API's
/// routes run their work through it too.
pub async fn run_admitted<T: Send + 'static>(
    app: &Arc<App>,
    permit: nansen_app::Permit,
    f: impl FnOnce(&App, &nansen_app::Budget) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let guard = permit.budget().cancel_on_drop();
    let app = app.clone();
    let out = tokio::task::spawn_blocking(move || {
        let permit = permit;
        f(&app, permit.budget())
    })
    .await
    .map_err(|e| AppError::BadRequest(format!("the request could not finish: {e}")))
    .and_then(|r| r);
    guard.disarm();
    out
}

pub async fn admitted<T: Send + 'static>(
    app: &Arc<App>,
    permit: nansen_app::Permit,
    f: impl FnOnce(&App, &nansen_app::Budget) -> Result<T, AppError> + Send + 'static,
) -> Result<T, WebError> {
    run_admitted(app, permit, f).await.map_err(WebError::App)
}

/// The address a request came from, for the limits of those not signed in.
pub struct Address(pub Option<std::net::IpAddr>);

#[axum::async_trait]
impl axum::extract::FromRequestParts<Arc<crate::Web>> for Address {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        web: &Arc<crate::Web>,
    ) -> Result<Address, WebError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(Address(crate::session::client_address(
            &parts.headers,
            peer,
            &web.app,
        )))
    }
}

/// The most fields a form of ours sends, and the longest text in one.
pub const MAX_FIELDS: usize = 64;
pub const MAX_FIELD_BYTES: usize = 64 << 10;

/// A text field of a multipart form, refused past [`MAX_FIELD_BYTES`] instead of held whole.
pub async fn text_field(mut part: axum::extract::multipart::Field<'_>) -> Result<String, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part
        .chunk()
        .await
        .map_err(|e| WebError::Form(format!("the form did not arrive whole: {e}")))?
    {
        if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(WebError::Form(format!(
                "the field {:?} is longer than this form takes ({} KB)",
                part.name().unwrap_or(""),
                MAX_FIELD_BYTES >> 10
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| WebError::Form("a field of the form is not UTF-8 text".into()))
}

/// A redirect after a form, so that reloading the next page does not send it again.
pub fn see_other(to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, to.to_string())],
    )
        .into_response()
}

/// A dataset chosen in a form, as `ORG/SLUG`, or a clear refusal.
pub fn dataset_name(name: &str) -> Result<nansen_model::DatasetName, WebError> {
    name.parse().map_err(WebError::Form)
}
