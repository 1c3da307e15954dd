//! The two AEAD algorithms NTS uses, as pure functions over keys, nonces and bytes.
//!
//! * AES-SIV-CMAC-256 (IANA AEAD id 15, RFC 5297): the one every NTS implementation must
//!   support (RFC 8915 §5.1). 32-byte keys; nonces of any length, passed to SIV as the last
//!   associated-data component, the associated data before it (RFC 5297 §3).
//! * AES-128-GCM-SIV (id 30, RFC 8452): what chrony prefers. 16-byte keys; nonces of exactly
//!   12 bytes.
//!
//! Both put a 16-byte tag in front of (SIV) or behind (GCM-SIV) the ciphertext; either way
//! the sealed output is 16 bytes longer than the plaintext and opaque to NTS.

use aes_gcm_siv::aead::{Aead as _, Payload};
use aes_gcm_siv::{Aes128GcmSiv, KeyInit};
use aes_siv::siv::Aes128Siv;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Length of the authentication tag both algorithms add, bytes.
pub const TAG_LEN: usize = 16;

/// An AEAD algorithm NTS can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Aead {
    /// AEAD_AES_SIV_CMAC_256, IANA id 15 (mandatory to implement).
    #[serde(rename = "AES-SIV-CMAC-256")]
    AesSivCmac256,
    /// AEAD_AES_128_GCM_SIV, IANA id 30.
    #[serde(rename = "AES-128-GCM-SIV")]
    AesGcmSiv128,
}

impl Aead {
    /// Every algorithm skew implements, in its default order of preference (chrony's).
    pub const ALL: [Aead; 2] = [Aead::AesGcmSiv128, Aead::AesSivCmac256];

    /// The IANA "AEAD Algorithms" number.
    pub fn id(self) -> u16 {
        match self {
            Aead::AesSivCmac256 => 15,
            Aead::AesGcmSiv128 => 30,
        }
    }

    /// The algorithm with this IANA number, if skew implements it.
    pub fn from_id(id: u16) -> Option<Aead> {
        match id {
            15 => Some(Aead::AesSivCmac256),
            30 => Some(Aead::AesGcmSiv128),
            _ => None,
        }
    }

    /// Key length, bytes (the length exported from TLS for each direction).
    pub fn key_len(self) -> usize {
        match self {
            Aead::AesSivCmac256 => 32,
            Aead::AesGcmSiv128 => 16,
        }
    }

    /// The nonce length skew sends: 16 bytes for SIV (the NTS minimum without padding),
    /// exactly 12 for GCM-SIV.
    pub fn nonce_len(self) -> usize {
        match self {
            Aead::AesSivCmac256 => 16,
            Aead::AesGcmSiv128 => 12,
        }
    }

