//! A light version of bench/scale.sh for CI: 1,000 targets in one run (900 ports of one
//! `skew serve`, 100 unreachable addresses interleaved), one sample each. Every served
//! target must be answered (none starved, none asked twice), every unreachable one must
//! time out or be `unreachable` (ICMP), and the run must last about one timeout, not one per
//! batch of targets.

use crate::common::*;
use serde_json::Value;
use skew_testkit::SkewDaemon;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

#[test]
fn a_thousand_targets_in_about_one_timeout() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    const SERVED: usize = 900;
    const DEAD: usize = 100;
    let mut args = vec!["serve", "--stats-json"];
    for _ in 0..SERVED {
        args.extend_from_slice(&["--listen", "127.0.0.1:0"]);
    }
    let s = SkewDaemon::start(Path::new(skew_bin()), &args).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.addrs().len(), SERVED);
    let served: Vec<String> = s.addrs().iter().map(|a| a.to_string()).collect();
    // Nothing listens on 127.0.0.2 (skew serve bound 127.0.0.1 only): requests there go
    // unanswered and hold their in-flight slot for the whole timeout.
    let dead: Vec<String> = s.addrs()[..DEAD]
        .iter()
        .map(|a| format!("127.0.0.2:{}", a.port()))
        .collect();
    let mut targets = Vec::new();
    for (i, a) in served.iter().enumerate() {
        targets.push(a.as_str());
        if i % 9 == 8 {
            targets.push(dead[i / 9].as_str());
        }
    }
    assert_eq!(targets.len(), SERVED + DEAD);
    let mut probe = vec!["probe", "--json", "-n", "1", "--timeout", "500ms"];
    probe.extend_from_slice(&targets);
    let out = run_skew(&probe, Duration::from_secs(30));
    let ps = probes(&out.json());
    assert_eq!(ps.len(), SERVED + DEAD);
    let dead_set: HashSet<&str> = dead.iter().map(String::as_str).collect();
    let wrong: Vec<&Value> = ps
        .iter()
        .filter(|p| {
            let a = p["address"].as_str().unwrap();
            // A dead address answers with ICMP port unreachable, or with nothing when the
            // kernel's ICMP rate limit (1,000 per second) holds the error back.
            let expected = if dead_set.contains(a) {
                &["timeout", "unreachable"][..]
            } else {
                &["ok"][..]
            };
            !expected.iter().any(|e| p["status"] == *e) || p["sent"] != 1
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} targets starved or wrong, e.g. {}",
        wrong.len(),
        wrong[0]
    );
    // About one timeout (500 ms) plus sending, receiving and printing 1,000 results. Not a
    // benchmark (bench/scale.sh is): a guard against runs that wait one timeout per batch
    // of targets, or per target.
    assert!(
        out.elapsed < Duration::from_secs(3),
        "1,000 targets took {:?}",
        out.elapsed
    );
    let st: Value = serde_json::from_str(&s.stop().stats().unwrap()).unwrap();
    assert_eq!(st["received"], SERVED as u64, "one request per served port");
    assert_eq!(st["answered"], SERVED as u64);
}

/// Issue 16.1 (a), small: one chronyd bound to 0.0.0.0 answers every 127.x.y.z, as an
/// anycast or load-balanced service answers many addresses from one socket. Its receive
/// buffer holds about 256 small datagrams; with default flags the sweep must not overflow
/// it (the engine used to send bursts of thousands: 17–38 % of 10,000 targets timed out).
#[test]
fn one_server_answering_many_addresses_is_not_flooded() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    const TARGETS: usize = 3_000;
    let c = skew_testkit::Chronyd::start(
        &["local stratum 8", "bindaddress 0.0.0.0"],
        &[],
        skew_testkit::chrony::Ready::Answers,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let targets: Vec<String> = (0..TARGETS)
        .map(|i| format!("127.1.{}.{}:{}", i / 250, i % 250 + 1, c.port))
        .collect();
    let mut probe = vec!["probe", "--json", "-n", "1", "--timeout", "1s"];
    probe.extend(targets.iter().map(String::as_str));
    let out = run_skew(&probe, Duration::from_secs(30));
    let ps = probes(&out.json());
    assert_eq!(ps.len(), TARGETS);
    let bad: Vec<&Value> = ps.iter().filter(|p| p["status"] != "ok").collect();
    // At least 99.9 % ok (issue 16.1's goal).
    assert!(
        bad.len() * 1000 <= TARGETS,
        "{} of {TARGETS} not ok, e.g. {}",
        bad.len(),
        bad[0]
    );
    // All answered: the run ends long before the timeout (not a benchmark).
    assert!(
        out.elapsed < Duration::from_millis(1500),
        "{:?}",
        out.elapsed
    );
}
