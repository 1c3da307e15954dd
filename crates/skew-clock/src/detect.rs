//! Discontinuities between two consecutive samples: steps of REALTIME, suspends, jumps of
//! MONOTONIC.
//!
//! Each clock is compared with MONOTONIC_RAW at the same instant (see [`crate::sample`]):
//! over a sample interval Δ(clock − RAW) is the clock's rate × ΔRAW, plus any discontinuity.
//! Then:
//!
//! * **step** = Δ(REALTIME − BOOTTIME): REALTIME and BOOTTIME are slewed alike and both count
//!   suspend, so only a setting of the time of day (or a leap second) moves it. Comparing with
//!   MONOTONIC instead would take every suspend for a forward step.
//! * **suspend** = Δ(BOOTTIME − MONOTONIC): grows by the time the machine slept.
//! * **MONOTONIC jump** = Δ(MONOTONIC − RAW) beyond the kernel's expected rate and the largest
//!   slew (500 ppm): never on a sound system; a fake clock library or a time-namespace switch.
//!
//! A change is reported only when it exceeds the threshold *plus* the readings' own
//! uncertainty (their RAW half-brackets), so a preempted reading cannot fake a step.
#![forbid(unsafe_code)]

use crate::sample::Sample;
use crate::source::ClockId;
use serde::Serialize;

/// The largest rate at which the kernel slews a clock (NTP's 500 ppm), allowed between two
/// samples before a change of MONOTONIC − RAW counts as a jump.
pub const MAX_SLEW_PPM: f64 = 500.0;

/// When a sample was taken, on the three clocks that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stamp {
    /// MONOTONIC_RAW, ns.
    pub raw_ns: i64,
    /// CLOCK_REALTIME, ns since the Unix epoch.
    pub realtime_ns: i64,
    /// CLOCK_BOOTTIME, ns.
    pub boottime_ns: i64,
}

impl Stamp {
    /// The stamp of a sample.
    pub fn of(s: &Sample) -> Stamp {
        Stamp {
            raw_ns: s.raw_ns(),
            realtime_ns: s.realtime.value_ns,
            boottime_ns: s.boottime.value_ns,
        }
    }
}

/// Which way a clock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Ahead: time skipped.
    Forward,
    /// Back: time repeats, and durations measured across it come out short or negative.
    Backward,
}

/// What a backward step of the time of day means for a program.
pub const BACKWARD_WARNING: &str = "durations measured with time-of-day would be negative";

/// A step of REALTIME against BOOTTIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The step, ns (positive: forward).
    pub size_ns: i64,
    /// How far off `size_ns` may be, ns.
    pub uncertainty_ns: i64,
    /// Forward or backward.
    pub direction: Direction,
    /// The last sample before the step.
    pub before: Stamp,
    /// The first sample after it.
    pub after: Stamp,
    /// Whether the kernel reported a clock setting (timerfd TFD_TIMER_CANCEL_ON_SET) then.
    pub clock_set_seen: bool,
}

impl Step {
    /// The warning for a backward step.
    pub fn warning(&self) -> Option<&'static str> {
        (self.direction == Direction::Backward).then_some(BACKWARD_WARNING)
    }
}

/// The machine slept: BOOTTIME moved ahead of MONOTONIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Suspend {
    /// Time asleep, ns.
    pub size_ns: i64,
    /// How far off `size_ns` may be, ns.
    pub uncertainty_ns: i64,
    /// The last sample before.
    pub before: Stamp,
    /// The first sample after.
    pub after: Stamp,
    /// Whether the timerfd fired (the kernel also wakes cancel-on-set timers on resume).
    pub clock_set_seen: bool,
}

/// A clock that should be continuous against MONOTONIC_RAW jumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Jump {
    /// MONOTONIC (against RAW) or BOOTTIME (fell back against MONOTONIC).
    pub clock: ClockId,
    /// The jump, ns.
    pub size_ns: i64,
    /// How far off `size_ns` may be, ns.
    pub uncertainty_ns: i64,
    /// The last sample before.
    pub before: Stamp,
    /// The first sample after.
    pub after: Stamp,
}

