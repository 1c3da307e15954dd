//! A real HTTPS file server on loopback for tests: `openssl s_server -WWW` serving a
//! directory, presenting a server certificate of a [`TestPki`] (CA:FALSE, SAN
//! `IP:127.0.0.1, DNS:localhost`, serverAuth). The client trusts the CA file
//! ([`HttpsFiles::ca`]); nothing leaves the machine. Stopped by PID when dropped.

use crate::nts::{TestPki, Validity};
use crate::ports::free_tcp_port;
use crate::process::Spawned;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// An HTTPS server of the files in [`HttpsFiles::root`].
#[derive(Debug)]
pub struct HttpsFiles {
    /// The directory served (`https://127.0.0.1:PORT/NAME` is `root/NAME`).
    pub root: PathBuf,
    /// The CA certificate (PEM) a client must trust.
    pub ca: PathBuf,
    /// The port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    _server: Spawned,
    _pki: TestPki,
}

impl HttpsFiles {
    /// Makes a test PKI and starts `openssl s_server -WWW` on a free loopback port.
    pub fn start() -> HttpsFiles {
        crate::require("openssl");
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("skew-https-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("www");
        std::fs::create_dir_all(&root).unwrap();
        let pki = TestPki::new("skew HTTPS test CA", Validity::Long);
        let port = free_tcp_port();
        let accept = format!("127.0.0.1:{port}");
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-quiet", "-WWW", "-accept", &accept])
            .arg("-cert")
            .arg(&pki.chain)
            .arg("-key")
            .arg(&pki.key)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = Spawned::spawn("openssl s_server", &mut cmd).expect("openssl s_server");
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "openssl s_server did not listen on {accept}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        HttpsFiles {
            ca: pki.ca.clone(),
            root,
            port,
            dir,
            _server: server,
            _pki: pki,
        }
    }

    /// Puts `bytes` at `/name`.
    pub fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.root.join(name), bytes).unwrap();
    }

    /// The URL of `/name`.
    pub fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for HttpsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
