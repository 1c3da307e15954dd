//! The concurrent probe engine: many [`ServerProber`]s over one socket per address family.
//!
//! Requests to all servers go out concurrently, each address paced by its own state machine
//! (targets sharing an address share one), so a run lasts about samples × interval whatever
//! the number of servers. Across servers, sends are paced by [`skew_ntp::pacing`]: at most
//! `rate_per_s` requests per second, and at most `max_inflight` requests awaiting a reply
//! among those sent in the last [`skew_ntp::pacing::DEFAULT_HOLD_NS`] (a dead server's request
//! stops counting then, so dead servers do not hold back live ones). Replies are matched to
//! requests by the origin field (our random nonce) and checked against the address asked;
//! everything else is counted and dropped. Each wake-up reads a bounded number of datagrams
//! before it looks at the clock again, so a flood of datagrams cannot hold a deadline back.
//! The loop ends when every prober is done: each sends a bounded number of requests with a
//! bounded timeout, so the run is bounded.

use crate::clock::{measure_precision_ns, LocalClock};
use crate::nonce::{fresh_entropy, NoncePool};
use crate::socket::{ErrQueueEntry, TimestampedSocket, MAX_DATAGRAM};
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::time::TimeSpec;
use skew_ntp::icmp::quoted_nonce;
use skew_ntp::nts::RequestEntropy;
use skew_ntp::pacing::{RateLimit, Window, BURST_NS, DEFAULT_HOLD_NS, DEFAULT_SETTLE_NS};
use skew_ntp::packet::peek_origin;
use skew_ntp::validate::Arrival;
use skew_ntp::{ProbeConfig, Security, ServerProber, ServerResult, Status};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::os::fd::AsFd;

/// One address to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The server as the user named it.
    pub server: String,
    /// The address to probe.
    pub address: SocketAddr,
    /// Plain NTP, or NTS with the session from the server's key exchange.
    pub security: Security,
}

impl Target {
    /// A plain NTP target.
    pub fn plain(server: &str, address: SocketAddr) -> Target {
        Target {
            server: server.to_string(),
            address,
            security: Security::Plain,
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// Per-server probing (samples, interval, timeout, bound parameters). The local
    /// precision is measured by the engine when left at 0.
    pub probe: ProbeConfig,
    /// Maximum requests awaiting a reply at once across all servers, counting only requests
    /// sent less than [`DEFAULT_HOLD_NS`] ago.
    pub max_inflight: usize,
    /// Maximum requests per second across all servers (0: no limit).
    pub rate_per_s: u32,
}

/// Default limit of requests awaiting a reply at once (`--max-inflight`): see
/// [`skew_ntp::pacing::DEFAULT_WINDOW`].
pub const DEFAULT_MAX_INFLIGHT: usize = skew_ntp::pacing::DEFAULT_WINDOW;
/// Default rate limit, requests per second across all servers (`--rate`): see
/// [`skew_ntp::pacing::DEFAULT_RATE_PER_S`].
pub const DEFAULT_RATE_PER_S: u32 = skew_ntp::pacing::DEFAULT_RATE_PER_S;

impl Default for EngineConfig {
    fn default() -> Self {
        let mut probe = ProbeConfig::default();
        probe.bounds.local_precision_ns = 0;
        EngineConfig {
            probe,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            rate_per_s: DEFAULT_RATE_PER_S,
        }
    }
}

/// What the engine saw that belongs to no server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Datagrams from addresses we never asked, with unknown nonces.
    pub stray: u64,
    /// Datagrams read in total.
    pub datagrams: u64,
    /// Whether every datagram carried a kernel receive timestamp.
    pub kernel_timestamps: bool,
    /// ICMP errors read from the error queue (whether or not they quoted a request in flight).
    pub icmp_errors: u64,
}

struct Sockets {
    v4: Option<Result<TimestampedSocket, String>>,
    v6: Option<Result<TimestampedSocket, String>>,
}

impl Sockets {
    fn open(targets: &[Target]) -> Sockets {
        let open = |bind: &str| {
            TimestampedSocket::bind(bind.parse().expect("literal address"))
                .map_err(|e| format!("cannot open a UDP socket on {bind}: {e}"))
        };
        Sockets {
            v4: targets
                .iter()
                .any(|t| t.address.is_ipv4())
                .then(|| open("0.0.0.0:0")),
            v6: targets
                .iter()
                .any(|t| t.address.is_ipv6())
                .then(|| open("[::]:0")),
        }
    }

