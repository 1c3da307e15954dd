//! What the detector is asked to do: interval, threshold, sibling cadence, and the defaults
//! chosen from this kind of machine's measured noise.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// Default wake-up interval of the hiccup thread: 1 ms (jHiccup's resolution).
pub const DEFAULT_INTERVAL_NS: i64 = 1_000_000;
/// Shortest accepted interval: below 100 µs the loop costs more than it measures.
pub const MIN_INTERVAL_NS: i64 = 100_000;
/// Longest accepted interval (a pause is only known to within one interval).
pub const MAX_INTERVAL_NS: i64 = 10_000_000_000;
/// How often the signals (clocks, run-delay, steal, markers) are checkpointed.
pub const DEFAULT_CHECKPOINT_NS: i64 = 1_000_000_000;
/// How often the detector thread's own counters (run-delay, CPU time: one 11-byte `pread`,
/// ≈ 3 µs) are refreshed in between, so that the background run-delay a busy machine adds
/// is compared over at most this long rather than a whole second.
pub const DEFAULT_THREAD_CHECKPOINT_NS: i64 = 100_000_000;
/// Floor of the default threshold. On a quiet 2-core VM, 1 ms sleeps overshoot by up to
/// 4 ms now and then (p99.9 1.1 ms) and by up to ~10 ms while other work competes for the
/// cores, so 20 ms stays clear of the noise (see `docs/benchmarks/pauses.md`).
pub const THRESHOLD_FLOOR_NS: i64 = 20_000_000;
/// The default threshold is at least this many intervals: a pause is only known to within
/// one interval, and 10 ms sleeps have their own noise (max 3.3 ms quiet).
pub const THRESHOLD_INTERVALS: i64 = 4;
/// Default timer slack for the detector and the sibling: 1 ns (the kernel's default, 50 µs,
/// triples the median overshoot of a 1 ms sleep).
pub const DEFAULT_TIMER_SLACK_NS: u64 = 1;
/// Default cap on the events kept for the final report (later ones are counted).
pub const DEFAULT_MAX_EVENTS: usize = 10_000;
/// The detector's (and the sibling's) interval: [`MIN_INTERVAL_NS`] to [`MAX_INTERVAL_NS`].
pub const INTERVAL_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(MIN_INTERVAL_NS, MAX_INTERVAL_NS);
/// The largest timer slack the detector takes: 100 ms. The slack lets the kernel wake the
/// thread that much late on every sleep, so it must stay far below anything measured;
/// `106751d` (issue 14.7) made each sleep last 292 years and the run never end.
pub const MAX_TIMER_SLACK_NS: u64 = 100_000_000;
/// The timer slack a run accepts (0 is taken as the smallest, 1 ns).
pub const TIMER_SLACK_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, MAX_TIMER_SLACK_NS as i64);
/// The event threshold a run accepts: 1 ns to 1 day.
pub const THRESHOLD_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1, 86_400_000_000_000);
/// The period of the interval statistics (CSV rows): 1 ms to 1 day.
pub const REPORT_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 86_400_000_000_000);
/// The length of a run: 1 ms to 3650 days.
pub const RUN_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 3_650 * 86_400_000_000_000);

/// The default threshold for an interval: `max(20 ms, 4 × interval)` — 20 ms at 1 ms,
/// 40 ms at 10 ms, 400 ms at 100 ms.
pub fn default_threshold_ns(interval_ns: i64) -> i64 {
    THRESHOLD_FLOOR_NS.max(interval_ns.saturating_mul(THRESHOLD_INTERVALS))
}

