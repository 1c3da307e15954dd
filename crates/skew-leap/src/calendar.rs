//! UTC calendar arithmetic without a clock: NTP/Unix/MJD seconds, civil dates, month ends,
//! ISO 8601 formatting and the parser behind `--at`.
//!
//! Instants are integers: Unix seconds (`*_unix_s`), Unix nanoseconds (`*_unix_ns`) or NTP
//! seconds (`*_ntp_s`, era 0: since 1900-01-01 00:00:00 UTC, as the leap-seconds.list counts).
//! Like POSIX time, Unix seconds do not count leap seconds: every day has 86 400 of them, and
//! the inserted second 23:59:60 shares its number with the 23:59:59 before it.

use thiserror::Error;

/// Seconds from 1900-01-01 (the NTP epoch) to 1970-01-01 (the Unix epoch).
pub const NTP_UNIX_OFFSET_S: i64 = 2_208_988_800;
/// Seconds in a UTC day, as Unix and NTP time count them.
pub const SECS_PER_DAY: i64 = 86_400;
/// The Modified Julian Date of the NTP epoch (1900-01-01): MJD = NTP s / 86 400 + 15 020.
pub const MJD_OF_NTP_EPOCH: i64 = 15_020;
/// Nanoseconds per second.
const NS: i64 = 1_000_000_000;

/// NTP seconds (era 0) to Unix seconds.
pub fn ntp_to_unix_s(ntp_s: i64) -> i64 {
    ntp_s - NTP_UNIX_OFFSET_S
}

/// Unix seconds to NTP seconds (era 0 for instants before 2036-02-07).
pub fn unix_to_ntp_s(unix_s: i64) -> i64 {
    unix_s + NTP_UNIX_OFFSET_S
}

/// The Modified Julian Date of the day holding `ntp_s`.
pub fn mjd_of_ntp_s(ntp_s: i64) -> i64 {
    ntp_s.div_euclid(SECS_PER_DAY) + MJD_OF_NTP_EPOCH
}

/// Unix nanoseconds to whole Unix seconds (floor).
pub fn unix_ns_to_s(unix_ns: i64) -> i64 {
    unix_ns.div_euclid(NS)
}

pub use skew_time::calendar::{civil_from_days, days_from_civil, CivilDate};

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month (1–12) of a year.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// English month name (1–12).
pub fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES[(month.clamp(1, 12) - 1) as usize]
}

/// The civil date of a Unix second.
pub fn date_of_unix_s(unix_s: i64) -> CivilDate {
    civil_from_days(unix_s.div_euclid(SECS_PER_DAY))
}

/// 00:00:00 UTC of the day holding `unix_s`.
pub fn start_of_day_unix_s(unix_s: i64) -> i64 {
    unix_s.div_euclid(SECS_PER_DAY) * SECS_PER_DAY
}

/// 00:00:00 UTC of the first day of the month after the one holding `unix_s`: the instant
/// a leap second at the end of this month would take effect.
pub fn start_of_next_month_unix_s(unix_s: i64) -> i64 {
    let d = date_of_unix_s(unix_s);
    let (y, m) = if d.month == 12 {
        (d.year + 1, 1)
    } else {
        (d.year, d.month + 1)
    };
    days_from_civil(y, m, 1) * SECS_PER_DAY
}

/// Whether `unix_s` falls on the last day of its month (UTC).
pub fn is_last_day_of_month(unix_s: i64) -> bool {
    start_of_day_unix_s(unix_s) + SECS_PER_DAY == start_of_next_month_unix_s(unix_s)
}

/// Whether `unix_s` falls in June or December (UTC): the months at whose end leap seconds
/// have always been applied, and in which servers announce them.
pub fn is_june_or_december(unix_s: i64) -> bool {
    matches!(date_of_unix_s(unix_s).month, 6 | 12)
}

/// The 1 January or 1 July 00:00:00 UTC nearest to `unix_s`: the nearest instant at which a
/// leap second at the end of June or December takes effect.
pub fn nearest_june_december_end_unix_s(unix_s: i64) -> i64 {
    let y = date_of_unix_s(unix_s).year;
    [
        days_from_civil(y, 1, 1),
        days_from_civil(y, 7, 1),
        days_from_civil(y + 1, 1, 1),
    ]
    .into_iter()
    .map(|d| d * SECS_PER_DAY)
    .min_by_key(|l| (l - unix_s).abs())
    .unwrap_or(unix_s)
}

