//! The NTS edge of skew: the key exchange over TCP and TLS 1.3, trust anchors, and what
//! the server's certificate says.
//!
//! * [`ke`]: one NTS-KE session (connect, TLS 1.3 with ALPN `ntske/1`, records, key export)
//!   bounded by a deadline, and many of them concurrently; failures say which step failed;
//! * [`trust`]: the system's roots plus `--nts-ca` PEM files;
//! * [`cert`]: the certificate's subject and notAfter for reports and monitoring.
//!
//! The records, the keys' use and everything after the key exchange are the pure
//! `skew_ntp::nts`; this crate only moves bytes over TLS. It uses rustls with the *ring*
//! provider and no unsafe code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cert;
pub mod ke;
pub mod trust;

pub use ke::{
    key_exchange, key_exchange_all, KeConfig, KeFailure, KeFailureKind, KeSuccess, KeTarget,
};
pub use trust::{TrustAnchors, TrustError};
