//! Routes, one file per resource, and the one extractor that says who is asking.

mod access;
mod audit;
mod datasets;
mod documents;
mod health;
mod tokens;
mod warning;

use crate::error::ApiError;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use nansen_app::{App, AppError, Caller};
use std::sync::Arc;

pub type AppState = State<Arc<App>>;

/// Runs blocking application work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError(AppError::BadRequest(format!(
                "the request could not finish: {e}"
            )))
        })?
        .map_err(ApiError)
}

/// Runs work under a permit from [`App::admit`] (see `nansen_web::run_admitted`).
pub async fn admitted<T: Send + 'static>(
    app: &Arc<App>,
    permit: nansen_app::Permit,
    f: impl FnOnce(&App, &nansen_app::Budget) -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    nansen_web::run_admitted(app, permit, f)
        .await
        .map_err(ApiError)
}

/// The network address a request came from: the peer, or the address a trusted proxy
/// says it forwarded for. Limits for callers who are not signed in are kept per address.
pub struct Address(pub Option<std::net::IpAddr>);

#[axum::async_trait]
impl FromRequestParts<Arc<App>> for Address {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Address, ApiError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(Address(nansen_web::client_address(
            &parts.headers,
            peer,
            app,
        )))
    }
}

/// Streams a request body to a temporary file under the data directory, refusing it past
/// `max` bytes; called only once the caller is known to be allowed to send it.
pub async fn receive_file(
    app: &App,
    body: axum::body::Body,
    max: u64,
    too_large: impl Fn(u64) -> String,
) -> Result<tempfile::NamedTempFile, ApiError> {
    use futures_util::StreamExt;
    use std::io::Write;
    let cannot = |e: std::io::Error| {
        ApiError(AppError::Store(nansen_app::StoreError::DataDir {
            path: "uploads".into(),
            source: e,
        }))
    };
    let tmp_dir = app.uploads_dir().map_err(ApiError)?;
    let mut file = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(cannot)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| crate::error::bad_request(format!("the upload was interrupted: {e}")))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(ApiError(AppError::TooLarge(too_large(max))));
        }
        file.write_all(&chunk).map_err(cannot)?;
    }
    Ok(file)
}

/// The caller: a bearer token's user, or anonymous with no token. A token that is wrong,
/// revoked or malformed is refused rather than treated as anonymous.
pub struct Who(pub Caller);

#[axum::async_trait]
impl FromRequestParts<Arc<App>> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Who, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Who(Caller::anonymous()));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .ok_or(ApiError(AppError::Unauthorized))?;
        let app = app.clone();
        Ok(Who(blocking(move || app.authenticate_token(&token)).await?))
    }
}

/// A caller signed in with a token that names a person; anyone else is answered 401 before
/// the handler runs, so no handler that needs a person can forget to ask.
pub struct SignedIn(pub Caller);

