//! Snapshots of the signals that tell pauses apart: the three clocks, the detector thread's
//! scheduler counters, steal time, the sibling's heartbeat and the VM markers.
//!
//! The edges fill these in (at a checkpoint every second, and when an event fires); the
//! classification compares two of them. Every time is an integer number of nanoseconds.
#![forbid(unsafe_code)]

/// The three clocks read together between two MONOTONIC reads, with the span of the reads
/// (the shared type of `skew-time`).
pub use skew_time::BracketedReadings as ClockReadings;

/// The detector thread's scheduler statistics (`/proc/thread-self/schedstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSched {
    /// Time spent on a CPU, ns.
    pub cpu_ns: i64,
    /// Time spent runnable but waiting for a CPU (run-delay), ns.
    pub run_delay_ns: i64,
    /// When they were read (MONOTONIC, ns).
    pub at_mono_ns: i64,
}

pub use skew_process_io::sibling::{SiblingView, StallSpan};

/// Everything read at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The clocks.
    pub clocks: ClockReadings,
    /// The detector thread's scheduler counters, when readable.
    pub thread: Option<ThreadSched>,
    /// Cumulative steal time per CPU (`/proc/stat`), ns, when readable.
    pub steal_ns: Option<Vec<i64>>,
    /// The sibling's published state, when a sibling runs.
    pub sibling: Option<SiblingView>,
    /// The VMClock disruption marker, when the device exists.
    pub vmclock_marker: Option<u64>,
    /// A digest of the VM generation ID, when a file for it is configured and readable.
    pub vmgenid_digest: Option<u64>,
}

impl Snapshot {
    /// A snapshot of the clocks alone (every other signal unavailable).
    pub fn clocks_only(clocks: ClockReadings) -> Self {
        Snapshot {
            clocks,
            thread: None,
            steal_ns: None,
            sibling: None,
            vmclock_marker: None,
            vmgenid_digest: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_differences() {
        let c = ClockReadings {
            clocks: skew_time::ClockReadings {
                monotonic_ns: 100,
                boottime_ns: 150,
                realtime_ns: 1_000,
            },
            span_ns: 3,
        };
        assert_eq!(c.boot_minus_mono_ns(), 50);
        assert_eq!(c.real_minus_boot_ns(), 850);
        assert_eq!(c.mono_to_unix_ns(110), 1_010);
        let s = Snapshot::clocks_only(c);
        assert!(s.thread.is_none() && s.sibling.is_none());
    }
}
