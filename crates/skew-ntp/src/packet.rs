//! The NTP packet header (RFC 5905 §7.3): decoding, encoding, leap indicator and
//! Kiss-o'-Death codes.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |LI | VN  |Mode |    Stratum    |     Poll      |   Precision   |
//! |                         Root Delay                            |
//! |                       Root Dispersion                         |
//! |                          Reference ID                         |
//! |                   Reference Timestamp (64)                    |
//! |                      Origin Timestamp (64)                    |
//! |                      Receive Timestamp (64)                   |
//! |                      Transmit Timestamp (64)                  |
//! ```
//! Extension fields and a MAC may follow the 48 bytes; they are ignored here.

use crate::timestamp::{NtpShort, NtpTimestamp};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Length of the NTP header in bytes.
pub const HEADER_LEN: usize = 48;
/// Mode 3: client request.
pub const MODE_CLIENT: u8 = 3;
/// Mode 4: server reply.
pub const MODE_SERVER: u8 = 4;
/// Byte range of the origin timestamp within the header.
pub const ORIGIN_RANGE: std::ops::Range<usize> = 24..32;

/// The leap indicator: what the server says about the last minute of the current day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leap {
    /// 0: no leap second pending.
    None,
    /// 1: the last minute of the day has 61 seconds.
    Insert,
    /// 2: the last minute of the day has 59 seconds.
    Delete,
    /// 3: the server's clock is not synchronized (alarm).
    Unsynchronized,
}

impl Leap {
    /// From the two LI bits.
    pub fn from_bits(bits: u8) -> Leap {
        match bits & 3 {
            0 => Leap::None,
            1 => Leap::Insert,
            2 => Leap::Delete,
            _ => Leap::Unsynchronized,
        }
    }

    /// The two LI bits.
    pub fn bits(self) -> u8 {
        match self {
            Leap::None => 0,
            Leap::Insert => 1,
            Leap::Delete => 2,
            Leap::Unsynchronized => 3,
        }
    }

    /// The name used in JSON, CSV and tables: `none`, `insert`, `delete`, `unsynchronized`.
    pub fn as_str(self) -> &'static str {
        match self {
            Leap::None => "none",
            Leap::Insert => "insert",
            Leap::Delete => "delete",
            Leap::Unsynchronized => "unsynchronized",
        }
    }
}

impl fmt::Display for Leap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Kiss-o'-Death code (RFC 5905 §7.4): the reference ID of a stratum-0 reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KissCode {
    /// RATE: the client sends too often; back off (skew stops asking for the run).
    Rate,
    /// DENY: access denied; stop asking.
    Deny,
    /// RSTR: access restricted; stop asking.
    Rstr,
    /// NTSN: NTS negative acknowledgment, the server could not use the NTS cookie
    /// (RFC 8915 §5.7); stop asking (the other cookies of the key exchange are as stale).
    NtsNak,
    /// Any other code (INIT, STEP, AUTH, ...), as printable text or hex.
    Other(String),
}

impl KissCode {
    /// Decodes the 4-byte reference ID of a stratum-0 packet.
    pub fn from_refid(refid: [u8; 4]) -> KissCode {
        match &refid {
            b"RATE" => KissCode::Rate,
            b"DENY" => KissCode::Deny,
            b"RSTR" => KissCode::Rstr,
            b"NTSN" => KissCode::NtsNak,
            _ => KissCode::Other(refid_ascii_or_hex(refid)),
        }
    }

    /// The code as text (`RATE`, `DENY`, `RSTR`, or the other code).
    pub fn as_str(&self) -> &str {
        match self {
            KissCode::Rate => "RATE",
            KissCode::Deny => "DENY",
            KissCode::Rstr => "RSTR",
            KissCode::NtsNak => "NTSN",
            KissCode::Other(s) => s,
        }
    }

    /// Whether the code tells the client to stop sending for the rest of the run.
    /// RATE, DENY, RSTR and NTSN do; other codes (INIT, STEP...) do not.
    pub fn stops_probing(&self) -> bool {
        matches!(
            self,
            KissCode::Rate | KissCode::Deny | KissCode::Rstr | KissCode::NtsNak
        )
    }

    /// The code as it appears in a packet's reference ID (other codes are truncated or
    /// NUL-padded to four bytes).
    pub fn to_refid(&self) -> [u8; 4] {
        let mut out = [0u8; 4];
        for (o, b) in out.iter_mut().zip(self.as_str().bytes()) {
            *o = b;
        }
        out
    }
}

