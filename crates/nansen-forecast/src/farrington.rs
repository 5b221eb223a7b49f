//! The Farrington flexible method (Farrington et al. 1996, improved by Noufaily et al. 2013)
//! as the R package `surveillance` implements it in `farringtonFlexible` with
//! `thresholdMethod = "nbPlugin"`; `tests/fixtures/farrington.R` holds the reference run.
//!
//! For each period judged: the same period in each of the last `years` years, with
//! `half_window` periods either side, forms one level of a seasonal factor; the rest of each
//! year is split into `periods - 1` further levels. A quasi-Poisson log-linear model with that
//! factor and a linear trend is fitted to those past periods, leaving out the most recent
//! `left_out` (so a rise under way does not raise its own baseline). Past outbreaks are
//! down-weighted by their Anscombe residuals and the model refitted. The trend stays only if
//! it is significant, there are at least three years, and it does not predict above every
//! count seen. The upper limit is the `1 - alpha` quantile of a negative binomial with the
//! model's mean and overdispersion.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::detect::Judgement;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FarringtonParams {
    /// How many past years form the baseline (`b`).
    pub years: usize,
    /// Periods either side of each reference period (`w`).
    pub half_window: usize,
    /// Levels of the seasonal factor (`noPeriods`); 1 is the original method's windows only.
    pub periods: usize,
    /// Anscombe residuals above this are down-weighted.
    pub weights_threshold: f64,
    /// The most recent periods left out of the baseline (`pastWeeksNotIncluded`).
    pub left_out: usize,
    /// The trend stays only when its p-value is below this (1: whenever it is estimable).
    pub trend_p: f64,
    pub alpha: f64,
    /// No alarm unless the last `count_periods` periods, this one included, sum to at least
    /// `min_count` (`limit54`).
    pub min_count: f64,
    pub count_periods: usize,
}

impl FarringtonParams {
    /// Noufaily et al.'s recommended settings (5 years, 10 levels, residuals above 2.58
    /// down-weighted, half a year left out, trend whenever estimable), with the window scaled
    /// to the season: 3 weeks, 1 month, none for quarters and years.
    pub fn noufaily(season: usize) -> Self {
        let half_window = match season {
            s if s >= 52 => 3,
            s if s >= 12 => 1,
            _ => 0,
        };
        FarringtonParams {
            years: 5,
            half_window,
            periods: 10.min(season.saturating_sub(2 * half_window)).max(1),
            weights_threshold: 2.58,
            left_out: season / 2,
            trend_p: 1.0,
            alpha: 0.05,
            min_count: 5.0,
            count_periods: 4,
        }
    }

    /// The first index that has a full baseline.
    pub fn first_judged(&self, season: usize) -> usize {
        self.years * season + self.half_window
    }
}

/// Judges every period from the first with a full baseline; a period whose model cannot be
/// fitted is left out.
pub fn farrington(y: &[f64], season: usize, p: &FarringtonParams) -> Vec<Judgement> {
    (p.first_judged(season)..y.len())
        .filter_map(|t| judge(y, t, season, p))
        .collect()
}

/// Judges period `t` alone; `None` before a full baseline or when no model fits.
pub fn judge_at(y: &[f64], t: usize, season: usize, p: &FarringtonParams) -> Option<Judgement> {
    (t >= p.first_judged(season) && t < y.len())
        .then(|| judge(y, t, season, p))
        .flatten()
}

/// The seasonal level of each index up to `t`, as `blocks` in `surveillance`.
fn levels(t: usize, season: usize, p: &FarringtonParams) -> Vec<Option<usize>> {
    let mut level = vec![None; t + 1];
    let w = p.half_window;
    for l in level.iter_mut().take(t + 1).skip(t - w) {
        *l = Some(p.periods);
    }
    for i in 1..=p.years {
        let r = t - i * season;
        for l in level.iter_mut().take(r + w + 1).skip(r - w) {
            *l = Some(p.periods);
        }
        if p.periods > 1 {
            let gap = season - 2 * w - 1;
            let (len, rest) = (gap / (p.periods - 1), gap % (p.periods - 1));
            let mut start = r + w + 1;
            for j in 1..p.periods {
                let n = len + usize::from(j <= rest);
                for l in level.iter_mut().take((start + n).min(t + 1)).skip(start) {
                    *l = Some(j);
                }
                start += n;
            }
        }
    }
    for l in level.iter_mut().skip(t.saturating_sub(p.left_out)) {
        *l = None;
    }
    level
}

