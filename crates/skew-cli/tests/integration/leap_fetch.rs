//! `skew leap --fetch` (issue 13.3) against a real HTTPS server on loopback (`openssl
//! s_server` with a test CA, trusted with `--fetch-ca`): a fresher valid list is written to
//! the cache atomically and used from then on; the same list, an older one, a tampered one,
//! an error page, an untrusted server and a plain-HTTP URL replace nothing.

use crate::common::*;
use serde_json::Value;
use skew_testkit::HttpsFiles;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-fetch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fetch(cache: &Path, args: &[&str]) -> (i32, Value, Output) {
    let mut a = vec!["leap", "--json", "--fetch"];
    a.extend_from_slice(args);
    let out = run_skew_env(
        &a,
        &[("SKEW_CACHE_DIR", cache.to_str().unwrap())],
        Duration::from_secs(60),
    );
    let v = if out.stdout.is_empty() {
        Value::Null
    } else {
        out.json()
    };
    (out.code, v, out)
}

#[test]
fn a_fresher_valid_list_is_cached_and_used_the_rest_is_refused() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let server = HttpsFiles::start();
    let work = tmpdir("lists");
    let fresh = std::fs::read(fresh_leap_list(&work, "fresh.list")).unwrap();
    server.put("leap-seconds.list", &fresh);
    server.put("tampered.list", &data("leap-seconds.tampered.list"));
    server.put("old.list", &data("leap-seconds.2025b.list"));
    let cache = tmpdir("cache");
    let cached = cache.join("leap-seconds.list");
    let ca = server.ca.to_str().unwrap().to_string();
    let url = server.url("leap-seconds.list");

    // A list fresher than the system's: written, and in use from then on.
    let (code, v, out) = fetch(&cache, &[&url, "--fetch-ca", &ca]);
    assert_eq!(code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(v["status"], "updated", "{v}");
    assert_eq!(v["attempts"][0]["outcome"], "newer");
    assert_eq!(v["attempts"][0]["expires"], "2042-08-07T08:00:00Z");
    assert_eq!(v["written"], cached.to_str().unwrap());
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        fresh,
        "written as downloaded"
    );
    assert_eq!(v["in_use"]["source"], "cache");
    assert_eq!(v["before"]["source"], "system");
    let only_list = std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(only_list, 1, "no temporary file left behind");
    let report = run_skew_env(
        &["leap", "--json", "--no-kernel"],
        &[("SKEW_CACHE_DIR", cache.to_str().unwrap())],
        Duration::from_secs(20),
    )
    .json();
    assert_eq!(report["list"]["source"], "cache", "{report}");
    assert_eq!(report["list"]["expires"], "2042-08-07T08:00:00Z");

    // The same list again: current, nothing written.
    let mtime = std::fs::metadata(&cached).unwrap().modified().unwrap();
    let (code, v, _) = fetch(&cache, &[&url, "--fetch-ca", &ca]);
    assert_eq!((code, v["status"].as_str()), (0, Some("current")), "{v}");
    assert!(v["written"].is_null());
    assert_eq!(
        std::fs::metadata(&cached).unwrap().modified().unwrap(),
        mtime
    );

    // An older list: not used (exit 1); a tampered one: refused (exit 2).
    let (code, v, _) = fetch(&cache, &[&server.url("old.list"), "--fetch-ca", &ca]);
    assert_eq!((code, v["status"].as_str()), (1, Some("older")), "{v}");
    let (code, v, _) = fetch(&cache, &[&server.url("tampered.list"), "--fetch-ca", &ca]);
    assert_eq!((code, v["status"].as_str()), (2, Some("invalid")), "{v}");
    assert!(
        v["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("its #h hash does not match"),
        "{v}"
    );
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        fresh,
        "the cache is unchanged"
    );

    // A server we do not trust: nothing downloaded (exit 3).
    let (code, v, _) = fetch(&cache, &[&url]);
    assert_eq!((code, v["status"].as_str()), (3, Some("failed")), "{v}");
    let e = v["attempts"][0]["error"].as_str().unwrap();
    assert!(
        e.to_lowercase().contains("certificate") || e.contains("UnknownIssuer"),
        "{e}"
    );
    // An error page served as if it were the file (openssl s_server answers a missing file
    // with status 200 and a message, as captive portals do): not a list (exit 2).
    let (code, v, _) = fetch(&cache, &[&server.url("missing.list"), "--fetch-ca", &ca]);
    assert_eq!((code, v["status"].as_str()), (2, Some("invalid")), "{v}");
    assert!(
        v["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("not a leap-seconds list: line 1: "),
        "{v}"
    );
    // Plain HTTP is a usage error, before anything is fetched.
    let (code, _, out) = fetch(
        &cache,
        &[&format!(
            "http://127.0.0.1:{}/leap-seconds.list",
            server.port
        )],
    );
    assert_eq!(code, 64, "{}", out.stderr);
    assert!(
        out.stderr.contains("only https:// URLs are fetched"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&cached).unwrap(), fresh);

    // The human form says what happened.
    std::fs::remove_file(&cached).unwrap();
    let out = run_skew_env(
        &["leap", "--fetch", &url, "--fetch-ca", &ca],
        &[("SKEW_CACHE_DIR", cache.to_str().unwrap())],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("  {url}: newer: expires 2042-08-07")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("  wrote {}", cached.display())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Status: updated (exit 0)"),
        "{}",
        out.stdout
    );
    let _ = std::fs::remove_dir_all(&cache);
    let _ = std::fs::remove_dir_all(&work);
}

