//! NTS Key Establishment records (RFC 8915 §4): the messages a client and server exchange
//! over TLS before any NTP packet, encoded and decoded without IO.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |C|         Record Type         |          Body Length          |
//! |                         Record Body ...                       |
//! ```
//!
//! The client sends Next Protocol (NTPv4), AEAD Algorithm Negotiation (its offer) and End of
//! Message ([`client_request`]). [`parse_response`] checks the server's answer strictly,
//! with one error per rule ([`KeError`]), and returns what the NTP part needs
//! ([`KeResponse`]): the chosen AEAD, the cookies, and the NTP server and port when the
//! server names them. [`message_length`] tells a reader when a whole message has arrived.

use crate::nts::aead::Aead;
use std::fmt;

/// Record type 0: End of Message.
pub const END_OF_MESSAGE: u16 = 0;
/// Record type 1: NTS Next Protocol Negotiation.
pub const NEXT_PROTOCOL: u16 = 1;
/// Record type 2: Error.
pub const ERROR: u16 = 2;
/// Record type 3: Warning.
pub const WARNING: u16 = 3;
/// Record type 4: AEAD Algorithm Negotiation.
pub const AEAD_ALGORITHM: u16 = 4;
/// Record type 5: New Cookie for NTPv4.
pub const NEW_COOKIE: u16 = 5;
/// Record type 6: NTPv4 Server Negotiation.
pub const NTP_SERVER: u16 = 6;
/// Record type 7: NTPv4 Port Negotiation.
pub const NTP_PORT: u16 = 7;
/// Record type 1024 (chrony): "use the RFC 5705 exporter context with the real AES-128-GCM-SIV
/// id". Sent empty and non-critical by a client offering AES-128-GCM-SIV; a server that
/// echoes it uses id 30 in the exporter context, one that does not uses 15 (see
/// [`crate::nts::aead::exporter_aead`]).
pub const COMPLIANT_128GCM_EXPORT: u16 = 1024;
/// The critical bit of the record type field.
pub const CRITICAL_BIT: u16 = 0x8000;
/// Next Protocol id of NTPv4.
pub const PROTOCOL_NTPV4: u16 = 0;
/// The TLS ALPN protocol name of NTS-KE.
pub const ALPN: &[u8] = b"ntske/1";
/// The NTS-KE TCP port.
pub const DEFAULT_KE_PORT: u16 = 4460;
/// The NTP port used when the server sends no port record.
pub const DEFAULT_NTP_PORT: u16 = 123;
/// Cookies a client keeps at most (RFC 8915 §4.1.6: servers send 8).
pub const MAX_COOKIES: usize = 8;
/// Longest cookie accepted, bytes (chrony's limit; real cookies are 64–200 bytes).
pub const MAX_COOKIE_LEN: usize = 256;
/// Longest response read, bytes: far more than 8 cookies and every other record need.
pub const MAX_MESSAGE_LEN: usize = 16_384;
/// Length of the record header (type and body length).
pub const RECORD_HEADER_LEN: usize = 4;

/// One record as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The critical bit.
    pub critical: bool,
    /// The record type (15 bits).
    pub record_type: u16,
    /// The body.
    pub body: &'a [u8],
}

/// The name of a record type, for messages.
pub fn record_name(record_type: u16) -> String {
    match record_type {
        END_OF_MESSAGE => "End of Message".into(),
        NEXT_PROTOCOL => "Next Protocol".into(),
        ERROR => "Error".into(),
        WARNING => "Warning".into(),
        AEAD_ALGORITHM => "AEAD Algorithm".into(),
        NEW_COOKIE => "New Cookie".into(),
        NTP_SERVER => "NTPv4 Server".into(),
        NTP_PORT => "NTPv4 Port".into(),
        COMPLIANT_128GCM_EXPORT => "Compliant AES-128-GCM-SIV Export".into(),
        t => format!("type {t}"),
    }
}

/// The meaning of an Error record's code (RFC 8915 §4.1.3).
pub fn error_name(code: u16) -> String {
    match code {
        0 => "Unrecognized Critical Record".into(),
        1 => "Bad Request".into(),
        2 => "Internal Server Error".into(),
        c => format!("error code {c}"),
    }
}

