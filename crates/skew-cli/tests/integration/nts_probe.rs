//! `skew probe --nts` against a real NTS server: Debian's chronyd 4.3 on loopback (`-x`,
//! never touching the clock) with a test PKI made at test time, checked against chrony's
//! own NTS client (`chronyd -Q -x` with `nts`). Scripted key exchanges send the NTP part
//! where a test needs it: to a server without NTS, or with cookies chronyd cannot read.

use crate::common::run_skew;
use serde_json::Value;
use skew_ntp::nts::ke::{
    encode_record, AEAD_ALGORITHM, END_OF_MESSAGE, NEW_COOKIE, NEXT_PROTOCOL, NTP_PORT, NTP_SERVER,
};
use skew_testkit::{
    chronyd_q_nts, NtsChronyd, RacingForger, ScriptedKe, SkewDaemon, TestPki, Validity,
};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

const NTS_KEYS: [&str; 14] = [
    "ke_server",
    "ke_port",
    "ntp_server",
    "ntp_port",
    "tls_version",
    "aead",
    "cookies",
    "cookie_bytes",
    "ke_duration_s",
    "cert_subject",
    "cert_not_after",
    "cert_days_left",
    "authenticated",
    "dropped_unauthenticated",
];

/// `skew probe --nts --nts-ca CA --json ARGS... SERVER`: exit code and the one probe record.
fn probe_nts(ca: &Path, server: &str, args: &[&str]) -> (i32, Value) {
    let ca = ca.display().to_string();
    let mut all = vec![
        "probe",
        "--nts",
        "--nts-ca",
        &ca,
        "--json",
        "--interval",
        "10ms",
    ];
    all.extend_from_slice(args);
    all.push(server);
    let out = run_skew(&all, Duration::from_secs(60));
    let j = out.json();
    (out.code, j["probes"][0].clone())
}

fn nts(p: &Value) -> &serde_json::Map<String, Value> {
    p["nts"]
        .as_object()
        .unwrap_or_else(|| panic!("no nts object: {p:#}"))
}

#[test]
fn authenticated_probe_agrees_with_chronyd_nts_client() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let (code, p) = probe_nts(&pki.ca, &server.ke_arg(), &["-n", "4"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["status"], "ok", "{p:#}");
    let n = nts(&p);
    let mut keys: Vec<&str> = n.keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    let mut expected = NTS_KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "exactly the documented keys");
    assert_eq!(n["ke_server"], "127.0.0.1");
    assert_eq!(n["ke_port"], server.ke_port);
    assert_eq!(n["ntp_server"], "127.0.0.1");
    assert_eq!(n["ntp_port"], server.ntp_port(), "chrony's port record");
    assert_eq!(n["tls_version"], "TLSv1.3");
    assert_eq!(n["aead"], "AES-SIV-CMAC-256");
    assert_eq!(n["cookies"], 8);
    assert!(n["cookie_bytes"].as_u64().unwrap() >= 16);
    assert!(n["ke_duration_s"].as_f64().unwrap() > 0.0);
    assert_eq!(n["cert_subject"], "O=skew test,CN=localhost");
    assert_eq!(n["cert_not_after"], "2099-12-31T00:00:00Z");
    assert!(n["cert_days_left"].as_f64().unwrap() > 25_000.0);
    assert_eq!(n["authenticated"], true);
    assert_eq!(n["dropped_unauthenticated"], 0);
    assert_eq!(p["samples"].as_array().unwrap().len(), 4);
    assert_eq!(p["address"], format!("127.0.0.1:{}", server.ntp_port()));
    // Same clock: the true offset is 0, inside the bound.
    let (lo, hi) = (
        p["bound_lo_s"].as_f64().unwrap(),
        p["bound_hi_s"].as_f64().unwrap(),
    );
    assert!(lo <= 1e-6 && hi >= -1e-6, "[{lo}, {hi}]");
    // Kernel transmit timestamps work for NTS requests as for plain ones (matched by the
    // request's last bytes, not its nonce).
    let plain = run_skew(
        &["probe", "--json", "-n", "1", &server.chronyd.arg()],
        Duration::from_secs(30),
    )
    .json();
    assert_eq!(
        p["tx_timestamp"], plain["probes"][0]["tx_timestamp"],
        "{p:#}"
    );
    // chrony's own NTS client on the same server in the same run.
    let chrony = chronyd_q_nts(server.ntp_port(), server.ke_port, &pki.ca).unwrap();
    let ours = p["offset_s"].as_f64().unwrap();
    assert!(
        (ours - chrony).abs() < 100e-6,
        "skew {ours} s, chronyd -Q (NTS) {chrony} s"
    );
}

