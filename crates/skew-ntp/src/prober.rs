//! The per-server probing state machine, without IO.
//!
//! The IO edge asks [`ServerProber::due`] whether a request should go out now, sends it with
//! a fresh random nonce and reports [`ServerProber::on_sent`]; it hands every datagram that
//! may belong to this server to [`ServerProber::on_datagram`], calls
//! [`ServerProber::on_tick`] when [`ServerProber::next_wakeup_mono_ns`] passes, and collects
//! [`ServerProber::finish`] once [`ServerProber::is_done`]. All times are plain integers, so
//! tests drive it with simulated clocks.
//!
//! Pacing: one request in flight per server; the next request leaves `interval` after the
//! previous one was sent (or when the previous exchange ends, if later). Kiss-o'-Death RATE,
//! DENY, RSTR and NTSN stop the server for the rest of the run.
//!
//! What a request carries and which replies are trusted is the server's [`Security`]
//! (plain NTP or NTS): the prober asks it for the request bytes
//! ([`ServerProber::request`]) and passes every reply's verdict through it.

use crate::bounds::BoundParams;
use crate::exchange::Mode;
use crate::icmp::IcmpError;
use crate::nts::report::NtsReport;
use crate::nts::session::RequestEntropy;
use crate::packet::{KissCode, Packet, HEADER_LEN};
use crate::result::{summarize, Counters, SampleRecord, ServerResult, Status, TimestampSource};
use crate::security::Security;
use crate::timestamp::NtpTimestamp;
use crate::validate::{
    validate_reply, Answered, Arrival, DropReason, Interleaved, Request, ServerHeader, Verdict,
};
use std::net::SocketAddr;

/// How to probe one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// Requests to send (at most; a KoD or send error stops earlier).
    pub samples: u32,
    /// Minimum time between two requests to the server, ns.
    pub interval_ns: i64,
    /// How long to wait for each reply, ns.
    pub timeout_ns: i64,
    /// Local precision and drift allowance for the bounds.
    pub bounds: BoundParams,
    /// Ask for interleaved mode (RFC 9769) after each answered request: the server's next
    /// reply then carries the real transmit time of its previous one. Never with NTS.
    pub interleaved: bool,
}

/// Requests per server unless told otherwise.
pub const DEFAULT_SAMPLES: u32 = 4;
/// Time between two requests to one server unless told otherwise, ns (public servers
/// expect at least 2 s).
pub const DEFAULT_INTERVAL_NS: i64 = 2_000_000_000;
/// How long to wait for each reply unless told otherwise, ns.
pub const DEFAULT_TIMEOUT_NS: i64 = 1_000_000_000;
/// [`DEFAULT_INTERVAL_NS`] as a command line writes it (a test keeps the two in step).
pub const DEFAULT_INTERVAL_TEXT: &str = "2s";
/// [`DEFAULT_TIMEOUT_NS`] as a command line writes it (a test keeps the two in step).
pub const DEFAULT_TIMEOUT_TEXT: &str = "1s";
/// The time between two requests to one server a run accepts: 0 (back to back, for
/// loopback tests) to 1 h.
pub const INTERVAL_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 3_600_000_000_000);
/// The reply timeout a run accepts: 1 ms to 10 min.
pub const TIMEOUT_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 600_000_000_000);

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            samples: DEFAULT_SAMPLES,
            interval_ns: DEFAULT_INTERVAL_NS,
            timeout_ns: DEFAULT_TIMEOUT_NS,
            bounds: BoundParams::default(),
            interleaved: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Scheduled {
        at_mono_ns: i64,
    },
    Waiting {
        request: Request,
        tx: TimestampSource,
        deadline_mono_ns: i64,
        rejected: Option<DropReason>,
        /// An ICMP error quoting this request arrived (the exchange still waits for a
        /// valid reply until its deadline).
        icmp: bool,
    },
    Done,
}

/// Probes one server address: the sans-IO state machine.
#[derive(Debug, Clone)]
pub struct ServerProber {
    server: String,
    address: SocketAddr,
    config: ProbeConfig,
    state: State,
    attempts: u32,
    last_sent_mono_ns: Option<i64>,
    samples: Vec<SampleRecord>,
    counters: Counters,
    last_header: Option<ServerHeader>,
    /// What went wrong, if anything did (boxed: most probers never need it, and a sweep of
    /// 100,000 servers keeps 100,000 probers).
    trouble: Option<Box<Trouble>>,
    security: Security,
    authenticated_samples: usize,
    /// The last exchange whose reply was accepted, for an interleaved request after it.
    last: Option<Previous>,
    /// The nonce and cookie of the interleaved request [`ServerProber::request`] made,
    /// until it is sent.
    prepared: Option<(u64, u64)>,
}

/// What went wrong while probing a server.
#[derive(Debug, Clone, Default)]
struct Trouble {
    kiss: Option<KissCode>,
    last_invalid: Option<String>,
    unreachable: Option<String>,
    unsynchronized: Option<String>,
    /// The last ICMP "unreachable" error quoting one of our requests, and how many requests
    /// got one.
    icmp: Option<(IcmpError, u64)>,
    warnings: Vec<String>,
}

/// An accepted exchange kept for interleaved mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Previous {
    /// Which request (1, 2, ...) it was.
    attempt: u32,
    answered: Answered,
    tx: TimestampSource,
    rx: TimestampSource,
}

/// The request datagram for a nonce (plain NTP).
pub fn request_bytes(nonce: u64) -> [u8; HEADER_LEN] {
    Packet::client_request(nonce).encode()
}

