//! The interval for "now" from a saved measurement (pure).

use crate::state::{ClockReadings, MeasurementState};
use serde::Serialize;

/// The oldest measurement a user may choose to trust (`--max-age`): 0 to 3650 days.
pub const MAX_AGE_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 3_650 * 86_400_000_000_000);
/// The period of `skew now --watch`: 1 ms to 1 day.
pub const WATCH_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 86_400_000_000_000);
/// The stall of its own `skew now --watch` takes for scheduling noise: 0 to 1 h.
pub const PAUSE_THRESHOLD_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 3_600_000_000_000);

/// Limits on trusting a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// Maximum drift rate of the local clock between measurements, ppm.
    pub max_drift_ppm: f64,
    /// Oldest measurement still trusted, ns.
    pub max_age_ns: i64,
    /// Largest change of REALTIME − BOOTTIME not taken for a step, ns (read jitter).
    pub step_tolerance_ns: i64,
    /// Largest growth of BOOTTIME − MONOTONIC not taken for a suspend, ns.
    pub suspend_tolerance_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_drift_ppm: 50.0,
            max_age_ns: 24 * 3600 * 1_000_000_000,
            step_tolerance_ns: 1_000_000,
            suspend_tolerance_ns: 1_000_000,
        }
    }
}

/// Whether the interval can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `earliest ≤ true time ≤ latest` holds under the stated assumptions.
    Ok,
    /// No interval: the clock may have moved since the measurement.
    Unknown,
}

/// The answer for "now".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// `ok` or `unknown`.
    pub status: Status,
    /// The local clock now, ns since the Unix epoch.
    pub local_ns: i64,
    /// Earliest the true time can be, ns since the Unix epoch (None when unknown).
    pub earliest_ns: Option<i64>,
    /// Latest the true time can be, ns since the Unix epoch (None when unknown).
    pub latest_ns: Option<i64>,
    /// Seconds since the measurement, on the monotonic clock.
    pub age_s: f64,
    /// Why unknown (or what the interval rests on).
    pub reason: String,
}

fn unknown(now: &ClockReadings, age_ns: i64, reason: String) -> Interval {
    Interval {
        status: Status::Unknown,
        local_ns: now.realtime_ns,
        earliest_ns: None,
        latest_ns: None,
        age_s: age_ns as f64 / 1e9,
        reason,
    }
}

/// The largest agreement half-width, and the largest distance of an agreement from zero,
/// a state may hold: 10⁶ s (11.6 days). Beyond it the numbers cannot come from a
/// measurement (a server's root distance over 16 s is already refused), and far beyond it
/// the arithmetic of the interval would overflow.
pub const MAX_STATE_OFFSET_NS: i64 = 1_000_000 * 1_000_000_000;

/// Why a state cannot be evaluated at all, whatever the clocks say now (issue 14.11: a
/// state with `lo_ns > hi_ns` gave "ok … width −9.999974 s"). Pure.
pub fn state_problem(s: &MeasurementState) -> Option<String> {
    if let (Some(lo), Some(hi)) = (s.lo_ns, s.hi_ns) {
        if lo > hi {
            return Some(format!(
                "the state is inconsistent: its bound's lower end {lo} ns is above its upper end {hi} ns"
            ));
        }
        if lo.unsigned_abs() > MAX_STATE_OFFSET_NS as u64
            || hi.unsigned_abs() > MAX_STATE_OFFSET_NS as u64
        {
            return Some(format!(
                "the state's bound [{lo}, {hi}] ns is beyond ±{} s: not a measurement",
                MAX_STATE_OFFSET_NS / 1_000_000_000
            ));
        }
    }
    if s.lo_ns.is_some() != s.hi_ns.is_some() {
        return Some("the state has one end of its bound without the other".into());
    }
    if s.until.monotonic_ns < s.at.monotonic_ns {
        return Some("the state's measurement ends before it starts (monotonic clock)".into());
    }
    None
}

