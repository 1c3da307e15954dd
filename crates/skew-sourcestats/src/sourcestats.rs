//! chrony-like `sourcestats` over a window of one server's samples.
//!
//! Each sample is weighted by its distance (the half-width of its hard bound: half the delay
//! plus precisions and drift allowance), as chrony weights by peer distance: samples no
//! wider than the narrowest count fully, wider ones less, relative to the spread of the
//! distances. The weighted line through the newest samples that pass the runs test gives:
//!
//! | chronyc column | field |
//! |---|---|
//! | NP | [`SourceStats::np`]: samples in the regression |
//! | NR | [`SourceStats::nr`]: runs of residual signs |
//! | Span | [`SourceStats::span_ns`]: oldest to newest sample used |
//! | Frequency | [`SourceStats::frequency_ppm`]: the slope of offset over local time |
//! | Freq Skew | [`SourceStats::skew_ppm`]: the slope's standard error × t₀.₉₉₉₅ |
//! | Offset | [`SourceStats::offset_at_ns`]: the line's value at a given time |
//! | Std Dev | [`SourceStats::std_dev_ns`]: the samples' weighted deviation about the line |

use crate::regression::{best_fit, MIN_POINTS};
use crate::tdist::t_quantile_9995;

/// One measurement of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken, on a monotonic timeline, ns.
    pub x_ns: i64,
    /// Offset, server − local, ns.
    pub offset_ns: i64,
    /// Its distance: the half-width of its hard bound, ns (> 0).
    pub distance_ns: i64,
}

/// How the statistics are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsConfig {
    /// Samples always kept in the regression, whatever the runs test says (at least 3).
    pub min_samples: usize,
    /// The local clock's precision, ns: the smallest spread of distances that matters.
    pub precision_ns: i64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            min_samples: 6,
            precision_ns: 1_000,
        }
    }
}

/// The statistics of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceStats {
    /// Samples in the regression (NP).
    pub np: usize,
    /// Runs of residual signs (NR).
    pub nr: usize,
    /// Time from the oldest to the newest sample used, ns.
    pub span_ns: i64,
    /// The offset's slope over local time, ppm: positive when the server gains on the local
    /// clock.
    pub frequency_ppm: f64,
    /// The error bound of the frequency, ppm (standard error × the 99.95 % t quantile).
    pub skew_ppm: f64,
    /// The regression's offset at the newest sample, ns.
    pub offset_ns: f64,
    /// Standard error of that offset, ns.
    pub offset_sd_ns: f64,
    /// The newest sample's time, ns (the line's reference).
    pub reference_x_ns: i64,
    /// Weighted standard deviation of the samples about the line, ns.
    pub std_dev_ns: f64,
}

impl SourceStats {
    /// The regression's offset at `x_ns` (extrapolated beyond the newest sample), ns.
    pub fn offset_at_ns(&self, x_ns: i64) -> f64 {
        self.offset_ns + self.frequency_ppm * 1e-6 * (x_ns - self.reference_x_ns) as f64
    }
}

/// The weights (larger: less reliable) for distances, chrony's scheme: 1 up to the smallest
/// distance + precision, then growing with the square of the excess in units of the
/// distances' spread.
pub fn weights(distances_ns: &[i64], precision_ns: i64) -> Vec<f64> {
    if distances_ns.is_empty() {
        return Vec::new();
    }
    let d: Vec<f64> = distances_ns.iter().map(|&d| d.max(1) as f64).collect();
    let mut sorted = d.clone();
    sorted.sort_by(f64::total_cmp);
    let min = sorted[0];
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    let precision = precision_ns.max(1) as f64;
    let spread = ((median - min) / 0.7).min(min).max(precision);
    let floor = min + precision;
    d.iter()
        .map(|&di| {
            let s = 1.0 + (di - floor).max(0.0) / spread;
            s * s
        })
        .collect()
}

