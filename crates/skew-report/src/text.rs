//! The words on the page: value formatting with units, the title and the summary lines.

use crate::analysis::Analysis;
use crate::time::{human_span, utc_format};
use skew_time::format::{signed, unsigned};
use skew_time::s_to_ns;

/// Beyond this many seconds a value does not fit in i64 nanoseconds (292 years): it is
/// printed in scientific notation instead of saturating to a wrong number.
const NS_RANGE_S: f64 = 9.2e9;

/// Seconds with a sign and a unit, chronyc-style (`+12.35µs`, `-1.500ms`; `+1.000e300s`
/// for absurd values).
pub fn seconds_signed(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    if s.abs() >= NS_RANGE_S {
        return format!("{s:+.3e}s");
    }
    micro(signed(s_to_ns(s)))
}

/// A non-negative amount of seconds with a unit (`350.0ms`).
pub fn seconds_unsigned(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    if s.abs() >= NS_RANGE_S {
        return format!("{:.3e}s", s.abs());
    }
    micro(unsigned(s_to_ns(s.abs()).unsigned_abs()))
}

/// [`seconds_unsigned`] of integer nanoseconds (its magnitude), converted only here.
pub fn nanos_unsigned(ns: i64) -> String {
    let a = ns.unsigned_abs();
    if a as f64 / 1e9 >= NS_RANGE_S {
        return format!("{:.3e}s", a as f64 / 1e9);
    }
    micro(unsigned(a))
}

fn micro(s: String) -> String {
    match s.strip_suffix("us") {
        Some(v) => format!("{v}µs"),
        None => s,
    }
}

/// A value of `metric` (its unit is the suffix of its name) for the table.
pub fn metric_value(metric: &str, v: f64, spread: bool) -> String {
    if metric.ends_with("_ppm") {
        if !v.is_finite() {
            "-".into()
        } else if spread {
            format!("{v:.3}")
        } else {
            format!("{v:+.3}")
        }
    } else if spread || metric == "delay_s" || metric == "pause_max_s" {
        seconds_unsigned(v)
    } else {
        seconds_signed(v)
    }
}

/// Falsetickers named in the summary; a fleet's others are counted.
const MAX_NAMED_LIARS: usize = 8;

/// The default title.
pub fn default_title(a: &Analysis) -> String {
    match a.hosts.as_slice() {
        [one] => format!("skew drift report: {}", one.host),
        many => format!("skew drift report: {} hosts", many.len()),
    }
}

