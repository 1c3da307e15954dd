//! `skew serve` against real clients: chronyd -Q must believe its lies, and `skew probe`
//! must give each fault its documented status.

use crate::common::*;
use serde_json::Value;
use skew_testkit::{chronyd_q, SkewDaemon};
use std::path::Path;
use std::time::Duration;

/// `skew serve --stats-json ARGS` on a free loopback port.
fn serve(args: &[&str]) -> SkewDaemon {
    let mut all = vec!["--stats-json"];
    all.extend_from_slice(args);
    SkewDaemon::serve(Path::new(skew_bin()), &all)
}

/// `skew probe --json -n N --interval 10ms --timeout T SERVER`, the single probe entry.
fn probe_one(server: &str, n: u32, timeout: &str) -> Value {
    let n = n.to_string();
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            &n,
            "--interval",
            "10ms",
            "--timeout",
            timeout,
            server,
        ],
        Duration::from_secs(30),
    );
    let v = out.json();
    probes(&v)[0].clone()
}

fn stats_of(d: SkewDaemon) -> Value {
    let out = d.stop();
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stats().expect("stats JSON")).expect("valid stats JSON")
}

#[test]
fn chronyd_believes_the_offsets() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    for (offset, expected) in [("1.5", 1.5), ("-0.037", -0.037)] {
        let s = serve(&["--offset", offset]);
        let got = chronyd_q("127.0.0.1", s.port()).unwrap();
        assert!(
            (got - expected).abs() < 100e-6,
            "chronyd -Q measured {got} s against skew serve --offset {offset}"
        );
    }
}

#[test]
fn probe_measures_and_bounds_the_lies_exactly() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let s = serve(&["--offset", "-0.037"]);
    let p = probe_one(&s.arg(), 4, "500ms");
    assert_measures(&p, -0.037, 100e-6);
    assert_eq!(p["stratum"], 1);
    assert_eq!(p["refid"], "SKEW");
    assert_eq!(p["rx_timestamp"], "kernel");

    // 2000 ppm from the start: 2 µs more offset per ms of true time.
    let s = serve(&["--drift-ppm", "2000", "--offset", "0.5"]);
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            "2",
            "--interval",
            "300ms",
            &s.arg(),
        ],
        Duration::from_secs(10),
    );
    let p = &probes(&out.json())[0];
    let smp = p["samples"].as_array().unwrap();
    let dt_s = (smp[1]["t1_ns"].as_i64().unwrap() - smp[0]["t1_ns"].as_i64().unwrap()) as f64 / 1e9;
    let grew = f(&smp[1], "offset_s") - f(&smp[0], "offset_s");
    assert!(
        (grew - 2000e-6 * dt_s).abs() < 50e-6,
        "offset grew {grew} s over {dt_s} s at 2000 ppm"
    );
    assert!(f(&smp[0], "offset_s") > 0.5 - 100e-6, "{p}");

    // A step of +2 s after 300 ms: the samples jump and no longer intersect.
    let s = serve(&["--step-after", "300ms", "--step", "2"]);
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            "6",
            "--interval",
            "100ms",
            &s.arg(),
        ],
        Duration::from_secs(10),
    );
    let p = &probes(&out.json())[0];
    let offs: Vec<f64> = p["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| f(x, "offset_s"))
        .collect();
    assert!(offs[0].abs() < 100e-6, "{offs:?}");
    assert!((offs[5] - 2.0).abs() < 100e-6, "{offs:?}");
    assert_eq!(p["bound_consistent"], false);

    // The smear: at the leap the served clock is 0.5 s behind; 12 h before it, not at all.
    let s = serve(&["--smear-leap", "--leap-at", "+0s"]);
    let p = probe_one(&s.arg(), 2, "500ms");
    assert!((f(&p, "offset_s") + 0.5).abs() < 1e-3, "{p}");
    assert_eq!(p["leap"], "none", "a smearing server keeps LI = 0");
    let s = serve(&["--smear-leap", "--leap-at", "+12h"]);
    let p = probe_one(&s.arg(), 2, "500ms");
    assert!(f(&p, "offset_s").abs() < 100e-6, "{p}");
}

