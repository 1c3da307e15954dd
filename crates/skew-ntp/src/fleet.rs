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

use crate::result::{ServerResult, Status};
use crate::select::Agreement;
use serde::{Deserialize, Serialize};
use skew_time::{ns_to_s, ppm_of_ns, DurationRange, IntervalNs};
use std::collections::HashSet;

/// The lease lengths a margin is computed for: 0 to 365 days.
pub const LEASE_RANGE: DurationRange = DurationRange::new(0, 365 * 86_400_000_000_000);

/// The largest pairwise skew bound and the pair that reaches it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairwiseSkew {
    /// The bound, ns: no two clocks differ by more (`bound_s` in JSON).
    #[serde(rename = "bound_s", with = "skew_time::serde_s")]
    pub bound_ns: i64,
    /// The clock whose upper end reaches it.
    pub ahead: String,
    /// The clock whose lower end reaches it.
    pub behind: String,
    /// Clocks compared.
    pub clocks: usize,
    /// Clocks left out as falsetickers (outside the majority's agreement): a liar's bound
    /// says where it is, not where the truth is, and would set the bound by its lie.
    #[serde(default)]
    pub left_out: Vec<String>,
}

/// The clocks of one probe run, for pairwise comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeClocks {
    /// This host's clock (`local`, offset exactly 0) and each measured `ok` server's hard
    /// bound, named by its address, each address once (a server given twice, or by name
    /// and by address, is one clock).
    pub clocks: Vec<(String, IntervalNs)>,
    /// The falsetickers left out, by address.
    pub left_out: Vec<String>,
}

impl ProbeClocks {
    /// The clocks of `results` judged by `agreement` (its verdicts in the same order).
    pub fn of(results: &[ServerResult], agreement: &Agreement) -> ProbeClocks {
        let mut seen = HashSet::new();
        let mut clocks = vec![("local".to_string(), IntervalNs::new(0, 0))];
        let mut left_out = Vec::new();
        for (i, r) in results.iter().enumerate() {
            let (Some(s), Status::Ok) = (&r.summary, r.status) else {
                continue;
            };
            let name = r
                .address
                .map_or_else(|| r.server.clone(), |a| a.to_string());
            if !seen.insert(name.clone()) {
                continue;
            }
            if agreement.is_falseticker(i) {
                left_out.push(name);
            } else {
                clocks.push((name, s.bound));
            }
        }
        ProbeClocks { clocks, left_out }
    }

    /// The largest pairwise skew among the clocks kept, naming those left out.
    pub fn largest_pairwise_skew(&self) -> Option<PairwiseSkew> {
        largest_pairwise_skew(&self.clocks).map(|p| PairwiseSkew {
            left_out: self.left_out.clone(),
            ..p
        })
    }
}

