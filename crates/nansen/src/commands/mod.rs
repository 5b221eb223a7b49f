//! One module per command: its arguments, and an `exec` that asks the app and prints.

mod access;
mod admin;
mod alert;
mod dataset;
mod doc;
mod forecast;
mod import;
mod matching;
mod operations;
mod org;
mod plan;
mod query;
mod search;
mod serve;
mod template;
mod watch;
mod webhook;

use crate::output::{Failure, Outcome};
use clap::Subcommand;
use nansen_app::{App, Caller};
use std::io::Write;
use std::path::PathBuf;

/// What every command runs with: the options before the command.
pub struct Globals {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub as_user: Option<String>,
    pub log_format: crate::LogFormat,
}

/// The caller and the app a command works with, and where it prints its answer.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub who: &'a Caller,
    pub out: &'a mut dyn Write,
}

#[derive(Subcommand)]
pub enum Command {
    /// A fresh data directory with the bundled real data and demo accounts, then serve.
    Demo(serve::DemoArgs),
    /// Serve the web and the API.
    Serve(serve::ServeArgs),
    /// Organisations: add one (platform operators).
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Users and their memberships and roles.
    #[command(subcommand)]
    User(org::UserCommand),
    /// API tokens for scripts and partners' systems.
    #[command(subcommand)]
    Token(org::TokenCommand),
    /// Datasets: import, show, export, share, describe, list, redact.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Ask a dataset a question.
    Query(query::QueryArgs),
    /// Flows from origin (through a transit or route) to destination, for a Sankey diagram.
    Flows(query::FlowArgs),
    /// The same indicator from several datasets side by side, with the differences.
    Compare(query::CompareArgs),
    /// Forecast each series of a dataset, with prediction intervals.
    Forecast(forecast::ForecastArgs),
    /// Rolling-origin backtest of the forecasting models on each series.
    Backtest(forecast::BacktestArgs),
    /// Run detection rules (c1, c2, c3, farrington, cusum) over each series.
    Detect(forecast::DetectArgs),
    /// Watches: detection rules run on a dataset's series after every new version.
    #[command(subcommand)]
    Watch(watch::WatchCommand),
    /// Alerts the watches raised: list, show, assign, move on, comment.
    #[command(subcommand)]
    Alert(alert::AlertCommand),
    /// Webhooks: signed notices of new versions and alerts sent to partners' systems.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Contingency plans: scenarios set against reception capacity.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Documents: reports, methodologies, country-of-origin information, minutes, training.
    #[command(subcommand)]
    Doc(doc::DocCommand),
    /// Search documents and datasets (as the --as user sees them).
    Search(search::SearchArgs),
    /// Rebuild this node's search index from the database.
    Reindex,
    /// Copy the database, the keys and the audit head into DIR while the system runs
    /// (SQLite's online backup; for PostgreSQL, pg_dump). Keep DIR as secret as the data.
    Backup(admin::BackupArgs),
    /// Restore a backup into a fresh --data-dir (and, for a PostgreSQL backup, the empty
    /// database of --database-url); verifies the audit chain and rebuilds the search index.
    Restore(admin::RestoreArgs),
    /// Requests for access to listed datasets and documents, and their answers.
    #[command(subcommand)]
    Access(access::AccessCommand),
    /// Programmes of operations: resettlement, humanitarian admission, relocation, return,
    /// family reunification.
    #[command(subcommand)]
    Programme(operations::ProgrammeCommand),
    /// Places receiving states pledge in a programme.
    #[command(subcommand)]
    Pledge(operations::PledgeCommand),
    /// Cases: households registered in a programme, moved through its stages, referred.
    #[command(subcommand)]
    Case(operations::CaseCommand),
    /// The installation's case keys, kept outside the database.
    #[command(subcommand)]
    Keys(operations::KeysCommand),
    /// The audit log: read it, and verify its hash chain.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Matching households to the places states pledged.
    #[command(subcommand)]
    Match(matching::MatchCommand),
    /// Reporting templates: what a regular data collection asks for, from whom, and when.
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Submit a reporter's return for a period (an editor or admin of a reporting
    /// organisation); prints the submission's id on its last line.
    Submit(template::SubmitArgs),
    /// Submissions to a template.
    #[command(subcommand)]
    Submission(template::SubmissionCommand),
    /// Who reported which period of a template on time: reporter, period, status
    /// (approved, submitted, has-issues, overdue, open), submitted_at, days_late.
    Completeness(template::CompletenessArgs),
    /// Send the reminders owed today to reporters that have sent nothing (the server does
    /// so every five minutes); each is sent once, and printed.
    Remind(template::RemindArgs),
}

