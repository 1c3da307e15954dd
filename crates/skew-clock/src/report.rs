//! The views of a `skew clocks` run: the JSON report ([`ClocksReport`]) and the interval
//! record ([`IntervalRecord`]: a `--watch` line, a `--watch --json` line and a CSV row of a
//! drift log). Seconds as floating point appear only here; every number is computed once,
//! in the pure modules, and the views cannot disagree.
#![forbid(unsafe_code)]

use crate::clocksource::Clocksource;
use crate::detect::{Direction, Jump, Stamp, Step, Suspend, BACKWARD_WARNING};
use crate::kernel::KernelState;
use crate::kernel_rate::{expected, KernelRate};
use crate::monitor::{ClockSet, Summary};
use crate::regress::RateFit;
use crate::resolution::{ClockSurvey, ReadCost};
use crate::source::{ClockId, ClockKind};
use crate::tai::TaiJudgement;
use crate::timens::TimensOffsets;
use serde::Serialize;
use skew_time::rfc3339;

fn s(ns: i64) -> f64 {
    ns as f64 / 1e9
}

/// One clock in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockEntry {
    /// `REALTIME`, `MONOTONIC_RAW`...
    pub name: ClockId,
    /// Linux clock id.
    pub id: i32,
    /// `time-of-day`, `monotonic` or `cpu-time`.
    pub kind: ClockKind,
    /// How it behaves.
    pub behaviour: &'static str,
    /// `clock_getres`, ns.
    pub resolution_ns: Option<i64>,
    /// Measured as chrony does (smallest forward step between consecutive reads), ns.
    pub measured_resolution_ns: Option<i64>,
    /// Forward steps seen while measuring it (chrony waits for 100).
    pub measured_increments: Option<u32>,
    /// Read cost, ns: `min` and `median`.
    pub read_cost_ns: Option<ReadCost>,
    /// A reading, s since the clock's epoch.
    pub now_s: Option<f64>,
    /// Why the clock could not be read or measured.
    pub error: Option<String>,
}

impl ClockEntry {
    /// The view of a survey entry.
    pub fn of(e: &ClockSurvey) -> ClockEntry {
        ClockEntry {
            name: e.clock,
            id: e.clock.linux_id(),
            kind: e.kind,
            behaviour: e.clock.behaviour(),
            resolution_ns: e.resolution_ns,
            measured_resolution_ns: e.measured.map(|m| m.resolution_ns),
            measured_increments: e.measured.map(|m| m.increments),
            read_cost_ns: e.read_cost,
            now_s: e.now_ns.map(s),
            error: e.error.clone(),
        }
    }
}

/// A rate against MONOTONIC_RAW, with the kernel's prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateEntry {
    /// The rate, ppm (positive: faster than RAW); null when too few samples.
    pub ppm: Option<f64>,
    /// Half-width of its 95 % confidence interval, ppm.
    pub ci95_ppm: Option<f64>,
    /// Samples in the fit.
    pub n: usize,
    /// Segments (steps and suspends cut the fit).
    pub segments: usize,
    /// RMS of the fit's residuals, ns.
    pub residual_rms_ns: Option<f64>,
    /// Lag-1 autocorrelation of the residuals (the CI is widened for it).
    pub lag1_autocorrelation: Option<f64>,
    /// What the kernel's discipline predicts (freq + tick + PLL slew), ppm.
    pub kernel_expected_ppm: Option<f64>,
    /// Measured − predicted, ppm.
    pub minus_kernel_ppm: Option<f64>,
}

impl RateEntry {
    /// The view of a fit, compared with the kernel's prediction.
    pub fn of(fit: Option<&RateFit>, kernel: Option<&KernelRate>) -> RateEntry {
        let expected = kernel.map(|k| k.expected_ppm);
        RateEntry {
            ppm: fit.map(|f| f.ppm),
            ci95_ppm: fit.map(|f| f.ci95_ppm),
            n: fit.map_or(0, |f| f.n),
            segments: fit.map_or(0, |f| f.segments),
            residual_rms_ns: fit.map(|f| f.residual_rms_ns),
            lag1_autocorrelation: fit.map(|f| f.lag1_autocorrelation),
            kernel_expected_ppm: expected,
            minus_kernel_ppm: fit.zip(expected).map(|(f, e)| f.ppm - e),
        }
    }
}

