//! `nansen`: the server, the CLI and the jobs, in one thin binary over `nansen-app`.

mod dataset_show;
mod demo;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use nansen_app::{App, AppError, Caller, ImportRequest, Progress};
use nansen_formats::{ExportFormat, Format, ImportOptions, Mapping};
use nansen_model::{Query, Role, Sharing};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "nansen",
    version,
    about = "Data exchange and analysis for the EU asylum agency, IOM and their partners"
)]
struct Cli {
    /// The data directory (SQLite database, audit head, uploads).
    #[arg(
        long,
        global = true,
        default_value = "./nansen-data",
        env = "NANSEN_DATA_DIR"
    )]
    data_dir: PathBuf,
    /// A postgres:// URL; without it the embedded SQLite database in the data directory is used.
    #[arg(long, global = true, env = "NANSEN_DATABASE_URL")]
    database_url: Option<String>,
    /// Run with exactly this user's permissions (audited as the operator acting as them).
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    as_user: Option<String>,
    /// How the server writes its logs to stderr: text for people, json for a log collector.
    /// Which are written: NANSEN_LOG (info, warn, nansen_server=debug, ...; info by default)
    #[arg(long, global = true, env = "NANSEN_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

/// The server's logs (requests with their ids, early-warning rounds, internal errors) on
/// stderr; commands that do not serve write none.
fn start_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NANSEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        logs.json().try_init()
    } else {
        logs.try_init()
    };
}

