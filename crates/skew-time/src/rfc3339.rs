//! RFC 3339 / ISO 8601 UTC timestamps, in and out: the one place skew formats and parses
//! them (drift-log run times, JSON `time` fields, `--at`, `--since`, `--leap-at`, labels).
//!
//! Formatting is exact integer arithmetic for any instant (proleptic Gregorian calendar, no
//! leap seconds, as CLOCK_REALTIME counts). Parsing has three strictnesses, each kept for
//! the callers that documented it:
//!
//! * [`parse_ns`]: strict RFC 3339 (the drift log's own `…T01:02:03.000000004Z` on a fast
//!   path, anything else, offsets included, through chrono);
//! * [`parse_instant`]: lenient ISO 8601 for humans (`2016-12-31 14:00+02`, a bare date,
//!   `@SECONDS`); the leap second 23:59:60 reads as the Unix second it shares;
//! * [`parse_date`]: `YYYY-MM-DD` at midnight UTC.

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};
use chrono::{DateTime, NaiveDate, Utc};

const NS: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// `YYYY-MM-DDTHH:MM:SS` of a Unix second (no zone).
fn date_time(unix_s: i64) -> String {
    let sod = unix_s.rem_euclid(SECS_PER_DAY);
    format!(
        "{}T{:02}:{:02}:{:02}",
        format_date(unix_s),
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// A Unix second as `YYYY-MM-DD`.
pub fn format_date(unix_s: i64) -> String {
    let d = civil_from_days(unix_s.div_euclid(SECS_PER_DAY));
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// A Unix second as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_secs(unix_s: i64) -> String {
    format!("{}Z", date_time(unix_s))
}

/// Nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (the fraction cut off).
pub fn format_s(unix_ns: i64) -> String {
    format_secs(unix_ns.div_euclid(NS))
}

/// Nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS[.mmm]Z`: milliseconds (cut,
/// not rounded) only when they are not zero.
pub fn format_ms(unix_ns: i64) -> String {
    let s = unix_ns.div_euclid(NS);
    let ms = unix_ns.rem_euclid(NS) / 1_000_000;
    if ms == 0 {
        format_secs(s)
    } else {
        format!("{}.{ms:03}Z", date_time(s))
    }
}

/// Nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` (microseconds, cut).
pub fn format_us(unix_ns: i64) -> String {
    let us = unix_ns.rem_euclid(NS) / 1_000;
    format!("{}.{us:06}Z", date_time(unix_ns.div_euclid(NS)))
}

/// Nanoseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, as the drift log
/// and JSON outputs write instants. Works for any `i64`, also before 1970.
pub fn format_ns(unix_ns: i64) -> String {
    let ns = unix_ns.rem_euclid(NS);
    format!("{}.{ns:09}Z", date_time(unix_ns.div_euclid(NS)))
}

/// Formats a UTC instant with a strftime-style format string (`%Y-%m-%d %H:%M`).
pub fn strftime(unix_ns: i64, fmt: &str) -> String {
    DateTime::<Utc>::from_timestamp(unix_ns.div_euclid(NS), unix_ns.rem_euclid(NS) as u32)
        .unwrap_or_default()
        .format(fmt)
        .to_string()
}

fn digits_i64(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Parses a strict RFC 3339 timestamp to ns since the Unix epoch. The drift log's own form
/// (`2026-11-27T01:02:03.000000004Z`, 0–9 fraction digits) takes a fast path; anything
/// else (offsets, a leap second) goes through chrono.
pub fn parse_ns(text: &[u8]) -> Option<i64> {
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
    let (y, mo, d) = (
        digits_i64(&b[0..4])?,
        digits_i64(&b[5..7])?,
        digits_i64(&b[8..10])?,
    );
    let (h, mi, s) = (
        digits_i64(&b[11..13])?,
        digits_i64(&b[14..16])?,
        digits_i64(&b[17..19])?,
    );
    let frac = &b[19..b.len() - 1];
    let frac_ns = match frac {
        [] => 0,
        [b'.', f @ ..] if !f.is_empty() && f.len() <= 9 => {
            digits_i64(f)? * 10i64.pow(9 - f.len() as u32)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) {
        return None;
    }
    // A leap second (:60) goes to chrono.
    if d < 1 || d > i64::from(days_in_month(y, mo as u32)) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let secs = days_from_civil(y, mo as u32, d as u32) * SECS_PER_DAY + h * 3600 + mi * 60 + s;
    secs.checked_mul(NS)?.checked_add(frac_ns)
}

/// Parses `YYYY-MM-DD` (as chrono's `%Y-%m-%d` reads it) to midnight UTC, ns since the Unix
/// epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp_nanos_opt()
}

/// Why an instant could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad time {text:?}: {reason} (expected e.g. 2016-12-31T12:00:00Z, 2016-12-31 14:00:00+02:00, 2016-12-31 or @1483185600)")]
pub struct InstantError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses an instant written by a person into Unix nanoseconds.
///
/// Accepted: RFC 3339 / ISO 8601 `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z`, `±HH:MM`,
/// `±HHMM`, `±HH` or no zone (UTC); a space may replace the `T`; a bare date `YYYY-MM-DD`
/// (00:00:00 UTC); `@SECONDS[.fraction]` (Unix time, as `date -d @…`). A second of 60 (the
/// leap second 23:59:60) is read as the repeated Unix second 23:59:59 it shares; use
/// [`parse_instant_leap`] to know that it was one.
pub fn parse_instant(text: &str) -> Result<i64, InstantError> {
    parse_instant_leap(text).map(|p| p.unix_ns)
}

/// An instant as [`parse_instant_leap`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedInstant {
    /// Unix nanoseconds (a second of 60 shares the Unix second before it).
    pub unix_ns: i64,
    /// The text named a second 60 (`23:59:60` UTC, or the same instant in another zone): a
    /// leap second, which exists only where one was inserted. Its end, the start of the
    /// next UTC day, is `unix_ns / 1e9` rounded down, plus one second.
    pub leap_second: bool,
}

/// [`parse_instant`], also saying whether the text named a second 60.
pub fn parse_instant_leap(text: &str) -> Result<ParsedInstant, InstantError> {
    let err = |reason: &str| InstantError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('@') {
        return parse_unix_seconds(rest)
            .map(|unix_ns| ParsedInstant {
                unix_ns,
                leap_second: false,
            })
            .ok_or_else(|| {
                err("not a number of seconds after @ (within ±9.2e9, years 1678 to 2261)")
            });
    }
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(err("the date must be YYYY-MM-DD"));
    }
    let year = digits(&b[0..4]).ok_or_else(|| err("bad year"))? as i64;
    let month = digits(&b[5..7]).ok_or_else(|| err("bad month"))?;
    let day = digits(&b[8..10]).ok_or_else(|| err("bad day"))?;
    if !(1..=12).contains(&month) {
        return Err(err("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(err("day out of range for that month"));
    }
    let days = days_from_civil(year, month, day);
    let range = || err("out of range (years 1678 to 2261)");
    let mut rest = &b[10..];
    if rest.is_empty() {
        return (days * SECS_PER_DAY)
            .checked_mul(NS)
            .map(|unix_ns| ParsedInstant {
                unix_ns,
                leap_second: false,
            })
            .ok_or_else(range);
    }
    if !matches!(rest[0], b'T' | b't' | b' ') {
        return Err(err("expected T or a space after the date"));
    }
    rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return Err(err("the time must be HH:MM[:SS[.fraction]]"));
    }
    let hour = digits(&rest[0..2]).ok_or_else(|| err("bad hour"))?;
    let minute = digits(&rest[3..5]).ok_or_else(|| err("bad minute"))?;
    rest = &rest[5..];
    let mut second = 0;
    let mut frac_ns = 0;
    if rest.first() == Some(&b':') {
        if rest.len() < 3 {
            return Err(err("bad second"));
        }
        second = digits(&rest[1..3]).ok_or_else(|| err("bad second"))?;
        rest = &rest[3..];
        if matches!(rest.first(), Some(b'.') | Some(b',')) {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(err("empty fraction of a second"));
            }
            frac_ns = fraction_ns(&rest[1..1 + n]);
            rest = &rest[1 + n..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 || (second == 60 && minute != 59) {
        return Err(err("time of day out of range"));
    }
    let zone_s = parse_zone(rest).ok_or_else(|| err("bad time zone (use Z, +HH:MM or -HH:MM)"))?;
    let leap_second = second == 60;
    let second = second.min(59); // 23:59:60 shares the Unix second of 23:59:59
    let unix_s = days * SECS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - zone_s;
    if leap_second && (unix_s + 1).rem_euclid(SECS_PER_DAY) != 0 {
        return Err(err(
            "a second 60 exists only at 23:59:60 UTC, where a leap second is inserted",
        ));
    }
    let unix_ns = unix_s
        .checked_mul(NS)
        .and_then(|ns| ns.checked_add(frac_ns))
        .ok_or_else(range)?;
    Ok(ParsedInstant {
        unix_ns,
        leap_second,
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0')))
}

fn fraction_ns(b: &[u8]) -> i64 {
    let mut ns = 0i64;
    for i in 0..9 {
        ns = ns * 10 + b.get(i).map_or(0, |c| i64::from(c - b'0'));
    }
    ns
}

/// The zone suffix as seconds east of UTC; `None` when malformed.
fn parse_zone(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let s = i64::from(h * 3600 + m * 60);
            Some(if *sign == b'-' { -s } else { s })
        }
        _ => None,
    }
}

fn parse_unix_seconds(text: &str) -> Option<i64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) || int.len() > 12 {
        return None;
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let s: i64 = int.parse().ok()?;
    let ns = s
        .checked_mul(NS)?
        .checked_add(fraction_ns(frac.as_bytes()))?;
    Some(if neg { -ns } else { ns })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

    #[test]
    fn formats_ns() {
        assert_eq!(format_ns(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_ns(1_483_228_800_000_000_000),
            "2017-01-01T00:00:00.000000000Z"
        );
        assert_eq!(
            format_ns(951_782_400_123_456_789),
            "2000-02-29T00:00:00.123456789Z"
        );
        assert_eq!(format_ns(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            format_ns(4_102_444_799_000_000_000),
            "2099-12-31T23:59:59.000000000Z"
        );
        assert_eq!(
            format_ns(1_795_743_118_057_345_536),
            "2026-11-27T01:31:58.057345536Z"
        );
    }

    #[test]
    fn formats_coarser() {
        assert_eq!(format_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_secs(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_ms(1_500_000_000), "1970-01-01T00:00:01.500Z");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_ms(2 * NS), "1970-01-01T00:00:02Z");
        assert_eq!(format_s(T0 + 999), "2026-11-20T00:00:00Z");
        assert_eq!(format_us(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_us(1_999), "1970-01-01T00:00:00.000001Z");
        assert_eq!(format_us(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(format_date(1_483_228_799), "2016-12-31");
        assert_eq!(strftime(T0, "%m-%d %H:%M"), "11-20 00:00");
    }

    /// The hand formatters agree with chrono's, whose output they replaced.
    #[test]
    fn formatters_match_chrono() {
        use chrono::SecondsFormat;
        for ns in [0, -1, 1_999, T0 + 123_456_789, 4_102_444_799_999_999_999] {
            let c = DateTime::<Utc>::from_timestamp(ns.div_euclid(NS), ns.rem_euclid(NS) as u32)
                .unwrap();
            assert_eq!(
                format_us(ns),
                c.to_rfc3339_opts(SecondsFormat::Micros, true)
            );
            assert_eq!(format_s(ns), c.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
    }

    #[test]
    fn fast_path_matches_chrono() {
        assert_eq!(parse_ns(b"2026-11-20T00:00:00.000000000Z"), Some(T0));
        assert_eq!(parse_ns(b"2026-11-20T00:00:00Z"), Some(T0));
        assert_eq!(
            parse_ns(b"2026-11-20T00:00:01.5Z"),
            Some(T0 + 1_500_000_000)
        );
        assert_eq!(
            parse_ns(b"2026-11-20T01:00:00+01:00"),
            Some(T0),
            "offsets go through chrono"
        );
        assert_eq!(parse_ns(b"1969-12-31T23:59:59.999999999Z"), Some(-1));
        assert_eq!(parse_ns(b"2026-02-29T00:00:00Z"), None);
        assert_eq!(parse_ns(b"2026-11-20"), None);
        assert_eq!(parse_ns(b"garbage"), None);
        assert_eq!(parse_date("2026-11-20"), Some(T0));
        assert_eq!(parse_date("2026-13-01"), None);
    }

    proptest! {
        #[test]
        fn fixed_form_round_trips(ns in -2_000_000_000_000_000_000i64..4_000_000_000_000_000_000i64) {
            let text = format_ns(ns);
            prop_assert_eq!(parse_ns(text.as_bytes()), Some(ns));
        }

        /// `--at` never panics, and what it formats it parses back.
        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse_instant(&text);
        }

        #[test]
        fn iso_round_trip(unix_s in -9_000_000_000i64..9_000_000_000i64) {
            prop_assert_eq!(parse_instant(&format_secs(unix_s)), Ok(unix_s * NS));
        }
    }

    #[test]
    fn parses_instants() {
        let leap_day_noon = 1_483_185_600 * NS;
        for text in [
            "2016-12-31T12:00:00Z",
            "2016-12-31t12:00:00z",
            "2016-12-31 12:00:00",
            "2016-12-31T12:00",
            "2016-12-31T14:00:00+02:00",
            "2016-12-31T14:00:00+0200",
            "2016-12-31T14:00:00+02",
            "2016-12-31T07:00:00-05:00",
            "@1483185600",
            " @1483185600.000 ",
        ] {
            assert_eq!(parse_instant(text), Ok(leap_day_noon), "{text}");
        }
        assert_eq!(
            parse_instant("2016-12-31").unwrap(),
            1_483_142_400 * NS,
            "a bare date is midnight UTC"
        );
        assert_eq!(
            parse_instant("2016-12-31T12:00:00.25Z").unwrap(),
            leap_day_noon + 250_000_000
        );
        assert_eq!(
            parse_instant("@1483185600.123456789").unwrap(),
            leap_day_noon + 123_456_789
        );
        assert_eq!(parse_instant("@-1.5").unwrap(), -1_500_000_000);
        // The leap second itself shares the Unix second of 23:59:59.
        assert_eq!(
            parse_instant("2016-12-31T23:59:60Z").unwrap(),
            parse_instant("2016-12-31T23:59:59Z").unwrap()
        );
        // ... and says it was one; the same second in another zone too.
        let leap = parse_instant_leap("2016-12-31T23:59:60.5Z").unwrap();
        assert!(leap.leap_second);
        assert_eq!(leap.unix_ns, 1_483_228_799_500_000_000);
        let east = parse_instant_leap("2017-01-01T01:59:60.5+02:00").unwrap();
        assert_eq!(east, leap);
        assert!(
            !parse_instant_leap("2016-12-31T23:59:59.5Z")
                .unwrap()
                .leap_second
        );
        // A second 60 anywhere but at 23:59:60 UTC does not exist.
        for bad in ["2016-12-31T12:59:60Z", "2016-12-31T23:59:60+02:00"] {
            let e = parse_instant_leap(bad).unwrap_err();
            assert!(e.reason.contains("only at 23:59:60 UTC"), "{bad}: {e}");
        }
        for bad in [
            "",
            "yesterday",
            "2016-13-01",
            "2016-02-30",
            "2015-02-29",
            "2016-12-31X12:00",
            "2016-12-31T24:00:00Z",
            "2016-12-31T12:60:00Z",
            "2016-12-31T12:00:60Z",
            "2016-12-31T12:00:00.Z",
            "2016-12-31T12:00:00+25:00",
            "2016-12-31T12:00:00 UTC",
            "@",
            "@12x",
            "@1.2.3",
        ] {
            let e = parse_instant(bad).unwrap_err();
            assert!(e.to_string().contains("expected e.g."), "{bad}: {e}");
        }
        assert!(parse_instant("2016-02-29").is_ok());
        // Beyond i64 nanoseconds: an error, not an overflow.
        for far in [
            "9999-12-31",
            "9999-12-31T23:59:59Z",
            "1000-01-01",
            "@999999999999",
            "@-99999999999",
        ] {
            let e = parse_instant(far).unwrap_err();
            assert!(e.reason.contains("1678 to 2261"), "{far}: {e}");
        }
        assert!(parse_instant("2261-12-31T23:59:59Z").is_ok());
    }
}
