//! A short clock reading on the real clocks, in one call: what `skew monitor` takes while it
//! probes (rate, steps, suspend), without the per-clock survey. The edge that combines
//! [`crate::linux::LinuxEnv`], [`crate::monitor::Monitor`] and [`crate::run::run`].

use crate::linux::{self, LinuxEnv};
use crate::monitor::{Monitor, MonitorConfig, Summary};
use crate::run::{run, Flow, RunConfig};
use crate::{adjtimex, kernel_rate, KernelState};

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
    /// The kernel's discipline at the end (None when adjtimex failed).
    pub kernel: Option<KernelState>,
}

/// Takes a reading of the real clocks (blocks for `duration_ns`); the error says which
/// clock could not be read.
pub fn take(cfg: &ReadingConfig) -> Result<Reading, String> {
    let kernel_start = adjtimex::kernel_state().ok();
    let expected = kernel_start.as_ref().map_or(0.0, |k| {
        kernel_rate::expected(k, linux::user_hz()).expected_ppm
    });
    let mut monitor = Monitor::new(MonitorConfig {
        step_threshold_ns: cfg.step_threshold_ns,
        expected_monotonic_ppm: expected,
        clock_set_window_ns: 2 * cfg.sample_interval_ns + 1_000_000,
        ..MonitorConfig::default()
    });
    let mut env = LinuxEnv::default();
    let run_cfg = RunConfig {
        duration_ns: Some(cfg.duration_ns.max(cfg.sample_interval_ns)),
        interval_ns: cfg.duration_ns.max(cfg.sample_interval_ns),
        sample_interval_ns: cfg.sample_interval_ns.max(100_000),
        rounds: 8,
    };
    run(&mut env, &mut monitor, &run_cfg, |_, _| Flow::Continue).map_err(|e| e.to_string())?;
    let summary = monitor
        .summary()
        .ok_or_else(|| "no clock sample was taken".to_string())?;
    Ok(Reading {
        summary,
        kernel: adjtimex::kernel_state().ok(),
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
}