#[test]
fn each_aead_when_offered_alone() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let (code, p) = probe_nts(
        &pki.ca,
        &server.ke_arg(),
        &["-n", "2", "--nts-aead", "aes-siv-cmac-256"],
    );
    assert_eq!((code, p["status"].as_str()), (0, Some("ok")), "{p:#}");
    assert_eq!(nts(&p)["aead"], "AES-SIV-CMAC-256");
    let (code, p) = probe_nts(&pki.ca, &server.ke_arg(), &["-n", "2", "--nts-aead", "30"]);
    if p["status"] == "ok" {
        // A chrony built with AES-GCM-SIV (nettle ≥ 3.9).
        assert_eq!(nts(&p)["aead"], "AES-128-GCM-SIV");
        assert_eq!(nts(&p)["authenticated"], true);
    } else {
        // Debian 12's chrony 4.3 (nettle 3.8): no AES-GCM-SIV in NTS-KE.
        assert_eq!(code, 2);
        assert_eq!(p["status"], "nts-ke-failed", "{p:#}");
        let e = p["error"].as_str().unwrap();
        assert!(
            e.contains("protocol") && e.contains("none of the AEAD algorithms"),
            "{e}"
        );
    }
}

#[test]
fn certificate_not_trusted_or_expired() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let other = TestPki::new("another CA", Validity::Long);
    let (code, p) = probe_nts(&other.ca, &server.ke_arg(), &["-n", "1"]);
    assert_eq!(code, 2);
    assert_eq!(p["status"], "nts-ke-failed", "{p:#}");
    let e = p["error"].as_str().unwrap();
    assert!(
        e.contains("(certificate)") && e.contains("UnknownIssuer"),
        "{e}"
    );
    assert_eq!(nts(&p)["cert_subject"], "O=skew test,CN=localhost");
    assert_eq!(nts(&p)["authenticated"], false);
    assert_eq!(p["sent"], 0, "no NTP request without keys");

    let expired = TestPki::new("skew test CA", Validity::Expired);
    let old = NtsChronyd::start(&expired, &[]);
    let (code, p) = probe_nts(&expired.ca, &old.ke_arg(), &["-n", "1"]);
    assert_eq!(code, 2);
    assert_eq!(p["status"], "nts-ke-failed", "{p:#}");
    let e = p["error"].as_str().unwrap();
    assert!(e.contains("(certificate)") && e.contains("expired"), "{e}");
    assert_eq!(nts(&p)["cert_not_after"], "2020-12-31T00:00:00Z");
    assert!(nts(&p)["cert_days_left"].as_f64().unwrap() < -365.0);
}

#[test]
fn no_key_exchange_server_on_the_port() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let port = skew_testkit::free_tcp_port();
    let pki = TestPki::new("skew test CA", Validity::Long);
    let (code, p) = probe_nts(&pki.ca, &format!("127.0.0.1:{port}"), &["-n", "1"]);
    assert_eq!(code, 2);
    assert_eq!(p["status"], "nts-ke-failed", "{p:#}");
    let e = p["error"].as_str().unwrap();
    assert!(e.contains("(tcp)") && e.contains("refused"), "{e}");
    assert_eq!(nts(&p)["ke_port"], port);
}

/// A key exchange that names `ntp_port` on 127.0.0.1 and hands out 8 cookies of random
/// bytes.
fn scripted_response(ntp_port: u16) -> Vec<u8> {
    let mut m = Vec::new();
    encode_record(&mut m, true, NEXT_PROTOCOL, &[0, 0]);
    encode_record(&mut m, true, AEAD_ALGORITHM, &[0, 15]);
    encode_record(&mut m, true, NTP_SERVER, b"127.0.0.1");
    encode_record(&mut m, true, NTP_PORT, &ntp_port.to_be_bytes());
    for i in 0..8u8 {
        let cookie: Vec<u8> = (0..100u8)
            .map(|k| k.wrapping_mul(31).wrapping_add(i))
            .collect();
        encode_record(&mut m, false, NEW_COOKIE, &cookie);
    }
    encode_record(&mut m, true, END_OF_MESSAGE, &[]);
    m
}

