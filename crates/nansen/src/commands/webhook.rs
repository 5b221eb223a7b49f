//! `nansen webhook`: signed notices sent to partners' systems.

use super::Ctx;
use crate::output::Outcome;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Subscribe an organisation to a watch's alerts, a dataset's new versions or a template's reminders; prints the signing secret.
    Add {
        /// Where to POST the notices (https)
        url: String,
        /// The organisation that subscribes
        #[arg(long)]
        org: String,
        /// Send this watch's alerts
        #[arg(long, conflicts_with_all = ["dataset", "template"], required_unless_present_any = ["dataset", "template"])]
        watch: Option<i64>,
        /// Send this dataset's new versions
        #[arg(long, value_name = "ORG/SLUG", conflicts_with = "template")]
        dataset: Option<String>,
        /// Send this reporting template's reminders (to its owner, or to a reporter its own)
        #[arg(long, value_name = "ORG/SLUG")]
        template: Option<String>,
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
                template,
            } => {
                let target = match (watch, dataset, template) {
                    (Some(w), _, _) => nansen_app::HookTarget::Watch(w),
                    (None, Some(d), _) => nansen_app::HookTarget::Dataset(d),
                    (None, None, Some(t)) => nansen_app::HookTarget::Template(t),
                    (None, None, None) => unreachable!("clap requires one"),
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
