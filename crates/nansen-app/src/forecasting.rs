//! Forecasts and backtests of a dataset's series, as the caller may see them: the series
//! come from [`App::query`], so permissions, disclosure control and audit apply.

use crate::{App, AppError, Caller, Result};
use nansen_codes::{Frequency, Period};
use nansen_forecast::{BacktestReport, Budget, Forecast, Model, Options, Series};
use nansen_model::{DatasetName, Query, Remedy};
use std::collections::BTreeMap;

/// The series of a dataset, split by some dimensions, on one regular calendar.
pub struct Panel {
    /// The dimensions that name each series.
    pub series_by: Vec<String>,
    pub series: Vec<Series>,
    /// The first period; index `i` of every series is `i` periods after it.
    pub start: Period,
    pub season: usize,
}

/// Which series of a dataset, and how far ahead.
#[derive(Clone, Debug, Default)]
pub struct SeriesRequest {
    /// Its filters, period range and frequency.
    pub query: Query,
    /// One series per combination of these dimensions' values.
    pub series_by: Vec<String>,
    pub horizon: usize,
}

/// How far ahead a forecast or backtest may look, in periods: beyond five years of months no
/// interval means anything, and the cost grows with it.
pub const MAX_HORIZON: usize = 60;
/// How many rolling origins a backtest may test.
pub const MAX_WINDOWS: usize = 120;

impl SeriesRequest {
    fn check(&self) -> Result<()> {
        if !(1..=MAX_HORIZON).contains(&self.horizon) {
            return Err(AppError::BadRequest(format!(
                "the horizon must be 1 to {MAX_HORIZON} periods, not {}",
                self.horizon
            )));
        }
        Ok(())
    }
}

/// What names a series in [`Series::name`]: its dimension values, joined by this.
pub const KEY_SEPARATOR: char = '\u{1f}';

impl Panel {
    /// The period at index `i` (past the data too, for forecasts).
    pub fn period(&self, i: usize) -> String {
        let mut p = self.start;
        for _ in 0..i {
            p = p.next();
        }
        p.to_string()
    }

    /// The index of a period, by its name.
    pub fn index_of(&self, period: &str) -> Option<usize> {
        let target = Period::parse(period).filter(|t| t.frequency() == self.start.frequency())?;
        let mut p = self.start;
        let mut i = 0;
        while p < target {
            p = p.next();
            i += 1;
        }
        (p == target).then_some(i)
    }

    /// A series' dimension values.
    pub fn key(name: &str) -> Vec<String> {
        if name.is_empty() {
            return Vec::new();
        }
        name.split(KEY_SEPARATOR).map(String::from).collect()
    }
}

/// The season length of a frequency, in periods.
pub fn season_of(f: Frequency) -> usize {
    match f {
        Frequency::Year => 1,
        Frequency::Quarter => 4,
        Frequency::Month => 12,
        Frequency::Week => 52,
        Frequency::Day => 7,
    }
}

impl App {
    /// Splits the answer of `q` (its filters, period range and frequency) into series by
    /// `series_by`, one value per period, `None` where a period has none.
    pub fn panel(
        &self,
        who: &Caller,
        name: &DatasetName,
        q: &Query,
        series_by: &[String],
    ) -> Result<Panel> {
        self.panel_as(who, name, q, series_by, false)
    }

    /// As [`App::panel`]; `protected` reads the disclosure-controlled view even when the
    /// caller owns the dataset, for work shown to readers outside it (watches).
    pub(crate) fn panel_as(
        &self,
        who: &Caller,
        name: &DatasetName,
        q: &Query,
        series_by: &[String],
        protected: bool,
    ) -> Result<Panel> {
        let mut q = q.clone();
        q.group_by = series_by
            .iter()
            .cloned()
            .chain(std::iter::once("period".to_string()))
            .collect();
        q.top = None;
        let table = self.query_view(who, name, None, &q, protected)?;
        let n = series_by.len();
        let mut by_key: BTreeMap<Vec<String>, BTreeMap<Period, f64>> = BTreeMap::new();
        for r in &table.rows {
            let Some(p) = Period::parse(&r.key[n]) else {
                continue;
            };
            // Five months are not a year: a period the data covers only in part is left
            // out of the series a model learns from, as an analyst would leave it out.
            if r.incomplete {
                continue;
            }
            let entry = by_key.entry(r.key[..n].to_vec()).or_default();
            if let Some(v) = r.value {
                entry.insert(p, v);
            }
        }
        let periods: Vec<Period> = by_key.values().flat_map(|m| m.keys().copied()).collect();
        let (Some(&start), Some(&end)) = (periods.iter().min(), periods.iter().max()) else {
            return Err(AppError::BadRequest(format!(
                "{name} has no values for these filters to forecast"
            )));
        };
        if periods.iter().any(|p| p.frequency() != start.frequency()) {
            return Err(AppError::needs(
                "the series mix frequencies",
                Remedy::ChooseFrequency,
            ));
        }
        let mut calendar = vec![start];
        while *calendar.last().expect("one") < end {
            let next = calendar.last().expect("one").next();
            calendar.push(next);
        }
        let series = by_key
            .into_iter()
            .map(|(key, values)| Series {
                name: key.join(&KEY_SEPARATOR.to_string()),
                values: calendar.iter().map(|p| values.get(p).copied()).collect(),
            })
            .collect();
        Ok(Panel {
            series_by: series_by.to_vec(),
            series,
            start,
            season: season_of(start.frequency()),
        })
    }

    /// Forecasts each series `horizon` periods ahead, with intervals at `level` per cent.
    /// `budget` bounds it: the caller's deadline, and whether they still wait for it.
    // Each argument is one thing the caller chose; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn forecast(
        &self,
        who: &Caller,
        name: &DatasetName,
        r: &SeriesRequest,
        level: f64,
        model: Model,
        budget: &Budget,
    ) -> Result<(Panel, Forecast)> {
        r.check()?;
        let panel = self.panel(who, name, &r.query, &r.series_by)?;
        let opts = Options {
            season: panel.season,
            horizon: r.horizon,
            level,
        };
        let rows =
            nansen_forecast::forecast(&panel.series, model, opts, &|i| panel.period(i), budget)?;
        Ok((panel, rows))
    }

    /// Backtests models on each series over the last `windows` origins.
    #[allow(clippy::too_many_arguments)]
    pub fn backtest(
        &self,
        who: &Caller,
        name: &DatasetName,
        r: &SeriesRequest,
        windows: usize,
        models: &[Model],
        budget: &Budget,
    ) -> Result<(Panel, BacktestReport)> {
        r.check()?;
        if !(1..=MAX_WINDOWS).contains(&windows) {
            return Err(AppError::BadRequest(format!(
                "the windows must be 1 to {MAX_WINDOWS}, not {windows}"
            )));
        }
        let panel = self.panel(who, name, &r.query, &r.series_by)?;
        let opts = Options {
            season: panel.season,
            horizon: r.horizon,
            level: 80.0,
        };
        let report = nansen_forecast::backtest(
            &panel.series,
            models,
            windows,
            opts,
            &|i| panel.period(i),
            budget,
        )?;
        Ok((panel, report))
    }
}
