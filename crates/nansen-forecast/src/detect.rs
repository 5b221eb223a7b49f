//! Detection of unusual rises: the CDC's EARS C1, C2 and C3 (Hutwagner et al. 2003), and
//! CUSUM on standardised forecast residuals. Each rule gives, for every period it can judge,
//! the statistic, the expected value, the upper limit and whether it alarms. A minimum count
//! keeps tiny numbers from alarming.
//!
//! The Farrington flexible method is in [`crate::farrington`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::farrington::{judge_at, FarringtonParams};

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Ears {
    /// Baseline: the 7 periods just before.
    C1,
    /// Baseline: 7 periods ending 3 before (a guard band of 2).
    C2,
    /// The sum of the last three C2 excesses over one standard deviation.
    C3,
}

#[derive(Clone, Copy, Debug)]
pub struct EarsParams {
    pub baseline: usize,
    /// The statistic above which a period alarms: 3 for C1 and C2, 2 for C3 (the CDC's).
    pub threshold: f64,
    /// No alarm below this count.
    pub min_count: f64,
}

impl Ears {
    pub fn defaults(self) -> EarsParams {
        EarsParams {
            baseline: 7,
            threshold: if self == Ears::C3 { 2.0 } else { 3.0 },
            min_count: 5.0,
        }
    }
}

/// What a rule says of one period.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Judgement {
    pub index: usize,
    pub observed: f64,
    pub statistic: f64,
    /// The expected value and the value above which the period alarms.
    pub expected: f64,
    pub upper: f64,
    pub alarm: bool,
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    // A flat baseline has no spread; a floor keeps one extra case from being infinitely unusual.
    (mean, var.sqrt().max(0.5))
}

/// C1 or C2 statistics with their baselines' mean and spread, for each period that has a baseline.
fn c_stats(y: &[f64], baseline: usize, lag: usize) -> Vec<(usize, f64, f64, f64)> {
    (baseline + lag..y.len())
        .map(|t| {
            let (mean, sd) = mean_sd(&y[t - lag - baseline..t - lag]);
            (t, (y[t] - mean) / sd, mean, sd)
        })
        .collect()
}

