//! docs/formats.md lists every JSON key, CSV column, drift-log column and metric skew emits.
//!
//! The test runs the real `skew` binary against local peers (`skew serve`, `skew proxy`)
//! with every output form (`--json`, `--csv`, `--stats-json`, `--stats-csv`, the drift log,
//! the Prometheus textfile, the state file), provokes the records that only appear in some
//! situations (dropped forgeries, timeout advice, a clock step under libfaketime, a SIGSTOP
//! pause, a voided state, a scheduled leap second, a long pause in a drift log), collects
//! every name the binary really emits, and compares them with the names docs/formats.md
//! documents (the markup is described at the top of that file). A name the code emits and
//! the document does not list fails the test with the heading to add it under.
//!
//! If you add a key that only appears in a situation none of the runs below provokes, add a
//! run that provokes it.

use crate::common::{run_skew, spawn_skew, Output};
use nix::sys::signal::Signal;
use serde_json::Value;
use skew_testkit::{NtsChronyd, ScriptedKe, SkewDaemon, TestPki, Validity, LIBFAKETIME};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// What docs/formats.md documents.

/// One output's documented names.
#[derive(Debug, Default)]
struct Section {
    /// Documented names (JSON key paths, CSV columns, metric names).
    names: BTreeSet<String>,
    /// `name.*`: `name` and everything below it.
    wildcards: Vec<String>,
    /// `Keys under PATH: as OTHER of OUTPUT.`: (PATH, OUTPUT, OTHER).
    aliases: Vec<(String, String, String)>,
}

/// docs/formats.md, parsed.
#[derive(Debug, Default)]
struct Doc {
    sections: BTreeMap<String, Section>,
}

/// The text of a heading that is exactly one backticked name (`### `x``), if it is one.
fn backticked_heading(rest: &str) -> Option<String> {
    let t = rest.trim();
    let inner = t.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then(|| inner.to_string())
}

/// Every backticked name in `cell`.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses the markup described at the top of docs/formats.md.
fn parse_doc(text: &str) -> Doc {
    let mut doc = Doc::default();
    let mut section: Option<String> = None;
    let mut prefix = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#### ") {
            prefix = backticked_heading(rest).unwrap_or_default();
        } else if let Some(rest) = line.strip_prefix("### ") {
            section = backticked_heading(rest);
            prefix.clear();
            if let Some(s) = &section {
                doc.sections.entry(s.clone()).or_default();
            }
        } else if line.starts_with("## ") || line.starts_with("# ") {
            section = None;
            prefix.clear();
        } else if let Some(name) = &section {
            let sec = doc.sections.get_mut(name).expect("section");
            if let Some(alias) = parse_alias(line) {
                sec.aliases.push(alias);
            } else if line.starts_with('|') && !line.starts_with("|---") {
                let first = line.split('|').nth(1).unwrap_or("");
                for key in backticked(first) {
                    let full = if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    };
                    match full.strip_suffix(".*") {
                        Some(base) => {
                            sec.names.insert(base.to_string());
                            sec.wildcards.push(base.to_string());
                        }
                        None => {
                            sec.names.insert(full);
                        }
                    }
                }
            }
        }
    }
    doc
}

/// `Keys under `P`: as `O` of `S`.` → (P, S, O).
fn parse_alias(line: &str) -> Option<(String, String, String)> {
    let rest = line.trim().strip_prefix("Keys under ")?;
    match rest.split('`').collect::<Vec<_>>()[..] {
        ["", path, ": as ", other, " of ", section, "."] => {
            Some((path.into(), section.into(), other.into()))
        }
        _ => None,
    }
}

impl Doc {
    /// Whether `name` of output `section` is documented, directly, by a wildcard or through
    /// an alias.
    fn documents(&self, section: &str, name: &str) -> bool {
        self.documents_at(section, name, 0)
    }

