//! What logs say about a fleet: the largest pairwise skew bound between clocks, and the
//! safety margin a lease needs — [`skew_ntp::fleet`]'s functions applied to drift logs.
//!
//! * Logs from several hosts: the clocks are the hosts. Each host's `agreement` row bounds
//!   its UTC − local; runs are matched in fixed windows of time (by default the longest
//!   median run interval of the hosts), and each host's bound is widened by the drift rate
//!   times the time from its measurement to the window's latest one, so that all bounds
//!   speak of the same instant. The largest bound over all windows is reported.
//! * A log from one host: as `skew probe` does for servers probed at once, the clocks are
//!   this host (offset exactly 0) and each server measured `ok` in a run (its hard bound);
//!   the largest bound over all runs is reported.

use crate::data::{HostData, LogData, ServerSeries};
use crate::time::rfc3339_s;
use serde::Serialize;
use skew_ntp::fleet::{largest_pairwise_skew, lease_margin, LeaseMargin, PairwiseSkew};
use skew_time::{ppm_of_ns, s_to_ns, IntervalNs};
use std::collections::HashMap;

/// The largest pairwise skew bound found in logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogSkew {
    /// `hosts` (several hosts' agreements) or `servers` (one host and its servers).
    pub basis: &'static str,
    /// The bound and the pair reaching it.
    #[serde(flatten)]
    pub skew: PairwiseSkew,
    /// When it was reached, ns since the Unix epoch.
    pub at_unix_ns: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Windows (hosts) or runs (servers) compared.
    pub compared: usize,
    /// The matching window, s (hosts only).
    pub window_s: Option<f64>,
}

/// A lease margin from logs: [`LeaseMargin`] and whether any pause was observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLease {
    /// skew bound + longest pause + drift × lease.
    #[serde(flatten)]
    pub margin: LeaseMargin,
    /// Whether the logs held pause rows (false: `pause_s` is 0 for lack of data).
    pub pause_observed: bool,
}

fn better(best: &mut Option<(PairwiseSkew, i64, usize)>, cand: PairwiseSkew, t: i64) {
    if best.as_ref().is_none_or(|b| cand.bound_ns > b.0.bound_ns) {
        *best = Some((cand, t, 0));
    }
}

/// Several hosts: agreements matched in windows of `window_ns`, widened by `drift_ppm`.
pub fn hosts_skew(hosts: &[HostData], window_ns: i64, drift_ppm: f64) -> Option<LogSkew> {
    let window_ns = window_ns.max(1);
    // (window, t, host, local − UTC interval)
    let mut pts: Vec<(i64, i64, usize, IntervalNs)> = Vec::new();
    for (h, host) in hosts.iter().enumerate() {
        let a = &host.agreement;
        for i in 0..a.t_ns.len() {
            if a.majority[i] && a.lo_s[i].is_finite() && a.hi_s[i].is_finite() {
                let iv = IntervalNs::new(-s_to_ns(a.hi_s[i]), -s_to_ns(a.lo_s[i]));
                pts.push((a.t_ns[i].div_euclid(window_ns), a.t_ns[i], h, iv));
            }
        }
    }
    pts.sort_unstable_by_key(|p| (p.0, p.1));
    let mut best = None;
    let mut compared = 0;
    for w in pts.chunk_by(|a, b| a.0 == b.0) {
        let t_ref = w.iter().map(|p| p.1).max().unwrap_or(0);
        // Each host once, in order of first appearance (found by hash: a window may hold
        // thousands of hosts).
        let mut per_host: Vec<(usize, IntervalNs)> = Vec::new();
        let mut slot: HashMap<usize, usize> = HashMap::new();
        for &(_, t, h, iv) in w {
            let widen = ppm_of_ns(t_ref - t, drift_ppm);
            let iv = IntervalNs::new(
                iv.lo_ns.saturating_sub(widen),
                iv.hi_ns.saturating_add(widen),
            );
            match slot.get(&h) {
                Some(&k) => per_host[k].1 = per_host[k].1.hull(&iv),
                None => {
                    slot.insert(h, per_host.len());
                    per_host.push((h, iv));
                }
            }
        }
        if per_host.len() < 2 {
            continue;
        }
        compared += 1;
        let clocks: Vec<(String, IntervalNs)> = per_host
            .iter()
            .map(|(h, iv)| (hosts[*h].host.clone(), *iv))
            .collect();
        if let Some(s) = largest_pairwise_skew(&clocks) {
            better(&mut best, s, t_ref);
        }
    }
    best.map(|(skew, t, _)| LogSkew {
        basis: "hosts",
        skew,
        at_unix_ns: t,
        at: rfc3339_s(t),
        compared,
        window_s: Some(window_ns as f64 / 1e9),
    })
}

