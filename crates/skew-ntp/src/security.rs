//! Per-server request decoration and reply authentication: plain NTP, or NTS.
//!
//! The prober asks its [`Security`] for the bytes of each request and hands it every reply
//! that passed the plain checks; everything NTS-specific stays behind these two calls, so
//! other request kinds (interleaved mode, pacing) change the prober without touching NTS
//! and the other way round.

use crate::nts::session::{NtsSession, ReplyAuth, RequestEntropy, RequestError};
use crate::packet::{KissCode, Packet};
use crate::validate::{DropReason, Verdict};

/// How a server's requests are made and its replies trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Security {
    /// Plain NTP: a 48-byte request; a reply is trusted if it echoes the nonce.
    #[default]
    Plain,
    /// NTS (RFC 8915): requests carry a cookie and an authenticator; only authentic replies
    /// count.
    Nts(Box<NtsSession>),
}

impl Security {
    /// Whether requests are NTS-protected (and need [`RequestEntropy`]).
    pub fn is_nts(&self) -> bool {
        matches!(self, Security::Nts(_))
    }

    /// The NTS session, if any.
    pub fn nts(&self) -> Option<&NtsSession> {
        match self {
            Security::Nts(s) => Some(s),
            Security::Plain => None,
        }
    }

    /// The request datagram carrying `nonce` in its transmit field. `entropy` is used by
    /// NTS only.
    pub fn request(
        &mut self,
        nonce: u64,
        entropy: &RequestEntropy,
    ) -> Result<Vec<u8>, RequestError> {
        let header = Packet::client_request(nonce).encode();
        match self {
            Security::Plain => Ok(header.to_vec()),
            Security::Nts(s) => s.request(&header, nonce, entropy),
        }
    }

    /// Authenticates a reply to the request carrying `nonce`, given the plain verdict on
    /// it: plain NTP passes every verdict through; NTS turns a reply that is not authentic
    /// for the request into a drop (`unauthenticated`), keeps an authentic one (its cookies
    /// go into the jar) and an NTS NAK echoing the request's identifier.
    pub fn authenticate(&mut self, verdict: Verdict, bytes: &[u8], nonce: u64) -> Verdict {
        let Security::Nts(s) = self else {
            return verdict;
        };
        if matches!(verdict, Verdict::Dropped(_)) {
            return verdict;
        }
        match s.check_reply(bytes, nonce) {
            ReplyAuth::Authenticated { .. } => verdict,
            ReplyAuth::Nak => match verdict {
                Verdict::Kiss(KissCode::NtsNak, _) => verdict,
                // is_nak checked stratum 0 and NTSN, so the plain verdict is this KoD.
                _ => Verdict::Dropped(DropReason::Unauthenticated(
                    crate::nts::packet::NtsReject::MissingAuthenticator,
                )),
            },
            ReplyAuth::Rejected(why) => Verdict::Dropped(DropReason::Unauthenticated(why)),
        }
    }
}
