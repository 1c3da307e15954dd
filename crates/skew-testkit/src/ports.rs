//! Free UDP ports on loopback, never handed out twice by one test process.

use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::Mutex;

static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A UDP port free on both 127.0.0.1 and ::1 at the time of the call, not returned before
/// by this process.
pub fn free_udp_port() -> u16 {
    for _ in 0..1000 {
        let Ok(s4) = UdpSocket::bind("127.0.0.1:0") else {
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
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = l.local_addr() else { continue };
        let mut g = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if g.get_or_insert_with(HashSet::new).insert(addr.port()) {
            return addr.port();
        }
    }
    panic!("no free TCP port found on loopback");
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
}
