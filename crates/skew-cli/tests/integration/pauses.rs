//! `skew pauses` end to end: real pauses injected into a real detector process (SIGSTOP, the
//! cgroup v2 freezer, a SCHED_FIFO hog), a real clock step (libfaketime), faked VM markers,
//! a quiet run, signals and output formats.

use crate::common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use skew_testkit::{which, LIBFAKETIME};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MS: f64 = 1e-3;

/// The SCHED_FIFO hog of the contention test stalls whatever shares its CPU: it runs alone
/// (write lock) while the other detectors of this file share the machine (read locks).
static CPU_HOG: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    CPU_HOG.write().unwrap_or_else(|e| e.into_inner())
}

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    CPU_HOG.read().unwrap_or_else(|e| e.into_inner())
}

/// Lets a detector start (fork its sibling, take a first checkpoint and a clean baseline).
fn settle() {
    std::thread::sleep(Duration::from_millis(1500));
}

fn events(v: &Value) -> Vec<Value> {
    v["events"].as_array().expect("events array").clone()
}

/// A real stall caused by other work on this shared machine: a `scheduling` event whose
/// run-delay accounts for at least half of it. Not a false positive; tests that expect no
/// event tolerate these.
fn proven_contention(e: &Value) -> bool {
    e["kind"] == "scheduling"
        && e["run_delay_s"].as_f64().unwrap() >= 0.5 * e["min_s"].as_f64().unwrap()
}

/// The events that are not [`proven_contention`].
fn unexplained(v: &Value) -> Vec<Value> {
    events(v)
        .into_iter()
        .filter(|e| !proven_contention(e))
        .collect()
}

fn of_kind(v: &Value, kind: &str) -> Vec<Value> {
    events(v)
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// The pause the injector itself measured: it lasted at least `lo` and at most `hi` (s).
struct Truth {
    lo: f64,
    hi: f64,
}

/// Asserts that the event's interval, widened by 2 ms, holds the injected pause: the
/// nominal 300 ms when the injector's own timing was on time (its sleep overshot by less
/// than 1 ms), and in any case the pause the injector measured.
fn assert_holds(e: &Value, nominal: f64, truth: &Truth) {
    let (min, max) = (e["min_s"].as_f64().unwrap(), e["max_s"].as_f64().unwrap());
    let (lo, hi) = (min - 2.0 * MS, max + 2.0 * MS);
    assert!(
        lo <= truth.hi && truth.lo <= hi,
        "interval [{min}, {max}] ± 2 ms misses the measured pause [{}, {}]: {e}",
        truth.lo,
        truth.hi
    );
    if truth.lo <= nominal + 1.0 * MS {
        assert!(
            lo <= nominal && nominal <= hi,
            "interval [{min}, {max}] ± 2 ms misses {nominal} s: {e}"
        );
    } else {
        eprintln!(
            "note: the injector overslept ({} s instead of {nominal} s; busy machine): checked against that",
            truth.lo
        );
    }
    // One interval wide, plus the usual wake-up latency given back from the lower bound.
    let latency = e["latency_s"].as_f64().unwrap();
    assert!(
        max - min <= 1.0 * MS + latency + 1e-9,
        "wider than one interval + latency: {e}"
    );
}

fn assert_sibling_gone(v: &Value) {
    if let Some(pid) = v["sibling"]["pid"].as_i64() {
        assert!(
            kill(Pid::from_raw(pid as i32), None).is_err(),
            "sibling {pid} outlived skew"
        );
    }
}

#[test]
fn sigstop_300ms_is_one_process_event() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let run = spawn_skew(&["pauses", "--json", "--duration", "3s"], &[]);
    settle();
    let pid = Pid::from_raw(run.pid() as i32);
    let t0 = Instant::now();
    kill(pid, Signal::SIGSTOP).unwrap();
    let t1 = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let t2 = Instant::now();
    kill(pid, Signal::SIGCONT).unwrap();
    let t3 = Instant::now();
    let truth = Truth {
        lo: (t2 - t1).as_secs_f64(),
        hi: (t3 - t0).as_secs_f64(),
    };
    let out = run.wait(Duration::from_secs(15));
    assert_eq!(
        out.code, 1,
        "events seen → exit 1\n{}\n{}",
        out.stdout, out.stderr
    );
    let v = out.json();
    let process = of_kind(&v, "process");
    assert_eq!(process.len(), 1, "{:#}", v["events"]);
    let e = &process[0];
    assert_holds(e, 0.300, &truth);
    assert_eq!(e["sibling_stalled"], false, "{e}");
    assert!(e["run_delay_s"].as_f64().unwrap() < 0.150, "{e}");
    // Steal has 10 ms ticks and may move by one; it never explains the stop.
    assert!(e["steal_s"].as_f64().unwrap() < 0.150, "{e}");
    // Nothing else explains 300 ms: no other long event.
    for other in events(&v) {
        assert!(
            other == *e || other["min_s"].as_f64().unwrap() < 0.1,
            "{other}"
        );
    }
    assert!(v["pauses"]["count_over_threshold"].as_u64().unwrap() >= 1);
    assert!(v["pauses"]["max_s"].as_f64().unwrap() >= 0.29);
    assert_sibling_gone(&v);
}

