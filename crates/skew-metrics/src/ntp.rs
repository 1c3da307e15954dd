//! The families of probe results (NTS servers' key exchanges included) and of the majority's
//! agreement, from the records every command prints ([`ProbeRecord`], [`AgreementRecord`]),
//! so the textfile, `/metrics` and `/probe` fill them identically.

use crate::defs::*;
use crate::exposition::Exposition;
use skew_ntp::select::AgreementRecord;
use skew_ntp::{ProbeRecord, Status};

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// The value of a per-server family for a record, when it has one.
pub fn per_server_value(def: &MetricDef, p: &ProbeRecord) -> Option<f64> {
    match def.name {
        "skew_ntp_up" => Some(flag(p.status == Status::Ok)),
        "skew_ntp_offset_seconds" => p.offset_s,
        "skew_ntp_bound_lower_seconds" => p.bound_lo_s,
        "skew_ntp_bound_upper_seconds" => p.bound_hi_s,
        "skew_ntp_utc_bound_lower_seconds" => p.utc_lo_s,
        "skew_ntp_utc_bound_upper_seconds" => p.utc_hi_s,
        "skew_ntp_delay_seconds" => p.delay_s,
        "skew_ntp_jitter_seconds" => p.jitter_s,
        "skew_ntp_stratum" => p.stratum.map(f64::from),
        "skew_ntp_leap" => p.leap.map(|l| f64::from(l.bits())),
        "skew_ntp_root_delay_seconds" => p.root_delay_s,
        "skew_ntp_root_dispersion_seconds" => p.root_dispersion_s,
        "skew_ntp_truechimer" => p.truechimer.map(flag),
        _ => None,
    }
}

/// The label values of a record: the server as given and the address probed (empty when
/// unresolved).
pub fn server_labels(p: &ProbeRecord) -> [&str; 2] {
    [p.server.as_str(), p.address.as_deref().unwrap_or("")]
}

/// Adds the per-server families ([`NTP_PER_SERVER`]) of `probes`, each family listing the
/// servers that have its value. A server and address given twice are written once (the
/// first record).
pub fn add_probes(e: &mut Exposition, probes: &[ProbeRecord]) {
    for def in NTP_PER_SERVER {
        for p in probes {
            e.add_opt(def, &server_labels(p), per_server_value(def, p));
        }
    }
}

/// The value of a per-NTS-server family for a record, when it has one (plain servers have
/// none).
pub fn nts_value(def: &MetricDef, p: &ProbeRecord) -> Option<f64> {
    let n = p.nts.as_ref()?;
    match def.name {
        "skew_nts_authenticated" => Some(flag(n.authenticated)),
        "skew_nts_ke_duration_seconds" => n.ke_duration_s,
        "skew_nts_cert_expiry_timestamp_seconds" => n.cert_not_after_unix_s().map(|t| t as f64),
        "skew_nts_cookies" => Some(n.cookies as f64),
        _ => None,
    }
}

/// Adds the per-NTS-server families ([`NTS_PER_SERVER`]) of the NTS servers among `probes`,
/// labelled by the server as given. A server with several records (several addresses, or
/// given twice) is described by its first one.
pub fn add_nts(e: &mut Exposition, probes: &[ProbeRecord]) {
    let mut seen = std::collections::HashSet::new();
    let first: Vec<&ProbeRecord> = probes
        .iter()
        .filter(|p| p.nts.is_some() && seen.insert(p.server.as_str()))
        .collect();
    for def in NTS_PER_SERVER {
        for p in &first {
            e.add_opt(def, &[p.server.as_str()], nts_value(def, p));
        }
    }
}

/// Adds the counts of servers probed and measured ok.
pub fn add_server_counts(e: &mut Exposition, probes: &[ProbeRecord]) {
    let up = probes.iter().filter(|p| p.status == Status::Ok).count();
    e.add(&NTP_SERVERS, &[], probes.len() as f64);
    e.add(&NTP_SERVERS_UP, &[], up as f64);
}

/// Adds the majority's verdict.
pub fn add_agreement(e: &mut Exposition, a: &AgreementRecord) {
    e.add(&AGREEMENT_MAJORITY, &[], flag(a.majority));
    e.add_opt(&AGREEMENT_LOWER, &[], a.lo_s);
    e.add_opt(&AGREEMENT_UPPER, &[], a.hi_s);
    e.add(&AGREEMENT_TRUECHIMERS, &[], a.truechimers as f64);
    e.add(&AGREEMENT_FALSETICKERS, &[], a.falsetickers as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(server: &str, status: &str, offset: Option<f64>) -> ProbeRecord {
        serde_json::from_value(serde_json::json!({
            "server": server, "address": "127.0.0.1:123", "status": status, "error": null,
            "offset_s": offset, "delay_s": 2e-5, "jitter_s": null, "bound_lo_s": -1e-5,
            "bound_hi_s": 1.3e-5, "utc_lo_s": null, "utc_hi_s": null, "stratum": 8,
            "refid": null, "leap": "insert", "precision_s": null, "root_delay_s": 0.0,
            "root_dispersion_s": 1.5e-5, "kiss_code": null, "rx_timestamp": null,
            "tx_timestamp": null, "samples": [], "version": 4, "local_precision_s": 3e-8,
            "bound_consistent": true, "sent": 1, "answered": 1, "dropped": {}, "warnings": [],
            "truechimer": true, "advice": null
        }))
        .unwrap()
    }

    #[test]
    fn every_per_server_family_has_a_value_rule() {
        let p = record("a", "ok", Some(1.0));
        let with_value: Vec<&str> = NTP_PER_SERVER
            .iter()
            .filter(|d| per_server_value(d, &p).is_some())
            .map(|d| d.name)
            .collect();
        // Only the fields this record leaves empty have no value.
        assert_eq!(with_value.len(), NTP_PER_SERVER.len() - 3, "{with_value:?}");
        assert_eq!(per_server_value(&NTP_LEAP, &p), Some(1.0));
    }

    #[test]
    fn probes_and_agreement() {
        let probes = [
            record("a", "ok", Some(1e-3)),
            record("a", "ok", Some(2e-3)), // same server and address: the first counts
            record("b", "timeout", None),
        ];
        let mut e = Exposition::new();
        add_probes(&mut e, &probes);
        add_server_counts(&mut e, &probes);
        add_agreement(
            &mut e,
            &AgreementRecord {
                lo_s: Some(-1.0),
                hi_s: None,
                truechimers: 1,
                falsetickers: 0,
                majority: true,
                min_agree: 1,
                candidates: 1,
                max_overlap: 1,
                servers: 2,
            },
        );
        let text = e.render();
        assert!(
            text.contains(
                "skew_ntp_offset_seconds{server=\"a\",address=\"127.0.0.1:123\"} 0.001\n"
            ),
            "{text}"
        );
        assert!(!text.contains("0.002"));
        assert!(text.contains("skew_ntp_up{server=\"b\",address=\"127.0.0.1:123\"} 0\n"));
        assert!(
            text.contains("\nskew_ntp_servers 3\n") && text.contains("\nskew_ntp_servers_up 2\n")
        );
        assert!(text.contains("skew_agreement_lower_seconds -1\n"));
        assert!(!text.contains("skew_agreement_upper_seconds"));
    }
}
