//! The forwarding loop of `skew proxy`: a UDP impairment proxy in front of one upstream
//! server.
//!
//! Each client (listening socket + client address and port) gets its own upstream socket,
//! connected to the server, like a NAT: whatever the server sends to that socket goes back
//! to that client, so any UDP exchange passes, not only NTP. Every datagram gets its fate
//! from the pure [`Impairer`] and waits in one bounded deadline queue until its due time
//! (kernel arrival time + delay), when it is released; how late each release was is
//! measured and reported.

use crate::batch::{RecvBatch, BUF_LEN};
use crate::signals;
use crate::sockets::{bind_udp, BindError};
use crate::timing::{PollSet, Woke};
use skew_fault::proxy::{shift_server_timestamps, Direction, Fate};
use skew_fault::stats::{Lateness, ProxyCounters, ProxyReport, StopReason};
use skew_fault::{DeadlineQueue, Impairer, ProxyConfig};
use skew_ntp_io::clock::LocalClock;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

/// Limits and knobs of a proxy run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProxyLimits {
    /// Stop after this long (`--max-seconds`).
    pub max_duration: Option<Duration>,
    /// Stop after this many client datagrams (`--max-requests`).
    pub max_requests: Option<u64>,
    /// Capacity of the delay queue, datagrams (`--queue`).
    pub queue_capacity: usize,
    /// Busy-wait this long before a due time (`--busy-wait`), ns.
    pub busy_wait_ns: i64,
    /// Most client sessions at once (`--max-clients`); the least recently used is closed
    /// to make room.
    pub max_clients: usize,
    /// A session idle this long is closed, ns.
    pub idle_timeout_ns: i64,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        ProxyLimits {
            max_duration: None,
            max_requests: None,
            queue_capacity: 4096,
            busy_wait_ns: 200_000,
            max_clients: 256,
            idle_timeout_ns: 60_000_000_000,
        }
    }
}

struct Session {
    listen: usize,
    client: SocketAddr,
    upstream: UdpSocket,
    last_used_mono: i64,
    generation: u64,
}

struct Pending {
    dir: Direction,
    read_mono: i64,
    session: usize,
    generation: u64,
    len: usize,
    buf: [u8; BUF_LEN],
}

/// Longest a stopping proxy keeps forwarding what is in flight, ns.
const DRAIN_LIMIT_NS: i64 = 2_000_000_000;
/// After a limit, stop once nothing arrived from upstream for this long and the queue is
/// empty, ns.
const DRAIN_QUIET_NS: i64 = 100_000_000;
const MAX_SLEEP_NS: i64 = 100_000_000;

struct Proxy<'a> {
    listen: &'a [UdpSocket],
    upstream: SocketAddr,
    clock: &'a dyn LocalClock,
    impairer: Impairer,
    limits: ProxyLimits,
    sessions: Vec<Option<Session>>,
    by_client: HashMap<(usize, SocketAddr), usize>,
    next_generation: u64,
    queue: DeadlineQueue<Pending>,
    counters: ProxyCounters,
    lateness: Lateness,
    immediate: Lateness,
    last_upstream_mono: i64,
}

