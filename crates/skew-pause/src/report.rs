//! The final report of a monitor run and its one serialisable view (the JSON of
//! `skew pauses --json`).
#![forbid(unsafe_code)]

use crate::config::DetectorConfig;
use crate::detector::DetectorSummary;
use crate::event::{utc_string, EventRecord};
use crate::summary::PausesRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which signals were available to classify events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sources {
    /// The detector thread's schedstat (run-delay, CPU time).
    pub schedstat: bool,
    /// Steal time in `/proc/stat`.
    pub steal: bool,
    /// The VMClock page.
    pub vmclock: bool,
    /// The VM generation ID file.
    pub vmgenid: bool,
}

/// CPU time used by the monitor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuUsage {
    /// The detector thread (getrusage RUSAGE_THREAD), ns.
    pub detector_ns: Option<i64>,
    /// The sibling process (wait4's rusage), ns.
    pub sibling_ns: Option<i64>,
}

/// How the sibling fared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiblingInfo {
    /// Its process ID, when it ran.
    pub pid: Option<u32>,
    /// Its wake-up period, ns, when it ran.
    pub interval_ns: Option<i64>,
    /// Its stall margin, ns.
    pub margin_ns: i64,
    /// Why it did not run, when asked for and it could not start.
    pub error: Option<String>,
}

/// The account of a monitor run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The detector settings.
    pub config: DetectorConfig,
    /// What the detector saw.
    pub summary: DetectorSummary,
    /// CPU used.
    pub cpu: CpuUsage,
    /// The sibling.
    pub sibling: SiblingInfo,
    /// Signals available.
    pub sources: Sources,
    /// The detector thread's timer slack, ns, as read back.
    pub timer_slack_ns: Option<u64>,
}

fn fraction(ns: Option<i64>, elapsed_ns: i64) -> Option<f64> {
    (elapsed_ns > 0).then_some(())?;
    Some(ns? as f64 / elapsed_ns as f64)
}

impl Report {
    /// Fraction of one core used by the detector thread and the sibling together.
    pub fn cpu_overhead(&self) -> Option<f64> {
        let total = match (self.cpu.detector_ns, self.cpu.sibling_ns) {
            (Some(d), Some(s)) => Some(d + s),
            (Some(d), None) if self.sibling.pid.is_none() => Some(d),
            _ => None,
        };
        fraction(total, self.summary.elapsed_ns)
    }

    /// The JSON view.
    pub fn record(&self) -> ReportRecord {
        let s = |ns: i64| ns as f64 / 1e9;
        let mut counts = BTreeMap::new();
        for (k, n) in &self.summary.kinds {
            counts.insert(k.as_str().to_string(), *n);
        }
        ReportRecord {
            interval_s: s(self.config.interval_ns),
            threshold_s: s(self.config.threshold_ns),
            duration_s: s(self.summary.elapsed_ns),
            start: utc_string(self.summary.start_unix_ns),
            end: utc_string(self.summary.end_unix_ns),
            pauses: self.summary.overshoots.record(),
            events: self.summary.events.iter().map(|e| e.record()).collect(),
            events_total: self.summary.events_total,
            events_dropped: self.summary.events_dropped(),
            event_counts: counts,
            cpu_overhead: self.cpu_overhead(),
            cpu_overhead_detector: fraction(self.cpu.detector_ns, self.summary.elapsed_ns),
            cpu_overhead_sibling: fraction(self.cpu.sibling_ns, self.summary.elapsed_ns),
            sibling: SiblingRecord {
                enabled: self.sibling.pid.is_some(),
                pid: self.sibling.pid,
                interval_s: self.sibling.interval_ns.map(s),
                margin_s: s(self.sibling.margin_ns),
                error: self.sibling.error.clone(),
            },
            sources: self.sources,
            timer_slack_ns: self.timer_slack_ns,
        }
    }
}

/// The sibling in the JSON view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiblingRecord {
    /// Whether a sibling ran.
    pub enabled: bool,
    /// Its process ID.
    pub pid: Option<u32>,
    /// Its wake-up period, s.
    pub interval_s: Option<f64>,
    /// Its stall margin, s.
    pub margin_s: f64,
    /// Why it did not run.
    pub error: Option<String>,
}

