//! A fuzzed reply judged against a fuzzed request and arrival: `validate_reply` never
//! panics, and its verdict is consistent with the bytes (a drop names the rule that failed,
//! a measurement's timestamps are the ones in the packet).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_ntp::bounds::BoundParams;
use skew_ntp::packet::{Packet, HEADER_LEN};
use skew_ntp::validate::{validate_reply, Arrival, DropReason, Request, Verdict};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

#[derive(Debug, Arbitrary)]
struct Input {
    nonce: u64,
    t1_unix_ns: i64,
    sent_mono_ns: i64,
    t4_unix_ns: i64,
    received_mono_ns: i64,
    local_precision_ns: i64,
    drift_ppm: u16,
    /// 0: the expected address; otherwise another address or port.
    source: u8,
    /// Write the request's nonce into the origin field (most replies are then judged in
    /// full rather than dropped at the origin check).
    echo_nonce: bool,
    bytes: Vec<u8>,
}

fn expected() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 123)
}

fuzz_target!(|input: Input| {
    let mut bytes = input.bytes;
    if input.echo_nonce && bytes.len() >= HEADER_LEN {
        bytes[24..32].copy_from_slice(&input.nonce.to_be_bytes());
    }
    let from = match input.source % 4 {
        0 => expected(),
        1 => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 124),
        2 => SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 123),
        _ => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 123),
    };
    let request = Request {
        nonce: input.nonce,
        t1_unix_ns: input.t1_unix_ns,
        sent_mono_ns: input.sent_mono_ns,
    };
    let arrival = Arrival {
        from,
        bytes: &bytes,
        t4_unix_ns: input.t4_unix_ns,
        received_mono_ns: input.received_mono_ns,
    };
    let params = BoundParams {
        local_precision_ns: input.local_precision_ns,
        max_drift_ppm: f64::from(input.drift_ppm),
    };
    let verdict = validate_reply(expected(), &request, &arrival, &params);
    match verdict {
        Verdict::Dropped(DropReason::WrongSource { from: f }) => {
            assert_eq!(f, from);
            assert_ne!(from, expected());
        }
        Verdict::Dropped(DropReason::Truncated { len }) => {
            assert_eq!(from, expected());
            assert!(len < HEADER_LEN);
        }
        Verdict::Dropped(reason) => {
            let p = Packet::decode(&bytes).expect("judged beyond the length check");
            match reason {
                DropReason::OriginMismatch => assert_ne!(p.origin_ts.0, input.nonce),
                DropReason::BadMode(m) => assert_eq!(m, p.mode),
                DropReason::BadVersion(v) => assert_eq!(v, p.version),
                _ => unreachable!(),
            }
        }
        Verdict::Measured(m) => {
            let p = Packet::decode(&bytes).expect("measured");
            assert_eq!(p.origin_ts.0, input.nonce);
            assert_eq!(m.sample.t1_ns, input.t1_unix_ns);
            assert_eq!(m.sample.t4_ns, input.t4_unix_ns);
            assert!(m.sample.t3_ns >= m.sample.t2_ns);
            let _ = skew_ntp::bounds::sample_bound(&m.sample, m.header.precision_ns(), &params);
        }
        Verdict::Kiss(code, header) => {
            assert_eq!(header.stratum, 0);
            let _ = code.as_str();
        }
        Verdict::Invalid(why, _) => {
            let _ = (why.key(), why.to_string());
        }
    }
});