pub fn ears(y: &[f64], method: Ears, p: EarsParams) -> Vec<Judgement> {
    let judge = |t: usize, statistic: f64, expected: f64, upper: f64| Judgement {
        index: t,
        observed: y[t],
        statistic,
        expected,
        upper,
        alarm: statistic > p.threshold && y[t] >= p.min_count,
    };
    match method {
        Ears::C1 => c_stats(y, p.baseline, 0)
            .into_iter()
            .map(|(t, s, m, sd)| judge(t, s, m, m + p.threshold * sd))
            .collect(),
        Ears::C2 => c_stats(y, p.baseline, 2)
            .into_iter()
            .map(|(t, s, m, sd)| judge(t, s, m, m + p.threshold * sd))
            .collect(),
        Ears::C3 => {
            let c2 = c_stats(y, p.baseline, 2);
            (2..c2.len())
                .map(|i| {
                    let (t, _, mean, sd) = c2[i];
                    let earlier: f64 = c2[i - 2..i].iter().map(|c| (c.1 - 1.0).max(0.0)).sum();
                    let statistic = earlier + (c2[i].1 - 1.0).max(0.0);
                    // The count at which C3 would reach its threshold, the earlier excesses given.
                    let upper = mean + sd * (1.0 + (p.threshold - earlier).max(0.0));
                    judge(t, statistic, mean, upper)
                })
                .collect()
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct CusumParams {
    /// The allowance, in standard deviations (half the shift to detect).
    pub k: f64,
    /// The decision limit.
    pub h: f64,
    pub min_count: f64,
}

impl Default for CusumParams {
    fn default() -> Self {
        CusumParams {
            k: 0.5,
            h: 4.0,
            min_count: 5.0,
        }
    }
}

/// An upper CUSUM of `(observed - expected) / scale`; it starts again from zero after an alarm.
pub fn cusum(observed: &[f64], expected: &[f64], scale: &[f64], p: CusumParams) -> Vec<Judgement> {
    let mut s = 0.0;
    observed
        .iter()
        .zip(expected)
        .zip(scale)
        .enumerate()
        .map(|(t, ((&y, &f), &sc))| {
            let z = (y - f) / sc.max(1e-9);
            s = (s + z - p.k).max(0.0);
            let alarm = s > p.h && y >= p.min_count;
            let j = Judgement {
                index: t,
                observed: y,
                statistic: s,
                expected: f,
                upper: f + (p.h + p.k - (s - z + p.k).max(0.0)).max(0.0) * sc,
                alarm,
            };
            if alarm {
                s = 0.0;
            }
            j
        })
        .collect()
}

/// A rule as a watch keeps it: its name and any parameters that differ from its defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

/// The rules, by name, and the parameters each takes.
pub const RULES: &[(&str, &[&str])] = &[
    ("c1", &["baseline", "threshold", "min_count"]),
    ("c2", &["baseline", "threshold", "min_count"]),
    ("c3", &["baseline", "threshold", "min_count"]),
    (
        "farrington",
        &[
            "years",
            "half_window",
            "periods",
            "weights_threshold",
            "left_out",
            "trend_p",
            "alpha",
            "min_count",
            "count_periods",
        ],
    ),
    ("cusum", &["k", "h", "min_count"]),
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("unknown rule {0:?}: choose c1, c2, c3, farrington or cusum")]
    Unknown(String),
    #[error("rule {rule} has no parameter {param:?}; it takes {takes}")]
    UnknownParam {
        rule: String,
        param: String,
        takes: String,
    },
    #[error("rule {rule}: {param} = {value} is out of range")]
    OutOfRange {
        rule: String,
        param: String,
        value: f64,
    },
    #[error("cannot read rule {0:?}: write NAME or NAME:PARAM=VALUE,PARAM=VALUE")]
    Syntax(String),
}

impl Rule {
    /// Every rule, each with its defaults.
    pub fn all() -> Vec<Rule> {
        RULES
            .iter()
            .map(|(name, _)| Rule {
                name: name.to_string(),
                params: BTreeMap::new(),
            })
            .collect()
    }

    /// `farrington` or `farrington:alpha=0.01,years=3`.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let (name, rest) = text.trim().split_once(':').unwrap_or((text.trim(), ""));
        let mut params = BTreeMap::new();
        for pair in rest.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| RuleError::Syntax(text.into()))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| RuleError::Syntax(text.into()))?;
            params.insert(k.trim().to_string(), v);
        }
        let rule = Rule {
            name: name.to_lowercase(),
            params,
        };
        rule.check()?;
        Ok(rule)
    }

    pub fn check(&self) -> Result<(), RuleError> {
        let (_, takes) = RULES
            .iter()
            .find(|(n, _)| *n == self.name)
            .ok_or_else(|| RuleError::Unknown(self.name.clone()))?;
        for (k, &v) in &self.params {
            if !takes.contains(&k.as_str()) {
                return Err(RuleError::UnknownParam {
                    rule: self.name.clone(),
                    param: k.clone(),
                    takes: takes.join(", "),
                });
            }
            let ok = match k.as_str() {
                "alpha" | "trend_p" => v > 0.0 && v < 1.0 || (k == "trend_p" && v == 1.0),
                "baseline" | "years" | "periods" | "count_periods" => {
                    (1.0..=520.0).contains(&v) && v.fract() == 0.0
                }
                "half_window" | "left_out" => (0.0..=520.0).contains(&v) && v.fract() == 0.0,
                _ => v.is_finite() && v >= 0.0,
            };
            if !ok {
                return Err(RuleError::OutOfRange {
                    rule: self.name.clone(),
                    param: k.clone(),
                    value: v,
                });
            }
        }
        Ok(())
    }

    fn get(&self, k: &str, default: f64) -> f64 {
        self.params.get(k).copied().unwrap_or(default)
    }

    fn ears(&self) -> Option<(Ears, EarsParams)> {
        let method = match self.name.as_str() {
            "c1" => Ears::C1,
            "c2" => Ears::C2,
            "c3" => Ears::C3,
            _ => return None,
        };
        let d = method.defaults();
        Some((
            method,
            EarsParams {
                baseline: self.get("baseline", d.baseline as f64) as usize,
                threshold: self.get("threshold", d.threshold),
                min_count: self.get("min_count", d.min_count),
            },
        ))
    }

    pub fn farrington_params(&self, season: usize) -> FarringtonParams {
        let d = FarringtonParams::noufaily(season);
        FarringtonParams {
            years: self.get("years", d.years as f64) as usize,
            half_window: self.get("half_window", d.half_window as f64) as usize,
            periods: self.get("periods", d.periods as f64) as usize,
            weights_threshold: self.get("weights_threshold", d.weights_threshold),
            left_out: self.get("left_out", d.left_out as f64) as usize,
            trend_p: self.get("trend_p", d.trend_p),
            alpha: self.get("alpha", d.alpha),
            min_count: self.get("min_count", d.min_count),
            count_periods: self.get("count_periods", d.count_periods as f64) as usize,
        }
    }

    fn cusum(&self) -> CusumParams {
        let d = CusumParams::default();
        CusumParams {
            k: self.get("k", d.k),
            h: self.get("h", d.h),
            min_count: self.get("min_count", d.min_count),
        }
    }

    /// Whether the rule judges forecast residuals, and so needs [`OneStep`] forecasts.
    pub fn needs_forecasts(&self) -> bool {
        self.name == "cusum"
    }

    /// Judges the periods of `y` (gaps filled as for forecasting; see [`crate::prepare`])
    /// from index `from` on. `one_step` gives, for CUSUM, the forecast of each period made
    /// the period before.
    pub fn run(
        &self,
        y: &[f64],
        season: usize,
        from: usize,
        one_step: &[Option<OneStep>],
    ) -> Vec<Judgement> {
        let mut out = if let Some((method, p)) = self.ears() {
            ears(y, method, p)
        } else if self.name == "farrington" {
            let p = self.farrington_params(season);
            // Only the periods asked for: each is a model fit of its own.
            (from.max(p.first_judged(season))..y.len())
                .filter_map(|t| judge_at(y, t, season, &p))
                .collect()
        } else {
            let known: Vec<usize> = (0..y.len())
                .filter(|&t| one_step.get(t).is_some_and(Option::is_some))
                .collect();
            let Some(&first) = known.first() else {
                return Vec::new();
            };
            let at = |t: usize| one_step.get(t).copied().flatten();
            // A period without a forecast counts as unremarkable.
            let expected: Vec<f64> = (first..y.len())
                .map(|t| at(t).map_or(y[t], |f| f.mean))
                .collect();
            let scale: Vec<f64> = (first..y.len())
                .map(|t| at(t).map_or(1.0, |f| f.scale()))
                .collect();
            let mut j = cusum(&y[first..], &expected, &scale, self.cusum());
            j.iter_mut().for_each(|j| j.index += first);
            j
        };
        out.retain(|j| j.index >= from);
        out
    }
}

