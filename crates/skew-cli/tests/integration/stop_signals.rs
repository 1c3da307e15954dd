//! Every long-running command stops on SIGTERM within a second (issue 14.7: `skew pauses`
//! blocked SIGTERM and waited for a detector asleep for 292 years; with `--interval 10s` it
//! still took up to 10 s).

use crate::common::*;
use nix::sys::signal::Signal;
use skew_truetime::state::{write, MeasurementState, STATE_VERSION};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a command may take to end after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(1);

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-stop-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh state file for `skew now --watch`.
fn state_file(dir: &std::path::Path) -> PathBuf {
    let (now, boot_id) = skew_truetime::clocks::read_now();
    let p = dir.join("state.json");
    write(
        &p,
        &MeasurementState {
            version: STATE_VERSION,
            host: "h".into(),
            boot_id,
            at: now,
            until: now,
            lo_ns: Some(-1_000),
            hi_ns: Some(1_000),
            clock_steps_total: 0,
            invalidated: None,
        },
    )
    .unwrap();
    p
}

/// Starts `skew ARGS`, lets it run for `settle`, sends SIGTERM and returns how long it took
/// to exit and its output.
fn stop_time(args: &[&str], settle: Duration) -> (Duration, Output) {
    let mut r = spawn_skew(args, &[]);
    std::thread::sleep(settle);
    assert!(
        !r.child.has_exited(),
        "skew {args:?} ended before the signal"
    );
    let t0 = Instant::now();
    r.child.signal(Signal::SIGTERM);
    let out = r.wait(Duration::from_secs(20));
    (t0.elapsed(), out)
}

#[test]
fn every_long_running_command_stops_on_sigterm_within_a_second() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("all");
    let state = state_file(&d);
    let state = state.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["pauses"],
        // The interval is the detector's sleep: a stop must not wait for it.
        vec!["pauses", "--interval", "10s"],
        vec![
            "pauses",
            "--interval",
            "10s",
            "--sibling-interval",
            "10s",
            "--threshold",
            "1m",
        ],
        vec!["pauses", "--csv", "--timer-slack", "100ms"],
        vec!["clocks", "--watch", "--interval", "10s", "--no-survey"],
        vec!["clocks", "--duration", "1h", "--no-survey"],
        vec!["now", "--state", state, "--watch", "10s", "--count", "1000"],
        vec!["serve", "--listen", "127.0.0.1:0"],
        vec![
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:9",
        ],
        vec![
            "monitor",
            "--pause",
            "--pause-duration",
            "1h",
            "--no-clock",
            "--no-leap",
            "-n",
            "1",
            "--timeout",
            "1s",
            "127.0.0.1:9",
        ],
        vec!["probe", "-n", "1000", "--interval", "1s", "127.0.0.1:9"],
        vec![
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--poll",
            "1s",
            "--no-leap",
            "127.0.0.1:9",
        ],
        vec![
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--poll",
            "1s",
            "--no-leap",
            "--pause",
            "--pause-interval",
            "10s",
            "127.0.0.1:9",
        ],
    ];
    let mut slow = Vec::new();
    for args in &cases {
        let (took, out) = stop_time(args, Duration::from_millis(700));
        eprintln!("skew {args:?}: stopped in {took:?} (exit {})", out.code);
        if took > STOP_LIMIT {
            slow.push(format!("{args:?}: {took:?}\n{}", out.stderr));
        }
    }
    assert!(
        slow.is_empty(),
        "slower than {STOP_LIMIT:?}:\n{}",
        slow.join("\n")
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A stopped `skew pauses` still prints its summary and says what stopped it.
#[test]
fn pauses_stopped_by_sigterm_reports_it() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (took, out) = stop_time(
        &["pauses", "--json", "--interval", "10s"],
        Duration::from_millis(500),
    );
    assert!(took <= STOP_LIMIT, "{took:?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["stopped_by"], "SIGTERM");
}
