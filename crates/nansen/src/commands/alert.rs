//! `nansen alert`: the alerts the watches raised.

use super::Ctx;
use crate::output::Outcome;
use clap::Subcommand;
use nansen_app::{AlertStatus, Tabular};

#[derive(Subcommand)]
pub enum AlertCommand {
    /// Alerts of the watches you may read, newest first.
    List {
        /// Only alerts in this status (new, acknowledged, resolved, false_alarm)
        #[arg(long)]
        status: Option<AlertStatus>,
    },
    /// Move an alert on, assign it, or comment on it.
    Update {
        /// Its number, as the list shows it
        id: i64,
        /// Move the alert on to this status (acknowledged, resolved, false_alarm)
        #[arg(long)]
        status: Option<AlertStatus>,
        /// An e-mail of the watching organisation; "" unassigns.
        #[arg(long)]
        assign: Option<String>,
        /// A comment to add, which the team reads
        #[arg(long)]
        comment: Option<String>,
    },
}

impl AlertCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            AlertCommand::List { status } => {
                Tabular::alerts(&app.alerts(who, status)?).write_csv(out)?;
            }
            AlertCommand::Update {
                id,
                status,
                assign,
                comment,
            } => {
                if status.is_some() || assign.is_some() {
                    let change = nansen_app::AlertChange {
                        status,
                        assignee: assign.map(|a| Some(a).filter(|a| !a.is_empty())),
                    };
                    let a = app.update_alert(who, id, &change)?;
                    let assigned = a
                        .assignee
                        .map(|a| format!(", assigned to {a}"))
                        .unwrap_or_default();
                    eprintln!("alert {id} is {}{assigned}", a.status);
                }
                if let Some(c) = comment {
                    app.comment_alert(who, id, &c)?;
                    eprintln!("comment added to alert {id}");
                }
            }
        }
        Ok(())
    }
}