/// One host and its servers, run by run (this host is `local`, offset exactly 0). The
/// work is linear in the rows (each run compares the servers measured in it, not every
/// server the log ever named).
pub fn servers_skew(host: &HostData, series: &[&ServerSeries]) -> Option<LogSkew> {
    // (run time, series, its hard bound) of every measured row, in run and series order.
    // A falseticker's row is left out: its bound says where the liar is, not the truth.
    // Only runs with a majority have falsetickers (without one, the log marks no server a
    // truechimer, and every server is kept).
    let majority_runs: std::collections::HashSet<i64> = host
        .agreement
        .t_ns
        .iter()
        .zip(&host.agreement.majority)
        .filter(|(_, m)| **m)
        .map(|(t, _)| *t)
        .collect();
    let mut pts: Vec<(i64, usize, IntervalNs)> = Vec::new();
    let mut left_out: Vec<(i64, usize)> = Vec::new();
    for (j, s) in series.iter().enumerate() {
        for i in 0..s.len() {
            if s.offset_s[i].is_finite()
                && s.bound_lo_s[i].is_finite()
                && s.bound_hi_s[i].is_finite()
            {
                if s.truechimer.get(i) == Some(&Some(false)) && majority_runs.contains(&s.t_ns[i]) {
                    left_out.push((s.t_ns[i], j));
                    continue;
                }
                let iv = IntervalNs::new(s_to_ns(s.bound_lo_s[i]), s_to_ns(s.bound_hi_s[i]));
                pts.push((s.t_ns[i], j, iv));
            }
        }
    }
    pts.sort_by_key(|p| (p.0, p.1));
    // A server counts once per run (the first of duplicate rows, as the log has them).
    pts.dedup_by(|b, a| (a.0, a.1) == (b.0, b.1));
    let runs: std::collections::HashSet<i64> = host.runs_ns.iter().copied().collect();
    let mut best = None;
    let mut compared = 0;
    for run in pts.chunk_by(|a, b| a.0 == b.0) {
        let t = run[0].0;
        if !runs.contains(&t) {
            continue;
        }
        compared += 1;
        // One clock per address: two names of one address (or a name and the address
        // itself) are the same server, compared once, as `skew probe` does.
        let mut addresses: std::collections::HashSet<&str> =
            std::collections::HashSet::with_capacity(run.len());
        let clocks: Vec<(String, IntervalNs)> =
            std::iter::once(("local".to_string(), IntervalNs::new(0, 0)))
                .chain(run.iter().filter_map(|&(_, j, iv)| {
                    let a = series[j].address.as_str();
                    if !a.is_empty() && !addresses.insert(a) {
                        return None;
                    }
                    Some((series[j].server.clone(), iv))
                }))
                .collect();
        if let Some(s) = largest_pairwise_skew(&clocks) {
            better(&mut best, s, t);
        }
    }
    best.map(|(mut skew, t, _)| {
        // The falsetickers of the run that reached the bound.
        let mut names: Vec<String> = left_out
            .iter()
            .filter(|(lt, _)| *lt == t)
            .map(|&(_, j)| series[j].server.clone())
            .collect();
        names.sort();
        names.dedup();
        skew.left_out = names;
        LogSkew {
            basis: "servers",
            skew,
            at_unix_ns: t,
            at: rfc3339_s(t),
            compared,
            window_s: None,
        }
    })
}

/// The largest pairwise skew of a report's data: hosts when there are several, else the
/// one host and its servers. `window_ns` matches hosts' runs (default: the longest median
/// run interval).
pub fn log_skew(data: &LogData, window_ns: Option<i64>, drift_ppm: f64) -> Option<LogSkew> {
    match data.hosts.len() {
        0 => None,
        1 => {
            let h = &data.hosts[0];
            let series: Vec<&ServerSeries> =
                data.series.iter().filter(|s| s.host == h.host).collect();
            servers_skew(h, &series)
        }
        _ => {
            let window = window_ns.or_else(|| {
                data.hosts
                    .iter()
                    .filter_map(|h| crate::gaps::median_step_ns(&h.runs_ns))
                    .max()
            })?;
            hosts_skew(&data.hosts, window, drift_ppm)
        }
    }
}

