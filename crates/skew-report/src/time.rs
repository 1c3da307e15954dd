//! Times in and out of reports: the drift log's RFC 3339 timestamps (parsed fast), the
//! `--since`/`--until` arguments (RFC 3339, a date, or a duration before now such as `7d`),
//! and UTC labels.

pub use skew_time::rfc3339::parse_ns as parse_rfc3339_ns;
pub use skew_time::rfc3339::{format_s as rfc3339_s, strftime as utc_format};

/// Why a time argument could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {text:?}: expected RFC 3339 (2026-11-27T08:00:00Z), a date (2026-11-27, UTC midnight), `now`, or a duration before now (7d, 36h, 90m)")]
pub struct TimeArgError {
    /// The text given.
    pub text: String,
}

/// A point in time given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    /// An absolute time, ns since the Unix epoch.
    At {
        /// ns since the Unix epoch.
        unix_ns: i64,
    },
    /// That long before now (`7d`), ns.
    Ago {
        /// ns before now.
        ns: i64,
    },
}

impl TimeArg {
    /// The time in ns since the Unix epoch, given the current time.
    pub fn resolve(&self, now_unix_ns: i64) -> i64 {
        match *self {
            TimeArg::At { unix_ns } => unix_ns,
            TimeArg::Ago { ns } => now_unix_ns.saturating_sub(ns),
        }
    }
}

/// Parses `--since`/`--until`: RFC 3339 (`2026-11-27T08:00:00Z`, `...+01:00`), a date
/// (`2026-11-27`, midnight UTC), `now`, or a duration before now (`7d`, `36h`, `-7d`,
/// `7d ago`).
pub fn parse_time_arg(text: &str) -> Result<TimeArg, TimeArgError> {
    let err = || TimeArgError {
        text: text.to_string(),
    };
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(TimeArg::Ago { ns: 0 });
    }
    if let Some(ns) = parse_rfc3339_ns(t.as_bytes()) {
        return Ok(TimeArg::At { unix_ns: ns });
    }
    if let Some(ns) = skew_time::rfc3339::parse_date(t) {
        return Ok(TimeArg::At { unix_ns: ns });
    }
    let rel = t.strip_suffix("ago").map_or(t, str::trim_end);
    let rel = rel.strip_prefix('-').unwrap_or(rel);
    if rel.is_empty() || rel.starts_with('+') {
        return Err(err());
    }
    let d = skew_time::parse_duration(rel).map_err(|_| err())?;
    let ns = i64::try_from(d.as_nanos()).map_err(|_| err())?;
    Ok(TimeArg::Ago { ns })
}

/// A human duration: `45 s`, `12.5 min`, `3.2 h`, `2.1 d`.
pub fn human_span(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s.abs() < 120.0 {
        format!("{s:.0} s")
    } else if s.abs() < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s.abs() < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS_PER_S: i64 = 1_000_000_000;

    const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

    #[test]
    fn time_arguments() {
        assert_eq!(
            parse_time_arg("2026-11-20T00:00:00Z").unwrap(),
            TimeArg::At { unix_ns: T0 }
        );
        assert_eq!(
            parse_time_arg("2026-11-20").unwrap(),
            TimeArg::At { unix_ns: T0 }
        );
        let week = 7 * 86_400 * NS_PER_S;
        for text in ["7d", "-7d", "7d ago", " 7d "] {
            assert_eq!(
                parse_time_arg(text).unwrap(),
                TimeArg::Ago { ns: week },
                "{text}"
            );
        }
        assert_eq!(parse_time_arg("7d").unwrap().resolve(T0), T0 - week);
        assert_eq!(parse_time_arg("now").unwrap().resolve(T0), T0);
        assert_eq!(
            parse_time_arg("90m").unwrap(),
            TimeArg::Ago {
                ns: 90 * 60 * NS_PER_S
            }
        );
        for bad in ["", "yesterday", "+7d", "7x", "2026-13-01", "ago"] {
            let e = parse_time_arg(bad).unwrap_err();
            assert!(e.to_string().contains("7d"), "{e}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(rfc3339_s(T0 + 999), "2026-11-20T00:00:00Z");
        assert_eq!(utc_format(T0, "%m-%d %H:%M"), "11-20 00:00");
        assert_eq!(human_span(45 * NS_PER_S), "45 s");
        assert_eq!(human_span(750 * NS_PER_S), "12.5 min");
        assert_eq!(human_span(3 * 86_400 * NS_PER_S), "3.0 d");
    }
}