#[derive(Subcommand)]
enum Command {
    /// A fresh data directory with the bundled real data and demo accounts, then serve.
    Demo {
        /// The address and port to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Build the data directory and stop, without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Serve the web and the API.
    Serve {
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
    },
    /// Organisations: add one (platform operators).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users and their memberships and roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for scripts and partners' systems.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Datasets: import, show, export, share, describe, list, redact.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Ask a dataset a question.
    Query(QueryArgs),
    /// Flows from origin (through a transit or route) to destination, for a Sankey diagram.
    Flows(FlowArgs),
    /// The same indicator from several datasets side by side, with the differences.
    Compare(CompareArgs),
    /// Forecast each series of a dataset, with prediction intervals.
    Forecast(ForecastArgs),
    /// Rolling-origin backtest of the forecasting models on each series.
    Backtest(BacktestArgs),
    /// Run detection rules (c1, c2, c3, farrington, cusum) over each series.
    Detect(DetectArgs),
    /// Watches: detection rules run on a dataset's series after every new version.
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Alerts the watches raised: list, show, assign, move on, comment.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Webhooks: signed notices of new versions and alerts sent to partners' systems.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Contingency plans: scenarios set against reception capacity.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Documents: reports, methodologies, country-of-origin information, minutes, training.
    #[command(subcommand)]
    Doc(DocCommand),
    /// Search documents and datasets (as the --as user sees them).
    Search(SearchArgs),
    /// Rebuild this node's search index from the database.
    Reindex,
    /// Copy the database, the keys and the audit head into DIR while the system runs
    /// (SQLite's online backup; for PostgreSQL, pg_dump). Keep DIR as secret as the data.
    Backup {
        /// The directory to write the backup into (created; must not exist yet)
        dir: PathBuf,
    },
    /// Restore a backup into a fresh --data-dir (and, for a PostgreSQL backup, the empty
    /// database of --database-url); verifies the audit chain and rebuilds the search index.
    Restore {
        /// The backup directory `nansen backup` wrote
        dir: PathBuf,
    },
    /// Requests for access to listed datasets and documents, and their answers.
    #[command(subcommand)]
    Access(AccessCommand),
    /// The audit log: read it, and verify its hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Its short name, in the ORG/SLUG names of what it owns: lower-case letters, digits, - and _
        slug: String,
        /// A name people read
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (or a membership of an existing user). The password is the first line of
    /// stdin when stdin is not a terminal; otherwise one is generated and printed.
    Add {
        /// The person's e-mail address, which is also how they sign in
        email: String,
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        /// What the person may do in the organisation
        #[arg(long, value_parser = ["admin", "editor", "analyst", "viewer"])]
        role: String,
        /// Also make the user a platform operator (adds organisations and members of any).
        #[arg(long)]
        operator: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; prints only the token.
    Create {
        /// The person's e-mail address, which is also how they sign in
        email: String,
        /// A name people read
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Import a file as a new version of ORG/SLUG (all or nothing).
    Import(ImportArgs),
    /// Write a version's observations.
    Export {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// The version (the latest without it)
        #[arg(long)]
        version: Option<i64>,
        /// The file format to write: csv, hxl, sdmx-csv, json, xlsx or parquet
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to FILE instead of standard output
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// The rows an import set aside (--set-aside), as they came, with the reason: CSV
    SetAside {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// The version (the latest without it)
        #[arg(long)]
        version: Option<i64>,
        /// Write to FILE instead of standard output
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// What a dataset is: its description, dimensions and their codes, periods and versions.
    Show {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// text, or json (the dataset as the API gives it, with its coverage)
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// List the datasets the caller may see.
    List {
        /// How to print: text for people, json for scripts
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Change who sees a dataset.
    Share {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// Who sees it: private, listed, public or partners:ORG[,ORG]
        #[arg(long)]
        share: String,
        /// Sensitive: small counts are suppressed for everyone outside the owner
        #[arg(long)]
        sensitive: Option<bool>,
        /// Counts below this are suppressed outside the owner when the dataset is sensitive
        #[arg(long)]
        threshold: Option<i64>,
    },
    /// Change what a dataset says about itself (editors and admins of the owner).
    Describe {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// Its title, as the catalogue shows it
        #[arg(long)]
        title: Option<String>,
        /// What it holds, in a few sentences
        #[arg(long)]
        description: Option<String>,
        /// Who published the data
        #[arg(long)]
        source: Option<String>,
        /// How the data were collected and what they count
        #[arg(long)]
        methodology: Option<String>,
        /// The licence the data may be reused under
        #[arg(long)]
        licence: Option<String>,
        /// How often it is updated: daily, weekly, monthly, quarterly, annual, irregular.
        #[arg(long)]
        frequency: Option<String>,
        /// Comma-separated tags.
        #[arg(long)]
        tags: Option<String>,
    },
    /// Destroy one version's data; its metadata and audit entries stay.
    Redact {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// The version to redact
        #[arg(long)]
        version: i64,
    },
}

#[derive(Args)]
struct ImportArgs {
    /// The file to read
    file: PathBuf,
    /// The dataset, as ORG/SLUG
    #[arg(long)]
    dataset: String,
    /// The organisation (its short name)
    #[arg(long)]
    org: String,
    /// The file's layout: auto (recognise it), csv, hxl, sdmx-csv, eurostat, unhcr, dtm-json, missing-migrants, xlsx, xls, json or parquet
    #[arg(long, default_value = "auto")]
    format: String,
    /// A mapping file (TOML) saying what each column is, for a layout Nansen does not recognise (docs/mapping.md)
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// What the file counts, when the file does not say (an indicator of the vocabulary)
    #[arg(long)]
    indicator: Option<String>,
    /// The spreadsheet's sheet to read (the first without it)
    #[arg(long)]
    sheet: Option<String>,
    /// Add these rows to the latest version instead of replacing its content
    #[arg(long)]
    append: bool,
    /// Check the file and show what would change, saving nothing
    #[arg(long)]
    dry_run: bool,
    /// Who sees it: private, listed, public or partners:ORG[,ORG]
    #[arg(long)]
    share: Option<String>,
    /// Its title, as the catalogue shows it
    #[arg(long)]
    title: Option<String>,
    /// Sensitive: small counts are suppressed for everyone outside the owner
    #[arg(long)]
    sensitive: bool,
    /// Map a source value to a code for this import: DIM:VALUE=CODE.
    #[arg(long, value_name = "DIM:VALUE=CODE")]
    recode: Vec<String>,
    /// Keep an unknown code as it is for this import: DIM:VALUE.
    #[arg(long, value_name = "DIM:VALUE")]
    accept: Vec<String>,
    /// Keep the rows that fail out of the import instead of refusing the file; the version
    /// records how many and why, and `dataset set-aside` gives them back as they came
    #[arg(long)]
    set_aside: bool,
    /// How to print the report and any refusal.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    report: String,
}

#[derive(Args)]
struct QueryArgs {
    /// The dataset, as ORG/SLUG
    dataset: String,
    /// Keep only these codes of a dimension (repeat for several dimensions)
    #[arg(long = "where", value_name = "DIM=V[,V]")]
    wheres: Vec<String>,
    /// Only periods in this range (2015..2016, 2015-01..2015-06, 2015..)
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// Dimensions to group the answer by, comma-separated (period, geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    group_by: Option<String>,
    /// How to print the answer
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
    /// Ask this version (the latest without it)
    #[arg(long)]
    version: Option<i64>,
    /// sum (default), count, min or max.
    #[arg(long)]
    measure: Option<String>,
    /// Group periods at a coarser frequency: month, quarter or year.
    #[arg(long)]
    frequency: Option<String>,
    /// Only the N largest groups, then one OTHERS row.
    #[arg(long)]
    top: Option<usize>,
    /// Each value becomes the sum of its last N periods (12 for a rolling year of months).
    #[arg(long, value_name = "N")]
    rolling: Option<usize>,
    /// Add the change on the previous period or on the same period a year earlier.
    #[arg(long, value_parser = ["previous", "year"])]
    change: Option<String>,
    /// A derived indicator: recognition_rate, rejection_rate, share_of_total, rate_per_100k.
    #[arg(long, value_name = "CODE")]
    derived: Option<String>,
    /// The population dataset for rate_per_100k.
    #[arg(long, value_name = "ORG/SLUG")]
    per_capita: Option<String>,
    /// Each member's share of this aggregate (EU28: "Germany, 35% of the EU"), with the
    /// group-by dimension's members only; implies --derived share_of_total
    #[arg(long, value_name = "AGGREGATE")]
    share_of: Option<String>,
    /// Add a flags column after the value: the source's flags, and `incomplete` where the
    /// data covers only part of a period
    #[arg(long)]
    flags: bool,
    /// Write the answer to FILE, with FILE.meta.json beside it: dataset, version, source,
    /// licence, unit and the question that made it
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct FlowArgs {
    /// The dataset, as ORG/SLUG
    dataset: String,
    /// Keep only these codes of a dimension (repeat for several dimensions)
    #[arg(long = "where", value_name = "DIM=V[,V]")]
    wheres: Vec<String>,
    /// Only periods in this range (2015..2016, 2015-01..2015-06, 2015..)
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// A transit or route dimension between origin and destination.
    #[arg(long, value_name = "DIM")]
    via: Option<String>,
    /// How to print the answer
    #[arg(long, default_value = "json", value_parser = ["csv", "json"])]
    format: String,
}

#[derive(Args)]
struct CompareArgs {
    /// Two or more datasets holding the same indicator.
    #[arg(required = true, num_args = 2..)]
    datasets: Vec<String>,
    /// Keep only these codes of a dimension (repeat for several dimensions)
    #[arg(long = "where", value_name = "DIM=V[,V]")]
    wheres: Vec<String>,
    /// Only periods in this range (2015..2016, 2015-01..2015-06, 2015..)
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// Dimensions to group the answer by, comma-separated (period, geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    group_by: Option<String>,
    /// Add up to a coarser frequency first: month, quarter or year
    #[arg(long)]
    frequency: Option<String>,
    /// How to print the answer
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

/// Which series of which dataset: what forecasting, backtesting and detection share.
#[derive(Args)]
struct Selection {
    /// The dataset, as ORG/SLUG
    dataset: String,
    /// Keep only these codes of a dimension (repeat for several dimensions)
    #[arg(long = "where", value_name = "DIM=V[,V]")]
    wheres: Vec<String>,
    /// The history to use.
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// Add up to a coarser frequency first: month, quarter or year
    #[arg(long)]
    frequency: Option<String>,
    /// How to print the answer
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

impl Selection {
    fn json(&self) -> bool {
        self.format == "json"
    }

    /// The dataset's owner and slug, and the query that selects the series.
    fn query(&self) -> Result<(String, String, Query)> {
        let (org, slug) = split_name(&self.dataset)?;
        let query = Query::parse(&self.wheres, self.period.as_deref(), None)
            .and_then(|q| q.with_options(None, self.frequency.as_deref(), None))
            .map_err(|e| fail(e.into(), self.json()))?;
        Ok((org, slug, query))
    }
}

/// What forecasting and backtesting share: which series, and how far ahead.
#[derive(Args)]
struct SeriesArgs {
    #[command(flatten)]
    selection: Selection,
    /// How many periods ahead
    #[arg(long)]
    horizon: usize,
}

impl SeriesArgs {
    fn json(&self) -> bool {
        self.selection.json()
    }

    fn request(
        &self,
        series_by: Vec<String>,
    ) -> Result<(String, String, nansen_app::SeriesRequest)> {
        let (org, slug, query) = self.selection.query()?;
        Ok((
            org,
            slug,
            nansen_app::SeriesRequest {
                query,
                series_by,
                horizon: self.horizon,
            },
        ))
    }
}

#[derive(Args)]
struct ForecastArgs {
    #[command(flatten)]
    series: SeriesArgs,
    /// One series per combination of these dimensions' values (none: one series).
    #[arg(long, value_name = "DIM[,DIM]")]
    series_by: Option<String>,
    /// Of the prediction interval, in per cent.
    #[arg(long, default_value_t = 80.0)]
    level: f64,
    /// auto, naive, snaive, ets, theta or pooled.
    #[arg(long, default_value = "auto")]
    model: String,
}

#[derive(Args)]
struct BacktestArgs {
    #[command(flatten)]
    series: SeriesArgs,
    /// The dimensions that make each series, comma-separated (geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    series_by: String,
    /// How many rolling origins to test on
    #[arg(long)]
    windows: usize,
    /// auto, all, or one of naive, snaive, ets, theta, pooled.
    #[arg(long, default_value = "auto")]
    model: String,
    /// Also write every forecast beside its actual value to this CSV file.
    #[arg(long, value_name = "FILE")]
    details: Option<PathBuf>,
}

#[derive(Args)]
struct DetectArgs {
    #[command(flatten)]
    selection: Selection,
    /// The dimensions that make each series, comma-separated (geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    series_by: Option<String>,
    /// NAME or NAME:PARAM=V,PARAM=V; repeat for several (default: all five with their defaults).
    #[arg(long = "rule", value_name = "RULE")]
    rules: Vec<String>,
    /// Judge every period from this one on (default: the last period only).
    #[arg(long, value_name = "PERIOD")]
    from: Option<String>,
    /// Only the periods that alarm.
    #[arg(long)]
    alarms: bool,
}

#[derive(Subcommand)]
enum WatchCommand {
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

#[derive(Subcommand)]
enum AlertCommand {
    /// Alerts of the watches you may read, newest first.
    List {
        /// Only alerts in this status (open, acknowledged, resolved, false_alarm)
        #[arg(long)]
        status: Option<String>,
    },
    /// Move an alert on, assign it, or comment on it.
    Update {
        /// Its number, as the list shows it
        id: i64,
        /// Move the alert on to this status
        #[arg(long, value_parser = ["acknowledged", "resolved", "false_alarm"])]
        status: Option<String>,
        /// An e-mail of the watching organisation; "" unassigns.
        #[arg(long)]
        assign: Option<String>,
        /// A comment to add, which the team reads
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
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

#[derive(Subcommand)]
enum PlanCommand {
    /// Write a contingency plan from a JSON file of triggers and actions.
    Add {
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        /// The plan's title
        #[arg(long)]
        title: String,
        /// The scenario the plan answers, in words ("arrivals by sea double within a month")
        #[arg(long, default_value = "")]
        scenario: String,
        /// {"triggers": [...], "actions": [...]}, as in the API.
        #[arg(long)]
        file: PathBuf,
    },
    /// Plans of your organisations: whether each is triggered, why, and since when.
    List,
    /// Tick (or with --undo untick) action N, from 1, of a plan's checklist.
    Tick {
        /// The plan's number
        plan: i64,
        /// The action's number within the plan
        action: usize,
        /// Mark it not done again
        #[arg(long)]
        undo: bool,
    },
}

fn rules(list: &[String]) -> Result<Vec<nansen_forecast::detect::Rule>> {
    let names: Vec<String> = if list.is_empty() {
        nansen_forecast::detect::RULES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        list.to_vec()
    };
    names
        .iter()
        .map(|r| nansen_forecast::detect::Rule::parse(r).map_err(|e| anyhow!("{e}")))
        .collect()
}

fn dims(list: Option<&str>) -> Vec<String> {
    list.map(|l| {
        l.split(',')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

#[derive(Subcommand)]
enum AccessCommand {
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

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum DocCommand {
    /// Add a document (PDF, DOCX, ODT, HTML, Markdown or text) with its first version.
    Add {
        /// The file to read
        file: PathBuf,
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        #[command(flatten)]
        fields: DocumentFields,
        /// private, listed, public or partners:SLUG[,SLUG].
        #[arg(long)]
        share: Option<String>,
        /// How to print: text for people, json for scripts
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// A new version of a document's file.
    Version {
        /// The document's number
        id: i64,
        /// The file of the new version
        file: PathBuf,
    },
    /// Change what is said about a document; what is not given stays.
    Describe {
        /// Its number, as the list shows it
        id: i64,
        #[command(flatten)]
        fields: DocumentFields,
    },
    /// Documents the caller may know of.
    List {
        /// How to print: text for people, json for scripts
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// A document's metadata and versions, as JSON.
    Show {
        /// The document's number
        id: i64,
    },
    /// The text read out of a version, page by page.
    Text {
        /// Its number, as the list shows it
        id: i64,
        /// The version (the latest without it)
        #[arg(long)]
        version: Option<i64>,
    },
    /// Write a version's file.
    Get {
        /// Its number, as the list shows it
        id: i64,
        /// The version (the latest without it)
        #[arg(long)]
        version: Option<i64>,
        /// Without it, the file's own name in the current directory.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Change who sees a document.
    Share {
        /// The document's number
        id: i64,
        /// Who sees it: private, listed, public or partners:ORG[,ORG]
        share: String,
    },
    /// Ask for the text of a listed document (with --as).
    Request {
        /// Its number, as the list shows it
        id: i64,
        /// Why you need access, for whoever answers
        #[arg(long)]
        reason: String,
    },
    /// Document access requests the caller made or may decide.
    Requests,
    /// Approve a document access request.
    Approve {
        /// The request's number, as the access list shows it
        request: i64,
    },
    /// Refuse a document access request.
    Refuse {
        /// The request's number, as the access list shows it
        request: i64,
        /// A note for the person who asked
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Take back an approved document access request.
    Revoke {
        /// The request's number, as the access list shows it
        request: i64,
        /// A note for the person who asked
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// What is said about a document, on adding it or describing it again.
#[derive(Args)]
struct DocumentFields {
    /// On adding, without it: the title the file gives itself, or its name.
    #[arg(long)]
    title: Option<String>,
    /// report (on adding, without it), methodology, coi, minutes, training, agreement, guidance or other.
    #[arg(long = "type")]
    doc_type: Option<String>,
    /// ISO 3166 alpha-3 (repeat for several); on describing, replaces the countries.
    #[arg(long = "country", value_name = "ISO3")]
    countries: Vec<String>,
    /// Repeat for several; on describing, replaces the themes.
    #[arg(long = "theme")]
    themes: Vec<String>,
    /// YYYY, YYYY-MM or YYYY-MM-DD; on adding, today without it.
    #[arg(long)]
    date: Option<String>,
    /// ISO 639-1; on adding, read from the text without it.
    #[arg(long)]
    language: Option<String>,
    /// A short summary, shown in search results
    #[arg(long)]
    summary: Option<String>,
}

#[derive(Args)]
struct SearchArgs {
    /// Words, "quoted phrases", -excluded words; empty for everything.
    #[arg(default_value = "")]
    query: String,
    /// Only this type of document (report, methodology, coi, minutes, training, ...)
    #[arg(long = "type")]
    doc_type: Option<String>,
    /// Only what concerns this country (ISO alpha-3 or a name)
    #[arg(long, value_name = "ISO3")]
    country: Option<String>,
    /// Only what this organisation published
    #[arg(long)]
    org: Option<String>,
    /// Only this year
    #[arg(long)]
    year: Option<String>,
    /// Only documents in this language (ISO 639-1, such as en or fr)
    #[arg(long)]
    language: Option<String>,
    /// relevance or newest.
    #[arg(long, default_value = "relevance")]
    sort: String,
    /// How many hits to show
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// How many hits to skip first (for the next page)
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// How to print: text for people, json for scripts
    #[arg(long, default_value = "text")]
    format: String,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Prove the audit chain unbroken, untruncated and not rewritten.
    Verify,
    /// Print the audit log.
    Log,
}

fn split_name(name: &str) -> Result<(String, String)> {
    let (org, slug) = name
        .split_once('/')
        .ok_or_else(|| anyhow!("name a dataset as ORG/SLUG, not {name:?}"))?;
    Ok((org.to_string(), slug.to_string()))
}

/// How an error reaches a person: "not found" for anything they may not see.
fn describe(e: &AppError) -> String {
    match e {
        AppError::Import(ie) => {
            // Every kind of problem, each once with its count: one round of fixes, not several.
            let mut s = e.to_string();
            for p in ie.problems() {
                s.push_str(&format!("\n  {p}"));
            }
            s.push_str("\nNothing was saved.");
            s
        }
        _ => e.to_string(),
    }
}

fn json_error(e: &AppError) -> String {
    let mut body = serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } });
    if let AppError::Import(ie) = e {
        body["error"]["details"] = serde_json::to_value(ie.problems()).unwrap_or_default();
    }
    body.to_string()
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        match e.downcast_ref::<Exit>() {
            Some(Exit(msg)) => eprintln!("{msg}"),
            None => eprintln!("error: {e:#}"),
        }
        std::process::exit(1);
    }
}

/// An error already worded for the person (and printed as such).
#[derive(Debug)]
struct Exit(String);
impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Exit {}

fn fail(e: AppError, json: bool) -> anyhow::Error {
    anyhow::Error::new(Exit(if json {
        json_error(&e)
    } else {
        format!("error: {}", describe(&e))
    }))
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Demo { bind, no_serve } = &cli.command {
        eprintln!("building the demo in {}", cli.data_dir.display());
        let (app, sign_ins) = demo::build(&cli.data_dir, cli.database_url.as_deref())?;
        eprintln!(
            "Demo sign-ins (also in {}):\n{sign_ins}",
            cli.data_dir.join("demo-sign-ins.txt").display()
        );
        if *no_serve {
            return Ok(());
        }
        start_logs(&cli.log_format);
        return serve(app, bind);
    }
    if let Command::Restore { dir } = &cli.command {
        let tty = std::io::stderr().is_terminal();
        let r = App::restore(dir, &cli.data_dir, cli.database_url.as_deref(), &mut |n| {
            if tty {
                eprint!("\r\x1b[2Kindexed {n} entries");
            }
        })
        .map_err(|e| fail(e, false))?;
        eprintln!(
            "{}restored the backup of {} into {}: audit chain intact ({} entries), {} search entries rebuilt",
            if tty { "\r\x1b[2K" } else { "" },
            r.manifest.taken_at,
            cli.data_dir.display(),
            r.audit.entries,
            r.indexed
        );
        return Ok(());
    }
    let app = App::open(&cli.data_dir, cli.database_url.as_deref())
        .with_context(|| format!("cannot open the data in {}", cli.data_dir.display()))?;
    let who = match &cli.as_user {
        Some(email) => app.act_as(email).map_err(|e| fail(e, false))?,
        None => Caller::operator(),
    };
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::Demo { .. } => unreachable!("handled above"),
        Command::Serve {
            bind,
            allow_private_webhooks,
            trusted_proxies,
        } => {
            app.set_webhook_policy(nansen_app::WebhookPolicy {
                allow_private: allow_private_webhooks,
                ..Default::default()
            });
            app.set_trusted_proxies(trusted_proxies);
            start_logs(&cli.log_format);
            serve(Arc::new(app), &bind)?
        }
        Command::Org(OrgCommand::Add { slug, name }) => {
            app.add_org(&who, &slug, &name)
                .map_err(|e| fail(e, false))?;
            eprintln!("added organisation {slug}");
        }
        Command::User(UserCommand::Add {
            email,
            org,
            role,
            operator,
        }) => {
            let role: Role = role.parse().map_err(|e: String| anyhow!(e))?;
            let stdin = std::io::stdin();
            let (password, generated) = if stdin.is_terminal() {
                (nansen_app::generate_password(), true)
            } else {
                let mut line = String::new();
                stdin.lock().read_to_string(&mut line)?;
                let first = line
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('\r')
                    .to_string();
                (first, false)
            };
            app.add_user(&who, &email, &org, role, &password)
                .map_err(|e| fail(e, false))?;
            if operator {
                app.set_operator(&who, &email, true)
                    .map_err(|e| fail(e, false))?;
            }
            if generated {
                writeln!(out, "{password}")?;
            }
            eprintln!("{email} is {role} of {org}");
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let token = app
                .create_token(&who, &email, &name)
                .map_err(|e| fail(e, false))?;
            writeln!(out, "{token}")?;
        }
        Command::Dataset(DatasetCommand::Import(a)) => import(&app, &who, a, out)?,
        Command::Dataset(DatasetCommand::SetAside {
            dataset,
            version,
            output,
        }) => {
            let (org, slug) = split_name(&dataset)?;
            let csv = app
                .set_aside_rows(&who, &org, &slug, version)
                .map_err(|e| fail(e, false))?;
            match output {
                Some(path) => std::fs::write(&path, csv)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => out.write_all(csv.as_bytes())?,
            }
        }
        Command::Dataset(DatasetCommand::Export {
            dataset,
            version,
            format,
            output,
        }) => {
            let (org, slug) = split_name(&dataset)?;
            let format: ExportFormat = format.parse().map_err(|e: String| anyhow!(e))?;
            match output {
                Some(path) => {
                    let f = app
                        .export_file(&who, &org, &slug, version, format)
                        .map_err(|e| fail(e, false))?;
                    std::fs::write(&path, &f.bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    // A manifest beside the file: what it is and where it comes from, its
                    // hash, and the audit chain's head after this export, kept outside the
                    // database.
                    let (seq, hash) = f.audit_head.split_once(' ').unwrap_or(("", ""));
                    let p = &f.provenance;
                    let manifest = serde_json::json!({
                        "dataset": dataset, "version": p.version, "format": format.extension(),
                        "title": p.title, "source": p.source, "licence": p.licence,
                        "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                        "sha256": nansen_app::sha256_hex(&f.bytes),
                        "audit_head": { "entry": seq.parse::<i64>().unwrap_or(0), "hash": hash },
                    });
                    let mpath = PathBuf::from(format!("{}.manifest.json", path.display()));
                    std::fs::write(&mpath, serde_json::to_string_pretty(&manifest)? + "\n")?;
                    eprintln!("wrote {} and {}", path.display(), mpath.display());
                }
                None => app
                    .export(&who, &org, &slug, version, format, out)
                    .map_err(|e| fail(e, false))?,
            }
        }
        Command::Dataset(DatasetCommand::Show { dataset, format }) => {
            let json = format == "json";
            let (org, slug) = split_name(&dataset)?;
            let d = app.dataset(&who, &org, &slug).map_err(|e| fail(e, json))?;
            let cov = app.coverage(&who, &org, &slug).map_err(|e| fail(e, json))?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&dataset_show::json(&d, &cov))?
                )?;
            } else {
                dataset_show::text(&d, &cov, out)?;
            }
        }
        Command::Dataset(DatasetCommand::List { format }) => {
            let list = app
                .list_datasets(&who)
                .map_err(|e| fail(e, format == "json"))?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                for d in list {
                    let latest = d.versions.iter().rev().find(|v| v.redacted_at.is_none());
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        d.name,
                        d.sharing,
                        latest
                            .map(|v| format!("v{}", v.number))
                            .unwrap_or_else(|| "-".into()),
                        latest.map(|v| v.observations).unwrap_or(0),
                        d.title
                    )?;
                }
            }
        }
        Command::Dataset(DatasetCommand::Share {
            dataset,
            share,
            sensitive,
            threshold,
        }) => {
            let (org, slug) = split_name(&dataset)?;
            let sharing: Sharing = share.parse().map_err(|e: String| anyhow!(e))?;
            app.share(&who, &org, &slug, sharing, sensitive, threshold)
                .map_err(|e| fail(e, false))?;
            eprintln!("{dataset} is now {share}");
        }
        Command::Dataset(DatasetCommand::Describe {
            dataset,
            title,
            description,
            source,
            methodology,
            licence,
            frequency,
            tags,
        }) => {
            let (org, slug) = split_name(&dataset)?;
            let meta = nansen_app::Metadata {
                title,
                description,
                source,
                methodology,
                licence,
                update_frequency: frequency,
                tags: tags.map(|t| {
                    t.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                }),
            };
            app.set_metadata(&who, &org, &slug, &meta)
                .map_err(|e| fail(e, false))?;
            eprintln!("{dataset} described");
        }
        Command::Dataset(DatasetCommand::Redact { dataset, version }) => {
            let (org, slug) = split_name(&dataset)?;
            app.redact(&who, &org, &slug, version)
                .map_err(|e| fail(e, false))?;
            eprintln!("version {version} of {dataset} was redacted");
        }
        Command::Query(q) => {
            let json = q.format == "json";
            let (org, slug) = split_name(&q.dataset)?;
            let query = Query::parse(&q.wheres, q.period.as_deref(), q.group_by.as_deref())
                .and_then(|query| {
                    query.with_options(q.measure.as_deref(), q.frequency.as_deref(), q.top)
                })
                .map_err(|e| fail(e.into(), json))?;
            let question = nansen_app::Question {
                query,
                rolling: q.rolling,
                change: q
                    .change
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: String| anyhow!(e))?,
                derived: q.derived.clone(),
                per_capita: q.per_capita.clone(),
                share_of: q.share_of.clone(),
            };
            let table = app
                .ask(&who, &org, &slug, q.version, &question)
                .map_err(|e| fail(e, json))?;
            tell(&table, q.flags || json);
            let mut body = Vec::new();
            if json {
                writeln!(body, "{}", nansen_formats::table_json(&table))?;
            } else {
                nansen_formats::table_csv(&table, q.flags, &mut body)?;
            }
            match &q.output {
                Some(path) => {
                    std::fs::write(path, &body)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let p = &table.provenance;
                    let meta = serde_json::json!({
                        "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                        "dataset": p.dataset, "title": p.title, "version": p.version,
                        "source": p.source, "licence": p.licence, "unit": p.unit,
                        "query": format!("nansen query {} {}", q.dataset, p.query).trim().to_string(),
                        "incomplete_rows": table.rows.iter().filter(|r| r.incomplete).count(),
                        "counted": table.counted.iter().map(|c| c.describe()).collect::<Vec<_>>(),
                    });
                    let mpath = PathBuf::from(format!("{}.meta.json", path.display()));
                    std::fs::write(&mpath, serde_json::to_string_pretty(&meta)? + "\n")?;
                }
                None => out.write_all(&body)?,
            }
        }
        Command::Flows(f) => {
            let json = f.format == "json";
            let (org, slug) = split_name(&f.dataset)?;
            let query = Query::parse(&f.wheres, f.period.as_deref(), None)
                .map_err(|e| fail(e.into(), json))?;
            let flows = app
                .flows(&who, &org, &slug, None, &query, f.via.as_deref())
                .map_err(|e| fail(e, json))?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&flows)?)?;
            } else {
                writeln!(out, "source,target,value")?;
                for l in flows.links {
                    writeln!(out, "{},{},{}", l.source, l.target, l.value)?;
                }
            }
        }
        Command::Compare(c) => {
            let json = c.format == "json";
            let query = Query::parse(&c.wheres, c.period.as_deref(), c.group_by.as_deref())
                .and_then(|q| q.with_options(None, c.frequency.as_deref(), None))
                .map_err(|e| fail(e.into(), json))?;
            let table = app
                .compare(&who, &c.datasets, &query)
                .map_err(|e| fail(e, json))?;
            tell(&table, json);
            if json {
                writeln!(out, "{}", nansen_formats::table_json(&table))?;
            } else {
                nansen_formats::table_csv(&table, false, out)?;
            }
        }
        Command::Forecast(f) => {
            let json = f.series.json();
            let model: nansen_forecast::Model = f
                .model
                .parse()
                .map_err(|e: nansen_forecast::ForecastError| fail(e.into(), json))?;
            let series_by = dims(f.series_by.as_deref());
            let (org, slug, request) = f.series.request(series_by.clone())?;
            let (_, rows) = app
                .forecast(
                    &who,
                    &org,
                    &slug,
                    &request,
                    f.level,
                    model,
                    &nansen_app::Budget::unlimited(),
                )
                .map_err(|e| fail(e, json))?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&rows)?)?;
            } else {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(
                    series_by
                        .iter()
                        .map(String::as_str)
                        .chain(["period", "model", "mean", "lo", "hi"]),
                )?;
                for r in rows {
                    let mut rec = nansen_app::Panel::key(&r.series);
                    rec.extend([
                        r.period,
                        r.model.to_string(),
                        num(r.mean),
                        num(r.lo),
                        num(r.hi),
                    ]);
                    w.write_record(&rec)?;
                }
                w.flush()?;
            }
        }
        Command::Backtest(b) => {
            let json = b.series.json();
            let models: Vec<nansen_forecast::Model> = match b.model.as_str() {
                "all" => nansen_forecast::MODELS.to_vec(),
                m => vec![m
                    .parse()
                    .map_err(|e: nansen_forecast::ForecastError| fail(e.into(), json))?],
            };
            let series_by = dims(Some(&b.series_by));
            let (org, slug, request) = b.series.request(series_by.clone())?;
            let started = std::time::Instant::now();
            let (_, report) = app
                .backtest(
                    &who,
                    &org,
                    &slug,
                    &request,
                    b.windows,
                    &models,
                    &nansen_app::Budget::unlimited(),
                )
                .map_err(|e| fail(e, json))?;
            eprintln!(
                "backtest: {} series, {} models, {} forecasts in {:.2} s",
                report.scores.len() / models.len().max(1),
                models.len(),
                report.details.len(),
                started.elapsed().as_secs_f64()
            );
            if !report.skipped.is_empty() {
                eprintln!(
                    "  left out, too short for {} windows of {}: {}",
                    b.windows,
                    b.series.horizon,
                    report
                        .skipped
                        .iter()
                        .map(|s| s.replace(nansen_app::KEY_SEPARATOR, "/"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            for o in &report.overall {
                eprintln!(
                    "  {:<7} MASE {:.3}  sMAPE {:.2}  coverage80 {:.3}  MSIS {:.2}",
                    o.model, o.mase, o.smape, o.coverage80, o.msis
                );
            }
            if let Some(path) = &b.details {
                let mut w = csv::Writer::from_path(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                w.write_record(series_by.iter().map(String::as_str).chain([
                    "model", "origin", "horizon", "period", "actual", "mean", "lo80", "hi80",
                ]))?;
                for d in &report.details {
                    let mut rec = nansen_app::Panel::key(&d.series);
                    rec.extend([
                        d.model.to_string(),
                        d.origin.clone(),
                        d.horizon.to_string(),
                        d.period.clone(),
                        num(d.actual),
                        num(d.mean),
                        num(d.lo80),
                        num(d.hi80),
                    ]);
                    w.write_record(&rec)?;
                }
                w.flush()?;
            }
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(
                        &serde_json::json!({ "scores": report.scores, "overall": report.overall })
                    )?
                )?;
            } else {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(series_by.iter().map(String::as_str).chain([
                    "model",
                    "mase",
                    "smape",
                    "coverage80",
                    "msis",
                    "forecasts",
                ]))?;
                for s in &report.scores {
                    let mut rec = nansen_app::Panel::key(&s.series);
                    rec.extend([
                        s.model.to_string(),
                        num(s.mase),
                        num(s.smape),
                        num(s.coverage80),
                        num(s.msis),
                        s.forecasts.to_string(),
                    ]);
                    w.write_record(&rec)?;
                }
                w.flush()?;
            }
        }
        Command::Detect(d) => {
            let json = d.selection.json();
            let (org, slug, query) = d.selection.query()?;
            let series_by = dims(d.series_by.as_deref());
            let request = nansen_app::DetectRequest {
                query,
                series_by: series_by.clone(),
                rules: rules(&d.rules)?,
                from: d.from.clone(),
            };
            let (_, found) = app
                .detect(
                    &who,
                    &org,
                    &slug,
                    &request,
                    &nansen_app::Budget::unlimited(),
                )
                .map_err(|e| fail(e, json))?;
            let found: Vec<_> = found
                .into_iter()
                .filter(|f| !d.alarms || f.judgement.alarm)
                .collect();
            if json {
                writeln!(out, "{}", serde_json::to_string(&found)?)?;
            } else {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(series_by.iter().map(String::as_str).chain([
                    "period",
                    "rule",
                    "observed",
                    "expected",
                    "upper",
                    "statistic",
                    "alarm",
                ]))?;
                for f in found {
                    let mut rec = f.key.clone();
                    let j = &f.judgement;
                    rec.extend([
                        f.period,
                        f.rule.name.clone(),
                        num(j.observed),
                        num(j.expected),
                        num(j.upper),
                        num(j.statistic),
                        j.alarm.to_string(),
                    ]);
                    w.write_record(&rec)?;
                }
                w.flush()?;
            }
        }
        Command::Watch(WatchCommand::Add {
            dataset,
            org,
            name,
            wheres,
            series_by,
            rules: r,
            horizon,
            lookback,
            level,
            partners,
        }) => {
            let spec = nansen_app::WatchSpec {
                dataset,
                wheres,
                frequency: None,
                series_by: dims(series_by.as_deref()),
                rules: rules(&r)?,
                horizon,
                lookback,
                level,
            };
            let w = app
                .create_watch(&who, &org, &name, spec, &partners)
                .map_err(|e| fail(e, false))?;
            writeln!(out, "{}", w.id)?;
            eprintln!(
                "watch {} checked at version {}: {} open alerts{}",
                w.id,
                w.checked_version,
                w.open_alerts,
                if w.problem.is_empty() {
                    String::new()
                } else {
                    format!("; {}", w.problem)
                }
            );
        }
        Command::Watch(WatchCommand::List) => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&app.watches(&who).map_err(|e| fail(e, false))?)?
            )?;
        }
        Command::Watch(WatchCommand::Run) => {
            let r = app.run_early_warning().map_err(|e| fail(e, false))?;
            print_round(&r);
        }
        Command::Alert(AlertCommand::List { status }) => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id", "status", "watch", "series", "period", "rule", "observed", "expected",
                "upper", "assignee",
            ])?;
            for a in app
                .alerts(&who, status.as_deref())
                .map_err(|e| fail(e, false))?
            {
                let d = &a.detail;
                w.write_record([
                    a.id.to_string(),
                    a.status,
                    a.watch,
                    a.series,
                    a.period,
                    a.rule,
                    num(d.observed),
                    num(d.expected),
                    num(d.upper),
                    a.assignee.unwrap_or_default(),
                ])?;
            }
            w.flush()?;
        }
        Command::Alert(AlertCommand::Update {
            id,
            status,
            assign,
            comment,
        }) => {
            if status.is_some() || assign.is_some() {
                let change = nansen_app::AlertChange {
                    status,
                    assignee: assign.map(|a| Some(a).filter(|a| !a.is_empty())),
                };
                let a = app
                    .update_alert(&who, id, &change)
                    .map_err(|e| fail(e, false))?;
                eprintln!(
                    "alert {id} is {}{}",
                    a.status,
                    a.assignee
                        .map(|a| format!(", assigned to {a}"))
                        .unwrap_or_default()
                );
            }
            if let Some(c) = comment {
                app.comment_alert(&who, id, &c)
                    .map_err(|e| fail(e, false))?;
                eprintln!("comment added to alert {id}");
            }
        }
        Command::Webhook(WebhookCommand::Add {
            url,
            org,
            watch,
            dataset,
        }) => {
            let target = match (watch, dataset) {
                (Some(w), _) => nansen_app::HookTarget::Watch(w),
                (None, Some(d)) => nansen_app::HookTarget::Dataset(d),
                (None, None) => unreachable!("clap requires one"),
            };
            let (h, secret) = app
                .subscribe(&who, &org, &target, &url)
                .map_err(|e| fail(e, false))?;
            writeln!(out, "{secret}")?;
            eprintln!("webhook {} for {org}: keep the secret above to check the X-Nansen-Signature of each delivery", h.id);
        }
        Command::Webhook(WebhookCommand::List) => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&app.webhooks(&who).map_err(|e| fail(e, false))?)?
            )?;
        }
        Command::Plan(PlanCommand::Add {
            org,
            title,
            scenario,
            file,
        }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let spec: nansen_app::PlanSpec = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a plan: {{\"triggers\": [...], \"actions\": [...]}}",
                    file.display()
                )
            })?;
            let p = app
                .create_plan(&who, &org, &title, &scenario, spec)
                .map_err(|e| fail(e, false))?;
            writeln!(out, "{}", p.id)?;
            eprintln!(
                "plan {}: {}",
                p.id,
                if p.triggered_since.is_some() {
                    format!("TRIGGERED: {}", p.reason)
                } else {
                    "not triggered".into()
                }
            );
        }
        Command::Plan(PlanCommand::List) => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&app.plans(&who).map_err(|e| fail(e, false))?)?
            )?;
        }
        Command::Plan(PlanCommand::Tick { plan, action, undo }) => {
            if action == 0 {
                bail!("actions are numbered from 1");
            }
            app.set_action_done(&who, plan, action - 1, !undo)
                .map_err(|e| fail(e, false))?;
        }
        Command::Doc(d) => document_command(&app, &who, d, out)?,
        Command::Search(a) => search(&app, &who, a, out)?,
        Command::Backup { dir } => {
            let m = app.backup(&who, &dir).map_err(|e| fail(e, false))?;
            eprintln!("backed up the {} database to {} at audit entry {}; the folder holds the keys: keep it as secret as the data", m.database, dir.display(), m.audit_entry);
        }
        Command::Restore { .. } => unreachable!("restored above, before any data is opened"),
        Command::Reindex => {
            let tty = std::io::stderr().is_terminal();
            let n = app
                .reindex(&mut |n| {
                    if tty {
                        eprint!("\r\x1b[2Kindexed {n} entries");
                    }
                })
                .map_err(|e| fail(e, false))?;
            if tty {
                eprint!("\r\x1b[2K");
            }
            eprintln!("search index rebuilt: {n} documents and datasets");
        }
        Command::Access(a) => match a {
            AccessCommand::Request { dataset, reason } => {
                let (org, slug) = split_name(&dataset)?;
                let id = app
                    .request_access(&who, &org, &slug, &reason)
                    .map_err(|e| fail(e, false))?;
                writeln!(out, "{id}")?;
            }
            AccessCommand::List => {
                for (dataset, r) in app.access_requests(&who).map_err(|e| fail(e, false))? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.id, dataset, r.org, r.user_email, r.status, r.reason
                    )?;
                }
            }
            AccessCommand::Approve { id } => app
                .decide_access(&who, id, true, "")
                .map_err(|e| fail(e, false))?,
            AccessCommand::Refuse { id, note } => app
                .decide_access(&who, id, false, &note)
                .map_err(|e| fail(e, false))?,
            AccessCommand::Revoke { id, note } => app
                .revoke_access(&who, id, &note)
                .map_err(|e| fail(e, false))?,
        },
        Command::Audit(AuditCommand::Verify) => {
            match app.verify_audit().map_err(|e| fail(e, false))? {
                Ok(r) => writeln!(
                    out,
                    "audit chain intact: {} entries, head {}",
                    r.entries, r.head
                )?,
                Err(broken) => bail!(Exit(format!("error: {broken}"))),
            }
        }
        Command::Audit(AuditCommand::Log) => {
            for e in app.audit_log(&who).map_err(|e| fail(e, false))? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.seq, e.at, e.actor, e.action, e.target, e.detail
                )?;
            }
        }
    }
    Ok(())
}

