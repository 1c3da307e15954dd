//! Issue 16.2: ICMP errors. A closed loopback port answers our requests with ICMP "port
//! unreachable"; the engine reads it from the socket's error queue (IP_RECVERR), checks that
//! it quotes one of our requests to that address, and the server ends `unreachable` with
//! the ICMP type in `error`. A live server probed in the same run is unaffected, and a run
//! whose only outstanding requests have ICMP errors ends without waiting out the timeout.

use crate::common::*;
use skew_testkit::SkewDaemon;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

/// Probes a closed port on `loopback` (bound, then closed) beside a live `skew serve`, 3
/// samples each: the closed one ends `unreachable` with `icmp_text` in `error`, the live one is
/// measured, and the run does not wait out the timeouts.
fn closed_port_beside_a_live_server(loopback: &str, icmp_text: &str) {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let live = SkewDaemon::serve(Path::new(skew_bin()), &["--stats-json"]);
    let closed = {
        let s = UdpSocket::bind((loopback, 0)).unwrap();
        s.local_addr().unwrap().to_string()
    };
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            "3",
            "--interval",
            "50ms",
            "--timeout",
            "3s",
            &closed,
            &live.arg(),
        ],
        Duration::from_secs(30),
    );
    let ps = probes(&out.json());
    let (c, l) = (&ps[0], &ps[1]);
    assert_eq!(c["status"], "unreachable", "{c}");
    let e = c["error"].as_str().unwrap();
    assert!(e.contains(icmp_text), "the ICMP type in error: {e}");
    assert_eq!(c["sent"], 3, "every sample still asked: {c}");
    assert_measures(l, 0.0, 100e-6);
    assert_eq!(l["sent"], 3);
    // Three exchanges, each ended by its ICMP error once nothing else was outstanding:
    // about 2 × 50 ms, not 3 × the 3 s timeout.
    assert!(
        out.elapsed < Duration::from_millis(2500),
        "the run waited out the timeouts: {:?}",
        out.elapsed
    );
}

#[test]
fn a_closed_port_is_unreachable_and_a_live_server_beside_it_is_not() {
    closed_port_beside_a_live_server("127.0.0.1", "ICMP port unreachable (type 3, code 3)");
}

#[test]
fn a_closed_ipv6_port_is_unreachable_by_icmpv6() {
    closed_port_beside_a_live_server("::1", "ICMPv6 port unreachable (type 1, code 4)");
}

#[test]
fn a_closed_port_alone_ends_the_run_early() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let closed = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().to_string()
    };
    let out = run_skew(
        &["probe", "--json", "-n", "1", "--timeout", "5s", &closed],
        Duration::from_secs(30),
    );
    let p = &probes(&out.json())[0];
    assert_eq!(p["status"], "unreachable", "{p}");
    assert_eq!(out.code, 2, "no server answered validly");
    assert!(out.elapsed < Duration::from_secs(2), "{:?}", out.elapsed);
}
