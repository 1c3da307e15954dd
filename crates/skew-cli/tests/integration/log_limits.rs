//! Drift logs from elsewhere: one rule for line ends (issue 14.13) and bounded memory for
//! decompression bombs, huge and sparse files (issue 14.4).

use crate::common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-loglimits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small drift log as `skew monitor` writes it (the fuzzing seed).
fn seed_log() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/seeds/drift_log/drift.csv"
    ))
    .unwrap()
}

/// Issue 14.13: `report` on a log with CR-only line ends said "nothing to report… 0 rows
/// read" (exit 2) while `monitor --log` refused the same file at line 1. One rule, in
/// skew-driftlog's reader: both refuse it at line 1.
#[test]
fn bare_cr_line_ends_are_refused_at_line_1_by_report_and_monitor() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("cr");
    let log = d.join("cr.csv");
    let cr: Vec<u8> = seed_log()
        .into_iter()
        .map(|b| if b == b'\n' { b'\r' } else { b })
        .collect();
    std::fs::write(&log, &cr).unwrap();
    let out = run_skew(
        &[
            "report",
            log.to_str().unwrap(),
            "-o",
            d.join("r.png").to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 65, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("cr.csv:1: not a skew drift log"),
        "{}",
        out.stderr
    );
    let out = run_skew(
        &dead_port_run("monitor", &["--log", log.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("cr.csv:1: not a skew drift log"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        cr,
        "the file is left as it was"
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn report(log: &Path, extra: &[&str]) -> Output {
    let png = log.with_extension("png");
    let mut args = vec!["report", log.to_str().unwrap(), "-o", png.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_skew(&args, Duration::from_secs(120))
}

/// The peak resident memory of `skew ARGS`, KiB (from /proc, after it exits: ru_maxrss of
/// the waited child).
fn peak_rss_kib(args: &[&str]) -> (Output, i64) {
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kib=%M", skew_bin()])
        .args(args)
        .output()
        .expect("/usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {stderr}"));
    (
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            elapsed: Duration::ZERO,
        },
        rss,
    )
}

/// Issue 14.4: a 1 MB gzip of 1 GB of zeros took 2.1 GB of memory before its error, a
/// 3 MB one aborted on allocation, a 2 GB sparse file took 4.2 GB and 11.6 s. Logs are now
/// read in blocks with a cap on the line length and on the (decompressed) size.
#[test]
fn bombs_and_huge_files_fail_fast_in_bounded_memory() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("/usr/bin/time");
    let d = tmpdir("bombs");
    // 3 GB of zeros in a 3 MB gzip: 3072 members of 1 MiB of zeros each (`MultiGzDecoder`
    // reads them all, as gzip -d does).
    let bomb = d.join("bomb.csv.gz");
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    std::fs::write(&bomb, member.repeat(3 * 1024)).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    // A 2 GB sparse file (zeros, no line end).
    let sparse = d.join("sparse.csv");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    for (file, why) in [
        (&bomb, "the first line is longer than"),
        (&sparse, "more than the limit of 1073741824 bytes"),
    ] {
        let png = d.join("r.png");
        let t0 = std::time::Instant::now();
        let (out, rss) = peak_rss_kib(&[
            "report",
            file.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
        ]);
        let took = t0.elapsed();
        assert_eq!(out.code, 65, "{file:?}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{file:?}: {}", out.stderr);
        assert!(rss < 200 * 1024, "{file:?}: peak RSS {rss} KiB");
        assert!(took < Duration::from_secs(10), "{file:?}: {took:?}");
        assert!(!png.exists());
    }
    // With the limit raised, the sparse file is read as a stream and refused at its first
    // line, still in bounded memory.
    let (out, rss) = peak_rss_kib(&[
        "report",
        sparse.to_str().unwrap(),
        "-o",
        d.join("r.png").to_str().unwrap(),
        "--max-log-bytes",
        "4G",
    ]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("sparse.csv:1: not a skew drift log: the first line is longer than"),
        "{}",
        out.stderr
    );
    assert!(rss < 200 * 1024, "peak RSS {rss} KiB");
    let _ = std::fs::remove_dir_all(&d);
}

/// A real log larger than the limit is refused with a message saying how to raise it, and
/// read whole once the limit is raised; gzipped logs count their decompressed bytes.
#[test]
fn the_size_limit_can_be_raised() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("limit");
    let seed = seed_log();
    let header_end = seed.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut text = seed.clone();
    while text.len() < 300_000 {
        text.extend_from_slice(&seed[header_end..]);
    }
    let plain = d.join("drift.csv");
    std::fs::write(&plain, &text).unwrap();
    let gz = d.join("drift.csv.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&text).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    for log in [&plain, &gz] {
        let out = report(log, &["--max-log-bytes", "100k"]);
        assert_eq!(out.code, 65, "{log:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("more than the limit of 102400 bytes")
                && out.stderr.contains("--max-log-bytes"),
            "{log:?}: {}",
            out.stderr
        );
        let out = report(log, &["--max-log-bytes", "1M", "--json"]);
        assert_eq!(out.code, 0, "{log:?}: {}", out.stderr);
        assert_eq!(out.json()["files"][0]["bytes"], text.len(), "{log:?}");
    }
    for bad in ["0", "-1", "1X", "lots"] {
        let out = report(&plain, &["--max-log-bytes", bad]);
        assert_eq!(out.code, 64, "{bad}: {}", out.stderr);
    }
    let _ = std::fs::remove_dir_all(&d);
}
