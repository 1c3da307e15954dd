//! NTS-protected NTP packets (RFC 8915 §5): sealing a request, opening a reply, and
//! recognising an NTS NAK, as pure functions over bytes and keys.
//!
//! A request is the 48-byte header, then
//!
//! * Unique Identifier: 32 fresh random bytes the reply must echo;
//! * NTS Cookie: one cookie from the key exchange or an earlier reply (used once);
//! * NTS Cookie Placeholders: as many as new cookies are wanted beyond the one that comes
//!   back for the cookie spent, each as long as the cookie;
//! * NTS Authenticator: the AEAD seal, under the client-to-server key, of an empty plaintext
//!   with everything before it as associated data.
//!
//! A reply counts only if its Unique Identifier is ours and its Authenticator, the last
//! field, opens under the server-to-client key with everything before it as associated
//! data; the plaintext holds the new cookies. Each way a reply can fail is its own
//! [`NtsReject`].

use crate::nts::aead::{open, seal, Aead, AeadError, TAG_LEN};
use crate::nts::ef::{
    fields, padded, push_field, push_zero_field, FieldError, AUTHENTICATOR, COOKIE_PLACEHOLDER,
    MIN_ENCRYPTED_FIELD_LEN, MIN_FIELD_LEN, NTS_COOKIE, UNIQUE_IDENTIFIER,
};
use crate::packet::HEADER_LEN;

/// Length of the Unique Identifier skew sends (the RFC's minimum).
pub const UNIQUE_ID_LEN: usize = 32;
/// Shortest Authenticator field skew sends: RFC 7822's minimum for the last field of a
/// packet without a MAC (chrony uses the same).
pub const MIN_AUTHENTICATOR_LEN: usize = 28;
/// The nonce plus Additional Padding must fill at least this many bytes (RFC 8915 §5.6,
/// for algorithms whose maximum nonce length is at least 16).
pub const MIN_NONCE_SPACE: usize = 16;
/// Reference ID of an NTS NAK (a Kiss-o'-Death, stratum 0).
pub const NAK_CODE: [u8; 4] = *b"NTSN";

/// Everything one NTS request carries besides its header.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The fresh Unique Identifier.
    pub unique_id: &'a [u8; UNIQUE_ID_LEN],
    /// The cookie spent by this request.
    pub cookie: &'a [u8],
    /// How many placeholders to add (new cookies wanted beyond the one returned).
    pub placeholders: usize,
    /// The negotiated algorithm.
    pub aead: Aead,
    /// The client-to-server key.
    pub c2s_key: &'a [u8],
    /// A fresh AEAD nonce ([`Aead::nonce_len`] bytes).
    pub nonce: &'a [u8],
}

/// Appends an NTS Authenticator and Encrypted Extension Fields field that seals
/// `plaintext` with everything already in `out` as associated data (RFC 8915 §5.6):
/// nonce length, ciphertext length, the nonce and the ciphertext each zero-padded to 4
/// bytes, then Additional Padding so that the nonce and the padding after it fill at least
/// [`MIN_NONCE_SPACE`] bytes and the field is at least `min_len` long.
pub fn push_authenticator(
    out: &mut Vec<u8>,
    aead: Aead,
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
    min_len: usize,
) -> Result<(), AeadError> {
    let sealed = seal(aead, key, nonce, out, plaintext)?;
    let mut value = Vec::with_capacity(8 + padded(nonce.len()) + padded(sealed.len()));
    value.extend_from_slice(&(nonce.len() as u16).to_be_bytes());
    value.extend_from_slice(&(sealed.len() as u16).to_be_bytes());
    value.extend_from_slice(nonce);
    value.resize(4 + padded(nonce.len()), 0);
    value.extend_from_slice(&sealed);
    value.resize(4 + padded(nonce.len()) + padded(sealed.len()), 0);
    let extra = MIN_NONCE_SPACE.saturating_sub(padded(nonce.len()));
    value.resize(value.len() + extra, 0);
    push_field(out, AUTHENTICATOR, &value, min_len);
    Ok(())
}