/// Appends one record. Bodies longer than 65535 bytes cannot be encoded and are cut to
/// that length (no record skew sends comes near it).
pub fn encode_record(out: &mut Vec<u8>, critical: bool, record_type: u16, body: &[u8]) {
    let body = &body[..body.len().min(u16::MAX as usize)];
    let t = (record_type & !CRITICAL_BIT) | if critical { CRITICAL_BIT } else { 0 };
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// Decodes the record at the start of `bytes`: `None` while the bytes hold only part of it,
/// else the record and its length on the wire.
pub fn decode_record(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let head = bytes.get(..RECORD_HEADER_LEN)?;
    let t = u16::from_be_bytes([head[0], head[1]]);
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let body = bytes.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + len)?;
    Some((
        Record {
            critical: t & CRITICAL_BIT != 0,
            record_type: t & !CRITICAL_BIT,
            body,
        },
        RECORD_HEADER_LEN + len,
    ))
}

/// The client's request: Next Protocol NTPv4, the AEAD offer in order of preference, the
/// compliant-context record when AES-128-GCM-SIV is offered, End of Message.
pub fn client_request(offer: &[Aead]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    encode_record(&mut out, true, NEXT_PROTOCOL, &PROTOCOL_NTPV4.to_be_bytes());
    let ids: Vec<u8> = offer.iter().flat_map(|a| a.id().to_be_bytes()).collect();
    encode_record(&mut out, true, AEAD_ALGORITHM, &ids);
    if offer.contains(&Aead::AesGcmSiv128) {
        encode_record(&mut out, false, COMPLIANT_128GCM_EXPORT, &[]);
    }
    encode_record(&mut out, true, END_OF_MESSAGE, &[]);
    out
}

/// Why a key exchange response is refused: one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeError {
    /// The server sent an Error record.
    #[error("server sent an Error record: {} ({code})", error_name(*code))]
    ServerError {
        /// The error code.
        code: u16,
    },
    /// The server sent a Warning record (no warning codes are defined: RFC 8915 §4.1.4).
    #[error("server sent a Warning record with code {code}")]
    ServerWarning {
        /// The warning code.
        code: u16,
    },
    /// A record whose type skew does not know has the critical bit set.
    #[error("unrecognized critical record (type {record_type})")]
    UnrecognizedCritical {
        /// The record type.
        record_type: u16,
    },
    /// A record that must be critical is not.
    #[error("{} record without the critical bit", record_name(*record_type))]
    NotCritical {
        /// The record type.
        record_type: u16,
    },
    /// A record's body has a length its type does not allow.
    #[error("{} record with a {len}-byte body", record_name(*record_type))]
    BodyLength {
        /// The record type.
        record_type: u16,
        /// The body length.
        len: usize,
    },
    /// A record that may appear once appeared twice.
    #[error("{} record appears more than once", record_name(*record_type))]
    Duplicate {
        /// The record type.
        record_type: u16,
    },
    /// The Next Protocol record does not name exactly NTPv4.
    #[error("server's next protocol is {protocols:?}, not NTPv4 (0)")]
    NextProtocol {
        /// The protocol ids the server named.
        protocols: Vec<u16>,
    },
    /// No Next Protocol record.
    #[error("no Next Protocol record")]
    MissingNextProtocol,
    /// No AEAD Algorithm record.
    #[error("no AEAD Algorithm record")]
    MissingAead,
    /// The AEAD record is empty: the server supports none of the algorithms offered.
    #[error(
        "the server supports none of the AEAD algorithms offered (empty AEAD Algorithm record)"
    )]
    NoCommonAead,
    /// The AEAD record names more than one algorithm.
    #[error("AEAD Algorithm record names {count} algorithms, expected 1")]
    AeadCount {
        /// How many it names.
        count: usize,
    },
    /// The server chose an algorithm the client did not offer.
    #[error("server chose AEAD {id}, which was not offered")]
    AeadNotOffered {
        /// The algorithm id.
        id: u16,
    },
    /// No New Cookie record.
    #[error("no cookies in the response")]
    NoCookies,
    /// An empty cookie, or one longer than [`MAX_COOKIE_LEN`].
    #[error("cookie of {len} bytes (accepted: 1 to 256)")]
    CookieLength {
        /// Its length.
        len: usize,
    },
    /// The NTPv4 Server record is empty, too long or not printable ASCII without spaces.
    #[error("NTPv4 Server record {name:?} is not a host name or address")]
    ServerName {
        /// The body, lossily decoded.
        name: String,
    },
    /// The NTPv4 Port record says 0.
    #[error("NTPv4 Port record says port 0")]
    ZeroPort,
    /// The message ends without End of Message.
    #[error("response ends without an End of Message record ({len} bytes)")]
    Incomplete {
        /// Bytes received.
        len: usize,
    },
    /// Bytes follow End of Message.
    #[error("{extra} bytes after the End of Message record")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The response is longer than [`MAX_MESSAGE_LEN`] without ending.
    #[error("response longer than {MAX_MESSAGE_LEN} bytes")]
    TooLong,
}

