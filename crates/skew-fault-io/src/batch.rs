//! Batched UDP IO: `recvmmsg` and `sendmmsg` over preallocated buffers, with the kernel's
//! receive timestamp (SO_TIMESTAMPNS) of every datagram. One system call moves up to
//! [`BATCH`] datagrams, and nothing allocates per datagram.

use crate::addr::{from_storage, to_storage};
use libc::{iovec, mmsghdr, sockaddr_storage, socklen_t};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Datagrams moved per system call.
pub const BATCH: usize = 64;
/// Bytes kept of each datagram (NTP with extension fields fits; longer ones are cut).
pub const BUF_LEN: usize = 2048;
/// Control-message space per datagram: one SCM_TIMESTAMPNS (16 + 16 bytes) with room.
const CMSG_LEN: usize = 64;

#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_LEN]);

fn zeroed<T>() -> T {
    // SAFETY: only used for the plain C structs of this module (sockaddr_storage, iovec,
    // mmsghdr), for which all-zero bytes are a valid value.
    unsafe { std::mem::zeroed() }
}

/// One datagram read by [`RecvBatch::recv`].
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The payload (cut to [`BUF_LEN`]).
    pub bytes: &'a [u8],
    /// Where it came from.
    pub from: Option<SocketAddr>,
    /// The kernel's receive timestamp, ns since the Unix epoch, when it gave one.
    pub kernel_rx_unix_ns: Option<i64>,
}

/// Buffers for receiving up to [`BATCH`] datagrams in one `recvmmsg`.
pub struct RecvBatch {
    bufs: Vec<[u8; BUF_LEN]>,
    addrs: Vec<sockaddr_storage>,
    cmsgs: Vec<CmsgBuf>,
    iovs: Vec<iovec>,
    hdrs: Vec<mmsghdr>,
    n: usize,
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch").field("n", &self.n).finish()
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAGAIN)
            | Some(libc::EINTR)
            | Some(libc::ECONNREFUSED)
            | Some(libc::EHOSTUNREACH)
            | Some(libc::ENETUNREACH)
    )
}

impl RecvBatch {
    /// Allocates the buffers (once).
    pub fn new() -> Self {
        RecvBatch {
            bufs: vec![[0u8; BUF_LEN]; BATCH],
            addrs: (0..BATCH).map(|_| zeroed()).collect(),
            cmsgs: vec![CmsgBuf([0; CMSG_LEN]); BATCH],
            iovs: (0..BATCH).map(|_| zeroed()).collect(),
            hdrs: (0..BATCH).map(|_| zeroed()).collect(),
            n: 0,
        }
    }

    /// Reads the datagrams waiting on `fd` (at most [`BATCH`]) without blocking; returns
    /// how many (0 when none wait, or on a transient error such as an ICMP report).
    pub fn recv(&mut self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        self.n = 0;
        for i in 0..BATCH {
            self.iovs[i] = iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: BUF_LEN,
            };
            let h = &mut self.hdrs[i];
            h.msg_len = 0;
            h.msg_hdr.msg_name = (&mut self.addrs[i] as *mut sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<sockaddr_storage>() as socklen_t;
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = self.cmsgs[i].0.as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = CMSG_LEN as _;
            h.msg_hdr.msg_flags = 0;
        }
        // SAFETY: every header points into buffers owned by `self` that outlive the call
        // (name, iovec, data and control buffers with their true sizes), and BATCH is the
        // length of `hdrs`.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if is_transient(&e) { Ok(0) } else { Err(e) };
        }
        self.n = r as usize;
        Ok(self.n)
    }

    /// Datagrams read by the last [`RecvBatch::recv`].
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the last read got nothing.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The `i`-th datagram of the last read.
    pub fn get(&self, i: usize) -> Received<'_> {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(BUF_LEN);
        Received {
            bytes: &self.bufs[i][..len],
            from: from_storage(&self.addrs[i], h.msg_hdr.msg_namelen),
            kernel_rx_unix_ns: rx_timestamp(&h.msg_hdr),
        }
    }
}

/// The SCM_TIMESTAMPNS control message of a received header, if present.
// msg_controllen is usize on glibc but u32 on musl: the cast is needed there.
#[allow(clippy::unnecessary_cast)]
fn rx_timestamp(m: &libc::msghdr) -> Option<i64> {
    if m.msg_control.is_null() || (m.msg_controllen as usize) < std::mem::size_of::<libc::cmsghdr>()
    {
        return None;
    }
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of well-formed
    // control messages; CMSG_FIRSTHDR/NXTHDR stay within that length and CMSG_DATA points
    // inside the message, read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                let ns = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
                return (ns != 0).then_some(ns);
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    None
}

