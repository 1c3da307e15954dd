//! Issue 14.3: a flood of forged replies must not hold a deadline back. Three senders flood
//! the client's port from the server's own address and port (forged replies with wrong
//! origins, each dropped as `origin_mismatch`) while the server itself never answers. The run
//! must end when its four exchanges have timed out (about 4 × 300 ms), not when the flood
//! ends.

use crate::common::*;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The UDP port a process has bound (its first UDP socket in /proc/net/udp).
fn udp_port_of(pid: u32) -> Option<u16> {
    let mut inodes = Vec::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
        let link = std::fs::read_link(fd.ok()?.path()).ok();
        if let Some(l) = link.as_ref().and_then(|l| l.to_str()) {
            if let Some(ino) = l.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.push(ino.to_string());
            }
        }
    }
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 9 && inodes.iter().any(|i| i == f[9]))
            .then(|| u16::from_str_radix(f[1].rsplit(':').next()?, 16).ok())
            .flatten()
    })
}

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
    let t0 = Instant::now();
    let port = loop {
        if let Some(p) = udp_port_of(probe.pid()) {
            break p;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "no socket found");
        std::thread::sleep(Duration::from_millis(1));
    };
    let client = format!("127.0.0.1:{port}");
    // Three senders, each at most 8 s, stopped as soon as the probe ends.
    const FLOOD: Duration = Duration::from_secs(8);
    let stop = Arc::new(AtomicBool::new(false));
    let flooders: Vec<_> = (0..3u64)
        .map(|k| {
            let sock = server.try_clone().unwrap();
            let client = client.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut forged = [0u8; 48];
                forged[0] = 0x24; // LI 0, version 4, mode 4 (server)
                forged[1] = 2;
                let mut sent = 0u64;
                let t = Instant::now();
                while !stop.load(Ordering::Relaxed) && t.elapsed() < FLOOD {
                    for _ in 0..256 {
                        // A wrong origin: never one of the probe's nonces.
                        forged[24..32].copy_from_slice(&(k << 56 | sent).to_be_bytes());
                        forged[32..48].copy_from_slice(&[7; 16]);
                        let _ = sock.send_to(&forged, &client);
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    let out = probe.wait(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = flooders.into_iter().map(|h| h.join().unwrap()).sum();
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
