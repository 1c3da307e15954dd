//! What the served clock reads at a given true time.
//!
//! The local clock is the truth (a test compares the served clock against it, or against
//! a chronyd serving the same local clock). The served clock reads
//!
//! ```text
//! served(t) = t + offset + drift_ppm × (t − start) + [t − start ≥ step_after] × step + smear(t)
//! ```
//!
//! with all terms in integer nanoseconds (the drift rate is held as ppm × 10⁹, so
//! `--drift-ppm 12.5` is exact). The **leap smear** is the common 24 h linear noon-to-noon
//! smear around a simulated leap at `leap` (the instant the leap second ends, e.g.
//! 2017-01-01T00:00:00Z for the leap inserted as 2016-12-31T23:59:60Z): from `leap − 12 h`
//! to `leap + 12 h` the served clock runs slow by 1/86400 (11.57 ppm), −0.5 s at the leap,
//! −1 s from `leap + 12 h` on (for a deleted leap: fast, +0.5 s, +1 s). The local clock
//! never applies the simulated leap, so after the smear the served clock stays 1 s away
//! from it, exactly as a smeared server differs from a clock that ignored the leap.

use skew_time::calendar::{civil_from_days, days_from_civil};
use skew_time::NANOS_PER_SEC;

/// Half of the smear window: 12 hours, in ns.
pub const SMEAR_HALF_WINDOW_NS: i64 = 12 * 3600 * NANOS_PER_SEC;

/// Which leap second is smeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmearKind {
    /// An inserted leap second (23:59:60; every leap second so far): the served clock
    /// slows down and ends 1 s behind.
    Insert,
    /// A deleted leap second (23:59:59 skipped): the served clock speeds up and ends 1 s
    /// ahead.
    Delete,
}

/// A simulated leap and its smear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Smear {
    /// The end of the leap second (midnight UTC after it), local Unix ns.
    pub leap_unix_ns: i64,
    /// Inserted or deleted.
    pub kind: SmearKind,
}

impl Smear {
    /// The smear's contribution to the served clock at local time `t_unix_ns`, ns:
    /// 0 before the window, a linear ramp to ∓1 s across it, ∓1 s after it.
    pub fn offset_ns(&self, t_unix_ns: i64) -> i64 {
        let start = self.leap_unix_ns as i128 - SMEAR_HALF_WINDOW_NS as i128;
        let window = 2 * SMEAR_HALF_WINDOW_NS as i128;
        let into = (t_unix_ns as i128 - start).clamp(0, window);
        // into / window of one second, rounded toward zero.
        let ramp = (into * NANOS_PER_SEC as i128 / window) as i64;
        match self.kind {
            SmearKind::Insert => -ramp,
            SmearKind::Delete => ramp,
        }
    }
}

/// A step of the served clock, `by_ns`, once `after_ns` have passed since the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    /// Time after the start at which the step happens, ns.
    pub after_ns: i64,
    /// Size of the step, ns (signed).
    pub by_ns: i64,
}

/// The served clock: a function of the true (local) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServedClock {
    /// When serving started, local Unix ns: drift and step count from here.
    pub start_unix_ns: i64,
    /// Constant offset, ns (signed).
    pub offset_ns: i64,
    /// Frequency error in ppm × 10⁹ (parts per 10¹⁵): the offset grows by this much per
    /// second of true time.
    pub drift_ppm_e9: i64,
    /// An optional step.
    pub step: Option<Step>,
    /// An optional leap smear.
    pub smear: Option<Smear>,
}

impl ServedClock {
    /// A truthful clock started at `start_unix_ns`.
    pub fn truthful(start_unix_ns: i64) -> Self {
        ServedClock {
            start_unix_ns,
            ..ServedClock::default()
        }
    }