/// Both rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// REALTIME against MONOTONIC_RAW.
    pub realtime_vs_raw: RateEntry,
    /// MONOTONIC against MONOTONIC_RAW.
    pub monotonic_vs_raw: RateEntry,
}

/// A step of REALTIME in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepEntry {
    /// REALTIME right after the step (RFC 3339, UTC).
    pub at: String,
    /// The same, s since the Unix epoch.
    pub at_unix_s: f64,
    /// When, s into the run (BOOTTIME).
    pub elapsed_s: f64,
    /// The step, s (positive: forward).
    pub size_s: f64,
    /// How far off `size_s` may be, s.
    pub uncertainty_s: f64,
    /// `forward` or `backward`.
    pub direction: Direction,
    /// The step happened within this time before `at` (time between the two samples), s.
    pub window_s: f64,
    /// Whether the kernel reported a clock setting then (timerfd).
    pub clock_set_seen: bool,
    /// For backward steps: what it means for durations.
    pub warning: Option<&'static str>,
}

impl StepEntry {
    /// The view of a step; `origin` is the run's first sample.
    pub fn of(st: &Step, origin: &Stamp) -> StepEntry {
        StepEntry {
            at: rfc3339::format_ns(st.after.realtime_ns),
            at_unix_s: s(st.after.realtime_ns),
            elapsed_s: s(st.after.boottime_ns - origin.boottime_ns),
            size_s: s(st.size_ns),
            uncertainty_s: s(st.uncertainty_ns),
            direction: st.direction,
            window_s: s(st.after.raw_ns - st.before.raw_ns),
            clock_set_seen: st.clock_set_seen,
            warning: st.warning(),
        }
    }
}

/// A suspend in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspendEntry {
    /// REALTIME at the first sample after resume (RFC 3339, UTC).
    pub at: String,
    /// When, s into the run (BOOTTIME).
    pub elapsed_s: f64,
    /// Time asleep, s.
    pub size_s: f64,
    /// How far off `size_s` may be, s.
    pub uncertainty_s: f64,
    /// Whether the timerfd fired on resume.
    pub clock_set_seen: bool,
}

impl SuspendEntry {
    /// The view of a suspend.
    pub fn of(sp: &Suspend, origin: &Stamp) -> SuspendEntry {
        SuspendEntry {
            at: rfc3339::format_ns(sp.after.realtime_ns),
            elapsed_s: s(sp.after.boottime_ns - origin.boottime_ns),
            size_s: s(sp.size_ns),
            uncertainty_s: s(sp.uncertainty_ns),
            clock_set_seen: sp.clock_set_seen,
        }
    }
}

/// A jump of MONOTONIC (against RAW) or BOOTTIME (against MONOTONIC).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JumpEntry {
    /// `MONOTONIC` or `BOOTTIME`.
    pub clock: ClockId,
    /// REALTIME at the first sample after (RFC 3339, UTC).
    pub at: String,
    /// When, s into the run (BOOTTIME).
    pub elapsed_s: f64,
    /// The jump, s.
    pub size_s: f64,
    /// How far off `size_s` may be, s.
    pub uncertainty_s: f64,
}

impl JumpEntry {
    /// The view of a jump.
    pub fn of(j: &Jump, origin: &Stamp) -> JumpEntry {
        JumpEntry {
            clock: j.clock,
            at: rfc3339::format_ns(j.after.realtime_ns),
            elapsed_s: s(j.after.boottime_ns - origin.boottime_ns),
            size_s: s(j.size_ns),
            uncertainty_s: s(j.uncertainty_ns),
        }
    }
}

/// A clock setting reported by the kernel (timerfd).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockSetEntry {
    /// REALTIME right after (RFC 3339, UTC).
    pub at: String,
    /// When, s into the run (BOOTTIME).
    pub elapsed_s: f64,
    /// `step`, `suspend`, or null: a setting the samples did not see as a step above the
    /// threshold.
    pub explained_by: Option<&'static str>,
}

