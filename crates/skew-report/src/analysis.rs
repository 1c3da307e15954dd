//! Everything a report says besides the picture itself, computed once from the data: the
//! time range, per-host and per-server summaries, gaps, events, long pauses, statistics,
//! the largest pairwise skew and the lease margin. The JSON summary is this, serialized.

use crate::data::{LogData, ServerSeries};
use crate::events::{find_events, long_pauses, Event, LongPause};
use crate::fleet::{log_lease, log_skew, LogLease, LogSkew};
use crate::gaps::{default_gap_ns, find_gaps, median_step_ns, Gap};
use crate::stats::{stats, StatsRow};
use crate::time::rfc3339_s;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The pause length from which a pause is marked as long: 0 to 1 day.
pub const LONG_PAUSE_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 86_400_000_000_000);
/// A gap threshold or a matching window: 1 ms to 3650 days.
pub const WINDOW_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 3_650 * 86_400_000_000_000);

/// How to analyse.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// The time axis' left end (default: the first row).
    pub since_ns: Option<i64>,
    /// The right end (default: the last row).
    pub until_ns: Option<i64>,
    /// A time between runs longer than this is a gap (default: twice the host's median
    /// run interval).
    pub gap_ns: Option<i64>,
    /// Pauses at least this long are marked.
    pub long_pause_ns: i64,
    /// The lease length to compute a margin for.
    pub lease_ns: Option<i64>,
    /// Drift rate assumed over a lease and between hosts' measurements, ppm.
    pub drift_ppm: f64,
    /// The window matching several hosts' runs (default: the longest median run interval).
    pub match_window_ns: Option<i64>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            since_ns: None,
            until_ns: None,
            gap_ns: None,
            long_pause_ns: 100_000_000,
            lease_ns: None,
            drift_ppm: 50.0,
            match_window_ns: None,
        }
    }
}

/// One host's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSummary {
    /// The host.
    pub host: String,
    /// Runs (distinct run times, and runs at the same time told apart by their `run_id`).
    pub runs: usize,
    /// Runs that started at the same time as another run of the host (two monitors at
    /// once), counted apart in `runs` by their `run_id`.
    pub concurrent_runs: usize,
    /// First run, RFC 3339.
    pub first: String,
    /// Last run, RFC 3339.
    pub last: String,
    /// Median time between runs, ns (`interval_s`).
    #[serde(rename = "interval_s", with = "skew_time::serde_s::option")]
    pub interval_ns: Option<i64>,
    /// The gap threshold used, ns (`gap_threshold_s`).
    #[serde(rename = "gap_threshold_s", with = "skew_time::serde_s::option")]
    pub gap_threshold_ns: Option<i64>,
    /// Gaps found.
    pub gaps: usize,
    /// Runs where a majority agreed.
    pub majority_runs: usize,
    /// Runs without a majority.
    pub no_majority_runs: usize,
    /// `clock` rows.
    pub clock_rows: usize,
    /// `pause` rows.
    pub pause_rows: usize,
    /// `leap` rows' states (where they changed).
    pub leap_states: usize,
}

/// One server's summary (as seen from one host).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSummary {
    /// The host.
    pub host: String,
    /// The server as given.
    pub server: String,
    /// The address probed (the last one seen).
    pub address: String,
    /// Rows.
    pub rows: usize,
    /// Rows with a measurement (status ok).
    pub measured: usize,
    /// Rows per status.
    pub statuses: BTreeMap<String, u64>,
    /// Measured rows the majority counted.
    pub truechimer: usize,
    /// Measured rows marked as falsetickers.
    pub falseticker: usize,
    /// Median offset, s.
    pub offset_median_s: Option<f64>,
}

/// A gap, for the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapRecord {
    /// The host.
    pub host: String,
    /// The last run before it, RFC 3339.
    pub from: String,
    /// The first run after it.
    pub to: String,
    /// Its length, ns (`duration_s`).
    #[serde(rename = "duration_s", with = "skew_time::serde_s")]
    pub duration_ns: i64,
}