    fn for_addr(&self, a: &SocketAddr) -> Result<&TimestampedSocket, String> {
        let s = if a.is_ipv4() { &self.v4 } else { &self.v6 };
        match s {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no socket for this address family".into()),
        }
    }

    fn open_ones(&self) -> Vec<&TimestampedSocket> {
        [&self.v4, &self.v6]
            .into_iter()
            .filter_map(|s| s.as_ref().and_then(|r| r.as_ref().ok()))
            .collect()
    }
}

/// Targets grouped by address. Each distinct address is probed by one state machine, so
/// pacing is per address, not per argument: a server given twice, two names resolving to
/// one address, or `--all-addresses` overlapping a literal never double the requests.
/// Plain and NTS targets at one address are probed apart (their replies differ); NTS
/// targets at one address share the first one's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressGroups {
    /// For each distinct address, in order of first appearance: the index of the first
    /// target with it.
    pub first: Vec<usize>,
    /// For each target: the index of its address in `first`.
    pub of: Vec<usize>,
}

/// Groups `targets` by address.
pub fn group_by_address(targets: &[Target]) -> AddressGroups {
    let mut seen: HashMap<(SocketAddr, bool), usize> = HashMap::with_capacity(targets.len());
    let mut first = Vec::new();
    let of = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            *seen
                .entry((t.address, t.security.is_nts()))
                .or_insert_with(|| {
                    first.push(i);
                    first.len() - 1
                })
        })
        .collect();
    AddressGroups { first, of }
}

/// Requests sent in one go before the sockets are drained again, so that replies never
/// pile up in the receive buffer however many requests may be in flight.
const SEND_BURST: usize = 64;
/// Datagrams (and, separately, error-queue messages) read from one socket per wake-up before
/// the engine looks at its timers again: a flood cannot hold a deadline back by more than
/// this many reads.
const READ_BURST: usize = 256;
/// How long to wait before retrying a send the kernel refused for lack of buffer space.
const SEND_RETRY_NS: i64 = 1_000_000;

/// The engine's bookkeeping around the probers: which nonce belongs to whom, timers, the
/// queue of servers due to send, and how many are still running.
struct Book {
    probers: Vec<ServerProber>,
    finished: Vec<bool>,
    remaining: usize,
    by_addr: HashMap<SocketAddr, usize>,
    by_nonce: HashMap<u64, usize>,
    /// The nonce of each request in flight whose last 8 bytes are not its nonce (NTS: the
    /// authenticator ends it), by those bytes, to match its transmit timestamp.
    by_tail: HashMap<u64, u64>,
    old_nonces: HashMap<u64, usize>,
    timers: BinaryHeap<Reverse<(i64, usize)>>,
    ready: VecDeque<usize>,
    /// Requests awaiting a reply that still count against `max_inflight`.
    window: Window,
    /// Probers whose exchange in flight has had an ICMP "unreachable" error.
    icmp_waiting: usize,
}

impl Book {
    /// The bookkeeping for `probers` at the start of a run: all of them ready to send,
    /// at most `max_inflight` requests in flight.
    fn new(probers: Vec<ServerProber>, max_inflight: usize) -> Book {
        let n = probers.len();
        Book {
            finished: probers.iter().map(|p| p.is_done()).collect(),
            remaining: probers.iter().filter(|p| !p.is_done()).count(),
            by_addr: probers
                .iter()
                .enumerate()
                .map(|(i, p)| (p.address(), i))
                .collect(),
            probers,
            by_nonce: HashMap::new(),
            by_tail: HashMap::new(),
            old_nonces: HashMap::new(),
            timers: BinaryHeap::new(),
            ready: (0..n).collect(),
            window: Window::new(max_inflight, DEFAULT_HOLD_NS, DEFAULT_SETTLE_NS, n),
            icmp_waiting: 0,
        }
    }

