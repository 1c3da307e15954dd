//! skew's drift log: one CSV file that cron runs of `skew monitor` append to and `skew
//! report` reads.
//!
//! * [`schema`]: the version, every column defined once (the [`DriftRow`] fields, the header
//!   and [`Column`] come from one list), and the typed values (`kind`, `leap`, and each
//!   vocabulary of `status`);
//! * [`scan`]: the rules every reader shares (header, schema version, line ends, field
//!   counts, a torn last line skipped with a warning, errors naming file and line), in one
//!   pass over bytes or over a stream in blocks, within [`ReadLimits`] (size, line length);
//! * [`read`]: whole rows through serde, over [`scan`];
//! * [`append`]: appends under an exclusive `flock`, cutting a torn last line first, fsynced;
//!   a log begun under one of the [`EARLIER_HEADERS`] keeps its header and shorter rows;
//! * [`error`]: what went wrong, naming the file and line.
//!
//! Arrows: `append` and `read` use `scan` and `schema`; `scan` uses `schema`; all use
//! `error`. No `unsafe`; the only system calls are std's file operations and `flock`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod append;
pub mod error;
pub mod read;
pub mod scan;
pub mod schema;

pub use append::{append_rows, AppendOutcome};
pub use error::LogError;
pub use read::{parse_log, parse_reader, read_log, LogRead};
pub use scan::{ReadLimits, DEFAULT_MAX_LOG_BYTES, MAX_LINE_BYTES};
pub use schema::{
    header_line, header_width, AgreementStatus, Column, DriftRow, Kind, Leap, LeapListStatus,
    COLUMNS, EARLIER_HEADERS, SCHEMA_VERSION,
};