fn document_command(app: &App, who: &Caller, d: DocCommand, out: &mut dyn Write) -> Result<()> {
    let read = |file: &PathBuf| {
        std::fs::read(file)
            .map_err(|e| anyhow!(Exit(format!("error: cannot read {}: {e}", file.display()))))
    };
    let name = |file: &PathBuf| {
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match d {
        DocCommand::Add {
            file,
            org,
            fields: f,
            share,
            format,
        } => {
            let json = format == "json";
            let new = nansen_app::NewDocument {
                org,
                title: f.title,
                doc_type: f.doc_type,
                countries: f.countries,
                themes: f.themes,
                date: f.date,
                language: f.language,
                summary: f.summary.unwrap_or_default(),
                share: share
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e: String| anyhow!(Exit(format!("error: {e}"))))?,
            };
            let bytes = read(&file)?;
            eprintln!(
                "reading the text of {} ({} KB)",
                file.display(),
                bytes.len() >> 10
            );
            let doc = app
                .add_document(who, &new, &name(&file), &bytes)
                .map_err(|e| fail(e, json))?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&doc)?)?;
            } else {
                let v = &doc.versions[0];
                writeln!(
                    out,
                    "document {}: {} ({}, {} pages, language {})",
                    doc.id,
                    doc.title,
                    v.format,
                    v.pages,
                    if doc.language.is_empty() {
                        "unknown"
                    } else {
                        &doc.language
                    }
                )?;
            }
            if let Some(why) = &doc.versions[0].no_text {
                eprintln!("warning: {why}");
            }
        }
        DocCommand::Version { id, file } => {
            let v = app
                .add_document_version(who, id, &name(&file), &read(&file)?)
                .map_err(|e| fail(e, false))?;
            writeln!(
                out,
                "version {} of document {id}: {} ({} pages)",
                v.number, v.file_name, v.pages
            )?;
            if let Some(why) = &v.no_text {
                eprintln!("warning: {why}");
            }
        }
        DocCommand::Describe { id, fields: f } => {
            let m = nansen_app::DocumentMetadata {
                title: f.title,
                doc_type: f.doc_type,
                countries: (!f.countries.is_empty()).then_some(f.countries),
                themes: (!f.themes.is_empty()).then_some(f.themes),
                date: f.date,
                language: f.language,
                summary: f.summary,
            };
            let d = app
                .describe_document(who, id, &m)
                .map_err(|e| fail(e, false))?;
            eprintln!("document {id} described: {}", d.title);
        }
        DocCommand::List { format } => {
            let list = app.documents(who).map_err(|e| fail(e, format == "json"))?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                for d in list {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        d.id,
                        d.org,
                        d.doc_type,
                        d.date.as_deref().unwrap_or("-"),
                        d.sharing,
                        d.title
                    )?;
                }
            }
        }
        DocCommand::Show { id } => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&app.document(who, id).map_err(|e| fail(e, false))?)?
        )?,
        DocCommand::Text { id, version } => {
            let text = app
                .document_text(who, id, version)
                .map_err(|e| fail(e, false))?;
            if let Some(why) = &text.no_text {
                eprintln!("{why}");
            }
            for (i, page) in text.pages.iter().enumerate() {
                if text.pages.len() > 1 {
                    writeln!(out, "--- page {} ---", i + 1)?;
                }
                writeln!(out, "{page}")?;
            }
        }
        DocCommand::Get {
            id,
            version,
            output,
        } => {
            let f = app
                .document_file(who, id, version)
                .map_err(|e| fail(e, false))?;
            // A stored name is never a path (see plain_file_name); its last part only, all the same.
            let path = match output {
                Some(p) => p,
                None => PathBuf::from(
                    nansen_app::plain_file_name(&f.file_name).map_err(|e| fail(e, false))?,
                ),
            };
            std::fs::write(&path, &f.bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} ({} KB)", path.display(), f.bytes.len() >> 10);
        }
        DocCommand::Share { id, share } => {
            let sharing: Sharing = share
                .parse()
                .map_err(|e: String| anyhow!(Exit(format!("error: {e}"))))?;
            app.share_document(who, id, sharing)
                .map_err(|e| fail(e, false))?;
            eprintln!("document {id} is now {share}");
        }
        DocCommand::Request { id, reason } => writeln!(
            out,
            "{}",
            app.request_document_access(who, id, &reason)
                .map_err(|e| fail(e, false))?
        )?,
        DocCommand::Requests => {
            for (d, r) in app.document_requests(who).map_err(|e| fail(e, false))? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.id, d.id, r.org, r.user_email, r.status, r.reason
                )?;
            }
        }
        DocCommand::Approve { request } => app
            .decide_document_access(who, request, true, "")
            .map_err(|e| fail(e, false))?,
        DocCommand::Refuse { request, note } => app
            .decide_document_access(who, request, false, &note)
            .map_err(|e| fail(e, false))?,
        DocCommand::Revoke { request, note } => app
            .revoke_document_access(who, request, &note)
            .map_err(|e| fail(e, false))?,
    }
    Ok(())
}

