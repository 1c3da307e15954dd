//! The concurrent probe engine: many [`ServerProber`]s over one socket per address family.
//!
//! Requests to all servers go out concurrently (at most `max_inflight` at once), each
//! address paced by its own state machine (targets sharing an address share one), so a run
//! lasts about samples × interval whatever the number of servers. Replies are matched to requests by the origin field (our random
//! nonce) and checked against the address asked; everything else is counted and dropped.
//! The loop ends when every prober is done: each sends a bounded number of requests with a
//! bounded timeout, so the run is bounded.

use crate::clock::{measure_precision_ns, LocalClock};
use crate::nonce::{fresh_entropy, fresh_nonce};
use crate::socket::{TimestampedSocket, MAX_DATAGRAM};
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::time::TimeSpec;
use skew_ntp::nts::RequestEntropy;
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
    /// Maximum requests in flight at once across all servers.
    pub max_inflight: usize,
}

/// Default limit of requests in flight at once (`--max-inflight`). A request to a dead
/// server holds its slot for the whole timeout, so the limit must exceed the number of dead
/// servers expected in one run for that run to last about one timeout; the sockets are
/// drained between bursts of sends, so replies never overflow the receive buffer whatever
/// the limit.
pub const DEFAULT_MAX_INFLIGHT: usize = 4096;

