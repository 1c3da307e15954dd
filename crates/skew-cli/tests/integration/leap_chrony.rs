//! `skew leap` against real chronyd peers on loopback: a leap second really announced by
//! chronyd (`leapsectz right/UTC` under libfaketime on 2016-12-31), and a server that really
//! smears (a chronyd following an upstream whose clock libfaketime runs 11.574 ppm slow).
//!
//! Every chronyd runs with `-x` (never touches the system clock) and is stopped by PID.

use crate::common::*;
use serde_json::Value;
use skew_ntp::packet::Leap;
use skew_testkit::chrony::Ready;
use skew_testkit::ntp::query;
use skew_testkit::{Chronyd, LIBFAKETIME};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn data(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// libfaketime's FAKETIME for a clock that reads `target_unix_s` now and then runs on: a
/// whole-second relative offset, identical for every process that gets it.
fn faketime_at(target_unix_s: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    format!("{:+}", target_unix_s - now)
}

/// A chronyd pair living on `day` (fake time): a `local stratum 8` upstream, and a follower
/// with `leapsectz right/UTC` (chronyd takes leap seconds from the right/UTC zone, and
/// only on 30 June or 31 December). Returns (upstream, follower).
fn leap_pair(target_unix_s: i64) -> (Chronyd, Chronyd) {
    let fake = faketime_at(target_unix_s);
    let env = [
        ("LD_PRELOAD", LIBFAKETIME),
        ("FAKETIME", fake.as_str()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    let up = Chronyd::start(&["local stratum 8"], &env, Ready::Answers)
        .unwrap_or_else(|e| panic!("{e}"));
    let line = format!(
        "server 127.0.0.1 port {} iburst minpoll -6 maxpoll -6",
        up.port
    );
    let follower = Chronyd::start(
        &[&line, "leapsectz right/UTC"],
        &env,
        Ready::SyncedAtStratum(9),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (up, follower)
}

/// `skew leap --json --no-kernel` with fast probing (`--interval` given by the caller).
fn leap_json(interval: &str, args: &[&str]) -> (i32, Value, String) {
    let mut a = vec![
        "leap",
        "--json",
        "--no-kernel",
        "--interval",
        interval,
        "--timeout",
        "500ms",
    ];
    a.extend_from_slice(args);
    let out = run_skew(&a, Duration::from_secs(60));
    let v = out.json();
    (out.code, v, out.stderr)
}

fn texts(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

const LEAP_DAY_NOON: i64 = 1_483_185_600; // 2016-12-31T12:00:00Z

#[test]
fn chronyd_announces_the_2016_leap_and_it_is_judged_against_the_list() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let (up, ann) = leap_pair(LEAP_DAY_NOON);
    // Precondition, checked rather than assumed: in this setup chronyd really sends LI = 1.
    let a = query(ann.addr_v4(), Duration::from_secs(1)).expect("follower answers");
    assert_eq!(a.leap, Leap::Insert, "chronyd log:\n{}", ann.log());
    let u = query(up.addr_v4(), Duration::from_secs(1)).expect("upstream answers");
    assert_eq!(
        u.leap,
        Leap::None,
        "a `local stratum` server never announces"
    );

    // The announcement matches the list.
    let list = data("leap-seconds.list");
    let (code, v, err) = leap_json(
        "50ms",
        &[
            "--file",
            &list,
            "--at",
            "2016-12-31T12:00:00Z",
            "-n",
            "3",
            &ann.arg(),
        ],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    let s = &v["servers"][0];
    assert_eq!(s["server"], ann.arg());
    assert_eq!(s["leap"], "insert");
    assert_eq!(s["announces"], "insert");
    assert_eq!(s["smearing"], false);
    assert_eq!(s["stratum"], 9);
    assert!(
        s["server_time"]
            .as_str()
            .unwrap()
            .starts_with("2016-12-31T12:0"),
        "{s}"
    );
    assert_eq!(texts(&v, "warnings"), Vec::<String>::new());
    let notes = texts(&v, "notes");
    assert!(
        notes.contains(&format!(
            "{}: announces the leap second 2016-12-31T23:59:60Z that the list schedules",
            ann.arg()
        )),
        "{notes:?}"
    );

    // Beside a server that does not announce it, on the leap day: critical.
    let (code, v, _) = leap_json(
        "50ms",
        &[
            "--file",
            &list,
            "--at",
            "2016-12-31T12:00:00Z",
            "-n",
            "3",
            &ann.arg(),
            &up.arg(),
        ],
    );
    assert_eq!(code, 2, "{v}");
    let w = texts(&v, "warnings");
    assert!(
        w.iter().any(|w| w.starts_with(
            "servers: servers disagree about a leap second at the end of today (2016-12-31)"
        )),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.starts_with(&format!("{}: does not announce the leap second", up.arg()))),
        "{w:?}"
    );

    // Judged as of mid-November 2016, the same announcement is out of place.
    let (code, v, _) = leap_json(
        "50ms",
        &[
            "--file",
            &list,
            "--at",
            "2016-11-15T12:00:00Z",
            "-n",
            "2",
            &ann.arg(),
        ],
    );
    assert_eq!(code, 1, "{v}");
    let w = texts(&v, "warnings");
    assert!(
        w.iter()
            .any(|w| w.contains("announces a leap second (insert) in November 2016")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("at the end of November 2016 that the list does not schedule")),
        "{w:?}"
    );

    // With the January 2016 list (expired on 2016-12-28), it cannot be confirmed.
    let (code, v, _) = leap_json(
        "50ms",
        &[
            "--file",
            &data("leap-seconds.expired.list"),
            "--at",
            "2016-12-31T12:00:00Z",
            "-n",
            "2",
            &ann.arg(),
        ],
    );
    assert_eq!(code, 1, "{v}");
    let w = texts(&v, "warnings");
    assert!(
        w.iter()
            .any(|w| w.contains("that the list cannot confirm (it expired on 2016-12-28)")),
        "{w:?}"
    );
}

#[test]
fn chronyd_on_an_ordinary_day_does_not_announce() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // The same setup on 2016-11-15: no leap second at the end of that day, LI = 0.
    let (_up, follower) = leap_pair(LEAP_DAY_NOON - 46 * 86_400);
    let a = query(follower.addr_v4(), Duration::from_secs(1)).expect("follower answers");
    assert_eq!(a.leap, Leap::None, "chronyd log:\n{}", follower.log());
    let (code, v, _) = leap_json(
        "50ms",
        &[
            "--file",
            &data("leap-seconds.list"),
            "--at",
            "2016-11-15T12:00:00Z",
            "-n",
            "2",
            &follower.arg(),
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["servers"][0]["leap"], "none");
    assert!(v["servers"][0]["announces"].is_null());
}

#[test]
fn a_smearing_chronyd_beside_honest_ones_is_flagged() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // The smearing server: a chronyd following an upstream whose clock libfaketime runs
    // 11.574 ppm slow (x0.9999884: the 24 h noon-to-noon smear) from +2 s; the follower's
    // `offset -2` takes the 2 s away, so it serves true time minus a linear ramp, LI = 0,
    // with consistent kernel timestamps of its own. (Below 1 s libfaketime mixes chronyd's
    // kernel receive timestamps with faked transmit ones, hence the detour.)
    let slow = Chronyd::start(
        &["local stratum 8"],
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", "+2 x0.9999884"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
        Ready::Answers,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let smear = Chronyd::follower(slow.port, "-2");
    let h1 = Chronyd::server();
    let h2 = Chronyd::server();
    let (code, v, err) = leap_json(
        "500ms",
        &[
            "--file",
            &data("leap-seconds.list"),
            "--at",
            "2016-12-31T18:00:00Z",
            "-n",
            "30",
            &smear.arg(),
            &h1.arg(),
            &h2.arg(),
        ],
    );
    let s = v["servers"].as_array().unwrap();
    assert_eq!(s.len(), 3, "{v}\n{err}");
    assert_eq!(s[0]["smearing"], true, "{}", s[0]);
    assert_eq!(s[0]["leap"], "none");
    let rate = s[0]["rate_vs_majority_ppm"].as_f64().unwrap();
    assert!((rate + 11.574).abs() < 1.5, "rate {rate} ppm: {}", s[0]);
    let off = s[0]["offset_vs_majority_s"].as_f64().unwrap();
    assert!(off.abs() < 0.01, "offset {off}: {}", s[0]);
    assert_eq!(s[0]["in_majority"], false);
    for h in &s[1..] {
        assert_eq!(h["smearing"], false, "{h}");
        assert_eq!(h["in_majority"], true, "{h}");
        assert!(
            h["rate_vs_majority_ppm"].as_f64().unwrap().abs() < 1.0,
            "{h}"
        );
    }
    let w = texts(&v, "warnings");
    assert!(
        w.iter().any(|w| w.starts_with(&format!(
            "servers: smeared and unsmeared servers are mixed: {} smears, {}, {} do not",
            smear.arg(),
            h1.arg(),
            h2.arg()
        ))),
        "{w:?}"
    );
    // All keep LI = 0: no disagreement; the honest ones miss the list's leap (warnings).
    assert!(!w.iter().any(|w| w.contains("disagree")), "{w:?}");
    assert_eq!(code, 1, "{w:?}");
    assert_eq!(
        v["smear"]["majority"],
        serde_json::json!([h1.arg(), h2.arg()])
    );
}
