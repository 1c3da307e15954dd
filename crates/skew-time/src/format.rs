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

/// Both ends of an interval `[lo_ns, hi_ns]`, signed, in the unit [`signed`] would pick for
/// the larger end, rounded outward (the lower end down, the upper end up, so the printed
/// interval always holds the true one), with decimals down to a step no larger than the
/// interval's width (down to the nanosecond): the ends of an interval that is not a point
/// always differ, and the rounding at most triples its width: `[-287.12ms, -287.09ms]`,
/// never `[-287.1ms, -287.1ms]`.
pub fn signed_interval(lo_ns: i64, hi_ns: i64) -> (String, String) {
    let (lo, hi) = (lo_ns.min(hi_ns), lo_ns.max(hi_ns));
    let mag = lo.unsigned_abs().max(hi.unsigned_abs());
    let v = mag as f64;
    let (unit_ns, unit, max_decimals): (i128, &str, u32) = if mag < 1_000 {
        (1, "ns", 0)
    } else if v < 999_950.0 {
        (1_000, "us", 3)
    } else if v < 999_950_000.0 {
        (1_000_000, "ms", 6)
    } else {
        (1_000_000_000, "s", 9)
    };
    let value = v / unit_ns as f64;
    let first = if unit_ns == 1 {
        0
    } else if value >= 99.995 {
        1
    } else if value >= 9.9995 {
        2
    } else {
        3
    };
    let text = |k: i128, d: u32| {
        let p = 10i128.pow(d);
        let sign = if k < 0 { '-' } else { '+' };
        let a = k.abs();
        if d == 0 {
            format!("{sign}{a}{unit}")
        } else {
            format!(
                "{sign}{}.{:0width$}{unit}",
                a / p,
                a % p,
                width = d as usize
            )
        }
    };
    let (lo, hi) = (i128::from(lo), i128::from(hi));
    let mut d = first.min(max_decimals);
    loop {
        let q = unit_ns / 10i128.pow(d);
        let k_lo = lo.div_euclid(q);
        let k_hi = -(-hi).div_euclid(q);
        if q <= hi - lo || lo == hi || d >= max_decimals {
            return (text(k_lo, d), text(k_hi, d));
        }
        d += 1;
    }
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
    fn intervals_are_rounded_outward_and_never_collapse() {
        let i = |a, b| {
            let (x, y) = signed_interval(a, b);
            format!("[{x}, {y}]")
        };
        // The reported case: a ~14 µs wide agreement around -287.1 ms.
        assert_eq!(i(-287_112_345, -287_098_765), "[-287.12ms, -287.09ms]");
        assert_eq!(
            i(-287_100_003, -287_100_000),
            "[-287.100003ms, -287.100000ms]"
        );
        assert_eq!(
            i(-287_100_000, -287_100_000),
            "[-287.1ms, -287.1ms]",
            "a point"
        );
        assert_eq!(i(-2_000, 3_000), "[-2.000us, +3.000us]");
        assert_eq!(i(1_500, 1_501), "[+1.500us, +1.501us]");
        assert_eq!(i(5, 7), "[+5ns, +7ns]");
        assert_eq!(
            i(1_000_000_001, 1_000_000_002),
            "[+1.000000001s, +1.000000002s]"
        );
        assert_eq!(i(i64::MIN, i64::MAX), "[-9223372036.9s, +9223372036.9s]");
        // Outward: the printed ends hold the true ones.
        for (a, b) in [
            (-287_112_345i64, -287_098_765i64),
            (1_234_567, 1_234_999),
            (-5_555, 5_555),
        ] {
            let (x, y) = signed_interval(a, b);
            let parse = |t: &str| {
                let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
                    (n, 1e6)
                } else if let Some(n) = t.strip_suffix("us") {
                    (n, 1e3)
                } else if let Some(n) = t.strip_suffix("ns") {
                    (n, 1.0)
                } else {
                    (t.strip_suffix('s').unwrap(), 1e9)
                };
                num.parse::<f64>().unwrap() * scale
            };
            assert!(
                parse(&x) <= a as f64 + 1e-6 && parse(&y) >= b as f64 - 1e-6,
                "{a} {b}: {x} {y}"
            );
        }
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
