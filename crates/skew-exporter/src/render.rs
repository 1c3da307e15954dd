//! The text of `/metrics` and of `/probe`, from the views, through the shared definitions
//! of `skew-metrics` (pure).

use crate::local::LocalView;
use crate::view::ServersView;
use skew_metrics::defs::*;
use skew_metrics::ntp::{add_agreement, add_nts, add_probes, add_server_counts, server_labels};
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
    add_nts_sessions(&mut e, servers);
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

/// Adds the NTS servers' families: the four of `skew monitor --prom` (`add_nts`, from the
/// last poll's record: the session in use, or the last failed key exchange) and the
/// exporter's own, on the session kept across polls. Labelled by the server as given.
pub fn add_nts_sessions(e: &mut Exposition, servers: &ServersView) {
    let records: Vec<ProbeRecord> = servers
        .servers
        .iter()
        .filter(|s| s.nts.is_some())
        .map(|s| s.record.clone())
        .collect();
    add_nts(e, &records);
    let nts = || {
        servers
            .servers
            .iter()
            .filter_map(|s| Some((s.record.server.as_str(), s.nts.as_ref()?)))
    };
    for (server, n) in nts() {
        e.add_flag(&NTS_KE_UP, &[server], n.ke_up);
        e.add_opt(&NTS_KE_LAST_SUCCESS, &[server], n.ke_last_success_unix_s);
        e.add(&NTS_COOKIES_HELD, &[server], n.cookies_held as f64);
        e.add(&NTS_NAKS, &[server], n.naks as f64);
        e.add(&NTS_UNAUTHENTICATED, &[server], n.unauthenticated as f64);
    }
    for (server, n) in nts() {
        for (trigger, count) in &n.key_exchanges {
            e.add(&NTS_KE_TOTAL, &[server, trigger], *count as f64);
        }
    }
    for (server, n) in nts() {
        for (step, count) in &n.ke_failures {
            e.add(&NTS_KE_FAILURES, &[server, step], *count as f64);
        }
    }
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
    fn nts_servers_get_their_session_families_and_plain_ones_none() {
        use crate::view::{NtsState, ServerView};
        use skew_ntp::nts::{KeFacts, NtsReport};
        use skew_ntp::{ServerResult, Status};
        use std::sync::Arc;
        let view = |r: ServerResult, nts: Option<NtsState>| {
            Arc::new(ServerView {
                record: r.record(),
                reach: 0,
                poll_s: 1.0,
                polls: 3,
                errors: vec![],
                window_len: 0,
                last_ok_unix_s: None,
                duration_s: None,
                stats: None,
                allan: vec![],
                stopped: None,
                nts,
            })
        };
        let mut ke = ServerResult::failed("ke.example", None, Status::NtsKeFailed, "x".into());
        ke.nts = Some(Box::new(NtsReport {
            ke: KeFacts {
                ke_server: "ke.example".into(),
                ke_port: 4460,
                ke_duration_ns: Some(2_000_000),
                ..KeFacts::default()
            },
            authenticated: false,
            dropped_unauthenticated: 0,
        }));
        let state = NtsState {
            ke_up: Some(false),
            ke_last_success_unix_s: Some(1.8e9),
            cookies_held: 0,
            key_exchanges: vec![("failures", 2), ("start", 1)],
            ke_failures: vec![("tcp", 2)],
            naks: 1,
            unauthenticated: 5,
        };
        let plain = ServerResult::failed("plain.example", None, Status::Timeout, "x".into());
        let servers = ServersView {
            servers: vec![view(ke, Some(state)), view(plain, None)],
            agreement: None,
            text: Arc::default(),
        };
        let t = servers_text(&servers);
        for line in [
            "skew_nts_authenticated{server=\"ke.example\"} 0\n",
            "skew_nts_ke_duration_seconds{server=\"ke.example\"} 0.002\n",
            "skew_nts_ke_up{server=\"ke.example\"} 0\n",
            "skew_nts_ke_last_success_timestamp_seconds{server=\"ke.example\"} 1800000000\n",
            "skew_nts_cookies_held{server=\"ke.example\"} 0\n",
            "skew_nts_naks_total{server=\"ke.example\"} 1\n",
            "skew_nts_unauthenticated_total{server=\"ke.example\"} 5\n",
            "skew_nts_ke_total{server=\"ke.example\",trigger=\"failures\"} 2\n",
            "skew_nts_ke_total{server=\"ke.example\",trigger=\"start\"} 1\n",
            "skew_nts_ke_failures_total{server=\"ke.example\",step=\"tcp\"} 2\n",
        ] {
            assert!(t.contains(line), "{line}in\n{t}");
        }
        assert!(
            !t.contains("skew_nts_authenticated{server=\"plain.example\""),
            "{t}"
        );
        assert!(
            !t.contains("skew_nts_cert_expiry"),
            "no certificate seen: {t}"
        );
    }

    #[test]
    fn a_pools_addresses_are_series_of_their_own_in_every_per_server_family() {
        use crate::view::{NtsState, ServerView};
        use skew_sourcestats::{AdevPoint, SourceStats};
        use std::collections::{BTreeMap, BTreeSet};
        use std::sync::Arc;
        let member = |address: &str| {
            let record: ProbeRecord = serde_json::from_value(serde_json::json!({
                "server": "pool.test:123", "address": address, "status": "ok", "error": null,
                "offset_s": 1e-6, "delay_s": 2e-5, "jitter_s": 1e-7, "bound_lo_s": -1e-5,
                "bound_hi_s": 1.3e-5, "utc_lo_s": -2e-5, "utc_hi_s": 2e-5, "stratum": 2,
                "refid": null, "leap": "none", "precision_s": null, "root_delay_s": 0.0,
                "root_dispersion_s": 1.5e-5, "kiss_code": null, "rx_timestamp": null,
                "tx_timestamp": null, "samples": [], "version": 4, "local_precision_s": 3e-8,
                "bound_consistent": true, "sent": 1, "answered": 1, "dropped": {},
                "warnings": [], "truechimer": true, "advice": null
            }))
            .unwrap();
            Arc::new(ServerView {
                record,
                reach: 255,
                poll_s: 1.0,
                polls: 9,
                errors: vec![("timeout", 1)],
                window_len: 8,
                last_ok_unix_s: Some(1.8e9),
                duration_s: Some(2e-5),
                stats: Some(SourceStats {
                    np: 8,
                    nr: 4,
                    span_ns: 7_000_000_000,
                    frequency_ppm: 0.1,
                    skew_ppm: 0.2,
                    offset_ns: 1000.0,
                    offset_sd_ns: 10.0,
                    reference_x_ns: 0,
                    std_dev_ns: 100.0,
                }),
                allan: vec![AdevPoint {
                    m: 1,
                    tau_ns: 1_000_000_000,
                    adev: 1e-9,
                    terms: 6,
                }],
                stopped: None,
                nts: None::<NtsState>,
            })
        };
        let servers = ServersView {
            servers: vec![member("127.0.0.1:123"), member("127.0.0.2:123")],
            agreement: None,
            text: Arc::default(),
        };
        let t = metrics_text(
            &servers,
            &servers_text(&servers),
            &LocalView::default(),
            &ExporterCounts::default(),
            0,
        );
        // Every family with a series of the pool has one per address, and no series twice.
        let mut by_family: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for line in t.lines().filter(|l| l.contains("server=\"pool.test:123\"")) {
            let series = line.rsplit_once(' ').unwrap().0;
            assert!(seen.insert(series), "twice: {series}");
            let family = line.split('{').next().unwrap();
            let address = line
                .split("address=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("{family} has no address label: {line}"));
            by_family.entry(family).or_default().insert(address);
        }
        // Every family labelled by server and address.
        let per_server: BTreeSet<&str> = ALL
            .iter()
            .filter(|d| d.labels.starts_with(&["server", "address"]))
            .map(|d| d.name)
            .collect();
        assert_eq!(
            by_family.keys().copied().collect::<BTreeSet<_>>(),
            per_server
        );
        for (family, addresses) in &by_family {
            assert_eq!(addresses.len(), 2, "{family}: {addresses:?}");
        }
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
