//! `skew check` and `skew monitor` watching NTS servers: chronyd 4.3 serving NTS on loopback
//! (`-x`), certificates made here that end when a test needs them to, a forger racing the
//! real replies; the drift-log columns, the metrics (checked by `promtool`) and the verdicts.

use crate::common::run_skew;
use serde_json::Value;
use skew_driftlog::read_log;
use skew_testkit::{NtsChronyd, RacingForger, TestPki, Validity};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-nts-monitor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const FAST: [&str; 11] = [
    "-n",
    "2",
    "--interval",
    "10ms",
    "--timeout",
    "300ms",
    "--no-clock",
    "--no-leap",
    "--min-agree",
    "1",
    "--json",
];

/// `skew check --json ARGS`: exit code and the JSON.
fn check(args: &[&str]) -> (i32, Value) {
    let mut a = vec!["check"];
    a.extend(FAST);
    a.extend_from_slice(args);
    let out = run_skew(&a, Duration::from_secs(60));
    (out.code, out.json())
}

fn reasons(j: &Value) -> String {
    j["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn ca(p: &TestPki) -> String {
    p.ca.display().to_string()
}

#[test]
fn a_healthy_nts_server_is_ok_and_logged_with_its_metrics() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("promtool");
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let d = tmpdir("healthy");
    let (log, prom) = (d.join("drift.csv"), d.join("skew.prom"));
    let mut a = vec!["monitor"];
    a.extend(&FAST[..FAST.len() - 1]);
    let (c, ke, l, p) = (
        ca(&pki),
        server.ke_arg(),
        log.display().to_string(),
        prom.display().to_string(),
    );
    a.extend(["--nts", "--nts-ca", &c, "--log", &l, "--prom", &p, &ke]);
    let out = run_skew(&a, Duration::from_secs(60));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("SKEW OK:"), "{}", out.stdout);
    // Drift log: the NTS columns of the server's row.
    let rows = read_log(&log).unwrap().rows;
    let ntp = &rows[0].1;
    assert_eq!(ntp.status.as_deref(), Some("ok"));
    assert_eq!(ntp.nts_authenticated, Some(true));
    assert_eq!(ntp.nts_cookies, Some(8));
    assert!(ntp.nts_ke_duration_s.unwrap() > 0.0);
    assert_eq!(
        ntp.nts_cert_not_after.as_deref(),
        Some("2099-12-31T00:00:00Z")
    );
    // Metrics, and promtool's opinion of them.
    let text = std::fs::read_to_string(&prom).unwrap();
    let label = format!("{{server=\"{ke}\"}}");
    for m in [
        format!("skew_nts_authenticated{label} 1\n"),
        format!("skew_nts_cookies{label} 8\n"),
        format!("skew_nts_cert_expiry_timestamp_seconds{label} 4102358400\n"),
    ] {
        assert!(text.contains(&m), "{m} not in:\n{text}");
    }
    assert!(text.contains(&format!("skew_nts_ke_duration_seconds{label} ")));
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).unwrap())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn certificate_days_warn_and_crit() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    for (days, flags, state) in [
        (20, vec![], "WARNING"),
        (3, vec![], "CRITICAL"),
        (20, vec!["--warn-cert-days", "10"], "OK"),
        (
            20,
            vec!["--warn-cert-days", "40", "--crit-cert-days", "25"],
            "CRITICAL",
        ),
    ] {
        let pki = TestPki::new("skew test CA", Validity::EndsInDays(days));
        let server = NtsChronyd::start(&pki, &[]);
        let (c, ke) = (ca(&pki), server.ke_arg());
        let mut a = vec!["--nts", "--nts-ca", &c];
        a.extend(flags.iter().copied());
        a.push(&ke);
        let (code, j) = check(&a);
        assert_eq!(j["state"], state, "{days} days {flags:?}: {}", reasons(&j));
        assert_eq!(
            code,
            match state {
                "OK" => 0,
                "WARNING" => 1,
                _ => 2,
            }
        );
        if state != "OK" {
            assert!(
                reasons(&j).contains("NTS certificate ends in"),
                "{}",
                reasons(&j)
            );
        }
        let left = j["report"]["probes"][0]["nts"]["cert_days_left"]
            .as_f64()
            .unwrap();
        assert!(
            left > days as f64 - 1.0 && left <= days as f64 + 1.0,
            "{left}"
        );
    }
}

