//! `skew exporter` polling NTS servers: Debian's chronyd 4.3 serving NTS on loopback (`-x`,
//! a test PKI made at test time), a relay in front of its key exchange port that counts the
//! key exchanges from outside the exporter, a restart with new server keys (NAKs), a key
//! exchange server that goes away, a scripted key exchange that sends the NTP part to a
//! plain server, and servers marked `nts` in a configuration file.

use crate::exporter::{exporter, promtool_check, value, wait_metrics};
use skew_ntp::nts::ke::{
    encode_record, AEAD_ALGORITHM, END_OF_MESSAGE, NEW_COOKIE, NEXT_PROTOCOL, NTP_PORT,
};
use skew_testkit::{free_tcp_port, KeRelay, NtsChronyd, ScriptedKe, SkewDaemon, TestPki, Validity};
use std::time::{Duration, Instant, SystemTime};

/// 2099-12-31T00:00:00Z, the end of the test PKI's long certificates.
const CERT_END_UNIX_S: f64 = 4_102_358_400.0;

/// `skew exporter --no-clock --nts --nts-ca CA EXTRA... SERVERS...`.
fn nts_exporter(
    port: u16,
    pki: &TestPki,
    extra: &[&str],
    servers: &[String],
) -> crate::common::Running {
    let ca = pki.ca.display().to_string();
    let mut args = vec!["--no-clock", "--nts", "--nts-ca", ca.as_str()];
    args.extend_from_slice(extra);
    exporter(port, &args, servers)
}

