//! Sandboxed units (issue 13.4): under a seccomp filter that denies `adjtimex` even to read,
//! as systemd's `ProtectClock=yes` installs, every command says so instead of silently
//! dropping the kernel's figures; and the example unit no longer sets ProtectClock=.

use crate::common::*;
use skew_driftlog::{read_log, Kind};
use skew_testkit::{with_adjtimex_denied, Chronyd};
use std::path::PathBuf;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-sandbox-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn denied(args: Vec<String>) -> Output {
    with_adjtimex_denied(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run_skew(&a, Duration::from_secs(30))
    })
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_denied_adjtimex_is_reported_by_monitor_check_and_leap() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let d = tmpdir("denied");
    let log = d.join("drift.csv");
    let prom = d.join("skew.prom");
    let server = c.arg();
    let list = format!(
        "{}/../../data/leap-seconds.list",
        env!("CARGO_MANIFEST_DIR")
    );
    let fast = [
        "-n",
        "1",
        "--clock-duration",
        "100ms",
        "--min-agree",
        "1",
        "--leap-file",
        &list,
    ];

    // monitor: WARNING with one short clause, the metric, the log's error column.
    let mut a = vec!["monitor"];
    a.extend(fast);
    a.extend([
        "--log",
        log.to_str().unwrap(),
        "--prom",
        prom.to_str().unwrap(),
        &server,
    ]);
    let out = denied(owned(&a));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("SKEW WARNING: ")
            && out.stdout.contains(
                "kernel clock state unreadable: adjtimex denied (a seccomp filter such as systemd's ProtectClock=)"
            ),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("\nskew_kernel_readable 0\n"), "{text}");
    assert!(!text.contains("skew_kernel_synchronized"), "{text}");
    let rows = read_log(&log).unwrap().rows;
    let clock = rows
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.kind == Kind::Clock)
        .expect("a clock row");
    let e = clock.error.as_deref().unwrap_or("");
    assert!(
        e.starts_with("adjtimex is denied (Operation not permitted"),
        "{e}"
    );
    assert!(e.contains("ProtectClock=yes"), "{e}");
    assert_eq!(clock.kernel_state, None);

    // The same run unfiltered reads the kernel: the metric says 1.
    let mut a = vec!["monitor"];
    a.extend(fast);
    a.extend([
        "--no-kernel-sync",
        "--prom",
        prom.to_str().unwrap(),
        &server,
    ]);
    let out = run_skew(&a, Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(std::fs::read_to_string(&prom)
        .unwrap()
        .contains("\nskew_kernel_readable 1\n"));

    // check: the full reason in the report; --no-kernel-sync does not hide it.
    let mut a = vec!["check", "--no-kernel-sync"];
    a.extend(fast);
    a.push(&server);
    let out = denied(owned(&a));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "  kernel discipline: could not read: adjtimex is denied (Operation not permitted"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  - kernel clock state unreadable: adjtimex denied"),
        "{}",
        out.stdout
    );

    // leap: says why it cannot read the kernel's state.
    let out = denied(owned(&["leap", "--file", &list]));
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("could not read: adjtimex is denied (Operation not permitted"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("ProtectClock="), "{}", out.stdout);
    let _ = std::fs::remove_dir_all(&d);
}

/// The example unit keeps its hardening but not ProtectClock=, and says why.
#[test]
fn the_example_unit_does_not_protect_the_clock() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/skew-monitor.service"
    ))
    .unwrap();
    let settings: Vec<&str> = unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .collect();
    assert!(
        !settings.iter().any(|l| l.starts_with("ProtectClock=")),
        "{settings:?}"
    );
    for kept in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
    ] {
        assert!(settings.contains(&kept), "{kept} missing: {settings:?}");
    }
    assert!(
        unit.contains("ProtectClock=") && unit.contains("seccomp") && unit.contains("adjtimex"),
        "the unit must say why ProtectClock= is not set"
    );
}
