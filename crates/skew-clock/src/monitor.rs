//! The state of a `skew clocks` run: samples in, discontinuities found as they arrive,
//! rates and summaries per interval (a `--watch` line, a CSV row) and for the whole run.
//!
//! Memory is bounded for runs of any length: the current interval's points are kept whole,
//! the whole run's are decimated (every 2ᵏ-th sample once the store is full), and at most
//! [`MAX_EVENTS`] events of each kind are kept (the rest are counted).
#![forbid(unsafe_code)]

use crate::detect::{detect, Change, Jump, Stamp, Step, Suspend, Thresholds};
use crate::regress::{fit_rate, select_tight, Point, RateFit};
use crate::sample::Sample;
use serde::Serialize;

/// Events of each kind kept per run; more are counted in [`Summary::events_dropped`].
pub const MAX_EVENTS: usize = 10_000;

/// How a run judges its samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonitorConfig {
    /// Smallest step, suspend or jump reported, ns.
    pub step_threshold_ns: i64,
    /// MONOTONIC's expected rate against RAW (the kernel's frequency), ppm.
    pub expected_monotonic_ppm: f64,
    /// A clock setting reported by the kernel belongs to a step when it lies within this of
    /// the step's samples, ns (about two sample intervals).
    pub clock_set_window_ns: i64,
    /// Points kept for the whole-run fit before decimation.
    pub max_points: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            step_threshold_ns: 1_000_000,
            expected_monotonic_ppm: 0.0,
            clock_set_window_ns: 21_000_000,
            max_points: 20_000,
        }
    }
}

/// A clock setting the kernel reported (timerfd with TFD_TIMER_CANCEL_ON_SET).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockSet {
    /// The sample taken right after the wake-up.
    pub at: Stamp,
    /// What the samples saw at that time: `step`, `suspend`, or none (a setting smaller
    /// than the threshold, or to the same time).
    pub explained_by: Option<&'static str>,
}

/// Rates and discontinuities over an interval (or a whole run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The run's first sample (elapsed times and event times count from it).
    pub origin: Stamp,
    /// The first sample of the interval (the last one of the previous interval).
    pub start: Stamp,
    /// The last sample.
    pub end: Stamp,
    /// REALTIME elapsed since the start of the run, ns (steps included).
    pub wall_elapsed_ns: i64,
    /// MONOTONIC elapsed since the start of the run, ns.
    pub monotonic_elapsed_ns: i64,
    /// MONOTONIC_RAW elapsed since the start of the run, ns.
    pub raw_elapsed_ns: i64,
    /// REALTIME − RAW elapsed since the start of the run, ns (slew, steps and suspends).
    pub realtime_minus_raw_ns: i64,
    /// MONOTONIC − RAW elapsed since the start of the run, ns (slew).
    pub monotonic_minus_raw_ns: i64,
    /// REALTIME's rate against RAW over the interval (steps and suspends cut out).
    pub realtime_vs_raw: Option<RateFit>,
    /// MONOTONIC's rate against RAW over the interval.
    pub monotonic_vs_raw: Option<RateFit>,
    /// Samples in the interval.
    pub samples: u64,
    /// Points left out of the fits as preempted (bracket far wider than the median).
    pub rejected: usize,
    /// Steps of REALTIME.
    pub steps: Vec<Step>,
    /// Suspends.
    pub suspends: Vec<Suspend>,
    /// Jumps of MONOTONIC or BOOTTIME.
    pub jumps: Vec<Jump>,
    /// Clock settings the kernel reported.
    pub clock_sets: Vec<ClockSet>,
    /// BOOTTIME − MONOTONIC at the end, ns.
    pub suspended_ns: i64,
    /// Its uncertainty (half-brackets), ns.
    pub suspended_uncertainty_ns: i64,
    /// Growth of BOOTTIME − MONOTONIC since the start of the run, ns.
    pub suspend_growth_ns: i64,
    /// Events beyond [`MAX_EVENTS`] that were counted but not kept.
    pub events_dropped: u64,
}

/// Keeps every `stride`-th item, doubling the stride whenever `cap` items are held.
#[derive(Debug, Clone)]
struct Decimated<T> {
    items: Vec<T>,
    stride: u64,
    seen: u64,
    cap: usize,
}

