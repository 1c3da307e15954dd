//! Conversions between `std::net::SocketAddr` and the kernel's `sockaddr_storage`.

use libc::{sa_family_t, sockaddr_in, sockaddr_in6, sockaddr_storage, socklen_t};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Reads a socket address the kernel wrote (`len` bytes of `ss`); `None` for families
/// other than IPv4 and IPv6 or a short length.
pub fn from_storage(ss: &sockaddr_storage, len: socklen_t) -> Option<SocketAddr> {
    match ss.ss_family as i32 {
        libc::AF_INET if len as usize >= std::mem::size_of::<sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, which is smaller than
            // and alignment-compatible with sockaddr_storage.
            let a = unsafe { &*(ss as *const sockaddr_storage as *const sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &*(ss as *const sockaddr_storage as *const sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                u32::from_be(a.sin6_flowinfo),
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Writes `addr` into `ss` and returns the length to pass to the kernel.
pub fn to_storage(addr: &SocketAddr, ss: &mut sockaddr_storage) -> socklen_t {
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned for sockaddr_in;
            // every field is written below after zeroing.
            let s = unsafe { &mut *(ss as *mut sockaddr_storage as *mut sockaddr_in) };
            // SAFETY: an all-zero sockaddr_in is a valid value.
            *s = unsafe { std::mem::zeroed() };
            s.sin_family = libc::AF_INET as sa_family_t;
            s.sin_port = a.port().to_be();
            s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            std::mem::size_of::<sockaddr_in>() as socklen_t
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let s = unsafe { &mut *(ss as *mut sockaddr_storage as *mut sockaddr_in6) };
            // SAFETY: an all-zero sockaddr_in6 is a valid value.
            *s = unsafe { std::mem::zeroed() };
            s.sin6_family = libc::AF_INET6 as sa_family_t;
            s.sin6_port = a.port().to_be();
            s.sin6_flowinfo = a.flowinfo().to_be();
            s.sin6_addr.s6_addr = a.ip().octets();
            s.sin6_scope_id = a.scope_id();
            std::mem::size_of::<sockaddr_in6>() as socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "127.0.0.1:123",
            "[::1]:4567",
            "192.0.2.7:65535",
            "[fe80::1%2]:9",
        ] {
            let a: SocketAddr = text.parse().unwrap();
            // SAFETY: an all-zero sockaddr_storage is a valid value.
            let mut ss: sockaddr_storage = unsafe { std::mem::zeroed() };
            let len = to_storage(&a, &mut ss);
            assert_eq!(from_storage(&ss, len), Some(a), "{text}");
        }
        // SAFETY: as above.
        let ss: sockaddr_storage = unsafe { std::mem::zeroed() };
        assert_eq!(from_storage(&ss, 128), None);
    }
}
