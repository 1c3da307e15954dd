//! Time namespaces (`unshare --time`): a process inside one sees MONOTONIC, MONOTONIC_RAW
//! and BOOTTIME shifted by fixed offsets (never REALTIME). The offsets are listed in
//! `/proc/self/timens_offsets`; BOOTTIME − MONOTONIC then includes their difference, which
//! is not time spent in suspend.
//!
//! Pure: parses the file's contents; [`crate::linux::read_timens_offsets`] reads it.
#![forbid(unsafe_code)]

use serde::Serialize;

/// This process's time-namespace offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TimensOffsets {
    /// Added to MONOTONIC (and MONOTONIC_RAW), ns.
    pub monotonic_ns: i64,
    /// Added to BOOTTIME, ns.
    pub boottime_ns: i64,
}

impl TimensOffsets {
    /// Whether the process runs with shifted clocks.
    pub fn is_shifted(&self) -> bool {
        self.monotonic_ns != 0 || self.boottime_ns != 0
    }

    /// What the namespace adds to BOOTTIME − MONOTONIC, ns.
    pub fn suspend_bias_ns(&self) -> i64 {
        self.boottime_ns - self.monotonic_ns
    }
}

/// Why `/proc/self/timens_offsets` could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse /proc/self/timens_offsets line {line:?}")]
pub struct TimensParseError {
    /// The offending line.
    pub line: String,
}

/// Parses `/proc/self/timens_offsets` (`monotonic <s> <ns>` and `boottime <s> <ns>` lines;
/// older kernels name the clocks by number: 1 and 7).
pub fn parse(text: &str) -> Result<TimensOffsets, TimensParseError> {
    let mut out = TimensOffsets::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let err = || TimensParseError {
            line: line.to_string(),
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            return Err(err());
        }
        let secs: i64 = f[1].parse().map_err(|_| err())?;
        let nanos: i64 = f[2].parse().map_err(|_| err())?;
        let ns = secs
            .checked_mul(1_000_000_000)
            .and_then(|v| v.checked_add(nanos))
            .ok_or_else(err)?;
        match f[0] {
            "monotonic" | "1" => out.monotonic_ns = ns,
            "boottime" | "7" => out.boottime_ns = ns,
            _ => return Err(err()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernel_format() {
        let o =
            parse("monotonic           0         0\nboottime            0         0\n").unwrap();
        assert!(!o.is_shifted());
        let o =
            parse("monotonic        -500         0\nboottime          3600  250000000\n").unwrap();
        assert_eq!(o.monotonic_ns, -500_000_000_000);
        assert_eq!(o.boottime_ns, 3_600_250_000_000);
        assert_eq!(o.suspend_bias_ns(), 4_100_250_000_000);
        assert_eq!(
            parse("1 5 0\n7 6 0").unwrap().suspend_bias_ns(),
            1_000_000_000
        );
        assert!(parse("realtime 1 0").is_err());
        assert!(parse("monotonic x 0").is_err());
        assert!(parse("monotonic 1").is_err());
    }
}