    fn documents_at(&self, section: &str, name: &str, depth: usize) -> bool {
        let Some(sec) = self.sections.get(section) else {
            return false;
        };
        if depth > 8 {
            return false;
        }
        if sec.names.contains(name)
            || sec
                .wildcards
                .iter()
                .any(|w| name.starts_with(&format!("{w}.")))
        {
            return true;
        }
        sec.aliases.iter().any(|(path, other_section, other)| {
            name.strip_prefix(&format!("{path}.")).is_some_and(|rest| {
                self.documents_at(other_section, &format!("{other}.{rest}"), depth + 1)
            })
        })
    }
}

/// Where a missing name belongs, as an instruction.
fn where_to_add(doc: &Doc, section: &str, name: &str) -> String {
    if !doc.sections.contains_key(section) {
        return format!("add a section \"### `{section}`\" with a table row for `{name}`");
    }
    match name.rsplit_once('.') {
        Some((parent, key)) => format!(
            "under \"### `{section}`\", below \"#### `{parent}`\" (create that heading if it \
             is missing): a row \"| `{key}` | unit | meaning |\""
        ),
        None => format!(
            "under \"### `{section}`\", in its first table: a row \"| `{name}` | unit | meaning |\""
        ),
    }
}

/// The names of `emitted` that `doc` does not document, as a failure message (None: all are).
fn missing_report(doc: &Doc, emitted: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    let mut lines = Vec::new();
    for (section, names) in emitted {
        for name in names {
            if !doc.documents(section, name) {
                lines.push(format!(
                    "  `{name}` ({section}): {}",
                    where_to_add(doc, section, name)
                ));
            }
        }
    }
    (!lines.is_empty()).then(|| {
        format!(
            "docs/formats.md does not list {} name(s) that skew emits. Add each, with its unit \
             and meaning, where shown (the markup is described at the top of docs/formats.md):\n{}",
            lines.len(),
            lines.join("\n")
        )
    })
}

// ---------------------------------------------------------------------------------------
// What the binary emits.

/// Every key path of every JSON value in `text` (several values may follow each other):
/// `a`, `a.b`, `a.list[].c`.
fn json_paths(text: &str) -> BTreeSet<String> {
    fn walk(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.insert(p.clone());
                    walk(child, &p, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in:\n{text}"));
    for value in serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>() {
        let value = value.unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"));
        walk(&value, "", &mut out);
    }
    out
}

/// The column names of a CSV text's header line.
fn csv_header(text: &str) -> BTreeSet<String> {
    let header = text
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no CSV header"));
    header.split(',').map(str::to_string).collect()
}

/// The metric names of a Prometheus text exposition (TYPE lines and samples).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            out.insert(rest.split(' ').next().unwrap().to_string());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            out.insert(line[..end].to_string());
        }
    }
    out
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-formats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ok_output(out: &Output, what: &str) {
    assert!(
        out.code != 64 && out.code != 70 && !out.stdout.is_empty(),
        "{what}: exit {}\nstdout:\n{}\nstderr:\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
}

/// A libfaketime timestamp file that steps this process's REALTIME (never the system's).
struct FakeStep {
    file: PathBuf,
}

impl FakeStep {
    fn new(dir: &Path, name: &str) -> FakeStep {
        assert!(
            Path::new(LIBFAKETIME).exists(),
            "{LIBFAKETIME} is missing: run scripts/test.sh, which installs libfaketime"
        );
        let f = FakeStep {
            file: dir.join(name),
        };
        f.set("+0");
        f
    }

    fn set(&self, spec: &str) {
        let tmp = self.file.with_extension("tmp");
        std::fs::write(&tmp, format!("{spec}\n")).unwrap();
        std::fs::rename(&tmp, &self.file).unwrap();
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", LIBFAKETIME.to_string()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
            ("FAKETIME_NO_CACHE", "1".to_string()),
            (
                "FAKETIME_TIMESTAMP_FILE",
                self.file.to_string_lossy().into_owned(),
            ),
        ]
    }

    /// Starts `skew ARGS` under the fake clock and steps it +2 s after `after`.
    fn run_with_step(&self, args: &[&str], after: Duration, limit: Duration) -> Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let running = spawn_skew(args, &env);
        std::thread::sleep(after);
        self.set("+2");
        running.wait(limit)
    }
}