    /// Applies `f` to prober `i`, then updates the bookkeeping for whatever changed: an
    /// exchange that ended frees its nonce and its in-flight slot, a new wake-up time gets
    /// a timer, a prober that finished is counted.
    fn touch<R>(&mut self, i: usize, f: impl FnOnce(&mut ServerProber) -> R) -> R {
        let pending = self.probers[i].pending_nonce();
        let cookie = self.probers[i].pending_cookie();
        let icmp = self.probers[i].icmp_pending();
        let wakeup = self.probers[i].next_wakeup_mono_ns();
        let r = f(&mut self.probers[i]);
        let p = &self.probers[i];
        let now_pending = p.pending_nonce();
        let ended = pending.filter(|&n| now_pending != Some(n));
        if let Some(n) = ended {
            // The request's keys: its nonce, and the cookie an interleaved reply echoes.
            for k in std::iter::once(n).chain(cookie) {
                self.by_nonce.remove(&k);
                self.old_nonces.insert(k, i);
            }
            self.window.ended(i, n);
        }
        if let Some(n) = now_pending.filter(|&n| pending != Some(n)) {
            self.by_nonce.insert(n, i);
            if let Some(c) = p.pending_cookie() {
                self.by_nonce.insert(c, i);
            }
        }
        // Exchanges still waiting although an ICMP error said the server is unreachable.
        match (
            icmp && ended.is_some(),
            !icmp && ended.is_none() && p.icmp_pending(),
        ) {
            (true, _) => self.icmp_waiting -= 1,
            (_, true) => {
                self.icmp_waiting += 1;
                // Answered, in a way: the request no longer waits in any server's queue.
                if let Some(n) = now_pending {
                    self.window.ended(i, n);
                }
            }
            _ => {}
        }
        // A new state needs a timer for its wake-up, even when the time is the same as the
        // old state's (an exchange timing out exactly when the next send is due).
        match p.next_wakeup_mono_ns() {
            Some(w) if Some(w) != wakeup || now_pending != pending => {
                self.timers.push(Reverse((w, i)))
            }
            _ => {}
        }
        if p.is_done() && !self.finished[i] {
            self.finished[i] = true;
            self.remaining -= 1;
        }
        r
    }

    /// When every prober still running waits only on an exchange that an ICMP error said
    /// cannot succeed, nothing is left to wait for: ends those exchanges now.
    fn end_icmp_exchanges(&mut self, now_mono_ns: i64) {
        if self.icmp_waiting == 0 || self.icmp_waiting < self.remaining {
            return;
        }
        for i in 0..self.probers.len() {
            if self.probers[i].icmp_pending() {
                self.touch(i, |p| p.end_exchange(now_mono_ns));
            }
        }
    }
}

