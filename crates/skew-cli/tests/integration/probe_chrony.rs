//! `skew probe` against real chronyd peers on loopback.

use crate::common::*;
use skew_testkit::{free_udp_port, Chronyd};
use std::time::Duration;

#[test]
fn true_offset_zero_is_measured_and_bounded() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    for _ in 0..5 {
        let out = probe_json(&[&c.arg()], &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let v = out.json();
        let p = &probes(&v)[0];
        assert_measures(p, 0.0, 100e-6);
        assert_eq!(p["stratum"], 8);
        assert_eq!(p["leap"], "none");
        assert_eq!(p["rx_timestamp"], "kernel");
        assert_eq!(p["samples"].as_array().unwrap().len(), 4);
        for s in p["samples"].as_array().unwrap() {
            let t: Vec<i64> = ["t1_ns", "t2_ns", "t3_ns", "t4_ns"]
                .iter()
                .map(|k| s[k].as_i64().unwrap())
                .collect();
            assert!(t[0] <= t[3] && t[1] <= t[2], "timestamps out of order: {s}");
            let offset = ((t[1] - t[0]) + (t[2] - t[3])) as f64 / 2e9;
            assert!((offset - s["offset_s"].as_f64().unwrap()).abs() < 1e-9);
        }
    }
}

#[test]
fn follower_with_known_offset() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let truth = Chronyd::server();
    let liar = Chronyd::follower(truth.port, "0.25");
    let out = probe_json(&[&liar.arg()], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let p = &probes(&out.json())[0];
    // The follower serves truth + 0.25 s only as exactly as it measured its upstream: a few
    // µs on loopback (its upstream's T3 is read just before the reply leaves). Allow 20 µs.
    assert_measures_uncertain(p, 0.25, 100e-6, 20e-6);
    assert_eq!(p["stratum"], 9);
}

#[test]
fn faketime_server_behind() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::faketime("-2.5");
    let out = probe_json(&[&c.arg()], &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let p = &probes(&out.json())[0];
    // libfaketime offsets the server's clock reads only: the error is its own jitter.
    assert_measures(p, -2.5, 1e-3);
}

#[test]
fn ipv6_loopback() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let out = probe_json(&[&format!("[::1]:{}", c.port)], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = &probes(&out.json())[0];
    assert_eq!(p["address"], format!("[::1]:{}", c.port));
    assert_measures(p, 0.0, 100e-6);
    // -4 excludes it.
    let out = probe_json(&[&format!("[::1]:{}", c.port)], &["-4"]);
    assert_eq!(out.code, 2);
    assert_eq!(probes(&out.json())[0]["status"], "unresolved");
}

#[test]
fn dead_port_is_unreachable_beside_live_servers() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = Chronyd::server();
    let b = Chronyd::server();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            "3",
            "--interval",
            "100ms",
            "--timeout",
            "300ms",
            &a.arg(),
            &dead,
            &b.arg(),
        ],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let ps = probes(&out.json());
    assert_eq!(ps.len(), 3);
    assert_measures(&ps[0], 0.0, 100e-6);
    assert_measures(&ps[2], 0.0, 100e-6);
    // A closed port answers with ICMP port unreachable (issue 16.2).
    assert_eq!(ps[1]["status"], "unreachable");
    assert!(ps[1]["error"]
        .as_str()
        .unwrap()
        .contains("ICMP port unreachable (type 3, code 3)"));
    assert!(ps[1]["offset_s"].is_null());
    // At most three sequential timeouts of 300 ms (plus start-up): well under 3 s.
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn unresolvable_name_is_reported_and_others_still_measured() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let out = probe_json(&[&c.arg(), "no-such-host.invalid"], &[]);
    assert_eq!(out.code, 1);
    let ps = probes(&out.json());
    assert_eq!(ps[0]["status"], "ok");
    assert_eq!(ps[1]["status"], "unresolved");
    assert!(ps[1]["error"]
        .as_str()
        .unwrap()
        .contains("no-such-host.invalid"));
}

#[test]
fn all_failed_exits_2_and_usage_exits_64() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let out = run_skew(
        &["probe", "-n", "1", "--timeout", "200ms", &dead],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("unreachable"), "{}", out.stdout);
    for bad in [
        vec!["probe"],
        vec!["probe", "host:notaport"],
        vec!["probe", "--interval", "5 parsecs", "h"],
        vec!["probe", "-n", "0", "h"],
        vec!["probe", "--no-such-flag", "h"],
        vec!["probe", "-4", "-6", "h"],
        vec!["probe", "--json", "--csv", "h"],
    ] {
        let out = run_skew(&bad, Duration::from_secs(10));
        assert_eq!(out.code, 64, "{bad:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn human_and_csv_outputs() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let out = run_skew(
        &["probe", "-n", "2", "--interval", "10ms", &c.arg()],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("S  Server")
            && lines[0].contains("Offset")
            && lines[0].contains("Status")
    );
    assert!(
        lines[2].starts_with('*') && lines[2].contains(&c.arg()) && lines[2].ends_with("ok"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("server − local"));
    assert!(out.stdout.contains("Agreement: 1 of 1"), "{}", out.stdout);

    let out = run_skew(
        &["probe", "--csv", "-n", "2", "--interval", "10ms", &c.arg()],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 0);
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let headers = r.headers().unwrap().clone();
    assert_eq!(&headers[0], "server");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("status")], "ok");
    let off: f64 = rows[0][col("offset_s")].parse().unwrap();
    assert!(off.abs() < 100e-6);
}