#[test]
fn failed_key_exchange_is_critical() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let other = TestPki::new("another CA", Validity::Long);
    let (c, ke) = (ca(&other), server.ke_arg());
    // Beside a healthy plain server that agrees: the NTS failure alone makes it CRITICAL.
    let plain = server.chronyd.arg();
    let (code, j) = check(&["--nts", "--nts-ca", &c, &ke]);
    assert_eq!((code, j["state"].as_str()), (2, Some("CRITICAL")), "{j:#}");
    assert!(reasons(&j).contains("(certificate)"), "{}", reasons(&j));
    // In a configuration file, one server marked nts beside a plain one.
    let d = tmpdir("config");
    let conf = d.join("skew.toml");
    std::fs::write(
        &conf,
        format!(
            "servers = [\"{plain}\", \"{ke} nts\"]\n[nts]\nca = [\"{}\"]\n",
            other.ca.display()
        ),
    )
    .unwrap();
    let conf_s = conf.display().to_string();
    let (code, j) = check(&["--config", &conf_s]);
    assert_eq!((code, j["state"].as_str()), (2, Some("CRITICAL")), "{j:#}");
    let probes = j["report"]["probes"].as_array().unwrap();
    assert_eq!(probes[0]["status"], "ok");
    assert_eq!(probes[0]["nts"], Value::Null, "the plain server");
    assert_eq!(probes[1]["status"], "nts-ke-failed");
    // With the right CA in the file, all is well.
    std::fs::write(
        &conf,
        format!(
            "servers = [\"{plain}\", \"{ke} nts\"]\n[nts]\nca = [\"{}\"]\n",
            pki.ca.display()
        ),
    )
    .unwrap();
    let (code, j) = check(&["--config", &conf_s]);
    assert_eq!(
        (code, j["state"].as_str()),
        (0, Some("OK")),
        "{}",
        reasons(&j)
    );
    assert_eq!(j["report"]["probes"][1]["nts"]["authenticated"], true);
}

#[test]
fn an_unauthenticated_answer_is_critical() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &["ntsntpserver 127.0.0.2"]);
    let port = server.ntp_port();
    let _forger =
        RacingForger::start_at(([127, 0, 0, 2], port).into(), ([127, 0, 0, 1], port).into());
    let (c, ke) = (ca(&pki), server.ke_arg());
    let (code, j) = check(&["--nts", "--nts-ca", &c, &ke]);
    // The offset is right (the forgeries were dropped), but someone answered without NTS.
    let p = &j["report"]["probes"][0];
    assert_eq!(p["status"], "ok");
    assert!(p["offset_s"].as_f64().unwrap().abs() < 0.01);
    assert_eq!(p["nts"]["authenticated"], true);
    assert_eq!(p["nts"]["dropped_unauthenticated"], 2);
    assert_eq!((code, j["state"].as_str()), (2, Some("CRITICAL")));
    assert!(
        reasons(&j).contains("2 unauthenticated replies"),
        "{}",
        reasons(&j)
    );
}

#[test]
fn the_check_table_marks_nts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let (c, ke) = (ca(&pki), server.ke_arg());
    let mut a = vec!["check"];
    a.extend(&FAST[..FAST.len() - 1]);
    a.extend(["--nts", "--nts-ca", &c, &ke]);
    let out = run_skew(&a, Duration::from_secs(60));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Auth"), "{}", out.stdout);
    assert!(out.stdout.contains("NTS: key exchange"), "{}", out.stdout);
}
