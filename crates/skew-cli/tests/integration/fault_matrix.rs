//! The fault matrix: one table of hostile-network and bad-server cases, each probed by
//! `skew probe` beside a healthy chronyd, all cases concurrently.
//!
//! Faulty peers are real processes: `skew serve` (header faults, KoD, loss, garbage...),
//! `skew proxy` in front of a real chronyd (loss, delay, jitter, asymmetry, duplicates,
//! reordering, a lying path), a chronyd that rate-limits, a `skew serve` restarted in the
//! middle of the run, a port where nothing listens, a name that does not resolve, IPv6, a
//! server that steps its clock between samples, and a flood of forged replies.
//! For every case the test checks:
//!
//! * the faulty server's status is the expected one (plus case-specific counters);
//! * the run ends within its deadline: (samples − 1) × max(interval, timeout) + timeout,
//!   plus a fixed allowance for starting the process (and resolving a name);
//! * the healthy chronyd in the same run is unaffected: `ok`, every request answered, no
//!   drop, its bound holding the true offset 0;
//! * every result with a bound (`ok`, and also `unsynchronized` or KoD after good samples)
//!   contains the true offset: chronyd and `skew serve` serve this machine's clock, plus
//!   the `--offset` configured (or the proxy's `--shift`: a lying path is indistinguishable
//!   from a lying server); for a server that steps between samples, its clock at the best
//!   sample (see [`stepping`]).
//!
//! The flood runs alone after the other cases: its senders take both cores.
//!
//! The observed matrix is written as Markdown to `$SKEW_FAULT_MATRIX` when set (the
//! published copy is docs/fault-matrix.md: `SKEW_FAULT_MATRIX=$PWD/docs/fault-matrix.md
//! cargo test -p skew --test integration fault_matrix::`), else into the test's target directory, before
//! the assertions, so a failing run still leaves its matrix.

mod stepping;

use crate::common::*;
use serde_json::Value;
use skew_testkit::{free_udp_port, Chronyd, SkewDaemon};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stepping::Stepping;

/// Allowance for starting `skew`, measuring the local precision and printing, s.
const START_ALLOWANCE_S: f64 = 1.5;
/// Extra allowance for a name that has to go through the system resolver, s.
const RESOLVER_ALLOWANCE_S: f64 = 5.0;
/// Cases run at once.
const PARALLEL: usize = 8;
/// The flood: this many sender threads, each for at most this long and this many datagrams
/// (stopped as soon as the probe ends).
const FLOOD_SENDERS: u64 = 3;
const FLOOD_MAX: Duration = Duration::from_secs(3);
const FLOOD_MAX_EACH: u64 = 1_000_000;

/// The size of a server step.
#[derive(Debug, Clone, Copy)]
enum StepSize {
    /// This many half-widths of the hard bound measured against an honest `skew serve`
    /// before the cases run.
    HalfWidths(f64),
    /// Seconds.
    Seconds(f64),
}

/// Who the faulty server is.
#[derive(Debug, Clone, Copy)]
enum Peer {
    /// `skew serve ARGS` on 127.0.0.1.
    Serve(&'static [&'static str]),
    /// `skew serve ARGS` on [::1] (the healthy neighbour is then chronyd's [::1] too).
    ServeV6(&'static [&'static str]),
    /// `skew proxy ARGS` on 127.0.0.1 in front of the healthy chronyd.
    Proxy(&'static [&'static str]),
    /// `skew proxy ARGS` on [::1] in front of the healthy chronyd's 127.0.0.1.
    ProxyV6(&'static [&'static str]),
    /// A chronyd of its own with these extra configuration lines.
    Chronyd(&'static [&'static str]),
    /// `skew serve ARGS --max-requests 2` on a fixed port, started again on the same port
    /// 300 ms after it stopped.
    Restarted(&'static [&'static str]),
    /// A loopback port where nothing listens.
    DeadPort,
    /// A name that cannot resolve.
    Unresolvable,
    /// `skew serve --step-after AFTER --step S` on 127.0.0.1: the served clock steps
    /// between samples.
    Stepping { after: &'static str, step: StepSize },
    /// A loopback socket that never answers, whose address [`FLOOD_SENDERS`] threads forge
    /// replies from to the probe's port (the healthy neighbour is then chronyd's [::1], on
    /// the probe's other socket). Runs alone.
    Flooded,
}

