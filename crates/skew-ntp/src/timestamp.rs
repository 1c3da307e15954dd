//! NTP timestamp formats (RFC 5905 §6) and their conversion to Unix nanoseconds.
//!
//! A 64-bit NTP timestamp counts seconds since 1900-01-01 in its upper 32 bits and a binary
//! fraction in its lower 32 bits. The seconds roll over every 2^32 s (136 years): era 0 ends
//! on 2036-02-07T06:28:16Z. A timestamp alone is therefore ambiguous; [`NtpTimestamp::to_unix_ns`]
//! resolves it to the era that puts it closest to a pivot (the local clock at the time).

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_S: i64 = 2_208_988_800;
/// Length of one NTP era in seconds (2^32).
pub const ERA_S: i64 = 1 << 32;
const NANOS: i128 = 1_000_000_000;

/// A 64-bit NTP timestamp: 32 bits of seconds (era-relative) and 32 bits of fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct NtpTimestamp(pub u64);

impl NtpTimestamp {
    /// The all-zero timestamp, which NTP uses for "not set".
    pub const ZERO: NtpTimestamp = NtpTimestamp(0);

    /// Seconds field (era-relative).
    pub fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Fraction field, in units of 2^-32 s.
    pub fn fraction(self) -> u32 {
        self.0 as u32
    }

    /// Whether the timestamp is zero ("not set").
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Encodes a Unix time in nanoseconds, rounding the fraction to the nearest 2^-32 s
    /// (≈ 0.23 ns). Times past 2036-02-07 wrap into era 1, as on the wire.
    pub fn from_unix_ns(unix_ns: i64) -> Self {
        let ntp_ns = unix_ns as i128 + NTP_UNIX_OFFSET_S as i128 * NANOS;
        let secs = ntp_ns.div_euclid(NANOS);
        let sub_ns = ntp_ns.rem_euclid(NANOS);
        let frac = ((sub_ns << 32) + NANOS / 2) / NANOS; // may round up to 2^32
        let total = (secs << 32) + frac;
        NtpTimestamp(total.rem_euclid(1i128 << 64) as u64)
    }

    /// Decodes to Unix nanoseconds, choosing the era that puts the result closest to
    /// `pivot_unix_ns` (so a timestamp within ±68 years of the pivot decodes correctly).
    /// The fraction is rounded to the nearest nanosecond.
    pub fn to_unix_ns(self, pivot_unix_ns: i64) -> i64 {
        let within_era_ns =
            self.seconds() as i128 * NANOS + ((self.fraction() as i128 * NANOS + (1 << 31)) >> 32);
        let pivot_ntp_ns = pivot_unix_ns as i128 + NTP_UNIX_OFFSET_S as i128 * NANOS;
        let era_ns = ERA_S as i128 * NANOS;
        // Nearest era: round((pivot - t) / era).
        let k = (pivot_ntp_ns - within_era_ns + era_ns / 2).div_euclid(era_ns);
        let unix_ns = k * era_ns + within_era_ns - NTP_UNIX_OFFSET_S as i128 * NANOS;
        unix_ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
}

/// A 32-bit NTP short value (16.16 fixed-point seconds), used for root delay and root
/// dispersion. Resolution 2^-16 s ≈ 15.3 µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct NtpShort(pub u32);

impl NtpShort {
    /// Nanoseconds, rounded up (these values widen error bounds, so never round them down).
    pub fn to_ns_ceil(self) -> i64 {
        ((self.0 as i128 * NANOS + 0xffff) >> 16) as i64
    }

