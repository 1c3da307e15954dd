//! Which leap-seconds.list the commands use (issue 13.3): the freshest usable one of the
//! system's and skew's cache, named in every output; and what `check` and the Nagios line
//! say about an expired list.

use crate::common::*;
use skew_testkit::Chronyd;
use std::path::PathBuf;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-inuse-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data(name: &str) -> String {
    format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A cache holding a list fresher than any system's (valid until 2042) is used by `leap`,
/// `check`, `monitor` and `clocks`, each saying so; a cache whose hash fails is passed over
/// for the system's, however late its expiry.
#[test]
fn the_freshest_valid_list_is_used_and_named() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let cache = tmpdir("cache");
    let cache_s = cache.to_str().unwrap();
    let env = [("SKEW_CACHE_DIR", cache_s)];
    let listed = cache.join("leap-seconds.list");

    // An empty cache: the system's list.
    let out = run_skew_env(
        &["leap", "--json", "--no-kernel"],
        &env,
        Duration::from_secs(20),
    );
    let v = out.json();
    assert_eq!(v["list"]["source"], "system", "{v}");

    // A fresher cache wins, and the notes say why the system's was not used.
    fresh_leap_list(&cache, "leap-seconds.list");
    let out = run_skew_env(
        &["leap", "--json", "--no-kernel"],
        &env,
        Duration::from_secs(20),
    );
    let v = out.json();
    assert_eq!(v["list"]["source"], "cache", "{v}");
    assert_eq!(v["list"]["path"], listed.to_str().unwrap());
    assert_eq!(v["list"]["expires"], "2042-08-07T08:00:00Z");
    let notes = strings(&v["notes"]);
    assert!(
        notes.iter().any(|n| n.starts_with(&format!(
            "list: using skew's cache {}: the system's ",
            listed.display()
        )) && n.contains("expires earlier, on ")),
        "{notes:?}"
    );
    let out = run_skew_env(&["leap", "--no-kernel"], &env, Duration::from_secs(20));
    assert!(
        out.stdout.contains(&format!(
            "Leap-seconds list  {} (skew's cache)",
            listed.display()
        )),
        "{}",
        out.stdout
    );
    // --file still means that file.
    let out = run_skew_env(
        &[
            "leap",
            "--json",
            "--no-kernel",
            "--file",
            &data("leap-seconds.2025b.list"),
        ],
        &env,
        Duration::from_secs(20),
    );
    assert_eq!(out.json()["list"]["source"], "given");

    // check and monitor name it too.
    let c = Chronyd::server();
    let out = run_skew_env(
        &[
            "check",
            "-n",
            "1",
            "--clock-duration",
            "50ms",
            "--min-agree",
            "1",
            "--json",
            &c.arg(),
        ],
        &env,
        Duration::from_secs(30),
    );
    let v = out.json();
    let leap = &v["report"]["leap"];
    assert_eq!(leap["source"], "cache", "{leap}");
    assert_eq!(leap["path"], listed.to_str().unwrap());
    assert_eq!(leap["status"], "ok");
    let out = run_skew_env(
        &[
            "check",
            "-n",
            "1",
            "--clock-duration",
            "50ms",
            "--min-agree",
            "1",
            &c.arg(),
        ],
        &env,
        Duration::from_secs(30),
    );
    assert!(
        out.stdout.contains(&format!(
            "  list used: {} (skew's cache; the system's ",
            listed.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("no leap second scheduled up to its expiry"),
        "{}",
        out.stdout
    );

    // clocks names the list it compared TAI − UTC with.
    let out = run_skew_env(
        &["clocks", "--json", "--duration", "200ms"],
        &env,
        Duration::from_secs(30),
    );
    let v = out.json();
    let file = v["tai"]["list_file"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", v["tai"]));
    assert!(
        file.starts_with(&format!("{} (skew's cache", listed.display())),
        "{file}"
    );

    // A cache that fails its hash is passed over, whatever it claims.
    std::fs::copy(data("leap-seconds.tampered.list"), &listed).unwrap();
    let out = run_skew_env(
        &["leap", "--json", "--no-kernel"],
        &env,
        Duration::from_secs(20),
    );
    let v = out.json();
    assert_eq!(v["list"]["source"], "system", "{v}");
    let notes = strings(&v["notes"]);
    assert!(
        notes.iter().any(|n| n.ends_with(&format!(
            "skew's cache {} fails its #h hash (mismatch)",
            listed.display()
        ))),
        "{notes:?}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// An expired list never gives "no leap second scheduled": `check` says it cannot tell and
/// how to renew the list; the Nagios line keeps one short clause without the advice.
#[test]
fn an_expired_list_cannot_tell_and_nagios_keeps_it_short() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let c = Chronyd::server();
    let expired = data("leap-seconds.2025b.list");
    let server = c.arg();
    let base = [
        "-n",
        "1",
        "--clock-duration",
        "50ms",
        "--min-agree",
        "1",
        "--no-kernel-sync",
        "--leap-file",
    ];
    let mut args = vec!["check"];
    args.extend(base);
    args.extend([expired.as_str(), &server]);
    let out = run_skew(&args, Duration::from_secs(30));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains("no leap second scheduled"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Leap seconds: list expired on 2026-06-28, TAI − UTC 37 s; it cannot tell whether a leap second is scheduled after that: run `skew leap --fetch` or install a current tzdata"
        ),
        "{}",
        out.stdout
    );
    let mut args = vec!["monitor"];
    args.extend(base);
    args.extend([expired.as_str(), &server]);
    let out = run_skew(&args, Duration::from_secs(30));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let line = out.stdout.trim_end();
    assert!(line.starts_with("SKEW WARNING: "), "{line}");
    let (text, _) = line.split_once('|').unwrap();
    assert!(
        text.ends_with("(leap-seconds list expired on 2026-06-28)"),
        "{line}"
    );
    assert!(
        !text.contains("fetch") && !text.contains("tzdata"),
        "{line}"
    );
}
