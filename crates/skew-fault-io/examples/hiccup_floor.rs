//! The machine's own floor for release precision: spin reading the monotonic clock for
//! `SECONDS` (default 3) and report the gaps between consecutive reads, as a reference for
//! `skew proxy`'s scheduling error. `hiccup_floor [SECONDS]` prints one JSON line.

use skew_ntp_io::clock::{LocalClock, SystemClock};

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3.0);
    let c = SystemClock;
    let start = c.monotonic_ns();
    let end = start + skew_time::s_to_ns(secs);
    let (mut prev, mut over_20us, mut over_50us, mut over_500us, mut max) =
        (start, 0u64, 0u64, 0u64, 0i64);
    loop {
        let now = c.monotonic_ns();
        if now >= end {
            break;
        }
        let gap = now - prev;
        over_20us += u64::from(gap > 20_000);
        over_50us += u64::from(gap > 50_000);
        over_500us += u64::from(gap > 500_000);
        max = max.max(gap);
        prev = now;
    }
    println!(
        "{{\"seconds\":{secs},\"gaps_over_20us_per_s\":{:.1},\"gaps_over_50us_per_s\":{:.1},\"gaps_over_500us_per_s\":{:.1},\"max_gap_us\":{:.1}}}",
        over_20us as f64 / secs,
        over_50us as f64 / secs,
        over_500us as f64 / secs,
        max as f64 / 1e3
    );
}