impl ClockSetEntry {
    /// The view of a clock setting.
    pub fn of(c: &ClockSet, origin: &Stamp) -> ClockSetEntry {
        ClockSetEntry {
            at: rfc3339::format_ns(c.at.realtime_ns),
            elapsed_s: s(c.at.boottime_ns - origin.boottime_ns),
            explained_by: c.explained_by,
        }
    }
}

/// The suspend reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspendReport {
    /// BOOTTIME − MONOTONIC at the end, s: time spent in suspend since boot, as this process
    /// sees it (a time namespace adds its offsets' difference).
    pub suspended_s: f64,
    /// Its uncertainty, s.
    pub uncertainty_s: f64,
    /// BOOTTIME − MONOTONIC at the start, s.
    pub start_s: f64,
    /// Growth during the run, s.
    pub growth_s: f64,
    /// This process's time-namespace offsets (null: kernel without time namespaces).
    pub timens_offsets: Option<TimensOffsetsView>,
    /// `suspended_s` without the namespace's offsets: the host's suspend time, s.
    pub host_suspended_s: Option<f64>,
    /// Suspends seen during the run.
    pub events: Vec<SuspendEntry>,
}

/// Time-namespace offsets in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimensOffsetsView {
    /// Added to MONOTONIC and MONOTONIC_RAW, s.
    pub monotonic_s: f64,
    /// Added to BOOTTIME, s.
    pub boottime_s: f64,
}

/// The settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// First sample, REALTIME (RFC 3339, UTC).
    pub start: String,
    /// Last sample.
    pub end: String,
    /// Sampling time (MONOTONIC_RAW), s.
    pub duration_s: f64,
    /// Samples taken.
    pub samples: u64,
    /// Samples left out of the fits as preempted.
    pub rejected: usize,
    /// Time between samples, s.
    pub sample_interval_s: f64,
    /// Chained rounds per sample (the tightest is kept).
    pub rounds: u32,
    /// `--step-threshold`, s.
    pub step_threshold_s: f64,
    /// `armed`, or why the timerfd detector is not running.
    pub timerfd: String,
}

/// The JSON report of `skew clocks`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClocksReport {
    /// Every Linux clock.
    pub clocks: Vec<ClockEntry>,
    /// Rates against MONOTONIC_RAW.
    pub rate_ppm: Rates,
    /// The kernel's discipline (adjtimex, read-only); null if it could not be read.
    pub kernel: Option<KernelState>,
    /// The kernel's predicted rate, by part.
    pub kernel_rate: Option<KernelRate>,
    /// Steps of REALTIME against BOOTTIME.
    pub steps: Vec<StepEntry>,
    /// Clock settings the kernel reported (timerfd TFD_TIMER_CANCEL_ON_SET).
    pub clock_sets: Vec<ClockSetEntry>,
    /// Jumps of MONOTONIC or BOOTTIME (never, on a sound system).
    pub jumps: Vec<JumpEntry>,
    /// CLOCK_TAI − CLOCK_REALTIME, whole seconds: the TAI − UTC this system applies (null if
    /// CLOCK_TAI cannot be read).
    pub tai_minus_utc_s: Option<i64>,
    /// The TAI judgement (null if CLOCK_TAI cannot be read).
    pub tai: Option<TaiJudgement>,
    /// BOOTTIME − MONOTONIC at the end, s.
    pub suspended_s: f64,
    /// The suspend reading in full.
    pub suspend: SuspendReport,
    /// The clocksource (null if /sys could not be read).
    pub clocksource: Option<Clocksource>,
    /// The run.
    pub run: RunInfo,
    /// Everything worth a warning, in one list.
    pub warnings: Vec<String>,
    /// What was not measured or not checked, and why.
    pub notes: Vec<String>,
}

/// Everything a report is made of.
#[derive(Debug, Clone)]
pub struct ReportInputs<'a> {
    /// The clock survey (may be empty).
    pub survey: &'a [ClockSurvey],
    /// The whole run.
    pub summary: &'a Summary,
    /// The kernel's state at the end, or why it could not be read.
    pub kernel: Result<&'a KernelState, String>,
    /// USER_HZ.
    pub user_hz: i64,
    /// The TAI judgement, or why CLOCK_TAI could not be read.
    pub tai: Result<TaiJudgement, String>,
    /// The clocksource, or why it could not be read.
    pub clocksource: Result<Clocksource, String>,
    /// The time-namespace offsets (None: no time namespaces).
    pub timens: Result<Option<TimensOffsets>, String>,
    /// `None` if the timerfd detector ran, else why not.
    pub timerfd_error: Option<String>,
    /// Time between samples, ns.
    pub sample_interval_ns: i64,
    /// Rounds per sample.
    pub rounds: u32,
    /// The step threshold, ns.
    pub step_threshold_ns: i64,
}

