//! Honest error bounds on the offset.
//!
//! Whatever the path asymmetry, the true offset of one exchange lies in θ ± δ/2: the request
//! spent between 0 and δ on the wire. Allowing also for both clocks' reading precision and a
//! maximum relative frequency error PHI over the exchange (RFC 5905 uses 15 ppm) gives the
//! **hard bound** of a sample; a probe publishes its best sample's as its hard bound, which
//! holds whatever either clock does before or after that exchange. Several samples' bounds,
//! each widened by PHI × the local time between them, can be intersected into a tighter
//! **joint bound**, which holds only if neither clock stepped (or drifted faster than PHI)
//! between the samples: a step of one to two half-widths still leaves the intervals
//! intersecting, around a value neither clock ever had (issue 14.8).
//!
//! The **UTC bound** adds what the server itself does not know about UTC: half its root delay
//! plus its root dispersion.

use crate::exchange::Sample;
use skew_time::{ppm_of_ns, IntervalNs};

/// The frequency tolerance RFC 5905 assumes for clocks (PHI), in ppm.
pub const PHI_PPM: f64 = 15.0;

/// Parameters of the bound computation that do not come from the packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundParams {
    /// Precision of the local clock readings (T1, T4), in ns.
    pub local_precision_ns: i64,
    /// Maximum relative frequency error between the clocks, in ppm (default [`PHI_PPM`]).
    pub max_drift_ppm: f64,
}

impl Default for BoundParams {
    fn default() -> Self {
        BoundParams {
            local_precision_ns: 1,
            max_drift_ppm: PHI_PPM,
        }
    }
}

/// Half-width of one sample's hard bound, in ns:
/// ⌈δ/2⌉ + 1 ns (rounding of θ) + local precision + server precision + PHI × (T4 − T1).
/// A negative δ counts as zero.
pub fn sample_half_width_ns(sample: &Sample, server_precision_ns: i64, p: &BoundParams) -> i64 {
    let delay = sample.delay_ns().max(0);
    let half_delay = delay / 2 + delay % 2;
    half_delay
        .saturating_add(1)
        .saturating_add(p.local_precision_ns.max(0))
        .saturating_add(server_precision_ns.max(0))
        .saturating_add(ppm_of_ns(sample.local_span_ns(), p.max_drift_ppm))
}

/// One sample's hard bound on the offset (server − local) at the sample's local midpoint.
pub fn sample_bound(sample: &Sample, server_precision_ns: i64, p: &BoundParams) -> IntervalNs {
    IntervalNs::around(
        sample.offset_ns(),
        sample_half_width_ns(sample, server_precision_ns, p),
    )
}

/// Widens a hard bound to a UTC bound: + ⌈root delay / 2⌉ + root dispersion.
pub fn utc_widening_ns(root_delay_ns: i64, root_dispersion_ns: i64) -> i64 {
    let rd = root_delay_ns.max(0);
    (rd / 2 + rd % 2).saturating_add(root_dispersion_ns.max(0))
}