impl Command {
    /// Whether the person asked for JSON, so that a failure is written as JSON too.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Dataset(d) => d.wants_json(),
            Command::Query(q) => q.wants_json(),
            Command::Flows(f) => f.wants_json(),
            Command::Compare(c) => c.wants_json(),
            Command::Forecast(f) => f.wants_json(),
            Command::Backtest(b) => b.wants_json(),
            Command::Detect(d) => d.wants_json(),
            Command::Doc(d) => d.wants_json(),
            Command::Search(s) => s.wants_json(),
            Command::Case(c) => c.wants_json(),
            Command::Match(m) => m.wants_json(),
            _ => false,
        }
    }

    pub fn exec(self, g: &Globals) -> Outcome {
        // These start before, or without, an open data directory.
        let command = match self {
            Command::Demo(a) => return a.exec(g),
            Command::Restore(a) => return a.exec(g),
            Command::Serve(a) => return a.exec(g),
            Command::Match(m) => match m.solve() {
                Ok(done) => return done,
                Err(m) => Command::Match(m),
            },
            other => other,
        };
        let app = App::open(&g.data_dir, g.database_url.as_deref()).map_err(|e| {
            Failure::Other(anyhow::anyhow!(
                "cannot open the data in {}: {e}",
                g.data_dir.display()
            ))
        })?;
        let who = match &g.as_user {
            Some(email) => app.act_as(email)?,
            None => Caller::operator(),
        };
        let ctx = Ctx {
            app: &app,
            who: &who,
            out: &mut std::io::stdout().lock(),
        };
        match command {
            Command::Demo(_) | Command::Restore(_) | Command::Serve(_) => {
                unreachable!("started above")
            }
            Command::Match(c) => c.exec(ctx),
            Command::Template(c) => c.exec(ctx),
            Command::Submit(c) => c.exec(ctx),
            Command::Submission(c) => c.exec(ctx),
            Command::Completeness(c) => c.exec(ctx),
            Command::Remind(c) => c.exec(ctx),
            Command::Org(c) => c.exec(ctx),
            Command::User(c) => c.exec(ctx),
            Command::Token(c) => c.exec(ctx),
            Command::Dataset(c) => c.exec(ctx),
            Command::Query(c) => c.exec(ctx),
            Command::Flows(c) => c.exec(ctx),
            Command::Compare(c) => c.exec(ctx),
            Command::Forecast(c) => c.exec(ctx),
            Command::Backtest(c) => c.exec(ctx),
            Command::Detect(c) => c.exec(ctx),
            Command::Watch(c) => c.exec(ctx),
            Command::Alert(c) => c.exec(ctx),
            Command::Webhook(c) => c.exec(ctx),
            Command::Plan(c) => c.exec(ctx),
            Command::Doc(c) => c.exec(ctx),
            Command::Search(c) => c.exec(ctx),
            Command::Reindex => admin::reindex(ctx),
            Command::Backup(c) => c.exec(ctx),
            Command::Access(c) => c.exec(ctx),
            Command::Programme(c) => c.exec(ctx),
            Command::Pledge(c) => c.exec(ctx),
            Command::Case(c) => c.exec(ctx),
            Command::Keys(c) => c.exec(ctx),
            Command::Audit(c) => c.exec(ctx),
        }
    }
}