/// Builds an NTS request: `header` (a client request), then Unique Identifier, cookie,
/// placeholders and Authenticator.
pub fn seal_request(
    header: &[u8; HEADER_LEN],
    parts: &RequestParts<'_>,
) -> Result<Vec<u8>, AeadError> {
    let cookie_field = padded(4 + parts.cookie.len()).max(MIN_FIELD_LEN);
    let mut out = Vec::with_capacity(
        HEADER_LEN + 4 + UNIQUE_ID_LEN + (1 + parts.placeholders) * cookie_field + 64,
    );
    out.extend_from_slice(header);
    push_field(&mut out, UNIQUE_IDENTIFIER, parts.unique_id, MIN_FIELD_LEN);
    push_field(&mut out, NTS_COOKIE, parts.cookie, MIN_FIELD_LEN);
    for _ in 0..parts.placeholders {
        push_zero_field(
            &mut out,
            COOKIE_PLACEHOLDER,
            parts.cookie.len(),
            MIN_FIELD_LEN,
        );
    }
    push_authenticator(
        &mut out,
        parts.aead,
        parts.c2s_key,
        parts.nonce,
        &[],
        MIN_AUTHENTICATOR_LEN,
    )?;
    Ok(out)
}

/// Why a reply to an NTS request is not accepted as authentic: one variant per rule. Such
/// a reply is dropped and counted; the exchange keeps waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum NtsReject {
    /// The extension fields after the header are not well framed.
    #[error("malformed extension fields: {0}")]
    Fields(FieldError),
    /// No Unique Identifier field: not an NTS reply.
    #[error("no Unique Identifier (not an NTS reply)")]
    MissingUniqueId,
    /// More than one Unique Identifier.
    #[error("more than one Unique Identifier")]
    DuplicateUniqueId,
    /// The Unique Identifier is not the request's.
    #[error("Unique Identifier does not match the request")]
    UniqueIdMismatch,
    /// No Authenticator field: not authenticated.
    #[error("no NTS Authenticator (unauthenticated reply)")]
    MissingAuthenticator,
    /// A field follows the Authenticator.
    #[error("fields after the NTS Authenticator")]
    AuthenticatorNotLast,
    /// The nonce and ciphertext lengths do not fit in the field.
    #[error("NTS Authenticator lengths exceed the field")]
    AuthenticatorLengths,
    /// The nonce is empty, or of a length the algorithm cannot use.
    #[error("NTS Authenticator nonce of {len} bytes")]
    NonceLength {
        /// The nonce length.
        len: usize,
    },
    /// The nonce and the padding after it fill fewer than 16 bytes.
    #[error("NTS Authenticator without the required padding")]
    MissingPadding,
    /// The ciphertext is shorter than the tag.
    #[error("NTS Authenticator ciphertext of {len} bytes, shorter than the tag")]
    ShortCiphertext {
        /// The ciphertext length.
        len: usize,
    },
    /// The tag does not verify under the server-to-client key: forged or altered.
    #[error("NTS Authenticator does not verify (forged or altered reply)")]
    AuthenticationFailed,
    /// The decrypted fields are not well framed.
    #[error("malformed encrypted extension fields: {0}")]
    EncryptedFields(FieldError),
}

impl NtsReject {
    /// A short stable name for each rule.
    pub fn key(&self) -> &'static str {
        match self {
            NtsReject::Fields(_) => "fields",
            NtsReject::MissingUniqueId => "missing_unique_id",
            NtsReject::DuplicateUniqueId => "duplicate_unique_id",
            NtsReject::UniqueIdMismatch => "unique_id_mismatch",
            NtsReject::MissingAuthenticator => "missing_authenticator",
            NtsReject::AuthenticatorNotLast => "authenticator_not_last",
            NtsReject::AuthenticatorLengths => "authenticator_lengths",
            NtsReject::NonceLength { .. } => "nonce_length",
            NtsReject::MissingPadding => "missing_padding",
            NtsReject::ShortCiphertext { .. } => "short_ciphertext",
            NtsReject::AuthenticationFailed => "authentication_failed",
            NtsReject::EncryptedFields(_) => "encrypted_fields",
        }
    }
}