/// Whether a send failed only for lack of buffer space (worth retrying shortly).
fn is_transient(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Probes every target and returns one result per target, in the targets' order.
///
/// Each distinct address is probed once ([`group_by_address`]); a target repeating an
/// earlier target's address gets a copy of that result under its own name, with a warning.
pub fn run_probes(
    targets: &[Target],
    config: &EngineConfig,
    clock: &dyn LocalClock,
) -> (Vec<ServerResult>, EngineStats) {
    let (results, stats, _) = run(targets, config, clock, false);
    (results, stats)
}

/// [`run_probes`], also giving back each target's security as the run left it (an NTS
/// session with the cookies its replies brought), for a caller that keeps sessions across
/// runs. A target repeating an earlier target's address was not probed: its own security
/// comes back unchanged.
pub fn run_probes_keeping_sessions(
    targets: &[Target],
    config: &EngineConfig,
    clock: &dyn LocalClock,
) -> (Vec<ServerResult>, EngineStats, Vec<Security>) {
    run(targets, config, clock, true)
}

/// Runs the engine over `targets`: the results in target order, the stats, and each
/// target's security as the run left it when `keep_sessions` (else none).
fn run(
    targets: &[Target],
    config: &EngineConfig,
    clock: &dyn LocalClock,
    keep_sessions: bool,
) -> (Vec<ServerResult>, EngineStats, Vec<Security>) {
    let mut probe_cfg = config.probe;
    if probe_cfg.bounds.local_precision_ns <= 0 {
        probe_cfg.bounds.local_precision_ns = measure_precision_ns(clock);
    }
    let groups = group_by_address(targets);
    let sockets = Sockets::open(targets);
    let start = clock.monotonic_ns();
    let probers: Vec<ServerProber> = groups
        .first
        .iter()
        .map(|&t| {
            ServerProber::new(&targets[t].server, targets[t].address, probe_cfg, start)
                .with_security(targets[t].security.clone())
        })
        .collect();
    let mut engine = Engine {
        clock,
        sockets: &sockets,
        book: Book::new(probers, config.max_inflight),
        rate: RateLimit::new(config.rate_per_s, BURST_NS),
        stats: EngineStats {
            kernel_timestamps: true,
            ..EngineStats::default()
        },
        buf: vec![0u8; MAX_DATAGRAM],
        nonces: NoncePool::default(),
        blocked_since: None,
        timeout_ns: probe_cfg.timeout_ns,
    };
    engine.run_until_done();
    let (results, kept) =
        results_in_target_order(targets, &groups, engine.book.probers, keep_sessions);
    (results, engine.stats, kept)
}

/// One run of the engine: the probers' bookkeeping and everything the loop reuses from one
/// wake-up to the next (the receive buffer, the nonce pool, the rate limit).
struct Engine<'a> {
    clock: &'a dyn LocalClock,
    sockets: &'a Sockets,
    book: Book,
    rate: RateLimit,
    stats: EngineStats,
    /// The receive buffer, one for the whole run.
    buf: Vec<u8>,
    nonces: NoncePool,
    /// Since when sends have been refused for lack of buffer space, if they are.
    blocked_since: Option<i64>,
    /// The probers' timeout: how long sends may stay refused before they count as failed.
    timeout_ns: i64,
}

/// What became of one attempt to send a prober's request.
enum SendOutcome {
    /// Sent on the IPv4 (0) or IPv6 (1) socket.
    Sent(usize),
    /// Not sent, and not to be retried: the prober was told why (or is done).
    Failed,
    /// Refused for lack of buffer space: the prober is back at the head of the queue.
    Blocked,
}

