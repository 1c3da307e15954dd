//! `skew proxy` in front of a real chronyd: asymmetric paths move the offset by half the
//! asymmetry, and the hard bound holds through jitter, loss and asymmetry.

use crate::common::*;
use serde_json::Value;
use skew_testkit::{chronyd_q, Chronyd, SkewDaemon};
use std::path::Path;
use std::time::Duration;

fn proxy(upstream: &str, args: &[&str]) -> SkewDaemon {
    let mut all = vec!["--stats-json"];
    all.extend_from_slice(args);
    SkewDaemon::proxy(Path::new(skew_bin()), upstream, &all)
}

fn stats_of(d: SkewDaemon) -> Value {
    let out = d.stop();
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stats().expect("stats JSON")).expect("valid stats JSON")
}

#[test]
fn chronyd_sees_half_the_asymmetry() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let p = proxy(&c.arg(), &["--fwd", "20ms", "--back", "0"]);
    let got = chronyd_q("127.0.0.1", p.port()).unwrap();
    assert!(
        (got - 0.010).abs() < 0.5e-3,
        "chronyd -Q through a 20 ms / 0 path measured {got} s"
    );
    let st = stats_of(p);
    assert!(st["fwd"]["forwarded"].as_u64().unwrap() >= 1, "{st}");
    assert_eq!(st["answered"], st["back"]["forwarded"]);
}

/// The hard bound of every sample (θ ± (⌈δ/2⌉ + 1 ns + both precisions + 15 ppm × span),
/// as README documents) and of the whole probe must contain the true offset, 0.
fn assert_every_bound_holds(p: &Value) -> usize {
    assert_eq!(p["status"], "ok", "{p}");
    let (lo, hi) = (f(p, "bound_lo_s"), f(p, "bound_hi_s"));
    assert!(
        lo <= 0.0 && 0.0 <= hi,
        "probe bound [{lo}, {hi}] misses 0: {p}"
    );
    let prec_ns =
        (f(p, "precision_s") * 1e9).ceil() as i64 + (f(p, "local_precision_s") * 1e9).ceil() as i64;
    let samples = p["samples"].as_array().unwrap();
    for s in samples {
        let t = |k: &str| s[k].as_i64().unwrap() as i128;
        let theta = ((t("t2_ns") - t("t1_ns")) + (t("t3_ns") - t("t4_ns"))).div_euclid(2);
        let delta = (t("t4_ns") - t("t1_ns")) - (t("t3_ns") - t("t2_ns"));
        let span = t("t4_ns") - t("t1_ns");
        let half =
            (delta.max(0) + 1) / 2 + 1 + prec_ns as i128 + (span * 15).div_euclid(1_000_000) + 1;
        assert!(
            theta - half <= 0 && 0 <= theta + half,
            "sample bound {theta} ± {half} ns misses 0: {s}"
        );
    }
    samples.len()
}

fn probe_through(p: &SkewDaemon, n: &str, timeout: &str) -> Value {
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            n,
            "--interval",
            "10ms",
            "--timeout",
            timeout,
            &p.arg(),
        ],
        Duration::from_secs(60),
    );
    probes(&out.json())[0].clone()
}

#[test]
fn bounds_hold_through_jitter_and_loss() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let p = proxy(
        &c.arg(),
        &[
            "--fwd-jitter",
            "5ms",
            "--back-jitter",
            "5ms",
            "--loss-fwd",
            "10%",
            "--loss-back",
            "10%",
            "--seed",
            "11",
        ],
    );
    let probe = probe_through(&p, "200", "100ms");
    let measured = assert_every_bound_holds(&probe);
    // 10 % loss each way: about 81 % of 200 exchanges succeed.
    assert!(
        (130..=190).contains(&measured),
        "{measured} of 200 measured"
    );
    assert!(probe["warnings"][0].as_str().unwrap().contains("timed out"));
    let st = stats_of(p);
    let lost =
        st["dropped"]["loss_fwd"].as_u64().unwrap() + st["dropped"]["loss_back"].as_u64().unwrap();
    // Every loss costs a sample; on a loaded machine a slow reply may cost one more.
    assert!(lost as usize <= 200 - measured, "{st}");
    assert!(lost >= 10, "{st}");
    assert!(st["scheduling_error"]["count"].as_u64().unwrap() > 300);
}