/// What an authentic reply brings besides its header.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedReply {
    /// The new cookies from the encrypted fields, in order.
    pub cookies: Vec<Vec<u8>>,
}

impl std::fmt::Debug for OpenedReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenedReply {{ cookies: {} }}", self.cookies.len())
    }
}

/// The parts of an Authenticator field's value.
struct AuthenticatorParts<'a> {
    nonce: &'a [u8],
    sealed: &'a [u8],
}

fn authenticator_parts(value: &[u8]) -> Result<AuthenticatorParts<'_>, NtsReject> {
    let [a, b, c, d, ..] = *value else {
        return Err(NtsReject::AuthenticatorLengths);
    };
    let nonce_len = u16::from_be_bytes([a, b]) as usize;
    let sealed_len = u16::from_be_bytes([c, d]) as usize;
    if 4 + padded(nonce_len) + padded(sealed_len) > value.len() {
        return Err(NtsReject::AuthenticatorLengths);
    }
    if nonce_len == 0 {
        return Err(NtsReject::NonceLength { len: 0 });
    }
    if sealed_len < TAG_LEN {
        return Err(NtsReject::ShortCiphertext { len: sealed_len });
    }
    // Nonce plus the padding after the ciphertext must fill MIN_NONCE_SPACE.
    if 4 + MIN_NONCE_SPACE.max(padded(nonce_len)) + padded(sealed_len) > value.len() {
        return Err(NtsReject::MissingPadding);
    }
    let nonce = &value[4..4 + nonce_len];
    let start = 4 + padded(nonce_len);
    Ok(AuthenticatorParts {
        nonce,
        sealed: &value[start..start + sealed_len],
    })
}

/// Checks a reply to the request that carried `unique_id` and opens its Authenticator with
/// the server-to-client key. `bytes` is the whole datagram (header included, at least 48
/// bytes: shorter input is refused as a missing Unique Identifier).
pub fn open_reply(
    bytes: &[u8],
    unique_id: &[u8; UNIQUE_ID_LEN],
    aead: Aead,
    s2c_key: &[u8],
) -> Result<OpenedReply, NtsReject> {
    let Some(efs) = bytes.get(HEADER_LEN..) else {
        return Err(NtsReject::MissingUniqueId);
    };
    let mut uid_seen = false;
    let mut uid_ok = false;
    let mut auth: Option<(usize, &[u8], bool)> = None;
    for f in fields(efs, MIN_FIELD_LEN) {
        let f = f.map_err(NtsReject::Fields)?;
        if let Some((_, _, last)) = &mut auth {
            *last = false;
        }
        match f.field_type {
            UNIQUE_IDENTIFIER => {
                if uid_seen {
                    return Err(NtsReject::DuplicateUniqueId);
                }
                uid_seen = true;
                uid_ok = f.value == unique_id.as_slice();
            }
            AUTHENTICATOR if auth.is_none() => auth = Some((f.offset, f.value, true)),
            AUTHENTICATOR => return Err(NtsReject::AuthenticatorNotLast),
            _ => {}
        }
    }
    if !uid_seen {
        return Err(NtsReject::MissingUniqueId);
    }
    if !uid_ok {
        return Err(NtsReject::UniqueIdMismatch);
    }
    let Some((offset, value, last)) = auth else {
        return Err(NtsReject::MissingAuthenticator);
    };
    if !last {
        return Err(NtsReject::AuthenticatorNotLast);
    }
    let parts = authenticator_parts(value)?;
    if aead == Aead::AesGcmSiv128 && parts.nonce.len() != 12 {
        return Err(NtsReject::NonceLength {
            len: parts.nonce.len(),
        });
    }
    let ad = &bytes[..HEADER_LEN + offset];
    let plain = open(aead, s2c_key, parts.nonce, ad, parts.sealed)
        .map_err(|_| NtsReject::AuthenticationFailed)?;
    let mut cookies = Vec::new();
    for f in fields(&plain, MIN_ENCRYPTED_FIELD_LEN) {
        let f = f.map_err(NtsReject::EncryptedFields)?;
        if f.field_type == NTS_COOKIE && !f.value.is_empty() {
            cookies.push(f.value.to_vec());
        }
    }
    Ok(OpenedReply { cookies })
}

