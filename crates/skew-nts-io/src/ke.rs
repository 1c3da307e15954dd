//! The NTS-KE key exchange over TCP and TLS 1.3 (RFC 8915 §4), bounded by one deadline.
//!
//! Connect (each address in turn), TLS 1.3 with ALPN `ntske/1` and the server's name
//! checked against the trust anchors, the request records, the response records until End
//! of Message, the keys from the TLS exporter, close. Every step that can fail says which
//! ([`KeFailureKind`]) and why. The records themselves are checked by the pure
//! `skew_ntp::nts::ke`.

use crate::cert::{cert_facts, CertFacts};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, ProtocolVersion, RootCertStore,
    SignatureScheme,
};
use skew_ntp::nts::aead::{exporter_aead, exporter_context, Direction, EXPORTER_LABEL};
use skew_ntp::nts::ke::{
    client_request, message_length, parse_response, KeResponse, ALPN, DEFAULT_NTP_PORT,
};
use skew_ntp::nts::{Aead, KeFacts, NtsKeys, NtsSession};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How to run key exchanges.
#[derive(Debug, Clone)]
pub struct KeConfig {
    /// Trust anchors.
    pub roots: Arc<RootCertStore>,
    /// AEAD algorithms offered, in order of preference.
    pub offer: Vec<Aead>,
    /// Deadline for the whole exchange (connect, handshake, records).
    pub timeout: Duration,
}

/// Which step of the key exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeFailureKind {
    /// No TCP connection (refused, unreachable, no address).
    Tcp,
    /// The TLS handshake or the TLS connection failed.
    Tls,
    /// The server's certificate was not accepted.
    Certificate,
    /// The server did not agree to ALPN `ntske/1`.
    Alpn,
    /// The server's records were refused (an Error record, a missing or malformed record).
    Protocol,
    /// The deadline passed.
    Timeout,
}

impl KeFailureKind {
    /// The word used in messages: `tcp`, `tls`, `certificate`, `alpn`, `protocol`,
    /// `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeFailureKind::Tcp => "tcp",
            KeFailureKind::Tls => "tls",
            KeFailureKind::Certificate => "certificate",
            KeFailureKind::Alpn => "alpn",
            KeFailureKind::Protocol => "protocol",
            KeFailureKind::Timeout => "timeout",
        }
    }
}

/// A failed key exchange: which step, why, and what was learned before it failed (the
/// certificate of a server whose certificate was refused, for instance).
#[derive(Debug, Clone)]
pub struct KeFailure {
    /// Which step failed.
    pub kind: KeFailureKind,
    /// Why, for people.
    pub message: String,
    /// What was learned.
    pub facts: Box<KeFacts>,
}

impl std::fmt::Display for KeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NTS key exchange failed ({}): {}",
            self.kind.as_str(),
            self.message
        )
    }
}

/// A successful key exchange.
#[derive(Debug, Clone)]
pub struct KeSuccess {
    /// The NTP session: keys, cookies, facts.
    pub session: NtsSession,
    /// The NTP server to query (the server's record, else the KE host).
    pub ntp_host: String,
    /// The NTP port to query (the server's record, else 123).
    pub ntp_port: u16,
}

/// The standard WebPKI verifier, remembering the end-entity certificate it was shown, so
/// that a refused certificate (expired, wrong name) can still be reported. It decides
/// nothing itself: every verdict is the inner verifier's.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Vec<u8>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(end_entity.to_vec());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The crypto provider: rustls's *ring* backend (see the README's dependency table for why
/// not aws-lc-rs). rustls 0.23.48 marks it deprecated because *ring* has no post-quantum
/// key exchange; for NTS-KE that buys nothing worth its cost: the exported keys only
/// authenticate this run's NTP packets, so recording the handshake today and breaking it
/// years later yields nothing usable.
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Classifies a TLS-level error.
fn tls_kind(e: &rustls::Error) -> KeFailureKind {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_) => KeFailureKind::Certificate,
        rustls::Error::NoApplicationProtocol => KeFailureKind::Alpn,
        rustls::Error::AlertReceived(A::NoApplicationProtocol) => KeFailureKind::Alpn,
        rustls::Error::AlertReceived(
            A::BadCertificate | A::UnknownCA | A::CertificateExpired | A::CertificateUnknown,
        ) => KeFailureKind::Certificate,
        _ => KeFailureKind::Tls,
    }
}

