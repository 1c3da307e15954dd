//! Times in and out of reports: the drift log's RFC 3339 timestamps (parsed fast), the
//! `--since`/`--until` arguments (RFC 3339, a date, or a duration before now such as `7d`),
//! and UTC labels.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use skew_time::calendar::days_from_civil;

const NS_PER_S: i64 = 1_000_000_000;

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
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let ns = d
            .and_hms_opt(0, 0, 0)
            .and_then(|dt| dt.and_utc().timestamp_nanos_opt())
            .ok_or_else(err)?;
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

fn digits(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Parses an RFC 3339 timestamp to ns since the Unix epoch. The drift log's own form
/// (`2026-11-27T01:02:03.000000004Z`) takes a fast path; anything else goes through chrono.
pub fn parse_rfc3339_ns(text: &[u8]) -> Option<i64> {
    if let Some(ns) = parse_fixed(text) {
        return Some(ns);
    }
    let s = std::str::from_utf8(text).ok()?;
    DateTime::parse_from_rfc3339(s.trim())
        .ok()?
        .timestamp_nanos_opt()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with 0–9 fraction digits.
fn parse_fixed(b: &[u8]) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't')
        || b[13] != b':'
        || b[16] != b':'
        || !(b[b.len() - 1] == b'Z' || b[b.len() - 1] == b'z')
    {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let frac = &b[19..b.len() - 1];
    let frac_ns = match frac {
        [] => 0,
        [b'.', f @ ..] if !f.is_empty() && f.len() <= 9 => {
            digits(f)? * 10i64.pow(9 - f.len() as u32)
        }
        _ => return None,
    };
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    // A leap second (:60) goes to chrono, which folds it into the previous second.
    if d < 1 || d > days_in_month || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // `mo` and `d` were range-checked above.
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + s;
    secs.checked_mul(NS_PER_S)?.checked_add(frac_ns)
}

/// RFC 3339 UTC with seconds (`2026-11-27T08:00:00Z`), for summaries.
pub fn rfc3339_s(unix_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp(
        unix_ns.div_euclid(NS_PER_S),
        unix_ns.rem_euclid(NS_PER_S) as u32,
    )
    .unwrap_or_default()
    .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Formats a UTC time with a chrono format string.
pub fn utc_format(unix_ns: i64, fmt: &str) -> String {
    DateTime::<Utc>::from_timestamp(
        unix_ns.div_euclid(NS_PER_S),
        unix_ns.rem_euclid(NS_PER_S) as u32,
    )
    .unwrap_or_default()
    .format(fmt)
    .to_string()
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
    use proptest::prelude::*;

    const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

    #[test]
    fn fast_path_matches_chrono() {
        assert_eq!(
            parse_rfc3339_ns(b"2026-11-20T00:00:00.000000000Z"),
            Some(T0)
        );
        assert_eq!(parse_rfc3339_ns(b"2026-11-20T00:00:00Z"), Some(T0));
        assert_eq!(
            parse_rfc3339_ns(b"2026-11-20T00:00:01.5Z"),
            Some(T0 + 1_500_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns(b"2026-11-20T01:00:00+01:00"),
            Some(T0),
            "offsets go through chrono"
        );
        assert_eq!(
            parse_rfc3339_ns(b"1969-12-31T23:59:59.999999999Z"),
            Some(-1)
        );
        assert_eq!(parse_rfc3339_ns(b"2026-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ns(b"2026-11-20"), None);
        assert_eq!(parse_rfc3339_ns(b"garbage"), None);
    }

    proptest! {
        #[test]
        fn fixed_form_round_trips(ns in -2_000_000_000_000_000_000i64..4_000_000_000_000_000_000i64) {
            let text = skew_time::format::rfc3339_utc(ns);
            prop_assert_eq!(parse_rfc3339_ns(text.as_bytes()), Some(ns));
        }
    }

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