#[axum::async_trait]
impl FromRequestParts<Arc<App>> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<SignedIn, ApiError> {
        let Who(who) = Who::from_request_parts(parts, app).await?;
        if matches!(who.principal, nansen_model::Principal::Anonymous) {
            return Err(ApiError(AppError::Unauthorized));
        }
        Ok(SignedIn(who))
    }
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/v1/health", get(health::health))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/api/v1/openapi.json", get(health::openapi))
        .route("/api/v1/datasets", get(datasets::list))
        .route("/api/v1/datasets/:org/:slug", get(datasets::show))
        .route(
            "/api/v1/datasets/:org/:slug/versions",
            post(datasets::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/datasets/:org/:slug/uploads",
            post(datasets::stage).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/uploads/:id",
            get(datasets::upload).delete(datasets::discard),
        )
        .route("/api/v1/uploads/:id/confirm", post(datasets::confirm))
        .route(
            "/api/v1/datasets/:org/:slug/versions/:number/redact",
            post(datasets::redact),
        )
        .route(
            "/api/v1/datasets/:org/:slug/observations",
            get(datasets::observations),
        )
        .route("/api/v1/datasets/:org/:slug/flows", get(datasets::flows))
        .route("/api/v1/compare", get(datasets::compare))
        .route("/api/v1/datasets/:org/:slug/export", get(datasets::export))
        .route(
            "/api/v1/datasets/:org/:slug/set-aside",
            get(datasets::set_aside),
        )
        .route("/api/v1/datasets/:org/:slug/sharing", post(datasets::share))
        .route(
            "/api/v1/datasets/:org/:slug/metadata",
            post(datasets::describe),
        )
        .route(
            "/api/v1/datasets/:org/:slug/access-requests",
            post(access::request_dataset),
        )
        .route("/api/v1/access-requests", get(access::list))
        .route("/api/v1/access-requests/:id/decision", post(access::decide))
        .route("/api/v1/access-requests/:id/revoke", post(access::revoke))
        .route("/api/v1/audit", get(audit::log))
        .route("/api/v1/audit/verify", get(audit::verify))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/:id/revoke", post(tokens::revoke))
        .route(
            "/api/v1/datasets/:org/:slug/forecast",
            get(warning::forecast),
        )
        .route(
            "/api/v1/datasets/:org/:slug/backtest",
            get(warning::backtest),
        )
        .route(
            "/api/v1/watches",
            get(warning::watches).post(warning::create_watch),
        )
        .route("/api/v1/watches/:id", get(warning::watch))
        .route("/api/v1/alerts", get(warning::alerts))
        .route(
            "/api/v1/alerts/:id",
            get(warning::alert).post(warning::update_alert),
        )
        .route("/api/v1/alerts/:id/comments", post(warning::comment))
        .route(
            "/api/v1/webhooks",
            get(warning::webhooks).post(warning::subscribe),
        )
        .route(
            "/api/v1/webhooks/:id",
            axum::routing::delete(warning::unsubscribe),
        )
        .route(
            "/api/v1/plans",
            get(warning::plans).post(warning::create_plan),
        )
        .route("/api/v1/plans/:id", get(warning::plan))
        .route("/api/v1/plans/:id/actions/:n", post(warning::tick))
        .route(
            "/api/v1/documents",
            get(documents::list)
                .post(documents::add)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/documents/:id", get(documents::show))
        .route(
            "/api/v1/documents/:id/versions",
            post(documents::add_version).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/documents/:id/file", get(documents::file))
        .route("/api/v1/documents/:id/text", get(documents::text))
        .route("/api/v1/documents/:id/sharing", post(documents::share))
        .route("/api/v1/documents/:id/metadata", post(documents::describe))
        .route(
            "/api/v1/documents/:id/access-requests",
            post(access::request_document),
        )
        .route("/api/v1/search", get(documents::search))
        .route("/api/v1/search/reindex", post(documents::reindex))
        .with_state(app.clone())
        .layer(axum::middleware::from_fn(errors_as_json))
        .merge(nansen_web::router(app))
        .route_layer(axum::middleware::from_fn(crate::metrics::mark_route))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(nansen_web::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(crate::request_id::track))
}

/// The framework's own refusals (a body that is not JSON, a query string that does not
/// parse, a wrong content type) answer in plain text; under the API every error is the
/// documented JSON, so they are rewritten here, in one place.
async fn errors_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status().as_u16() < 400 || json {
        return res;
    }
    let status = res.status();
    let text = match axum::body::to_bytes(res.into_body(), 64 << 10).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let code = match status.as_u16() {
        413 => "too_large",
        415 | 422 | 400 => "bad_request",
        405 => "method_not_allowed",
        _ => "error",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    (
        status,
        axum::Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// A bug that panicked while answering: logged, and answered like any internal error rather
/// than with a closed connection. (Every panic found this way is a bug to fix.)
fn panicked(e: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let what = e
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request panicked");
    let body = serde_json::json!({ "error": { "code": "internal", "message": "something went wrong on the server; it has been logged" } });
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(body),
    )
        .into_response()
}

/// An unknown address: JSON under the API, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        ApiError(AppError::NotFound("this address".into())).into_response()
    } else {
        nansen_web::not_found_page().await
    }
}