impl Proxy<'_> {
    fn session_for(&mut self, listen: usize, client: SocketAddr, now: i64) -> Option<usize> {
        if let Some(&i) = self.by_client.get(&(listen, client)) {
            return Some(i);
        }
        let bind: SocketAddr = if self.upstream.is_ipv4() {
            "0.0.0.0:0".parse().ok()?
        } else {
            "[::]:0".parse().ok()?
        };
        let sock = bind_udp(bind).ok()?;
        sock.connect(self.upstream).ok()?;
        let slot = match self.sessions.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None if self.sessions.len() < self.limits.max_clients.max(1) => {
                self.sessions.push(None);
                self.sessions.len() - 1
            }
            None => {
                // Evict the least recently used session.
                let (i, _) = self
                    .sessions
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.last_used_mono)))
                    .min_by_key(|&(_, t)| t)?;
                self.close(i);
                i
            }
        };
        self.next_generation += 1;
        self.sessions[slot] = Some(Session {
            listen,
            client,
            upstream: sock,
            last_used_mono: now,
            generation: self.next_generation,
        });
        self.by_client.insert((listen, client), slot);
        self.counters.clients += 1;
        Some(slot)
    }

    fn close(&mut self, i: usize) {
        if let Some(s) = self.sessions[i].take() {
            self.by_client.remove(&(s.listen, s.client));
        }
    }

    fn expire_idle(&mut self, now: i64) {
        for i in 0..self.sessions.len() {
            let idle = self.sessions[i]
                .as_ref()
                .is_some_and(|s| now - s.last_used_mono > self.limits.idle_timeout_ns);
            if idle {
                self.close(i);
            }
        }
    }

    /// Schedules the copies of one datagram according to its fate.
    fn schedule(
        &mut self,
        dir: Direction,
        session: usize,
        bytes: &[u8],
        arrival_mono: i64,
        read_mono: i64,
    ) {
        let path = match dir {
            Direction::Fwd => &mut self.counters.fwd,
            Direction::Back => &mut self.counters.back,
        };
        path.received += 1;
        let Some(generation) = self.sessions[session].as_ref().map(|s| s.generation) else {
            return;
        };
        match self.impairer.decide(dir) {
            Fate::Lost => {
                path.lost += 1;
                match dir {
                    Direction::Fwd => self.counters.dropped.loss_fwd += 1,
                    Direction::Back => self.counters.dropped.loss_back += 1,
                }
            }
            Fate::Deliver {
                delay_ns,
                duplicate_delay_ns,
                reordered,
            } => {
                if reordered {
                    path.reordered += 1;
                }
                if duplicate_delay_ns.is_some() {
                    path.duplicated += 1;
                }
                let len = bytes.len().min(BUF_LEN);
                for delay in std::iter::once(delay_ns).chain(duplicate_delay_ns) {
                    let mut p = Pending {
                        dir,
                        read_mono,
                        session,
                        generation,
                        len,
                        buf: [0u8; BUF_LEN],
                    };
                    p.buf[..len].copy_from_slice(&bytes[..len]);
                    if self
                        .queue
                        .push(arrival_mono.saturating_add(delay), p)
                        .is_err()
                    {
                        self.counters.dropped.queue_full += 1;
                    }
                }
            }
        }
    }

    /// Sends every datagram that is due.
    fn release_due(&mut self) {
        loop {
            let now = self.clock.monotonic_ns();
            let Some((due, p)) = self.queue.pop_due(now) else {
                break;
            };
            let Some(s) = self.sessions[p.session]
                .as_mut()
                .filter(|s| s.generation == p.generation)
            else {
                self.counters.dropped.evicted += 1;
                continue;
            };
            s.last_used_mono = now;
            let sent_at = self.clock.monotonic_ns();
            let r = match p.dir {
                Direction::Fwd => s.upstream.send(&p.buf[..p.len]),
                Direction::Back => self.listen[s.listen].send_to(&p.buf[..p.len], s.client),
            };
            if due > p.read_mono {
                self.lateness.record(due, sent_at);
            } else {
                self.immediate.record(due, sent_at);
            }
            match (r, p.dir) {
                (Ok(_), Direction::Fwd) => self.counters.fwd.forwarded += 1,
                (Ok(_), Direction::Back) => {
                    self.counters.back.forwarded += 1;
                    self.counters.answered += 1;
                }
                (Err(_), _) => self.counters.dropped.send_error += 1,
            }
        }
    }

    /// Reads what waits on `sock` and schedules it.
    fn receive(&mut self, rb: &mut RecvBatch, dir: Direction, index: usize, accept_clients: bool) {
        for _ in 0..8 {
            let n = {
                let sock = match dir {
                    Direction::Fwd => self.listen[index].as_fd(),
                    Direction::Back => match &self.sessions[index] {
                        Some(s) => s.upstream.as_fd(),
                        None => return,
                    },
                };
                rb.recv(sock).unwrap_or(0)
            };
            if n == 0 {
                return;
            }
            let real = self.clock.realtime_ns();
            let mono = self.clock.monotonic_ns();
            for k in 0..n {
                let d = rb.get(k);
                let arrival = match d.kernel_rx_unix_ns {
                    Some(t) => mono - (real - t).clamp(0, 1_000_000_000),
                    None => mono,
                };
                self.counters.received += 1;
                match dir {
                    Direction::Fwd => {
                        let Some(from) = d.from else { continue };
                        if !accept_clients
                            || self
                                .limits
                                .max_requests
                                .is_some_and(|m| self.counters.fwd.received >= m)
                        {
                            self.counters.dropped.shutdown += 1;
                            continue;
                        }
                        let Some(s) = self.session_for(index, from, mono) else {
                            self.counters.dropped.send_error += 1;
                            continue;
                        };
                        if let Some(sess) = self.sessions[s].as_mut() {
                            sess.last_used_mono = mono;
                        }
                        self.schedule(Direction::Fwd, s, d.bytes, arrival, mono);
                    }
                    Direction::Back => {
                        self.last_upstream_mono = mono;
                        let shift = self.impairer.config().shift_ns;
                        if shift != 0 {
                            let mut copy = [0u8; BUF_LEN];
                            let len = d.bytes.len();
                            copy[..len].copy_from_slice(d.bytes);
                            if shift_server_timestamps(&mut copy[..len], shift) {
                                self.counters.shifted += 1;
                            }
                            self.schedule(Direction::Back, index, &copy[..len], arrival, mono);
                        } else {
                            self.schedule(Direction::Back, index, d.bytes, arrival, mono);
                        }
                    }
                }
            }
            self.release_due();
        }
    }
}

