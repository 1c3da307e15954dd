//! The Prometheus textfile for node_exporter's textfile collector.
//!
//! Every metric is defined once in `skew-metrics` (name, help, type, labels), shared with
//! `skew exporter`, and encoded in the Prometheus text format by `prometheus-client`. The
//! text is rendered purely from a [`RunReport`]; [`write_atomic`] puts it in place with a
//! temporary file in the same directory and a rename, so the collector never reads half a
//! file.

use crate::rows::RunReport;
use skew_metrics::defs::*;
use skew_metrics::ntp::{add_agreement, add_nts, add_probes, add_server_counts};
use skew_metrics::Exposition;
use std::path::Path;

/// Values that do not come from the run itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromExtras {
    /// The run's wall time, s.
    pub run_duration_s: f64,
    /// Time-of-day steps seen by all monitor runs so far (a counter kept in the state file).
    pub clock_steps_total: Option<u64>,
    /// The run's Nagios state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    pub check_status: Option<i32>,
}

/// Renders the textfile for a run, from the metric definitions shared with the exporter
/// (`skew-metrics`).
pub fn render(r: &RunReport, extras: &PromExtras) -> String {
    let mut e = Exposition::new();
    add_probes(&mut e, &r.probes);
    add_nts(&mut e, &r.probes);
    add_server_counts(&mut e, &r.probes);
    add_agreement(&mut e, &r.agreement);
    if let Some(c) = &r.clock {
        e.add_opt(&CLOCK_RATE, &[], c.rate_ppm);
        e.add_opt(&CLOCK_RATE_CI95, &[], c.rate_ci95_ppm);
        e.add_opt(&KERNEL_FREQUENCY, &[], c.kernel_freq_ppm);
        e.add(
            &KERNEL_READABLE,
            &[],
            if c.kernel_error.is_none() { 1.0 } else { 0.0 },
        );
        e.add_flag(&KERNEL_SYNCHRONIZED, &[], c.kernel_synchronized);
        e.add_opt(&CLOCK_SUSPENDED, &[], c.suspended_s);
        e.add(&CLOCK_RUN_STEPS, &[], f64::from(c.steps));
    }
    e.add_opt(
        &CLOCK_STEPS_TOTAL,
        &[],
        extras.clock_steps_total.map(|t| t as f64),
    );
    if let Some(p) = &r.pause {
        e.add(&PAUSE_MAX, &[], p.max_s);
        e.add(&PAUSE_P99, &[], p.p99_s);
        e.add(&PAUSE_EVENTS, &[], f64::from(p.events));
    }
    if let Some(l) = &r.leap {
        e.add_opt(&LEAP_FILE_EXPIRY, &[], l.expires_unix_s.map(|v| v as f64));
        e.add_opt(&LEAP_TAI_OFFSET, &[], l.tai_minus_utc_s.map(|v| v as f64));
    }
    e.add_opt(&CHECK_STATUS, &[], extras.check_status.map(f64::from));
    e.add(&RUN_DURATION, &[], extras.run_duration_s);
    e.add(&LAST_RUN_TIMESTAMP, &[], r.run_time_unix_ns as f64 / 1e9);
    e.render()
}

