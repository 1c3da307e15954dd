//! Things that happened to the clocks, found in the rows: time-of-day steps, suspends, leap
//! announcements and leap seconds, leap-list trouble, the kernel arming a leap; and long
//! pauses.

use crate::data::{HostData, LogData};
use crate::text::{seconds_signed, seconds_unsigned};
use crate::time::{parse_rfc3339_ns, rfc3339_s};
use serde::Serialize;
use std::collections::HashSet;

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The time-of-day clock stepped (`clock` rows: `steps`, `step_max_s`).
    Step,
    /// The machine was suspended (`clock` rows: `suspended_s` grew).
    Suspend,
    /// Servers started announcing a leap second (`ntp` rows: `leap`).
    LeapAnnounced,
    /// The leap second itself (`leap` rows: `leap_next`).
    LeapSecond,
    /// The leap-seconds list changed status (`leap` rows: `status` not `ok`).
    LeapList,
    /// The kernel armed or ran a leap second (`clock` rows: `kernel_state`).
    KernelLeap,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// When, ns since the Unix epoch.
    pub t_unix_ns: i64,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The host whose log holds it.
    pub host: String,
    /// What.
    pub kind: EventKind,
    /// A short label for the picture (`step +500.0ms`, `suspend 12.50s`).
    pub label: String,
    /// The size, s, where it has one (the step, the time suspended).
    pub value_s: Option<f64>,
    /// Servers involved (leap announcements).
    pub servers: Vec<String>,
}

impl Event {
    fn new(t: i64, host: &str, kind: EventKind, label: String, value_s: Option<f64>) -> Event {
        Event {
            t_unix_ns: t,
            time: rfc3339_s(t),
            host: host.to_string(),
            kind,
            label,
            value_s,
            servers: Vec::new(),
        }
    }
}

/// A long pause (`pause` rows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongPause {
    /// When (the run's time), ns since the Unix epoch.
    pub t_unix_ns: i64,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The host.
    pub host: String,
    /// The longest pause's upper bound, s.
    pub max_s: f64,
    /// Events above the detector's threshold in that run.
    pub events: u32,
}

/// Servers starting to announce the same leap within this of the first are one event.
const ANNOUNCEMENT_GROUP_NS: i64 = 3_600_000_000_000;

/// Suspends shorter than this are clock-reading noise, not suspends.
const MIN_SUSPEND_S: f64 = 1e-3;

/// A leap second as RFC 3339 (`2016-12-31T23:59:60Z`) to the ns of the instant it starts.
fn leap_instant_ns(text: &str) -> Option<i64> {
    if let Some(i) = text.find(":60") {
        let mut fixed = text.to_string();
        fixed.replace_range(i..i + 3, ":59");
        return parse_rfc3339_ns(fixed.as_bytes()).and_then(|t| t.checked_add(1_000_000_000));
    }
    parse_rfc3339_ns(text.as_bytes())
}

fn clock_events(h: &HostData, out: &mut Vec<Event>) {
    let c = &h.clock;
    let mut prev_suspended = f64::NAN;
    for i in 0..c.t_ns.len() {
        let t = c.t_ns[i];
        if c.steps[i] > 0 {
            let size = c.step_max_s[i];
            let label = match (c.steps[i], size.is_finite()) {
                (1, true) => format!("step {}", seconds_signed(size)),
                (n, true) => format!("{n} steps, max {}", seconds_signed(size)),
                (1, false) => "step".to_string(),
                (n, false) => format!("{n} steps"),
            };
            out.push(Event::new(
                t,
                &h.host,
                EventKind::Step,
                label,
                size.is_finite().then_some(size),
            ));
        }
        let s = c.suspended_s[i];
        if s.is_finite() {
            if prev_suspended.is_finite() && s - prev_suspended > MIN_SUSPEND_S {
                let d = s - prev_suspended;
                out.push(Event::new(
                    t,
                    &h.host,
                    EventKind::Suspend,
                    format!("suspend {}", seconds_unsigned(d)),
                    Some(d),
                ));
            }
            prev_suspended = s;
        }
    }
    let mut prev = "";
    for (t, state) in &c.kernel_states {
        if matches!(state.as_str(), "TIME_INS" | "TIME_DEL" | "TIME_OOP") && state != prev {
            out.push(Event::new(
                *t,
                &h.host,
                EventKind::KernelLeap,
                format!("kernel {state}"),
                None,
            ));
        }
        prev = state;
    }
}