/// Classifies an IO error from the TLS stream (rustls errors travel inside io::Error).
fn io_failure(e: &std::io::Error, during: &str) -> (KeFailureKind, String) {
    if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return (tls_kind(t), format!("{during}: {t}"));
    }
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            (KeFailureKind::Timeout, format!("{during}: timed out"))
        }
        ErrorKind::UnexpectedEof => (
            KeFailureKind::Tls,
            format!("{during}: the server closed the connection"),
        ),
        _ => (KeFailureKind::Tls, format!("{during}: {e}")),
    }
}

/// The TLS stream of one key exchange.
type TlsStream = rustls::StreamOwned<ClientConnection, TcpStream>;

/// One key exchange in progress: what was learned so far, and its deadline.
struct Attempt {
    facts: KeFacts,
    started: Instant,
    deadline: Instant,
    /// The whole exchange's time allowed, as messages name it.
    timeout: Duration,
}

impl Attempt {
    /// Starts the clock of an exchange with `server_name` on `port`, allowed `timeout`.
    fn new(server_name: &str, port: u16, timeout: Duration) -> Attempt {
        let started = Instant::now();
        Attempt {
            facts: KeFacts {
                ke_server: server_name.to_string(),
                ke_port: port,
                ..KeFacts::default()
            },
            started,
            deadline: started + timeout,
            timeout,
        }
    }

    /// The failure of step `kind`, with the facts learned so far and the time spent.
    fn fail(&self, kind: KeFailureKind, message: String) -> KeFailure {
        let mut facts = self.facts.clone();
        facts.ke_duration_ns = Some(elapsed_ns(self.started));
        KeFailure {
            kind,
            message,
            facts: Box::new(facts),
        }
    }

    /// The time left before the deadline, if any.
    fn left(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Bounds `sock`'s next reads and writes by the time left; a timeout failure when none is.
    fn arm(&self, sock: &TcpStream) -> Result<(), KeFailure> {
        let left = self.left().ok_or_else(|| {
            self.fail(
                KeFailureKind::Timeout,
                format!("timed out after {:?}", self.timeout),
            )
        })?;
        let _ = sock.set_read_timeout(Some(left));
        let _ = sock.set_write_timeout(Some(left));
        Ok(())
    }

    /// Records the certificate `verifier` was shown, if any, in the facts (also when it
    /// was refused).
    fn remember_cert(&mut self, verifier: &RecordingVerifier) {
        if let Some(c) = verifier
            .seen
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .and_then(|d| cert_facts(&d))
        {
            set_certificate(&mut self.facts, &c);
        }
    }

    /// The session of a successful exchange: its keys and cookies, the NTP server and port
    /// to query (the server's records, else the KE host and port 123), the facts completed.
    fn succeed(self, server_name: &str, response: KeResponse, keys: NtsKeys) -> KeSuccess {
        let ntp_host = response
            .server
            .clone()
            .unwrap_or_else(|| server_name.to_string());
        let ntp_port = response.port.unwrap_or(DEFAULT_NTP_PORT);
        let mut facts = self.facts;
        facts.ke_duration_ns = Some(elapsed_ns(self.started));
        facts.ntp_server = Some(ntp_host.clone());
        facts.ntp_port = Some(ntp_port);
        facts.aead = Some(response.aead);
        facts.cookies = response.cookies.len();
        facts.cookie_bytes = response.cookies.first().map(|c| c.len());
        KeSuccess {
            session: NtsSession::new(keys, response.cookies, facts),
            ntp_host,
            ntp_port,
        }
    }
}

fn elapsed_ns(t: Instant) -> i64 {
    skew_time::duration_ns(t.elapsed())
}

fn now_unix_ns() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, skew_time::duration_ns)
}

fn set_certificate(facts: &mut KeFacts, c: &CertFacts) {
    facts.cert_subject = Some(c.subject.clone());
    facts.cert_not_after_unix_s = Some(c.not_after_unix_s);
    facts.checked_at_unix_ns = Some(now_unix_ns());
}

/// Runs one key exchange with `server_name` (the name as given: it is sent as SNI and the
/// certificate must be valid for it) at `addresses` (tried in order) on `port`.
pub fn key_exchange(
    server_name: &str,
    addresses: &[SocketAddr],
    port: u16,
    config: &KeConfig,
) -> Result<KeSuccess, KeFailure> {
    let mut a = Attempt::new(server_name, port, config.timeout);
    // TLS configuration first: without trust anchors there is no point connecting.
    let (conn, verifier) = tls_client(server_name, &config.roots, &a)?;
    let tcp = connect(server_name, addresses, &a)?;
    let _ = tcp.set_nodelay(true);
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    handshake(&mut stream, &verifier, &mut a)?;
    let response = exchange_records(&mut stream, &config.offer, &a)?;
    let keys = export_keys(&stream.conn, &response, &a)?;
    stream.conn.send_close_notify();
    let _ = stream.flush();
    Ok(a.succeed(server_name, response, keys))
}

