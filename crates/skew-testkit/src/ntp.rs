//! A minimal blocking NTP client for readiness checks (not the code under test: it only
//! asks "does this server answer yet, and with which stratum and leap?").

use skew_ntp::packet::{Leap, Packet};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// What a readiness query saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Stratum of the reply.
    pub stratum: u8,
    /// Leap indicator of the reply.
    pub leap: Leap,
}

/// Sends one client request to `addr` and waits up to `timeout` for a matching reply.
pub fn query(addr: SocketAddr, timeout: Duration) -> Option<Answer> {
    let bind = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let s = UdpSocket::bind(bind).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    let nonce = 0x5eed_0000_0000_0001u64 ^ (std::process::id() as u64) << 20;
    s.send_to(&Packet::client_request(nonce).encode(), addr)
        .ok()?;
    let mut buf = [0u8; 512];
    let (n, from) = s.recv_from(&mut buf).ok()?;
    let p = Packet::decode(&buf[..n]).ok()?;
    (from == addr && p.origin_ts.0 == nonce).then_some(Answer {
        stratum: p.stratum,
        leap: p.leap,
    })
}