fn search(app: &App, who: &Caller, a: SearchArgs, out: &mut dyn Write) -> Result<()> {
    let json = a.format == "json";
    let sort = match a.sort.as_str() {
        "relevance" => nansen_app::SearchSort::Relevance,
        "newest" | "date" => nansen_app::SearchSort::Newest,
        other => bail!(Exit(format!(
            "error: --sort {other:?}: choose relevance or newest"
        ))),
    };
    let request = nansen_app::SearchRequest {
        text: a.query,
        doc_type: a.doc_type,
        org: a.org,
        country: a.country.map(|c| c.to_uppercase()),
        year: a.year,
        language: a.language,
        kind: None,
        sort,
        offset: a.offset,
        limit: a.limit,
    };
    let r = app.search(who, &request).map_err(|e| fail(e, json))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
        return Ok(());
    }
    let tty = std::io::stdout().is_terminal();
    let (on, off) = if tty {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("«", "»")
    };
    writeln!(
        out,
        "{} result{}",
        r.total,
        if r.total == 1 { "" } else { "s" }
    )?;
    for h in &r.hits {
        let snippet: String = h
            .snippet_parts()
            .into_iter()
            .map(|(text, found)| {
                if found {
                    format!("{on}{text}{off}")
                } else {
                    text.to_string()
                }
            })
            .collect();
        writeln!(
            out,
            "{} {}\t{}\t({}, {}, {})",
            h.kind.as_str(),
            h.id,
            h.title,
            h.doc_type,
            h.org,
            h.date.as_deref().unwrap_or("-")
        )?;
        writeln!(out, "    {snippet}")?;
    }
    Ok(())
}

