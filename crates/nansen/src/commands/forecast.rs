//! `nansen forecast`, `nansen backtest` and `nansen detect`: what the series will do, how well
//! the models would have done, and where the series leave their usual course.

use super::Ctx;
use crate::output::{dataset_name, dims, said, Failure, Outcome, TableFormat};
use anyhow::Context;
use clap::Args;
use nansen_app::{Budget, SeriesRequest, Tabular};
use nansen_forecast::detect::Rule;
use nansen_forecast::Model;
use nansen_model::{DatasetName, Query};
use std::io::Write;
use std::path::PathBuf;

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
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
}

impl Selection {
    fn json(&self) -> bool {
        self.format == TableFormat::Json
    }

    /// The dataset's owner and slug, and the query that selects the series.
    fn query(&self) -> Result<(DatasetName, Query), Failure> {
        let name = dataset_name(&self.dataset)?;
        let query = Query::parse(&self.wheres, self.period.as_deref(), None)
            .and_then(|q| q.with_options(None, self.frequency.as_deref(), None))?;
        Ok((name, query))
    }

    /// The answer as JSON, or as the table's CSV.
    fn print(
        &self,
        out: &mut dyn Write,
        json: impl FnOnce() -> serde_json::Result<String>,
        table: impl FnOnce() -> Tabular,
    ) -> Outcome {
        if self.json() {
            writeln!(out, "{}", json()?)?;
        } else {
            table().write_csv(out)?;
        }
        Ok(())
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
    fn request(&self, series_by: Vec<String>) -> Result<(DatasetName, SeriesRequest), Failure> {
        let (name, query) = self.selection.query()?;
        let request = SeriesRequest {
            query,
            series_by,
            horizon: self.horizon,
        };
        Ok((name, request))
    }
}

#[derive(Args)]
pub struct ForecastArgs {
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

impl ForecastArgs {
    pub fn wants_json(&self) -> bool {
        self.series.selection.json()
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let model: Model = self.model.parse()?;
        let series_by = dims(self.series_by.as_deref());
        let (name, request) = self.series.request(series_by.clone())?;
        let (_, rows) = ctx.app.forecast(
            ctx.who,
            &name,
            &request,
            self.level,
            model,
            &Budget::unlimited(),
        )?;
        self.series.selection.print(
            ctx.out,
            || serde_json::to_string(&rows),
            || Tabular::forecast(&series_by, &rows),
        )
    }
}

#[derive(Args)]
pub struct BacktestArgs {
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

impl BacktestArgs {
    pub fn wants_json(&self) -> bool {
        self.series.selection.json()
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let models: Vec<Model> = match self.model.as_str() {
            "all" => nansen_forecast::MODELS.to_vec(),
            m => vec![m.parse()?],
        };
        let series_by = dims(Some(&self.series_by));
        let (name, request) = self.series.request(series_by.clone())?;
        let started = std::time::Instant::now();
        let (_, report) = ctx.app.backtest(
            ctx.who,
            &name,
            &request,
            self.windows,
            &models,
            &Budget::unlimited(),
        )?;
        eprintln!(
            "backtest: {} series, {} models, {} forecasts in {:.2} s",
            report.scores.len() / models.len().max(1),
            models.len(),
            report.details.len(),
            started.elapsed().as_secs_f64()
        );
        if !report.skipped.is_empty() {
            let skipped: Vec<_> = report
                .skipped
                .iter()
                .map(|s| s.replace(nansen_app::KEY_SEPARATOR, "/"))
                .collect();
            eprintln!(
                "  left out, too short for {} windows of {}: {}",
                self.windows,
                self.series.horizon,
                skipped.join(", ")
            );
        }
        for o in &report.overall {
            eprintln!(
                "  {:<7} MASE {:.3}  sMAPE {:.2}  coverage80 {:.3}  MSIS {:.2}",
                o.model, o.mase, o.smape, o.coverage80, o.msis
            );
        }
        if let Some(path) = &self.details {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Tabular::backtest_details(&series_by, &report).write_csv(&mut file)?;
        }
        let json = || {
            serde_json::to_string(
                &serde_json::json!({ "scores": report.scores, "overall": report.overall }),
            )
        };
        self.series.selection.print(ctx.out, json, || {
            Tabular::backtest_scores(&series_by, &report)
        })
    }
}

#[derive(Args)]
pub struct DetectArgs {
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

impl DetectArgs {
    pub fn wants_json(&self) -> bool {
        self.selection.json()
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let (name, query) = self.selection.query()?;
        let series_by = dims(self.series_by.as_deref());
        let request = nansen_app::DetectRequest {
            query,
            series_by: series_by.clone(),
            rules: rules(&self.rules)?,
            from: self.from.clone(),
        };
        let (_, found) = ctx
            .app
            .detect(ctx.who, &name, &request, &Budget::unlimited())?;
        let found: Vec<_> = found
            .into_iter()
            .filter(|f| !self.alarms || f.judgement.alarm)
            .collect();
        self.selection.print(
            ctx.out,
            || serde_json::to_string(&found),
            || Tabular::detections(&series_by, &found),
        )
    }
}

/// Detection rules as `--rule` names them; all of them, with their defaults, when none is named.
pub fn rules(list: &[String]) -> Result<Vec<Rule>, Failure> {
    if list.is_empty() {
        return Ok(Rule::all());
    }
    list.iter().map(|r| Rule::parse(r).map_err(said)).collect()
}
