//! The serving loop of `skew serve`: batched receive with kernel timestamps, the pure
//! [`FaultServer`] deciding, held replies in a bounded deadline queue, T3 read right before
//! the batch is handed to the kernel.

use crate::batch::{RecvBatch, SendBatch, BATCH};
use crate::signals;
use crate::timing::{PollSet, Woke};
use skew_fault::serve::{CopyKind, Decision, IgnoreReason, Reply};
use skew_fault::stats::{Lateness, ServeCounters, ServeReport, StopReason};
use skew_fault::{DeadlineQueue, FaultServer, ServeConfig};
use skew_ntp_io::clock::LocalClock;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

/// Limits and knobs of a serving run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServeLimits {
    /// Stop after this long (`--max-seconds`).
    pub max_duration: Option<Duration>,
    /// Stop after answering this many requests (`--max-requests`; lost ones count).
    pub max_requests: Option<u64>,
    /// Capacity of the hold queue (`--queue`).
    pub queue_capacity: usize,
    /// Busy-wait this long before a held reply's due time (`--busy-wait`), ns.
    pub busy_wait_ns: i64,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_duration: None,
            max_requests: None,
            queue_capacity: 65_536,
            busy_wait_ns: 200_000,
        }
    }
}

/// A datagram waiting for its due time.
#[derive(Debug, Clone, Copy)]
struct Held {
    sock: usize,
    to: SocketAddr,
    reply: Reply,
    kind: CopyKind,
}

/// Longest a stopping server waits for held replies before dropping them, ns.
const DRAIN_LIMIT_NS: i64 = 2_000_000_000;
/// Longest single sleep, so limits are checked at least this often, ns.
const MAX_SLEEP_NS: i64 = 100_000_000;

struct Server<'a> {
    core: FaultServer,
    socks: &'a [UdpSocket],
    clock: &'a dyn LocalClock,
    queue: DeadlineQueue<Held>,
    now_batch: Vec<Held>,
    send: SendBatch,
    counters: ServeCounters,
    lateness: Lateness,
    kernel_rx: u64,
}

impl Server<'_> {
    /// Handles one received datagram: decides, and queues or holds what to send.
    fn on_datagram(
        &mut self,
        sock: usize,
        bytes: &[u8],
        from: SocketAddr,
        t2: i64,
        arrival_mono: i64,
    ) {
        self.counters.received += 1;
        match self.core.on_request(bytes, t2) {
            Decision::Ignore(why) => {
                let d = &mut self.counters.dropped;
                match why {
                    IgnoreReason::Short => d.short += 1,
                    IgnoreReason::NotClient => d.not_client += 1,
                    IgnoreReason::BadVersion => d.bad_version += 1,
                }
            }
            Decision::Lost => self.counters.dropped.loss += 1,
            Decision::Send(plan) => {
                for out in plan.sends() {
                    let held = Held {
                        sock,
                        to: from,
                        reply: plan.reply,
                        kind: out.kind,
                    };
                    if out.delay_ns <= 0 {
                        self.now_batch.push(held);
                    } else if self
                        .queue
                        .push(arrival_mono.saturating_add(out.delay_ns), held)
                        .is_err()
                    {
                        self.counters.dropped.queue_full += 1;
                    }
                }
            }
        }
    }

    /// Moves held datagrams that are due into the batch to send now.
    fn collect_due(&mut self) {
        let now = self.clock.monotonic_ns();
        while let Some((due, h)) = self.queue.pop_due(now) {
            self.lateness.record(due, self.clock.monotonic_ns());
            self.counters.faults.held += 1;
            self.now_batch.push(h);
        }
    }

    /// Renders everything in `now_batch` with T3 read now, and sends it, socket by socket.
    fn send_now(&mut self) {
        if self.now_batch.is_empty() {
            return;
        }
        // Group by socket so each sendmmsg goes to one socket (a stable sort keeps each
        // request's datagrams in order; usually all are for one socket and nothing moves).
        if self.now_batch.windows(2).any(|w| w[0].sock > w[1].sock) {
            self.now_batch.sort_by_key(|h| h.sock);
        }
        let mut i = 0;
        while i < self.now_batch.len() {
            let sock = self.now_batch[i].sock;
            // T3: read as late as possible, right before the kernel gets the batch.
            let t3 = self.clock.realtime_ns();
            while i < self.now_batch.len() && self.now_batch[i].sock == sock {
                let h = self.now_batch[i];
                if self.send.is_full() {
                    self.flush(sock);
                }
                let core = &self.core;
                let pushed = self
                    .send
                    .push(&h.to, |buf| core.render(&h.reply, h.kind, t3, buf));
                if pushed {
                    self.count_sent(&h);
                }
                i += 1;
            }
            self.flush(sock);
        }
        self.now_batch.clear();
    }

    fn count_sent(&mut self, h: &Held) {
        let f = &mut self.counters.faults;
        let faults = self.core.config().faults;
        match h.kind {
            CopyKind::Genuine => {
                self.counters.answered += 1;
                if h.reply.kod {
                    f.kod += 1;
                }
                if faults.zero_transmit {
                    f.zero_transmit += 1;
                }
                if faults
                    .truncate
                    .is_some_and(|t| t < skew_ntp::packet::HEADER_LEN)
                {
                    f.truncated += 1;
                }
            }
            CopyKind::Duplicate => f.duplicate += 1,
            CopyKind::WrongOrigin { .. } => f.wrong_origin += 1,
            CopyKind::Garbage { .. } => f.garbage += 1,
        }
    }

    fn flush(&mut self, sock: usize) {
        let r = self.send.flush(self.socks[sock].as_fd());
        self.counters.sent += r.sent;
        self.counters.dropped.send_error += r.failed;
    }

    fn limit_reached(&self, limits: &ServeLimits) -> bool {
        limits
            .max_requests
            .is_some_and(|m| self.core.requests() >= m)
    }
}