impl Engine<'_> {
    /// Runs the loop until every prober is done: fire the timers that are due, send a burst,
    /// pick up its transmit timestamps, wait for a datagram or the next timer, read.
    fn run_until_done(&mut self) {
        while self.book.remaining > 0 {
            self.fire_timers(self.clock.monotonic_ns());
            let (blocked, sent_on) = self.send_burst();
            // Software transmit timestamps are queued within sendto on loopback and soon
            // after elsewhere: pick them up for the whole burst before any reply can be
            // handled.
            for (sent, sock) in sent_on
                .into_iter()
                .zip([&self.sockets.v4, &self.sockets.v6])
            {
                if let (true, Some(Ok(sock))) = (sent, sock) {
                    read_errqueue(sock, &mut self.book, &mut self.stats);
                }
            }
            if self.book.remaining == 0 {
                break;
            }
            // Wait for a datagram, the next timer, or the next chance to send.
            let sockets = self.sockets;
            let open = sockets.open_ones();
            let wait_ns = self.wait_ns(blocked);
            if open.is_empty() {
                std::thread::sleep(std::time::Duration::from_nanos(wait_ns as u64));
                continue;
            }
            wait_readable(&open, wait_ns);
            // Read what arrived, a bounded amount per socket: transmit timestamps first,
            // then datagrams, until the next timer is due.
            let deadline = self.book.timers.peek().map(|Reverse((w, _))| *w);
            for sock in &open {
                read_errqueue(sock, &mut self.book, &mut self.stats);
                self.read_datagrams(sock, deadline);
            }
            self.book.end_icmp_exchanges(self.clock.monotonic_ns());
        }
    }

    /// Timers: timeouts and scheduled sends. Ticks the probers whose exchange is due to time
    /// out, queues those due to send; skips stale entries.
    fn fire_timers(&mut self, now: i64) {
        let book = &mut self.book;
        while let Some(&Reverse((when, i))) = book.timers.peek() {
            if when > now {
                break;
            }
            book.timers.pop();
            if book.probers[i].next_wakeup_mono_ns() != Some(when) {
                continue; // stale entry
            }
            if book.probers[i].pending_nonce().is_some() {
                book.touch(i, |p| p.on_tick(now));
            } else if book.probers[i].due(now) {
                book.ready.push_back(i);
            }
        }
    }

    /// Sends: in FIFO order so no server starves, within the window and the rate, in bursts
    /// between which the sockets are drained. Returns whether the kernel refused a send for
    /// lack of buffer space, and which sockets (IPv4, IPv6) sent in this burst.
    fn send_burst(&mut self) -> (bool, [bool; 2]) {
        let mut burst = 0;
        let mut sent_on = [false; 2];
        while burst < SEND_BURST && !self.book.ready.is_empty() {
            let now = self.clock.monotonic_ns();
            if !self.book.window.has_room(now) || !self.rate.allows(now) {
                break;
            }
            let Some(i) = self.book.ready.pop_front() else {
                break;
            };
            if !self.book.probers[i].due(now) {
                if let Some(w) = self.book.probers[i].next_wakeup_mono_ns() {
                    self.book.timers.push(Reverse((w, i)));
                }
                continue;
            }
            burst += 1;
            match self.send_one(i) {
                SendOutcome::Sent(family) => sent_on[family] = true,
                SendOutcome::Failed => {}
                SendOutcome::Blocked => return (true, sent_on),
            }
        }
        (false, sent_on)
    }

    /// Draws the keys of prober `i`'s next request, has it make the request and sends it.
    fn send_one(&mut self, i: usize) -> SendOutcome {
        let addr = self.book.probers[i].address();
        let sockets = self.sockets;
        let sock = match sockets.for_addr(&addr) {
            Ok(s) => s,
            Err(e) => {
                self.book.touch(i, |p| p.on_send_error(e));
                return SendOutcome::Failed;
            }
        };
        let Some((nonce, cookie, entropy)) = self.draw_keys(i) else {
            return SendOutcome::Failed;
        };
        let Some(request) = self.book.touch(i, |p| p.request(nonce, cookie, &entropy)) else {
            return SendOutcome::Failed; // the prober cannot make a request (and is done)
        };
        self.transmit(i, sock, addr, &request, nonce)
    }

    /// A fresh nonce, a fresh cookie nonce and, for NTS, fresh entropy for prober `i`'s next
    /// request; `None` (and the prober told why) when the system cannot give them.
    fn draw_keys(&mut self, i: usize) -> Option<(u64, u64, RequestEntropy)> {
        let entropy = if self.book.probers[i].security().is_nts() {
            fresh_entropy()
        } else {
            Ok(RequestEntropy::from_bytes([0; 48]))
        };
        let nonces = &mut self.nonces;
        let drawn = nonces
            .take()
            .and_then(|n| Ok((n, nonces.take()?, entropy?)));
        match drawn {
            Ok(x) => Some(x),
            Err(e) => {
                self.book.touch(i, |p| p.on_send_error(e.to_string()));
                None
            }
        }
    }

    /// Sends prober `i`'s `request` to `addr` on `sock` and books it: in flight, against the
    /// rate, and by its last bytes when they are not its nonce. A send refused for lack of
    /// buffer space is retried shortly, until it has been refused for longer than the timeout.
    fn transmit(
        &mut self,
        i: usize,
        sock: &TimestampedSocket,
        addr: SocketAddr,
        request: &[u8],
        nonce: u64,
    ) -> SendOutcome {
        let book = &mut self.book;
        let mono = self.clock.monotonic_ns();
        let t1 = self.clock.realtime_ns();
        match sock.send_to(request, addr) {
            Ok(_) => {
                self.blocked_since = None;
                self.rate.take(mono);
                book.touch(i, |p| p.on_sent(nonce, t1, mono));
                book.window.sent(i, nonce, mono);
                let tail = tail_of(request);
                if tail != nonce {
                    book.by_tail.insert(tail, nonce);
                }
                SendOutcome::Sent(usize::from(addr.is_ipv6()))
            }
            Err(e) if is_transient(&e) => {
                let since = *self.blocked_since.get_or_insert(mono);
                if mono - since > self.timeout_ns {
                    book.touch(i, |p| {
                        p.on_send_error(format!(
                            "cannot send to {addr}: {e} (for longer than the timeout)"
                        ))
                    });
                    SendOutcome::Failed
                } else {
                    book.ready.push_front(i);
                    SendOutcome::Blocked
                }
            }
            Err(e) => {
                book.touch(i, |p| {
                    p.on_send_error(format!("cannot send to {addr}: {e}"))
                });
                SendOutcome::Failed
            }
        }
    }

    /// How long to wait, in ns: until the next timer or the next chance to send (soon when
    /// sends were `blocked`), at most 1 s; 10 ms when there is neither.
    fn wait_ns(&mut self, blocked: bool) -> i64 {
        let book = &mut self.book;
        let now = self.clock.monotonic_ns();
        let next_timer = book.timers.peek().map(|Reverse((w, _))| *w);
        let next_send = if blocked {
            Some(now + SEND_RETRY_NS)
        } else if book.ready.is_empty() {
            None
        } else if !book.window.has_room(now) {
            // A reply frees a place too (and wakes the poll).
            book.window.next_expiry_ns()
        } else {
            Some(self.rate.next_allowed_ns(now))
        };
        [next_timer, next_send]
            .into_iter()
            .flatten()
            .min()
            .map_or(10_000_000, |w| (w - now).clamp(0, 1_000_000_000))
    }

    /// Reads up to [`READ_BURST`] datagrams from `sock` and hands each to its prober; stops
    /// early at the first one received at or after `deadline` (the next timer).
    fn read_datagrams(&mut self, sock: &TimestampedSocket, deadline: Option<i64>) {
        for _ in 0..READ_BURST {
            let d = match sock.recv(&mut self.buf, self.clock) {
                Ok(Some(d)) => d,
                // An ICMP error reported in the way of the datagrams: read on.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                _ => break,
            };
            self.stats.datagrams += 1;
            if d.rx != skew_ntp::result::TimestampSource::Kernel {
                self.stats.kernel_timestamps = false;
            }
            let arrival = Arrival {
                from: d.from,
                bytes: &self.buf[..d.len],
                t4_unix_ns: d.t4_unix_ns,
                received_mono_ns: d.mono_ns,
            };
            dispatch(&mut self.book, &mut self.stats, &arrival, d.rx);
            if deadline.is_some_and(|w| d.mono_ns >= w) {
                break;
            }
        }
    }
}