/// A forecast of one period made the period before, with its 80% interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OneStep {
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
}

impl OneStep {
    /// The spread the interval implies, in standard deviations of a normal (z(0.9) = 1.2816).
    pub fn scale(&self) -> f64 {
        ((self.hi80 - self.lo80) / (2.0 * 1.281_551_565_5)).max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: baseline 10, 12, 11, 13, 9, 10, 12 has mean 11 and standard deviation
    /// sqrt(12 / 6) = 1.41421; 16 is (16 - 11) / 1.41421 = 3.5355 standard deviations above.
    #[test]
    fn c1_is_the_distance_from_the_last_seven_periods_in_standard_deviations() {
        let y = [10.0, 12.0, 11.0, 13.0, 9.0, 10.0, 12.0, 16.0];
        let j = ears(&y, Ears::C1, Ears::C1.defaults());
        assert_eq!(j.len(), 1);
        assert!((j[0].statistic - 3.5355).abs() < 1e-4, "{:?}", j[0]);
        assert!(j[0].alarm);
        assert!((j[0].upper - (11.0 + 3.0 * 2f64.sqrt())).abs() < 1e-9);
    }

    /// C2 skips the two periods before: with 20 and 30 just before 16, C1 sees nothing
    /// unusual in 16 while C2, on the same baseline as above, does.
    #[test]
    fn c2_leaves_a_guard_band_of_two_periods() {
        let y = [10.0, 12.0, 11.0, 13.0, 9.0, 10.0, 12.0, 20.0, 30.0, 16.0];
        let c2 = ears(&y, Ears::C2, Ears::C2.defaults());
        let last = c2.last().unwrap();
        assert_eq!(last.index, 9);
        assert!((last.statistic - 3.5355).abs() < 1e-4);
        let c1 = ears(&y, Ears::C1, Ears::C1.defaults());
        assert!(!c1.last().unwrap().alarm);
    }

    /// C3 adds the excesses over 1 of the last three C2 values: here 0, 0 and 2.5355.
    #[test]
    fn c3_sums_three_periods_of_excess() {
        let y = [
            10.0, 12.0, 11.0, 13.0, 9.0, 10.0, 12.0, 11.0, 11.0, 12.0, 11.0, 16.0,
        ];
        let c3 = ears(&y, Ears::C3, Ears::C3.defaults());
        let last = c3.last().unwrap();
        let c2 = ears(&y, Ears::C2, Ears::C2.defaults());
        let expect: f64 = c2[c2.len() - 3..]
            .iter()
            .map(|j| (j.statistic - 1.0).max(0.0))
            .sum();
        assert!((last.statistic - expect).abs() < 1e-12);
        assert!(last.alarm, "{last:?}");
    }

    #[test]
    fn rules_parse_with_their_own_parameters_and_refuse_others() {
        let r = Rule::parse("farrington:alpha=0.01,years=3").unwrap();
        assert_eq!(r.farrington_params(12).alpha, 0.01);
        assert_eq!(r.farrington_params(12).years, 3);
        assert_eq!(
            r.farrington_params(12).half_window,
            1,
            "the rest stays as Noufaily's"
        );
        assert!(matches!(
            Rule::parse("c1:k=2"),
            Err(RuleError::UnknownParam { .. })
        ));
        assert!(matches!(
            Rule::parse("farrington:alpha=2"),
            Err(RuleError::OutOfRange { .. })
        ));
        assert!(matches!(Rule::parse("spike"), Err(RuleError::Unknown(_))));
        assert!(matches!(
            Rule::parse("c2:threshold"),
            Err(RuleError::Syntax(_))
        ));
    }

    #[test]
    fn cusum_rule_judges_residuals_of_the_one_step_forecasts() {
        let y = [100.0, 100.0, 100.0, 130.0, 130.0, 130.0];
        let f = OneStep {
            mean: 100.0,
            lo80: 100.0 - 12.815515655,
            hi80: 100.0 + 12.815515655,
        };
        let one_step = vec![None, Some(f), Some(f), Some(f), Some(f), Some(f)];
        let j = Rule::parse("cusum").unwrap().run(&y, 12, 0, &one_step);
        // z = 3 from index 3 on: S = 2.5, 5 > 4 alarms at index 4.
        assert_eq!(j.first().unwrap().index, 1);
        assert_eq!(
            j.iter()
                .filter(|j| j.alarm)
                .map(|j| j.index)
                .collect::<Vec<_>>(),
            [4]
        );
    }

    #[test]
    fn small_counts_never_alarm() {
        let y = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0];
        assert!(
            !ears(&y, Ears::C1, Ears::C1.defaults())[0].alarm,
            "4 is below the minimum of 5"
        );
    }

    #[test]
    fn cusum_accumulates_a_lasting_shift_and_restarts_after_an_alarm() {
        let expected = [100.0; 10];
        let scale = [10.0; 10];
        let observed = [
            100.0, 105.0, 115.0, 120.0, 120.0, 125.0, 100.0, 100.0, 100.0, 100.0,
        ];
        let j = cusum(&observed, &expected, &scale, CusumParams::default());
        let alarms: Vec<usize> = j.iter().filter(|j| j.alarm).map(|j| j.index).collect();
        // z: 0, .5, 1.5, 2, 2, 2.5; S: 0, 0, 1, 2.5, 4, 6 > 4 at index 5.
        assert_eq!(alarms, [5]);
        assert_eq!(j[6].statistic, 0.0, "restarted");
    }
}
