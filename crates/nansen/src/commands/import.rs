//! `nansen dataset import`.

use super::Ctx;
use crate::output::{self, parse_pairs, said, InputFormat, Outcome, TextFormat};
use anyhow::Context;
use clap::Args;
use nansen_app::{ImportRequest, Progress};
use nansen_formats::{Format, ImportOptions, Mapping};
use nansen_model::Sharing;
use std::path::PathBuf;

#[derive(Args)]
pub struct ImportArgs {
    /// The file to read
    file: PathBuf,
    /// The dataset, as ORG/SLUG
    #[arg(long)]
    dataset: String,
    /// The organisation (its short name)
    #[arg(long)]
    org: String,
    /// The file's layout (auto without it: recognise it)
    #[arg(long)]
    file_format: Option<InputFormat>,
    /// The file's layout (the old name of --file-format)
    #[arg(long = "format", hide = true, conflicts_with = "file_format")]
    old_format: Option<InputFormat>,
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
    share: Option<Sharing>,
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
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    report: TextFormat,
}

impl ImportArgs {
    pub fn wants_json(&self) -> bool {
        self.report == TextFormat::Json
    }

    fn options(&self) -> Result<ImportOptions, output::Failure> {
        let format =
            output::file_format(self.file_format, self.old_format, InputFormat(Format::Auto));
        let mut options = ImportOptions {
            format: (format.0 != Format::Auto).then_some(format.0),
            indicator: self.indicator.clone(),
            sheet: self.sheet.clone(),
            accept: parse_pairs(&self.accept, ':')?,
            set_aside: self.set_aside,
            ..ImportOptions::default()
        };
        if let Some(m) = &self.mapping {
            let text = std::fs::read_to_string(m)
                .with_context(|| format!("cannot read the mapping {}", m.display()))?;
            options.mapping = Some(Mapping::parse(&text)?);
        }
        options.recode = parse_pairs(&self.recode, ':')?
            .into_iter()
            .map(|(dim, rest)| match rest.split_once('=') {
                Some((from, to)) => Ok((dim, from.to_string(), to.to_string())),
                None => Err(said(format!(
                    "--recode {dim}:{rest}: expected DIM:VALUE=CODE"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(options)
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let req = ImportRequest {
            org: self.org.clone(),
            slug: self.dataset.clone(),
            file_name: self
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            options: self.options()?,
            append: self.append,
            dry_run: self.dry_run,
            share: self.share.clone(),
            title: self.title.clone(),
            sensitive: self.sensitive.then_some(true),
        };
        if !self.file.exists() {
            return Err(said(format!("no file {}", self.file.display())));
        }
        let shown = output::Progress::new();
        let progress = |p: Progress| {
            let line = match p {
                Progress::Reading { rows } => format!("reading: {rows} rows"),
                Progress::Comparing { observations } => {
                    format!("comparing {observations} observations with the previous version")
                }
                Progress::Saving { done, total } => {
                    format!("saving: {done} of {total} observations")
                }
            };
            shown.show(
                &line,
                !matches!(p, Progress::Reading { rows } if rows % 1_000_000 != 0),
            );
        };
        let result = app.import(who, &req, &self.file, &progress);
        shown.done();
        let r = result?;
        if self.wants_json() {
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
                    super::watch::print_round(&round)
                }
                Ok(_) => {}
                Err(e) => eprintln!(
                    "warning: the early-warning round did not finish: {}",
                    output::describe(&e)
                ),
            }
        }
        Ok(())
    }
}
