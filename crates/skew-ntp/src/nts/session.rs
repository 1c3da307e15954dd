//! One server's NTS state after its key exchange: keys, cookie jar, the request in flight.
//!
//! [`NtsSession::request`] spends a cookie on each request and asks for enough new ones
//! (placeholders) to keep [`MAX_COOKIES`] in the jar; [`NtsSession::check_reply`] accepts a
//! reply only if it is authentic for the request in flight and puts its cookies in the jar.
//! Randomness comes in from the caller ([`RequestEntropy`]), so the session is
//! deterministic under test.

use crate::nts::aead::Aead;
use crate::nts::ke::MAX_COOKIES;
use crate::nts::packet::{
    is_nak, open_reply, seal_request, NtsReject, RequestParts, UNIQUE_ID_LEN,
};
use crate::nts::report::KeFacts;
use crate::packet::HEADER_LEN;
use std::collections::VecDeque;
use std::fmt;

/// Largest request skew sends: placeholders are left out beyond it, so requests (and the
/// replies, which are as long) stay within one unfragmented datagram.
pub const MAX_REQUEST_LEN: usize = 1200;

/// The keys of one session, one per direction.
#[derive(Clone, PartialEq, Eq)]
pub struct NtsKeys {
    /// The negotiated algorithm.
    pub aead: Aead,
    /// Client-to-server key (seals requests).
    pub c2s: Vec<u8>,
    /// Server-to-client key (opens replies).
    pub s2c: Vec<u8>,
}

impl fmt::Debug for NtsKeys {
    // Keys are secrets: their lengths only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NtsKeys {{ aead: {}, c2s: {} bytes, s2c: {} bytes }}",
            self.aead,
            self.c2s.len(),
            self.s2c.len()
        )
    }
}

/// The random bytes one request needs beyond its 64-bit nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestEntropy {
    /// The Unique Identifier.
    pub unique_id: [u8; UNIQUE_ID_LEN],
    /// The AEAD nonce (the first [`Aead::nonce_len`] bytes are used).
    pub aead_nonce: [u8; 16],
}

impl RequestEntropy {
    /// Entropy from 48 random bytes.
    pub fn from_bytes(b: [u8; 48]) -> Self {
        let mut unique_id = [0; UNIQUE_ID_LEN];
        unique_id.copy_from_slice(&b[..32]);
        let mut aead_nonce = [0; 16];
        aead_nonce.copy_from_slice(&b[32..]);
        RequestEntropy {
            unique_id,
            aead_nonce,
        }
    }
}

/// Why no request can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Every cookie has been spent (replies that would have replaced them were lost).
    #[error(
        "no NTS cookies left ({spent} spent; replies that bring new ones were lost or refused)"
    )]
    NoCookies {
        /// Cookies spent so far.
        spent: u64,
    },
    /// The key does not suit the algorithm (a bug in the key exchange).
    #[error("cannot seal the request: {0}")]
    Seal(crate::nts::aead::AeadError),
}

/// The verdict on a reply that passed the plain NTP checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyAuth {
    /// Authentic: its cookies went into the jar.
    Authenticated {
        /// New cookies it carried.
        new_cookies: usize,
    },
    /// An NTS NAK for the request in flight: the server could not use the cookie.
    Nak,
    /// Not authentic for the request in flight: drop it and keep waiting.
    Rejected(NtsReject),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    nonce: u64,
    unique_id: [u8; UNIQUE_ID_LEN],
}

/// Counts kept by a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Cookies spent on requests.
    pub spent: u64,
    /// Cookies received in authentic replies (kept or not).
    pub received: u64,
    /// Authentic replies.
    pub authenticated: u64,
    /// Authentic replies that carried no cookie.
    pub without_cookie: u64,
    /// NTS NAKs for a request of this session (the server could not use its cookie).
    pub naks: u64,
}

/// One server's NTS session.
#[derive(Clone, PartialEq, Eq)]
pub struct NtsSession {
    keys: NtsKeys,
    cookies: VecDeque<Vec<u8>>,
    pending: Option<Pending>,
    facts: KeFacts,
    counts: SessionCounts,
}

impl fmt::Debug for NtsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtsSession")
            .field("keys", &self.keys)
            .field("cookies", &self.cookies.len())
            .field("facts", &self.facts)
            .field("counts", &self.counts)
            .finish()
    }
}

impl NtsSession {
    /// A session from a key exchange: its keys, its cookies (at most [`MAX_COOKIES`] are
    /// kept) and what it learned.
    pub fn new(keys: NtsKeys, cookies: Vec<Vec<u8>>, facts: KeFacts) -> Self {
        NtsSession {
            keys,
            cookies: cookies.into_iter().take(MAX_COOKIES).collect(),
            pending: None,
            facts,
            counts: SessionCounts::default(),
        }
    }

    /// What the key exchange learned.
    pub fn facts(&self) -> &KeFacts {
        &self.facts
    }

