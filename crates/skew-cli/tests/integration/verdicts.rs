//! Verdicts that hold on a real host (issue 13, part A), against real chronyd peers and our
//! own `skew serve` liars on loopback:
//!
//! * a `pool` line is every address its name resolves to (a name resolving to two loopback
//!   addresses in a private mount namespace, one chronyd bound to 0.0.0.0 answering both);
//! * the majority is taken among the servers that answered, dead ones are a WARNING;
//! * falsetickers and repeated addresses are not clocks of the pairwise skew and the lease;
//! * `monitor` and `check` answer Nagios with one line on every exit;
//! * dropped datagrams in the table, `::1:PORT`, negative durations, escaped names.

use crate::common::*;
use skew_driftlog::read_log;
use skew_testkit::chrony::Ready;
use skew_testkit::{free_udp_port, Chronyd, SkewDaemon};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-verdicts-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Fast probing and no leap check (the list installed here has expired, a WARNING of its
/// own that item 3 of the issue deals with).
const FAST: [&str; 9] = [
    "-n",
    "2",
    "--interval",
    "10ms",
    "--timeout",
    "300ms",
    "--clock-duration",
    "100ms",
    "--no-leap",
];

fn with_fast<'a>(command: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![command];
    a.extend(FAST);
    a.extend_from_slice(args);
    a
}

