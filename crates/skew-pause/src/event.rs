//! Events: a pause (or clock fault) above the threshold, its length as an interval, its
//! kind and the evidence behind the kind — and their one serialisable view.
#![forbid(unsafe_code)]

use crate::witness::SiblingVerdict;
use serde::Serialize;

/// What kind of stall (or clock event) it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// The process alone stopped (SIGSTOP, cgroup freezer, debugger, blocked in the kernel):
    /// the sibling kept running and the thread's run-delay did not grow.
    Process,
    /// The thread was runnable but got no CPU (contention): its run-delay grew by about
    /// the pause.
    Scheduling,
    /// The whole machine stalled: the sibling stalled at the same instant, steal time grew,
    /// or the VMClock disruption marker / VM generation ID changed.
    Vm,
    /// The machine was suspended: BOOTTIME − MONOTONIC grew.
    Suspend,
    /// The clock was stepped: REALTIME − BOOTTIME moved (not a pause).
    Step,
    /// CLOCK_MONOTONIC went backwards: a hard fault of the kernel's clock.
    MonotonicBackwards,
    /// A pause that no signal explains (no sibling witness, no run-delay, no steal).
    Unknown,
}

impl PauseKind {
    /// The name used in JSON and in the human output.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseKind::Process => "process",
            PauseKind::Scheduling => "scheduling",
            PauseKind::Vm => "vm",
            PauseKind::Suspend => "suspend",
            PauseKind::Step => "step",
            PauseKind::MonotonicBackwards => "monotonic_backwards",
            PauseKind::Unknown => "unknown",
        }
    }

    /// Whether the machine may have shared this event, so that the clock may have moved
    /// under it: everything but a `process` or `scheduling` pause, which the sibling or the
    /// run-delay prove the machine did not share.
    pub fn may_move_the_clock(self) -> bool {
        !matches!(self, PauseKind::Process | PauseKind::Scheduling)
    }

    /// Whether this kind is a hard fault (exit status 2 in the CLI).
    pub fn is_fault(self) -> bool {
        self == PauseKind::MonotonicBackwards
    }
}

impl std::fmt::Display for PauseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signals read when the event fired, as differences from the last checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    /// From the checkpoint to the event, ns (MONOTONIC).
    pub window_ns: i64,
    /// Steal time beyond the background rate on the CPU that lost most, ns.
    pub steal_ns: Option<i64>,
    /// The thread's run-delay growth beyond the background rate, ns.
    pub run_delay_ns: Option<i64>,
    /// Over how long the thread's counters were compared (their last reading before the
    /// pause, refreshed every 100 ms, to the event), ns.
    pub run_delay_window_ns: Option<i64>,
    /// The thread's CPU time beyond the background rate, ns.
    pub cpu_ns: Option<i64>,
    /// The sibling's verdict.
    pub sibling: SiblingVerdict,
    /// Whether the VMClock disruption marker changed (`None`: no VMClock).
    pub vmclock_changed: Option<bool>,
    /// Whether the VM generation ID changed (`None`: not configured or unreadable).
    pub vmgenid_changed: Option<bool>,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseEvent {
    /// The kind.
    pub kind: PauseKind,
    /// The earliest instant it can have started, ns since the Unix epoch (UTC).
    pub start_unix_ns: i64,
    /// When it was over (the wake, or the checkpoint that saw it), ns since the Unix epoch.
    pub end_unix_ns: i64,
    /// Lower bound of its length, ns (for `step`: of the signed step).
    pub min_ns: i64,
    /// Upper bound of its length, ns; `None` when nothing bounds it (a VM marker change
    /// without a visible pause).
    pub max_ns: Option<i64>,
    /// The detector's overshoot behind it, ns, when an overshoot fired it.
    pub overshoot_ns: Option<i64>,
    /// The usual wake-up latency given back from the lower bound, ns.
    pub latency_ns: Option<i64>,
    /// The evidence.
    pub evidence: Evidence,
    /// A short explanation of the kind.
    pub note: String,
}