    /// served(t) − t at local time `t_unix_ns`, ns (saturating).
    pub fn offset_at_ns(&self, t_unix_ns: i64) -> i64 {
        let elapsed = t_unix_ns as i128 - self.start_unix_ns as i128;
        let drift = elapsed
            .saturating_mul(self.drift_ppm_e9 as i128)
            .div_euclid(1_000_000_000_000_000);
        let step = match self.step {
            Some(s) if elapsed >= s.after_ns as i128 => s.by_ns as i128,
            _ => 0,
        };
        let smear = self.smear.map_or(0, |s| s.offset_ns(t_unix_ns)) as i128;
        let total = self.offset_ns as i128 + drift + step + smear;
        total.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// What the served clock reads at local time `t_unix_ns`, Unix ns (saturating).
    pub fn served_unix_ns(&self, t_unix_ns: i64) -> i64 {
        t_unix_ns.saturating_add(self.offset_at_ns(t_unix_ns))
    }
}

/// Why `--leap-at` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--leap-at {text:?}: {reason}")]
pub struct LeapAtError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The instant of the simulated leap (local Unix ns) from `--leap-at`: RFC 3339
/// (`2017-01-01T00:00:00Z`), `+DUR`/`-DUR` from `start_unix_ns`, or, without a value, the next
/// 1 January or 1 July at 00:00 UTC after `start_unix_ns`.
pub fn leap_instant(text: Option<&str>, start_unix_ns: i64) -> Result<i64, LeapAtError> {
    let Some(t) = text else {
        let now = civil_from_days(start_unix_ns.div_euclid(86_400 * NANOS_PER_SEC));
        let (y, m) = if now.month < 7 {
            (now.year, 7)
        } else {
            (now.year + 1, 1)
        };
        return Ok(days_from_civil(y, m, 1) * 86_400 * NANOS_PER_SEC);
    };
    let err = |reason: String| LeapAtError {
        text: t.to_string(),
        reason,
    };
    if let Some(rest) = t.strip_prefix('+').or_else(|| t.strip_prefix('-')) {
        let ns = skew_time::duration_ns(
            skew_time::parse_duration(rest).map_err(|e| err(e.to_string()))?,
        );
        return Ok(if t.starts_with('-') {
            start_unix_ns.saturating_sub(ns)
        } else {
            start_unix_ns.saturating_add(ns)
        });
    }
    skew_time::rfc3339::parse_ns(t.as_bytes()).ok_or_else(|| {
        err("expected RFC 3339 (2017-01-01T00:00:00Z) or +DUR/-DUR from the start".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_instants() {
        let start = 1_783_000_000_000_000_000; // 2026-07-02
        assert_eq!(
            leap_instant(Some("2017-01-01T00:00:00Z"), start).unwrap(),
            1_483_228_800_000_000_000
        );
        assert_eq!(
            leap_instant(Some("+10m"), start).unwrap(),
            start + 600_000_000_000
        );
        assert_eq!(
            leap_instant(Some("-1s"), start).unwrap(),
            start - 1_000_000_000
        );
        // Next 1 January after July 2026.
        assert_eq!(
            leap_instant(None, start).unwrap(),
            1_798_761_600_000_000_000
        );
        assert!(leap_instant(Some("tomorrow"), start).is_err());
    }

    use proptest::prelude::*;

    const T0: i64 = 1_795_000_000_000_000_000;
    const S: i64 = NANOS_PER_SEC;

    #[test]
    fn offset_is_exact() {
        let c = ServedClock {
            offset_ns: -37_000_000,
            ..ServedClock::truthful(T0)
        };
        assert_eq!(c.served_unix_ns(T0 + 5), T0 + 5 - 37_000_000);
        let c = ServedClock {
            offset_ns: 1,
            ..ServedClock::truthful(T0)
        };
        assert_eq!(c.offset_at_ns(T0 + 123 * S), 1);
    }

    #[test]
    fn drift_grows_from_start() {
        // 12.5 ppm: 12.5 µs per second, 1.25 ms after 100 s.
        let c = ServedClock {
            drift_ppm_e9: 12_500_000_000,
            ..ServedClock::truthful(T0)
        };
        assert_eq!(c.offset_at_ns(T0), 0);
        assert_eq!(c.offset_at_ns(T0 + S), 12_500);
        assert_eq!(c.offset_at_ns(T0 + 100 * S), 1_250_000);
        // Negative drift.
        let c = ServedClock {
            drift_ppm_e9: -1_000_000_000_000,
            offset_ns: 5,
            ..ServedClock::truthful(T0)
        };
        assert_eq!(c.offset_at_ns(T0 + S), 5 - 1_000_000);
    }

    #[test]
    fn step_after_delay() {
        let c = ServedClock {
            step: Some(Step {
                after_ns: 2 * S,
                by_ns: -S / 2,
            }),
            ..ServedClock::truthful(T0)
        };
        assert_eq!(c.offset_at_ns(T0 + 2 * S - 1), 0);
        assert_eq!(c.offset_at_ns(T0 + 2 * S), -S / 2);
        assert_eq!(c.offset_at_ns(T0 + 3600 * S), -S / 2);
    }

    #[test]
    fn smear_is_linear_noon_to_noon() {
        let leap = 1_483_228_800 * S; // 2017-01-01T00:00:00Z
        let c = ServedClock {
            smear: Some(Smear {
                leap_unix_ns: leap,
                kind: SmearKind::Insert,
            }),
            ..ServedClock::truthful(leap - 48 * 3600 * S)
        };
        assert_eq!(c.offset_at_ns(leap - 13 * 3600 * S), 0);
        assert_eq!(c.offset_at_ns(leap - 12 * 3600 * S), 0);
        assert_eq!(c.offset_at_ns(leap - 6 * 3600 * S), -S / 4);
        assert_eq!(c.offset_at_ns(leap), -S / 2);
        assert_eq!(c.offset_at_ns(leap + 12 * 3600 * S), -S);
        assert_eq!(c.offset_at_ns(leap + 30 * 86400 * S), -S);
        // The rate: 1 s over 86400 s = 11.574 ppm.
        let a = c.offset_at_ns(leap);
        let b = c.offset_at_ns(leap + 1000 * S);
        assert_eq!(a - b, 11_574_074);
        let d = ServedClock {
            smear: Some(Smear {
                leap_unix_ns: leap,
                kind: SmearKind::Delete,
            }),
            ..c
        };
        assert_eq!(d.offset_at_ns(leap), S / 2);
    }

    #[test]
    fn everything_adds_up() {
        let leap = T0 + 12 * 3600 * S;
        let c = ServedClock {
            start_unix_ns: T0,
            offset_ns: 1_500_000_000,
            drift_ppm_e9: 1_000_000_000,
            step: Some(Step {
                after_ns: 10 * S,
                by_ns: 2 * S,
            }),
            smear: Some(Smear {
                leap_unix_ns: leap,
                kind: SmearKind::Insert,
            }),
        };
        // At T0 + 20 s: 1.5 s + 20 µs + 2 s − 20/86400 s.
        let want = 1_500_000_000 + 20_000 + 2 * S - 20 * S / 86400;
        assert_eq!(c.offset_at_ns(T0 + 20 * S), want);
    }

    proptest! {
        #[test]
        fn never_panics(start in any::<i64>(), t in any::<i64>(), off in any::<i64>(),
                        drift in any::<i64>(), after in any::<i64>(), by in any::<i64>(), leap in any::<i64>()) {
            let c = ServedClock {
                start_unix_ns: start,
                offset_ns: off,
                drift_ppm_e9: drift,
                step: Some(Step { after_ns: after, by_ns: by }),
                smear: Some(Smear { leap_unix_ns: leap, kind: SmearKind::Insert }),
            };
            let _ = c.served_unix_ns(t);
        }

        #[test]
        fn smear_is_monotonic_and_bounded(a in -100_000i64..100_000, b in -100_000i64..100_000) {
            let s = Smear { leap_unix_ns: 0, kind: SmearKind::Insert };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let (x, y) = (s.offset_ns(lo * S), s.offset_ns(hi * S));
            prop_assert!(y <= x);
            prop_assert!((-S..=0).contains(&x));
        }
    }
}