/// Intersects bounds taken at different local times, referring them all to `at_ns`: each
/// is widened by PHI × |at_ns − its time| first. Returns `None` when they do not intersect,
/// which means an assumption failed (a clock stepped, or drifted faster than PHI).
pub fn intersect_at(
    bounds: &[(IntervalNs, i64)],
    at_ns: i64,
    max_drift_ppm: f64,
) -> Option<IntervalNs> {
    let mut acc: Option<IntervalNs> = None;
    for (b, t) in bounds {
        let age = (at_ns as i128 - *t as i128)
            .unsigned_abs()
            .min(i64::MAX as u128) as i64;
        let widened = b.widen(ppm_of_ns(age, max_drift_ppm));
        acc = Some(match acc {
            None => widened,
            Some(a) => a.intersect(&widened)?,
        });
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(t1: i64, out_ns: i64, back_ns: i64, proc_ns: i64, offset: i64) -> Sample {
        Sample {
            t1_ns: t1,
            t2_ns: t1 + out_ns + offset,
            t3_ns: t1 + out_ns + proc_ns + offset,
            t4_ns: t1 + out_ns + proc_ns + back_ns,
        }
    }

    #[test]
    fn half_width_parts() {
        let p = BoundParams {
            local_precision_ns: 20,
            max_drift_ppm: 15.0,
        };
        let s = sample(0, 10_000, 10_001, 1_000_000, 0);
        // δ = 20001 → 10001; + 1 + 20 + 30 + 15 ppm × 1.020001 ms = 16 ns (rounded up).
        assert_eq!(sample_half_width_ns(&s, 30, &p), 10_001 + 1 + 20 + 30 + 16);
    }

    #[test]
    fn bound_holds_for_any_asymmetry() {
        let p = BoundParams::default();
        for (out, back) in [
            (0, 20_000_000),
            (20_000_000, 0),
            (7, 13),
            (30_000_000, 1_000_000),
        ] {
            let s = sample(1_000, out, back, 50_000, -37_000_000);
            assert!(
                sample_bound(&s, 1, &p).contains(-37_000_000),
                "{out} {back}"
            );
        }
    }

    #[test]
    fn utc_widening() {
        assert_eq!(utc_widening_ns(3, 10), 12);
        assert_eq!(utc_widening_ns(-3, -10), 0);
    }

    #[test]
    fn intersection_with_drift() {
        let a = IntervalNs::new(-100, 100);
        let b = IntervalNs::new(90, 300);
        // 1 s apart at 15 ppm: each widened by 15 µs around the reference.
        assert_eq!(
            intersect_at(&[(a, 0), (b, 0)], 0, 15.0),
            Some(IntervalNs::new(90, 100))
        );
        let r = intersect_at(&[(a, 0), (b, 1_000_000_000)], 0, 15.0).unwrap();
        assert_eq!(r, IntervalNs::new(-100, 100));
        assert_eq!(
            intersect_at(&[(a, 0), (IntervalNs::new(200, 300), 0)], 0, 15.0),
            None
        );
        assert_eq!(intersect_at(&[], 0, 15.0), None);
    }

    proptest! {
        /// Whatever the split of the delay between the directions, the processing time, the
        /// offset and a drift within PHI, each sample's bound and their intersection
        /// contain the true offset.
        #[test]
        fn bounds_always_contain_truth(
            offset in -10_000_000_000i64..10_000_000_000,
            drift_ppm in -15.0f64..15.0,
            legs in proptest::collection::vec((0i64..50_000_000, 0i64..50_000_000, 0i64..1_000_000, 0i64..3_000_000_000), 1..10),
        ) {
            let p = BoundParams::default();
            let mut t = 1_700_000_000_000_000_000i64;
            let mut bounds = vec![];
            let origin = t;
            for (out, back, proc_, gap) in legs {
                t += gap;
                // The server clock runs at (1 + drift) relative to ours from `origin`.
                let true_off = |local: i64| offset + ((local - origin) as f64 * drift_ppm / 1e6) as i64;
                let t1 = t;
                let t2 = t1 + out + true_off(t1 + out);
                let t3 = t1 + out + proc_ + true_off(t1 + out + proc_);
                let t4 = t1 + out + proc_ + back;
                let s = Sample { t1_ns: t1, t2_ns: t2, t3_ns: t3, t4_ns: t4 };
                let b = sample_bound(&s, 2, &p);
                prop_assert!(b.contains(true_off(s.local_midpoint_ns())), "sample bound {:?} off {}", b, true_off(s.local_midpoint_ns()));
                bounds.push((b, s.local_midpoint_ns()));
                t = t4;
            }
            let at = bounds[0].1;
            let r = intersect_at(&bounds, at, p.max_drift_ppm);
            prop_assert!(r.is_some());
            prop_assert!(r.unwrap().contains(offset + ((at - origin) as f64 * drift_ppm / 1e6) as i64));
        }
    }
}
