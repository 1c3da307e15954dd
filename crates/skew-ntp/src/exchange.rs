//! One request/reply exchange: the four timestamps and what they say (RFC 5905 §8).
//!
//! * T1: client transmit, T2: server receive, T3: server transmit, T4: client receive;
//! * offset θ = ((T2 − T1) + (T3 − T4)) / 2, server − client;
//! * delay δ = (T4 − T1) − (T3 − T2).
//!
//! All four are integer nanoseconds since the Unix epoch; the arithmetic is done in `i128`
//! so that no input can overflow.

use serde::{Deserialize, Serialize};

/// How an exchange's T3 was obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Basic client/server mode: T3 is the server's estimate, written into the reply
    /// before it left (chronyd's is about 5–9 µs early on loopback here).
    #[default]
    Basic,
    /// Interleaved mode (RFC 9769): T3 is the real transmit time of the reply, which the
    /// server sent in its next reply.
    Interleaved,
}

impl Mode {
    /// `basic` or `interleaved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Basic => "basic",
            Mode::Interleaved => "interleaved",
        }
    }
}

/// The four timestamps of one exchange, in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Sample {
    /// T1: when the request left (local clock).
    pub t1_ns: i64,
    /// T2: when the server received it (server clock).
    pub t2_ns: i64,
    /// T3: when the server sent the reply (server clock).
    pub t3_ns: i64,
    /// T4: when the reply arrived (local clock).
    pub t4_ns: i64,
}

fn clamp(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

impl Sample {
    /// Offset θ = ((T2 − T1) + (T3 − T4)) / 2 in ns, server − local, rounded toward −∞.
    pub fn offset_ns(&self) -> i64 {
        let sum =
            (self.t2_ns as i128 - self.t1_ns as i128) + (self.t3_ns as i128 - self.t4_ns as i128);
        clamp(sum.div_euclid(2))
    }

    /// Round-trip delay δ = (T4 − T1) − (T3 − T2) in ns (the time on the wire, both ways).
    pub fn delay_ns(&self) -> i64 {
        clamp((self.t4_ns as i128 - self.t1_ns as i128) - (self.t3_ns as i128 - self.t2_ns as i128))
    }

    /// T4 − T1 in ns: the exchange's duration on the local clock.
    pub fn local_span_ns(&self) -> i64 {
        clamp(self.t4_ns as i128 - self.t1_ns as i128)
    }

    /// T3 − T2 in ns: the server's processing time on its clock.
    pub fn server_span_ns(&self) -> i64 {
        clamp(self.t3_ns as i128 - self.t2_ns as i128)
    }

    /// The local time the sample refers to: the midpoint of T1 and T4.
    pub fn local_midpoint_ns(&self) -> i64 {
        clamp((self.t1_ns as i128 + self.t4_ns as i128).div_euclid(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_path_gives_exact_offset() {
        // Server 250 ms ahead, 10 ms each way, 1 ms processing.
        let t1 = 1_000_000_000_000;
        let s = Sample {
            t1_ns: t1,
            t2_ns: t1 + 10_000_000 + 250_000_000,
            t3_ns: t1 + 11_000_000 + 250_000_000,
            t4_ns: t1 + 21_000_000,
        };
        assert_eq!(s.offset_ns(), 250_000_000);
        assert_eq!(s.delay_ns(), 20_000_000);
        assert_eq!(s.local_span_ns(), 21_000_000);
        assert_eq!(s.server_span_ns(), 1_000_000);
        assert_eq!(s.local_midpoint_ns(), t1 + 10_500_000);
    }

    #[test]
    fn asymmetric_path_errs_by_half_the_asymmetry() {
        // True offset 0; 20 ms out, 0 back: θ = +10 ms, δ = 20 ms.
        let s = Sample {
            t1_ns: 0,
            t2_ns: 20_000_000,
            t3_ns: 20_000_000,
            t4_ns: 20_000_000,
        };
        assert_eq!(s.offset_ns(), 10_000_000);
        assert_eq!(s.delay_ns(), 20_000_000);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let s = Sample {
            t1_ns: i64::MIN,
            t2_ns: i64::MAX,
            t3_ns: i64::MAX,
            t4_ns: i64::MIN,
        };
        assert_eq!(s.offset_ns(), i64::MAX);
        assert_eq!(s.delay_ns(), 0);
        let s = Sample {
            t1_ns: i64::MAX,
            t2_ns: i64::MIN,
            t3_ns: i64::MAX,
            t4_ns: i64::MIN,
        };
        assert_eq!(s.delay_ns(), i64::MIN);
    }

    #[test]
    fn odd_sum_rounds_down() {
        let s = Sample {
            t1_ns: 0,
            t2_ns: 1,
            t3_ns: 1,
            t4_ns: 1,
        };
        assert_eq!(s.offset_ns(), 0);
        let s = Sample {
            t1_ns: 0,
            t2_ns: -1,
            t3_ns: -1,
            t4_ns: 1,
        };
        assert_eq!(s.offset_ns(), -2);
    }
}