#[test]
fn each_fault_gives_its_documented_status() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // (flags, status, text the error must contain)
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--kod", "RATE"], "kod", "RATE"),
        (&["--kod", "DENY"], "kod", "DENY"),
        (&["--kod", "RSTR"], "kod", "RSTR"),
        (&["--leap", "alarm"], "unsynchronized", "leap indicator 3"),
        (&["--stratum", "16"], "unsynchronized", "stratum 16"),
        (&["--zero-transmit"], "invalid", "zero transmit"),
        (&["--mode", "3"], "invalid", "mode 3"),
        (&["--version", "1"], "invalid", "version 1"),
        (&["--truncate", "40"], "invalid", "40 bytes"),
        (&["--root-dispersion", "20"], "invalid", "root distance"),
        (&["--loss", "1"], "timeout", "no valid reply"),
        (&["--garbage", "100%"], "timeout", "no valid reply"),
    ];
    for (flags, status, text) in cases {
        let s = serve(flags);
        let p = probe_one(&s.arg(), 3, "200ms");
        assert_eq!(p["status"], *status, "{flags:?}: {p}");
        let err = p["error"].as_str().unwrap_or_default();
        assert!(
            err.contains(text),
            "{flags:?}: error {err:?} lacks {text:?}"
        );
        if *status == "kod" {
            assert_eq!(p["kiss_code"], flags[1], "{flags:?}");
            assert_eq!(p["sent"], 1, "RATE/DENY/RSTR stop the probing");
        }
    }
}

#[test]
fn harmless_faults_still_measure() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // Forged replies race ahead of every good one: each is dropped, none ends an exchange.
    let s = serve(&["--wrong-origin"]);
    let p = probe_one(&s.arg(), 4, "500ms");
    assert_measures(&p, 0.0, 100e-6);
    assert_eq!(p["dropped"]["origin_mismatch"], 4, "{p}");
    assert_eq!(p["answered"], 4);
    let st = stats_of(s);
    assert_eq!(st["faults"]["wrong_origin"], 4);
    assert_eq!(st["answered"], 4);

    // Duplicates arrive after their exchange ended.
    let s = serve(&["--duplicate", "1"]);
    let p = probe_one(&s.arg(), 4, "500ms");
    assert_measures(&p, 0.0, 100e-6);
    assert!(p["dropped"]["late"].as_u64().unwrap_or(0) >= 1, "{p}");

    // A held reply: processing time, not path delay.
    let s = serve(&["--hold", "20ms", "--hold-jitter", "5ms"]);
    let p = probe_one(&s.arg(), 3, "500ms");
    assert_measures(&p, 0.0, 100e-6);
    let smp = &p["samples"][0];
    let server_ms = (smp["t3_ns"].as_i64().unwrap() - smp["t2_ns"].as_i64().unwrap()) as f64 / 1e6;
    assert!(
        (20.0..26.0).contains(&server_ms),
        "T3 − T2 = {server_ms} ms"
    );
    assert!(f(&p, "delay_s") < 1e-3, "{p}");
    let st = stats_of(s);
    assert_eq!(st["faults"]["held"], 3);
    assert!(
        st["scheduling_error"]["max_s"].as_f64().unwrap() < 0.01,
        "{st}"
    );

    // Announcements: the leap indicator, the header fields.
    let s = serve(&[
        "--leap",
        "insert",
        "--stratum",
        "3",
        "--refid",
        "192.0.2.1",
        "--precision",
        "-10",
        "--root-delay",
        "0.002",
    ]);
    let p = probe_one(&s.arg(), 2, "500ms");
    assert_eq!(p["status"], "ok", "{p}");
    assert_eq!(p["leap"], "insert");
    assert_eq!(p["stratum"], 3);
    assert_eq!(p["refid"], "192.0.2.1");
    assert!((f(&p, "precision_s") - 2f64.powi(-10)).abs() < 1e-6);
    assert!((f(&p, "root_delay_s") - 0.002).abs() < 20e-6);

    // Only every second request gets the KoD: the first is measured, then RATE stops it.
    let s = serve(&["--kod", "RATE", "--kod-every", "2"]);
    let p = probe_one(&s.arg(), 4, "500ms");
    assert_eq!(p["status"], "kod");
    assert_eq!(p["samples"].as_array().unwrap().len(), 1);
    assert_eq!(p["sent"], 2);
}

