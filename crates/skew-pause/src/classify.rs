//! Classification: what kind of event happened between two snapshots, as a pure function of
//! the two snapshots, the background rates and (when an overshoot fired it) the overshoot.
//!
//! | kind | evidence |
//! |---|---|
//! | `monotonic_backwards` | MONOTONIC of the later snapshot is before the earlier one |
//! | `suspend` | BOOTTIME − MONOTONIC grew by more than the threshold |
//! | `step` | REALTIME − BOOTTIME moved by more than the threshold plus the largest slew |
//! | `vm` | VMClock's disruption marker or the VM generation ID changed; or the sibling stalled over the same span; or steal time grew by at least half the pause |
//! | `scheduling` | the thread's run-delay grew by at least half the pause |
//! | `process` | the sibling ran during the pause, and neither run-delay nor steal explain it |
//! | `unknown` | a pause that no signal explains (no sibling witness) |
//!
//! Counters grow in the background too (run-delay accrues on every wake on a busy
//! machine), so each growth is taken beyond the rate measured over the last clean
//! checkpoint period.
#![forbid(unsafe_code)]

use crate::config::DetectorConfig;
use crate::event::{Evidence, PauseEvent, PauseKind};
use crate::pause::Overshoot;
use crate::snapshot::{ClockReadings, Snapshot};
use crate::witness::{sibling_verdict, SiblingVerdict};
use skew_time::format::{signed, unsigned};

/// A background rate: `amount_ns` accrued over `per_ns`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    /// Amount accrued, ns.
    pub amount_ns: i64,
    /// Over this time, ns.
    pub per_ns: i64,
}

impl Rate {
    /// The amount expected over `dt_ns` (0 without a measured rate).
    pub fn over(&self, dt_ns: i64) -> i64 {
        if self.per_ns <= 0 || dt_ns <= 0 || self.amount_ns <= 0 {
            return 0;
        }
        let v = self.amount_ns as i128 * dt_ns as i128 / self.per_ns as i128;
        v.min(i64::MAX as i128) as i64
    }
}

/// Background rates of the counters, measured between two checkpoints without events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The thread's run-delay.
    pub run_delay: Rate,
    /// The thread's CPU time.
    pub cpu: Rate,
    /// Steal time (the CPU that lost most).
    pub steal: Rate,
}

impl Baseline {
    /// The rates between two snapshots.
    pub fn between(before: &Snapshot, after: &Snapshot) -> Baseline {
        let rate = |d: Option<i64>, per_ns: i64| Rate {
            amount_ns: d.unwrap_or(0).max(0),
            per_ns,
        };
        let thread = thread_delta(before, after);
        let thread_ns = thread.map_or(0, |t| t.window_ns);
        Baseline {
            run_delay: rate(thread.map(|t| t.run_delay_ns), thread_ns),
            cpu: rate(thread.map(|t| t.cpu_ns), thread_ns),
            steal: rate(
                steal_delta(before, after),
                after
                    .clocks
                    .monotonic_ns
                    .saturating_sub(before.clocks.monotonic_ns),
            ),
        }
    }
}

/// Growth of the thread's counters between two readings.
#[derive(Debug, Clone, Copy)]
struct ThreadDelta {
    cpu_ns: i64,
    run_delay_ns: i64,
    window_ns: i64,
}

fn thread_delta(before: &Snapshot, after: &Snapshot) -> Option<ThreadDelta> {
    let (b, a) = (before.thread?, after.thread?);
    Some(ThreadDelta {
        cpu_ns: a.cpu_ns.saturating_sub(b.cpu_ns),
        run_delay_ns: a.run_delay_ns.saturating_sub(b.run_delay_ns),
        window_ns: a.at_mono_ns.saturating_sub(b.at_mono_ns).max(0),
    })
}

/// Steal growth on the CPU that lost most.
fn steal_delta(before: &Snapshot, after: &Snapshot) -> Option<i64> {
    let (b, a) = (before.steal_ns.as_ref()?, after.steal_ns.as_ref()?);
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    a.iter().zip(b).map(|(x, y)| x.saturating_sub(*y)).max()
}

