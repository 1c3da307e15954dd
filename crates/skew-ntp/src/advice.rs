//! What round-trip times mean for timeouts: advice from a server's observed RTTs.
//!
//! Two classic answers, each stated with the number of samples it rests on:
//!
//! * **covering timeout**: the timeout that would have covered 99.9 % of the observed round
//!   trips, plus a 50 % margin. With fewer than 1000 samples the 99.9th percentile is the
//!   largest round trip seen, so the advice is only as good as the sample count;
//! * **Jacobson/Karels** (RFC 6298): SRTT and RTTVAR smoothed over the samples in order
//!   (α = 1/8, β = 1/4, starting from SRTT = R₁, RTTVAR = R₁/2), RTO = SRTT + 4·RTTVAR
//!   (without TCP's 1 s floor, which the caller can apply).

use serde::{Deserialize, Serialize};

/// Timeout advice for one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeoutAdvice {
    /// Round trips the advice rests on.
    pub samples: usize,
    /// Median round trip, s.
    pub rtt_p50_s: f64,
    /// 99.9th percentile of the round trips (nearest rank), s.
    pub rtt_p999_s: f64,
    /// Largest round trip, s.
    pub rtt_max_s: f64,
    /// A timeout covering p99.9 of the round trips plus a 50 % margin, s.
    pub timeout_s: f64,
    /// Smoothed round trip (Jacobson/Karels), s.
    pub srtt_s: f64,
    /// Round-trip variation (Jacobson/Karels), s.
    pub rttvar_s: f64,
    /// Retransmission timeout SRTT + 4·RTTVAR, s.
    pub rto_s: f64,
}

/// The nearest-rank percentile `q` (0..=1) of sorted values.
pub fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Advice from round-trip times in ns, in the order observed; `None` without samples.
pub fn advise(rtts_ns: &[i64]) -> Option<TimeoutAdvice> {
    let first = *rtts_ns.first()? as f64;
    let mut sorted = rtts_ns.to_vec();
    sorted.sort_unstable();
    let p50 = nearest_rank(&sorted, 0.5)? as f64;
    let p999 = nearest_rank(&sorted, 0.999)? as f64;
    let max = *sorted.last()? as f64;
    let (mut srtt, mut rttvar) = (first, first / 2.0);
    for &r in &rtts_ns[1..] {
        let r = r as f64;
        rttvar = 0.75 * rttvar + 0.25 * (srtt - r).abs();
        srtt = 0.875 * srtt + 0.125 * r;
    }
    Some(TimeoutAdvice {
        samples: rtts_ns.len(),
        rtt_p50_s: p50 / 1e9,
        rtt_p999_s: p999 / 1e9,
        rtt_max_s: max / 1e9,
        timeout_s: p999 * 1.5 / 1e9,
        srtt_s: srtt / 1e9,
        rttvar_s: rttvar / 1e9,
        rto_s: (srtt + 4.0 * rttvar) / 1e9,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<i64> = (1..=1000).collect();
        assert_eq!(nearest_rank(&v, 0.5), Some(500));
        assert_eq!(nearest_rank(&v, 0.999), Some(999));
        assert_eq!(nearest_rank(&v[..10], 0.999), Some(10));
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[7], 0.0), Some(7));
    }

    #[test]
    fn jacobson_karels_by_hand() {
        // R1 = 100: SRTT 100, RTTVAR 50. R2 = 200: RTTVAR = 0.75·50 + 0.25·100 = 62.5,
        // SRTT = 0.875·100 + 0.125·200 = 112.5. RTO = 112.5 + 250 = 362.5.
        let a = advise(&[100, 200]).unwrap();
        assert_eq!(a.samples, 2);
        assert!((a.srtt_s * 1e9 - 112.5).abs() < 1e-6);
        assert!((a.rttvar_s * 1e9 - 62.5).abs() < 1e-6);
        assert!((a.rto_s * 1e9 - 362.5).abs() < 1e-6);
        assert!((a.rtt_p999_s * 1e9 - 200.0).abs() < 1e-6);
        assert!((a.timeout_s * 1e9 - 300.0).abs() < 1e-6);
        assert!(advise(&[]).is_none());
    }

    #[test]
    fn steady_rtt_converges() {
        let a = advise(&[1_000_000; 50]).unwrap();
        assert!((a.srtt_s - 1e-3).abs() < 1e-12);
        assert!(a.rttvar_s < 1e-9);
        assert!((a.timeout_s - 1.5e-3).abs() < 1e-12);
    }
}
