//! Human formatting of nanosecond quantities, in the style of `chronyc sources`
//! (`+12us`, `-1234ns`, `+4.5ms`).

/// Formats a signed nanosecond value with a sign and an auto-selected unit
/// (`ns`, `us`, `ms`, `s`), keeping about four significant digits: `+12.34us`, `-1.500s`.
pub fn signed(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    format!("{sign}{}", unsigned(ns.unsigned_abs()))
}

/// Formats a non-negative nanosecond magnitude with an auto-selected unit: `34us`, `1.2ms`.
pub fn unsigned(ns: u64) -> String {
    let v = ns as f64;
    // Thresholds at the rounding points, so 999.96us prints as 1.000ms, not 1000.0us.
    let (value, unit) = if ns < 1_000 {
        return format!("{ns}ns");
    } else if v < 999_950.0 {
        (v / 1e3, "us")
    } else if v < 999_950_000.0 {
        (v / 1e6, "ms")
    } else {
        (v / 1e9, "s")
    };
    let decimals = if value >= 99.995 {
        1
    } else if value >= 9.9995 {
        2
    } else {
        3
    };
    format!("{value:.decimals$}{unit}")
}

/// [`unsigned`] of floating-point seconds (rounded to the nearest ns; negative prints 0ns),
/// for values that are kept in seconds for their JSON view.
pub fn unsigned_s(s: f64) -> String {
    unsigned(crate::s_to_ns(s).max(0) as u64)
}

/// [`signed`] of floating-point seconds (rounded to the nearest ns).
pub fn signed_s(s: f64) -> String {
    signed(crate::s_to_ns(s))
}

/// Formats seconds (from nanoseconds) with a fixed 9 decimal places and a sign, as in
/// Nagios lines and CSV: `+0.000123456`.
pub fn seconds_fixed(ns: i64) -> String {
    let sign = if ns < 0 { '-' } else { '+' };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(signed(0), "+0ns");
        assert_eq!(signed(-999), "-999ns");
        assert_eq!(signed(12_345), "+12.35us");
        assert_eq!(signed(1_500_000), "+1.500ms");
        assert_eq!(signed(-250_000_000), "-250.0ms");
        assert_eq!(signed(2_500_000_000), "+2.500s");
        assert_eq!(unsigned(45_000), "45.00us");
        assert_eq!(signed(i64::MIN), "-9223372036.9s");
        // Values that round up into the next unit or decimal step.
        assert_eq!(signed(999_999_640), "+1.000s");
        assert_eq!(unsigned(999_960), "1.000ms");
        assert_eq!(unsigned(99_996), "100.0us");
        assert_eq!(unsigned(9_999_700), "10.00ms");
        assert_eq!(unsigned(999_940), "999.9us");
    }

    #[test]
    fn from_seconds() {
        assert_eq!(unsigned_s(0.0005), "500.0us");
        assert_eq!(unsigned_s(170e-9), "170ns");
        assert_eq!(unsigned_s(-1.0), "0ns");
        assert_eq!(signed_s(-0.0015), "-1.500ms");
        assert_eq!(signed_s(f64::NAN), "+0ns");
    }

    #[test]
    fn fixed_seconds() {
        assert_eq!(seconds_fixed(123_456), "+0.000123456");
        assert_eq!(seconds_fixed(-1_500_000_000), "-1.500000000");
        assert_eq!(seconds_fixed(i64::MIN), "-9223372036.854775808");
    }
}