/// Writes `text` to `path` atomically ([`skew_fs::write_atomic`]: an exclusive temporary
/// file in the same directory, fsynced, renamed over `path`). The directory is created when
/// missing.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    Ok(skew_fs::write_atomic_creating_dir(path, text.as_bytes())?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rows::{ClockReading, LeapReading, PauseReading};
    use skew_ntp::select::AgreementRecord;

    pub(crate) fn report() -> RunReport {
        let probe: skew_ntp::ProbeRecord = serde_json::from_value(serde_json::json!({
            "server": "a\"b", "address": "127.0.0.1:123", "status": "ok", "error": null,
            "offset_s": 1.5e-6, "delay_s": 2e-5, "jitter_s": 1e-6, "bound_lo_s": -1e-5, "bound_hi_s": 1.3e-5,
            "utc_lo_s": -2e-5, "utc_hi_s": 2.3e-5, "stratum": 8, "refid": "127.127.1.1", "leap": "none",
            "precision_s": 3e-8, "root_delay_s": 0.0, "root_dispersion_s": 1.5e-5, "kiss_code": null,
            "rx_timestamp": "kernel", "tx_timestamp": "kernel", "samples": [], "version": 4,
            "local_precision_s": 3e-8, "bound_consistent": true, "sent": 4, "answered": 4, "dropped": {},
            "warnings": [], "truechimer": true, "advice": null
        }))
        .unwrap();
        RunReport {
            run_time_unix_ns: 1_795_000_000_123_456_789,
            run_id: "0123456789abcdef".into(),
            host: "h".into(),
            probes: vec![probe],
            agreement: AgreementRecord {
                lo_s: Some(-2e-5),
                hi_s: Some(2.3e-5),
                truechimers: 1,
                falsetickers: 0,
                majority: true,
                min_agree: 1,
                candidates: 1,
                max_overlap: 1,
                servers: 1,
            },
            clock: Some(ClockReading {
                rate_ppm: Some(0.5),
                kernel_synchronized: Some(false),
                steps: 1,
                ..ClockReading::default()
            }),
            pause: Some(PauseReading {
                max_s: 0.004,
                p99_s: 0.0002,
                events: 0,
            }),
            leap: Some(LeapReading {
                status: "expired".into(),
                expires_unix_s: Some(1_782_604_800),
                tai_minus_utc_s: Some(37),
                ..LeapReading::default()
            }),
        }
    }

    #[test]
    fn renders_families_with_help_and_type() {
        let text = render(
            &report(),
            &PromExtras {
                run_duration_s: 0.5,
                clock_steps_total: Some(3),
                check_status: Some(1),
            },
        );
        assert!(text.contains("# TYPE skew_ntp_offset_seconds gauge\n"));
        assert!(
            text.contains(
                "skew_ntp_offset_seconds{server=\"a\\\"b\",address=\"127.0.0.1:123\"} 0.0000015\n"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE skew_clock_steps_total counter\nskew_clock_steps_total 3\n"));
        assert!(text.contains("skew_leap_file_expiry_timestamp_seconds 1782604800\n"));
        assert!(text.contains("\nskew_kernel_readable 1\n"), "{text}");
        let mut denied = report();
        denied.clock.as_mut().unwrap().kernel_error = Some("adjtimex is denied".into());
        let text_denied = render(&denied, &PromExtras::default());
        assert!(
            text_denied.contains("\nskew_kernel_readable 0\n"),
            "{text_denied}"
        );
        let last: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("skew_last_run_timestamp_seconds "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(last, 1_795_000_000.123_456_7);
        // Every sample line belongs to a family announced by HELP and TYPE.
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.contains(name), "{name} undeclared");
            }
        }
    }

    /// A report with every value present, two servers (one twice, one never measured).
    pub(crate) fn full_report() -> RunReport {
        let mut r = report();
        let mut dead: skew_ntp::ProbeRecord = r.probes[0].clone();
        dead.server = "dead\\host\nx".into();
        dead.address = None;
        dead.status = skew_ntp::Status::Timeout;
        dead.offset_s = None;
        dead.delay_s = None;
        dead.jitter_s = None;
        dead.bound_lo_s = None;
        dead.bound_hi_s = None;
        dead.utc_lo_s = None;
        dead.utc_hi_s = None;
        dead.stratum = None;
        dead.leap = None;
        dead.root_delay_s = None;
        dead.root_dispersion_s = None;
        dead.truechimer = Some(false);
        let mut again = r.probes[0].clone();
        again.offset_s = Some(9.0);
        r.probes.push(dead);
        r.probes.push(again);
        r.clock = Some(ClockReading {
            rate_ppm: Some(-12.345678901),
            rate_ci95_ppm: Some(0.00004),
            kernel_freq_ppm: Some(3.5),
            kernel_state: Some("TIME_ERROR".into()),
            kernel_synchronized: Some(true),
            steps: 2,
            step_max_s: Some(-1.0),
            suspended_s: Some(12.25),
            ..ClockReading::default()
        });
        r
    }

    /// The extras of the golden textfiles.
    pub(crate) fn golden_extras() -> PromExtras {
        PromExtras {
            run_duration_s: 2.123456789,
            clock_steps_total: Some(7),
            check_status: Some(2),
        }
    }

    /// An NTS view as a probe record carries it.
    fn nts_view(
        cookies: u32,
        authenticated: bool,
        ke_s: Option<f64>,
        end: Option<&str>,
    ) -> skew_ntp::nts::report::NtsView {
        serde_json::from_value(serde_json::json!({
            "ke_server": "nts.example", "ke_port": 4460, "ntp_server": "nts.example",
            "ntp_port": 123, "tls_version": "TLSv1.3", "aead": "AES-SIV-CMAC-256",
            "cookies": cookies, "cookie_bytes": 100, "ke_duration_s": ke_s,
            "cert_subject": "CN=nts.example", "cert_not_after": end,
            "cert_days_left": 25.5, "authenticated": authenticated, "dropped_unauthenticated": 0
        }))
        .unwrap()
    }

    /// [`full_report`] with NTS servers: one authenticated, probed at two addresses (its
    /// first record describes it), one whose key exchange failed (no duration, no
    /// certificate, a name to escape), one whose replies did not authenticate.
    pub(crate) fn full_report_with_nts() -> RunReport {
        let mut r = full_report();
        let mut good = r.probes[0].clone();
        good.server = "nts.example".into();
        good.nts = Some(nts_view(
            8,
            true,
            Some(0.0021),
            Some("2027-01-01T00:00:00Z"),
        ));
        let mut good_v6 = good.clone();
        good_v6.address = Some("[::1]:123".into());
        good_v6.nts = Some(nts_view(7, true, Some(0.5), Some("2030-01-01T00:00:00Z")));
        let mut failed = r.probes[1].clone();
        failed.server = "ke\\\"fail\nx:4460".into();
        failed.status = skew_ntp::Status::NtsKeFailed;
        failed.nts = Some(nts_view(0, false, None, None));
        let mut forged = r.probes[0].clone();
        forged.server = "forged.example".into();
        forged.address = Some("127.0.0.2:123".into());
        forged.nts = Some(nts_view(3, false, Some(1.25), Some("2026-12-31T23:59:59Z")));
        r.probes.extend([good, good_v6, failed, forged]);
        r
    }

    /// Families added after the golden textfiles were written: `skew_kernel_readable`
    /// (issue 13.4, adjtimex denied by a seccomp filter).
    const ADDED_SINCE_THE_GOLDENS: &[&str] = &["skew_kernel_readable"];

    /// Compares a textfile with a golden one: every HELP and TYPE line the same, every sample
    /// the same name, labels and value (a number may only be spelled differently when it
    /// parses to the same value, to the bit).
    fn assert_same_textfile(before: &str, now: &str) {
        // Families added on purpose since the goldens were written are left out of the
        // comparison (and tested on their own).
        let added = |l: &&str| {
            ADDED_SINCE_THE_GOLDENS.iter().any(|f| {
                l.starts_with(&format!("# HELP {f} "))
                    || l.starts_with(&format!("# TYPE {f} "))
                    || l.starts_with(&format!("{f} "))
                    || l.starts_with(&format!("{f}{{"))
            })
        };
        let (b, n): (Vec<&str>, Vec<&str>) = (
            before.lines().collect(),
            now.lines().filter(|l| !added(l)).collect(),
        );
        assert_eq!(b.len(), n.len(), "{now}");
        for (x, y) in b.iter().zip(&n) {
            if x.starts_with('#') {
                assert_eq!(x, y);
            } else {
                let (xs, xv) = x.rsplit_once(' ').unwrap();
                let (ys, yv) = y.rsplit_once(' ').unwrap();
                assert_eq!(xs, ys);
                let (xv, yv): (f64, f64) = (xv.parse().unwrap(), yv.parse().unwrap());
                assert_eq!(xv.to_bits(), yv.to_bits(), "{x} vs {y}");
            }
        }
    }

    /// The textfile is a contract: rendered through `skew-metrics`, every family, HELP and
    /// TYPE line, label set and value is the same as the hand-written renderer it replaced
    /// wrote (its output for this report is kept in testdata/); a number may only be spelled
    /// differently when it parses to the same value.
    #[test]
    fn same_textfile_as_before_the_shared_definitions() {
        let before = include_str!("testdata/textfile-before-skew-metrics.prom");
        let now = render(&full_report(), &golden_extras());
        assert_same_textfile(before, &now);
    }

    /// The NTS families too: the golden was written by the NTS branch's hand-written renderer
    /// (before skew-metrics) for a report with NTS servers, so every NTS family, its HELP,
    /// its `server` label and its values, and where it stands among the others, are as that
    /// renderer wrote them.
    #[test]
    fn same_nts_families_as_before_the_shared_definitions() {
        let before = include_str!("testdata/textfile-nts-before-skew-metrics.prom");
        let now = render(&full_report_with_nts(), &golden_extras());
        assert_same_textfile(before, &now);
        assert!(now.contains("skew_nts_cookies{server=\"nts.example\"} 8\n"));
    }

    #[test]
    fn nts_families_per_server() {
        let mut r = report();
        let mut nts = r.probes[0].clone();
        nts.server = "nts.example".into();
        nts.nts = Some(
            serde_json::from_value(serde_json::json!({
                "ke_server": "nts.example", "ke_port": 4460, "ntp_server": "nts.example",
                "ntp_port": 123, "tls_version": "TLSv1.3", "aead": "AES-SIV-CMAC-256",
                "cookies": 8, "cookie_bytes": 100, "ke_duration_s": 0.0021,
                "cert_subject": "CN=nts.example", "cert_not_after": "2027-01-01T00:00:00Z",
                "cert_days_left": 25.5, "authenticated": true, "dropped_unauthenticated": 0
            }))
            .unwrap(),
        );
        r.probes.push(nts.clone());
        r.probes.push(nts); // given twice: one sample per family
        let text = render(&r, &PromExtras::default());
        for line in [
            "skew_nts_authenticated{server=\"nts.example\"} 1\n",
            "skew_nts_ke_duration_seconds{server=\"nts.example\"} 0.0021\n",
            "skew_nts_cert_expiry_timestamp_seconds{server=\"nts.example\"} 1798761600\n",
            "skew_nts_cookies{server=\"nts.example\"} 8\n",
        ] {
            assert_eq!(text.matches(line).count(), 1, "{line}\n{text}");
        }
        assert!(
            !text.contains("skew_nts_cookies{server=\"a"),
            "plain servers have none"
        );
        assert!(!render(&report(), &PromExtras::default()).contains("skew_nts_"));
    }

    #[test]
    fn atomic_write_replaces() {
        let dir = std::env::temp_dir().join(format!("skew-prom-{}", std::process::id()));
        let p = dir.join("x/skew.prom");
        write_atomic(&p, "a 1\n").unwrap();
        write_atomic(&p, "a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 2\n");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
