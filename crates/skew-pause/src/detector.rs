//! The detector as a state machine driven by wake times and snapshots: no clocks, no
//! threads, no files. The hiccup thread (an edge) sleeps until [`Detector::deadline_ns`],
//! reports each wake with [`Detector::on_wake`] and reads what it is asked for; unit tests
//! drive the same machine with simulated time.
//!
//! Per wake: the overshoot goes into the histograms (total and current interval). When it
//! reaches the threshold, a snapshot is taken at once and compared with the last checkpoint
//! (after waiting, briefly, for the sibling to publish its side of the same instants).
//! Every checkpoint period (1 s) a snapshot becomes the new checkpoint, after being compared
//! with the previous one for steps, suspends and VM marker changes; quiet periods give the
//! background rates of the counters.
#![forbid(unsafe_code)]

use crate::classify::{backwards_event, classify, Baseline};
use crate::config::DetectorConfig;
use crate::event::{PauseEvent, PauseKind};
use crate::pause::{next_deadline_ns, Overshoot};
use crate::snapshot::{SiblingView, Snapshot};
use crate::summary::{IntervalStats, OvershootHistogram, OvershootSummary};
use crate::witness::{sibling_verdict, SiblingVerdict};

/// What the edge must read after a wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: sleep until the next deadline.
    Nothing,
    /// A full snapshot ([`Detector::on_snapshot`]).
    Snapshot,
    /// The sibling's view only ([`Detector::on_sibling`]).
    Sibling,
    /// The thread's own counters only ([`Detector::on_thread`]).
    Thread,
}

/// What the detector produces while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An event above the threshold (or a clock fault).
    Event(PauseEvent),
    /// The statistics of one reporting interval.
    Interval(IntervalStats),
}

/// An event waiting for the sibling to publish its side.
#[derive(Debug, Clone)]
struct Pending {
    overshoot: Overshoot,
    snapshot: Snapshot,
    give_up_ns: i64,
}

/// The final account of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorSummary {
    /// When the detector started, ns since the Unix epoch.
    pub start_unix_ns: i64,
    /// When it stopped, ns since the Unix epoch.
    pub end_unix_ns: i64,
    /// How long it ran (MONOTONIC), ns.
    pub elapsed_ns: i64,
    /// Every wake's overshoot.
    pub overshoots: OvershootSummary,
    /// The events kept (the first `max_events`).
    pub events: Vec<PauseEvent>,
    /// All events, kept or not.
    pub events_total: u64,
    /// Events per kind (all of them).
    pub kinds: Vec<(PauseKind, u64)>,
}

impl DetectorSummary {
    /// Whether a hard fault (MONOTONIC backwards) happened.
    pub fn has_fault(&self) -> bool {
        self.kinds.iter().any(|(k, n)| k.is_fault() && *n > 0)
    }

    /// Events that were not kept.
    pub fn events_dropped(&self) -> u64 {
        self.events_total - self.events.len() as u64
    }
}

/// The detector state machine.
#[derive(Debug, Clone)]
pub struct Detector {
    cfg: DetectorConfig,
    deadline_ns: i64,
    prev_wake_ns: i64,
    start: Snapshot,
    total: OvershootHistogram,
    interval: OvershootHistogram,
    /// Overshoots below the threshold: the usual wake-up latency.
    noise: OvershootHistogram,
    checkpoint: Snapshot,
    /// The checkpoint period in progress is not a clean baseline.
    dirty: bool,
    /// The next snapshot only restarts the reference (after MONOTONIC went backwards).
    reset_reference: bool,
    baseline: Baseline,
    next_checkpoint_ns: i64,
    next_thread_ns: i64,
    /// The latest reading of the thread's counters (at a wake, so before any pause since).
    recent_thread: Option<crate::snapshot::ThreadSched>,
    next_report_ns: Option<i64>,
    awaiting: Option<Overshoot>,
    pending: Option<Pending>,
    events: Vec<PauseEvent>,
    events_total: u64,
    kinds: Vec<(PauseKind, u64)>,
}