#[test]
fn bounds_hold_through_an_asymmetric_jittery_path() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let p = proxy(
        &c.arg(),
        &[
            "--fwd",
            "30ms",
            "--back",
            "1ms",
            "--fwd-jitter",
            "5ms",
            "--back-jitter",
            "5ms",
            "--loss-fwd",
            "10%",
            "--loss-back",
            "10%",
            "--seed",
            "12",
        ],
    );
    let probe = probe_through(&p, "200", "150ms");
    let measured = assert_every_bound_holds(&probe);
    assert!(
        (130..=190).contains(&measured),
        "{measured} of 200 measured"
    );
    // The offset itself is off by about half the asymmetry; only the bound is honest.
    assert!(f(&probe, "offset_s") > 0.010, "{probe}");
}

#[test]
fn shift_duplicate_reorder() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    // A man in the middle moving the server's timestamps by +0.25 s.
    let p = proxy(&c.arg(), &["--shift", "0.25"]);
    let probe = probe_through(&p, "4", "500ms");
    // The proxy's own forwarding latency may differ by tens of µs between the directions
    // on a loaded machine: the offset is checked loosely, the bound strictly.
    assert_measures(&probe, 0.25, 1e-3);
    let st = stats_of(p);
    assert_eq!(st["shifted"], 4);

    // Every datagram twice (both ways): duplicates of replies arrive late, the rest holds.
    let p = proxy(&c.arg(), &["--duplicate", "1", "--seed", "3"]);
    let probe = probe_through(&p, "4", "500ms");
    assert_measures(&probe, 0.0, 1e-3);
    assert!(
        probe["dropped"]["late"].as_u64().unwrap_or(0) >= 1,
        "{probe}"
    );
    let st = stats_of(p);
    assert_eq!(st["fwd"]["duplicated"], 4);

    // Reordering with a short hold-back: still measured.
    let p = proxy(
        &c.arg(),
        &["--reorder", "50%", "--reorder-delay", "5ms", "--seed", "4"],
    );
    let probe = probe_through(&p, "6", "500ms");
    assert_eq!(probe["status"], "ok", "{probe}");
    let st = stats_of(p);
    let reordered =
        st["fwd"]["reordered"].as_u64().unwrap() + st["back"]["reordered"].as_u64().unwrap();
    assert!(reordered >= 1, "{st}");
}

#[test]
fn client_sessions_are_bounded() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let p = proxy(&c.arg(), &["--max-clients", "1"]);
    // Two clients one after the other (each `skew probe` run has its own source port): the
    // second takes the only session, and both are served.
    for _ in 0..2 {
        let probe = probe_through(&p, "2", "500ms");
        assert_eq!(probe["status"], "ok", "{probe}");
    }
    let st = stats_of(p);
    assert_eq!(st["clients"], 2);
    assert_eq!(st["answered"], 4);
}

#[test]
fn proxy_limits_and_ipv6() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    // IPv6 on both sides, stopping by itself after 3 client datagrams.
    let p = SkewDaemon::start(
        Path::new(skew_bin()),
        &[
            "proxy",
            "--listen",
            "[::1]:0",
            "--upstream",
            &format!("[::1]:{}", c.port),
            "--max-requests",
            "3",
            "--stats-json",
            "--fwd",
            "1ms",
        ],
    )
    .unwrap();
    let addr = p.arg();
    assert!(addr.starts_with("[::1]:"));
    let out = run_skew(
        &["probe", "--json", "-n", "3", "--interval", "10ms", &addr],
        Duration::from_secs(10),
    );
    assert_measures(&probes(&out.json())[0], 0.0, 1e-3);
    let out = p.wait(Duration::from_secs(5)).expect("stopped by itself");
    let st: Value = serde_json::from_str(&out.stats().unwrap()).unwrap();
    assert_eq!(st["stopped_by"], "max_requests");
    assert_eq!(st["fwd"]["received"], 3);
    assert_eq!(
        st["answered"], 3,
        "replies in flight are delivered before stopping"
    );
    assert_eq!(st["command"], "proxy");
    assert_eq!(st["clients"], 1);
}
