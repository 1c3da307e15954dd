//! Any bytes as a drift log: `parse_log` never panics, every row is numbered after the
//! header and within the file, and every error is a reader error naming a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skew_driftlog::{parse_log, LogError};

/// Lines as the CSV reader splits them: ended by `\n`, `\r\n` or a lone `\r`.
fn lines(data: &[u8]) -> u64 {
    let ends = data
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\r' || (b == b'\n' && (i == 0 || data[i - 1] != b'\r')))
        .count();
    1 + ends as u64
}

fuzz_target!(|data: &[u8]| {
    let lines = lines(data);
    match parse_log("fuzz.csv", data) {
        Ok(read) => {
            for (line, _) in &read.rows {
                assert!(*line >= 2 && *line <= lines, "row line {line} of {lines}");
            }
            assert!(read.warnings.len() <= 1);
        }
        Err(LogError::Empty { .. }) => assert!(data.iter().all(u8::is_ascii_whitespace)),
        Err(LogError::UnknownFormat { line, .. }) | Err(LogError::Malformed { line, .. }) => {
            assert!(
                line >= 1 && line <= lines.max(1),
                "error line {line} of {lines}"
            );
        }
        Err(
            e @ (LogError::Io { .. }
            | LogError::Locked { .. }
            | LogError::TooLarge { .. }
            | LogError::Refused(_)
            | LogError::Append { .. }),
        ) => {
            panic!("parsing bytes cannot fail with {e}")
        }
    }
});