/// The TLS client for `server_name`: TLS 1.3 only, ALPN `ntske/1`, the certificate checked
/// against `roots` by a [`RecordingVerifier`] (returned too, to read what it was shown).
fn tls_client(
    server_name: &str,
    roots: &Arc<RootCertStore>,
    a: &Attempt,
) -> Result<(ClientConnection, Arc<RecordingVerifier>), KeFailure> {
    let provider = provider();
    let inner = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .map_err(|e| {
            a.fail(
                KeFailureKind::Certificate,
                format!("no usable trust anchors: {e}"),
            )
        })?;
    let verifier = Arc::new(RecordingVerifier {
        inner,
        seen: Mutex::new(None),
    });
    let mut tls = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| a.fail(KeFailureKind::Tls, e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let name = ServerName::try_from(server_name.to_string()).map_err(|e| {
        a.fail(
            KeFailureKind::Tls,
            format!("{server_name:?} is not a valid server name: {e}"),
        )
    })?;
    let conn = ClientConnection::new(Arc::new(tls), name)
        .map_err(|e| a.fail(KeFailureKind::Tls, e.to_string()))?;
    Ok((conn, verifier))
}

/// The TCP connection to the first of `addresses` that accepts one before the deadline.
/// When none does, the last address's error (a timeout if it timed out).
fn connect(
    server_name: &str,
    addresses: &[SocketAddr],
    a: &Attempt,
) -> Result<TcpStream, KeFailure> {
    let mut last_err = format!("no address for {server_name:?}");
    for addr in addresses {
        let Some(left) = a.left() else {
            return Err(a.fail(
                KeFailureKind::Timeout,
                format!("no connection within {:?}", a.timeout),
            ));
        };
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                last_err = format!("cannot connect to {addr}: timed out");
            }
            Err(e) => last_err = format!("cannot connect to {addr}: {e}"),
        }
    }
    let kind = if last_err.ends_with("timed out") {
        KeFailureKind::Timeout
    } else {
        KeFailureKind::Tcp
    };
    Err(a.fail(kind, last_err))
}

/// Completes the TLS handshake, notes the server's certificate (also when it was refused)
/// and the TLS version, and checks that the server agreed to ALPN `ntske/1`.
fn handshake(
    stream: &mut TlsStream,
    verifier: &RecordingVerifier,
    a: &mut Attempt,
) -> Result<(), KeFailure> {
    while stream.conn.is_handshaking() {
        a.arm(&stream.sock)?;
        if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
            a.remember_cert(verifier);
            let (kind, msg) = io_failure(&e, "TLS handshake");
            return Err(a.fail(kind, msg));
        }
    }
    a.remember_cert(verifier);
    a.facts.tls_version = stream.conn.protocol_version().map(|v| match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        other => format!("{other:?}"),
    });
    if stream.conn.alpn_protocol() != Some(ALPN) {
        let got = stream.conn.alpn_protocol().map_or("none".to_string(), |p| {
            format!("{:?}", String::from_utf8_lossy(p))
        });
        return Err(a.fail(
            KeFailureKind::Alpn,
            format!("the server did not agree to ALPN \"ntske/1\" (chose {got})"),
        ));
    }
    Ok(())
}

/// Sends the request records offering `offer`, then reads the response records and checks
/// them (nothing may follow End of Message).
fn exchange_records(
    stream: &mut TlsStream,
    offer: &[Aead],
    a: &Attempt,
) -> Result<KeResponse, KeFailure> {
    a.arm(&stream.sock)?;
    if let Err(e) = stream
        .write_all(&client_request(offer))
        .and_then(|_| stream.flush())
    {
        let (kind, msg) = io_failure(&e, "sending the request");
        return Err(a.fail(kind, msg));
    }
    let (buf, len) = read_response(stream, a)?;
    let response = parse_response(&buf[..len], offer)
        .map_err(|e| a.fail(KeFailureKind::Protocol, e.to_string()))?;
    if buf.len() > len {
        return Err(a.fail(
            KeFailureKind::Protocol,
            format!(
                "protocol: {} bytes after the End of Message record",
                buf.len() - len
            ),
        ));
    }
    Ok(response)
}

