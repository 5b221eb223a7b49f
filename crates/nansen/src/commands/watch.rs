//! `nansen watch`: detection rules run on a dataset's series after every new version.

use super::Ctx;
use crate::output::{dims, Outcome};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum WatchCommand {
    /// Watch a series for an organisation (with --as); it is checked at once and on each new version.
    Add {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        /// A name people read
        #[arg(long)]
        name: String,
        /// Keep only these codes of a dimension (repeat for several dimensions)
        #[arg(long = "where", value_name = "DIM=V[,V]")]
        wheres: Vec<String>,
        /// The dimensions that make each series, comma-separated (geo, origin, ...)
        #[arg(long, value_name = "DIM[,DIM]")]
        series_by: Option<String>,
        /// NAME or NAME:PARAM=V,...; repeat for several.
        #[arg(long = "rule", value_name = "RULE", required = true)]
        rules: Vec<String>,
        /// How many periods ahead
        #[arg(long, default_value_t = 3)]
        horizon: usize,
        /// How many of the latest periods each check judges.
        #[arg(long, default_value_t = 3)]
        lookback: usize,
        /// The prediction interval, in per cent
        #[arg(long, default_value_t = 80.0)]
        level: f64,
        /// Partner organisations that may follow the watch.
        #[arg(long = "partner")]
        partners: Vec<String>,
    },
    /// The watches you may read.
    List,
    /// Check the watches that have not seen their dataset's latest version, evaluate the
    /// plans and send the webhooks that are due (the server does this every few seconds).
    Run,
}

impl WatchCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            WatchCommand::Add {
                dataset,
                org,
                name,
                wheres,
                series_by,
                rules,
                horizon,
                lookback,
                level,
                partners,
            } => {
                let spec = nansen_app::WatchSpec {
                    dataset,
                    wheres,
                    frequency: None,
                    series_by: dims(series_by.as_deref()),
                    rules: super::forecast::rules(&rules)?,
                    horizon,
                    lookback,
                    level,
                };
                let w = app.create_watch(who, &org, &name, spec, &partners)?;
                writeln!(out, "{}", w.id)?;
                let problem = if w.problem.is_empty() {
                    String::new()
                } else {
                    format!("; {}", w.problem)
                };
                eprintln!(
                    "watch {} checked at version {}: {} open alerts{problem}",
                    w.id, w.checked_version, w.open_alerts
                );
            }
            WatchCommand::List => {
                writeln!(out, "{}", serde_json::to_string_pretty(&app.watches(who)?)?)?;
            }
            WatchCommand::Run => print_round(&app.run_early_warning()?),
        }
        Ok(())
    }
}

/// What an early-warning round did, on stderr.
pub fn print_round(r: &nansen_app::WarningRound) {
    let raised: usize = r.checks.iter().map(|c| c.alerts.len()).sum();
    eprintln!(
        "early warning: {} watches checked, {raised} alerts raised, {} plans changed; webhooks {} delivered, {} to retry, {} failed",
        r.checks.len(), r.plans_changed.len(), r.deliveries.delivered, r.deliveries.retrying, r.deliveries.failed
    );
    for c in r.checks.iter().filter(|c| !c.problem.is_empty()) {
        eprintln!("  watch {}: {}", c.watch, c.problem);
    }
}