/// Waits until one of `open` has something to read, or `wait_ns` has passed.
fn wait_readable(open: &[&TimestampedSocket], wait_ns: i64) {
    let mut fds: Vec<PollFd> = open
        .iter()
        .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
        .collect();
    let ts = TimeSpec::new(wait_ns / 1_000_000_000, wait_ns % 1_000_000_000);
    let _ = ppoll(&mut fds, Some(ts), None);
}

/// The results in target order, with each target's security as the run left it when
/// `keep_sessions` (else none). Probers are in the order of their addresses' first
/// appearance, so each target either opens the next prober's result or repeats an earlier
/// one; each prober is freed as it finishes (100,000 of them are tens of MB).
fn results_in_target_order(
    targets: &[Target],
    groups: &AddressGroups,
    probers: Vec<ServerProber>,
    keep_sessions: bool,
) -> (Vec<ServerResult>, Vec<Security>) {
    let mut probers = probers.into_iter();
    let mut results: Vec<ServerResult> = Vec::with_capacity(targets.len());
    let mut kept: Vec<Security> = Vec::new();
    for (t, &g) in groups.of.iter().enumerate() {
        let owner = groups.first[g];
        if owner == t {
            let p = probers
                .next()
                .expect("one prober per address group, in order");
            if keep_sessions {
                let (r, s) = p.finish_with_security();
                kept.push(s);
                results.push(r);
            } else {
                results.push(p.finish());
            }
        } else {
            if keep_sessions {
                kept.push(targets[t].security.clone());
            }
            // The owner comes first in target order: its result is already in place.
            results.push(repeated_result(
                &results[owner],
                &targets[t],
                &targets[owner],
            ));
        }
    }
    (results, kept)
}

