//! The sampling loop of `skew clocks`, over any [`ClockSource`] + [`Pacer`].
//!
//! Every `sample_interval` the loop takes a bracketed sample (see [`crate::sample`]) and
//! gives it to the [`Monitor`]; every `interval` (a `--watch` line, or the whole run) it
//! closes an interval and hands its [`Summary`] to the caller. Between samples it waits on
//! the pacer, which returns early when the kernel reports a clock setting (the real pacer:
//! a timerfd with TFD_TIMER_CANCEL_ON_SET), so a setting is sampled the instant it happens,
//! or when a stop signal arrives. The loop is bounded by `duration`, by the caller
//! returning [`Flow::Stop`], or by an interruption.
#![forbid(unsafe_code)]

use crate::monitor::{Monitor, Summary};
use crate::sample::take_sample;
use crate::source::{ClockError, ClockId, ClockSource};
use skew_time::DurationRange;

/// Time between samples a run accepts: 100 µs to 1 h.
pub const SAMPLE_INTERVAL_RANGE: DurationRange = DurationRange::new(100_000, 3_600_000_000_000);
/// The step (and suspend, jump) threshold a run accepts: 1 ns to 1 day.
pub const STEP_THRESHOLD_RANGE: DurationRange = DurationRange::new(1, 86_400_000_000_000);
/// The length of a `--watch` interval: 100 µs to 1 day.
pub const WATCH_INTERVAL_RANGE: DurationRange = DurationRange::new(100_000, 86_400_000_000_000);
/// The length of a run: 1 ms to 3650 days.
pub const RUN_DURATION_RANGE: DurationRange =
    DurationRange::new(1_000_000, 3_650 * 86_400_000_000_000);

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The time was up.
    Elapsed,
    /// The kernel reported that the time of day was set (or the system resumed).
    ClockSet,
    /// A stop was requested (SIGINT, SIGTERM).
    Interrupted,
}

/// Waits between samples.
pub trait Pacer {
    /// Waits about `ns` nanoseconds; returns early on a clock setting or a stop request.
    fn wait_ns(&mut self, ns: i64) -> Wake;
}

/// What the caller wants after an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep sampling.
    Continue,
    /// Stop now.
    Stop,
}

/// How the loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// Total sampling time, ns (MONOTONIC_RAW); `None`: until stopped.
    pub duration_ns: Option<i64>,
    /// Length of an interval (a `--watch` line), ns.
    pub interval_ns: i64,
    /// Time between samples, ns.
    pub sample_interval_ns: i64,
    /// Chained rounds per sample (the tightest is kept).
    pub rounds: u32,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The duration was reached.
    Finished,
    /// The caller asked to stop.
    Stopped,
    /// A stop signal arrived.
    Interrupted,
}

