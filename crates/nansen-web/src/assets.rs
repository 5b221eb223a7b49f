//! The bundled assets (see build.rs) and our own stylesheet, served from the binary.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const APP_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/app.js"));
const WORLD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/world.json"));
const STYLE: &str = include_str!("style.css");

/// Whether the chart bundle was built into this binary.
pub fn charts_built() -> bool {
    !APP_JS.is_empty()
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind): (&[u8], &str) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "world.json" => (WORLD, "application/json"),
        "style.css" => (STYLE.as_bytes(), "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if body.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
