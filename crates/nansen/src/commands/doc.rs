//! `nansen doc`: reports, methodologies, country-of-origin information, minutes, training.
//! Access to a listed document is asked and answered with `nansen access`.

use super::Ctx;
use crate::output::{said, Failure, Outcome, TextFormat};
use anyhow::Context;
use clap::{Args, Subcommand};
use nansen_model::Sharing;
use std::path::{Path, PathBuf};

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum DocCommand {
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
        share: Option<Sharing>,
        /// How to print: text for people, json for scripts
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
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
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
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
        share: Sharing,
    },
}

/// What is said about a document, on adding it or describing it again.
#[derive(Args)]
pub struct DocumentFields {
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

fn read(file: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| said(format!("cannot read {}: {e}", file.display())))
}

fn name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl DocCommand {
    pub fn wants_json(&self) -> bool {
        matches!(
            self,
            DocCommand::Add {
                format: TextFormat::Json,
                ..
            } | DocCommand::List {
                format: TextFormat::Json
            }
        )
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            DocCommand::Add {
                file,
                org,
                fields: f,
                share,
                format,
            } => {
                let new = nansen_app::NewDocument {
                    org,
                    title: f.title,
                    doc_type: f.doc_type,
                    countries: f.countries,
                    themes: f.themes,
                    date: f.date,
                    language: f.language,
                    summary: f.summary.unwrap_or_default(),
                    share,
                };
                let bytes = read(&file)?;
                eprintln!(
                    "reading the text of {} ({} KB)",
                    file.display(),
                    bytes.len() >> 10
                );
                let doc = app.add_document(who, &new, &name(&file), &bytes)?;
                if format == TextFormat::Json {
                    writeln!(out, "{}", serde_json::to_string(&doc)?)?;
                } else {
                    let v = &doc.versions[0];
                    let language = if doc.language.is_empty() {
                        "unknown"
                    } else {
                        &doc.language
                    };
                    writeln!(
                        out,
                        "document {}: {} ({}, {} pages, language {language})",
                        doc.id, doc.title, v.format, v.pages
                    )?;
                }
                if let Some(why) = &doc.versions[0].no_text {
                    eprintln!("warning: {why}");
                }
            }
            DocCommand::Version { id, file } => {
                let v = app.add_document_version(who, id, &name(&file), &read(&file)?)?;
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
                let d = app.describe_document(who, id, &m)?;
                eprintln!("document {id} described: {}", d.title);
            }
            DocCommand::List { format } => {
                let list = app.documents(who)?;
                if format == TextFormat::Json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                    return Ok(());
                }
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
            DocCommand::Show { id } => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&app.document(who, id)?)?
            )?,
            DocCommand::Text { id, version } => {
                let text = app.document_text(who, id, version)?;
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
                let f = app.document_file(who, id, version)?;
                // A stored name is never a path (see plain_file_name); its last part only, all the same.
                let path = match output {
                    Some(p) => p,
                    None => PathBuf::from(nansen_app::plain_file_name(&f.file_name)?),
                };
                std::fs::write(&path, &f.bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {} ({} KB)", path.display(), f.bytes.len() >> 10);
            }
            DocCommand::Share { id, share } => {
                let said = share.to_string();
                app.share_document(who, id, share)?;
                eprintln!("document {id} is now {said}");
            }
        }
        Ok(())
    }
}