/// What a valid response says.
#[derive(Clone, PartialEq, Eq)]
pub struct KeResponse {
    /// The AEAD algorithm the server chose.
    pub aead: Aead,
    /// The server confirmed the compliant AES-128-GCM-SIV exporter context (record 1024).
    pub compliant_128gcm: bool,
    /// The cookies (at most [`MAX_COOKIES`]; more are ignored).
    pub cookies: Vec<Vec<u8>>,
    /// Cookies the server sent, including any beyond [`MAX_COOKIES`].
    pub cookies_sent: usize,
    /// The NTP server the server named (a host name or address), if any.
    pub server: Option<String>,
    /// The NTP port the server named, if any.
    pub port: Option<u16>,
}

impl fmt::Debug for KeResponse {
    // Cookies are credentials for the session: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeResponse")
            .field("aead", &self.aead)
            .field("compliant_128gcm", &self.compliant_128gcm)
            .field("cookies", &self.cookies.len())
            .field("server", &self.server)
            .field("port", &self.port)
            .finish()
    }
}

/// The length of the first complete message in `bytes` (through its End of Message
/// record), `None` while it is incomplete.
pub fn message_length(bytes: &[u8]) -> Result<Option<usize>, KeError> {
    let mut at = 0;
    while let Some((r, len)) = decode_record(&bytes[at..]) {
        at += len;
        if r.record_type == END_OF_MESSAGE {
            return Ok(Some(at));
        }
    }
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(KeError::TooLong);
    }
    Ok(None)
}

