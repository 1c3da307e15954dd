//! `skew clocks` end to end: the real clocks, libfaketime moving only REALTIME for the skew
//! process (never the system clock), and a time namespace shifting MONOTONIC/BOOTTIME.

use crate::common::*;
use serde_json::Value;
use skew_testkit::{Spawned, LIBFAKETIME};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "skew-clocks-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

/// A libfaketime timestamp file, rewritten atomically (libfaketime re-reads it on every
/// clock read with FAKETIME_NO_CACHE=1).
struct FakeClock {
    path: PathBuf,
}

impl FakeClock {
    fn new(dir: &Path) -> FakeClock {
        assert!(
            Path::new(LIBFAKETIME).exists(),
            "{LIBFAKETIME} is missing: run scripts/test.sh, which installs libfaketime"
        );
        let f = FakeClock {
            path: dir.join("faketime"),
        };
        f.set("+0");
        f
    }

    fn set(&self, spec: &str) {
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, format!("{spec}\n")).unwrap();
        std::fs::rename(&tmp, &self.path).unwrap();
    }

    /// The environment that fakes REALTIME only, for the skew process alone.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", LIBFAKETIME.to_string()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
            ("FAKETIME_NO_CACHE", "1".to_string()),
            (
                "FAKETIME_TIMESTAMP_FILE",
                self.path.to_string_lossy().into_owned(),
            ),
        ]
    }

    /// Steps the faked REALTIME +2 s after `first`, then −1 s (to +1) after `first + gap`.
    fn script_steps(&self, first: Duration, gap: Duration) -> std::thread::JoinHandle<()> {
        let path = self.path.clone();
        std::thread::spawn(move || {
            let f = FakeClock { path };
            std::thread::sleep(first);
            f.set("+2");
            std::thread::sleep(gap);
            f.set("+1");
        })
    }
}

fn run_faked(fake: &FakeClock, args: &[&str], limit: Duration) -> Output {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_skew_env(args, &env, limit)
}

/// Asserts the +2 s / −1 s pair: signs, sizes within 10 ms, the backward warning, and that
/// the kernel reported no clock setting (libfaketime only fakes this process's reads).
fn assert_two_steps(steps: &[Value]) {
    assert_eq!(steps.len(), 2, "{steps:?}");
    let (a, b) = (&steps[0], &steps[1]);
    assert!((num(a, "size_s") - 2.0).abs() < 0.010, "{a}");
    assert_eq!(a["direction"], "forward");
    assert!(a["warning"].is_null());
    assert!((num(b, "size_s") + 1.0).abs() < 0.010, "{b}");
    assert_eq!(b["direction"], "backward");
    assert_eq!(
        b["warning"],
        "durations measured with time-of-day would be negative"
    );
    for s in [a, b] {
        assert_eq!(s["clock_set_seen"], false, "{s}");
        assert!(s["at"].as_str().unwrap().ends_with('Z'));
        assert!(num(s, "uncertainty_s") < 0.010, "{s}");
    }
    // The second came about a second after the first (on BOOTTIME, which is not faked).
    let gap = num(b, "elapsed_s") - num(a, "elapsed_s");
    assert!((0.7..1.5).contains(&gap), "gap {gap}");
}

