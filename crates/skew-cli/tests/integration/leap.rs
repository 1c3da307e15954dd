//! `skew leap` on the list fixtures in data/, the kernel of this machine, and usage errors.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;

fn data(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn leap(args: &[&str]) -> Output {
    let mut a = vec!["leap"];
    a.extend_from_slice(args);
    run_skew(&a, Duration::from_secs(30))
}

fn leap_json(file: &str, at: &str) -> (i32, Value) {
    let out = leap(&["--json", "--no-kernel", "--file", &data(file), "--at", at]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    (out.code, out.json())
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_2016_leap_is_next_and_tai_utc_goes_36_to_37() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (code, v) = leap_json("leap-seconds.list", "2016-12-31T12:00:00Z");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["at"], "2016-12-31T12:00:00Z");
    assert_eq!(v["at_is_now"], false);
    assert_eq!(v["status"], "ok");
    let l = &v["list"];
    assert!(l["path"]
        .as_str()
        .unwrap()
        .ends_with("data/leap-seconds.list"));
    assert_eq!(l["hash_ok"], true);
    assert_eq!(l["last_update"], "2026-07-06T07:44:57Z");
    assert_eq!(l["expires"], "2027-06-28T00:00:00Z");
    assert_eq!(l["expired"], false);
    assert_eq!(l["tai_minus_utc_s"], 36);
    assert_eq!(l["last_leap"]["second"], "2015-06-30T23:59:60Z");
    let next = &l["next_leap"];
    assert_eq!(next["second"], "2016-12-31T23:59:60Z");
    assert_eq!(next["at"], "2017-01-01T00:00:00Z");
    assert_eq!(next["kind"], "insert");
    assert_eq!(next["tai_minus_utc_before_s"], 36);
    assert_eq!(next["tai_minus_utc_after_s"], 37);
    assert_eq!(next["ntp_s"], 3_692_217_600i64);
    assert_eq!(next["mjd"], 57_754);
    assert!(v["kernel"].is_null(), "--no-kernel");
    assert_eq!(v["servers"], serde_json::json!([]));
    assert_eq!(warnings(&v), Vec::<String>::new());

    let (code, v) = leap_json("leap-seconds.list", "2017-01-01T00:00:01Z");
    assert_eq!(code, 0);
    assert_eq!(v["list"]["tai_minus_utc_s"], 37);
    assert_eq!(v["list"]["last_leap"]["second"], "2016-12-31T23:59:60Z");
    assert!(v["list"]["next_leap"].is_null());
    // The leap second itself still has the old value, and the report says the instant is
    // inside it (not "0.0 h away").
    let (code, v) = leap_json("leap-seconds.list", "2016-12-31T23:59:60.5Z");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["list"]["tai_minus_utc_s"], 36);
    assert_eq!(v["at"], "2016-12-31T23:59:60.500Z");
    assert_eq!(v["at_in_leap_second"], true);
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        ["list: the instant is inside the leap second 2016-12-31T23:59:60Z (insert): TAI − UTC is 36 s until its end, 37 s from 2017-01-01T00:00:00Z"]
    );
    let out = leap(&[
        "--no-kernel",
        "--file",
        &data("leap-seconds.list"),
        "--at",
        "2016-12-31T23:59:60.5Z",
    ]);
    assert!(
        out.stdout.starts_with(
            "Leap seconds as of 2016-12-31T23:59:60.500Z (--at, inside a leap second)"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("h away"), "{}", out.stdout);
}

/// A second 60 exists only where the list inserts a leap second: anywhere else `--at` is a
/// usage error (issue 13.6).
#[test]
fn a_second_60_without_a_leap_second_is_a_usage_error() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let list = data("leap-seconds.list");
    for (at, says) in [
        (
            "2016-06-30T23:59:60Z",
            "--at names a second 60, but there was no leap second at the end of 2016-06-30 (UTC)",
        ),
        (
            "2030-06-30T23:59:60Z",
            "schedules no leap second at the end of 2030-06-30",
        ),
        (
            "2016-12-31T12:59:60Z",
            "a second 60 exists only at 23:59:60 UTC",
        ),
    ] {
        let out = leap(&["--no-kernel", "--file", &list, "--at", at]);
        assert_eq!(out.code, 64, "{at}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "{at}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
    // The real ones pass: 2015-06-30 and 2016-12-31.
    for at in ["2015-06-30T23:59:60Z", "2016-12-31T23:59:60.999Z"] {
        let out = leap(&["--no-kernel", "--file", &list, "--at", at]);
        assert_eq!(out.code, 0, "{at}: {}", out.stderr);
    }
}

#[test]
fn tampered_list_is_critical_with_a_clear_message() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (code, v) = leap_json("leap-seconds.tampered.list", "2016-12-31T12:00:00Z");
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["status"], "critical");
    assert_eq!(v["list"]["hash_ok"], false);
    assert_eq!(v["list"]["hash"], "mismatch");
    let w = warnings(&v);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("list: bad hash: line 120 says 49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e, but the file's data hash to "),
        "{}",
        w[0]
    );
    let out = leap(&["--no-kernel", "--file", &data("leap-seconds.tampered.list")]);
    assert_eq!(out.code, 2);
    assert!(
        out.stdout.contains("[critical] list: bad hash"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Status: CRITICAL (exit 2)"));
}

#[test]
fn comment_edited_list_is_still_valid() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (code, v) = leap_json("leap-seconds.comment-edited.list", "2016-11-30T12:00:00Z");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["list"]["hash_ok"], true);
    assert_eq!(
        v["list"]["hash_computed"],
        "49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e"
    );
}

