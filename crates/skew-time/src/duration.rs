//! Parsing of durations and signed second values given on command lines and in configs.

use std::time::Duration;

/// Why a duration or seconds value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text was empty.
    #[error("empty duration")]
    Empty,
    /// The number part was not a non-negative decimal number.
    #[error("invalid number in duration {0:?} (expected e.g. 250ms, 2s, 1.5m)")]
    BadNumber(String),
    /// The unit was not one of ns, us, µs, ms, s, m, h, d.
    #[error("unknown unit {unit:?} in duration {text:?} (use ns, us, ms, s, m, h or d)")]
    BadUnit {
        /// The full text.
        text: String,
        /// The unit found.
        unit: String,
    },
    /// The value does not fit a `Duration` of nanoseconds in an `i64`.
    #[error("duration {0:?} is too large")]
    TooLarge(String),
    /// A minus sign before a number: durations (timeouts, intervals, thresholds, leases)
    /// must not be negative.
    #[error("duration {0:?} must not be negative")]
    Negative(String),
    /// The value is outside the range the setting accepts.
    #[error("{text} is outside {range} (the range this setting accepts)")]
    OutOfRange {
        /// The text given (or the value, formatted).
        text: String,
        /// The accepted range, formatted (`100us..10s`).
        range: DurationRange,
    },
}

/// The durations a setting accepts: `min ..= max`, in nanoseconds.
///
/// Every duration flag and configuration key of skew has one (issue 14.7: a timer slack of
/// `106751d` made `skew pauses` sleep for 292 years): [`DurationRange::parser`] makes the
/// clap value parser that checks it, [`DurationRange::check`] checks a value from elsewhere
/// (a configuration file), and both say the same thing when it is outside.
///
/// ```
/// use std::time::Duration;
/// use skew_time::DurationRange;
/// const SLACK: DurationRange = DurationRange::new(0, 100_000_000);
/// assert_eq!(SLACK.to_string(), "0..100ms");
/// assert!(SLACK.check(Duration::from_millis(5)).is_ok());
/// let e = (SLACK.parser())("106751d").unwrap_err();
/// assert_eq!(e.to_string(), "106751d is outside 0..100ms (the range this setting accepts)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    /// Shortest accepted, ns.
    pub min_ns: i64,
    /// Longest accepted, ns.
    pub max_ns: i64,
}

impl DurationRange {
    /// `min_ns ..= max_ns`.
    pub const fn new(min_ns: i64, max_ns: i64) -> Self {
        DurationRange { min_ns, max_ns }
    }

    /// Whether `ns` is inside.
    pub const fn contains_ns(&self, ns: i64) -> bool {
        ns >= self.min_ns && ns <= self.max_ns
    }

    /// `d` if it is inside, else [`DurationError::OutOfRange`] naming it.
    pub fn check(&self, d: Duration) -> Result<Duration, DurationError> {
        let ns = crate::duration_ns(d);
        if self.contains_ns(ns) {
            Ok(d)
        } else {
            Err(DurationError::OutOfRange {
                text: short(ns),
                range: *self,
            })
        }
    }

    /// Parses `text` ([`parse_duration`]) and checks it.
    pub fn parse(&self, text: &str) -> Result<Duration, DurationError> {
        let d = parse_duration(text)?;
        self.check(d).map_err(|_| DurationError::OutOfRange {
            text: text.trim().to_string(),
            range: *self,
        })
    }

    /// A value parser for clap: `#[arg(value_parser = RANGE.parser())]`.
    pub fn parser(self) -> impl Fn(&str) -> Result<Duration, DurationError> + Clone + Send + Sync {
        move |text: &str| self.parse(text)
    }
}

impl std::fmt::Display for DurationRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", short(self.min_ns), short(self.max_ns))
    }
}

/// A duration in the largest unit that divides it exactly (`0`, `100us`, `10s`, `3650d`),
/// as the command line writes them.
fn short(ns: i64) -> String {
    if ns == 0 {
        return "0".into();
    }
    const UNITS: [(i64, &str); 7] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    let (scale, unit) = UNITS
        .iter()
        .find(|(scale, _)| ns % scale == 0)
        .copied()
        .unwrap_or((1, "ns"));
    format!("{}{unit}", ns / scale)
}

/// Why a rate in parts per million was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PpmError {
    /// Not a number.
    #[error("{0:?} is not a number (expected a rate in ppm such as 15 or 0.5)")]
    NotANumber(String),
    /// NaN or infinite.
    #[error("{0:?} is not a finite number")]
    NotFinite(String),
    /// Below zero.
    #[error("{0:?} is negative: a drift-rate allowance must be zero or more")]
    Negative(String),
}