    /// The IANA name, as printed: `AES-SIV-CMAC-256` or `AES-128-GCM-SIV`.
    pub fn name(self) -> &'static str {
        match self {
            Aead::AesSivCmac256 => "AES-SIV-CMAC-256",
            Aead::AesGcmSiv128 => "AES-128-GCM-SIV",
        }
    }

    /// Parses a name as `--nts-aead` takes it: the IANA name or number, case-insensitive
    /// (`aes-siv-cmac-256`, `15`, `aes-128-gcm-siv`, `30`).
    pub fn parse(text: &str) -> Option<Aead> {
        let t = text.trim();
        if let Ok(id) = t.parse::<u16>() {
            return Aead::from_id(id);
        }
        Aead::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Aead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    /// The key has the wrong length for the algorithm.
    #[error("{aead} needs a {expected}-byte key, got {got} bytes")]
    KeyLength {
        /// The algorithm.
        aead: Aead,
        /// Its key length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The nonce is not acceptable to the algorithm (GCM-SIV: not 12 bytes; SIV: empty).
    #[error("{aead} cannot use a {got}-byte nonce")]
    NonceLength {
        /// The algorithm.
        aead: Aead,
        /// The length given.
        got: usize,
    },
    /// The tag did not verify: wrong key, or the data was changed.
    #[error("authentication tag does not verify")]
    Tag,
}

fn check_key(aead: Aead, key: &[u8]) -> Result<(), AeadError> {
    if key.len() == aead.key_len() {
        Ok(())
    } else {
        Err(AeadError::KeyLength {
            aead,
            expected: aead.key_len(),
            got: key.len(),
        })
    }
}

fn check_nonce(aead: Aead, nonce: &[u8]) -> Result<(), AeadError> {
    let ok = match aead {
        Aead::AesSivCmac256 => !nonce.is_empty(),
        Aead::AesGcmSiv128 => nonce.len() == 12,
    };
    if ok {
        Ok(())
    } else {
        Err(AeadError::NonceLength {
            aead,
            got: nonce.len(),
        })
    }
}

/// Encrypts and authenticates `plaintext` with associated data `ad` under `key` and `nonce`.
/// The result is `plaintext.len() + 16` bytes.
pub fn seal(
    aead: Aead,
    key: &[u8],
    nonce: &[u8],
    ad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadError> {
    check_key(aead, key)?;
    check_nonce(aead, nonce)?;
    match aead {
        Aead::AesSivCmac256 => {
            let mut siv = Aes128Siv::new_from_slice(key).map_err(|_| AeadError::Tag)?;
            siv.encrypt([ad, nonce], plaintext)
                .map_err(|_| AeadError::Tag)
        }
        Aead::AesGcmSiv128 => {
            let c = Aes128GcmSiv::new_from_slice(key).map_err(|_| AeadError::Tag)?;
            let n = aes_gcm_siv::Nonce::try_from(nonce).map_err(|_| AeadError::NonceLength {
                aead,
                got: nonce.len(),
            })?;
            c.encrypt(
                &n,
                Payload {
                    msg: plaintext,
                    aad: ad,
                },
            )
            .map_err(|_| AeadError::Tag)
        }
    }
}

/// Verifies and decrypts `sealed` (ciphertext with its tag) with associated data `ad`.
pub fn open(
    aead: Aead,
    key: &[u8],
    nonce: &[u8],
    ad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, AeadError> {
    check_key(aead, key)?;
    check_nonce(aead, nonce)?;
    if sealed.len() < TAG_LEN {
        return Err(AeadError::Tag);
    }
    match aead {
        Aead::AesSivCmac256 => {
            let mut siv = Aes128Siv::new_from_slice(key).map_err(|_| AeadError::Tag)?;
            siv.decrypt([ad, nonce], sealed).map_err(|_| AeadError::Tag)
        }
        Aead::AesGcmSiv128 => {
            let c = Aes128GcmSiv::new_from_slice(key).map_err(|_| AeadError::Tag)?;
            let n = aes_gcm_siv::Nonce::try_from(nonce).map_err(|_| AeadError::NonceLength {
                aead,
                got: nonce.len(),
            })?;
            c.decrypt(
                &n,
                Payload {
                    msg: sealed,
                    aad: ad,
                },
            )
            .map_err(|_| AeadError::Tag)
        }
    }
}

/// Which way a key protects packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server (requests): context byte 0.
    ClientToServer,
    /// Server to client (replies): context byte 1.
    ServerToClient,
}

/// The TLS exporter label NTS keys come from (RFC 8915 §5.1).
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-network-time-security";

/// The RFC 5705 exporter context for a key: the Protocol ID (NTPv4 = 0), the AEAD id of the
/// exporter, and 0 (C2S) or 1 (S2C) (RFC 8915 §5.1).
///
/// `exporter_aead` is normally the negotiated algorithm. chrony up to 4.3 puts 15 there
/// even when AES-128-GCM-SIV (30) was negotiated, unless both sides agreed otherwise with its
/// record 1024 (see [`crate::nts::ke::COMPLIANT_128GCM_EXPORT`]); [`exporter_aead`]
/// decides.
pub fn exporter_context(exporter_aead: u16, direction: Direction) -> [u8; 5] {
    let id = exporter_aead.to_be_bytes();
    let d = match direction {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    };
    [0, 0, id[0], id[1], d]
}

/// The AEAD id to put in the exporter context: the negotiated algorithm's, except for
/// AES-128-GCM-SIV when the server did not confirm the compliant context (chrony ≤ 4.3 and
/// later chronys talking to older clients use 15 there).
pub fn exporter_aead(negotiated: Aead, compliant_128gcm: bool) -> u16 {
    match negotiated {
        Aead::AesGcmSiv128 if !compliant_128gcm => Aead::AesSivCmac256.id(),
        a => a.id(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc5297_nonce_based_vector() {
        // RFC 5297 Appendix A.2: two associated data components, then the nonce. NTS uses
        // one component (the packet so far) and the nonce, the same construction.
        let key = hex("7f7e7d7c7b7a79787776757473727170 404142434445464748494a4b4c4d4e4f");
        let ad1 = hex(
            "00112233445566778899aabbccddeeff deaddadadeaddadaffeeddccbbaa9988 7766554433221100",
        );
        let ad2 = hex("102030405060708090a0");
        let nonce = hex("09f911029d74e35bd84156c5635688c0");
        let pt = hex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553");
        let expected = hex("7bdb6e3b432667eb06f4d14bff2fbd0f cb900f2fddbe404326601965c889bf17 dba77ceb094fa663b7a3f748ba8af829 ea64ad544a272e9c485b62a3fd5c0d");
        let mut siv = Aes128Siv::new_from_slice(&key).unwrap();
        let out = siv.encrypt([&ad1[..], &ad2[..], &nonce[..]], &pt).unwrap();
        assert_eq!(out, expected);
    }

    /// Known answers for NTS-shaped inputs (48-byte header as AD), computed with an
    /// independent implementation: pyca/cryptography 48.0 (OpenSSL) `AESSIV` and
    /// `AESGCMSIV`.
    #[test]
    fn independent_known_answers() {
        let ad: Vec<u8> = (0..48).collect();
        let k32: Vec<u8> = (0..32).collect();
        let n16: Vec<u8> = (100..116).collect();
        let pt: Vec<u8> = (200..240).collect();
        assert_eq!(
            seal(Aead::AesSivCmac256, &k32, &n16, &ad, &[]).unwrap(),
            hex("8b32b42ca38fcd8b70bbd37a0dc8d164")
        );
        assert_eq!(
            seal(Aead::AesSivCmac256, &k32, &n16, &ad, &pt).unwrap(),
            hex("612ea8328b1b58e031cded6b8ff84d85fc481b19bde676633166638caec06beca446036031cdd25b34676f2066a89ca97486113bf80d58e4")
        );
        let k16: Vec<u8> = (0..16).collect();
        let n12: Vec<u8> = (0..12).collect();
        assert_eq!(
            seal(Aead::AesGcmSiv128, &k16, &n12, &ad, &pt).unwrap(),
            hex("ec5f393fa8e7d350b9e5c9b6fb50a2bb137db77625615691931d2e4b5804c9e565f3ff4b39546f326e91517a41f0f81abe4acd409d8e480e")
        );
    }

    #[test]
    fn round_trip_and_tamper() {
        for aead in Aead::ALL {
            let key = vec![7u8; aead.key_len()];
            let nonce = vec![9u8; aead.nonce_len()];
            let sealed = seal(aead, &key, &nonce, b"header", b"cookies").unwrap();
            assert_eq!(sealed.len(), 7 + TAG_LEN);
            assert_eq!(
                open(aead, &key, &nonce, b"header", &sealed).unwrap(),
                b"cookies"
            );
            let mut bad = sealed.clone();
            bad[0] ^= 1;
            assert_eq!(
                open(aead, &key, &nonce, b"header", &bad),
                Err(AeadError::Tag)
            );
            assert_eq!(
                open(aead, &key, &nonce, b"headeR", &sealed),
                Err(AeadError::Tag)
            );
            let other = vec![8u8; aead.key_len()];
            assert_eq!(
                open(aead, &other, &nonce, b"header", &sealed),
                Err(AeadError::Tag)
            );
            assert_eq!(
                open(aead, &key, &nonce, b"header", &sealed[..15]),
                Err(AeadError::Tag)
            );
            assert!(matches!(
                seal(aead, &key[1..], &nonce, b"", b""),
                Err(AeadError::KeyLength { .. })
            ));
        }
        assert!(matches!(
            seal(Aead::AesGcmSiv128, &[0; 16], &[0; 16], b"", b""),
            Err(AeadError::NonceLength { got: 16, .. })
        ));
        assert!(matches!(
            seal(Aead::AesSivCmac256, &[0; 32], &[], b"", b""),
            Err(AeadError::NonceLength { got: 0, .. })
        ));
    }

    #[test]
    fn ids_names_contexts() {
        for a in Aead::ALL {
            assert_eq!(Aead::from_id(a.id()), Some(a));
            assert_eq!(Aead::parse(a.name()), Some(a));
            assert_eq!(Aead::parse(&a.name().to_lowercase()), Some(a));
            assert_eq!(Aead::parse(&a.id().to_string()), Some(a));
        }
        assert_eq!(Aead::from_id(17), None);
        assert_eq!(Aead::parse("chacha"), None);
        assert_eq!(
            exporter_context(15, Direction::ClientToServer),
            [0, 0, 0, 15, 0]
        );
        assert_eq!(
            exporter_context(30, Direction::ServerToClient),
            [0, 0, 0, 30, 1]
        );
        assert_eq!(exporter_aead(Aead::AesGcmSiv128, false), 15);
        assert_eq!(exporter_aead(Aead::AesGcmSiv128, true), 30);
        assert_eq!(exporter_aead(Aead::AesSivCmac256, false), 15);
        assert_eq!(
            serde_json::to_string(&Aead::AesGcmSiv128).unwrap(),
            "\"AES-128-GCM-SIV\""
        );
    }
}
