//! Reading the clocks the interval needs (the edge, through `skew-clock-io`).

use crate::state::ClockReadings;

/// REALTIME, MONOTONIC and BOOTTIME read together.
pub fn read_clocks() -> ClockReadings {
    skew_clock_io::read_clocks().clocks
}

/// The kernel's boot id (changes at every boot), or empty when unavailable.
pub fn boot_id() -> String {
    skew_clock_io::boot_id()
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
