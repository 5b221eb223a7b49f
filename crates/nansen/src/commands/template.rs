//! `nansen template`: reporting templates (issue 17), defined in TOML (docs/gathering.md).

use super::Ctx;
use crate::output::{Failure, Outcome};
use anyhow::Context;
use clap::Subcommand;
use nansen_model::DatasetName;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Define a template, or its next version (admins of its organisation): its returns land
    /// in the dataset of the same name.
    Add {
        /// ORG/SLUG
        name: String,
        /// The definition, TOML (docs/gathering.md)
        #[arg(long)]
        file: PathBuf,
    },
    /// A template at its latest version.
    Show {
        /// ORG/SLUG
        name: String,
    },
    /// The templates the caller defines, reviews or reports to: name, version, frequency, title.
    List,
    /// The template in another tool's terms: an SDMX-ML 2.1 structure message (code lists,
    /// concepts, data structure, dataflow) or an XLSForm for field collection.
    Export {
        /// ORG/SLUG
        name: String,
        /// sdmx or xlsform
        #[arg(long, value_parser = ["sdmx", "xlsform"])]
        file_format: String,
        /// Where to write it
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Define a template (or its next version) from an XLSForm's survey and choices sheets:
    /// each select_one question a dimension, each integer one an indicator.
    Import {
        /// ORG/SLUG
        name: String,
        /// The XLSForm (XLSX)
        #[arg(long)]
        xlsform: PathBuf,
        /// day, week, month, quarter or year
        #[arg(long)]
        frequency: String,
        /// Days after a period's end its returns are due
        #[arg(long)]
        deadline_days: u16,
        /// The reporting organisations, comma-separated
        #[arg(long, value_delimiter = ',', required = true)]
        reporters: Vec<String>,
        /// Its title (by default the form's title)
        #[arg(long)]
        title: Option<String>,
    },
    /// The period's workbook (XLSX) to fill: the grid with drop-downs and validation, and a
    /// sheet explaining the template.
    Workbook {
        /// ORG/SLUG
        name: String,
        /// The period, as the template's frequency writes it
        #[arg(long)]
        period: String,
        /// Whose workbook (reviewers name a reporter; a reporter gets its own)
        #[arg(long)]
        reporter: Option<String>,
        /// Where to write it
        #[arg(short, long)]
        output: PathBuf,
    },
    /// The reminders sent to the template's reporters, newest first (a reporter sees its
    /// own): reporter, period, event, deadline, e-mail, webhooks, recipients.
    Reminders {
        /// ORG/SLUG
        name: String,
    },
}

fn print_reminders(out: &mut dyn std::io::Write, rows: &[nansen_app::ReminderView]) -> Outcome {
    writeln!(
        out,
        "template\treporter\tperiod\tevent\tdeadline\temail\twebhooks\trecipients"
    )?;
    for r in rows {
        let email = if r.email_error.is_empty() {
            r.email.clone()
        } else {
            format!("{} ({})", r.email, r.email_error)
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{email}\t{}\t{}",
            r.template,
            r.reporter,
            r.period,
            r.event,
            r.deadline,
            r.webhooks,
            r.recipients.join(",")
        )?;
    }
    Ok(())
}

/// How reminders go out: the SMTP server, the sender, and Nansen's address for the links.
#[derive(clap::Args, Clone)]
pub struct MailArgs {
    /// The SMTP server reminders are e-mailed through: smtps://USER:PASS@HOST (TLS),
    /// smtp://HOST:587?tls=required (STARTTLS) or smtp://HOST:25 (a local relay); without it
    /// reminders go by webhook alone
    #[arg(long, value_name = "URL")]
    smtp_url: Option<String>,
    /// The address reminders come from
    #[arg(
        long,
        value_name = "ADDRESS",
        default_value = "Nansen <nansen@localhost>"
    )]
    smtp_from: String,
    /// Where Nansen is reached, for the links in reminders (by default this server's address)
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

impl MailArgs {
    /// The settings, with `default_url` when no public address is given.
    pub fn settings(&self, default_url: &str) -> Result<nansen_app::ReminderSettings, Failure> {
        let mailer = match &self.smtp_url {
            Some(url) => Some(
                nansen_app::Mailer::new(url, &self.smtp_from, std::time::Duration::from_secs(30))
                    .map_err(|e| Failure::Other(anyhow::anyhow!("--smtp-url: {e}")))?,
            ),
            None => None,
        };
        Ok(nansen_app::ReminderSettings {
            mailer,
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| default_url.to_string()),
        })
    }
}

#[derive(clap::Args)]
pub struct RemindArgs {
    #[command(flatten)]
    mail: MailArgs,
}

impl RemindArgs {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        if ctx.who.principal != nansen_model::Principal::Operator {
            return Err(Failure::Other(anyhow::anyhow!(
                "reminders are sent by the platform's operator (without --as), as the server does"
            )));
        }
        ctx.app
            .set_reminders(self.mail.settings("http://127.0.0.1:8080")?);
        let sent = ctx
            .app
            .send_reminders(nansen_model::Timestamp::now().day())?;
        eprintln!("{} reminders sent", sent.len());
        print_reminders(ctx.out, &sent)
    }
}