fn u16s(record_type: u16, body: &[u8]) -> Result<Vec<u16>, KeError> {
    if body.len() % 2 != 0 {
        return Err(KeError::BodyLength {
            record_type,
            len: body.len(),
        });
    }
    Ok(body
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

fn one_u16(record_type: u16, body: &[u8]) -> Result<u16, KeError> {
    match body {
        [a, b] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(KeError::BodyLength {
            record_type,
            len: body.len(),
        }),
    }
}

fn must_be_critical(r: &Record<'_>) -> Result<(), KeError> {
    if r.critical {
        Ok(())
    } else {
        Err(KeError::NotCritical {
            record_type: r.record_type,
        })
    }
}

/// Checks a server's whole response (exactly one message) against the client's `offer`.
pub fn parse_response(bytes: &[u8], offer: &[Aead]) -> Result<KeResponse, KeError> {
    let mut at = 0;
    let mut next_protocol: Option<Vec<u16>> = None;
    let mut aead: Option<Aead> = None;
    let mut compliant = false;
    let mut cookies: Vec<Vec<u8>> = Vec::new();
    let mut cookies_sent = 0;
    let mut server: Option<String> = None;
    let mut port: Option<u16> = None;
    loop {
        let Some((r, len)) = decode_record(&bytes[at..]) else {
            return Err(KeError::Incomplete { len: bytes.len() });
        };
        at += len;
        let dup = || KeError::Duplicate {
            record_type: r.record_type,
        };
        match r.record_type {
            END_OF_MESSAGE => {
                must_be_critical(&r)?;
                if !r.body.is_empty() {
                    return Err(KeError::BodyLength {
                        record_type: END_OF_MESSAGE,
                        len: r.body.len(),
                    });
                }
                break;
            }
            NEXT_PROTOCOL => {
                must_be_critical(&r)?;
                let ids = u16s(NEXT_PROTOCOL, r.body)?;
                if next_protocol.is_some() {
                    return Err(dup());
                }
                if ids != [PROTOCOL_NTPV4] {
                    return Err(KeError::NextProtocol { protocols: ids });
                }
                next_protocol = Some(ids);
            }
            ERROR => {
                must_be_critical(&r)?;
                return Err(KeError::ServerError {
                    code: one_u16(ERROR, r.body)?,
                });
            }
            WARNING => {
                must_be_critical(&r)?;
                return Err(KeError::ServerWarning {
                    code: one_u16(WARNING, r.body)?,
                });
            }
            AEAD_ALGORITHM => {
                let ids = u16s(AEAD_ALGORITHM, r.body)?;
                if aead.is_some() {
                    return Err(dup());
                }
                if ids.is_empty() {
                    return Err(KeError::NoCommonAead);
                }
                if ids.len() != 1 {
                    return Err(KeError::AeadCount { count: ids.len() });
                }
                let chosen = Aead::from_id(ids[0])
                    .filter(|a| offer.contains(a))
                    .ok_or(KeError::AeadNotOffered { id: ids[0] })?;
                aead = Some(chosen);
            }
            NEW_COOKIE => {
                if r.body.is_empty() || r.body.len() > MAX_COOKIE_LEN {
                    return Err(KeError::CookieLength { len: r.body.len() });
                }
                cookies_sent += 1;
                if cookies.len() < MAX_COOKIES {
                    cookies.push(r.body.to_vec());
                }
            }
            NTP_SERVER => {
                if server.is_some() {
                    return Err(dup());
                }
                let ok = !r.body.is_empty()
                    && r.body.len() < 256
                    && r.body.iter().all(|b| b.is_ascii_graphic());
                let name = String::from_utf8_lossy(r.body).into_owned();
                if !ok {
                    return Err(KeError::ServerName { name });
                }
                server = Some(name);
            }
            NTP_PORT => {
                if port.is_some() {
                    return Err(dup());
                }
                let p = one_u16(NTP_PORT, r.body)?;
                if p == 0 {
                    return Err(KeError::ZeroPort);
                }
                port = Some(p);
            }
            COMPLIANT_128GCM_EXPORT => {
                if !r.body.is_empty() {
                    return Err(KeError::BodyLength {
                        record_type: COMPLIANT_128GCM_EXPORT,
                        len: r.body.len(),
                    });
                }
                compliant = true;
            }
            t => {
                if r.critical {
                    return Err(KeError::UnrecognizedCritical { record_type: t });
                }
            }
        }
    }
    if at < bytes.len() {
        return Err(KeError::TrailingBytes {
            extra: bytes.len() - at,
        });
    }
    if next_protocol.is_none() {
        return Err(KeError::MissingNextProtocol);
    }
    let aead = aead.ok_or(KeError::MissingAead)?;
    if cookies.is_empty() {
        return Err(KeError::NoCookies);
    }
    Ok(KeResponse {
        aead,
        compliant_128gcm: compliant && aead == Aead::AesGcmSiv128,
        cookies,
        cookies_sent,
        server,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: [Aead; 2] = [Aead::AesGcmSiv128, Aead::AesSivCmac256];

    fn rec(out: &mut Vec<u8>, critical: bool, t: u16, body: &[u8]) {
        encode_record(out, critical, t, body);
    }

    /// A response like chrony 4.3's: next protocol, AEAD 30, port, 8 cookies, end.
    fn chrony_like() -> Vec<u8> {
        let mut m = Vec::new();
        rec(&mut m, true, NEXT_PROTOCOL, &[0, 0]);
        rec(&mut m, true, AEAD_ALGORITHM, &[0, 30]);
        rec(&mut m, true, NTP_PORT, &11123u16.to_be_bytes());
        for i in 0..8u8 {
            rec(&mut m, false, NEW_COOKIE, &[i; 100]);
        }
        rec(&mut m, true, END_OF_MESSAGE, &[]);
        m
    }

    #[test]
    fn request_layout() {
        assert_eq!(
            client_request(&[Aead::AesSivCmac256]),
            vec![0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 2, 0, 15, 0x80, 0, 0, 0]
        );
        let r = client_request(&OFFER);
        assert_eq!(
            r,
            vec![0x80, 1, 0, 2, 0, 0, 0x80, 4, 0, 4, 0, 30, 0, 15, 0x04, 0x00, 0, 0, 0x80, 0, 0, 0]
        );
        assert_eq!(message_length(&r), Ok(Some(r.len())));
    }

    #[test]
    fn accepts_a_chrony_like_response() {
        let m = chrony_like();
        let r = parse_response(&m, &OFFER).unwrap();
        assert_eq!(r.aead, Aead::AesGcmSiv128);
        assert!(!r.compliant_128gcm);
        assert_eq!(r.cookies.len(), 8);
        assert_eq!(r.cookies[3], vec![3; 100]);
        assert_eq!(r.port, Some(11123));
        assert_eq!(r.server, None);
        assert!(
            !format!("{r:?}").contains("3, 3, 3"),
            "cookies are not printed"
        );
        assert_eq!(message_length(&m), Ok(Some(m.len())));
        for cut in 0..m.len() {
            assert_eq!(message_length(&m[..cut]), Ok(None), "cut at {cut}");
            assert!(parse_response(&m[..cut], &OFFER).is_err());
        }
    }

    #[test]
    fn optional_records() {
        let mut m = Vec::new();
        rec(&mut m, true, NEXT_PROTOCOL, &[0, 0]);
        rec(&mut m, false, AEAD_ALGORITHM, &[0, 30]);
        rec(&mut m, false, COMPLIANT_128GCM_EXPORT, &[]);
        rec(&mut m, true, NTP_SERVER, b"ntp.example");
        rec(&mut m, false, 0x1234, b"ignored, not critical");
        for _ in 0..10 {
            rec(&mut m, false, NEW_COOKIE, &[1; 64]);
        }
        rec(&mut m, true, END_OF_MESSAGE, &[]);
        let r = parse_response(&m, &OFFER).unwrap();
        assert!(r.compliant_128gcm);
        assert_eq!(r.server.as_deref(), Some("ntp.example"));
        assert_eq!(r.port, None);
        assert_eq!(r.cookies.len(), MAX_COOKIES);
        assert_eq!(r.cookies_sent, 10);
    }

    /// Builds a response from `records`, then checks it fails with `expected`.
    fn refused(records: &[(bool, u16, &[u8])], expected: KeError) {
        let mut m = Vec::new();
        for (c, t, b) in records {
            rec(&mut m, *c, *t, b);
        }
        assert_eq!(parse_response(&m, &OFFER), Err(expected), "{records:?}");
    }

    const NP: (bool, u16, &[u8]) = (true, NEXT_PROTOCOL, &[0, 0]);
    const AE: (bool, u16, &[u8]) = (true, AEAD_ALGORITHM, &[0, 15]);
    const CK: (bool, u16, &[u8]) = (false, NEW_COOKIE, &[9; 72]);
    const EOM: (bool, u16, &[u8]) = (true, END_OF_MESSAGE, &[]);

    #[test]
    fn one_error_per_rule() {
        refused(
            &[NP, (true, ERROR, &[0, 1]), EOM],
            KeError::ServerError { code: 1 },
        );
        refused(
            &[NP, AE, (true, WARNING, &[0, 7]), CK, EOM],
            KeError::ServerWarning { code: 7 },
        );
        refused(
            &[NP, AE, (true, 0x2222, &[]), CK, EOM],
            KeError::UnrecognizedCritical {
                record_type: 0x2222,
            },
        );
        refused(
            &[(false, NEXT_PROTOCOL, &[0, 0]), AE, CK, EOM],
            KeError::NotCritical {
                record_type: NEXT_PROTOCOL,
            },
        );
        refused(
            &[NP, AE, CK, (false, END_OF_MESSAGE, &[])],
            KeError::NotCritical {
                record_type: END_OF_MESSAGE,
            },
        );
        refused(
            &[NP, AE, CK, (true, END_OF_MESSAGE, &[0])],
            KeError::BodyLength {
                record_type: END_OF_MESSAGE,
                len: 1,
            },
        );
        refused(
            &[(true, NEXT_PROTOCOL, &[0]), AE, CK, EOM],
            KeError::BodyLength {
                record_type: NEXT_PROTOCOL,
                len: 1,
            },
        );
        refused(
            &[NP, NP, AE, CK, EOM],
            KeError::Duplicate {
                record_type: NEXT_PROTOCOL,
            },
        );
        refused(
            &[(true, NEXT_PROTOCOL, &[0x80, 1]), AE, CK, EOM],
            KeError::NextProtocol {
                protocols: vec![0x8001],
            },
        );
        refused(
            &[(true, NEXT_PROTOCOL, &[]), AE, CK, EOM],
            KeError::NextProtocol { protocols: vec![] },
        );
        refused(&[AE, CK, EOM], KeError::MissingNextProtocol);
        refused(&[NP, CK, EOM], KeError::MissingAead);
        refused(
            &[NP, (true, AEAD_ALGORITHM, &[0, 15, 0, 30]), CK, EOM],
            KeError::AeadCount { count: 2 },
        );
        refused(
            &[NP, (true, AEAD_ALGORITHM, &[]), CK, EOM],
            KeError::NoCommonAead,
        );
        refused(
            &[NP, (true, AEAD_ALGORITHM, &[0, 17]), CK, EOM],
            KeError::AeadNotOffered { id: 17 },
        );
        refused(
            &[NP, AE, AE, CK, EOM],
            KeError::Duplicate {
                record_type: AEAD_ALGORITHM,
            },
        );
        refused(&[NP, AE, EOM], KeError::NoCookies);
        refused(
            &[NP, AE, (false, NEW_COOKIE, &[]), EOM],
            KeError::CookieLength { len: 0 },
        );
        refused(
            &[NP, AE, (false, NEW_COOKIE, &[1; 257]), EOM],
            KeError::CookieLength { len: 257 },
        );
        refused(
            &[NP, AE, CK, (true, NTP_SERVER, b"bad name"), EOM],
            KeError::ServerName {
                name: "bad name".into(),
            },
        );
        refused(
            &[NP, AE, CK, (true, NTP_SERVER, b""), EOM],
            KeError::ServerName { name: "".into() },
        );
        refused(
            &[NP, AE, CK, (true, NTP_PORT, &[0, 0]), EOM],
            KeError::ZeroPort,
        );
        refused(
            &[NP, AE, CK, (true, NTP_PORT, &[0, 1, 2]), EOM],
            KeError::BodyLength {
                record_type: NTP_PORT,
                len: 3,
            },
        );
        refused(
            &[NP, AE, CK, (false, COMPLIANT_128GCM_EXPORT, &[1]), EOM],
            KeError::BodyLength {
                record_type: COMPLIANT_128GCM_EXPORT,
                len: 1,
            },
        );
        refused(&[NP, AE, CK], KeError::Incomplete { len: 6 + 6 + 76 });
        refused(&[NP, AE, CK, EOM, NP], KeError::TrailingBytes { extra: 6 });
        // Only offered algorithms are accepted: an offer of SIV alone refuses GCM-SIV.
        let mut m = Vec::new();
        for (c, t, b) in [NP, (true, AEAD_ALGORITHM, &[0u8, 30][..]), CK, EOM] {
            rec(&mut m, c, t, b);
        }
        assert_eq!(
            parse_response(&m, &[Aead::AesSivCmac256]),
            Err(KeError::AeadNotOffered { id: 30 })
        );
        // The compliant record means nothing for SIV.
        let mut m = Vec::new();
        for (c, t, b) in [NP, AE, (false, COMPLIANT_128GCM_EXPORT, &[][..]), CK, EOM] {
            rec(&mut m, c, t, b);
        }
        assert!(!parse_response(&m, &OFFER).unwrap().compliant_128gcm);
    }

    #[test]
    fn long_garbage_is_refused() {
        // One enormous unfinished record: the reader gives up past the limit.
        let mut m = vec![0x00, 0x09, 0xff, 0xff];
        m.resize(MAX_MESSAGE_LEN + 1, 0);
        assert_eq!(message_length(&m), Err(KeError::TooLong));
    }

    proptest::proptest! {
        /// Random bytes and single-byte changes to a good response never panic; whatever
        /// is accepted is one whole message with an offered algorithm and 1 to 8 cookies.
        #[test]
        fn never_panics_and_accepts_only_whole_messages(
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            at in 0usize..2000,
            x in 1u8..=255,
        ) {
            let _ = parse_response(&junk, &OFFER);
            let _ = message_length(&junk);
            let mut m = chrony_like();
            let i = at % m.len();
            m[i] ^= x;
            if let Ok(r) = parse_response(&m, &OFFER) {
                proptest::prop_assert_eq!(message_length(&m), Ok(Some(m.len())));
                proptest::prop_assert!(OFFER.contains(&r.aead));
                proptest::prop_assert!(!r.cookies.is_empty() && r.cookies.len() <= MAX_COOKIES);
            }
        }
    }

    #[test]
    fn record_round_trip() {
        let mut m = Vec::new();
        encode_record(&mut m, true, 0x7fff, b"abc");
        let (r, len) = decode_record(&m).unwrap();
        assert_eq!(len, 7);
        assert!(r.critical);
        assert_eq!(r.record_type, 0x7fff);
        assert_eq!(r.body, b"abc");
        assert_eq!(decode_record(&m[..6]), None);
        assert_eq!(decode_record(&[0x80]), None);
        assert_eq!(record_name(4), "AEAD Algorithm");
        assert_eq!(error_name(0), "Unrecognized Critical Record");
    }
}
