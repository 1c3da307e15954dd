//! Issue 14.12: a disk that filled during an append left half a run (1 of its 2 rows) that
//! no later run removed. A run's rows now go in whole or not at all. The full disk is a file
//! size limit (RLIMIT_FSIZE with SIGXFSZ ignored: the write that crosses it is cut short and
//! the next one fails with EFBIG, as ENOSPC would), set by `prlimit` on the monitor alone.

use crate::common::*;
use skew_driftlog::read_log;
use std::path::PathBuf;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-diskfull-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One run against a dead port: an `ntp` row and an `agreement` row.
fn monitor_args(log: &str) -> Vec<&str> {
    dead_port_run("monitor", &["--host", "h", "--log", log])
}

#[test]
fn a_run_that_hits_a_full_disk_leaves_no_row_behind() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("prlimit");
    let d = tmpdir("fsize");
    let log = d.join("drift.csv");
    let log_s = log.to_str().unwrap();
    let out = run_skew(&monitor_args(log_s), Duration::from_secs(30));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let before = std::fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = before.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 3, "header, ntp, agreement");
    // Room for exactly the next run's first row (every run's ntp row here has the same
    // length): the write is cut after it, and the agreement row fails.
    let limit = before.len() + lines[1].len();
    let script = format!("trap '' XFSZ; exec prlimit --fsize={limit}:{limit} \"$0\" \"$@\"");
    let out = run_wrapped(
        &["sh", "-c", &script],
        &monitor_args(log_s),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("File too large")
            && out.stdout.contains("none of this run's rows were kept"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the failed run left part of its rows"
    );
    // The next run appends as usual: two whole runs.
    let out = run_skew(&monitor_args(log_s), Duration::from_secs(30));
    assert_eq!(out.code, 2, "{}", out.stdout);
    let read = read_log(&log).unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.rows.len(), 4);
    let ids: std::collections::BTreeSet<_> =
        read.rows.iter().map(|(_, r)| r.run_id.clone()).collect();
    assert_eq!(ids.len(), 2, "two runs, each whole: {ids:?}");
    let _ = std::fs::remove_dir_all(&d);
}
