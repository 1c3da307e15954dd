//! The Linux clocks, named, and the [`ClockSource`] trait through which every measurement
//! reads them.
//!
//! Pure: the real clocks implement the trait in [`crate::linux`]; simulated ones in
//! [`crate::sim`]. Everything that measures (resolution, read cost, rates, steps) is written
//! against the trait, so unit tests drive it with simulated time.
#![forbid(unsafe_code)]

use serde::Serialize;
use std::fmt;

/// A Linux clock (`clock_gettime(2)` clock id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ClockId {
    /// CLOCK_REALTIME: time of day (UTC, no leap seconds); stepped and slewed.
    #[serde(rename = "REALTIME")]
    Realtime,
    /// CLOCK_REALTIME_COARSE: REALTIME at the last tick (cheaper, jiffy resolution).
    #[serde(rename = "REALTIME_COARSE")]
    RealtimeCoarse,
    /// CLOCK_REALTIME_ALARM: REALTIME, for timers that wake a suspended system.
    #[serde(rename = "REALTIME_ALARM")]
    RealtimeAlarm,
    /// CLOCK_TAI: REALTIME + the kernel's TAI offset.
    #[serde(rename = "TAI")]
    Tai,
    /// CLOCK_MONOTONIC: never stepped, slewed like REALTIME, stops during suspend.
    #[serde(rename = "MONOTONIC")]
    Monotonic,
    /// CLOCK_MONOTONIC_COARSE: MONOTONIC at the last tick.
    #[serde(rename = "MONOTONIC_COARSE")]
    MonotonicCoarse,
    /// CLOCK_MONOTONIC_RAW: the bare clocksource, neither stepped nor slewed.
    #[serde(rename = "MONOTONIC_RAW")]
    MonotonicRaw,
    /// CLOCK_BOOTTIME: MONOTONIC plus the time spent in suspend.
    #[serde(rename = "BOOTTIME")]
    Boottime,
    /// CLOCK_BOOTTIME_ALARM: BOOTTIME, for timers that wake a suspended system.
    #[serde(rename = "BOOTTIME_ALARM")]
    BoottimeAlarm,
    /// CLOCK_PROCESS_CPUTIME_ID: CPU time consumed by this process.
    #[serde(rename = "PROCESS_CPUTIME_ID")]
    ProcessCputime,
    /// CLOCK_THREAD_CPUTIME_ID: CPU time consumed by this thread.
    #[serde(rename = "THREAD_CPUTIME_ID")]
    ThreadCputime,
}

/// What a clock counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// Time of day: stepped and slewed by NTP; durations measured with it can be negative.
    TimeOfDay,
    /// Elapsed time that never goes backward.
    Monotonic,
    /// CPU time consumed, not elapsed time.
    CpuTime,
}

impl ClockId {
    /// Every Linux clock, time-of-day clocks first, then monotonic, then CPU time.
    pub const ALL: [ClockId; 11] = [
        ClockId::Realtime,
        ClockId::RealtimeCoarse,
        ClockId::RealtimeAlarm,
        ClockId::Tai,
        ClockId::Monotonic,
        ClockId::MonotonicCoarse,
        ClockId::MonotonicRaw,
        ClockId::Boottime,
        ClockId::BoottimeAlarm,
        ClockId::ProcessCputime,
        ClockId::ThreadCputime,
    ];

