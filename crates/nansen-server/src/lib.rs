//! The HTTP API under `/api/v1`. Handlers are thin: they read the request, call the
//! application layer (where every permission is decided) and write JSON or files.

mod error;
mod metrics;
mod openapi;
mod request_id;
mod routes;
mod unread_body;
mod views;

pub use openapi::document as openapi_document;

use axum::Router;
use nansen_app::{App, Job};
use std::net::SocketAddr;
use std::sync::Arc;

/// The whole HTTP surface over one application.
pub fn router(app: Arc<App>) -> Router {
    routes::router(app)
}

/// How often the server checks watches, evaluates plans and sends due webhooks.
pub const EARLY_WARNING_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the early-warning round in a thread of its own, every `every`, for the life of the
/// process: watches and plans in one thread, webhook deliveries in another, so a slow
/// subscriber never holds up the checks. A round that fails is reported and tried again next
/// time; nothing is lost, as the work is found from the database each round.
pub fn spawn_early_warning(app: Arc<App>, every: std::time::Duration) {
    let hooks = app.clone();
    std::thread::spawn(move || loop {
        let started = std::time::Instant::now();
        let span = tracing::info_span!("job round", job = Job::Webhooks.name()).entered();
        let round = hooks.deliver_webhooks();
        hooks.count_round(Job::Webhooks, started.elapsed(), round.is_ok());
        match round {
            Ok(d) if d != Default::default() => {
                hooks.count_deliveries(&d);
                tracing::info!(
                    delivered = d.delivered,
                    retrying = d.retrying,
                    failed = d.failed,
                    "webhooks sent"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "webhooks"),
        }
        drop(span);
        std::thread::sleep(every);
    });
    std::thread::spawn(move || loop {
        let started = std::time::Instant::now();
        let span = tracing::info_span!("job round", job = Job::EarlyWarning.name()).entered();
        let round = app
            .refresh_pipelines()
            .and_then(|_| app.run_watches())
            .and_then(|checks| Ok((checks, app.evaluate_plans()?)));
        app.count_round(Job::EarlyWarning, started.elapsed(), round.is_ok());
        match round {
            Ok((checks, plans_changed)) => {
                let raised: usize = checks.iter().map(|c| c.alerts.len()).sum();
                if !checks.is_empty() || !plans_changed.is_empty() {
                    tracing::info!(
                        watches = checks.len(),
                        alerts = raised,
                        plans = plans_changed.len(),
                        "early-warning round"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "early-warning round"),
        }
        drop(span);
        std::thread::sleep(every);
    });
}

/// How often this node's search index follows the outbox between searches.
pub const SEARCH_FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps this node's search index close behind the outbox, so a search rarely has to wait
/// for it; a search still catches up itself before it answers.
pub fn spawn_search_follower(app: Arc<App>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        let started = std::time::Instant::now();
        let span = tracing::info_span!("job round", job = Job::Search.name()).entered();
        let round = app.catch_up_search();
        app.count_round(Job::Search, started.elapsed(), round.is_ok());
        if let Err(e) = round {
            tracing::error!(error = %e, "search index");
        }
        drop(span);
        std::thread::sleep(every);
    });
}

/// How often the server erases cases past their programme's retention period.
pub const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs the retention job in a thread of its own, every `every`: expired cases are found
/// from the database each round, so a round that fails or a process stopped loses nothing.
pub fn spawn_retention(app: Arc<App>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        let started = std::time::Instant::now();
        let span = tracing::info_span!("job round", job = Job::Retention.name()).entered();
        let round = app.run_retention();
        app.count_round(Job::Retention, started.elapsed(), round.is_ok());
        match round {
            Ok(erased) if !erased.is_empty() => {
                tracing::info!(erased = erased.len(), "cases past retention erased")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention"),
        }
        drop(span);
        std::thread::sleep(every);
    });
}

/// How often the server looks for reminders owed to reporters.
pub const REMINDERS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Sends the reminders owed today in a thread of its own, every `every`: what was sent is
/// recorded before it goes, so a round repeated, failed or run by two servers sends each
/// reminder once.
pub fn spawn_reminders(app: Arc<App>, every: std::time::Duration) {
    std::thread::spawn(move || loop {
        let started = std::time::Instant::now();
        let span = tracing::info_span!("job round", job = Job::Reminders.name()).entered();
        let round = app.send_reminders(nansen_model::Timestamp::now().day());
        app.count_round(Job::Reminders, started.elapsed(), round.is_ok());
        match round {
            Ok(sent) if !sent.is_empty() => tracing::info!(sent = sent.len(), "reminders"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reminders"),
        }
        drop(span);
        std::thread::sleep(every);
    });
}

/// Serves until the process is stopped; `ready` is told the bound address.
pub async fn serve(
    app: Arc<App>,
    bind: &str,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    spawn_early_warning(app.clone(), EARLY_WARNING_EVERY);
    spawn_search_follower(app.clone(), SEARCH_FOLLOW_EVERY);
    spawn_retention(app.clone(), RETENTION_EVERY);
    spawn_reminders(app.clone(), REMINDERS_EVERY);
    let listener = tokio::net::TcpListener::bind(bind).await?;
    ready(listener.local_addr()?);
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