fn changed(before: Option<u64>, after: Option<u64>) -> Option<bool> {
    Some(before? != after?)
}

/// An event for MONOTONIC going backwards from `earlier_mono_ns` to `later_mono_ns`;
/// `clocks` converts to UTC.
pub fn backwards_event(
    earlier_mono_ns: i64,
    later_mono_ns: i64,
    clocks: &ClockReadings,
    sibling: SiblingVerdict,
) -> PauseEvent {
    let by = earlier_mono_ns.saturating_sub(later_mono_ns);
    PauseEvent {
        kind: PauseKind::MonotonicBackwards,
        start_unix_ns: clocks.mono_to_unix_ns(later_mono_ns),
        end_unix_ns: clocks.mono_to_unix_ns(later_mono_ns),
        min_ns: by,
        max_ns: Some(by),
        overshoot_ns: None,
        latency_ns: None,
        evidence: Evidence {
            window_ns: later_mono_ns.saturating_sub(earlier_mono_ns),
            steal_ns: None,
            run_delay_ns: None,
            run_delay_window_ns: None,
            cpu_ns: None,
            sibling,
            vmclock_changed: None,
            vmgenid_changed: None,
        },
        note: format!(
            "CLOCK_MONOTONIC went backwards by {}: a kernel clock fault",
            unsigned(by.max(0) as u64)
        ),
    }
}