impl<T> Decimated<T> {
    fn new(cap: usize) -> Self {
        Decimated {
            items: Vec::new(),
            stride: 1,
            seen: 0,
            cap: cap.max(4),
        }
    }

    fn push(&mut self, item: T) {
        if self.seen % self.stride == 0 {
            self.items.push(item);
            if self.items.len() >= self.cap {
                let mut i = 0;
                self.items.retain(|_| {
                    i += 1;
                    (i - 1) % 2 == 0
                });
                self.stride *= 2;
            }
        }
        self.seen += 1;
    }
}

/// Per-interval accumulation.
#[derive(Debug, Clone)]
struct Interval {
    start: Sample,
    rt: Vec<Point>,
    mono: Vec<Point>,
    samples: u64,
    steps_from: usize,
    suspends_from: usize,
    jumps_from: usize,
    sets_from: usize,
}

/// A run in progress.
#[derive(Debug, Clone)]
pub struct Monitor {
    cfg: MonitorConfig,
    first: Option<Sample>,
    last: Option<Sample>,
    rt_segment: u32,
    mono_segment: u32,
    samples: u64,
    run: Decimated<(Point, Point)>,
    interval: Option<Interval>,
    steps: Vec<Step>,
    suspends: Vec<Suspend>,
    jumps: Vec<Jump>,
    clock_sets: Vec<ClockSet>,
    dropped: u64,
}

/// Whether `at` lies within `w` of the samples `lo`..`hi` (on MONOTONIC_RAW).
fn near(w: i64, lo: &Stamp, hi: &Stamp, at: &Stamp) -> bool {
    at.raw_ns >= lo.raw_ns - w && at.raw_ns <= hi.raw_ns + w
}

fn push_capped<T>(v: &mut Vec<T>, item: T, dropped: &mut u64) {
    if v.len() < MAX_EVENTS {
        v.push(item);
    } else {
        *dropped += 1;
    }
}