/// Not root: the cache is `$XDG_CACHE_HOME/skew/` (run as `nobody` with setpriv).
#[test]
fn a_user_caches_under_xdg_cache_home() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    if skew_testkit::which("setpriv").is_none() || !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root and setpriv to run as another user");
        return;
    }
    let server = HttpsFiles::start();
    let work = tmpdir("user-lists");
    let fresh = std::fs::read(fresh_leap_list(&work, "fresh.list")).unwrap();
    server.put("leap-seconds.list", &fresh);
    let home = tmpdir("user-home");
    let xdg = home.join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    nix::unistd::chown(&xdg, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let out = run_wrapped(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ],
        &[
            "leap",
            "--json",
            "--fetch",
            &server.url("leap-seconds.list"),
            "--fetch-ca",
            server.ca.to_str().unwrap(),
        ],
        &[
            ("XDG_CACHE_HOME", xdg.to_str().unwrap()),
            ("HOME", home.to_str().unwrap()),
            ("SKEW_CACHE_DIR", ""),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let want = xdg.join("skew/leap-seconds.list");
    assert_eq!(out.json()["written"], want.to_str().unwrap());
    assert_eq!(std::fs::read(&want).unwrap(), fresh);
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&work);
}

/// The examples refresh the list weekly: a cron line and a systemd service + timer, each
/// running `skew leap --fetch`.
#[test]
fn the_examples_refresh_the_list_weekly() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let ex = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/../../examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let cron = ex("crontab");
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && l.contains("skew leap --fetch"))
        .expect("a cron line running skew leap --fetch");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(fields[4] != "*" && fields[2] == "*", "weekly: {line}");
    let service = ex("skew-leap-fetch.service");
    assert!(service.contains("\nExecStart=/usr/local/bin/skew leap --fetch\n"));
    assert!(service.contains("ReadWritePaths=/var/lib/skew"));
    assert!(ex("skew-leap-fetch.timer").contains("\nOnCalendar=weekly\n"));
    // The flags the examples use parse.
    let out = run_skew(&["leap", "--fetch", "--fetch-ca"], Duration::from_secs(10));
    assert_eq!(
        out.code, 64,
        "a missing value is a usage error: {}",
        out.stderr
    );
}
