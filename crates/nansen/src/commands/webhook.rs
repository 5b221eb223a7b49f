//! `nansen webhook`: signed notices sent to partners' systems.

use super::Ctx;
use crate::output::Outcome;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Subscribe an organisation to a watch's alerts or a dataset's new versions; prints the signing secret.
    Add {
        /// Where to POST the notices (https)
        url: String,
        /// The organisation that subscribes
        #[arg(long)]
        org: String,
        /// Send this watch's alerts
        #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
        watch: Option<i64>,
        /// Send this dataset's new versions
        #[arg(long, value_name = "ORG/SLUG")]
        dataset: Option<String>,
    },
    /// Subscriptions of the organisations you administer, with their deliveries.
    List,
}

impl WebhookCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            WebhookCommand::Add {
                url,
                org,
                watch,
                dataset,
            } => {
                let target = match (watch, dataset) {
                    (Some(w), _) => nansen_app::HookTarget::Watch(w),
                    (None, Some(d)) => nansen_app::HookTarget::Dataset(d),
                    (None, None) => unreachable!("clap requires one"),
                };
                let (h, secret) = app.subscribe(who, &org, &target, &url)?;
                writeln!(out, "{secret}")?;
                eprintln!("webhook {} for {org}: keep the secret above to check the X-Nansen-Signature of each delivery", h.id);
            }
            WebhookCommand::List => {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&app.webhooks(who)?)?
                )?;
            }
        }
        Ok(())
    }
}