impl Monitor {
    /// A new run.
    pub fn new(cfg: MonitorConfig) -> Monitor {
        Monitor {
            cfg,
            first: None,
            last: None,
            rt_segment: 0,
            mono_segment: 0,
            samples: 0,
            run: Decimated::new(cfg.max_points),
            interval: None,
            steps: Vec::new(),
            suspends: Vec::new(),
            jumps: Vec::new(),
            clock_sets: Vec::new(),
            dropped: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MonitorConfig {
        &self.cfg
    }

    /// The first sample of the run.
    pub fn first(&self) -> Option<&Sample> {
        self.first.as_ref()
    }

    /// The latest sample.
    pub fn last(&self) -> Option<&Sample> {
        self.last.as_ref()
    }

    /// Samples so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Every step so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    fn points(&self, s: &Sample) -> (Point, Point) {
        let o = self.first.as_ref().unwrap_or(s);
        let origin = o.monotonic.raw_ns;
        (
            Point {
                x_ns: s.realtime.raw_ns - origin,
                y_ns: s.realtime.minus_raw_ns() - o.realtime.minus_raw_ns(),
                segment: self.rt_segment,
                bracket_ns: s.realtime.bracket_ns,
            },
            Point {
                x_ns: s.monotonic.raw_ns - origin,
                y_ns: s.monotonic.minus_raw_ns() - o.monotonic.minus_raw_ns(),
                segment: self.mono_segment,
                bracket_ns: s.monotonic.bracket_ns,
            },
        )
    }

    /// Records a clock setting the kernel reported; `s` is the sample taken right after.
    pub fn push_clock_set(&mut self, s: &Sample) {
        let at = Stamp::of(s);
        let mut explained_by = None;
        let w = self.cfg.clock_set_window_ns;
        for st in self.steps.iter_mut().rev().take(8) {
            if near(w, &st.before, &st.after, &at) {
                st.clock_set_seen = true;
                explained_by = Some("step");
            }
        }
        for sp in self.suspends.iter_mut().rev().take(8) {
            if near(w, &sp.before, &sp.after, &at) {
                sp.clock_set_seen = true;
                explained_by = explained_by.or(Some("suspend"));
            }
        }
        push_capped(
            &mut self.clock_sets,
            ClockSet { at, explained_by },
            &mut self.dropped,
        );
    }

    /// Adds a sample: detects discontinuities against the previous one and files the
    /// sample's points for the fits.
    pub fn push_sample(&mut self, s: Sample) {
        if self.first.is_none() {
            self.first = Some(s);
        }
        if let Some(prev) = self.last {
            let th = Thresholds {
                step_ns: self.cfg.step_threshold_ns,
                expected_monotonic_ppm: self.cfg.expected_monotonic_ppm,
            };
            for change in detect(&prev, &s, &th) {
                match change {
                    Change::Step(mut st) => {
                        self.rt_segment += 1;
                        let w = self.cfg.clock_set_window_ns;
                        for c in self.clock_sets.iter_mut().rev().take(8) {
                            if near(w, &st.before, &st.after, &c.at) {
                                st.clock_set_seen = true;
                                c.explained_by = Some("step");
                            }
                        }
                        push_capped(&mut self.steps, st, &mut self.dropped);
                    }
                    Change::Suspend(mut sp) => {
                        self.rt_segment += 1;
                        let w = self.cfg.clock_set_window_ns;
                        for c in self.clock_sets.iter_mut().rev().take(8) {
                            if near(w, &sp.before, &sp.after, &c.at) {
                                sp.clock_set_seen = true;
                                c.explained_by = c.explained_by.or(Some("suspend"));
                            }
                        }
                        push_capped(&mut self.suspends, sp, &mut self.dropped);
                    }
                    Change::Jump(j) => {
                        if j.clock == crate::source::ClockId::Monotonic {
                            self.mono_segment += 1;
                        }
                        push_capped(&mut self.jumps, j, &mut self.dropped);
                    }
                }
            }
        }
        let pts = self.points(&s);
        self.run.push(pts);
        let (steps, suspends, jumps, sets) = (
            self.steps.len(),
            self.suspends.len(),
            self.jumps.len(),
            self.clock_sets.len(),
        );
        let iv = self.interval.get_or_insert_with(|| Interval {
            start: s,
            rt: Vec::new(),
            mono: Vec::new(),
            samples: 0,
            steps_from: steps,
            suspends_from: suspends,
            jumps_from: jumps,
            sets_from: sets,
        });
        iv.rt.push(pts.0);
        iv.mono.push(pts.1);
        iv.samples += 1;
        self.samples += 1;
        self.last = Some(s);
    }

    fn summarize(
        &self,
        start: &Sample,
        rt: &[Point],
        mono: &[Point],
        samples: u64,
        from: (usize, usize, usize, usize),
    ) -> Summary {
        let first = self.first.unwrap_or(*start);
        let last = self.last.unwrap_or(*start);
        let rt_sel = select_tight(rt);
        let mono_sel = select_tight(mono);
        let wall = last.realtime.value_ns - first.realtime.value_ns;
        let mono_el = last.monotonic.value_ns - first.monotonic.value_ns;
        let raw = last.monotonic.raw_ns - first.monotonic.raw_ns;
        let raw_rt = last.realtime.raw_ns - first.realtime.raw_ns;
        Summary {
            origin: Stamp::of(&first),
            start: Stamp::of(start),
            end: Stamp::of(&last),
            wall_elapsed_ns: wall,
            monotonic_elapsed_ns: mono_el,
            raw_elapsed_ns: raw,
            realtime_minus_raw_ns: wall - raw_rt,
            monotonic_minus_raw_ns: mono_el - raw,
            realtime_vs_raw: fit_rate(&rt_sel.points),
            monotonic_vs_raw: fit_rate(&mono_sel.points),
            samples,
            rejected: rt_sel.rejected.max(mono_sel.rejected),
            steps: self.steps[from.0.min(self.steps.len())..].to_vec(),
            suspends: self.suspends[from.1.min(self.suspends.len())..].to_vec(),
            jumps: self.jumps[from.2.min(self.jumps.len())..].to_vec(),
            clock_sets: self.clock_sets[from.3.min(self.clock_sets.len())..].to_vec(),
            suspended_ns: last.boottime_minus_monotonic_ns(),
            suspended_uncertainty_ns: last.boottime_monotonic_uncertainty_ns(),
            suspend_growth_ns: last.boottime_minus_monotonic_ns()
                - first.boottime_minus_monotonic_ns(),
            events_dropped: self.dropped,
        }
    }

    /// Whether the current interval holds samples not yet summarized.
    pub fn interval_open(&self) -> bool {
        self.interval.as_ref().is_some_and(|iv| iv.samples > 0)
    }

    /// Ends the current interval and summarizes it. The next interval starts at the last
    /// sample (so consecutive intervals share their boundary sample, and their fits cover
    /// the whole timeline).
    pub fn close_interval(&mut self) -> Option<Summary> {
        let iv = self.interval.take()?;
        let summary = self.summarize(
            &iv.start,
            &iv.rt,
            &iv.mono,
            iv.samples,
            (iv.steps_from, iv.suspends_from, iv.jumps_from, iv.sets_from),
        );
        if let Some(last) = self.last {
            let (rt, mono) = self.points(&last);
            self.interval = Some(Interval {
                start: last,
                rt: vec![rt],
                mono: vec![mono],
                samples: 0,
                steps_from: self.steps.len(),
                suspends_from: self.suspends.len(),
                jumps_from: self.jumps.len(),
                sets_from: self.clock_sets.len(),
            });
        }
        Some(summary)
    }

    /// The whole run so far (fits over the decimated store).
    pub fn summary(&self) -> Option<Summary> {
        let first = self.first?;
        let rt: Vec<Point> = self.run.items.iter().map(|p| p.0).collect();
        let mono: Vec<Point> = self.run.items.iter().map(|p| p.1).collect();
        Some(self.summarize(&first, &rt, &mono, self.samples, (0, 0, 0, 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Direction;
    use crate::sample::take_sample;
    use crate::sim::{SimClocks, SimConfig};
    use crate::source::ClockId;

    fn feed(sim: &mut SimClocks, m: &mut Monitor, n: usize, every_ns: i64) {
        use crate::run::Pacer;
        for _ in 0..n {
            let s = take_sample(sim, 8).unwrap();
            m.push_sample(s);
            sim.wait_ns(every_ns);
        }
    }

    #[test]
    fn rates_and_steps_from_simulated_clocks() {
        let mut sim = SimClocks::new(SimConfig {
            rate_ppm: 12.0,
            realtime_extra_ppm: 3.0,
            read_jitter_ns: 30,
            preempt_one_in: 200,
            preempt_ns: 2_000_000,
            ..SimConfig::default()
        });
        sim.fake_realtime_step_at(3_000_000_000, 2_000_000_000);
        sim.fake_realtime_step_at(6_000_000_000, -1_000_000_000);
        let mut m = Monitor::new(MonitorConfig {
            expected_monotonic_ppm: 12.0,
            ..MonitorConfig::default()
        });
        feed(&mut sim, &mut m, 1000, 10_000_000);
        let s = m.summary().unwrap();
        assert_eq!(s.steps.len(), 2, "{:?}", s.steps);
        assert_eq!(s.steps[0].direction, Direction::Forward);
        assert!((s.steps[0].size_ns - 2_000_000_000).abs() < 1_000);
        assert_eq!(s.steps[1].direction, Direction::Backward);
        assert!((s.steps[1].size_ns + 1_000_000_000).abs() < 1_000);
        assert!(!s.steps[0].clock_set_seen);
        let rt = s.realtime_vs_raw.unwrap();
        let mono = s.monotonic_vs_raw.unwrap();
        assert_eq!(rt.segments, 3);
        assert_eq!(mono.segments, 1);
        assert!((rt.ppm - 15.0).abs() <= rt.ci95_ppm.max(0.002), "{rt:?}");
        assert!(
            (mono.ppm - 12.0).abs() <= mono.ci95_ppm.max(0.002),
            "{mono:?}"
        );
        assert!(rt.ci95_ppm < 0.05 && mono.ci95_ppm < 0.05);
        assert!(s.suspends.is_empty() && s.jumps.is_empty() && s.clock_sets.is_empty());
        assert_eq!(s.samples, 1000);
        // Wall elapsed includes the net +1 s of steps.
        assert!(
            (s.realtime_minus_raw_ns - 1_000_000_000).abs() < 1_000_000,
            "{s:?}"
        );
        assert!(s.suspend_growth_ns.abs() < 1_000);
    }

    #[test]
    fn intervals_partition_the_run() {
        let mut sim = SimClocks::new(SimConfig {
            rate_ppm: -7.0,
            ..SimConfig::default()
        });
        sim.fake_realtime_step_at(1_500_000_000, 5_000_000);
        let mut m = Monitor::new(MonitorConfig {
            expected_monotonic_ppm: -7.0,
            ..MonitorConfig::default()
        });
        let mut summaries = Vec::new();
        for _ in 0..3 {
            feed(&mut sim, &mut m, 100, 10_000_000);
            summaries.push(m.close_interval().unwrap());
        }
        assert_eq!(summaries.iter().map(|s| s.steps.len()).sum::<usize>(), 1);
        assert_eq!(summaries[1].steps.len(), 1, "{summaries:?}");
        for s in &summaries {
            let f = s.monotonic_vs_raw.unwrap();
            assert!((f.ppm + 7.0).abs() < 0.05, "{f:?}");
        }
        // Intervals follow each other: each starts where the previous ended.
        assert_eq!(summaries[1].start, summaries[0].end);
        assert_eq!(summaries[2].start, summaries[1].end);
        assert!(summaries[2].wall_elapsed_ns > summaries[1].wall_elapsed_ns);
        assert_eq!(m.summary().unwrap().steps.len(), 1);
    }

    #[test]
    fn kernel_settings_and_suspends_are_matched() {
        use crate::run::{Pacer, Wake};
        let mut sim = SimClocks::new(SimConfig::default());
        sim.step_realtime_at(500_000_000, -3_000_000_000);
        sim.suspend_at(1_000_000_000, 60_000_000_000);
        let mut m = Monitor::new(MonitorConfig::default());
        for _ in 0..200 {
            let wake = sim.wait_ns(10_000_000);
            let s = take_sample(&mut sim, 8).unwrap();
            if wake == Wake::ClockSet {
                m.push_clock_set(&s);
            }
            m.push_sample(s);
        }
        let s = m.summary().unwrap();
        assert_eq!(s.steps.len(), 1);
        assert!(s.steps[0].clock_set_seen);
        assert_eq!(s.suspends.len(), 1, "{s:?}");
        assert!((s.suspends[0].size_ns - 60_000_000_000).abs() < 1_000);
        assert!(s.suspends[0].clock_set_seen);
        assert_eq!(s.clock_sets.len(), 2);
        assert_eq!(s.clock_sets[0].explained_by, Some("step"));
        assert_eq!(s.clock_sets[1].explained_by, Some("suspend"));
        assert!((s.suspend_growth_ns - 60_000_000_000).abs() < 1_000);
        assert!((s.suspended_ns - 60_000_000_000).abs() < 1_000);
        // REALTIME's fit is cut at the step and at the suspend.
        assert_eq!(s.realtime_vs_raw.unwrap().segments, 3);
        assert!(s.realtime_vs_raw.unwrap().ppm.abs() < 0.01);
    }

    #[test]
    fn monotonic_jump_is_its_own_event() {
        let mut sim = SimClocks::new(SimConfig::default());
        sim.jump_monotonic_at(300_000_000, 2_000_000_000);
        let mut m = Monitor::new(MonitorConfig::default());
        feed(&mut sim, &mut m, 100, 10_000_000);
        let s = m.summary().unwrap();
        assert_eq!(s.jumps.len(), 1, "{s:?}");
        assert_eq!(s.jumps[0].clock, ClockId::Monotonic);
        assert!(s.steps.is_empty() && s.suspends.is_empty(), "{s:?}");
        assert_eq!(s.monotonic_vs_raw.unwrap().segments, 2);
    }

    #[test]
    fn long_runs_are_decimated() {
        let mut sim = SimClocks::new(SimConfig {
            rate_ppm: 3.0,
            ..SimConfig::default()
        });
        let mut m = Monitor::new(MonitorConfig {
            max_points: 100,
            expected_monotonic_ppm: 3.0,
            ..MonitorConfig::default()
        });
        feed(&mut sim, &mut m, 1000, 10_000_000);
        assert!(m.run.items.len() < 100 && m.run.items.len() >= 50);
        let s = m.summary().unwrap();
        assert_eq!(s.samples, 1000);
        let f = s.monotonic_vs_raw.unwrap();
        assert!((f.ppm - 3.0).abs() < 0.01, "{f:?}");
        assert!(f.span_s > 9.0, "{f:?}");
    }
}
