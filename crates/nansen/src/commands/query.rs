//! `nansen query`, `nansen flows` and `nansen compare`: questions to datasets.

use super::Ctx;
use crate::output::{dataset_name, said, Outcome, TableFormat};
use anyhow::Context;
use clap::Args;
use nansen_model::Query;
use std::io::Write;
use std::path::PathBuf;

/// Which observations a question is about: what query, flows and compare share.
#[derive(Args)]
struct Filters {
    /// Keep only these codes of a dimension (repeat for several dimensions)
    #[arg(long = "where", value_name = "DIM=V[,V]")]
    wheres: Vec<String>,
    /// Only periods in this range (2015..2016, 2015-01..2015-06, 2015..)
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
}

impl Filters {
    fn query(&self, group_by: Option<&str>) -> Result<Query, nansen_model::QueryError> {
        Query::parse(&self.wheres, self.period.as_deref(), group_by)
    }
}

#[derive(Args)]
pub struct QueryArgs {
    /// The dataset, as ORG/SLUG
    dataset: String,
    #[command(flatten)]
    filters: Filters,
    /// Dimensions to group the answer by, comma-separated (period, geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    group_by: Option<String>,
    /// How to print the answer
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
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

impl QueryArgs {
    pub fn wants_json(&self) -> bool {
        self.format == TableFormat::Json
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let json = self.wants_json();
        let name = dataset_name(&self.dataset)?;
        let query = self
            .filters
            .query(self.group_by.as_deref())
            .and_then(|query| {
                query.with_options(self.measure.as_deref(), self.frequency.as_deref(), self.top)
            })?;
        let question = nansen_app::Question {
            query,
            rolling: self.rolling,
            change: self
                .change
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(said)?,
            derived: self.derived.clone(),
            per_capita: self.per_capita.clone(),
            share_of: self.share_of.clone(),
        };
        let table = app.ask(who, &name, self.version, &question)?;
        tell(&table, self.flags || json);
        let mut body = Vec::new();
        if json {
            writeln!(body, "{}", nansen_formats::table_json(&table))?;
        } else {
            nansen_formats::table_csv(&table, self.flags, &mut body)?;
        }
        let Some(path) = &self.output else {
            out.write_all(&body)?;
            return Ok(());
        };
        std::fs::write(path, &body).with_context(|| format!("cannot write {}", path.display()))?;
        let p = &table.provenance;
        let meta = serde_json::json!({
            "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "dataset": p.dataset, "title": p.title, "version": p.version,
            "source": p.source, "licence": p.licence, "unit": p.unit,
            "query": format!("nansen query {} {}", self.dataset, p.query).trim().to_string(),
            "incomplete_rows": table.rows.iter().filter(|r| r.incomplete).count(),
            "counted": table.counted.iter().map(|c| c.describe()).collect::<Vec<_>>(),
        });
        let mpath = PathBuf::from(format!("{}.meta.json", path.display()));
        std::fs::write(&mpath, serde_json::to_string_pretty(&meta)? + "\n")?;
        Ok(())
    }
}

#[derive(Args)]
pub struct FlowArgs {
    /// The dataset, as ORG/SLUG
    dataset: String,
    #[command(flatten)]
    filters: Filters,
    /// A transit or route dimension between origin and destination.
    #[arg(long, value_name = "DIM")]
    via: Option<String>,
    /// How to print the answer
    #[arg(long, value_enum, default_value_t = TableFormat::Json)]
    format: TableFormat,
}

impl FlowArgs {
    pub fn wants_json(&self) -> bool {
        self.format == TableFormat::Json
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let name = dataset_name(&self.dataset)?;
        let query = self.filters.query(None)?;
        let flows = app.flows(who, &name, None, &query, self.via.as_deref())?;
        if self.wants_json() {
            writeln!(out, "{}", serde_json::to_string(&flows)?)?;
        } else {
            writeln!(out, "source,target,value")?;
            for l in flows.links {
                writeln!(out, "{},{},{}", l.source, l.target, l.value)?;
            }
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct CompareArgs {
    /// Two or more datasets holding the same indicator.
    #[arg(required = true, num_args = 2..)]
    datasets: Vec<String>,
    #[command(flatten)]
    filters: Filters,
    /// Dimensions to group the answer by, comma-separated (period, geo, origin, ...)
    #[arg(long, value_name = "DIM[,DIM]")]
    group_by: Option<String>,
    /// Add up to a coarser frequency first: month, quarter or year
    #[arg(long)]
    frequency: Option<String>,
    /// How to print the answer
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
}

impl CompareArgs {
    pub fn wants_json(&self) -> bool {
        self.format == TableFormat::Json
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        let json = self.wants_json();
        let query = self
            .filters
            .query(self.group_by.as_deref())
            .and_then(|q| q.with_options(None, self.frequency.as_deref(), None))?;
        let table = app.compare(who, &self.datasets, &query)?;
        tell(&table, json);
        if json {
            writeln!(out, "{}", nansen_formats::table_json(&table))?;
        } else {
            nansen_formats::table_csv(&table, false, out)?;
        }
        Ok(())
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