    /// Cookies in the jar.
    pub fn cookies(&self) -> usize {
        self.cookies.len()
    }

    /// The counts so far.
    pub fn counts(&self) -> SessionCounts {
        self.counts
    }

    /// The algorithm in use.
    pub fn aead(&self) -> Aead {
        self.keys.aead
    }

    /// The keys (for checking a key exchange against the server's side in tests).
    pub fn keys(&self) -> &NtsKeys {
        &self.keys
    }

    /// Builds the request for `header` (a client request carrying `nonce`), spending one
    /// cookie and asking for as many as bring the jar back to [`MAX_COOKIES`].
    pub fn request(
        &mut self,
        header: &[u8; HEADER_LEN],
        nonce: u64,
        entropy: &RequestEntropy,
    ) -> Result<Vec<u8>, RequestError> {
        let Some(cookie) = self.cookies.pop_front() else {
            return Err(RequestError::NoCookies {
                spent: self.counts.spent,
            });
        };
        let field = (4 + cookie.len()).div_ceil(4) * 4;
        let fixed = HEADER_LEN + 4 + UNIQUE_ID_LEN + field + 40;
        let room = MAX_REQUEST_LEN.saturating_sub(fixed) / field.max(1);
        let placeholders = (MAX_COOKIES - 1 - self.cookies.len()).min(room);
        let n = self.keys.aead.nonce_len();
        let bytes = seal_request(
            header,
            &RequestParts {
                unique_id: &entropy.unique_id,
                cookie: &cookie,
                placeholders,
                aead: self.keys.aead,
                c2s_key: &self.keys.c2s,
                nonce: &entropy.aead_nonce[..n],
            },
        )
        .map_err(RequestError::Seal)?;
        self.counts.spent += 1;
        self.pending = Some(Pending {
            nonce,
            unique_id: entropy.unique_id,
        });
        Ok(bytes)
    }

