//! The text of `/metrics` and of `/probe`, from the views, through the shared definitions
//! of `skew-metrics` (pure).

use crate::local::LocalView;
use crate::view::ServersView;
use skew_metrics::defs::*;
use skew_metrics::ntp::{add_agreement, add_probes, add_server_counts, server_labels};
use skew_metrics::Exposition;
use skew_ntp::select::AgreementRecord;
use skew_ntp::ProbeRecord;

/// The exporter's own counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExporterCounts {
    /// `/metrics` requests served (this one included).
    pub scrapes: u64,
    /// `/probe` requests answered.
    pub probes: u64,
    /// When the exporter started, Unix s.
    pub start_unix_s: f64,
}

/// An averaging time as a label value: whole seconds without a fraction (`64`), else the
/// shortest decimal (`0.5`).
pub fn tau_label(tau_ns: i64) -> String {
    if tau_ns % 1_000_000_000 == 0 {
        (tau_ns / 1_000_000_000).to_string()
    } else {
        format!("{}", tau_ns as f64 / 1e9)
    }
}

/// Adds the local clock, pause and leap families.
pub fn add_local(e: &mut Exposition, l: &LocalView) {
    if let Some(c) = &l.clock {
        e.add_opt(&CLOCK_RATE, &[], c.rate_ppm);
        e.add_opt(&CLOCK_RATE_CI95, &[], c.rate_ci95_ppm);
        e.add_opt(&KERNEL_FREQUENCY, &[], c.kernel_freq_ppm);
        e.add_flag(&KERNEL_READABLE, &[], c.kernel_readable);
        e.add_flag(&KERNEL_SYNCHRONIZED, &[], c.kernel_synchronized);
        e.add_opt(&CLOCK_SUSPENDED, &[], c.suspended_s);
        e.add(&CLOCK_RUN_STEPS, &[], f64::from(c.steps));
    }
    e.add_opt(&CLOCK_STEPS_TOTAL, &[], l.steps_total.map(|s| s as f64));
    if let Some(p) = &l.pause {
        e.add(&PAUSE_MAX, &[], p.max_s);
        e.add(&PAUSE_P99, &[], p.p99_s);
        e.add(&PAUSE_EVENTS, &[], f64::from(p.events));
    }
    if let Some(lp) = &l.leap {
        e.add_opt(&LEAP_FILE_EXPIRY, &[], lp.expires_unix_s.map(|v| v as f64));
        e.add_opt(&LEAP_TAI_OFFSET, &[], lp.tai_minus_utc_s.map(|v| v as f64));
    }
}

/// The part of `/metrics` that only changes with the servers' view: rendered once per view
/// (by the poller), not per scrape. Everything but the regression's offset, which depends on
/// the time of the scrape.
pub fn servers_text(servers: &ServersView) -> String {
    let mut e = Exposition::new();
    let records: Vec<ProbeRecord> = servers.servers.iter().map(|s| s.record.clone()).collect();
    add_probes(&mut e, &records);
    add_server_counts(&mut e, &records);
    if let Some(a) = &servers.agreement {
        add_agreement(&mut e, a);
    }
    for s in &servers.servers {
        let l = server_labels(&s.record);
        e.add(&NTP_REACH, &l, f64::from(s.reach));
        e.add(&NTP_POLL, &l, s.poll_s);
        e.add_opt(&NTP_LAST_SAMPLE, &l, s.last_ok_unix_s);
        e.add(&EXPORTER_WINDOW, &l, s.window_len as f64);
        e.add_opt(&EXPORTER_PROBE_DURATION, &l, s.duration_s);
        e.add(&EXPORTER_POLLS, &l, s.polls as f64);
    }
    for s in &servers.servers {
        let l = server_labels(&s.record);
        for (status, n) in &s.errors {
            e.add(&EXPORTER_POLL_ERRORS, &[l[0], l[1], status], *n as f64);
        }
    }
    for s in &servers.servers {
        let Some(st) = &s.stats else { continue };
        let l = server_labels(&s.record);
        e.add(&SOURCESTATS_SAMPLES, &l, st.np as f64);
        e.add(&SOURCESTATS_RUNS, &l, st.nr as f64);
        e.add(&SOURCESTATS_SPAN, &l, st.span_ns as f64 / 1e9);
        e.add(&SOURCESTATS_FREQUENCY, &l, st.frequency_ppm);
        e.add(&SOURCESTATS_FREQUENCY_SKEW, &l, st.skew_ppm);
        e.add(&SOURCESTATS_STDDEV, &l, st.std_dev_ns / 1e9);
    }
    for s in &servers.servers {
        let l = server_labels(&s.record);
        for p in &s.allan {
            e.add(
                &NTP_ALLAN_DEVIATION,
                &[l[0], l[1], &tau_label(p.tau_ns)],
                p.adev,
            );
        }
    }
    e.render()
}

/// The text of `/metrics` at `now_mono_ns`: the servers' part rendered with their view
/// (`servers_text`), then what changes with every scrape (the regression's offsets at this
/// time, the local readings, the exporter's counts).
pub fn metrics_text(
    servers: &ServersView,
    servers_part: &str,
    local: &LocalView,
    counts: &ExporterCounts,
    now_mono_ns: i64,
) -> String {
    let mut e = Exposition::new();
    for s in &servers.servers {
        let Some(st) = &s.stats else { continue };
        let l = server_labels(&s.record);
        e.add(&SOURCESTATS_OFFSET, &l, st.offset_at_ns(now_mono_ns) / 1e9);
    }
    add_local(&mut e, local);
    e.add(&EXPORTER_SCRAPES, &[], counts.scrapes as f64);
    e.add(&EXPORTER_PROBES, &[], counts.probes as f64);
    e.add(&EXPORTER_START, &[], counts.start_unix_s);
    let tail = e.render();
    let mut out = String::with_capacity(servers_part.len() + tail.len());
    out.push_str(servers_part);
    out.push_str(&tail);
    out
}

/// The text of a `/probe` answer: blackbox_exporter's `probe_success` and
/// `probe_duration_seconds`, the target's per-server families and the agreement of its
/// addresses.
pub fn probe_text(records: &[ProbeRecord], agreement: &AgreementRecord, duration_s: f64) -> String {
    let mut e = Exposition::new();
    let ok = records.iter().any(|r| r.status == skew_ntp::Status::Ok);
    e.add(&PROBE_SUCCESS, &[], if ok { 1.0 } else { 0.0 });
    e.add(&PROBE_DURATION, &[], duration_s);
    add_probes(&mut e, records);
    add_agreement(&mut e, agreement);
    e.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_labels() {
        assert_eq!(tau_label(64_000_000_000), "64");
        assert_eq!(tau_label(1_000_000_000), "1");
        assert_eq!(tau_label(500_000_000), "0.5");
        assert_eq!(tau_label(1_250_000_000), "1.25");
    }

    #[test]
    fn empty_views_still_say_who_is_talking() {
        let t = metrics_text(
            &ServersView::default(),
            &servers_text(&ServersView::default()),
            &LocalView::default(),
            &ExporterCounts {
                scrapes: 1,
                probes: 0,
                start_unix_s: 1.5e9,
            },
            0,
        );
        assert!(
            t.contains("\nskew_exporter_scrapes_total 1\n")
                || t.contains("\nskew_exporter_scrapes_total 1.0\n"),
            "{t}"
        );
        assert!(!t.contains("skew_ntp_up"));
    }
}