/// The events of a report's data between `lo_ns` and `hi_ns`, in time order.
pub fn find_events(data: &LogData, lo_ns: i64, hi_ns: i64) -> Vec<Event> {
    let mut out = Vec::new();
    for h in &data.hosts {
        clock_events(h, &mut out);
        let mut prev_status = "ok";
        for l in &h.leap {
            if l.status != prev_status && l.status != "ok" && !l.status.is_empty() {
                out.push(Event::new(
                    l.t_ns,
                    &h.host,
                    EventKind::LeapList,
                    format!("leap list {}", l.status),
                    None,
                ));
            }
            prev_status = &l.status;
        }
        let mut leaps: Vec<i64> = h
            .leap
            .iter()
            .filter_map(|l| leap_instant_ns(&l.next))
            .collect();
        leaps.sort_unstable();
        leaps.dedup();
        for t in leaps {
            out.push(Event::new(
                t,
                &h.host,
                EventKind::LeapSecond,
                "leap second".into(),
                None,
            ));
        }
    }
    // Leap announcements: where a server's indicator starts announcing, grouped per run.
    let mut starts: Vec<(String, i64, &'static str, String)> = Vec::new();
    for s in &data.series {
        let mut was = false;
        for (i, l) in s.leap.iter().enumerate() {
            let now = l.announces();
            if now && !was {
                starts.push((s.host.clone(), s.t_ns[i], l.as_str(), s.server.clone()));
            }
            if !s.offset_s[i].is_nan() {
                was = now;
            }
        }
    }
    starts.sort();
    // The servers of the announcement being grouped (by hash: one host may probe
    // thousands of servers).
    let mut in_group: HashSet<String> = HashSet::new();
    for st in starts {
        match out.last_mut() {
            Some(e)
                if e.kind == EventKind::LeapAnnounced
                    && e.host == st.0
                    && st.1.saturating_sub(e.t_unix_ns) <= ANNOUNCEMENT_GROUP_NS
                    && e.label.contains(st.2) =>
            {
                if in_group.insert(st.3.clone()) {
                    e.servers.push(st.3);
                }
            }
            _ => {
                in_group.clear();
                in_group.insert(st.3.clone());
                let mut e = Event::new(
                    st.1,
                    &st.0,
                    EventKind::LeapAnnounced,
                    format!("leap {} announced", st.2),
                    None,
                );
                e.servers.push(st.3);
                out.push(e);
            }
        }
    }
    out.retain(|e| e.t_unix_ns >= lo_ns && e.t_unix_ns <= hi_ns);
    // The same leap second seen by several hosts is one event.
    out.sort_by(|a, b| (a.t_unix_ns, a.kind, &a.host).cmp(&(b.t_unix_ns, b.kind, &b.host)));
    out.dedup_by(|b, a| {
        a.kind == EventKind::LeapSecond && b.kind == a.kind && a.t_unix_ns == b.t_unix_ns
    });
    out
}

/// Pause rows whose longest pause is at least `threshold_s`, in time order.
pub fn long_pauses(data: &LogData, threshold_s: f64) -> Vec<LongPause> {
    let mut out = Vec::new();
    for h in &data.hosts {
        let p = &h.pause;
        for i in 0..p.t_ns.len() {
            if p.max_s[i] >= threshold_s {
                out.push(LongPause {
                    t_unix_ns: p.t_ns[i],
                    time: rfc3339_s(p.t_ns[i]),
                    host: h.host.clone(),
                    max_s: p.max_s[i],
                    events: p.events[i],
                });
            }
        }
    }
    out.sort_by_key(|p| p.t_unix_ns);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ClockSeries, LeapFlag, LeapState, PauseSeries, ServerSeries};

    fn host() -> HostData {
        HostData {
            host: "h".into(),
            clock: ClockSeries {
                t_ns: vec![10, 20, 30, 40],
                rate_ppm: vec![f64::NAN; 4],
                rate_ci95_ppm: vec![f64::NAN; 4],
                kernel_freq_ppm: vec![0.0; 4],
                steps: vec![0, 1, 0, 2],
                step_max_s: vec![f64::NAN, 0.5, f64::NAN, -1.25],
                suspended_s: vec![0.0, 0.0, 12.5, 12.5005],
                kernel_states: vec![(10, "TIME_OK".into()), (30, "TIME_INS".into())],
            },
            pause: PauseSeries {
                t_ns: vec![10, 20],
                max_s: vec![0.001, 0.35],
                p99_s: vec![0.0001; 2],
                events: vec![0, 1],
            },
            leap: vec![
                LeapState {
                    t_ns: 10,
                    status: "ok".into(),
                    next: String::new(),
                    expires: "x".into(),
                },
                LeapState {
                    t_ns: 30,
                    status: "expiring".into(),
                    next: "1970-01-01T00:00:60Z".into(),
                    expires: "x".into(),
                },
            ],
            ..HostData::default()
        }
    }

    fn server(name: &str, leap: Vec<LeapFlag>) -> ServerSeries {
        ServerSeries {
            host: "h".into(),
            server: name.into(),
            t_ns: vec![10, 20, 30, 40],
            offset_s: vec![0.0; 4],
            leap,
            ..ServerSeries::default()
        }
    }

    #[test]
    fn finds_each_kind() {
        use LeapFlag::*;
        let data = LogData {
            hosts: vec![host()],
            series: vec![
                server("a", vec![None, Insert, Insert, None]),
                server("b", vec![None, Insert, Insert, Insert]),
            ],
        };
        let ev = find_events(&data, 0, 100_000_000_000);
        let got: Vec<(i64, EventKind, &str)> = ev
            .iter()
            .map(|e| (e.t_unix_ns, e.kind, e.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (20, EventKind::Step, "step +500.0ms"),
                (20, EventKind::LeapAnnounced, "leap insert announced"),
                (30, EventKind::Suspend, "suspend 12.50s"),
                (30, EventKind::LeapList, "leap list expiring"),
                (30, EventKind::KernelLeap, "kernel TIME_INS"),
                (40, EventKind::Step, "2 steps, max -1.250s"),
                (60_000_000_000, EventKind::LeapSecond, "leap second"),
            ]
        );
        assert_eq!(ev[1].servers, vec!["a", "b"]);
        // Servers starting within the hour are one announcement.
        let late = LogData {
            hosts: vec![],
            series: vec![
                server("a", vec![None, Insert, Insert, Insert]),
                server("b", vec![None, None, Insert, Insert]),
            ],
        };
        let grouped = find_events(&late, 0, 100);
        assert_eq!(grouped.len(), 1);
        assert_eq!((grouped[0].t_unix_ns, grouped[0].servers.len()), (20, 2));
        assert_eq!(ev[2].value_s, Some(12.5));
        // The window drops what is outside.
        assert_eq!(find_events(&data, 25, 35).len(), 3);
    }

    #[test]
    fn absurd_sizes_are_labelled_as_they_are() {
        // A step of 1e300 s in a log is labelled with its value, not a saturated 292 years.
        let mut h = host();
        h.clock.step_max_s[1] = 1e300;
        h.clock.suspended_s[2] = 5e12;
        let data = LogData {
            hosts: vec![h],
            series: vec![],
        };
        let labels: Vec<String> = find_events(&data, 0, 100)
            .into_iter()
            .map(|e| e.label)
            .collect();
        assert!(
            labels.contains(&"step +1.000e300s".to_string()),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"suspend 5.000e12s".to_string()),
            "{labels:?}"
        );
    }

    #[test]
    fn long_pauses_over_threshold() {
        let data = LogData {
            hosts: vec![host()],
            series: vec![],
        };
        let p = long_pauses(&data, 0.1);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].t_unix_ns, p[0].max_s, p[0].events), (20, 0.35, 1));
        assert_eq!(long_pauses(&data, 1.0).len(), 0);
    }

    #[test]
    fn leap_second_instants() {
        assert_eq!(
            leap_instant_ns("2016-12-31T23:59:60Z"),
            Some(1_483_228_800_000_000_000)
        );
        assert_eq!(leap_instant_ns(""), None);
    }
}