/// Checks a drift-rate allowance in ppm: finite and not negative (issue 14.9: `probe
/// --lease-drift-ppm` took `-50` and `NaN` while `report` refused them). One rule for every
/// `--*-drift-ppm` flag that bounds an error, and for the library limits that take one.
pub fn check_ppm(ppm: f64) -> Result<f64, PpmError> {
    if !ppm.is_finite() {
        Err(PpmError::NotFinite(ppm.to_string()))
    } else if ppm < 0.0 {
        Err(PpmError::Negative(ppm.to_string()))
    } else {
        Ok(ppm)
    }
}

/// Parses a drift-rate allowance in ppm and checks it with [`check_ppm`]: a value parser
/// for clap (`#[arg(value_parser = skew_time::parse_ppm)]`).
///
/// ```
/// assert_eq!(skew_time::parse_ppm("15").unwrap(), 15.0);
/// assert!(skew_time::parse_ppm("-1").is_err());
/// assert!(skew_time::parse_ppm("NaN").is_err());
/// assert!(skew_time::parse_ppm("inf").is_err());
/// ```
pub fn parse_ppm(text: &str) -> Result<f64, PpmError> {
    let t = text.trim();
    let v: f64 = t
        .parse()
        .map_err(|_| PpmError::NotANumber(text.to_string()))?;
    check_ppm(v).map_err(|e| match e {
        PpmError::NotFinite(_) => PpmError::NotFinite(t.to_string()),
        PpmError::Negative(_) => PpmError::Negative(t.to_string()),
        e => e,
    })
}

