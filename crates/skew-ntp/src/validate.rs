//! Strict validation of a reply against the request it answers.
//!
//! Each rule has its own error. Two kinds of rejection are distinguished:
//!
//! * [`DropReason`]: the datagram is not (provably) the answer to our request: wrong
//!   source, too short to check, wrong origin, wrong mode or version. It is dropped and
//!   counted, and the exchange **keeps waiting** for the real reply until its timeout: a
//!   forged or stray packet must not end an exchange.
//! * [`InvalidReply`]: the server answered our request (the origin matches our nonce) with
//!   something unusable: no transmit timestamp, T3 before T2, a root distance ≥ 16 s...
//!   The exchange ends as `invalid`.
//!
//! A stratum-0 reply is a Kiss-o'-Death ([`Verdict::Kiss`]); LI = 3 or stratum ≥ 16 yields
//! a measurement flagged unsynchronized, with every field still available.

use crate::bounds::BoundParams;
use crate::exchange::Sample;
use crate::packet::{KissCode, Leap, Packet, MODE_SERVER};
use crate::timestamp::{precision_to_ns, NtpShort, NtpTimestamp};
use skew_time::ppm_of_ns;
use std::net::SocketAddr;

/// Root distance at or above which a reply is invalid (RFC 5905 MAXDIST is 1.5 s; NTP
/// treats 16 s as "infinity"), in ns.
pub const MAX_ROOT_DISTANCE_NS: i64 = 16_000_000_000;
/// Stratum from which a server counts as unsynchronized.
pub const MAX_STRATUM: u8 = 16;

/// What the client remembers about a request it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The random 64-bit value sent in the transmit field; the reply must echo it.
    pub nonce: u64,
    /// T1: local time (Unix ns) just before the request was sent.
    pub t1_unix_ns: i64,
    /// Monotonic time (ns) just before the request was sent.
    pub sent_mono_ns: i64,
}

/// A datagram as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    /// Source address and port.
    pub from: SocketAddr,
    /// The payload.
    pub bytes: &'a [u8],
    /// T4: local time (Unix ns) of arrival (kernel or user timestamp).
    pub t4_unix_ns: i64,
    /// Monotonic time (ns) when the datagram was read.
    pub received_mono_ns: i64,
}

/// The header fields of a reply that results report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerHeader {
    /// Leap indicator.
    pub leap: Leap,
    /// Version number.
    pub version: u8,
    /// Stratum.
    pub stratum: u8,
    /// Poll exponent.
    pub poll: i8,
    /// Precision exponent (log2 s).
    pub precision: i8,
    /// Root delay.
    pub root_delay: NtpShort,
    /// Root dispersion.
    pub root_dispersion: NtpShort,
    /// Reference ID.
    pub reference_id: [u8; 4],
    /// Reference timestamp.
    pub reference_ts: NtpTimestamp,
}

impl ServerHeader {
    /// The header fields of a decoded packet.
    pub fn of(p: &Packet) -> ServerHeader {
        ServerHeader {
            leap: p.leap,
            version: p.version,
            stratum: p.stratum,
            poll: p.poll,
            precision: p.precision,
            root_delay: p.root_delay,
            root_dispersion: p.root_dispersion,
            reference_id: p.reference_id,
            reference_ts: p.reference_ts,
        }
    }

    /// The server's precision in ns (rounded up).
    pub fn precision_ns(&self) -> i64 {
        precision_to_ns(self.precision)
    }

    /// Root distance as NTP computes it for validation: root delay / 2 + root dispersion, ns.
    pub fn root_distance_ns(&self) -> i64 {
        self.root_delay.to_ns_ceil() / 2 + self.root_dispersion.to_ns_ceil()
    }

    /// Why the server counts as unsynchronized (LI = 3 or stratum ≥ 16), if it does.
    pub fn unsynchronized_reason(&self) -> Option<String> {
        if self.leap == Leap::Unsynchronized {
            Some("server reports leap indicator 3 (clock not synchronized)".into())
        } else if self.stratum >= MAX_STRATUM {
            Some(format!(
                "server reports stratum {} (unsynchronized)",
                self.stratum
            ))
        } else {
            None
        }
    }
}