impl HostSummary {
    /// Median time between runs, s (for output).
    pub fn interval_s(&self) -> Option<f64> {
        self.interval_ns.map(skew_time::ns_to_s)
    }
}

impl GapRecord {
    /// Its length, s (for output).
    pub fn duration_s(&self) -> f64 {
        skew_time::ns_to_s(self.duration_ns)
    }
}

/// The analysis of a report's data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// The time axis' left end, ns since the Unix epoch.
    #[serde(skip)]
    pub from_ns: i64,
    /// Its right end.
    #[serde(skip)]
    pub until_ns: i64,
    /// The time axis' left end, RFC 3339.
    pub from: String,
    /// Its right end.
    pub until: String,
    /// Per host.
    pub hosts: Vec<HostSummary>,
    /// Per server and host.
    pub servers: Vec<ServerSummary>,
    /// Gaps, per host.
    pub gaps: Vec<GapRecord>,
    /// The gaps as times (for drawing).
    #[serde(skip)]
    pub gap_spans: Vec<Gap>,
    /// Per host, the gap threshold used, ns.
    #[serde(skip)]
    pub gap_threshold_ns: BTreeMap<String, i64>,
    /// Steps, suspends, leap announcements...
    pub events: Vec<Event>,
    /// Pauses at least `long_pause_s` long.
    pub long_pauses: Vec<LongPause>,
    /// The threshold for long pauses, ns (`long_pause_s`).
    #[serde(rename = "long_pause_s", with = "skew_time::serde_s")]
    pub long_pause_ns: i64,
    /// The longest pause of all, s (None without pause rows).
    pub longest_pause_s: Option<f64>,
    /// ntpviz-style statistics.
    pub stats: Vec<StatsRow>,
    /// The largest pairwise skew bound.
    pub pairwise_skew: Option<LogSkew>,
    /// The lease margin, when a lease length was given.
    pub lease: Option<LogLease>,
}

fn finite_median(v: &[f64]) -> Option<f64> {
    stats(v.iter().copied()).map(|s| s.p50)
}

