//! Server-side UDP sockets: bound before anything is announced, non-blocking, with kernel
//! receive timestamps and large buffers. IPv6 sockets are IPv6-only, so `0.0.0.0:P` and
//! `[::]:P` can both be listened on.

use nix::sys::socket::{
    bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6,
};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

/// Socket buffer size asked for (the kernel caps it at net.core.[rw]mem_max).
const BUFFER_BYTES: usize = 4 << 20;

/// An address that could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    /// The address.
    pub addr: SocketAddr,
    /// Why.
    pub source: io::Error,
}

/// Binds a non-blocking UDP socket to `addr` with kernel receive timestamps
/// (SO_TIMESTAMPNS) and large buffers.
pub fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, BindError> {
    let err = |e: nix::Error| BindError {
        addr,
        source: io::Error::from(e),
    };
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(
        family,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    match addr {
        SocketAddr::V4(a) => bind(fd.as_raw_fd(), &SockaddrIn::from(a)).map_err(err)?,
        SocketAddr::V6(a) => {
            setsockopt(&fd, sockopt::Ipv6V6Only, &true).map_err(err)?;
            bind(fd.as_raw_fd(), &SockaddrIn6::from(a)).map_err(err)?
        }
    }
    let _ = setsockopt(&fd, sockopt::ReceiveTimestampns, &true);
    let _ = setsockopt(&fd, sockopt::RcvBuf, &BUFFER_BYTES);
    let _ = setsockopt(&fd, sockopt::SndBuf, &BUFFER_BYTES);
    Ok(UdpSocket::from(fd))
}

/// Binds every address, in order; the first failure is returned (nothing stays bound).
pub fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<UdpSocket>, BindError> {
    addrs.iter().map(|a| bind_udp(*a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_and_refuses() {
        let s = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let taken = s.local_addr().unwrap();
        let e = bind_udp(taken).unwrap_err();
        assert_eq!(e.source.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().contains(&taken.to_string()));
        // Both families on the same port.
        let v6 = bind_udp(SocketAddr::new("::1".parse().unwrap(), taken.port()));
        assert!(v6.is_ok(), "{v6:?}");
        // An address this host does not have.
        assert!(bind_udp("192.0.2.1:0".parse().unwrap()).is_err());
    }
}