/// The result of `target`, which shares `owner`'s address: a copy of `owner`'s result
/// under `target`'s name, with a warning saying so.
fn repeated_result(of_owner: &ServerResult, target: &Target, owner: &Target) -> ServerResult {
    let mut r = of_owner.clone();
    r.server = target.server.clone();
    r.warnings.push(format!(
        "same address as {}: probed once, this entry repeats its result \
         (one request per interval per address)",
        owner.server
    ));
    r
}

/// Hands one datagram to the prober it may belong to, or counts it as stray.
fn dispatch(
    book: &mut Book,
    stats: &mut EngineStats,
    arrival: &Arrival<'_>,
    rx: skew_ntp::result::TimestampSource,
) {
    let origin = peek_origin(arrival.bytes);
    // Ours by nonce (or by the cookie an interleaved reply echoes): the prober judges it
    // (a wrong source is dropped there).
    if let Some(&i) = origin.and_then(|n| book.by_nonce.get(&n)) {
        let nonce = book.probers[i].pending_nonce();
        let verdict = book.touch(i, |p| p.on_datagram(arrival, rx));
        if let (Some(n), false) = (
            nonce,
            matches!(verdict, skew_ntp::validate::Verdict::Dropped(_)),
        ) {
            // Answered: earlier requests to servers that answer in order were skipped.
            book.window.answered(i, n, arrival.received_mono_ns);
        }
        return;
    }
    // A reply to an exchange that already ended (duplicate, late or replayed).
    if let Some(&i) = origin.and_then(|n| book.old_nonces.get(&n)) {
        if book.probers[i].address() == arrival.from {
            book.probers[i].on_late();
            return;
        }
    }
    // Unknown nonce (or too short to carry one): attribute by source address.
    match book.by_addr.get(&arrival.from) {
        Some(&i) => {
            book.touch(i, |p| p.on_datagram(arrival, rx));
        }
        None => stats.stray += 1,
    }
}