struct Fit {
    beta: Vec<f64>,
    /// (X'WX)^-1 at the solution.
    inverse: Vec<Vec<f64>>,
    mu: Vec<f64>,
    /// Pearson's estimate, before the floor at 1.
    dispersion: f64,
    hat: Vec<f64>,
}

fn judge(y: &[f64], t: usize, season: usize, p: &FarringtonParams) -> Option<Judgement> {
    let level = levels(t, season, p);
    let rows: Vec<usize> = (0..t)
        .filter(|&i| level[i].is_some() && y[i].is_finite())
        .collect();
    let mut present: Vec<usize> = rows.iter().filter_map(|&i| level[i]).collect();
    present.sort_unstable();
    present.dedup();
    let response: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    let design = |i: usize, l: usize, trend: bool| -> Vec<f64> {
        let mut x = vec![1.0];
        if trend {
            x.push(i as f64);
        }
        x.extend(present.iter().skip(1).map(|&k| f64::from(u8::from(k == l))));
        x
    };
    let fit_with = |trend: bool| -> Option<(Fit, f64, Vec<f64>)> {
        let x: Vec<Vec<f64>> = rows
            .iter()
            .map(|&i| design(i, level[i].unwrap(), trend))
            .collect();
        let mut fit = irls(&x, &response, &vec![1.0; rows.len()])?;
        let mut phi = fit.dispersion.max(1.0);
        // Past outbreaks are down-weighted by their Anscombe residuals, then the model refitted.
        let s: Vec<f64> = response
            .iter()
            .zip(&fit.mu)
            .zip(&fit.hat)
            .map(|((&y, &mu), &h)| {
                1.5 * (y.powf(2.0 / 3.0) * mu.powf(-1.0 / 6.0) - mu.sqrt())
                    / (phi * (1.0 - h)).sqrt()
            })
            .collect();
        let mut omega: Vec<f64> = s
            .iter()
            .map(|&s| {
                if s > p.weights_threshold {
                    s.powi(-2)
                } else {
                    1.0
                }
            })
            .collect();
        let gamma = omega.len() as f64 / omega.iter().sum::<f64>();
        omega.iter_mut().for_each(|o| *o *= gamma);
        fit = irls(&x, &response, &omega)?;
        phi = fit.dispersion.max(1.0);
        let x0 = design(t, p.periods, trend);
        Some((fit, phi, x0))
    };
    let with_trend = fit_with(true);
    let keep_trend = with_trend.as_ref().is_some_and(|(fit, _, x0)| {
        let eta0: f64 = x0.iter().zip(&fit.beta).map(|(a, b)| a * b).sum();
        let df = (response.len() - fit.beta.len()) as f64;
        let se = (fit.dispersion * fit.inverse[1][1]).sqrt();
        let pvalue = StudentsT::new(0.0, 1.0, df)
            .map(|d| 2.0 * d.cdf(-(fit.beta[1] / se).abs()))
            .unwrap_or(1.0);
        let highest = response.iter().cloned().fold(f64::MIN, f64::max);
        pvalue < p.trend_p && p.years >= 3 && eta0.exp() <= highest
    });
    let (fit, phi, x0) = if keep_trend {
        with_trend?
    } else {
        fit_with(false)?
    };
    let mu0 = x0
        .iter()
        .zip(&fit.beta)
        .map(|(a, b)| a * b)
        .sum::<f64>()
        .exp();
    let q = 1.0 - p.alpha;
    let upper = count_quantile(mu0, phi, q);
    let recent: f64 = y[t + 1 - p.count_periods.min(t + 1)..=t]
        .iter()
        .filter(|v| v.is_finite())
        .sum();
    let observed = y[t];
    Some(Judgement {
        index: t,
        observed,
        statistic: if upper > mu0 {
            (observed - mu0) / (upper - mu0)
        } else {
            0.0
        },
        expected: mu0,
        upper,
        alarm: recent >= p.min_count && observed > upper && observed != 0.0,
    })
}

