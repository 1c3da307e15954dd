//! A bounded NTP load generator for benchmarks: client requests to one server as fast as
//! it answers, with a window of requests in flight, limited in count and in time.
//!
//! Requests carry a tag in the upper half of the transmit field and a sequence number in
//! the lower half; a reply counts only if it is a server reply (mode 4) echoing one of
//! ours. When nothing comes back for `stall` the window is refilled (those requests count
//! as lost), so a server that drops cannot stall the run.

use crate::batch::{RecvBatch, SendBatch, BATCH};
use crate::sockets::{bind_udp, BindError};
use crate::timing::PollSet;
use skew_ntp::packet::{Packet, HEADER_LEN, MODE_SERVER};
use skew_ntp_io::clock::{LocalClock, SystemClock};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadConfig {
    /// The server.
    pub target: SocketAddr,
    /// Stop after sending this many requests.
    pub max_requests: u64,
    /// Stop after this long.
    pub max_duration: Duration,
    /// Requests in flight at most.
    pub window: usize,
    /// Silence after which the requests in flight count as lost.
    pub stall: Duration,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadResult {
    /// Requests sent.
    pub sent: u64,
    /// Valid replies received.
    pub replies: u64,
    /// Datagrams received that were not a reply to one of ours.
    pub invalid: u64,
    /// Requests never answered.
    pub lost: u64,
    /// Wall time of the run, s.
    pub elapsed_s: f64,
}

impl LoadResult {
    /// Valid replies per second.
    pub fn replies_per_s(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.replies as f64 / self.elapsed_s
        } else {
            0.0
        }
    }
}

/// Runs the load until `max_requests` were sent and answered (or lost), or `max_duration`
/// passed.
pub fn run_load(cfg: &LoadConfig) -> Result<LoadResult, BindError> {
    let clock = SystemClock;
    let bind: SocketAddr = if cfg.target.is_ipv4() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0))
    };
    let sock = bind_udp(bind)?;
    let tag = (std::process::id() ^ 0x5eed_0000) as u64;
    let mut send = SendBatch::with_capacity(BATCH);
    let mut recv = RecvBatch::new();
    let mut set = PollSet::new();
    set.add(sock.as_raw_fd());
    let start = clock.monotonic_ns();
    let end = start + skew_time::duration_ns(cfg.max_duration);
    let window = cfg.window.max(1) as u64;
    let stall = skew_time::duration_ns(cfg.stall);
    let mut r = LoadResult {
        sent: 0,
        replies: 0,
        invalid: 0,
        lost: 0,
        elapsed_s: 0.0,
    };
    let mut last_reply = start;
    // Requests given up on after a stall (their replies may still come, and then count).
    let mut written_off = 0u64;
    loop {
        let now = clock.monotonic_ns();
        let in_flight = r.sent.saturating_sub(r.replies + written_off);
        // Done when everything sent is answered, or nothing came for a whole stall period
        // after the last requests were given up on.
        let all_sent = r.sent >= cfg.max_requests;
        if now >= end
            || (all_sent && r.replies >= r.sent)
            || (all_sent && in_flight == 0 && now - last_reply > stall)
        {
            break;
        }
        if in_flight > 0 && now - last_reply > stall {
            written_off += in_flight;
            last_reply = now;
            continue;
        }
        let mut room = window
            .saturating_sub(in_flight)
            .min(cfg.max_requests - r.sent);
        while room > 0 {
            let k = room.min(BATCH as u64);
            for j in 0..k {
                let nonce = tag << 32 | ((r.sent + j) & 0xffff_ffff);
                send.push(&cfg.target, |buf| {
                    buf[..HEADER_LEN].copy_from_slice(&Packet::client_request(nonce).encode());
                    HEADER_LEN
                });
            }
            let f = send.flush(sock.as_fd());
            r.sent += f.sent;
            written_off += f.failed;
            room -= k;
        }
        let _ = set.wait(Some(now + 1_000_000), 0, 1_000_000, &clock);
        loop {
            let n = recv.recv(sock.as_fd()).unwrap_or(0);
            for i in 0..n {
                let d = recv.get(i);
                match Packet::decode(d.bytes) {
                    Ok(p) if p.mode == MODE_SERVER && p.origin_ts.0 >> 32 == tag => {
                        r.replies += 1;
                    }
                    _ => r.invalid += 1,
                }
            }
            if n > 0 {
                last_reply = clock.monotonic_ns();
            }
            if n < BATCH {
                break;
            }
        }
    }
    r.elapsed_s = (clock.monotonic_ns() - start) as f64 / 1e9;
    r.lost = r.sent.saturating_sub(r.replies);
    Ok(r)
}
