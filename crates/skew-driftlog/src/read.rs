//! Reading a drift log whole into [`DriftRow`]s (the generic serde reader, for tests and
//! tools); the rules are [`crate::scan`]'s, shared with fast readers such as `skew report`'s.

use crate::error::{io_err, LogError};
use crate::scan::{scan_log, RawRow, RowVisitor};
use crate::schema::DriftRow;
use std::path::Path;

/// Rows read from a drift log, with their line numbers, and warnings (a torn last line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRead {
    /// (line number, row), in file order.
    pub rows: Vec<(u64, DriftRow)>,
    /// Things skipped, as text naming the file and line.
    pub warnings: Vec<String>,
}

/// Reads a drift log file.
pub fn read_log(path: &Path) -> Result<LogRead, LogError> {
    let bytes = std::fs::read(path).map_err(io_err(path, "read the drift log"))?;
    parse_log(&path.display().to_string(), &bytes)
}

/// Parses drift-log bytes; `label` names the file in messages. A torn last line (no
/// newline, or too few fields) is skipped with a warning; a bad row anywhere else is an
/// error naming the line. The rules live in [`crate::scan`], shared with fast readers.
pub fn parse_log(label: &str, bytes: &[u8]) -> Result<LogRead, LogError> {
    struct Rows {
        headers: csv::ByteRecord,
        rows: Vec<(u64, DriftRow)>,
    }
    impl RowVisitor for Rows {
        fn visit(&mut self, raw: &RawRow<'_>) -> Result<(), String> {
            let record: csv::ByteRecord = (0..raw.len()).map(|i| raw.field(i)).collect();
            let row = record
                .deserialize::<DriftRow>(Some(&self.headers))
                .map_err(|e| e.to_string())?;
            self.rows.push((raw.line(), row));
            Ok(())
        }
    }
    let scanned = scan_log(label, bytes, 1, |h| {
        Ok(Rows {
            headers: h.names().iter().map(|n| n.as_bytes()).collect(),
            rows: Vec::new(),
        })
    })?;
    Ok(LogRead {
        rows: scanned.visitors.into_iter().flat_map(|v| v.rows).collect(),
        warnings: scanned.warnings,
    })
}
