//! Network Time Security (RFC 8915) without IO: the protocol pieces a client needs once TLS
//! is somebody else's job.
//!
//! * [`aead`]: AES-SIV-CMAC-256 and AES-128-GCM-SIV seal/open, exporter contexts;
//! * [`ke`]: NTS-KE records: the client's request, the server's response checked rule by
//!   rule;
//! * [`ef`]: NTPv4 extension fields: framing, walking, the NTS field types;
//! * [`packet`]: sealing a request, opening a reply, recognising a NAK;
//! * [`session`]: one server's keys, cookie jar and request in flight;
//! * [`keeper`]: a session kept across polls: when to run a new key exchange, back-off;
//! * [`report`]: what the probe reports about NTS (the JSON `nts` object).
//!
//! The TLS 1.3 connection, the key export and certificate checks are the edge's
//! (`skew-nts-io`); everything here is a pure function of bytes, keys and the random bytes
//! the caller supplies.

pub mod aead;
pub mod ef;
pub mod ke;
pub mod keeper;
pub mod packet;
pub mod report;
pub mod session;

pub use aead::Aead;
pub use report::{KeFacts, NtsReport, NtsView};
pub use session::{NtsKeys, NtsSession, ReplyAuth, RequestEntropy};
