//! A bounded NTP load generator: `ntp_load ADDR [--requests N] [--seconds S] [--window W]`.
//! Prints one JSON line: sent, replies, lost, invalid, elapsed_s, replies_per_s.

use skew_fault_io::loadgen::{run_load, LoadConfig};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ntp_load ADDR [--requests N] [--seconds S] [--window W]";
    let Some(target) = args.first().and_then(|a| a.parse().ok()) else {
        eprintln!("{usage}");
        std::process::exit(64);
    };
    let mut cfg = LoadConfig {
        target,
        max_requests: 1_000_000,
        max_duration: Duration::from_secs(5),
        window: 256,
        stall: Duration::from_millis(20),
    };
    let mut i = 1;
    while i + 1 < args.len() {
        let v = &args[i + 1];
        let bad = || -> ! {
            eprintln!("bad value {v:?} for {}\n{usage}", args[i]);
            std::process::exit(64)
        };
        match args[i].as_str() {
            "--requests" => cfg.max_requests = v.parse().unwrap_or_else(|_| bad()),
            "--seconds" => {
                cfg.max_duration = Duration::from_secs_f64(v.parse().unwrap_or_else(|_| bad()))
            }
            "--window" => cfg.window = v.parse().unwrap_or_else(|_| bad()),
            _ => bad(),
        }
        i += 2;
    }
    match run_load(&cfg) {
        Ok(r) => println!(
            "{{\"target\":\"{}\",\"sent\":{},\"replies\":{},\"lost\":{},\"invalid\":{},\"elapsed_s\":{:.3},\"replies_per_s\":{:.0}}}",
            cfg.target, r.sent, r.replies, r.lost, r.invalid, r.elapsed_s, r.replies_per_s()
        ),
        Err(e) => {
            eprintln!("ntp_load: {e}");
            std::process::exit(69);
        }
    }
}
