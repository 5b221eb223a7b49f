//! What an operator watches a process do: imports, job rounds, webhook deliveries, how far
//! the search index is behind and what the cube cache holds. Plain counters here; the server
//! writes them as Prometheus text at `GET /metrics`, for whom `may_read_metrics` lets in.

use crate::{App, Caller, DeliveryReport, ImportReport, Result};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The background jobs whose rounds are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Watches checked and plans evaluated.
    EarlyWarning,
    /// Due webhooks sent.
    Webhooks,
    /// The search index brought up to the outbox.
    Search,
    /// Cases past their programme's retention period erased, owed key rotations done.
    Retention,
    /// Reporters reminded of returns due or overdue.
    Reminders,
}

impl Job {
    pub const ALL: [Job; 5] = [
        Job::EarlyWarning,
        Job::Webhooks,
        Job::Search,
        Job::Retention,
        Job::Reminders,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::EarlyWarning => "early_warning",
            Job::Webhooks => "webhooks",
            Job::Search => "search",
            Job::Retention => "retention",
            Job::Reminders => "reminders",
        }
    }
}

#[derive(Default)]
struct JobCounts {
    rounds: AtomicU64,
    failed: AtomicU64,
    micros: AtomicU64,
}

/// Counted since the process started.
#[derive(Default)]
pub(crate) struct Counters {
    imports_landed: AtomicU64,
    imports_checked: AtomicU64,
    imports_refused: AtomicU64,
    import_rows: AtomicU64,
    import_micros: AtomicU64,
    jobs: [JobCounts; Job::ALL.len()],
    delivered: AtomicU64,
    retrying: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    pub(crate) fn import(&self, result: &Result<ImportReport>, took: Duration) {
        self.import_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
        let outcome = match result {
            Ok(r) => {
                self.import_rows.fetch_add(r.rows, Relaxed);
                if r.dry_run {
                    &self.imports_checked
                } else {
                    &self.imports_landed
                }
            }
            Err(_) => &self.imports_refused,
        };
        outcome.fetch_add(1, Relaxed);
    }
}

/// A job's rounds since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JobFigures {
    pub rounds: u64,
    pub failed: u64,
    pub seconds: f64,
}

/// The figures at one moment.
#[derive(Clone, Debug)]
pub struct OperatingFigures {
    /// Imports that made a version, that only checked a file (dry runs and staged uploads),
    /// and that were refused.
    pub imports_landed: u64,
    pub imports_checked: u64,
    pub imports_refused: u64,
    /// Rows read by imports that were not refused, and the time all imports took.
    pub import_rows: u64,
    pub import_seconds: f64,
    pub jobs: Vec<(Job, JobFigures)>,
    pub webhooks_delivered: u64,
    pub webhooks_retrying: u64,
    pub webhooks_failed: u64,
    /// Outbox entries this node's search index has not applied yet.
    pub search_lag: u64,
    /// Cubes held in memory, and their observations.
    pub cubes_cached: u64,
    pub cube_observations_cached: u64,
}

impl App {
    /// Records one round of a background job.
    pub fn count_round(&self, job: Job, took: Duration, ok: bool) {
        let c = &self.counters.jobs[job as usize];
        c.rounds.fetch_add(1, Relaxed);
        c.micros.fetch_add(took.as_micros() as u64, Relaxed);
        if !ok {
            c.failed.fetch_add(1, Relaxed);
        }
    }

    /// Records what a webhook round sent.
    pub fn count_deliveries(&self, d: &DeliveryReport) {
        let c = &self.counters;
        c.delivered.fetch_add(d.delivered as u64, Relaxed);
        c.retrying.fetch_add(d.retrying as u64, Relaxed);
        c.failed.fetch_add(d.failed as u64, Relaxed);
    }

    /// The addresses that may read `/metrics` without signing in (a Prometheus server);
    /// none by default, not even loopback.
    pub fn set_metrics_readers(&self, readers: Vec<IpAddr>) {
        *self
            .metrics_readers
            .write()
            .unwrap_or_else(|p| p.into_inner()) = readers;
    }

    /// Platform operators, and callers from a configured address.
    pub fn may_read_metrics(&self, who: &Caller, from: Option<IpAddr>) -> Result<bool> {
        let listed = from.is_some_and(|a| {
            self.metrics_readers
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&a)
        });
        Ok(listed || self.is_operator(who)?)
    }

    pub fn operating_figures(&self) -> Result<OperatingFigures> {
        let c = &self.counters;
        let index = self.search_index()?;
        let head = self.store.search_outbox_head()?;
        let search_lag = (head - index.applied()?).max(0) as u64;
        let (cubes_cached, cube_observations_cached) = {
            let cubes = self.cubes.lock().unwrap_or_else(|p| p.into_inner());
            let observations = cubes.values().map(|c| c.len() as u64).sum();
            (cubes.len() as u64, observations)
        };
        let micros = |a: &AtomicU64| a.load(Relaxed) as f64 / 1e6;
        Ok(OperatingFigures {
            imports_landed: c.imports_landed.load(Relaxed),
            imports_checked: c.imports_checked.load(Relaxed),
            imports_refused: c.imports_refused.load(Relaxed),
            import_rows: c.import_rows.load(Relaxed),
            import_seconds: micros(&c.import_micros),
            jobs: Job::ALL
                .iter()
                .map(|&j| {
                    let jc = &c.jobs[j as usize];
                    let figures = JobFigures {
                        rounds: jc.rounds.load(Relaxed),
                        failed: jc.failed.load(Relaxed),
                        seconds: micros(&jc.micros),
                    };
                    (j, figures)
                })
                .collect(),
            webhooks_delivered: c.delivered.load(Relaxed),
            webhooks_retrying: c.retrying.load(Relaxed),
            webhooks_failed: c.failed.load(Relaxed),
            search_lag,
            cubes_cached,
            cube_observations_cached,
        })
    }
}