/// Binds one upstream-facing socket to check that the upstream's family is usable.
pub fn check_upstream(upstream: SocketAddr) -> Result<(), BindError> {
    let bind: SocketAddr = if upstream.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
    };
    let s = bind_udp(bind)?;
    s.connect(upstream).map_err(|source| BindError {
        addr: upstream,
        source,
    })
}

/// Forwards between clients on the bound `listen` sockets and `upstream` until a signal or
/// a limit, and returns the report.
pub fn run_proxy(
    listen: &[UdpSocket],
    upstream: SocketAddr,
    config: ProxyConfig,
    limits: &ProxyLimits,
    clock: &dyn LocalClock,
) -> ProxyReport {
    crate::timing::tighten_timer_slack();
    let start = clock.monotonic_ns();
    let end = limits
        .max_duration
        .map(|d| start.saturating_add(skew_time::duration_ns(d)));
    let mut p = Proxy {
        listen,
        upstream,
        clock,
        impairer: Impairer::new(config),
        limits: *limits,
        sessions: Vec::new(),
        by_client: HashMap::new(),
        next_generation: 0,
        queue: DeadlineQueue::with_capacity(limits.queue_capacity),
        counters: ProxyCounters::default(),
        lateness: Lateness::new(),
        immediate: Lateness::new(),
        last_upstream_mono: start,
    };
    let mut rb = RecvBatch::new();
    let mut set = PollSet::new();
    let mut stopping: Option<(StopReason, i64)> = None;
    let mut last_housekeeping = start;
    let mut owners: Vec<usize> = Vec::with_capacity(limits.max_clients);
    let stopped_by = loop {
        let now = clock.monotonic_ns();
        if signals::stop_requested() {
            break StopReason::Signal;
        }
        if stopping.is_none() {
            if end.is_some_and(|e| now >= e) {
                stopping = Some((StopReason::MaxSeconds, now));
            } else if limits
                .max_requests
                .is_some_and(|m| p.counters.fwd.received >= m)
            {
                stopping = Some((StopReason::MaxRequests, now));
            }
        }
        if let Some((why, since)) = stopping {
            let quiet = now - p.last_upstream_mono.max(since) >= DRAIN_QUIET_NS;
            if (p.queue.is_empty() && quiet) || now - since >= DRAIN_LIMIT_NS {
                break why;
            }
        }
        if now - last_housekeeping > 1_000_000_000 {
            p.expire_idle(now);
            last_housekeeping = now;
        }
        set.clear();
        for s in listen {
            set.add(s.as_raw_fd());
        }
        owners.clear();
        for (i, s) in p.sessions.iter().enumerate() {
            if let Some(s) = s {
                set.add(s.upstream.as_raw_fd());
                owners.push(i);
            }
        }
        let deadline = match (p.queue.next_due_ns(), end.filter(|_| stopping.is_none())) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let woke = set.wait(deadline, limits.busy_wait_ns, MAX_SLEEP_NS, clock);
        p.release_due();
        if woke == Woke::Readable {
            for i in 0..listen.len() {
                if set.ready(i) {
                    p.receive(&mut rb, Direction::Fwd, i, stopping.is_none());
                }
            }
            for (k, &i) in owners.iter().enumerate() {
                if set.ready(listen.len() + k) {
                    p.receive(&mut rb, Direction::Back, i, true);
                }
            }
        }
        p.release_due();
    };
    p.counters.dropped.shutdown += p.queue.len() as u64;
    ProxyReport {
        command: "proxy",
        listen: listen
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .map(|a| a.to_string())
            .collect(),
        upstream: upstream.to_string(),
        seed: config.seed,
        elapsed_s: (clock.monotonic_ns() - start) as f64 / 1e9,
        stopped_by,
        counters: p.counters,
        scheduling_error: p.lateness.summary(),
        immediate_latency: p.immediate.summary(),
    }
}