/// Runs the sampling loop. `on_interval` gets the source (to read more, e.g. CLOCK_TAI) and
/// each interval's summary.
pub fn run<E, F>(
    env: &mut E,
    monitor: &mut Monitor,
    cfg: &RunConfig,
    mut on_interval: F,
) -> Result<RunEnd, ClockError>
where
    E: ClockSource + Pacer,
    F: FnMut(&mut E, &Summary) -> Flow,
{
    let sample_every = cfg.sample_interval_ns.max(1);
    let interval = cfg.interval_ns.max(sample_every);
    let first = take_sample(env, cfg.rounds)?;
    monitor.push_sample(first);
    let t0 = first.raw_ns();
    let end = cfg.duration_ns.map(|d| t0.saturating_add(d.max(0)));
    let mut next_sample = t0 + sample_every;
    let mut next_interval = t0 + interval;
    loop {
        let now = env.read_ns(ClockId::MonotonicRaw)?;
        let target = end.map_or(next_sample, |e| next_sample.min(e));
        let wake = if target > now {
            env.wait_ns(target - now)
        } else {
            Wake::Elapsed
        };
        let s = take_sample(env, cfg.rounds)?;
        if wake == Wake::ClockSet {
            monitor.push_clock_set(&s);
        }
        monitor.push_sample(s);
        let t = s.raw_ns();
        if wake == Wake::Elapsed {
            next_sample += sample_every;
            if next_sample <= t {
                // Fell behind (preempted, or the machine slept): do not burst to catch up.
                next_sample = t + sample_every;
            }
        }
        let finished = end.is_some_and(|e| t >= e);
        let interrupted = wake == Wake::Interrupted;
        if (t >= next_interval || finished || interrupted) && monitor.interval_open() {
            if let Some(summary) = monitor.close_interval() {
                if on_interval(env, &summary) == Flow::Stop {
                    return Ok(RunEnd::Stopped);
                }
            }
            while next_interval <= t {
                next_interval += interval;
            }
        }
        if interrupted {
            return Ok(RunEnd::Interrupted);
        }
        if finished {
            return Ok(RunEnd::Finished);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Direction;
    use crate::monitor::MonitorConfig;
    use crate::sim::{SimClocks, SimConfig};

    fn cfg(duration_s: i64, interval_ms: i64) -> RunConfig {
        RunConfig {
            duration_ns: Some(duration_s * 1_000_000_000),
            interval_ns: interval_ms * 1_000_000,
            sample_interval_ns: 10_000_000,
            rounds: 8,
        }
    }

    #[test]
    fn one_interval_for_a_plain_run() {
        let mut sim = SimClocks::new(SimConfig {
            rate_ppm: 25.0,
            read_jitter_ns: 20,
            ..SimConfig::default()
        });
        sim.fake_realtime_step_at(2_000_000_000, 2_000_000_000);
        sim.fake_realtime_step_at(4_000_000_000, -1_000_000_000);
        let mut m = Monitor::new(MonitorConfig {
            expected_monotonic_ppm: 25.0,
            ..MonitorConfig::default()
        });
        let mut lines = Vec::new();
        let end = run(&mut sim, &mut m, &cfg(10, 10_000), |_, s| {
            lines.push(s.clone());
            Flow::Continue
        })
        .unwrap();
        assert_eq!(end, RunEnd::Finished);
        assert_eq!(lines.len(), 1);
        let s = &lines[0];
        // ~10 s at one sample per 10 ms (each wait overshoots 60 µs and the loop
        // re-targets on the RAW timeline, so no drift).
        assert!((995..=1002).contains(&s.samples), "{}", s.samples);
        assert!(s.raw_elapsed_ns >= 10_000_000_000 && s.raw_elapsed_ns < 10_100_000_000);
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].direction, Direction::Forward);
        assert_eq!(s.steps[1].direction, Direction::Backward);
        let f = s.monotonic_vs_raw.unwrap();
        assert!((f.ppm - 25.0).abs() < 0.01 && f.ci95_ppm < 0.05, "{f:?}");
        let f = s.realtime_vs_raw.unwrap();
        assert!((f.ppm - 25.0).abs() < 0.01 && f.ci95_ppm < 0.05, "{f:?}");
    }

    #[test]
    fn watch_lines_and_stops() {
        let mut sim = SimClocks::new(SimConfig::default());
        let mut m = Monitor::new(MonitorConfig::default());
        let mut n = 0;
        let end = run(
            &mut sim,
            &mut m,
            &RunConfig {
                duration_ns: None,
                ..cfg(0, 1000)
            },
            |_, s| {
                n += 1;
                assert!((99..=101).contains(&s.samples), "{}", s.samples);
                if n == 5 {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            },
        )
        .unwrap();
        assert_eq!(end, RunEnd::Stopped);
        assert_eq!(n, 5);
        let total = m.summary().unwrap();
        assert!((total.raw_elapsed_ns - 5_000_000_000).abs() < 20_000_000);
    }

    #[test]
    fn clock_setting_is_sampled_at_once_and_interrupt_stops_cleanly() {
        let mut sim = SimClocks::new(SimConfig::default());
        sim.step_realtime_at(1_234_567_890, 10_000_000_000);
        sim.interrupt_at(2_500_000_000);
        let mut m = Monitor::new(MonitorConfig::default());
        let mut lines = Vec::new();
        let end = run(&mut sim, &mut m, &cfg(60, 1000), |_, s| {
            lines.push(s.clone());
            Flow::Continue
        })
        .unwrap();
        assert_eq!(end, RunEnd::Interrupted);
        assert_eq!(lines.len(), 3, "two full intervals and the partial one");
        let steps = &lines[1].steps;
        assert_eq!(steps.len(), 1);
        assert!(steps[0].clock_set_seen);
        // Sampled within the wake latency (20 µs) + one sample, not at the next 10 ms tick.
        let after_raw = steps[0].after.raw_ns - SimConfig::default().raw_start_ns;
        assert!(
            after_raw - 1_234_567_890 < 100_000,
            "sampled {} ns after",
            after_raw - 1_234_567_890
        );
        assert_eq!(lines[1].clock_sets.len(), 1);
        assert_eq!(lines[1].clock_sets[0].explained_by, Some("step"));
    }

    #[test]
    fn unreadable_clock_is_an_error_not_a_panic() {
        struct Broken(SimClocks);
        impl ClockSource for Broken {
            fn read_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
                if clock == ClockId::Boottime {
                    return Err(ClockError { clock, errno: 22 });
                }
                self.0.read_ns(clock)
            }
            fn resolution_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
                self.0.resolution_ns(clock)
            }
        }
        impl Pacer for Broken {
            fn wait_ns(&mut self, ns: i64) -> Wake {
                self.0.wait_ns(ns)
            }
        }
        let mut b = Broken(SimClocks::new(SimConfig::default()));
        let mut m = Monitor::new(MonitorConfig::default());
        let e = run(&mut b, &mut m, &cfg(1, 1000), |_, _| Flow::Continue).unwrap_err();
        assert_eq!(e.clock, ClockId::Boottime);
    }
}
