//! Exponential smoothing in state-space form with an automatic choice of trend and season
//! (AutoETS), on the log scale: additive there is multiplicative in the counts. Candidates:
//! level only; damped trend; season; damped trend and season. Each is fitted by minimising
//! the one-step squared error with Nelder-Mead, and the one with the lowest AICc is kept.

/// One fitted variant, ready to forecast.
pub struct Fit {
    level: f64,
    trend: f64,
    phi: f64,
    /// The last `m` seasonal states, oldest first (empty without a season).
    season: Vec<f64>,
    pub aicc: f64,
}

impl Fit {
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let m = self.season.len();
        let mut damp = 0.0;
        let mut phi_k = 1.0;
        (1..=h)
            .map(|k| {
                phi_k *= self.phi;
                damp += phi_k;
                let s = if m > 0 { self.season[(k - 1) % m] } else { 0.0 };
                self.level + damp * self.trend + s
            })
            .collect()
    }
}

#[derive(Clone, Copy)]
struct Shape {
    trend: bool,
    season: usize,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Smoothing parameters from unbounded optimiser coordinates, inside the usual region.
fn params(x: &[f64], shape: Shape) -> (f64, f64, f64, f64) {
    let alpha = 0.0001 + 0.9998 * sigmoid(x[0]);
    let mut i = 1;
    let (beta, phi) = if shape.trend {
        i += 2;
        (alpha * sigmoid(x[1]), 0.8 + 0.18 * sigmoid(x[2]))
    } else {
        (0.0, 1.0)
    };
    let gamma = if shape.season > 0 {
        (1.0 - alpha) * sigmoid(x[i])
    } else {
        0.0
    };
    (alpha, beta, gamma, phi)
}

/// Runs the filter; returns the sum of squared one-step errors and the final states.
fn run(
    z: &[f64],
    shape: Shape,
    (alpha, beta, gamma, phi): (f64, f64, f64, f64),
) -> (f64, f64, f64, Vec<f64>) {
    let m = shape.season;
    // Starting states from the first season (or the first few values).
    let n0 = if m > 0 { m } else { z.len().min(4) };
    let mut level = z[..n0].iter().sum::<f64>() / n0 as f64;
    let mut trend = if shape.trend && z.len() >= 2 * n0 {
        (z[n0..2 * n0].iter().sum::<f64>() - z[..n0].iter().sum::<f64>()) / (n0 * n0) as f64
    } else {
        0.0
    };
    let mut season: Vec<f64> = if m > 0 {
        z[..m].iter().map(|v| v - level).collect()
    } else {
        Vec::new()
    };
    let mut sse = 0.0;
    for (t, &y) in z.iter().enumerate() {
        let s = if m > 0 { season[t % m] } else { 0.0 };
        let fitted = level + phi * trend + s;
        let e = y - fitted;
        sse += e * e;
        let new_level = level + phi * trend + alpha * e;
        trend = phi * trend + beta * e;
        level = new_level;
        if m > 0 {
            season[t % m] = s + gamma * e;
        }
    }
    // Rotate so that the season of the next period comes first.
    if m > 0 {
        season.rotate_left(z.len() % m);
    }
    (sse, level, trend, season)
}

/// A small Nelder-Mead minimiser: enough for three or four smoothing parameters.
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, start: &[f64], iterations: usize) -> Vec<f64> {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=n)
        .map(|i| {
            let mut p = start.to_vec();
            if i > 0 {
                p[i - 1] += 1.0;
            }
            let v = f(&p);
            (p, v)
        })
        .collect();
    for _ in 0..iterations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (simplex[n].1 - simplex[0].1).abs() < 1e-10 * (1.0 + simplex[0].1.abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n].0)
                .map(|(c, w)| c + t * (w - c))
                .collect()
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = along(0.5);
            let fc = f(&contracted);
            if fc < simplex[n].1 {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    p.0 =
                        p.0.iter()
                            .zip(&best)
                            .map(|(x, b)| b + 0.5 * (x - b))
                            .collect();
                    p.1 = f(&p.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

fn fit_shape(z: &[f64], shape: Shape) -> Fit {
    let k = 1 + if shape.trend { 2 } else { 0 } + usize::from(shape.season > 0);
    let start = vec![-1.0; k];
    let objective = |x: &[f64]| run(z, shape, params(x, shape)).0;
    let best = nelder_mead(&objective, &start, 150);
    let p = params(&best, shape);
    let (sse, level, trend, season) = run(z, shape, p);
    let n = z.len() as f64;
    // Parameters: the smoothing ones and the initial states.
    let np = (k + 1 + usize::from(shape.trend) + shape.season) as f64;
    let aicc = n * (sse / n).max(1e-12).ln()
        + 2.0 * np
        + if n - np - 1.0 > 0.0 {
            2.0 * np * (np + 1.0) / (n - np - 1.0)
        } else {
            f64::INFINITY
        };
    Fit {
        level,
        trend,
        phi: p.3,
        season,
        aicc,
    }
}

/// The best of the candidate shapes by AICc, on a log-scale history `z`.
pub fn auto(z: &[f64], season: usize) -> Fit {
    let seasonal = season > 1 && z.len() >= 2 * season + 2;
    let mut shapes = vec![Shape {
        trend: false,
        season: 0,
    }];
    if z.len() >= 10 {
        shapes.push(Shape {
            trend: true,
            season: 0,
        });
    }
    if seasonal {
        shapes.push(Shape {
            trend: false,
            season,
        });
        shapes.push(Shape {
            trend: true,
            season,
        });
    }
    shapes
        .into_iter()
        .map(|s| fit_shape(z, s))
        .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
        .expect("one shape at least")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_seasonal_pattern_is_found_and_continued() {
        let z: Vec<f64> = (0..60)
            .map(|t| 5.0 + 0.01 * t as f64 + (t as f64 * std::f64::consts::PI / 6.0).sin())
            .collect();
        let fit = auto(&z, 12);
        let f = fit.forecast(12);
        for (k, v) in f.iter().enumerate() {
            let t = 60 + k;
            let truth = 5.0 + 0.01 * t as f64 + (t as f64 * std::f64::consts::PI / 6.0).sin();
            assert!((v - truth).abs() < 0.15, "step {k}: {v} against {truth}");
        }
    }

    #[test]
    fn nelder_mead_finds_a_minimum() {
        let best = nelder_mead(
            &|x: &[f64]| (x[0] - 1.0).powi(2) + (x[1] + 2.0).powi(2),
            &[0.0, 0.0],
            300,
        );
        assert!(
            (best[0] - 1.0).abs() < 1e-3 && (best[1] + 2.0).abs() < 1e-3,
            "{best:?}"
        );
    }
}
