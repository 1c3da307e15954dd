//! Reading a small file skew wrote itself (the state of `skew now`) from a directory others
//! may write in: a FIFO planted under its name must not hang a root-run `skew monitor`, and a
//! device or a huge file must not be read whole.

use rustix::fs::{FileType, Mode, OFlags};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a small file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not there (or cannot be opened).
    #[error("{path}: {source}")]
    Open {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Not a regular file (a FIFO would block the read, a device never end).
    #[error("{path}: is not a regular file; refusing to read it")]
    NotRegular {
        /// The path.
        path: PathBuf,
    },
    /// Larger than the caller's limit.
    #[error("{path}: is larger than {limit} bytes; refusing to read it")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit, bytes.
        limit: u64,
    },
    /// Reading failed, or the content is not UTF-8.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl ReadError {
    /// Whether the file is simply missing (no measurement yet, say).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads `path` as text when it is a regular file of at most `limit` bytes. The open does
/// not block (`O_NONBLOCK`: a FIFO is refused, not waited on).
pub fn read_small(path: &Path, limit: u64) -> Result<String, ReadError> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| ReadError::Open {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| ReadError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    if u64::try_from(st.st_size).unwrap_or(u64::MAX) > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|source| ReadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if text.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let d = std::env::temp_dir().join(format!("skew-fs-read-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("state.json");
        std::fs::write(&f, "{}\n").unwrap();
        assert_eq!(read_small(&f, 100).unwrap(), "{}\n");
        let e = read_small(&f, 2).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit: 2, .. }), "{e}");
        let missing = read_small(&d.join("missing"), 100).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        // A FIFO planted under the name: refused at once, not waited on.
        let fifo = d.join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::from_raw_mode(0o666)).unwrap();
        let t0 = std::time::Instant::now();
        let e = read_small(&fifo, 100).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular { .. }), "{e}");
        assert!(t0.elapsed() < std::time::Duration::from_secs(1));
        let e = read_small(&d, 100).unwrap_err();
        assert!(!e.is_not_found(), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
