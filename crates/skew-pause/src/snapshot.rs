//! Snapshots of the signals that tell pauses apart: the three clocks, the detector thread's
//! scheduler counters, steal time, the sibling's heartbeat and the VM markers.
//!
//! The edges fill these in (at a checkpoint every second, and when an event fires); the
//! classification compares two of them. Every time is an integer number of nanoseconds.
#![forbid(unsafe_code)]

/// The three clocks read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReadings {
    /// CLOCK_MONOTONIC, ns (stops during suspend).
    pub mono_ns: i64,
    /// CLOCK_BOOTTIME, ns (MONOTONIC plus the time spent suspended).
    pub boot_ns: i64,
    /// CLOCK_REALTIME, ns since the Unix epoch (steps when someone sets the clock).
    pub real_ns: i64,
    /// How long the reads took (between the first and last MONOTONIC read), ns: the
    /// uncertainty of the differences between the clocks.
    pub span_ns: i64,
}

impl ClockReadings {
    /// BOOTTIME − MONOTONIC: grows by the time spent suspended.
    pub fn boot_minus_mono_ns(&self) -> i64 {
        self.boot_ns.saturating_sub(self.mono_ns)
    }

    /// REALTIME − BOOTTIME: moves when the clock is stepped (or slewed).
    pub fn real_minus_boot_ns(&self) -> i64 {
        self.real_ns.saturating_sub(self.boot_ns)
    }

    /// Converts a MONOTONIC time to Unix time with the offset seen in this reading.
    pub fn mono_to_unix_ns(&self, mono_ns: i64) -> i64 {
        mono_ns.saturating_add(self.real_ns.saturating_sub(self.mono_ns))
    }
}

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

/// A stall of the sibling detector: it should have woken at `from_ns` and woke at
/// `to_ns` (MONOTONIC, ns). Every sibling deadline in between was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallSpan {
    /// The first deadline missed, ns.
    pub from_ns: i64,
    /// When the sibling woke, ns.
    pub to_ns: i64,
}

/// What the sibling detector (a separate process) published in shared memory.
///
/// Its deadlines lie on the lattice `first_deadline_ns + k × interval_ns`; it publishes the
/// last deadline it woke for, and a ring of its own stalls (wakes more than
/// `margin_ns` late).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiblingView {
    /// Its process ID.
    pub pid: u32,
    /// Its wake-up period, ns.
    pub interval_ns: i64,
    /// How late a wake must be to be recorded as a stall, ns.
    pub margin_ns: i64,
    /// Its first deadline (MONOTONIC, ns); 0 until it started.
    pub first_deadline_ns: i64,
    /// The deadline of its latest wake, ns.
    pub last_deadline_ns: i64,
    /// Its latest wake, ns (the heartbeat).
    pub last_wake_ns: i64,
    /// Its stalls, oldest first (at most the ring's size).
    pub stalls: Vec<StallSpan>,
    /// The ring holds every stall that started at or after this time (older ones may
    /// have been overwritten), ns; `i64::MIN` when nothing was lost.
    pub complete_since_ns: i64,
    /// Whether it has exited.
    pub exited: bool,
}

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
            mono_ns: 100,
            boot_ns: 150,
            real_ns: 1_000,
            span_ns: 3,
        };
        assert_eq!(c.boot_minus_mono_ns(), 50);
        assert_eq!(c.real_minus_boot_ns(), 850);
        assert_eq!(c.mono_to_unix_ns(110), 1_010);
        let s = Snapshot::clocks_only(c);
        assert!(s.thread.is_none() && s.sibling.is_none());
    }
}