/// Extra check on the faulty server's probe entry.
type Check = fn(&Value) -> Result<(), String>;

/// One row of the matrix.
struct Case {
    fault: &'static str,
    peer: Peer,
    /// Samples, interval, timeout (as `skew probe` takes them).
    n: u32,
    interval: &'static str,
    timeout: &'static str,
    expect: &'static str,
    /// The faulty server's true offset, s (what it serves relative to this machine).
    truth_s: f64,
    check: Option<Check>,
}

const fn case(
    fault: &'static str,
    peer: Peer,
    expect: &'static str,
    truth_s: f64,
    check: Option<Check>,
) -> Case {
    Case {
        fault,
        peer,
        n: 4,
        interval: "20ms",
        timeout: "300ms",
        expect,
        truth_s,
        check,
    }
}

fn u(p: &Value, k: &str) -> u64 {
    p[k].as_u64().unwrap_or(0)
}

fn dropped(p: &Value, k: &str) -> u64 {
    p["dropped"][k].as_u64().unwrap_or(0)
}

fn sent_once(p: &Value) -> Result<(), String> {
    (u(p, "sent") == 1).then_some(()).ok_or(format!(
        "{} requests after the KoD, expected 1",
        u(p, "sent")
    ))
}

fn sent_all(p: &Value) -> Result<(), String> {
    (u(p, "sent") == 4)
        .then_some(())
        .ok_or(format!("sent {}, expected all 4", u(p, "sent")))
}

fn some_timed_out(p: &Value) -> Result<(), String> {
    (u(p, "timeouts") >= 1)
        .then_some(())
        .ok_or("expected some requests to time out".into())
}

fn duplicates_late(p: &Value) -> Result<(), String> {
    (dropped(p, "late") >= 1)
        .then_some(())
        .ok_or("duplicates should be dropped as late".into())
}

fn forged_dropped(p: &Value) -> Result<(), String> {
    (dropped(p, "origin_mismatch") == u(p, "sent"))
        .then_some(())
        .ok_or("one forged reply per request should be dropped as origin_mismatch".into())
}

fn long_delay(p: &Value) -> Result<(), String> {
    let d = p["delay_s"].as_f64().unwrap_or(0.0);
    (d >= 0.5)
        .then_some(())
        .ok_or(format!("delay {d} s, the path adds 500 ms"))
}

fn half_the_asymmetry(p: &Value) -> Result<(), String> {
    let o = p["offset_s"].as_f64().unwrap_or(0.0);
    ((o - 0.040).abs() < 0.005)
        .then_some(())
        .ok_or(format!("offset {o} s, expected half the 80 ms asymmetry"))
}

fn both_lives(p: &Value) -> Result<(), String> {
    let n = p["samples"].as_array().map_or(0, |s| s.len());
    (u(p, "timeouts") >= 1 && n >= 3)
        .then_some(())
        .ok_or(format!(
            "{n} samples, {} timeouts: expected answers before and after the restart and timeouts between",
            u(p, "timeouts")
        ))
}

