//! `skew exporter` with a `pool` line (issue 13 item 1): every address the pool's name
//! resolves to is a server of its own, and the name is resolved again while an address has
//! stopped answering. The name is `pool.test` in a hosts file bind-mounted over /etc/hosts
//! in a private mount namespace; the file is rewritten in place while the exporter runs (the
//! resolver reads it at every lookup). The addresses are `skew serve`s on 127.0.0.1-3, one
//! port, so one of them can stop answering while the others go on.

use crate::common::spawn_wrapped;
use crate::exporter::{promtool_check, value, wait_metrics};
use crate::verdicts::in_namespace_with_hosts;
use skew_testkit::{free_tcp_port, SkewDaemon};
use std::path::Path;
use std::time::Duration;

fn write_hosts(hosts: &Path, addresses: &[&str]) {
    let mine = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let pool: String = addresses
        .iter()
        .map(|a| format!("{a} pool.test\n"))
        .collect();
    // In place (same inode): the bind mount shows the new text.
    std::fs::write(hosts, format!("{mine}\n{pool}")).unwrap();
}

#[test]
fn a_pool_is_polled_at_every_address_and_a_dead_one_is_replaced() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let bin = Path::new(crate::common::skew_bin());
    let d = std::env::temp_dir().join(format!("skew-exporter-pool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    // 127.0.0.2 alone, so that it can die while 127.0.0.1 and 127.0.0.3 go on answering.
    let doomed = SkewDaemon::start(bin, &["serve", "--listen", "127.0.0.2:0"])
        .unwrap_or_else(|e| panic!("{e}"));
    let port = doomed.port();
    let lasting = SkewDaemon::start(
        bin,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--listen",
            &format!("127.0.0.3:{port}"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let hosts = d.join("hosts");
    write_hosts(&hosts, &["127.0.0.1", "127.0.0.2"]);
    let conf = d.join("chrony.conf");
    std::fs::write(
        &conf,
        format!("pool pool.test port {port} iburst maxsources 2\n"),
    )
    .unwrap();
    let toml = d.join("skew.toml");
    std::fs::write(&toml, format!("ntp_conf = {:?}\n", conf.to_str().unwrap())).unwrap();
    let http = free_tcp_port();
    let listen = format!("127.0.0.1:{http}");
    let wrapper = in_namespace_with_hosts(&hosts);
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let run = spawn_wrapped(
        &wrapper,
        &[
            "exporter",
            "--config",
            toml.to_str().unwrap(),
            "--listen",
            &listen,
            "--poll",
            "250ms",
            "--timeout",
            "200ms",
            "--no-clock",
            "--no-leap",
            "-4",
        ],
        &[],
    );
    let server = format!("pool.test:{port}");
    let up = |a: &str| format!("skew_ntp_up{{server=\"{server}\",address=\"{a}:{port}\"}}");
    // Both addresses, each a server of its own, agreeing.
    let text = wait_metrics(http, Duration::from_secs(20), |t| {
        value(t, &up("127.0.0.1")) == Some(1.0) && value(t, &up("127.0.0.2")) == Some(1.0)
    });
    promtool_check(&text);
    assert_eq!(value(&text, "skew_ntp_servers "), Some(2.0), "{text}");
    assert_eq!(value(&text, "skew_agreement_truechimers "), Some(2.0));
    assert!(!text.contains("address=\"\""), "{text}");

    // 127.0.0.2 dies and leaves the name, which gives 127.0.0.3 instead: after 8 polls
    // without a reply the name is resolved again, 127.0.0.2 retired (its series gone) and
    // 127.0.0.3 polled in its place; 127.0.0.1, still answering, stays.
    write_hosts(&hosts, &["127.0.0.3", "127.0.0.1"]);
    drop(doomed.stop());
    let text = wait_metrics(http, Duration::from_secs(30), |t| {
        value(t, &up("127.0.0.3")) == Some(1.0) && !t.contains("127.0.0.2")
    });
    promtool_check(&text);
    assert_eq!(value(&text, &up("127.0.0.1")), Some(1.0), "{text}");
    assert_eq!(value(&text, "skew_ntp_servers "), Some(2.0), "{text}");
    assert_eq!(value(&text, "skew_agreement_truechimers "), Some(2.0));
    // The address that stayed kept its window across the change.
    let polls = value(
        &text,
        &format!("skew_exporter_polls_total{{server=\"{server}\",address=\"127.0.0.1:{port}\"}}"),
    )
    .unwrap();
    assert!(polls >= 8.0, "{polls}");
    run.child.signal(nix::sys::signal::Signal::SIGTERM);
    let out = run.wait(Duration::from_secs(5));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("skew exporter: polling 2 server(s) (2 of them the addresses of 1 pool(s))"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    drop(lasting);
    let _ = std::fs::remove_dir_all(&d);
}
