//! A model that learns across series: for each horizon, one ridge regression fitted on every
//! series' history together. It predicts the change in log level from the origin from the
//! series' own recent changes, the same change a year earlier, and the movement of all the
//! other series (the same origin in other destinations moving together).

const FEATURES: usize = 7;
const RIDGE: f64 = 1.0;

fn at(z: &[f64], t: isize) -> Option<f64> {
    (t >= 0).then(|| z.get(t as usize).copied()).flatten()
}

/// Features of series `z` at its index `t`, for horizon `k`; `cross` holds, by distance from
/// the common end, the mean one- and three-period change of all series.
fn features(
    z: &[f64],
    t: isize,
    k: usize,
    m: usize,
    cross: &[(f64, f64)],
    end_gap: usize,
) -> Option<[f64; FEATURES]> {
    let zt = at(z, t)?;
    let d = |lag: isize| at(z, t - lag).map(|p| zt - p);
    let long = if m > 1 { m as isize } else { 2 };
    let seasonal = if m > 1 {
        at(z, t + k as isize - m as isize)
            .zip(at(z, t - m as isize))
            .map(|(a, b)| a - b)
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let from_end = z.len() - 1 - t as usize + end_gap;
    let (c1, c3) = cross.get(from_end).copied().unwrap_or((0.0, 0.0));
    Some([
        1.0,
        d(1)?,
        d(3).unwrap_or(0.0),
        d(long).unwrap_or(0.0),
        seasonal,
        c1,
        c3,
    ])
}

fn solve(mut a: [[f64; FEATURES]; FEATURES], mut b: [f64; FEATURES]) -> [f64; FEATURES] {
    for col in 0..FEATURES {
        let pivot = (col..FEATURES)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        if a[col][col].abs() < 1e-12 {
            continue;
        }
        let pivot_row = a[col];
        for row in col + 1..FEATURES {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; FEATURES];
    for row in (0..FEATURES).rev() {
        if a[row][row].abs() < 1e-12 {
            continue;
        }
        x[row] =
            (b[row] - (row + 1..FEATURES).map(|c| a[row][c] * x[c]).sum::<f64>()) / a[row][row];
    }
    x
}

/// Forecasts every series at once. `series` are log-scale histories ending at the same
/// origin, except that series `i` ends `gaps[i]` periods before it.
pub fn forecast(series: &[Vec<f64>], gaps: &[usize], m: usize, h: usize) -> Vec<Vec<f64>> {
    let longest = series
        .iter()
        .zip(gaps)
        .map(|(z, g)| z.len() + g)
        .max()
        .unwrap_or(0);
    let mut cross = vec![(0.0, 0.0); longest];
    for (from_end, c) in cross.iter_mut().enumerate() {
        let (mut s1, mut s3, mut n) = (0.0, 0.0, 0.0);
        for (z, &g) in series.iter().zip(gaps) {
            let t = z.len() as isize - 1 - (from_end as isize - g as isize);
            if from_end < g {
                continue;
            }
            if let (Some(a), Some(b), Some(c3)) = (at(z, t), at(z, t - 1), at(z, t - 3)) {
                s1 += a - b;
                s3 += a - c3;
                n += 1.0;
            }
        }
        if n > 0.0 {
            *c = (s1 / n, s3 / n);
        }
    }
    let mut out: Vec<Vec<f64>> = series.iter().map(|_| Vec::with_capacity(h)).collect();
    for k in 1..=h {
        let mut xtx = [[0.0; FEATURES]; FEATURES];
        let mut xty = [0.0; FEATURES];
        for (z, &g) in series.iter().zip(gaps) {
            for t in 1..z.len().saturating_sub(k) {
                let Some(x) = features(z, t as isize, k, m, &cross, g) else {
                    continue;
                };
                let y = z[t + k] - z[t];
                for i in 0..FEATURES {
                    xty[i] += x[i] * y;
                    for j in 0..FEATURES {
                        xtx[i][j] += x[i] * x[j];
                    }
                }
            }
        }
        for (i, row) in xtx.iter_mut().enumerate().skip(1) {
            row[i] += RIDGE;
        }
        let beta = solve(xtx, xty);
        for (o, (z, &g)) in out.iter_mut().zip(series.iter().zip(gaps)) {
            let last = z.len() as isize - 1;
            let step = features(z, last, k, m, &cross, g)
                .map(|x| x.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>())
                .unwrap_or(0.0);
            o.push(z[last as usize] + step);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn series_growing_alike_are_forecast_to_keep_growing() {
        let series: Vec<Vec<f64>> = (0..5)
            .map(|s| {
                (0..40)
                    .map(|t| 3.0 + s as f64 * 0.2 + 0.05 * t as f64)
                    .collect()
            })
            .collect();
        let f = super::forecast(&series, &[0; 5], 12, 3);
        for (z, f) in series.iter().zip(&f) {
            let last = z[z.len() - 1];
            for (k, v) in f.iter().enumerate() {
                assert!(
                    (v - (last + 0.05 * (k + 1) as f64)).abs() < 0.02,
                    "{f:?} after {last}"
                );
            }
        }
    }
}
