//! The fleet in Prometheus: the example scrape configuration and rules pass promtool (and
//! their unit tests on synthetic series), and a real Prometheus server on loopback, scraping
//! two exporters that stand for two hosts (one probing healthy chronyd peers, the other
//! chronyd followers served 50 ms off, as a host 50 ms behind sees them), records a pairwise
//! skew bound that contains the true 50 ms.

use crate::common::spawn_skew;
use skew_testkit::{free_tcp_port, Chronyd, Spawned};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/prometheus")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("skew-exporter-prom-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn promtool(args: &[&str], dir: &Path) {
    skew_testkit::require("promtool");
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn example_configuration_and_rules_pass_promtool() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = examples();
    promtool(&["check", "rules", "skew-fleet-rules.yml"], &dir);
    promtool(&["check", "config", "prometheus.yml"], &dir);
    promtool(&["test", "rules", "skew-fleet-rules.test.yml"], &dir);
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut t = String::new();
    s.read_to_string(&mut t).ok()?;
    t.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// The instant-query results for `metric` (a name without braces): (labels, value).
fn query(port: u16, metric: &str) -> Vec<(serde_json::Value, f64)> {
    let Some(body) = get(port, &format!("/api/v1/query?query={metric}")) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
        return Vec::new();
    };
    v["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let val = r["value"][1].as_str()?.parse().ok()?;
            Some((r["metric"].clone(), val))
        })
        .collect()
}

fn wait_exporter(port: u16) {
    let t0 = Instant::now();
    while get(port, "/-/healthy").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "exporter on {port} never came up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn prometheus_records_the_skew_between_two_hosts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    skew_testkit::require("prometheus");
    // Host A sees the truth; host B's clock is 50 ms behind, so it sees every server 50 ms
    // ahead: it probes followers that serve truth + 50 ms.
    let t1 = Chronyd::server();
    let t2 = Chronyd::server();
    let f1 = Chronyd::follower(t1.port, "0.05");
    let f2 = Chronyd::follower(t2.port, "0.05");
    let (pa, pb) = (free_tcp_port(), free_tcp_port());
    let fast = [
        "--poll",
        "500ms",
        "--timeout",
        "200ms",
        "--no-leap",
        "--no-clock",
    ];
    let la = format!("127.0.0.1:{pa}");
    let lb = format!("127.0.0.1:{pb}");
    let mut args_a = vec!["exporter", "--listen", &la];
    args_a.extend_from_slice(&fast);
    let (t1a, t2a) = (t1.arg(), t2.arg());
    args_a.extend_from_slice(&[&t1a, &t2a]);
    let mut args_b = vec!["exporter", "--listen", &lb];
    args_b.extend_from_slice(&fast);
    let (f1a, f2a) = (f1.arg(), f2.arg());
    args_b.extend_from_slice(&[&f1a, &f2a]);
    let ea = spawn_skew(&args_a, &[]);
    let eb = spawn_skew(&args_b, &[]);
    wait_exporter(pa);
    wait_exporter(pb);

    // Prometheus: both exporters in one job; host B's follower F stands for server T (the
    // same server seen from B, at the same address), which a metric relabelling states for
    // both labels that name a server: the rules group by `server` and `address`.
    let dir = tmpdir("e2e");
    std::fs::copy(
        examples().join("skew-fleet-rules.yml"),
        dir.join("skew-fleet-rules.yml"),
    )
    .unwrap();
    let relabel = |from: &str, to: &str| {
        format!(
            "      - source_labels: [instance, server]\n        regex: '{lb};{from}'\n        target_label: server\n        replacement: '{to}'\n\
             \x20     - source_labels: [instance, address]\n        regex: '{lb};{from}'\n        target_label: address\n        replacement: '{to}'\n"
        )
    };
    let config = [
        "global:".to_string(),
        "  scrape_interval: 1s".into(),
        "  scrape_timeout: 900ms".into(),
        "  evaluation_interval: 1s".into(),
        "rule_files:".into(),
        "  - skew-fleet-rules.yml".into(),
        "scrape_configs:".into(),
        "  - job_name: skew".into(),
        "    static_configs:".into(),
        format!("      - targets: ['{la}', '{lb}']"),
        "    metric_relabel_configs:".into(),
        relabel(&f1a, &t1a),
        relabel(&f2a, &t2a),
    ]
    .join("\n");
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    promtool(&["check", "config", "prometheus.yml"], &dir);
    let pp = free_tcp_port();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!(
        "--config.file={}",
        dir.join("prometheus.yml").display()
    ))
    .arg(format!(
        "--storage.tsdb.path={}",
        dir.join("data").display()
    ))
    .arg(format!("--web.listen-address=127.0.0.1:{pp}"))
    .arg("--log.level=warn")
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(dir.join("prometheus.log")).unwrap())
    .stderr(std::fs::File::create(dir.join("prometheus.err")).unwrap());
    let prom = Spawned::spawn("prometheus", &mut cmd).expect("start prometheus");

    // Wait for the recorded bounds of server T1 (both hosts measured, rules evaluated).
    let t0 = Instant::now();
    let (bound, proven, hosts) = loop {
        let b = query(pp, "skew:fleet_skew_bound_seconds");
        let p = query(pp, "skew:fleet_skew_proven_seconds");
        let h = query(pp, "skew:ntp_host_skew_bound_seconds");
        let of = |v: &[(serde_json::Value, f64)]| {
            v.iter()
                .find(|(l, _)| l["server"] == t1a.as_str())
                .map(|(_, x)| *x)
        };
        let on_t1 = h
            .iter()
            .filter(|(l, _)| l["server"] == t1a.as_str())
            .count();
        if let (Some(b), Some(p), 2) = (of(&b), of(&p), on_t1) {
            break (b, p, h);
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(dir.join("prometheus.err")).unwrap_or_default();
            panic!("no recorded skew after 60 s: {b:?} {p:?} {h:?}\n{log}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!(
        "recorded skew between the two hosts measuring {t1a}: proven {proven} s, bound {bound} s"
    );
    // The true skew is 50 ms, known to the followers' own accuracy (well under 200 µs).
    let slack = 200e-6;
    assert!(
        proven - slack <= 0.05 && 0.05 <= bound + slack,
        "[{proven}, {bound}] does not contain 50 ms"
    );
    // And the bound is tight: a few hundred µs of loopback bounds and ageing around it.
    assert!(
        bound < 0.05 + 5e-3 && proven > 0.05 - 5e-3,
        "[{proven}, {bound}]"
    );
    for (labels, v) in hosts.iter().filter(|(l, _)| l["server"] == t1a.as_str()) {
        assert!((v - bound).abs() < 1e-9, "{labels}: {v} vs {bound}");
    }
    // Through the agreements (UTC bounds of each host) the fleet bound contains it too.
    let utc = query(pp, "skew:fleet_utc_skew_bound_seconds");
    assert!(
        utc.first().is_some_and(|(_, v)| *v + slack >= 0.05),
        "{utc:?}"
    );

    drop(prom);
    drop(ea);
    drop(eb);
    let _ = std::fs::remove_dir_all(&dir);
}