/// Builds the report and its warnings.
pub fn build(inp: ReportInputs<'_>) -> ClocksReport {
    let sm = inp.summary;
    let origin = sm.origin;
    let mut warnings: Vec<String> = Vec::new();
    let kernel = inp.kernel.as_ref().ok().map(|k| (*k).clone());
    if let Err(e) = &inp.kernel {
        warnings.push(format!(
            "cannot read the kernel's clock state (adjtimex): {e}"
        ));
    }
    let kernel_rate = kernel.as_ref().map(|k| expected(k, inp.user_hz));
    if let Some(k) = &kernel {
        if !k.synchronized {
            warnings.push(format!(
                "the kernel clock is not synchronized: {}",
                k.sync_reason
            ));
        }
        if k.leap_armed {
            warnings.push(format!(
                "a leap second is armed in the kernel ({}, status {})",
                k.state,
                k.status.join(" ")
            ));
        }
    }
    let rate_ppm = Rates {
        realtime_vs_raw: RateEntry::of(sm.realtime_vs_raw.as_ref(), kernel_rate.as_ref()),
        monotonic_vs_raw: RateEntry::of(sm.monotonic_vs_raw.as_ref(), kernel_rate.as_ref()),
    };
    if let (Some(f), Some(k)) = (&sm.monotonic_vs_raw, &kernel_rate) {
        let diff = f.ppm - k.expected_ppm;
        if diff.abs() > 1.0 && diff.abs() > 3.0 * f.ci95_ppm {
            warnings.push(format!(
                "MONOTONIC runs {diff:+.3} ppm away from the rate the kernel's discipline \
                 predicts ({:+.3} ppm)",
                k.expected_ppm
            ));
        }
    }
    let timerfd_ok = inp.timerfd_error.is_none();
    if let Some(e) = &inp.timerfd_error {
        warnings.push(format!("no second step detector: {e}"));
    }
    for st in &sm.steps {
        let entry = StepEntry::of(st, &origin);
        let dir = match st.direction {
            Direction::Forward => "forward",
            Direction::Backward => "backward",
        };
        let mut w = format!(
            "REALTIME stepped {dir} by {:+.6} s at {}",
            entry.size_s, entry.at
        );
        if st.direction == Direction::Backward {
            w.push_str(&format!(": {BACKWARD_WARNING}"));
        }
        if timerfd_ok && !st.clock_set_seen {
            w.push_str(
                "; the kernel reported no clock setting, so the step is local to this process \
                 (a time-faking library such as libfaketime?)",
            );
        }
        warnings.push(w);
    }
    for c in sm.clock_sets.iter().filter(|c| c.explained_by.is_none()) {
        warnings.push(format!(
            "the kernel reported a clock setting at {} that moved REALTIME by less than the \
             step threshold",
            rfc3339::format_ns(c.at.realtime_ns)
        ));
    }
    for j in &sm.jumps {
        warnings.push(format!(
            "{} jumped by {:+.6} s (a monotonic clock must not: a time-faking library or a \
             time-namespace switch?)",
            j.clock,
            s(j.size_ns)
        ));
    }
    if sm.suspend_growth_ns > inp.step_threshold_ns {
        warnings.push(format!(
            "the system was suspended for {:.3} s during the run (BOOTTIME − MONOTONIC grew)",
            s(sm.suspend_growth_ns)
        ));
    }
    match &inp.tai {
        Ok(t) => warnings.extend(t.warnings.iter().cloned()),
        Err(e) => warnings.push(format!("no TAI check: {e}")),
    }
    let timens = match &inp.timens {
        Ok(t) => *t,
        Err(e) => {
            warnings.push(e.clone());
            None
        }
    };
    if let Some(t) = timens.filter(|t| t.is_shifted()) {
        warnings.push(format!(
            "running in a time namespace: MONOTONIC {:+.3} s, BOOTTIME {:+.3} s; \
             BOOTTIME − MONOTONIC includes {:+.3} s that is not suspend",
            s(t.monotonic_ns),
            s(t.boottime_ns),
            s(t.suspend_bias_ns())
        ));
    }
    let clocksource = match inp.clocksource {
        Ok(c) => Some(c),
        Err(e) => {
            warnings.push(format!("cannot read the clocksource: {e}"));
            None
        }
    };
    let first = origin;
    let mut notes: Vec<String> = inp
        .survey
        .iter()
        .filter_map(|e| e.error.as_ref())
        .cloned()
        .collect();
    if let Ok(t) = &inp.tai {
        notes.extend(t.notes.iter().cloned());
    }
    let suspend = SuspendReport {
        suspended_s: s(sm.suspended_ns),
        uncertainty_s: s(sm.suspended_uncertainty_ns),
        start_s: s(sm.suspended_ns - sm.suspend_growth_ns),
        growth_s: s(sm.suspend_growth_ns),
        timens_offsets: timens.map(|t| TimensOffsetsView {
            monotonic_s: s(t.monotonic_ns),
            boottime_s: s(t.boottime_ns),
        }),
        host_suspended_s: timens.map(|t| s(sm.suspended_ns - t.suspend_bias_ns())),
        events: sm
            .suspends
            .iter()
            .map(|x| SuspendEntry::of(x, &origin))
            .collect(),
    };
    ClocksReport {
        clocks: inp.survey.iter().map(ClockEntry::of).collect(),
        rate_ppm,
        kernel,
        kernel_rate,
        steps: sm.steps.iter().map(|x| StepEntry::of(x, &origin)).collect(),
        clock_sets: sm
            .clock_sets
            .iter()
            .map(|x| ClockSetEntry::of(x, &origin))
            .collect(),
        jumps: sm.jumps.iter().map(|x| JumpEntry::of(x, &origin)).collect(),
        tai_minus_utc_s: inp.tai.as_ref().ok().map(|t| t.clock_tai_minus_realtime_s),
        tai: inp.tai.ok(),
        suspended_s: s(sm.suspended_ns),
        suspend,
        clocksource,
        run: RunInfo {
            start: rfc3339::format_ns(first.realtime_ns),
            end: rfc3339::format_ns(sm.end.realtime_ns),
            duration_s: s(sm.end.raw_ns - first.raw_ns),
            samples: sm.samples,
            rejected: sm.rejected,
            sample_interval_s: s(inp.sample_interval_ns),
            rounds: inp.rounds,
            step_threshold_s: s(inp.step_threshold_ns),
            timerfd: inp
                .timerfd_error
                .clone()
                .unwrap_or_else(|| "armed".to_string()),
        },
        warnings,
        notes,
    }
}