/// The statistics of `samples` (oldest first); `None` with fewer than 3 samples or when
/// they were all taken at the same time.
pub fn sourcestats(samples: &[Sample], cfg: &StatsConfig) -> Option<SourceStats> {
    if samples.len() < MIN_POINTS {
        return None;
    }
    let last = samples[samples.len() - 1].x_ns;
    let x: Vec<f64> = samples.iter().map(|s| (s.x_ns - last) as f64).collect();
    let y: Vec<f64> = samples.iter().map(|s| s.offset_ns as f64).collect();
    let d: Vec<i64> = samples.iter().map(|s| s.distance_ns).collect();
    let w = weights(&d, cfg.precision_ns);
    let fit = best_fit(&x, &y, &w, cfg.min_samples)?;
    Some(SourceStats {
        np: fit.n,
        nr: fit.runs,
        span_ns: last - samples[fit.start].x_ns,
        frequency_ppm: fit.b * 1e6,
        skew_ppm: fit.sb * t_quantile_9995(fit.dof) * 1e6,
        offset_ns: fit.a,
        offset_sd_ns: fit.sa,
        reference_x_ns: last,
        std_dev_ns: fit.variance.max(0.0).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a seeded generator for repeatable noise.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// A standard normal draw (Box–Muller).
        fn normal(&mut self) -> f64 {
            let u1 = ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
            let u2 = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    const POLL: i64 = 64_000_000_000;

    /// `n` samples every 64 s of a server drifting `ppm` with white noise of `sigma_ns`.
    fn series(n: usize, ppm: f64, offset_ns: f64, sigma_ns: f64, seed: u64) -> Vec<Sample> {
        let mut rng = Rng(seed);
        (0..n as i64)
            .map(|i| Sample {
                x_ns: 1_000_000_000 + i * POLL,
                offset_ns: (offset_ns + ppm * 1e-6 * (i * POLL) as f64 + sigma_ns * rng.normal())
                    .round() as i64,
                distance_ns: 20_000,
            })
            .collect()
    }

    #[test]
    fn a_clean_drift_is_measured() {
        // A line with ±1 ns of alternating noise (an exact line would leave the residuals'
        // signs to rounding).
        let mut s = series(64, 2.5, -40_000.0, 0.0, 1);
        for (i, p) in s.iter_mut().enumerate() {
            p.offset_ns += if i % 2 == 0 { 1 } else { -1 };
        }
        let st = sourcestats(&s, &StatsConfig::default()).unwrap();
        assert_eq!(st.np, 64);
        assert!((st.frequency_ppm - 2.5).abs() < 1e-6, "{st:?}");
        let end = 63.0 * POLL as f64 * 2.5e-6 - 40_000.0;
        assert!((st.offset_ns - end).abs() < 1.0, "{st:?}");
        assert_eq!(st.span_ns, 63 * POLL);
        // Extrapolation one poll ahead follows the line.
        let ahead = st.offset_at_ns(s[63].x_ns + POLL);
        assert!((ahead - (end + POLL as f64 * 2.5e-6)).abs() < 1.0);
    }

    #[test]
    fn skew_bounds_the_true_frequency() {
        // The bound is the 99.95 % quantile: of 200 noisy windows, hardly any may miss.
        let mut misses = 0;
        let mut sd_ratio = 0.0;
        for seed in 0..200 {
            let s = series(64, -7.0, 1e6, 50_000.0, seed);
            let st = sourcestats(&s, &StatsConfig::default()).unwrap();
            if (st.frequency_ppm + 7.0).abs() > st.skew_ppm {
                misses += 1;
            }
            sd_ratio += st.std_dev_ns / 50_000.0 / 200.0;
        }
        assert!(misses <= 2, "{misses} misses");
        assert!((sd_ratio - 1.0).abs() < 0.1, "std dev ratio {sd_ratio}");
    }

    #[test]
    fn white_noise_passes_the_runs_test_mostly() {
        // With a straight line and white noise, the oldest samples are only dropped when the
        // runs test errs (at most about 5 % of windows lose samples to it).
        let kept_all = (0..100)
            .filter(|&seed| {
                let s = series(64, 0.0, 0.0, 1_000.0, 1000 + seed);
                sourcestats(&s, &StatsConfig::default()).unwrap().np == 64
            })
            .count();
        assert!(kept_all >= 85, "{kept_all}");
    }

    #[test]
    fn a_step_in_the_past_is_left_out() {
        let mut s = series(64, 0.0, 0.0, 200.0, 7);
        for p in s.iter_mut().take(24) {
            p.offset_ns += 5_000_000; // the local clock was stepped back 5 ms since
        }
        let st = sourcestats(&s, &StatsConfig::default()).unwrap();
        assert!(st.np <= 40, "{st:?}");
        assert!(
            st.offset_ns.abs() < 1_000.0 && st.frequency_ppm.abs() < 0.01,
            "{st:?}"
        );
        assert_eq!(st.span_ns, (st.np as i64 - 1) * POLL);
    }

    #[test]
    fn few_samples() {
        let s = series(3, 1.0, 0.0, 0.0, 1);
        assert!(sourcestats(&s[..2], &StatsConfig::default()).is_none());
        let st = sourcestats(&s, &StatsConfig::default()).unwrap();
        assert_eq!((st.np, st.nr), (3, 3));
        let same_time: Vec<Sample> = s.iter().map(|p| Sample { x_ns: 5, ..*p }).collect();
        assert!(sourcestats(&same_time, &StatsConfig::default()).is_none());
    }

    #[test]
    fn weights_follow_the_distances() {
        // Distances 10, 10, 20, 40 µs; precision 1 µs: the median 15 µs, spread
        // (15 − 10) / 0.7 = 7.14 µs, floor 11 µs.
        let w = weights(&[10_000, 10_000, 20_000, 40_000], 1_000);
        assert_eq!(&w[..2], &[1.0, 1.0]);
        let spread: f64 = 5_000.0 / 0.7;
        assert!((w[2] - (1.0 + 9_000.0 / spread).powi(2)).abs() < 1e-9);
        assert!((w[3] - (1.0 + 29_000.0 / spread).powi(2)).abs() < 1e-9);
        assert!(weights(&[], 1).is_empty());
        assert_eq!(weights(&[5, 5, 5], 1_000), vec![1.0; 3]);
    }

    #[test]
    fn a_wide_sample_counts_little() {
        let mut s = series(16, 0.0, 0.0, 0.0, 3);
        s[8].offset_ns = 1_000_000;
        s[8].distance_ns = 2_000_000;
        let st = sourcestats(&s, &StatsConfig::default()).unwrap();
        assert!(st.offset_ns.abs() < 1_000.0, "{st:?}");
    }
}
