//! A flood of forged NTP replies on loopback (issue 14.3): senders that forge replies from a
//! server's address to a client's port, bounded in time and packets, stopped on demand.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The UDP port a process has bound (its first IPv4 UDP socket in /proc/net/udp).
pub fn udp_port_of(pid: u32) -> Option<u16> {
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

/// Waits (at most 5 s) until process `pid` has bound an IPv4 UDP socket and returns its port.
pub fn wait_udp_port_of(pid: u32) -> u16 {
    let t0 = Instant::now();
    loop {
        if let Some(p) = udp_port_of(pid) {
            return p;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "process {pid} bound no UDP socket"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A running flood: `senders` threads sending forged server replies (mode 4, version 4, an
/// origin that is never a probe's nonce) from one socket to one client.
pub struct Flood {
    stop: Arc<AtomicBool>,
    senders: Vec<JoinHandle<u64>>,
}

impl Flood {
    /// Starts `senders` threads sending from `from` (the forged server's own socket) to
    /// `client`; each stops after `max_time` or `max_each` datagrams, or at [`Flood::stop`].
    pub fn start(
        from: &UdpSocket,
        client: &str,
        senders: u64,
        max_time: Duration,
        max_each: u64,
    ) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let senders = (0..senders)
            .map(|k| {
                let sock = from.try_clone().unwrap();
                let client = client.to_string();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut forged = [0u8; 48];
                    forged[0] = 0x24; // LI 0, version 4, mode 4 (server)
                    forged[1] = 2;
                    let mut sent = 0u64;
                    let t = Instant::now();
                    while !stop.load(Ordering::Relaxed) && t.elapsed() < max_time && sent < max_each
                    {
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
        Flood { stop, senders }
    }

    /// Stops every sender and returns the datagrams sent in total.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.senders.into_iter().map(|h| h.join().unwrap()).sum()
    }
}