    /// The kernel's name without the `CLOCK_` prefix: `REALTIME`, `MONOTONIC_RAW`...
    pub fn name(self) -> &'static str {
        match self {
            ClockId::Realtime => "REALTIME",
            ClockId::RealtimeCoarse => "REALTIME_COARSE",
            ClockId::RealtimeAlarm => "REALTIME_ALARM",
            ClockId::Tai => "TAI",
            ClockId::Monotonic => "MONOTONIC",
            ClockId::MonotonicCoarse => "MONOTONIC_COARSE",
            ClockId::MonotonicRaw => "MONOTONIC_RAW",
            ClockId::Boottime => "BOOTTIME",
            ClockId::BoottimeAlarm => "BOOTTIME_ALARM",
            ClockId::ProcessCputime => "PROCESS_CPUTIME_ID",
            ClockId::ThreadCputime => "THREAD_CPUTIME_ID",
        }
    }

    /// The Linux clock id (`include/uapi/linux/time.h`).
    pub fn linux_id(self) -> i32 {
        match self {
            ClockId::Realtime => 0,
            ClockId::Monotonic => 1,
            ClockId::ProcessCputime => 2,
            ClockId::ThreadCputime => 3,
            ClockId::MonotonicRaw => 4,
            ClockId::RealtimeCoarse => 5,
            ClockId::MonotonicCoarse => 6,
            ClockId::Boottime => 7,
            ClockId::RealtimeAlarm => 8,
            ClockId::BoottimeAlarm => 9,
            ClockId::Tai => 11,
        }
    }

    /// What the clock counts.
    pub fn kind(self) -> ClockKind {
        match self {
            ClockId::Realtime | ClockId::RealtimeCoarse | ClockId::RealtimeAlarm | ClockId::Tai => {
                ClockKind::TimeOfDay
            }
            ClockId::ProcessCputime | ClockId::ThreadCputime => ClockKind::CpuTime,
            _ => ClockKind::Monotonic,
        }
    }

    /// One line on how the clock behaves.
    pub fn behaviour(self) -> &'static str {
        match self {
            ClockId::Realtime => "time of day: stepped and slewed",
            ClockId::RealtimeCoarse => "REALTIME at the last tick",
            ClockId::RealtimeAlarm => "REALTIME, wakes from suspend",
            ClockId::Tai => "REALTIME + kernel TAI offset",
            ClockId::Monotonic => "slewed, never stepped, stops in suspend",
            ClockId::MonotonicCoarse => "MONOTONIC at the last tick",
            ClockId::MonotonicRaw => "bare clocksource: not slewed",
            ClockId::Boottime => "MONOTONIC + time in suspend",
            ClockId::BoottimeAlarm => "BOOTTIME, wakes from suspend",
            ClockId::ProcessCputime => "CPU time of this process",
            ClockId::ThreadCputime => "CPU time of this thread",
        }
    }
}

impl fmt::Display for ClockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A clock could not be read (`clock_gettime`/`clock_getres` failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("CLOCK_{clock} cannot be read: {}", errno_text(*.errno))]
pub struct ClockError {
    /// The clock.
    pub clock: ClockId,
    /// The `errno` the kernel returned (`EINVAL`: not supported here).
    pub errno: i32,
}

fn errno_text(errno: i32) -> String {
    let hint = match errno {
        22 => " (this kernel or machine does not provide it; the ALARM clocks need an RTC)",
        1 => " (EPERM)",
        _ => "",
    };
    format!("{}{hint}", std::io::Error::from_raw_os_error(errno))
}

/// Clocks that can be read. Readings are integer nanoseconds since the clock's own epoch
/// (the Unix epoch for time-of-day clocks, boot for monotonic ones).
pub trait ClockSource {
    /// Reads `clock` (`clock_gettime`).
    fn read_ns(&mut self, clock: ClockId) -> Result<i64, ClockError>;
    /// The clock's nominal resolution (`clock_getres`).
    fn resolution_ns(&mut self, clock: ClockId) -> Result<i64, ClockError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_are_distinct() {
        let mut ids: Vec<i32> = ClockId::ALL.iter().map(|c| c.linux_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 11);
        assert!(!ids.contains(&10), "10 was CLOCK_SGI_CYCLE, removed");
        for c in ClockId::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.name());
            assert_eq!(c.to_string(), c.name());
        }
        assert_eq!(ClockId::Tai.kind(), ClockKind::TimeOfDay);
        assert_eq!(ClockId::MonotonicRaw.kind(), ClockKind::Monotonic);
        assert_eq!(ClockId::ThreadCputime.kind(), ClockKind::CpuTime);
    }

    #[test]
    fn error_names_the_clock() {
        let e = ClockError {
            clock: ClockId::BoottimeAlarm,
            errno: 22,
        };
        let s = e.to_string();
        assert!(s.starts_with("CLOCK_BOOTTIME_ALARM cannot be read"), "{s}");
        assert!(s.contains("Invalid argument"), "{s}");
    }
}
