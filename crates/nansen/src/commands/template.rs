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
    /// A CSV with the template's dimension columns and one column per indicator
    #[arg(long)]
    file: PathBuf,
}

impl SubmitArgs {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let text = std::fs::read_to_string(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let s = ctx
            .app
            .submit(ctx.who, &template_name(&self.name)?, &self.period, &text)?;
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
}

impl SubmissionCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let SubmissionCommand::List { name, period } = self;
        writeln!(
            ctx.out,
            "id\treporter\tperiod\trevision\tstatus\tcells\tsubmitted_at"
        )?;
        for s in ctx
            .app
            .submissions(ctx.who, &template_name(&name)?, period.as_deref())?
        {
            writeln!(
                ctx.out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                s.id, s.reporter, s.period, s.revision, s.status, s.cells, s.submitted_at
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
