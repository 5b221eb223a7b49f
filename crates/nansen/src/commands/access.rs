//! `nansen access`: requests for the data of listed datasets, and their answers.

use super::Ctx;
use crate::output::{split_name, Outcome};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Ask for the data of a listed dataset (with --as).
    Request {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// Why you need access, for whoever answers
        #[arg(long)]
        reason: String,
    },
    /// Requests the caller made or may decide.
    List,
    /// Approve a request.
    Approve {
        /// The request's number, as the access list shows it
        id: i64,
    },
    /// Refuse a request.
    Refuse {
        /// Its number, as the list shows it
        id: i64,
        /// A note for the person who asked
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Take back an approved request: the organisation reads the data no more.
    Revoke {
        /// Its number, as the list shows it
        id: i64,
        /// A note for the person who asked
        #[arg(long, default_value = "")]
        note: String,
    },
}

impl AccessCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            AccessCommand::Request { dataset, reason } => {
                let (org, slug) = split_name(&dataset)?;
                writeln!(out, "{}", app.request_access(who, &org, &slug, &reason)?)?;
            }
            AccessCommand::List => {
                for (dataset, r) in app.access_requests(who)? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.id, dataset, r.org, r.user_email, r.status, r.reason
                    )?;
                }
            }
            AccessCommand::Approve { id } => app.decide_access(who, id, true, "")?,
            AccessCommand::Refuse { id, note } => app.decide_access(who, id, false, &note)?,
            AccessCommand::Revoke { id, note } => app.revoke_access(who, id, &note)?,
        }
        Ok(())
    }
}
