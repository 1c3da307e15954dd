//! Shared time types for skew.
//!
//! Everything inside skew counts time in integer nanoseconds (`i64`, with the epoch named
//! in the variable: `*_unix_ns`, `*_mono_ns`) and only turns it into floating-point seconds at
//! output. This crate holds the few types and helpers every other crate needs:
//!
//! * [`IntervalNs`]: a closed interval of nanoseconds (bounds on an offset), with intersection
//!   and widening;
//! * [`parse_duration`]: `250ms`, `2s`, `1.5h`... as used on every command line, with the
//!   [`DurationRange`] each setting accepts, and [`parse_ppm`], the one rule for drift-rate
//!   allowances;
//! * [`format`]: chronyc-style human formatting (`+12.3us`, `-4.56ms`);
//! * [`rfc3339`]: UTC timestamps in and out;
//! * [`calendar`]: civil dates of day numbers;
//! * [`clocks`]: REALTIME, MONOTONIC and BOOTTIME at one instant, and the step and suspend
//!   arithmetic between two such readings;
//! * [`kernel`]: the kernel's clock discipline (`adjtimex`) decoded from a plain snapshot;
//! * [`escape`]: names from the network or a log made safe for a terminal (`\x1b[31m`);
//! * [`serde_s`]: fields kept in nanoseconds, serialised as seconds under their `_s` keys.
//!
//! Everything here is pure: no clock reads, no IO.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calendar;
pub mod clocks;
pub mod duration;
pub mod escape;
pub mod format;
pub mod interval;
pub mod kernel;
pub mod rfc3339;
pub mod serde_s;

pub use clocks::{BracketedReadings, ClockReadings};

pub use duration::{
    check_ppm, parse_duration, parse_ppm, parse_signed_seconds, DurationError, DurationRange,
    PpmError,
};
pub use interval::IntervalNs;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Converts integer nanoseconds to floating-point seconds (for output only).
pub fn ns_to_s(ns: i64) -> f64 {
    ns as f64 / NANOS_PER_SEC as f64
}

/// A `Duration` in integer nanoseconds, saturating at `i64::MAX` (292 years).
pub fn duration_ns(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// The next deadline after a wake, on the lattice `deadline + k × interval` so that errors
/// never accumulate; deadlines missed during a pause are skipped. A wake far before the
/// deadline (MONOTONIC went backwards) restarts the lattice one interval after the wake.
pub fn next_deadline_ns(deadline_ns: i64, wake_ns: i64, interval_ns: i64) -> i64 {
    let interval = interval_ns.max(1);
    let next = deadline_ns.saturating_add(interval);
    if wake_ns < deadline_ns.saturating_sub(interval) {
        return wake_ns.saturating_add(interval);
    }
    if next > wake_ns {
        return next;
    }
    let missed = (wake_ns - next) / interval + 1;
    next.saturating_add(missed.saturating_mul(interval))
}

/// Integer nanoseconds rounded to the nearest whole second (halves away from zero).
pub fn round_ns_to_s(ns: i64) -> i64 {
    let s = ns / NANOS_PER_SEC;
    let r = ns % NANOS_PER_SEC;
    if r >= NANOS_PER_SEC / 2 {
        s + 1
    } else if r <= -NANOS_PER_SEC / 2 {
        s - 1
    } else {
        s
    }
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
    fn whole_seconds() {
        assert_eq!(round_ns_to_s(37_000_000_000), 37);
        assert_eq!(round_ns_to_s(36_999_999_000), 37);
        assert_eq!(round_ns_to_s(499_999_999), 0);
        assert_eq!(round_ns_to_s(500_000_000), 1);
        assert_eq!(round_ns_to_s(-500_000_000), -1);
        assert_eq!(round_ns_to_s(-1_400_000_000), -1);
        assert_eq!(round_ns_to_s(i64::MAX), 9_223_372_037);
        for ns in [-2_500_000_001i64, -7, 0, 1_499_999_999, 123_456_789_012] {
            assert_eq!(round_ns_to_s(ns), (ns as f64 / 1e9).round() as i64, "{ns}");
        }
    }

    #[test]
    fn durations_saturate() {
        use std::time::Duration;
        assert_eq!(duration_ns(Duration::from_millis(1500)), 1_500_000_000);
        assert_eq!(duration_ns(Duration::ZERO), 0);
        assert_eq!(duration_ns(Duration::MAX), i64::MAX);
        assert_eq!(duration_ns(Duration::from_nanos(i64::MAX as u64)), i64::MAX);
    }

    #[test]
    fn ppm_rounds_up() {
        assert_eq!(ppm_of_ns(1_000_000_000, 15.0), 15_000);
        assert_eq!(ppm_of_ns(1, 15.0), 1);
        assert_eq!(ppm_of_ns(-2_000_000_000, 15.0), 30_000);
        assert_eq!(ppm_of_ns(0, 15.0), 0);
    }
}
