//! Values no command may take at face value (issue 14.7, 14.9, 14.10, 14.11): drift-rate
//! allowances (one rule everywhere: finite and not negative), the range of every duration
//! flag, the pause sample of `skew monitor`, and a state file that cannot be right.

use crate::common::*;
use skew_truetime::state::{write, MeasurementState, STATE_VERSION};
use std::path::PathBuf;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-validation-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Issue 14.9: `probe --lease-drift-ppm` took negative values and NaN (silently 0) while
/// `report` refused them. Every drift-rate allowance now goes through one validator.
#[test]
fn drift_allowances_are_finite_and_not_negative_everywhere() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("ppm");
    let log = d.join("drift.csv");
    std::fs::write(&log, "").unwrap();
    let log = log.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["exporter", "127.0.0.1:9", "--max-drift-ppm"],
        &[
            "probe",
            "--lease",
            "10s",
            "127.0.0.1:9",
            "--lease-drift-ppm",
        ],
        &["probe", "127.0.0.1:9", "--max-drift-ppm"],
        &["report", log, "--lease-drift-ppm"],
        &["now", "--state", "/nonexistent", "--max-drift-ppm"],
    ];
    for cmd in commands {
        for (bad, why) in [
            ("-50", "is negative"),
            ("-0.001", "is negative"),
            ("NaN", "not a finite number"),
            ("inf", "not a finite number"),
            ("1e999", "not a finite number"),
        ] {
            let flag = cmd.last().unwrap();
            let arg = format!("{flag}={bad}");
            let mut args: Vec<&str> = cmd[..cmd.len() - 1].to_vec();
            args.push(&arg);
            let out = run_skew(&args, Duration::from_secs(10));
            assert_eq!(out.code, 64, "{args:?}: {}{}", out.stdout, out.stderr);
            assert!(
                out.stderr.contains(flag) && out.stderr.contains(why),
                "{args:?}: {}",
                out.stderr
            );
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A state with the current boot and clocks, holding the bound `[lo, hi]`.
fn state_with(lo: Option<i64>, hi: Option<i64>) -> MeasurementState {
    let (now, boot_id) = skew_truetime::clocks::read_now();
    MeasurementState {
        version: STATE_VERSION,
        host: "h".into(),
        boot_id,
        at: now,
        until: now,
        lo_ns: lo,
        hi_ns: hi,
        clock_steps_total: 0,
        invalidated: None,
    }
}

/// Issue 14.11: `skew now` trusted an inconsistent state (`lo_ns > hi_ns` gave "ok …
/// width −9.999974 s", exit 0), and values at the i64 limits or `--max-drift-ppm 1e308`
/// printed negative widths. An invalid state is `unknown`; widths are never negative.
#[test]
fn now_says_unknown_for_a_state_that_cannot_be_right() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("now");
    let path = d.join("state.json");
    let p = path.to_str().unwrap();
    for (lo, hi, why) in [
        (Some(5_000_000_000), Some(-4_999_974_000), "inconsistent"),
        (Some(i64::MIN), Some(i64::MAX), "not a measurement"),
        (Some(i64::MAX - 1), Some(i64::MAX), "not a measurement"),
        (Some(-1_000), None, "one end"),
    ] {
        write(&path, &state_with(lo, hi)).unwrap();
        for json in [false, true] {
            let mut args = vec!["now", "--state", p];
            if json {
                args.push("--json");
            }
            let out = run_skew(&args, Duration::from_secs(10));
            assert_eq!(
                out.code, 1,
                "[{lo:?}, {hi:?}]: {}{}",
                out.stdout, out.stderr
            );
            assert!(
                out.stdout.contains("unknown") && out.stdout.contains(why),
                "[{lo:?}, {hi:?}]: {}",
                out.stdout
            );
            assert!(!out.stdout.contains("width -"), "{}", out.stdout);
        }
    }
    // A sound state, widened by an absurd but finite drift allowance: never a negative
    // width (the interval is unknown when it leaves the range of time stamps).
    write(&path, &state_with(Some(-20_000), Some(30_000))).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    for ppm in ["1e308", "1e20", "1e9"] {
        let out = run_skew(
            &["now", "--json", "--state", p, "--max-drift-ppm", ppm],
            Duration::from_secs(10),
        );
        let v = out.json();
        match (v["earliest_ns"].as_i64(), v["latest_ns"].as_i64()) {
            (Some(e), Some(l)) => {
                assert_eq!(out.code, 0, "{ppm}: {v}");
                assert!(e <= l, "{ppm}: {v}");
            }
            _ => {
                assert_eq!(out.code, 1, "{ppm}: {v}");
                assert_eq!(v["status"], "unknown", "{ppm}: {v}");
            }
        }
        let out = run_skew(
            &["now", "--state", p, "--max-drift-ppm", ppm],
            Duration::from_secs(10),
        );
        assert!(!out.stdout.contains("width -"), "{ppm}: {}", out.stdout);
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 14.10: `monitor --pause --pause-interval 0` (or `50us`, or `106751d`) silently
/// skipped the pause sample, so `--crit-pause` was off without notice, while `skew pauses`
/// refused the same values. Now both refuse them with the same range, on the command line
/// (monitor's usage-error path: its Nagios line, UNKNOWN, exit 3) and in the configuration
/// file (UNKNOWN, exit 3).
#[test]
fn monitor_refuses_a_pause_interval_that_pauses_refuses() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("pause-interval");
    for bad in ["0", "50us", "106751d", "11s"] {
        let pauses = run_skew(
            &["pauses", "--interval", bad, "--duration", "100ms"],
            Duration::from_secs(10),
        );
        assert_eq!(pauses.code, 64, "pauses {bad}: {}", pauses.stderr);
        for cmd in ["monitor", "check"] {
            let out = run_skew(
                &dead_port_run(cmd, &["--pause", "--pause-interval", bad]),
                Duration::from_secs(10),
            );
            // UNKNOWN with its Nagios line, as every usage error of monitor and check.
            assert_eq!(out.code, 3, "{cmd} {bad}: {}{}", out.stdout, out.stderr);
            assert!(
                out.stdout.starts_with("SKEW UNKNOWN: "),
                "{cmd} {bad}: {}",
                out.stdout
            );
            let all = format!("{}{}", out.stdout, out.stderr);
            assert!(
                all.contains("--pause-interval") && all.contains("100us..10s"),
                "{cmd} {bad}: {all}"
            );
        }
        // The same value in the configuration file: UNKNOWN, naming the key.
        let conf = d.join("skew.toml");
        std::fs::write(
            &conf,
            format!("servers = [\"127.0.0.1:9\"]\n[pause]\nenabled = true\ninterval = \"{bad}\"\n"),
        )
        .unwrap();
        let out = run_skew(
            &[
                "monitor",
                "--config",
                conf.to_str().unwrap(),
                "--no-clock",
                "--no-leap",
            ],
            Duration::from_secs(10),
        );
        assert_eq!(out.code, 3, "config {bad}: {}{}", out.stdout, out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(
            all.contains("pause.interval") && all.contains("100us..10s"),
            "config {bad}: {all}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