/// The last 8 bytes of a request, as the socket reports them with its transmit timestamp.
fn tail_of(request: &[u8]) -> u64 {
    let n = request.len();
    request
        .get(n.saturating_sub(8)..)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

/// Reads `sock`'s error queue: kernel transmit timestamps go to the probers whose requests
/// they belong to (by nonce, or by the request's last bytes when they are not the nonce), and
/// ICMP errors that quote one of our requests to the address it went to go to its prober.
fn read_errqueue(sock: &TimestampedSocket, book: &mut Book, stats: &mut EngineStats) {
    for entry in sock.recv_errqueue() {
        match entry {
            ErrQueueEntry::Sent { tail, at_unix_ns } => {
                let nonce = book.by_tail.remove(&tail).unwrap_or(tail);
                if let Some(&i) = book.by_nonce.get(&nonce) {
                    book.probers[i].on_tx_timestamp(nonce, at_unix_ns);
                }
            }
            ErrQueueEntry::Icmp {
                to,
                quote,
                quote_len,
                error,
            } => {
                stats.icmp_errors += 1;
                let ours = quoted_nonce(&quote[..quote_len])
                    .and_then(|n| Some((n, *book.by_nonce.get(&n)?)))
                    .filter(|(_, i)| book.probers[*i].address() == to);
                if let Some((nonce, i)) = ours {
                    book.touch(i, |p| p.on_icmp(nonce, error));
                }
            }
        }
    }
}

/// A result for a target whose name did not resolve.
pub fn unresolved(server: &str, error: String) -> ServerResult {
    ServerResult::failed(server, None, Status::Unresolved, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(server: &str, addr: &str) -> Target {
        Target::plain(server, addr.parse().unwrap())
    }

    /// The real clocks, but the monotonic one read in whole 10 ms steps (a coarse clock:
    /// times computed from it coincide exactly, as with simulated clocks).
    struct CoarseClock;

    impl LocalClock for CoarseClock {
        fn realtime_ns(&self) -> i64 {
            crate::SystemClock.realtime_ns()
        }
        fn monotonic_ns(&self) -> i64 {
            crate::SystemClock.monotonic_ns() / 10_000_000 * 10_000_000
        }
    }

    /// Runs the engine in a thread and fails (instead of hanging) if it does not return.
    fn run_bounded(
        targets: Vec<Target>,
        config: EngineConfig,
        limit: std::time::Duration,
    ) -> (Vec<ServerResult>, std::time::Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            let (r, _) = run_probes(&targets, &config, &CoarseClock);
            let _ = tx.send((r, t0.elapsed()));
        });
        rx.recv_timeout(limit)
            .unwrap_or_else(|_| panic!("the engine did not finish within {limit:?}"))
    }

    #[test]
    fn a_timeout_that_ends_when_the_next_send_is_due_does_not_stall() {
        // A socket that never answers; interval = timeout, so each exchange times out at
        // exactly the instant the next request is due (the wake-up time does not change).
        // Found in review: the engine only set a timer when the wake-up time changed, so the
        // prober was left without one and the run never ended.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut config = EngineConfig::default();
        config.probe.samples = 3;
        config.probe.interval_ns = 50_000_000;
        config.probe.timeout_ns = 50_000_000;
        let targets = vec![t("silent", &silent.local_addr().unwrap().to_string())];
        let (r, elapsed) = run_bounded(targets, config, std::time::Duration::from_secs(10));
        assert_eq!(r[0].status, Status::Timeout);
        assert_eq!(r[0].counters.sent, 3);
        assert_eq!(r[0].counters.timeouts, 3);
        assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
    }

    #[test]
    fn sessions_come_back_as_the_run_left_them() {
        use skew_ntp::nts::{Aead, KeFacts, NtsKeys, NtsSession};
        let session = |cookies: usize| {
            Security::Nts(Box::new(NtsSession::new(
                NtsKeys {
                    aead: Aead::AesSivCmac256,
                    c2s: vec![1; 32],
                    s2c: vec![2; 32],
                },
                vec![vec![7; 100]; cookies],
                KeFacts::default(),
            )))
        };
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let mut config = EngineConfig::default();
        config.probe.samples = 1;
        config.probe.timeout_ns = 50_000_000;
        let mk = |server: &str, security: Security| Target {
            server: server.into(),
            address: addr,
            security,
        };
        let targets = vec![
            mk("nts", session(8)),
            t("plain", &addr.to_string()),
            mk("again", session(2)), // the same address: not probed, its session unchanged
        ];
        let (results, _, kept) = run_probes_keeping_sessions(&targets, &config, &CoarseClock);
        assert_eq!(results.len(), 3);
        assert_eq!(kept.len(), 3);
        let s = kept[0].nts().expect("the NTS session");
        assert_eq!(
            (s.cookies(), s.counts().spent),
            (7, 1),
            "one request spent one"
        );
        assert_eq!(kept[1], Security::Plain);
        assert_eq!(kept[2], targets[2].security);
        // The same run without the sessions.
        let (results, _) = run_probes(&targets[..1], &config, &CoarseClock);
        assert_eq!(results[0].status, Status::Timeout);
    }

    #[test]
    fn targets_sharing_an_address_share_one_prober() {
        let targets = [
            t("a", "127.0.0.1:1"),
            t("localhost:1", "127.0.0.1:1"),
            t("b", "[::1]:1"),
            t("a", "127.0.0.1:1"),
            t("c", "127.0.0.1:2"),
            t("b6", "[::1]:1"),
        ];
        let g = group_by_address(&targets);
        assert_eq!(g.first, vec![0, 2, 4]);
        assert_eq!(g.of, vec![0, 0, 1, 0, 2, 1]);
        assert_eq!(
            group_by_address(&[]),
            AddressGroups {
                first: vec![],
                of: vec![]
            }
        );
    }
}
