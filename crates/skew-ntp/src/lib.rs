//! NTP without IO: the protocol and the mathematics of skew's prober, as pure functions.
//!
//! Bytes and timestamps go in, results come out; nothing here opens a socket or reads a
//! clock (the model is ntpd-rs's `ntp-proto`). The IO edge (`skew-ntp-io`) drives these
//! types with real sockets and clocks; unit tests and fuzzers drive them with crafted packets
//! and simulated time.
//!
//! * [`advice`]: timeout advice from round-trip times (p99.9 and Jacobson/Karels);
//! * [`timestamp`]: 64-bit NTP timestamps and 32-bit short values, with NTP eras (2036);
//! * [`packet`]: the 48-byte header codec, leap indicator, Kiss-o'-Death codes;
//! * [`exchange`]: one request/reply exchange: the four timestamps, θ and δ;
//! * [`validate`]: strict reply validation, each rule with its own error;
//! * [`bounds`]: the hard bound and the UTC bound on the offset;
//! * [`filter`]: the RFC 5905 clock filter (lowest delay) and jitter;
//! * [`fleet`]: the largest pairwise skew between clocks and lease safety margins;
//! * [`prober`]: the per-server probing state machine (pacing, timeouts, Kiss-o'-Death);
//! * [`result`]: per-server results and their JSON/CSV view;
//! * [`select`]: truechimers and falsetickers by majority (Marzullo, RFC 5905 §11.2.1);
//! * [`nts`]: Network Time Security (RFC 8915): key exchange records, extension fields,
//!   AEAD seal/open, the per-server session;
//! * [`security`]: per-server request decoration and reply authentication (plain or NTS).
//!
//! Offsets are always server − local: positive means the local clock is behind.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod advice;
pub mod bounds;
pub mod exchange;
pub mod filter;
pub mod fleet;
pub mod nts;
pub mod packet;
pub mod prober;
pub mod result;
pub mod security;
pub mod select;
pub mod timestamp;
pub mod validate;

pub use exchange::Sample;
pub use packet::{KissCode, Leap, Packet};
pub use prober::{ProbeConfig, ServerProber};
pub use result::{ProbeRecord, ServerResult, Status};
pub use security::Security;
pub use timestamp::{NtpShort, NtpTimestamp};