fn parse_pairs(items: &[String], sep: char) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once(sep)
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| anyhow!("{s:?}: expected DIM{sep}VALUE"))
        })
        .collect()
}

fn import(app: &App, who: &Caller, a: ImportArgs, out: &mut dyn Write) -> Result<()> {
    let json = a.report == "json";
    let mut options = ImportOptions::default();
    if a.format != "auto" {
        options.format = Some(a.format.parse::<Format>().map_err(|e| anyhow!(e))?);
    }
    if let Some(m) = &a.mapping {
        let text = std::fs::read_to_string(m)
            .with_context(|| format!("cannot read the mapping {}", m.display()))?;
        options.mapping = Some(Mapping::parse(&text).map_err(|e| fail(e.into(), json))?);
    }
    options.indicator = a.indicator.clone();
    options.sheet = a.sheet.clone();
    options.accept = parse_pairs(&a.accept, ':')?;
    options.set_aside = a.set_aside;
    options.recode = parse_pairs(&a.recode, ':')?
        .into_iter()
        .map(|(dim, rest)| {
            rest.split_once('=')
                .map(|(from, to)| (dim.clone(), from.to_string(), to.to_string()))
                .ok_or_else(|| anyhow!("--recode {dim}:{rest}: expected DIM:VALUE=CODE"))
        })
        .collect::<Result<_>>()?;
    let req = ImportRequest {
        org: a.org.clone(),
        slug: a.dataset.clone(),
        file_name: a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        options,
        append: a.append,
        dry_run: a.dry_run,
        share: a
            .share
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| anyhow!(e))?,
        title: a.title.clone(),
        sensitive: a.sensitive.then_some(true),
    };
    if !a.file.exists() {
        bail!(Exit(format!("error: no file {}", a.file.display())));
    }
    let tty = std::io::stderr().is_terminal();
    let progress = |p: Progress| {
        let line = match p {
            Progress::Reading { rows } => format!("reading: {rows} rows"),
            Progress::Comparing { observations } => {
                format!("comparing {observations} observations with the previous version")
            }
            Progress::Saving { done, total } => format!("saving: {done} of {total} observations"),
        };
        if tty {
            eprint!("\r\x1b[2K{line}");
        } else if !matches!(p, Progress::Reading { rows } if rows % 1_000_000 != 0) {
            eprintln!("{line}");
        }
    };
    let result = app.import(who, &req, &a.file, &progress);
    if tty {
        eprint!("\r\x1b[2K");
    }
    let r = result.map_err(|e| fail(e, json))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
    } else {
        let what = if r.dry_run {
            "would add".to_string()
        } else {
            format!("version {} of {}: added", r.version.unwrap_or(0), r.dataset)
        };
        writeln!(out, "{what} {}, changed {}, removed {} observations ({} rows read as {}; {} observations in all)", r.added, r.changed, r.removed, r.rows, r.format, r.observations)?;
        if r.dry_run {
            writeln!(out, "dry run: nothing was saved")?;
        }
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    if !r.dry_run {
        // Watches of this dataset are checked, and subscribers told, before the command ends.
        match app.run_early_warning() {
            Ok(round) if !round.checks.is_empty() || round.deliveries != Default::default() => {
                print_round(&round)
            }
            Ok(_) => {}
            Err(e) => eprintln!(
                "warning: the early-warning round did not finish: {}",
                describe(&e)
            ),
        }
    }
    Ok(())
}