impl Detector {
    /// A detector starting at the snapshot `start` (its first deadline is one interval
    /// later).
    pub fn new(cfg: DetectorConfig, start: Snapshot) -> Self {
        let t0 = start.clocks.monotonic_ns;
        Detector {
            deadline_ns: t0.saturating_add(cfg.interval_ns),
            prev_wake_ns: t0,
            total: OvershootHistogram::new(),
            interval: OvershootHistogram::new(),
            noise: OvershootHistogram::new(),
            checkpoint: start.clone(),
            dirty: true,
            reset_reference: false,
            baseline: Baseline::default(),
            next_checkpoint_ns: t0.saturating_add(cfg.checkpoint_ns),
            next_thread_ns: t0.saturating_add(cfg.thread_checkpoint_ns),
            recent_thread: start.thread,
            next_report_ns: cfg.report_ns.map(|r| t0.saturating_add(r)),
            awaiting: None,
            pending: None,
            events: Vec::new(),
            events_total: 0,
            kinds: Vec::new(),
            start,
            cfg,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.cfg
    }

    /// When to wake next (MONOTONIC, ns).
    pub fn deadline_ns(&self) -> i64 {
        self.deadline_ns
    }

    /// The statistics of every wake so far.
    pub fn overshoots(&self) -> OvershootSummary {
        self.total.summary()
    }

    /// The background rates currently assumed.
    pub fn baseline(&self) -> Baseline {
        self.baseline
    }

    fn emit(&mut self, ev: PauseEvent, out: &mut Vec<Message>) {
        self.events_total += 1;
        match self.kinds.iter_mut().find(|(k, _)| *k == ev.kind) {
            Some((_, n)) => *n += 1,
            None => self.kinds.push((ev.kind, 1)),
        }
        if self.events.len() < self.cfg.max_events {
            self.events.push(ev.clone());
        }
        out.push(Message::Event(ev));
    }

    /// A wake at `wake_ns` (MONOTONIC) for the current deadline. Records the overshoot and
    /// says what to read next.
    pub fn on_wake(&mut self, wake_ns: i64, out: &mut Vec<Message>) -> Need {
        let interval = self.cfg.interval_ns;
        if wake_ns < self.prev_wake_ns {
            // A hard fault of the clock: report it, restart every schedule from here.
            let ev = backwards_event(
                self.prev_wake_ns,
                wake_ns,
                &self.checkpoint.clocks,
                SiblingVerdict::NoWitness,
            );
            self.emit(ev, out);
            if let Some(p) = self.pending.take() {
                self.finish_event(p.overshoot, p.snapshot, out);
            }
            self.awaiting = None;
            self.prev_wake_ns = wake_ns;
            self.deadline_ns = wake_ns.saturating_add(interval);
            self.next_report_ns = self.cfg.report_ns.map(|r| wake_ns.saturating_add(r));
            self.reset_reference = true;
            return Need::Snapshot;
        }
        let mut ov = Overshoot {
            deadline_ns: self.deadline_ns,
            wake_ns,
            prev_wake_ns: self.prev_wake_ns,
            interval_ns: interval,
            latency_ns: 0,
        };
        let over = ov.overshoot_ns() >= self.cfg.threshold_ns;
        self.total.record(ov.overshoot_ns(), over);
        self.interval.record(ov.overshoot_ns(), over);
        if over {
            ov.latency_ns = self.usual_latency_ns();
        } else {
            self.noise.record(ov.overshoot_ns(), false);
        }

        let mut need = Need::Nothing;
        if let Some(p) = &self.pending {
            if over || wake_ns >= p.give_up_ns {
                let p = self.pending.take().expect("checked");
                self.finish_event(p.overshoot, p.snapshot, out);
            } else {
                need = Need::Sibling;
            }
        }
        if over {
            self.awaiting = Some(ov);
            need = Need::Snapshot;
        } else if self.pending.is_none() && wake_ns >= self.next_checkpoint_ns {
            need = Need::Snapshot;
        } else if need == Need::Nothing && wake_ns >= self.next_thread_ns {
            need = Need::Thread;
        }
        if let (Some(next), Some(period)) = (self.next_report_ns, self.cfg.report_ns) {
            if wake_ns >= next {
                self.report_interval(wake_ns, out);
                self.next_report_ns = Some(next_deadline_ns(next, wake_ns, period));
            }
        }
        self.prev_wake_ns = wake_ns;
        self.deadline_ns = next_deadline_ns(self.deadline_ns, wake_ns, interval);
        need
    }

    /// The usual wake-up latency: the p99.9 of the overshoots below the threshold (their
    /// maximum while fewer than 1000 were seen).
    pub fn usual_latency_ns(&self) -> i64 {
        let n = self.noise.summary();
        if n.count >= 1000 {
            n.p999_ns
        } else {
            n.max_ns
        }
    }

    fn report_interval(&mut self, now_ns: i64, out: &mut Vec<Message>) {
        let stats = IntervalStats {
            end_unix_ns: self.checkpoint.clocks.mono_to_unix_ns(now_ns),
            elapsed_ns: now_ns.saturating_sub(self.start.clocks.monotonic_ns),
            summary: self.interval.summary(),
        };
        self.interval.reset();
        out.push(Message::Interval(stats));
    }

    /// The snapshot asked for by [`Need::Snapshot`].
    pub fn on_snapshot(&mut self, snap: Snapshot, out: &mut Vec<Message>) {
        if self.reset_reference {
            self.reset_reference = false;
            self.restart_checkpoint(snap, true);
            return;
        }
        if let Some(ov) = self.awaiting.take() {
            let (from, to) = ov.certain_stall();
            if sibling_verdict(snap.sibling.as_ref(), from, to) == SiblingVerdict::Pending {
                let period = snap.sibling.as_ref().map_or(0, |s| s.interval_ns);
                self.pending = Some(Pending {
                    overshoot: ov,
                    snapshot: snap,
                    give_up_ns: ov
                        .wake_ns
                        .saturating_add(period.saturating_mul(2))
                        .saturating_add(20_000_000),
                });
            } else {
                self.finish_event(ov, snap, out);
            }
            return;
        }
        // A checkpoint.
        let events = classify(&self.checkpoint, &snap, &self.baseline, None, &self.cfg);
        let clean = !self.dirty && events.is_empty();
        for ev in events {
            self.emit(ev, out);
        }
        if clean {
            self.baseline = Baseline::between(&self.checkpoint, &snap);
        }
        self.restart_checkpoint(snap, false);
    }

    /// The thread's counters asked for by [`Need::Thread`].
    pub fn on_thread(&mut self, thread: Option<crate::snapshot::ThreadSched>) {
        if let Some(t) = thread {
            self.next_thread_ns = t.at_mono_ns.saturating_add(self.cfg.thread_checkpoint_ns);
            self.recent_thread = Some(t);
        } else {
            self.next_thread_ns = self.next_checkpoint_ns;
        }
    }

    /// The sibling's view asked for by [`Need::Sibling`], read at `now_ns`.
    pub fn on_sibling(&mut self, view: Option<SiblingView>, now_ns: i64, out: &mut Vec<Message>) {
        let Some(mut p) = self.pending.take() else {
            return;
        };
        p.snapshot.sibling = view;
        let (from, to) = p.overshoot.certain_stall();
        if sibling_verdict(p.snapshot.sibling.as_ref(), from, to) == SiblingVerdict::Pending
            && now_ns < p.give_up_ns
        {
            self.pending = Some(p);
            return;
        }
        self.finish_event(p.overshoot, p.snapshot, out);
    }

    fn finish_event(&mut self, ov: Overshoot, snap: Snapshot, out: &mut Vec<Message>) {
        // Compare the thread's counters from their latest reading before the pause.
        let mut before = self.checkpoint.clone();
        if let (Some(r), Some(c)) = (self.recent_thread, before.thread) {
            if r.at_mono_ns > c.at_mono_ns && r.at_mono_ns <= ov.prev_wake_ns {
                before.thread = Some(r);
            }
        }
        let events = classify(&before, &snap, &self.baseline, Some(&ov), &self.cfg);
        for ev in events {
            self.emit(ev, out);
        }
        // The event's snapshot is the new reference: the period after it is clean.
        self.restart_checkpoint(snap, false);
    }

    fn restart_checkpoint(&mut self, snap: Snapshot, dirty: bool) {
        self.next_checkpoint_ns = snap
            .clocks
            .monotonic_ns
            .saturating_add(self.cfg.checkpoint_ns);
        if snap.thread.is_some() {
            self.recent_thread = snap.thread;
            self.next_thread_ns = snap
                .clocks
                .monotonic_ns
                .saturating_add(self.cfg.thread_checkpoint_ns);
        }
        self.checkpoint = snap;
        self.dirty = dirty;
    }

    /// Ends the run with a last snapshot: settles a pending event, compares the last
    /// checkpoint (a step in the last second is not lost), reports the partial interval.
    pub fn finish(mut self, last: Snapshot, out: &mut Vec<Message>) -> DetectorSummary {
        if let Some(p) = self.pending.take() {
            self.finish_event(p.overshoot, p.snapshot, out);
        }
        if let Some(ov) = self.awaiting.take() {
            self.finish_event(ov, last.clone(), out);
        }
        let now = last.clocks.monotonic_ns;
        let end_unix_ns = last.clocks.realtime_ns;
        if !self.reset_reference {
            let events = classify(&self.checkpoint, &last, &self.baseline, None, &self.cfg);
            for ev in events {
                self.emit(ev, out);
            }
        }
        if self.cfg.report_ns.is_some() && self.interval.count() > 0 {
            self.report_interval(now.max(self.prev_wake_ns), out);
        }
        DetectorSummary {
            start_unix_ns: self.start.clocks.realtime_ns,
            end_unix_ns,
            elapsed_ns: now.saturating_sub(self.start.clocks.monotonic_ns),
            overshoots: self.total.summary(),
            events: self.events,
            events_total: self.events_total,
            kinds: self.kinds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{ClockReadings, StallSpan, ThreadSched};

    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const EPOCH: i64 = 1_750_000_000 * S;

    /// A simulated machine: clocks, counters and a sibling that the test can stall.
    struct World {
        /// REALTIME steps by `.1` at MONOTONIC `.0`.
        step: (i64, i64),
        /// Run-delay grows by `.1` at `.0`.
        run_delay: (i64, i64),
        /// From `.0` on, background run-delay accrues at `.1` ns per second.
        busy: (i64, i64),
        sibling_stalls: Vec<StallSpan>,
        sibling_until: i64,
        with_sibling: bool,
    }

    impl World {
        fn new() -> Self {
            World {
                step: (i64::MAX, 0),
                run_delay: (i64::MAX, 0),
                busy: (i64::MAX, 0),
                sibling_stalls: Vec::new(),
                sibling_until: i64::MAX,
                with_sibling: true,
            }
        }

        fn sibling(&self, now: i64) -> Option<SiblingView> {
            if !self.with_sibling {
                return None;
            }
            let last = (now.min(self.sibling_until) / (10 * MS)) * 10 * MS;
            Some(SiblingView {
                pid: 9,
                interval_ns: 10 * MS,
                margin_ns: 5 * MS,
                first_deadline_ns: 10 * MS,
                last_deadline_ns: last,
                last_wake_ns: last + 40_000,
                stalls: self.sibling_stalls.clone(),
                complete_since_ns: i64::MIN,
                exited: false,
            })
        }

        fn thread(&self, now: i64) -> ThreadSched {
            let after = |(at, v): (i64, i64)| if now >= at { v } else { 0 };
            ThreadSched {
                cpu_ns: now / 50,
                run_delay_ns: after(self.run_delay)
                    + now / 20_000
                    + (now - self.busy.0).max(0) / S * self.busy.1
                    + (now - self.busy.0).max(0) % S * self.busy.1 / S,
                at_mono_ns: now,
            }
        }

        fn snap(&self, now: i64) -> Snapshot {
            let after = |(at, v): (i64, i64)| if now >= at { v } else { 0 };
            Snapshot {
                clocks: ClockReadings {
                    clocks: skew_time::ClockReadings {
                        monotonic_ns: now,
                        boottime_ns: now,
                        realtime_ns: now + EPOCH + after(self.step),
                    },
                    span_ns: 60,
                },
                thread: Some(self.thread(now)),
                steal_ns: Some(vec![0, 0]),
                sibling: self.sibling(now),
                vmclock_marker: None,
                vmgenid_digest: None,
            }
        }
    }

    /// Runs the detector from `from` to `until` with 40 µs overshoots, except that the
    /// wake due at `pause_at` comes `pause_ns` late. Returns the messages.
    fn run(d: &mut Detector, w: &World, until: i64, pause_at: Option<(i64, i64)>) -> Vec<Message> {
        let mut out = Vec::new();
        loop {
            let deadline = d.deadline_ns();
            let mut wake = deadline + 40_000;
            if let Some((at, len)) = pause_at {
                // Stopped at `at` while sleeping towards this deadline.
                if deadline - d.config().interval_ns < at && at <= deadline {
                    wake = wake.max(at + len + 40_000);
                }
            }
            if wake > until {
                break;
            }
            match d.on_wake(wake, &mut out) {
                Need::Nothing => {}
                Need::Snapshot => d.on_snapshot(w.snap(wake), &mut out),
                Need::Sibling => d.on_sibling(w.sibling(wake), wake, &mut out),
                Need::Thread => d.on_thread(Some(w.thread(wake))),
            }
        }
        out
    }

    fn events(out: &[Message]) -> Vec<PauseEvent> {
        out.iter()
            .filter_map(|m| match m {
                Message::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn quiet_run_reports_intervals_and_no_event() {
        let w = World::new();
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let out = run(&mut d, &w, 6 * S, None);
        assert!(events(&out).is_empty());
        let rows: Vec<_> = out
            .iter()
            .filter_map(|m| match m {
                Message::Interval(i) => Some(*i),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), 4, "{rows:?}"); // at 2, 3, 4, 5 s
        assert!(rows.iter().all(|r| (999..=1000).contains(&r.summary.count)));
        assert_eq!(rows[0].summary.p50_ns, 40_000);
        assert_eq!(rows[0].end_unix_ns, EPOCH + 2 * S + 40_000);
        // The baseline was learnt from quiet checkpoints: 50 µs run-delay per second.
        assert_eq!(d.baseline().run_delay.over(S), 50_000);
        let sum = d.finish(w.snap(6 * S), &mut Vec::new());
        assert_eq!(sum.overshoots.count, 4999);
        assert_eq!(sum.overshoots.count_over_threshold, 0);
        assert_eq!(sum.events_total, 0);
        assert!(!sum.has_fault());
    }

    #[test]
    fn stop_of_300ms_is_one_process_event_with_honest_bounds() {
        let w = World::new();
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        // Stopped at 3.4997 s for 300 ms (its deadline 3.5 s passes while stopped).
        let out = run(
            &mut d,
            &w,
            5 * S,
            Some((3 * S + 500 * MS - 300_000, 300 * MS)),
        );
        let ev = events(&out);
        assert_eq!(ev.len(), 1, "{ev:?}");
        let e = &ev[0];
        assert_eq!(e.kind, PauseKind::Process, "{e:?}");
        assert!(
            e.min_ns <= 300 * MS && 300 * MS <= e.max_ns.unwrap(),
            "{e:?}"
        );
        // The usual latency (every other wake overshot by 40 µs) is given back.
        assert_eq!(e.latency_ns, Some(40_000));
        assert_eq!(e.min_ns, e.overshoot_ns.unwrap() - 40_000);
        assert!(e.max_ns.unwrap() - e.min_ns <= MS + 40_000);
        assert_eq!(e.evidence.sibling, SiblingVerdict::Ran);
        let sum = d.finish(w.snap(5 * S), &mut Vec::new());
        assert_eq!(sum.overshoots.count_over_threshold, 1);
        assert_eq!(sum.kinds, vec![(PauseKind::Process, 1)]);
    }

    #[test]
    fn a_vm_pause_waits_for_the_sibling_to_publish() {
        let mut w = World::new();
        // The sibling is still stalled when the detector wakes: pending.
        w.sibling_until = 3 * S + 500 * MS;
        w.sibling_stalls = vec![];
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let mut out = run(&mut d, &w, 3 * S + 400 * MS, None);
        let wake = 3 * S + 700 * MS;
        while d.deadline_ns() < 3 * S + 500 * MS {
            let t = d.deadline_ns() + 40_000;
            d.on_wake(t, &mut out);
        }
        assert_eq!(d.on_wake(wake, &mut out), Need::Snapshot);
        d.on_snapshot(w.snap(wake), &mut out);
        assert!(events(&out).is_empty(), "decided too early");
        // Next wake: the sibling has woken and recorded its stall.
        w.sibling_until = i64::MAX;
        w.sibling_stalls = vec![StallSpan {
            from_ns: 3 * S + 510 * MS,
            to_ns: wake + 200_000,
        }];
        let t = d.deadline_ns() + 40_000;
        assert_eq!(d.on_wake(t, &mut out), Need::Sibling);
        d.on_sibling(w.sibling(t), t, &mut out);
        let ev = events(&out);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::Vm, "{:?}", ev[0]);
        assert_eq!(ev[0].evidence.sibling, SiblingVerdict::Stalled);
    }

    #[test]
    fn a_silent_sibling_is_given_up_on() {
        let mut w = World::new();
        w.sibling_until = 3 * S + 500 * MS; // it never comes back
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let out = run(
            &mut d,
            &w,
            4 * S,
            Some((3 * S + 500 * MS - 300_000, 200 * MS)),
        );
        let ev = events(&out);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].kind, PauseKind::Unknown);
        assert_eq!(ev[0].evidence.sibling, SiblingVerdict::NoWitness);
    }

    #[test]
    fn contention_and_steps_and_no_sibling() {
        let mut w = World::new();
        w.with_sibling = false;
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let mut out = run(&mut d, &w, 3 * S, None);
        // A 50 ms hiccup during which run-delay grew 49 ms: scheduling.
        w.run_delay = (3 * S + 200 * MS, 49 * MS);
        // Then the clock steps by +2 s: seen at the next checkpoint, not as a pause.
        w.step = (4 * S + 500 * MS, 2 * S);
        out.extend(run(
            &mut d,
            &w,
            6 * S,
            Some((3 * S + 200 * MS - 300_000, 50 * MS)),
        ));
        let ev = events(&out);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].kind, PauseKind::Scheduling);
        assert_eq!(ev[1].kind, PauseKind::Step);
        assert!(ev[1].min_ns <= 2 * S && 2 * S <= ev[1].max_ns.unwrap());
        assert_eq!(ev[1].overshoot_ns, None);
    }

    #[test]
    fn monotonic_backwards_is_reported_and_the_loop_goes_on() {
        let w = World::new();
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let mut out = run(&mut d, &w, 2 * S, None);
        // The clock jumps back 1 s.
        let back = S + 500 * MS;
        assert_eq!(d.on_wake(back, &mut out), Need::Snapshot);
        d.on_snapshot(w.snap(back), &mut out);
        assert_eq!(d.deadline_ns(), back + MS);
        let ev = events(&out);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::MonotonicBackwards);
        assert!(ev[0].min_ns >= 499 * MS);
        // It keeps measuring from there, without a second fault or a false pause.
        let mut more = Vec::new();
        loop {
            let t = d.deadline_ns() + 40_000;
            if t > 3 * S {
                break;
            }
            match d.on_wake(t, &mut more) {
                Need::Snapshot => d.on_snapshot(w.snap(t), &mut more),
                Need::Sibling => d.on_sibling(w.sibling(t), t, &mut more),
                Need::Thread => d.on_thread(Some(w.thread(t))),
                Need::Nothing => {}
            }
        }
        assert!(events(&more).is_empty(), "{:?}", events(&more));
        let sum = d.finish(w.snap(3 * S), &mut Vec::new());
        assert!(sum.has_fault());
    }

