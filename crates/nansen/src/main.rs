//! `nansen`: the server, the CLI and the jobs, in one thin binary over `nansen-app`.

mod commands;
mod dataset_show;
mod demo;
mod output;

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

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
    #[arg(long, global = true, env = "NANSEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: commands::Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The server's logs (requests with their ids, early-warning rounds, internal errors) on
/// stderr; commands that do not serve write none.
pub fn start_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NANSEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => logs.json().try_init(),
        LogFormat::Text => logs.try_init(),
    };
}

fn main() {
    let cli = Cli::parse();
    let globals = commands::Globals {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        as_user: cli.as_user,
        log_format: cli.log_format,
    };
    let json = cli.command.wants_json();
    if let Err(failure) = cli.command.exec(&globals) {
        eprintln!("{}", failure.render(json));
        std::process::exit(1);
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
    /// The whole `--help`, every command's, as a snapshot: a change to a command's words,
    /// options or defaults shows as a diff to review.
    #[test]
    fn the_help_of_every_command_reads_as_before() {
        fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
            out.push_str(&format!("==== {path}\n{}\n", cmd.render_long_help()));
            for sub in cmd.get_subcommands_mut() {
                if sub.get_name() != "help" {
                    let p = format!("{path} {}", sub.get_name());
                    walk(sub, &p, out);
                }
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut help = String::new();
        walk(&mut cmd, "nansen", &mut help);
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        // What the environment of the run sets is not the help's.
        settings.add_filter(r"\[env: ([A-Z_]+)=[^\]]*\]", "[env: $1=]");
        settings.bind(|| insta::assert_snapshot!("help", help));
    }
}