/// A chronyd of the local clock bound to 0.0.0.0 (and ::1), so that it answers on every
/// loopback address, 127.0.0.2 included.
fn chronyd_on_every_v4_address() -> Chronyd {
    Chronyd::start(
        &["local stratum 8", "bindaddress 0.0.0.0"],
        &[],
        Ready::Answers,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The wrapper that runs a command in a private mount namespace where `hosts` is mounted
/// over /etc/hosts: `unshare -m` as root, `unshare -Urm` (a user namespace) otherwise.
pub(crate) fn in_namespace_with_hosts(hosts: &Path) -> Vec<String> {
    let flags = if Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        "-m"
    } else {
        "-Urm"
    };
    vec![
        "unshare".into(),
        flags.into(),
        "sh".into(),
        "-c".into(),
        format!(
            "mount --bind '{}' /etc/hosts && exec \"$0\" \"$@\"",
            hosts.display()
        ),
    ]
}

/// A hosts file with this machine's entries and `pool.test` at 127.0.0.1 and 127.0.0.2;
/// checks in a namespace that the resolver (nsswitch `files`) gives both.
fn pool_test_hosts(dir: &Path) -> (PathBuf, Vec<String>) {
    let hosts = dir.join("hosts");
    let mine = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    std::fs::write(
        &hosts,
        format!("{mine}\n127.0.0.1 pool.test\n127.0.0.2 pool.test\n"),
    )
    .unwrap();
    let wrapper = in_namespace_with_hosts(&hosts);
    let out = Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .args(["getent", "ahostsv4", "pool.test"])
        .output()
        .expect("unshare");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("127.0.0.1") && text.contains("127.0.0.2"),
        "pool.test must resolve to both addresses in the namespace (nsswitch.conf hosts: files?): {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (hosts, wrapper)
}

#[test]
fn a_pool_line_probes_every_address_of_its_name() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("pool");
    let c = chronyd_on_every_v4_address();
    let (_hosts, wrapper) = pool_test_hosts(&d);
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let conf = d.join("chrony.conf");
    std::fs::write(
        &conf,
        format!(
            "# as Debian ships it, with a test pool\nconfdir /etc/chrony/conf.d\npool pool.test port {} iburst\n\
             sourcedir /etc/chrony/sources.d\nmakestep 1 3\nrtcsync\n",
            c.port
        ),
    )
    .unwrap();
    let conf_s = conf.to_str().unwrap();
    let limit = Duration::from_secs(30);

    // skew check --ntp-conf F: the pool is two servers, the header says so.
    let args = with_fast("check", &["--ntp-conf", conf_s, "-4"]);
    let out = run_wrapped(&wrapper, &args, &[], limit);
    // OK, or a WARNING about this host's own clock: nothing about the servers.
    assert!(out.code <= 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("SKEW OK") || out.stdout.contains("SKEW WARNING: offset"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "NTP servers from {conf_s} (chrony.conf):\n  line 3: pool pool.test port {} iburst -> 2 addresses (a pool: up to 4)\n",
            c.port
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("not read: sourcedir /etc/chrony/sources.d"),
        "{}",
        out.stdout
    );
    for a in ["127.0.0.1", "127.0.0.2"] {
        assert!(
            out.stdout
                .contains(&format!("pool.test:{p}  {a}:{p}", p = c.port)),
            "{a}: {}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .contains("Agreement: 2 of 2 measured servers agree"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("probing 0 server(s) and 1 pool(s)"),
        "{}",
        out.stderr
    );

    // skew monitor --ntp-conf F --json --log: each address its own server in the JSON and
    // the log; --json's sources say what the line gave.
    let log = d.join("drift.csv");
    let args = with_fast(
        "monitor",
        &[
            "--json",
            "--ntp-conf",
            conf_s,
            "--log",
            log.to_str().unwrap(),
        ],
    );
    let out = run_wrapped(&wrapper, &args, &[], limit);
    assert!(out.code <= 1, "{}{}", out.stdout, out.stderr);
    let v = out.json();
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r.as_str().unwrap().contains("server")),
        "{v}"
    );
    let addrs: Vec<&str> = v["report"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addrs,
        [
            format!("127.0.0.1:{}", c.port),
            format!("127.0.0.2:{}", c.port)
        ],
        "{v}"
    );
    assert_eq!(v["report"]["agreement"]["servers"], 2);
    assert_eq!(v["report"]["agreement"]["truechimers"], 2);
    assert_eq!(v["sources"][0]["addresses"], 2, "{v}");
    assert_eq!(v["sources"][0]["maxsources"], 4, "{v}");
    let rows = read_log(&log).unwrap().rows;
    let logged: Vec<String> = rows
        .iter()
        .filter(|(_, r)| r.kind == skew_driftlog::Kind::Ntp)
        .filter_map(|(_, r)| r.address.clone())
        .collect();
    assert_eq!(logged, addrs, "one ntp row per address");

    // maxsources caps the pool; a server line of the same name is one address.
    std::fs::write(
        &conf,
        format!(
            "pool pool.test port {p} maxsources 1\nserver pool.test port {p}\n",
            p = c.port
        ),
    )
    .unwrap();
    let args = with_fast("check", &["--json", "--ntp-conf", conf_s, "-4"]);
    let out = run_wrapped(&wrapper, &args, &[], limit);
    let v = out.json();
    assert_eq!(v["sources"][0]["addresses"], 1, "{v}");
    std::fs::write(&conf, format!("server pool.test port {}\n", c.port)).unwrap();
    let out = run_wrapped(&wrapper, &args, &[], limit);
    let v = out.json();
    assert_eq!(v["sources"][0]["addresses"], 1, "{v}");
    assert_eq!(v["report"]["probes"].as_array().unwrap().len(), 1, "{v}");
    // --all-addresses makes a server line every address too, as in probe.
    let args = with_fast(
        "check",
        &["--json", "--ntp-conf", conf_s, "-4", "--all-addresses"],
    );
    let out = run_wrapped(&wrapper, &args, &[], limit);
    assert_eq!(out.json()["sources"][0]["addresses"], 2, "{}", out.stdout);

    // A timesyncd.conf's names are servers, told apart by content (not by file name).
    std::fs::write(&conf, format!("[Time]\nNTP=pool.test:{}\n", c.port)).unwrap();
    let args = with_fast("check", &["--json", "--ntp-conf", conf_s, "-4"]);
    let out = run_wrapped(&wrapper, &args, &[], limit);
    let v = out.json();
    assert_eq!(v["sources"][0]["kind"], "timesyncd.conf", "{v}");
    assert_eq!(v["sources"][0]["addresses"], 1, "{v}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_majority_is_taken_among_the_servers_that_answered() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // Two healthy servers (two chronyd serving this clock) and two dead ports.
    let (a, b) = (Chronyd::server(), Chronyd::server());
    let dead1 = format!("127.0.0.1:{}", free_udp_port());
    let dead2 = format!("127.0.0.1:{}", free_udp_port());
    let servers = [a.arg(), dead1.clone(), b.arg(), dead2.clone()];
    let s: Vec<&str> = servers.iter().map(String::as_str).collect();

    let out = probe_json(&s, &[]);
    let v = out.json();
    let ag = &v["agreement"];
    assert_eq!(ag["majority"], true, "{v}");
    assert_eq!(
        (
            ag["candidates"].as_u64(),
            ag["servers"].as_u64(),
            ag["min_agree"].as_u64()
        ),
        (Some(2), Some(4), Some(2)),
        "{ag}"
    );
    assert_eq!(out.code, 1, "dead servers still make the probe non-zero");

    let out = run_skew(&with_fast("monitor", &s), Duration::from_secs(30));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with("SKEW WARNING: offset ")
            && out
                .stdout
                .contains("2/4 servers (2 of 4 servers answered (2 timeout)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("majority"), "{}", out.stdout);
    let out = run_skew(&with_fast("check", &s), Duration::from_secs(30));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains(
            "Agreement: 2 of 2 measured servers agree (at least 2 required) (2 of 4 answered)"
        ),
        "{}",
        out.stdout
    );

    // --min-agree still demands its number.
    let mut m = s.clone();
    m.extend(["--min-agree", "3"]);
    let out = run_skew(&with_fast("monitor", &m), Duration::from_secs(30));
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("no majority: at most 2 of 2 answering servers agree (3 required)"),
        "{}",
        out.stdout
    );

    // Nothing answered: said so, CRITICAL.
    let out = run_skew(
        &with_fast("monitor", &[&dead1, &dead2]),
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stdout
            .starts_with("SKEW CRITICAL: no server answered, 0/2 servers (2 timeout)"),
        "{}",
        out.stdout
    );
    let out = run_skew(
        &["probe", "-n", "1", "--timeout", "200ms", &dead1, &dead2],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stdout
            .contains("No server answered (2 probed): nothing to agree on."),
        "{}",
        out.stdout
    );
}