/// sntpc, an independent SNTP implementation, agrees with `skew probe` on the same server.
#[test]
fn sntpc_cross_check() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    use std::net::{SocketAddr, UdpSocket};

    struct Sock(UdpSocket);
    impl sntpc::NtpUdpSocket for Sock {
        async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> sntpc::Result<usize> {
            self.0.send_to(buf, addr).map_err(|_| sntpc::Error::Network)
        }
        async fn recv_from(&self, buf: &mut [u8]) -> sntpc::Result<(usize, SocketAddr)> {
            self.0.recv_from(buf).map_err(|_| sntpc::Error::Network)
        }
    }

    let truth = Chronyd::server();
    let liar = Chronyd::follower(truth.port, "-0.037");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    // sntpc blocks forever without a read timeout.
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let sock = Sock(sock);
    let ctx = sntpc::NtpContext::new(sntpc::StdTimestampGen::default());
    let mut offsets_us = vec![];
    for _ in 0..5 {
        let r = sntpc::sync::get_time(liar.addr_v4(), &sock, ctx).expect("sntpc get_time");
        offsets_us.push(r.offset() as f64);
    }
    offsets_us.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let sntpc_s = offsets_us[2] / 1e6;
    let out = probe_json(&[&liar.arg()], &[]);
    let p = &probes(&out.json())[0];
    let skew_s = f(p, "offset_s");
    assert!(
        (skew_s - sntpc_s).abs() < 200e-6,
        "skew {skew_s} vs sntpc {sntpc_s}"
    );
    assert!((skew_s + 0.037).abs() < 100e-6, "skew {skew_s}");
}

#[test]
fn advise_states_sample_counts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let out = run_skew(
        &[
            "probe",
            "--json",
            "--advise",
            "-n",
            "20",
            "--interval",
            "5ms",
            &c.arg(),
        ],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let a = &probes(&v)[0]["advice"];
    assert_eq!(a["samples"], 20);
    let (p50, p999, timeout) = (f(a, "rtt_p50_s"), f(a, "rtt_p999_s"), f(a, "timeout_s"));
    assert!(0.0 < p50 && p50 <= p999 && p999 <= f(a, "rtt_max_s"));
    assert!((timeout - 1.5 * p999).abs() < 1e-12);
    assert!(f(a, "rto_s") > f(a, "srtt_s") && f(a, "srtt_s") > 0.0);
    // Without --advise the key is null; the human table states the counts.
    assert!(probes(&probe_json(&[&c.arg()], &[]).json())[0]["advice"].is_null());
    let out = run_skew(
        &[
            "probe",
            "--advise",
            "-n",
            "3",
            "--interval",
            "5ms",
            &c.arg(),
        ],
        Duration::from_secs(20),
    );
    assert!(out.stdout.contains("Timeout advice"), "{}", out.stdout);
    assert!(out.stdout.contains("Samples"));
}

/// Issue 16.3: interleaved mode against chronyd, which answers the second request basic and
/// every later one interleaved (REFERENCE: "Interleaved client/server mode, as loopback
/// chronyd 4.3 answers it"). Each sample says its mode; the interleaved ones carry the real
/// transmit time, so their delay is a fraction of the basic ones' and the bound still holds
/// the truth (chronyd serves this clock: 0).
#[test]
fn interleaved_mode_against_chronyd() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let out = run_skew(
        &[
            "probe",
            "--json",
            "--interleaved",
            "-n",
            "5",
            "--interval",
            "10ms",
            &c.arg(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = &probes(&out.json())[0];
    assert_measures(p, 0.0, 20e-6);
    let samples = p["samples"].as_array().unwrap();
    let mode = |s: &serde_json::Value| s["mode"].as_str().unwrap().to_string();
    assert_eq!(mode(&samples[0]), "basic", "{p}");
    let interleaved: Vec<&serde_json::Value> = samples
        .iter()
        .filter(|s| mode(s) == "interleaved")
        .collect();
    assert!(interleaved.len() >= 2, "chronyd answers interleaved: {p}");
    let min_delay = |xs: &[&serde_json::Value]| {
        xs.iter()
            .map(|s| f(s, "delay_s"))
            .fold(f64::INFINITY, f64::min)
    };
    let basic: Vec<&serde_json::Value> = samples.iter().filter(|s| mode(s) == "basic").collect();
    assert!(
        min_delay(&interleaved) < min_delay(&basic),
        "the real transmit time shortens the delay: {p}"
    );
    // The first interleaved sample is the exchange chronyd last answered basic, with the
    // real T3: the same T1, T2 and T4, a later T3.
    let first = interleaved[0];
    let twin = basic
        .iter()
        .find(|b| b["t1_ns"] == first["t1_ns"])
        .unwrap_or_else(|| panic!("no basic sample of the same exchange: {p}"));
    assert_eq!(twin["t2_ns"], first["t2_ns"]);
    assert_eq!(twin["t4_ns"], first["t4_ns"]);
    assert!(first["t3_ns"].as_i64() > twin["t3_ns"].as_i64(), "{p}");
    // Without --interleaved, basic only.
    let out = probe_json(&[&c.arg()], &[]);
    let p = &probes(&out.json())[0];
    assert!(p["samples"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["mode"] == "basic"));
}

/// A server that does not answer interleaved requests (skew serve) is measured in basic mode,
/// and --interleaved is refused with --nts (NTS requests are never interleaved).
#[test]
fn interleaved_falls_back_to_basic_and_is_refused_with_nts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let s =
        skew_testkit::SkewDaemon::serve(std::path::Path::new(skew_bin()), &["--offset", "0.02"]);
    let out = probe_json(&[&s.arg()], &["--interleaved"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = &probes(&out.json())[0];
    assert_measures(p, 0.02, 100e-6);
    let samples = p["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 4);
    assert!(samples.iter().all(|s| s["mode"] == "basic"), "{p}");
    let out = run_skew(
        &["probe", "--nts", "--interleaved", "localhost"],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("--interleaved"), "{}", out.stderr);
}
