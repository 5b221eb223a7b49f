//! Routes, one file per resource, and the one extractor that says who is asking.

mod access;
mod audit;
mod cases;
mod datasets;
mod documents;
mod gathering;
mod health;
mod matching;
mod tokens;
mod warning;

use crate::error::ApiError;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::Router;
use nansen_app::{App, AppError, Caller};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

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

/// A dataset, `ORG/SLUG`, in a route's path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DatasetPath {
    #[param(example = "euaa")]
    pub org: String,
    #[param(example = "asylum-monthly")]
    pub slug: String,
}

/// A numbered resource (document, watch, alert, plan, request, token, webhook) in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    #[param(example = 1)]
    pub id: i64,
}

/// Every route of the API, each with its documentation: the router and the OpenAPI document
/// are both split from this one list, so neither can name a route the other lacks. Routes
/// whose body is a file take it in a stream, past axum's default limit, and bound it
/// themselves.
pub(crate) fn api() -> OpenApiRouter<Arc<App>> {
    let file_body = || DefaultBodyLimit::disable();
    OpenApiRouter::with_openapi(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::openapi))
        .routes(routes!(datasets::list))
        .routes(routes!(datasets::show))
        .routes(routes!(datasets::import).layer(file_body()))
        .routes(routes!(datasets::stage).layer(file_body()))
        .routes(routes!(datasets::upload, datasets::discard))
        .routes(routes!(datasets::confirm))
        .routes(routes!(datasets::redact))
        .routes(routes!(datasets::observations))
        .routes(routes!(datasets::flows))
        .routes(routes!(datasets::compare))
        .routes(routes!(datasets::export))
        .routes(routes!(datasets::set_aside))
        .routes(routes!(datasets::share))
        .routes(routes!(datasets::describe))
        .routes(routes!(access::request_dataset))
        .routes(routes!(access::list))
        .routes(routes!(access::decide))
        .routes(routes!(access::revoke))
        .routes(routes!(audit::log))
        .routes(routes!(audit::verify))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(warning::forecast))
        .routes(routes!(warning::backtest))
        .routes(routes!(warning::watches, warning::create_watch))
        .routes(routes!(warning::watch))
        .routes(routes!(warning::alerts))
        .routes(routes!(warning::alert, warning::update_alert))
        .routes(routes!(warning::comment))
        .routes(routes!(warning::webhooks, warning::subscribe))
        .routes(routes!(warning::unsubscribe))
        .routes(routes!(warning::plans, warning::create_plan))
        .routes(routes!(warning::plan))
        .routes(routes!(warning::tick))
        .routes(routes!(documents::list, documents::add).layer(file_body()))
        .routes(routes!(documents::show))
        .routes(routes!(documents::add_version).layer(file_body()))
        .routes(routes!(documents::file))
        .routes(routes!(documents::text))
        .routes(routes!(documents::share))
        .routes(routes!(documents::describe))
        .routes(routes!(access::request_document))
        .routes(routes!(documents::search))
        .routes(routes!(documents::reindex))
        .routes(routes!(cases::programmes, cases::add_programme))
        .routes(routes!(cases::programme))
        .routes(routes!(cases::set_stages))
        .routes(routes!(cases::pledges, cases::set_pledge))
        .routes(routes!(cases::cases, cases::add_case))
        .routes(routes!(cases::case))
        .routes(routes!(cases::pipeline))
        .routes(routes!(cases::transition))
        .routes(routes!(cases::match_case))
        .routes(routes!(cases::approve))
        .routes(routes!(cases::assign))
        .routes(routes!(cases::consent))
        .routes(routes!(cases::follow_up))
        .routes(routes!(cases::attach).layer(file_body()))
        .routes(routes!(cases::case_document))
        .routes(routes!(cases::refer))
        .routes(routes!(cases::referrals))
        .routes(routes!(cases::accept))
        .routes(routes!(cases::decline))
        .routes(routes!(cases::specific_needs))
        .routes(routes!(matching::proposals, matching::propose))
        .routes(routes!(matching::proposal))
        .routes(routes!(matching::proposed_case))
        .routes(routes!(matching::accept))
        .routes(routes!(matching::settings, matching::set_settings))
        .routes(routes!(matching::set_scores, matching::clear_scores))
        .routes(routes!(gathering::templates))
        .routes(routes!(gathering::template, gathering::put_template))
        .routes(routes!(gathering::workbook))
        .routes(routes!(gathering::export))
        .routes(
            routes!(gathering::submissions, gathering::submit)
                .layer(DefaultBodyLimit::max(gathering::MAX_RETURN_BYTES)),
        )
        .routes(routes!(gathering::approve_all))
        .routes(routes!(gathering::completeness))
        .routes(routes!(gathering::reminders))
        .routes(routes!(gathering::submission))
        .routes(routes!(gathering::comment))
        .routes(routes!(gathering::approve))
        .routes(routes!(gathering::reject))
}

pub fn router(app: Arc<App>) -> Router {
    let (api, _) = api().split_for_parts();
    api.route("/metrics", get(crate::metrics::metrics))
        .with_state(app.clone())
        .layer(axum::middleware::from_fn(errors_as_json))
        .merge(nansen_web::router(app))
        .route_layer(axum::middleware::from_fn(crate::metrics::mark_route))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(nansen_web::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(
            crate::unread_body::close_when_unread,
        ))
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
        axum::Json(crate::views::ErrorBody::new(code, message)),
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
    let body = crate::views::ErrorBody::new(
        "internal",
        "something went wrong on the server; it has been logged",
    );
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Query routes read their own query strings (`where` repeats); what each accepts is
    /// exactly what the document lists for it.
    #[test]
    fn query_routes_accept_exactly_the_parameters_the_document_lists() {
        let doc = crate::openapi::document();
        for (path, own) in [
            (
                "/api/v1/datasets/{org}/{slug}/observations",
                &super::datasets::OBSERVATION_PARAMS[..],
            ),
            (
                "/api/v1/datasets/{org}/{slug}/flows",
                &super::datasets::FLOW_PARAMS[..],
            ),
            ("/api/v1/compare", &super::datasets::COMPARE_PARAMS[..]),
            (
                "/api/v1/datasets/{org}/{slug}/forecast",
                &super::warning::FORECAST_PARAMS[..],
            ),
            (
                "/api/v1/datasets/{org}/{slug}/backtest",
                &super::warning::BACKTEST_PARAMS[..],
            ),
        ] {
            let documented: BTreeSet<&str> = doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap_or_else(|| panic!("{path} is documented with parameters"))
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            let accepted: BTreeSet<&str> = super::datasets::QUERY_PARAMS
                .iter()
                .chain(own)
                .copied()
                .collect();
            assert_eq!(documented, accepted, "{path}");
        }
    }

    /// Every API route is registered through `routes!`, which takes its path and method from
    /// the handler's `#[utoipa::path]` (a handler without one does not compile there); a route
    /// added with a bare `.route(` would be served and not documented. Only the metrics,
    /// outside the API, are.
    #[test]
    fn api_routes_are_registered_only_with_their_documentation() {
        let source = include_str!("mod.rs");
        let bare: Vec<&str> = source
            .match_indices(".route(\"")
            .filter_map(|(i, m)| source[i + m.len()..].split('"').next())
            .collect();
        assert_eq!(bare, ["/metrics"]);
        let paths = crate::openapi::document()["paths"].as_object().unwrap();
        assert!(paths.keys().all(|p| p.starts_with("/api/v1/")));
    }
}