/// Reads the response until it holds a whole message (through End of Message) or the
/// server closes the connection: the bytes read, and the length of the message in them.
fn read_response(stream: &mut TlsStream, a: &Attempt) -> Result<(Vec<u8>, usize), KeFailure> {
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let len = loop {
        match message_length(&buf) {
            Ok(Some(n)) => break n,
            Ok(None) => {}
            Err(e) => return Err(a.fail(KeFailureKind::Protocol, e.to_string())),
        }
        a.arm(&stream.sock)?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                // Closed early: let the record check say what is missing.
                break buf.len();
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => {
                let (kind, msg) = io_failure(&e, "reading the response");
                return Err(a.fail(kind, msg));
            }
        }
    };
    Ok((buf, len))
}

/// The session keys, from the TLS exporter for the AEAD algorithm `response` chose.
fn export_keys(
    conn: &ClientConnection,
    response: &KeResponse,
    a: &Attempt,
) -> Result<NtsKeys, KeFailure> {
    let exporter = exporter_aead(response.aead, response.compliant_128gcm);
    let key = |d: Direction| -> Result<Vec<u8>, KeFailure> {
        conn.export_keying_material(
            vec![0u8; response.aead.key_len()],
            EXPORTER_LABEL,
            Some(&exporter_context(exporter, d)),
        )
        .map_err(|e| a.fail(KeFailureKind::Tls, format!("cannot export keys: {e}")))
    };
    Ok(NtsKeys {
        aead: response.aead,
        c2s: key(Direction::ClientToServer)?,
        s2c: key(Direction::ServerToClient)?,
    })
}

/// One key exchange to run: the server's name, its addresses, its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeTarget {
    /// The name to verify the certificate against (and send as SNI).
    pub name: String,
    /// Addresses to try, in order.
    pub addresses: Vec<SocketAddr>,
    /// The NTS-KE port.
    pub port: u16,
}

/// Runs the key exchanges concurrently (at most `workers` at once), keeping their order.
pub fn key_exchange_all(
    targets: &[KeTarget],
    config: &KeConfig,
    workers: usize,
) -> Vec<Result<KeSuccess, KeFailure>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out: Vec<Mutex<Option<Result<KeSuccess, KeFailure>>>> =
        targets.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, 64).min(targets.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                let r = key_exchange(&t.name, &t.addresses, t.port, config);
                *out[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    out.into_iter()
        .zip(targets)
        .map(|(m, t)| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    Err(KeFailure {
                        kind: KeFailureKind::Tcp,
                        message: "key exchange thread failed".into(),
                        facts: Box::new(KeFacts {
                            ke_server: t.name.clone(),
                            ke_port: t.port,
                            ..KeFacts::default()
                        }),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> KeConfig {
        KeConfig {
            roots: Arc::new(crate::TrustAnchors::load(&[]).unwrap().store),
            offer: Aead::ALL.to_vec(),
            timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn refused_port_is_a_tcp_failure() {
        // A port nobody listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let e = key_exchange("127.0.0.1", &[addr], port, &config()).unwrap_err();
        assert_eq!(e.kind, KeFailureKind::Tcp, "{e}");
        assert!(e.message.contains("refused"), "{e}");
        assert_eq!(e.facts.ke_port, port);
        assert!(e.facts.ke_duration_ns.is_some());
        let e = key_exchange("nowhere", &[], 4460, &config()).unwrap_err();
        assert_eq!(e.kind, KeFailureKind::Tcp);
    }

    #[test]
    fn no_trust_anchors_is_a_certificate_failure() {
        let mut c = config();
        c.roots = Arc::new(RootCertStore::empty());
        let e = key_exchange("127.0.0.1", &[([127, 0, 0, 1], 9).into()], 9, &c).unwrap_err();
        assert_eq!(e.kind, KeFailureKind::Certificate, "{e}");
    }

    #[test]
    fn silent_server_times_out() {
        // Accepts TCP (the kernel does, from the backlog) but never speaks TLS.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let mut c = config();
        c.timeout = Duration::from_millis(300);
        let t0 = Instant::now();
        let e = key_exchange("127.0.0.1", &[addr], addr.port(), &c).unwrap_err();
        assert_eq!(e.kind, KeFailureKind::Timeout, "{e}");
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        drop(l);
    }

    #[test]
    fn parallel_keeps_order() {
        let targets: Vec<KeTarget> = (0..3)
            .map(|i| KeTarget {
                name: format!("n{i}"),
                addresses: vec![],
                port: 4460 + i,
            })
            .collect();
        let r = key_exchange_all(&targets, &config(), 2);
        for (i, r) in r.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap_err().facts.ke_port, 4460 + i as u16);
        }
    }
}
