//! The three Linux clocks read at one instant, and the arithmetic every detector of steps
//! and suspends shares (pure; the reading itself is `skew-clock-io`'s).
//!
//! * REALTIME − BOOTTIME changes only when the time of day is set (both are slewed alike and
//!   both count suspend): its change between two readings is a **step**;
//! * BOOTTIME − MONOTONIC grows only while the machine is suspended: its change is the time
//!   spent **suspended**.

use serde::{Deserialize, Serialize};

/// CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME at (nearly) one instant, ns.
///
/// Serialised with these field names in `skew now`'s state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockReadings {
    /// CLOCK_REALTIME, ns since the Unix epoch (steps when someone sets the clock).
    pub realtime_ns: i64,
    /// CLOCK_MONOTONIC, ns (stops during suspend).
    pub monotonic_ns: i64,
    /// CLOCK_BOOTTIME, ns (MONOTONIC plus the time spent suspended).
    pub boottime_ns: i64,
}

impl ClockReadings {
    /// REALTIME − BOOTTIME, ns: moves when the clock is stepped.
    pub fn real_minus_boot_ns(&self) -> i64 {
        self.realtime_ns.saturating_sub(self.boottime_ns)
    }

    /// BOOTTIME − MONOTONIC, ns: grows by the time spent suspended.
    pub fn boot_minus_mono_ns(&self) -> i64 {
        self.boottime_ns.saturating_sub(self.monotonic_ns)
    }

    /// How far the time of day was stepped between `earlier` and this reading, ns
    /// (Δ(REALTIME − BOOTTIME); slewing moves it by at most the slew rate × the time between).
    pub fn step_since_ns(&self, earlier: &ClockReadings) -> i64 {
        self.real_minus_boot_ns()
            .saturating_sub(earlier.real_minus_boot_ns())
    }

    /// How long the machine was suspended between `earlier` and this reading, ns
    /// (Δ(BOOTTIME − MONOTONIC)).
    pub fn suspend_since_ns(&self, earlier: &ClockReadings) -> i64 {
        self.boot_minus_mono_ns()
            .saturating_sub(earlier.boot_minus_mono_ns())
    }

    /// Converts a MONOTONIC time to Unix time with the offset seen in this reading, ns.
    pub fn mono_to_unix_ns(&self, mono_ns: i64) -> i64 {
        mono_ns.saturating_add(self.realtime_ns.saturating_sub(self.monotonic_ns))
    }
}

/// [`ClockReadings`] taken between two MONOTONIC reads, with how long that took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BracketedReadings {
    /// The clocks; `monotonic_ns` is the midpoint of the bracketing reads.
    pub clocks: ClockReadings,
    /// How long the reads took (between the first and last MONOTONIC read), ns: the
    /// uncertainty of the differences between the clocks.
    pub span_ns: i64,
}

impl std::ops::Deref for BracketedReadings {
    type Target = ClockReadings;

    /// The readings themselves, so their arithmetic reads as `r.step_since_ns(&earlier)`.
    fn deref(&self) -> &ClockReadings {
        &self.clocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_steps_and_suspends() {
        let a = ClockReadings {
            realtime_ns: 1_000,
            monotonic_ns: 100,
            boottime_ns: 150,
        };
        assert_eq!(a.boot_minus_mono_ns(), 50);
        assert_eq!(a.real_minus_boot_ns(), 850);
        assert_eq!(a.mono_to_unix_ns(110), 1_010);
        // 10 s later, the time of day set 2 s forward, 30 s asleep.
        let b = ClockReadings {
            realtime_ns: a.realtime_ns + 10 + 30 + 2,
            monotonic_ns: a.monotonic_ns + 10,
            boottime_ns: a.boottime_ns + 10 + 30,
        };
        assert_eq!(b.step_since_ns(&a), 2);
        assert_eq!(b.suspend_since_ns(&a), 30);
        assert_eq!(a.step_since_ns(&a), 0);
        let far = ClockReadings {
            realtime_ns: i64::MAX,
            monotonic_ns: i64::MIN,
            boottime_ns: i64::MIN,
        };
        assert_eq!(far.real_minus_boot_ns(), i64::MAX, "saturates");
    }
}
