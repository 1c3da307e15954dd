//! NTS peers for tests: a test PKI made at test time, chronyd serving NTS on loopback,
//! chrony's NTS client as a reference, a scripted NTS-KE server, and a forger that races
//! unauthenticated replies against a real server's.
//!
//! * [`TestPki`]: a CA and a server certificate signed by it (rcgen): CA:FALSE, SAN
//!   `IP:127.0.0.1` and `DNS:localhost`, extendedKeyUsage serverAuth, valid, expired or
//!   ending on a chosen day (rustls refuses a CA certificate used as the server's);
//! * [`NtsChronyd`]: chronyd 4.3 with `ntsserverkey`, `ntsservercert`, `ntsport` and
//!   `ntsdumpdir`, always `-x`, stopped by PID;
//! * [`chronyd_q_nts`]: `chronyd -Q -x` with `nts` and `ntstrustedcerts` (never sets the clock);
//! * [`ScriptedKe`]: a TLS 1.3 server that answers every NTS-KE request with given records
//!   (to send NTP elsewhere, hand out cookies nobody can read, send an Error record, or
//!   speak another ALPN);
//! * [`KeRelay`]: a TCP relay in front of an NTS-KE server counting the key exchanges;
//! * [`RacingForger`]: a UDP relay in front of an NTP server that answers each request
//!   first itself, with a forged (unauthenticated) reply, then relays the real one.