/// Runs every command with every output form and returns the names emitted, per output
/// (named as the level-3 headings of docs/formats.md).
fn collect_emitted() -> BTreeMap<String, BTreeSet<String>> {
    let bin = Path::new(crate::common::skew_bin());
    let dir = temp_dir();
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let leap_list = repo_file("data/leap-seconds.list");
    let leap_list = leap_list.to_str().unwrap();
    let demo_log = repo_file("data/drift-demo.csv");
    let mut emitted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |section: &str, names: BTreeSet<String>| {
        emitted
            .entry(section.to_string())
            .or_default()
            .extend(names);
    };
    let limit = Duration::from_secs(60);

    // Peers: an honest server, one that precedes each reply with a forgery and answers
    // twice (dropped datagrams by reason), a proxy in front of the honest one, a dead port.
    let honest = SkewDaemon::serve(bin, &["--stats-json"]);
    let forger = SkewDaemon::serve(
        bin,
        &[
            "--stats-json",
            "--wrong-origin",
            "--duplicate",
            "1",
            "--seed",
            "7",
        ],
    );
    let proxy = SkewDaemon::proxy(bin, &honest.arg(), &["--stats-json", "--fwd", "1ms"]);
    let dead = format!("127.0.0.1:{}", skew_testkit::free_udp_port());
    let (a, b, via) = (honest.arg(), forger.arg(), proxy.arg());
    let fast = ["-n", "3", "--interval", "10ms", "--timeout", "300ms"];

    // skew probe --json / --csv
    let mut args = vec!["probe", "--json", "--advise", "--lease", "10s"];
    args.extend(fast);
    args.extend([a.as_str(), b.as_str(), via.as_str(), dead.as_str()]);
    let out = run_skew(&args, limit);
    ok_output(&out, "probe --json");
    add("skew probe --json", json_paths(&out.stdout));
    let mut args = vec!["probe", "--csv"];
    args.extend(fast);
    args.push(a.as_str());
    let out = run_skew(&args, limit);
    ok_output(&out, "probe --csv");
    add("skew probe --csv", csv_header(&out.stdout));

    // skew probe --nts: chronyd serving NTS, and a scripted key exchange that sends the NTP
    // part to the honest plain server (its replies are dropped as unauthenticated).
    let pki = TestPki::new("skew formats CA", Validity::Long);
    let nts_server = NtsChronyd::start(&pki, &[]);
    let mut records = Vec::new();
    {
        use skew_ntp::nts::ke::*;
        encode_record(&mut records, true, NEXT_PROTOCOL, &[0, 0]);
        encode_record(&mut records, true, AEAD_ALGORITHM, &[0, 15]);
        encode_record(
            &mut records,
            true,
            NTP_PORT,
            &honest.addrs()[0].port().to_be_bytes(),
        );
        encode_record(&mut records, false, NEW_COOKIE, &[9; 64]);
        encode_record(&mut records, true, END_OF_MESSAGE, &[]);
    }
    let scripted = ScriptedKe::start(&pki, &[b"ntske/1"], records);
    let (ca, ke1, ke2) = (
        pki.ca.display().to_string(),
        nts_server.ke_arg(),
        scripted.arg(),
    );
    let mut args = vec!["probe", "--nts", "--nts-ca", ca.as_str(), "--json"];
    args.extend(fast);
    args.extend([ke1.as_str(), ke2.as_str()]);
    let out = run_skew(&args, limit);
    ok_output(&out, "probe --nts --json");
    add("skew probe --json", json_paths(&out.stdout));
    let mut args = vec!["probe", "--nts", "--nts-ca", ca.as_str(), "--csv"];
    args.extend(fast);
    args.push(ke1.as_str());
    let out = run_skew(&args, limit);
    ok_output(&out, "probe --nts --csv");
    add("skew probe --csv", csv_header(&out.stdout));

    // skew monitor --nts: the NTS metrics and drift-log columns.
    let (nts_log, nts_prom) = (p("nts-drift.csv"), p("nts.prom"));
    let out = run_skew(
        &[
            "monitor",
            "-n",
            "2",
            "--interval",
            "10ms",
            "--timeout",
            "300ms",
            "--min-agree",
            "1",
            "--no-clock",
            "--no-leap",
            "--nts",
            "--nts-ca",
            ca.as_str(),
            "--log",
            &nts_log,
            "--prom",
            &nts_prom,
            ke1.as_str(),
        ],
        limit,
    );
    assert!(
        out.code != 64 && out.code != 70,
        "monitor --nts: {}{}",
        out.stdout,
        out.stderr
    );
    add(
        "skew monitor --log",
        csv_header(&std::fs::read_to_string(&nts_log).unwrap()),
    );
    add(
        "skew monitor --prom",
        metric_names(&std::fs::read_to_string(&nts_prom).unwrap()),
    );
    // skew exporter --nts: a working NTS server and a key exchange port nobody listens on
    // (the failure counts).
    let nts_port = skew_testkit::free_tcp_port();
    let dead_ke = format!("127.0.0.1:{}", skew_testkit::free_tcp_port());
    let listen = format!("127.0.0.1:{nts_port}");
    let nts_exporter = spawn_skew(
        &[
            "exporter",
            "--listen",
            &listen,
            "--poll",
            "200ms",
            "--timeout",
            "100ms",
            "--no-clock",
            "--no-leap",
            "--nts",
            "--nts-ca",
            ca.as_str(),
            ke1.as_str(),
            dead_ke.as_str(),
        ],
        &[],
    );
    let t0 = std::time::Instant::now();
    let metrics = loop {
        let text = skew_testkit::http_get(nts_port, "/metrics").unwrap_or_default();
        if [
            "skew_nts_cert_expiry_timestamp_seconds{",
            "skew_nts_ke_last_success_timestamp_seconds{",
            "skew_nts_ke_failures_total{",
        ]
        .iter()
        .all(|m| text.contains(m))
        {
            break text;
        }
        assert!(
            t0.elapsed() < limit,
            "the NTS exporter never showed every family:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    add("skew exporter /metrics", metric_names(&metrics));
    drop(nts_exporter);
    drop((nts_server, scripted));

    // skew monitor: --json, the drift log, the textfile, the state file; then skew check.
    let (log, prom, state) = (p("drift.csv"), p("skew.prom"), p("state.json"));
    let local = [
        "-n",
        "2",
        "--interval",
        "10ms",
        "--timeout",
        "300ms",
        "--min-agree",
        "1",
        "--clock-duration",
        "200ms",
        "--pause",
        "--pause-duration",
        "300ms",
        "--leap-file",
        leap_list,
    ];
    let mut args = vec![
        "monitor", "--json", "--log", &log, "--prom", &prom, "--state", &state,
    ];
    args.extend(local);
    args.extend([a.as_str(), b.as_str()]);
    let out = run_skew(&args, limit);
    ok_output(&out, "monitor --json");
    assert_eq!(
        out.json()["failures"],
        serde_json::json!([]),
        "{}",
        out.stdout
    );
    add("skew monitor --json", json_paths(&out.stdout));
    add(
        "skew monitor --log",
        csv_header(&std::fs::read_to_string(&log).unwrap()),
    );
    add(
        "skew monitor --prom",
        metric_names(&std::fs::read_to_string(&prom).unwrap()),
    );
    // skew exporter: /metrics once the windows hold enough samples for sourcestats and the
    // Allan deviation (pauses and the leap list on, a dead server for the error counts),
    // and /probe.
    let port = skew_testkit::free_tcp_port();
    let listen = format!("127.0.0.1:{port}");
    let exporter = spawn_skew(
        &[
            "exporter",
            "--listen",
            &listen,
            "--poll",
            "200ms",
            "--timeout",
            "100ms",
            "--window",
            "8",
            "--min-agree",
            "1",
            "--pause",
            "--leap-file",
            leap_list,
            a.as_str(),
            dead.as_str(),
        ],
        &[],
    );
    let t0 = std::time::Instant::now();
    let metrics = loop {
        let text = skew_testkit::http_get(port, "/metrics").unwrap_or_default();
        if [
            "skew_ntp_allan_deviation{",
            "skew_clock_rate_ppm ",
            "skew_pause_max_seconds ",
            "skew_exporter_poll_errors_total{",
        ]
        .iter()
        .all(|m| text.contains(m))
        {
            break text;
        }
        assert!(
            t0.elapsed() < limit,
            "the exporter never showed every family:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    add("skew exporter /metrics", metric_names(&metrics));
    let probe = skew_testkit::http_get(port, &format!("/probe?target={a}")).unwrap();
    add("skew exporter /probe", metric_names(&probe));
    drop(exporter);

    // check reads its servers from an NTP configuration, so that `sources` has lines.
    let ntp_conf = p("chrony.conf");
    let line = |arg: &str| {
        let (host, port) = arg.rsplit_once(':').unwrap();
        format!("server {host} port {port} iburst\n")
    };
    std::fs::write(&ntp_conf, format!("{}{}", line(&a), line(&b))).unwrap();
    let mut args = vec!["check", "--json", "--ntp-conf", &ntp_conf];
    args.extend(local);
    let out = run_skew(&args, limit);
    ok_output(&out, "check --json");
    add("skew check --json", json_paths(&out.stdout));

    // skew now, from the state just written.
    let out = run_skew(&["now", "--json", "--state", &state], limit);
    ok_output(&out, "now --json");
    add("skew now --json", json_paths(&out.stdout));

    // skew leap, on the day of the 2016 leap second (so the list schedules a next leap),
    // with two servers (so there is a smear majority to compare with).
    let out = run_skew(
        &[
            "leap",
            "--json",
            "--file",
            leap_list,
            "--at",
            "2016-12-31T12:00:00Z",
            "-n",
            "5",
            "--interval",
            "10ms",
            "--timeout",
            "300ms",
            &a,
            &b,
        ],
        limit,
    );
    ok_output(&out, "leap --json");
    add("skew leap --json", json_paths(&out.stdout));

    // skew leap --fetch, from a local HTTPS server into a cache of its own.
    let https = skew_testkit::HttpsFiles::start();
    https.put(
        "leap-seconds.list",
        &std::fs::read(crate::common::fresh_leap_list(&dir, "fresh.list")).unwrap(),
    );
    let cache = p("leap-cache");
    let out = crate::common::run_skew_env(
        &[
            "leap",
            "--json",
            "--fetch",
            &https.url("leap-seconds.list"),
            "--fetch-ca",
            https.ca.to_str().unwrap(),
        ],
        &[("SKEW_CACHE_DIR", &cache)],
        limit,
    );
    ok_output(&out, "leap --fetch --json");
    add("skew leap --fetch --json", json_paths(&out.stdout));

    // skew clocks: a step under libfaketime (this process only), in the report and in
    // --watch lines with their CSV; and the plain CSV on stdout.
    let fake_report = FakeStep::new(&dir, "fake-report");
    let fake_watch = FakeStep::new(&dir, "fake-watch");
    let watch_csv = p("clocks.csv");
    // (The per-clock survey runs before the sampling and takes a while under libfaketime:
    // the stepped run skips it, and a plain run covers it.)
    let out = fake_report.run_with_step(
        &["clocks", "--json", "--duration", "2s", "--no-survey"],
        Duration::from_millis(700),
        limit,
    );
    ok_output(&out, "clocks --json");
    add("skew clocks --json", json_paths(&out.stdout));
    let out = run_skew(&["clocks", "--json", "--duration", "200ms"], limit);
    ok_output(&out, "clocks --json (survey)");
    add("skew clocks --json", json_paths(&out.stdout));
    let out = fake_watch.run_with_step(
        &[
            "clocks",
            "--watch",
            "--json",
            "--interval",
            "300ms",
            "--count",
            "5",
            "--csv",
            &watch_csv,
        ],
        Duration::from_millis(600),
        limit,
    );
    ok_output(&out, "clocks --watch --json");
    add("skew clocks --watch --json", json_paths(&out.stdout));
    add(
        "skew clocks --csv",
        csv_header(&std::fs::read_to_string(&watch_csv).unwrap()),
    );
    let out = run_skew(
        &["clocks", "--csv", "--duration", "200ms", "--no-survey"],
        limit,
    );
    ok_output(&out, "clocks --csv");
    add("skew clocks --csv", csv_header(&out.stdout));

    // skew pauses: a 150 ms SIGSTOP with the sibling (a `process` event), one without it
    // and with the state file (an `unknown` pause, which voids the state), and the CSV.
    let with_sibling = spawn_skew(&["pauses", "--json", "--duration", "1500ms"], &[]);
    let voiding = spawn_skew(
        &[
            "pauses",
            "--json",
            "--no-sibling",
            "--duration",
            "1300ms",
            "--state",
            &state,
        ],
        &[],
    );
    let csv = spawn_skew(
        &[
            "pauses",
            "--csv",
            "--duration",
            "700ms",
            "--csv-interval",
            "300ms",
        ],
        &[],
    );
    std::thread::sleep(Duration::from_millis(600));
    for r in [&with_sibling, &voiding] {
        r.child.signal(Signal::SIGSTOP);
    }
    std::thread::sleep(Duration::from_millis(150));
    for r in [&with_sibling, &voiding] {
        r.child.signal(Signal::SIGCONT);
    }
    for (running, what) in [(with_sibling, "pauses --json"), (voiding, "pauses --state")] {
        let out = running.wait(limit);
        ok_output(&out, what);
        add("skew pauses --json", json_paths(&out.stdout));
    }
    let out = csv.wait(limit);
    ok_output(&out, "pauses --csv");
    add("skew pauses --csv", csv_header(&out.stdout));
    add(
        "skew monitor --state",
        json_paths(&std::fs::read_to_string(&state).unwrap()),
    );

    // skew report of the recorded demo log (gaps, a long pause, leap-list events).
    let stats = p("stats.csv");
    let out = run_skew(
        &[
            "report",
            "--json",
            "--stats-csv",
            &stats,
            "--lease",
            "10s",
            "-o",
            &p("report.png"),
            "--width",
            "800",
            "--height",
            "600",
            demo_log.to_str().unwrap(),
        ],
        limit,
    );
    ok_output(&out, "report --json");
    add("skew report --json", json_paths(&out.stdout));
    add(
        "skew report --stats-csv",
        csv_header(&std::fs::read_to_string(&stats).unwrap()),
    );

    // The daemons' statistics, printed when they stop.
    for (daemon, section) in [
        (proxy, "skew proxy --stats-json"),
        (forger, "skew serve --stats-json"),
        (honest, "skew serve --stats-json"),
    ] {
        let out = daemon.stop();
        let stats = out
            .stats()
            .unwrap_or_else(|| panic!("{section}: no statistics:\n{}", out.stderr));
        add(section, json_paths(&stats));
    }
    let _ = std::fs::remove_dir_all(&dir);
    emitted
}

/// Names the runs above must have provoked: without them the comparison would silently
/// cover less than docs/formats.md promises.
const PROVOKED: &[(&str, &str)] = &[
    ("skew probe --json", "probes[].advice.rto_s"),
    ("skew probe --json", "probes[].dropped.origin_mismatch"),
    ("skew probe --json", "probes[].samples[].t4_ns"),
    ("skew probe --json", "lease.margin_s"),
    ("skew probe --json", "probes[].nts.cert_days_left"),
    ("skew probe --json", "probes[].dropped.unauthenticated"),
    (
        "skew monitor --prom",
        "skew_nts_cert_expiry_timestamp_seconds",
    ),
    ("skew monitor --json", "report.pause.max_s"),
    ("skew monitor --json", "report.leap.status"),
    ("skew monitor --state", "invalidated.reason"),
    ("skew clocks --json", "steps[].size_s"),
    ("skew clocks --json", "clocks[].read_cost_ns.median"),
    ("skew clocks --watch --json", "steps[].direction"),
    ("skew pauses --json", "events[].kind"),
    ("skew leap --json", "list.next_leap.second"),
    ("skew leap --json", "servers[].rate_vs_majority_ppm"),
    ("skew report --json", "long_pauses[].max_s"),
    ("skew report --json", "gaps[].duration_s"),
    ("skew proxy --stats-json", "fwd.forwarded"),
    ("skew serve --stats-json", "faults.wrong_origin"),
];

#[test]
fn formats_md_lists_every_name_skew_emits() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let doc_path = repo_file("docs/formats.md");
    let doc = parse_doc(&std::fs::read_to_string(&doc_path).expect("docs/formats.md"));
    let emitted = collect_emitted();
    for (section, name) in PROVOKED {
        assert!(
            emitted.get(*section).is_some_and(|n| n.contains(*name)),
            "the runs did not provoke `{name}` in {section}: {:?}",
            emitted.get(*section)
        );
    }
    if let Some(report) = missing_report(&doc, &emitted) {
        panic!("{report}");
    }
}

#[test]
fn the_markup_reader_understands_prefixes_wildcards_and_aliases() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let doc = parse_doc(
        "# Title\n\
         ## Group\n\
         ### `tool --json`\n\
         | key | unit | meaning |\n\
         |---|---|---|\n\
         | `a`, `b` | s | two keys; `not_a_key` in the meaning |\n\
         #### `a`\n\
         | `x` | | |\n\
         | `map.*` | | keys are data |\n\
         Keys under `c[]`: as `a` of `tool --json`.\n\
         ### `watch --json`\n\
         Keys under `a`: as `a` of `tool --json`.\n\
         Keys under `d` as `a` of `tool --json` (not the form).\n\
         ## Other\n\
         | `outside` | | not in a section |\n",
    );
    assert!(doc.documents("tool --json", "a"));
    assert!(doc.documents("tool --json", "b"));
    assert!(doc.documents("tool --json", "a.x"));
    assert!(!doc.documents("tool --json", "x"));
    assert!(!doc.documents("tool --json", "not_a_key"));
    assert!(doc.documents("tool --json", "a.map"));
    assert!(doc.documents("tool --json", "a.map.anything"));
    assert!(doc.documents("tool --json", "c[].x"));
    assert!(doc.documents("tool --json", "c[].map.z"));
    assert!(!doc.documents("tool --json", "c[].y"));
    assert!(!doc.documents("tool --json", "d.x"));
    assert!(!doc.documents("tool --json", "outside"));
    assert!(!doc.documents("other --json", "a"));
    assert!(
        doc.documents("watch --json", "a.x"),
        "an alias to the same path elsewhere"
    );
    assert!(
        !doc.documents("watch --json", "a"),
        "the aliased path itself needs a row"
    );

    let mut emitted = BTreeMap::new();
    emitted.insert(
        "tool --json".to_string(),
        ["a", "a.x", "a.new", "top"].map(String::from).into(),
    );
    emitted.insert("new --csv".to_string(), ["col"].map(String::from).into());
    let report = missing_report(&doc, &emitted).expect("three names are missing");
    assert!(report.contains("3 name(s)"), "{report}");
    assert!(
        report.contains("`a.new` (tool --json): under \"### `tool --json`\", below \"#### `a`\""),
        "{report}"
    );
    assert!(
        report.contains("a row \"| `new` | unit | meaning |\""),
        "{report}"
    );
    assert!(
        report.contains("`top` (tool --json): under \"### `tool --json`\", in its first table"),
        "{report}"
    );
    assert!(
        report.contains("`col` (new --csv): add a section \"### `new --csv`\""),
        "{report}"
    );
    emitted.clear();
    emitted.insert(
        "tool --json".to_string(),
        ["a", "a.x"].map(String::from).into(),
    );
    assert!(missing_report(&doc, &emitted).is_none());
}

#[test]
fn emitted_names_are_read_from_json_csv_and_metrics() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let paths = json_paths(
        "listening on x\n{\"a\": {\"b\": [ {\"c\": 1}, {\"d\": null} ]}, \"e\": [1, 2]}\n{\"f\": {}}",
    );
    let want: BTreeSet<String> = ["a", "a.b", "a.b[].c", "a.b[].d", "e", "f"]
        .map(String::from)
        .into();
    assert_eq!(paths, want);
    assert_eq!(
        csv_header("x,y_s,z\n1,2,3\n"),
        ["x", "y_s", "z"].map(String::from).into()
    );
    assert_eq!(
        metric_names("# HELP m_a x\n# TYPE m_a gauge\nm_a{l=\"1\"} 2\nm_b 3\n"),
        ["m_a", "m_b"].map(String::from).into()
    );
}