/// Analyses `data` (finished: sorted, merged).
pub fn analyze(data: &LogData, opts: &AnalysisOptions) -> Analysis {
    let (dlo, dhi) = data.time_range().unwrap_or((0, 0));
    let mut from_ns = opts.since_ns.unwrap_or(dlo);
    let mut until_ns = opts.until_ns.unwrap_or(dhi).max(from_ns);
    if i128::from(until_ns) - i128::from(from_ns) < 1_000_000_000 {
        // One run: a minute around it.
        from_ns = from_ns.saturating_sub(30_000_000_000);
        until_ns = until_ns.saturating_add(30_000_000_000);
    }
    let mut hosts = Vec::new();
    let mut gaps = Vec::new();
    let mut gap_spans = Vec::new();
    let mut gap_threshold_ns = BTreeMap::new();
    for h in &data.hosts {
        let threshold = opts.gap_ns.or_else(|| default_gap_ns(&h.runs_ns));
        let mut g = threshold.map_or_else(Vec::new, |th| find_gaps(&h.host, &h.runs_ns, th));
        // A window asked for that the runs do not reach is a gap too (the monitor started
        // later, or stopped).
        if let (Some(th), Some(&first), Some(&last)) =
            (threshold, h.runs_ns.first(), h.runs_ns.last())
        {
            if let Some(s) = opts.since_ns.filter(|s| first.saturating_sub(*s) > th) {
                g.insert(
                    0,
                    Gap {
                        host: h.host.clone(),
                        from_ns: s,
                        to_ns: first,
                    },
                );
            }
            if let Some(u) = opts.until_ns.filter(|u| u.saturating_sub(last) > th) {
                g.push(Gap {
                    host: h.host.clone(),
                    from_ns: last,
                    to_ns: u,
                });
            }
        }
        if let Some(th) = threshold {
            gap_threshold_ns.insert(h.host.clone(), th);
        }
        let majority = h.agreement.majority.iter().filter(|m| **m).count();
        hosts.push(HostSummary {
            host: h.host.clone(),
            runs: h.runs(),
            concurrent_runs: h.concurrent_runs(),
            first: h
                .runs_ns
                .first()
                .map_or_else(String::new, |&t| rfc3339_s(t)),
            last: h.runs_ns.last().map_or_else(String::new, |&t| rfc3339_s(t)),
            interval_ns: median_step_ns(&h.runs_ns),
            gap_threshold_ns: threshold,
            gaps: g.len(),
            majority_runs: majority,
            no_majority_runs: h.agreement.majority.len() - majority,
            clock_rows: h.clock.t_ns.len(),
            pause_rows: h.pause.t_ns.len(),
            leap_states: h.leap.len(),
        });
        for x in &g {
            gaps.push(GapRecord {
                host: x.host.clone(),
                from: rfc3339_s(x.from_ns),
                to: rfc3339_s(x.to_ns),
                duration_ns: x.to_ns.saturating_sub(x.from_ns),
            });
        }
        gap_spans.extend(g);
    }
    let servers = data
        .series
        .iter()
        .map(|s| ServerSummary {
            host: s.host.clone(),
            server: s.server.clone(),
            address: s.address.clone(),
            rows: s.len(),
            measured: s.offset_s.iter().filter(|x| x.is_finite()).count(),
            statuses: s.statuses.clone(),
            truechimer: s.truechimer.iter().filter(|x| **x == Some(true)).count(),
            falseticker: s.truechimer.iter().filter(|x| **x == Some(false)).count(),
            offset_median_s: finite_median(&s.offset_s),
        })
        .collect();
    let mut table = Vec::new();
    let mut push = |host: &str, source: &str, metric: &str, v: &[f64]| {
        if let Some(st) = stats(v.iter().copied()) {
            table.push(StatsRow {
                host: host.into(),
                source: source.into(),
                metric: metric.into(),
                stats: st,
            });
        }
    };
    // Each host's series, found once (not by scanning every series for every host).
    let mut by_host: HashMap<&str, Vec<&ServerSeries>> = HashMap::new();
    for s in &data.series {
        by_host.entry(s.host.as_str()).or_default().push(s);
    }
    for h in &data.hosts {
        for s in by_host.get(h.host.as_str()).into_iter().flatten() {
            push(&h.host, &s.server, "offset_s", &s.offset_s);
            push(&h.host, &s.server, "delay_s", &s.delay_s);
        }
        let a = &h.agreement;
        let mid: Vec<f64> = a
            .lo_s
            .iter()
            .zip(&a.hi_s)
            .map(|(l, h)| (l + h) / 2.0)
            .collect();
        push(&h.host, "agreement", "offset_s", &mid);
        push(&h.host, "clock", "rate_ppm", &h.clock.rate_ppm);
        push(
            &h.host,
            "clock",
            "kernel_freq_ppm",
            &h.clock.kernel_freq_ppm,
        );
        push(&h.host, "pause", "pause_max_s", &h.pause.max_s);
    }
    let longest_pause_s = data
        .hosts
        .iter()
        .flat_map(|h| h.pause.max_s.iter().copied())
        .filter(|x| x.is_finite())
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    let pairwise_skew = log_skew(data, opts.match_window_ns, opts.drift_ppm);
    let lease = opts
        .lease_ns
        .map(|l| log_lease(data, pairwise_skew.as_ref(), l, opts.drift_ppm));
    Analysis {
        from_ns,
        until_ns,
        from: rfc3339_s(from_ns),
        until: rfc3339_s(until_ns),
        hosts,
        servers,
        gaps,
        gap_spans,
        gap_threshold_ns,
        events: find_events(data, from_ns, until_ns),
        // The log's pauses are seconds: the threshold is compared in its unit.
        long_pauses: long_pauses(data, skew_time::ns_to_s(opts.long_pause_ns)),
        long_pause_ns: opts.long_pause_ns,
        longest_pause_s,
        stats: table,
        pairwise_skew,
        lease,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{AgreementSeries, HostData, ServerSeries};

    #[test]
    fn summarizes_a_small_log() {
        let s = 1_000_000_000i64;
        let t: Vec<i64> = vec![0, 10 * s, 20 * s, 100 * s, 110 * s];
        let host = HostData {
            host: "h".into(),
            runs_ns: t.clone(),
            agreement: AgreementSeries {
                t_ns: t.clone(),
                lo_s: vec![-1e-6; 5],
                hi_s: vec![1e-6; 5],
                majority: vec![true, true, false, true, true],
                falsetickers: vec![0; 5],
            },
            ..HostData::default()
        };
        let series = ServerSeries {
            host: "h".into(),
            server: "a".into(),
            t_ns: t.clone(),
            offset_s: vec![1e-6, 2e-6, f64::NAN, 3e-6, 4e-6],
            delay_s: vec![1e-5; 5],
            bound_lo_s: vec![0.0; 5],
            bound_hi_s: vec![5e-6; 5],
            utc_lo_s: vec![0.0; 5],
            utc_hi_s: vec![5e-6; 5],
            truechimer: vec![Some(true), Some(true), None, Some(false), Some(true)],
            ..ServerSeries::default()
        };
        let data = LogData {
            hosts: vec![host],
            series: vec![series],
        };
        let a = analyze(
            &data,
            &AnalysisOptions {
                lease_ns: Some(10 * s),
                ..AnalysisOptions::default()
            },
        );
        assert_eq!((a.from_ns, a.until_ns), (0, 110 * s));
        assert_eq!(a.hosts[0].runs, 5);
        assert_eq!(a.hosts[0].interval_s(), Some(10.0));
        assert_eq!(a.hosts[0].gaps, 1);
        assert_eq!(a.gaps[0].duration_s(), 80.0);
        assert_eq!(
            (a.hosts[0].majority_runs, a.hosts[0].no_majority_runs),
            (4, 1)
        );
        let sv = &a.servers[0];
        assert_eq!(
            (sv.rows, sv.measured, sv.truechimer, sv.falseticker),
            (5, 4, 3, 1)
        );
        assert_eq!(sv.offset_median_s, Some(2e-6));
        let metrics: Vec<(&str, &str)> = a
            .stats
            .iter()
            .map(|r| (r.source.as_str(), r.metric.as_str()))
            .collect();
        assert_eq!(
            metrics,
            vec![
                ("a", "offset_s"),
                ("a", "delay_s"),
                ("agreement", "offset_s")
            ]
        );
        assert_eq!(a.stats[0].stats.count, 4);
        let p = a.pairwise_skew.unwrap();
        assert_eq!((p.basis, p.skew.bound_s()), ("servers", 5e-6));
        let l = a.lease.unwrap();
        assert!(!l.pause_observed);
        assert!((l.margin.margin_s() - (5e-6 + 0.0005)).abs() < 1e-12);
        assert_eq!(a.longest_pause_s, None);
        // A window wider than the runs: its edges without runs are gaps too.
        let a = analyze(
            &data,
            &AnalysisOptions {
                since_ns: Some(-100 * s),
                until_ns: Some(300 * s),
                ..AnalysisOptions::default()
            },
        );
        assert_eq!((a.from_ns, a.until_ns), (-100 * s, 300 * s));
        let spans: Vec<(i64, i64)> = a.gap_spans.iter().map(|g| (g.from_ns, g.to_ns)).collect();
        assert_eq!(
            spans,
            vec![(-100 * s, 0), (20 * s, 100 * s), (110 * s, 300 * s)]
        );
    }
}