use crate::chrony::{parse_wrong_by, Chronyd, Ready};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use skew_ntp::nts::ef::{fields, push_field, AUTHENTICATOR, MIN_FIELD_LEN, UNIQUE_IDENTIFIER};
use skew_ntp::packet::{Leap, Packet, MODE_SERVER};
use skew_ntp::timestamp::{NtpShort, NtpTimestamp};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn temp_dir(what: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("skew-{what}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}

/// When the server certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From 2020-01-01 to 2099-12-31.
    Long,
    /// From 2020-01-01 to 2020-12-31: expired.
    Expired,
    /// From 2020-01-01 to the end of the day `days` from today (UTC).
    EndsInDays(i64),
}

/// A test CA and a server certificate it signed, as PEM files in a directory of its own
/// (removed on drop).
#[derive(Debug)]
pub struct TestPki {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The CA certificate (what a client trusts).
    pub ca: PathBuf,
    /// The server's private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// The server's chain: its certificate, then the CA's.
    pub chain: PathBuf,
    ca_der: Vec<u8>,
    leaf_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn ymd_in_days(days: i64) -> (i32, u8, u8) {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let d = skew_time::calendar::civil_from_days(now.div_euclid(86_400) + days);
    (d.year as i32, d.month as u8, d.day as u8)
}

impl TestPki {
    /// Makes a CA named `ca_name` and a server certificate for 127.0.0.1 and localhost.
    pub fn new(ca_name: &str, validity: Validity) -> TestPki {
        Self::try_new(ca_name, validity).unwrap_or_else(|e| panic!("test PKI: {e}"))
    }

    fn try_new(ca_name: &str, validity: Validity) -> Result<TestPki, rcgen::Error> {
        let dir = temp_dir("pki");
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, ca_name);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = rcgen::date_time_ymd(2020, 1, 1);
        ca.not_after = rcgen::date_time_ymd(2099, 12, 31);
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;

        let mut leaf =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.distinguished_name
            .push(DnType::OrganizationName, "skew test");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf.not_after = match validity {
            Validity::Long => rcgen::date_time_ymd(2099, 12, 31),
            Validity::Expired => rcgen::date_time_ymd(2020, 12, 31),
            Validity::EndsInDays(n) => {
                let (y, m, d) = ymd_in_days(n);
                rcgen::date_time_ymd(y, m, d)
            }
        };
        let leaf_key = KeyPair::generate()?;
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key)?;

        let write = |name: &str, body: String| {
            let p = dir.join(name);
            std::fs::write(&p, body)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
            p
        };
        let ca_path = write("ca.crt", ca_cert.pem());
        let key = write("server.key", leaf_key.serialize_pem());
        let chain = write("chain.crt", format!("{}{}", leaf_cert.pem(), ca_cert.pem()));
        Ok(TestPki {
            ca: ca_path,
            key,
            chain,
            ca_der: ca_cert.der().to_vec(),
            leaf_der: leaf_cert.der().to_vec(),
            key_der: leaf_key.serialize_der(),
            dir,
        })
    }

    /// A rustls server configuration presenting this PKI's chain with `alpn`.
    pub fn server_config(&self, alpn: &[&[u8]]) -> rustls::ServerConfig {
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = vec![
            CertificateDer::from(self.leaf_der.clone()),
            CertificateDer::from(self.ca_der.clone()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut c = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("test certificate");
        c.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        c
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP port free on 127.0.0.1 and on [::] (chronyd's NTS-KE listener binds both).
pub fn free_ke_port() -> u16 {
    for _ in 0..1000 {
        let p = crate::ports::free_tcp_port();
        if TcpListener::bind(("::", p)).is_ok() {
            return p;
        }
    }
    panic!("no free TCP port for NTS-KE");
}

/// chronyd serving NTP and NTS-KE on loopback with a [`TestPki`]'s certificate.
#[derive(Debug)]
pub struct NtsChronyd {
    /// The chronyd (NTP on `chronyd.port`).
    pub chronyd: Chronyd,
    /// The NTS-KE port.
    pub ke_port: u16,
    dump: PathBuf,
    extra: Vec<String>,
}

/// chronyd's NTS lines for `pki`, the KE port and a dump directory.
fn nts_lines(pki: &TestPki, ke_port: u16, dump: &Path, extra: &[String]) -> Vec<String> {
    let mut lines = vec![
        "local stratum 2".to_string(),
        format!("ntsport {ke_port}"),
        format!("ntsserverkey {}", pki.key.display()),
        format!("ntsservercert {}", pki.chain.display()),
        format!("ntsdumpdir {}", dump.display()),
    ];
    lines.extend(extra.iter().cloned());
    lines
}

/// A dump directory chronyd (dropping to its own user) can write, and the PKI's files
/// readable by it (test keys only).
fn prepare_nts_files(pki: &TestPki) -> PathBuf {
    let dump = temp_dir("ntsdump");
    set_mode(&dump, 0o777);
    set_mode(&pki.dir, 0o755);
    for f in [&pki.key, &pki.chain, &pki.ca] {
        set_mode(f, 0o644);
    }
    dump
}

fn wait_ke_port(chronyd: &Chronyd, ke_port: u16) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", ke_port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "chronyd's NTS-KE port {ke_port} not open within 20 s; log:\n{}",
            chronyd.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl NtsChronyd {
    /// Starts chronyd (`local stratum 2`) with NTS, `extra` config lines added, and waits
    /// until it answers NTP and accepts TCP on its NTS-KE port.
    pub fn start(pki: &TestPki, extra: &[&str]) -> NtsChronyd {
        // chronyd run as root drops to its own user before its NTS-KE helper reads the key
        // and writes the dump: let it (test keys only).
        let dump = prepare_nts_files(pki);
        let ke_port = free_ke_port();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let lines = nts_lines(pki, ke_port, &dump, &extra);
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let chronyd = Chronyd::start(&refs, &[], Ready::Answers).unwrap_or_else(|e| panic!("{e}"));
        wait_ke_port(&chronyd, ke_port);
        NtsChronyd {
            chronyd,
            ke_port,
            dump,
            extra,
        }
    }

    /// Stops chronyd and starts it again on the same NTP and NTS-KE ports, with the same
    /// configuration but a new dump directory, hence new server keys (as a server
    /// restarted without its saved keys): the cookies it handed out before can no longer
    /// be read, and requests carrying them get an NTS NAK.
    pub fn restart_with_new_keys(&mut self, pki: &TestPki) {
        let _ = std::fs::remove_dir_all(&self.dump);
        self.dump = prepare_nts_files(pki);
        let lines = nts_lines(pki, self.ke_port, &self.dump, &self.extra);
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        self.chronyd
            .restart(&refs, Ready::Answers)
            .unwrap_or_else(|e| panic!("{e}"));
        wait_ke_port(&self.chronyd, self.ke_port);
    }

    /// The NTP port.
    pub fn ntp_port(&self) -> u16 {
        self.chronyd.port
    }

    /// `127.0.0.1:KE_PORT`, as a `skew probe --nts` argument.
    pub fn ke_arg(&self) -> String {
        format!("127.0.0.1:{}", self.ke_port)
    }
}

impl Drop for NtsChronyd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dump);
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
}

/// Runs chrony's one-shot NTS client (`chronyd -x -Q`, which never sets the clock) against
/// the NTS-KE server at 127.0.0.1:`ke_port` serving NTP on `ntp_port`, trusting `ca`; returns
/// the offset it prints (server − local, s).
pub fn chronyd_q_nts(ntp_port: u16, ke_port: u16, ca: &Path) -> Result<f64, String> {
    crate::require("chronyd");
    let dir = temp_dir("chronyq-nts");
    let directive = format!(
        "server 127.0.0.1 port {ntp_port} nts ntsport {ke_port} iburst maxsamples 4 minpoll -6 maxpoll -6"
    );
    let out = Command::new("chronyd")
        .args(["-U", "-x", "-Q", "-t", "15", "-f", "/dev/null"])
        .arg(&directive)
        .arg(format!("ntstrustedcerts {}", ca.display()))
        .arg(format!("pidfile {}/q.pid", dir.display()))
        .arg("cmdport 0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run chronyd -Q: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrong_by(&text).ok_or_else(|| format!("chronyd -Q (NTS) printed no offset:\n{text}"))
}

/// Keys a [`ScriptedKe`] exported from its last TLS session: 16 bytes for each exporter
/// context AEAD id (15, 30) and direction (c2s, s2c), as `[(id, c2s, s2c)]`.
pub type ExportedKeys = Vec<(u16, Vec<u8>, Vec<u8>)>;

/// A TLS 1.3 server on 127.0.0.1 that reads each client's request records and answers
/// with the same bytes every time, then closes. Serves until dropped.
#[derive(Debug)]
pub struct ScriptedKe {
    /// Its port.
    pub port: u16,
    /// Connections served.
    pub served: Arc<AtomicU64>,
    /// What the last session exported (the server's side of the keys).
    pub exported: Arc<std::sync::Mutex<ExportedKeys>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedKe {
    /// Serves `response` with `pki`'s certificate and `alpn` offered.
    pub fn start(pki: &TestPki, alpn: &[&[u8]], response: Vec<u8>) -> ScriptedKe {
        let config = Arc::new(pki.server_config(alpn));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let exported = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, n, x) = (stop.clone(), served.clone(), exported.clone());
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            // Bounded: at most 10 minutes, however the test goes.
            while !s.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(600) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        if let Ok(keys) = serve_one(sock, &config, &response) {
                            *x.lock().unwrap_or_else(|e| e.into_inner()) = keys;
                        }
                        n.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        ScriptedKe {
            port,
            served,
            exported,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn arg(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits (at most `limit`) until `n` connections have been served and their keys
    /// recorded: the client can finish before the server's thread does.
    pub fn wait_served(&self, n: u64, limit: Duration) -> bool {
        let t0 = Instant::now();
        while self.served.load(Ordering::Relaxed) < n {
            if t0.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }
}

fn serve_one(
    sock: std::net::TcpStream,
    config: &Arc<rustls::ServerConfig>,
    response: &[u8],
) -> std::io::Result<ExportedKeys> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    sock.set_write_timeout(Some(Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while skew_ntp::nts::ke::message_length(&req)
        .ok()
        .flatten()
        .is_none()
    {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(vec![]);
        }
        req.extend_from_slice(&buf[..n]);
    }
    let label = skew_ntp::nts::aead::EXPORTER_LABEL;
    let mut keys = Vec::new();
    for id in [15u16, 30] {
        let k = |dir: u8| {
            let ctx = [0, 0, (id >> 8) as u8, id as u8, dir];
            tls.conn
                .export_keying_material(vec![0u8; 16], label, Some(&ctx))
                .unwrap_or_default()
        };
        keys.push((id, k(0), k(1)));
    }
    tls.write_all(response)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(keys)
}

impl Drop for ScriptedKe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A TCP relay on 127.0.0.1 in front of an NTS-KE server that counts the connections it
/// relays: the key exchanges a client made, seen from outside the client. Stops when
/// dropped.
#[derive(Debug)]
pub struct KeRelay {
    /// Its port.
    pub port: u16,
    /// Connections accepted.
    pub connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KeRelay {
    /// Relays 127.0.0.1:(any port) to 127.0.0.1:`upstream_port`.
    pub fn start(upstream_port: u16) -> KeRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), connections.clone());
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            // Bounded: at most 10 minutes, however the test goes.
            while !s.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(600) {
                match listener.accept() {
                    Ok((client, _)) => {
                        n.fetch_add(1, Ordering::Relaxed);
                        relay_one(client, upstream_port);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        KeRelay {
            port,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn arg(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections relayed so far.
    pub fn count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Copies both ways between `client` and the upstream port on threads of their own, each
/// ending at its end of file, an error or 30 s.
fn relay_one(client: std::net::TcpStream, upstream_port: u16) {
    let _ = client.set_nonblocking(false);
    let Ok(upstream) = std::net::TcpStream::connect(("127.0.0.1", upstream_port)) else {
        return; // the client sees the connection close
    };
    let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
        std::thread::spawn(move || {
            let _ = from.set_read_timeout(Some(Duration::from_secs(30)));
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    if let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) {
        pipe(client, u2);
        pipe(upstream, c2);
    }
}

impl Drop for KeRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP relay to `upstream` that answers every request itself first, with a reply that
/// looks right (our nonce in the origin field, the request's Unique Identifier, a 1000 s
/// offset) but whose Authenticator is random bytes; then it relays the request and the
/// server's real reply. Stops when dropped.
#[derive(Debug)]
pub struct RacingForger {
    /// Where clients send.
    pub addr: SocketAddr,
    /// Forged replies sent.
    pub forged: Arc<AtomicU64>,
    /// Real replies relayed.
    pub relayed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The forged reply to `request`: server mode, stratum 1, T2 = T3 = now + 1000 s, the
/// request's identifier echoed, a garbage Authenticator.
pub fn forged_reply(request: &[u8]) -> Option<Vec<u8>> {
    let req = Packet::decode(request).ok()?;
    let fake_now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_nanos() as i64
        + 1_000_000_000_000;
    let header = Packet {
        leap: Leap::None,
        version: 4,
        mode: MODE_SERVER,
        stratum: 1,
        poll: 0,
        precision: -20,
        root_delay: NtpShort(0),
        root_dispersion: NtpShort(0),
        reference_id: *b"GPS\0",
        reference_ts: NtpTimestamp::from_unix_ns(fake_now - 1_000_000_000),
        origin_ts: req.transmit_ts,
        receive_ts: NtpTimestamp::from_unix_ns(fake_now),
        transmit_ts: NtpTimestamp::from_unix_ns(fake_now),
    };
    let mut out = header.encode().to_vec();
    for f in fields(request.get(48..)?, MIN_FIELD_LEN).flatten() {
        if f.field_type == UNIQUE_IDENTIFIER {
            push_field(&mut out, UNIQUE_IDENTIFIER, f.value, MIN_FIELD_LEN);
        }
    }
    let mut auth = vec![0, 16, 0, 32];
    auth.extend((0..48u8).map(|i| i.wrapping_mul(37)));
    push_field(&mut out, AUTHENTICATOR, &auth, 28);
    Some(out)
}

impl RacingForger {
    /// Starts the relay on 127.0.0.1 (any port) in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> RacingForger {
        Self::start_at(([127, 0, 0, 1], 0).into(), upstream)
    }

    /// Starts the relay at `listen` in front of `upstream` (e.g. 127.0.0.2 and the port
    /// of a chronyd bound to 127.0.0.1 whose `ntsntpserver` is 127.0.0.2).
    pub fn start_at(listen: SocketAddr, upstream: SocketAddr) -> RacingForger {
        let front = UdpSocket::bind(listen).expect("bind");
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind");
        front
            .set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        back.set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        let addr = front.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let forged = Arc::new(AtomicU64::new(0));
        let relayed = Arc::new(AtomicU64::new(0));
        let (s, f, r) = (stop.clone(), forged.clone(), relayed.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut client: Option<SocketAddr> = None;
            let t0 = Instant::now();
            while !s.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(600) {
                if let Ok((n, from)) = front.recv_from(&mut buf) {
                    client = Some(from);
                    if let Some(fake) = forged_reply(&buf[..n]) {
                        if front.send_to(&fake, from).is_ok() {
                            f.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let _ = back.send_to(&buf[..n], upstream);
                }
                if let (Ok((n, from)), Some(c)) = (back.recv_from(&mut buf), client) {
                    if from == upstream && front.send_to(&buf[..n], c).is_ok() {
                        r.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        RacingForger {
            addr,
            forged,
            relayed,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RacingForger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