#[test]
fn a_server_answering_without_nts_is_never_trusted() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let plain = SkewDaemon::serve(std::path::Path::new(crate::common::skew_bin()), &[]);
    let ke = ScriptedKe::start(
        &pki,
        &[b"ntske/1"],
        scripted_response(plain.addrs()[0].port()),
    );
    let (code, p) = probe_nts(&pki.ca, &ke.arg(), &["-n", "3", "--timeout", "300ms"]);
    assert_eq!(code, 2, "{p:#}");
    assert_eq!(p["status"], "invalid", "{p:#}");
    let e = p["error"].as_str().unwrap();
    assert!(
        e.contains("not authenticated") && e.contains("Unique Identifier"),
        "{e}"
    );
    assert_eq!(
        p["offset_s"],
        Value::Null,
        "no sample from an unauthenticated reply"
    );
    let n = nts(&p);
    assert_eq!(n["authenticated"], false);
    assert_eq!(n["dropped_unauthenticated"], 3);
    assert_eq!(p["dropped"]["unauthenticated"], 3);
}

#[test]
fn nak_for_a_cookie_the_server_cannot_read() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let ke = ScriptedKe::start(&pki, &[b"ntske/1"], scripted_response(server.ntp_port()));
    let (code, p) = probe_nts(&pki.ca, &ke.arg(), &["-n", "3"]);
    assert_eq!(code, 2, "{p:#}");
    assert_eq!(p["status"], "nts-nak", "{p:#}");
    assert_eq!(p["kiss_code"], "NTSN");
    assert_eq!(p["sent"], 1, "a NAK stops the server");
    assert_eq!(nts(&p)["authenticated"], false);
}

#[test]
fn forged_replies_racing_the_real_ones_are_dropped() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    // chronyd tells clients to use 127.0.0.2 for NTP; the forger sits there, answers each
    // request first with a reply 1000 s off, then relays chronyd's.
    let server = NtsChronyd::start(&pki, &["ntsntpserver 127.0.0.2"]);
    let port = server.ntp_port();
    let forger =
        RacingForger::start_at(([127, 0, 0, 2], port).into(), ([127, 0, 0, 1], port).into());
    let (code, p) = probe_nts(&pki.ca, &server.ke_arg(), &["-n", "4"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["status"], "ok");
    assert_eq!(p["address"], format!("127.0.0.2:{port}"));
    assert!(p["offset_s"].as_f64().unwrap().abs() < 0.01, "{p:#}");
    let n = nts(&p);
    assert_eq!(n["ntp_server"], "127.0.0.2");
    assert_eq!(n["authenticated"], true);
    assert_eq!(forger.forged.load(Ordering::Relaxed), 4);
    assert_eq!(n["dropped_unauthenticated"], 4, "{p:#}");
    assert_eq!(p["samples"].as_array().unwrap().len(), 4);
}

