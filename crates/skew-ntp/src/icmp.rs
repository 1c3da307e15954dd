//! ICMP errors about our requests, without IO: which ones mean "unreachable", how they are
//! named, and which request they quote.
//!
//! The IO edge reads the socket's error queue (IP_RECVERR/IPV6_RECVERR) and hands over the
//! ICMP type and code, who sent it, and the start of the datagram it quotes. An error counts
//! only when its quote carries one of our request nonces (an off-path attacker cannot forge
//! that any more than a reply), and even then it does not end the exchange: the prober keeps
//! waiting for a valid reply until the timeout, so a forged error cannot hide a live server.

use std::fmt;
use std::net::IpAddr;

/// ICMPv4 type 3: destination unreachable.
pub const ICMP_DEST_UNREACH: u8 = 3;
/// ICMPv6 type 1: destination unreachable.
pub const ICMP6_DST_UNREACH: u8 = 1;

/// An ICMP error about a datagram we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    /// ICMPv6 (else ICMPv4).
    pub v6: bool,
    /// The ICMP type.
    pub kind: u8,
    /// The ICMP code.
    pub code: u8,
    /// Who sent the error (the host or a router on the way), when the kernel says.
    pub from: Option<IpAddr>,
}

impl IcmpError {
    /// Whether the error says the server cannot be reached: ICMPv4 destination unreachable
    /// (type 3: network, host, port, prohibited...) or ICMPv6 destination unreachable (type
    /// 1). Other errors (time exceeded, fragmentation needed, packet too big...) do not.
    pub fn is_unreachable(&self) -> bool {
        if self.v6 {
            self.kind == ICMP6_DST_UNREACH
        } else {
            self.kind == ICMP_DEST_UNREACH
        }
    }

    /// The name of the type and code, as RFC 792 and RFC 4443 give them.
    pub fn name(&self) -> &'static str {
        match (self.v6, self.kind, self.code) {
            (false, 3, 0) => "network unreachable",
            (false, 3, 1) => "host unreachable",
            (false, 3, 2) => "protocol unreachable",
            (false, 3, 3) => "port unreachable",
            (false, 3, 4) => "fragmentation needed",
            (false, 3, 6) => "destination network unknown",
            (false, 3, 7) => "destination host unknown",
            (false, 3, 9) | (false, 3, 10) | (false, 3, 13) => "administratively prohibited",
            (false, 3, _) => "destination unreachable",
            (false, 11, _) => "time exceeded",
            (true, 1, 0) => "no route to destination",
            (true, 1, 1) => "administratively prohibited",
            (true, 1, 3) => "address unreachable",
            (true, 1, 4) => "port unreachable",
            (true, 1, _) => "destination unreachable",
            (true, 2, _) => "packet too big",
            (true, 3, _) => "time exceeded",
            _ => "error",
        }
    }
}

impl fmt::Display for IcmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ICMP{} {} (type {}, code {})",
            if self.v6 { "v6" } else { "" },
            self.name(),
            self.kind,
            self.code
        )?;
        if let Some(a) = self.from {
            write!(f, " from {a}")?;
        }
        Ok(())
    }
}

/// The nonce of the request an ICMP error quotes: the transmit field of the quoted NTP
/// client request (mode 3). `None` when the quote is too short to hold it (a router may
/// quote only 8 bytes beyond the IP header: the UDP header) or is not a client request.
pub fn quoted_nonce(quote: &[u8]) -> Option<u64> {
    let head = quote.get(..crate::packet::HEADER_LEN)?;
    if head[0] & 7 != crate::packet::MODE_CLIENT {
        return None;
    }
    Some(u64::from_be_bytes(head[40..48].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Packet;

    #[test]
    fn names_and_text() {
        let port = IcmpError {
            v6: false,
            kind: 3,
            code: 3,
            from: Some("127.0.0.1".parse().unwrap()),
        };
        assert!(port.is_unreachable());
        assert_eq!(
            port.to_string(),
            "ICMP port unreachable (type 3, code 3) from 127.0.0.1"
        );
        let v6 = IcmpError {
            v6: true,
            kind: 1,
            code: 4,
            from: None,
        };
        assert!(v6.is_unreachable());
        assert_eq!(v6.to_string(), "ICMPv6 port unreachable (type 1, code 4)");
        let ttl = IcmpError {
            v6: false,
            kind: 11,
            code: 0,
            from: None,
        };
        assert!(!ttl.is_unreachable());
        let too_big = IcmpError {
            v6: true,
            kind: 2,
            code: 0,
            from: None,
        };
        assert!(!too_big.is_unreachable());
    }

    #[test]
    fn the_quote_must_be_one_of_our_requests() {
        let req = Packet::client_request(0x1122_3344_5566_7788).encode();
        assert_eq!(quoted_nonce(&req), Some(0x1122_3344_5566_7788));
        // NTS requests: the header comes first, extension fields after.
        let mut long = req.to_vec();
        long.extend_from_slice(&[9; 100]);
        assert_eq!(quoted_nonce(&long), Some(0x1122_3344_5566_7788));
        // Too short (only part of the request quoted), or not a client request.
        assert_eq!(quoted_nonce(&req[..47]), None);
        assert_eq!(quoted_nonce(&[]), None);
        let mut reply = req;
        reply[0] = (reply[0] & !7) | 4;
        assert_eq!(quoted_nonce(&reply), None);
    }
}