#[test]
fn stopping_the_whole_process_group_is_still_a_process_pause() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    // Ctrl-Z stops the foreground process group; the sibling leads a group of its own.
    let mut cmd = std::process::Command::new(skew_bin());
    cmd.args(["pauses", "--json", "--duration", "3s"])
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = skew_testkit::Spawned::spawn("skew", &mut cmd).expect("spawn");
    let mut pipe = child.child_mut().stdout.take().unwrap();
    settle();
    let group = Pid::from_raw(-(child.pid() as i32));
    kill(group, Signal::SIGTSTP).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    kill(group, Signal::SIGCONT).unwrap();
    child.wait_timeout(Duration::from_secs(15)).expect("exits");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut pipe, &mut stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let long: Vec<Value> = events(&v)
        .into_iter()
        .filter(|e| e["min_s"].as_f64().unwrap() > 0.15)
        .collect();
    assert_eq!(long.len(), 1, "{:#}", v["events"]);
    assert_eq!(long[0]["kind"], "process", "{}", long[0]);
    assert_eq!(long[0]["sibling_stalled"], false, "{}", long[0]);
}

/// A cgroup v2 group of our own, removed (after thawing) when dropped.
struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// Creates one under the unified hierarchy, or says why it cannot.
    fn create() -> Result<Cgroup, String> {
        let root = Path::new("/sys/fs/cgroup/unified");
        let root = if root.join("cgroup.procs").exists() {
            root
        } else {
            Path::new("/sys/fs/cgroup")
        };
        if !root.join("cgroup.procs").exists() {
            return Err("no cgroup v2 hierarchy mounted".into());
        }
        let dir = root.join(format!("skew-test-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let g = Cgroup { dir };
        if !g.dir.join("cgroup.freeze").exists() {
            return Err("the kernel's cgroup v2 has no freezer (cgroup.freeze)".into());
        }
        Ok(g)
    }

    fn write(&self, file: &str, value: &str) -> Result<(), String> {
        std::fs::write(self.dir.join(file), value)
            .map_err(|e| format!("cannot write {value:?} to {file}: {e}"))
    }

    fn frozen(&self) -> bool {
        std::fs::read_to_string(self.dir.join("cgroup.events"))
            .unwrap_or_default()
            .contains("frozen 1")
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = self.write("cgroup.freeze", "0");
        for _ in 0..200 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        eprintln!("could not remove {}", self.dir.display());
    }
}

#[test]
fn cgroup_freezer_pause_is_a_process_event() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let g = match Cgroup::create() {
        Ok(g) => g,
        Err(why) => {
            eprintln!("SKIPPED cgroup_freezer_pause_is_a_process_event: {why}");
            return;
        }
    };
    let run = spawn_skew(&["pauses", "--json", "--duration", "3s"], &[]);
    settle();
    // Only the detector process moves into the group: its sibling stays outside.
    if let Err(why) = g.write("cgroup.procs", &run.pid().to_string()) {
        eprintln!("SKIPPED cgroup_freezer_pause_is_a_process_event: {why}");
        return;
    }
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    g.write("cgroup.freeze", "1").unwrap();
    while !g.frozen() && t0.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let t1 = Instant::now();
    assert!(g.frozen(), "the group did not freeze");
    std::thread::sleep(Duration::from_millis(300));
    let t2 = Instant::now();
    g.write("cgroup.freeze", "0").unwrap();
    let t3 = Instant::now();
    let truth = Truth {
        lo: (t2 - t1).as_secs_f64(),
        hi: (t3 - t0).as_secs_f64(),
    };
    let out = run.wait(Duration::from_secs(15));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    let process = of_kind(&v, "process");
    assert_eq!(process.len(), 1, "{:#}", v["events"]);
    let e = &process[0];
    let (min, max) = (e["min_s"].as_f64().unwrap(), e["max_s"].as_f64().unwrap());
    assert!(
        min - 2.0 * MS <= truth.hi && truth.lo <= max + 2.0 * MS,
        "[{min}, {max}] misses the freeze [{}, {}]: {e}",
        truth.lo,
        truth.hi
    );
    assert_eq!(e["sibling_stalled"], false, "{e}");
}