/// The CSV columns of an interval record (a drift log row), in order.
pub const CSV_COLUMNS: &[&str] = &[
    "time_utc",
    "elapsed_s",
    "interval_s",
    "samples",
    "realtime_vs_raw_ppm",
    "realtime_vs_raw_ci95_ppm",
    "monotonic_vs_raw_ppm",
    "monotonic_vs_raw_ci95_ppm",
    "kernel_expected_ppm",
    "monotonic_minus_kernel_ppm",
    "realtime_minus_raw_s",
    "monotonic_minus_raw_s",
    "steps",
    "backward_steps",
    "step_sum_s",
    "largest_step_s",
    "clock_sets",
    "suspended_s",
    "suspend_growth_s",
    "tai_minus_utc_s",
    "kernel_tai_s",
    "kernel_state",
    "kernel_synchronized",
    "kernel_freq_ppm",
    "kernel_maxerror_s",
    "kernel_esterror_s",
    "clocksource",
];

/// One interval: a `--watch` line and a CSV row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalRecord {
    /// REALTIME at the interval's last sample (RFC 3339, UTC).
    pub time_utc: String,
    /// Wall (REALTIME) elapsed since the start of the run, s (steps included; as
    /// `ntpcheck utils track`'s "wall difference").
    pub elapsed_s: f64,
    /// MONOTONIC elapsed since the start, s.
    pub monotonic_elapsed_s: f64,
    /// MONOTONIC_RAW elapsed since the start, s.
    pub raw_elapsed_s: f64,
    /// RAW time covered by this interval, s.
    pub interval_s: f64,
    /// Samples in the interval.
    pub samples: u64,
    /// REALTIME against RAW over the interval.
    pub realtime_vs_raw: RateEntry,
    /// MONOTONIC against RAW over the interval.
    pub monotonic_vs_raw: RateEntry,
    /// REALTIME − RAW elapsed since the start, s.
    pub realtime_minus_raw_s: f64,
    /// MONOTONIC − RAW elapsed since the start, s.
    pub monotonic_minus_raw_s: f64,
    /// Steps in the interval.
    pub steps: Vec<StepEntry>,
    /// Clock settings the kernel reported in the interval.
    pub clock_sets: Vec<ClockSetEntry>,
    /// Suspends in the interval.
    pub suspends: Vec<SuspendEntry>,
    /// Jumps of MONOTONIC or BOOTTIME in the interval.
    pub jumps: Vec<JumpEntry>,
    /// BOOTTIME − MONOTONIC at the end, s.
    pub suspended_s: f64,
    /// Its growth since the start of the run, s.
    pub suspend_growth_s: f64,
    /// CLOCK_TAI − REALTIME (whole s), if measured.
    pub tai_minus_utc_s: Option<i64>,
    /// The kernel's state at the end of the interval.
    pub kernel: Option<KernelState>,
    /// The current clocksource.
    pub clocksource: Option<String>,
}

