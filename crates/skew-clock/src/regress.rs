//! The rate of one clock against another: least squares over bracketed samples, with a
//! 95 % confidence interval.
//!
//! `x` is MONOTONIC_RAW elapsed, `y` is (clock − RAW) at the same instant, both integer ns;
//! the slope of `y` on `x` is the clock's rate against RAW. A step (or a suspend, for
//! REALTIME) starts a new *segment*: every segment gets its own intercept and all share one
//! slope (the pooled "within" estimator), so a step never bends the rate.
//!
//! The confidence interval is Student's t on the slope's standard error, widened for
//! residuals that are correlated from one sample to the next (the kernel adjusts its
//! multiplier tick by tick, so they are): with lag-1 autocorrelation ρ > 0 the effective
//! sample count is n(1 − ρ)/(1 + ρ) and the standard error grows by √((1 + ρ)/(1 − ρ)).
#![forbid(unsafe_code)]

use serde::Serialize;

/// One point of a rate fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    /// MONOTONIC_RAW elapsed, ns.
    pub x_ns: i64,
    /// Clock − RAW (relative to any fixed origin), ns.
    pub y_ns: i64,
    /// Segment: points between two steps share one; segments must be contiguous runs.
    pub segment: u32,
    /// Width of the reading's RAW bracket, ns (used to drop preempted readings).
    pub bracket_ns: i64,
}

/// A fitted rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateFit {
    /// The rate, ppm: (d clock / d RAW − 1) × 10⁶. Positive: the clock runs faster than RAW.
    pub ppm: f64,
    /// Half-width of the 95 % confidence interval, ppm.
    pub ci95_ppm: f64,
    /// Points used.
    pub n: usize,
    /// Segments (1 + steps inside the fit).
    pub segments: usize,
    /// RMS of the residuals, ns.
    pub residual_rms_ns: f64,
    /// Lag-1 autocorrelation of the residuals.
    pub lag1_autocorrelation: f64,
    /// RAW time spanned by the points, s.
    pub span_s: f64,
}

/// Points kept for a fit and how many were dropped as preempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The points whose bracket is tight enough.
    pub points: Vec<Point>,
    /// Points dropped because their bracket was much wider than the median.
    pub rejected: usize,
}

/// Drops readings whose bracket is wider than 4 × the median bracket + 50 ns: the read was
/// preempted and its RAW instant is uncertain.
pub fn select_tight(points: &[Point]) -> Selection {
    if points.is_empty() {
        return Selection {
            points: Vec::new(),
            rejected: 0,
        };
    }
    let mut widths: Vec<i64> = points.iter().map(|p| p.bracket_ns).collect();
    widths.sort_unstable();
    let median = widths[widths.len() / 2];
    let limit = median.saturating_mul(4).saturating_add(50);
    let kept: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.bracket_ns <= limit)
        .collect();
    Selection {
        rejected: points.len() - kept.len(),
        points: kept,
    }
}

/// Fits one slope with an intercept per segment. `None` when there are too few points
/// (fewer than segments + 2) or no spread in `x`.
pub fn fit_rate(points: &[Point]) -> Option<RateFit> {
    // Group into contiguous segments; work in f64 relative to each segment's first point.
    let mut groups: Vec<&[Point]> = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].segment != points[start].segment {
            if i > start {
                groups.push(&points[start..i]);
            }
            start = i;
        }
    }
    let n = points.len();
    let k = groups.len();
    if n < k + 2 {
        return None;
    }
    struct Centred {
        xs: Vec<f64>,
        ys: Vec<f64>,
    }
    let mut centred: Vec<Centred> = Vec::with_capacity(k);
    let (mut sxx, mut sxy) = (0.0f64, 0.0f64);
    for g in &groups {
        let (x0, y0) = (g[0].x_ns, g[0].y_ns);
        let xs: Vec<f64> = g.iter().map(|p| (p.x_ns - x0) as f64).collect();
        let ys: Vec<f64> = g.iter().map(|p| (p.y_ns - y0) as f64).collect();
        let mx = xs.iter().sum::<f64>() / xs.len() as f64;
        let my = ys.iter().sum::<f64>() / ys.len() as f64;
        let xs: Vec<f64> = xs.iter().map(|x| x - mx).collect();
        let ys: Vec<f64> = ys.iter().map(|y| y - my).collect();
        sxx += xs.iter().map(|x| x * x).sum::<f64>();
        sxy += xs.iter().zip(&ys).map(|(x, y)| x * y).sum::<f64>();
        centred.push(Centred { xs, ys });
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let (mut ssr, mut lag) = (0.0f64, 0.0f64);
    for c in &centred {
        let mut prev: Option<f64> = None;
        for (x, y) in c.xs.iter().zip(&c.ys) {
            let e = y - slope * x;
            ssr += e * e;
            if let Some(p) = prev {
                lag += p * e;
            }
            prev = Some(e);
        }
    }
    let df = (n - k - 1) as f64;
    let rho = if ssr > 0.0 {
        (lag / ssr).clamp(-1.0, 0.99)
    } else {
        0.0
    };
    let inflation = if rho > 0.0 {
        ((1.0 + rho) / (1.0 - rho)).sqrt()
    } else {
        1.0
    };
    let n_eff = if rho > 0.0 {
        n as f64 * (1.0 - rho) / (1.0 + rho)
    } else {
        n as f64
    };
    let df_eff = (n_eff - k as f64 - 1.0).max(1.0);
    let se = (ssr / df / sxx).sqrt() * inflation;
    let x_min = points.iter().map(|p| p.x_ns).min().unwrap_or(0);
    let x_max = points.iter().map(|p| p.x_ns).max().unwrap_or(0);
    Some(RateFit {
        ppm: slope * 1e6,
        ci95_ppm: t975(df_eff) * se * 1e6,
        n,
        segments: k,
        residual_rms_ns: (ssr / n as f64).sqrt(),
        lag1_autocorrelation: rho,
        span_s: (x_max - x_min) as f64 / 1e9,
    })
}