/// The sum of the samples whose line starts with `prefix` (a family and some labels).
fn sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `{server="KE"` and `{server="KE",address="NTP"}` for the label sets of NTS families and
/// of per-server families.
fn labels(ke: &str, ntp_port: u16) -> (String, String) {
    (
        format!("{{server=\"{ke}\""),
        format!("{{server=\"{ke}\",address=\"127.0.0.1:{ntp_port}\"}}"),
    )
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn one_key_exchange_serves_many_polls_on_refilled_cookies() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let relay = KeRelay::start(server.ke_port);
    let ke = relay.arg();
    let port = free_tcp_port();
    let t0 = now_s();
    let run = nts_exporter(
        port,
        &pki,
        &["--poll", "250ms", "--timeout", "200ms"],
        std::slice::from_ref(&ke),
    );
    let (s, sa) = labels(&ke, server.ntp_port());
    // 20 polls: each spends a cookie, more than twice the 8 the key exchange gave.
    let text = wait_metrics(port, Duration::from_secs(60), |t| {
        value(t, &format!("skew_exporter_polls_total{sa}")).is_some_and(|n| n >= 20.0)
    });
    promtool_check(&text);
    assert_eq!(relay.count(), 1, "one key exchange for every poll:\n{text}");
    assert_eq!(
        value(&text, &format!("skew_nts_ke_total{s},trigger=\"start\"}}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sum(&text, "skew_nts_ke_total{"), 1.0, "{text}");
    assert!(!text.contains("skew_nts_ke_failures_total"), "{text}");
    // Authenticated, with the jar full after every poll: each reply refilled it.
    assert_eq!(
        value(&text, &format!("skew_nts_authenticated{s}}}")),
        Some(1.0)
    );
    assert_eq!(value(&text, &format!("skew_nts_ke_up{s}}}")), Some(1.0));
    assert_eq!(
        value(&text, &format!("skew_nts_cookies_held{s}}}")),
        Some(8.0)
    );
    assert_eq!(value(&text, &format!("skew_nts_cookies{s}}}")), Some(8.0));
    assert_eq!(
        value(&text, &format!("skew_nts_naks_total{s}}}")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, &format!("skew_nts_unauthenticated_total{s}}}")),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            &format!("skew_nts_cert_expiry_timestamp_seconds{s}}}")
        ),
        Some(CERT_END_UNIX_S)
    );
    let ke_s = value(&text, &format!("skew_nts_ke_duration_seconds{s}}}")).unwrap();
    assert!(ke_s > 0.0 && ke_s < 5.0, "{ke_s}");
    let at = value(
        &text,
        &format!("skew_nts_ke_last_success_timestamp_seconds{s}}}"),
    )
    .unwrap();
    assert!(at >= t0 - 1.0 && at <= now_s(), "{at}");
    // Measured as a plain server would be: every poll answered, microseconds off.
    assert_eq!(value(&text, &format!("skew_ntp_up{sa}")), Some(1.0));
    assert_eq!(value(&text, &format!("skew_ntp_reach{sa}")), Some(255.0));
    let off = value(&text, &format!("skew_ntp_offset_seconds{sa}")).unwrap();
    assert!(off.abs() < 1e-3, "{off}");
    assert!(value(&text, &format!("skew_sourcestats_samples{sa}")).unwrap() >= 3.0);
    assert!(
        sum(
            &text,
            &format!("skew_exporter_poll_errors_total{}", &sa[..sa.len() - 1])
        ) <= 2.0,
        "{text}"
    );
    drop(run);
}

#[test]
fn a_nak_after_the_server_lost_its_keys_brings_a_new_key_exchange() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let mut server = NtsChronyd::start(&pki, &[]);
    let relay = KeRelay::start(server.ke_port);
    let ke = relay.arg();
    let port = free_tcp_port();
    // A 2 s poll: the restart (a few hundred ms) stays well under the 4 failed polls that
    // would bring a key exchange of their own.
    let run = nts_exporter(
        port,
        &pki,
        &["--poll", "2s", "--timeout", "1s"],
        std::slice::from_ref(&ke),
    );
    let (s, sa) = labels(&ke, server.ntp_port());
    wait_metrics(port, Duration::from_secs(40), |t| {
        value(t, &format!("skew_exporter_polls_total{sa}")).is_some_and(|n| n >= 2.0)
            && value(t, &format!("skew_nts_authenticated{s}}}")) == Some(1.0)
    });
    assert_eq!(relay.count(), 1);
    // chronyd restarted without its keys: our cookies are now unreadable to it.
    server.restart_with_new_keys(&pki);
    let restarted = now_s();
    let text = wait_metrics(port, Duration::from_secs(60), |t| {
        value(t, &format!("skew_nts_ke_total{s},trigger=\"nak\"}}")).is_some()
            && value(t, &format!("skew_nts_authenticated{s}}}")) == Some(1.0)
            && value(
                t,
                &format!("skew_nts_ke_last_success_timestamp_seconds{s}}}"),
            )
            .is_some_and(|at| at > restarted)
    });
    promtool_check(&text);
    assert!(
        value(&text, &format!("skew_nts_naks_total{s}}}")).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        value(
            &text,
            &format!(
                "skew_exporter_poll_errors_total{},status=\"nts-nak\"}}",
                &sa[..sa.len() - 1]
            )
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    assert_eq!(
        value(&text, &format!("skew_nts_ke_total{s},trigger=\"nak\"}}")),
        Some(1.0)
    );
    assert_eq!(
        sum(&text, "skew_nts_ke_total{"),
        2.0,
        "start and nak only:\n{text}"
    );
    assert_eq!(relay.count(), 2, "the new key exchange went to the server");
    assert_eq!(value(&text, &format!("skew_nts_ke_up{s}}}")), Some(1.0));
    assert_eq!(value(&text, &format!("skew_ntp_up{sa}")), Some(1.0));
    drop(run);
}

#[test]
fn a_key_exchange_server_that_goes_away_is_backed_off_and_reported() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let ke = server.ke_arg();
    let port = free_tcp_port();
    let run = nts_exporter(
        port,
        &pki,
        &[
            "--poll",
            "250ms",
            "--timeout",
            "150ms",
            "--nts-ke-timeout",
            "1s",
        ],
        std::slice::from_ref(&ke),
    );
    let (s, sa) = labels(&ke, server.ntp_port());
    let polls = |t: &str| value(t, &format!("skew_exporter_polls_total{sa}")).unwrap_or(0.0);
    let text = wait_metrics(port, Duration::from_secs(40), |t| {
        value(t, &format!("skew_nts_authenticated{s}}}")) == Some(1.0)
    });
    let before = polls(&text);
    // NTP and NTS-KE gone at once.
    drop(server);
    let errors = format!(
        "skew_exporter_poll_errors_total{},status=\"nts-ke-failed\"}}",
        &sa[..sa.len() - 1]
    );
    let text = wait_metrics(port, Duration::from_secs(60), |t| {
        value(t, &errors).is_some_and(|n| n >= 12.0)
    });
    promtool_check(&text);
    let after = polls(&text) - before;
    let tried = sum(&text, &format!("skew_nts_ke_failures_total{s},"));
    assert_eq!(
        value(
            &text,
            &format!("skew_nts_ke_failures_total{s},step=\"tcp\"}}")
        ),
        Some(tried),
        "refused connections:\n{text}"
    );
    // Asked again, but less and less often: about log2 of the polls, never once per poll.
    assert!(
        tried >= 3.0 && tried <= 2.0 + after.log2(),
        "{tried} key exchanges in {after} polls:\n{text}"
    );
    assert_eq!(sum(&text, &format!("skew_nts_ke_total{s},")), 1.0 + tried);
    assert_eq!(value(&text, &format!("skew_nts_ke_up{s}}}")), Some(0.0));
    assert_eq!(
        value(&text, &format!("skew_nts_authenticated{s}}}")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, &format!("skew_nts_cookies_held{s}}}")),
        Some(0.0)
    );
    assert_eq!(value(&text, &format!("skew_ntp_up{sa}")), Some(0.0));
    assert_eq!(value(&text, &format!("skew_ntp_reach{sa}")), Some(0.0));
    drop(run);
}

#[test]
fn replies_that_do_not_authenticate_are_never_used() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // A key exchange that sends the NTP part to a plain server with cookies nobody can
    // read: the plain replies would give a perfectly good offset, and must not.
    let bin = std::path::Path::new(crate::common::skew_bin());
    let plain = SkewDaemon::serve(bin, &[]);
    let pki = TestPki::new("skew test CA", Validity::Long);
    let mut records = Vec::new();
    encode_record(&mut records, true, NEXT_PROTOCOL, &[0, 0]);
    encode_record(&mut records, true, AEAD_ALGORITHM, &[0, 15]);
    encode_record(&mut records, true, NTP_PORT, &plain.port().to_be_bytes());
    for i in 0..8 {
        encode_record(&mut records, false, NEW_COOKIE, &[i; 64]);
    }
    encode_record(&mut records, true, END_OF_MESSAGE, &[]);
    let scripted = ScriptedKe::start(&pki, &[b"ntske/1"], records);
    let ke = scripted.arg();
    let port = free_tcp_port();
    let run = nts_exporter(
        port,
        &pki,
        &["--poll", "200ms", "--timeout", "100ms"],
        std::slice::from_ref(&ke),
    );
    let (s, sa) = labels(&ke, plain.port());
    let text = wait_metrics(port, Duration::from_secs(60), |t| {
        value(t, &format!("skew_exporter_polls_total{sa}")).is_some_and(|n| n >= 40.0)
    });
    promtool_check(&text);
    let polls = value(&text, &format!("skew_exporter_polls_total{sa}")).unwrap();
    assert_eq!(value(&text, &format!("skew_ntp_up{sa}")), Some(0.0));
    assert!(
        !text.contains(&format!("skew_ntp_offset_seconds{sa}")),
        "no offset from unauthenticated replies:\n{text}"
    );
    assert_eq!(
        value(&text, &format!("skew_nts_authenticated{s}}}")),
        Some(0.0)
    );
    assert!(
        value(&text, &format!("skew_nts_unauthenticated_total{s}}}")).unwrap() >= polls / 2.0,
        "{text}"
    );
    // Sessions that never authenticate are renewed after 4 failed polls, then ever less
    // often; the key exchange server saw exactly what the exporter counted.
    let exchanges = sum(&text, &format!("skew_nts_ke_total{s},"));
    let served = scripted.served.load(std::sync::atomic::Ordering::Relaxed) as f64;
    assert!(
        (exchanges - served).abs() <= 1.0,
        "{exchanges} counted, {served} served"
    );
    assert!(
        exchanges >= 3.0 && exchanges <= 3.0 + polls.log2(),
        "{exchanges} key exchanges in {polls} polls:\n{text}"
    );
    assert!(value(
        &text,
        &format!("skew_nts_ke_total{s},trigger=\"failures\"}}")
    )
    .is_some());
    drop(run);
}

#[test]
fn servers_marked_nts_in_the_configuration_file() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let (ke, plain) = (server.ke_arg(), server.chronyd.arg());
    let dir = std::env::temp_dir().join(format!("skew-exporter-nts-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("skew.toml");
    std::fs::write(
        &conf,
        format!(
            "servers = [\"{plain}\", \"{ke} nts\"]\n[nts]\nca = [\"{}\"]\n",
            pki.ca.display()
        ),
    )
    .unwrap();
    let conf_s = conf.display().to_string();
    let port = free_tcp_port();
    // No --nts: the file marks the NTS server.
    let run = exporter(
        port,
        &[
            "--config",
            &conf_s,
            "--no-clock",
            "--poll",
            "300ms",
            "--timeout",
            "200ms",
        ],
        &[],
    );
    let (s, sa) = labels(&ke, server.ntp_port());
    let sp = format!("{{server=\"{plain}\",address=\"{plain}\"}}");
    let t0 = Instant::now();
    let text = wait_metrics(port, Duration::from_secs(40), |t| {
        value(t, &format!("skew_nts_authenticated{s}}}")) == Some(1.0)
            && value(t, &format!("skew_ntp_up{sp}")) == Some(1.0)
            && value(t, &format!("skew_ntp_up{sa}")) == Some(1.0)
    });
    assert!(t0.elapsed() < Duration::from_secs(40));
    promtool_check(&text);
    // The same chronyd, measured both ways; only the NTS entry has NTS families.
    assert!(!text.contains(&format!("skew_nts_authenticated{{server=\"{plain}\"")));
    assert_eq!(
        value(&text, &format!("skew_nts_ke_total{s},trigger=\"start\"}}")),
        Some(1.0)
    );
    assert_eq!(value(&text, "skew_ntp_servers "), Some(2.0));
    let _ = std::fs::remove_dir_all(&dir);
    drop(run);
}

#[test]
fn unusable_ca_files_are_refused_at_start() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let dir = std::env::temp_dir().join(format!("skew-exporter-nts-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");
    let listen = format!("127.0.0.1:{}", free_tcp_port());
    for (ca, code) in [(&missing, 66), (&garbage, 65)] {
        let ca = ca.display().to_string();
        let out = crate::common::run_skew(
            &[
                "exporter",
                "--listen",
                &listen,
                "--nts",
                "--nts-ca",
                &ca,
                "127.0.0.1:4460",
            ],
            Duration::from_secs(20),
        );
        assert_eq!(out.code, code, "{ca}: {}", out.stderr);
        assert!(out.stderr.contains(&ca), "{}", out.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