/// The default wake-up period of the sibling detector: half the threshold (so that every
/// pause above the threshold holds a sibling deadline with a margin on both sides), never
/// shorter than the detector's own interval or 1 ms, never longer than 1 s.
pub fn default_sibling_interval_ns(threshold_ns: i64, interval_ns: i64) -> i64 {
    (threshold_ns / 2).clamp(interval_ns.max(1_000_000), 1_000_000_000.max(interval_ns))
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The interval is outside [100 µs, 10 s].
    #[error("interval {0} ns is outside 100us..10s")]
    Interval(i64),
    /// The threshold is not larger than zero.
    #[error("threshold must be greater than zero (got {0} ns)")]
    Threshold(i64),
    /// The sibling interval is outside [100 µs, 10 s].
    #[error("sibling interval {0} ns is outside 100us..10s")]
    SiblingInterval(i64),
    /// The checkpoint period is shorter than 10 ms or than the interval.
    #[error("checkpoint period {0} ns must be at least 10ms and at least the interval")]
    Checkpoint(i64),
    /// The thread-counter refresh period is shorter than the interval or longer than the
    /// checkpoint period.
    #[error(
        "thread checkpoint period {0} ns must lie between the interval and the checkpoint period"
    )]
    ThreadCheckpoint(i64),
    /// The report period is not larger than zero.
    #[error("report interval must be greater than zero (got {0} ns)")]
    Report(i64),
    /// The timer slack is above [`MAX_TIMER_SLACK_NS`].
    #[error("timer slack {0} ns is above 100ms")]
    TimerSlack(u64),
}

/// The detector's settings (pure: no paths, no processes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorConfig {
    /// Wake-up interval of the hiccup thread, ns.
    pub interval_ns: i64,
    /// Overshoots at or above this are events, ns.
    pub threshold_ns: i64,
    /// Period of the signal checkpoints, ns.
    pub checkpoint_ns: i64,
    /// Period of the refreshes of the thread's own counters, ns.
    pub thread_checkpoint_ns: i64,
    /// Period of the interval statistics (CSV rows), ns; `None`: none are produced.
    pub report_ns: Option<i64>,
    /// Wake-up period of the sibling process, ns; `None`: no sibling.
    pub sibling_interval_ns: Option<i64>,
    /// Events kept for the final report.
    pub max_events: usize,
    /// Share of a pause's lower bound that a signal (run-delay, steal) must account for to
    /// explain it, in percent.
    pub attribution_pct: i64,
    /// Largest clock slew assumed between checkpoints when telling steps apart, in ppm
    /// (the kernel's PLL limit is 500 ppm).
    pub max_slew_ppm: i64,
}

impl DetectorConfig {
    /// The defaults for an interval: threshold `max(20 ms, 4 × interval)`, sibling at half
    /// the threshold, checkpoints every second, statistics every second.
    pub fn for_interval(interval_ns: i64) -> Self {
        let threshold_ns = default_threshold_ns(interval_ns);
        DetectorConfig {
            interval_ns,
            threshold_ns,
            checkpoint_ns: DEFAULT_CHECKPOINT_NS.max(interval_ns),
            thread_checkpoint_ns: DEFAULT_THREAD_CHECKPOINT_NS.max(interval_ns),
            report_ns: Some(1_000_000_000),
            sibling_interval_ns: Some(default_sibling_interval_ns(threshold_ns, interval_ns)),
            max_events: DEFAULT_MAX_EVENTS,
            attribution_pct: 50,
            max_slew_ppm: 500,
        }
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_INTERVAL_NS..=MAX_INTERVAL_NS).contains(&self.interval_ns) {
            return Err(ConfigError::Interval(self.interval_ns));
        }
        if self.threshold_ns <= 0 {
            return Err(ConfigError::Threshold(self.threshold_ns));
        }
        if let Some(s) = self.sibling_interval_ns {
            if !(MIN_INTERVAL_NS..=MAX_INTERVAL_NS).contains(&s) {
                return Err(ConfigError::SiblingInterval(s));
            }
        }
        if self.checkpoint_ns < 10_000_000 || self.checkpoint_ns < self.interval_ns {
            return Err(ConfigError::Checkpoint(self.checkpoint_ns));
        }
        if self.thread_checkpoint_ns < self.interval_ns
            || self.thread_checkpoint_ns > self.checkpoint_ns
        {
            return Err(ConfigError::ThreadCheckpoint(self.thread_checkpoint_ns));
        }
        if let Some(r) = self.report_ns {
            if r <= 0 {
                return Err(ConfigError::Report(r));
            }
        }
        Ok(())
    }

    /// The margin the sibling uses: it records a stall of its own when it wakes more than
    /// this late, and only its deadlines at least this far inside a pause count as
    /// witnesses. A quarter of the threshold.
    pub fn sibling_margin_ns(&self) -> i64 {
        (self.threshold_ns / 4).max(1)
    }
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::for_interval(DEFAULT_INTERVAL_NS)
    }
}

