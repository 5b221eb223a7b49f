//! The HTTP API under `/api/v1`. Handlers are thin: they read the request, call the
//! application layer (where every permission is decided) and write JSON or files.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

mod error;
mod openapi;
mod routes;

pub use openapi::document as openapi_document;

use axum::Router;
use nansen_app::App;
use std::net::SocketAddr;
use std::sync::Arc;

/// The whole HTTP surface over one application.
pub fn router(app: Arc<App>) -> Router {
    routes::router(app)
}

/// Serves until the process is stopped; `ready` is told the bound address.
pub async fn serve(app: Arc<App>, bind: &str, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router(app).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
