//! The fault-injecting NTP server, without IO.
//!
//! The IO edge hands every request to [`FaultServer::on_request`] with its receive time
//! (the kernel's timestamp, local Unix ns) and gets a [`Decision`]: ignore it, lose it, or
//! send up to three datagrams, each after its own delay. When a datagram's time comes the
//! edge reads the local clock as late as it can and calls [`FaultServer::render`], which
//! writes the bytes with T3 taken from that reading. So T2 and T3 are both what the served
//! clock read at the true receive and transmit instants.
//!
//! Per request the random generator is drawn exactly five times whatever the faults, so a
//! run with the same `--seed` and the same requests repeats its choices.

use crate::rng::{Probability, SplitMix64};
use crate::served::ServedClock;
use skew_ntp::packet::{Leap, Packet, HEADER_LEN, MODE_CLIENT};
use skew_ntp::timestamp::{NtpShort, NtpTimestamp};
use skew_time::NANOS_PER_SEC;

/// Interval at which the served clock claims to have been updated: the reference
/// timestamp is the served time at the last multiple of this since the start, ns.
pub const REFERENCE_UPDATE_NS: i64 = 16 * NANOS_PER_SEC;
/// How far a forged (`--wrong-origin`) reply's timestamps are moved, ns: one hour, so
/// that a client that accepted it would show it plainly.
pub const FORGED_SHIFT_NS: i64 = 3600 * NANOS_PER_SEC;
/// Length of a `--garbage` datagram.
pub const GARBAGE_LEN: usize = HEADER_LEN;

/// The header the server puts in every reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderConfig {
    /// Leap indicator (`--leap`).
    pub leap: Leap,
    /// Stratum (`--stratum`).
    pub stratum: u8,
    /// Reference ID (`--refid`).
    pub reference_id: [u8; 4],
    /// Root delay (`--root-delay`).
    pub root_delay: NtpShort,
    /// Root dispersion (`--root-dispersion`).
    pub root_dispersion: NtpShort,
    /// Precision exponent, log2 s (`--precision`).
    pub precision: i8,
    /// Version number; `None` echoes the request's (`--version`).
    pub version: Option<u8>,
    /// Mode (`--mode`; 4 = server).
    pub mode: u8,
}

impl Default for HeaderConfig {
    fn default() -> Self {
        HeaderConfig {
            leap: Leap::None,
            stratum: 1,
            reference_id: *b"SKEW",
            root_delay: NtpShort(0),
            root_dispersion: NtpShort::from_ns_ceil(100_000),
            precision: -20,
            version: None,
            mode: skew_ntp::packet::MODE_SERVER,
        }
    }
}

/// Kiss-o'-Death replies (`--kod CODE`, `--kod-every N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KodConfig {
    /// The kiss code sent as the reference ID (RATE, DENY, RSTR...).
    pub code: [u8; 4],
    /// Every `every`-th request (counted from 1) gets the KoD; 1 = every request.
    pub every: u64,
}

/// Misbehaviour beyond the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Misbehaviour {
    /// Probability that a request gets no answer at all (`--loss`).
    pub loss: Probability,
    /// Time between receiving a request and sending its reply, ns (`--hold`).
    pub hold_ns: i64,
    /// A uniform random extra hold in `0..=hold_jitter_ns` (`--hold-jitter`).
    pub hold_jitter_ns: i64,
    /// Probability that a request is answered twice (`--duplicate`).
    pub duplicate: Probability,
    /// Precede every reply with a forged copy whose origin does not match the request
    /// and whose timestamps are an hour off (`--wrong-origin`).
    pub wrong_origin: bool,
    /// Send a zero transmit timestamp (`--zero-transmit`).
    pub zero_transmit: bool,
    /// Cut replies to at most this many bytes (`--truncate`).
    pub truncate: Option<usize>,
    /// Probability that a reply is replaced by 48 random bytes (`--garbage`).
    pub garbage: Probability,
}

/// Everything `skew serve` lies about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeConfig {
    /// The served clock.
    pub clock: ServedClock,
    /// The reply header.
    pub header: HeaderConfig,
    /// Kiss-o'-Death, if any.
    pub kod: Option<KodConfig>,
    /// Misbehaviour.
    pub faults: Misbehaviour,
    /// Seed of the random choices (`--seed`).
    pub seed: u64,
}