/// Buffers for sending up to `capacity` datagrams with `sendmmsg`.
pub struct SendBatch {
    bufs: Vec<[u8; BUF_LEN]>,
    lens: Vec<usize>,
    addrs: Vec<sockaddr_storage>,
    addr_lens: Vec<socklen_t>,
    iovs: Vec<iovec>,
    hdrs: Vec<mmsghdr>,
    n: usize,
}

impl std::fmt::Debug for SendBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendBatch").field("n", &self.n).finish()
    }
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Datagrams the kernel accepted.
    pub sent: u64,
    /// Datagrams it refused.
    pub failed: u64,
}

impl SendBatch {
    /// Allocates buffers for `capacity` datagrams (once).
    pub fn with_capacity(capacity: usize) -> Self {
        let c = capacity.max(1);
        SendBatch {
            bufs: vec![[0u8; BUF_LEN]; c],
            lens: vec![0; c],
            addrs: (0..c).map(|_| zeroed()).collect(),
            addr_lens: vec![0; c],
            iovs: (0..c).map(|_| zeroed()).collect(),
            hdrs: (0..c).map(|_| zeroed()).collect(),
            n: 0,
        }
    }

    /// Datagrams waiting to be sent.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether no more datagrams fit.
    pub fn is_full(&self) -> bool {
        self.n == self.bufs.len()
    }

    /// Adds a datagram to `to` whose bytes `fill` writes (returning their length). Returns
    /// false, doing nothing, when the batch is full or `fill` wrote nothing.
    pub fn push(&mut self, to: &SocketAddr, fill: impl FnOnce(&mut [u8]) -> usize) -> bool {
        if self.is_full() {
            return false;
        }
        let i = self.n;
        let len = fill(&mut self.bufs[i]).min(BUF_LEN);
        if len == 0 {
            return false;
        }
        self.lens[i] = len;
        self.addr_lens[i] = to_storage(to, &mut self.addrs[i]);
        self.n += 1;
        true
    }

    /// Sends everything waiting on `fd`. A datagram the kernel refuses is counted and
    /// skipped; a full socket buffer is waited out for up to 10 ms.
    pub fn flush(&mut self, fd: BorrowedFd<'_>) -> Flushed {
        let mut out = Flushed::default();
        for i in 0..self.n {
            self.iovs[i] = iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            };
            let h = &mut self.hdrs[i];
            h.msg_len = 0;
            h.msg_hdr.msg_name = (&mut self.addrs[i] as *mut sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = self.addr_lens[i];
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
        }
        let mut off = 0;
        let mut waits = 0;
        while off < self.n {
            // SAFETY: headers off..n point into buffers owned by `self` (names with their
            // lengths, iovecs with the datagram lengths) that outlive the call.
            let r = unsafe {
                libc::sendmmsg(
                    fd.as_raw_fd(),
                    self.hdrs[off..].as_mut_ptr(),
                    (self.n - off) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                off += r as usize;
                out.sent += r as u64;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) if waits < 10 => {
                    waits += 1;
                    let mut p = libc::pollfd {
                        fd: fd.as_raw_fd(),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd, 1 ms timeout.
                    unsafe { libc::poll(&mut p, 1, 1) };
                }
                _ => {
                    off += 1;
                    out.failed += 1;
                }
            }
        }
        self.n = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::bind_udp;
    use std::os::fd::AsFd;

    #[test]
    fn batch_round_trip_with_kernel_timestamps() {
        let a = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let b = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let to = a.local_addr().unwrap();
        let mut s = SendBatch::with_capacity(8);
        for i in 0..5u8 {
            assert!(s.push(&to, |buf| {
                buf[..3].copy_from_slice(&[i, i, i]);
                3
            }));
        }
        assert!(!s.push(&to, |_| 0), "empty datagrams are refused");
        let before = skew_ntp_io::clock::LocalClock::realtime_ns(&skew_ntp_io::SystemClock);
        assert_eq!(s.flush(b.as_fd()).sent, 5);
        let mut r = RecvBatch::new();
        let mut got = 0;
        for _ in 0..100 {
            let n = r.recv(a.as_fd()).unwrap();
            for i in 0..n {
                let d = r.get(i);
                assert_eq!(d.bytes, &[got as u8; 3]);
                assert_eq!(d.from, Some(b.local_addr().unwrap()));
                let ts = d.kernel_rx_unix_ns.expect("kernel timestamp");
                assert!(ts >= before && ts < before + 1_000_000_000);
                got += 1;
            }
            if got == 5 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(got, 5);
        assert_eq!(r.recv(a.as_fd()).unwrap(), 0);
    }
}