fn template_name(name: &str) -> Result<DatasetName, Failure> {
    name.parse()
        .map_err(|e: String| Failure::Other(anyhow::anyhow!("{e}")))
}

impl TemplateCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let t = match self {
            TemplateCommand::Add { name, file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let t = app.add_template(who, &template_name(&name)?, &text)?;
                eprintln!("template {} is at version {}", t.name, t.version);
                t
            }
            TemplateCommand::Show { name } => app.template(who, &template_name(&name)?)?,
            TemplateCommand::Reminders { name } => {
                return print_reminders(out, &app.reminders(who, &template_name(&name)?)?);
            }
            TemplateCommand::Export {
                name,
                file_format,
                output,
            } => {
                let (_, _, bytes) =
                    app.export_template(who, &template_name(&name)?, &file_format)?;
                std::fs::write(&output, bytes)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                eprintln!("wrote {}", output.display());
                return Ok(());
            }
            TemplateCommand::Import {
                name,
                xlsform,
                frequency,
                deadline_days,
                reporters,
                title,
            } => {
                let form = std::fs::read(&xlsform)
                    .with_context(|| format!("cannot read {}", xlsform.display()))?;
                let t = app.import_xlsform(
                    who,
                    &template_name(&name)?,
                    &form,
                    &nansen_app::XlsFormImport {
                        title,
                        frequency,
                        deadline_days,
                        reporters,
                    },
                )?;
                eprintln!("template {} is at version {}", t.name, t.version);
                t
            }
            TemplateCommand::Workbook {
                name,
                period,
                reporter,
                output,
            } => {
                let (_, bytes) =
                    app.workbook(who, &template_name(&name)?, &period, reporter.as_deref())?;
                std::fs::write(&output, bytes)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                eprintln!("wrote {}", output.display());
                return Ok(());
            }
            TemplateCommand::List => {
                for t in app.templates(who)? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        t.name, t.version, t.frequency, t.title
                    )?;
                }
                return Ok(());
            }
        };
        writeln!(out, "{} version {}: {}", t.name, t.version, t.title)?;
        writeln!(
            out,
            "every {}, due {} days after its end, from {}",
            t.frequency,
            t.deadline_days,
            t.reporters.join(", ")
        )?;
        for d in &t.dimensions {
            match &d.code_list {
                Some(list) => writeln!(out, "dimension {}: the code list {list}", d.name)?,
                None => writeln!(out, "dimension {}: {}", d.name, d.codes.join(", "))?,
            }
        }
        writeln!(out, "indicators: {}", t.indicators.join(", "))?;
        for r in &t.rules {
            writeln!(out, "rule {}: {}", r.check, r.message)?;
        }
        for p in &t.points {
            writeln!(
                out,
                "point {}: {} ({}, {}{}{})",
                p.code,
                p.name,
                p.latitude,
                p.longitude,
                p.admin_area
                    .as_ref()
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default(),
                if p.kind.is_empty() {
                    String::new()
                } else {
                    format!(", {}", p.kind)
                }
            )?;
        }
        Ok(())
    }
}

/// `nansen submit`: a reporter's return for a period.
#[derive(clap::Args)]
pub struct SubmitArgs {
    /// The template, ORG/SLUG
    name: String,
    /// The period, as the template's frequency writes it (2026-03, 2026-Q1, 2026-W11, ...)
    #[arg(long)]
    period: String,
    /// The period's workbook filled (XLSX), an SDMX-CSV file, or a CSV with the template's
    /// dimension columns and one column per indicator
    #[arg(long)]
    file: PathBuf,
}