/// Why a datagram was not treated as a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoreReason {
    /// Shorter than the 48-byte header.
    Short,
    /// Not a client request (mode ≠ 3).
    NotClient,
    /// Version outside 1..=4.
    BadVersion,
}

impl IgnoreReason {
    /// Key in the statistics: `short`, `not_client`, `bad_version`.
    pub fn key(self) -> &'static str {
        match self {
            IgnoreReason::Short => "short",
            IgnoreReason::NotClient => "not_client",
            IgnoreReason::BadVersion => "bad_version",
        }
    }
}

/// What is remembered of a request until its datagrams are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The request's transmit field, echoed as the reply's origin.
    pub origin: NtpTimestamp,
    /// The request's version.
    pub request_version: u8,
    /// The request's poll exponent.
    pub poll: i8,
    /// T2: when the request arrived, local Unix ns.
    pub t2_local_unix_ns: i64,
    /// Whether this reply is a Kiss-o'-Death.
    pub kod: bool,
}

/// Which datagram of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// The reply itself (possibly with header faults, zero transmit, truncated).
    Genuine,
    /// A second answer to the same request.
    Duplicate,
    /// A forged copy: origin XORed with `xor` (never 0), timestamps an hour off.
    WrongOrigin {
        /// What the origin is XORed with.
        xor: u64,
    },
    /// Random bytes instead of the reply.
    Garbage {
        /// Seed of the bytes.
        seed: u64,
    },
}

impl CopyKind {
    /// Key in the statistics.
    pub fn key(self) -> &'static str {
        match self {
            CopyKind::Genuine => "genuine",
            CopyKind::Duplicate => "duplicate",
            CopyKind::WrongOrigin { .. } => "wrong_origin",
            CopyKind::Garbage { .. } => "garbage",
        }
    }
}

/// One datagram to send for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Delay after the request's arrival, ns.
    pub delay_ns: i64,
    /// Which datagram.
    pub kind: CopyKind,
}

/// The datagrams to send for one request, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The request's data.
    pub reply: Reply,
    sends: [Option<Outgoing>; 3],
}

impl Plan {
    /// The datagrams, in sending order (equal delays keep this order).
    pub fn sends(&self) -> impl Iterator<Item = Outgoing> + '_ {
        self.sends.iter().flatten().copied()
    }
}

/// What to do with a datagram that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not a request: ignored (counted by reason).
    Ignore(IgnoreReason),
    /// A request, lost on purpose (`--loss`).
    Lost,
    /// A request, answered by these datagrams.
    Send(Plan),
}

/// The fault-injecting server's state: configuration, random generator, request count.
#[derive(Debug, Clone)]
pub struct FaultServer {
    config: ServeConfig,
    rng: SplitMix64,
    requests: u64,
}

