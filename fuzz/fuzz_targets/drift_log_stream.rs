//! Any bytes as a drift log read as a stream (`skew_driftlog::parse_reader`, what `skew
//! report` and `read_log` use since issue 14.4), handed out in reads of any size, within
//! any limits: never a panic; within the default limits, exactly what the in-memory reader
//! (`parse_log`) gives; within small limits, either that, or a refusal that the limits
//! explain (the file is larger than `max_bytes`, or a record — a line, or several joined by
//! a quoted field — longer than `max_line_bytes`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use skew_driftlog::{parse_log, parse_reader, LogError, ReadLimits};

/// Hands out at most `step` bytes per read.
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 3 {
        return;
    }
    let (knobs, data) = input.split_at(3);
    let step = 1 + usize::from(knobs[0]);
    let bytes = parse_log("fuzz.csv", data).map_err(|e| e.to_string());
    let stream = parse_reader("fuzz.csv", Trickle(data, step), ReadLimits::default())
        .map_err(|e| e.to_string());
    if data.len() < 60_000 {
        assert_eq!(stream, bytes, "step {step}");
    }
    let limits = ReadLimits {
        max_bytes: 1 + u64::from(knobs[1]) * 16,
        max_line_bytes: 1 + usize::from(knobs[2]),
    };
    match parse_reader("fuzz.csv", Trickle(data, step), limits) {
        Ok(read) => assert_eq!(Ok(read), parse_log("fuzz.csv", data).map_err(|e| e.to_string())),
        Err(LogError::TooLarge { limit, .. }) => {
            assert_eq!(limit, limits.max_bytes);
            assert!(data.len() as u64 > limit, "{} bytes, limit {limit}", data.len());
        }
        Err(e) if e.to_string().contains("longer than") => {
            let longest = data
                .split(|&b| b == b'\n')
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0);
            // A record is a line, or several when a quoted field spans line ends.
            assert!(
                longest > limits.max_line_bytes || data.contains(&b'"'),
                "{e}: longest line {longest}"
            );
        }
        Err(e @ (LogError::Io { .. } | LogError::Locked { .. } | LogError::Refused(_) | LogError::Append { .. })) => {
            panic!("reading bytes cannot fail with {e}")
        }
        Err(e) => assert_eq!(Err(e.to_string()), bytes),
    }
});