#[test]
fn full_hold_queue_drops_and_counts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // Five requests at once (one to each of five ports of the server: the same address
    // given five times is probed once), two places in the queue.
    let s = serve(&[
        "--hold",
        "2s",
        "--queue",
        "2",
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "127.0.0.1:0",
    ]);
    let addrs: Vec<String> = s.addrs().iter().map(|a| a.to_string()).collect();
    assert_eq!(addrs.len(), 5);
    let mut args = vec!["probe", "--json", "-n", "1", "--timeout", "200ms"];
    args.extend(addrs.iter().map(String::as_str));
    let out = run_skew(&args, Duration::from_secs(10));
    assert!(probes(&out.json()).iter().all(|p| p["status"] == "timeout"));
    let st = stats_of(s);
    assert_eq!(st["received"], 5);
    assert_eq!(st["dropped"]["queue_full"], 3, "{st}");
    assert_eq!(
        st["dropped"]["shutdown"], 2,
        "held replies dropped at SIGTERM: {st}"
    );
    assert_eq!(st["answered"], 0);
}

#[test]
fn seeded_faults_repeat() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let lost = || {
        let s = serve(&["--loss", "0.5", "--seed", "7"]);
        let p = probe_one(&s.arg(), 12, "50ms");
        let st = stats_of(s);
        (p["answered"].clone(), st["dropped"]["loss"].clone())
    };
    let a = lost();
    assert_eq!(a, lost());
    assert!(a.1.as_u64().unwrap() > 0);
}

#[test]
fn limits_signals_and_stats() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // --max-requests: stops by itself after answering N.
    let s = serve(&["--max-requests", "3"]);
    let addr = s.arg();
    let p = probe_one(&addr, 5, "200ms");
    assert_eq!(p["answered"], 3, "{p}");
    let out = s.wait(Duration::from_secs(5)).expect("stopped by itself");
    assert_eq!(out.code, 0);
    let st: Value = serde_json::from_str(&out.stats().unwrap()).unwrap();
    assert_eq!(st["stopped_by"], "max_requests");
    assert_eq!(st["received"], 3);
    assert_eq!(st["answered"], 3);
    assert_eq!(st["command"], "serve");
    assert!(out.stdout.starts_with("listening on 127.0.0.1:"));

    // --max-seconds.
    let t0 = std::time::Instant::now();
    let s = serve(&["--max-seconds", "0.3"]);
    let out = s.wait(Duration::from_secs(5)).expect("stopped by itself");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let st: Value = serde_json::from_str(&out.stats().unwrap()).unwrap();
    assert_eq!(st["stopped_by"], "max_seconds");

    // SIGTERM: clean exit with the statistics.
    let s = serve(&["--loss", "1"]);
    let _ = probe_one(&s.arg(), 2, "50ms");
    let st = stats_of(s);
    assert_eq!(st["stopped_by"], "signal");
    assert_eq!(st["received"], 2);
    assert_eq!(st["dropped"]["loss"], 2);
    assert_eq!(st["answered"], 0);

    // The real-time scheduler: granted to root, refused with 69 otherwise.
    let out = run_skew(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rt-priority",
            "1",
            "--max-seconds",
            "0.1",
        ],
        Duration::from_secs(10),
    );
    assert!(
        out.code == 0 || (out.code == 69 && out.stderr.contains("real-time scheduler")),
        "{}: {}",
        out.code,
        out.stderr
    );

    // Without --stats-json: a one-line summary on stderr.
    let s = SkewDaemon::serve(Path::new(skew_bin()), &[]);
    let out = s.stop();
    assert!(
        out.stderr.contains("skew serve: stopped by signal"),
        "{}",
        out.stderr
    );
}

#[test]
fn several_addresses_both_families() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let s = serve(&["--listen", "[::1]:0", "--offset", "0.25"]);
    assert_eq!(s.addrs().len(), 2);
    let v6 = s.addrs()[1].to_string();
    assert!(v6.starts_with("[::1]:"));
    let out = probe_json(&[&s.arg(), &v6], &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    for p in probes(&out.json()) {
        assert_measures(&p, 0.25, 100e-6);
    }
}