/// `skew monitor` under libfaketime: the step its clock reading sees is named local to this
/// process, as `skew clocks` names it (issue 13.6), in the Nagios line and the JSON reasons.
#[test]
fn monitor_names_a_step_local_to_the_process() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = temp_dir("monitor-faked");
    let fake = FakeClock::new(&dir);
    let dead = format!("127.0.0.1:{}", skew_testkit::free_udp_port());
    let path = fake.path.clone();
    let steps = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        FakeClock { path }.set("+2");
    });
    let out = run_faked(
        &fake,
        &[
            "monitor",
            "-n",
            "1",
            "--timeout",
            "200ms",
            "--no-leap",
            "--no-kernel-sync",
            "--clock-duration",
            "2s",
            "--json",
            &dead,
        ],
        Duration::from_secs(30),
    );
    steps.join().unwrap();
    let v = out.json();
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    // The faked step is +2 s; a reading measures it within 10 ms (+1.999999 s has been seen),
    // as `assert_two_steps` allows for `skew clocks`.
    const PREFIX: &str = "the time-of-day clock stepped 1 time(s) during the run (largest +";
    let step = reasons
        .iter()
        .find(|r| r.starts_with(PREFIX))
        .unwrap_or_else(|| panic!("{reasons:?}"));
    let size_s: f64 = step[PREFIX.len()..]
        .split(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{step}"));
    assert!((size_s - 2.0).abs() < 0.01, "{step}");
    assert!(
        step.ends_with("; local to this process: the kernel reported no clock setting (a time-faking library such as libfaketime?)"),
        "{step}"
    );
    assert!(
        v["line"]
            .as_str()
            .unwrap()
            .contains("local to this process"),
        "{}",
        v["line"]
    );
    assert_eq!(
        v["report"]["clock"]["steps_local"], 1,
        "{}",
        v["report"]["clock"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn real_clocks_json_contract() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let out = run_skew(
        &["clocks", "--duration", "1s", "--json"],
        Duration::from_secs(30),
    );
    // 0 unless something really happened to this machine's clocks meanwhile.
    assert!(
        out.code == 0 || out.code == 1,
        "{}\n{}",
        out.code,
        out.stderr
    );
    let v = out.json();
    let clocks = v["clocks"].as_array().unwrap();
    let names: Vec<&str> = clocks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for n in [
        "REALTIME",
        "REALTIME_COARSE",
        "REALTIME_ALARM",
        "TAI",
        "MONOTONIC",
        "MONOTONIC_COARSE",
        "MONOTONIC_RAW",
        "BOOTTIME",
        "BOOTTIME_ALARM",
        "PROCESS_CPUTIME_ID",
        "THREAD_CPUTIME_ID",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    for c in clocks {
        if c["error"].is_null() {
            assert!(num(c, "resolution_ns") >= 1.0, "{c}");
            // A coarse clock advances by one tick of the kernel's timekeeping, which the
            // kernel's frequency correction may make a nanosecond shorter than
            // clock_getres says (3,999,999 ns for 4 ms seen here): allow 0.1 %.
            assert!(
                num(c, "measured_resolution_ns") >= num(c, "resolution_ns") * 0.999,
                "{c}"
            );
            let cost = &c["read_cost_ns"];
            assert!(
                num(cost, "min") > 0.0 && num(cost, "min") <= num(cost, "median"),
                "{c}"
            );
        } else {
            assert!(c["resolution_ns"].is_null() || c["resolution_ns"].is_number());
        }
    }
    let coarse = clocks
        .iter()
        .find(|c| c["name"] == "MONOTONIC_COARSE")
        .unwrap();
    assert!(num(coarse, "measured_resolution_ns") >= 1e6, "{coarse}");
    for key in ["realtime_vs_raw", "monotonic_vs_raw"] {
        let r = &v["rate_ppm"][key];
        assert!(num(r, "ppm").abs() < 1000.0, "{r}");
        assert!(num(r, "ci95_ppm") > 0.0 && num(r, "ci95_ppm") < 1.0, "{r}");
        assert!(r["minus_kernel_ppm"].is_number(), "{r}");
    }
    for key in [
        "state",
        "status",
        "offset_s",
        "freq_ppm",
        "maxerror_s",
        "esterror_s",
        "tai_s",
        "synchronized",
    ] {
        assert!(
            v["kernel"].get(key).is_some(),
            "kernel.{key} in {}",
            v["kernel"]
        );
    }
    assert!(v["steps"].as_array().is_some());
    // CLOCK_TAI − REALTIME is the kernel's TAI offset (0 on this machine kind: a warning).
    assert_eq!(v["tai_minus_utc_s"], v["kernel"]["tai_s"]);
    if v["kernel"]["tai_s"] == 0 {
        assert_eq!(v["tai"]["status"], "kernel_unset");
        assert!(v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("TAI offset is unset")));
    }
    // TAI − UTC from the system's leap-seconds.list (37 s since 2017) when one is installed.
    if std::path::Path::new("/usr/share/zoneinfo/leap-seconds.list").exists() {
        assert_eq!(v["tai"]["list_tai_minus_utc_s"], 37, "{}", v["tai"]);
    }
    assert!(v["suspended_s"].is_number());
    assert!(!v["clocksource"]["current"].as_str().unwrap().is_empty());
    assert_eq!(v["run"]["timerfd"], "armed");
    assert!(num(&v["run"], "samples") >= 90.0, "{}", v["run"]);
}

#[test]
fn faketime_steps_are_reported_with_sign_and_size() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = temp_dir("fake");
    let fake = FakeClock::new(&dir);
    let script = fake.script_steps(Duration::from_millis(1000), Duration::from_millis(1000));
    let out = run_faked(
        &fake,
        &["clocks", "--duration", "3s", "--no-survey", "--json"],
        Duration::from_secs(30),
    );
    script.join().unwrap();
    assert_eq!(out.code, 2, "a backward step exits 2\n{}", out.stderr);
    let v = out.json();
    assert_two_steps(v["steps"].as_array().unwrap());
    // MONOTONIC untouched: no jump, its rate against RAW is the machine's (sub-ppm here),
    // and REALTIME's rate, with the steps cut out, agrees with it.
    assert!(v["jumps"].as_array().unwrap().is_empty(), "{}", v["jumps"]);
    let mono = &v["rate_ppm"]["monotonic_vs_raw"];
    let rt = &v["rate_ppm"]["realtime_vs_raw"];
    assert!(num(mono, "ppm").abs() < 50.0, "{mono}");
    assert_eq!(mono["segments"], 1);
    assert_eq!(rt["segments"], 3);
    // (A fit bent by the +2 s step would be off by ~10⁶ ppm; libfaketime's own read
    // jitter leaves REALTIME a few tenths of a ppm of noise.)
    assert!(
        (num(rt, "ppm") - num(mono, "ppm")).abs() < 5.0,
        "{rt} vs {mono}"
    );
    // Suspend reading unaffected by REALTIME steps.
    assert!(
        num(&v["suspend"], "growth_s").abs() < 1e-3,
        "{}",
        v["suspend"]
    );
    // The kernel saw no clock setting: the second detector stays silent.
    assert!(v["clock_sets"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faketime_watch_lines_and_drift_log() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = temp_dir("watch");
    let fake = FakeClock::new(&dir);
    let log = dir.join("drift.csv");
    let log_s = log.to_string_lossy().into_owned();
    let script = fake.script_steps(Duration::from_millis(1300), Duration::from_millis(1000));
    let out = run_faked(
        &fake,
        &[
            "clocks",
            "--watch",
            "--interval",
            "1s",
            "--duration",
            "3.5s",
            "--json",
            "--csv",
            &log_s,
        ],
        Duration::from_secs(30),
    );
    script.join().unwrap();
    assert_eq!(out.code, 2, "{}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        lines.len(),
        4,
        "three full intervals and the last half\n{}",
        out.stdout
    );
    let steps: Vec<Value> = lines
        .iter()
        .flat_map(|l| l["steps"].as_array().unwrap().clone())
        .collect();
    assert_two_steps(&steps);
    assert_eq!(lines[0]["steps"].as_array().unwrap().len(), 0);
    // Wall − RAW since the start: 0, then +2 s, then +1 s (as ntpcheck's "offset mono raw").
    let off: Vec<f64> = lines
        .iter()
        .map(|l| num(l, "realtime_minus_raw_s"))
        .collect();
    assert!(
        off[0].abs() < 0.01 && (off[3] - 1.0).abs() < 0.01,
        "{off:?}"
    );
    // The drift log holds the same intervals, one row each, under one header.
    let mut r = csv::Reader::from_path(&log).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let total: f64 = rows
        .iter()
        .map(|r| r[col("step_sum_s")].parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 0.02, "{total}");
    let backward: usize = rows
        .iter()
        .map(|r| r[col("backward_steps")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(backward, 1);
    for r in &rows {
        assert_eq!(r.len(), header.len());
        assert!(r[col("time_utc")].ends_with('Z'));
        assert!(!r[col("monotonic_vs_raw_ppm")].is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `unshare --time` as root, or inside a user namespace otherwise.
fn unshare_prefix(monotonic_s: &str, boottime_s: &str) -> Vec<String> {
    let base = [
        "--time",
        "--fork",
        "--monotonic",
        monotonic_s,
        "--boottime",
        boottime_s,
    ];
    let probe = |extra: &[&str]| {
        std::process::Command::new("unshare")
            .args(extra)
            .args(base)
            .arg("true")
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut v = vec!["unshare".to_string()];
    if !probe(&[]) {
        assert!(
            probe(&["--user", "--map-root-user"]),
            "neither `unshare --time` nor `unshare --user --map-root-user --time` works here"
        );
        v.extend(["--user".into(), "--map-root-user".into()]);
    }
    v.extend(base.iter().map(|s| s.to_string()));
    v
}

#[test]
fn time_namespace_shifts_the_suspend_reading() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let prefix = unshare_prefix("86400", "90000");
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let out = run_wrapped(
        &prefix,
        &["clocks", "--duration", "1s", "--json"],
        &[],
        Duration::from_secs(30),
    );
    assert!(
        out.code == 0 || out.code == 1,
        "{}\n{}",
        out.code,
        out.stderr
    );
    let v = out.json();
    // BOOTTIME − MONOTONIC inside the namespace: the offsets' difference (3600 s) plus the
    // host's own suspend time (≈ 0 on a server or CI machine).
    let sp = &v["suspend"];
    let host = num(sp, "host_suspended_s");
    assert!(host >= -1e-3, "{sp}");
    assert!(
        (num(&v, "suspended_s") - 3600.0 - host).abs() < 1e-3,
        "{sp}"
    );
    assert_eq!(num(&sp["timens_offsets"], "monotonic_s"), 86400.0);
    assert_eq!(num(&sp["timens_offsets"], "boottime_s"), 90000.0);
    assert!(num(sp, "growth_s").abs() < 1e-3, "{sp}");
    // MONOTONIC is shifted by a day; REALTIME is not, and nothing looks like a step.
    let mono = v["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "MONOTONIC")
        .unwrap()
        .clone();
    assert!(num(&mono, "now_s") > 86400.0, "{mono}");
    assert!(v["steps"].as_array().unwrap().is_empty());
    assert!(v["jumps"].as_array().unwrap().is_empty());
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("time namespace")));
}

#[test]
fn csv_appends_under_one_header() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = temp_dir("csv");
    let log = dir.join("drift.csv");
    let log_s = log.to_string_lossy().into_owned();
    for _ in 0..2 {
        let out = run_skew(
            &[
                "clocks",
                "--duration",
                "300ms",
                "--no-survey",
                "--csv",
                &log_s,
            ],
            Duration::from_secs(30),
        );
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        // With a FILE, the human report still goes to stdout.
        assert!(
            out.stdout.contains("Rates against MONOTONIC_RAW"),
            "{}",
            out.stdout
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.starts_with("time_utc,elapsed_s,interval_s,samples,"));
    // To stdout: header and one row.
    let out = run_skew(
        &["clocks", "--duration", "200ms", "--no-survey", "--csv"],
        Duration::from_secs(30),
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    assert_eq!(r.records().count(), 1, "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--csv` pointed at a drift log of `skew monitor` (or any CSV not its own) is refused and
/// leaves the file byte for byte as it was (issue 13.6): `skew report` must still read it.
#[test]
fn csv_refuses_a_file_that_is_not_its_own() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = temp_dir("csv-foreign");
    let drift = format!("{}/../../data/drift-demo.csv", env!("CARGO_MANIFEST_DIR"));
    let log = dir.join("drift.csv");
    std::fs::copy(&drift, &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let out = run_skew(
        &[
            "clocks",
            "--duration",
            "200ms",
            "--no-survey",
            "--csv",
            log.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 65, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "refusing to append to {}: its first line is not the header of `skew clocks --csv`",
            log.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the drift log was changed"
    );
    skew_driftlog::read_log(&log).expect("the drift log still reads");
    // Any other CSV too, and a header cut short.
    for text in ["a,b\n1,2\n", "time_utc,elapsed"] {
        std::fs::write(&log, text).unwrap();
        let out = run_skew(
            &[
                "clocks",
                "--duration",
                "200ms",
                "--no-survey",
                "--csv",
                log.to_str().unwrap(),
            ],
            Duration::from_secs(30),
        );
        assert_eq!(out.code, 65, "{text:?}: {}", out.stderr);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), text);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_and_io_errors() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let limit = Duration::from_secs(30);
    for args in [
        &["clocks", "--json", "--csv"][..],
        &["clocks", "--count", "3"],
        &["clocks", "--sample-interval", "1us"],
        &["clocks", "--step-threshold", "0"],
        &["clocks", "--duration", "soon"],
        &["clocks", "--interval", "1ms", "--watch"],
    ] {
        let out = run_skew(args, limit);
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty());
    }
    let out = run_skew(
        &[
            "clocks",
            "--csv",
            "/nonexistent-dir/drift.csv",
            "--duration",
            "100ms",
        ],
        limit,
    );
    assert_eq!(out.code, 74, "{}", out.stderr);
    assert!(
        out.stderr.contains("/nonexistent-dir/drift.csv"),
        "{}",
        out.stderr
    );
}

#[test]
fn watch_stops_cleanly_on_sigint() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    use nix::sys::signal::Signal;
    let dir = temp_dir("sigint");
    let out_path = dir.join("out");
    let mut cmd = std::process::Command::new(skew_bin());
    cmd.args(["clocks", "--watch", "--interval", "200ms"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::process::Stdio::null());
    let mut child = Spawned::spawn("skew clocks --watch", &mut cmd).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    child.signal(Signal::SIGINT);
    let status = child
        .wait_timeout(Duration::from_secs(5))
        .expect("stops on SIGINT");
    assert!(
        status.code() == Some(0) || status.code() == Some(1),
        "{status:?}"
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Time (UTC)"), "{text}");
    assert!(lines.len() >= 1 + 4 + 2, "{text}");
    assert!(text.contains("\nrun: "), "the trailer is printed: {text}");
    let _ = std::fs::remove_dir_all(&dir);
}
