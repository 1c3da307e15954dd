//! `skew monitor`, `skew check` and `skew now` end to end, against real chronyd peers and
//! real Prometheus tools on loopback.

use crate::common::*;
use skew_driftlog::read_log;
use skew_testkit::{free_tcp_port, free_udp_port, http_get, Chronyd, Spawned};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-monitor-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fast() -> Vec<&'static str> {
    // The leap-seconds list has its own test below: the one installed here has expired,
    // which (rightly) makes every run a WARNING. So does this machine's kernel clock, which
    // nothing disciplines (TIME_ERROR, STA_UNSYNC): these tests are about other verdicts,
    // so they run as on a host meant to run free; `kernel_sync_is_judged` below and
    // sandbox.rs test the kernel's part.
    vec![
        "--no-kernel-sync",
        "-n",
        "2",
        "--interval",
        "10ms",
        "--timeout",
        "300ms",
        "--clock-duration",
        "100ms",
        "--no-leap",
    ]
}

fn monitor(args: &[&str]) -> Output {
    let mut a = vec!["monitor"];
    a.extend(fast());
    a.extend_from_slice(args);
    run_skew(&a, Duration::from_secs(30))
}

#[test]
fn writes_log_prom_and_state_and_prints_nagios_line() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("basic");
    let log = d.join("logs/drift.csv");
    let prom = d.join("textfile/skew.prom");
    let state = d.join("state/state.json");
    let out = monitor(&[
        "--log",
        log.to_str().unwrap(),
        "--prom",
        prom.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--min-agree",
        "1",
        &c.arg(),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("SKEW OK: offset "), "{}", out.stdout);
    assert!(
        out.stdout.contains(" 1/1 servers|offset="),
        "{}",
        out.stdout
    );
    let r = read_log(&log).unwrap();
    let kinds: Vec<String> = r.rows.iter().map(|(_, x)| x.kind.to_string()).collect();
    assert_eq!(kinds, vec!["ntp", "agreement", "clock"]);
    let ntp = &r.rows[0].1;
    assert_eq!(ntp.status.as_deref(), Some("ok"));
    assert!(ntp.offset_s.unwrap().abs() < 100e-6);
    assert!(ntp.bound_lo_s.unwrap() <= 0.0 && 0.0 <= ntp.bound_hi_s.unwrap());
    assert!(
        ntp.run_time.ends_with('Z') && ntp.run_time.len() == 30,
        "{}",
        ntp.run_time
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("skew_ntp_offset_seconds{server=\""));
    assert!(text.contains("skew_last_run_timestamp_seconds "));
    assert!(state.exists());
}

#[test]
fn promtool_accepts_metrics_and_alert_rules() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("promtool");
    let c = Chronyd::server();
    let d = tmpdir("promtool");
    let prom = d.join("skew.prom");
    let out = monitor(&[
        "--prom",
        prom.to_str().unwrap(),
        "--state",
        d.join("s.json").to_str().unwrap(),
        &c.arg(),
        "127.0.0.1:1",
    ]);
    assert!(prom.exists(), "{}", out.stderr);
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
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/prometheus-alerts.yml"
    );
    let check = Command::new("promtool")
        .args(["check", "rules", rules])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Each rule's behaviour: examples/prometheus-alerts.test.yml (clock not synchronising,
    // clock stepped, kernel state unreadable).
    let tests = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/prometheus-alerts.test.yml"
    );
    let test = Command::new("promtool")
        .args(["test", "rules", tests])
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "promtool test rules: {}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    let text = std::fs::read_to_string(tests).unwrap();
    for alert in [
        "ClockNotSynchronising",
        "ClockStepped",
        "ClockStateUnreadable",
    ] {
        assert!(
            text.contains(&format!("alertname: {alert}")),
            "{alert} has no promtool test"
        );
    }
}

