//! `nansen demo` and `nansen serve`.

use super::Globals;
use crate::output::{Failure, Outcome};
use clap::Args;
use nansen_app::App;
use std::sync::Arc;

#[derive(Args)]
pub struct DemoArgs {
    /// The address and port to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Build the data directory and stop, without serving.
    #[arg(long)]
    no_serve: bool,
}

impl DemoArgs {
    pub fn exec(self, g: &Globals) -> Outcome {
        eprintln!("building the demo in {}", g.data_dir.display());
        let (app, sign_ins) = crate::demo::build(&g.data_dir, g.database_url.as_deref())?;
        eprintln!(
            "Demo sign-ins (also in {}):\n{sign_ins}",
            g.data_dir.join("demo-sign-ins.txt").display()
        );
        if self.no_serve {
            return Ok(());
        }
        // Reminders are recorded and shown on the template's page; no e-mail leaves a demo.
        app.set_reminders(nansen_app::ReminderSettings {
            mailer: None,
            public_url: format!("http://{}", self.bind),
        });
        serve(app, &self.bind, g)
    }
}

#[derive(Args)]
pub struct ServeArgs {
    /// The address and port to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Let webhooks reach loopback and private addresses (an internal deployment).
    #[arg(long)]
    allow_private_webhooks: bool,
    /// A reverse proxy in front whose X-Forwarded-For is believed (for per-address limits);
    /// repeat for several.
    #[arg(long = "trusted-proxy", value_name = "ADDR")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// An address that may read GET /metrics without a token (a Prometheus server); repeat
    /// for several. Without it only platform operators read the metrics.
    #[arg(long = "metrics-from", value_name = "ADDR")]
    metrics_from: Vec<std::net::IpAddr>,
    #[command(flatten)]
    mail: super::template::MailArgs,
}

impl ServeArgs {
    pub fn exec(self, g: &Globals) -> Outcome {
        let app = App::open(&g.data_dir, g.database_url.as_deref()).map_err(|e| {
            Failure::Other(anyhow::anyhow!(
                "cannot open the data in {}: {e}",
                g.data_dir.display()
            ))
        })?;
        app.set_webhook_policy(nansen_app::WebhookPolicy {
            allow_private: self.allow_private_webhooks,
            ..Default::default()
        });
        app.set_trusted_proxies(self.trusted_proxies);
        app.set_metrics_readers(self.metrics_from);
        app.set_reminders(self.mail.settings(&format!("http://{}", self.bind))?);
        serve(Arc::new(app), &self.bind, g)
    }
}

fn serve(app: Arc<App>, bind: &str, g: &Globals) -> Outcome {
    crate::start_logs(g.log_format);
    // Files being received when an earlier run stopped; staged uploads live in the database.
    let cleared = app.clear_uploads()?;
    if cleared > 0 {
        eprintln!("removed {cleared} upload files left by an earlier run");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(nansen_server::serve(app, bind, |addr| {
        eprintln!("Nansen is serving on http://{addr}/ (API under /api/v1, OpenAPI at /api/v1/openapi.json)");
    }))?;
    Ok(())
}