/// Everything a monitor needs: the detector settings and where the host exposes its VM
/// markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorConfig {
    /// The detector.
    pub detector: DetectorConfig,
    /// The VMClock device (its disruption marker changes on live migration);
    /// `None`: not read. Default `/dev/vmclock0`.
    pub vmclock_path: Option<PathBuf>,
    /// A file holding the VM generation ID (any content: a change means the VM was
    /// cloned or restored from a snapshot); `None`: not read. Linux has no standard
    /// user-space file for it, so there is no default.
    pub vmgenid_path: Option<PathBuf>,
    /// Timer slack asked for the detector and sibling threads, ns (`PR_SET_TIMERSLACK`).
    pub timer_slack_ns: u64,
}

impl MonitorConfig {
    /// Checks the ranges: the detector's ([`DetectorConfig::validate`]) and the timer slack.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector.validate()?;
        if self.timer_slack_ns > MAX_TIMER_SLACK_NS {
            return Err(ConfigError::TimerSlack(self.timer_slack_ns));
        }
        Ok(())
    }

    /// The defaults for an interval.
    pub fn for_interval(interval_ns: i64) -> Self {
        MonitorConfig {
            detector: DetectorConfig::for_interval(interval_ns),
            vmclock_path: Some(PathBuf::from("/dev/vmclock0")),
            vmgenid_path: None,
            timer_slack_ns: DEFAULT_TIMER_SLACK_NS,
        }
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self::for_interval(DEFAULT_INTERVAL_NS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_interval() {
        assert_eq!(default_threshold_ns(1_000_000), 20_000_000);
        assert_eq!(default_threshold_ns(10_000_000), 40_000_000);
        assert_eq!(default_threshold_ns(100_000_000), 400_000_000);
        assert_eq!(
            default_sibling_interval_ns(20_000_000, 1_000_000),
            10_000_000
        );
        assert_eq!(
            default_sibling_interval_ns(40_000_000, 10_000_000),
            20_000_000
        );
        // Never faster than the detector itself, never slower than 1 s.
        assert_eq!(default_sibling_interval_ns(1_000_000, 1_000_000), 1_000_000);
        assert_eq!(
            default_sibling_interval_ns(60_000_000_000, 1_000_000),
            1_000_000_000
        );
        let c = DetectorConfig::default();
        assert_eq!(c.interval_ns, 1_000_000);
        assert_eq!(c.sibling_margin_ns(), 5_000_000);
        c.validate().unwrap();
    }

    #[test]
    fn validation() {
        let with = |f: &dyn Fn(&mut DetectorConfig)| {
            let mut c = DetectorConfig::default();
            f(&mut c);
            c.validate()
        };
        assert_eq!(
            with(&|c| c.interval_ns = 10),
            Err(ConfigError::Interval(10))
        );
        assert_eq!(
            with(&|c| c.threshold_ns = 0),
            Err(ConfigError::Threshold(0))
        );
        assert!(with(&|c| c.sibling_interval_ns = Some(20_000_000_000)).is_err());
        assert!(with(&|c| c.checkpoint_ns = 1_000).is_err());
        assert!(with(&|c| c.report_ns = Some(0)).is_err());
        assert!(with(&|c| c.thread_checkpoint_ns = 10).is_err());
        assert!(with(&|c| c.thread_checkpoint_ns = 2_000_000_000).is_err());
        assert!(with(&|c| c.sibling_interval_ns = None).is_ok());
        // Issue 14.7: a slack of 106751d made every sleep last 292 years.
        let mut m = MonitorConfig::default();
        m.validate().unwrap();
        m.timer_slack_ns = 106_751 * 86_400_000_000_000;
        assert_eq!(
            m.validate(),
            Err(ConfigError::TimerSlack(106_751 * 86_400_000_000_000))
        );
        m.timer_slack_ns = MAX_TIMER_SLACK_NS;
        m.validate().unwrap();
        m.detector.interval_ns = 0;
        assert_eq!(m.validate(), Err(ConfigError::Interval(0)));
    }
}
