//! Where `--csv` rows go: stdout (with a header), or appended to a file of its own (header
//! only when the file is new or empty), opened by [`skew_fs::open_append`]. A file that starts
//! with anything but this header — a drift log of `skew monitor`, say — is refused and left
//! unchanged, as `skew monitor` refuses a log that is not its own. Every row is flushed at
//! once, so a `--watch` run
//! stopped at any moment loses nothing already measured.

use crate::exit::{self, CliError};
use skew_clock::report::{IntervalRecord, CSV_COLUMNS};
use skew_fs::header::{check_header, Header};
use std::fs::File;
use std::io::Write;

/// A CSV destination.
pub enum CsvSink {
    /// Standard output.
    Stdout,
    /// A file opened for appending.
    File {
        /// The path, for messages.
        path: String,
        /// The writer (boxed: it holds its buffer inline).
        writer: Box<csv::Writer<File>>,
    },
}

fn io_error(path: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(exit::IO_ERROR, format!("cannot write CSV to {path}: {e}"))
}

impl CsvSink {
    /// Opens `path` (`-`: stdout) and writes the header where it is needed.
    pub fn open(path: &str) -> Result<CsvSink, CliError> {
        if path == "-" {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(CSV_COLUMNS)
                .and_then(|()| w.flush().map_err(csv::Error::from))
                .map_err(|e| io_error("stdout", e))?;
            return Ok(CsvSink::Stdout);
        }
        // Never through a symlink, nor into another user's file (issue 14.1).
        let file = skew_fs::open_append(std::path::Path::new(path), true)
            .map_err(|e| CliError::new(exit::IO_ERROR, format!("cannot write CSV: {e}")))?;
        let empty =
            match check_header(&file, &CSV_COLUMNS.join(",")).map_err(|e| io_error(path, e))? {
                Header::Empty => true,
                Header::Matches => false,
                Header::Torn | Header::Foreign { .. } => {
                    return Err(CliError::new(
                        exit::DATA_ERR,
                        format!(
                            "refusing to append to {path}: its first line is not the header of \
                         `skew clocks --csv` (is it a drift log?); the file is left unchanged: \
                         give --csv a file of its own"
                        ),
                    ))
                }
            };
        let mut writer = Box::new(csv::Writer::from_writer(file));
        if empty {
            writer
                .write_record(CSV_COLUMNS)
                .and_then(|()| writer.flush().map_err(csv::Error::from))
                .map_err(|e| io_error(path, e))?;
        }
        Ok(CsvSink::File {
            path: path.to_string(),
            writer,
        })
    }

    /// Appends one row and flushes it.
    pub fn write(&mut self, record: &IntervalRecord) -> Result<(), CliError> {
        let fields = record.csv_fields();
        match self {
            CsvSink::Stdout => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(std::io::stdout().lock());
                w.write_record(&fields)
                    .and_then(|()| w.flush().map_err(csv::Error::from))
                    .map_err(|e| io_error("stdout", e))
            }
            CsvSink::File { path, writer } => writer
                .write_record(&fields)
                .and_then(|()| writer.flush().map_err(csv::Error::from))
                .map_err(|e| io_error(path, e)),
        }
    }
}

impl Drop for CsvSink {
    fn drop(&mut self) {
        if let CsvSink::File { writer, .. } = self {
            let _ = writer.flush();
        }
        let _ = std::io::stdout().flush();
    }
}
