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