#[test]
fn falsetickers_and_repeated_addresses_are_not_clocks_of_the_skew() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let bin = Path::new(skew_bin());
    let honest = [Chronyd::server(), Chronyd::server(), Chronyd::server()];
    let liar = SkewDaemon::serve(bin, &["--offset", "-0.287"]);
    let mut servers: Vec<String> = honest.iter().map(Chronyd::arg).collect();
    servers.push(liar.arg());
    let s: Vec<&str> = servers.iter().map(String::as_str).collect();
    let out = probe_json(&s, &["--lease", "10s"]);
    let v = out.json();
    assert_eq!(v["agreement"]["falsetickers"], 1, "{v}");
    let p = &v["pairwise_skew"];
    let bound = p["bound_s"].as_f64().unwrap();
    assert!(bound < 1e-3, "a −287 ms liar must not set the skew: {p}");
    assert_eq!(p["left_out"], serde_json::json!([liar.arg()]), "{p}");
    assert_eq!(p["clocks"], 4, "{p}");
    let margin = v["lease"]["margin_s"].as_f64().unwrap();
    assert!(margin < 2e-3, "nor the lease: {}", v["lease"]);

    let mut args = vec!["probe", "-n", "2", "--interval", "10ms", "--lease", "10s"];
    args.extend(&s);
    let out = run_skew(&args, Duration::from_secs(30));
    assert!(
        out.stdout.contains(&format!(
            "Left out of the skew and the lease: {} (falseticker",
            liar.arg()
        )),
        "{}",
        out.stdout
    );

    // The same address given twice, and by name: one clock, never compared with itself.
    let c = &honest[0];
    let by_name = format!("localhost:{}", c.port);
    let out = probe_json(&[&c.arg(), &c.arg(), &by_name], &["-4"]);
    let v = out.json();
    let p = &v["pairwise_skew"];
    assert_eq!(p["clocks"], 2, "this host and the one server: {p}");
    assert!(p["ahead"] == "local" || p["behind"] == "local", "{p}");
}

