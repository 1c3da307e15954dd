//! The concurrent probe engine: many [`ServerProber`]s over one socket per address family.
//!
//! Requests to all servers go out concurrently (at most `max_inflight` at once), each
//! server paced by its own state machine, so a run lasts about samples × interval whatever
//! the number of servers. Replies are matched to requests by the origin field (our random
//! nonce) and checked against the address asked; everything else is counted and dropped.
//! The loop ends when every prober is done: each sends a bounded number of requests with a
//! bounded timeout, so the run is bounded.

use crate::clock::{measure_precision_ns, LocalClock};
use crate::nonce::fresh_nonce;
use crate::socket::{TimestampedSocket, MAX_DATAGRAM};
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::time::TimeSpec;
use skew_ntp::packet::peek_origin;
use skew_ntp::prober::request_bytes;
use skew_ntp::validate::{Arrival, Verdict};
use skew_ntp::{ProbeConfig, ServerProber, ServerResult, Status};
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

impl Default for EngineConfig {
    fn default() -> Self {
        let mut probe = ProbeConfig::default();
        probe.bounds.local_precision_ns = 0;
        EngineConfig {
            probe,
            max_inflight: 512,
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

/// Probes every target and returns one result per target, in the targets' order.
pub fn run_probes(
    targets: &[Target],
    config: &EngineConfig,
    clock: &dyn LocalClock,
) -> (Vec<ServerResult>, EngineStats) {
    let mut probe_cfg = config.probe;
    if probe_cfg.bounds.local_precision_ns <= 0 {
        probe_cfg.bounds.local_precision_ns = measure_precision_ns(clock);
    }
    let sockets = Sockets::open(targets);
    let start = clock.monotonic_ns();
    let mut probers: Vec<ServerProber> = targets
        .iter()
        .map(|t| ServerProber::new(&t.server, t.address, probe_cfg, start))
        .collect();
    let mut by_addr: HashMap<SocketAddr, Vec<usize>> = HashMap::new();
    for (i, t) in targets.iter().enumerate() {
        by_addr.entry(t.address).or_default().push(i);
    }
    let mut by_nonce: HashMap<u64, usize> = HashMap::new();
    let mut old_nonces: HashMap<u64, usize> = HashMap::new();
    let mut timers: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    let mut ready: VecDeque<usize> = (0..probers.len()).collect();
    let mut inflight = 0usize;
    let mut stats = EngineStats {
        kernel_timestamps: true,
        ..EngineStats::default()
    };
    let max_inflight = config.max_inflight.max(1);
    let mut buf = vec![0u8; MAX_DATAGRAM];

    // Ends an exchange's bookkeeping after the prober left the Waiting state.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        i: usize,
        nonce: u64,
        probers: &[ServerProber],
        by_nonce: &mut HashMap<u64, usize>,
        old_nonces: &mut HashMap<u64, usize>,
        inflight: &mut usize,
        timers: &mut BinaryHeap<Reverse<(i64, usize)>>,
    ) {
        by_nonce.remove(&nonce);
        old_nonces.insert(nonce, i);
        *inflight -= 1;
        if let Some(w) = probers[i].next_wakeup_mono_ns() {
            timers.push(Reverse((w, i)));
        }
    }

    loop {
        let now = clock.monotonic_ns();
        // Timers: timeouts and scheduled sends.
        while let Some(&Reverse((when, i))) = timers.peek() {
            if when > now {
                break;
            }
            timers.pop();
            if probers[i].next_wakeup_mono_ns() != Some(when) {
                continue; // stale entry
            }
            if let Some(nonce) = probers[i].pending_nonce() {
                probers[i].on_tick(now);
                if probers[i].pending_nonce().is_none() {
                    settle(
                        i,
                        nonce,
                        &probers,
                        &mut by_nonce,
                        &mut old_nonces,
                        &mut inflight,
                        &mut timers,
                    );
                }
            } else if probers[i].due(now) {
                ready.push_back(i);
            }
        }
        // Sends, bounded by max_inflight, in FIFO order so no server starves.
        while inflight < max_inflight {
            let Some(i) = ready.pop_front() else { break };
            if !probers[i].due(clock.monotonic_ns()) {
                if let Some(w) = probers[i].next_wakeup_mono_ns() {
                    timers.push(Reverse((w, i)));
                }
                continue;
            }
            let addr = probers[i].address();
            let sent = sockets.for_addr(&addr).and_then(|sock| {
                let nonce = fresh_nonce().map_err(|e| e.to_string())?;
                let bytes = request_bytes(nonce);
                let mono = clock.monotonic_ns();
                let t1 = clock.realtime_ns();
                sock.send_to(&bytes, addr)
                    .map_err(|e| format!("cannot send to {addr}: {e}"))?;
                Ok((nonce, t1, mono))
            });
            match sent {
                Ok((nonce, t1, mono)) => {
                    probers[i].on_sent(nonce, t1, mono);
                    by_nonce.insert(nonce, i);
                    inflight += 1;
                    // Software transmit timestamps are queued within sendto on loopback and
                    // soon after elsewhere: pick them up before any reply can be handled.
                    if let Ok(sock) = sockets.for_addr(&addr) {
                        apply_tx_timestamps(sock, &by_nonce, &mut probers);
                    }
                }
                Err(e) => probers[i].on_send_error(e),
            }
            if let Some(w) = probers[i].next_wakeup_mono_ns() {
                timers.push(Reverse((w, i)));
            }
        }
        if probers.iter().all(|p| p.is_done()) {
            break;
        }
        // Wait for a datagram or the next timer.
        let open = sockets.open_ones();
        let now = clock.monotonic_ns();
        let wait_ns = if !ready.is_empty() && inflight < max_inflight {
            0
        } else {
            timers.peek().map_or(10_000_000, |Reverse((w, _))| {
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
            apply_tx_timestamps(sock, &by_nonce, &mut probers);
            while let Ok(Some(d)) = sock.recv(&mut buf, clock) {
                stats.datagrams += 1;
                if d.rx != skew_ntp::result::TimestampSource::Kernel {
                    stats.kernel_timestamps = false;
                }
                let bytes = &buf[..d.len];
                let arrival = Arrival {
                    from: d.from,
                    bytes,
                    t4_unix_ns: d.t4_unix_ns,
                    received_mono_ns: d.mono_ns,
                };
                let origin = peek_origin(bytes);
                let owner = origin.and_then(|n| by_nonce.get(&n).copied());
                if let Some(i) = owner {
                    let nonce = origin.unwrap_or_default();
                    let verdict = probers[i].on_datagram(&arrival, d.rx);
                    if !matches!(verdict, Verdict::Dropped(_)) {
                        settle(
                            i,
                            nonce,
                            &probers,
                            &mut by_nonce,
                            &mut old_nonces,
                            &mut inflight,
                            &mut timers,
                        );
                    }
                    continue;
                }
                if let Some(&i) = origin.and_then(|n| old_nonces.get(&n)) {
                    if probers[i].address() == d.from {
                        probers[i].on_late();
                        continue;
                    }
                }
                // Unknown nonce (or too short to carry one): attribute by source address.
                match by_addr.get(&d.from).and_then(|v| {
                    v.iter()
                        .copied()
                        .find(|&i| probers[i].pending_nonce().is_some())
                        .or(v.first().copied())
                }) {
                    Some(i) => {
                        let nonce = probers[i].pending_nonce();
                        let verdict = probers[i].on_datagram(&arrival, d.rx);
                        if let (Some(n), false) = (nonce, matches!(verdict, Verdict::Dropped(_))) {
                            settle(
                                i,
                                n,
                                &probers,
                                &mut by_nonce,
                                &mut old_nonces,
                                &mut inflight,
                                &mut timers,
                            );
                        }
                    }
                    None => stats.stray += 1,
                }
            }
        }
    }
    let results = probers.into_iter().map(|p| p.finish()).collect();
    (results, stats)
}

/// Hands the kernel transmit timestamps waiting on `sock` to the probers whose requests
/// they belong to.
fn apply_tx_timestamps(
    sock: &TimestampedSocket,
    by_nonce: &HashMap<u64, usize>,
    probers: &mut [ServerProber],
) {
    for (nonce, t1) in sock.recv_tx_timestamps() {
        if let Some(&i) = by_nonce.get(&nonce) {
            probers[i].on_tx_timestamp(nonce, t1);
        }
    }
}

/// A result for a target whose name did not resolve.
pub fn unresolved(server: &str, error: String) -> ServerResult {
    ServerResult::failed(server, None, Status::Unresolved, error)
}