/// Student's t quantile at 0.975 for `df` degrees of freedom (two-sided 95 %): exact table
/// to 30 (rounded down for fractional df, which errs wide), Cornish–Fisher expansion above.
pub fn t975(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df.is_nan() || df < 1.0 {
        return TABLE[0];
    }
    if df <= 30.0 {
        return TABLE[(df.floor() as usize).clamp(1, 30) - 1];
    }
    let z = 1.959_963_984_540_054_f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df * df * df)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        n: i64,
        ppm: f64,
        seg_every: i64,
        step_ns: i64,
        noise: impl Fn(i64) -> i64,
    ) -> Vec<Point> {
        (0..n)
            .map(|i| {
                let x = i * 10_000_000;
                let seg = if seg_every > 0 { i / seg_every } else { 0 };
                Point {
                    x_ns: x,
                    y_ns: (x as f64 * ppm * 1e-6).round() as i64 + seg * step_ns + noise(i),
                    segment: seg as u32,
                    bracket_ns: 40,
                }
            })
            .collect()
    }

    #[test]
    fn exact_line() {
        let f = fit_rate(&line(1000, 12.5, 0, 0, |_| 0)).unwrap();
        assert!((f.ppm - 12.5).abs() < 1e-6, "{f:?}");
        assert!(f.ci95_ppm < 1e-4, "{f:?}");
        assert_eq!((f.n, f.segments), (1000, 1));
        assert!((f.span_s - 9.99).abs() < 1e-9);
    }

    #[test]
    fn steps_do_not_bend_the_rate() {
        let f = fit_rate(&line(1000, -3.0, 300, 2_000_000_000, |_| 0)).unwrap();
        assert!((f.ppm + 3.0).abs() < 1e-6, "{f:?}");
        assert_eq!(f.segments, 4);
        let f = fit_rate(&line(1000, 40.0, 250, -1_000_000_000, |i| {
            (i * 7919 % 41) - 20
        }))
        .unwrap();
        assert!((f.ppm - 40.0).abs() < 0.01, "{f:?}");
    }

    #[test]
    fn noise_gives_an_honest_interval() {
        // Uniform ±20 ns noise (pseudo-random): the 95 % interval must contain the truth in
        // about 95 % of trials, and not be absurdly wide.
        let mut covered = 0;
        let trials = 200;
        let mut state = 12345u64;
        let mut widths = Vec::new();
        for t in 0..trials {
            let noise: Vec<i64> = (0..500)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 41) as i64 - 20
                })
                .collect();
            let truth = 0.1 * t as f64;
            let f = fit_rate(&line(500, truth, 0, 0, |i| noise[i as usize])).unwrap();
            if (f.ppm - truth).abs() <= f.ci95_ppm {
                covered += 1;
            }
            widths.push(f.ci95_ppm);
        }
        assert!((180..=200).contains(&covered), "covered {covered}/{trials}");
        // σ = 11.8 ns, n = 500 over 5 s: SE ≈ 11.8e-9·√12/(√500·5) ≈ 0.00037 ppm.
        let mean_w = widths.iter().sum::<f64>() / widths.len() as f64;
        assert!(mean_w > 0.0004 && mean_w < 0.001, "{mean_w}");
    }

    #[test]
    fn correlated_residuals_widen_the_interval() {
        // A slow sawtooth (like the kernel's tick-by-tick multiplier correction).
        let saw = |i: i64| (i % 50) * 4 - 100;
        let f = fit_rate(&line(1000, 1.0, 0, 0, saw)).unwrap();
        assert!(f.lag1_autocorrelation > 0.8, "{f:?}");
        let white = fit_rate(&line(1000, 1.0, 0, 0, |i| (i * 7919 % 201) - 100)).unwrap();
        assert!(f.ci95_ppm > 3.0 * white.ci95_ppm, "{f:?} vs {white:?}");
        assert!((f.ppm - 1.0).abs() <= f.ci95_ppm, "{f:?}");
    }

    #[test]
    fn too_few_points() {
        assert!(fit_rate(&[]).is_none());
        assert!(fit_rate(&line(2, 1.0, 0, 0, |_| 0)).is_none());
        assert!(fit_rate(&line(3, 1.0, 0, 0, |_| 0)).is_some());
        // Four segments of one point each: no within-segment spread.
        assert!(fit_rate(&line(4, 1.0, 1, 5, |_| 0)).is_none());
    }

    #[test]
    fn preempted_readings_are_dropped() {
        let mut pts = line(100, 1.0, 0, 0, |_| 0);
        pts[10].bracket_ns = 5_000_000;
        pts[20].bracket_ns = 200; // within 4 × median + 50
        let s = select_tight(&pts);
        assert_eq!(s.rejected, 1);
        assert_eq!(s.points.len(), 99);
        assert!(s.points.iter().all(|p| p.bracket_ns < 1000));
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t975(1.0), 12.706);
        assert_eq!(t975(10.7), 2.228);
        assert!((t975(30.0) - 2.042).abs() < 1e-3);
        assert!((t975(31.0) - 2.0395).abs() < 1e-3);
        assert!((t975(60.0) - 2.0003).abs() < 1e-3);
        assert!((t975(120.0) - 1.9799).abs() < 1e-3);
        assert!((t975(1e9) - 1.95996).abs() < 1e-4);
        assert_eq!(t975(0.2), 12.706);
        assert_eq!(t975(f64::NAN), 12.706);
    }
}