impl IntervalRecord {
    /// The view of an interval.
    pub fn of(
        sm: &Summary,
        kernel: Option<&KernelState>,
        user_hz: i64,
        tai_minus_utc_s: Option<i64>,
        clocksource: Option<&str>,
    ) -> IntervalRecord {
        let kr = kernel.map(|k| expected(k, user_hz));
        let origin = &sm.origin;
        IntervalRecord {
            time_utc: rfc3339::format_ns(sm.end.realtime_ns),
            elapsed_s: s(sm.wall_elapsed_ns),
            monotonic_elapsed_s: s(sm.monotonic_elapsed_ns),
            raw_elapsed_s: s(sm.raw_elapsed_ns),
            interval_s: s(sm.end.raw_ns - sm.start.raw_ns),
            samples: sm.samples,
            realtime_vs_raw: RateEntry::of(sm.realtime_vs_raw.as_ref(), kr.as_ref()),
            monotonic_vs_raw: RateEntry::of(sm.monotonic_vs_raw.as_ref(), kr.as_ref()),
            realtime_minus_raw_s: s(sm.realtime_minus_raw_ns),
            monotonic_minus_raw_s: s(sm.monotonic_minus_raw_ns),
            steps: sm.steps.iter().map(|x| StepEntry::of(x, origin)).collect(),
            clock_sets: sm
                .clock_sets
                .iter()
                .map(|x| ClockSetEntry::of(x, origin))
                .collect(),
            suspends: sm
                .suspends
                .iter()
                .map(|x| SuspendEntry::of(x, origin))
                .collect(),
            jumps: sm.jumps.iter().map(|x| JumpEntry::of(x, origin)).collect(),
            suspended_s: s(sm.suspended_ns),
            suspend_growth_s: s(sm.suspend_growth_ns),
            tai_minus_utc_s,
            kernel: kernel.cloned(),
            clocksource: clocksource.map(str::to_string),
        }
    }

