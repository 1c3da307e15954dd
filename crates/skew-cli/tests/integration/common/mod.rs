//! Helpers shared by the CLI's integration tests: run the `skew` binary with a time limit
//! and parse its JSON.

mod flood;
pub use flood::*;

use serde_json::Value;
use skew_testkit::Spawned;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `skew` binary under test.
pub fn skew_bin() -> &'static str {
    env!("CARGO_BIN_EXE_skew")
}

/// What a finished `skew` run printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Output {
    /// stdout parsed as JSON (panics with the output when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

/// Runs `skew ARGS`, killing it (and failing) if it runs past `limit`.
pub fn run_skew(args: &[&str], limit: Duration) -> Output {
    run_skew_env(args, &[], limit)
}

/// Runs `skew ARGS` with extra environment variables.
pub fn run_skew_env(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    spawn_skew(args, env).wait(limit)
}

/// Runs `WRAPPER... skew ARGS` (e.g. `unshare --time --fork ... skew clocks`) with extra
/// environment variables.
pub fn run_wrapped(
    wrapper: &[&str],
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> Output {
    spawn_wrapped(wrapper, args, env).wait(limit)
}

/// A `skew` started in the background, its output going to files; stopped by PID when
/// dropped.
pub struct Running {
    /// The process.
    pub child: Spawned,
    args: Vec<String>,
    dir: std::path::PathBuf,
    t0: Instant,
}

/// Starts `skew ARGS` in the background with extra environment variables.
pub fn spawn_skew(args: &[&str], env: &[(&str, &str)]) -> Running {
    spawn_wrapped(&[], args, env)
}

/// Starts `WRAPPER... skew ARGS` in the background with extra environment variables.
pub fn spawn_wrapped(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Running {
    let dir =
        std::env::temp_dir().join(format!("skew-out-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(skew_bin());
            c
        }
        None => Command::new(skew_bin()),
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let child = Spawned::spawn("skew", &mut cmd).expect("spawn skew");
    Running {
        child,
        args: args.iter().map(|s| s.to_string()).collect(),
        dir,
        t0,
    }
}

impl Running {
    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Waits for the exit (failing if it runs past `limit`) and collects the output.
    pub fn wait(mut self, limit: Duration) -> Output {
        let status = self.child.wait_timeout(limit);
        let elapsed = self.t0.elapsed();
        let stdout = std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default();
        let stderr = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&self.dir);
        let status = status.unwrap_or_else(|| {
            panic!(
                "skew {:?} ran past {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                self.args
            )
        });
        Output {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
            elapsed,
        }
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Runs `skew probe --json` with fast settings against `servers` and returns the output.
pub fn probe_json(servers: &[&str], extra: &[&str]) -> Output {
    let mut args = vec![
        "probe",
        "--json",
        "-n",
        "4",
        "--interval",
        "10ms",
        "--timeout",
        "500ms",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(servers);
    run_skew(&args, Duration::from_secs(30))
}

/// The arguments of a quick `command` run (`monitor` or `check`) against a closed port
/// (127.0.0.1:9, answered at once by ICMP): no clock, no leap list, one sample with a 100 ms
/// timeout, so a `monitor` run writes an `ntp` and an `agreement` row. `extra` goes before the
/// server.
pub fn dead_port_run<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        command,
        "--no-clock",
        "--no-leap",
        "-n",
        "1",
        "--timeout",
        "100ms",
    ];
    args.extend_from_slice(extra);
    args.push("127.0.0.1:9");
    args
}

/// The `probes` array of a probe's JSON.
pub fn probes(v: &Value) -> Vec<Value> {
    v["probes"].as_array().expect("probes array").clone()
}

/// A number field of a probe entry.
pub fn f(p: &Value, key: &str) -> f64 {
    p[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {p}"))
}

/// Asserts that the probe is ok and that its offset is `expected_s` within `tol_s` and its
/// hard bound contains `expected_s`.
pub fn assert_measures(p: &Value, expected_s: f64, tol_s: f64) {
    assert_measures_uncertain(p, expected_s, tol_s, 0.0)
}

/// Like [`assert_measures`] for a server whose true offset is itself only known to within
/// `truth_slack_s` (a chronyd follower serves its upstream's time + X only as exactly as it
/// measured its upstream): the hard bound must come within `truth_slack_s` of `expected_s`.
pub fn assert_measures_uncertain(p: &Value, expected_s: f64, tol_s: f64, truth_slack_s: f64) {
    assert_eq!(p["status"], "ok", "{p}");
    let off = f(p, "offset_s");
    assert!(
        (off - expected_s).abs() < tol_s,
        "offset {off} not within {tol_s} of {expected_s}: {p}"
    );
    let (lo, hi) = (f(p, "bound_lo_s"), f(p, "bound_hi_s"));
    assert!(
        lo - truth_slack_s <= expected_s && expected_s <= hi + truth_slack_s,
        "bound [{lo}, {hi}] misses {expected_s} (slack {truth_slack_s}): {p}"
    );
    let (ulo, uhi) = (f(p, "utc_lo_s"), f(p, "utc_hi_s"));
    assert!(
        ulo <= lo && hi <= uhi,
        "UTC bound [{ulo}, {uhi}] does not contain the hard bound: {p}"
    );
}

pub use skew_testkit::one_module_at_a_time;

/// A leap-seconds.list valid until 2042: tzdata 2025b's with a later expiry and its hash
/// redone.
pub fn fresh_leap_list(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/leap-seconds.2025b.list"
    ))
    .unwrap();
    let text = text.replace("#@\t3991593600", "#@\t4500000000");
    let mut hashed = String::new();
    for prefix in ["#$", "#@"] {
        let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
        hashed.push_str(line[2..].trim());
    }
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut f = line.split_whitespace();
        hashed.push_str(f.next().unwrap());
        hashed.push_str(f.next().unwrap());
    }
    let words = skew_leap::hash::format_words(&skew_leap::hash::digest_words(&hashed));
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("#h") {
                format!("#h\t{words}")
            } else {
                l.to_string()
            }
        })
        .collect();
    let p = dir.join(name);
    std::fs::write(&p, out.join("\n") + "\n").unwrap();
    p
}
