//! What bounds mean for a fleet: the largest pairwise skew between clocks, and the safety
//! margin a lease needs.
//!
//! Each clock `i` has a bound `[lo_i, hi_i]` on its offset to a common reference (UTC, or the
//! prober's own clock). The difference between clocks `i` and `j` then lies in
//! `[lo_j − hi_i, hi_j − lo_i]`, so the largest pairwise skew bound is
//! `max over i ≠ j of (hi_i − lo_j)`: the window within which two events stamped by different
//! clocks cannot be ordered by their timestamps (last-write-wins may keep the older write).
//!
//! A lease of length L granted by one clock and checked by another is safe when the holder
//! stops using it `margin` early: the skew bound, plus the longest pause observed (a holder
//! frozen past its lease still believes it holds it), plus the drift a clock can accumulate
//! over L.

use serde::{Deserialize, Serialize};
use skew_time::{ns_to_s, ppm_of_ns, DurationRange, IntervalNs};

/// The lease lengths a margin is computed for: 0 to 365 days.
pub const LEASE_RANGE: DurationRange = DurationRange::new(0, 365 * 86_400_000_000_000);

/// The largest pairwise skew bound and the pair that reaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairwiseSkew {
    /// The bound, s: no two clocks differ by more.
    pub bound_s: f64,
    /// The clock whose upper end reaches it.
    pub ahead: String,
    /// The clock whose lower end reaches it.
    pub behind: String,
    /// Clocks compared.
    pub clocks: usize,
}

/// The largest `hi_i − lo_j` over `i ≠ j`, with the pair; `None` for fewer than two clocks.
pub fn largest_pairwise_skew(clocks: &[(String, IntervalNs)]) -> Option<PairwiseSkew> {
    let (d, i, j) = largest_pair(clocks)?;
    Some(PairwiseSkew {
        bound_s: ns_to_s(d),
        ahead: clocks[i].0.clone(),
        behind: clocks[j].0.clone(),
        clocks: clocks.len(),
    })
}

/// The bound of [`largest_pairwise_skew`] in integer ns (what leases and margins are computed
/// from); `None` for fewer than two clocks.
pub fn largest_pairwise_skew_ns(clocks: &[(String, IntervalNs)]) -> Option<i64> {
    largest_pair(clocks).map(|(d, _, _)| d)
}

/// The largest `hi_i − lo_j` over `i ≠ j` (saturated to `i64`), with `i` and `j`.
fn largest_pair(clocks: &[(String, IntervalNs)]) -> Option<(i64, usize, usize)> {
    if clocks.len() < 2 {
        return None;
    }
    // The two largest upper ends and the two smallest lower ends suffice.
    let mut his: Vec<usize> = (0..clocks.len()).collect();
    his.sort_by_key(|&i| std::cmp::Reverse(clocks[i].1.hi_ns));
    let mut los: Vec<usize> = (0..clocks.len()).collect();
    los.sort_by_key(|&i| clocks[i].1.lo_ns);
    let mut best: Option<(i128, usize, usize)> = None;
    for &i in his.iter().take(2) {
        for &j in los.iter().take(2) {
            if i != j {
                let d = clocks[i].1.hi_ns as i128 - clocks[j].1.lo_ns as i128;
                if best.is_none_or(|(b, _, _)| d > b) {
                    best = Some((d, i, j));
                }
            }
        }
    }
    let (d, i, j) = best?;
    Some((d.clamp(i64::MIN as i128, i64::MAX as i128) as i64, i, j))
}

/// The safety margin of a lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseMargin {
    /// The lease length, s.
    pub lease_s: f64,
    /// The skew bound between the clocks involved, s.
    pub skew_bound_s: f64,
    /// The longest pause observed, s.
    pub pause_s: f64,
    /// The drift rate assumed, ppm.
    pub drift_ppm: f64,
    /// drift × lease, s.
    pub drift_s: f64,
    /// skew bound + pause + drift × lease, s: stop using the lease this much before it ends.
    pub margin_s: f64,
}

/// The margin for a lease of `lease_ns`: `skew_bound_ns + pause_ns + drift_ppm × lease_ns`.
pub fn lease_margin(
    lease_ns: i64,
    skew_bound_ns: i64,
    pause_ns: i64,
    drift_ppm: f64,
) -> LeaseMargin {
    let drift_ns = ppm_of_ns(lease_ns, drift_ppm);
    let margin = skew_bound_ns
        .max(0)
        .saturating_add(pause_ns.max(0))
        .saturating_add(drift_ns);
    LeaseMargin {
        lease_s: ns_to_s(lease_ns),
        skew_bound_s: ns_to_s(skew_bound_ns.max(0)),
        pause_s: ns_to_s(pause_ns.max(0)),
        drift_ppm,
        drift_s: ns_to_s(drift_ns),
        margin_s: ns_to_s(margin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(name: &str, lo: i64, hi: i64) -> (String, IntervalNs) {
        (name.into(), IntervalNs::new(lo, hi))
    }

    #[test]
    fn pair_found() {
        let v = [c("a", -10, 10), c("b", 100, 120), c("c", -50, -40)];
        let p = largest_pairwise_skew(&v).unwrap();
        assert_eq!(p.bound_s, 170e-9);
        assert_eq!(largest_pairwise_skew_ns(&v), Some(170));
        assert_eq!((p.ahead.as_str(), p.behind.as_str()), ("b", "c"));
        assert!(largest_pairwise_skew(&v[..1]).is_none());
        // One clock has both extremes: the pair must be two different clocks.
        let v = [c("wide", -100, 100), c("x", 0, 1), c("y", 2, 3)];
        let p = largest_pairwise_skew(&v).unwrap();
        assert_eq!(p.bound_s, 103e-9);
        assert_eq!((p.ahead.as_str(), p.behind.as_str()), ("y", "wide"));
    }

    #[test]
    fn lease() {
        let m = lease_margin(10_000_000_000, 2_000_000, 300_000_000, 50.0);
        assert!((m.drift_s - 0.0005).abs() < 1e-12);
        assert!((m.margin_s - 0.3025).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn matches_brute_force(raw in proptest::collection::vec((-1000i64..1000, 0i64..500), 2..10)) {
            let v: Vec<(String, IntervalNs)> = raw.iter().enumerate().map(|(i, (a, w))| (i.to_string(), IntervalNs::new(*a, a + w))).collect();
            let mut brute = i64::MIN;
            for i in 0..v.len() {
                for j in 0..v.len() {
                    if i != j {
                        brute = brute.max(v[i].1.hi_ns - v[j].1.lo_ns);
                    }
                }
            }
            prop_assert_eq!(largest_pairwise_skew(&v).unwrap().bound_s, brute as f64 / 1e9);
        }
    }
}