    #[test]
    fn thread_counters_are_refreshed_between_checkpoints() {
        // The machine turns busy at 3.0 s (40 ms of run-delay per second, never a pause);
        // a 50 ms stop at 3.8997 s. Compared from the 3 s checkpoint, 36 ms of background
        // run-delay would pass for half the pause; from the reading of at most 100 ms
        // before, it is ~4 ms: the stop stays a process pause.
        let mut w = World::new();
        w.busy = (3 * S + 10 * MS, 40 * MS);
        let mut d = Detector::new(DetectorConfig::default(), w.snap(S));
        let mut needs = Vec::new();
        let mut out = Vec::new();
        loop {
            let deadline = d.deadline_ns();
            let mut wake = deadline + 40_000;
            let at = 3 * S + 900 * MS - 300_000;
            if deadline - MS < at && at <= deadline {
                wake = at + 50 * MS + 40_000;
            }
            if wake > 5 * S {
                break;
            }
            let need = d.on_wake(wake, &mut out);
            needs.push(need);
            match need {
                Need::Nothing => {}
                Need::Snapshot => d.on_snapshot(w.snap(wake), &mut out),
                Need::Sibling => d.on_sibling(w.sibling(wake), wake, &mut out),
                Need::Thread => d.on_thread(Some(w.thread(wake))),
            }
        }
        let threads = needs.iter().filter(|n| **n == Need::Thread).count();
        assert!(
            (30..=40).contains(&threads),
            "{threads} thread refreshes in 4 s"
        );
        let ev = events(&out);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].kind, PauseKind::Process, "{:?}", ev[0]);
        assert!(ev[0].evidence.run_delay_window_ns.unwrap() <= 160 * MS);
        assert!(
            ev[0].evidence.run_delay_ns.unwrap() < 10 * MS,
            "{:?}",
            ev[0]
        );
    }

    #[test]
    fn events_kept_are_capped_but_counted() {
        let mut w = World::new();
        w.with_sibling = false;
        let cfg = DetectorConfig {
            max_events: 2,
            ..DetectorConfig::default()
        };
        let mut d = Detector::new(cfg, w.snap(S));
        let mut out = Vec::new();
        let mut t = S;
        for _ in 0..5 {
            t += S + 100 * MS;
            out.extend(run(&mut d, &w, t, Some((t - 500 * MS, 30 * MS))));
        }
        let sum = d.finish(w.snap(t + S), &mut out);
        assert_eq!(sum.events_total, 5);
        assert_eq!(sum.events.len(), 2);
        assert_eq!(sum.events_dropped(), 3);
        assert_eq!(sum.kinds, vec![(PauseKind::Unknown, 5)]);
    }
}
