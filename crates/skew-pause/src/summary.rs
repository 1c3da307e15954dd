//! Overshoot statistics: an HdrHistogram of every wake's overshoot (as jHiccup keeps), its
//! percentiles, and the interval rows of the CSV log.
#![forbid(unsafe_code)]

use crate::event::utc_string;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest overshoot the histogram resolves (longer ones are recorded as this): 1 hour.
pub const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits kept by the histogram (0.1 % resolution).
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// The overshoots of a stretch of time: a histogram for the percentiles, and exact count,
/// minimum, maximum, sum and count over the threshold beside it.
#[derive(Debug, Clone)]
pub struct OvershootHistogram {
    hist: Histogram<u64>,
    count: u64,
    min_ns: i64,
    max_ns: i64,
    sum_ns: i128,
    over_threshold: u64,
}

impl Default for OvershootHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl OvershootHistogram {
    /// An empty one.
    pub fn new() -> Self {
        let hist = Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, HISTOGRAM_SIGFIG)
            .expect("constant histogram bounds are valid");
        OvershootHistogram {
            hist,
            count: 0,
            min_ns: i64::MAX,
            max_ns: 0,
            sum_ns: 0,
            over_threshold: 0,
        }
    }

    /// Records one overshoot (negative values count as 0); `over` says whether it reached
    /// the threshold.
    pub fn record(&mut self, overshoot_ns: i64, over: bool) {
        let v = overshoot_ns.max(0);
        self.hist.saturating_record(v as u64);
        self.count += 1;
        self.min_ns = self.min_ns.min(v);
        self.max_ns = self.max_ns.max(v);
        self.sum_ns += v as i128;
        if over {
            self.over_threshold += 1;
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.count = 0;
        self.min_ns = i64::MAX;
        self.max_ns = 0;
        self.sum_ns = 0;
        self.over_threshold = 0;
    }

    /// Number of overshoots recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The percentiles (each at most the exact maximum).
    pub fn summary(&self) -> OvershootSummary {
        if self.count == 0 {
            return OvershootSummary::default();
        }
        let q =
            |x: f64| (self.hist.value_at_quantile(x).min(i64::MAX as u64) as i64).min(self.max_ns);
        OvershootSummary {
            count: self.count,
            min_ns: self.min_ns,
            mean_ns: (self.sum_ns / self.count as i128) as i64,
            p50_ns: q(0.50),
            p90_ns: q(0.90),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: self.max_ns,
            count_over_threshold: self.over_threshold,
        }
    }
}

/// Percentiles of the overshoots, ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OvershootSummary {
    /// Number of wakes.
    pub count: u64,
    /// Smallest overshoot.
    pub min_ns: i64,
    /// Mean overshoot.
    pub mean_ns: i64,
    /// Median.
    pub p50_ns: i64,
    /// 90th percentile.
    pub p90_ns: i64,
    /// 99th percentile.
    pub p99_ns: i64,
    /// 99.9th percentile.
    pub p999_ns: i64,
    /// Largest overshoot (exact).
    pub max_ns: i64,
    /// Wakes whose overshoot reached the threshold.
    pub count_over_threshold: u64,
}

impl OvershootSummary {
    /// The JSON view (`pauses` of `skew pauses --json`).
    pub fn record(&self) -> PausesRecord {
        let s = |ns: i64| ns as f64 / 1e9;
        PausesRecord {
            count: self.count,
            min_s: s(self.min_ns),
            mean_s: s(self.mean_ns),
            p50_s: s(self.p50_ns),
            p90_s: s(self.p90_ns),
            p99_s: s(self.p99_ns),
            p999_s: s(self.p999_ns),
            max_s: s(self.max_ns),
            count_over_threshold: self.count_over_threshold,
        }
    }
}