/// The lease margin: the skew bound + the longest pause in the data + drift × lease.
pub fn log_lease(
    data: &LogData,
    skew: Option<&LogSkew>,
    lease_ns: i64,
    drift_ppm: f64,
) -> LogLease {
    // The log's pauses are seconds, written exact to the nanosecond: read back to it.
    let pause_ns = data
        .hosts
        .iter()
        .flat_map(|h| h.pause.max_s.iter().copied())
        .filter(|x| x.is_finite())
        .map(s_to_ns)
        .max();
    let skew_ns = skew.map_or(0, |s| s.skew.bound_ns);
    LogLease {
        margin: lease_margin(lease_ns, skew_ns, pause_ns.unwrap_or(0), drift_ppm),
        pause_observed: pause_ns.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{AgreementSeries, PauseSeries};

    fn host(name: &str, t: &[i64], lo: f64, hi: f64) -> HostData {
        HostData {
            host: name.into(),
            runs_ns: t.to_vec(),
            agreement: AgreementSeries {
                t_ns: t.to_vec(),
                lo_s: vec![lo; t.len()],
                hi_s: vec![hi; t.len()],
                majority: vec![true; t.len()],
                falsetickers: vec![0; t.len()],
            },
            ..HostData::default()
        }
    }

    #[test]
    fn hosts_matched_in_windows() {
        let s = 1_000_000_000;
        // UTC − local: a in [1 ms, 2 ms] (a is 1–2 ms behind), b in [-3 ms, -2 ms] (ahead).
        let a = host("a", &[0, 10 * s], 0.001, 0.002);
        let b = host("b", &[s, 11 * s], -0.003, -0.002);
        let r = hosts_skew(&[a.clone(), b.clone()], 10 * s, 0.0).unwrap();
        assert_eq!(r.basis, "hosts");
        // local − UTC: a in [-2, -1] ms, b in [2, 3] ms: b − a ≤ 3 − (−2) = 5 ms.
        assert!((r.skew.bound_s() - 0.005).abs() < 1e-12, "{r:?}");
        assert_eq!((r.skew.ahead.as_str(), r.skew.behind.as_str()), ("b", "a"));
        assert_eq!(r.compared, 2);
        // With 50 ppm of drift, a's bound measured 1 s before b's is widened by 50 µs.
        let r = hosts_skew(&[a.clone(), b.clone()], 10 * s, 50.0).unwrap();
        assert!(
            (r.skew.bound_s() - 0.005050).abs() < 1e-12,
            "{}",
            r.skew.bound_s()
        );
        // Windows holding one host only compare nothing.
        let c = host("c", &[100 * s], 0.0, 0.0);
        assert!(hosts_skew(&[a, c], 10 * s, 0.0).is_none());
    }

    #[test]
    fn one_host_compares_its_servers_per_run() {
        let h = HostData {
            host: "h".into(),
            runs_ns: vec![10, 20],
            ..HostData::default()
        };
        let mk = |name: &str, lo: [f64; 2], hi: [f64; 2]| ServerSeries {
            host: "h".into(),
            server: name.into(),
            t_ns: vec![10, 20],
            offset_s: vec![0.0, 0.0],
            bound_lo_s: lo.to_vec(),
            bound_hi_s: hi.to_vec(),
            ..ServerSeries::default()
        };
        let a = mk("a", [-1e-6, -1e-6], [1e-6, 1e-6]);
        let liar = mk("liar", [0.25, f64::NAN], [0.2501, f64::NAN]);
        let r = servers_skew(&h, &[&a, &liar]).unwrap();
        assert_eq!(r.basis, "servers");
        assert!((r.skew.bound_s() - 0.250101).abs() < 1e-12);
        assert_eq!(
            (r.skew.ahead.as_str(), r.skew.behind.as_str()),
            ("liar", "a")
        );
        assert_eq!((r.at_unix_ns, r.compared, r.skew.clocks), (10, 2, 3));
        assert!(r.skew.left_out.is_empty());
    }

    /// Two names of one address (or a name and the address itself) are one clock: not
    /// compared with itself, which would add its own bound width to the skew.
    #[test]
    fn two_names_of_one_address_are_one_clock() {
        let h = HostData {
            host: "h".into(),
            runs_ns: vec![10],
            ..HostData::default()
        };
        let mk = |name: &str, address: &str, lo: f64, hi: f64| ServerSeries {
            host: "h".into(),
            server: name.into(),
            address: address.into(),
            t_ns: vec![10],
            offset_s: vec![(lo + hi) / 2.0],
            bound_lo_s: vec![lo],
            bound_hi_s: vec![hi],
            ..ServerSeries::default()
        };
        let by_name = mk("localhost:123", "127.0.0.1:123", 1e-6, 3e-6);
        let by_address = mk("127.0.0.1:123", "127.0.0.1:123", -1e-6, 5e-6);
        let r = servers_skew(&h, &[&by_name, &by_address]).unwrap();
        assert_eq!(r.skew.clocks, 2, "local and one server: {r:?}");
        assert!((r.skew.bound_s() - 3e-6).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn falsetickers_of_runs_with_a_majority_are_left_out() {
        // Run 10 had a majority that found "liar" false (−287 ms); run 20 had none.
        let mut h = host("h", &[10, 20], -1e-6, 1e-6);
        h.agreement.majority = vec![true, false];
        let mk = |name: &str, lo: f64, hi: f64, truechimer: [bool; 2]| ServerSeries {
            host: "h".into(),
            server: name.into(),
            t_ns: vec![10, 20],
            offset_s: vec![(lo + hi) / 2.0; 2],
            bound_lo_s: vec![lo; 2],
            bound_hi_s: vec![hi; 2],
            truechimer: truechimer.iter().map(|t| Some(*t)).collect(),
            ..ServerSeries::default()
        };
        let a = mk("a", -2e-6, 2e-6, [true, false]);
        let b = mk("b", -1e-6, 3e-6, [true, false]);
        let liar = mk("liar", -0.2871, -0.2869, [false, false]);
        let only_run_10 = HostData {
            runs_ns: vec![10],
            ..h.clone()
        };
        let r = servers_skew(&only_run_10, &[&a, &b, &liar]).unwrap();
        assert!((r.skew.bound_s() - 5e-6).abs() < 1e-12, "{r:?}");
        assert_eq!(r.skew.left_out, ["liar"]);
        assert_eq!(r.skew.clocks, 3);
        // Without a majority nobody is a falseticker: the liar counts.
        let r = servers_skew(&h, &[&a, &b, &liar]).unwrap();
        assert_eq!(r.at_unix_ns, 20);
        assert!(
            r.skew.bound_s() > 0.28 && r.skew.left_out.is_empty(),
            "{r:?}"
        );
    }

    #[test]
    fn a_pause_from_the_log_is_its_exact_nanoseconds() {
        // 127 ns written as 0.000000127 s: × 1e9 gives 127.00000000000001, which the ceil
        // of the f64 round trip made 128 ns.
        let mut h = host("a", &[0], 0.0, 0.0);
        h.pause = PauseSeries {
            t_ns: vec![0],
            max_s: vec![0.000000127],
            p99_s: vec![0.0],
            events: vec![1],
        };
        let data = LogData {
            hosts: vec![h],
            series: vec![],
        };
        let l = log_lease(&data, None, 0, 0.0);
        assert_eq!((l.margin.pause_ns, l.margin.margin_ns), (127, 127));
    }

    #[test]
    fn lease_adds_the_longest_pause() {
        let mut h = host("a", &[0], 0.0, 0.0);
        h.pause = PauseSeries {
            t_ns: vec![0, 1],
            max_s: vec![0.3, f64::NAN],
            p99_s: vec![0.0, 0.0],
            events: vec![1, 0],
        };
        let data = LogData {
            hosts: vec![h],
            series: vec![],
        };
        let skew = LogSkew {
            basis: "hosts",
            skew: PairwiseSkew {
                bound_ns: 2_000_000,
                ahead: "a".into(),
                behind: "b".into(),
                clocks: 2,
                left_out: vec![],
            },
            at_unix_ns: 0,
            at: String::new(),
            compared: 1,
            window_s: None,
        };
        let l = log_lease(&data, Some(&skew), 10_000_000_000, 50.0);
        assert!(l.pause_observed);
        assert!((l.margin.margin_s() - 0.3025).abs() < 1e-12, "{l:?}");
        let l = log_lease(&LogData::default(), None, 10_000_000_000, 50.0);
        assert!(!l.pause_observed);
        assert!((l.margin.margin_s() - 0.0005).abs() < 1e-12);
    }
}
