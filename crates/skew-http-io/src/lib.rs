//! The HTTPS edge of skew: downloading one small file (the leap-seconds list) over HTTPS.
//!
//! ureq does the HTTP, rustls the TLS with the ring provider (the same stack as the NTS key
//! exchange, so the tree has one), verified against the system's trust anchors
//! (rustls-native-certs: the distribution's bundle, or `SSL_CERT_FILE`/`SSL_CERT_DIR`) plus
//! any PEM CA files given. Only `https://` URLs are fetched, redirects included: the list's
//! `#h` hash is an unkeyed SHA-1 anyone can recompute, so TLS is what vouches for where the
//! list came from. Every download is bounded in time and size.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// The default deadline of one download (connect, TLS, headers and body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The default size limit of one download (a leap-seconds.list is about 5 KB).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 20;

/// How to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Deadline of one download.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_bytes: u64,
    /// PEM files of CA certificates to trust besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Also trust the system's roots (false: only `ca_files`, for tests).
    pub system_roots: bool,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            ca_files: vec![],
            system_roots: true,
        }
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `https://` URL.
    #[error("{url}: only https:// URLs are fetched (TLS is what vouches for the list's origin)")]
    NotHttps {
        /// The URL.
        url: String,
    },
    /// A CA file could not be read or holds no certificate.
    #[error("the CA file {}: {why}", .path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// No trust anchor at all.
    #[error("no trust anchors: the system's certificate store is empty and no CA file was given")]
    NoTrustAnchors,
    /// The server answered with an error status.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is larger than the limit.
    #[error("{url}: larger than {max_bytes} bytes: not a leap-seconds list")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        max_bytes: u64,
    },
    /// Anything else: name resolution, connection, TLS, timeout, protocol.
    #[error("{url}: {error}")]
    Transport {
        /// The URL.
        url: String,
        /// What ureq said.
        error: String,
    },
}

/// The crypto provider: rustls's *ring* backend, as the NTS key exchange uses (one TLS
/// stack in the tree). rustls 0.23.48 marks it deprecated because *ring* has no
/// post-quantum key exchange; for this download that buys nothing: the leap-seconds list is
/// public, so a recorded handshake broken years later reveals nothing, and what TLS must
/// give here, the server's authenticity, is checked now.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Downloads files over HTTPS.
#[derive(Debug, Clone)]
pub struct Fetcher {
    agent: ureq::Agent,
    max_bytes: u64,
    /// Trust anchors loaded (system and files).
    pub anchors: usize,
}

fn ca_certs(path: &Path) -> Result<Vec<Certificate<'static>>, FetchError> {
    let bad = |why: String| FetchError::CaFile {
        path: path.to_path_buf(),
        why,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(c) =
            item.map_err(|e| bad(format!("is not valid PEM: {e}")))?
        {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(bad("holds no PEM certificate (BEGIN CERTIFICATE)".into()));
    }
    Ok(out)
}

impl Fetcher {
    /// A fetcher trusting the system's roots (when `system_roots`) and `ca_files`.
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        if settings.system_roots {
            let native = rustls_native_certs::load_native_certs();
            roots.extend(
                native
                    .certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned()),
            );
        }
        for f in &settings.ca_files {
            roots.extend(ca_certs(f)?);
        }
        if roots.is_empty() {
            return Err(FetchError::NoTrustAnchors);
        }
        let anchors = roots.len();
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .unversioned_rustls_crypto_provider(provider())
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .timeout_global(Some(settings.timeout))
            .max_redirects(5)
            .http_status_as_error(false)
            .user_agent(concat!("skew/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Fetcher {
            agent: config.into(),
            max_bytes: settings.max_bytes,
            anchors,
        })
    }

    /// Downloads `url` (`https://` only) whole.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        if !url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        {
            return Err(FetchError::NotHttps { url: url.into() });
        }
        let transport = |e: ureq::Error| FetchError::Transport {
            url: url.into(),
            error: e.to_string(),
        };
        let mut response = self.agent.get(url).call().map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status {
                url: url.into(),
                status,
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                    url: url.into(),
                    max_bytes: self.max_bytes,
                },
                e => transport(e),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_is_fetched() {
        let f = Fetcher::new(&FetchSettings::default());
        // The system may have no store (a bare container): then the error says so.
        match f {
            Ok(f) => {
                for url in [
                    "http://127.0.0.1:1/x",
                    "ftp://x/y",
                    "file:///etc/passwd",
                    "x",
                ] {
                    assert!(
                        matches!(f.get(url), Err(FetchError::NotHttps { .. })),
                        "{url}"
                    );
                }
            }
            Err(e) => assert!(matches!(e, FetchError::NoTrustAnchors), "{e}"),
        }
    }

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("skew-http-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let settings = FetchSettings {
            ca_files: vec![empty.clone()],
            system_roots: false,
            ..FetchSettings::default()
        };
        let e = Fetcher::new(&settings).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        let settings = FetchSettings {
            ca_files: vec![dir.join("missing.pem")],
            system_roots: false,
            ..FetchSettings::default()
        };
        assert!(Fetcher::new(&settings)
            .unwrap_err()
            .to_string()
            .contains("cannot be read"));
        let none = FetchSettings {
            system_roots: false,
            ..FetchSettings::default()
        };
        assert!(matches!(
            Fetcher::new(&none).unwrap_err(),
            FetchError::NoTrustAnchors
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
