//! The models by name, and point forecasts for many series at one origin.

use crate::{ets, from_log, pooled, theta, to_log, ForecastError};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    Naive,
    SeasonalNaive,
    Ets,
    Theta,
    Pooled,
    /// What Nansen uses: the other models combined, weighted by how well each did on the
    /// origins before this one.
    Auto,
}

/// Every model, `auto` last (it is built from the others).
pub const MODELS: [Model; 6] = [
    Model::Naive,
    Model::SeasonalNaive,
    Model::Ets,
    Model::Theta,
    Model::Pooled,
    Model::Auto,
];

/// The models `auto` combines.
pub const COMBINED: [Model; 5] = [
    Model::Naive,
    Model::SeasonalNaive,
    Model::Ets,
    Model::Theta,
    Model::Pooled,
];

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Naive => "naive",
            Model::SeasonalNaive => "snaive",
            Model::Ets => "ets",
            Model::Theta => "theta",
            Model::Pooled => "pooled",
            Model::Auto => "auto",
        }
    }
}

impl FromStr for Model {
    type Err = ForecastError;
    fn from_str(s: &str) -> Result<Model, ForecastError> {
        MODELS
            .iter()
            .copied()
            .find(|m| m.name() == s.trim().to_lowercase())
            .ok_or_else(|| ForecastError::UnknownModel(s.into()))
    }
}

/// Histories too short for anything but the last value.
const SHORTEST: usize = 4;

fn naive(y: &[f64], h: usize) -> Vec<f64> {
    vec![*y.last().unwrap_or(&0.0); h]
}

fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Vec<f64> {
    if m < 2 || y.len() < m {
        return naive(y, h);
    }
    (0..h).map(|k| y[y.len() - m + k % m]).collect()
}

/// Point forecasts of `model` (not `auto`) for each history (raw counts, each ending
/// `gaps[i]` periods before the common origin), `h` periods ahead of each history's end.
pub fn point_forecasts(
    model: Model,
    histories: &[&[f64]],
    gaps: &[usize],
    m: usize,
    h: usize,
) -> Vec<Vec<f64>> {
    match model {
        Model::Pooled => {
            let logs: Vec<Vec<f64>> = histories.iter().map(|y| to_log(y)).collect();
            let f = pooled::forecast(&logs, gaps, m, h);
            f.into_iter()
                .zip(histories)
                .map(|(f, y)| {
                    if y.len() < SHORTEST {
                        naive(y, h)
                    } else {
                        f.into_iter().map(from_log).collect()
                    }
                })
                .collect()
        }
        _ => histories
            .iter()
            .map(|y| {
                if y.len() < SHORTEST {
                    return naive(y, h);
                }
                match model {
                    Model::Naive => naive(y, h),
                    Model::SeasonalNaive => seasonal_naive(y, m, h),
                    Model::Ets => ets::auto(&to_log(y), m)
                        .forecast(h)
                        .into_iter()
                        .map(from_log)
                        .collect(),
                    Model::Theta => theta::forecast(y, m, h),
                    Model::Pooled | Model::Auto => unreachable!("handled above"),
                }
            })
            .collect(),
    }
}