/// Whether `bytes` is an NTS NAK for the request that carried `unique_id`: a stratum-0
/// reply with reference ID `NTSN` echoing the Unique Identifier (RFC 8915 §5.7). A NAK is
/// not authenticated (the server could not read the cookie), so the identifier is all that
/// ties it to the request.
pub fn is_nak(bytes: &[u8], unique_id: &[u8; UNIQUE_ID_LEN]) -> bool {
    if bytes.len() < HEADER_LEN || bytes[1] != 0 || bytes[12..16] != NAK_CODE {
        return false;
    }
    let mut found = false;
    for f in fields(&bytes[HEADER_LEN..], MIN_FIELD_LEN) {
        match f {
            Ok(f) if f.field_type == UNIQUE_IDENTIFIER => {
                if found || f.value != unique_id.as_slice() {
                    return false;
                }
                found = true;
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    found
}

/// Builds a server's reply to `request_fields`' Unique Identifier: `header`, the identifier,
/// and an Authenticator sealing `cookies` under `s2c_key`. skew is never an NTS server:
/// this is the other side of [`open_reply`] for tests and fuzzing.
pub fn seal_reply(
    header: &[u8; HEADER_LEN],
    unique_id: &[u8],
    cookies: &[Vec<u8>],
    aead: Aead,
    s2c_key: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, AeadError> {
    let mut out = header.to_vec();
    push_field(&mut out, UNIQUE_IDENTIFIER, unique_id, MIN_FIELD_LEN);
    let mut plain = Vec::new();
    for c in cookies {
        push_field(&mut plain, NTS_COOKIE, c, MIN_ENCRYPTED_FIELD_LEN);
    }
    push_authenticator(
        &mut out,
        aead,
        s2c_key,
        nonce,
        &plain,
        MIN_AUTHENTICATOR_LEN,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Packet;

    const UID: [u8; 32] = [0x55; 32];

    fn keys(aead: Aead) -> (Vec<u8>, Vec<u8>) {
        (vec![1; aead.key_len()], vec![2; aead.key_len()])
    }

    fn nonce(aead: Aead) -> Vec<u8> {
        vec![3; aead.nonce_len()]
    }

    fn header() -> [u8; HEADER_LEN] {
        Packet::client_request(0x1122_3344_5566_7788).encode()
    }

    #[test]
    fn request_layout_and_seal() {
        for aead in Aead::ALL {
            let (c2s, _) = keys(aead);
            let n = nonce(aead);
            let cookie = [0xc0; 100];
            let b = seal_request(
                &header(),
                &RequestParts {
                    unique_id: &UID,
                    cookie: &cookie,
                    placeholders: 2,
                    aead,
                    c2s_key: &c2s,
                    nonce: &n,
                },
            )
            .unwrap();
            // header 48, UID 36, cookie 104, 2 placeholders 208, authenticator 40.
            assert_eq!(b.len(), 48 + 36 + 104 + 208 + 40, "{aead}");
            assert_eq!(&b[48..52], &[0x01, 0x04, 0, 36]);
            assert_eq!(&b[52..84], &UID);
            assert_eq!(&b[84..88], &[0x02, 0x04, 0, 104]);
            assert_eq!(&b[188..192], &[0x03, 0x04, 0, 104]);
            assert!(b[192..292].iter().all(|&x| x == 0));
            let auth = &b[396..];
            assert_eq!(&auth[..4], &[0x04, 0x04, 0, 40]);
            let nonce_len = u16::from_be_bytes([auth[4], auth[5]]) as usize;
            assert_eq!(nonce_len, aead.nonce_len());
            assert_eq!(u16::from_be_bytes([auth[6], auth[7]]), 16);
            // The seal verifies under the C2S key with everything before it as AD.
            let tag = &auth[8 + padded(nonce_len)..8 + padded(nonce_len) + 16];
            assert_eq!(
                open(aead, &c2s, &auth[8..8 + nonce_len], &b[..396], tag).unwrap(),
                Vec::<u8>::new()
            );
        }
    }

    fn reply(aead: Aead, cookies: &[Vec<u8>]) -> Vec<u8> {
        let (_, s2c) = keys(aead);
        seal_reply(&header(), &UID, cookies, aead, &s2c, &nonce(aead)).unwrap()
    }

    #[test]
    fn opens_an_authentic_reply() {
        for aead in Aead::ALL {
            let (_, s2c) = keys(aead);
            let cookies = vec![vec![7; 100], vec![8; 100]];
            let r = open_reply(&reply(aead, &cookies), &UID, aead, &s2c).unwrap();
            assert_eq!(r.cookies, cookies);
            assert_eq!(format!("{r:?}"), "OpenedReply { cookies: 2 }");
        }
    }

    #[test]
    fn one_rejection_per_rule() {
        let aead = Aead::AesSivCmac256;
        let (c2s, s2c) = keys(aead);
        let good = reply(aead, &[vec![7; 100]]);
        let check = |b: &[u8]| open_reply(b, &UID, aead, &s2c);
        // A plain NTP reply.
        assert_eq!(check(&good[..48]), Err(NtsReject::MissingUniqueId));
        assert_eq!(check(&good[..20]), Err(NtsReject::MissingUniqueId));
        // Somebody else's identifier.
        assert_eq!(
            open_reply(&good, &[0x66; 32], aead, &s2c),
            Err(NtsReject::UniqueIdMismatch)
        );
        // Identifier but no authenticator (what a NAK looks like).
        assert_eq!(check(&good[..84]), Err(NtsReject::MissingAuthenticator));
        // Two identifiers.
        let mut two = good[..84].to_vec();
        two.extend_from_slice(&good[48..84]);
        two.extend_from_slice(&good[84..]);
        assert_eq!(check(&two), Err(NtsReject::DuplicateUniqueId));
        // A field after the authenticator.
        let mut after = good.clone();
        push_field(&mut after, 0x2000, &[0; 12], MIN_FIELD_LEN);
        assert_eq!(check(&after), Err(NtsReject::AuthenticatorNotLast));
        // Framing: a truncated field.
        assert!(matches!(
            check(&good[..good.len() - 4]),
            Err(NtsReject::Fields(FieldError::Overrun { .. }))
        ));
        // Any changed byte before the authenticator, or in it, fails the seal.
        for i in [0, 1, 12, 40, 47, 60] {
            let mut b = good.clone();
            b[i] ^= 0x01;
            let r = check(&b);
            if (48..84).contains(&i) {
                assert_eq!(r, Err(NtsReject::UniqueIdMismatch));
            } else {
                assert_eq!(r, Err(NtsReject::AuthenticationFailed), "byte {i}");
            }
        }
        let n = good.len();
        let mut b = good.clone();
        b[n - 20] ^= 0x80; // inside the sealed part
        assert_eq!(check(&b), Err(NtsReject::AuthenticationFailed));
        // Sealed with the wrong direction's key.
        let forged =
            seal_reply(&header(), &UID, &[vec![7; 100]], aead, &c2s, &nonce(aead)).unwrap();
        assert_eq!(check(&forged), Err(NtsReject::AuthenticationFailed));
        // Authenticator field surgery: (nonce len, ciphertext len, value length).
        let auth_at = 84;
        let with = |nonce_len: u16, ct_len: u16, value_len: usize| {
            let mut b = good[..auth_at].to_vec();
            let mut v = Vec::new();
            v.extend_from_slice(&nonce_len.to_be_bytes());
            v.extend_from_slice(&ct_len.to_be_bytes());
            v.resize(value_len, 0);
            push_field(&mut b, AUTHENTICATOR, &v, 0);
            check(&b)
        };
        assert_eq!(with(16, 200, 40), Err(NtsReject::AuthenticatorLengths));
        assert_eq!(with(0, 16, 36), Err(NtsReject::NonceLength { len: 0 }));
        assert_eq!(with(16, 8, 36), Err(NtsReject::ShortCiphertext { len: 8 }));
        assert_eq!(with(4, 16, 24), Err(NtsReject::MissingPadding));
        assert_eq!(with(16, 16, 36), Err(NtsReject::AuthenticationFailed));
        // GCM-SIV insists on 12-byte nonces.
        let g = Aead::AesGcmSiv128;
        let (_, gs2c) = keys(g);
        let mut b = good[..auth_at].to_vec();
        push_authenticator(&mut b, Aead::AesSivCmac256, &s2c, &[3; 16], &[], 28).unwrap();
        assert_eq!(
            open_reply(&b, &UID, g, &gs2c),
            Err(NtsReject::NonceLength { len: 16 })
        );
        // Encrypted garbage that authenticates: its framing is checked too.
        let mut b = good[..auth_at].to_vec();
        push_authenticator(&mut b, aead, &s2c, &[3; 16], &[0, 1, 0, 6, 0, 0], 28).unwrap();
        assert!(matches!(
            check(&b),
            Err(NtsReject::EncryptedFields(FieldError::Unaligned { .. }))
        ));
        assert_eq!(
            NtsReject::AuthenticationFailed.key(),
            "authentication_failed"
        );
    }

    proptest::proptest! {
        /// Any change to a byte the Authenticator covers (the header and identifier before
        /// it, its nonce, its ciphertext) is refused; random bytes never panic.
        #[test]
        fn covered_bytes_cannot_change(
            at in 0usize..2000,
            x in 1u8..=255,
            gcm in proptest::prelude::any::<bool>(),
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let aead = if gcm { Aead::AesGcmSiv128 } else { Aead::AesSivCmac256 };
            let (_, s2c) = keys(aead);
            let _ = open_reply(&junk, &UID, aead, &s2c);
            let _ = is_nak(&junk, &UID);
            let good = reply(aead, &[vec![7; 100]]);
            let auth_at = 84;
            let nonce_at = auth_at + 8;
            let ct_at = nonce_at + padded(aead.nonce_len());
            let ct_len = u16::from_be_bytes([good[auth_at + 6], good[auth_at + 7]]) as usize;
            let i = at % good.len();
            let covered = i < auth_at
                || (nonce_at..nonce_at + aead.nonce_len()).contains(&i)
                || (ct_at..ct_at + ct_len).contains(&i);
            let mut bad = good.clone();
            bad[i] ^= x;
            let r = open_reply(&bad, &UID, aead, &s2c);
            if covered {
                proptest::prop_assert!(r.is_err(), "byte {} changed, still accepted", i);
            }
        }
    }

    #[test]
    fn naks() {
        let mut h = header();
        h[0] = (h[0] & !7) | 4;
        h[1] = 0;
        h[12..16].copy_from_slice(&NAK_CODE);
        let mut nak = h.to_vec();
        push_field(&mut nak, UNIQUE_IDENTIFIER, &UID, MIN_FIELD_LEN);
        assert!(is_nak(&nak, &UID));
        assert!(!is_nak(&nak, &[0x66; 32]), "someone else's NAK");
        assert!(!is_nak(&h, &UID), "no identifier");
        let mut rate = nak.clone();
        rate[12..16].copy_from_slice(b"RATE");
        assert!(!is_nak(&rate, &UID));
        let mut st = nak.clone();
        st[1] = 2;
        assert!(!is_nak(&st, &UID));
        let mut two = nak.clone();
        push_field(&mut two, UNIQUE_IDENTIFIER, &UID, MIN_FIELD_LEN);
        assert!(!is_nak(&two, &UID));
        let mut bad = nak.clone();
        bad.push(0);
        assert!(!is_nak(&bad, &UID));
        assert!(!is_nak(&nak[..40], &UID));
    }
}
