//! `GET /metrics`: what this process did, in the Prometheus (OpenMetrics) text format, for
//! platform operators and for the addresses `nansen serve --metrics-from` names. Requests are
//! counted here, by method, route (the route's pattern, never the path a caller typed) and
//! status, with latency histograms; the rest comes from the app's counters at each scrape.

use crate::error::ApiError;
use crate::routes::{blocking, Address, AppState, Who};
use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nansen_app::AppError;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;

/// Seconds: from a cached query to a large export.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

fn latency() -> Histogram {
    Histogram::new(BUCKETS)
}

struct Requests {
    count: Family<Labels, Counter>,
    seconds: Family<Labels, Histogram, fn() -> Histogram>,
}

/// One per process, as the process is what Prometheus scrapes.
static REQUESTS: LazyLock<Requests> = LazyLock::new(|| Requests {
    count: Family::default(),
    seconds: Family::new_with_constructor(latency),
});

/// The route a request matched, handed from inside the router to the layer that counts.
#[derive(Clone)]
struct Route(String);

/// Inside the router, where the matched route is known: keeps it on the response.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut response = next.run(request).await;
    if let Some(r) = route {
        response.extensions_mut().insert(Route(r));
    }
    response
}

/// Counts a request once it is answered.
pub fn count(method: &str, response: &Response, took: Duration) {
    let route = response
        .extensions()
        .get::<Route>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    let by_route: Labels = vec![("method", method.to_string()), ("route", route)];
    let mut by_status = by_route.clone();
    by_status.push(("status", status));
    REQUESTS.count.get_or_create(&by_status).inc();
    REQUESTS
        .seconds
        .get_or_create(&by_route)
        .observe(took.as_secs_f64());
}

/// `GET /metrics`
pub async fn metrics(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
) -> Result<Response, ApiError> {
    let app = state.clone();
    let figures = blocking(move || {
        if !app.may_read_metrics(&who, address)? {
            // Nothing about the process for whoever may not read it; a caller who is not
            // signed in is asked to.
            return Err(match who.email() {
                None => AppError::Unauthorized,
                Some(_) => AppError::NotFound("this address".into()),
            });
        }
        app.operating_figures()
    })
    .await?;
    let mut r = Registry::default();
    r.register(
        "nansen_http_requests",
        "HTTP requests answered, by method, route and status",
        REQUESTS.count.clone(),
    );
    r.register(
        "nansen_http_request_duration_seconds",
        "Time to answer, by method and route",
        REQUESTS.seconds.clone(),
    );
    r.register(
        "nansen_imports",
        "Imports: landed as a version, only checked (dry runs, staged uploads), refused",
        by_outcome([
            ("landed", figures.imports_landed),
            ("checked", figures.imports_checked),
            ("refused", figures.imports_refused),
        ]),
    );
    r.register(
        "nansen_import_rows",
        "Rows read by imports that were not refused",
        counter(figures.import_rows),
    );
    r.register(
        "nansen_import_seconds",
        "Time spent importing",
        seconds(figures.import_seconds),
    );
    let (rounds, failed, spent) = (
        Family::<Labels, Counter>::default(),
        Family::<Labels, Counter>::default(),
        Family::<Labels, Counter<f64, AtomicU64>>::default(),
    );
    for (job, f) in &figures.jobs {
        let l = vec![("job", job.name().to_string())];
        rounds.get_or_create(&l).inc_by(f.rounds);
        failed.get_or_create(&l).inc_by(f.failed);
        spent.get_or_create(&l).inc_by(f.seconds);
    }
    r.register("nansen_job_rounds", "Background job rounds", rounds);
    r.register(
        "nansen_job_failures",
        "Background job rounds that failed",
        failed,
    );
    r.register(
        "nansen_job_seconds",
        "Time spent in background job rounds",
        spent,
    );
    r.register(
        "nansen_webhook_deliveries",
        "Webhook delivery attempts, by outcome",
        by_outcome([
            ("delivered", figures.webhooks_delivered),
            ("retrying", figures.webhooks_retrying),
            ("failed", figures.webhooks_failed),
        ]),
    );
    r.register(
        "nansen_search_lag_entries",
        "Search outbox entries this node's index has not applied yet",
        gauge(figures.search_lag),
    );
    r.register(
        "nansen_cube_cache_cubes",
        "Cubes held in memory",
        gauge(figures.cubes_cached),
    );
    r.register(
        "nansen_cube_cache_observations",
        "Observations in the cubes held in memory",
        gauge(figures.cube_observations_cached),
    );
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &r);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// One counter per outcome, labelled `outcome`.
fn by_outcome(counts: [(&str, u64); 3]) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    for (outcome, n) in counts {
        family
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc_by(n);
    }
    family
}

fn counter(n: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(n);
    c
}

fn seconds(s: f64) -> Counter<f64, AtomicU64> {
    let c = Counter::<f64, AtomicU64>::default();
    c.inc_by(s);
    c
}

fn gauge(n: u64) -> Gauge {
    let g = Gauge::default();
    g.set(n as i64);
    g
}
