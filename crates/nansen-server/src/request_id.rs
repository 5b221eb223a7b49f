//! Every response carries `x-request-id`: the caller's, when it is a sane token, or a new
//! one. The request is logged in a span holding that id, with its route, status and time, so
//! a partner quoting the id finds the request in the logs of whichever node served it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// The caller's id when it is 1 to 64 letters, digits, `-`, `_` or `.`; otherwise none, so
/// nothing a caller sends reaches the logs unchecked.
fn sane(value: &HeaderValue) -> Option<String> {
    let v = value.to_str().ok()?;
    (!v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
    .then(|| v.to_string())
}

/// A new id: the process, the time and a counter, unique across the nodes of a deployment
/// for any practical purpose, and in order within one.
fn fresh() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:x}-{:x}-{:x}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn track(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(sane)
        .unwrap_or_else(fresh);
    let method = request.method().to_string();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            ms = took.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    crate::metrics::count(&method, &response, took);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}
