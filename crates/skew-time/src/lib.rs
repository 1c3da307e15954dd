//! Shared time types for skew.
//!
//! Everything inside skew counts time in integer nanoseconds (`i64`, with the epoch named
//! in the variable: `*_unix_ns`, `*_mono_ns`) and only turns it into floating-point seconds at
//! output. This crate holds the few types and helpers every other crate needs:
//!
//! * [`IntervalNs`]: a closed interval of nanoseconds (bounds on an offset), with intersection
//!   and widening;
//! * [`parse_duration`]: `250ms`, `2s`, `1.5h`... as used on every command line;
//! * [`format`]: chronyc-style human formatting (`+12.3us`, `-4.56ms`);
//! * [`escape`]: names from the network or a log made safe for a terminal (`\x1b[31m`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calendar;
pub mod duration;
pub mod escape;
pub mod format;
pub mod interval;

pub use duration::{parse_duration, parse_signed_seconds, DurationError};
pub use interval::IntervalNs;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Converts integer nanoseconds to floating-point seconds (for output only).
pub fn ns_to_s(ns: i64) -> f64 {
    ns as f64 / NANOS_PER_SEC as f64
}

/// Converts floating-point seconds to integer nanoseconds, rounding to the nearest and
/// saturating at the `i64` range.
pub fn s_to_ns(s: f64) -> i64 {
    let ns = (s * NANOS_PER_SEC as f64).round();
    if ns.is_nan() {
        0
    } else if ns >= i64::MAX as f64 {
        i64::MAX
    } else if ns <= i64::MIN as f64 {
        i64::MIN
    } else {
        ns as i64
    }
}

/// Multiplies a duration in nanoseconds by a rate in parts per million, rounding up
/// (away from zero), so that error allowances are never underestimated.
pub fn ppm_of_ns(ns: i64, ppm: f64) -> i64 {
    (ns.unsigned_abs() as f64 * ppm / 1e6).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip() {
        assert_eq!(s_to_ns(1.5), 1_500_000_000);
        assert_eq!(s_to_ns(-0.037), -37_000_000);
        assert_eq!(ns_to_s(250_000_000), 0.25);
        assert_eq!(s_to_ns(f64::NAN), 0);
        assert_eq!(s_to_ns(1e300), i64::MAX);
    }

    #[test]
    fn ppm_rounds_up() {
        assert_eq!(ppm_of_ns(1_000_000_000, 15.0), 15_000);
        assert_eq!(ppm_of_ns(1, 15.0), 1);
        assert_eq!(ppm_of_ns(-2_000_000_000, 15.0), 30_000);
        assert_eq!(ppm_of_ns(0, 15.0), 0);
    }
}
