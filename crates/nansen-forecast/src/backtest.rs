//! Rolling-origin forecasting, for backtests and for production alike: at each origin every
//! model is fitted on the history up to it. The errors of origins whose outcome is already
//! known at a later origin give that later origin its intervals and `auto`'s weights, so
//! nothing is ever chosen with data from after the origin.

use crate::models::{point_forecasts, Model, COMBINED};
use crate::{mase_scale, prepare, Budget, ForecastError, Series, Stopped};
use serde::Serialize;

/// How many earlier origins calibrate intervals: a year, so that they follow a change of regime.
pub const CALIBRATION: usize = 12;

/// How many earlier origins weigh `auto`'s models: two years, so one bad season does not decide.
pub const WEIGHING: usize = 24;

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// 12 monthly, 52 weekly, 4 quarterly, 1 annual.
    pub season: usize,
    pub horizon: usize,
    /// Of the prediction interval, in per cent.
    pub level: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelScore {
    pub series: String,
    pub model: &'static str,
    pub mase: f64,
    pub smape: f64,
    /// The share (0 to 1) of actual values inside the 80% interval.
    pub coverage80: f64,
    /// Mean scaled interval score of the 80% interval.
    pub msis: f64,
    pub forecasts: usize,
}

/// One forecast of a backtest, beside what happened.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Detail {
    pub series: String,
    pub model: &'static str,
    pub origin: String,
    pub horizon: usize,
    pub period: String,
    pub actual: f64,
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BacktestReport {
    /// One per series and model.
    pub scores: Vec<ModelScore>,
    /// One per model over every series (series empty).
    pub overall: Vec<ModelScore>,
    pub details: Vec<Detail>,
    /// Series left out: too short for the windows and horizon asked.
    pub skipped: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ForecastRow {
    pub series: String,
    pub period: String,
    pub model: &'static str,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

pub type Forecast = Vec<ForecastRow>;

struct Prepared {
    values: Vec<f64>,
    /// Reported (not filled) at each index.
    reported: Vec<bool>,
    first: usize,
}

impl Prepared {
    fn end(&self) -> usize {
        self.first + self.values.len() - 1
    }
    fn actual(&self, global: usize) -> Option<f64> {
        let i = global.checked_sub(self.first)?;
        (i < self.values.len() && self.reported[i]).then(|| self.values[i])
    }
}

/// A model's forecast from one origin for one series.
#[derive(Clone)]
struct Made {
    /// The global index of the history's last period.
    base: usize,
    scale: f64,
    /// Recent volatility: the mean absolute change of the log series over the last year.
    vol: f64,
    mean: Vec<f64>,
}

fn volatility(history: &[f64]) -> f64 {
    let tail = &history[history.len().saturating_sub(13)..];
    if tail.len() < 2 {
        return 0.2;
    }
    let v = tail
        .windows(2)
        .map(|w| (w[1].ln_1p() - w[0].ln_1p()).abs())
        .sum::<f64>()
        / (tail.len() - 1) as f64;
    v.max(0.02)
}

struct Engine<'a> {
    series: Vec<Prepared>,
    names: Vec<&'a str>,
    models: Vec<Model>,
    opts: Options,
    first_origin: usize,
    /// By model, series and origin (from `first_origin`).
    made: Vec<Vec<Vec<Option<Made>>>>,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl<'a> Engine<'a> {
    fn new(
        input: &'a [Series],
        mut models: Vec<Model>,
        opts: Options,
        first_origin: usize,
    ) -> Engine<'a> {
        if models.contains(&Model::Auto) {
            for c in COMBINED {
                if !models.contains(&c) {
                    models.push(c);
                }
            }
            // `auto` is made last at each origin, from the others.
            models.retain(|m| *m != Model::Auto);
            models.push(Model::Auto);
        }
        // A series with no value at all (every cell suppressed, say) has nothing to forecast.
        let input: Vec<&'a Series> = input
            .iter()
            .filter(|s| s.values.iter().any(Option::is_some))
            .collect();
        let series = input
            .iter()
            .map(|s| {
                let (values, first) = prepare(&s.values);
                let reported = (0..values.len())
                    .map(|i| s.values[first + i].is_some())
                    .collect();
                Prepared {
                    values,
                    reported,
                    first,
                }
            })
            .collect();
        let made = vec![vec![Vec::new(); input.len()]; models.len()];
        Engine {
            names: input.iter().map(|s| s.name.as_str()).collect(),
            series,
            made,
            models,
            opts,
            first_origin,
        }
    }

    /// Scaled errors at horizon `k` of forecasts whose outcome was known by `origin`, from
    /// the last CALIBRATION origins that had one.
    fn errors(&self, mi: usize, origin: usize, k: usize) -> Vec<f64> {
        self.errors_within(mi, origin, k, CALIBRATION)
    }

    fn errors_within(&self, mi: usize, origin: usize, k: usize, window: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for (si, s) in self.series.iter().enumerate() {
            for made in self.made[mi][si].iter().flatten() {
                let target = made.base + k;
                if target <= origin && target + window >= origin {
                    if let Some(a) = s.actual(target) {
                        out.push((a.ln_1p() - made.mean[k - 1].ln_1p()) / made.vol);
                    }
                }
            }
        }
        out.sort_by(f64::total_cmp);
        out
    }

    fn interval(&self, mi: usize, origin: usize, made: &Made, k: usize, level: f64) -> (f64, f64) {
        let e = self.errors(mi, origin, k);
        let a = (1.0 - level / 100.0) / 2.0;
        let (lo, hi) = if e.len() >= 8 {
            (quantile(&e, a), quantile(&e, 1.0 - a))
        } else {
            // Too few errors yet: a normal interval of one volatility a period, widening with the horizon.
            let z = 1.2816 * (level / 80.0);
            (-z * (k as f64).sqrt(), z * (k as f64).sqrt())
        };
        // Errors are relative (on the log scale) and in units of each series' recent
        // volatility, so one pool of errors serves calm and restless series alike.
        let f = made.mean[k - 1].ln_1p();
        (
            (f + lo * made.vol).exp_m1().max(0.0),
            (f + hi * made.vol).exp_m1().max(0.0),
        )
    }

    fn run(&mut self, last_origin: usize, budget: &Budget) -> Result<(), Stopped> {
        let h = self.opts.horizon;
        let m = self.opts.season;
        for origin in self.first_origin..=last_origin {
            budget.check()?;
            let mut members = Vec::new();
            let mut histories: Vec<&[f64]> = Vec::new();
            let mut gaps = Vec::new();
            for (si, s) in self.series.iter().enumerate() {
                if origin < s.first {
                    continue;
                }
                let end = origin.min(s.end());
                members.push((si, end));
                histories.push(&s.values[..=end - s.first]);
                gaps.push(origin - end);
            }
            for mi in 0..self.models.len() {
                let model = self.models[mi];
                let means: Vec<Vec<f64>> = if model == Model::Auto {
                    self.combine(origin, &members, h)
                } else {
                    point_forecasts(model, &histories, &gaps, m, h)
                };
                for (((si, end), mean), hist) in members.iter().zip(means).zip(&histories) {
                    let made = Made {
                        base: *end,
                        scale: mase_scale(hist, m),
                        vol: volatility(hist),
                        mean,
                    };
                    let list = &mut self.made[mi][*si];
                    list.resize(origin - self.first_origin, None);
                    list.push(Some(made));
                }
            }
        }
        Ok(())
    }

    /// `auto` at one origin: for each series and horizon, a weighted geometric mean of the
    /// combined models' forecasts. A model's weight is the inverse fourth power of its error
    /// at that horizon on the origins whose outcome is known by then: half the panel's record,
    /// half the series' own (sharp: the best leads, the rest still temper it).
    fn combine(&self, origin: usize, members: &[(usize, usize)], h: usize) -> Vec<Vec<f64>> {
        let idx: Vec<usize> = COMBINED
            .iter()
            .map(|c| {
                self.models
                    .iter()
                    .position(|m| m == c)
                    .expect("combined models are made")
            })
            .collect();
        // Relative accuracy: the mean absolute log error, in volatilities.
        let mean_abs = |errs: Vec<f64>, least: usize| {
            (errs.len() >= least)
                .then(|| errs.iter().map(|e| e.abs()).sum::<f64>() / errs.len() as f64)
        };
        let panel: Vec<Vec<Option<f64>>> = idx
            .iter()
            .map(|&mi| {
                (1..=h)
                    .map(|k| mean_abs(self.errors_within(mi, origin, k, WEIGHING), 8))
                    .collect()
            })
            .collect();
        let slot = origin - self.first_origin;
        members
            .iter()
            .map(|&(si, _)| {
                (1..=h)
                    .map(|k| {
                        let weights: Vec<f64> = idx
                            .iter()
                            .zip(&panel)
                            .map(|(&mi, p)| {
                                let own =
                                    mean_abs(self.series_errors(mi, si, origin, k, WEIGHING), 6);
                                let e = match (p[k - 1], own) {
                                    (Some(p), Some(o)) => Some((p + o) / 2.0),
                                    (p, _) => p,
                                };
                                // All alike before any error is known.
                                e.map(|e| 1.0 / e.powi(4).max(1e-6)).unwrap_or(1.0)
                            })
                            .collect();
                        let total: f64 = weights.iter().sum();
                        // Combined on the log scale, as a geometric mean.
                        let log_mean = idx
                            .iter()
                            .zip(&weights)
                            .map(|(&mi, w)| {
                                w * self.made[mi][si][slot]
                                    .as_ref()
                                    .map(|m| m.mean[k - 1].ln_1p())
                                    .unwrap_or(0.0)
                            })
                            .sum::<f64>()
                            / total;
                        log_mean.exp_m1()
                    })
                    .collect()
            })
            .collect()
    }

    /// One series' scaled log errors at horizon `k` known by `origin`, within `window`.
    fn series_errors(
        &self,
        mi: usize,
        si: usize,
        origin: usize,
        k: usize,
        window: usize,
    ) -> Vec<f64> {
        let s = &self.series[si];
        self.made[mi][si]
            .iter()
            .flatten()
            .filter(|made| made.base + k <= origin && made.base + k + window >= origin)
            .filter_map(|made| {
                s.actual(made.base + k)
                    .map(|a| (a.ln_1p() - made.mean[k - 1].ln_1p()) / made.vol)
            })
            .collect()
    }

    fn made_at(&self, mi: usize, si: usize, origin: usize) -> Option<&Made> {
        self.made[mi]
            .get(si)?
            .get(origin.checked_sub(self.first_origin)?)?
            .as_ref()
    }
}

fn check_level(level: f64) -> Result<(), ForecastError> {
    if (1.0..=99.0).contains(&level) {
        Ok(())
    } else {
        Err(ForecastError::BadLevel(level))
    }
}

/// The last reported period of the whole panel.
fn panel_end(series: &[Series]) -> Result<usize, ForecastError> {
    series
        .iter()
        .filter_map(|s| s.values.iter().rposition(Option::is_some))
        .max()
        .ok_or(ForecastError::Empty)
}

/// Backtests `models` over the last `windows` origins, each forecasting `horizon` periods.
/// `label` names a period by its index in the series.
pub fn backtest(
    series: &[Series],
    models: &[Model],
    windows: usize,
    opts: Options,
    label: &dyn Fn(usize) -> String,
    budget: &Budget,
) -> Result<BacktestReport, ForecastError> {
    check_level(opts.level)?;
    let h = opts.horizon.max(1);
    let need = windows + h + 3;
    let have = |s: &Series| s.values.iter().filter(|v| v.is_some()).count();
    let (kept, short): (Vec<Series>, Vec<Series>) =
        series.iter().cloned().partition(|s| have(s) >= need);
    if kept.is_empty() {
        let s = series.first().ok_or(ForecastError::Empty)?;
        return Err(ForecastError::TooShort {
            series: s.name.clone(),
            have: have(s),
            windows,
            horizon: h,
            need,
        });
    }
    let series = &kept[..];
    let end = panel_end(series)?;
    let last = end - h;
    let first_outer = last + 1 - windows;
    let warm = first_outer.saturating_sub(WEIGHING + h);
    let mut engine = Engine::new(
        series,
        models.to_vec(),
        Options { horizon: h, ..opts },
        warm,
    );
    engine.run(last, budget)?;

    let mut scores = Vec::new();
    let mut details = Vec::new();
    let mut overall = Vec::new();
    for &model in models {
        let mi = engine
            .models
            .iter()
            .position(|m| *m == model)
            .expect("made");
        let mut all = Acc::default();
        for (si, s) in engine.series.iter().enumerate() {
            let mut acc = Acc::default();
            for origin in first_outer..=last {
                let Some(made) = engine.made_at(mi, si, origin) else {
                    continue;
                };
                for k in 1..=h {
                    let target = made.base + k;
                    let Some(actual) = s.actual(target) else {
                        continue;
                    };
                    let mean = made.mean[k - 1];
                    let (lo, hi) = engine.interval(mi, origin, made, k, 80.0);
                    acc.add(actual, mean, lo, hi, made.scale);
                    all.add(actual, mean, lo, hi, made.scale);
                    details.push(Detail {
                        series: engine.names[si].to_string(),
                        model: model.name(),
                        origin: label(made.base),
                        horizon: k,
                        period: label(target),
                        actual,
                        mean,
                        lo80: lo,
                        hi80: hi,
                    });
                }
            }
            scores.push(acc.score(engine.names[si], model));
        }
        overall.push(all.score("", model));
    }
    Ok(BacktestReport {
        scores,
        overall,
        details,
        skipped: short.into_iter().map(|s| s.name).collect(),
    })
}

/// Forecasts `horizon` periods after each series' last reported one, with intervals at
/// `opts.level` calibrated on the origins before.
pub fn forecast(
    series: &[Series],
    model: Model,
    opts: Options,
    label: &dyn Fn(usize) -> String,
    budget: &Budget,
) -> Result<Forecast, ForecastError> {
    check_level(opts.level)?;
    let end = panel_end(series)?;
    let h = opts.horizon.max(1);
    let warm = end.saturating_sub(WEIGHING + h);
    let mut engine = Engine::new(series, vec![model], Options { horizon: h, ..opts }, warm);
    engine.run(end, budget)?;
    let mi = engine
        .models
        .iter()
        .position(|m| *m == model)
        .expect("made");
    let mut rows = Vec::new();
    for si in 0..engine.series.len() {
        let Some(made) = engine.made_at(mi, si, end) else {
            continue;
        };
        for k in 1..=h {
            let (lo, hi) = engine.interval(mi, end, made, k, opts.level);
            rows.push(ForecastRow {
                series: engine.names[si].to_string(),
                period: label(made.base + k),
                model: model.name(),
                mean: made.mean[k - 1],
                lo,
                hi,
            });
        }
    }
    Ok(rows)
}

#[derive(Default)]
struct Acc {
    n: usize,
    ase: f64,
    smape: f64,
    inside: usize,
    is: f64,
}

impl Acc {
    fn add(&mut self, actual: f64, mean: f64, lo: f64, hi: f64, scale: f64) {
        self.n += 1;
        self.ase += (actual - mean).abs() / scale;
        let denom = actual.abs() + mean.abs();
        self.smape += if denom > 0.0 {
            200.0 * (actual - mean).abs() / denom
        } else {
            0.0
        };
        if actual >= lo && actual <= hi {
            self.inside += 1;
        }
        // The interval score at alpha = 0.2: width, plus 2/alpha times any miss.
        let alpha = 0.2;
        let miss = if actual < lo {
            lo - actual
        } else if actual > hi {
            actual - hi
        } else {
            0.0
        };
        self.is += ((hi - lo) + 2.0 / alpha * miss) / scale;
    }

    fn score(&self, series: &str, model: Model) -> ModelScore {
        let n = self.n.max(1) as f64;
        ModelScore {
            series: series.to_string(),
            model: model.name(),
            mase: self.ase / n,
            smape: self.smape / n,
            coverage80: self.inside as f64 / n,
            msis: self.is / n,
            forecasts: self.n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seasonal_series(name: &str, n: usize, seed: u64) -> Series {
        let mut x = seed;
        let values = (0..n)
            .map(|t| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let noise = (x % 1000) as f64 / 1000.0 - 0.5;
                let season = [0.8, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8][t % 12];
                Some((1000.0 * (1.0 + 0.01 * t as f64) * season * (1.0 + 0.1 * noise)).round())
            })
            .collect();
        Series {
            name: name.into(),
            values,
        }
    }

    #[test]
    fn a_backtest_scores_each_model_and_auto_beats_the_naive_forecast_on_seasonal_data() {
        let series: Vec<Series> = (0..4)
            .map(|i| seasonal_series(&format!("s{i}"), 90, 7 + i))
            .collect();
        let opts = Options {
            season: 12,
            horizon: 3,
            level: 80.0,
        };
        let r = backtest(
            &series,
            &[Model::Naive, Model::SeasonalNaive, Model::Auto],
            12,
            opts,
            &|i| i.to_string(),
            &Budget::unlimited(),
        )
        .unwrap();
        assert_eq!(r.scores.len(), 12, "one row per series and model");
        assert!(
            r.scores.iter().all(|s| s.forecasts == 36),
            "12 origins by 3 horizons"
        );
        let get = |m: &str| r.overall.iter().find(|s| s.model == m).unwrap().clone();
        assert!(
            get("auto").mase < get("naive").mase,
            "{:?} {:?}",
            get("auto"),
            get("naive")
        );
        let cov = get("auto").coverage80;
        assert!((0.6..=0.95).contains(&cov), "coverage {cov}");
        // Each detail's origin is before its period, by its horizon.
        for d in &r.details {
            assert_eq!(
                d.period.parse::<usize>().unwrap(),
                d.origin.parse::<usize>().unwrap() + d.horizon
            );
        }
    }

    #[test]
    fn a_series_with_no_value_at_all_is_left_out_not_a_panic() {
        let empty = Series {
            name: "suppressed".into(),
            values: vec![None; 60],
        };
        let rows = forecast(
            &[seasonal_series("x", 60, 3), empty],
            Model::Auto,
            Options {
                season: 12,
                horizon: 2,
                level: 80.0,
            },
            &|i| format!("p{i}"),
            &Budget::unlimited(),
        )
        .unwrap();
        assert!(
            rows.iter().all(|r| r.series == "x") && rows.len() == 2,
            "{rows:?}"
        );
    }

    #[test]
    fn a_forecast_starts_after_the_last_reported_period_with_an_interval_around_it() {
        let mut s = seasonal_series("x", 60, 3);
        s.values.push(None);
        let rows = forecast(
            &[s],
            Model::Auto,
            Options {
                season: 12,
                horizon: 2,
                level: 90.0,
            },
            &|i| format!("p{i}"),
            &Budget::unlimited(),
        )
        .unwrap();
        assert_eq!(
            rows.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
            ["p60", "p61"]
        );
        assert!(
            rows.iter()
                .all(|r| r.lo <= r.mean && r.mean <= r.hi && r.lo >= 0.0),
            "{rows:?}"
        );
    }

    #[test]
    fn a_series_too_short_for_the_backtest_is_left_out_by_name_and_alone_refused() {
        let s = Series {
            name: "tiny".into(),
            values: vec![Some(1.0); 10],
        };
        let opts = Options {
            season: 12,
            horizon: 3,
            level: 80.0,
        };
        let e = backtest(
            std::slice::from_ref(&s),
            &[Model::Naive],
            24,
            opts,
            &|i| i.to_string(),
            &Budget::unlimited(),
        )
        .unwrap_err();
        assert!(
            matches!(e, ForecastError::TooShort { ref series, .. } if series == "tiny"),
            "{e}"
        );
        let r = backtest(
            &[s, seasonal_series("long", 60, 1)],
            &[Model::Naive],
            24,
            opts,
            &|i| i.to_string(),
            &Budget::unlimited(),
        )
        .unwrap();
        assert_eq!(r.skipped, ["tiny"]);
        assert_eq!(r.scores.len(), 1);
    }
}