#[test]
fn node_exporter_serves_our_metrics() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("prometheus-node-exporter");
    let c = Chronyd::server();
    let d = tmpdir("node-exporter");
    let textdir = d.join("textfile");
    let out = monitor(&[
        "--prom",
        textdir.join("skew.prom").to_str().unwrap(),
        "--min-agree",
        "1",
        &c.arg(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let port = free_tcp_port();
    let mut ne = Spawned::spawn(
        "node_exporter",
        Command::new("prometheus-node-exporter")
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!(
                "--collector.textfile.directory={}",
                textdir.display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .unwrap();
    let t0 = Instant::now();
    let body = loop {
        if let Ok(b) = http_get(port, "/metrics") {
            if b.contains("skew_ntp_up") {
                break b;
            }
        }
        assert!(!ne.has_exited(), "node_exporter exited");
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "node_exporter did not serve our metrics"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        body.contains(&format!(
            "skew_ntp_up{{address=\"{}\",server=\"{}\"}} 1",
            c.arg(),
            c.arg()
        )),
        "{body}"
    );
    assert!(body.contains("skew_agreement_majority 1"));
    assert!(
        body.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "{body}"
    );
}

#[test]
fn overlapping_runs_never_interleave() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("overlap");
    let log = d.join("drift.csv");
    let servers: Vec<String> = (0..3).map(|_| c.arg()).collect();
    let mut children = Vec::new();
    for i in 0..6 {
        let host = format!("run{i}");
        let mut cmd = Command::new(skew_bin());
        cmd.args([
            "monitor",
            "-n",
            "3",
            "--interval",
            "20ms",
            "--clock-duration",
            "10ms",
            "--no-leap",
            "--host",
            &host,
            "--log",
            log.to_str().unwrap(),
        ])
        .args(&servers)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        children.push(Spawned::spawn("skew monitor", &mut cmd).unwrap());
    }
    for ch in &mut children {
        assert!(ch.wait_timeout(Duration::from_secs(30)).is_some());
    }
    let r = read_log(&log).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(
        r.rows.len(),
        6 * 5,
        "3 ntp + agreement + clock rows per run"
    );
    // Each run's rows are contiguous.
    let hosts: Vec<String> = r.rows.iter().map(|(_, x)| x.host.clone()).collect();
    for chunk in hosts.chunks(5) {
        assert!(
            chunk.iter().all(|h| h == &chunk[0]),
            "interleaved: {hosts:?}"
        );
    }
    let mut distinct: Vec<&String> = hosts.iter().step_by(5).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6);
}

#[test]
fn kill_9_leaves_a_log_that_parses() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("kill9");
    let log = d.join("drift.csv");
    let log_s = log.to_str().unwrap().to_string();
    let mut complete = 0;
    for i in 0..8u64 {
        // A run that completes, then one killed at a varying moment.
        let out = monitor(&["--log", &log_s, "--min-agree", "1", &c.arg()]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        complete += 1;
        let mut cmd = Command::new(skew_bin());
        cmd.args([
            "monitor",
            "-n",
            "2",
            "--interval",
            "10ms",
            "--clock-duration",
            "10ms",
            "--log",
            &log_s,
            &c.arg(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut ch = Spawned::spawn("skew monitor", &mut cmd).unwrap();
        std::thread::sleep(Duration::from_millis(3 + 4 * i));
        ch.signal(nix::sys::signal::Signal::SIGKILL);
        ch.wait_timeout(Duration::from_secs(5));
    }
    // A torn line, as a kill in the middle of the write would leave.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"1,2026-11-27T00:00:00.000000000Z,host,ntp,torn")
            .unwrap();
    }
    let r = read_log(&log).unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let before = r.rows.len();
    assert!(before >= complete * 3);
    // The next run repairs the tail and loses no complete row.
    let out = monitor(&["--log", &log_s, "--min-agree", "1", &c.arg()]);
    assert_eq!(out.code, 0);
    let r = read_log(&log).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.rows.len(), before + 3);
}

#[test]
fn unwritable_outputs_exit_3_with_the_reason() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("unwritable");
    let file = d.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    for (flag, path) in [
        ("--log", file.join("drift.csv")),
        ("--log", PathBuf::from("/dev/full")),
        ("--prom", file.join("skew.prom")),
        ("--state", file.join("s.json")),
    ] {
        let out = monitor(&[flag, path.to_str().unwrap(), "--min-agree", "1", &c.arg()]);
        assert_eq!(out.code, 3, "{flag} {path:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.starts_with("SKEW UNKNOWN: "), "{}", out.stdout);
        assert!(
            out.stdout.contains(path.to_str().unwrap()) || out.stdout.contains("/dev/full"),
            "{}",
            out.stdout
        );
    }
    // A bad configuration file is UNKNOWN too, naming the file and the key.
    let conf = d.join("bad.toml");
    std::fs::write(&conf, "servrs = [\"x\"]\n").unwrap();
    let out = monitor(&["--config", conf.to_str().unwrap()]);
    assert_eq!(out.code, 3);
    assert!(
        out.stderr.contains("bad.toml") && out.stderr.contains("servrs"),
        "{}",
        out.stderr
    );
    // ...and Nagios gets its line (issue 13.5).
    assert!(
        out.stdout.starts_with("SKEW UNKNOWN: ") && out.stdout.contains("servrs"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
}

#[test]
fn thresholds_give_each_exit_code() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let truth = Chronyd::server();
    let f = Chronyd::follower(truth.port, "0.25");
    let s = f.arg();
    let code = |extra: &[&str]| {
        let mut a = vec!["--min-agree", "1"];
        a.extend_from_slice(extra);
        a.push(&s);
        let out = monitor(&a);
        (out.code, out.stdout)
    };
    let (c, line) = code(&[]);
    assert_eq!(c, 1, "0.25 s > default warn 0.1 s: {line}");
    assert!(line.starts_with("SKEW WARNING: offset +0.2"), "{line}");
    assert_eq!(code(&["-w", "0.3", "-c", "1"]).0, 0);
    assert_eq!(code(&["-w", "100ms", "-c", "200ms"]).0, 2);
    assert_eq!(
        code(&["-w", "1", "-c", "2", "--warn-bound", "0.000001"]).0,
        1,
        "bound width"
    );
    // A dead server only: CRITICAL, no server answered.
    let out = monitor(&[&format!("127.0.0.1:{}", free_udp_port())]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("no server answered"), "{}", out.stdout);
}

/// This machine's kernel, read for real: when nothing disciplines it (as on this machine
/// kind: TIME_ERROR, STA_UNSYNC) a run is a WARNING that says so, and `--no-kernel-sync`
/// turns that off; a disciplined kernel gives no such reason.
#[test]
fn kernel_sync_is_judged() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let synced = skew_clock::adjtimex::kernel_state()
        .expect("adjtimex(modes = 0)")
        .synchronized;
    let server = c.arg();
    let base = [
        "-n",
        "1",
        "--clock-duration",
        "50ms",
        "--no-leap",
        "--min-agree",
        "1",
        &server,
    ];
    let mut a = vec!["monitor"];
    a.extend(base);
    let out = run_skew(&a, Duration::from_secs(20));
    let clause = "(kernel clock unsynchronized (TIME_ERROR): nothing disciplines it)|";
    if synced {
        assert_eq!(out.code, 0, "{}", out.stdout);
        assert!(!out.stdout.contains("unsynchronized"), "{}", out.stdout);
    } else {
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(out.stdout.contains(clause), "{}", out.stdout);
        let mut a = vec!["check"];
        a.extend(base);
        let out = run_skew(&a, Duration::from_secs(20));
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(
            out.stdout.contains("will drift freely")
                && out.stdout.contains("  - kernel clock unsynchronized"),
            "{}",
            out.stdout
        );
    }
    let mut a = vec!["monitor", "--no-kernel-sync"];
    a.extend(base);
    let out = run_skew(&a, Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn check_reports_for_a_person_and_writes_nothing() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let out = run_skew(
        &[
            "check",
            "-n",
            "2",
            "--interval",
            "10ms",
            "--timeout",
            "300ms",
            "--min-agree",
            "1",
            "--no-leap",
            "--no-kernel-sync",
            &c.arg(),
            &dead,
        ],
        Duration::from_secs(20),
    );
    assert_eq!(
        out.code, 1,
        "one agreeing server is enough with --min-agree 1; the dead one is a WARNING: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout
            .contains("1 of 2 servers answered (1 unreachable)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("NTP servers (from the command line)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("unreachable"),
        "the unreachable server is reported: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Local clock:"),
        "local checks still run: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Verdict: SKEW WARNING"),
        "{}",
        out.stdout
    );
    // Only an unreachable server: the local checks still run, the verdict is CRITICAL.
    let out = run_skew(
        &["check", "-n", "1", "--timeout", "200ms", &dead],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.contains("Local clock:") && out.stdout.contains("no server answered"),
        "{}",
        out.stdout
    );
}

#[test]
fn config_file_is_used_and_flags_override_it() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("config");
    let log = d.join("from-config.csv");
    let conf = d.join("skew.toml");
    std::fs::write(
        &conf,
        format!(
            "servers = [\"{}\"]\nsamples = 3\ninterval = \"10ms\"\nmin_agree = 1\nlog = \"{}\"\n[thresholds]\nwarn = \"1ns\"\ncrit = \"1s\"\n[clock]\nduration = \"50ms\"\nkernel_sync = false\n[leap]\nenabled = false\n",
            c.arg(),
            log.display()
        ),
    )
    .unwrap();
    let out = run_skew(
        &["monitor", "--config", conf.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 1, "warn 1ns from the file: {}", out.stdout);
    assert_eq!(read_log(&log).unwrap().rows.len(), 3);
    let out = run_skew(
        &["monitor", "--config", conf.to_str().unwrap(), "-w", "1"],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 0, "the flag overrides the file: {}", out.stdout);
}

/// A chronyd serving this machine's clock and a state file measured against it by
/// `skew monitor --state` (in a fresh directory named `name`).
fn measured_state(name: &str) -> (Chronyd, PathBuf, PathBuf) {
    let c = Chronyd::server();
    let d = tmpdir(name);
    let state = d.join("state.json");
    let out = monitor(&[
        "--state",
        state.to_str().unwrap(),
        "--min-agree",
        "1",
        &c.arg(),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    (c, d, state)
}

#[test]
fn now_contains_true_time_and_goes_unknown_after_a_step() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (_c, _d, state) = measured_state("now");
    // The server serves this machine's clock: the true time is our own clock.
    for _ in 0..5 {
        let before = now_ns();
        let out = run_skew(
            &["now", "--json", "--state", state.to_str().unwrap()],
            Duration::from_secs(10),
        );
        let after = now_ns();
        assert_eq!(out.code, 0, "{}", out.stdout);
        let v = out.json();
        let (e, l) = (
            v["earliest_ns"].as_i64().unwrap(),
            v["latest_ns"].as_i64().unwrap(),
        );
        assert!(
            e <= after && before <= l,
            "[{e}, {l}] misses [{before}, {after}]"
        );
        assert!(l - e < 2_000_000, "width {} ns", l - e);
        std::thread::sleep(Duration::from_millis(100));
    }
    // A REALTIME step of +2 s (libfaketime, monotonic clocks untouched): unknown.
    let out = run_skew_env(
        &["now", "--json", "--state", state.to_str().unwrap()],
        &[
            ("LD_PRELOAD", skew_testkit::LIBFAKETIME),
            ("FAKETIME", "+2"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v = out.json();
    assert_eq!(v["status"], "unknown");
    assert!(v["earliest"].is_null());
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("stepped +1.99") || reason.contains("stepped +2.00"),
        "{v}"
    );
}

#[test]
fn now_watch_goes_unknown_after_its_own_long_pause() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (_c, d, state) = measured_state("now-watch");
    let out_path = d.join("watch.out");
    let mut cmd = Command::new(skew_bin());
    cmd.args([
        "now",
        "--state",
        state.to_str().unwrap(),
        "--watch",
        "100ms",
        "--count",
        "12",
    ])
    .stdout(std::fs::File::create(&out_path).unwrap())
    .stderr(Stdio::null());
    let mut ch = Spawned::spawn("skew now --watch", &mut cmd).unwrap();
    std::thread::sleep(Duration::from_millis(350));
    // Freeze it for 300 ms: far longer than the ~µs bound.
    ch.signal(nix::sys::signal::Signal::SIGSTOP);
    std::thread::sleep(Duration::from_millis(300));
    ch.signal(nix::sys::signal::Signal::SIGCONT);
    let st = ch.wait_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(st.code(), Some(1));
    let text = std::fs::read_to_string(&out_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    assert!(lines[0].starts_with("ok "), "{text}");
    // SIGSTOP may land during a 100 ms sleep, hiding up to 100 ms of the 300 ms pause: the
    // stall seen is between 0.2 and 0.3 s, so the pause is given as an interval that holds
    // the 300 ms whichever part was hidden (issue 13.6: "paused for 0.305 s" did not).
    assert!(lines.last().unwrap().starts_with("unknown"), "{text}");
    let (lo, hi) = paused_interval_s(&text).unwrap_or_else(|| panic!("{text}"));
    assert!(
        lo <= 0.300 && 0.300 <= hi,
        "[{lo}, {hi}] misses the 300 ms stop: {text}"
    );
    assert!(
        hi - lo <= 0.100 + 0.050,
        "[{lo}, {hi}] wider than the sleep and noise: {text}"
    );
}

/// The interval of `this process was paused for A..B` in `text`, in seconds.
fn paused_interval_s(text: &str) -> Option<(f64, f64)> {
    let rest = text.split("paused for ").nth(1)?;
    let (a, rest) = rest.split_once("..")?;
    let b = rest.split(',').next()?;
    let secs = |v: &str| -> Option<f64> {
        let v = v.trim();
        let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
            (n, 1e-3)
        } else if let Some(n) = v.strip_suffix("us") {
            (n, 1e-6)
        } else if let Some(n) = v.strip_suffix("ns") {
            (n, 1e-9)
        } else {
            (v.strip_suffix('s')?, 1.0)
        };
        num.parse::<f64>().ok().map(|x| x * scale)
    };
    Some((secs(a)?, secs(b)?))
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[test]
fn leap_list_status_reaches_the_verdict_the_log_and_the_metrics() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("leap");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");
    let fresh = fresh_leap_list(&d, "fresh.list");
    let server = c.arg();
    let run = |list: &str, log: &PathBuf, prom: &PathBuf| {
        let mut a: Vec<&str> = vec!["monitor"];
        a.extend(fast().into_iter().filter(|x| *x != "--no-leap"));
        a.extend_from_slice(&[
            "--leap-file",
            list,
            "--min-agree",
            "1",
            "--log",
            log.to_str().unwrap(),
            "--prom",
            prom.to_str().unwrap(),
            &server,
        ]);
        run_skew(&a, Duration::from_secs(30))
    };
    // A valid, current list: OK; the log's leap row and the expiry metric.
    let (log, prom) = (d.join("fresh.csv"), d.join("fresh.prom"));
    let out = run(fresh.to_str().unwrap(), &log, &prom);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let rows = read_log(&log).unwrap().rows;
    let leap = rows
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.kind == skew_driftlog::Kind::Leap)
        .expect("a leap row");
    assert_eq!(leap.status.as_deref(), Some("ok"));
    assert_eq!(leap.tai_minus_utc_s, Some(37));
    assert_eq!(leap.leap_expires.as_deref(), Some("2042-08-07"));
    assert!(std::fs::read_to_string(&prom)
        .unwrap()
        .contains("skew_leap_file_expiry_timestamp_seconds 2291011200\n"));
    // The expired list: WARNING, saying so.
    let out = run(
        &format!("{data}/leap-seconds.2025b.list"),
        &d.join("e.csv"),
        &d.join("e.prom"),
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("expired on 2026-06-28"),
        "{}",
        out.stdout
    );
    // A tampered list: CRITICAL, bad hash.
    let out = run(
        &format!("{data}/leap-seconds.tampered.list"),
        &d.join("t.csv"),
        &d.join("t.prom"),
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.contains("bad hash"), "{}", out.stdout);
    assert_eq!(
        read_log(&d.join("t.csv"))
            .unwrap()
            .rows
            .last()
            .unwrap()
            .1
            .status
            .as_deref(),
        Some("bad_hash")
    );
    // skew check shows the list's status.
    let out = run_skew(
        &[
            "check",
            "-n",
            "1",
            "--clock-duration",
            "50ms",
            "--leap-file",
            fresh.to_str().unwrap(),
            "--min-agree",
            "1",
            &c.arg(),
        ],
        Duration::from_secs(20),
    );
    assert!(
        out.stdout
            .contains("Leap seconds: list ok, expires 2042-08-07, TAI − UTC 37 s"),
        "{}",
        out.stdout
    );
}

#[test]
fn now_goes_unknown_after_a_machine_pause_recorded_by_skew_pauses() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (c, d, state) = measured_state("now-vm");
    let now = || {
        run_skew(
            &["now", "--json", "--state", state.to_str().unwrap()],
            Duration::from_secs(10),
        )
        .json()
    };
    assert_eq!(now()["status"], "ok");
    // A VM disruption the host signals through the VM generation ID (faked here, as the
    // pause detector's own tests do): a machine-wide pause of unknown length.
    let vmgenid = d.join("vmgenid");
    std::fs::write(&vmgenid, "00112233445566778899aabbccddeeff").unwrap();
    let run = spawn_skew(
        &[
            "pauses",
            "--json",
            "--duration",
            "3s",
            "--interval",
            "10ms",
            "--vmclock-path",
            "none",
            "--vmgenid-path",
            vmgenid.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
        &[],
    );
    std::thread::sleep(Duration::from_millis(1200));
    std::fs::write(&vmgenid, "ffeeddccbbaa99887766554433221100").unwrap();
    let out = run.wait(Duration::from_secs(20));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v = now();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("vm pause"), "{v}");
    // A new measurement vouches again.
    assert_eq!(
        monitor(&[
            "--state",
            state.to_str().unwrap(),
            "--min-agree",
            "1",
            &c.arg()
        ])
        .code,
        0
    );
    assert_eq!(now()["status"], "ok");
}

#[test]
fn pause_sample_reaches_the_log_the_metrics_and_the_verdict() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("pause-sample");
    let (log, prom) = (d.join("drift.csv"), d.join("skew.prom"));
    let out = monitor(&[
        "--pause",
        "--pause-duration",
        "500ms",
        "--min-agree",
        "1",
        "--log",
        log.to_str().unwrap(),
        "--prom",
        prom.to_str().unwrap(),
        &c.arg(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains(" pause_max="), "{}", out.stdout);
    let rows = read_log(&log).unwrap().rows;
    let p = rows
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.kind == skew_driftlog::Kind::Pause)
        .expect("a pause row");
    // At least one 1 ms interval: the upper bound of the smallest possible pause.
    assert!(p.pause_max_s.unwrap() >= 0.001, "{p:?}");
    assert!(p.pause_p99_s.unwrap() >= 0.0);
    assert!(p.pause_events.is_some(), "{p:?}");
    assert!(std::fs::read_to_string(&prom)
        .unwrap()
        .contains("skew_pause_max_seconds "));
    // Thresholds on the longest pause.
    let out = monitor(&[
        "--pause",
        "--pause-duration",
        "200ms",
        "--warn-pause",
        "1us",
        "--min-agree",
        "1",
        &c.arg(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("pause up to"), "{}", out.stdout);
}