/// Evaluates the measurement `s` at the clocks `now` (with the current boot id).
///
/// Every figure is computed in 128-bit integers and an interval that does not fit the
/// `i64` nanoseconds of a time stamp is `unknown`, never a wrapped or saturated one; an
/// inconsistent state ([`state_problem`]) or an invalid drift allowance is `unknown` too.
pub fn evaluate(s: &MeasurementState, now: &(ClockReadings, String), limits: &Limits) -> Interval {
    let (now, boot_id) = now;
    let age_ns = now.monotonic_ns.saturating_sub(s.at.monotonic_ns);
    if let Some(problem) = state_problem(s) {
        return unknown(now, age_ns.max(0), problem);
    }
    if let Err(e) = skew_time::check_ppm(limits.max_drift_ppm) {
        return unknown(now, age_ns.max(0), format!("invalid drift allowance: {e}"));
    }
    if *boot_id != s.boot_id {
        return unknown(now, 0, "the machine rebooted since the measurement".into());
    }
    if age_ns < 0 {
        return unknown(
            now,
            age_ns,
            "the monotonic clock is behind the measurement (state from the future?)".into(),
        );
    }
    if age_ns > limits.max_age_ns {
        return unknown(
            now,
            age_ns,
            format!(
                "the measurement is {:.0} s old (limit {:.0} s)",
                age_ns as f64 / 1e9,
                limits.max_age_ns as f64 / 1e9
            ),
        );
    }
    let step_ns = now.step_since_ns(&s.until);
    let in_run_step = s.until.step_since_ns(&s.at);
    for (d, when) in [(in_run_step, "during"), (step_ns, "since")] {
        if d.abs() > limits.step_tolerance_ns {
            return unknown(
                now,
                age_ns,
                format!(
                    "the time-of-day clock stepped {:+.6} s {when} the measurement",
                    d as f64 / 1e9
                ),
            );
        }
    }
    let suspend_ns = now.suspend_since_ns(&s.at);
    if suspend_ns > limits.suspend_tolerance_ns {
        return unknown(
            now,
            age_ns,
            format!(
                "the machine was suspended for {:.3} s since the measurement",
                suspend_ns as f64 / 1e9
            ),
        );
    }
    if let Some(inv) = &s.invalidated {
        if inv.at_unix_ns >= s.at.realtime_ns {
            return unknown(
                now,
                age_ns,
                format!("voided after the measurement: {}", inv.reason),
            );
        }
    }
    let (Some(lo), Some(hi)) = (s.lo_ns, s.hi_ns) else {
        return unknown(
            now,
            age_ns,
            "the last measurement found no majority of servers agreeing".into(),
        );
    };
    // Rounded up, and kept in i128: 1e308 ppm × a day is far outside i64 (it saturated to
    // i64::MAX, and the width then wrapped negative).
    let drift = (age_ns as f64 * limits.max_drift_ppm / 1e6).ceil();
    let drift_ns: i128 = if drift >= i128::MAX as f64 / 4.0 {
        i128::MAX / 4
    } else {
        drift as i128
    };
    let earliest = i128::from(now.realtime_ns) + i128::from(lo) - drift_ns;
    let latest = i128::from(now.realtime_ns) + i128::from(hi) + drift_ns;
    let (Ok(earliest_ns), Ok(latest_ns)) = (i64::try_from(earliest), i64::try_from(latest)) else {
        return unknown(
            now,
            age_ns,
            format!(
                "the interval (agreement widened by {} ppm × {:.3} s) is beyond the range of time stamps",
                limits.max_drift_ppm,
                age_ns as f64 / 1e9
            ),
        );
    };
    Interval {
        status: Status::Ok,
        local_ns: now.realtime_ns,
        earliest_ns: Some(earliest_ns),
        latest_ns: Some(latest_ns),
        age_s: age_ns as f64 / 1e9,
        reason: format!(
            "agreement [{:+.6}, {:+.6}] s widened by {} ppm × {:.3} s",
            lo as f64 / 1e9,
            hi as f64 / 1e9,
            limits.max_drift_ppm,
            age_ns as f64 / 1e9
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::sample;
    use crate::state::Invalidation;

    fn later(s: &MeasurementState, dt_ns: i64) -> (ClockReadings, String) {
        (
            ClockReadings {
                realtime_ns: s.at.realtime_ns + dt_ns,
                monotonic_ns: s.at.monotonic_ns + dt_ns,
                boottime_ns: s.at.boottime_ns + dt_ns,
            },
            s.boot_id.clone(),
        )
    }

    #[test]
    fn widens_with_age() {
        let s = sample();
        let i = evaluate(&s, &later(&s, 100_000_000_000), &Limits::default());
        assert_eq!(i.status, Status::Ok);
        // 100 s at 50 ppm = 5 ms on each side.
        assert_eq!(i.earliest_ns, Some(i.local_ns - 20_000 - 5_000_000));
        assert_eq!(i.latest_ns, Some(i.local_ns + 30_000 + 5_000_000));
        assert!((i.age_s - 100.0).abs() < 1e-9);
    }

    #[test]
    fn refuses_when_the_clock_may_have_moved() {
        let s = sample();
        let l = Limits::default();
        // Step: REALTIME moved +2 s against BOOTTIME.
        let mut now = later(&s, 10_000_000_000);
        now.0.realtime_ns += 2_000_000_000;
        let i = evaluate(&s, &now, &l);
        assert_eq!(i.status, Status::Unknown);
        assert!(i.reason.contains("stepped +2.000000 s"), "{}", i.reason);
        assert!(i.earliest_ns.is_none());
        // Suspend: BOOTTIME grew against MONOTONIC (and REALTIME with it).
        let mut now = later(&s, 10_000_000_000);
        now.0.boottime_ns += 30_000_000_000;
        now.0.realtime_ns += 30_000_000_000;
        assert!(evaluate(&s, &now, &l)
            .reason
            .contains("suspended for 30.000 s"));
        // Too old.
        assert!(evaluate(&s, &later(&s, 25 * 3600 * 1_000_000_000), &l)
            .reason
            .contains("old"));
        // Reboot.
        let mut now = later(&s, 1);
        now.1 = "other".into();
        assert!(evaluate(&s, &now, &l).reason.contains("rebooted"));
        // Pause recorded after the measurement.
        let mut v = s.clone();
        v.invalidated = Some(Invalidation {
            at_unix_ns: s.at.realtime_ns + 5,
            reason: "pause of 2 s".into(),
        });
        assert!(evaluate(&v, &later(&s, 10), &l)
            .reason
            .contains("pause of 2 s"));
        // No majority.
        let mut v = s.clone();
        (v.lo_ns, v.hi_ns) = (None, None);
        assert!(evaluate(&v, &later(&s, 10), &l)
            .reason
            .contains("no majority"));
        // A step during the measurement run itself.
        let mut v = s.clone();
        v.until.realtime_ns += 1_000_000_000;
        assert!(evaluate(&v, &later(&v, 10), &l).reason.contains("during"));
    }

    #[test]
    fn an_inconsistent_state_is_unknown() {
        // Issue 14.11: lo > hi printed "ok … width −9.999974 s".
        let s = sample();
        let l = Limits::default();
        let mut v = s.clone();
        (v.lo_ns, v.hi_ns) = (Some(5_000_000_000), Some(-5_000_000_000));
        let i = evaluate(&v, &later(&v, 1_000_000_000), &l);
        assert_eq!(i.status, Status::Unknown, "{i:?}");
        assert!(i.reason.contains("inconsistent"), "{}", i.reason);
        assert!(i.earliest_ns.is_none() && i.latest_ns.is_none());
        // Values at the i64 limits.
        for (lo, hi) in [
            (i64::MIN, i64::MAX),
            (i64::MIN, 0),
            (0, i64::MAX),
            (i64::MAX - 1, i64::MAX),
        ] {
            let mut v = s.clone();
            (v.lo_ns, v.hi_ns) = (Some(lo), Some(hi));
            let i = evaluate(&v, &later(&v, 1_000_000_000), &l);
            assert_eq!(i.status, Status::Unknown, "[{lo}, {hi}]: {i:?}");
            assert!(i.reason.contains("not a measurement"), "{}", i.reason);
        }
        // One end without the other; a measurement that ends before it starts.
        let mut v = s.clone();
        v.hi_ns = None;
        assert!(evaluate(&v, &later(&v, 10), &l).reason.contains("one end"));
        let mut v = s.clone();
        v.until.monotonic_ns = v.at.monotonic_ns - 1;
        assert!(evaluate(&v, &later(&v, 10), &l)
            .reason
            .contains("ends before it starts"));
        // Clocks at the i64 limits never overflow.
        let mut v = s.clone();
        v.at.realtime_ns = i64::MAX;
        v.until.realtime_ns = i64::MAX;
        let mut now = later(&s, 10);
        now.0.realtime_ns = i64::MAX;
        let i = evaluate(&v, &now, &l);
        assert!(
            i.earliest_ns.is_none() || i.earliest_ns <= i.latest_ns,
            "{i:?}"
        );
    }

    #[test]
    fn a_huge_drift_allowance_never_gives_a_negative_width() {
        // Issue 14.11: --max-drift-ppm 1e308 printed negative widths.
        let s = sample();
        for ppm in [1e308, 1e30, f64::MAX, 1e12] {
            let l = Limits {
                max_drift_ppm: ppm,
                ..Limits::default()
            };
            let i = evaluate(&s, &later(&s, 100_000_000_000), &l);
            match (i.earliest_ns, i.latest_ns) {
                (Some(e), Some(x)) => assert!(e <= x, "{ppm}: {i:?}"),
                (None, None) => {
                    assert_eq!(i.status, Status::Unknown);
                    assert!(i.reason.contains("beyond the range"), "{}", i.reason);
                }
                _ => panic!("{i:?}"),
            }
        }
        // Not a number, infinite, negative: unknown, never silently 0 ppm.
        for ppm in [f64::NAN, f64::INFINITY, -1.0] {
            let l = Limits {
                max_drift_ppm: ppm,
                ..Limits::default()
            };
            let i = evaluate(&s, &later(&s, 100_000_000_000), &l);
            assert_eq!(i.status, Status::Unknown, "{ppm}");
            assert!(i.reason.contains("invalid drift allowance"), "{}", i.reason);
        }
    }
}
