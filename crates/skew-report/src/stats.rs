//! ntpviz-style summary statistics: min, 1/5/50/95/99 %, max, the 90 % and 98 % ranges,
//! mean and standard deviation, per series and metric; and their CSV form.

use serde::Serialize;

/// Statistics of one metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Values counted (finite ones only).
    pub count: usize,
    /// Smallest.
    pub min: f64,
    /// 1st percentile.
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// p95 − p5.
    pub range_90: f64,
    /// p99 − p1.
    pub range_98: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub stddev: f64,
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of
/// the values at or below it.
pub fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The 1-based nearest rank of percentile `p` among `n` values.
fn rank(p: f64, n: usize) -> usize {
    ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n)
}

/// Statistics of the finite values; None when there are none. Percentiles come from
/// selection (linear time), not a full sort.
pub fn stats(values: impl IntoIterator<Item = f64>) -> Option<Stats> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    // Select the ranks in increasing order, each in what lies above the previous one.
    let mut at = [0.0f64; 5];
    let mut from = 0usize;
    for (k, p) in [1.0, 5.0, 50.0, 95.0, 99.0].into_iter().enumerate() {
        let idx = rank(p, n) - 1;
        if idx >= from {
            let (_, x, _) = v[from..].select_nth_unstable_by(idx - from, f64::total_cmp);
            at[k] = *x;
            from = idx + 1;
        } else {
            at[k] = at[k - 1];
        }
    }
    let (min, max) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    // Mean and variance around the median, for accuracy with large offsets.
    let shift = at[2];
    let mean_d = v.iter().map(|x| x - shift).sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - shift - mean_d).powi(2)).sum::<f64>() / n as f64;
    Some(Stats {
        count: n,
        min,
        p1: at[0],
        p5: at[1],
        p50: at[2],
        p95: at[3],
        p99: at[4],
        max,
        range_90: at[3] - at[1],
        range_98: at[4] - at[0],
        mean: shift + mean_d,
        stddev: var.sqrt(),
    })
}

/// One line of the statistics table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsRow {
    /// The host.
    pub host: String,
    /// The server, or `agreement`, `clock`, `pause` for the host's own rows.
    pub source: String,
    /// What was measured, with its unit in the name (`offset_s`, `delay_s`, `rate_ppm`...).
    pub metric: String,
    /// The figures.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The CSV columns of `--stats-csv`, in order.
pub const CSV_COLUMNS: [&str; 15] = [
    "host", "source", "metric", "count", "min", "p1", "p5", "p50", "p95", "p99", "max", "range_90",
    "range_98", "mean", "stddev",
];

/// The statistics table as CSV (header first; numbers in full precision).
pub fn to_csv(rows: &[StatsRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(CSV_COLUMNS);
    for r in rows {
        let s = &r.stats;
        let nums = [
            s.min, s.p1, s.p5, s.p50, s.p95, s.p99, s.max, s.range_90, s.range_98, s.mean, s.stddev,
        ];
        let mut rec = vec![
            r.host.clone(),
            r.source.clone(),
            r.metric.clone(),
            s.count.to_string(),
        ];
        rec.extend(nums.iter().map(|x| x.to_string()));
        let _ = w.write_record(&rec);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // 1..=10: nearest rank p1 = 1st value, p5 = 1st, p50 = 5th, p95 = 10th, p99 = 10th.
        let s = stats((1..=10).map(f64::from)).unwrap();
        assert_eq!(s.count, 10);
        assert_eq!(
            (s.min, s.p1, s.p5, s.p50, s.p95, s.p99, s.max),
            (1.0, 1.0, 1.0, 5.0, 10.0, 10.0, 10.0)
        );
        assert_eq!((s.range_90, s.range_98), (9.0, 9.0));
        assert_eq!(s.mean, 5.5);
        // Population variance of 1..10 = (n² − 1) / 12 = 8.25.
        assert!((s.stddev - 8.25f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn hundred_values_and_nan() {
        // 0..100 in reverse with NaNs mixed in: p1 = 0, p5 = 4, p50 = 49, p95 = 94, p99 = 98.
        let v: Vec<f64> = (0..100)
            .rev()
            .map(f64::from)
            .chain([f64::NAN, f64::INFINITY])
            .collect();
        let s = stats(v).unwrap();
        assert_eq!(s.count, 100);
        assert_eq!(
            (s.p1, s.p5, s.p50, s.p95, s.p99),
            (0.0, 4.0, 49.0, 94.0, 98.0)
        );
        assert_eq!((s.range_90, s.range_98), (90.0, 98.0));
        assert_eq!(s.mean, 49.5);
        assert!(stats([f64::NAN]).is_none());
        assert!(stats(Vec::new()).is_none());
    }

    proptest::proptest! {
        #[test]
        fn selection_matches_sorting(v in proptest::collection::vec(-1e3f64..1e3, 1..400)) {
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let s = stats(v).unwrap();
            for (p, got) in [(1.0, s.p1), (5.0, s.p5), (50.0, s.p50), (95.0, s.p95), (99.0, s.p99)] {
                proptest::prop_assert_eq!(got, nearest_rank(&sorted, p));
            }
            proptest::prop_assert_eq!(s.min, sorted[0]);
            proptest::prop_assert_eq!(s.max, *sorted.last().unwrap());
        }
    }

    #[test]
    fn one_value_and_precision() {
        let s = stats([0.25]).unwrap();
        assert_eq!(
            (s.min, s.p50, s.max, s.stddev, s.mean),
            (0.25, 0.25, 0.25, 0.0, 0.25)
        );
        // A large constant offset does not swamp a tiny spread.
        let s = stats([1e6 + 1e-6, 1e6 - 1e-6]).unwrap();
        assert!((s.stddev - 1e-6).abs() < 1e-9, "{}", s.stddev);
    }

    #[test]
    fn csv_form() {
        let row = StatsRow {
            host: "h".into(),
            source: "127.0.0.1:123".into(),
            metric: "offset_s".into(),
            stats: stats([1.0, 2.0]).unwrap(),
        };
        let text = to_csv(&[row]);
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), CSV_COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            "h,127.0.0.1:123,offset_s,2,1,1,1,1,2,2,2,1,1,1.5,0.5"
        );
    }
}