/// Classifies what happened between the checkpoint `before` and the snapshot `after`.
///
/// `overshoot` is the late wake that fired the event, if any (else this is a checkpoint
/// comparing clocks and markers). Returns the events found, possibly none: a pause (or a
/// suspend that explains it), a clock step, a VM marker change without a visible pause,
/// or MONOTONIC going backwards (then nothing else, since no difference can be trusted).
pub fn classify(
    before: &Snapshot,
    after: &Snapshot,
    baseline: &Baseline,
    overshoot: Option<&Overshoot>,
    cfg: &DetectorConfig,
) -> Vec<PauseEvent> {
    let (b, a) = (&before.clocks, &after.clocks);
    let window_ns = a.monotonic_ns.saturating_sub(b.monotonic_ns);
    let verdict = match (overshoot, after.sibling.as_ref()) {
        (Some(o), view) => {
            let (from, to) = o.certain_stall();
            match sibling_verdict(view, from, to) {
                SiblingVerdict::Pending => SiblingVerdict::NoWitness,
                v => v,
            }
        }
        (None, Some(_)) => SiblingVerdict::NoWitness,
        (None, None) => SiblingVerdict::Absent,
    };
    if window_ns < 0 {
        return vec![backwards_event(b.monotonic_ns, a.monotonic_ns, a, verdict)];
    }
    let bounds = overshoot.map(|o| o.bounds());
    let lo = bounds.map_or(0, |x| x.lo_ns);
    let non_pause_ns = window_ns.saturating_sub(lo).max(0);
    // The thread's counters may have been read more recently than the other signals.
    let thread = thread_delta(before, after);
    let thread_quiet_ns = thread.map_or(0, |t| t.window_ns.saturating_sub(lo).max(0));
    let evidence = Evidence {
        window_ns,
        steal_ns: steal_delta(before, after)
            .map(|d| (d - baseline.steal.over(non_pause_ns)).max(0)),
        run_delay_ns: thread
            .map(|t| (t.run_delay_ns - baseline.run_delay.over(thread_quiet_ns)).max(0)),
        run_delay_window_ns: thread.map(|t| t.window_ns),
        cpu_ns: thread.map(|t| (t.cpu_ns - baseline.cpu.over(thread_quiet_ns)).max(0)),
        sibling: verdict,
        vmclock_changed: changed(before.vmclock_marker, after.vmclock_marker),
        vmgenid_changed: changed(before.vmgenid_digest, after.vmgenid_digest),
    };
    let read_unc_ns = a.span_ns.max(0).saturating_add(b.span_ns.max(0));
    let mut events = Vec::new();

    // Suspend: MONOTONIC stood still while BOOTTIME ran on.
    let suspended_ns = a.suspend_since_ns(b);
    let suspend = suspended_ns > cfg.threshold_ns;
    if suspend {
        let (extra_lo, extra_hi) = bounds.map_or((0, 0), |x| (x.lo_ns, x.hi_ns));
        events.push(PauseEvent {
            kind: PauseKind::Suspend,
            start_unix_ns: b.realtime_ns,
            end_unix_ns: a.realtime_ns,
            min_ns: (suspended_ns - read_unc_ns).max(0).saturating_add(extra_lo),
            max_ns: Some(
                suspended_ns
                    .saturating_add(read_unc_ns)
                    .saturating_add(extra_hi),
            ),
            overshoot_ns: overshoot.map(|o| o.overshoot_ns()),
            latency_ns: overshoot.map(|o| o.latency_ns),
            evidence,
            note: format!(
                "BOOTTIME − MONOTONIC grew by {}: the machine was suspended",
                unsigned(suspended_ns as u64)
            ),
        });
    } else if let (Some(o), Some(bd)) = (overshoot, bounds) {
        let half = |ns: i64| ns.saturating_mul(cfg.attribution_pct) / 100;
        let explains = |x: Option<i64>| x.is_some_and(|v| v > 0 && v >= half(bd.lo_ns));
        let (kind, note) = if evidence.vmclock_changed == Some(true) {
            (
                PauseKind::Vm,
                "the VMClock disruption marker changed (live migration)".to_string(),
            )
        } else if evidence.vmgenid_changed == Some(true) {
            (
                PauseKind::Vm,
                "the VM generation ID changed (snapshot restore or clone)".to_string(),
            )
        } else if explains(evidence.run_delay_ns) {
            (
                PauseKind::Scheduling,
                format!(
                    "the thread waited {} for a CPU (run-delay)",
                    unsigned(evidence.run_delay_ns.unwrap_or(0) as u64)
                ),
            )
        } else if verdict == SiblingVerdict::Stalled {
            (
                PauseKind::Vm,
                "the sibling process stalled over the same span".to_string(),
            )
        } else if explains(evidence.steal_ns) {
            (
                PauseKind::Vm,
                format!(
                    "the hypervisor stole {} of CPU time",
                    unsigned(evidence.steal_ns.unwrap_or(0) as u64)
                ),
            )
        } else if verdict == SiblingVerdict::Ran {
            let busy = explains(evidence.cpu_ns);
            (
                PauseKind::Process,
                if busy {
                    "the sibling ran; the thread was busy on a CPU (not in its loop)".to_string()
                } else {
                    "the sibling ran; the thread got no CPU and did not wait for one (stopped, frozen or traced)"
                        .to_string()
                },
            )
        } else {
            (
                PauseKind::Unknown,
                "no run-delay or steal, and no sibling witness to tell a process pause from a VM pause"
                    .to_string(),
            )
        };
        events.push(PauseEvent {
            kind,
            start_unix_ns: a.mono_to_unix_ns(o.earliest_start_ns()),
            end_unix_ns: a.mono_to_unix_ns(o.wake_ns),
            min_ns: bd.lo_ns,
            max_ns: Some(bd.hi_ns),
            overshoot_ns: Some(o.overshoot_ns()),
            latency_ns: Some(o.latency_ns),
            evidence,
            note,
        });
    }

    // Step: REALTIME moved against BOOTTIME by more than any slew could.
    let stepped_ns = a.step_since_ns(b);
    let slew_ns = (window_ns as i128 * cfg.max_slew_ppm as i128 / 1_000_000) as i64;
    let step_unc = read_unc_ns.saturating_add(slew_ns);
    if stepped_ns.saturating_abs() > cfg.threshold_ns.saturating_add(slew_ns) {
        events.push(PauseEvent {
            kind: PauseKind::Step,
            start_unix_ns: b.realtime_ns,
            end_unix_ns: a.realtime_ns,
            min_ns: stepped_ns.saturating_sub(step_unc),
            max_ns: Some(stepped_ns.saturating_add(step_unc)),
            overshoot_ns: None,
            latency_ns: None,
            evidence,
            note: format!(
                "REALTIME − BOOTTIME moved by {}: the clock was stepped (not a pause)",
                signed(stepped_ns)
            ),
        });
    }

    // A VM marker changed although no pause was seen (with kvm-clock a paused VM's clocks
    // freeze, so the pause itself is invisible inside).
    if overshoot.is_none()
        && !suspend
        && (evidence.vmclock_changed == Some(true) || evidence.vmgenid_changed == Some(true))
    {
        let what = if evidence.vmclock_changed == Some(true) {
            "the VMClock disruption marker changed (live migration)"
        } else {
            "the VM generation ID changed (snapshot restore or clone)"
        };
        events.push(PauseEvent {
            kind: PauseKind::Vm,
            start_unix_ns: b.realtime_ns,
            end_unix_ns: a.realtime_ns,
            min_ns: 0,
            max_ns: None,
            overshoot_ns: None,
            latency_ns: None,
            evidence,
            note: format!("{what}; its length is not visible from inside"),
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{SiblingView, StallSpan, ThreadSched};

    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    /// Unix time at MONOTONIC 0 in the simulated world.
    const EPOCH: i64 = 1_750_000_000 * S;

    /// A simulated snapshot at MONOTONIC `mono`, with BOOTTIME − MONOTONIC = `suspended`,
    /// REALTIME − BOOTTIME = EPOCH + `stepped`, and counters.
    fn snap(
        mono: i64,
        suspended: i64,
        stepped: i64,
        run_delay: i64,
        cpu: i64,
        steal: i64,
    ) -> Snapshot {
        let boot = mono + suspended;
        Snapshot {
            clocks: ClockReadings {
                clocks: skew_time::ClockReadings {
                    monotonic_ns: mono,
                    boottime_ns: boot,
                    realtime_ns: boot + EPOCH + stepped,
                },
                span_ns: 100,
            },
            thread: Some(ThreadSched {
                cpu_ns: cpu,
                run_delay_ns: run_delay,
                at_mono_ns: mono,
            }),
            steal_ns: Some(vec![steal, steal / 2]),
            sibling: None,
            vmclock_marker: None,
            vmgenid_digest: None,
        }
    }

    /// A sibling with a 10 ms period since t = 0 whose last deadline is `last`.
    fn sibling(last: i64, stalls: &[(i64, i64)]) -> SiblingView {
        SiblingView {
            pid: 7,
            interval_ns: 10 * MS,
            margin_ns: 5 * MS,
            first_deadline_ns: 10 * MS,
            last_deadline_ns: last,
            last_wake_ns: last + 30_000,
            stalls: stalls
                .iter()
                .map(|&(from_ns, to_ns)| StallSpan { from_ns, to_ns })
                .collect(),
            complete_since_ns: i64::MIN,
            exited: false,
        }
    }

    /// A 1 ms detector that woke at `prev` and then at `wake` for deadline `deadline`.
    fn late(prev: i64, deadline: i64, wake: i64) -> Overshoot {
        Overshoot {
            deadline_ns: deadline,
            wake_ns: wake,
            prev_wake_ns: prev,
            interval_ns: MS,
            latency_ns: 0,
        }
    }

    fn cfg() -> DetectorConfig {
        DetectorConfig::default() // 1 ms, threshold 20 ms
    }

    /// Background: 50 µs of run-delay and 20 µs of CPU per second.
    fn background() -> Baseline {
        Baseline {
            run_delay: Rate {
                amount_ns: 50_000,
                per_ns: S,
            },
            cpu: Rate {
                amount_ns: 20_000,
                per_ns: S,
            },
            steal: Rate::default(),
        }
    }

    #[test]
    fn process_pause_sibling_ran() {
        // Checkpoint at 10 s; SIGSTOP from 10.5 s for 300 ms; the wake at 10.8003 s.
        let before = snap(10 * S, 0, 0, 1_000_000, 5_000_000, 0);
        let mut after = snap(10 * S + 800 * MS + 300_000, 0, 0, 1_030_000, 5_010_000, 0);
        after.sibling = Some(sibling(10 * S + 800 * MS, &[]));
        let o = late(
            10 * S + 500 * MS,
            10 * S + 501 * MS,
            10 * S + 800 * MS + 300_000,
        );
        let ev = classify(&before, &after, &background(), Some(&o), &cfg());
        assert_eq!(ev.len(), 1, "{ev:?}");
        let e = &ev[0];
        assert_eq!(e.kind, PauseKind::Process, "{e:?}");
        assert_eq!(e.min_ns, 299 * MS + 300_000);
        assert_eq!(e.max_ns, Some(300 * MS + 300_000));
        assert_eq!(e.evidence.sibling, SiblingVerdict::Ran);
        assert_eq!(e.evidence.steal_ns, Some(0));
        // 30 µs of run-delay grew; ~25 µs is background: the rest is noise, not 300 ms.
        assert!(e.evidence.run_delay_ns.unwrap() < 10_000, "{e:?}");
        assert_eq!(e.start_unix_ns, EPOCH + 10 * S + 500 * MS);
        assert_eq!(e.end_unix_ns, EPOCH + 10 * S + 800 * MS + 300_000);
    }

    #[test]
    fn pause_without_a_witness_is_unknown_not_guessed() {
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(10 * S + 800 * MS, 0, 0, 0, 0, 0);
        let o = late(10 * S + 499 * MS, 10 * S + 500 * MS, 10 * S + 800 * MS);
        let ev = classify(&before, &after, &Baseline::default(), Some(&o), &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::Unknown);
        assert_eq!(ev[0].evidence.sibling, SiblingVerdict::Absent);
        assert_eq!(ev[0].record().sibling_stalled, None);
    }

    #[test]
    fn suspend_grows_boottime_minus_monotonic() {
        // Suspended for 5 s between checkpoints: MONOTONIC advanced 1 s, BOOTTIME 6 s.
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(11 * S, 5 * S, 0, 0, 0, 0);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].kind, PauseKind::Suspend);
        assert!(ev[0].min_ns <= 5 * S && 5 * S <= ev[0].max_ns.unwrap());
        assert!(ev[0].max_ns.unwrap() - ev[0].min_ns <= 400);
    }

    #[test]
    fn step_is_not_a_pause() {
        // REALTIME stepped +2 s; MONOTONIC and BOOTTIME ran normally, no overshoot.
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(11 * S, 0, 2 * S, 0, 0, 0);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].kind, PauseKind::Step);
        assert!(ev[0].min_ns <= 2 * S && 2 * S <= ev[0].max_ns.unwrap());
        // The bound allows 500 ppm of slew over the 1 s window, plus the reads.
        assert_eq!(ev[0].max_ns.unwrap() - 2 * S, 500_000 + 200);
        // Backwards step, negative interval.
        let after = snap(11 * S, 0, -S, 0, 0, 0);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev[0].kind, PauseKind::Step);
        assert!(ev[0].max_ns.unwrap() < 0 && ev[0].min_ns <= -S);
        // A slew of 400 ppm over 1 s (0.4 ms) is neither.
        let after = snap(11 * S, 0, 400_000, 0, 0, 0);
        assert!(classify(&before, &after, &Baseline::default(), None, &cfg()).is_empty());
    }

    #[test]
    fn contention_grows_run_delay() {
        // A 60 ms hiccup during which the thread was runnable: run-delay +59 ms.
        let before = snap(10 * S, 0, 0, 1_000_000, 0, 0);
        let mut after = snap(10 * S + 700 * MS, 0, 0, 60_000_000, 0, 0);
        // Under contention the sibling may stall too: run-delay still decides.
        after.sibling = Some(sibling(
            10 * S + 700 * MS,
            &[(10 * S + 640 * MS, 10 * S + 700 * MS)],
        ));
        let o = late(10 * S + 639 * MS, 10 * S + 640 * MS, 10 * S + 700 * MS);
        let ev = classify(&before, &after, &background(), Some(&o), &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::Scheduling, "{:?}", ev[0]);
        assert!(ev[0].evidence.run_delay_ns.unwrap() > 58 * MS);
    }

    #[test]
    fn vm_pause_confirmed_by_the_sibling() {
        // Everything stopped 10.5 s .. 10.7 s (tsc keeps counting): both detectors late.
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let mut after = snap(10 * S + 700 * MS + 100_000, 0, 0, 20_000, 0, 0);
        after.sibling = Some(sibling(
            10 * S + 700 * MS,
            &[(10 * S + 510 * MS, 10 * S + 700 * MS + 150_000)],
        ));
        let o = late(
            10 * S + 500 * MS,
            10 * S + 501 * MS,
            10 * S + 700 * MS + 100_000,
        );
        let ev = classify(&before, &after, &background(), Some(&o), &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::Vm, "{:?}", ev[0]);
        assert_eq!(ev[0].evidence.sibling, SiblingVerdict::Stalled);
        assert_eq!(ev[0].record().sibling_stalled, Some(true));
    }

    #[test]
    fn vm_pause_from_steal() {
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(11 * S, 0, 0, 0, 0, 100 * MS);
        let o = late(10 * S + 899 * MS, 10 * S + 900 * MS, 11 * S);
        let ev = classify(&before, &after, &Baseline::default(), Some(&o), &cfg());
        assert_eq!(ev[0].kind, PauseKind::Vm);
        assert_eq!(ev[0].evidence.steal_ns, Some(100 * MS));
    }

    #[test]
    fn vm_markers() {
        let mut before = snap(10 * S, 0, 0, 0, 0, 0);
        before.vmclock_marker = Some(1);
        let mut after = snap(11 * S, 0, 0, 0, 0, 0);
        after.vmclock_marker = Some(2);
        // Without a visible pause: a vm event of unknown length.
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(
            (ev[0].kind, ev[0].min_ns, ev[0].max_ns),
            (PauseKind::Vm, 0, None)
        );
        assert_eq!(ev[0].evidence.vmclock_changed, Some(true));
        // With a pause: the pause is a vm pause whatever else was seen.
        let o = late(10 * S + 899 * MS, 10 * S + 900 * MS, 11 * S);
        let ev = classify(&before, &after, &Baseline::default(), Some(&o), &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::Vm);
        assert!(ev[0].max_ns.is_some());
        // vmgenid alike; a marker that merely appeared is not a change.
        let mut before = snap(10 * S, 0, 0, 0, 0, 0);
        before.vmgenid_digest = Some(9);
        let mut after = snap(11 * S, 0, 0, 0, 0, 0);
        after.vmgenid_digest = Some(10);
        after.vmclock_marker = Some(3);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].evidence.vmgenid_changed, Some(true));
        assert_eq!(ev[0].evidence.vmclock_changed, None);
    }

    #[test]
    fn monotonic_backwards_is_reported_not_a_crash() {
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(9 * S, 0, 0, 0, 0, 0);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, PauseKind::MonotonicBackwards);
        assert_eq!(ev[0].min_ns, S);
        assert!(ev[0].note.contains("backwards"));
        // Extreme values do not overflow.
        let before = snap(i64::MAX / 2, 0, 0, 0, 0, 0);
        let after = snap(-(i64::MAX / 2), 0, 0, 0, 0, 0);
        let ev = classify(&before, &after, &Baseline::default(), None, &cfg());
        assert_eq!(ev[0].kind, PauseKind::MonotonicBackwards);
    }

    #[test]
    fn quiet_checkpoints_say_nothing() {
        let before = snap(10 * S, 0, 0, 0, 0, 0);
        let after = snap(11 * S, 0, 30_000, 40_000, 10_000, 0);
        assert!(classify(&before, &after, &background(), None, &cfg()).is_empty());
    }

    #[test]
    fn rates() {
        let r = Rate {
            amount_ns: 50,
            per_ns: 1000,
        };
        assert_eq!(r.over(2000), 100);
        assert_eq!(Rate::default().over(2000), 0);
        assert_eq!(r.over(-5), 0);
        let before = snap(10 * S, 0, 0, 100, 200, 300);
        let after = snap(12 * S, 0, 0, 1100, 400, 2300);
        let b = Baseline::between(&before, &after);
        assert_eq!(b.run_delay.over(S), 500);
        assert_eq!(b.cpu.over(S), 100);
        assert_eq!(b.steal.over(2 * S), 2000);
    }
}
