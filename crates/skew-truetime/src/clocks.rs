//! Reading the clocks the interval needs (the edge).

use crate::state::ClockReadings;
use nix::time::{clock_gettime, ClockId};

fn ns(id: ClockId) -> i64 {
    clock_gettime(id)
        .map(|t| t.tv_sec() * 1_000_000_000 + t.tv_nsec())
        .unwrap_or(0)
}

/// REALTIME, MONOTONIC and BOOTTIME read back to back (MONOTONIC first and last, keeping the
/// tighter bracket is unnecessary at the millisecond tolerances used here).
pub fn read_clocks() -> ClockReadings {
    let monotonic_ns = ns(ClockId::CLOCK_MONOTONIC);
    let realtime_ns = ns(ClockId::CLOCK_REALTIME);
    let boottime_ns = ns(ClockId::CLOCK_BOOTTIME);
    ClockReadings {
        realtime_ns,
        monotonic_ns,
        boottime_ns,
    }
}

/// The kernel's boot id (changes at every boot), or empty when unavailable.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The clocks now, with the boot id.
pub fn read_now() -> (ClockReadings, String) {
    (read_clocks(), boot_id())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads() {
        let (c, id) = super::read_now();
        assert!(
            c.realtime_ns > 0 && c.monotonic_ns > 0 && c.boottime_ns >= c.monotonic_ns - 1_000_000
        );
        assert!(!id.is_empty());
    }
}
