//! A monitoring run's results, and the drift-log rows they become (pure).

use serde::Serialize;
use skew_driftlog::{AgreementStatus, DriftRow, Kind, SCHEMA_VERSION};
use skew_ntp::select::AgreementRecord;
use skew_ntp::ProbeRecord;
use skew_time::rfc3339;

/// The local clock figures of a run (from `skew clocks`' measurements).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClockReading {
    /// Time-of-day rate against MONOTONIC_RAW, ppm.
    pub rate_ppm: Option<f64>,
    /// Half-width of its 95 % confidence interval, ppm.
    pub rate_ci95_ppm: Option<f64>,
    /// The kernel's frequency correction, ppm.
    pub kernel_freq_ppm: Option<f64>,
    /// The kernel's state (`TIME_OK`, `TIME_ERROR`...).
    pub kernel_state: Option<String>,
    /// Whether the kernel considers the clock synchronized.
    pub kernel_synchronized: Option<bool>,
    /// Why the kernel does (or does not) consider it synchronized.
    pub kernel_sync_reason: Option<String>,
    /// Why the kernel's state could not be read (adjtimex denied by a seccomp filter such
    /// as systemd's ProtectClock=, or failed); `None` when it was read.
    pub kernel_error: Option<String>,
    /// Steps of the time-of-day clock seen during the reading.
    pub steps: u32,
    /// The largest step, signed, s.
    pub step_max_s: Option<f64>,
    /// Of `steps`, those the kernel did not report although it was watched (the
    /// cancel-on-set timerfd): local to this process, as with libfaketime.
    pub steps_local: u32,
    /// BOOTTIME − MONOTONIC, s.
    pub suspended_s: Option<f64>,
}

/// The pause figures of a run's short pause sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PauseReading {
    /// Upper bound of the longest pause, s.
    pub max_s: f64,
    /// 99th percentile of the overshoot, s.
    pub p99_s: f64,
    /// Events above the threshold.
    pub events: u32,
}

/// The leap-second status of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LeapReading {
    /// `ok`, `expiring`, `expired`, `bad_hash`, `missing`...
    pub status: String,
    /// Expiry of the leap-seconds list, RFC 3339.
    pub expires: Option<String>,
    /// TAI − UTC now according to the list, s.
    pub tai_minus_utc_s: Option<i64>,
    /// The next scheduled leap, RFC 3339.
    pub next: Option<String>,
    /// Expiry as seconds since the Unix epoch (for metrics).
    pub expires_unix_s: Option<i64>,
    /// The list read.
    pub path: Option<String>,
    /// Whose list it is: `system`, `cache` (skew's, written by `skew leap --fetch`) or
    /// `given` (`--leap-file`, skew.toml's `[leap] file`).
    pub source: Option<skew_leap::in_use::Origin>,
    /// Which list was used and why the others were not, as one line.
    pub chosen: Option<String>,
}

/// Everything one monitoring run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// When the run started, ns since the Unix epoch.
    pub run_time_unix_ns: i64,
    /// The run's identity in the drift log (`run_id`): 16 hex digits drawn at random, so
    /// that two runs started at the same instant stay apart (issue 14.14).
    pub run_id: String,
    /// This host's name.
    pub host: String,
    /// One entry per probed address.
    pub probes: Vec<ProbeRecord>,
    /// The majority's verdict.
    pub agreement: AgreementRecord,
    /// Local clock figures, when taken.
    pub clock: Option<ClockReading>,
    /// Pause figures, when sampled.
    pub pause: Option<PauseReading>,
    /// Leap-second status, when checked.
    pub leap: Option<LeapReading>,
}

/// Makes a field safe for one CSV line: newlines become spaces.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

impl RunReport {
    /// The drift-log rows of this run: one `ntp` row per probed address, one `agreement`
    /// row, and one `clock`, `pause` and `leap` row when those were taken.
    pub fn rows(&self) -> Vec<DriftRow> {
        let base = DriftRow {
            schema: SCHEMA_VERSION,
            run_time: rfc3339::format_ns(self.run_time_unix_ns),
            host: one_line(&self.host),
            run_id: Some(one_line(&self.run_id)),
            ..DriftRow::default()
        };
        let mut rows = Vec::with_capacity(self.probes.len() + 4);
        for p in &self.probes {
            rows.push(DriftRow {
                kind: Kind::Ntp,
                server: Some(one_line(&p.server)),
                address: p.address.clone(),
                status: Some(p.status.to_string()),
                offset_s: p.offset_s,
                delay_s: p.delay_s,
                jitter_s: p.jitter_s,
                bound_lo_s: p.bound_lo_s,
                bound_hi_s: p.bound_hi_s,
                utc_lo_s: p.utc_lo_s,
                utc_hi_s: p.utc_hi_s,
                stratum: p.stratum,
                leap: p.leap,
                root_delay_s: p.root_delay_s,
                root_dispersion_s: p.root_dispersion_s,
                truechimer: p.truechimer,
                error: p.error.as_deref().map(one_line),
                nts_authenticated: p.nts.as_ref().map(|n| n.authenticated),
                nts_ke_duration_s: p.nts.as_ref().and_then(|n| n.ke_duration_s),
                nts_cert_not_after: p.nts.as_ref().and_then(|n| n.cert_not_after.clone()),
                nts_cookies: p.nts.as_ref().map(|n| n.cookies as u32),
                ..base.clone()
            });
        }
        let a = &self.agreement;
        rows.push(DriftRow {
            kind: Kind::Agreement,
            status: Some(AgreementStatus::of(a.majority).as_str().to_string()),
            offset_s: a.lo_s.zip(a.hi_s).map(|(l, h)| (l + h) / 2.0),
            utc_lo_s: a.lo_s,
            utc_hi_s: a.hi_s,
            truechimers: Some(a.truechimers as u32),
            falsetickers: Some(a.falsetickers as u32),
            ..base.clone()
        });
        if let Some(c) = &self.clock {
            rows.push(DriftRow {
                kind: Kind::Clock,
                rate_ppm: c.rate_ppm,
                rate_ci95_ppm: c.rate_ci95_ppm,
                kernel_freq_ppm: c.kernel_freq_ppm,
                kernel_state: c.kernel_state.clone(),
                kernel_synchronized: c.kernel_synchronized,
                error: c.kernel_error.as_deref().map(one_line),
                steps: Some(c.steps),
                step_max_s: c.step_max_s,
                suspended_s: c.suspended_s,
                ..base.clone()
            });
        }
        if let Some(p) = &self.pause {
            rows.push(DriftRow {
                kind: Kind::Pause,
                pause_max_s: Some(p.max_s),
                pause_p99_s: Some(p.p99_s),
                pause_events: Some(p.events),
                ..base.clone()
            });
        }
        if let Some(l) = &self.leap {
            rows.push(DriftRow {
                kind: Kind::Leap,
                status: Some(one_line(&l.status)),
                leap_expires: l.expires.clone(),
                tai_minus_utc_s: l.tai_minus_utc_s,
                leap_next: l.next.clone(),
                ..base
            });
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_fields() {
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
    }

    #[test]
    fn every_row_of_a_run_carries_its_run_id() {
        let r = crate::prom::tests::report();
        let rows = r.rows();
        assert!(rows.len() >= 4);
        assert!(rows
            .iter()
            .all(|x| x.run_id.as_deref() == Some("0123456789abcdef")));
        // Fresh identities differ, and are 16 hex digits.
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| crate::run::new_run_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|i| i.len() == 16 && i.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