#[test]
fn bad_flags_exit_64_and_unbindable_addresses_69() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    for bad in [
        vec!["serve"],
        vec!["serve", "--listen", "localhost"],
        vec!["serve", "--listen", "127.0.0.1:0", "--loss", "2"],
        vec!["serve", "--listen", "127.0.0.1:0", "--offset", "abc"],
        vec!["serve", "--listen", "127.0.0.1:0", "--step", "1"],
        vec!["serve", "--listen", "127.0.0.1:0", "--kod-every", "2"],
        vec!["serve", "--listen", "127.0.0.1:0", "--refid", "TOOLONG"],
        vec!["serve", "--listen", "127.0.0.1:0", "--stratum", "300"],
        vec!["serve", "--listen", "127.0.0.1:0", "--drift-ppm", "5ms"],
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--smear-leap",
            "--leap-at",
            "tomorrow",
        ],
        vec!["serve", "--listen", "127.0.0.1:0", "--max-requests", "0"],
        vec!["serve", "--listen", "127.0.0.1:0", "--truncate", "0"],
        vec!["proxy", "--listen", "127.0.0.1:0"],
        vec![
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "h:notaport",
        ],
        vec![
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:1",
            "--fwd",
            "-1s",
        ],
    ] {
        let out = run_skew(&bad, Duration::from_secs(10));
        assert_eq!(out.code, 64, "{bad:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{bad:?}");
        assert!(!out.stderr.contains("panicked"), "{bad:?}: {}", out.stderr);
    }
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for bad in [
        vec!["serve", "--listen", &taken],
        vec!["serve", "--listen", "127.0.0.1:0", "--listen", &taken],
        vec!["serve", "--listen", "192.0.2.1:123"],
        vec!["proxy", "--listen", &taken, "--upstream", "127.0.0.1:123"],
        vec![
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "no-such-host.invalid:123",
        ],
    ] {
        let out = run_skew(&bad, Duration::from_secs(10));
        assert_eq!(out.code, 69, "{bad:?}: {}", out.stderr);
        assert!(out.stderr.contains("cannot"), "{bad:?}: {}", out.stderr);
        assert!(
            !out.stdout.contains("listening on"),
            "{bad:?}: announced before failing"
        );
    }
}

/// Issue 14.8: a server that steps by one to two half-widths between samples. The samples'
/// intervals still intersect, around a value the server's clock never had; the hard bound
/// (`bound_lo_s`/`bound_hi_s`) must hold the server's offset before the step or after it,
/// whichever was in force at the best sample, in every run. The intersection is published
/// apart (`joint_lo_s`/`joint_hi_s`).
#[test]
fn a_small_server_step_never_breaks_the_hard_bound() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // This machine's half-width of one sample against skew serve on loopback.
    let s = serve(&[]);
    let p = probe_one(&s.arg(), 1, "300ms");
    let hw = (f(&p, "bound_hi_s") - f(&p, "bound_lo_s")) / 2.0;
    assert!(hw > 0.0 && hw < 1e-3, "{p}");
    drop(s);
    const RUNS: usize = 16;
    let mut misses = Vec::new();
    for k in 0..RUNS {
        // 0.5 to 3 half-widths: the intersection is wrong for some of these sizes when
        // the samples straddle the step (where depends on the offsets' bias).
        let step_s = hw * (0.5 + 2.5 * k as f64 / (RUNS - 1) as f64);
        let step = format!("{step_s:.9}");
        let s = serve(&["--step-after", "100ms", "--step", &step]);
        let out = run_skew(
            &[
                "probe",
                "--json",
                "-n",
                "10",
                "--interval",
                "20ms",
                "--timeout",
                "300ms",
                &s.arg(),
            ],
            Duration::from_secs(20),
        );
        let p = &probes(&out.json())[0];
        assert_eq!(p["status"], "ok", "{p}");
        let (lo, hi) = (f(p, "bound_lo_s"), f(p, "bound_hi_s"));
        // The served clock is exact (to the ns printed), before and after the step.
        let holds = |x: f64| lo - 1e-9 <= x && x <= hi + 1e-9;
        if !holds(0.0) && !holds(step_s) {
            misses.push(format!("step {step} s: bound [{lo}, {hi}]"));
        }
        match p["bound_consistent"].as_bool() {
            Some(true) => {
                let (jl, jh) = (f(p, "joint_lo_s"), f(p, "joint_hi_s"));
                assert!(lo - 1e-9 <= jl && jh <= hi + 1e-9, "joint inside hard: {p}");
            }
            _ => assert!(
                p["joint_lo_s"].is_null() && p["joint_hi_s"].is_null(),
                "{p}"
            ),
        }
    }
    assert!(misses.is_empty(), "{misses:?}");
}
