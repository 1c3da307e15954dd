//! Why the drift log could not be written or read: one error type for the appender and
//! every reader, naming the file (and the line, for what is in it).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the drift log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// An operating-system error, with what was being done.
    #[error("{path}: cannot {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done ("open", "write", "fsync"...).
        action: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The file was refused before anything was written (a symlink, not a regular file,
    /// another user's, other names).
    #[error(transparent)]
    Refused(#[from] skew_fs::AppendError),
    /// Writing the rows (or flushing them) failed; the file was cut back to its length
    /// before the append when `rolled_back`, so no part of the run is left in it.
    #[error(
        "{path}: cannot {action}: {source}{}",
        if *rolled_back { " (none of this run's rows were kept)" } else { " (and cutting back this run's partial rows failed too)" }
    )]
    Append {
        /// The file.
        path: PathBuf,
        /// What failed ("append to the drift log", "fsync the drift log").
        action: &'static str,
        /// The error.
        source: std::io::Error,
        /// Whether the file was cut back to where the append started.
        rolled_back: bool,
    },
    /// Another process held the lock for too long.
    #[error("{path}: still locked by another run after {waited:?}")]
    Locked {
        /// The file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The file holds nothing.
    #[error("{path}: empty drift log (no header, no rows)")]
    Empty {
        /// The file.
        path: String,
    },
    /// The file is not a drift log of a schema this program understands.
    #[error("{path}:{line}: not a skew drift log: {reason}")]
    UnknownFormat {
        /// The file.
        path: String,
        /// The line (1-based).
        line: u64,
        /// Why.
        reason: String,
    },
    /// The file (decompressed) is larger than the reader's limit.
    #[error(
        "{path}: more than the limit of {limit} bytes: not read (a decompression bomb or not a drift log? `skew report --max-log-bytes` raises the limit)"
    )]
    TooLarge {
        /// The file.
        path: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// A row in the middle of the file cannot be read.
    #[error("{path}:{line}: malformed row: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// The line (1-based).
        line: u64,
        /// Why.
        reason: String,
    },
}

pub(crate) fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}