/// The JSON view of [`OvershootSummary`], in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PausesRecord {
    /// Number of wakes measured.
    pub count: u64,
    /// Smallest overshoot, s.
    pub min_s: f64,
    /// Mean overshoot, s.
    pub mean_s: f64,
    /// Median overshoot, s.
    pub p50_s: f64,
    /// 90th percentile, s.
    pub p90_s: f64,
    /// 99th percentile, s.
    pub p99_s: f64,
    /// 99.9th percentile, s.
    pub p999_s: f64,
    /// Largest overshoot, s.
    pub max_s: f64,
    /// Wakes whose overshoot reached the threshold.
    pub count_over_threshold: u64,
}

/// The statistics of one reporting interval: one CSV row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalStats {
    /// End of the interval, ns since the Unix epoch.
    pub end_unix_ns: i64,
    /// Time since the detector started, ns.
    pub elapsed_ns: i64,
    /// The interval's overshoots.
    pub summary: OvershootSummary,
}

/// The CSV header: jHiccup's interval columns (time, count, percentiles, max), in seconds,
/// then our additions.
pub const CSV_COLUMNS: [&str; 9] = [
    "time",
    "count",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
    "elapsed_s",
    "over_threshold",
];

impl IntervalStats {
    /// The CSV fields, in the order of [`CSV_COLUMNS`].
    pub fn csv_fields(&self) -> Vec<String> {
        let s = |ns: i64| {
            skew_time::format::seconds_fixed(ns)
                .trim_start_matches('+')
                .to_string()
        };
        let m = &self.summary;
        vec![
            utc_string(self.end_unix_ns),
            m.count.to_string(),
            s(m.p50_ns),
            s(m.p90_ns),
            s(m.p99_ns),
            s(m.p999_ns),
            s(m.max_ns),
            s(self.elapsed_ns),
            m.count_over_threshold.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut h = OvershootHistogram::new();
        assert_eq!(h.summary(), OvershootSummary::default());
        for i in 1..=1000 {
            h.record(i * 1_000, false); // 1 µs .. 1 ms
        }
        h.record(300_000_000, true);
        h.record(-5, false);
        let s = h.summary();
        assert_eq!(s.count, 1002);
        assert_eq!(s.min_ns, 0);
        assert_eq!(s.max_ns, 300_000_000);
        assert_eq!(s.count_over_threshold, 1);
        let close = |a: i64, b: i64| (a - b).abs() <= b / 500 + 1;
        assert!(close(s.p50_ns, 500_000), "{s:?}");
        assert!(close(s.p90_ns, 900_000), "{s:?}");
        assert!(close(s.p99_ns, 990_000), "{s:?}");
        assert!(close(s.p999_ns, 1_000_000), "{s:?}");
        assert_eq!(s.mean_ns, (500_500_000 + 300_000_000) / 1002);
        let r = s.record();
        assert_eq!(r.max_s, 0.3);
        h.reset();
        assert_eq!(h.count(), 0);
        // Beyond an hour saturates instead of failing.
        h.record(i64::MAX, true);
        assert_eq!(h.summary().max_ns, i64::MAX);
        assert!(h.summary().p50_ns >= HISTOGRAM_MAX_NS as i64 - 10_000_000_000);
    }

    #[test]
    fn csv_row() {
        let st = IntervalStats {
            end_unix_ns: 1_700_000_000_000_000_000,
            elapsed_ns: 5_000_000_000,
            summary: OvershootSummary {
                count: 998,
                min_ns: 20_000,
                mean_ns: 40_000,
                p50_ns: 31_000,
                p90_ns: 52_000,
                p99_ns: 150_000,
                p999_ns: 1_100_000,
                max_ns: 4_000_000,
                count_over_threshold: 0,
            },
        };
        let f = st.csv_fields();
        assert_eq!(f.len(), CSV_COLUMNS.len());
        assert_eq!(f[0], "2023-11-14T22:13:20.000000Z");
        assert_eq!(f[1], "998");
        assert_eq!(f[2], "0.000031000");
        assert_eq!(f[5], "0.001100000");
        assert_eq!(f[6], "0.004000000");
        assert_eq!(f[7], "5.000000000");
    }
}