impl FaultServer {
    /// A server with the given configuration.
    pub fn new(config: ServeConfig) -> Self {
        FaultServer {
            config,
            rng: SplitMix64::new(config.seed),
            requests: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// Requests accepted so far (lost ones included).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Decides what to do with a datagram that arrived at local time `t2_local_unix_ns`.
    pub fn on_request(&mut self, bytes: &[u8], t2_local_unix_ns: i64) -> Decision {
        if bytes.len() < HEADER_LEN {
            return Decision::Ignore(IgnoreReason::Short);
        }
        let mode = bytes[0] & 7;
        let version = (bytes[0] >> 3) & 7;
        if mode != MODE_CLIENT {
            return Decision::Ignore(IgnoreReason::NotClient);
        }
        if !(1..=4).contains(&version) {
            return Decision::Ignore(IgnoreReason::BadVersion);
        }
        self.requests += 1;
        let f = self.config.faults;
        // Always five draws, whatever is configured.
        let r_loss = self.rng.next_u64();
        let r_garbage = self.rng.next_u64();
        let r_dup = self.rng.next_u64();
        let r_jitter = self.rng.next_u64();
        let r_aux = self.rng.next_u64();
        if f.loss.admits(r_loss) {
            return Decision::Lost;
        }
        let transmit = u64::from_be_bytes(bytes[40..48].try_into().unwrap_or_default());
        let reply = Reply {
            origin: NtpTimestamp(transmit),
            request_version: version,
            poll: bytes[2] as i8,
            t2_local_unix_ns,
            kod: self
                .config
                .kod
                .is_some_and(|k| self.requests % k.every.max(1) == 0),
        };
        let jitter = if f.hold_jitter_ns > 0 {
            ((r_jitter as u128 * (f.hold_jitter_ns as u128 + 1)) >> 64) as i64
        } else {
            0
        };
        let hold = f.hold_ns.max(0).saturating_add(jitter);
        let mut sends = [None; 3];
        let mut n = 0;
        if f.wrong_origin {
            sends[n] = Some(Outgoing {
                delay_ns: 0,
                kind: CopyKind::WrongOrigin { xor: r_aux | 1 },
            });
            n += 1;
        }
        let main = if f.garbage.admits(r_garbage) {
            CopyKind::Garbage { seed: r_aux }
        } else {
            CopyKind::Genuine
        };
        sends[n] = Some(Outgoing {
            delay_ns: hold,
            kind: main,
        });
        n += 1;
        if f.duplicate.admits(r_dup) {
            sends[n] = Some(Outgoing {
                delay_ns: hold,
                kind: CopyKind::Duplicate,
            });
        }
        Decision::Send(Plan { reply, sends })
    }

    /// The header (all but the origin and timestamps) of a reply.
    fn packet(&self, reply: &Reply) -> Packet {
        let h = &self.config.header;
        let mut p = Packet {
            leap: h.leap,
            version: h.version.unwrap_or(reply.request_version),
            mode: h.mode,
            stratum: h.stratum,
            poll: reply.poll,
            precision: h.precision,
            root_delay: h.root_delay,
            root_dispersion: h.root_dispersion,
            reference_id: h.reference_id,
            reference_ts: NtpTimestamp::ZERO,
            origin_ts: reply.origin,
            receive_ts: NtpTimestamp::ZERO,
            transmit_ts: NtpTimestamp::ZERO,
        };
        if reply.kod {
            if let Some(k) = self.config.kod {
                p.stratum = 0;
                p.reference_id = k.code;
                p.leap = Leap::Unsynchronized;
            }
        }
        p
    }

    /// Writes the datagram `kind` of `reply` into `out`, with T3 read at local time
    /// `t3_local_unix_ns`, and returns its length (0 if `out` is too small for anything).
    pub fn render(
        &self,
        reply: &Reply,
        kind: CopyKind,
        t3_local_unix_ns: i64,
        out: &mut [u8],
    ) -> usize {
        if let CopyKind::Garbage { seed } = kind {
            let mut r = SplitMix64::new(seed);
            let n = GARBAGE_LEN.min(out.len());
            for chunk in out[..n].chunks_mut(8) {
                let b = r.next_u64().to_be_bytes();
                chunk.copy_from_slice(&b[..chunk.len()]);
            }
            return n;
        }
        let clock = &self.config.clock;
        let mut p = self.packet(reply);
        let mut t2 = clock.served_unix_ns(reply.t2_local_unix_ns);
        let mut t3 = clock.served_unix_ns(t3_local_unix_ns);
        // The reference time: the served time at the last update, never after T2.
        let since_start = reply
            .t2_local_unix_ns
            .saturating_sub(clock.start_unix_ns)
            .max(0);
        let mut reference = t2.saturating_sub(since_start % REFERENCE_UPDATE_NS);
        if let CopyKind::WrongOrigin { xor } = kind {
            p.origin_ts = NtpTimestamp(p.origin_ts.0 ^ xor);
            t2 = t2.saturating_add(FORGED_SHIFT_NS);
            t3 = t3.saturating_add(FORGED_SHIFT_NS);
            reference = reference.saturating_add(FORGED_SHIFT_NS);
        }
        p.reference_ts = NtpTimestamp::from_unix_ns(reference);
        p.receive_ts = NtpTimestamp::from_unix_ns(t2);
        p.transmit_ts = if self.config.faults.zero_transmit {
            NtpTimestamp::ZERO
        } else {
            NtpTimestamp::from_unix_ns(t3)
        };
        let bytes = p.encode();
        let mut n = bytes.len().min(out.len());
        if let Some(t) = self.config.faults.truncate {
            n = n.min(t);
        }
        out[..n].copy_from_slice(&bytes[..n]);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::served::Step;
    use skew_ntp::packet::{KissCode, MODE_SERVER};

    const T0: i64 = 1_795_000_000_000_000_000;
    const NONCE: u64 = 0x0123_4567_89ab_cdef;

    fn config() -> ServeConfig {
        ServeConfig {
            clock: ServedClock::truthful(T0),
            header: HeaderConfig::default(),
            kod: None,
            faults: Misbehaviour::default(),
            seed: 1,
        }
    }

    fn request() -> [u8; 48] {
        let mut p = Packet::client_request(NONCE);
        p.poll = 6;
        p.encode()
    }

    /// Plans and renders every datagram, each sent at T2 + its delay + 5 µs.
    fn serve(cfg: ServeConfig, req: &[u8], t2: i64) -> Vec<(CopyKind, i64, Vec<u8>)> {
        let mut s = FaultServer::new(cfg);
        match s.on_request(req, t2) {
            Decision::Send(plan) => plan
                .sends()
                .map(|o| {
                    let mut buf = [0u8; 128];
                    let n = s.render(&plan.reply, o.kind, t2 + o.delay_ns + 5_000, &mut buf);
                    (o.kind, o.delay_ns, buf[..n].to_vec())
                })
                .collect(),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn honest_reply() {
        let out = serve(config(), &request(), T0 + 1_000);
        assert_eq!(out.len(), 1);
        let (kind, delay, bytes) = &out[0];
        assert_eq!((*kind, *delay), (CopyKind::Genuine, 0));
        let p = Packet::decode(bytes).unwrap();
        assert_eq!(p.mode, MODE_SERVER);
        assert_eq!(p.version, 4);
        assert_eq!(p.stratum, 1);
        assert_eq!(p.poll, 6);
        assert_eq!(p.reference_id, *b"SKEW");
        assert_eq!(p.origin_ts, NtpTimestamp(NONCE));
        assert_eq!(p.receive_ts.to_unix_ns(T0), T0 + 1_000);
        assert_eq!(p.transmit_ts.to_unix_ns(T0), T0 + 6_000);
        assert!(p.reference_ts.to_unix_ns(T0) <= T0 + 1_000);
        assert_eq!(p.leap, Leap::None);
    }

    #[test]
    fn offsets_reach_the_wire() {
        let mut c = config();
        c.clock.offset_ns = -37_000_000;
        c.clock.step = Some(Step {
            after_ns: 1_000_000_000,
            by_ns: 2_000_000_000,
        });
        let p = Packet::decode(&serve(c, &request(), T0 + 10)[0].2).unwrap();
        assert_eq!(p.receive_ts.to_unix_ns(T0), T0 + 10 - 37_000_000);
        let p = Packet::decode(&serve(c, &request(), T0 + 2_000_000_000)[0].2).unwrap();
        assert_eq!(
            p.receive_ts.to_unix_ns(T0),
            T0 + 2_000_000_000 - 37_000_000 + 2_000_000_000
        );
        // The reference timestamp is at most 16 s old and never after T2.
        let r = p.reference_ts.to_unix_ns(T0);
        let t2 = p.receive_ts.to_unix_ns(T0);
        assert!(r <= t2 && t2 - r < REFERENCE_UPDATE_NS, "{r} {t2}");
    }

    #[test]
    fn header_faults() {
        let mut c = config();
        c.header = HeaderConfig {
            leap: Leap::Insert,
            stratum: 16,
            reference_id: [192, 0, 2, 1],
            root_delay: NtpShort(0x0001_0000),
            root_dispersion: NtpShort(0x0002_0000),
            precision: -10,
            version: Some(1),
            mode: 3,
        };
        let p = Packet::decode(&serve(c, &request(), T0)[0].2).unwrap();
        assert_eq!(p.leap, Leap::Insert);
        assert_eq!(p.stratum, 16);
        assert_eq!(p.reference_id, [192, 0, 2, 1]);
        assert_eq!(p.root_delay, NtpShort(0x0001_0000));
        assert_eq!(p.root_dispersion, NtpShort(0x0002_0000));
        assert_eq!(p.precision, -10);
        assert_eq!(p.version, 1);
        assert_eq!(p.mode, 3);
    }

    #[test]
    fn version_is_echoed() {
        let mut req = request();
        req[0] = (3 << 3) | 3;
        let p = Packet::decode(&serve(config(), &req, T0)[0].2).unwrap();
        assert_eq!(p.version, 3);
    }

    #[test]
    fn kod_schedule() {
        let mut c = config();
        c.kod = Some(KodConfig {
            code: *b"RATE",
            every: 3,
        });
        let mut s = FaultServer::new(c);
        let mut kods = vec![];
        for i in 0..9 {
            let Decision::Send(plan) = s.on_request(&request(), T0 + i) else {
                panic!()
            };
            let mut buf = [0u8; 48];
            s.render(&plan.reply, CopyKind::Genuine, T0 + i, &mut buf);
            let p = Packet::decode(&buf).unwrap();
            if p.stratum == 0 {
                assert_eq!(p.kiss_code(), Some(KissCode::Rate));
                assert_eq!(p.origin_ts, NtpTimestamp(NONCE));
                kods.push(i);
            }
        }
        assert_eq!(kods, vec![2, 5, 8]);
        c.kod = Some(KodConfig {
            code: *b"DENY",
            every: 1,
        });
        let p = Packet::decode(&serve(c, &request(), T0)[0].2).unwrap();
        assert_eq!(p.kiss_code(), Some(KissCode::Deny));
    }

    #[test]
    fn ignores_non_requests() {
        let mut s = FaultServer::new(config());
        assert_eq!(
            s.on_request(&[0u8; 47], T0),
            Decision::Ignore(IgnoreReason::Short)
        );
        let mut r = request();
        r[0] = (4 << 3) | 4;
        assert_eq!(
            s.on_request(&r, T0),
            Decision::Ignore(IgnoreReason::NotClient)
        );
        r[0] = (5 << 3) | 3;
        assert_eq!(
            s.on_request(&r, T0),
            Decision::Ignore(IgnoreReason::BadVersion)
        );
        assert_eq!(s.requests(), 0);
    }

    #[test]
    fn misbehaviour() {
        let mut c = config();
        c.faults.zero_transmit = true;
        c.faults.truncate = Some(40);
        let out = serve(c, &request(), T0);
        assert_eq!(out[0].2.len(), 40);
        c.faults.truncate = Some(100);
        let p = Packet::decode(&serve(c, &request(), T0)[0].2).unwrap();
        assert!(p.transmit_ts.is_zero());
        assert!(!p.receive_ts.is_zero());

        let mut c = config();
        c.faults.wrong_origin = true;
        c.faults.duplicate = Probability::ALWAYS;
        c.faults.hold_ns = 3_000_000;
        let out = serve(c, &request(), T0);
        let kinds: Vec<&str> = out.iter().map(|o| o.0.key()).collect();
        assert_eq!(kinds, vec!["wrong_origin", "genuine", "duplicate"]);
        assert_eq!(out[0].1, 0, "the forgery races ahead");
        assert_eq!((out[1].1, out[2].1), (3_000_000, 3_000_000));
        let forged = Packet::decode(&out[0].2).unwrap();
        assert_ne!(forged.origin_ts, NtpTimestamp(NONCE));
        assert_eq!(
            forged.receive_ts.to_unix_ns(T0) - T0,
            FORGED_SHIFT_NS,
            "forged timestamps are an hour off"
        );
        let good = Packet::decode(&out[1].2).unwrap();
        assert_eq!(good.origin_ts, NtpTimestamp(NONCE));
        // Held: T3 − T2 is the hold (plus the 5 µs of the simulated send).
        assert_eq!(
            good.transmit_ts.to_unix_ns(T0) - good.receive_ts.to_unix_ns(T0),
            3_005_000
        );

        let mut c = config();
        c.faults.garbage = Probability::ALWAYS;
        let out = serve(c, &request(), T0);
        assert!(matches!(out[0].0, CopyKind::Garbage { .. }));
        assert_eq!(out[0].2.len(), GARBAGE_LEN);

        let mut c = config();
        c.faults.loss = Probability::ALWAYS;
        assert_eq!(
            FaultServer::new(c).on_request(&request(), T0),
            Decision::Lost
        );
    }

    proptest::proptest! {
        /// The lie reaches a client exactly: on a symmetric simulated path, the offset a
        /// client computes from the rendered reply is the configured offset (to the ±1 ns of
        /// NTP timestamp rounding), whatever the path delay and processing time.
        #[test]
        fn clients_measure_the_configured_offset(
            offset_ns in -3_000_000_000_000i64..3_000_000_000_000,
            one_way_ns in 0i64..1_000_000_000,
            processing_ns in 0i64..10_000_000,
            t1 in T0..T0 + 1_000_000_000_000_000,
        ) {
            let mut c = config();
            c.clock.offset_ns = offset_ns;
            let mut s = FaultServer::new(c);
            let t2_local = t1 + one_way_ns;
            let t3_local = t2_local + processing_ns;
            let t4 = t3_local + one_way_ns;
            let Decision::Send(plan) = s.on_request(&request(), t2_local) else {
                panic!("not answered")
            };
            let mut buf = [0u8; 48];
            s.render(&plan.reply, CopyKind::Genuine, t3_local, &mut buf);
            let p = Packet::decode(&buf).unwrap();
            let sample = skew_ntp::Sample {
                t1_ns: t1,
                t2_ns: p.receive_ts.to_unix_ns(t1),
                t3_ns: p.transmit_ts.to_unix_ns(t1),
                t4_ns: t4,
            };
            proptest::prop_assert!((sample.offset_ns() - offset_ns).abs() <= 1);
            proptest::prop_assert!((sample.delay_ns() - 2 * one_way_ns).abs() <= 2);
        }
    }

    proptest::proptest! {
        /// Any datagram at the server: classified exactly as documented (short, not a
        /// client, bad version, else a request) with no panic, and every datagram it plans
        /// renders into any buffer without writing past it; a request's reply echoes its
        /// transmit field.
        #[test]
        fn any_datagram_is_classified_and_rendered_safely(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
            client in proptest::prelude::any::<bool>(),
            t2 in proptest::prelude::any::<i64>(),
            t3 in proptest::prelude::any::<i64>(),
            out_len in 0usize..64,
            wrong_origin in proptest::prelude::any::<bool>(),
            dup in proptest::prelude::any::<bool>(),
        ) {
            let mut bytes = bytes;
            if client && !bytes.is_empty() {
                bytes[0] = (bytes[0] & !7) | MODE_CLIENT;
            }
            let mut c = config();
            c.faults.wrong_origin = wrong_origin;
            c.faults.duplicate = if dup { Probability::ALWAYS } else { Probability::NEVER };
            let mut s = FaultServer::new(c);
            let d = s.on_request(&bytes, t2);
            let version = bytes.first().map(|b| (b >> 3) & 7);
            let expected_ignore = if bytes.len() < HEADER_LEN {
                Some(IgnoreReason::Short)
            } else if bytes[0] & 7 != MODE_CLIENT {
                Some(IgnoreReason::NotClient)
            } else if !(1..=4).contains(&version.unwrap_or(0)) {
                Some(IgnoreReason::BadVersion)
            } else {
                None
            };
            match (d, expected_ignore) {
                (Decision::Ignore(why), Some(exp)) => proptest::prop_assert_eq!(why, exp),
                (Decision::Send(plan), None) => {
                    let n = plan.sends().count();
                    proptest::prop_assert_eq!(n, 1 + usize::from(wrong_origin) + usize::from(dup));
                    for o in plan.sends() {
                        let mut buf = [0u8; 64];
                        let w = s.render(&plan.reply, o.kind, t3, &mut buf[..out_len]);
                        proptest::prop_assert!(w <= out_len);
                        if o.kind == CopyKind::Genuine && out_len >= 48 {
                            let p = Packet::decode(&buf[..w]).unwrap();
                            proptest::prop_assert_eq!(&p.origin_ts.0.to_be_bytes()[..], &bytes[40..48]);
                        }
                    }
                }
                (d, e) => proptest::prop_assert!(false, "{:?} for expected {:?}", d, e),
            }
        }
    }

    #[test]
    fn seeded_choices_repeat() {
        let mut c = config();
        c.faults.loss = Probability::parse("0.3").unwrap();
        c.faults.duplicate = Probability::parse("0.2").unwrap();
        c.faults.hold_jitter_ns = 1_000_000;
        c.seed = 42;
        let run = |c: ServeConfig| {
            let mut s = FaultServer::new(c);
            (0..200)
                .map(|i| s.on_request(&request(), T0 + i))
                .collect::<Vec<_>>()
        };
        let a = run(c);
        assert_eq!(a, run(c));
        let lost = a.iter().filter(|d| **d == Decision::Lost).count();
        assert!((40..80).contains(&lost), "{lost}");
        let jitters: Vec<i64> = a
            .iter()
            .filter_map(|d| match d {
                Decision::Send(p) => p.sends().next().map(|o| o.delay_ns),
                _ => None,
            })
            .collect();
        assert!(jitters.iter().all(|j| (0..=1_000_000).contains(j)));
        assert!(jitters.iter().any(|&j| j > 500_000));
        c.seed = 43;
        assert_ne!(a, run(c));
    }
}