impl Default for EngineConfig {
    fn default() -> Self {
        let mut probe = ProbeConfig::default();
        probe.bounds.local_precision_ns = 0;
        EngineConfig {
            probe,
            max_inflight: DEFAULT_MAX_INFLIGHT,
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
    inflight: usize,
}

impl Book {
    /// Applies `f` to prober `i`, then updates the bookkeeping for whatever changed: an
    /// exchange that ended frees its nonce and its in-flight slot, a new wake-up time gets
    /// a timer, a prober that finished is counted.
    fn touch<R>(&mut self, i: usize, f: impl FnOnce(&mut ServerProber) -> R) -> R {
        let pending = self.probers[i].pending_nonce();
        let wakeup = self.probers[i].next_wakeup_mono_ns();
        let r = f(&mut self.probers[i]);
        let p = &self.probers[i];
        let now_pending = p.pending_nonce();
        if let Some(n) = pending.filter(|&n| now_pending != Some(n)) {
            self.by_nonce.remove(&n);
            self.old_nonces.insert(n, i);
            self.inflight -= 1;
        }
        if let Some(n) = now_pending.filter(|&n| pending != Some(n)) {
            self.by_nonce.insert(n, i);
            self.inflight += 1;
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
    let n = probers.len();
    let mut book = Book {
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
        inflight: 0,
    };
    let mut stats = EngineStats {
        kernel_timestamps: true,
        ..EngineStats::default()
    };
    let max_inflight = config.max_inflight.max(1);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    // Since when sends have been refused for lack of buffer space, if they are.
    let mut blocked_since: Option<i64> = None;

    while book.remaining > 0 {
        let now = clock.monotonic_ns();
        // Timers: timeouts and scheduled sends.
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
        // Sends: in FIFO order so no server starves, at most max_inflight in flight, in
        // bursts between which the sockets are drained.
        let mut burst = 0;
        let mut blocked = false;
        while book.inflight < max_inflight && burst < SEND_BURST {
            let Some(i) = book.ready.pop_front() else {
                break;
            };
            let now = clock.monotonic_ns();
            if !book.probers[i].due(now) {
                if let Some(w) = book.probers[i].next_wakeup_mono_ns() {
                    book.timers.push(Reverse((w, i)));
                }
                continue;
            }
            burst += 1;
            let addr = book.probers[i].address();
            let sock = match sockets.for_addr(&addr) {
                Ok(s) => s,
                Err(e) => {
                    book.touch(i, |p| p.on_send_error(e));
                    continue;
                }
            };
            let entropy = if book.probers[i].security().is_nts() {
                fresh_entropy()
            } else {
                Ok(RequestEntropy::from_bytes([0; 48]))
            };
            let (nonce, entropy) = match fresh_nonce().and_then(|n| Ok((n, entropy?))) {
                Ok(x) => x,
                Err(e) => {
                    book.touch(i, |p| p.on_send_error(e.to_string()));
                    continue;
                }
            };
            let Some(request) = book.touch(i, |p| p.request(nonce, &entropy)) else {
                continue; // the prober cannot make a request (and is done)
            };
            let mono = clock.monotonic_ns();
            let t1 = clock.realtime_ns();
            match sock.send_to(&request, addr) {
                Ok(_) => {
                    blocked_since = None;
                    book.touch(i, |p| p.on_sent(nonce, t1, mono));
                    let tail = tail_of(&request);
                    if tail != nonce {
                        book.by_tail.insert(tail, nonce);
                    }
                    // Software transmit timestamps are queued within sendto on loopback and
                    // soon after elsewhere: pick them up before any reply can be handled.
                    apply_tx_timestamps(sock, &book.by_nonce, &mut book.by_tail, &mut book.probers);
                }
                Err(e) if is_transient(&e) => {
                    let since = *blocked_since.get_or_insert(mono);
                    if mono - since > probe_cfg.timeout_ns {
                        book.touch(i, |p| {
                            p.on_send_error(format!(
                                "cannot send to {addr}: {e} (for longer than the timeout)"
                            ))
                        });
                    } else {
                        book.ready.push_front(i);
                        blocked = true;
                        break;
                    }
                }
                Err(e) => book.touch(i, |p| {
                    p.on_send_error(format!("cannot send to {addr}: {e}"))
                }),
            }
        }
        if book.remaining == 0 {
            break;
        }
        // Wait for a datagram or the next timer.
        let open = sockets.open_ones();
        let now = clock.monotonic_ns();
        let wait_ns = if blocked {
            SEND_RETRY_NS
        } else if !book.ready.is_empty() && book.inflight < max_inflight {
            0
        } else {
            book.timers.peek().map_or(10_000_000, |Reverse((w, _))| {
                (w - now).clamp(0, 1_000_000_000)
            })
        };
        if open.is_empty() {
            std::thread::sleep(std::time::Duration::from_nanos(wait_ns as u64));
            continue;
        }
        let mut fds: Vec<PollFd> = open
            .iter()
            .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
            .collect();
        let ts = TimeSpec::new(wait_ns / 1_000_000_000, wait_ns % 1_000_000_000);
        let _ = ppoll(&mut fds, Some(ts), None);
        drop(fds);
        // Drain every socket: transmit timestamps first, then datagrams.
        for sock in &open {
            apply_tx_timestamps(sock, &book.by_nonce, &mut book.by_tail, &mut book.probers);
            while let Ok(Some(d)) = sock.recv(&mut buf, clock) {
                stats.datagrams += 1;
                if d.rx != skew_ntp::result::TimestampSource::Kernel {
                    stats.kernel_timestamps = false;
                }
                let arrival = Arrival {
                    from: d.from,
                    bytes: &buf[..d.len],
                    t4_unix_ns: d.t4_unix_ns,
                    received_mono_ns: d.mono_ns,
                };
                let origin = peek_origin(arrival.bytes);
                // Ours by nonce: the prober judges it (a wrong source is dropped there).
                if let Some(&i) = origin.and_then(|n| book.by_nonce.get(&n)) {
                    book.touch(i, |p| p.on_datagram(&arrival, d.rx));
                    continue;
                }
                // A reply to an exchange that already ended (duplicate, late or replayed).
                if let Some(&i) = origin.and_then(|n| book.old_nonces.get(&n)) {
                    if book.probers[i].address() == d.from {
                        book.probers[i].on_late();
                        continue;
                    }
                }
                // Unknown nonce (or too short to carry one): attribute by source address.
                match book.by_addr.get(&d.from) {
                    Some(&i) => {
                        book.touch(i, |p| p.on_datagram(&arrival, d.rx));
                    }
                    None => stats.stray += 1,
                }
            }
        }
    }
    let mut securities: Vec<Option<Security>> = Vec::new();
    let mut probed: Vec<Option<ServerResult>> = book
        .probers
        .into_iter()
        .map(|p| {
            if !keep_sessions {
                return Some(p.finish());
            }
            let (r, s) = p.finish_with_security();
            securities.push(Some(s));
            Some(r)
        })
        .collect();
    let mut results: Vec<ServerResult> = Vec::with_capacity(targets.len());
    let mut kept: Vec<Security> = Vec::new();
    for (t, &g) in groups.of.iter().enumerate() {
        let owner = groups.first[g];
        if keep_sessions {
            kept.push(if owner == t {
                securities[g].take().unwrap_or_default()
            } else {
                targets[t].security.clone()
            });
        }
        match probed[g].take() {
            Some(r) => results.push(r),
            None => {
                // The owner comes first in target order: its result is already in place.
                let mut r = results[owner].clone();
                r.server = targets[t].server.clone();
                r.warnings.push(format!(
                    "same address as {}: probed once, this entry repeats its result \
                     (one request per interval per address)",
                    targets[owner].server
                ));
                results.push(r);
            }
        }
    }
    (results, stats, kept)
}

/// The last 8 bytes of a request, as the socket reports them with its transmit timestamp.
fn tail_of(request: &[u8]) -> u64 {
    let n = request.len();
    request
        .get(n.saturating_sub(8)..)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

/// Hands the kernel transmit timestamps waiting on `sock` to the probers whose requests
/// they belong to (by nonce, or by the request's last bytes when they are not the nonce).
fn apply_tx_timestamps(
    sock: &TimestampedSocket,
    by_nonce: &HashMap<u64, usize>,
    by_tail: &mut HashMap<u64, u64>,
    probers: &mut [ServerProber],
) {
    for (tail, t1) in sock.recv_tx_timestamps() {
        let nonce = by_tail.remove(&tail).unwrap_or(tail);
        if let Some(&i) = by_nonce.get(&nonce) {
            probers[i].on_tx_timestamp(nonce, t1);
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
