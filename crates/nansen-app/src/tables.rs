//! Tabular answers (forecasts, backtests, detections, alerts) built once, with their
//! documented columns (DESIGN section 5), so the CLI and the API write the same CSV.

use crate::{AlertView, Detection, Panel};
use nansen_forecast::{BacktestReport, Forecast};

/// A header and rows of cells, numbers already written as [`number`] writes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Tabular {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A number in a tabular answer: at most six decimals, no trailing zeros, no "-0"; empty
/// when it is not a number (a score of a series that never moved).
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

impl Tabular {
    fn new(series_by: &[String], columns: &[&str]) -> Self {
        Tabular {
            header: series_by
                .iter()
                .cloned()
                .chain(columns.iter().map(|c| c.to_string()))
                .collect(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, key: Vec<String>, cells: impl IntoIterator<Item = String>) {
        let mut row = key;
        row.extend(cells);
        self.rows.push(row);
    }

    /// `DIM..., period, model, mean, lo, hi`: one row per series and period ahead.
    pub fn forecast(series_by: &[String], rows: &Forecast) -> Self {
        let mut t = Self::new(series_by, &["period", "model", "mean", "lo", "hi"]);
        for r in rows {
            t.push(
                Panel::key(&r.series),
                [
                    r.period.clone(),
                    r.model.to_string(),
                    number(r.mean),
                    number(r.lo),
                    number(r.hi),
                ],
            );
        }
        t
    }

    /// `DIM..., model, mase, smape, coverage80, msis, forecasts`: one row per series and model.
    pub fn backtest_scores(series_by: &[String], report: &BacktestReport) -> Self {
        let columns = ["model", "mase", "smape", "coverage80", "msis", "forecasts"];
        let mut t = Self::new(series_by, &columns);
        for s in &report.scores {
            t.push(
                Panel::key(&s.series),
                [
                    s.model.to_string(),
                    number(s.mase),
                    number(s.smape),
                    number(s.coverage80),
                    number(s.msis),
                    s.forecasts.to_string(),
                ],
            );
        }
        t
    }

    /// `DIM..., model, origin, horizon, period, actual, mean, lo80, hi80`: every forecast a
    /// backtest scored, beside its actual value.
    pub fn backtest_details(series_by: &[String], report: &BacktestReport) -> Self {
        let columns = [
            "model", "origin", "horizon", "period", "actual", "mean", "lo80", "hi80",
        ];
        let mut t = Self::new(series_by, &columns);
        for d in &report.details {
            t.push(
                Panel::key(&d.series),
                [
                    d.model.to_string(),
                    d.origin.clone(),
                    d.horizon.to_string(),
                    d.period.clone(),
                    number(d.actual),
                    number(d.mean),
                    number(d.lo80),
                    number(d.hi80),
                ],
            );
        }
        t
    }

    /// `DIM..., period, rule, observed, expected, upper, statistic, alarm`.
    pub fn detections(series_by: &[String], found: &[Detection]) -> Self {
        let columns = [
            "period",
            "rule",
            "observed",
            "expected",
            "upper",
            "statistic",
            "alarm",
        ];
        let mut t = Self::new(series_by, &columns);
        for f in found {
            let j = &f.judgement;
            t.push(
                f.key.clone(),
                [
                    f.period.clone(),
                    f.rule.name.clone(),
                    number(j.observed),
                    number(j.expected),
                    number(j.upper),
                    number(j.statistic),
                    j.alarm.to_string(),
                ],
            );
        }
        t
    }

    /// `id, status, watch, series, period, rule, observed, expected, upper, assignee`.
    pub fn alerts(alerts: &[AlertView]) -> Self {
        let columns = [
            "id", "status", "watch", "series", "period", "rule", "observed", "expected", "upper",
            "assignee",
        ];
        let mut t = Self::new(&[], &columns);
        for a in alerts {
            let d = &a.detail;
            t.push(
                Vec::new(),
                [
                    a.id.to_string(),
                    a.status.to_string(),
                    a.watch.clone(),
                    a.series.clone(),
                    a.period.clone(),
                    a.rule.clone(),
                    number(d.observed),
                    number(d.expected),
                    number(d.upper),
                    a.assignee.clone().unwrap_or_default(),
                ],
            );
        }
        t
    }

    /// As CSV, with its header.
    pub fn write_csv(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        nansen_formats::rows_csv(&self.header, &self.rows, out)
    }

    /// The CSV in memory, for a response body.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = self.write_csv(&mut bytes);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_keep_six_decimals_without_trailing_zeros_or_negative_zero() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.333333");
        assert_eq!(number(-0.0000001), "0");
        assert_eq!(number(f64::NAN), "");
    }
}
