//! `nansen dataset`: import, export, show, list, share, describe, redact.

use super::Ctx;
use crate::output::{self, dataset_name, Outcome, OutputFile, TextFormat};
use anyhow::Context;
use clap::Subcommand;
use nansen_formats::ExportFormat;
use nansen_model::Sharing;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Import a file as a new version of ORG/SLUG (all or nothing).
    Import(super::import::ImportArgs),
    /// Write a version's observations.
    Export {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// The version (the latest without it)
        #[arg(long)]
        version: Option<i64>,
        /// The file format to write (csv without it)
        #[arg(long)]
        file_format: Option<OutputFile>,
        /// The file format to write (the old name of --file-format)
        #[arg(long = "format", hide = true, conflicts_with = "file_format")]
        old_format: Option<OutputFile>,
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
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// List the datasets the caller may see.
    List {
        /// How to print: text for people, json for scripts
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// Change who sees a dataset.
    Share {
        /// The dataset, as ORG/SLUG
        dataset: String,
        /// Who sees it: private, listed, public or partners:ORG[,ORG]
        #[arg(long)]
        share: Sharing,
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

impl DatasetCommand {
    pub fn wants_json(&self) -> bool {
        match self {
            DatasetCommand::Import(a) => a.wants_json(),
            DatasetCommand::Show { format, .. } | DatasetCommand::List { format } => {
                *format == TextFormat::Json
            }
            _ => false,
        }
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            DatasetCommand::Import(a) => a.exec(Ctx { app, who, out }),
            DatasetCommand::SetAside {
                dataset,
                version,
                output,
            } => {
                let name = dataset_name(&dataset)?;
                let csv = app.set_aside_rows(who, &name, version)?;
                match output {
                    Some(path) => std::fs::write(&path, csv)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                    None => out.write_all(csv.as_bytes())?,
                }
                Ok(())
            }
            DatasetCommand::Export {
                dataset,
                version,
                file_format,
                old_format,
                output,
            } => {
                let name = dataset_name(&dataset)?;
                let format =
                    output::file_format(file_format, old_format, OutputFile(ExportFormat::Csv)).0;
                let Some(path) = output else {
                    return Ok(app.export(who, &name, version, format, out)?);
                };
                let f = app.export_file(who, &name, version, format)?;
                std::fs::write(&path, &f.bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                // A manifest beside the file: what it is and where it comes from, its hash,
                // and the audit chain's head after this export, kept outside the database.
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
                Ok(())
            }
            DatasetCommand::Show { dataset, format } => {
                let name = dataset_name(&dataset)?;
                let d = app.dataset(who, &name)?;
                let cov = app.coverage(who, &name)?;
                match format {
                    TextFormat::Json => {
                        let json = crate::dataset_show::json(&d, &cov);
                        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
                    }
                    TextFormat::Text => crate::dataset_show::text(&d, &cov, out)?,
                }
                Ok(())
            }
            DatasetCommand::List { format } => {
                let list = app.list_datasets(who)?;
                if format == TextFormat::Json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                    return Ok(());
                }
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
                Ok(())
            }
            DatasetCommand::Share {
                dataset,
                share,
                sensitive,
                threshold,
            } => {
                let name = dataset_name(&dataset)?;
                let said = share.to_string();
                app.share(who, &name, share, sensitive, threshold)?;
                eprintln!("{dataset} is now {said}");
                Ok(())
            }
            DatasetCommand::Describe {
                dataset,
                title,
                description,
                source,
                methodology,
                licence,
                frequency,
                tags,
            } => {
                let name = dataset_name(&dataset)?;
                let meta = nansen_app::Metadata {
                    title,
                    description,
                    source,
                    methodology,
                    licence,
                    update_frequency: frequency,
                    tags: tags.map(|t| output::dims(Some(&t))),
                };
                app.set_metadata(who, &name, &meta)?;
                eprintln!("{dataset} described");
                Ok(())
            }
            DatasetCommand::Redact { dataset, version } => {
                let name = dataset_name(&dataset)?;
                app.redact(who, &name, version)?;
                eprintln!("version {version} of {dataset} was redacted");
                Ok(())
            }
        }
    }
}
