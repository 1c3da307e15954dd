//! Issue 14.3: a flood of forged replies must not hold a deadline back. Three senders flood
//! the client's port from the server's own address and port (forged replies with wrong
//! origins, each dropped as `origin_mismatch`) while the server itself never answers. The run
//! must end when its four exchanges have timed out (about 4 × 300 ms), not when the flood
//! ends.

use crate::common::*;
use std::net::UdpSocket;
use std::time::Duration;

#[test]
fn a_flood_of_forged_replies_does_not_hold_the_deadlines_back() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    // The "server": a socket that never answers, whose address the flood forges.
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap().to_string();
    let probe = spawn_skew(
        &[
            "probe",
            "--json",
            "-n",
            "4",
            "--interval",
            "20ms",
            "--timeout",
            "300ms",
            &server_addr,
        ],
        &[],
    );
    let client = format!("127.0.0.1:{}", wait_udp_port_of(probe.pid()));
    // Three senders, each at most 8 s, stopped as soon as the probe ends.
    let flood = Flood::start(&server, &client, 3, Duration::from_secs(8), u64::MAX);
    let out = probe.wait(Duration::from_secs(20));
    let sent = flood.stop();
    let p = &probes(&out.json())[0];
    let dropped = p["dropped"]["origin_mismatch"].as_u64().unwrap_or(0);
    assert!(dropped > 1000, "the flood reached the probe: {p}");
    assert_eq!(p["sent"], 4, "{p}");
    assert_eq!(p["status"], "timeout", "{p}");
    // Four exchanges of 300 ms each: about 1.2 s, whatever the flood (it lasts 8 s).
    assert!(
        out.elapsed < Duration::from_millis(2500),
        "the run took {:?} under a flood of {sent} forged replies ({dropped} read)",
        out.elapsed
    );
}