impl fmt::Display for KissCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for KissCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Renders a reference ID as ASCII (trailing NULs removed) when it is printable, else hex.
pub fn refid_ascii_or_hex(refid: [u8; 4]) -> String {
    let trimmed: Vec<u8> = refid.iter().copied().take_while(|&b| b != 0).collect();
    let rest_zero = refid[trimmed.len()..].iter().all(|&b| b == 0);
    if !trimmed.is_empty() && rest_zero && trimmed.iter().all(|b| b.is_ascii_graphic()) {
        String::from_utf8_lossy(&trimmed).into_owned()
    } else {
        refid.iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// Renders a reference ID as NTP tools do: ASCII for stratum 0 and 1 (a KoD code or a
/// reference clock name), the upstream server's IPv4 address (or IPv6 hash) in dotted
/// form for stratum 2 and up.
pub fn refid_display(stratum: u8, refid: [u8; 4]) -> String {
    if stratum <= 1 {
        refid_ascii_or_hex(refid)
    } else {
        format!("{}.{}.{}.{}", refid[0], refid[1], refid[2], refid[3])
    }
}

/// Why bytes could not be decoded as an NTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer than 48 bytes.
    #[error("truncated packet: {len} bytes, an NTP header needs 48")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
}

/// A decoded NTP header. Field names follow RFC 5905.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Leap indicator.
    pub leap: Leap,
    /// Version number (3 bits).
    pub version: u8,
    /// Association mode (3 bits): 3 client, 4 server.
    pub mode: u8,
    /// Stratum: 0 Kiss-o'-Death, 1 primary, 2–15 secondary, 16 unsynchronized.
    pub stratum: u8,
    /// Poll exponent (log2 seconds).
    pub poll: i8,
    /// Precision exponent (log2 seconds).
    pub precision: i8,
    /// Total round-trip delay to the reference clock.
    pub root_delay: NtpShort,
    /// Total dispersion to the reference clock.
    pub root_dispersion: NtpShort,
    /// Reference ID (KoD code at stratum 0).
    pub reference_id: [u8; 4],
    /// When the server's clock was last set or corrected.
    pub reference_ts: NtpTimestamp,
    /// Origin timestamp: the client's transmit field echoed back (our nonce).
    pub origin_ts: NtpTimestamp,
    /// Receive timestamp T2.
    pub receive_ts: NtpTimestamp,
    /// Transmit timestamp T3.
    pub transmit_ts: NtpTimestamp,
}

impl Packet {
    /// Decodes the first 48 bytes; anything after them (extension fields, MAC) is ignored.
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::Truncated { len: bytes.len() });
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let u64_at = |i: usize| ((u32_at(i) as u64) << 32) | u32_at(i + 4) as u64;
        Ok(Packet {
            leap: Leap::from_bits(bytes[0] >> 6),
            version: (bytes[0] >> 3) & 7,
            mode: bytes[0] & 7,
            stratum: bytes[1],
            poll: bytes[2] as i8,
            precision: bytes[3] as i8,
            root_delay: NtpShort(u32_at(4)),
            root_dispersion: NtpShort(u32_at(8)),
            reference_id: [bytes[12], bytes[13], bytes[14], bytes[15]],
            reference_ts: NtpTimestamp(u64_at(16)),
            origin_ts: NtpTimestamp(u64_at(24)),
            receive_ts: NtpTimestamp(u64_at(32)),
            transmit_ts: NtpTimestamp(u64_at(40)),
        })
    }

    /// Encodes the 48-byte header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = (self.leap.bits() << 6) | ((self.version & 7) << 3) | (self.mode & 7);
        b[1] = self.stratum;
        b[2] = self.poll as u8;
        b[3] = self.precision as u8;
        b[4..8].copy_from_slice(&self.root_delay.0.to_be_bytes());
        b[8..12].copy_from_slice(&self.root_dispersion.0.to_be_bytes());
        b[12..16].copy_from_slice(&self.reference_id);
        b[16..24].copy_from_slice(&self.reference_ts.0.to_be_bytes());
        b[24..32].copy_from_slice(&self.origin_ts.0.to_be_bytes());
        b[32..40].copy_from_slice(&self.receive_ts.0.to_be_bytes());
        b[40..48].copy_from_slice(&self.transmit_ts.0.to_be_bytes());
        b
    }

    /// A client request (version 4, mode 3) whose transmit field carries `nonce` and every
    /// other field zero, so the request reveals nothing about the local clock (the real T1
    /// is kept locally; draft-ietf-ntp-data-minimization).
    pub fn client_request(nonce: u64) -> Packet {
        Packet {
            leap: Leap::None,
            version: 4,
            mode: MODE_CLIENT,
            stratum: 0,
            poll: 0,
            precision: 0,
            root_delay: NtpShort(0),
            root_dispersion: NtpShort(0),
            reference_id: [0; 4],
            reference_ts: NtpTimestamp::ZERO,
            origin_ts: NtpTimestamp::ZERO,
            receive_ts: NtpTimestamp::ZERO,
            transmit_ts: NtpTimestamp(nonce),
        }
    }

    /// The Kiss-o'-Death code when this is a KoD packet (stratum 0).
    pub fn kiss_code(&self) -> Option<KissCode> {
        (self.stratum == 0).then(|| KissCode::from_refid(self.reference_id))
    }
}

