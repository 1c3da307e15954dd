//! Reading a drift log whole into [`DriftRow`]s (the generic serde reader, for tests and
//! tools); the rules are [`crate::scan`]'s, shared with fast readers such as `skew report`'s.

use crate::error::{io_err, LogError};
use crate::scan::{scan_log, scan_reader, Header, RawRow, ReadLimits, RowVisitor};
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

/// Reads a drift log file, as a stream within the default [`ReadLimits`].
pub fn read_log(path: &Path) -> Result<LogRead, LogError> {
    let file = std::fs::File::open(path).map_err(io_err(path, "open the drift log"))?;
    parse_reader(&path.display().to_string(), file, ReadLimits::default())
}

/// Parses a drift log from a reader, in blocks, within `limits` (the rules and results of
/// [`parse_log`]).
pub fn parse_reader<R: std::io::Read>(
    label: &str,
    reader: R,
    limits: ReadLimits,
) -> Result<LogRead, LogError> {
    let scanned = scan_reader(label, reader, 1, limits, RowsVisitor::new)?;
    Ok(LogRead {
        rows: scanned.visitors.into_iter().flat_map(|v| v.rows).collect(),
        warnings: scanned.warnings,
    })
}

/// Deserializes whole rows.
struct RowsVisitor {
    headers: csv::ByteRecord,
    rows: Vec<(u64, DriftRow)>,
}

impl RowsVisitor {
    fn new(h: &Header) -> Result<RowsVisitor, String> {
        Ok(RowsVisitor {
            headers: h.names().iter().map(|n| n.as_bytes()).collect(),
            rows: Vec::new(),
        })
    }
}

impl RowVisitor for RowsVisitor {
    fn visit(&mut self, raw: &RawRow<'_>) -> Result<(), String> {
        let record: csv::ByteRecord = (0..raw.len()).map(|i| raw.field(i)).collect();
        let row = record
            .deserialize::<DriftRow>(Some(&self.headers))
            .map_err(|e| e.to_string())?;
        self.rows.push((raw.line(), row));
        Ok(())
    }
}

/// Parses drift-log bytes; `label` names the file in messages. A torn last line (no
/// newline, or too few fields) is skipped with a warning; a bad row anywhere else is an
/// error naming the line. The rules live in [`crate::scan`], shared with fast readers.
pub fn parse_log(label: &str, bytes: &[u8]) -> Result<LogRead, LogError> {
    let scanned = scan_log(label, bytes, 1, RowsVisitor::new)?;
    Ok(LogRead {
        rows: scanned.visitors.into_iter().flat_map(|v| v.rows).collect(),
        warnings: scanned.warnings,
    })
}
