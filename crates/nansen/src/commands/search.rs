//! `nansen search`: documents and datasets, as the caller sees them.

use super::Ctx;
use crate::output::{Outcome, TextFormat};
use clap::{Args, ValueEnum};
use nansen_app::SearchSort;
use std::io::IsTerminal;

#[derive(Clone, Copy, ValueEnum)]
enum Sort {
    Relevance,
    #[value(alias = "date")]
    Newest,
}

#[derive(Args)]
pub struct SearchArgs {
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
    /// The best matches first, or the newest
    #[arg(long, value_enum, default_value_t = Sort::Relevance)]
    sort: Sort,
    /// How many hits to show
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// How many hits to skip first (for the next page)
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// How to print: text for people, json for scripts
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    format: TextFormat,
}

impl SearchArgs {
    pub fn wants_json(&self) -> bool {
        self.format == TextFormat::Json
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let json = self.wants_json();
        let request = nansen_app::SearchRequest {
            text: self.query,
            doc_type: self.doc_type,
            org: self.org,
            country: self.country.map(|c| c.to_uppercase()),
            year: self.year,
            language: self.language,
            kind: None,
            sort: match self.sort {
                Sort::Relevance => SearchSort::Relevance,
                Sort::Newest => SearchSort::Newest,
            },
            offset: self.offset,
            limit: self.limit,
        };
        let r = ctx.app.search(ctx.who, &request)?;
        let out = ctx.out;
        if json {
            writeln!(out, "{}", serde_json::to_string(&r)?)?;
            return Ok(());
        }
        // Found words in bold on a terminal, between « » in a file.
        let (on, off) = if std::io::stdout().is_terminal() {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("«", "»")
        };
        let plural = if r.total == 1 { "" } else { "s" };
        writeln!(out, "{} result{plural}", r.total)?;
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
}