/// Parses a duration such as `250ms`, `2s`, `1.5m`, `10us`, `3d` or a bare number of seconds
/// (`2`, `0.25`). Negative values are rejected.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(skew_time::parse_duration("250ms").unwrap(), Duration::from_millis(250));
/// assert_eq!(skew_time::parse_duration("2").unwrap(), Duration::from_secs(2));
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    if let Some(rest) = t.strip_prefix('-') {
        if rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(DurationError::Negative(text.to_string()));
        }
        // Not a number at all (a flag taken as the value, `--lease --json`).
        return Err(DurationError::BadNumber(text.to_string()));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale_ns: f64 = match unit {
        "" | "s" | "sec" | "secs" => 1e9,
        "ns" => 1.0,
        "us" | "µs" | "μs" => 1e3,
        "ms" => 1e6,
        "m" | "min" | "mins" => 60e9,
        "h" => 3600e9,
        "d" => 86400e9,
        _ => {
            return Err(DurationError::BadUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    if num.is_empty() || num.chars().filter(|&c| c == '.').count() > 1 {
        return Err(DurationError::BadNumber(text.to_string()));
    }
    let value: f64 = num
        .parse()
        .map_err(|_| DurationError::BadNumber(text.to_string()))?;
    let ns = (value * scale_ns).round();
    if !ns.is_finite() || ns > i64::MAX as f64 {
        return Err(DurationError::TooLarge(text.to_string()));
    }
    Ok(Duration::from_nanos(ns as u64))
}

/// Parses a signed number of seconds given exactly, such as `-0.037` or `+1.5`, into
/// nanoseconds without going through floating point (so `0.000000001` is exactly 1 ns).
/// A unit suffix (`ms`, `us`, `ns`, `s`) is accepted too.
///
/// ```
/// assert_eq!(skew_time::parse_signed_seconds("-0.037").unwrap(), -37_000_000);
/// assert_eq!(skew_time::parse_signed_seconds("+1.5").unwrap(), 1_500_000_000);
/// assert_eq!(skew_time::parse_signed_seconds("-20ms").unwrap(), -20_000_000);
/// ```
pub fn parse_signed_seconds(text: &str) -> Result<i64, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let (neg, rest) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (num, unit) = rest.split_at(split);
    let digits_after_point: u32 = match unit.trim() {
        "" | "s" => 9,
        "ms" => 6,
        "us" | "µs" | "μs" => 3,
        "ns" => 0,
        u => {
            return Err(DurationError::BadUnit {
                text: text.to_string(),
                unit: u.to_string(),
            })
        }
    };
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    let ok_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !ok_digits(int_part)
        || !ok_digits(frac_part)
    {
        return Err(DurationError::BadNumber(text.to_string()));
    }
    if frac_part.len() as u32 > digits_after_point
        && frac_part[digits_after_point as usize..]
            .chars()
            .any(|c| c != '0')
    {
        return Err(DurationError::BadNumber(format!(
            "{text} (finer than 1 ns)"
        )));
    }
    let scale = 10i128.pow(digits_after_point);
    let int_val: i128 = if int_part.is_empty() {
        0
    } else {
        int_part
            .parse::<i128>()
            .map_err(|_| DurationError::TooLarge(text.to_string()))?
    };
    let mut frac_val: i128 = 0;
    for (i, c) in frac_part
        .chars()
        .take(digits_after_point as usize)
        .enumerate()
    {
        frac_val += (c as i128 - '0' as i128) * 10i128.pow(digits_after_point - 1 - i as u32);
    }
    let total = int_val
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac_val))
        .ok_or_else(|| DurationError::TooLarge(text.to_string()))?;
    let signed = if neg { -total } else { total };
    i64::try_from(signed).map_err(|_| DurationError::TooLarge(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("10µs").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("7ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_duration(" 3 s ").unwrap(), Duration::from_secs(3));
    }

    #[test]
    fn duration_errors() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("-1s"),
            Err(DurationError::Negative("-1s".into()))
        );
        assert_eq!(
            parse_duration("-0.5").unwrap_err().to_string(),
            "duration \"-0.5\" must not be negative"
        );
        assert!(matches!(
            parse_duration("--json"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("5 parsecs"),
            Err(DurationError::BadUnit { .. })
        ));
        assert!(matches!(
            parse_duration("ms"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1e300d"),
            Err(DurationError::BadUnit { .. })
        ));
        assert!(matches!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::TooLarge(_))
        ));
    }

    #[test]
    fn ranges_name_themselves_and_the_value() {
        const R: DurationRange = DurationRange::new(100_000, 10_000_000_000);
        assert_eq!(R.to_string(), "100us..10s");
        assert_eq!(R.parse("1ms").unwrap(), Duration::from_millis(1));
        assert_eq!(R.parse("100us").unwrap(), Duration::from_micros(100));
        assert_eq!(R.parse("10s").unwrap(), Duration::from_secs(10));
        for bad in ["0", "50us", "106751d", "10.000000001s"] {
            let e = R.parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("{bad} is outside 100us..10s (the range this setting accepts)")
            );
        }
        // Syntax errors stay syntax errors.
        assert!(matches!(
            R.parse("soon"),
            Err(DurationError::BadUnit { .. })
        ));
        assert!(matches!(
            R.parse("1.2.3s"),
            Err(DurationError::BadNumber(_))
        ));
        assert_eq!(
            R.check(Duration::MAX).unwrap_err().to_string(),
            "9223372036854775807ns is outside 100us..10s (the range this setting accepts)"
        );
        assert_eq!(
            DurationRange::new(0, 3650 * 86_400_000_000_000).to_string(),
            "0..3650d"
        );
        assert_eq!(
            DurationRange::new(90_000_000_000, 1).to_string(),
            "90s..1ns"
        );
        assert_eq!(short(5_400_000_000_000), "90m");
        let p = R.parser();
        assert!(p("2s").is_ok() && p("20s").is_err());
    }

    #[test]
    fn ppm_is_finite_and_not_negative() {
        assert_eq!(parse_ppm(" 0 ").unwrap(), 0.0);
        assert_eq!(parse_ppm("1e3").unwrap(), 1000.0);
        for (bad, why) in [
            ("-1", "is negative"),
            ("-0.5", "is negative"),
            ("NaN", "not a finite number"),
            ("nan", "not a finite number"),
            ("inf", "not a finite number"),
            ("-inf", "not a finite number"),
            ("1e400", "not a finite number"),
            ("fast", "is not a number"),
            ("", "is not a number"),
        ] {
            let e = parse_ppm(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(check_ppm(f64::NAN).is_err());
        assert!(check_ppm(-0.0).is_ok(), "-0 is zero");
        assert!(check_ppm(1e308).is_ok(), "finite: the arithmetic saturates");
    }

    #[test]
    fn signed_seconds_exact() {
        assert_eq!(parse_signed_seconds("0.000000001").unwrap(), 1);
        assert_eq!(parse_signed_seconds("-0.037").unwrap(), -37_000_000);
        assert_eq!(parse_signed_seconds("1.5").unwrap(), 1_500_000_000);
        assert_eq!(parse_signed_seconds(".25").unwrap(), 250_000_000);
        assert_eq!(parse_signed_seconds("-2.").unwrap(), -2_000_000_000);
        assert_eq!(parse_signed_seconds("20ms").unwrap(), 20_000_000);
        assert_eq!(parse_signed_seconds("-1.5us").unwrap(), -1_500);
        assert_eq!(parse_signed_seconds("1.0000000000").unwrap(), 1_000_000_000);
        assert!(parse_signed_seconds("0.0000000001").is_err());
        assert!(parse_signed_seconds("abc").is_err());
        assert!(parse_signed_seconds("-").is_err());
        assert!(parse_signed_seconds("1e3").is_err());
        assert!(parse_signed_seconds("99999999999").is_err());
    }
}
