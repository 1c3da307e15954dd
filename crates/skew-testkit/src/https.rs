//! A real HTTPS file server on loopback for tests: `openssl s_server -WWW` serving a
//! directory, with a test CA and a server certificate made by the `openssl` command (a CA
//! with `CA:TRUE`, a leaf with `CA:FALSE`, SAN `IP:127.0.0.1, DNS:localhost` and
//! extendedKeyUsage serverAuth: rustls refuses a CA certificate used as the server's). The
//! client trusts the CA file ([`HttpsFiles::ca`]); nothing leaves the machine. Stopped by PID
//! when dropped.

use crate::ports::free_tcp_port;
use crate::process::Spawned;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
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
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e} (scripts/test.sh installs it)"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/CN=skew test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&dir, &ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&dir, &csr);
        std::fs::write(
            dir.join("server.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "3650",
                "-extfile",
                "server.ext",
            ],
        );
        let port = free_tcp_port();
        let accept = format!("127.0.0.1:{port}");
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-quiet", "-WWW", "-accept", &accept])
            .arg("-cert")
            .arg(dir.join("server.crt"))
            .arg("-key")
            .arg(dir.join("server.key"))
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
            ca: dir.join("ca.crt"),
            root,
            port,
            dir,
            _server: server,
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
