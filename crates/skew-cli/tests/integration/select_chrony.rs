//! Truth by majority against real chronyd peers: honest servers and liars (followers with a
//! known offset), selected by `skew probe`.

use crate::common::*;
use skew_testkit::Chronyd;

/// Starts followers of `upstream` with the given offsets concurrently (each takes ~2.5 s).
fn followers(upstream: u16, offsets: &[&str]) -> Vec<Chronyd> {
    std::thread::scope(|s| {
        let handles: Vec<_> = offsets
            .iter()
            .map(|o| s.spawn(move || Chronyd::follower(upstream, o)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("follower start"))
            .collect()
    })
}

#[test]
fn liars_and_only_liars_are_flagged() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let truth = Chronyd::server();
    // Two honest followers (offset 0) and two liars (+0.5 s, −0.3 s).
    let f = followers(truth.port, &["0", "0.5", "0", "-0.3"]);
    let servers = [truth.arg(), f[0].arg(), f[1].arg(), f[2].arg(), f[3].arg()];
    let args: Vec<&str> = servers.iter().map(|s| s.as_str()).collect();
    let out = probe_json(&args, &["--lease", "10s"]);
    assert_eq!(
        out.code, 1,
        "falsetickers make the run non-zero: {}",
        out.stdout
    );
    let v = out.json();
    let ps = probes(&v);
    let flags: Vec<bool> = ps
        .iter()
        .map(|p| p["truechimer"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![true, true, false, true, false], "{v}");
    let a = &v["agreement"];
    assert_eq!(a["majority"], true);
    assert_eq!(a["truechimers"], 3);
    assert_eq!(a["falsetickers"], 2);
    assert_eq!(a["min_agree"], 3);
    let (lo, hi) = (a["lo_s"].as_f64().unwrap(), a["hi_s"].as_f64().unwrap());
    // The honest followers are exact to a few µs of chrony's own tracking error.
    assert!(lo <= 20e-6 && -20e-6 <= hi, "agreement [{lo}, {hi}]");
    assert!(hi - lo < 1e-3);
    // The +0.5 s and −0.3 s liars are left out of the pairwise skew and the lease (issue
    // 13: they would set both by their lie, 0.8 s); the honest clocks and this host are
    // compared, a few µs apart.
    let p = &v["pairwise_skew"];
    let bound = p["bound_s"].as_f64().unwrap();
    assert!(bound < 1e-3, "{p}");
    assert_eq!(p["clocks"], 4, "{p}");
    assert_eq!(
        p["left_out"],
        serde_json::json!([f[1].arg(), f[3].arg()]),
        "{p}"
    );
    for end in ["ahead", "behind"] {
        assert!(p[end] != f[1].arg() && p[end] != f[3].arg(), "{p}");
    }
    let lease = &v["lease"];
    let margin = lease["margin_s"].as_f64().unwrap();
    assert!((margin - (bound + 10.0 * 50e-6)).abs() < 1e-6, "{lease}");
    assert!(margin < 2e-3, "{lease}");

    // The human table marks the liars with x, as chronyc does.
    let out = run_skew(
        &[
            "probe",
            "-n",
            "2",
            "--interval",
            "10ms",
            &servers[0],
            &servers[2],
            &servers[4],
            &servers[1],
            &servers[3],
        ],
        std::time::Duration::from_secs(20),
    );
    let marks: Vec<char> = out
        .stdout
        .lines()
        .skip(2)
        .take(5)
        .map(|l| l.chars().next().unwrap())
        .collect();
    assert_eq!(marks, vec!['*', 'x', 'x', '*', '*'], "{}", out.stdout);
    assert!(out.stdout.contains("Agreement: 3 of 5"), "{}", out.stdout);
}

#[test]
fn two_honest_of_four_is_no_majority() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let truth = Chronyd::server();
    let f = followers(truth.port, &["0", "0.5", "-0.3"]);
    let servers = [truth.arg(), f[0].arg(), f[1].arg(), f[2].arg()];
    let args: Vec<&str> = servers.iter().map(|s| s.as_str()).collect();
    let out = probe_json(&args, &[]);
    assert_ne!(out.code, 0);
    let v = out.json();
    assert_eq!(v["agreement"]["majority"], false, "{v}");
    assert!(v["agreement"]["lo_s"].is_null());
    assert_eq!(v["agreement"]["max_overlap"], 2);
    assert!(probes(&v).iter().all(|p| p["truechimer"] == false));
    let out = run_skew(
        &[
            "probe",
            "-n",
            "2",
            "--interval",
            "10ms",
            &servers[0],
            &servers[1],
            &servers[2],
            &servers[3],
        ],
        std::time::Duration::from_secs(20),
    );
    assert_ne!(out.code, 0);
    assert!(
        out.stdout.contains("No majority: at most 2 of 4"),
        "{}",
        out.stdout
    );
    // With --min-agree 2 the two honest servers do form an agreement.
    let out = probe_json(&args, &["--min-agree", "2"]);
    let v = out.json();
    assert_eq!(v["agreement"]["majority"], true);
    assert_eq!(v["agreement"]["truechimers"], 2);
}

