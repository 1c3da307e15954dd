//! `skew report` end to end: a report from a real drift log written by `skew monitor`
//! against chronyd peers on loopback (one of them a liar), the statistics CSV, and the
//! errors that must leave no image behind.

use crate::common::*;
use skew_testkit::Chronyd;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-report-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Width and height from a PNG's IHDR chunk (panics when it is not a PNG).
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// The names in a directory (to check that no temporary file is left behind).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn report(args: &[&str]) -> Output {
    let mut a = vec!["report"];
    a.extend_from_slice(args);
    run_skew(&a, Duration::from_secs(60))
}

const HEADER: &str = "schema,run_time,host,kind,server,address,status,offset_s,delay_s,jitter_s,bound_lo_s,bound_hi_s,utc_lo_s,utc_hi_s,stratum,leap,root_delay_s,root_dispersion_s,truechimer,truechimers,falsetickers,error,rate_ppm,rate_ci95_ppm,kernel_freq_ppm,kernel_state,kernel_synchronized,steps,step_max_s,suspended_s,pause_max_s,pause_p99_s,pause_events,leap_expires,tai_minus_utc_s,leap_next";

#[test]
fn report_from_a_real_monitor_log() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let truth = Chronyd::server();
    let liar = Chronyd::follower(truth.port, "0.25");
    let d = tmpdir("real");
    let log = d.join("drift.csv");
    let runs = 6;
    for _ in 0..runs {
        let out = run_skew(
            &[
                "monitor",
                "-n",
                "2",
                "--interval",
                "10ms",
                "--timeout",
                "300ms",
                "--clock-duration",
                "100ms",
                "--min-agree",
                "2",
                "--log",
                log.to_str().unwrap(),
                &truth.arg(),
                &truth.addr_v6().to_string(),
                &liar.arg(),
            ],
            Duration::from_secs(30),
        );
        assert!(out.code <= 1, "monitor: {}{}", out.stdout, out.stderr);
    }
    let png = d.join("report.png");
    let csv = d.join("stats.csv");
    let out = report(&[
        log.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--stats-csv",
        csv.to_str().unwrap(),
        "--lease",
        "10s",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(png_size(&png), (1600, 1400));
    assert_eq!(names(&d), vec!["drift.csv", "report.png", "stats.csv"]);
    let v = out.json();
    // Each run wrote three ntp rows, an agreement, a clock and a leap row.
    assert_eq!(v["rows_read"], runs * 6, "{v}");
    assert_eq!(v["rows_used"], runs * 6);
    assert_eq!(v["hosts"][0]["runs"], runs);
    let servers = v["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 3);
    let liar_row = servers
        .iter()
        .find(|s| s["server"] == liar.arg())
        .expect("the liar's series");
    assert_eq!(liar_row["falseticker"], runs, "{liar_row}");
    let median = liar_row["offset_median_s"].as_f64().unwrap();
    assert!((median - 0.25).abs() < 1e-3, "liar median {median}");
    for s in servers.iter().filter(|s| s["server"] != liar.arg()) {
        assert_eq!(s["truechimer"], runs, "{s}");
        assert!(s["offset_median_s"].as_f64().unwrap().abs() < 1e-3, "{s}");
    }
    // One host: the clocks compared are this host and its servers, run by run. The liar,
    // 0.25 s from everyone, is a falseticker in every run and left out (issue 13: it would
    // set the bound and the lease by its lie): the honest clocks are µs apart.
    let p = &v["pairwise_skew"];
    assert_eq!(p["basis"], "servers");
    let bound = p["bound_s"].as_f64().unwrap();
    assert!(bound < 1e-3, "{p}");
    assert_eq!(p["left_out"], serde_json::json!([liar.arg()]), "{p}");
    assert!(p["ahead"] != liar.arg() && p["behind"] != liar.arg(), "{p}");
    assert_eq!(p["clocks"], 3, "{p}");
    let lease = &v["lease"];
    assert_eq!(lease["pause_observed"], false, "no pause rows yet: {lease}");
    let margin = lease["margin_s"].as_f64().unwrap();
    assert!((margin - (bound + 10.0 * 50e-6)).abs() < 2e-9, "{lease}");
    // The kernel frequency is in every clock row; the rate is not (yet).
    let metrics: Vec<(String, String)> = v["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["metric"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(metrics.contains(&("clock".into(), "kernel_freq_ppm".into())));
    assert!(metrics.contains(&("agreement".into(), "offset_s".into())));
    assert_eq!(
        metrics
            .iter()
            .filter(|(_, m)| m == "offset_s" || m == "delay_s")
            .count(),
        3 * 2 + 1
    );

    // --stats-csv: a header and the same rows and numbers as the JSON.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "host", "source", "metric", "count", "min", "p1", "p5", "p50", "p95", "p99", "max",
            "range_90", "range_98", "mean", "stddev"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let stats = v["stats"].as_array().unwrap();
    assert_eq!(rows.len(), stats.len());
    for (row, s) in rows.iter().zip(stats) {
        assert_eq!(&row[1], s["source"].as_str().unwrap());
        assert_eq!(&row[2], s["metric"].as_str().unwrap());
        assert_eq!(row[3].parse::<u64>().unwrap(), s["count"].as_u64().unwrap());
        for (i, k) in [
            (4, "min"),
            (7, "p50"),
            (10, "max"),
            (13, "mean"),
            (14, "stddev"),
        ] {
            let a: f64 = row[i].parse().unwrap();
            let b = s[k].as_f64().unwrap();
            // serde_json's reader may round the last bit differently (no float_roundtrip).
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * a.abs(),
                "{k}: csv {a} json {b}"
            );
        }
        let (min, p50, max) = (
            row[4].parse::<f64>().unwrap(),
            row[7].parse::<f64>().unwrap(),
            row[10].parse::<f64>().unwrap(),
        );
        assert!(min <= p50 && p50 <= max);
    }
    let liar_offset = rows
        .iter()
        .find(|r| r[1] == liar.arg() && &r[2] == "offset_s")
        .unwrap();
    assert_eq!(&liar_offset[3], runs.to_string().as_str());

    // The human summary, with a server filter: only the honest server's series.
    let out = report(&[
        log.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
        "--server",
        &truth.arg(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 server series"), "{}", out.stdout);
    assert!(out.stdout.contains("no falsetickers"), "{}", out.stdout);
}

#[test]
fn bad_logs_give_an_error_and_no_image() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("bad");
    let png = d.join("report.png");
    let png_s = png.to_str().unwrap();
    let good_row =
        "1,2026-11-20T00:00:00.000000000Z,h,pause,,,,,,,,,,,,,,,,,,,,,,,,,,,0.001,0.0001,0,,,";
    // An empty file, a foreign CSV, a malformed row: exit 65, naming file and line.
    let cases = [
        (
            "empty.csv",
            String::new(),
            "empty.csv: empty drift log".to_string(),
        ),
        (
            "foreign.csv",
            "name,value\nx,1\n".to_string(),
            "foreign.csv:1: not a skew drift log".to_string(),
        ),
        (
            "malformed.csv",
            format!(
                "{HEADER}\n{good_row}\n{}\n{good_row}\n",
                good_row.replace("0.001", "fast")
            ),
            "malformed.csv:3: malformed row: pause_max_s: invalid number \"fast\"".to_string(),
        ),
        (
            "short.csv",
            format!("{HEADER}\n{good_row}\n1,2026-11-20T00:00:00Z,h,ntp\n{good_row}\n"),
            "short.csv:3: malformed row: 4 fields, the header has 36".to_string(),
        ),
        (
            "newer.csv",
            format!("{HEADER}\n{}\n", good_row.replacen('1', "2", 1)),
            "newer.csv:2: not a skew drift log: schema version 2".to_string(),
        ),
    ];
    for (name, content, msg) in cases {
        let log = d.join(name);
        std::fs::write(&log, content).unwrap();
        // An existing report is left as it was.
        std::fs::write(&png, b"old").unwrap();
        let out = report(&[log.to_str().unwrap(), "-o", png_s]);
        assert_eq!(out.code, 65, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(&msg), "{name}: {}", out.stderr);
        assert_eq!(std::fs::read(&png).unwrap(), b"old", "{name}");
        std::fs::remove_file(&png).unwrap();
        std::fs::remove_file(&log).unwrap();
    }
    // A good log next to a bad one: still no image.
    let good = d.join("good.csv");
    std::fs::write(&good, format!("{HEADER}\n{good_row}\n")).unwrap();
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "").unwrap();
    let out = report(&[good.to_str().unwrap(), bad.to_str().unwrap(), "-o", png_s]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(!png.exists());
    std::fs::remove_file(&bad).unwrap();

    // A missing file or a pattern matching nothing: 66.
    let out = report(&[d.join("nope.csv").to_str().unwrap(), "-o", png_s]);
    assert_eq!(out.code, 66, "{}", out.stderr);
    assert!(
        out.stderr.contains("nope.csv: no such file"),
        "{}",
        out.stderr
    );
    // Nothing in the selected range: 2, saying what the log holds.
    let out = report(&[good.to_str().unwrap(), "-o", png_s, "--since", "2030-01-01"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the logs run from 2026-11-20T00:00:00Z"),
        "{}",
        out.stderr
    );
    // Usage errors: 64.
    for bad_args in [
        vec!["--since", "yesterday"],
        vec!["--width", "10"],
        vec!["--since", "2026-11-21", "--until", "2026-11-20"],
    ] {
        let mut a = vec![good.to_str().unwrap(), "-o", png_s];
        a.extend(bad_args.iter().copied());
        let out = report(&a);
        assert_eq!(out.code, 64, "{bad_args:?}: {}", out.stderr);
    }
    // An output that cannot be written: 73, and no temporary file anywhere.
    let out = report(&[
        good.to_str().unwrap(),
        "-o",
        d.join("no/such/dir/r.png").to_str().unwrap(),
    ]);
    assert_eq!(out.code, 73, "{}", out.stderr);
    assert!(!png.exists());
    assert_eq!(names(&d), vec!["good.csv"]);
    // The good log alone: a report whose empty panels say "no data".
    let out = report(&[good.to_str().unwrap(), "-o", png_s, "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(png_size(&png), (1600, 1400));
    assert!(out.json()["servers"].as_array().unwrap().is_empty());
}

#[test]
fn torn_last_line_rotated_files_and_time_filters() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("rotated");
    let row =
        |t: &str, max: &str| format!("1,{t},h,pause,,,,,,,,,,,,,,,,,,,,,,,,,,,{max},0.0001,0,,,");
    // drift.csv.1 (older, rotated) and drift.csv (newer, its last line torn by a kill).
    std::fs::write(
        d.join("drift.csv.1"),
        format!(
            "{HEADER}\n{}\n{}\n",
            row("2026-11-20T00:00:00Z", "0.001"),
            row("2026-11-20T00:01:00Z", "0.002")
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("drift.csv"),
        format!(
            "{HEADER}\n{}\n1,2026-11-20T00:03:00Z,h,pa",
            row("2026-11-20T00:02:00Z", "0.5")
        ),
    )
    .unwrap();
    let png = d.join("r.png");
    let pattern = format!("{}/drift.csv*", d.display());
    let out = report(&[&pattern, "-o", png.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("drift.csv:3: torn last line skipped"),
        "{}",
        out.stderr
    );
    let v = out.json();
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["rows_read"], 3);
    assert_eq!(v["longest_pause_s"], 0.5);
    assert_eq!(v["long_pauses"].as_array().unwrap().len(), 1);
    assert_eq!(v["from"], "2026-11-20T00:00:00Z");
    assert_eq!(v["until"], "2026-11-20T00:02:00Z");
    // --since/--until keep the middle run only.
    let out = report(&[
        &pattern,
        "-o",
        png.to_str().unwrap(),
        "--json",
        "--since",
        "2026-11-20T00:00:30Z",
        "--until",
        "2026-11-20T00:01:30Z",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(
        (v["rows_read"].as_u64(), v["rows_used"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(v["longest_pause_s"], 0.002);
    // A relative --since far back keeps everything.
    let out = report(&[
        &pattern,
        "-o",
        png.to_str().unwrap(),
        "--json",
        "--since",
        "100000d",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["rows_used"], 3);
}

/// Issue 14.5: one finite huge value (1e300) in `delay_s`, `pause_max_s` or `pause_p99_s`
/// aborted `skew report` on a 4–8 GiB allocation in the axis ticks. It now clamps the
/// axis, writes the report, and prints the value as it is (not a saturated 292 years).
#[test]
fn a_huge_finite_value_still_makes_a_report() {
    let d = tmpdir("huge");
    let png = d.join("r.png");
    let ntp = |t: &str, delay: &str| {
        format!("1,{t},h,ntp,a,a:123,ok,0.000001,{delay},,-0.00001,0.00001,-0.00002,0.00002,8,none,,,true,,,,,,,,,,,,,,,,,")
    };
    let pause = |t: &str, max: &str, p99: &str| {
        format!("1,{t},h,pause,,,,,,,,,,,,,,,,,,,,,,,,,,,{max},{p99},0,,,")
    };
    for (name, rows) in [
        (
            "delay",
            [
                ntp("2026-11-20T00:00:00Z", "0.00002"),
                ntp("2026-11-20T00:00:10Z", "1e300"),
                ntp("2026-11-20T00:00:20Z", "0.00003"),
            ],
        ),
        (
            "pause_max",
            [
                pause("2026-11-20T00:00:00Z", "0.001", "0.0001"),
                pause("2026-11-20T00:00:10Z", "1e300", "0.0001"),
                pause("2026-11-20T00:00:20Z", "0.002", "0.0001"),
            ],
        ),
        (
            "pause_p99",
            [
                pause("2026-11-20T00:00:00Z", "0.001", "0.0001"),
                pause("2026-11-20T00:00:10Z", "0.001", "1e300"),
                pause("2026-11-20T00:00:20Z", "0.002", "0.0001"),
            ],
        ),
    ] {
        let log = d.join(format!("{name}.csv"));
        std::fs::write(&log, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
        let out = report(&[log.to_str().unwrap(), "-o", png.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        assert_eq!(png_size(&png), (1600, 1400), "{name}");
        // The statistics table has delay_s and pause_max_s (not the p99).
        if name != "pause_p99" {
            assert!(out.stdout.contains("1.000e300s"), "{name}: {}", out.stdout);
        }
        std::fs::remove_file(&png).unwrap();
    }
}

/// Issue 14.2: host and server names from a log (`\x1b[31mEVIL`) reached the terminal raw
/// in the summary, the events, the statistics table, the warnings and the errors. They are
/// printed escaped; JSON keeps them as they are (JSON escapes them itself).
#[test]
fn control_characters_from_a_log_never_reach_the_terminal() {
    let d = tmpdir("escape");
    let png = d.join("r.png");
    let host = "\x1b[31mEVIL\x1b]0;owned\x07";
    let server = "srv\x1b[2J\u{9b}1;1H\u{202e}";
    let ntp = |t: &str, truechimer: &str| {
        format!("1,{t},{host},ntp,{server},{server},ok,0.000001,0.00002,,-0.00001,0.00001,-0.00002,0.00002,8,none,,,{truechimer},,,,,,,,,,,,,,,,,")
    };
    let leap = |t: &str| {
        format!(
            "1,{t},{host},leap,,,expired\x1b[5m,,,,,,,,,,,,,,,,,,,,,,,,,,,2026-06-28T00:00:00Z,37,"
        )
    };
    let rows = [
        ntp("2026-11-20T00:00:00Z", "false"),
        leap("2026-11-20T00:00:00Z"),
        ntp("2026-11-20T00:00:10Z", "false"),
        leap("2026-11-20T00:00:10Z"),
    ];
    // The file name itself carries an escape, and its last line is torn: a warning
    // naming it.
    let log = d.join("drift\x1b[8m.csv");
    std::fs::write(
        &log,
        format!("{HEADER}\n{}\n1,2026-11-20T00:00:20Z,x", rows.join("\n")),
    )
    .unwrap();
    let out = report(&[log.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.contains(['\x1b', '\x07', '\u{9b}', '\u{202e}']),
            "{what}: {text:?}"
        );
    }
    assert!(
        out.stdout.contains("\\x1b[31mEVIL\\x1b]0;owned\\x07"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("srv\\x1b[2J\\u{9b}1;1H\\u{202e}"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("leap list expired\\x1b[5m"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("drift\\x1b[8m.csv:6: torn last line"),
        "{}",
        out.stderr
    );
    // JSON carries the names exactly (escaped by JSON itself).
    let out = report(&[log.to_str().unwrap(), "-o", png.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["hosts"][0]["host"], host);
    assert_eq!(out.json()["servers"][0]["server"], server);
    // Errors name the file escaped too.
    std::fs::write(
        &log,
        format!(
            "{HEADER}\n{}\n{}\n",
            rows[0],
            rows[0].replace("0.00002", "x")
        ),
    )
    .unwrap();
    let out = report(&[log.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    assert!(
        out.stderr.contains("drift\\x1b[8m.csv:3: malformed row"),
        "{}",
        out.stderr
    );
}