impl ServerProber {
    /// A prober for `server` (as the user named it) at `address`, due to send at `now_mono_ns`.
    pub fn new(server: &str, address: SocketAddr, config: ProbeConfig, now_mono_ns: i64) -> Self {
        ServerProber {
            server: server.to_string(),
            address,
            config,
            state: if config.samples == 0 {
                State::Done
            } else {
                State::Scheduled {
                    at_mono_ns: now_mono_ns,
                }
            },
            attempts: 0,
            last_sent_mono_ns: None,
            // Exactly what the samples need (capped: a KoD or a timeout may stop earlier):
            // 100,000 servers × 1 sample do not reserve room for 4.
            samples: Vec::with_capacity(config.samples.min(64) as usize),
            counters: Counters::default(),
            last_header: None,
            trouble: None,
            security: Security::Plain,
            authenticated_samples: 0,
            last: None,
            prepared: None,
        }
    }

    fn trouble(&mut self) -> &mut Trouble {
        self.trouble.get_or_insert_with(Default::default)
    }

    /// The interleaved request to make now, if any: asked for, never with NTS, and only
    /// right after an answered request (its reply's receive field names the transmit time
    /// the server should send).
    fn interleaving(&self) -> Option<Previous> {
        self.last
            .filter(|p| p.attempt == self.attempts)
            .filter(|_| self.config.interleaved && !self.security.is_nts())
    }

    /// The same prober with `security` deciding what requests carry and which replies
    /// count (plain NTP by default).
    pub fn with_security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// The server's security.
    pub fn security(&self) -> &Security {
        &self.security
    }

