//! Tightly bracketed clock readings.
//!
//! A reading of clock X is placed on the MONOTONIC_RAW timeline by reading RAW just before
//! and just after it: X happened somewhere inside the bracket, so its RAW instant is the
//! bracket's midpoint ± half its width. A burst chains the reads (RAW, REALTIME, RAW,
//! MONOTONIC, RAW, BOOTTIME, RAW, REALTIME, ...) so that each RAW read closes one bracket and
//! opens the next: one extra read per clock reading, the cost of a bare `clock_gettime` pair.
//! Of the burst's readings of each clock the one with the tightest bracket is kept (a
//! preempted or interrupted read has a wide bracket and loses).
#![forbid(unsafe_code)]

use crate::source::{ClockError, ClockId, ClockSource};
use serde::Serialize;
use skew_time::ClockReadings;

/// One reading of a clock, placed on the MONOTONIC_RAW timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// MONOTONIC_RAW at the reading: the bracket's midpoint, ns.
    pub raw_ns: i64,
    /// The clock's value, ns since its epoch.
    pub value_ns: i64,
    /// Width of the RAW bracket around the read, ns: `raw_ns` is exact to ± half of it.
    pub bracket_ns: i64,
}

impl Reading {
    /// The clock minus MONOTONIC_RAW at the same instant, ns.
    pub fn minus_raw_ns(&self) -> i64 {
        self.value_ns - self.raw_ns
    }
}

/// One sample: REALTIME, MONOTONIC and BOOTTIME, each tightly bracketed by MONOTONIC_RAW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// CLOCK_REALTIME.
    pub realtime: Reading,
    /// CLOCK_MONOTONIC.
    pub monotonic: Reading,
    /// CLOCK_BOOTTIME.
    pub boottime: Reading,
}

impl Sample {
    /// MONOTONIC_RAW at the sample (its MONOTONIC reading's instant), ns.
    pub fn raw_ns(&self) -> i64 {
        self.monotonic.raw_ns
    }

    /// The three clocks referred to one instant: each minus MONOTONIC_RAW at its own read,
    /// so their differences are the differences at the same RAW instant.
    pub fn at_one_instant(&self) -> ClockReadings {
        ClockReadings {
            realtime_ns: self.realtime.minus_raw_ns(),
            monotonic_ns: self.monotonic.minus_raw_ns(),
            boottime_ns: self.boottime.minus_raw_ns(),
        }
    }

    /// REALTIME − BOOTTIME at the same RAW instant, ns: constant unless REALTIME is stepped
    /// (both are slewed alike, and both count suspend).
    pub fn realtime_minus_boottime_ns(&self) -> i64 {
        self.at_one_instant().real_minus_boot_ns()
    }

    /// BOOTTIME − MONOTONIC at the same RAW instant, ns: time spent in suspend (plus any
    /// time-namespace offset difference).
    pub fn boottime_minus_monotonic_ns(&self) -> i64 {
        self.at_one_instant().boot_minus_mono_ns()
    }

    /// How far off [`Sample::realtime_minus_boottime_ns`] can be: the two readings'
    /// half-brackets, ns.
    pub fn realtime_boottime_uncertainty_ns(&self) -> i64 {
        (self.realtime.bracket_ns + self.boottime.bracket_ns + 1) / 2
    }

    /// How far off [`Sample::boottime_minus_monotonic_ns`] can be, ns.
    pub fn boottime_monotonic_uncertainty_ns(&self) -> i64 {
        (self.boottime.bracket_ns + self.monotonic.bracket_ns + 1) / 2
    }
}

/// The clocks a [`Sample`] reads, in chain order.
pub const SAMPLED: [ClockId; 3] = [ClockId::Realtime, ClockId::Monotonic, ClockId::Boottime];

/// Takes one sample: `rounds` chained rounds (at least 1), keeping each clock's tightest
/// reading. Costs `6 × rounds + 1` clock reads.
pub fn take_sample<S: ClockSource + ?Sized>(
    src: &mut S,
    rounds: u32,
) -> Result<Sample, ClockError> {
    let empty = Reading {
        raw_ns: 0,
        value_ns: 0,
        bracket_ns: i64::MAX,
    };
    let mut best = [empty; 3];
    let mut before = src.read_ns(ClockId::MonotonicRaw)?;
    for _ in 0..rounds.max(1) {
        for (slot, clock) in best.iter_mut().zip(SAMPLED) {
            let value = src.read_ns(clock)?;
            let after = src.read_ns(ClockId::MonotonicRaw)?;
            let width = after - before;
            if width >= 0 && width < slot.bracket_ns {
                *slot = Reading {
                    raw_ns: before + width / 2,
                    value_ns: value,
                    bracket_ns: width,
                };
            }
            before = after;
        }
    }
    Ok(Sample {
        realtime: best[0],
        monotonic: best[1],
        boottime: best[2],
    })
}