/// The issue's own setup: 3 honest servers (a real chronyd and two followers) and 2 liars
/// that are our own `skew serve --offset`.
#[test]
fn skew_serve_liars_are_flagged_beside_real_chronyd() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    use skew_testkit::SkewDaemon;
    let truth = Chronyd::server();
    let honest = followers(truth.port, &["0", "0"]);
    let bin = std::path::Path::new(skew_bin());
    let ahead = SkewDaemon::serve(bin, &["--offset", "0.120"]);
    let behind = SkewDaemon::serve(bin, &["--offset", "-0.045"]);
    let servers = [
        truth.arg(),
        ahead.arg(),
        honest[0].arg(),
        behind.arg(),
        honest[1].arg(),
    ];
    let args: Vec<&str> = servers.iter().map(|s| s.as_str()).collect();
    let out = probe_json(&args, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v = out.json();
    let flags: Vec<bool> = probes(&v)
        .iter()
        .map(|p| p["truechimer"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![true, false, true, false, true], "{v}");
    assert_eq!(v["agreement"]["falsetickers"], 2);
    // The liars are measured as exactly as the honest servers: their bounds hold their lie.
    let liar = &probes(&v)[1];
    assert!(
        f(liar, "bound_lo_s") <= 0.120 && 0.120 <= f(liar, "bound_hi_s"),
        "{liar}"
    );
}

/// The agreement of one server 287.1 ms off, a few µs wide (it announces no root delay or
/// dispersion), prints two ends that differ, rounded outward so they hold the agreement
/// (issue 13.6: `[-287.1ms, -287.1ms]`).
#[test]
fn a_narrow_agreement_never_prints_as_a_point() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    use skew_testkit::SkewDaemon;
    let liar = SkewDaemon::serve(
        std::path::Path::new(skew_bin()),
        &[
            "--offset",
            "-0.2871",
            "--root-dispersion",
            "0",
            "--root-delay",
            "0",
        ],
    );
    let server = liar.arg();
    let out = run_skew(
        &["probe", "-n", "2", "--interval", "10ms", &server],
        std::time::Duration::from_secs(20),
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Agreement: "))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let within = line
        .split("UTC offset within [")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or_else(|| panic!("{line}"));
    let (lo, hi) = within.split_once(", ").unwrap();
    assert_ne!(lo, hi, "{line}");
    let ms = |t: &str| t.strip_suffix("ms").unwrap().parse::<f64>().unwrap() / 1e3;
    let json = probe_json(&[&server], &[]).json();
    let (a_lo, a_hi) = (
        json["agreement"]["lo_s"].as_f64().unwrap(),
        json["agreement"]["hi_s"].as_f64().unwrap(),
    );
    // A second run's agreement lies near the first: both printed ends are close to -287.1 ms
    // and in order.
    assert!(ms(lo) < ms(hi), "{line}");
    assert!(
        (ms(lo) + 0.2871).abs() < 0.001 && (ms(hi) + 0.2871).abs() < 0.001,
        "{line}"
    );
    assert!(
        (a_lo + 0.2871).abs() < 0.001 && (a_hi + 0.2871).abs() < 0.001,
        "{json}"
    );
}
