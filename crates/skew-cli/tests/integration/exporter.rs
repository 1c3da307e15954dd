//! `skew exporter` against real chronyd peers on loopback: continuous polling, /metrics
//! (sourcestats, Allan deviation, reach, the agreement), /probe, robustness against bad
//! HTTP, stopping on signals, RATE back-off, and the refusal of short polls for public
//! addresses.

use crate::common::{skew_bin, spawn_skew};
use nix::sys::signal::Signal;
use skew_testkit::{free_tcp_port, free_udp_port, Chronyd, SkewDaemon};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A GET over HTTP/1.0: (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// Waits until `/metrics` satisfies `ok`, or fails after `limit` with the last text.
pub(crate) fn wait_metrics(port: u16, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    let mut last = String::new();
    while t0.elapsed() < limit {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = write!(s, "GET /metrics HTTP/1.0\r\n\r\n");
            let mut t = String::new();
            let _ = s.read_to_string(&mut t);
            last = t.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
            if ok(&last) {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("/metrics never satisfied the condition:\n{last}");
}

/// The value of the first sample line starting with `prefix` (name and labels).
pub(crate) fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

pub(crate) fn promtool_check(text: &str) {
    skew_testkit::require("promtool");
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn exporter(port: u16, extra: &[&str], servers: &[String]) -> crate::common::Running {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["exporter", "--listen", &listen, "--no-leap"];
    args.extend_from_slice(extra);
    let servers: Vec<&str> = servers.iter().map(String::as_str).collect();
    args.extend_from_slice(&servers);
    let r = spawn_skew(&args, &[]);
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the exporter never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    r
}

#[test]
fn continuous_polling_on_metrics() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = Chronyd::server();
    let b = Chronyd::server();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let port = free_tcp_port();
    let servers = vec![a.arg(), b.arg(), dead.clone()];
    // The timeout almost fills the poll: the dead server's exchanges end just before the
    // next poll, and must never hold back the live servers' polls.
    let run = exporter(
        port,
        &[
            "--poll",
            "200ms",
            "--timeout",
            "180ms",
            "--window",
            "16",
            "--min-agree",
            "2",
        ],
        &servers,
    );
    let t0 = Instant::now();
    let sa = format!("{{server=\"{}\",address=\"{}\"", a.arg(), a.addr_v4());
    let text = wait_metrics(port, Duration::from_secs(20), |t| {
        value(t, &format!("skew_sourcestats_samples{sa}")).is_some_and(|n| n >= 10.0)
    });
    let elapsed = t0.elapsed().as_secs_f64();
    promtool_check(&text);
    // Offsets of a chronyd serving this clock: microseconds.
    let off = value(&text, &format!("skew_ntp_offset_seconds{sa}")).unwrap();
    assert!(off.abs() < 1e-3, "{off}");
    let so = value(&text, &format!("skew_sourcestats_offset_seconds{sa}")).unwrap();
    assert!(so.abs() < 1e-3, "{so}");
    let skew = value(&text, &format!("skew_sourcestats_frequency_skew_ppm{sa}")).unwrap();
    let freq = value(&text, &format!("skew_sourcestats_frequency_ppm{sa}")).unwrap();
    assert!(skew > 0.0 && freq.abs() < 50.0, "{freq} ± {skew}");
    assert!(value(&text, &format!("skew_sourcestats_span_seconds{sa}")).unwrap() > 1.0);
    assert!(value(&text, &format!("skew_sourcestats_stddev_seconds{sa}")).unwrap() < 1e-3);
    // Reach: all 8 bits for the live servers once 8 polls are done, none for the dead one.
    assert_eq!(value(&text, &format!("skew_ntp_reach{sa}")), Some(255.0));
    let sd = format!("{{server=\"{dead}\",address=\"{dead}\"");
    assert_eq!(value(&text, &format!("skew_ntp_reach{sd}")), Some(0.0));
    assert_eq!(value(&text, &format!("skew_ntp_up{sd}")), Some(0.0));
    assert!(
        value(
            &text,
            // A closed port answers with ICMP port unreachable (issue 16.2).
            &format!("skew_exporter_poll_errors_total{{server=\"{dead}\",address=\"{dead}\",status=\"unreachable\"}}")
        )
        .unwrap()
            >= 7.0
    );
    // Allan deviation at τ = 0.2 s, 0.4 s, ...
    assert!(text.contains(&format!(
        "skew_ntp_allan_deviation{{server=\"{}\",address=\"{}\",tau_seconds=\"0.2\"}}",
        a.arg(),
        a.addr_v4()
    )));
    assert!(text.contains("tau_seconds=\"0.4\"") && text.contains("tau_seconds=\"0.8\""));
    // The agreement of the two live servers.
    assert_eq!(value(&text, "skew_agreement_majority "), Some(1.0));
    assert!(value(&text, "skew_agreement_lower_seconds ").unwrap() < 0.0);
    assert!(value(&text, "skew_agreement_upper_seconds ").unwrap() > 0.0);
    // The dead server did not hold the live ones back: about one poll per 200 ms.
    let polls = value(&text, &format!("skew_exporter_polls_total{sa}")).unwrap();
    let expected = elapsed / 0.2;
    assert!(polls >= 0.6 * expected, "{polls} polls in {elapsed:.1} s");
    // The local clock readings are there (the poll closes an interval).
    assert!(text.contains("\nskew_clock_steps_total "), "{text}");
    drop(run);
}

#[test]
fn signals_stop_it_within_a_second() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = Chronyd::server();
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let port = free_tcp_port();
        let run = exporter(port, &["--poll", "100ms", "--timeout", "50ms"], &[a.arg()]);
        wait_metrics(port, Duration::from_secs(10), |t| {
            t.contains("skew_ntp_up{")
        });
        let t0 = Instant::now();
        run.child.signal(sig);
        let out = run.wait(Duration::from_secs(5));
        let took = t0.elapsed();
        assert_eq!(out.code, 0, "{sig:?}: {}", out.stderr);
        assert!(took < Duration::from_secs(1), "{sig:?} took {took:?}");
    }
}

#[test]
fn bad_http_gets_an_error_or_a_closed_connection() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = Chronyd::server();
    let port = free_tcp_port();
    let run = exporter(port, &["--poll", "500ms", "--timeout", "200ms"], &[a.arg()]);
    // Garbage: 400 and closed.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"\x16\x03\x01\x02\x00garbage\r\n\r\n").unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    assert!(buf.is_empty() || buf.starts_with("HTTP/1.1 400"), "{buf}");
    // Huge headers: refused (431) or closed, not buffered.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let big = format!(
        "GET /metrics HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let _ = s.write_all(big.as_bytes());
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let head = String::from_utf8_lossy(&buf[..buf.len().min(20)]).to_string();
    assert!(
        buf.is_empty() || head.starts_with("HTTP/1.1 431") || head.starts_with("HTTP/1.1 400"),
        "{head}"
    );
    // Slowloris: a header dribbled a byte at a time is cut off after the header deadline
    // (5 s), and meanwhile scrapes are answered at once.
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    let t0 = Instant::now();
    let mut closed_after = None;
    while t0.elapsed() < Duration::from_secs(9) {
        let q = Instant::now();
        let (status, _) = get(port, "/-/healthy");
        assert_eq!(status, 200);
        assert!(q.elapsed() < Duration::from_secs(1), "{:?}", q.elapsed());
        let mut all_closed = true;
        for s in &mut slow {
            if s.write_all(b"X").is_ok() && s.flush().is_ok() {
                all_closed = false;
            }
        }
        if all_closed {
            closed_after = Some(t0.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let closed = closed_after.expect("slowloris connections were never closed");
    assert!(closed < Duration::from_secs(8), "{closed:?}");
    // Stuck scrapers: requests sent whole (200 pipelined on each connection, more answer than
    // the socket buffers hold), responses never read, as a scraper that hung would. They hold
    // their connections and nothing else: the poller goes on at its pace meanwhile, and other
    // scrapes are answered.
    let polls = format!(
        "skew_exporter_polls_total{{server=\"{}\",address=\"{}\"",
        a.arg(),
        a.addr_v4()
    );
    let before = value(&get(port, "/metrics").1, &polls).unwrap();
    let stuck: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            for _ in 0..200 {
                let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let q = Instant::now();
    let after = value(&get(port, "/metrics").1, &polls).unwrap();
    assert!(q.elapsed() < Duration::from_secs(1), "{:?}", q.elapsed());
    assert!(
        after - before >= 3.0,
        "polls stalled behind stuck scrapes: {before} -> {after} in 3 s at --poll 500ms"
    );
    drop(stuck);
    // Unknown paths and methods.
    assert_eq!(get(port, "/nothing").0, 404);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    assert!(
        buf.starts_with("HTTP/1.0 405") || buf.starts_with("HTTP/1.1 405"),
        "{buf}"
    );
    // The index and health pages.
    let (st, body) = get(port, "/");
    assert!(
        st == 200 && body.contains("/metrics") && body.contains("/probe"),
        "{body}"
    );
    assert_eq!(get(port, "/-/healthy"), (200, "Healthy\n".to_string()));
    // Still alive and measuring.
    assert!(get(port, "/metrics").1.contains("skew_ntp_up{"));
    drop(run);
}

#[test]
fn probe_endpoint_answers_as_blackbox_does() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = Chronyd::server();
    let port = free_tcp_port();
    let run = exporter(
        port,
        &[
            "--poll",
            "1s",
            "--timeout",
            "300ms",
            "--probe-interval",
            "10ms",
        ],
        &[a.arg()],
    );
    let (st, text) = get(port, &format!("/probe?target={}&samples=3", a.arg()));
    assert_eq!(st, 200, "{text}");
    promtool_check(&text);
    assert_eq!(value(&text, "probe_success "), Some(1.0));
    let off = value(&text, "skew_ntp_offset_seconds{").unwrap();
    assert!(off.abs() < 1e-3);
    assert!(value(&text, "probe_duration_seconds ").unwrap() < 2.0);
    assert_eq!(value(&text, "skew_agreement_majority "), Some(1.0));
    // A dead target: a failed probe, not an HTTP error.
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let (st, text) = get(port, &format!("/probe?target={dead}"));
    assert_eq!(st, 200);
    assert_eq!(value(&text, "probe_success "), Some(0.0));
    // An unresolvable name too.
    let (st, text) = get(port, "/probe?target=no-such-host.invalid");
    assert_eq!(st, 200);
    assert_eq!(value(&text, "probe_success "), Some(0.0));
    // Bad requests.
    assert_eq!(get(port, "/probe").0, 400);
    assert_eq!(get(port, "/probe?target=a&samples=99").0, 400);
    // The probes were counted, and /metrics does not show the probed targets.
    let m = get(port, "/metrics").1;
    assert_eq!(value(&m, "skew_exporter_probe_requests_total "), Some(3.0));
    drop(run);
}

#[test]
fn short_polls_are_refused_for_public_addresses() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let out = crate::common::run_skew(
        &[
            "exporter",
            "--poll",
            "1s",
            "--no-leap",
            "--listen",
            "127.0.0.1:0",
            "192.0.2.1",
        ],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("only allowed for loopback and private addresses"),
        "{}",
        out.stderr
    );
    // Bad settings are usage errors too.
    let out = crate::common::run_skew(
        &["exporter", "--poll", "1s", "--timeout", "2s", "127.0.0.1"],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 64, "{}", out.stderr);
    let _ = skew_bin();
}

#[test]
fn rate_kisses_back_off_across_polls() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // A server that answers every request with RATE: the poll doubles each time.
    let serve = SkewDaemon::serve(
        std::path::Path::new(skew_bin()),
        &["--listen", "127.0.0.1:0", "--kod", "RATE"],
    );
    let port = free_tcp_port();
    let run = exporter(
        port,
        &["--poll", "100ms", "--timeout", "50ms"],
        &[serve.arg()],
    );
    let s = format!("{{server=\"{0}\",address=\"{0}\"", serve.arg());
    let text = wait_metrics(port, Duration::from_secs(10), |t| {
        value(t, &format!("skew_ntp_poll_seconds{s}")).is_some_and(|p| p >= 0.8)
    });
    // 0.1 → 0.2 → 0.4 → 0.8 s: after 3.5 s at most about 6 polls, not 35.
    std::thread::sleep(Duration::from_secs(2));
    let text2 = get(port, "/metrics").1;
    let polls = value(&text2, &format!("skew_exporter_polls_total{s}")).unwrap();
    assert!(polls <= 8.0, "{polls} polls\n{text}");
    drop(run);
    let out = serve.stop();
    let _ = out;
}