    /// Judges a reply whose origin matched the request carrying `nonce` (and that passed
    /// the other plain checks). Only the request in flight can be answered.
    pub fn check_reply(&mut self, bytes: &[u8], nonce: u64) -> ReplyAuth {
        let Some(p) = self.pending.filter(|p| p.nonce == nonce) else {
            return ReplyAuth::Rejected(NtsReject::UniqueIdMismatch);
        };
        match open_reply(bytes, &p.unique_id, self.keys.aead, &self.keys.s2c) {
            Ok(r) => {
                self.pending = None;
                self.counts.authenticated += 1;
                self.counts.received += r.cookies.len() as u64;
                if r.cookies.is_empty() {
                    self.counts.without_cookie += 1;
                }
                let n = r.cookies.len();
                for c in r.cookies {
                    if self.cookies.len() < MAX_COOKIES {
                        self.cookies.push_back(c);
                    }
                }
                ReplyAuth::Authenticated { new_cookies: n }
            }
            Err(_) if is_nak(bytes, &p.unique_id) => {
                self.pending = None;
                self.counts.naks += 1;
                ReplyAuth::Nak
            }
            Err(e) => ReplyAuth::Rejected(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nts::ef::{fields, COOKIE_PLACEHOLDER, MIN_FIELD_LEN, UNIQUE_IDENTIFIER};
    use crate::nts::packet::{seal_reply, NAK_CODE};
    use crate::packet::Packet;

    fn keys(aead: Aead, seed: u8) -> NtsKeys {
        NtsKeys {
            aead,
            c2s: vec![seed; aead.key_len()],
            s2c: vec![seed + 1; aead.key_len()],
        }
    }

    fn entropy(k: u8) -> RequestEntropy {
        RequestEntropy::from_bytes([k; 48])
    }

    fn session(cookies: usize) -> NtsSession {
        NtsSession::new(
            keys(Aead::AesSivCmac256, 1),
            (0..cookies).map(|i| vec![i as u8; 100]).collect(),
            KeFacts::default(),
        )
    }

    fn placeholders(req: &[u8]) -> usize {
        fields(&req[48..], MIN_FIELD_LEN)
            .filter(|f| f.as_ref().unwrap().field_type == COOKIE_PLACEHOLDER)
            .count()
    }

    fn server_reply(s: &NtsSession, req: &[u8], cookies: usize, nonce: u64) -> Vec<u8> {
        let uid = fields(&req[48..], MIN_FIELD_LEN)
            .map(|f| f.unwrap())
            .find(|f| f.field_type == UNIQUE_IDENTIFIER)
            .unwrap()
            .value
            .to_vec();
        let mut h = Packet::client_request(0).encode();
        h[0] = 0x24;
        h[24..32].copy_from_slice(&nonce.to_be_bytes());
        let new: Vec<Vec<u8>> = (0..cookies).map(|i| vec![0xa0 + i as u8; 100]).collect();
        seal_reply(&h, &uid, &new, s.keys.aead, &s.keys.s2c, &[9; 16]).unwrap()
    }

    #[test]
    fn keeps_the_jar_full() {
        let mut s = session(8);
        let h = Packet::client_request(1).encode();
        let req = s.request(&h, 1, &entropy(1)).unwrap();
        assert_eq!(placeholders(&req), 0, "a full jar asks for no extra cookie");
        assert_eq!(s.cookies(), 7);
        let reply = server_reply(&s, &req, 1, 1);
        assert_eq!(
            s.check_reply(&reply, 1),
            ReplyAuth::Authenticated { new_cookies: 1 }
        );
        assert_eq!(s.cookies(), 8);
        // Three lost replies: the next request asks for three more.
        for n in 2..=4 {
            s.request(&h, n, &entropy(n as u8)).unwrap();
        }
        assert_eq!(s.cookies(), 5);
        let req = s.request(&h, 5, &entropy(5)).unwrap();
        assert_eq!(placeholders(&req), 3);
        let reply = server_reply(&s, &req, 4, 5);
        assert_eq!(
            s.check_reply(&reply, 5),
            ReplyAuth::Authenticated { new_cookies: 4 }
        );
        assert_eq!(s.cookies(), 8);
        let c = s.counts();
        assert_eq!((c.spent, c.received, c.authenticated), (5, 5, 2));
        assert!(
            !format!("{s:?}").contains("160"),
            "no cookie bytes in Debug"
        );
    }

    #[test]
    fn more_samples_than_cookies() {
        // 2 cookies, 20 requests: each reply brings back what was spent.
        let mut s = session(2);
        for n in 1..=20u64 {
            let h = Packet::client_request(n).encode();
            let req = s.request(&h, n, &entropy(n as u8)).unwrap();
            let want = placeholders(&req) + 1;
            let reply = server_reply(&s, &req, want, n);
            assert!(matches!(
                s.check_reply(&reply, n),
                ReplyAuth::Authenticated { .. }
            ));
        }
        assert_eq!(s.cookies(), 8);
        assert_eq!(s.counts().spent, 20);
    }

    #[test]
    fn runs_dry_without_replies() {
        let mut s = session(2);
        let h = Packet::client_request(1).encode();
        s.request(&h, 1, &entropy(1)).unwrap();
        s.request(&h, 2, &entropy(2)).unwrap();
        assert_eq!(
            s.request(&h, 3, &entropy(3)),
            Err(RequestError::NoCookies { spent: 2 })
        );
    }

    #[test]
    fn rejects_what_is_not_the_request_in_flight() {
        let mut s = session(8);
        let h = Packet::client_request(1).encode();
        let req = s.request(&h, 1, &entropy(1)).unwrap();
        let reply = server_reply(&s, &req, 1, 1);
        // Wrong nonce: not the request in flight.
        assert_eq!(
            s.check_reply(&reply, 2),
            ReplyAuth::Rejected(NtsReject::UniqueIdMismatch)
        );
        // A plain reply from the right place.
        assert_eq!(
            s.check_reply(&reply[..48], 1),
            ReplyAuth::Rejected(NtsReject::MissingUniqueId)
        );
        let mut forged = reply.clone();
        let n = forged.len();
        forged[n - 1] ^= 1;
        assert_eq!(
            s.check_reply(&forged, 1),
            ReplyAuth::Rejected(NtsReject::AuthenticationFailed)
        );
        // The real one still counts, once.
        assert!(matches!(
            s.check_reply(&reply, 1),
            ReplyAuth::Authenticated { .. }
        ));
        assert_eq!(
            s.check_reply(&reply, 1),
            ReplyAuth::Rejected(NtsReject::UniqueIdMismatch)
        );
    }

    fn nak_for(req: &[u8]) -> Vec<u8> {
        let mut nak = req[..84].to_vec();
        nak[0] = 0x24;
        nak[1] = 0;
        nak[12..16].copy_from_slice(&NAK_CODE);
        nak
    }

    #[test]
    fn naks() {
        let mut s = session(8);
        let h = Packet::client_request(1).encode();
        let req = s.request(&h, 1, &entropy(1)).unwrap();
        let mut other = nak_for(&req);
        other[60] ^= 1;
        assert_eq!(
            s.check_reply(&other, 1),
            ReplyAuth::Rejected(NtsReject::UniqueIdMismatch),
            "a NAK for somebody else's request"
        );
        assert_eq!(s.counts().naks, 0);
        assert_eq!(s.check_reply(&nak_for(&req), 1), ReplyAuth::Nak);
        assert_eq!(s.counts().naks, 1);
    }

    #[test]
    fn big_cookies_limit_placeholders() {
        let mut s = NtsSession::new(
            keys(Aead::AesSivCmac256, 1),
            vec![vec![1; 256]],
            KeFacts::default(),
        );
        let h = Packet::client_request(1).encode();
        let req = s.request(&h, 1, &entropy(1)).unwrap();
        assert!(req.len() <= MAX_REQUEST_LEN, "{}", req.len());
        assert_eq!(placeholders(&req), 3);
    }
}
