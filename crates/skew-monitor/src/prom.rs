//! The Prometheus textfile for node_exporter's textfile collector.
//!
//! Metric names follow the conventions: a `skew_` prefix, base units in the name
//! (`_seconds`, `_ppm`), `_total` for counters, HELP and TYPE lines. The text is rendered
//! purely from a [`RunReport`]; [`write_atomic`] puts it in place with a temporary file in the
//! same directory and a rename, so the collector never reads half a file.

use crate::rows::RunReport;
use std::fmt::Write as _;
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

struct Family<'a> {
    out: &'a mut String,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

impl Family<'_> {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(val));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", num(v));
    }

    /// A gauge with one unlabelled sample, written only when the value exists.
    fn gauge(&mut self, name: &str, help: &str, v: Option<f64>) {
        if let Some(v) = v {
            self.head(name, "gauge", help);
            self.sample(name, &[], v);
        }
    }
}

/// Renders the textfile for a run.
pub fn render(r: &RunReport, extras: &PromExtras) -> String {
    let mut out = String::with_capacity(4096);
    let mut f = Family { out: &mut out };
    // Per server: each family lists the servers that have the value.
    type Get = fn(&skew_ntp::ProbeRecord) -> Option<f64>;
    let per_server: &[(&str, &str, Get)] = &[
        ("skew_ntp_up", "1 when the server was measured with status ok, else 0.", |p| {
            Some(if p.status == skew_ntp::Status::Ok { 1.0 } else { 0.0 })
        }),
        ("skew_ntp_offset_seconds", "Offset of the server's clock from the local clock (server - local) of the best sample.", |p| p.offset_s),
        ("skew_ntp_bound_lower_seconds", "Lower end of the hard bound on the offset to the server's clock.", |p| p.bound_lo_s),
        ("skew_ntp_bound_upper_seconds", "Upper end of the hard bound on the offset to the server's clock.", |p| p.bound_hi_s),
        ("skew_ntp_utc_bound_lower_seconds", "Lower end of the bound on the offset to UTC through this server.", |p| p.utc_lo_s),
        ("skew_ntp_utc_bound_upper_seconds", "Upper end of the bound on the offset to UTC through this server.", |p| p.utc_hi_s),
        ("skew_ntp_delay_seconds", "Round-trip delay of the best sample.", |p| p.delay_s),
        ("skew_ntp_jitter_seconds", "RMS of the samples' offset differences to the best sample.", |p| p.jitter_s),
        ("skew_ntp_stratum", "Stratum the server reported.", |p| p.stratum.map(f64::from)),
        ("skew_ntp_leap", "Leap indicator the server sent (0 none, 1 insert, 2 delete, 3 unsynchronized).", |p| {
            p.leap.map(|l| f64::from(l.bits()))
        }),
        ("skew_ntp_root_delay_seconds", "Root delay the server reported.", |p| p.root_delay_s),
        ("skew_ntp_root_dispersion_seconds", "Root dispersion the server reported.", |p| p.root_dispersion_s),
        ("skew_ntp_truechimer", "1 when the server agrees with the majority, else 0.", |p| {
            p.truechimer.map(|t| if t { 1.0 } else { 0.0 })
        }),
    ];
    // A server given twice would repeat a label set, which scrapers reject: keep the first.
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&skew_ntp::ProbeRecord> = r
        .probes
        .iter()
        .filter(|p| seen.insert((p.server.clone(), p.address.clone())))
        .collect();
    for (name, help, get) in per_server {
        let values: Vec<(&skew_ntp::ProbeRecord, f64)> = unique
            .iter()
            .filter_map(|p| get(p).map(|v| (*p, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        f.head(name, "gauge", help);
        for (p, v) in values {
            let addr = p.address.clone().unwrap_or_default();
            f.sample(name, &[("server", &p.server), ("address", &addr)], v);
        }
    }
    // NTS servers: labelled by the server as given (the key exchange's name).
    type NtsGet = fn(&skew_ntp::ProbeRecord) -> Option<f64>;
    let nts: &[(&str, &str, NtsGet)] = &[
        (
            "skew_nts_authenticated",
            "1 when every sample from this NTS server was authenticated, else 0.",
            |p| {
                p.nts
                    .as_ref()
                    .map(|n| if n.authenticated { 1.0 } else { 0.0 })
            },
        ),
        (
            "skew_nts_ke_duration_seconds",
            "Duration of the NTS key exchange (TCP connect to its last record).",
            |p| p.nts.as_ref().and_then(|n| n.ke_duration_s),
        ),
        (
            "skew_nts_cert_expiry_timestamp_seconds",
            "When the NTS-KE server's certificate ends (notAfter), seconds since the Unix epoch.",
            |p| crate::nts::cert_expiry_unix_s(p).map(|t| t as f64),
        ),
        (
            "skew_nts_cookies",
            "Cookies the NTS key exchange gave.",
            |p| p.nts.as_ref().map(|n| n.cookies as f64),
        ),
    ];
    let mut seen_nts = std::collections::HashSet::new();
    let nts_unique: Vec<&skew_ntp::ProbeRecord> = r
        .probes
        .iter()
        .filter(|p| p.nts.is_some() && seen_nts.insert(p.server.clone()))
        .collect();
    for (name, help, get) in nts {
        let values: Vec<(&skew_ntp::ProbeRecord, f64)> = nts_unique
            .iter()
            .filter_map(|p| get(p).map(|v| (*p, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        f.head(name, "gauge", help);
        for (p, v) in values {
            f.sample(name, &[("server", &p.server)], v);
        }
    }
    let a = &r.agreement;
    let up = r
        .probes
        .iter()
        .filter(|p| p.status == skew_ntp::Status::Ok)
        .count();
    f.gauge(
        "skew_ntp_servers",
        "Servers probed in the run.",
        Some(r.probes.len() as f64),
    );
    f.gauge(
        "skew_ntp_servers_up",
        "Servers measured with status ok.",
        Some(up as f64),
    );
    f.gauge(
        "skew_agreement_majority",
        "1 when enough servers agree (see --min-agree), else 0.",
        Some(if a.majority { 1.0 } else { 0.0 }),
    );
    f.gauge(
        "skew_agreement_lower_seconds",
        "Lower end of the agreed bound on the offset to UTC.",
        a.lo_s,
    );
    f.gauge(
        "skew_agreement_upper_seconds",
        "Upper end of the agreed bound on the offset to UTC.",
        a.hi_s,
    );
    f.gauge(
        "skew_agreement_truechimers",
        "Servers agreeing with the majority.",
        Some(a.truechimers as f64),
    );
    f.gauge(
        "skew_agreement_falsetickers",
        "Measured servers disagreeing with the majority.",
        Some(a.falsetickers as f64),
    );
    if let Some(c) = &r.clock {
        f.gauge(
            "skew_clock_rate_ppm",
            "Rate of the time-of-day clock against CLOCK_MONOTONIC_RAW, ppm.",
            c.rate_ppm,
        );
        f.gauge(
            "skew_clock_rate_ci95_ppm",
            "Half-width of the 95 % confidence interval of the rate, ppm.",
            c.rate_ci95_ppm,
        );
        f.gauge(
            "skew_kernel_frequency_ppm",
            "The kernel's frequency correction (adjtimex), ppm.",
            c.kernel_freq_ppm,
        );
        f.gauge(
            "skew_kernel_readable",
            "1 when the kernel's clock state could be read (adjtimex, read-only), 0 when it was denied (a seccomp filter such as systemd's ProtectClock=) or failed.",
            Some(if c.kernel_error.is_none() { 1.0 } else { 0.0 }),
        );
        f.gauge(
            "skew_kernel_synchronized",
            "1 when the kernel considers the clock synchronized, else 0.",
            c.kernel_synchronized.map(|s| if s { 1.0 } else { 0.0 }),
        );
        f.gauge(
            "skew_clock_suspended_seconds",
            "Time spent suspended since boot (BOOTTIME - MONOTONIC).",
            c.suspended_s,
        );
        f.gauge(
            "skew_clock_run_steps",
            "Steps of the time-of-day clock seen during this run.",
            Some(c.steps as f64),
        );
    }
    if let Some(total) = extras.clock_steps_total {
        f.head(
            "skew_clock_steps_total",
            "counter",
            "Steps of the time-of-day clock seen by all monitor runs.",
        );
        f.sample("skew_clock_steps_total", &[], total as f64);
    }
    if let Some(p) = &r.pause {
        f.gauge(
            "skew_pause_max_seconds",
            "Upper bound of the longest pause in the run's pause sample.",
            Some(p.max_s),
        );
        f.gauge(
            "skew_pause_p99_seconds",
            "99th percentile of the sleep overshoot in the pause sample.",
            Some(p.p99_s),
        );
        f.gauge(
            "skew_pause_events",
            "Pauses above the threshold in the run's pause sample.",
            Some(p.events as f64),
        );
    }
    if let Some(l) = &r.leap {
        f.gauge(
            "skew_leap_file_expiry_timestamp_seconds",
            "Expiry of the leap-seconds list, Unix time.",
            l.expires_unix_s.map(|v| v as f64),
        );
        f.gauge(
            "skew_leap_tai_offset_seconds",
            "TAI - UTC now according to the leap-seconds list.",
            l.tai_minus_utc_s.map(|v| v as f64),
        );
    }
    f.gauge(
        "skew_check_status",
        "The run's Nagios state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        extras.check_status.map(f64::from),
    );
    f.gauge(
        "skew_run_duration_seconds",
        "Wall time of the monitor run.",
        Some(extras.run_duration_s),
    );
    f.gauge(
        "skew_last_run_timestamp_seconds",
        "When the monitor run started, Unix time.",
        Some(r.run_time_unix_ns as f64 / 1e9),
    );
    out
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
        assert!(text.contains("skew_kernel_readable 1\n"), "{text}");
        let mut denied = report();
        denied.clock.as_mut().unwrap().kernel_error = Some("adjtimex is denied".into());
        let text_denied = render(&denied, &PromExtras::default());
        assert!(
            text_denied.contains("skew_kernel_readable 0\n"),
            "{text_denied}"
        );
        assert!(text.contains("skew_last_run_timestamp_seconds 1795000000.1234567"));
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