/// The smallest count whose cumulative probability reaches `q`, for a negative binomial with
/// mean `mu` and variance `phi * mu` (a Poisson when `phi` is 1), as R's `qnbinom(q, mu /
/// (phi - 1), 1 / phi)`. Summed term by term in logs: a quantile of thousands costs
/// thousands of steps, far fewer than an incomplete beta function per bisection step.
fn count_quantile(mu: f64, phi: f64, q: f64) -> f64 {
    if mu <= 0.0 || !mu.is_finite() {
        return 0.0;
    }
    // log P(0) and the log ratio P(k + 1) / P(k) = ln(a(k)) + c.
    let (mut log_p, r, c) = if phi > 1.0 {
        let r = mu / (phi - 1.0);
        (-r * phi.ln(), Some(r), (1.0 - 1.0 / phi).ln())
    } else {
        (-mu, None, mu.ln())
    };
    let mut cdf = 0.0;
    let mut k = 0.0;
    loop {
        cdf += log_p.exp();
        if cdf >= q || k > 1e9 {
            return k;
        }
        log_p += match r {
            Some(r) => ((k + r) / (k + 1.0)).ln() + c,
            None => c - (k + 1.0).ln(),
        };
        k += 1.0;
    }
}

/// A Poisson log-linear model with prior weights, by iteratively reweighted least squares as
/// R's `glm.fit` does (start at y + 0.1, stop when the deviance changes by under 1e-8
/// relatively, at most 25 steps). `None` when it does not converge or the design is singular.
fn irls(x: &[Vec<f64>], y: &[f64], prior: &[f64]) -> Option<Fit> {
    let (n, k) = (y.len(), x.first()?.len());
    if n <= k {
        return None;
    }
    let deviance = |mu: &[f64]| -> f64 {
        2.0 * (0..n)
            .map(|i| {
                prior[i]
                    * (if y[i] > 0.0 {
                        y[i] * (y[i] / mu[i]).ln()
                    } else {
                        0.0
                    } - (y[i] - mu[i]))
            })
            .sum::<f64>()
    };
    let mut mu: Vec<f64> = y.iter().map(|v| v + 0.1).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut old = deviance(&mu);
    for _ in 0..25 {
        let w: Vec<f64> = (0..n).map(|i| prior[i] * mu[i]).collect();
        let z: Vec<f64> = (0..n).map(|i| eta[i] + (y[i] - mu[i]) / mu[i]).collect();
        let inverse = invert(&cross(x, &w))?;
        let xwz: Vec<f64> = (0..k)
            .map(|a| (0..n).map(|i| x[i][a] * w[i] * z[i]).sum())
            .collect();
        let beta: Vec<f64> = (0..k)
            .map(|a| (0..k).map(|b| inverse[a][b] * xwz[b]).sum())
            .collect();
        eta = x
            .iter()
            .map(|row| row.iter().zip(&beta).map(|(a, b)| a * b).sum())
            .collect();
        mu = eta.iter().map(|e| e.exp()).collect();
        let dev = deviance(&mu);
        if !dev.is_finite() {
            return None;
        }
        if (dev - old).abs() / (dev.abs() + 0.1) < 1e-8 {
            let w: Vec<f64> = (0..n).map(|i| prior[i] * mu[i]).collect();
            let inverse = invert(&cross(x, &w))?;
            let hat = (0..n)
                .map(|i| {
                    w[i] * (0..k)
                        .map(|a| {
                            (0..k)
                                .map(|b| x[i][a] * inverse[a][b] * x[i][b])
                                .sum::<f64>()
                        })
                        .sum::<f64>()
                })
                .collect();
            let dispersion = (0..n)
                .map(|i| prior[i] * (y[i] - mu[i]).powi(2) / mu[i])
                .sum::<f64>()
                / (n - k) as f64;
            return Some(Fit {
                beta,
                inverse,
                mu,
                dispersion,
                hat,
            });
        }
        old = dev;
    }
    None
}

/// X'WX.
fn cross(x: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    let k = x[0].len();
    let mut m = vec![vec![0.0; k]; k];
    for (row, &wi) in x.iter().zip(w) {
        for a in 0..k {
            for b in 0..k {
                m[a][b] += row[a] * wi * row[b];
            }
        }
    }
    m
}

/// Gauss-Jordan with partial pivoting; `None` for a singular matrix.
fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let k = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.iter()
                .cloned()
                .chain((0..k).map(|j| f64::from(u8::from(i == j))))
                .collect()
        })
        .collect();
    let scale = m.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs()));
    for c in 0..k {
        let pivot = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[pivot][c].abs() <= scale * 1e-13 {
            return None;
        }
        a.swap(c, pivot);
        let d = a[c][c];
        a[c].iter_mut().for_each(|v| *v /= d);
        for r in 0..k {
            if r != c {
                let f = a[r][c];
                if f != 0.0 {
                    let pivot_row = a[c].clone();
                    a[r].iter_mut()
                        .zip(&pivot_row)
                        .for_each(|(v, p)| *v -= f * p);
                }
            }
        }
    }
    Some(a.into_iter().map(|r| r[k..].to_vec()).collect())
}