/// A measurement taken from a valid reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// The four timestamps.
    pub sample: Sample,
    /// The reply's header.
    pub header: ServerHeader,
    /// Set when the server says it is not synchronized (LI = 3 or stratum ≥ 16).
    pub unsynchronized: Option<String>,
}

/// A datagram that is not (provably) the reply to our request: dropped, counted, and the
/// exchange keeps waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum DropReason {
    /// From another address or port than the one asked.
    #[error("reply from {from}, not from the server's address")]
    WrongSource {
        /// Where it came from.
        from: SocketAddr,
    },
    /// Shorter than the 48-byte header.
    #[error("truncated reply: {len} bytes, an NTP header needs 48")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
    /// The origin field does not echo our request's nonce (stray, late, replayed or forged).
    #[error("origin timestamp does not match the request (stray, late, replayed or forged reply)")]
    OriginMismatch,
    /// Not a server reply (mode 4).
    #[error("reply has mode {0}, expected 4 (server)")]
    BadMode(u8),
    /// Not version 3 or 4.
    #[error("reply has version {0}, expected 3 or 4")]
    BadVersion(u8),
    /// The request was NTS-protected and the reply is not authentic for it (forged,
    /// altered, or from a server answering without NTS).
    #[error("reply not authenticated: {0}")]
    Unauthenticated(crate::nts::packet::NtsReject),
}

impl DropReason {
    /// A short stable name for counters: `wrong_source`, `truncated`, `origin_mismatch`,
    /// `bad_mode`, `bad_version`, `unauthenticated`.
    pub fn key(&self) -> &'static str {
        match self {
            DropReason::WrongSource { .. } => "wrong_source",
            DropReason::Truncated { .. } => "truncated",
            DropReason::OriginMismatch => "origin_mismatch",
            DropReason::BadMode(_) => "bad_mode",
            DropReason::BadVersion(_) => "bad_version",
            DropReason::Unauthenticated(_) => "unauthenticated",
        }
    }
}

/// A reply that answers our request but cannot be used: the exchange ends `invalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReply {
    /// Transmit timestamp (T3) is zero.
    #[error("zero transmit timestamp")]
    ZeroTransmit,
    /// Receive timestamp (T2) is zero.
    #[error("zero receive timestamp")]
    ZeroReceive,
    /// T3 earlier than T2.
    #[error("transmit timestamp is {by_ns} ns before the receive timestamp")]
    TransmitBeforeReceive {
        /// How much earlier, ns.
        by_ns: i64,
    },
    /// The server's processing time exceeds the round trip: δ < 0 beyond the precisions.
    #[error("negative round-trip delay ({delay_ns} ns): server time ran faster than ours")]
    NegativeDelay {
        /// The delay computed.
        delay_ns: i64,
    },
    /// The local time-of-day clock moved against the monotonic clock during the exchange.
    #[error("local clock stepped during the exchange (T4 − T1 = {local_span_ns} ns, monotonic {mono_span_ns} ns)")]
    LocalClockStepped {
        /// T4 − T1 on the time-of-day clock.
        local_span_ns: i64,
        /// The same span on the monotonic clock.
        mono_span_ns: i64,
    },
    /// Root delay / 2 + root dispersion ≥ 16 s.
    #[error("root distance {distance_ns} ns is at or above 16 s")]
    RootDistance {
        /// The root distance.
        distance_ns: i64,
    },
}

impl InvalidReply {
    /// A short stable name: `zero_transmit`, `zero_receive`, `transmit_before_receive`,
    /// `negative_delay`, `local_clock_stepped`, `root_distance`.
    pub fn key(&self) -> &'static str {
        match self {
            InvalidReply::ZeroTransmit => "zero_transmit",
            InvalidReply::ZeroReceive => "zero_receive",
            InvalidReply::TransmitBeforeReceive { .. } => "transmit_before_receive",
            InvalidReply::NegativeDelay { .. } => "negative_delay",
            InvalidReply::LocalClockStepped { .. } => "local_clock_stepped",
            InvalidReply::RootDistance { .. } => "root_distance",
        }
    }
}

/// The judgement on one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A usable measurement (possibly flagged unsynchronized).
    Measured(Measurement),
    /// A Kiss-o'-Death answering our request.
    Kiss(KissCode, ServerHeader),
    /// Our request was answered with an unusable reply; the exchange ends.
    Invalid(InvalidReply, ServerHeader),
    /// Not our reply: dropped and counted; keep waiting.
    Dropped(DropReason),
}