    /// The CSV fields, in [`CSV_COLUMNS`] order (absent values are empty).
    pub fn csv_fields(&self) -> Vec<String> {
        fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
            v.map_or_else(String::new, |v| v.to_string())
        }
        let f9 = |v: f64| format!("{v:.9}");
        let f6 = |v: f64| format!("{v:.6}");
        let k = self.kernel.as_ref();
        let largest = self
            .steps
            .iter()
            .map(|x| x.size_s)
            .max_by(|a, b| a.abs().total_cmp(&b.abs()));
        vec![
            self.time_utc.clone(),
            f9(self.elapsed_s),
            f9(self.interval_s),
            self.samples.to_string(),
            opt(self.realtime_vs_raw.ppm.map(f6)),
            opt(self.realtime_vs_raw.ci95_ppm.map(f6)),
            opt(self.monotonic_vs_raw.ppm.map(f6)),
            opt(self.monotonic_vs_raw.ci95_ppm.map(f6)),
            opt(self.monotonic_vs_raw.kernel_expected_ppm.map(f6)),
            opt(self.monotonic_vs_raw.minus_kernel_ppm.map(f6)),
            f9(self.realtime_minus_raw_s),
            f9(self.monotonic_minus_raw_s),
            self.steps.len().to_string(),
            self.steps
                .iter()
                .filter(|x| x.direction == Direction::Backward)
                .count()
                .to_string(),
            f9(self.steps.iter().map(|x| x.size_s).sum::<f64>()),
            opt(largest.map(f9)),
            self.clock_sets.len().to_string(),
            f9(self.suspended_s),
            f9(self.suspend_growth_s),
            opt(self.tai_minus_utc_s),
            opt(k.map(|k| k.tai_s)),
            opt(k.map(|k| k.state.clone())),
            opt(k.map(|k| k.synchronized)),
            opt(k.map(|k| f6(k.freq_ppm))),
            opt(k.map(|k| f6(k.maxerror_s))),
            opt(k.map(|k| f6(k.esterror_s))),
            self.clocksource.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Timex, STA_UNSYNC};
    use crate::monitor::{Monitor, MonitorConfig};
    use crate::run::{run, Flow, RunConfig};
    use crate::sim::{SimClocks, SimConfig};
    use crate::tai::judge_tai;

    fn undisciplined() -> KernelState {
        KernelState::decode(&Timex {
            state: 5,
            status: STA_UNSYNC,
            maxerror: 16_000_000,
            esterror: 16_000_000,
            tick: 10_000,
            constant: 2,
            ..Timex::default()
        })
    }

    fn sim_run() -> (Summary, Vec<Summary>) {
        let mut sim = SimClocks::new(SimConfig {
            rate_ppm: 2.0,
            ..SimConfig::default()
        });
        sim.fake_realtime_step_at(1_500_000_000, 2_000_000_000);
        sim.fake_realtime_step_at(2_500_000_000, -1_000_000_000);
        let mut m = Monitor::new(MonitorConfig::default());
        let mut lines = Vec::new();
        run(
            &mut sim,
            &mut m,
            &RunConfig {
                duration_ns: Some(3_000_000_000),
                interval_ns: 1_000_000_000,
                sample_interval_ns: 10_000_000,
                rounds: 8,
            },
            |_, s| {
                lines.push(s.clone());
                Flow::Continue
            },
        )
        .unwrap();
        (m.summary().unwrap(), lines)
    }