#[test]
fn monitor_and_check_answer_nagios_with_one_line_on_every_exit() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("nagios");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "samples = 2\nservrs = [\"x\"]\n").unwrap();
    let bad_s = bad.to_str().unwrap();
    let missing = d.join("missing.conf");
    let missing_s = missing.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--config", bad_s],
            "line 2, column 1 (servrs = [\"x\"]): unknown field `servrs`",
        ),
        (vec!["--bogus"], "unexpected argument '--bogus'"),
        (vec!["-n", "0", "x"], "invalid value '0'"),
        (vec!["-w", "-1s", "x"], "must not be negative"),
        (vec!["--timeout=-1s", "x"], "must not be negative"),
        (
            vec!["-w", "1s", "-c", "500ms", "x"],
            "the WARNING threshold of the offset (1 s",
        ),
        (
            vec!["--warn-bound", "2s", "--crit-bound", "1s", "x"],
            "the WARNING threshold of the bound (2 s",
        ),
        (
            vec!["--ntp-conf", missing_s],
            "cannot read the NTP configuration",
        ),
        (vec!["--ntp-conf", missing_s, "x"], "cannot be used with"),
        (vec!["::1:41123"], "write [::1]:41123"),
    ];
    for command in ["monitor", "check"] {
        for (args, reason) in &cases {
            let mut a = vec![command];
            a.extend(args);
            let out = run_skew(&a, Duration::from_secs(20));
            assert_eq!(out.code, 3, "{a:?}: {}{}", out.stdout, out.stderr);
            assert_eq!(out.stdout.lines().count(), 1, "{a:?}: {}", out.stdout);
            assert!(
                out.stdout.starts_with("SKEW UNKNOWN: ") && out.stdout.contains(reason),
                "{a:?}: {}",
                out.stdout
            );
            assert!(!out.stderr.is_empty(), "{a:?}: the reason is on stderr too");
        }
    }
    // The other commands keep 64 and say nothing on stdout.
    for a in [
        vec!["probe", "--bogus", "x"],
        vec!["probe", "::1:41123"],
        vec!["probe", "--lease", "-5s", "x"],
    ] {
        let out = run_skew(&a, Duration::from_secs(20));
        assert_eq!(out.code, 64, "{a:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{a:?}: {}", out.stdout);
    }
    let out = run_skew(&["probe", "::1:41123"], Duration::from_secs(20));
    assert!(
        out.stderr.contains("write [::1]:41123") && out.elapsed < Duration::from_secs(5),
        "{}",
        out.stderr
    );
    let out = run_skew(&["probe", "--lease", "-5s", "x"], Duration::from_secs(20));
    assert!(
        out.stderr.contains("must not be negative") && !out.stderr.contains("-- -"),
        "{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn dropped_replies_are_counted_in_the_table() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let bin = Path::new(skew_bin());
    let forger = SkewDaemon::serve(bin, &["--wrong-origin", "--duplicate", "1", "--seed", "3"]);
    let out = run_skew(
        &["probe", "-n", "3", "--interval", "20ms", &forger.arg()],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("dropped"))
        .unwrap_or_else(|| panic!("no dropped line: {}", out.stdout));
    assert!(
        line.starts_with(&format!("{a} ({a}): dropped ", a = forger.arg()))
            && line.contains("wrong origin (forged, stray or replayed)")
            && line.contains("late or duplicate"),
        "{line}"
    );
    // The JSON counts the same.
    let v = probe_json(&[&forger.arg()], &[]).json();
    let dropped = &probes(&v)[0]["dropped"];
    assert!(dropped["origin_mismatch"].as_u64() > Some(0), "{dropped}");
}

/// The wrapper that runs a command in a network namespace of its own (no network at all),
/// so that a name cannot leave the machine however the resolver treats it.
fn without_network() -> Vec<&'static str> {
    if Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        vec!["unshare", "-n"]
    } else {
        vec!["unshare", "-Urn"]
    }
}

#[test]
fn names_with_control_characters_are_escaped_in_probe_and_check() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let d = tmpdir("escape");
    let evil = "\x1b[31mred\x07.invalid";
    let wrapper = without_network();
    let out = run_wrapped(
        &wrapper,
        &["probe", "-n", "1", evil],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains('\x1b') && !out.stdout.contains('\x07'),
        "{:?}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\\x1b[31mred\\x07.invalid"),
        "{}",
        out.stdout
    );
    // check: from an NTP configuration, the line, the table and the errors.
    let conf = d.join("ntp.conf");
    std::fs::write(&conf, format!("server {evil} iburst\nrestrict default\n")).unwrap();
    let out = run_wrapped(
        &wrapper,
        &with_fast("check", &["--ntp-conf", conf.to_str().unwrap()]),
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains('\x1b') && !out.stdout.contains('\x07'),
        "{:?}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "(ntp.conf):\n  line 1: server \\x1b[31mred\\x07.invalid iburst -> no address"
        ),
        "{}",
        out.stdout
    );
    let _ = std::fs::remove_dir_all(&d);
}
