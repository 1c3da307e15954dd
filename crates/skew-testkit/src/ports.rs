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

#[cfg(test)]
mod tests {
    #[test]
    fn distinct() {
        let a = super::free_udp_port();
        let b = super::free_udp_port();
        assert_ne!(a, b);
    }
}
