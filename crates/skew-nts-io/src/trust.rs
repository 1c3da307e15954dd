//! Trust anchors for the key exchange: the system's roots, plus PEM files given with
//! `--nts-ca`. There is no way to trust a server without a chain to one of them.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::path::{Path, PathBuf};

/// A CA file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file cannot be read.
    #[error("cannot read the CA file {path}: {error}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// The file holds no PEM certificate, or one that is not a usable trust anchor.
    #[error("the CA file {path} {why}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

impl TrustError {
    /// Whether the file could not be read at all (as opposed to read but unusable).
    pub fn is_unreadable(&self) -> bool {
        matches!(self, TrustError::Unreadable { .. })
    }
}

/// The roots to verify NTS-KE servers against.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    /// The store handed to rustls.
    pub store: RootCertStore,
    /// How many came from the system's store.
    pub system: usize,
    /// How many came from CA files.
    pub added: usize,
    /// Problems with the system's store that did not stop it from loading (unreadable
    /// files...).
    pub warnings: Vec<String>,
}

impl TrustAnchors {
    /// The system's roots (rustls-native-certs: the distribution's bundle, or
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), then every certificate of each of
    /// `ca_files`.
    pub fn load(ca_files: &[PathBuf]) -> Result<TrustAnchors, TrustError> {
        let native = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        let (system, _) = store.add_parsable_certificates(native.certs);
        let mut warnings: Vec<String> = native.errors.iter().map(|e| e.to_string()).collect();
        if system == 0 {
            warnings.push("no trust anchors found in the system's certificate store".into());
        }
        let mut t = TrustAnchors {
            store,
            system,
            added: 0,
            warnings,
        };
        for f in ca_files {
            t.add_pem_file(f)?;
        }
        Ok(t)
    }

    /// Only the certificates of `ca_files` (tests, and hosts whose store should not count).
    pub fn from_files(ca_files: &[PathBuf]) -> Result<TrustAnchors, TrustError> {
        let mut t = TrustAnchors {
            store: RootCertStore::empty(),
            system: 0,
            added: 0,
            warnings: vec![],
        };
        for f in ca_files {
            t.add_pem_file(f)?;
        }
        Ok(t)
    }

    /// Adds every certificate of a PEM file; returns how many.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<usize, TrustError> {
        let bytes = std::fs::read(path).map_err(|e| TrustError::Unreadable {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| TrustError::Unusable {
                path: path.to_path_buf(),
                why: format!("is not valid PEM: {e}"),
            })?;
        if certs.is_empty() {
            return Err(TrustError::Unusable {
                path: path.to_path_buf(),
                why: "holds no PEM certificate (BEGIN CERTIFICATE)".into(),
            });
        }
        let n = certs.len();
        for c in certs {
            self.store.add(c).map_err(|e| TrustError::Unusable {
                path: path.to_path_buf(),
                why: format!("holds a certificate that cannot be a trust anchor: {e}"),
            })?;
        }
        self.added += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, body: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("skew-trust-{}-{name}", std::process::id()));
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn file_errors_are_specific() {
        let missing = std::env::temp_dir().join("skew-no-such-ca.pem");
        let e = TrustAnchors::from_files(&[missing]).unwrap_err();
        assert!(e.is_unreadable(), "{e}");
        let empty = tmp("empty.pem", b"no certificates here\n");
        let e = TrustAnchors::from_files(std::slice::from_ref(&empty)).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        let junk = tmp(
            "junk.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let e = TrustAnchors::from_files(std::slice::from_ref(&junk)).unwrap_err();
        assert!(!e.is_unreadable());
        let _ = std::fs::remove_file(empty);
        let _ = std::fs::remove_file(junk);
    }

    #[test]
    fn system_store_loads() {
        // Debian's ca-certificates bundle is on the build machines; without it the load
        // still succeeds, with a warning.
        let t = TrustAnchors::load(&[]).unwrap();
        assert_eq!(t.added, 0);
        assert!(t.system > 0 || !t.warnings.is_empty());
    }
}
