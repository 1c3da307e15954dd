//! Missing runs: a host's cadence, the gaps in its runs, and the stretches of a series that
//! may be joined by a line (no gap, no missing value in between).

use serde::Serialize;
use std::ops::Range;

/// The median time between consecutive distinct run times; None with fewer than two runs.
pub fn median_step_ns(runs_ns: &[i64]) -> Option<i64> {
    let mut steps: Vec<i64> = runs_ns
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|&d| d > 0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    let mid = steps.len() / 2;
    let (_, m, _) = steps.select_nth_unstable(mid);
    Some(*m)
}

/// The default gap threshold for a host: twice its median run interval (a run that is late
/// by a splay or a slow probe is not a gap; one missing run is).
pub fn default_gap_ns(runs_ns: &[i64]) -> Option<i64> {
    median_step_ns(runs_ns).map(|m| m.saturating_mul(2))
}

/// A stretch without runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The host.
    pub host: String,
    /// The last run before it, ns since the Unix epoch.
    pub from_ns: i64,
    /// The first run after it.
    pub to_ns: i64,
}

/// The gaps in `runs_ns` (sorted): consecutive runs more than `threshold_ns` apart.
pub fn find_gaps(host: &str, runs_ns: &[i64], threshold_ns: i64) -> Vec<Gap> {
    runs_ns
        .windows(2)
        .filter(|w| w[1].saturating_sub(w[0]) > threshold_ns)
        .map(|w| Gap {
            host: host.to_string(),
            from_ns: w[0],
            to_ns: w[1],
        })
        .collect()
}

/// The index ranges of `values` that can be drawn as one line: finite values whose
/// consecutive times are at most `gap_ns` apart. A missing value (NaN) or a gap ends a
/// segment.
pub fn segments(t_ns: &[i64], values: &[f64], gap_ns: i64) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..t_ns.len().min(values.len()) {
        if !values[i].is_finite() {
            if let Some(s) = start.take() {
                out.push(s..i);
            }
            continue;
        }
        match start {
            Some(s) if t_ns[i].saturating_sub(t_ns[i - 1]) > gap_ns => {
                out.push(s..i);
                start = Some(i);
            }
            Some(_) => {}
            None => start = Some(i),
        }
    }
    if let Some(s) = start {
        out.push(s..t_ns.len().min(values.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_and_gaps() {
        let runs = [0, 10, 20, 31, 40, 100, 110, 110];
        assert_eq!(median_step_ns(&runs), Some(10));
        assert_eq!(default_gap_ns(&runs), Some(20));
        let g = find_gaps("h", &runs, 20);
        assert_eq!(
            g,
            vec![Gap {
                host: "h".into(),
                from_ns: 40,
                to_ns: 100
            }]
        );
        assert_eq!(median_step_ns(&[5]), None);
        assert_eq!(median_step_ns(&[5, 5]), None);
    }

    #[test]
    fn gaps_and_missing_values_break_lines() {
        let t = [0, 10, 20, 30, 100, 110, 120, 130];
        let nan = f64::NAN;
        let v = [1.0, 2.0, nan, 4.0, 5.0, 6.0, nan, nan];
        // 0..2 (before the NaN), 3..4 (the gap 30 → 100 splits), 4..6.
        assert_eq!(segments(&t, &v, 20), vec![0..2, 3..4, 4..6]);
        assert_eq!(segments(&t, &[1.0; 8], 1000), vec![0..8]);
        assert_eq!(segments(&t, &[nan; 8], 1000), Vec::<Range<usize>>::new());
        assert_eq!(segments(&[], &[], 10), Vec::<Range<usize>>::new());
    }
}