/// Slack allowed between the time-of-day and monotonic spans of an exchange before the
/// local clock counts as stepped: 1 ms + 1000 ppm.
fn step_slack_ns(mono_span_ns: i64) -> i64 {
    1_000_000 + ppm_of_ns(mono_span_ns, 1000.0)
}

/// Judges one datagram against the request it may answer.
///
/// `expected` is the address the request went to; `bounds` supplies the local precision
/// used to tolerate tiny negative delays.
pub fn validate_reply(
    expected: SocketAddr,
    request: &Request,
    arrival: &Arrival<'_>,
    bounds: &BoundParams,
) -> Verdict {
    if arrival.from != expected {
        return Verdict::Dropped(DropReason::WrongSource { from: arrival.from });
    }
    let p = match Packet::decode(arrival.bytes) {
        Ok(p) => p,
        Err(_) => {
            return Verdict::Dropped(DropReason::Truncated {
                len: arrival.bytes.len(),
            })
        }
    };
    if p.origin_ts != NtpTimestamp(request.nonce) {
        return Verdict::Dropped(DropReason::OriginMismatch);
    }
    if p.mode != MODE_SERVER {
        return Verdict::Dropped(DropReason::BadMode(p.mode));
    }
    if p.version != 3 && p.version != 4 {
        return Verdict::Dropped(DropReason::BadVersion(p.version));
    }
    let header = ServerHeader::of(&p);
    if let Some(code) = p.kiss_code() {
        return Verdict::Kiss(code, header);
    }
    if p.transmit_ts.is_zero() {
        return Verdict::Invalid(InvalidReply::ZeroTransmit, header);
    }
    if p.receive_ts.is_zero() {
        return Verdict::Invalid(InvalidReply::ZeroReceive, header);
    }
    let sample = Sample {
        t1_ns: request.t1_unix_ns,
        t2_ns: p.receive_ts.to_unix_ns(request.t1_unix_ns),
        t3_ns: p.transmit_ts.to_unix_ns(request.t1_unix_ns),
        t4_ns: arrival.t4_unix_ns,
    };
    if sample.t3_ns < sample.t2_ns {
        let by_ns = sample.t2_ns.saturating_sub(sample.t3_ns);
        return Verdict::Invalid(InvalidReply::TransmitBeforeReceive { by_ns }, header);
    }
    let local_span_ns = sample.local_span_ns();
    let mono_span_ns = arrival
        .received_mono_ns
        .saturating_sub(request.sent_mono_ns);
    if local_span_ns < 0 || local_span_ns > mono_span_ns.saturating_add(step_slack_ns(mono_span_ns))
    {
        return Verdict::Invalid(
            InvalidReply::LocalClockStepped {
                local_span_ns,
                mono_span_ns,
            },
            header,
        );
    }
    let delay_ns = sample.delay_ns();
    let tolerance = bounds
        .local_precision_ns
        .max(0)
        .saturating_add(header.precision_ns())
        .saturating_add(1);
    if delay_ns < -tolerance {
        return Verdict::Invalid(InvalidReply::NegativeDelay { delay_ns }, header);
    }
    let unsynchronized = header.unsynchronized_reason();
    if unsynchronized.is_none() && header.root_distance_ns() >= MAX_ROOT_DISTANCE_NS {
        return Verdict::Invalid(
            InvalidReply::RootDistance {
                distance_ns: header.root_distance_ns(),
            },
            header,
        );
    }
    Verdict::Measured(Measurement {
        sample,
        header,
        unsynchronized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1: i64 = 1_795_000_000_000_000_000;
    const NONCE: u64 = 0x1234_5678_9abc_def0;

    fn server() -> SocketAddr {
        "127.0.0.1:11123".parse().unwrap()
    }

    fn good_reply() -> Packet {
        Packet {
            leap: Leap::None,
            version: 4,
            mode: MODE_SERVER,
            stratum: 2,
            poll: 6,
            precision: -20,
            root_delay: NtpShort::from_ns_ceil(1_000_000),
            root_dispersion: NtpShort::from_ns_ceil(2_000_000),
            reference_id: [127, 0, 0, 1],
            reference_ts: NtpTimestamp::from_unix_ns(T1 - 60_000_000_000),
            origin_ts: NtpTimestamp(NONCE),
            receive_ts: NtpTimestamp::from_unix_ns(T1 + 10_000),
            transmit_ts: NtpTimestamp::from_unix_ns(T1 + 12_000),
        }
    }

    fn judge_from(p: &Packet, from: SocketAddr, len: usize) -> Verdict {
        let bytes = p.encode();
        let req = Request {
            nonce: NONCE,
            t1_unix_ns: T1,
            sent_mono_ns: 5_000,
        };
        let arr = Arrival {
            from,
            bytes: &bytes[..len],
            t4_unix_ns: T1 + 22_000,
            received_mono_ns: 5_000 + 23_000,
        };
        validate_reply(server(), &req, &arr, &BoundParams::default())
    }

    fn judge(p: &Packet) -> Verdict {
        judge_from(p, server(), 48)
    }

    #[test]
    fn good_reply_measures() {
        match judge(&good_reply()) {
            Verdict::Measured(m) => {
                assert_eq!(m.sample.offset_ns(), 0);
                assert_eq!(m.sample.delay_ns(), 20_000);
                assert_eq!(m.unsynchronized, None);
                assert_eq!(m.header.stratum, 2);
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn each_rule_has_its_own_error() {
        // Source address and port.
        let other_port: SocketAddr = "127.0.0.1:11124".parse().unwrap();
        let other_ip: SocketAddr = "127.0.0.2:11123".parse().unwrap();
        assert_eq!(
            judge_from(&good_reply(), other_port, 48),
            Verdict::Dropped(DropReason::WrongSource { from: other_port })
        );
        assert_eq!(
            judge_from(&good_reply(), other_ip, 48),
            Verdict::Dropped(DropReason::WrongSource { from: other_ip })
        );
        // Length.
        assert_eq!(
            judge_from(&good_reply(), server(), 40),
            Verdict::Dropped(DropReason::Truncated { len: 40 })
        );
        // Origin.
        let mut p = good_reply();
        p.origin_ts = NtpTimestamp(NONCE ^ 1);
        assert_eq!(judge(&p), Verdict::Dropped(DropReason::OriginMismatch));
        // Mode.
        let mut p = good_reply();
        p.mode = 3;
        assert_eq!(judge(&p), Verdict::Dropped(DropReason::BadMode(3)));
        // Version.
        for v in [0, 1, 2, 5, 7] {
            let mut p = good_reply();
            p.version = v;
            assert_eq!(judge(&p), Verdict::Dropped(DropReason::BadVersion(v)));
        }
        let mut p = good_reply();
        p.version = 3;
        assert!(matches!(judge(&p), Verdict::Measured(_)));
        // Kiss-o'-Death.
        let mut p = good_reply();
        p.stratum = 0;
        p.reference_id = *b"RATE";
        assert!(matches!(judge(&p), Verdict::Kiss(KissCode::Rate, _)));
        // Zero transmit.
        let mut p = good_reply();
        p.transmit_ts = NtpTimestamp::ZERO;
        assert!(matches!(
            judge(&p),
            Verdict::Invalid(InvalidReply::ZeroTransmit, _)
        ));
        // Zero receive.
        let mut p = good_reply();
        p.receive_ts = NtpTimestamp::ZERO;
        assert!(matches!(
            judge(&p),
            Verdict::Invalid(InvalidReply::ZeroReceive, _)
        ));
        // T3 before T2.
        let mut p = good_reply();
        p.transmit_ts = NtpTimestamp::from_unix_ns(T1 + 9_000);
        assert!(matches!(
            judge(&p),
            Verdict::Invalid(InvalidReply::TransmitBeforeReceive { by_ns: 1_000 }, _)
        ));
        // Root distance.
        let mut p = good_reply();
        p.root_dispersion = NtpShort(16 << 16);
        assert!(matches!(
            judge(&p),
            Verdict::Invalid(InvalidReply::RootDistance { .. }, _)
        ));
        // Negative delay: server claims 1 ms of processing within a 22 µs round trip.
        let mut p = good_reply();
        p.transmit_ts = NtpTimestamp::from_unix_ns(T1 + 1_010_000);
        assert!(matches!(
            judge(&p),
            Verdict::Invalid(InvalidReply::NegativeDelay { .. }, _)
        ));
        // Unsynchronized: LI = 3, or stratum 16, still measured.
        let mut p = good_reply();
        p.leap = Leap::Unsynchronized;
        p.root_dispersion = NtpShort(u32::MAX);
        match judge(&p) {
            Verdict::Measured(m) => assert!(m.unsynchronized.unwrap().contains("leap indicator 3")),
            v => panic!("{v:?}"),
        }
        let mut p = good_reply();
        p.stratum = 16;
        match judge(&p) {
            Verdict::Measured(m) => assert!(m.unsynchronized.unwrap().contains("stratum 16")),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn local_step_during_exchange_is_invalid() {
        let p = good_reply();
        let bytes = p.encode();
        let req = Request {
            nonce: NONCE,
            t1_unix_ns: T1,
            sent_mono_ns: 0,
        };
        // Time of day jumped 2 s forward while only 23 µs passed.
        let arr = Arrival {
            from: server(),
            bytes: &bytes,
            t4_unix_ns: T1 + 2_000_000_000,
            received_mono_ns: 23_000,
        };
        assert!(matches!(
            validate_reply(server(), &req, &arr, &BoundParams::default()),
            Verdict::Invalid(InvalidReply::LocalClockStepped { .. }, _)
        ));
        // And backwards.
        let arr = Arrival {
            from: server(),
            bytes: &bytes,
            t4_unix_ns: T1 - 1_000_000_000,
            received_mono_ns: 23_000,
        };
        assert!(matches!(
            validate_reply(server(), &req, &arr, &BoundParams::default()),
            Verdict::Invalid(InvalidReply::LocalClockStepped { .. }, _)
        ));
    }

    #[test]
    fn extreme_local_precision_does_not_overflow() {
        // Found by cargo-fuzz (ntp_validate): a local precision of i64::MAX overflowed the
        // negative-delay tolerance (precision + server precision + 1).
        let bytes = good_reply().encode();
        let req = Request {
            nonce: NONCE,
            t1_unix_ns: T1,
            sent_mono_ns: 5_000,
        };
        let arr = Arrival {
            from: server(),
            bytes: &bytes,
            t4_unix_ns: T1 + 22_000,
            received_mono_ns: 28_000,
        };
        let params = BoundParams {
            local_precision_ns: i64::MAX,
            ..BoundParams::default()
        };
        assert!(matches!(
            validate_reply(server(), &req, &arr, &params),
            Verdict::Measured(_)
        ));
    }

    #[test]
    fn error_texts_are_specific() {
        assert!(DropReason::Truncated { len: 12 }
            .to_string()
            .contains("12 bytes"));
        assert!(DropReason::BadMode(3).to_string().contains("mode 3"));
        assert!(InvalidReply::ZeroTransmit
            .to_string()
            .contains("zero transmit"));
        assert_eq!(
            InvalidReply::RootDistance { distance_ns: 1 }.key(),
            "root_distance"
        );
    }

    /// One change to a good reply, and the verdict it must get.
    #[derive(Debug, Clone)]
    enum Mutation {
        Truncate(usize),
        Extend(Vec<u8>),
        Source(SocketAddr),
        Origin(u64),
        Mode(u8),
        Version(u8),
        Stratum(u8),
        Leap(u8),
        RootDelay(u32),
        RootDispersion(u32),
        /// Harmless fields: poll, precision exponent in a range that keeps the delay
        /// positive, reference ID, reference timestamp.
        Harmless(i8, i8, [u8; 4], u64),
        ZeroReceive,
        ZeroTransmit,
        /// T2 later than T3 by this many ns.
        ReceiveAfterTransmit(i64),
        /// The server claims this much processing time (more than the 22 µs round trip).
        Processing(i64),
        /// T4 moved by this many ns on the time-of-day clock only (a local step).
        LocalStep(i64),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (0usize..48).prop_map(Mutation::Truncate),
            proptest::collection::vec(any::<u8>(), 1..200).prop_map(Mutation::Extend),
            prop_oneof![
                (1u16..=u16::MAX)
                    .prop_filter("other port", |p| *p != 11123)
                    .prop_map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
                any::<[u8; 4]>()
                    .prop_filter("other address", |a| *a != [127, 0, 0, 1])
                    .prop_map(|a| SocketAddr::from((a, 11123))),
                any::<[u8; 16]>().prop_map(|a| SocketAddr::from((a, 11123))),
            ]
            .prop_map(Mutation::Source),
            any::<u64>()
                .prop_filter("not the nonce", |o| *o != NONCE)
                .prop_map(Mutation::Origin),
            (0u8..8).prop_map(Mutation::Mode),
            (0u8..8).prop_map(Mutation::Version),
            any::<u8>().prop_map(Mutation::Stratum),
            (0u8..4).prop_map(Mutation::Leap),
            any::<u32>().prop_map(Mutation::RootDelay),
            any::<u32>().prop_map(Mutation::RootDispersion),
            (any::<i8>(), -40i8..=-16, any::<[u8; 4]>(), any::<u64>())
                .prop_map(|(a, b, c, d)| Mutation::Harmless(a, b, c, d)),
            Just(Mutation::ZeroReceive),
            Just(Mutation::ZeroTransmit),
            (1i64..1_000_000_000_000).prop_map(Mutation::ReceiveAfterTransmit),
            (23_000i64..1_000_000_000_000).prop_map(Mutation::Processing),
            prop_oneof![
                -1_000_000_000_000i64..-23_000,
                1_100_000i64..1_000_000_000_000
            ]
            .prop_map(Mutation::LocalStep),
        ]
    }

    proptest::proptest! {
        /// A good reply with one thing changed gets the verdict of the rule about that
        /// thing, and no other: a drop names its reason (and keeps the exchange waiting),
        /// an invalid reply names what is wrong, a harmless change still measures.
        #[test]
        fn each_mutation_gets_its_own_verdict(m in mutation()) {
            let good = good_reply();
            let mut p = good;
            let mut from = server();
            let mut bytes = p.encode().to_vec();
            let mut t4 = T1 + 22_000;
            match &m {
                Mutation::Truncate(n) => bytes.truncate(*n),
                Mutation::Extend(extra) => bytes.extend_from_slice(extra),
                Mutation::Source(a) => from = *a,
                Mutation::Origin(o) => p.origin_ts = NtpTimestamp(*o),
                Mutation::Mode(x) => p.mode = *x,
                Mutation::Version(x) => p.version = *x,
                Mutation::Stratum(x) => p.stratum = *x,
                Mutation::Leap(x) => p.leap = Leap::from_bits(*x),
                Mutation::RootDelay(x) => p.root_delay = NtpShort(*x),
                Mutation::RootDispersion(x) => p.root_dispersion = NtpShort(*x),
                Mutation::Harmless(poll, prec, refid, reference) => {
                    p.poll = *poll;
                    p.precision = *prec;
                    p.reference_id = *refid;
                    p.reference_ts = NtpTimestamp(*reference);
                }
                Mutation::ZeroReceive => p.receive_ts = NtpTimestamp::ZERO,
                Mutation::ZeroTransmit => p.transmit_ts = NtpTimestamp::ZERO,
                Mutation::ReceiveAfterTransmit(by) => {
                    p.receive_ts = NtpTimestamp::from_unix_ns(T1 + 12_000 + by);
                }
                Mutation::Processing(span) => {
                    p.transmit_ts = NtpTimestamp::from_unix_ns(T1 + 10_000 + span);
                }
                Mutation::LocalStep(by) => t4 += by,
            }
            if !matches!(m, Mutation::Truncate(_) | Mutation::Extend(_)) {
                bytes = p.encode().to_vec();
            }
            let req = Request { nonce: NONCE, t1_unix_ns: T1, sent_mono_ns: 5_000 };
            let arr = Arrival {
                from,
                bytes: &bytes,
                t4_unix_ns: t4,
                received_mono_ns: 5_000 + 23_000,
            };
            let v = validate_reply(server(), &req, &arr, &BoundParams::default());
            let header = ServerHeader::of(&p);
            let distance = header.root_distance_ns();
            let expected = match &m {
                Mutation::Truncate(n) => Verdict::Dropped(DropReason::Truncated { len: *n }),
                Mutation::Source(a) => Verdict::Dropped(DropReason::WrongSource { from: *a }),
                Mutation::Origin(_) => Verdict::Dropped(DropReason::OriginMismatch),
                Mutation::Mode(x) if *x != MODE_SERVER => Verdict::Dropped(DropReason::BadMode(*x)),
                Mutation::Version(x) if *x != 3 && *x != 4 => {
                    Verdict::Dropped(DropReason::BadVersion(*x))
                }
                Mutation::Stratum(0) => Verdict::Kiss(KissCode::from_refid(p.reference_id), header),
                Mutation::RootDelay(_) | Mutation::RootDispersion(_)
                    if distance >= MAX_ROOT_DISTANCE_NS =>
                {
                    Verdict::Invalid(InvalidReply::RootDistance { distance_ns: distance }, header)
                }
                Mutation::ZeroReceive => Verdict::Invalid(InvalidReply::ZeroReceive, header),
                Mutation::ZeroTransmit => Verdict::Invalid(InvalidReply::ZeroTransmit, header),
                Mutation::ReceiveAfterTransmit(by) => Verdict::Invalid(
                    InvalidReply::TransmitBeforeReceive { by_ns: *by },
                    header,
                ),
                Mutation::Processing(span) => Verdict::Invalid(
                    InvalidReply::NegativeDelay { delay_ns: 22_000 - span },
                    header,
                ),
                Mutation::LocalStep(by) => Verdict::Invalid(
                    InvalidReply::LocalClockStepped {
                        local_span_ns: 22_000 + by,
                        mono_span_ns: 23_000,
                    },
                    header,
                ),
                _ => {
                    let unsynchronized = match (p.leap, p.stratum) {
                        (Leap::Unsynchronized, _) => {
                            Some("server reports leap indicator 3 (clock not synchronized)".to_string())
                        }
                        (_, s) if s >= MAX_STRATUM => {
                            Some(format!("server reports stratum {s} (unsynchronized)"))
                        }
                        _ => None,
                    };
                    Verdict::Measured(Measurement {
                        sample: Sample {
                            t1_ns: T1,
                            t2_ns: T1 + 10_000,
                            t3_ns: T1 + 12_000,
                            t4_ns: T1 + 22_000,
                        },
                        header,
                        unsynchronized,
                    })
                }
            };
            proptest::prop_assert_eq!(v, expected, "{:?}", m);
        }

        /// Arbitrary bytes from the server's address: the first rule broken, in the
        /// documented order (length, origin, mode, version), decides; never a panic.
        #[test]
        fn arbitrary_bytes_are_judged_in_rule_order(
            mut bytes in proptest::collection::vec(any::<u8>(), 0..120),
            echo in any::<bool>(),
            t4_ns in any::<i64>(),
            mono_ns in any::<i64>(),
        ) {
            if echo && bytes.len() >= 32 {
                bytes[24..32].copy_from_slice(&NONCE.to_be_bytes());
            }
            let req = Request { nonce: NONCE, t1_unix_ns: T1, sent_mono_ns: 5_000 };
            let arr = Arrival { from: server(), bytes: &bytes, t4_unix_ns: t4_ns, received_mono_ns: mono_ns };
            let v = validate_reply(server(), &req, &arr, &BoundParams::default());
            if bytes.len() < 48 {
                proptest::prop_assert_eq!(v, Verdict::Dropped(DropReason::Truncated { len: bytes.len() }));
                return Ok(());
            }
            let p = Packet::decode(&bytes).unwrap();
            if p.origin_ts.0 != NONCE {
                proptest::prop_assert_eq!(v, Verdict::Dropped(DropReason::OriginMismatch));
            } else if p.mode != MODE_SERVER {
                proptest::prop_assert_eq!(v, Verdict::Dropped(DropReason::BadMode(p.mode)));
            } else if p.version != 3 && p.version != 4 {
                proptest::prop_assert_eq!(v, Verdict::Dropped(DropReason::BadVersion(p.version)));
            } else if p.stratum == 0 {
                proptest::prop_assert!(matches!(v, Verdict::Kiss(..)), "{:?}", v);
            } else {
                proptest::prop_assert!(matches!(v, Verdict::Measured(_) | Verdict::Invalid(..)), "{:?}", v);
            }
        }
    }
}