fn print_round(r: &nansen_app::WarningRound) {
    let raised: usize = r.checks.iter().map(|c| c.alerts.len()).sum();
    eprintln!(
        "early warning: {} watches checked, {raised} alerts raised, {} plans changed; webhooks {} delivered, {} to retry, {} failed",
        r.checks.len(), r.plans_changed.len(), r.deliveries.delivered, r.deliveries.retrying, r.deliveries.failed
    );
    for c in r.checks.iter().filter(|c| !c.problem.is_empty()) {
        eprintln!("  watch {}: {}", c.watch, c.problem);
    }
}

fn serve(app: Arc<App>, bind: &str) -> Result<()> {
    // Staged uploads live in one process's memory: what an earlier run left is nobody's.
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

/// A number for CSV: at most four decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Says on stderr what a reader of the answer must know: which rows stand for periods the data
/// covers only in part (unless the answer marks them), what was counted where the query left it
/// to Nansen (persons, not cases), and definitions that differ between compared datasets.
fn tell(table: &nansen_model::Table, marked: bool) {
    let rows: Vec<String> = table
        .rows
        .iter()
        .filter(|r| r.incomplete)
        .map(|r| {
            if r.key.is_empty() {
                "the period asked for".to_string()
            } else {
                r.key.join("/")
            }
        })
        .collect();
    if !rows.is_empty() && !marked {
        eprintln!(
            "warning: the data covers only part of {} (--flags marks such rows incomplete)",
            rows.join(", ")
        );
    }
    for c in table.counted.iter().filter(|c| c.by_default) {
        eprintln!("note: {}", c.describe());
    }
    for w in &table.warnings {
        eprintln!("warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and every option says what it is for in `--help`.
    #[test]
    fn every_command_and_option_has_a_help_line() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                let automatic = matches!(
                    a.get_action(),
                    clap::ArgAction::Help | clap::ArgAction::Version
                );
                if !automatic && a.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let p = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{p} (the command)"));
                }
                walk(sub, &p, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "nansen", &mut missing);
        assert!(
            missing.is_empty(),
            "{} without help:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