/// Reads the origin timestamp field of a datagram without decoding the rest, when the
/// datagram is long enough to hold it. Used to match replies to requests.
pub fn peek_origin(bytes: &[u8]) -> Option<u64> {
    let f = bytes.get(ORIGIN_RANGE)?;
    Some(u64::from_be_bytes(f.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vector() {
        // A chronyd reply captured on loopback (stratum 8, local reference 127.127.1.1).
        let bytes: [u8; 48] = [
            0x24, 0x08, 0x00, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x7f, 0x7f,
            0x01, 0x01, 0xec, 0x9b, 0x5f, 0x44, 0x1b, 0x4c, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
            0x05, 0x06, 0x07, 0x08, 0xec, 0x9b, 0x5f, 0x48, 0x80, 0x00, 0x00, 0x00, 0xec, 0x9b,
            0x5f, 0x48, 0x80, 0x01, 0x00, 0x00,
        ];
        let p = Packet::decode(&bytes).unwrap();
        assert_eq!(p.leap, Leap::None);
        assert_eq!(p.version, 4);
        assert_eq!(p.mode, MODE_SERVER);
        assert_eq!(p.stratum, 8);
        assert_eq!(p.precision, -25);
        assert_eq!(p.root_dispersion, NtpShort(0x10));
        assert_eq!(p.reference_id, [127, 127, 1, 1]);
        assert_eq!(p.origin_ts, NtpTimestamp(0x0102_0304_0506_0708));
        assert_eq!(p.receive_ts.seconds(), 0xec9b_5f48);
        assert_eq!(p.receive_ts.fraction(), 0x8000_0000);
        assert_eq!(p.encode(), bytes);
        assert_eq!(peek_origin(&bytes), Some(0x0102_0304_0506_0708));
        assert_eq!(refid_display(p.stratum, p.reference_id), "127.127.1.1");
    }

    #[test]
    fn request_layout() {
        let b = Packet::client_request(0xdead_beef_0bad_f00d).encode();
        assert_eq!(b[0], 0x23); // LI 0, VN 4, mode 3
        assert!(b[1..40].iter().all(|&x| x == 0));
        assert_eq!(&b[40..48], &0xdead_beef_0bad_f00du64.to_be_bytes());
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::decode(&[0u8; 47]),
            Err(DecodeError::Truncated { len: 47 })
        );
        assert_eq!(Packet::decode(&[]), Err(DecodeError::Truncated { len: 0 }));
        assert!(
            Packet::decode(&[0u8; 68]).is_ok(),
            "MAC/extension bytes are ignored"
        );
        assert_eq!(peek_origin(&[0u8; 31]), None);
    }

    #[test]
    fn kiss_codes() {
        assert_eq!(KissCode::from_refid(*b"RATE"), KissCode::Rate);
        assert_eq!(KissCode::from_refid(*b"DENY"), KissCode::Deny);
        assert_eq!(KissCode::from_refid(*b"RSTR"), KissCode::Rstr);
        assert_eq!(KissCode::from_refid(*b"NTSN"), KissCode::NtsNak);
        assert!(KissCode::NtsNak.stops_probing());
        assert_eq!(KissCode::NtsNak.to_refid(), *b"NTSN");
        assert_eq!(
            KissCode::from_refid(*b"INIT"),
            KissCode::Other("INIT".into())
        );
        assert_eq!(
            KissCode::from_refid([0x01, 0, 0, 0]),
            KissCode::Other("01000000".into())
        );
        assert!(KissCode::Rate.stops_probing());
        assert!(!KissCode::Other("INIT".into()).stops_probing());
        assert_eq!(KissCode::Deny.to_refid(), *b"DENY");
        assert_eq!(refid_display(1, *b"GPS\0"), "GPS");
        assert_eq!(refid_display(0, *b"RATE"), "RATE");
    }

    #[test]
    fn leap_bits() {
        for b in 0..4 {
            assert_eq!(Leap::from_bits(b).bits(), b);
        }
        assert_eq!(Leap::from_bits(3).as_str(), "unsynchronized");
    }

    proptest! {
        #[test]
        fn decode_encode_round_trip(bytes in proptest::collection::vec(any::<u8>(), 48..=48)) {
            let p = Packet::decode(&bytes).unwrap();
            prop_assert_eq!(&p.encode()[..], &bytes[..]);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = Packet::decode(&bytes);
            let _ = peek_origin(&bytes);
        }
    }
}