/// A discontinuity found between two samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// REALTIME stepped.
    Step(Step),
    /// The machine slept.
    Suspend(Suspend),
    /// MONOTONIC or BOOTTIME jumped.
    Jump(Jump),
}

/// What counts as a discontinuity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Smallest change reported, ns (on top of the readings' uncertainty).
    pub step_ns: i64,
    /// MONOTONIC's expected rate against RAW (the kernel's frequency), ppm.
    pub expected_monotonic_ppm: f64,
}

/// Compares two consecutive samples.
pub fn detect(prev: &Sample, cur: &Sample, th: &Thresholds) -> Vec<Change> {
    let mut out = Vec::new();
    let before = Stamp::of(prev);
    let after = Stamp::of(cur);
    let dx = (cur.monotonic.raw_ns - prev.monotonic.raw_ns).max(0) as f64;
    let expected = (dx * th.expected_monotonic_ppm * 1e-6).round() as i64;
    let allowance = (dx * MAX_SLEW_PPM * 1e-6).ceil() as i64;

    let dm = cur.monotonic.minus_raw_ns() - prev.monotonic.minus_raw_ns() - expected;
    let unc_m = (prev.monotonic.bracket_ns + cur.monotonic.bracket_ns + 1) / 2;
    let mono_jumped = dm.abs() > th.step_ns + unc_m + allowance;
    if mono_jumped {
        out.push(Change::Jump(Jump {
            clock: ClockId::Monotonic,
            size_ns: dm,
            uncertainty_ns: unc_m + allowance,
            before,
            after,
        }));
    }

    let step = cur.realtime_minus_boottime_ns() - prev.realtime_minus_boottime_ns();
    let unc_step = prev.realtime_boottime_uncertainty_ns() + cur.realtime_boottime_uncertainty_ns();
    if step.abs() > th.step_ns + unc_step {
        out.push(Change::Step(Step {
            size_ns: step,
            uncertainty_ns: unc_step,
            direction: if step > 0 {
                Direction::Forward
            } else {
                Direction::Backward
            },
            before,
            after,
            clock_set_seen: false,
        }));
    }

    // BOOTTIME − MONOTONIC; if MONOTONIC itself jumped, measure BOOTTIME against RAW.
    let (sleep, unc_sleep) = if mono_jumped {
        let db = cur.boottime.minus_raw_ns() - prev.boottime.minus_raw_ns() - expected;
        (
            db,
            (prev.boottime.bracket_ns + cur.boottime.bracket_ns + 1) / 2 + allowance,
        )
    } else {
        (
            cur.boottime_minus_monotonic_ns() - prev.boottime_minus_monotonic_ns(),
            prev.boottime_monotonic_uncertainty_ns() + cur.boottime_monotonic_uncertainty_ns(),
        )
    };
    if sleep > th.step_ns + unc_sleep {
        out.push(Change::Suspend(Suspend {
            size_ns: sleep,
            uncertainty_ns: unc_sleep,
            before,
            after,
            clock_set_seen: false,
        }));
    } else if sleep < -(th.step_ns + unc_sleep) {
        out.push(Change::Jump(Jump {
            clock: ClockId::Boottime,
            size_ns: sleep,
            uncertainty_ns: unc_sleep,
            before,
            after,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Reading;

    fn r(raw: i64, minus_raw: i64) -> Reading {
        Reading {
            raw_ns: raw,
            value_ns: raw + minus_raw,
            bracket_ns: 40,
        }
    }

    /// A sample at `raw` with REALTIME, MONOTONIC, BOOTTIME minus RAW as given.
    fn s(raw: i64, rt: i64, mono: i64, boot: i64) -> Sample {
        Sample {
            realtime: r(raw - 40, rt),
            monotonic: r(raw, mono),
            boottime: r(raw + 40, boot),
        }
    }

    const TH: Thresholds = Thresholds {
        step_ns: 1_000_000,
        expected_monotonic_ppm: 0.0,
    };
    const RT: i64 = 1_795_000_000_000_000_000;
    const MONO: i64 = 250_000_000;
    const BOOT: i64 = 250_000_000;

    #[test]
    fn steady_clocks_show_nothing() {
        let a = s(1_000_000_000, RT, MONO, BOOT);
        let b = s(1_010_000_000, RT + 5, MONO + 3, BOOT + 3);
        assert!(detect(&a, &b, &TH).is_empty());
    }

    #[test]
    fn steps_both_ways() {
        let a = s(1_000_000_000, RT, MONO, BOOT);
        let b = s(1_010_000_000, RT + 2_000_000_000, MONO, BOOT);
        let c = detect(&a, &b, &TH);
        assert_eq!(c.len(), 1);
        let Change::Step(st) = c[0] else {
            panic!("{c:?}")
        };
        assert_eq!(st.size_ns, 2_000_000_000);
        assert_eq!(st.direction, Direction::Forward);
        assert_eq!(st.warning(), None);
        assert_eq!(st.uncertainty_ns, 80);
        assert_eq!(
            st.after.realtime_ns,
            1_010_000_000 - 40 + RT + 2_000_000_000
        );
        let b = s(1_010_000_000, RT - 1_000_000_000, MONO, BOOT);
        let Change::Step(st) = detect(&a, &b, &TH)[0] else {
            panic!()
        };
        assert_eq!(st.direction, Direction::Backward);
        assert_eq!(st.warning(), Some(BACKWARD_WARNING));
        // Just under the threshold + uncertainty: not a step.
        let b = s(1_010_000_000, RT + 1_000_080, MONO, BOOT);
        assert!(detect(&a, &b, &TH).is_empty());
        let b = s(1_010_000_000, RT + 1_000_081, MONO, BOOT);
        assert_eq!(detect(&a, &b, &TH).len(), 1);
    }

    #[test]
    fn a_suspend_is_not_a_step() {
        // Asleep 30 s: RAW and MONOTONIC stopped; BOOTTIME and REALTIME moved on.
        let a = s(1_000_000_000, RT, MONO, BOOT);
        let b = s(
            1_010_000_000,
            RT + 30_000_000_000,
            MONO,
            BOOT + 30_000_000_000,
        );
        let c = detect(&a, &b, &TH);
        assert_eq!(c.len(), 1, "{c:?}");
        let Change::Suspend(sp) = c[0] else {
            panic!("{c:?}")
        };
        assert_eq!(sp.size_ns, 30_000_000_000);
    }

    #[test]
    fn monotonic_jumps_and_expected_rate() {
        let a = s(1_000_000_000, RT, MONO, BOOT);
        // 10 s at +100 ppm: MONOTONIC gains 1 ms on RAW. With the kernel's rate known, fine.
        let b = s(
            11_000_000_000,
            RT + 1_000_000,
            MONO + 1_000_000,
            BOOT + 1_000_000,
        );
        let th = Thresholds {
            expected_monotonic_ppm: 100.0,
            ..TH
        };
        assert!(detect(&a, &b, &th).is_empty());
        // A fake MONOTONIC that jumps 2 s with the wall clock.
        let b = s(
            1_010_000_000,
            RT + 2_000_000_000,
            MONO + 2_000_000_000,
            BOOT,
        );
        let c = detect(&a, &b, &TH);
        assert!(
            c.iter().any(|c| matches!(c, Change::Jump(j) if j.clock == ClockId::Monotonic && j.size_ns == 2_000_000_000)),
            "{c:?}"
        );
        assert!(c.iter().any(|c| matches!(c, Change::Step(_))), "{c:?}");
        assert!(!c.iter().any(|c| matches!(c, Change::Suspend(_))), "{c:?}");
        // BOOTTIME falling back against MONOTONIC.
        let b = s(
            1_010_000_000,
            RT - 5_000_000_000,
            MONO,
            BOOT - 5_000_000_000,
        );
        let c = detect(&a, &b, &TH);
        assert!(
            c.iter()
                .any(|c| matches!(c, Change::Jump(j) if j.clock == ClockId::Boottime)),
            "{c:?}"
        );
    }

    #[test]
    fn wide_brackets_raise_the_bar() {
        let a = s(1_000_000_000, RT, MONO, BOOT);
        let mut b = s(1_010_000_000, RT + 1_500_000, MONO, BOOT);
        b.realtime.bracket_ns = 2_000_000; // preempted: ±1 ms
        assert!(detect(&a, &b, &TH).is_empty());
    }
}