fn flood_reached(p: &Value) -> Result<(), String> {
    (dropped(p, "origin_mismatch") >= 1000 && u(p, "sent") == 4)
        .then_some(())
        .ok_or(format!(
            "expected all 4 requests sent and ≥ 1000 forged replies dropped as origin_mismatch, got {} sent, {} dropped",
            u(p, "sent"),
            dropped(p, "origin_mismatch")
        ))
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "none (honest skew serve)",
            Peer::Serve(&[]),
            "ok",
            0.0,
            None,
        ),
        case(
            "server clock +3.5 s",
            Peer::Serve(&["--offset", "3.5"]),
            "ok",
            3.5,
            None,
        ),
        Case {
            n: 10,
            ..case(
                "loss 10 % (requests)",
                Peer::Proxy(&["--loss-fwd", "10%", "--seed", "3"]),
                "ok",
                0.0,
                None,
            )
        },
        Case {
            n: 10,
            ..case(
                "loss 50 % (replies)",
                Peer::Proxy(&["--loss-back", "50%", "--seed", "5"]),
                "ok",
                0.0,
                Some(some_timed_out),
            )
        },
        Case {
            n: 10,
            ..case(
                "loss 50 % at the server",
                Peer::Serve(&["--loss", "50%", "--seed", "11"]),
                "ok",
                0.0,
                Some(some_timed_out),
            )
        },
        case(
            "loss 100 %",
            Peer::Proxy(&["--loss-fwd", "100%"]),
            "timeout",
            0.0,
            None,
        ),
        Case {
            n: 3,
            timeout: "1500ms",
            ..case(
                "delay 500 ms (250 ms each way)",
                Peer::Proxy(&["--fwd", "250ms", "--back", "250ms"]),
                "ok",
                0.0,
                Some(long_delay),
            )
        },
        Case {
            timeout: "1s",
            ..case(
                "asymmetric path 80 ms / 0",
                Peer::Proxy(&["--fwd", "80ms"]),
                "ok",
                0.0,
                Some(half_the_asymmetry),
            )
        },
        Case {
            n: 8,
            ..case(
                "jitter 0–50 ms each way",
                Peer::Proxy(&[
                    "--fwd-jitter",
                    "50ms",
                    "--back-jitter",
                    "50ms",
                    "--seed",
                    "2",
                ]),
                "ok",
                0.0,
                None,
            )
        },
        case(
            "duplicates 100 % (path)",
            Peer::Proxy(&["--duplicate", "100%"]),
            "ok",
            0.0,
            Some(duplicates_late),
        ),
        case(
            "duplicates 100 % (server)",
            Peer::Serve(&["--duplicate", "1"]),
            "ok",
            0.0,
            Some(duplicates_late),
        ),
        Case {
            n: 8,
            ..case(
                "reordering 50 % (held 30 ms)",
                Peer::Proxy(&["--reorder", "50%", "--reorder-delay", "30ms", "--seed", "4"]),
                "ok",
                0.0,
                None,
            )
        },
        case(
            "truncated replies (40 bytes)",
            Peer::Serve(&["--truncate", "40"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "garbage replies",
            Peer::Serve(&["--garbage", "100%"]),
            "timeout",
            0.0,
            None,
        ),
        case(
            "forged reply before each real one",
            Peer::Serve(&["--wrong-origin"]),
            "ok",
            0.0,
            Some(forged_dropped),
        ),
        case(
            "wrong mode 3 (client)",
            Peer::Serve(&["--mode", "3"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "wrong mode 5 (broadcast)",
            Peer::Serve(&["--mode", "5"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "wrong version 1",
            Peer::Serve(&["--version", "1"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "wrong version 5",
            Peer::Serve(&["--version", "5"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "version 3 (accepted)",
            Peer::Serve(&["--version", "3"]),
            "ok",
            0.0,
            None,
        ),
        case(
            "KoD RATE",
            Peer::Serve(&["--kod", "RATE"]),
            "kod",
            0.0,
            Some(sent_once),
        ),
        case(
            "KoD DENY",
            Peer::Serve(&["--kod", "DENY"]),
            "kod",
            0.0,
            Some(sent_once),
        ),
        case(
            "KoD RSTR",
            Peer::Serve(&["--kod", "RSTR"]),
            "kod",
            0.0,
            Some(sent_once),
        ),
        case(
            "KoD INIT (informational)",
            Peer::Serve(&["--kod", "INIT"]),
            "kod",
            0.0,
            Some(sent_all),
        ),
        case(
            "stratum 0 (refid SKEW: a KoD)",
            Peer::Serve(&["--stratum", "0"]),
            "kod",
            0.0,
            Some(sent_all),
        ),
        case(
            "LI = 3 (alarm)",
            Peer::Serve(&["--leap", "alarm"]),
            "unsynchronized",
            0.0,
            None,
        ),
        case(
            "stratum 16",
            Peer::Serve(&["--stratum", "16"]),
            "unsynchronized",
            0.0,
            None,
        ),
        case(
            "zero transmit timestamp",
            Peer::Serve(&["--zero-transmit"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "root dispersion 20 s",
            Peer::Serve(&["--root-dispersion", "20"]),
            "invalid",
            0.0,
            None,
        ),
        case(
            "server holds replies 150 ms",
            Peer::Serve(&["--hold", "150ms"]),
            "ok",
            0.0,
            None,
        ),
        case(
            "lying path (proxy --shift -1.25 s)",
            Peer::Proxy(&["--shift", "-1.25"]),
            "ok",
            -1.25,
            None,
        ),
        // chronyd's token bucket is coarse: requests 150 ms apart sometimes all pass a 0.5 s
        // average limit. Ten requests 20 ms apart cannot.
        Case {
            n: 10,
            interval: "20ms",
            ..case(
                "chronyd rate limit (ratelimit interval -1 burst 1 leak 0)",
                Peer::Chronyd(&["local stratum 8", "ratelimit interval -1 burst 1 leak 0"]),
                "ok",
                0.0,
                Some(some_timed_out),
            )
        },
        Case {
            n: 8,
            interval: "100ms",
            timeout: "250ms",
            ..case(
                "server restarted mid-run",
                Peer::Restarted(&["--offset", "0.05"]),
                "ok",
                0.05,
                Some(both_lives),
            )
        },
        case(
            "nothing listening (ICMP port unreachable)",
            Peer::DeadPort,
            "unreachable",
            0.0,
            None,
        ),
        case(
            "DNS failure (unresolvable name)",
            Peer::Unresolvable,
            "unresolved",
            0.0,
            None,
        ),
        case(
            "IPv6 (skew serve on ::1, +0.125 s)",
            Peer::ServeV6(&["--offset", "0.125"]),
            "ok",
            0.125,
            None,
        ),
        case(
            "IPv6 proxy with 10 ms each way",
            Peer::ProxyV6(&["--fwd", "10ms", "--back", "10ms"]),
            "ok",
            0.0,
            None,
        ),
        // Issue 14.8: six samples 40 ms apart, the step 120 ms after the server starts, so
        // that samples fall on both sides of it. The truth is the server's clock at the best
        // sample (see `stepping`), not `truth_s`.
        Case {
            n: 6,
            interval: "40ms",
            ..case(
                "server steps 1.5 half-widths between samples",
                Peer::Stepping {
                    after: "120ms",
                    step: StepSize::HalfWidths(1.5),
                },
                "ok",
                0.0,
                None,
            )
        },
        Case {
            n: 6,
            interval: "40ms",
            ..case(
                "server steps +1 ms between samples",
                Peer::Stepping {
                    after: "120ms",
                    step: StepSize::Seconds(0.001),
                },
                "ok",
                0.0,
                None,
            )
        },
        // Issue 14.3: the server never answers; 3 senders flood the probe's port with
        // forged replies from its address.
        case(
            "flood of forged replies (3 senders, ≤ 3 s)",
            Peer::Flooded,
            "timeout",
            0.0,
            Some(flood_reached),
        ),
    ]
}

/// What was observed for one case.
#[derive(Debug, Default)]
struct Row {
    fault: String,
    peer: String,
    expect: String,
    status: String,
    counts: String,
    offset: String,
    truth_in_bound: String,
    neighbour: String,
    elapsed_s: f64,
    deadline_s: f64,
    problems: Vec<String>,
}

fn dur_s(text: &str) -> f64 {
    skew_time::parse_duration(text).unwrap().as_secs_f64()
}

fn daemon(args: &[&str]) -> SkewDaemon {
    SkewDaemon::start(Path::new(skew_bin()), args).unwrap_or_else(|e| panic!("{e}"))
}

fn with_listen<'a>(cmd: &'a str, listen: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd, "--listen", listen];
    v.extend_from_slice(extra);
    v
}

/// Checks a result's bound against the truth, if it has one: `None` without a bound.
fn bound_holds(p: &Value, truth: f64) -> Option<bool> {
    let lo = p["bound_lo_s"].as_f64()?;
    let hi = p["bound_hi_s"].as_f64()?;
    Some(lo <= truth && truth <= hi)
}

/// Local Unix time now, ns.
fn unix_ns_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Half the width of the hard bound of an honest `skew serve` on loopback (4 samples), s:
/// the unit of [`StepSize::HalfWidths`].
fn loopback_half_width_s() -> f64 {
    let d = daemon(&["serve", "--listen", "127.0.0.1:0"]);
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            "4",
            "--interval",
            "20ms",
            "--timeout",
            "300ms",
            &d.arg(),
        ],
        Duration::from_secs(30),
    );
    let p = &probes(&out.json())[0];
    let hw = (f(p, "bound_hi_s") - f(p, "bound_lo_s")) / 2.0;
    assert!(hw > 0.0 && hw < 1e-3, "half-width {hw} s: {p}");
    hw
}

/// Starts `skew serve --step-after AFTER --step S` and returns it, its peer description and
/// what is known of its step.
fn start_stepping(
    after: &str,
    step: StepSize,
    half_width_s: f64,
) -> (SkewDaemon, String, Stepping) {
    let step_s = match step {
        StepSize::HalfWidths(k) => k * half_width_s,
        StepSize::Seconds(s) => s,
    };
    let step_ns = (step_s * 1e9).round() as i64;
    let step_arg = (step_ns as f64 / 1e9).to_string();
    let after_ns = skew_time::parse_duration(after).unwrap().as_nanos() as i64;
    let spawned_ns = unix_ns_now();
    let d = daemon(&with_listen(
        "serve",
        "127.0.0.1:0",
        &["--step-after", after, "--step", &step_arg],
    ));
    let ready_ns = unix_ns_now();
    let peer = format!("skew serve --step-after {after} --step {step_arg}");
    let truth = Stepping {
        step_s: step_ns as f64 / 1e9,
        at_lo_ns: spawned_ns + after_ns,
        at_hi_ns: ready_ns + after_ns,
    };
    (d, peer, truth)
}

/// The truth-in-bound column and check for a server whose offset is `truth_s` all along.
fn check_fixed_truth(row: &mut Row, p: &Value, truth_s: f64) {
    match bound_holds(p, truth_s) {
        Some(true) => row.truth_in_bound = "yes".into(),
        Some(false) => {
            row.truth_in_bound = "**no**".into();
            row.problems.push(format!(
                "bound [{}, {}] misses the true offset {truth_s}",
                p["bound_lo_s"], p["bound_hi_s"]
            ));
        }
        None => row.truth_in_bound = "– (no bound)".into(),
    }
}

fn run_case(c: &Case, healthy: &Chronyd, half_width_s: f64) -> Row {
    let mut row = Row {
        fault: c.fault.into(),
        expect: c.expect.into(),
        ..Row::default()
    };
    let upstream = healthy.arg();
    let mut neighbour = healthy.arg();
    // Keep whatever serves the case alive until the probe ends.
    let mut keep: Vec<SkewDaemon> = Vec::new();
    let mut own_chronyd: Option<Chronyd> = None;
    let mut restarter: Option<thread::JoinHandle<Option<SkewDaemon>>> = None;
    let mut resolver = 0.0;
    let mut stepping: Option<Stepping> = None;
    let mut silent: Option<UdpSocket> = None;
    let (target, peer) = match c.peer {
        Peer::Serve(a) => {
            let d = daemon(&with_listen("serve", "127.0.0.1:0", a));
            let t = d.arg();
            keep.push(d);
            (t, format!("skew serve {}", a.join(" ")))
        }
        Peer::ServeV6(a) => {
            let d = daemon(&with_listen("serve", "[::1]:0", a));
            let t = d.arg();
            keep.push(d);
            neighbour = healthy.addr_v6().to_string();
            (t, format!("skew serve --listen [::1]:0 {}", a.join(" ")))
        }
        Peer::Proxy(a) | Peer::ProxyV6(a) => {
            let listen = if matches!(c.peer, Peer::ProxyV6(_)) {
                neighbour = healthy.addr_v6().to_string();
                "[::1]:0"
            } else {
                "127.0.0.1:0"
            };
            let mut args = with_listen("proxy", listen, &["--upstream", &upstream]);
            args.extend_from_slice(a);
            let d = daemon(&args);
            let t = d.arg();
            keep.push(d);
            (
                t,
                format!("skew proxy --listen {listen} {} → chronyd", a.join(" ")),
            )
        }
        Peer::Chronyd(lines) => {
            let ch = Chronyd::start(lines, &[], skew_testkit::chrony::Ready::Answers)
                .unwrap_or_else(|e| panic!("{e}"));
            // chronyd's readiness check took a request: let its rate limit refill.
            thread::sleep(Duration::from_millis(600));
            let t = ch.arg();
            own_chronyd = Some(ch);
            (t, format!("chronyd: {}", lines.join("; ")))
        }
        Peer::Restarted(a) => {
            let port = free_udp_port();
            let listen = format!("127.0.0.1:{port}");
            let mut first = with_listen("serve", &listen, a);
            first.extend_from_slice(&["--max-requests", "2"]);
            let d = daemon(&first);
            let args: Vec<String> = with_listen("serve", &listen, a)
                .into_iter()
                .map(String::from)
                .collect();
            restarter = Some(thread::spawn(move || {
                d.wait(Duration::from_secs(10))?;
                thread::sleep(Duration::from_millis(300));
                let a: Vec<&str> = args.iter().map(String::as_str).collect();
                Some(daemon(&a))
            }));
            (
                listen,
                format!(
                    "skew serve {} --max-requests 2, restarted on its port 300 ms after",
                    a.join(" ")
                ),
            )
        }
        Peer::DeadPort => {
            let port = free_udp_port();
            (format!("127.0.0.1:{port}"), "a free port".into())
        }
        Peer::Unresolvable => {
            resolver = RESOLVER_ALLOWANCE_S;
            (
                "nonexistent.invalid:123".into(),
                "name under .invalid (RFC 6761)".into(),
            )
        }
        Peer::Stepping { after, step } => {
            let (d, peer, truth) = start_stepping(after, step, half_width_s);
            let t = d.arg();
            keep.push(d);
            stepping = Some(truth);
            (t, peer)
        }
        Peer::Flooded => {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            let t = sock.local_addr().unwrap().to_string();
            silent = Some(sock);
            neighbour = healthy.addr_v6().to_string();
            (
                t,
                format!(
                    "a silent socket on 127.0.0.1; {FLOOD_SENDERS} threads send forged replies from its address to the probe's port; neighbour on [::1]"
                ),
            )
        }
    };
    row.peer = peer;
    row.deadline_s = START_ALLOWANCE_S
        + resolver
        + f64::from(c.n - 1) * dur_s(c.interval).max(dur_s(c.timeout))
        + dur_s(c.timeout);
    let n = c.n.to_string();
    let t0 = Instant::now();
    let probe = spawn_skew(
        &[
            "probe",
            "--json",
            "-n",
            &n,
            "--interval",
            c.interval,
            "--timeout",
            c.timeout,
            &target,
            &neighbour,
        ],
        &[],
    );
    let flood = silent.as_ref().map(|sock| {
        let client = format!("127.0.0.1:{}", wait_udp_port_of(probe.pid()));
        Flood::start(sock, &client, FLOOD_SENDERS, FLOOD_MAX, FLOOD_MAX_EACH)
    });
    let out = probe.wait(Duration::from_secs(60));
    row.elapsed_s = t0.elapsed().as_secs_f64();
    let forged = flood.map(Flood::stop);
    if let Some(h) = restarter {
        if let Some(d) = h.join().unwrap() {
            keep.push(d);
        }
    }
    drop(keep);
    drop(own_chronyd);
    let v = out.json();
    let ps = probes(&v);
    let (p, h) = (&ps[0], &ps[1]);
    row.status = p["status"].as_str().unwrap_or("?").to_string();
    if let Some(k) = p["kiss_code"].as_str() {
        row.status = format!("{} {k}", row.status);
    }
    let drops: Vec<String> = p["dropped"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
        .unwrap_or_default();
    row.counts = format!(
        "{}/{}/{}{}",
        u(p, "sent"),
        u(p, "answered"),
        u(p, "timeouts"),
        if drops.is_empty() {
            String::new()
        } else {
            format!("; {}", drops.join(", "))
        }
    );
    if let Some(n) = forged {
        row.counts.push_str(&format!(" (of {n} forged)"));
    }
    row.offset = match p["offset_s"].as_f64() {
        Some(o) => format!("{o:+.6} ({:+})", c.truth_s),
        None => format!("– ({:+})", c.truth_s),
    };
    // The checks.
    if p["status"] != c.expect {
        row.problems.push(format!(
            "status {} expected {}: {}",
            p["status"], c.expect, p["error"]
        ));
    }
    if let Some(st) = stepping {
        let v = st.verdict(p);
        row.offset = match p["offset_s"].as_f64() {
            Some(o) => format!("{o:+.6} ({})", v.truth),
            None => format!("– ({})", v.truth),
        };
        row.truth_in_bound = v.in_bound;
        row.problems.extend(v.problems);
    } else {
        check_fixed_truth(&mut row, p, c.truth_s);
    }
    if row.elapsed_s > row.deadline_s {
        row.problems.push(format!(
            "took {:.2} s, deadline {:.2} s",
            row.elapsed_s, row.deadline_s
        ));
    }
    if let Some(check) = c.check {
        if let Err(e) = check(p) {
            row.problems.push(e);
        }
    }
    let neighbour_ok = h["status"] == "ok"
        && u(h, "answered") == u(h, "sent")
        && u(h, "sent") == u64::from(c.n)
        && u(h, "timeouts") == 0
        && h["dropped"].as_object().is_none_or(|m| m.is_empty())
        && bound_holds(h, 0.0) == Some(true);
    row.neighbour = if neighbour_ok {
        format!("ok {}/{}", u(h, "answered"), u(h, "sent"))
    } else {
        row.problems
            .push(format!("healthy neighbour affected: {h}"));
        format!("**{}**", h["status"])
    };
    if !row.problems.is_empty() {
        row.problems.push(format!("probe entry: {p}"));
    }
    row
}

fn render(rows: &[Row], total_s: f64, half_width_s: f64) -> String {
    let mut md = String::from(
        "# Fault matrix\n\n\
         Generated by `crates/skew-cli/tests/integration/fault_matrix.rs` from a real run \
         (`SKEW_FAULT_MATRIX=$PWD/docs/fault-matrix.md cargo test -p skew --test integration fault_matrix::`). \
         Each row is one `skew probe --json` run with the faulty server first and a healthy \
         chronyd (serving this machine's clock) second, all rows concurrently except the flood, \
         which runs alone after them (its senders take both cores). Samples: 4, \
         `--interval 20ms --timeout 300ms` unless the deadline says otherwise. \
         **Counts** are the faulty server's sent / answered / timed-out requests and its \
         dropped datagrams by reason. **Offset** is the measured offset with the true one in \
         parentheses; **truth in bound** checks the hard bound of every result that has one \
         (for a server that steps, against its clock at the best sample: see below). \
         **Neighbour** is the healthy chronyd in the same run (answered / sent). **Time** is \
         the run's wall time against its deadline: (samples − 1) × max(interval, timeout) + \
         timeout + 1.5 s to start (+ 5 s for the resolver).\n\n\
         | # | fault | faulty peer | expected | observed | counts | offset s (truth) | truth in bound | neighbour | time s (deadline) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, r) in rows.iter().enumerate() {
        let observed = if r.problems.is_empty() {
            format!("{} ✓", r.status)
        } else {
            format!("**{}** ✗", r.status)
        };
        md.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | {} | {} | {} | {} | {:.2} ({:.2}) |\n",
            i + 1,
            r.fault,
            r.peer,
            r.expect,
            observed,
            r.counts,
            r.offset,
            r.truth_in_bound,
            r.neighbour,
            r.elapsed_s,
            r.deadline_s
        ));
    }
    let failed = rows.iter().filter(|r| !r.problems.is_empty()).count();
    md.push_str(&format!(
        "\n{} cases, {} as expected, {failed} not; whole matrix {total_s:.1} s wall time ({PARALLEL} cases at a time on {} cores).\n",
        rows.len(),
        rows.len() - failed,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    md.push_str(&format!(
        "\n## Reading the matrix\n\n\
         * **`timeout` or `invalid`.** A datagram that cannot be ours (its origin is not our \
         nonce: garbage, forgeries) is dropped and the exchange waits on, so a server sending \
         only garbage ends `timeout`. A reply from the server's address that echoes our nonce \
         but fails a check (truncated, wrong mode or version) is also dropped, but remembered: \
         the exchange ends `invalid` with that reason. A reply that answers us with unusable \
         content (zero transmit timestamp, root distance ≥ 16 s) ends it `invalid` at once.\n\
         * **Kiss-o'-Death.** RATE, DENY and RSTR stop every request to the server after the \
         first (sent = 1); other codes (INIT, or a stratum-0 reply whose reference ID is not a \
         known code, here `SKEW`) are reported as `kod` and probing goes on.\n\
         * **Loss, jitter, reordering, a restart, a rate-limiting chronyd.** `ok` as long as \
         one exchange succeeded; the others show as timeouts in the counts (and as a warning in \
         the output). The seeds are fixed, so the loss cases repeat.\n\
         * **Asymmetry** moves the offset by half the difference between the directions (80 ms \
         one way: +40 ms); the hard bound still holds the truth. A **lying path** (`skew proxy \
         --shift`) is measured as the server's offset: no client can tell it from a lying \
         server, which is why the truth of that row is the shift.\n\
         * **A server that steps between samples** (`--step-after 120ms`, six samples 40 ms \
         apart, issue 14.8). A half-width is half the hard bound of an honest `skew serve` on \
         loopback, measured before the rows: {hw_us:.3} µs in this run. The hard bound is the \
         best sample's own interval, so it must hold the server's clock at that sample: 0 \
         before the step, the step after it. The server reads its start right before \
         binding, so the step's instant is known to lie between the test's spawning it and \
         seeing it ready (± 1 ms); a sample is *before* (or *after*) the step when its whole \
         exchange, T1 to T4, is, and *at* it otherwise, when either clock is accepted. The \
         joint bound (`joint_lo_s`/`joint_hi_s`, the intersection of all samples) assumes no \
         step: it may be absent (`bound_consistent: false`) or miss both clocks, but when \
         present it must lie inside the hard bound, and it must be absent when samples on \
         the two sides of the step are each narrower than the step (the 1 ms row).\n\
         * **A flood of forged replies** (issue 14.3): {FLOOD_SENDERS} threads send forged \
         server replies (mode 4, wrong origins) from the silent server's own address to the \
         probe's port, each for at most {flood_s} s and {FLOOD_MAX_EACH} datagrams, stopped \
         when the probe ends. Every one read is dropped as `origin_mismatch`; the run must \
         still end by its deadline. The neighbour is chronyd's [::1], so its replies arrive \
         on the probe's other socket and the flood cannot fill that socket's buffer.\n\
         * **Neighbour**: in every run the healthy chronyd answered every request with no \
         drop and a bound holding 0, whatever the faulty server beside it did.\n",
        hw_us = half_width_s * 1e6,
        flood_s = FLOOD_MAX.as_secs(),
    ));
    md
}

#[test]
fn fault_matrix() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let healthy = Chronyd::server();
    let half_width_s = loopback_half_width_s();
    let cases = cases();
    let rows: Vec<Mutex<Option<Row>>> = cases.iter().map(|_| Mutex::new(None)).collect();
    // The flood runs alone after the others: its senders take both cores.
    let (alone, together): (Vec<usize>, Vec<usize>) =
        (0..cases.len()).partition(|&i| matches!(cases[i].peer, Peer::Flooded));
    let next = AtomicUsize::new(0);
    let t0 = Instant::now();
    thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = together.get(k) else { break };
                let row = run_case(&cases[i], &healthy, half_width_s);
                *rows[i].lock().unwrap() = Some(row);
            });
        }
    });
    for i in alone {
        *rows[i].lock().unwrap() = Some(run_case(&cases[i], &healthy, half_width_s));
    }
    let total_s = t0.elapsed().as_secs_f64();
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|m| m.into_inner().unwrap().expect("every case ran"))
        .collect();
    let md = render(&rows, total_s, half_width_s);
    let path = std::env::var_os("SKEW_FAULT_MATRIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fault-matrix.md"));
    std::fs::write(&path, &md).unwrap();
    println!("{md}\n(written to {})", path.display());
    let problems: Vec<String> = rows
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| format!("{}:\n  {}", r.fault, r.problems.join("\n  ")))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
