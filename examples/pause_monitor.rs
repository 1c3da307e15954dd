//! Embedding the pause detector in a service: start a monitor, get each pause through a
//! callback as it happens, stop it for the final report.
//!
//! ```text
//! cargo run --release -p skew-pause --example pause_monitor -- 5
//! # in another shell, freeze it for a moment:
//! kill -STOP <pid>; sleep 0.3; kill -CONT <pid>
//! ```
use skew_pause::{Message, MonitorConfig, PauseKind, PauseMonitor};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5);
    // 10 ms is the cheap mode; the threshold follows (40 ms) unless set.
    let config = MonitorConfig::for_interval(10_000_000);
    let monitor = PauseMonitor::start_with_callback(config, |message| match message {
        Message::Event(e) if e.kind == PauseKind::Step => {
            eprintln!(
                "the clock was stepped by {:+} ns",
                e.min_ns / 2 + e.max_ns.unwrap_or(e.min_ns) / 2
            );
        }
        Message::Event(e) => {
            // A lease holder would give up its lease here: it cannot know what happened
            // while it was not running.
            eprintln!(
                "paused between {} and {} ms ({}): {}",
                e.min_ns / 1_000_000,
                e.max_ns.map_or("?".into(), |m| (m / 1_000_000).to_string()),
                e.kind,
                e.note
            );
        }
        Message::Interval(_) => {}
    })?;
    eprintln!(
        "pid {}: watching for {seconds} s (sibling {:?})",
        std::process::id(),
        monitor.info().sibling.pid
    );
    std::thread::sleep(Duration::from_secs(seconds));
    let report = monitor.stop()?;
    let o = report.summary.overshoots;
    println!(
        "{} wakes, overshoot p50 {} us, p99.9 {} us, max {} us; {} events; {:.2} % of a core",
        o.count,
        o.p50_ns / 1000,
        o.p999_ns / 1000,
        o.max_ns / 1000,
        report.summary.events_total,
        report.cpu_overhead().unwrap_or(0.0) * 100.0
    );
    Ok(())
}
