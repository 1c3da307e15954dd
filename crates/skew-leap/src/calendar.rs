//! UTC calendar arithmetic without a clock: NTP/Unix/MJD seconds, civil dates, month ends,
//! ISO 8601 formatting and the parser behind `--at`.
//!
//! Instants are integers: Unix seconds (`*_unix_s`), Unix nanoseconds (`*_unix_ns`) or NTP
//! seconds (`*_ntp_s`, era 0: since 1900-01-01 00:00:00 UTC, as the leap-seconds.list counts).
//! Like POSIX time, Unix seconds do not count leap seconds: every day has 86 400 of them, and
//! the inserted second 23:59:60 shares its number with the 23:59:59 before it.

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

pub use skew_time::calendar::{
    civil_from_days, days_from_civil, days_in_month, is_leap_year, CivilDate,
};
pub use skew_time::rfc3339::{parse_instant, InstantError};

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
    skew_time::rfc3339::format_date(unix_s)
}

/// A Unix second as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_s(unix_s: i64) -> String {
    skew_time::rfc3339::format_secs(unix_s)
}

/// A Unix nanosecond as `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (milliseconds only when not zero).
pub fn iso_ns(unix_ns: i64) -> String {
    skew_time::rfc3339::format_ms(unix_ns)
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
    fn formats() {
        assert_eq!(iso_s(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_s(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_ns(1_500_000_000), "1970-01-01T00:00:01.500Z");
        assert_eq!(iso_ns(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_ns(2 * NS), "1970-01-01T00:00:02Z");
    }
}
