//! What each clock can resolve and what reading it costs.
//!
//! * Nominal resolution: `clock_getres`.
//! * Measured resolution, chrony's method (`local.c`, `calculate_sys_precision`): read the
//!   clock back to back until it has moved forward 100 times; the smallest forward step
//!   seen is the resolution. On a fine clock this is the read cost (the clock ticks between
//!   any two reads); on a COARSE clock it is the tick. Unlike chrony's loop, ours is bounded
//!   by a time budget too (a coarse clock at 4 ms needs 400 ms for 100 increments).
//! * Read cost: batches of back-to-back reads timed by MONOTONIC_RAW; min and median of the
//!   per-read time over the batches.
#![forbid(unsafe_code)]

use crate::source::{ClockError, ClockId, ClockKind, ClockSource};
use serde::Serialize;

/// How hard to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyConfig {
    /// Forward increments to see (chrony: 100).
    pub increments: u32,
    /// Time budget for the increments of one clock, ns (MONOTONIC_RAW).
    pub budget_ns: i64,
    /// Reads per timed batch.
    pub batch: u32,
    /// Timed batches per clock.
    pub batches: u32,
}

impl Default for SurveyConfig {
    fn default() -> Self {
        SurveyConfig {
            increments: 100,
            budget_ns: 200_000_000,
            batch: 32,
            batches: 101,
        }
    }
}

/// A resolution measured as chrony does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MeasuredResolution {
    /// The smallest forward step between two consecutive reads, ns.
    pub resolution_ns: i64,
    /// How many forward steps were seen (fewer than asked when the budget ran out).
    pub increments: u32,
    /// Backward steps seen between consecutive reads (never, on a sound clock).
    pub backward: u32,
}

/// The time one read takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReadCost {
    /// Fastest batch, ns per read.
    pub min: f64,
    /// Median batch, ns per read.
    pub median: f64,
}

/// Measures a clock's resolution as chrony does: the smallest positive difference between
/// consecutive reads over `cfg.increments` increments, or over what the time budget allows.
/// `None` when the clock never moved within the budget.
pub fn measure_resolution<S: ClockSource + ?Sized>(
    src: &mut S,
    clock: ClockId,
    cfg: &SurveyConfig,
) -> Result<Option<MeasuredResolution>, ClockError> {
    let start = src.read_ns(ClockId::MonotonicRaw)?;
    let mut best = i64::MAX;
    let mut increments = 0u32;
    let mut backward = 0u32;
    let mut prev = src.read_ns(clock)?;
    let mut since_check = 0u32;
    while increments < cfg.increments {
        let now = src.read_ns(clock)?;
        let diff = now - prev;
        prev = now;
        if diff > 0 {
            best = best.min(diff);
            increments += 1;
        } else if diff < 0 {
            backward += 1;
        }
        // Check the budget only now and then: a RAW read between two reads of the clock
        // would inflate the difference being measured.
        since_check += 1;
        if since_check >= 256 {
            since_check = 0;
            if src.read_ns(ClockId::MonotonicRaw)? - start > cfg.budget_ns {
                break;
            }
            prev = src.read_ns(clock)?;
        }
    }
    Ok((increments > 0).then_some(MeasuredResolution {
        resolution_ns: best,
        increments,
        backward,
    }))
}

/// Measures the cost of reading `clock`: `cfg.batches` batches of `cfg.batch` reads, each
/// timed by MONOTONIC_RAW reads around it (so one RAW read is included per batch).
pub fn measure_read_cost<S: ClockSource + ?Sized>(
    src: &mut S,
    clock: ClockId,
    cfg: &SurveyConfig,
) -> Result<ReadCost, ClockError> {
    let batch = cfg.batch.max(1);
    let mut per_read: Vec<f64> = Vec::with_capacity(cfg.batches.max(1) as usize);
    for _ in 0..cfg.batches.max(1) {
        let t0 = src.read_ns(ClockId::MonotonicRaw)?;
        for _ in 0..batch {
            std::hint::black_box(src.read_ns(clock)?);
        }
        let t1 = src.read_ns(ClockId::MonotonicRaw)?;
        per_read.push((t1 - t0) as f64 / f64::from(batch));
    }
    per_read.sort_by(f64::total_cmp);
    Ok(ReadCost {
        min: per_read[0],
        median: per_read[per_read.len() / 2],
    })
}

/// Everything measured about one clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockSurvey {
    /// The clock.
    pub clock: ClockId,
    /// What it counts.
    pub kind: ClockKind,
    /// `clock_getres`, ns.
    pub resolution_ns: Option<i64>,
    /// Measured as chrony does.
    pub measured: Option<MeasuredResolution>,
    /// Read cost.
    pub read_cost: Option<ReadCost>,
    /// A reading taken during the survey, ns since the clock's epoch.
    pub now_ns: Option<i64>,
    /// Why the clock could not be measured.
    pub error: Option<String>,
}