    #[test]
    fn json_has_the_documented_keys() {
        let (sm, _) = sim_run();
        let k = undisciplined();
        let cs = crate::clocksource::parse("tsc", "tsc kvm-clock");
        let r = build(ReportInputs {
            survey: &[],
            summary: &sm,
            kernel: Ok(&k),
            user_hz: 100,
            tai: Ok(judge_tai(100, 60, 0, None)),
            clocksource: Ok(cs),
            timens: Ok(Some(TimensOffsets::default())),
            timerfd_error: None,
            sample_interval_ns: 10_000_000,
            rounds: 8,
            step_threshold_ns: 1_000_000,
        });
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "clocks",
            "rate_ppm",
            "kernel",
            "steps",
            "tai_minus_utc_s",
            "suspended_s",
            "clocksource",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        for key in ["realtime_vs_raw", "monotonic_vs_raw"] {
            assert!(v["rate_ppm"][key]["ci95_ppm"].is_number(), "{key}");
        }
        for key in [
            "state",
            "status",
            "offset_s",
            "freq_ppm",
            "maxerror_s",
            "esterror_s",
            "tai_s",
            "synchronized",
        ] {
            assert!(v["kernel"].get(key).is_some(), "kernel.{key}");
        }
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2);
        assert!(steps[0]["at"].as_str().unwrap().ends_with('Z'));
        assert!((steps[0]["size_s"].as_f64().unwrap() - 2.0).abs() < 1e-6);
        assert!((steps[1]["size_s"].as_f64().unwrap() + 1.0).abs() < 1e-6);
        assert_eq!(steps[1]["direction"], "backward");
        assert_eq!(steps[1]["warning"], BACKWARD_WARNING);
        assert_eq!(v["tai_minus_utc_s"], 0);
        assert_eq!(v["tai"]["status"], "kernel_unset");
        assert_eq!(v["clocksource"]["current"], "tsc");
        assert_eq!(v["kernel"]["state"], "TIME_ERROR");
        // Warnings: not synchronized, the TAI offset, and both steps (not seen by the
        // kernel: a local fake).
        assert!(r.warnings.iter().any(|w| w.contains("not synchronized")));
        assert!(r.warnings.iter().any(|w| w.contains("TAI offset is unset")));
        assert_eq!(
            r.warnings
                .iter()
                .filter(|w| w.contains("local to this process"))
                .count(),
            2
        );
        assert!(r.warnings.iter().any(|w| w.contains(BACKWARD_WARNING)));
        // The rate against the kernel's prediction (freq 0, tick nominal).
        let m = &r.rate_ppm.monotonic_vs_raw;
        assert_eq!(m.kernel_expected_ppm, Some(0.0));
        assert!((m.minus_kernel_ppm.unwrap() - 2.0).abs() < 0.01, "{m:?}");
    }

    #[test]
    fn unreadable_tai_and_kernel_are_warnings() {
        let (sm, _) = sim_run();
        let r = build(ReportInputs {
            survey: &[],
            summary: &sm,
            kernel: Err("Operation not permitted".into()),
            user_hz: 100,
            tai: Err("CLOCK_TAI cannot be read: Invalid argument (os error 22)".into()),
            clocksource: Err("No such file or directory".into()),
            timens: Ok(None),
            timerfd_error: Some("timerfd unavailable".into()),
            sample_interval_ns: 10_000_000,
            rounds: 8,
            step_threshold_ns: 1_000_000,
        });
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["tai_minus_utc_s"].is_null() && v["tai"].is_null());
        assert!(v["kernel"].is_null() && v["clocksource"].is_null());
        assert!(v["rate_ppm"]["monotonic_vs_raw"]["kernel_expected_ppm"].is_null());
        assert!(v["rate_ppm"]["monotonic_vs_raw"]["ppm"].is_number());
        assert_eq!(v["run"]["timerfd"], "timerfd unavailable");
        for needle in [
            "no TAI check",
            "adjtimex",
            "clocksource",
            "no second step detector",
        ] {
            assert!(
                r.warnings.iter().any(|w| w.contains(needle)),
                "{needle}: {:?}",
                r.warnings
            );
        }
        // Without the timerfd, steps are not called local (nobody could have told).
        assert!(!r
            .warnings
            .iter()
            .any(|w| w.contains("local to this process")));
        assert_eq!(r.steps.len(), 2);
    }

    #[test]
    fn csv_rows_match_the_columns() {
        let (_, lines) = sim_run();
        assert_eq!(lines.len(), 3);
        let k = undisciplined();
        assert_eq!(lines[2].origin, lines[0].start);
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| IntervalRecord::of(l, Some(&k), 100, Some(0), Some("tsc")).csv_fields())
            .collect();
        for r in &rows {
            assert_eq!(r.len(), CSV_COLUMNS.len());
        }
        let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        assert_eq!(rows[1][col("steps")], "1");
        assert_eq!(rows[1][col("backward_steps")], "0");
        assert_eq!(rows[2][col("backward_steps")], "1");
        assert!(rows[2][col("step_sum_s")].starts_with("-1.000"));
        assert_eq!(rows[0][col("largest_step_s")], "");
        assert_eq!(rows[0][col("kernel_state")], "TIME_ERROR");
        assert_eq!(rows[0][col("kernel_synchronized")], "false");
        assert_eq!(rows[0][col("clocksource")], "tsc");
        let ppm: f64 = rows[0][col("monotonic_vs_raw_ppm")].parse().unwrap();
        assert!((ppm - 2.0).abs() < 0.05);
        // Wall elapsed keeps the steps (+2 − 1 = +1 s) after the last one.
        let e: f64 = rows[2][col("realtime_minus_raw_s")].parse().unwrap();
        assert!((e - 1.0).abs() < 1e-3, "{e}");
    }
}