/// The largest `hi_i − lo_j` over `i ≠ j`, with the pair; `None` for fewer than two clocks.
pub fn largest_pairwise_skew(clocks: &[(String, IntervalNs)]) -> Option<PairwiseSkew> {
    let (d, i, j) = largest_pair(clocks)?;
    Some(PairwiseSkew {
        bound_ns: d,
        ahead: clocks[i].0.clone(),
        behind: clocks[j].0.clone(),
        clocks: clocks.len(),
        left_out: Vec::new(),
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

/// The safety margin of a lease. Durations are integer ns, written as seconds under their
/// `_s` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseMargin {
    /// The lease length, ns (`lease_s`).
    #[serde(rename = "lease_s", with = "skew_time::serde_s")]
    pub lease_ns: i64,
    /// The skew bound between the clocks involved, ns (`skew_bound_s`).
    #[serde(rename = "skew_bound_s", with = "skew_time::serde_s")]
    pub skew_bound_ns: i64,
    /// The longest pause observed, ns (`pause_s`).
    #[serde(rename = "pause_s", with = "skew_time::serde_s")]
    pub pause_ns: i64,
    /// The drift rate assumed, ppm.
    pub drift_ppm: f64,
    /// drift × lease, ns (`drift_s`).
    #[serde(rename = "drift_s", with = "skew_time::serde_s")]
    pub drift_ns: i64,
    /// skew bound + pause + drift × lease, ns (`margin_s`): stop using the lease this much
    /// before it ends.
    #[serde(rename = "margin_s", with = "skew_time::serde_s")]
    pub margin_ns: i64,
}

impl PairwiseSkew {
    /// The bound, s (for output).
    pub fn bound_s(&self) -> f64 {
        ns_to_s(self.bound_ns)
    }
}

impl LeaseMargin {
    /// The lease length, s (for output).
    pub fn lease_s(&self) -> f64 {
        ns_to_s(self.lease_ns)
    }

    /// The skew bound, s (for output).
    pub fn skew_bound_s(&self) -> f64 {
        ns_to_s(self.skew_bound_ns)
    }

    /// The longest pause, s (for output).
    pub fn pause_s(&self) -> f64 {
        ns_to_s(self.pause_ns)
    }

    /// drift × lease, s (for output).
    pub fn drift_s(&self) -> f64 {
        ns_to_s(self.drift_ns)
    }

    /// The margin, s (for output).
    pub fn margin_s(&self) -> f64 {
        ns_to_s(self.margin_ns)
    }
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
        lease_ns,
        skew_bound_ns: skew_bound_ns.max(0),
        pause_ns: pause_ns.max(0),
        drift_ppm,
        drift_ns,
        margin_ns: margin,
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
        assert_eq!(p.bound_s(), 170e-9);
        assert_eq!(largest_pairwise_skew_ns(&v), Some(170));
        assert_eq!((p.ahead.as_str(), p.behind.as_str()), ("b", "c"));
        assert!(largest_pairwise_skew(&v[..1]).is_none());
        // One clock has both extremes: the pair must be two different clocks.
        let v = [c("wide", -100, 100), c("x", 0, 1), c("y", 2, 3)];
        let p = largest_pairwise_skew(&v).unwrap();
        assert_eq!(p.bound_s(), 103e-9);
        assert_eq!((p.ahead.as_str(), p.behind.as_str()), ("y", "wide"));
    }

    #[test]
    fn lease() {
        let m = lease_margin(10_000_000_000, 2_000_000, 300_000_000, 50.0);
        assert!((m.drift_s() - 0.0005).abs() < 1e-12);
        assert!((m.margin_s() - 0.3025).abs() < 1e-12);
    }

    #[test]
    fn kept_in_ns_written_in_seconds_under_the_same_keys() {
        let m = lease_margin(10_000_000_000, 2_000_001, 300_000_000, 50.0);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"lease_s": 10.0, "skew_bound_s": 0.002000001, "pause_s": 0.3,
                "drift_ppm": 50.0, "drift_s": 0.0005, "margin_s": 0.302500001})
        );
        let p = largest_pairwise_skew(&[c("a", -10, 10), c("b", 100, 120)]).unwrap();
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["bound_s"], serde_json::json!(130e-9));
        assert_eq!(serde_json::from_value::<PairwiseSkew>(j).unwrap(), p);
    }

    fn ok(server: &str, addr: &str, lo: i64, hi: i64) -> ServerResult {
        let mut r = ServerResult::failed(
            server,
            Some(addr.parse().unwrap()),
            Status::Timeout,
            "x".into(),
        );
        r.status = Status::Ok;
        r.error = None;
        let b = IntervalNs::new(lo, hi);
        r.summary = Some(crate::result::Summary {
            best: 0,
            offset_ns: lo / 2 + hi / 2,
            delay_ns: 0,
            jitter_ns: 0.0,
            bound: b,
            utc_bound: b,
            joint: Some(b),
            consistent: true,
        });
        r
    }

    #[test]
    fn falsetickers_and_repeats_are_not_clocks_of_their_own() {
        let results = [
            ok("a", "127.0.0.1:1", -5_000, 5_000),
            ok("b", "127.0.0.1:2", -4_000, 6_000),
            ok("c", "127.0.0.1:3", -6_000, 4_000),
            ok("liar", "127.0.0.1:4", -287_000_000, -286_990_000),
            // The first server again, by another name: the same clock.
            ok("localhost", "127.0.0.1:1", -5_000, 5_000),
        ];
        let a = crate::select::select_answered(&results, None);
        assert!(a.is_falseticker(3));
        let pc = ProbeClocks::of(&results, &a);
        let names: Vec<&str> = pc.clocks.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            ["local", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
        );
        assert_eq!(pc.left_out, ["127.0.0.1:4"]);
        let p = pc.largest_pairwise_skew().unwrap();
        assert_eq!(p.bound_s(), 12e-6, "{p:?}");
        assert_eq!(p.left_out, ["127.0.0.1:4"]);
        // One server given twice is not compared with itself.
        let twice = [
            ok("a", "127.0.0.1:1", -5_000, 5_000),
            ok("a", "127.0.0.1:1", -5_000, 5_000),
        ];
        let a = crate::select::select_answered(&twice, None);
        let pc = ProbeClocks::of(&twice, &a);
        assert_eq!(pc.clocks.len(), 2);
        assert_eq!(pc.largest_pairwise_skew().unwrap().bound_s(), 5e-6);
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
            prop_assert_eq!(largest_pairwise_skew(&v).unwrap().bound_s(), brute as f64 / 1e9);
        }
    }
}