impl PauseEvent {
    /// The JSON/CSV view.
    pub fn record(&self) -> EventRecord {
        let s = |ns: i64| ns as f64 / 1e9;
        EventRecord {
            start: utc_string(self.start_unix_ns),
            end: utc_string(self.end_unix_ns),
            min_s: s(self.min_ns),
            max_s: self.max_ns.map(s),
            kind: self.kind,
            steal_s: self.evidence.steal_ns.map(s),
            run_delay_s: self.evidence.run_delay_ns.map(s),
            run_delay_window_s: self.evidence.run_delay_window_ns.map(s),
            sibling_stalled: self.evidence.sibling.stalled(),
            sibling: self.evidence.sibling,
            cpu_s: self.evidence.cpu_ns.map(s),
            overshoot_s: self.overshoot_ns.map(s),
            latency_s: self.latency_ns.map(s),
            window_s: s(self.evidence.window_ns),
            vmclock_changed: self.evidence.vmclock_changed,
            vmgenid_changed: self.evidence.vmgenid_changed,
            note: self.note.clone(),
        }
    }
}

/// The serialisable view of an event: the keys of `skew pauses --json`'s `events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    /// Earliest start, RFC 3339 UTC with microseconds.
    pub start: String,
    /// End, RFC 3339 UTC with microseconds.
    pub end: String,
    /// Lower bound of the length, s.
    pub min_s: f64,
    /// Upper bound of the length, s (`null`: unbounded).
    pub max_s: Option<f64>,
    /// The kind.
    pub kind: PauseKind,
    /// Steal time attributed to the window, s.
    pub steal_s: Option<f64>,
    /// Run-delay attributed to the window, s.
    pub run_delay_s: Option<f64>,
    /// Over how long run-delay and CPU time were compared, s.
    pub run_delay_window_s: Option<f64>,
    /// Whether the sibling stalled too (`null`: it cannot tell).
    pub sibling_stalled: Option<bool>,
    /// The sibling's verdict in full.
    pub sibling: SiblingVerdict,
    /// CPU time of the detector thread attributed to the window, s.
    pub cpu_s: Option<f64>,
    /// The overshoot that fired the event, s.
    pub overshoot_s: Option<f64>,
    /// The usual wake-up latency given back from `min_s`, s.
    pub latency_s: Option<f64>,
    /// The evidence window (checkpoint to event), s.
    pub window_s: f64,
    /// Whether the VMClock disruption marker changed.
    pub vmclock_changed: Option<bool>,
    /// Whether the VM generation ID changed.
    pub vmgenid_changed: Option<bool>,
    /// Why this kind.
    pub note: String,
}

/// Formats ns since the Unix epoch as RFC 3339 UTC with microseconds.
pub fn utc_string(unix_ns: i64) -> String {
    skew_time::rfc3339::format_us(unix_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_string(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            utc_string(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(utc_string(-1_000), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn record_keys() {
        let e = PauseEvent {
            kind: PauseKind::Process,
            start_unix_ns: 1_700_000_000_000_000_000,
            end_unix_ns: 1_700_000_000_301_000_000,
            min_ns: 300_000_000,
            max_ns: Some(301_000_000),
            overshoot_ns: Some(300_000_000),
            latency_ns: Some(100_000),
            evidence: Evidence {
                window_ns: 1_200_000_000,
                steal_ns: Some(0),
                run_delay_ns: Some(10_000),
                run_delay_window_ns: Some(100_000_000),
                cpu_ns: Some(5_000),
                sibling: SiblingVerdict::Ran,
                vmclock_changed: None,
                vmgenid_changed: None,
            },
            note: "x".into(),
        };
        let v = serde_json::to_value(e.record()).unwrap();
        assert_eq!(v["kind"], "process");
        assert_eq!(v["min_s"], 0.3);
        assert_eq!(v["max_s"], 0.301);
        assert_eq!(v["sibling_stalled"], false);
        assert_eq!(v["sibling"], "ran");
        assert_eq!(v["start"], "2023-11-14T22:13:20.000000Z");
        for k in ["steal_s", "run_delay_s", "cpu_s", "window_s", "end", "note"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(
            PauseKind::MonotonicBackwards.to_string(),
            "monotonic_backwards"
        );
        assert!(PauseKind::MonotonicBackwards.is_fault());
        assert!(!PauseKind::Step.is_fault());
    }
}