/// `clock − reference` at one instant, from the tightest of several `reference, clock,
/// reference` brackets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BracketedOffset {
    /// clock − reference at the same instant, ns.
    pub offset_ns: i64,
    /// The reference bracket's width: the offset is exact to ± half of it, ns.
    pub bracket_ns: i64,
}

/// Measures `clock − reference` from the tightest of `tries` chained brackets (at least 1).
pub fn bracketed_offset<S: ClockSource + ?Sized>(
    src: &mut S,
    clock: ClockId,
    reference: ClockId,
    tries: u32,
) -> Result<BracketedOffset, ClockError> {
    let mut best = BracketedOffset {
        offset_ns: 0,
        bracket_ns: i64::MAX,
    };
    let mut before = src.read_ns(reference)?;
    for _ in 0..tries.max(1) {
        let value = src.read_ns(clock)?;
        let after = src.read_ns(reference)?;
        let width = after - before;
        if width >= 0 && width < best.bracket_ns {
            best = BracketedOffset {
                offset_ns: value - (before + width / 2),
                bracket_ns: width,
            };
        }
        before = after;
    }
    if best.bracket_ns == i64::MAX {
        // The reference went backward on every try (a step of a time-of-day reference):
        // report the last reading with no claim of tightness.
        let value = src.read_ns(clock)?;
        best = BracketedOffset {
            offset_ns: value - before,
            bracket_ns: i64::MAX,
        };
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimClocks, SimConfig};

    #[test]
    fn sample_places_each_clock_on_raw() {
        let cfg = SimConfig {
            read_cost_ns: 20,
            read_jitter_ns: 0,
            suspended_start_ns: 7_000,
            ..SimConfig::default()
        };
        let mut s = SimClocks::new(cfg.clone());
        let sample = take_sample(&mut s, 4).unwrap();
        assert_eq!(s.reads(), 6 * 4 + 1);
        for r in [sample.realtime, sample.monotonic, sample.boottime] {
            assert_eq!(r.bracket_ns, 40);
        }
        // The value is read mid-call, i.e. exactly at the bracket's midpoint here.
        assert_eq!(
            sample.monotonic.minus_raw_ns(),
            cfg.monotonic_start_ns - cfg.raw_start_ns
        );
        assert_eq!(sample.boottime_minus_monotonic_ns(), 7_000);
        assert_eq!(
            sample.realtime_minus_boottime_ns(),
            cfg.start_unix_ns - cfg.monotonic_start_ns - 7_000
        );
        assert_eq!(sample.realtime_boottime_uncertainty_ns(), 40);
    }

    #[test]
    fn tightest_of_the_burst_wins_over_preemption() {
        let mut s = SimClocks::new(SimConfig {
            read_cost_ns: 20,
            read_jitter_ns: 0,
            preempt_one_in: 20,
            preempt_ns: 3_000_000,
            ..SimConfig::default()
        });
        for _ in 0..200 {
            let sample = take_sample(&mut s, 8).unwrap();
            for r in [sample.realtime, sample.monotonic, sample.boottime] {
                assert_eq!(r.bracket_ns, 40, "{sample:?}");
            }
        }
    }

    #[test]
    fn offset_between_two_clocks() {
        let mut s = SimClocks::new(SimConfig {
            tai_offset_s: 37,
            ..SimConfig::default()
        });
        let o = bracketed_offset(&mut s, ClockId::Tai, ClockId::Realtime, 8).unwrap();
        assert!(
            (o.offset_ns - 37_000_000_000).abs() <= o.bracket_ns / 2 + 1,
            "{o:?}"
        );
        assert!(o.bracket_ns < 100);
        let e = bracketed_offset(&mut s, ClockId::RealtimeAlarm, ClockId::Realtime, 8);
        assert_eq!(e.unwrap_err().clock, ClockId::RealtimeAlarm);
    }
}