#[test]
fn freezing_the_sibling_too_reads_as_the_machine_stalling() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let g = match Cgroup::create() {
        Ok(g) => g,
        Err(why) => {
            eprintln!("SKIPPED freezing_the_sibling_too_reads_as_the_machine_stalling: {why}");
            return;
        }
    };
    let run = spawn_skew(&["pauses", "--json", "--duration", "3s"], &[]);
    settle();
    // The detector process and its sibling (a child of the detector thread).
    let mut pids = vec![run.pid().to_string()];
    for t in std::fs::read_dir(format!("/proc/{}/task", run.pid()))
        .unwrap()
        .flatten()
    {
        let c = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        pids.extend(c.split_whitespace().map(str::to_string));
    }
    assert_eq!(pids.len(), 2, "detector and sibling: {pids:?}");
    for p in &pids {
        if let Err(why) = g.write("cgroup.procs", p) {
            eprintln!("SKIPPED freezing_the_sibling_too_reads_as_the_machine_stalling: {why}");
            return;
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    g.write("cgroup.freeze", "1").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    g.write("cgroup.freeze", "0").unwrap();
    let out = run.wait(Duration::from_secs(15));
    let v = out.json();
    let long: Vec<Value> = events(&v)
        .into_iter()
        .filter(|e| e["min_s"].as_f64().unwrap() > 0.2)
        .collect();
    assert_eq!(long.len(), 1, "{:#}", v["events"]);
    assert_eq!(long[0]["kind"], "vm", "{}", long[0]);
    assert_eq!(long[0]["sibling_stalled"], true, "{}", long[0]);
}

#[test]
fn cpu_contention_is_scheduling() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _alone = alone();
    let (Some(taskset), Some(chrt)) = (which("taskset"), which("chrt")) else {
        eprintln!("SKIPPED cpu_contention_is_scheduling: taskset or chrt missing");
        return;
    };
    // The detector on CPU 0; a SCHED_FIFO thread pinned to CPU 0 takes it for 200 ms.
    let mut cmd = std::process::Command::new(taskset);
    cmd.args([
        "-c",
        "0",
        skew_bin(),
        "pauses",
        "--json",
        "--duration",
        "3s",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = skew_testkit::Spawned::spawn("skew", &mut cmd).expect("spawn");
    let mut pipe = child.child_mut().stdout.take().unwrap();
    settle();
    let (tx, rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<bool>();
    let hog = std::thread::spawn(move || {
        let mut cpu0 = nix::sched::CpuSet::new();
        cpu0.set(0).unwrap();
        nix::sched::sched_setaffinity(Pid::from_raw(0), &cpu0).unwrap();
        tx.send(nix::unistd::gettid().as_raw()).unwrap();
        if go_rx.recv() == Ok(true) {
            let t0 = Instant::now();
            let mut x = 0u64;
            while t0.elapsed() < Duration::from_millis(200) {
                x = x.wrapping_add(1);
            }
            std::hint::black_box(x);
        }
    });
    let tid = rx.recv().unwrap();
    let ok = std::process::Command::new(chrt)
        .args(["-f", "-p", "50", &tid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    go_tx.send(ok).unwrap();
    hog.join().unwrap();
    if !ok {
        eprintln!("SKIPPED cpu_contention_is_scheduling: no permission for SCHED_FIFO");
        return;
    }
    let status = child.wait_timeout(Duration::from_secs(15)).expect("exits");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut pipe, &mut stdout).unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let sched = of_kind(&v, "scheduling");
    assert!(
        sched
            .iter()
            .any(|e| e["max_s"].as_f64().unwrap() >= 0.15
                && e["run_delay_s"].as_f64().unwrap() >= 0.1),
        "{:#}",
        v["events"]
    );
    assert!(of_kind(&v, "process").is_empty(), "{:#}", v["events"]);
}

#[test]
fn libfaketime_step_is_a_step_not_a_pause() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    if !Path::new(LIBFAKETIME).exists() {
        panic!("libfaketime is not installed: run scripts/test.sh, which installs it");
    }
    let dir = std::env::temp_dir().join(format!("skew-pauses-faketime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stamp = dir.join("timestamp");
    std::fs::write(&stamp, "+0\n").unwrap();
    let stamp_s = stamp.to_str().unwrap().to_string();
    let run = spawn_skew(
        &["pauses", "--json", "--duration", "4s"],
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_TIMESTAMP_FILE", &stamp_s),
        ],
    );
    settle();
    std::fs::write(&stamp, "+2\n").unwrap();
    let out = run.wait(Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    let steps = of_kind(&v, "step");
    assert_eq!(steps.len(), 1, "{:#}", v["events"]);
    let (min, max) = (
        steps[0]["min_s"].as_f64().unwrap(),
        steps[0]["max_s"].as_f64().unwrap(),
    );
    assert!(min <= 2.0 && 2.0 <= max && max - min < 0.01, "{}", steps[0]);
    // A step is not a pause: besides it, only real contention on this shared machine
    // (proven by run-delay, as the tests that expect no event tolerate) may be reported.
    let others: Vec<Value> = events(&v)
        .into_iter()
        .filter(|e| e["kind"] != "step" && !proven_contention(e))
        .collect();
    assert!(
        others.is_empty(),
        "a step is not a pause: {:#}",
        v["events"]
    );
    // Only that contention may have crossed the threshold.
    assert_eq!(
        v["pauses"]["count_over_threshold"].as_u64().unwrap() as usize,
        events(&v).len() - 1
    );
}

#[test]
fn quiet_10s_run_has_no_event() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    // Other work on this shared machine can take the CPU away for real: such a stall carries
    // its proof (a `scheduling` event whose run-delay accounts for it) and is no false
    // positive. The run is repeated (at most three in all) to get one without any; any
    // other event fails at once.
    let mut attempt = 0;
    let v = loop {
        attempt += 1;
        let out = run_skew(
            &["pauses", "--json", "--duration", "10s"],
            Duration::from_secs(30),
        );
        let v = out.json();
        assert!(unexplained(&v).is_empty(), "{:#}", v["events"]);
        if events(&v).is_empty() {
            assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
            break v;
        }
        eprintln!(
            "note: attempt {attempt}: CPU contention from other work (scheduling events proven by run-delay): {}",
            v["events"]
        );
        assert_eq!(out.code, 1);
        if attempt == 3 {
            eprintln!("note: the machine was never quiet for 10 s; no false event was seen");
            return;
        }
    };
    let p = &v["pauses"];
    assert_eq!(p["count_over_threshold"], 0);
    assert!(p["max_s"].as_f64().unwrap() < v["threshold_s"].as_f64().unwrap());
    assert!(p["count"].as_u64().unwrap() > 9_000, "{p}");
    assert!(p["p50_s"].as_f64().unwrap() < 1e-3, "{p}");
    assert!(p["p50_s"].as_f64().unwrap() <= p["p99_s"].as_f64().unwrap());
    assert!(p["p99_s"].as_f64().unwrap() <= p["p999_s"].as_f64().unwrap());
    assert!(p["p999_s"].as_f64().unwrap() <= p["max_s"].as_f64().unwrap());
    assert_eq!(v["interval_s"], 0.001);
    assert_eq!(v["threshold_s"], 0.02);
    let cpu = v["cpu_overhead"].as_f64().unwrap();
    assert!(cpu > 0.0 && cpu < 0.25, "cpu_overhead {cpu}");
    assert_eq!(v["sibling"]["enabled"], true);
    assert_eq!(v["sources"]["schedstat"], true);
    assert_eq!(v["timer_slack_ns"], 1);
    assert!((v["duration_s"].as_f64().unwrap() - 10.0).abs() < 0.5);
    assert_sibling_gone(&v);
}

#[test]
fn faked_vm_markers_are_vm_events() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let dir = std::env::temp_dir().join(format!("skew-pauses-vm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let vmclock = dir.join("vmclock0");
    let vmgenid = dir.join("vmgenid");
    std::fs::write(&vmclock, skew_pause::procfs::vmclock_bytes(1, 2)).unwrap();
    std::fs::write(&vmgenid, "00112233445566778899aabbccddeeff").unwrap();
    let run = spawn_skew(
        &[
            "pauses",
            "--json",
            "--duration",
            "4s",
            "--interval",
            "10ms",
            "--vmclock-path",
            vmclock.to_str().unwrap(),
            "--vmgenid-path",
            vmgenid.to_str().unwrap(),
        ],
        &[],
    );
    settle();
    std::fs::write(&vmclock, skew_pause::procfs::vmclock_bytes(2, 4)).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    std::fs::write(&vmgenid, "ffeeddccbbaa99887766554433221100").unwrap();
    let out = run.wait(Duration::from_secs(20));
    let _ = std::fs::remove_dir_all(&dir);
    let v = out.json();
    assert_eq!(v["sources"]["vmclock"], true);
    assert_eq!(v["sources"]["vmgenid"], true);
    let vm = of_kind(&v, "vm");
    assert_eq!(vm.len(), 2, "{:#}", v["events"]);
    assert_eq!(vm[0]["vmclock_changed"], true);
    assert_eq!(vm[1]["vmgenid_changed"], true);
    for e in &vm {
        assert_eq!(e["min_s"], 0.0);
        assert!(e["max_s"].is_null(), "length unknown: {e}");
    }
    assert_eq!(out.code, 1);
}

#[test]
fn ctrl_c_and_sigterm_end_with_the_summary() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let run = spawn_skew(&["pauses", "--json", "--interval", "10ms"], &[]);
    std::thread::sleep(Duration::from_millis(1200));
    run.child.signal(Signal::SIGINT);
    let t0 = Instant::now();
    let out = run.wait(Duration::from_secs(10));
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    assert_eq!(v["stopped_by"], "SIGINT");
    assert_eq!(v["interval_s"], 0.01);
    assert_eq!(v["threshold_s"], 0.04);
    assert!(v["duration_s"].as_f64().unwrap() > 1.0);
    assert_sibling_gone(&v);

    let run = spawn_skew(&["pauses"], &[]);
    std::thread::sleep(Duration::from_millis(800));
    run.child.signal(Signal::SIGTERM);
    let out = run.wait(Duration::from_secs(10));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("stopped by SIGTERM"), "{}", out.stdout);
    assert!(out.stdout.contains("p99.9"), "{}", out.stdout);
    assert!(out.stdout.contains("CPU:"), "{}", out.stdout);
}

#[test]
fn csv_rows_like_jhiccup() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let _shared = shared();
    let out = run_skew(
        &[
            "pauses",
            "--csv",
            "--csv-interval",
            "200ms",
            "--duration",
            "1100ms",
        ],
        Duration::from_secs(15),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "time",
            "count",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "elapsed_s",
            "over_threshold"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert!((5..=7).contains(&rows.len()), "{}", out.stdout);
    for row in &rows[..5] {
        assert!(row[0].ends_with('Z'));
        let count: u64 = row[1].parse().unwrap();
        assert!((150..=201).contains(&count), "{row:?}");
        let p: Vec<f64> = (2..7).map(|i| row[i].parse().unwrap()).collect();
        assert!(p.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
    }
    // The summary goes to stderr, keeping stdout a clean CSV.
    assert!(out.stderr.contains("Overshoot"), "{}", out.stderr);
}

#[test]
fn usage_errors() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    for args in [
        vec!["pauses", "--interval", "1us"],
        vec!["pauses", "--interval", "20s"],
        vec!["pauses", "--threshold", "0"],
        vec!["pauses", "--json", "--csv"],
        vec!["pauses", "--no-sibling", "--sibling-interval", "5ms"],
        vec!["pauses", "--duration", "soon"],
    ] {
        let out = run_skew(&args, Duration::from_secs(10));
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty());
    }
}