impl SubmitArgs {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let s = ctx
            .app
            .submit(ctx.who, &template_name(&self.name)?, &self.period, bytes)?;
        eprintln!(
            "{} submitted {} cells for {}, revision {}",
            s.reporter, s.cells, s.period, s.revision
        );
        writeln!(ctx.out, "{}", s.id)?;
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum SubmissionCommand {
    /// A template's submissions (a reporter sees its own): id, reporter, period, revision,
    /// status, cells, submitted at.
    List {
        /// The template, ORG/SLUG
        name: String,
        /// Only this period
        #[arg(long)]
        period: Option<String>,
    },
    /// One revision: its status, its comments, and what changed since the revision before.
    Show {
        /// The submission's id
        id: String,
    },
    /// Comment on a return, pinned to a cell (reviewers' comments mark it has-issues).
    Comment {
        /// The submission's id
        id: String,
        /// The cell: its dimension codes in the template's order, then the indicator
        /// (SYR.F.asylum_applications); without it, the whole return
        #[arg(long)]
        cell: Option<String>,
        /// The comment
        #[arg(long)]
        text: String,
    },
    /// Approve a return into the template's dataset (its admins and editors); with --all,
    /// every latest revision at submitted that --period and --reporter select, as one version.
    Approve {
        /// The submission's id
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Approve what the filter selects in this template, ORG/SLUG
        #[arg(long, value_name = "ORG/SLUG")]
        all: Option<String>,
        /// With --all: only this period
        #[arg(long, requires = "all")]
        period: Option<String>,
        /// With --all: only this reporting organisation
        #[arg(long, requires = "all")]
        reporter: Option<String>,
    },
    /// Reject a return, saying why (its admins and editors).
    Reject {
        /// The submission's id
        id: String,
        /// Why, for its reporter
        #[arg(long)]
        reason: String,
    },
}

impl SubmissionCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let detail = match self {
            SubmissionCommand::List { name, period } => {
                writeln!(
                    out,
                    "id\treporter\tperiod\trevision\tstatus\tcells\tsubmitted_at"
                )?;
                for s in app.submissions(who, &template_name(&name)?, period.as_deref())? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        s.id, s.reporter, s.period, s.revision, s.status, s.cells, s.submitted_at
                    )?;
                }
                return Ok(());
            }
            SubmissionCommand::Show { id } => app.submission(who, &id)?,
            SubmissionCommand::Comment { id, cell, text } => {
                app.comment_submission(who, &id, cell.as_deref(), &text)?
            }
            SubmissionCommand::Reject { id, reason } => app.reject_submission(who, &id, &reason)?,
            SubmissionCommand::Approve {
                id,
                all,
                period,
                reporter,
            } => {
                // Said before the one transaction that lands the version and the decisions.
                eprintln!(
                    "approving {}",
                    id.as_deref().or(all.as_deref()).unwrap_or("")
                );
                let a = match (id, all) {
                    (Some(id), _) => app.approve_submission(who, &id)?,
                    (None, Some(name)) => app.approve_submissions(
                        who,
                        &template_name(&name)?,
                        &nansen_app::Selection { period, reporter },
                    )?,
                    (None, None) => unreachable!("clap requires one"),
                };
                for r in &a.replaced {
                    eprintln!("replaces the cells approved from {r}");
                }
                match (a.new_version, a.version) {
                    (true, Some(v)) => writeln!(
                        out,
                        "approved {} into {} version {v}: {} added, {} changed, {} removed",
                        a.approved.len(),
                        a.template,
                        a.added,
                        a.changed,
                        a.removed
                    )?,
                    _ => writeln!(
                        out,
                        "approved {}; no cell of {} changed, so no new version",
                        a.approved.len(),
                        a.template
                    )?,
                }
                return Ok(());
            }
        };
        let s = &detail.submission;
        writeln!(
            out,
            "{} {} {} revision {}: {} ({} cells, submitted by {} at {})",
            s.id,
            s.reporter,
            s.period,
            s.revision,
            s.status,
            s.cells,
            s.submitted_by,
            s.submitted_at
        )?;
        if let (Some(by), Some(at)) = (&s.reviewed_by, &s.reviewed_at) {
            writeln!(out, "reviewed by {by} at {at}")?;
        }
        if let Some(v) = s.dataset_version {
            writeln!(out, "landed as version {v} of {}", s.template)?;
        }
        if let Some(n) = detail.superseded_by {
            writeln!(out, "superseded by revision {n}")?;
        }
        if let Some(p) = detail.previous_revision {
            writeln!(out, "changes since revision {p}: {}", detail.changes.len())?;
            let shown = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
            for c in &detail.changes {
                writeln!(
                    out,
                    "  {}\t{} -> {}",
                    c.cell,
                    shown(c.before),
                    shown(c.after)
                )?;
            }
        }
        for c in &detail.comments {
            let cell = if c.cell.is_empty() {
                "the return"
            } else {
                &c.cell
            };
            writeln!(
                out,
                "comment on {cell} by {} at {}: {}",
                c.author, c.created_at, c.text
            )?;
        }
        Ok(())
    }
}

/// `nansen completeness`: who reported which period on time.
#[derive(clap::Args)]
pub struct CompletenessArgs {
    /// The template, ORG/SLUG
    name: String,
    /// FROM..TO, as the template's frequency writes periods (by default its first period to the current one)
    #[arg(long)]
    period: Option<String>,
    /// How to print: text (tab-separated) or csv
    #[arg(long, value_parser = ["text", "csv"], default_value = "text")]
    format: String,
}

impl CompletenessArgs {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let range = match &self.period {
            None => None,
            Some(p) => Some(p.split_once("..").ok_or_else(|| {
                Failure::Other(anyhow::anyhow!("--period: {p:?} is not FROM..TO"))
            })?),
        };
        let rows = ctx
            .app
            .completeness(ctx.who, &template_name(&self.name)?, range)?;
        let sep = if self.format == "csv" { "," } else { "\t" };
        writeln!(
            ctx.out,
            "{}",
            ["reporter", "period", "status", "submitted_at", "days_late"].join(sep)
        )?;
        for r in rows {
            writeln!(
                ctx.out,
                "{}",
                [
                    r.reporter,
                    r.period,
                    r.status,
                    r.submitted_at.map(|t| t.to_string()).unwrap_or_default(),
                    r.days_late.map(|d| d.to_string()).unwrap_or_default(),
                ]
                .join(sep)
            )?;
        }
        Ok(())
    }
}
