//! `skew leap` against our own `skew serve`: a server announcing a leap second, and a
//! smearing server beside honest ones (the serve-based tests of the leap issue; the same
//! behaviours are also tested against real chronyd peers in leap_chrony.rs).

use crate::common::*;
use serde_json::Value;
use skew_testkit::SkewDaemon;
use std::path::Path;
use std::time::Duration;

fn data(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn serve(args: &[&str]) -> SkewDaemon {
    SkewDaemon::serve(Path::new(skew_bin()), args)
}

fn leap_json(args: &[&str]) -> (i32, Value) {
    let mut a = vec![
        "leap",
        "--json",
        "--no-kernel",
        "--timeout",
        "500ms",
        "--file",
    ];
    let list = data("leap-seconds.list");
    a.push(&list);
    a.extend_from_slice(args);
    let out = run_skew(&a, Duration::from_secs(60));
    (out.code, out.json())
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn skew_serve_leap_insert_is_reported_and_judged_against_the_list() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let ann = serve(&["--leap", "insert"]);
    // On the day of the 2016 leap, the announcement matches the list.
    let (code, v) = leap_json(&[
        "--at",
        "2016-12-31T12:00:00Z",
        "-n",
        "3",
        "--interval",
        "50ms",
        &ann.arg(),
    ]);
    assert_eq!(code, 0, "{v}");
    let s = &v["servers"][0];
    assert_eq!(s["leap"], "insert");
    assert_eq!(s["announces"], "insert");
    assert!(
        strings(&v, "notes").iter().any(|n| n
            .contains("announces the leap second 2016-12-31T23:59:60Z that the list schedules")),
        "{v}"
    );
    // Today the list schedules nothing (and has expired): the announcement is out of place.
    let (code, v) = leap_json(&["-n", "3", "--interval", "50ms", &ann.arg()]);
    assert_ne!(code, 0, "{v}");
    let w = strings(&v, "warnings");
    assert!(w.iter().any(|w| w.contains(&ann.arg())), "{w:?}");
}

#[test]
fn smearing_skew_serve_beside_honest_ones_is_flagged() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // A 24 h noon-to-noon smear around a leap one hour from now: −0.458 s and ramping at
    // −11.57 ppm against the honest servers, with LI = 0.
    let smear = serve(&["--smear-leap", "--leap-at", "+1h"]);
    let h1 = serve(&[]);
    let h2 = serve(&[]);
    let (code, v) = leap_json(&[
        "--at",
        "2016-12-31T18:00:00Z",
        "-n",
        "24",
        "--interval",
        "250ms",
        &smear.arg(),
        &h1.arg(),
        &h2.arg(),
    ]);
    let s = v["servers"].as_array().unwrap();
    assert_eq!(s[0]["smearing"], true, "{}", s[0]);
    assert_eq!(s[0]["leap"], "none");
    let rate = s[0]["rate_vs_majority_ppm"].as_f64().unwrap();
    // A few µs of per-sample noise over a few seconds: the rate is known to about ±1.5 ppm
    // (the chronyd-based test in leap_chrony.rs allows the same).
    assert!((rate + 11.574).abs() < 1.5, "rate {rate} ppm: {}", s[0]);
    let off = s[0]["offset_vs_majority_s"].as_f64().unwrap();
    assert!((off + 11.0 / 24.0).abs() < 0.01, "offset {off}: {}", s[0]);
    for h in &s[1..] {
        assert_eq!(h["smearing"], false, "{h}");
    }
    let w = strings(&v, "warnings");
    assert!(
        w.iter()
            .any(|w| w.contains("smeared and unsmeared servers are mixed")),
        "{w:?}"
    );
    assert_ne!(code, 0);
}
