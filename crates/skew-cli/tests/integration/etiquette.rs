//! Etiquette toward servers, counted by the server: `skew serve --stats-json` reports how
//! many requests it received. One request per interval (2 s by default) per *address*,
//! however the address is named on the command line; Kiss-o'-Death RATE, DENY and RSTR stop
//! all requests to the server for the run.

use crate::common::*;
use serde_json::Value;
use skew_testkit::{free_udp_port, SkewDaemon};
use std::collections::BTreeSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::thread;
use std::time::Duration;

/// `skew serve --stats-json` on the given `--listen` addresses.
fn serve_on(listen: &[String], extra: &[&str]) -> SkewDaemon {
    let mut args = vec!["serve", "--stats-json"];
    for l in listen {
        args.push("--listen");
        args.push(l);
    }
    args.extend_from_slice(extra);
    SkewDaemon::start(Path::new(skew_bin()), &args).unwrap_or_else(|e| panic!("{e}"))
}

/// Stops the server and returns how many requests it received.
fn received(d: SkewDaemon) -> u64 {
    let out = d.stop();
    let st: Value = serde_json::from_str(&out.stats().expect("stats")).expect("stats JSON");
    st["received"].as_u64().unwrap()
}

/// The send times (t1) of a probe entry's samples, ns.
fn send_times(p: &Value) -> Vec<i64> {
    p["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["t1_ns"].as_i64().unwrap())
        .collect()
}

#[test]
fn one_request_per_default_interval_per_address_however_it_is_named() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let s = serve_on(&["127.0.0.1:0".into()], &[]);
    let port = s.port();
    let lit = format!("127.0.0.1:{port}");
    let name = format!("localhost:{port}");
    // The same server three times: twice as given, once by a name resolving to it (-4: the
    // name's IPv4 address). No --interval: the default 2 s applies.
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-4",
            "-n",
            "2",
            "--timeout",
            "500ms",
            &lit,
            &lit,
            &name,
        ],
        Duration::from_secs(20),
    );
    let v = out.json();
    let ps = probes(&v);
    assert_eq!(ps.len(), 3);
    for p in &ps {
        assert_eq!(p["status"], "ok", "{p}");
        assert_eq!(p["address"], lit.as_str());
        let t = send_times(p);
        assert_eq!(t.len(), 2);
        assert!(
            t[1] - t[0] >= 2_000_000_000,
            "requests {} ns apart, the default interval is 2 s",
            t[1] - t[0]
        );
    }
    assert_eq!(
        send_times(&ps[0]),
        send_times(&ps[2]),
        "one exchange, shared"
    );
    for p in &ps[1..] {
        let w = p["warnings"].to_string();
        assert!(w.contains("probed once"), "{w}");
    }
    // One server counted once in the majority: 1 distinct server, 1 must agree.
    assert_eq!(v["agreement"]["candidates"], 1, "{}", v["agreement"]);
    assert_eq!(v["agreement"]["majority"], true);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(received(s), 2, "the server saw one request per interval");
}

#[test]
fn all_addresses_overlapping_a_literal_probe_each_address_once() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let port = free_udp_port();
    let s = serve_on(&[format!("127.0.0.1:{port}"), format!("[::1]:{port}")], &[]);
    let name = format!("localhost:{port}");
    let lit = format!("127.0.0.1:{port}");
    // However localhost resolves here (127.0.0.1, and ::1 where /etc/hosts says so), every
    // address it has plus the literal are probed once each.
    let mut distinct: BTreeSet<SocketAddr> = name.to_socket_addrs().unwrap().collect();
    distinct.insert(lit.parse().unwrap());
    let out = run_skew(
        &[
            "probe",
            "--json",
            "--all-addresses",
            "-n",
            "3",
            "--interval",
            "100ms",
            "--timeout",
            "500ms",
            &name,
            &lit,
        ],
        Duration::from_secs(20),
    );
    let ps = probes(&out.json());
    let probed: BTreeSet<SocketAddr> = ps
        .iter()
        .map(|p| p["address"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(probed, distinct);
    for p in &ps {
        assert_eq!(p["status"], "ok", "{p}");
        let t = send_times(p);
        assert!(
            t.windows(2).all(|w| w[1] - w[0] >= 100_000_000),
            "requests closer than --interval: {t:?}"
        );
    }
    assert_eq!(received(s), 3 * distinct.len() as u64);
}

#[test]
fn kiss_of_death_stops_every_request_to_the_server() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // Each server is listed twice and asked for 4 samples: a server that kisses once gets
    // exactly one request; RATE after one good reply gets two.
    let cases: &[(&[&str], u64)] = &[
        (&["--kod", "RATE"], 1),
        (&["--kod", "DENY"], 1),
        (&["--kod", "RSTR"], 1),
        (&["--kod", "RATE", "--kod-every", "2"], 2),
    ];
    let handles: Vec<_> = cases
        .iter()
        .map(|(flags, expect)| {
            let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
            let expect = *expect;
            thread::spawn(move || {
                let f: Vec<&str> = flags.iter().map(String::as_str).collect();
                let s = serve_on(&["127.0.0.1:0".into()], &f);
                let a = s.arg();
                let out = run_skew(
                    &[
                        "probe",
                        "--json",
                        "-n",
                        "4",
                        "--interval",
                        "50ms",
                        "--timeout",
                        "500ms",
                        &a,
                        &a,
                    ],
                    Duration::from_secs(20),
                );
                for p in probes(&out.json()) {
                    assert_eq!(p["status"], "kod", "{flags:?}: {p}");
                    assert_eq!(p["kiss_code"], flags[1].as_str());
                    assert_eq!(p["sent"], expect, "{flags:?}");
                    let e = p["error"].as_str().unwrap();
                    assert!(e.contains("no more requests sent this run"), "{e}");
                }
                assert_eq!(received(s), expect, "{flags:?}: requests the server saw");
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Issue 16.1: `--rate N` paces requests across all servers: with 100 servers at 500 per
/// second (bursts of at most 1 ms worth, here one request), the requests leave at least
/// 2 ms apart on average over any stretch, and all are answered.
#[test]
fn rate_paces_requests_across_servers() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    const SERVERS: usize = 100;
    let listen: Vec<String> = (0..SERVERS).map(|_| "127.0.0.1:0".to_string()).collect();
    let s = serve_on(&listen, &[]);
    let targets: Vec<String> = s.addrs().iter().map(|a| a.to_string()).collect();
    let mut args = vec!["probe", "--json", "-n", "1", "--rate", "500"];
    args.extend(targets.iter().map(String::as_str));
    let out = run_skew(&args, Duration::from_secs(30));
    let ps = probes(&out.json());
    assert!(ps.iter().all(|p| p["status"] == "ok"), "{}", out.stdout);
    let mut t1: Vec<i64> = ps.iter().flat_map(send_times).collect();
    t1.sort_unstable();
    assert_eq!(t1.len(), SERVERS);
    // k requests after the first cannot leave before (k − 1) × 2 ms (GCRA with a burst of 1;
    // the kernel's send timestamps may come a little after the pacing clock's decision).
    for (k, t) in t1.iter().enumerate().skip(1) {
        let min_ns = (k as i64 - 1) * 2_000_000 - 500_000;
        assert!(
            t - t1[0] >= min_ns,
            "request {k} left {} ns after the first",
            t - t1[0]
        );
    }
    assert!(
        out.elapsed >= Duration::from_millis(190),
        "{:?}",
        out.elapsed
    );
    assert_eq!(received(s), SERVERS as u64);
}
