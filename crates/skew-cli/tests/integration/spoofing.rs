//! An off-path attacker against `skew probe`: a real forging peer on loopback answers each
//! request with forged replies first — the right nonce from another port, the right nonce
//! from another address (127.0.0.2, same port), a wrong nonce from the server's own address,
//! a replay of the previous genuine reply — and only then the genuine reply. Every forgery
//! must be rejected and counted by reason, and the genuine reply still accepted in the same
//! exchange: status ok, the configured offset measured, no timeouts.

use crate::common::*;
use skew_ntp::packet::{Leap, Packet, MODE_CLIENT, MODE_SERVER};
use skew_ntp::timestamp::{NtpShort, NtpTimestamp};
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the genuine server serves: the local clock + 250 ms.
const OFFSET_NS: i64 = 250_000_000;
/// How far the forged replies' timestamps are off: an hour, so accepting one would show.
const FORGED_SHIFT_NS: i64 = 3_600_000_000_000;

fn now_unix_ns() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    d.as_secs() as i64 * 1_000_000_000 + i64::from(d.subsec_nanos())
}

fn reply(origin: u64, t2_ns: i64, t3_ns: i64) -> [u8; 48] {
    Packet {
        leap: Leap::None,
        version: 4,
        mode: MODE_SERVER,
        stratum: 2,
        poll: 0,
        precision: -20,
        root_delay: NtpShort::from_ns_ceil(100_000),
        root_dispersion: NtpShort::from_ns_ceil(100_000),
        reference_id: [127, 0, 0, 1],
        reference_ts: NtpTimestamp::from_unix_ns(t2_ns - 1_000_000_000),
        origin_ts: NtpTimestamp(origin),
        receive_ts: NtpTimestamp::from_unix_ns(t2_ns),
        transmit_ts: NtpTimestamp::from_unix_ns(t3_ns),
    }
    .encode()
}

/// What the forging peer saw.
#[derive(Debug, Default)]
struct PeerLog {
    /// The nonce (transmit field) of each request, in order.
    nonces: Vec<u64>,
    /// Whether every request had all fields but the first byte and the transmit field zero.
    minimal: bool,
}

/// Serves `requests` requests on `real` (127.0.0.1:P), forging from `other_port`
/// (127.0.0.1:Q) and `other_ip` (127.0.0.2:P), for at most `limit`.
fn forging_peer(
    real: UdpSocket,
    other_port: UdpSocket,
    other_ip: UdpSocket,
    requests: usize,
    limit: Duration,
) -> PeerLog {
    let mut log = PeerLog {
        minimal: true,
        ..PeerLog::default()
    };
    let t0 = Instant::now();
    let mut previous: Option<[u8; 48]> = None;
    let mut buf = [0u8; 512];
    real.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while log.nonces.len() < requests && t0.elapsed() < limit {
        let Ok((n, client)) = real.recv_from(&mut buf) else {
            continue;
        };
        let t2 = now_unix_ns() + OFFSET_NS;
        let Ok(req) = Packet::decode(&buf[..n]) else {
            continue;
        };
        if req.mode != MODE_CLIENT {
            continue;
        }
        let nonce = req.transmit_ts.0;
        log.nonces.push(nonce);
        log.minimal &= buf[1..40].iter().all(|&b| b == 0) && n == 48;
        let forged = reply(nonce, t2 + FORGED_SHIFT_NS, t2 + FORGED_SHIFT_NS + 1_000);
        // 1. The right nonce from another port of the server's address.
        other_port.send_to(&forged, client).unwrap();
        // 2. The right nonce from another address, the server's port.
        other_ip.send_to(&forged, client).unwrap();
        // 3. A wrong nonce from the server's own address and port (a blind guess).
        let guessed = reply(
            nonce ^ 0x5a5a_0000_0000_0001,
            t2 + FORGED_SHIFT_NS,
            t2 + FORGED_SHIFT_NS,
        );
        real.send_to(&guessed, client).unwrap();
        // 4. A replay of the previous genuine reply, from the server's address and port.
        if let Some(old) = previous {
            real.send_to(&old, client).unwrap();
        }
        // The genuine reply, after the forgeries have surely arrived.
        thread::sleep(Duration::from_millis(3));
        let genuine = reply(nonce, t2, now_unix_ns() + OFFSET_NS);
        real.send_to(&genuine, client).unwrap();
        previous = Some(genuine);
    }
    log
}

#[test]
fn forged_replies_are_counted_and_the_real_one_still_counts() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let real = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = real.local_addr().unwrap().port();
    let other_port = UdpSocket::bind("127.0.0.1:0").unwrap();
    let other_ip = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 2], port)))
        .expect("bind 127.0.0.2 (all of 127/8 is loopback on Linux)");
    const N: usize = 5;
    let peer =
        thread::spawn(move || forging_peer(real, other_port, other_ip, N, Duration::from_secs(20)));
    let server = format!("127.0.0.1:{port}");
    let out = run_skew(
        &[
            "probe",
            "--json",
            "-n",
            &N.to_string(),
            "--interval",
            "30ms",
            "--timeout",
            "1s",
            &server,
        ],
        Duration::from_secs(20),
    );
    let log = peer.join().unwrap();
    let v = out.json();
    let p = &probes(&v)[0];

    // The genuine replies measured the configured offset, and the bound holds it exactly
    // (the peer's T2/T3 are read inside the true processing span, so the bound is honest).
    assert_measures(p, OFFSET_NS as f64 / 1e9, 1e-3);
    assert_eq!(p["sent"], N as u64, "{p}");
    assert_eq!(p["answered"], N as u64, "{p}");
    assert!(
        p["warnings"].as_array().unwrap().is_empty(),
        "no timeouts: {p}"
    );
    // A genuine sample lies within half its delay of the truth (a busy machine can delay the
    // peer's reply by milliseconds); a forged one would be an hour off.
    for s in p["samples"].as_array().unwrap() {
        assert!(
            (f(s, "offset_s") - 0.25).abs() <= f(s, "delay_s") / 2.0 + 1e-3,
            "a forged sample was used: {s}"
        );
    }
    // Each forgery rejected and counted by reason.
    let dropped = &p["dropped"];
    assert_eq!(dropped["wrong_source"], 2 * N as u64, "{p}");
    assert_eq!(dropped["origin_mismatch"], N as u64, "{p}");
    assert_eq!(
        dropped["late"],
        N as u64 - 1,
        "replays of earlier replies: {p}"
    );
    assert_eq!(
        dropped.as_object().unwrap().len(),
        3,
        "no other drop reason: {dropped}"
    );

    // The requests: fresh, distinct, non-zero nonces; nothing else about our clock.
    assert_eq!(log.nonces.len(), N);
    let mut distinct = log.nonces.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), N, "nonces repeat: {:x?}", log.nonces);
    assert!(log.nonces.iter().all(|&n| n != 0));
    assert!(
        log.minimal,
        "requests carry only the version, mode and nonce"
    );
}