/// A Unix second as `YYYY-MM-DD`.
pub fn iso_date(unix_s: i64) -> String {
    let d = date_of_unix_s(unix_s);
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// A Unix second as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_s(unix_s: i64) -> String {
    let sod = unix_s.rem_euclid(SECS_PER_DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(unix_s),
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// A Unix nanosecond as `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (milliseconds only when not zero).
pub fn iso_ns(unix_ns: i64) -> String {
    let s = unix_ns.div_euclid(NS);
    let ms = unix_ns.rem_euclid(NS) / 1_000_000;
    let base = iso_s(s);
    if ms == 0 {
        base
    } else {
        format!("{}.{ms:03}Z", &base[..base.len() - 1])
    }
}

/// Why an instant could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bad time {text:?}: {reason} (expected e.g. 2016-12-31T12:00:00Z, 2016-12-31 14:00:00+02:00, 2016-12-31 or @1483185600)")]
pub struct InstantError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses an instant into Unix nanoseconds.
///
/// Accepted: RFC 3339 / ISO 8601 `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z`, `±HH:MM`,
/// `±HHMM`, `±HH` or no zone (UTC); a space may replace the `T`; a bare date `YYYY-MM-DD`
/// (00:00:00 UTC); `@SECONDS[.fraction]` (Unix time, as `date -d @…`). A second of 60 (the
/// leap second 23:59:60) is read as the repeated Unix second 23:59:59 it shares.
pub fn parse_instant(text: &str) -> Result<i64, InstantError> {
    let err = |reason: &str| InstantError {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('@') {
        return parse_unix_seconds(rest).ok_or_else(|| {
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
        return (days * SECS_PER_DAY).checked_mul(NS).ok_or_else(range);
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
    let second = second.min(59); // 23:59:60 shares the Unix second of 23:59:59
    let unix_s = days * SECS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - zone_s;
    unix_s
        .checked_mul(NS)
        .and_then(|ns| ns.checked_add(frac_ns))
        .ok_or_else(range)
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

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(37) {
            let d = civil_from_days(days);
            assert_eq!(days_from_civil(d.year, d.month, d.day), days, "{d:?}");
            assert!(d.day >= 1 && d.day <= days_in_month(d.year, d.month));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            civil_from_days(-1),
            CivilDate {
                year: 1969,
                month: 12,
                day: 31
            }
        );
    }

    #[test]
    fn ntp_and_mjd() {
        // 1 Jan 2017, the last leap second's effective date, in the list: 3692217600.
        assert_eq!(ntp_to_unix_s(3_692_217_600), 1_483_228_800);
        assert_eq!(iso_s(ntp_to_unix_s(3_692_217_600)), "2017-01-01T00:00:00Z");
        assert_eq!(unix_to_ntp_s(1_483_228_800), 3_692_217_600);
        // MJD of 1 Jan 2017 is 57754.
        assert_eq!(mjd_of_ntp_s(3_692_217_600), 57_754);
        // The installed list's expiry: 2026-06-28.
        assert_eq!(iso_date(ntp_to_unix_s(3_991_593_600)), "2026-06-28");
        assert_eq!(iso_date(ntp_to_unix_s(3_960_835_200)), "2025-07-07");
    }

    #[test]
    fn month_ends() {
        let t = parse_instant("2016-12-31T12:00:00Z").unwrap() / NS;
        assert!(is_last_day_of_month(t));
        assert!(is_june_or_december(t));
        assert_eq!(iso_s(start_of_next_month_unix_s(t)), "2017-01-01T00:00:00Z");
        assert_eq!(
            iso_s(nearest_june_december_end_unix_s(t)),
            "2017-01-01T00:00:00Z"
        );
        let t = parse_instant("2024-02-29T23:59:59Z").unwrap() / NS;
        assert!(is_last_day_of_month(t));
        assert!(!is_june_or_december(t));
        assert_eq!(iso_s(start_of_next_month_unix_s(t)), "2024-03-01T00:00:00Z");
        let t = parse_instant("2023-02-28T00:00:00Z").unwrap() / NS;
        assert!(is_last_day_of_month(t));
        let t = parse_instant("2016-06-29T23:00:00Z").unwrap() / NS;
        assert!(!is_last_day_of_month(t));
        assert_eq!(
            iso_s(nearest_june_december_end_unix_s(t)),
            "2016-07-01T00:00:00Z"
        );
        let t = parse_instant("2016-03-01T00:00:00Z").unwrap() / NS;
        assert_eq!(
            iso_s(nearest_june_december_end_unix_s(t)),
            "2016-01-01T00:00:00Z"
        );
        assert_eq!(month_name(11), "November");
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

    #[test]
    fn formats() {
        assert_eq!(iso_s(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_s(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_ns(1_500_000_000), "1970-01-01T00:00:01.500Z");
        assert_eq!(iso_ns(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_ns(2 * NS), "1970-01-01T00:00:02Z");
    }

    proptest::proptest! {
        /// `--at` never panics, and what it formats it parses back.
        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse_instant(&text);
        }

        #[test]
        fn iso_round_trip(unix_s in -9_000_000_000i64..9_000_000_000i64) {
            proptest::prop_assert_eq!(parse_instant(&iso_s(unix_s)), Ok(unix_s * NS));
        }
    }
}
