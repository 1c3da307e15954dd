//! The interval for "now" from a saved measurement (pure).

use crate::state::{ClockReadings, MeasurementState};
use serde::Serialize;

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

/// Evaluates the measurement `s` at the clocks `now` (with the current boot id).
pub fn evaluate(s: &MeasurementState, now: &(ClockReadings, String), limits: &Limits) -> Interval {
    let (now, boot_id) = now;
    let age_ns = now.monotonic_ns.saturating_sub(s.at.monotonic_ns);
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
    let drift_ns = (age_ns as f64 * limits.max_drift_ppm / 1e6).ceil() as i64;
    Interval {
        status: Status::Ok,
        local_ns: now.realtime_ns,
        earliest_ns: Some(now.realtime_ns.saturating_add(lo).saturating_sub(drift_ns)),
        latest_ns: Some(now.realtime_ns.saturating_add(hi).saturating_add(drift_ns)),
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
        v.lo_ns = None;
        assert!(evaluate(&v, &later(&s, 10), &l)
            .reason
            .contains("no majority"));
        // A step during the measurement run itself.
        let mut v = s.clone();
        v.until.realtime_ns += 1_000_000_000;
        assert!(evaluate(&v, &later(&v, 10), &l).reason.contains("during"));
    }
}
