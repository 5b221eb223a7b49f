//! `nansen access`: requests for access to listed datasets and documents, and their answers.

use super::Ctx;
use crate::output::{dataset_name, Outcome};
use clap::Subcommand;
use nansen_app::Subject;

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Ask for the data of a listed dataset, or the text of a listed document (with --as).
    Request {
        /// The dataset, as ORG/SLUG
        #[arg(required_unless_present = "document", conflicts_with = "document")]
        dataset: Option<String>,
        /// The document's number, instead of a dataset
        #[arg(long)]
        document: Option<i64>,
        /// Why you need access, for whoever answers
        #[arg(long)]
        reason: String,
    },
    /// Requests the caller made or may decide, datasets' and documents' alike: number,
    /// subject (ORG/SLUG, or document:ID), organisation, person, status, reason.
    List,
    /// Approve a request (admins of the owner).
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
            AccessCommand::Request {
                dataset,
                document,
                reason,
            } => {
                let subject = match (dataset, document) {
                    (_, Some(id)) => Subject::Document(id),
                    (Some(d), None) => {
                        let name = dataset_name(&d)?;
                        Subject::Dataset(name)
                    }
                    (None, None) => unreachable!("clap requires one"),
                };
                writeln!(out, "{}", app.request_access(who, &subject, &reason)?)?;
            }
            AccessCommand::List => {
                for r in app.access_requests(who)? {
                    let subject = if r.kind == "document" {
                        format!("document:{}", r.subject_id)
                    } else {
                        r.subject
                    };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.id, subject, r.org, r.user_email, r.status, r.reason
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
