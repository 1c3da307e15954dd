//! The local clocks the prober reads, behind a small trait so tests can substitute them.

use nix::time::{clock_getres, clock_gettime, ClockId};

/// The two clocks an NTP exchange needs: time of day for T1/T4 and a monotonic clock for
/// pacing, timeouts and step detection.
pub trait LocalClock {
    /// Time of day (CLOCK_REALTIME), ns since the Unix epoch.
    fn realtime_ns(&self) -> i64;
    /// Monotonic time (CLOCK_MONOTONIC), ns since an arbitrary start.
    fn monotonic_ns(&self) -> i64;
}

/// The real Linux clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

fn read(id: ClockId) -> i64 {
    // clock_gettime on REALTIME/MONOTONIC cannot fail on Linux; fall back to 0 if it does.
    clock_gettime(id)
        .map(|ts| ts.tv_sec() * 1_000_000_000 + ts.tv_nsec())
        .unwrap_or(0)
}

impl LocalClock for SystemClock {
    fn realtime_ns(&self) -> i64 {
        read(ClockId::CLOCK_REALTIME)
    }

    fn monotonic_ns(&self) -> i64 {
        read(ClockId::CLOCK_MONOTONIC)
    }
}

/// Measures the precision of reading the time-of-day clock in ns: the smallest positive
/// difference between consecutive reads (as ntpd and chrony do), but never less than the
/// clock's nominal resolution (clock_getres).
pub fn measure_precision_ns(clock: &dyn LocalClock) -> i64 {
    let nominal = clock_getres(ClockId::CLOCK_REALTIME)
        .map(|ts| ts.tv_sec() * 1_000_000_000 + ts.tv_nsec())
        .unwrap_or(1)
        .max(1);
    let mut best = i64::MAX;
    let mut prev = clock.realtime_ns();
    for _ in 0..1000 {
        let now = clock.realtime_ns();
        let d = now - prev;
        if d > 0 && d < best {
            best = d;
        }
        prev = now;
    }
    if best == i64::MAX {
        nominal
    } else {
        best.max(nominal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_move_forward() {
        let c = SystemClock;
        let a = c.monotonic_ns();
        let r = c.realtime_ns();
        let b = c.monotonic_ns();
        assert!(b >= a);
        assert!(r > 1_600_000_000_000_000_000, "realtime {r} is after 2020");
        let p = measure_precision_ns(&c);
        assert!((1..1_000_000).contains(&p), "precision {p} ns");
    }
}