/// The JSON view of a [`Report`]: the keys of `skew pauses --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRecord {
    /// The detector's wake-up interval, s.
    pub interval_s: f64,
    /// The event threshold, s.
    pub threshold_s: f64,
    /// How long it ran, s.
    pub duration_s: f64,
    /// When it started (RFC 3339 UTC).
    pub start: String,
    /// When it stopped (RFC 3339 UTC).
    pub end: String,
    /// Overshoot percentiles over the whole run.
    pub pauses: PausesRecord,
    /// The events (the first 10 000).
    pub events: Vec<EventRecord>,
    /// Number of events, kept or not.
    pub events_total: u64,
    /// Events not kept.
    pub events_dropped: u64,
    /// Events per kind.
    pub event_counts: BTreeMap<String, u64>,
    /// Fraction of one core used by the detector thread and the sibling (getrusage).
    pub cpu_overhead: Option<f64>,
    /// Fraction of one core used by the detector thread alone.
    pub cpu_overhead_detector: Option<f64>,
    /// Fraction of one core used by the sibling alone.
    pub cpu_overhead_sibling: Option<f64>,
    /// The sibling.
    pub sibling: SiblingRecord,
    /// Which signals were available.
    pub sources: Sources,
    /// The detector thread's timer slack, ns.
    pub timer_slack_ns: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Evidence, PauseEvent, PauseKind};
    use crate::summary::OvershootSummary;
    use crate::witness::SiblingVerdict;

    #[test]
    fn json_keys_of_the_contract() {
        let ev = PauseEvent {
            kind: PauseKind::Process,
            start_unix_ns: 1_700_000_000_000_000_000,
            end_unix_ns: 1_700_000_000_300_000_000,
            min_ns: 299_000_000,
            max_ns: Some(300_000_000),
            overshoot_ns: Some(299_000_000),
            latency_ns: None,
            evidence: Evidence {
                window_ns: 1_000_000_000,
                steal_ns: Some(0),
                run_delay_ns: Some(0),
                run_delay_window_ns: Some(0),
                cpu_ns: Some(0),
                sibling: SiblingVerdict::Ran,
                vmclock_changed: None,
                vmgenid_changed: None,
            },
            note: String::new(),
        };
        let r = Report {
            config: DetectorConfig::default(),
            summary: DetectorSummary {
                start_unix_ns: 1_700_000_000_000_000_000,
                end_unix_ns: 1_700_000_010_000_000_000,
                elapsed_ns: 10_000_000_000,
                overshoots: OvershootSummary {
                    count: 9_990,
                    p50_ns: 30_000,
                    max_ns: 299_000_000,
                    count_over_threshold: 1,
                    ..Default::default()
                },
                events: vec![ev],
                events_total: 1,
                kinds: vec![(PauseKind::Process, 1)],
            },
            cpu: CpuUsage {
                detector_ns: Some(250_000_000),
                sibling_ns: Some(50_000_000),
            },
            sibling: SiblingInfo {
                pid: Some(12),
                interval_ns: Some(10_000_000),
                margin_ns: 5_000_000,
                error: None,
            },
            sources: Sources::default(),
            timer_slack_ns: Some(1),
        };
        let v = serde_json::to_value(r.record()).unwrap();
        assert_eq!(v["interval_s"], 0.001);
        for k in ["p50_s", "p99_s", "p999_s", "max_s", "count_over_threshold"] {
            assert!(v["pauses"].get(k).is_some(), "pauses.{k}");
        }
        for k in [
            "start",
            "min_s",
            "max_s",
            "kind",
            "steal_s",
            "run_delay_s",
            "sibling_stalled",
        ] {
            assert!(v["events"][0].get(k).is_some(), "events[].{k}");
        }
        assert!((v["cpu_overhead"].as_f64().unwrap() - 0.03).abs() < 1e-12);
        assert!((v["cpu_overhead_detector"].as_f64().unwrap() - 0.025).abs() < 1e-12);
        assert_eq!(v["event_counts"]["process"], 1);
        assert_eq!(v["sibling"]["enabled"], true);
        // Without the sibling's figure the total is unknown, not understated.
        let mut r2 = r.clone();
        r2.cpu.sibling_ns = None;
        assert_eq!(r2.cpu_overhead(), None);
        r2.sibling.pid = None;
        assert!((r2.cpu_overhead().unwrap() - 0.025).abs() < 1e-12);
    }
}