    /// The bytes of the next request, carrying `nonce` (call when [`ServerProber::due`],
    /// then [`ServerProber::on_sent`] once it left). `cookie` (another fresh random value)
    /// goes in the receive field of an interleaved request; `entropy` is used by NTS only.
    /// `None` when no request can be made (NTS: every cookie spent): the prober is then
    /// done, with a warning saying why.
    pub fn request(
        &mut self,
        nonce: u64,
        cookie: u64,
        entropy: &RequestEntropy,
    ) -> Option<Vec<u8>> {
        let mut header = Packet::client_request(nonce);
        self.prepared = None;
        if let Some(p) = self.interleaving() {
            // The cookie must differ from every other field for the reply to say which
            // mode it is in.
            let mut cookie = cookie;
            while cookie == 0 || cookie == nonce || cookie == p.answered.t2.0 {
                cookie = cookie.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
            }
            header.origin_ts = p.answered.t2;
            header.receive_ts = NtpTimestamp(cookie);
            self.prepared = Some((nonce, cookie));
        }
        match self.security.request(&header.encode(), nonce, entropy) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                self.trouble().warnings.push(e.to_string());
                self.state = State::Done;
                None
            }
        }
    }

    /// The address probed.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Whether a request should be sent now.
    pub fn due(&self, now_mono_ns: i64) -> bool {
        matches!(self.state, State::Scheduled { at_mono_ns } if at_mono_ns <= now_mono_ns)
    }

    /// The nonce of the request in flight, if any.
    pub fn pending_nonce(&self) -> Option<u64> {
        match &self.state {
            State::Waiting { request, .. } => Some(request.nonce),
            _ => None,
        }
    }

    /// The receive-field value of the request in flight when it asked for interleaved mode:
    /// an interleaved reply echoes it in its origin field.
    pub fn pending_cookie(&self) -> Option<u64> {
        match &self.state {
            State::Waiting { request, .. } => request.interleaved.map(|i| i.cookie),
            _ => None,
        }
    }

    /// When the prober next needs attention (a send or a timeout), monotonic ns.
    pub fn next_wakeup_mono_ns(&self) -> Option<i64> {
        match &self.state {
            State::Scheduled { at_mono_ns } => Some(*at_mono_ns),
            State::Waiting {
                deadline_mono_ns, ..
            } => Some(*deadline_mono_ns),
            State::Done => None,
        }
    }

    /// Whether the prober has finished.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Records that a request carrying `nonce` left at `t1_unix_ns` / `now_mono_ns`.
    pub fn on_sent(&mut self, nonce: u64, t1_unix_ns: i64, now_mono_ns: i64) {
        // The interleaved request made for this nonce (before counting it as sent: it was
        // made right after the previous request's answer).
        let interleaved = self
            .prepared
            .take()
            .filter(|(n, _)| *n == nonce)
            .zip(self.interleaving())
            .map(|((_, cookie), p)| Interleaved {
                cookie,
                previous: p.answered,
            });
        self.attempts += 1;
        self.counters.sent += 1;
        self.last_sent_mono_ns = Some(now_mono_ns);
        self.state = State::Waiting {
            request: Request {
                nonce,
                t1_unix_ns,
                sent_mono_ns: now_mono_ns,
                interleaved,
            },
            tx: TimestampSource::User,
            deadline_mono_ns: now_mono_ns.saturating_add(self.config.timeout_ns),
            rejected: None,
            icmp: false,
        };
    }

    /// Replaces T1 of the request in flight with the kernel's transmit timestamp, taken
    /// when the request actually left (ignored if `nonce` is not the request in flight).
    pub fn on_tx_timestamp(&mut self, nonce: u64, t1_unix_ns: i64) {
        if let State::Waiting { request, tx, .. } = &mut self.state {
            if request.nonce == nonce {
                request.t1_unix_ns = t1_unix_ns;
                *tx = TimestampSource::Kernel;
            }
        }
    }

    /// Records an ICMP error quoting the request carrying `nonce`. Only a "destination
    /// unreachable" error about the request in flight counts; the exchange keeps waiting for
    /// a valid reply until its timeout (a forged error must not hide a live server), and a
    /// server that never answers ends `unreachable` with the error in `error`. Returns
    /// whether it counted (the first time for this request).
    pub fn on_icmp(&mut self, nonce: u64, error: IcmpError) -> bool {
        let State::Waiting { request, icmp, .. } = &mut self.state else {
            return false;
        };
        if request.nonce != nonce || !error.is_unreachable() || *icmp {
            return false;
        }
        *icmp = true;
        let t = self.trouble();
        let n = t.icmp.map_or(0, |(_, n)| n);
        t.icmp = Some((error, n + 1));
        true
    }

    /// Whether the request in flight has had an ICMP "unreachable" error.
    pub fn icmp_pending(&self) -> bool {
        matches!(self.state, State::Waiting { icmp: true, .. })
    }

    /// Ends the exchange in flight now, as its timeout would (the engine does this when every
    /// request still in flight has had an ICMP error: nothing else is left to wait for).
    pub fn end_exchange(&mut self, now_mono_ns: i64) {
        if let State::Waiting {
            deadline_mono_ns, ..
        } = &mut self.state
        {
            *deadline_mono_ns = now_mono_ns;
        }
        self.on_tick(now_mono_ns);
    }

    /// Records that sending failed (no route, family unavailable...): the server is
    /// `unreachable` and no more requests are sent.
    pub fn on_send_error(&mut self, error: String) {
        self.trouble().unreachable = Some(error);
        self.state = State::Done;
    }

    /// Judges a datagram that arrived for this server (by nonce or by source address).
    /// Returns the verdict, so the caller can count forged or stray packets.
    pub fn on_datagram(&mut self, arrival: &Arrival<'_>, rx: TimestampSource) -> Verdict {
        let State::Waiting {
            request,
            tx,
            rejected,
            ..
        } = &mut self.state
        else {
            self.counters.drop_one("late");
            return Verdict::Dropped(DropReason::OriginMismatch);
        };
        let verdict = validate_reply(self.address, request, arrival, &self.config.bounds);
        let verdict = self
            .security
            .authenticate(verdict, arrival.bytes, request.nonce);
        let tx = *tx;
        let now = arrival.received_mono_ns;
        match &verdict {
            Verdict::Dropped(reason) => {
                self.counters.drop_one(reason.key());
                if !matches!(
                    reason,
                    DropReason::WrongSource { .. } | DropReason::OriginMismatch
                ) {
                    *rejected = Some(*reason);
                }
                return verdict;
            }
            Verdict::Measured(m) => {
                self.counters.answered += 1;
                self.last_header = Some(m.header);
                if let Some(why) = &m.unsynchronized {
                    self.trouble().unsynchronized = Some(why.clone());
                }
                if self.security.is_nts() {
                    self.authenticated_samples += 1;
                }
                // An interleaved sample is the previous exchange's: its T1 and T4 came from
                // wherever that exchange's did.
                let (sample_tx, sample_rx) = match (m.mode, self.last) {
                    (Mode::Interleaved, Some(p)) => (p.tx, p.rx),
                    _ => (tx, rx),
                };
                self.samples.push(SampleRecord {
                    sample: m.sample,
                    header: m.header,
                    rx: sample_rx,
                    tx: sample_tx,
                    unsynchronized: m.unsynchronized.is_some(),
                    mode: m.mode,
                });
                self.last = Some(Previous {
                    attempt: self.attempts,
                    answered: m.answered,
                    tx,
                    rx,
                });
            }
            Verdict::Kiss(code, header) => {
                self.counters.answered += 1;
                self.last_header = Some(*header);
                self.trouble().kiss = Some(code.clone());
                if code.stops_probing() {
                    self.state = State::Done;
                    return verdict;
                }
            }
            Verdict::Invalid(why, header) => {
                self.counters.answered += 1;
                self.last_header = Some(*header);
                self.trouble().last_invalid = Some(why.to_string());
            }
        }
        self.schedule_next(now);
        verdict
    }

    /// Counts a reply to one of this server's earlier requests that arrived after its
    /// exchange had ended (a duplicate or a late reply).
    pub fn on_late(&mut self) {
        self.counters.drop_one("late");
    }

    /// Handles the passage of time: ends an exchange whose timeout has passed.
    pub fn on_tick(&mut self, now_mono_ns: i64) {
        if let State::Waiting {
            deadline_mono_ns,
            rejected,
            ..
        } = &self.state
        {
            if now_mono_ns >= *deadline_mono_ns {
                let rejected = *rejected;
                self.counters.timeouts += 1;
                if let Some(reason) = rejected {
                    // The server's address answered, but never with an acceptable reply.
                    self.trouble().last_invalid = Some(reason.to_string());
                }
                self.schedule_next(now_mono_ns);
            }
        }
    }

    fn schedule_next(&mut self, now_mono_ns: i64) {
        if self.attempts >= self.config.samples {
            self.state = State::Done;
            return;
        }
        let earliest = self
            .last_sent_mono_ns
            .map_or(now_mono_ns, |t| t.saturating_add(self.config.interval_ns));
        self.state = State::Scheduled {
            at_mono_ns: earliest.max(now_mono_ns),
        };
    }

    /// The result. Call when done (calling earlier reports what was seen so far; a request
    /// still in flight counts as timed out).
    pub fn finish(self) -> ServerResult {
        self.finish_with_security().0
    }

    /// The result and the security as the probe left it (an NTS session with the cookies
    /// the replies brought), for a caller that keeps the session across runs.
    pub fn finish_with_security(mut self) -> (ServerResult, Security) {
        let t = self.trouble.take().map(|b| *b).unwrap_or_default();
        if matches!(self.state, State::Waiting { .. }) {
            self.counters.timeouts += 1;
        }
        let summary = summarize(&self.samples, &self.config.bounds);
        let header = match &summary {
            Some(s) => Some(self.samples[s.best].header),
            None => self.last_header,
        };
        let nts = self.security.nts().map(|s| NtsReport {
            ke: s.facts().clone(),
            authenticated: !self.samples.is_empty()
                && self.authenticated_samples == self.samples.len(),
            dropped_unauthenticated: self
                .counters
                .dropped
                .get("unauthenticated")
                .copied()
                .unwrap_or(0),
        });
        let (status, error) = if let (Some(KissCode::NtsNak), Some(_)) = (&t.kiss, &nts) {
            (
                Status::NtsNak,
                Some(
                    "server sent an NTS NAK (kiss code NTSN): it could not use the cookie; \
                     no more requests sent this run"
                        .to_string(),
                ),
            )
        } else if let Some(code) = &t.kiss {
            let action = if code.stops_probing() {
                "; no more requests sent this run"
            } else {
                ""
            };
            (
                Status::Kod,
                Some(format!("server sent Kiss-o'-Death {code}{action}")),
            )
        } else if summary.is_some() {
            match &t.unsynchronized {
                Some(why) => (Status::Unsynchronized, Some(why.clone())),
                None => (Status::Ok, None),
            }
        } else if let Some(e) = &t.unreachable {
            (Status::Unreachable, Some(e.clone()))
        } else if let Some(e) = &t.last_invalid {
            (Status::Invalid, Some(e.clone()))
        } else if let Some((e, n)) = &t.icmp {
            let sent = self.counters.sent;
            (
                Status::Unreachable,
                Some(format!(
                    "{e} for {n} of {sent} request{}; no valid reply",
                    if sent == 1 { "" } else { "s" }
                )),
            )
        } else {
            let n = self.counters.sent;
            (
                Status::Timeout,
                Some(format!(
                    "no valid reply to {n} request{} within {:.3} s each",
                    if n == 1 { "" } else { "s" },
                    self.config.timeout_ns as f64 / 1e9
                )),
            )
        };
        let mut warnings = t.warnings;
        if summary.is_some() {
            if self.counters.timeouts > 0 {
                warnings.push(format!(
                    "{} of {} requests timed out",
                    self.counters.timeouts, self.counters.sent
                ));
            }
            if let Some(e) = &t.last_invalid {
                warnings.push(format!("some replies were invalid: {e}"));
            }
        }
        if let Some(s) = self.security.nts() {
            let c = s.counts();
            if c.without_cookie > 0 {
                warnings.push(format!(
                    "{} of {} authenticated replies carried no new cookie",
                    c.without_cookie, c.authenticated
                ));
            }
        }
        if let Some(s) = &summary {
            if !s.consistent {
                warnings.push(
                    "the samples' bounds do not intersect (a clock stepped or drifted faster than allowed \
                     between them): no joint bound"
                        .into(),
                );
            }
        }
        let result = ServerResult {
            server: self.server,
            address: Some(self.address),
            status,
            error,
            summary,
            header,
            kiss_code: t.kiss,
            samples: self.samples,
            counters: self.counters,
            warnings,
            local_precision_ns: self.config.bounds.local_precision_ns,
            nts: nts.map(Box::new),
        };
        (result, self.security)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_texts_match_the_defaults() {
        let ns = |t| skew_time::duration_ns(skew_time::parse_duration(t).unwrap());
        assert_eq!(ns(DEFAULT_INTERVAL_TEXT), DEFAULT_INTERVAL_NS);
        assert_eq!(ns(DEFAULT_TIMEOUT_TEXT), DEFAULT_TIMEOUT_NS);
    }
    use crate::packet::{Leap, MODE_SERVER};
    use crate::timestamp::{NtpShort, NtpTimestamp};
    use proptest::prelude::*;

    const EPOCH: i64 = 1_795_000_000_000_000_000;
    const MS: i64 = 1_000_000;

    fn addr() -> SocketAddr {
        "127.0.0.1:1123".parse().unwrap()
    }

    /// A datagram from `from` with kernel timestamps: T4 `t4` (Unix ns), received at `rx`
    /// (monotonic ns).
    fn arrive(p: &mut ServerProber, from: SocketAddr, bytes: &[u8], t4: i64, rx: i64) -> Verdict {
        p.on_datagram(
            &Arrival {
                from,
                bytes,
                t4_unix_ns: t4,
                received_mono_ns: rx,
            },
            TimestampSource::Kernel,
        )
    }

    /// A simulated server `offset_ns` ahead, `one_way_ns` each way, on simulated clocks
    /// where monotonic ns + EPOCH = local Unix ns.
    struct Sim {
        offset_ns: i64,
        one_way_ns: i64,
    }

    impl Sim {
        fn reply(&self, nonce: u64, sent_mono: i64) -> (Vec<u8>, i64, i64) {
            let t2 = EPOCH + sent_mono + self.one_way_ns + self.offset_ns;
            let p = Packet {
                leap: Leap::None,
                version: 4,
                mode: MODE_SERVER,
                stratum: 2,
                poll: 0,
                precision: -20,
                root_delay: NtpShort(0),
                root_dispersion: NtpShort(64),
                reference_id: [1, 2, 3, 4],
                reference_ts: NtpTimestamp::from_unix_ns(t2 - 1_000_000_000),
                origin_ts: NtpTimestamp(nonce),
                receive_ts: NtpTimestamp::from_unix_ns(t2),
                transmit_ts: NtpTimestamp::from_unix_ns(t2 + 1_000),
            };
            let rx_mono = sent_mono + 2 * self.one_way_ns + 1_000;
            (p.encode().to_vec(), EPOCH + rx_mono, rx_mono)
        }
    }

    fn config(samples: u32) -> ProbeConfig {
        ProbeConfig {
            samples,
            interval_ns: 10 * MS,
            timeout_ns: 5 * MS,
            bounds: BoundParams::default(),
            interleaved: false,
        }
    }

    #[test]
    fn paces_and_measures() {
        let sim = Sim {
            offset_ns: 37 * MS,
            one_way_ns: 100_000,
        };
        let mut p = ServerProber::new("s", addr(), config(3), 0);
        let mut now = 0;
        let mut sends = vec![];
        for nonce in 1..=3u64 {
            while !p.due(now) {
                now = p.next_wakeup_mono_ns().unwrap();
            }
            sends.push(now);
            p.on_sent(nonce, EPOCH + now, now);
            let (bytes, t4, rx) = sim.reply(nonce, now);
            let v = arrive(&mut p, addr(), &bytes, t4, rx);
            assert!(matches!(v, Verdict::Measured(_)));
            now = rx;
        }
        assert_eq!(sends, vec![0, 10 * MS, 20 * MS]);
        assert!(p.is_done());
        let r = p.finish();
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.samples.len(), 3);
        let s = r.summary.unwrap();
        assert_eq!(s.offset_ns, 37 * MS);
        assert!(s.bound.contains(37 * MS));
        assert_eq!(r.rx_timestamp(), Some(TimestampSource::Kernel));
    }

    #[test]
    fn forged_packets_do_not_end_the_exchange() {
        let sim = Sim {
            offset_ns: 0,
            one_way_ns: 50_000,
        };
        let mut p = ServerProber::new("s", addr(), config(1), 0);
        p.on_sent(42, EPOCH, 0);
        // Wrong nonce, wrong port, truncated: all dropped, exchange still waiting.
        let (forged, t4, rx) = sim.reply(41, 0);
        let v = arrive(&mut p, addr(), &forged, t4, rx);
        assert_eq!(v, Verdict::Dropped(DropReason::OriginMismatch));
        let (good, t4, rx) = sim.reply(42, 0);
        let evil: SocketAddr = "127.0.0.1:1124".parse().unwrap();
        arrive(&mut p, evil, &good, t4, rx);
        arrive(&mut p, addr(), &good[..20], t4, rx);
        assert_eq!(p.pending_nonce(), Some(42));
        let v = p.on_datagram(
            &Arrival {
                from: addr(),
                bytes: &good,
                t4_unix_ns: t4,
                received_mono_ns: rx,
            },
            TimestampSource::User,
        );
        assert!(matches!(v, Verdict::Measured(_)));
        // A duplicate after the end is counted as late.
        p.on_datagram(
            &Arrival {
                from: addr(),
                bytes: &good,
                t4_unix_ns: t4,
                received_mono_ns: rx,
            },
            TimestampSource::User,
        );
        let r = p.finish();
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.counters.dropped.get("origin_mismatch"), Some(&1));
        assert_eq!(r.counters.dropped.get("wrong_source"), Some(&1));
        assert_eq!(r.counters.dropped.get("truncated"), Some(&1));
        assert_eq!(r.counters.dropped.get("late"), Some(&1));
        assert_eq!(r.rx_timestamp(), Some(TimestampSource::User));
    }

    #[test]
    fn timeouts_and_invalid() {
        let mut p = ServerProber::new("s", addr(), config(2), 0);
        p.on_sent(1, EPOCH, 0);
        p.on_tick(4 * MS);
        assert_eq!(p.pending_nonce(), Some(1));
        p.on_tick(5 * MS);
        assert_eq!(p.pending_nonce(), None);
        assert_eq!(p.next_wakeup_mono_ns(), Some(10 * MS));
        p.on_sent(2, EPOCH + 10 * MS, 10 * MS);
        p.on_tick(15 * MS);
        assert!(p.is_done());
        let r = p.finish();
        assert_eq!(r.status, Status::Timeout);
        assert!(r.error.unwrap().contains("2 requests"));
        assert_eq!(r.counters.timeouts, 2);

        // Wrong mode from the server's address with our nonce: invalid at the timeout.
        let sim = Sim {
            offset_ns: 0,
            one_way_ns: 50_000,
        };
        let mut p = ServerProber::new("s", addr(), config(1), 0);
        p.on_sent(7, EPOCH, 0);
        let (mut bytes, t4, rx) = sim.reply(7, 0);
        bytes[0] = (bytes[0] & !7) | 5;
        arrive(&mut p, addr(), &bytes, t4, rx);
        p.on_tick(5 * MS);
        let r = p.finish();
        assert_eq!(r.status, Status::Invalid);
        assert!(r.error.unwrap().contains("mode 5"));
    }

    #[test]
    fn kiss_of_death_stops() {
        for (code, stops) in [
            (*b"RATE", true),
            (*b"DENY", true),
            (*b"RSTR", true),
            (*b"INIT", false),
        ] {
            let sim = Sim {
                offset_ns: 0,
                one_way_ns: 50_000,
            };
            let mut p = ServerProber::new("s", addr(), config(3), 0);
            p.on_sent(9, EPOCH, 0);
            let (mut bytes, t4, rx) = sim.reply(9, 0);
            bytes[1] = 0;
            bytes[12..16].copy_from_slice(&code);
            arrive(&mut p, addr(), &bytes, t4, rx);
            assert_eq!(p.is_done(), stops);
            let r = p.finish();
            assert_eq!(r.status, Status::Kod);
            assert_eq!(r.kiss_code.unwrap().to_refid(), code);
        }
    }

    mod nts {
        use super::*;
        use crate::nts::ef::{fields, MIN_FIELD_LEN, UNIQUE_IDENTIFIER};
        use crate::nts::packet::{seal_reply, NtsReject, NAK_CODE};
        use crate::nts::{Aead, KeFacts, NtsKeys, NtsSession, RequestEntropy};
        use crate::validate::DropReason;

        fn keys() -> NtsKeys {
            NtsKeys {
                aead: Aead::AesSivCmac256,
                c2s: vec![1; 32],
                s2c: vec![2; 32],
            }
        }

        fn prober(samples: u32, cookies: usize) -> ServerProber {
            let facts = KeFacts {
                ke_server: "ke".into(),
                ke_port: 4460,
                cookies,
                ..KeFacts::default()
            };
            let s = NtsSession::new(keys(), vec![vec![0xc0; 100]; cookies], facts);
            ServerProber::new("s", addr(), config(samples), 0)
                .with_security(Security::Nts(Box::new(s)))
        }

        /// The server's NTS reply to `request`: the plain reply's header with the request's
        /// identifier and one new cookie per cookie and placeholder, sealed with `s2c`.
        fn nts_reply(
            sim: &Sim,
            request: &[u8],
            nonce: u64,
            sent: i64,
            s2c: &[u8],
        ) -> (Vec<u8>, i64, i64) {
            let (plain, t4, rx) = sim.reply(nonce, sent);
            let efs: Vec<_> = fields(&request[48..], MIN_FIELD_LEN)
                .map(|f| f.unwrap())
                .collect();
            let uid = efs
                .iter()
                .find(|f| f.field_type == UNIQUE_IDENTIFIER)
                .unwrap()
                .value;
            let wanted = efs.len() - 2; // all but identifier and authenticator
            let header: [u8; 48] = plain[..48].try_into().unwrap();
            let cookies = vec![vec![0xd0; 100]; wanted];
            let b = seal_reply(&header, uid, &cookies, Aead::AesSivCmac256, s2c, &[4; 16]).unwrap();
            (b, t4, rx)
        }

        fn arrival(bytes: &[u8], t4: i64, rx: i64) -> Arrival<'_> {
            Arrival {
                from: addr(),
                bytes,
                t4_unix_ns: t4,
                received_mono_ns: rx,
            }
        }

        #[test]
        fn forged_and_plain_replies_are_dropped_the_authentic_one_counts() {
            let sim = Sim {
                offset_ns: 3 * MS,
                one_way_ns: 50_000,
            };
            let mut p = prober(1, 8);
            let req = p
                .request(77, 0xc0c0, &RequestEntropy::from_bytes([5; 48]))
                .unwrap();
            assert!(req.len() > 48);
            p.on_sent(77, EPOCH, 0);
            // A plain reply (a server without NTS, or a forger who cannot read the cookie).
            let (plain, t4, rx) = sim.reply(77, 0);
            assert_eq!(
                p.on_datagram(&arrival(&plain, t4, rx), TimestampSource::Kernel),
                Verdict::Dropped(DropReason::Unauthenticated(NtsReject::MissingUniqueId))
            );
            // A forgery with the right identifier, sealed with a guessed key, 1000 s off.
            let liar = Sim {
                offset_ns: 1_000_000_000_000,
                one_way_ns: 50_000,
            };
            let (forged, t4, rx) = nts_reply(&liar, &req, 77, 0, &[9; 32]);
            assert_eq!(
                p.on_datagram(&arrival(&forged, t4, rx), TimestampSource::Kernel),
                Verdict::Dropped(DropReason::Unauthenticated(NtsReject::AuthenticationFailed))
            );
            assert_eq!(p.pending_nonce(), Some(77), "still waiting");
            let (good, t4, rx) = nts_reply(&sim, &req, 77, 0, &keys().s2c);
            assert!(matches!(
                p.on_datagram(&arrival(&good, t4, rx), TimestampSource::Kernel),
                Verdict::Measured(_)
            ));
            let r = p.finish();
            assert_eq!(r.status, Status::Ok);
            assert_eq!(r.summary.unwrap().offset_ns, 3 * MS);
            let n = r.nts.unwrap();
            assert!(n.authenticated);
            assert_eq!(n.dropped_unauthenticated, 2);
            assert_eq!(r.counters.dropped.get("unauthenticated"), Some(&2));
        }

        #[test]
        fn only_unauthenticated_replies_is_invalid_and_not_authenticated() {
            let sim = Sim {
                offset_ns: 0,
                one_way_ns: 50_000,
            };
            let mut p = prober(1, 8);
            p.request(5, 0xc0c0, &RequestEntropy::from_bytes([1; 48]))
                .unwrap();
            p.on_sent(5, EPOCH, 0);
            let (plain, t4, rx) = sim.reply(5, 0);
            p.on_datagram(&arrival(&plain, t4, rx), TimestampSource::Kernel);
            p.on_tick(5 * MS);
            let r = p.finish();
            assert_eq!(r.status, Status::Invalid);
            assert!(r.error.unwrap().contains("not authenticated"));
            let n = r.nts.unwrap();
            assert!(!n.authenticated);
            assert_eq!(n.dropped_unauthenticated, 1);
        }

        #[test]
        fn nak_is_its_own_status() {
            let sim = Sim {
                offset_ns: 0,
                one_way_ns: 50_000,
            };
            let mut p = prober(3, 8);
            let req = p
                .request(6, 0xc0c0, &RequestEntropy::from_bytes([2; 48]))
                .unwrap();
            p.on_sent(6, EPOCH, 0);
            let (plain, t4, rx) = sim.reply(6, 0);
            let mut nak = plain[..48].to_vec();
            nak[1] = 0;
            nak[12..16].copy_from_slice(&NAK_CODE);
            nak.extend_from_slice(&req[48..84]); // the Unique Identifier field
            p.on_datagram(&arrival(&nak, t4, rx), TimestampSource::Kernel);
            assert!(p.is_done(), "a NAK stops the server");
            let r = p.finish();
            assert_eq!(r.status, Status::NtsNak);
            assert_eq!(r.record().status.as_str(), "nts-nak");
            assert!(!r.nts.unwrap().authenticated);
        }

        #[test]
        fn nts_requests_are_never_interleaved() {
            let sim = Sim {
                offset_ns: 0,
                one_way_ns: 50_000,
            };
            let mut p = prober(2, 8);
            p.config.interleaved = true;
            let req = p
                .request(1, 0xc0c0, &RequestEntropy::from_bytes([1; 48]))
                .unwrap();
            p.on_sent(1, EPOCH, 0);
            let (b, t4, rx) = nts_reply(&sim, &req, 1, 0, &keys().s2c);
            assert!(matches!(
                p.on_datagram(&arrival(&b, t4, rx), TimestampSource::Kernel),
                Verdict::Measured(_)
            ));
            let mut now = rx;
            while !p.due(now) {
                now = p.next_wakeup_mono_ns().unwrap();
            }
            let req = p
                .request(2, 0xc0c0, &RequestEntropy::from_bytes([2; 48]))
                .unwrap();
            assert!(
                req[24..40].iter().all(|&b| b == 0),
                "origin and receive stay zero"
            );
            p.on_sent(2, EPOCH + now, now);
            assert_eq!(p.pending_cookie(), None);
        }

        #[test]
        fn more_samples_than_cookies_and_lost_replies() {
            let sim = Sim {
                offset_ns: 0,
                one_way_ns: 50_000,
            };
            // 2 cookies, 12 samples, every third reply lost: the jar refills from replies.
            let mut p = prober(12, 2);
            let mut now = 0;
            for k in 0..12u64 {
                while !p.due(now) {
                    now = p.next_wakeup_mono_ns().unwrap();
                }
                let req = p
                    .request(100 + k, 0xc0c0, &RequestEntropy::from_bytes([k as u8; 48]))
                    .unwrap();
                p.on_sent(100 + k, EPOCH + now, now);
                if k % 3 == 2 {
                    now += 5 * MS;
                    p.on_tick(now);
                    continue;
                }
                let (b, t4, rx) = nts_reply(&sim, &req, 100 + k, now, &keys().s2c);
                assert!(matches!(
                    p.on_datagram(&arrival(&b, t4, rx), TimestampSource::Kernel),
                    Verdict::Measured(_)
                ));
                now = rx;
            }
            let (r, security) = p.finish_with_security();
            assert_eq!(r.status, Status::Ok);
            assert_eq!(r.samples.len(), 8);
            assert!(r.nts.unwrap().authenticated);
            // The session comes back as the replies left it, for the next run.
            let s = security.nts().expect("the NTS session");
            assert_eq!((s.counts().spent, s.counts().authenticated), (12, 8));
            assert!(s.cookies() > 0);
        }

        #[test]
        fn running_out_of_cookies_ends_the_probe() {
            let mut p = prober(5, 1);
            p.request(1, 0xc0c0, &RequestEntropy::from_bytes([1; 48]))
                .unwrap();
            p.on_sent(1, EPOCH, 0);
            p.on_tick(5 * MS);
            let mut now = 5 * MS;
            while !p.due(now) {
                now = p.next_wakeup_mono_ns().unwrap();
            }
            assert_eq!(
                p.request(2, 0xc0c0, &RequestEntropy::from_bytes([2; 48])),
                None
            );
            assert!(p.is_done());
            let r = p.finish();
            assert_eq!(r.status, Status::Timeout);
            assert!(r.warnings.iter().any(|w| w.contains("no NTS cookies left")));
        }
    }

    #[test]
    fn send_error_is_unreachable() {
        let mut p = ServerProber::new("s", addr(), config(3), 0);
        p.on_send_error("Network is unreachable".into());
        assert!(p.is_done());
        let r = p.finish();
        assert_eq!(r.status, Status::Unreachable);
    }

    #[test]
    fn icmp_unreachable_waits_for_the_timeout_then_says_unreachable() {
        let port = crate::icmp::IcmpError {
            v6: false,
            kind: 3,
            code: 3,
            from: Some("127.0.0.1".parse().unwrap()),
        };
        // A closed port: the error counts once per request, the exchange still waits.
        let mut p = ServerProber::new("s", addr(), config(2), 0);
        p.on_sent(1, EPOCH, 0);
        assert!(!p.on_icmp(2, port), "another request's nonce");
        let ttl = crate::icmp::IcmpError { kind: 11, ..port };
        assert!(!p.on_icmp(1, ttl), "not an unreachable");
        assert!(p.on_icmp(1, port));
        assert!(!p.on_icmp(1, port), "counted once");
        assert!(p.icmp_pending());
        assert_eq!(p.pending_nonce(), Some(1));
        p.on_tick(4 * MS);
        assert_eq!(p.pending_nonce(), Some(1), "waits until the timeout");
        p.on_tick(5 * MS);
        assert!(!p.icmp_pending());
        p.on_sent(2, EPOCH + 10 * MS, 10 * MS);
        assert!(p.on_icmp(2, port));
        p.end_exchange(11 * MS);
        assert!(p.is_done());
        let r = p.finish();
        assert_eq!(r.status, Status::Unreachable);
        let e = r.error.unwrap();
        assert!(e.contains("port unreachable (type 3, code 3)"), "{e}");
        assert!(e.contains("2 of 2 requests"), "{e}");

        // A forged error before the real reply hides nothing.
        let sim = Sim {
            offset_ns: 0,
            one_way_ns: 50_000,
        };
        let mut p = ServerProber::new("s", addr(), config(1), 0);
        p.on_sent(7, EPOCH, 0);
        assert!(p.on_icmp(7, port));
        let (bytes, t4, rx) = sim.reply(7, 0);
        let v = arrive(&mut p, addr(), &bytes, t4, rx);
        assert!(matches!(v, Verdict::Measured(_)));
        assert_eq!(p.finish().status, Status::Ok);
    }

    #[test]
    fn zero_samples_is_done_at_once() {
        let p = ServerProber::new("s", addr(), config(0), 0);
        assert!(p.is_done());
    }

    /// A datagram an off-path attacker (or a broken path) can put before the real reply.
    #[derive(Debug, Clone)]
    enum Forgery {
        /// The right nonce from another port of the server's address.
        OtherPort(u16),
        /// The right nonce from another IPv4 address, the server's port.
        OtherIp([u8; 4]),
        /// A wrong nonce (a guess, or a replay of an older reply) from the server.
        WrongNonce(u64),
        /// Too short to be checked, from the server's address.
        Short(Vec<u8>),
        /// The right nonce and source, but not a server reply (mode ≠ 4).
        Mode(u8),
    }

    fn forgery() -> impl Strategy<Value = Forgery> {
        prop_oneof![
            (1u16..=u16::MAX)
                .prop_filter("other port", |p| *p != 1123)
                .prop_map(Forgery::OtherPort),
            any::<[u8; 4]>()
                .prop_filter("other ip", |a| *a != [127, 0, 0, 1])
                .prop_map(Forgery::OtherIp),
            any::<u64>().prop_map(Forgery::WrongNonce),
            proptest::collection::vec(any::<u8>(), 0..48).prop_map(Forgery::Short),
            (0u8..8)
                .prop_filter("not 4", |m| *m != 4)
                .prop_map(Forgery::Mode),
        ]
    }

    proptest::proptest! {
        /// Whatever forgeries precede each real reply, each is dropped with its own reason
        /// and counted, the exchange keeps waiting, and the real reply is measured: the
        /// result is exactly what it would be without the forgeries.
        #[test]
        fn forgeries_never_end_an_exchange(
            rounds in proptest::collection::vec(proptest::collection::vec(forgery(), 0..6), 1..5),
            offset_ns in -1_000_000_000i64..1_000_000_000,
        ) {
            let sim = Sim { offset_ns, one_way_ns: 40_000 };
            let mut p = ServerProber::new("s", addr(), config(rounds.len() as u32), 0);
            let mut now = 0;
            let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
            for (k, forged) in rounds.iter().enumerate() {
                while !p.due(now) {
                    now = p.next_wakeup_mono_ns().unwrap();
                }
                let nonce = 0x1000 + k as u64;
                p.on_sent(nonce, EPOCH + now, now);
                let (good, t4, rx) = sim.reply(nonce, now);
                for f in forged {
                    let mut bytes = good.clone();
                    let mut from = addr();
                    let reason = match f {
                        Forgery::OtherPort(port) => {
                            from.set_port(*port);
                            DropReason::WrongSource { from }
                        }
                        Forgery::OtherIp(ip) => {
                            from = SocketAddr::from((*ip, 1123));
                            DropReason::WrongSource { from }
                        }
                        Forgery::WrongNonce(n) => {
                            let n = if *n == nonce { !n } else { *n };
                            bytes[24..32].copy_from_slice(&n.to_be_bytes());
                            DropReason::OriginMismatch
                        }
                        Forgery::Short(b) => {
                            bytes = b.clone();
                            DropReason::Truncated { len: b.len() }
                        }
                        Forgery::Mode(m) => {
                            bytes[0] = (bytes[0] & !7) | m;
                            DropReason::BadMode(*m)
                        }
                    };
                    *expected.entry(reason.key().to_string()).or_default() += 1;
                    let v = p.on_datagram(
                        &Arrival { from, bytes: &bytes, t4_unix_ns: t4, received_mono_ns: rx },
                        TimestampSource::Kernel,
                    );
                    proptest::prop_assert_eq!(v, Verdict::Dropped(reason));
                    proptest::prop_assert_eq!(p.pending_nonce(), Some(nonce));
                }
                let v = p.on_datagram(
                    &Arrival { from: addr(), bytes: &good, t4_unix_ns: t4, received_mono_ns: rx },
                    TimestampSource::Kernel,
                );
                proptest::prop_assert!(matches!(v, Verdict::Measured(_)), "{:?}", v);
                now = rx;
            }
            proptest::prop_assert!(p.is_done());
            let r = p.finish();
            proptest::prop_assert_eq!(r.status, Status::Ok);
            proptest::prop_assert_eq!(r.counters.sent, rounds.len() as u64);
            proptest::prop_assert_eq!(r.counters.answered, rounds.len() as u64);
            proptest::prop_assert_eq!(r.counters.timeouts, 0);
            proptest::prop_assert_eq!(&r.counters.dropped, &expected);
            proptest::prop_assert!(r.warnings.is_empty(), "{:?}", r.warnings);
            let s = r.summary.unwrap();
            proptest::prop_assert!(s.bound.contains(offset_ns), "{:?}", s.bound);
        }

        /// Random events in any order (sends when due, arbitrary datagrams, ticks, late
        /// replies): never more requests than samples, every request accounted for, and a
        /// status that matches what was seen.
        #[test]
        fn random_event_sequences_keep_the_books(
            samples in 0u32..6,
            events in proptest::collection::vec(
                (0u8..5, 0i64..20_000_000, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..60)),
                0..40,
            ),
        ) {
            let sim = Sim { offset_ns: 5 * MS, one_way_ns: 30_000 };
            let mut p = ServerProber::new("s", addr(), config(samples), 0);
            let mut now = 0i64;
            let mut sent = 0u64;
            let mut nonce = 0u64;
            for (kind, advance, flag, junk) in events {
                now += advance;
                match kind {
                    0 => {
                        if p.due(now) {
                            nonce += 1;
                            sent += 1;
                            p.on_sent(nonce, EPOCH + now, now);
                        }
                    }
                    1 => {
                        // The real reply to whatever is pending (or to the last request).
                        let (bytes, t4, rx) = sim.reply(nonce, now);
                        now = now.max(rx);
                        p.on_datagram(
                            &Arrival { from: addr(), bytes: &bytes, t4_unix_ns: t4, received_mono_ns: rx },
                            TimestampSource::Kernel,
                        );
                    }
                    2 => {
                        let mut bytes = junk;
                        if flag && bytes.len() >= 32 {
                            bytes[24..32].copy_from_slice(&nonce.to_be_bytes());
                        }
                        p.on_datagram(
                            &Arrival { from: addr(), bytes: &bytes, t4_unix_ns: EPOCH + now, received_mono_ns: now },
                            TimestampSource::User,
                        );
                    }
                    3 => p.on_tick(now),
                    _ => p.on_late(),
                }
                proptest::prop_assert!(sent <= u64::from(samples));
                proptest::prop_assert_eq!(p.is_done(), p.next_wakeup_mono_ns().is_none());
            }
            let r = p.finish();
            proptest::prop_assert_eq!(r.counters.sent, sent);
            proptest::prop_assert!(r.counters.answered + r.counters.timeouts <= sent + 1);
            match r.status {
                Status::Ok | Status::Unsynchronized => proptest::prop_assert!(r.summary.is_some()),
                Status::Timeout | Status::Invalid => proptest::prop_assert!(r.summary.is_none()),
                Status::Kod => proptest::prop_assert!(r.kiss_code.is_some()),
                s => proptest::prop_assert!(false, "status {:?} cannot arise here", s),
            }
            let record = r.record();
            proptest::prop_assert_eq!(record.csv_fields().len(), crate::result::CSV_COLUMNS.len());
        }
    }
}