/// Serves on the bound `socks` until a signal or a limit, and returns the report.
pub fn run_serve(
    socks: &[UdpSocket],
    config: ServeConfig,
    limits: &ServeLimits,
    clock: &dyn LocalClock,
) -> ServeReport {
    crate::timing::tighten_timer_slack();
    let start_mono = clock.monotonic_ns();
    let end_mono = limits
        .max_duration
        .map(|d| start_mono.saturating_add(skew_time::duration_ns(d)));
    let mut s = Server {
        core: FaultServer::new(config),
        socks,
        clock,
        queue: DeadlineQueue::with_capacity(limits.queue_capacity),
        now_batch: Vec::with_capacity(BATCH * 3 + limits.queue_capacity.min(4096)),
        send: SendBatch::with_capacity(BATCH * 3),
        counters: ServeCounters::default(),
        lateness: Lateness::new(),
        kernel_rx: 0,
    };
    let mut rb = RecvBatch::new();
    let mut set = PollSet::new();
    for sock in socks {
        set.add(sock.as_raw_fd());
    }
    let stopped_by = 'outer: loop {
        if signals::stop_requested() {
            break StopReason::Signal;
        }
        if s.limit_reached(limits) {
            break StopReason::MaxRequests;
        }
        let now = clock.monotonic_ns();
        if end_mono.is_some_and(|e| now >= e) {
            break StopReason::MaxSeconds;
        }
        let deadline = match (s.queue.next_due_ns(), end_mono) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match set.wait(deadline, limits.busy_wait_ns, MAX_SLEEP_NS, clock) {
            Woke::Interrupted => continue,
            Woke::Deadline => {}
            Woke::Readable => {
                for (i, sock) in socks.iter().enumerate() {
                    if !set.ready(i) {
                        continue;
                    }
                    // A few batches per socket per round, so no socket starves the others.
                    for _ in 0..8 {
                        let n = rb.recv(sock.as_fd()).unwrap_or_default();
                        if n == 0 {
                            break;
                        }
                        let real = clock.realtime_ns();
                        let mono = clock.monotonic_ns();
                        for k in 0..n {
                            let d = rb.get(k);
                            let Some(from) = d.from else { continue };
                            if s.limit_reached(limits) {
                                s.counters.received += 1;
                                s.counters.dropped.shutdown += 1;
                                continue;
                            }
                            let (t2, arrival_mono) = match d.kernel_rx_unix_ns {
                                Some(t) => {
                                    s.kernel_rx += 1;
                                    (t, mono - (real - t).clamp(0, 1_000_000_000))
                                }
                                None => (real, mono),
                            };
                            s.on_datagram(i, d.bytes, from, t2, arrival_mono);
                        }
                        s.collect_due();
                        s.send_now();
                        if signals::stop_requested() {
                            continue 'outer;
                        }
                        if n < BATCH {
                            break;
                        }
                    }
                }
            }
        }
        s.collect_due();
        s.send_now();
    };
    // Stopping by a limit: let held replies leave (bounded); by a signal: drop them.
    if stopped_by != StopReason::Signal {
        let drain_end = clock.monotonic_ns() + DRAIN_LIMIT_NS;
        while let Some(due) = s.queue.next_due_ns() {
            if due > drain_end || signals::stop_requested() {
                break;
            }
            let _ = PollSet::new().wait(Some(due), limits.busy_wait_ns, MAX_SLEEP_NS, clock);
            s.collect_due();
            s.send_now();
        }
    }
    s.counters.dropped.shutdown += s.queue.len() as u64;
    ServeReport {
        command: "serve",
        listen: socks
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .map(|a| a.to_string())
            .collect(),
        seed: config.seed,
        elapsed_s: (clock.monotonic_ns() - start_mono) as f64 / 1e9,
        stopped_by,
        kernel_rx_timestamps: s.kernel_rx,
        counters: s.counters,
        scheduling_error: s.lateness.summary(),
    }
}