#[test]
fn more_samples_than_cookies() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let (code, p) = probe_nts(&pki.ca, &server.ke_arg(), &["-n", "20"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(nts(&p)["cookies"], 8);
    assert_eq!(p["samples"].as_array().unwrap().len(), 20, "{p:#}");
    assert_eq!(nts(&p)["authenticated"], true);
    assert_eq!(p["timeouts"], 0);
}

#[test]
fn table_and_csv() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let pki = TestPki::new("skew test CA", Validity::Long);
    let server = NtsChronyd::start(&pki, &[]);
    let ca = pki.ca.display().to_string();
    let ke = server.ke_arg();
    let out = run_skew(
        &[
            "probe",
            "--nts",
            "--nts-ca",
            &ca,
            "-n",
            "2",
            "--interval",
            "10ms",
            &ke,
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let header = out.stdout.lines().next().unwrap();
    assert!(header.contains("Auth"), "{header}");
    let row = out.stdout.lines().nth(2).unwrap();
    assert!(row.contains(" nts ") && row.ends_with("ok"), "{row}");
    assert!(out.stdout.contains("NTS: key exchange"), "{}", out.stdout);
    let out = run_skew(
        &[
            "probe",
            "--nts",
            "--nts-ca",
            &ca,
            "-n",
            "2",
            "--interval",
            "10ms",
            "--csv",
            &ke,
        ],
        Duration::from_secs(30),
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let col = |name: &str| {
        let i = h
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        row[i].to_string()
    };
    assert_eq!(col("status"), "ok");
    assert_eq!(col("nts_authenticated"), "true");
    assert_eq!(col("nts_aead"), "AES-SIV-CMAC-256");
    assert_eq!(col("nts_ke_port"), server.ke_port.to_string());
    assert_eq!(col("nts_dropped_unauthenticated"), "0");
    // A plain probe has the columns, empty.
    let out = run_skew(
        &["probe", "-n", "1", "--csv", &server.chronyd.arg()],
        Duration::from_secs(30),
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let i = h.iter().position(|c| c == "nts_authenticated").unwrap();
    assert_eq!(&row[i], "");
    assert!(!out.stdout.contains("Auth"));
}

#[test]
fn unusable_ca_files() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let out = run_skew(
        &[
            "probe",
            "--nts",
            "--nts-ca",
            "/nonexistent/ca.pem",
            "127.0.0.1:1",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 66, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read the CA file"),
        "{}",
        out.stderr
    );
    let f = std::env::temp_dir().join(format!("skew-not-a-ca-{}.pem", std::process::id()));
    std::fs::write(&f, "hello\n").unwrap();
    let out = run_skew(
        &[
            "probe",
            "--nts",
            "--nts-ca",
            f.to_str().unwrap(),
            "127.0.0.1:1",
        ],
        Duration::from_secs(30),
    );
    let _ = std::fs::remove_file(&f);
    assert_eq!(out.code, 65, "{}", out.stderr);
    let out = run_skew(
        &["probe", "--nts", "--nts-aead", "chacha", "127.0.0.1:1"],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 64, "usage error: {}", out.stderr);
}

/// `--nts-ca` adds anchors to the system's, it does not replace them: with the system store
/// holding CA A only (`SSL_CERT_FILE`, as rustls-native-certs reads it) and `--nts-ca` naming
/// CA B, one run authenticates a server of each. Without `--nts-ca`, B's server is refused
/// and A's still trusted, which shows the environment really is the system store.
#[test]
fn nts_ca_adds_to_the_system_roots() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let a = TestPki::new("system CA", Validity::Long);
    let b = TestPki::new("extra CA", Validity::Long);
    let server_a = NtsChronyd::start(&a, &[]);
    let server_b = NtsChronyd::start(&b, &[]);
    let empty = std::env::temp_dir().join(format!("skew-no-certs-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (a_ca, b_ca, empty_s) = (
        a.ca.display().to_string(),
        b.ca.display().to_string(),
        empty.display().to_string(),
    );
    let env = [
        ("SSL_CERT_FILE", a_ca.as_str()),
        ("SSL_CERT_DIR", empty_s.as_str()),
    ];
    let (ka, kb) = (server_a.ke_arg(), server_b.ke_arg());
    let run = |extra: &[&str]| {
        let mut args = vec!["probe", "--nts", "--json", "-n", "1"];
        args.extend_from_slice(extra);
        args.extend([ka.as_str(), kb.as_str()]);
        let out = crate::common::run_skew_env(&args, &env, Duration::from_secs(60));
        let ps = out.json()["probes"].as_array().unwrap().clone();
        (out.code, ps)
    };
    let (code, ps) = run(&["--nts-ca", &b_ca]);
    assert_eq!(code, 0, "{ps:#?}");
    for p in &ps {
        assert_eq!(p["status"], "ok", "{p:#}");
        assert_eq!(nts(p)["authenticated"], true, "{p:#}");
    }
    let (_, ps) = run(&[]);
    assert_eq!(
        ps[0]["status"], "ok",
        "A is trusted by the system store: {:#}",
        ps[0]
    );
    assert_eq!(ps[1]["status"], "nts-ke-failed", "{:#}", ps[1]);
    assert!(
        ps[1]["error"].as_str().unwrap().contains("(certificate)"),
        "{:#}",
        ps[1]
    );
    let _ = std::fs::remove_dir_all(&empty);
}