#[test]
fn expired_and_expiring_lists_warn() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // The January 2016 list expired on 2016-12-28 and never knew the 2016 leap.
    let (code, v) = leap_json("leap-seconds.expired.list", "2016-12-31T12:00:00Z");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["status"], "warning");
    assert_eq!(v["list"]["expired"], true);
    assert_eq!(v["list"]["hash_ok"], true);
    assert!(v["list"]["next_leap"].is_null());
    assert_eq!(v["list"]["days_since_expiry"], 3);
    assert!(warnings(&v)[0].starts_with("list: expired on 2016-12-28 (3 days ago)"));
    // tzdata 2025b's list as of late 2026: expired since 2026-06-28.
    let (code, v) = leap_json("leap-seconds.2025b.list", "2026-11-27T00:00:00Z");
    assert_eq!(code, 1);
    assert_eq!(v["list"]["expired"], true);
    assert_eq!(v["list"]["days_since_expiry"], 152);
    // Expiring within 30 days, and --expiry-warning-days.
    let (code, v) = leap_json("leap-seconds.2025b.list", "2026-06-10T00:00:00Z");
    assert_eq!(code, 1);
    assert_eq!(v["list"]["expiring_soon"], true);
    assert!(warnings(&v)[0].contains("expires on 2026-06-28 (in 18 days"));
    let out = leap(&[
        "--json",
        "--no-kernel",
        "--file",
        &data("leap-seconds.2025b.list"),
        "--at",
        "2026-06-10T00:00:00Z",
        "--expiry-warning-days",
        "7",
    ]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn truncated_or_missing_list_cannot_be_checked() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (code, v) = leap_json("leap-seconds.truncated.list", "2016-12-31T12:00:00Z");
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["status"], "unknown");
    assert!(v["list"]["hash_ok"].is_null());
    let e = v["list"]["error"].as_str().unwrap();
    assert!(
        e.ends_with("leap-seconds.truncated.list: line 111: expected a data line `NTP-seconds TAI-UTC [# comment]`, found \"35500\""),
        "{e}"
    );
    let (code, v) = leap_json("no-such-file.list", "2016-12-31T12:00:00Z");
    assert_eq!(code, 3);
    assert!(v["list"]["error"]
        .as_str()
        .unwrap()
        .starts_with("cannot read "));
    let out = leap(&[
        "--no-kernel",
        "--file",
        &data("leap-seconds.truncated.list"),
    ]);
    assert_eq!(out.code, 3);
    assert!(out.stdout.contains("line 111"), "{}", out.stdout);
    assert!(out.stdout.contains("Status: UNKNOWN (exit 3)"));
}

#[test]
fn usage_errors() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    for args in [
        &["--at", "2016-13-01"][..],
        &["--at", "yesterday"],
        &["--expiry-warning-days", "-1"],
        &["--bogus"],
    ] {
        let out = leap(args);
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
    }
    let out = leap(&["--at", "2016-12-31T25:00:00Z"]);
    assert!(
        out.stderr.contains("expected e.g. 2016-12-31T12:00:00Z"),
        "{}",
        out.stderr
    );
    let out = leap(&[
        "--no-kernel",
        "--file",
        &data("leap-seconds.list"),
        "127.0.0.1:99999",
    ]);
    assert_eq!(out.code, 64, "{}", out.stderr);
}

/// Once for real on this machine: the kernel is read (read-only) and judged. Nothing about
/// its state is assumed (this machine kind is undisciplined: TIME_ERROR, UNSYNC, tai 0).
#[test]
fn the_kernel_of_this_machine() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let out = leap(&[
        "--json",
        "--file",
        &data("leap-seconds.list"),
        "--at",
        "2017-03-01T00:00:00Z",
    ]);
    let v = out.json();
    let k = &v["kernel"];
    assert!(k["error"].is_null(), "{k}");
    let state = k["state"].as_str().unwrap();
    assert!(
        [
            "TIME_OK",
            "TIME_INS",
            "TIME_DEL",
            "TIME_OOP",
            "TIME_WAIT",
            "TIME_ERROR"
        ]
        .contains(&state),
        "{state}"
    );
    assert!(k["leap_armed"].is_boolean());
    let tai = k["tai_s"].as_i64().unwrap();
    assert_eq!(k["expected_tai_s"], 37);
    let w = warnings(&v);
    if tai == 0 {
        assert_eq!(out.code, 1, "{w:?}");
        assert!(
            w.iter()
                .any(|w| w.starts_with("kernel: TAI offset unset (0)")),
            "{w:?}"
        );
    } else {
        assert_eq!(k["tai_matches_list"], tai == 37);
    }
    let out = leap(&[
        "--file",
        &data("leap-seconds.list"),
        "--at",
        "2017-03-01T00:00:00Z",
    ]);
    assert!(
        out.stdout.contains("Kernel (adjtimex, read-only)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("TAI offset        {tai} s")),
        "{}",
        out.stdout
    );
}