/// The summary, as parts to be joined with " · " and wrapped.
pub fn summary_parts(a: &Analysis) -> Vec<String> {
    let mut parts = Vec::new();
    let runs: usize = a.hosts.iter().map(|h| h.runs).sum();
    let servers = a.servers.len();
    let hosts = if a.hosts.len() == 1 {
        format!("host {}", a.hosts[0].host)
    } else {
        format!("{} hosts", a.hosts.len())
    };
    let every = a.hosts.iter().filter_map(|h| h.interval_ns).min();
    parts.push(format!(
        "{hosts}, {servers} server series, {runs} runs{}",
        every.map_or_else(String::new, |e| format!(" (every {})", human_span(e)))
    ));
    parts.push(format!(
        "{} to {} UTC",
        utc_format(a.from_ns, "%Y-%m-%d %H:%M:%S"),
        utc_format(a.until_ns, "%Y-%m-%d %H:%M:%S")
    ));
    let gap_total_ns = a
        .gaps
        .iter()
        .fold(0i64, |t, g| t.saturating_add(g.duration_ns));
    parts.push(match a.gaps.len() {
        0 => "no gaps".to_string(),
        n => format!(
            "{n} gap{} ({} without runs)",
            if n == 1 { "" } else { "s" },
            human_span(gap_total_ns)
        ),
    });
    let all_liars = a.servers.iter().filter(|s| s.falseticker > 0);
    let more = all_liars.clone().count().saturating_sub(MAX_NAMED_LIARS);
    let mut liars: Vec<String> = all_liars
        .take(MAX_NAMED_LIARS)
        .map(|s| {
            let pct = 100.0 * s.falseticker as f64 / s.measured.max(1) as f64;
            let name = if a.hosts.len() > 1 {
                format!("{}: {}", s.host, s.server)
            } else {
                s.server.clone()
            };
            format!("{name} ({pct:.0} % of its samples)")
        })
        .collect();
    if more > 0 {
        liars.push(format!("and {more} more (see --json)"));
    }
    parts.push(if liars.is_empty() {
        "no falsetickers".to_string()
    } else {
        format!("falsetickers: {}", liars.join(", "))
    });
    let no_majority: usize = a.hosts.iter().map(|h| h.no_majority_runs).sum();
    if no_majority > 0 {
        parts.push(format!("{no_majority} runs without a majority"));
    }
    match &a.pairwise_skew {
        Some(p) => parts.push(format!(
            "largest pairwise skew bound {} ({} vs {}, {}{})",
            nanos_unsigned(p.skew.bound_ns),
            p.skew.ahead,
            p.skew.behind,
            utc_format(p.at_unix_ns, "%m-%d %H:%M:%S"),
            if p.skew.left_out.is_empty() {
                String::new()
            } else {
                format!("; falsetickers left out: {}", p.skew.left_out.join(", "))
            }
        )),
        None => parts.push("pairwise skew: fewer than two clocks measured together".into()),
    }
    if let Some(l) = &a.lease {
        let m = &l.margin;
        parts.push(format!(
            "lease {}: margin {} = skew {} + pause {}{} + {} ppm × lease {}",
            human_span(m.lease_ns),
            nanos_unsigned(m.margin_ns),
            nanos_unsigned(m.skew_bound_ns),
            nanos_unsigned(m.pause_ns),
            if l.pause_observed {
                ""
            } else {
                " (no pause data)"
            },
            m.drift_ppm,
            nanos_unsigned(m.drift_ns)
        ));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_units() {
        assert_eq!(seconds_signed(-1.2345e-5), "-12.35µs");
        assert_eq!(seconds_signed(0.25), "+250.0ms");
        assert_eq!(seconds_unsigned(0.35), "350.0ms");
        assert_eq!(seconds_unsigned(f64::NAN), "-");
        // Beyond i64 nanoseconds: the value, not a saturated 9223372036.855s.
        assert_eq!(seconds_signed(-1e300), "-1.000e300s");
        assert_eq!(seconds_unsigned(2.5e10), "2.500e10s");
        assert_eq!(nanos_unsigned(350_000_000), "350.0ms");
        assert_eq!(nanos_unsigned(-12_345), "12.35µs");
        assert_eq!(nanos_unsigned(i64::MAX), "9.223e9s");
        assert_eq!(metric_value("rate_ppm", 2.5, false), "+2.500");
        assert_eq!(metric_value("rate_ppm", 2.5, true), "2.500");
        assert_eq!(metric_value("offset_s", 1e-6, false), "+1.000µs");
        assert_eq!(metric_value("delay_s", 1e-6, false), "1.000µs");
        assert_eq!(metric_value("offset_s", 1e-6, true), "1.000µs");
    }

    #[test]
    fn summary_says_what_matters() {
        use crate::analysis::{analyze, AnalysisOptions};
        use crate::data::{HostData, LogData, ServerSeries};
        let s = 1_000_000_000i64;
        let t = vec![0, 10 * s, 20 * s, 100 * s];
        let liar = ServerSeries {
            host: "h".into(),
            server: "liar".into(),
            t_ns: t.clone(),
            offset_s: vec![0.25; 4],
            bound_lo_s: vec![0.25; 4],
            bound_hi_s: vec![0.2501; 4],
            truechimer: vec![Some(false), Some(false), Some(true), Some(false)],
            ..ServerSeries::default()
        };
        let data = LogData {
            hosts: vec![HostData {
                host: "h".into(),
                runs_ns: t,
                ..HostData::default()
            }],
            series: vec![liar],
        };
        let a = analyze(
            &data,
            &AnalysisOptions {
                lease_ns: Some(10 * s),
                ..AnalysisOptions::default()
            },
        );
        let parts = summary_parts(&a);
        assert_eq!(parts[0], "host h, 1 server series, 4 runs (every 10 s)");
        assert_eq!(parts[1], "1970-01-01 00:00:00 to 1970-01-01 00:01:40 UTC");
        assert_eq!(parts[2], "1 gap (80 s without runs)");
        assert_eq!(parts[3], "falsetickers: liar (75 % of its samples)");
        assert!(
            parts[4].starts_with("largest pairwise skew bound 250.1ms (liar vs local"),
            "{}",
            parts[4]
        );
        assert_eq!(
            parts[5],
            "lease 10 s: margin 250.6ms = skew 250.1ms + pause 0ns (no pause data) + 50 ppm × lease 500.0µs"
        );
        assert_eq!(default_title(&a), "skew drift report: h");
    }

    #[test]
    fn a_fleet_of_liars_is_counted_not_listed() {
        use crate::analysis::{analyze, AnalysisOptions};
        use crate::data::{HostData, LogData, ServerSeries};
        let data = LogData {
            hosts: vec![HostData {
                host: "h".into(),
                runs_ns: vec![0],
                ..HostData::default()
            }],
            series: (0..1000)
                .map(|k| ServerSeries {
                    host: "h".into(),
                    server: format!("liar{k:04}"),
                    t_ns: vec![0],
                    offset_s: vec![0.25],
                    bound_lo_s: vec![0.25],
                    bound_hi_s: vec![0.25],
                    truechimer: vec![Some(false)],
                    ..ServerSeries::default()
                })
                .collect(),
        };
        let parts = summary_parts(&analyze(&data, &AnalysisOptions::default()));
        let liars = parts
            .iter()
            .find(|p| p.starts_with("falsetickers"))
            .unwrap();
        assert!(liars.contains("liar0007 (100 % of its samples)"), "{liars}");
        assert!(!liars.contains("liar0008"), "{liars}");
        assert!(liars.ends_with("and 992 more (see --json)"), "{liars}");
    }
}