/// Surveys each clock in `clocks`. A clock that cannot be read gets its error and does not
/// hide the others; only MONOTONIC_RAW, the timeline of every measurement, is required.
pub fn survey<S: ClockSource + ?Sized>(
    src: &mut S,
    clocks: &[ClockId],
    cfg: &SurveyConfig,
) -> Result<Vec<ClockSurvey>, ClockError> {
    src.read_ns(ClockId::MonotonicRaw)?;
    let mut out = Vec::with_capacity(clocks.len());
    for &clock in clocks {
        let mut entry = ClockSurvey {
            clock,
            kind: clock.kind(),
            resolution_ns: None,
            measured: None,
            read_cost: None,
            now_ns: None,
            error: None,
        };
        let mut errors: Vec<String> = Vec::new();
        let getres = src.resolution_ns(clock);
        let read = src.read_ns(clock);
        match (&getres, &read) {
            (Ok(r), _) => entry.resolution_ns = Some(*r),
            // Both fail alike (a clock this machine does not have): one message.
            (Err(g), Err(r)) if g.errno == r.errno => {}
            (Err(e), _) => errors.push(format!("clock_getres: {e}")),
        }
        match read {
            Ok(v) => {
                entry.now_ns = Some(v);
                match measure_resolution(src, clock, cfg) {
                    Ok(m) => entry.measured = m,
                    Err(e) => errors.push(e.to_string()),
                }
                match measure_read_cost(src, clock, cfg) {
                    Ok(c) => entry.read_cost = Some(c),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
        if !errors.is_empty() {
            errors.dedup();
            entry.error = Some(errors.join("; "));
        }
        out.push(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimClocks, SimConfig};

    fn quiet() -> SimConfig {
        SimConfig {
            read_cost_ns: 20,
            read_jitter_ns: 0,
            ..SimConfig::default()
        }
    }

    #[test]
    fn fine_clock_resolves_its_read_cost() {
        let mut s = SimClocks::new(quiet());
        let m = measure_resolution(&mut s, ClockId::Realtime, &SurveyConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(m.resolution_ns, 20);
        assert_eq!(m.increments, 100);
        assert_eq!(m.backward, 0);
    }

    #[test]
    fn coarse_clock_resolves_its_tick_within_the_budget() {
        let mut s = SimClocks::new(SimConfig {
            read_jitter_ns: 7,
            ..quiet()
        });
        let cfg = SurveyConfig {
            budget_ns: 100_000_000,
            ..SurveyConfig::default()
        };
        let t0 = s.awake_ns();
        let m = measure_resolution(&mut s, ClockId::MonotonicCoarse, &cfg)
            .unwrap()
            .unwrap();
        assert_eq!(m.resolution_ns, 4_000_000);
        assert!((24..=26).contains(&m.increments), "{m:?}");
        // The budget bounds the loop (a check every 256 reads overshoots it a little).
        assert!(s.awake_ns() - t0 < 110_000_000);
    }

    #[test]
    fn read_cost_min_and_median() {
        let mut s = SimClocks::new(SimConfig {
            read_cost_ns: 20,
            read_jitter_ns: 10,
            preempt_one_in: 500,
            preempt_ns: 100_000,
            ..SimConfig::default()
        });
        let c = measure_read_cost(&mut s, ClockId::Monotonic, &SurveyConfig::default()).unwrap();
        // 20 ns + uniform 0..10 ns jitter: per-read mean 24.5 ns (+ 1/32 of a RAW read).
        assert!(c.min > 20.0 && c.min <= c.median, "{c:?}");
        assert!((c.median - 25.3).abs() < 2.0, "{c:?}");
    }

    #[test]
    fn survey_reports_unavailable_clocks_beside_the_others() {
        let mut s = SimClocks::new(quiet());
        let cfg = SurveyConfig {
            budget_ns: 50_000_000,
            ..SurveyConfig::default()
        };
        let all = survey(&mut s, &ClockId::ALL, &cfg).unwrap();
        assert_eq!(all.len(), 11);
        for e in &all {
            if matches!(e.clock, ClockId::RealtimeAlarm | ClockId::BoottimeAlarm) {
                let err = e.error.as_deref().unwrap();
                assert!(err.contains("(os error 22)"), "{e:?}");
                assert!(!err.contains("clock_getres"), "one message, not two: {err}");
                assert!(e.measured.is_none() && e.read_cost.is_none());
            } else {
                assert!(e.error.is_none(), "{e:?}");
                assert!(e.measured.is_some() && e.read_cost.is_some(), "{e:?}");
            }
        }
        let coarse = all
            .iter()
            .find(|e| e.clock == ClockId::RealtimeCoarse)
            .unwrap();
        assert_eq!(coarse.resolution_ns, Some(4_000_000));
        assert_eq!(coarse.measured.unwrap().resolution_ns, 4_000_000);
    }
}
