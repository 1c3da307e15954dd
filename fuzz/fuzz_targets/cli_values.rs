//! Any text as the value of a duration, drift-rate or size setting (flags and configuration
//! keys, issue 14.7 and 14.9): `skew_time::parse_duration` and `DurationRange::parse` (with
//! any range), `skew_time::parse_ppm`, `skew_driftlog::scan::parse_size`. Never a panic;
//! an accepted duration lies inside its range, an accepted rate is finite and not negative,
//! an accepted size is above zero and equals its digits times the unit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skew_time::DurationRange;

fuzz_target!(|input: (i64, i64, &str)| {
    let (a, b, text) = input;
    let range = DurationRange::new(a.min(b), a.max(b));
    if let Ok(d) = skew_time::parse_duration(text) {
        assert!(d.as_nanos() <= i64::MAX as u128);
        let ns = skew_time::duration_ns(d);
        assert_eq!(range.parse(text).is_ok(), range.contains_ns(ns), "{text:?} in {range}");
    } else {
        assert!(range.parse(text).is_err());
    }
    if let Ok(d) = range.parse(text) {
        assert!(range.contains_ns(skew_time::duration_ns(d)), "{text:?} outside {range}");
    }
    if let Ok(ppm) = skew_time::parse_ppm(text) {
        assert!(ppm.is_finite() && ppm >= 0.0, "{text:?} gave {ppm}");
    }
    if let Ok(size) = skew_driftlog::scan::parse_size(text) {
        assert!(size > 0);
        let digits: String = text.trim().chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits.parse().unwrap();
        assert_eq!(size % n, 0, "{text:?} gave {size}");
    }
});
