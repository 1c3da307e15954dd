//! Free UDP ports on loopback, never handed out twice by one test process.
//!
//! Ports are drawn at random *below* the kernel's ephemeral range
//! (`net.ipv4.ip_local_port_range`, 32768–60999 on Debian). A port taken from the ephemeral
//! range by binding port 0 is free only until the next socket somewhere binds port 0: a
//! client socket of a concurrent test then gets it before the peer it was meant for starts
//! (seen as chronyd's "Could not open NTP socket" under a loaded full suite). Below the range
//! only peers that ask for a port by number can take it.

use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::Mutex;

static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A UDP port free on both 127.0.0.1 and ::1 at the time of the call, not returned before
/// by this process.
pub fn free_udp_port() -> u16 {
    for _ in 0..1000 {
        let Ok(s4) = UdpSocket::bind(("127.0.0.1", candidate_port())) else {
            continue;
        };
        let Ok(addr) = s4.local_addr() else { continue };
        let port = addr.port();
        if UdpSocket::bind(("::1", port)).is_err() {
            continue;
        }
        let mut g = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if g.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free UDP port found on loopback");
}

/// A TCP port free on 127.0.0.1 at the time of the call, not returned before by this
/// process (for HTTP peers such as node_exporter).
pub fn free_tcp_port() -> u16 {
    for _ in 0..1000 {
        let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", candidate_port())) else {
            continue;
        };
        let Ok(addr) = l.local_addr() else { continue };
        let port = addr.port();
        let mut g = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if g.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("no free TCP port found on loopback");
}

/// A random port below the ephemeral range (at least 1024 ports wide), or 0 — let the
/// kernel choose — when the range starts too low to leave room below it.
fn candidate_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    const LOWEST: u16 = 10_000;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if ephemeral_low < LOWEST + 1024 {
        return 0;
    }
    // RandomState is seeded randomly per process; the clock varies it per call.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    LOWEST + (h.finish() % u64::from(ephemeral_low - LOWEST)) as u16
}

/// A plain HTTP/1.0 GET on loopback, returning the body (bounded by a 5 s timeout).
pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map_or(text.clone(), |(_, b)| b.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn distinct() {
        let a = super::free_udp_port();
        let b = super::free_udp_port();
        assert_ne!(a, b);
    }

    /// Ports come from below the ephemeral range, where no socket bound to port 0 lands.
    #[test]
    fn below_the_ephemeral_range() {
        let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        for _ in 0..20 {
            let p = super::free_udp_port();
            assert!((10_000..low).contains(&p), "{p} not below {low}");
            let t = super::free_tcp_port();
            assert!((10_000..low).contains(&t), "{t} not below {low}");
        }
    }
}
