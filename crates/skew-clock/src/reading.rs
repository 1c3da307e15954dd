//! Sampling the real clocks: a [`Session`] sets up the [`Monitor`] from the kernel's
//! discipline (the rate it predicts for MONOTONIC) and runs the sampling loop on
//! [`LinuxEnv`]; [`take`] is a short session in one call, what `skew monitor` takes while it
//! probes (rate, steps, suspend), without the per-clock survey. `skew clocks` runs a
//! session of its own with a callback per interval.

use crate::linux::{self, LinuxEnv};
use crate::monitor::{Monitor, MonitorConfig, Summary};
use crate::run::{run, Flow, RunConfig, RunEnd};
use crate::sample::bracketed_offset;
use crate::tai::{judge_tai, TaiJudgement};
use crate::{adjtimex, kernel_rate, ClockError, ClockId, KernelState};

/// The kernel's discipline now (`adjtimex`, read-only), or why not.
pub fn kernel_now() -> Result<KernelState, String> {
    adjtimex::kernel_state().map_err(|e| e.to_string())
}

/// A sampling session on the real clocks.
#[derive(Debug)]
pub struct Session {
    /// The real clocks and the timerfd pacer.
    pub env: LinuxEnv,
    /// The detector fed by the samples.
    pub monitor: Monitor,
    /// USER_HZ, which the kernel's `tick` is counted in.
    pub user_hz: i64,
    /// The kernel's discipline when the session started.
    pub kernel_start: Result<KernelState, String>,
}

impl Session {
    /// A session reporting steps (and suspends, jumps) above `step_threshold_ns`, sampling
    /// every `sample_interval_ns`; MONOTONIC's expected rate is what the kernel's
    /// discipline predicts now.
    pub fn new(step_threshold_ns: i64, sample_interval_ns: i64) -> Session {
        let user_hz = linux::user_hz();
        let kernel_start = kernel_now();
        let expected = kernel_start
            .as_ref()
            .map_or(0.0, |k| kernel_rate::expected(k, user_hz).expected_ppm);
        Session {
            env: LinuxEnv::default(),
            monitor: Monitor::new(MonitorConfig {
                step_threshold_ns,
                expected_monotonic_ppm: expected,
                clock_set_window_ns: 2 * sample_interval_ns + 1_000_000,
                ..MonitorConfig::default()
            }),
            user_hz,
            kernel_start,
        }
    }

    /// Runs the sampling loop; `on_interval` sees each finished interval.
    pub fn run<F>(&mut self, cfg: &RunConfig, on_interval: F) -> Result<RunEnd, ClockError>
    where
        F: FnMut(&mut LinuxEnv, &Summary) -> Flow,
    {
        run(&mut self.env, &mut self.monitor, cfg, on_interval)
    }
}

/// CLOCK_TAI − CLOCK_REALTIME now, rounded to whole seconds (the TAI − UTC this system
/// applies), from the tightest of `rounds` brackets.
pub fn tai_minus_realtime_s(env: &mut LinuxEnv, rounds: u32) -> Result<i64, ClockError> {
    bracketed_offset(env, ClockId::Tai, ClockId::Realtime, rounds)
        .map(|o| skew_time::round_ns_to_s(o.offset_ns))
}

/// Measures CLOCK_TAI against CLOCK_REALTIME and judges it against the kernel's TAI offset
/// (0 when `kernel` could not be read) and TAI − UTC from the leap-seconds list, when given.
pub fn measure_tai(
    env: &mut LinuxEnv,
    kernel: Option<&KernelState>,
    list_tai_minus_utc_s: Option<i64>,
) -> Result<TaiJudgement, ClockError> {
    bracketed_offset(env, ClockId::Tai, ClockId::Realtime, 16).map(|o| {
        judge_tai(
            o.offset_ns,
            o.bracket_ns,
            kernel.map_or(0, |k| k.tai_s),
            list_tai_minus_utc_s,
        )
    })
}

/// How to take a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadingConfig {
    /// How long, ns.
    pub duration_ns: i64,
    /// Smallest step reported, ns.
    pub step_threshold_ns: i64,
    /// Time between samples, ns.
    pub sample_interval_ns: i64,
}

impl Default for ReadingConfig {
    fn default() -> Self {
        ReadingConfig {
            duration_ns: 2_000_000_000,
            step_threshold_ns: 1_000_000,
            sample_interval_ns: 10_000_000,
        }
    }
}

/// The summary of a reading and the kernel's state at its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Rates, steps, suspends over the reading.
    pub summary: Summary,
    /// The kernel's discipline at the end, or why adjtimex could not read it.
    pub kernel: Result<KernelState, String>,
    /// Why the kernel's report of clock settings (the cancel-on-set timerfd) was not
    /// watched; `None` when it was, so that a step it did not report is local to this
    /// process (a time-faking library).
    pub timerfd_error: Option<String>,
}

impl Reading {
    /// Steps the kernel did not report although it was watched: changes of the time of day
    /// seen only by this process (LD_PRELOAD fakes such as libfaketime).
    pub fn steps_local_to_process(&self) -> usize {
        if self.timerfd_error.is_some() {
            return 0;
        }
        self.summary
            .steps
            .iter()
            .filter(|s| !s.clock_set_seen)
            .count()
    }
}

/// Takes a reading of the real clocks (blocks for `duration_ns`); the error says which
/// clock could not be read.
pub fn take(cfg: &ReadingConfig) -> Result<Reading, String> {
    let mut session = Session::new(cfg.step_threshold_ns, cfg.sample_interval_ns);
    let run_cfg = RunConfig {
        duration_ns: Some(cfg.duration_ns.max(cfg.sample_interval_ns)),
        interval_ns: cfg.duration_ns.max(cfg.sample_interval_ns),
        sample_interval_ns: cfg.sample_interval_ns.max(100_000),
        rounds: 8,
    };
    session
        .run(&run_cfg, |_, _| Flow::Continue)
        .map_err(|e| e.to_string())?;
    let summary = session
        .monitor
        .summary()
        .ok_or_else(|| "no clock sample was taken".to_string())?;
    Ok(Reading {
        summary,
        kernel: kernel_now(),
        timerfd_error: session.env.pacer.error().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_reading_of_the_real_clocks() {
        let r = super::take(&super::ReadingConfig {
            duration_ns: 200_000_000,
            ..Default::default()
        })
        .unwrap();
        assert!(r.summary.samples >= 5, "{} samples", r.summary.samples);
        let fit = r.summary.realtime_vs_raw.expect("a rate");
        assert!(fit.ppm.abs() < 1000.0 && fit.ci95_ppm >= 0.0);
    }

    #[test]
    fn tai_against_realtime() {
        let mut env = crate::linux::LinuxEnv::default();
        let kernel = super::kernel_now().ok();
        let s = super::tai_minus_realtime_s(&mut env, 8).unwrap();
        assert_eq!(i64::from(kernel.as_ref().map_or(0, |k| k.tai_s)), s);
        let j = super::measure_tai(&mut env, kernel.as_ref(), Some(37)).unwrap();
        assert_eq!(j.clock_tai_minus_realtime_s, s);
        assert_eq!(j.list_tai_minus_utc_s, Some(37));
    }
}
