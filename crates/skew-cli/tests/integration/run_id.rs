//! Issue 14.14: two concurrent monitors wrote the same `run_time` (2 of 156 runs) and the
//! report merged them. Each run now has an identity of its own in the log (`run_id`), the
//! report keeps runs apart by it, and logs begun before the column existed are still
//! appended to (in their own layout) and read.

use crate::common::*;
use skew_driftlog::{read_log, COLUMNS};
use std::path::PathBuf;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-runid-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn monitor(log: &str) -> Output {
    run_skew(
        &dead_port_run("monitor", &["--host", "h", "--log", log]),
        Duration::from_secs(30),
    )
}

fn report_json(log: &str, dir: &std::path::Path) -> serde_json::Value {
    let png = dir.join("r.png");
    let out = run_skew(
        &["report", log, "-o", png.to_str().unwrap(), "--json"],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn runs_that_start_together_stay_apart() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("together");
    let log = d.join("drift.csv");
    let log_s = log.to_str().unwrap();
    for _ in 0..2 {
        assert_eq!(monitor(log_s).code, 2);
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",run_id"), "{text}");
    let rows = read_log(&log).unwrap().rows;
    assert_eq!(rows.len(), 4);
    // Every row of a run carries the run's identity; the two runs' differ.
    assert!(rows
        .iter()
        .all(|(_, r)| r.run_id.as_ref().is_some_and(|i| i.len() == 16)));
    assert_eq!(rows[0].1.run_id, rows[1].1.run_id);
    assert_ne!(rows[1].1.run_id, rows[2].1.run_id);
    // Two monitors that started in the same nanosecond: the second run's rows with the
    // first run's time (what the issue saw, 2 of 156 runs).
    let lines: Vec<&str> = text.lines().collect();
    let t0 = rows[0].1.run_time.clone();
    let t1 = rows[2].1.run_time.clone();
    let collided = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        lines[0],
        lines[1],
        lines[2],
        lines[3].replace(&t1, &t0),
        lines[4].replace(&t1, &t0)
    );
    std::fs::write(&log, collided).unwrap();
    let v = report_json(log_s, &d);
    let h = &v["hosts"][0];
    assert_eq!(h["runs"], 2, "{h}");
    assert_eq!(h["concurrent_runs"], 1, "{h}");
    assert_eq!(h["no_majority_runs"], 2, "{h}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_log_begun_before_run_id_is_still_appended_to_and_read() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("old");
    let log = d.join("drift.csv");
    let log_s = log.to_str().unwrap();
    // Schema-1 logs as earlier versions wrote them: the first release's 36 columns (the
    // fuzzing seed), and the 40 columns with NTS.
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/seeds/drift_log/drift.csv"
    ))
    .unwrap();
    let first = seed.lines().next().unwrap().split(',').count();
    assert_eq!(first, 36);
    let with_nts: String = seed
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{}\n", COLUMNS[..40].join(","))
            } else {
                format!("{l},,,,\n")
            }
        })
        .collect();
    for (old, width) in [(seed.clone(), first), (with_nts, 40)] {
        assert!(width < COLUMNS.len() && COLUMNS[width..].contains(&"run_id"));
        std::fs::write(&log, &old).unwrap();
        let before_rows = read_log(&log).unwrap().rows.len();
        assert_eq!(monitor(log_s).code, 2);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with(&old), "nothing already written changed");
        // Fields as CSV counts them: an error text may hold a quoted comma.
        let widths: Vec<usize> = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().len())
            .collect();
        assert!(
            widths.len() >= 3 && widths.iter().all(|&w| w == width),
            "{widths:?}\n{text}"
        );
        let read = read_log(&log).unwrap();
        assert!(read.warnings.is_empty());
        assert_eq!(read.rows.len(), before_rows + 2);
        assert!(read.rows.iter().all(|(_, r)| r.run_id.is_none()));
        let v = report_json(log_s, &d);
        assert_eq!(v["rows_read"], before_rows as u64 + 2, "{v}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