    /// Encodes nanoseconds, rounding up and saturating at the format's maximum (65536 s).
    pub fn from_ns_ceil(ns: i64) -> Self {
        if ns <= 0 {
            return NtpShort(0);
        }
        let v = ((ns as i128) << 16).div_euclid(NANOS)
            + i128::from(((ns as i128) << 16).rem_euclid(NANOS) != 0);
        NtpShort(v.min(u32::MAX as i128) as u32)
    }
}

/// Converts an NTP precision exponent (log2 seconds, signed) to nanoseconds, rounded up and
/// capped at 2^40 ns (≈ 18 minutes) so absurd values cannot overflow later sums.
pub fn precision_to_ns(log2_s: i8) -> i64 {
    // From the wire's exponent, not a round trip: 2^p × 10^9 is exact in f64 for every i8 p.
    let ns = 2f64.powi(log2_s as i32) * 1e9;
    ns.ceil().clamp(1.0, (1u64 << 40) as f64) as i64
}

/// The smallest NTP precision exponent `p` with 2^p s ≥ `ns` (954 ns → −20).
pub fn ns_to_precision(ns: i64) -> i8 {
    let s = (ns.max(1) as f64) / 1e9;
    s.log2().ceil().clamp(-128.0, 127.0) as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW_2026: i64 = 1_795_000_000_000_000_000; // 2026-11-18
    const ERA1_START_UNIX_S: i64 = ERA_S - NTP_UNIX_OFFSET_S; // 2036-02-07T06:28:16Z

    #[test]
    fn unix_epoch_vector() {
        // 1970-01-01 is NTP seconds 2208988800 = 0x83AA7E80.
        let ts = NtpTimestamp::from_unix_ns(0);
        assert_eq!(ts.0, 0x83AA_7E80_0000_0000);
        assert_eq!(ts.to_unix_ns(0), 0);
    }

    #[test]
    fn half_second_fraction() {
        let ts = NtpTimestamp::from_unix_ns(500_000_000);
        assert_eq!(ts.fraction(), 0x8000_0000);
        assert_eq!(ts.to_unix_ns(0), 500_000_000);
    }

    #[test]
    fn era_one_vectors() {
        // 2036-02-07T06:28:16Z is era 1, seconds 0.
        let t = ERA1_START_UNIX_S * 1_000_000_000;
        assert_eq!(ERA1_START_UNIX_S, 2_085_978_496);
        let ts = NtpTimestamp::from_unix_ns(t);
        assert_eq!(ts.0, 0);
        // Decoded near 2036 the all-zero value means era 1, not 1900.
        assert_eq!(ts.to_unix_ns(t), t);
        assert_eq!(NtpTimestamp(0).to_unix_ns(t - 1_000_000_000), t);
        // One second later: seconds field 1.
        let ts = NtpTimestamp::from_unix_ns(t + 1_000_000_000);
        assert_eq!(ts.seconds(), 1);
        assert_eq!(ts.to_unix_ns(t), t + 1_000_000_000);
        // The last second of era 0.
        let ts = NtpTimestamp::from_unix_ns(t - 1_000_000_000);
        assert_eq!(ts.seconds(), u32::MAX);
        assert_eq!(ts.to_unix_ns(t), t - 1_000_000_000);
        // 2040-01-01T00:00:00Z = Unix 2208988800 → NTP era 1 seconds 123_010_304... check round trip.
        let t2040 = 2_208_988_800i64 * 1_000_000_000;
        let ts = NtpTimestamp::from_unix_ns(t2040);
        assert_eq!(ts.seconds() as i64, 2 * NTP_UNIX_OFFSET_S - ERA_S);
        assert_eq!(ts.to_unix_ns(t2040), t2040);
        assert_eq!(ts.to_unix_ns(NOW_2026), t2040);
    }

    #[test]
    fn zero_decodes_near_pivot() {
        // Near 2026 the zero timestamp is nearer 2036 (era 1) than 1900.
        assert_eq!(
            NtpTimestamp::ZERO.to_unix_ns(NOW_2026),
            ERA1_START_UNIX_S * 1_000_000_000
        );
    }

    #[test]
    fn short_format() {
        assert_eq!(NtpShort(0x0001_0000).to_ns_ceil(), 1_000_000_000);
        assert_eq!(NtpShort(1).to_ns_ceil(), 15_259);
        assert_eq!(NtpShort(0).to_ns_ceil(), 0);
        assert_eq!(NtpShort::from_ns_ceil(1_000_000_000), NtpShort(0x0001_0000));
        assert_eq!(NtpShort::from_ns_ceil(1), NtpShort(1));
        assert_eq!(NtpShort::from_ns_ceil(-5), NtpShort(0));
        assert_eq!(NtpShort::from_ns_ceil(i64::MAX), NtpShort(u32::MAX));
    }

    #[test]
    fn precision() {
        assert_eq!(precision_to_ns(0), 1_000_000_000);
        assert_eq!(precision_to_ns(-20), 954);
        assert_eq!(precision_to_ns(-128), 1);
        assert_eq!(precision_to_ns(127), 1 << 40);
        assert_eq!(ns_to_precision(953), -20);
        assert_eq!(ns_to_precision(954), -19);
        assert_eq!(ns_to_precision(1_000_000_000), 0);
    }

    proptest! {
        #[test]
        fn round_trip_within_half_ns(unix_ns in -2_000_000_000_000_000_000i64..4_000_000_000_000_000_000i64,
                                     skew_s in -60i64*365*86400..60i64*365*86400) {
            let ts = NtpTimestamp::from_unix_ns(unix_ns);
            let pivot = unix_ns.saturating_add(skew_s * 1_000_000_000);
            let back = ts.to_unix_ns(pivot);
            prop_assert!((back - unix_ns).abs() <= 1, "{} -> {:x} -> {}", unix_ns, ts.0, back);
        }

        #[test]
        fn short_round_trip_never_shrinks(ns in 0i64..65_535_000_000_000) {
            prop_assert!(NtpShort::from_ns_ceil(ns).to_ns_ceil() >= ns);
        }
    }
}
