//! Weighted least squares that keeps only the newest samples a straight line fits.
//!
//! The line y = a + b·x is fitted with weights 1/wᵢ (wᵢ large: sample less reliable). If the
//! residuals fail the runs test ([`crate::runs`]), the oldest sample is dropped and the fit
//! repeated, until the test passes or only `min_points` remain: a step or a change of
//! frequency in the past then no longer bends the line through the recent samples. This is
//! the approach of chrony's `regress.c`; the code and the runs test's critical values are
//! our own.

use crate::runs::{count_runs, critical_runs};

/// The smallest number of points a regression is made from.
pub const MIN_POINTS: usize = 3;

/// A fitted line and its statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Index of the first point used (the older ones were dropped).
    pub start: usize,
    /// Points used.
    pub n: usize,
    /// Runs of residual signs among the points used.
    pub runs: usize,
    /// Intercept: the line's value at x = 0.
    pub a: f64,
    /// Slope.
    pub b: f64,
    /// Standard error of the slope.
    pub sb: f64,
    /// Standard error of the intercept.
    pub sa: f64,
    /// Weighted average variance of the points about the line.
    pub variance: f64,
    /// Degrees of freedom (n − 2).
    pub dof: usize,
}

/// One weighted fit over `x`, `y`, `w` (equal lengths, at least 3 points, x not all equal).
/// Returns (intercept, slope, Σ1/w, weighted mean of x, Σ(x − x̄)²/w).
fn fit_once(x: &[f64], y: &[f64], w: &[f64]) -> Option<(f64, f64, f64, f64, f64)> {
    let sw: f64 = w.iter().map(|w| 1.0 / w).sum();
    let mx = x.iter().zip(w).map(|(x, w)| x / w).sum::<f64>() / sw;
    let (mut p, mut q, mut v) = (0.0, 0.0, 0.0);
    for ((x, y), w) in x.iter().zip(y).zip(w) {
        let d = x - mx;
        p += y / w;
        q += y * d / w;
        v += d * d / w;
    }
    if v.is_nan() || v <= 0.0 || !sw.is_finite() {
        return None;
    }
    let b = q / v;
    let a = p / sw - b * mx;
    Some((a, b, sw, mx, v))
}

/// Fits the newest points that pass the runs test; `None` with fewer than [`MIN_POINTS`]
/// points, mismatched lengths, non-positive weights or all x equal.
pub fn best_fit(x: &[f64], y: &[f64], w: &[f64], min_points: usize) -> Option<Fit> {
    let n = x.len();
    if n < MIN_POINTS || y.len() != n || w.len() != n || w.iter().any(|w| w.is_nan() || *w <= 0.0) {
        return None;
    }
    let keep = min_points.max(MIN_POINTS);
    let mut start = 0;
    let mut resid = vec![0.0; n];
    loop {
        let (a, b, sw, mx, v) = fit_once(&x[start..], &y[start..], &w[start..])?;
        for i in start..n {
            resid[i] = y[i] - a - b * x[i];
        }
        let used = n - start;
        let runs = count_runs(&resid[start..]);
        if runs > critical_runs(used) || used <= keep {
            let ss: f64 =
                (start..n).map(|i| resid[i] * resid[i] / w[i]).sum::<f64>() / (used - 2) as f64;
            let sb = (ss / v).sqrt();
            let sa = (ss / sw + (mx * sb) * (mx * sb)).sqrt();
            return Some(Fit {
                start,
                n: used,
                runs,
                a,
                b,
                sb,
                sa,
                variance: ss * used as f64 / sw,
                dof: used - 2,
            });
        }
        start += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_by_hand() {
        // y = 1 + 2x through (0,1), (1,3), (2,5), (3,7): slope 2, intercept 1, no residuals.
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = best_fit(&x, &y, &[1.0; 4], 3).unwrap();
        assert!((f.b - 2.0).abs() < 1e-12 && (f.a - 1.0).abs() < 1e-12);
        assert!(f.variance.abs() < 1e-20 && f.sb.abs() < 1e-10);
        assert_eq!((f.n, f.dof, f.start), (4, 2, 0));
    }

    #[test]
    fn small_case_by_hand() {
        // (0,0), (1,1), (2,0), (3,1) unweighted: x̄ = 1.5, slope = Σ(x−x̄)y / Σ(x−x̄)² =
        // (−0.5 + 1.5) / 5 = 0.2, intercept = 0.5 − 0.2·1.5 = 0.2; residuals −0.2, 0.6,
        // −0.6, 0.2: 4 runs; s² = 0.8 / 2 = 0.4, sb = √(0.4 / 5).
        let f = best_fit(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.0, 0.0, 1.0], &[1.0; 4], 3).unwrap();
        assert!((f.b - 0.2).abs() < 1e-12 && (f.a - 0.2).abs() < 1e-12);
        assert_eq!(f.runs, 4);
        assert!((f.sb - (0.4f64 / 5.0).sqrt()).abs() < 1e-12);
        assert!((f.variance - 0.4).abs() < 1e-12);
    }

    #[test]
    fn a_heavy_weight_barely_counts() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [0.0, 0.0, 100.0, 0.0, 0.0];
        let even = best_fit(&x, &y, &[1.0; 5], 5).unwrap();
        let weighted = best_fit(&x, &y, &[1.0, 1.0, 1e6, 1.0, 1.0], 5).unwrap();
        assert!(even.a > 10.0);
        assert!(weighted.a.abs() < 1e-3 && weighted.b.abs() < 1e-3);
    }

    #[test]
    fn old_samples_off_the_line_are_dropped() {
        // 20 old samples 1000 above the line, 30 recent ones alternating ±1 around 0.
        let x: Vec<f64> = (0..50).map(f64::from).collect();
        let y: Vec<f64> = (0..50)
            .map(|i| {
                if i < 20 {
                    1000.0
                } else if i % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let f = best_fit(&x, &y, &vec![1.0; 50], 3).unwrap();
        assert!(f.start >= 20, "start {}", f.start);
        assert!(f.b.abs() < 0.1 && f.a.abs() < 5.0, "{f:?}");
    }

    #[test]
    fn degenerate_inputs() {
        assert!(best_fit(&[0.0, 1.0], &[0.0, 1.0], &[1.0, 1.0], 3).is_none());
        assert!(best_fit(&[1.0; 3], &[0.0, 1.0, 2.0], &[1.0; 3], 3).is_none());
        assert!(best_fit(&[0.0, 1.0, 2.0], &[0.0; 3], &[1.0, 0.0, 1.0], 3).is_none());
        assert!(best_fit(&[0.0, 1.0, 2.0], &[0.0; 2], &[1.0; 3], 3).is_none());
    }
}
