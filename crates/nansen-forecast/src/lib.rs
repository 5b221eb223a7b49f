//! Forecasts for early warning: models, an ensemble, prediction intervals calibrated from
//! each model's own out-of-sample errors, and rolling-origin backtests.
//!
//! A series is a run of regular periods (month, week, quarter or year) with a season length
//! (12, 52, 4 or 1). How awkward series are handled, deliberately:
//! - **Gaps** inside the history are filled by straight lines between the neighbours (a
//!   missing month is not a zero); leading and trailing gaps are dropped, so a forecast
//!   starts after the last reported period.
//! - **Zeros and counts**: models work on `ln(1 + y)`, so growth is proportional and
//!   forecasts never go below zero; means are taken back with `exp(z) - 1`. Theta works on
//!   the counts with a multiplicative season and is floored at zero.
//! - **Short histories**: with fewer than two seasons, seasonal models drop their season;
//!   with fewer than four periods every model falls back to the last value.

mod ets;
mod models;
mod pooled;
mod theta;

pub mod backtest;
mod budget;
pub mod detect;
pub mod farrington;

pub use backtest::{
    backtest, forecast, BacktestReport, Forecast, ForecastRow, ModelScore, Options,
};
pub use budget::{Budget, CancelOnDrop, Stopped};
pub use models::{Model, MODELS};

/// A regular series, oldest first; `None` where a period was not reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForecastError {
    #[error("unknown model {0:?}: choose auto, naive, snaive, ets, theta or pooled")]
    UnknownModel(String),
    #[error("the interval level must be between 1 and 99, not {0}")]
    BadLevel(f64),
    #[error("series {series:?} has {have} reported periods; a backtest of {windows} windows of {horizon} needs at least {need}")]
    TooShort {
        series: String,
        have: usize,
        windows: usize,
        horizon: usize,
        need: usize,
    },
    #[error("no series to forecast")]
    Empty,
    #[error("the computation was stopped: {0}")]
    Stopped(#[from] Stopped),
}

/// The history as the models see it: gaps filled, leading and trailing gaps dropped.
/// Returns the values and the index (in the original series) of the first one.
pub fn prepare(values: &[Option<f64>]) -> (Vec<f64>, usize) {
    let Some(first) = values.iter().position(Option::is_some) else {
        return (Vec::new(), 0);
    };
    let last = values.iter().rposition(Option::is_some).unwrap_or(first);
    let mut out = Vec::with_capacity(last - first + 1);
    let mut i = first;
    while i <= last {
        match values[i] {
            Some(v) => {
                out.push(v.max(0.0));
                i += 1;
            }
            None => {
                let before = *out.last().unwrap_or(&0.0);
                let next = (i..=last).find(|&j| values[j].is_some()).unwrap_or(last);
                let after = values[next].unwrap_or(before).max(0.0);
                let span = (next - i + 1) as f64;
                for k in 0..(next - i) {
                    out.push(before + (after - before) * (k + 1) as f64 / span);
                }
                i = next;
            }
        }
    }
    (out, first)
}

/// Counts to the scale the models work on, and back.
pub(crate) fn to_log(y: &[f64]) -> Vec<f64> {
    y.iter().map(|v| v.max(0.0).ln_1p()).collect()
}

pub(crate) fn from_log(z: f64) -> f64 {
    z.exp_m1().max(0.0)
}

/// The in-sample mean absolute error of the seasonal naive forecast: MASE's denominator.
/// With a history shorter than a season and a bit, the naive forecast's stands in.
pub fn mase_scale(history: &[f64], season: usize) -> f64 {
    let m = if history.len() > season {
        season.max(1)
    } else {
        1
    };
    if history.len() <= m {
        return 1.0;
    }
    let s: f64 = history
        .windows(m + 1)
        .map(|w| (w[m] - w[0]).abs())
        .sum::<f64>()
        / (history.len() - m) as f64;
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_filled_by_lines_and_the_ends_dropped() {
        let (v, first) = prepare(&[None, Some(1.0), None, None, Some(4.0), Some(-2.0), None]);
        assert_eq!(first, 1);
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0, 0.0]);
        assert_eq!(prepare(&[None, None]).0, Vec::<f64>::new());
    }

    #[test]
    fn the_mase_scale_is_the_seasonal_naive_in_sample_error() {
        let h: Vec<f64> = (0..24)
            .map(|i| (i % 12) as f64 + if i >= 12 { 2.0 } else { 0.0 })
            .collect();
        assert_eq!(mase_scale(&h, 12), 2.0);
        assert_eq!(
            mase_scale(&[1.0, 3.0, 2.0], 12),
            1.5,
            "short: the naive error"
        );
    }
}
