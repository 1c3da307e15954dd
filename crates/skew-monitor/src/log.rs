//! The drift log on disk: appends that never interleave and survive `kill -9`, and reads
//! that tell a torn last line from a damaged file.
//!
//! Appending takes an exclusive advisory lock (`flock`), so overlapping cron runs queue.
//! Under the lock, a last line without its newline (a run killed mid-write) is cut off —
//! it was never a complete row — then the run's rows are written in one `write` and the
//! file is fsynced before the lock is released. A missing file or an emptied one (log
//! rotation by rename or copytruncate) gets a fresh header. A file whose header is not this
//! schema's is refused rather than mixed.

use crate::scan::{scan_log, RawRow, RowVisitor};
use crate::schema::{DriftRow, COLUMNS, SCHEMA_VERSION};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// What an append did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Rows written.
    pub rows: usize,
    /// Bytes of a torn last line that were cut off first.
    pub repaired_bytes: u64,
    /// Whether a header was written (new or emptied file).
    pub wrote_header: bool,
}

fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// The header line of this schema, without its newline.
pub fn header_line() -> String {
    COLUMNS.join(",")
}

/// Appends `rows` to the drift log at `path` (created with its directory when missing),
/// waiting up to `lock_wait` for other runs to finish their appends.
pub fn append_rows(
    path: &Path,
    rows: &[DriftRow],
    lock_wait: Duration,
) -> Result<AppendOutcome, LogError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err(dir, "create the log directory"))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io_err(path, "open the drift log for appending"))?;
    let t0 = Instant::now();
    let mut file = file;
    let locked = loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => break l,
            Err((f, nix::errno::Errno::EWOULDBLOCK)) | Err((f, nix::errno::Errno::EINTR)) => {
                if t0.elapsed() >= lock_wait {
                    return Err(LogError::Locked {
                        path: path.to_path_buf(),
                        waited: t0.elapsed(),
                    });
                }
                file = f;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err((_, e)) => {
                return Err(LogError::Io {
                    path: path.to_path_buf(),
                    action: "lock the drift log",
                    source: e.into(),
                })
            }
        }
    };
    let mut outcome = AppendOutcome {
        rows: rows.len(),
        ..AppendOutcome::default()
    };
    let mut len = locked
        .metadata()
        .map_err(io_err(path, "stat the drift log"))?
        .len();
    if len > 0 {
        let keep = complete_prefix_len(&locked, len).map_err(io_err(path, "read the drift log"))?;
        if keep < len {
            locked
                .set_len(keep)
                .map_err(io_err(path, "cut a torn last line"))?;
            outcome.repaired_bytes = len - keep;
            len = keep;
        }
    }
    if len > 0 {
        check_header(&locked, path)?;
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(len == 0)
        .from_writer(Vec::with_capacity(256 * (rows.len() + 1)));
    for r in rows {
        w.serialize(r).map_err(|e| LogError::Io {
            path: path.to_path_buf(),
            action: "encode a row",
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    if rows.is_empty() && len == 0 {
        w.write_record(COLUMNS).map_err(|e| LogError::Io {
            path: path.to_path_buf(),
            action: "encode the header",
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    outcome.wrote_header = len == 0;
    let buf = w.into_inner().map_err(|e| LogError::Io {
        path: path.to_path_buf(),
        action: "encode rows",
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut f: &File = &locked;
    f.write_all(&buf)
        .map_err(io_err(path, "append to the drift log"))?;
    locked
        .sync_data()
        .map_err(io_err(path, "fsync the drift log"))?;
    drop(locked);
    Ok(outcome)
}

/// The length of the file up to and including its last newline.
fn complete_prefix_len(f: &File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        f.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn check_header(f: &File, path: &Path) -> Result<(), LogError> {
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    let mut offset = 0u64;
    loop {
        let n = f
            .read_at(&mut buf, offset)
            .map_err(io_err(path, "read the drift log header"))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            first.extend_from_slice(&buf[..i]);
            break;
        }
        first.extend_from_slice(&buf[..n]);
        if first.len() > 65536 {
            break;
        }
    }
    let line = String::from_utf8_lossy(&first);
    let line = line.trim_end_matches('\r');
    if line != header_line() {
        return Err(LogError::UnknownFormat {
            path: path.display().to_string(),
            line: 1,
            reason: format!(
                "the header is not skew's drift-log schema {SCHEMA_VERSION}; refusing to append (rotate or move the file)"
            ),
        });
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Kind;

    fn row(i: u32) -> DriftRow {
        DriftRow {
            run_time: format!("2026-11-27T00:00:{:02}.000000000Z", i % 60),
            host: "h".into(),
            kind: Kind::Ntp,
            server: Some(format!("s{i}")),
            status: Some("ok".into()),
            offset_s: Some(i as f64 * 1e-6),
            error: Some("a, \"quoted\" text".into()),
            ..DriftRow::default()
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("skew-log-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join("sub/dir/drift.csv")
    }

    #[test]
    fn append_creates_and_reads_back() {
        let p = tmp("append");
        let o = append_rows(&p, &[row(1), row(2)], Duration::from_secs(1)).unwrap();
        assert!(o.wrote_header);
        let o = append_rows(&p, &[row(3)], Duration::from_secs(1)).unwrap();
        assert!(!o.wrote_header);
        let r = read_log(&p).unwrap();
        assert_eq!(r.rows.len(), 3);
        assert_eq!(r.rows[2].1, row(3));
        assert_eq!(r.rows[0].0, 2, "line numbers count the header");
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn torn_last_line_is_skipped_then_repaired() {
        let p = tmp("torn");
        append_rows(&p, &[row(1), row(2)], Duration::from_secs(1)).unwrap();
        let full = std::fs::read(&p).unwrap();
        // Simulate kill -9 in the middle of the next row.
        let mut w = OpenOptions::new().append(true).open(&p).unwrap();
        w.write_all(b"1,2026-11-27T00:00:09.000000000Z,h,ntp,s9,,o")
            .unwrap();
        drop(w);
        let r = read_log(&p).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0].contains(":4: torn last line"),
            "{:?}",
            r.warnings
        );
        // The next append cuts the torn line and loses no complete row.
        let o = append_rows(&p, &[row(3)], Duration::from_secs(1)).unwrap();
        assert!(o.repaired_bytes > 0);
        let r = read_log(&p).unwrap();
        assert_eq!(
            r.rows
                .iter()
                .map(|(_, x)| x.server.clone().unwrap())
                .collect::<Vec<_>>(),
            vec!["s1", "s2", "s3"]
        );
        assert!(r.warnings.is_empty());
        assert!(std::fs::read(&p).unwrap().starts_with(&full));
    }

    #[test]
    fn truncated_file_gets_a_new_header() {
        let p = tmp("copytruncate");
        append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        let o = append_rows(&p, &[row(2)], Duration::from_secs(1)).unwrap();
        assert!(o.wrote_header);
        assert_eq!(read_log(&p).unwrap().rows.len(), 1);
    }

    #[test]
    fn rotation_by_rename_starts_a_fresh_log() {
        let p = tmp("rename");
        append_rows(&p, &[row(1), row(2)], Duration::from_secs(1)).unwrap();
        let rotated = p.with_extension("csv.1");
        std::fs::rename(&p, &rotated).unwrap();
        let o = append_rows(&p, &[row(3)], Duration::from_secs(1)).unwrap();
        assert!(o.wrote_header);
        assert_eq!(read_log(&rotated).unwrap().rows.len(), 2);
        let fresh = read_log(&p).unwrap();
        assert_eq!(fresh.rows.len(), 1);
        assert_eq!(fresh.rows[0].1.server.as_deref(), Some("s3"));
    }

    #[test]
    fn foreign_file_is_refused() {
        let p = tmp("foreign");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "name,value\nx,1\n").unwrap();
        let e = append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains(":1: not a skew drift log"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "name,value\nx,1\n");
    }

    #[test]
    fn lock_is_honoured() {
        let p = tmp("lock");
        append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap();
        let f = File::open(&p).unwrap();
        let held = Flock::lock(f, FlockArg::LockExclusive).unwrap();
        let e = append_rows(&p, &[row(2)], Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, LogError::Locked { .. }), "{e}");
        drop(held);
        append_rows(&p, &[row(2)], Duration::from_millis(100)).unwrap();
    }

    #[test]
    fn reader_errors_name_file_and_line() {
        assert!(matches!(parse_log("f", b""), Err(LogError::Empty { .. })));
        assert!(matches!(
            parse_log("f", b"  \n"),
            Err(LogError::Empty { .. })
        ));
        let e = parse_log("f.csv", b"a,b\n1,2\n").unwrap_err();
        assert!(
            e.to_string().starts_with("f.csv:1: not a skew drift log"),
            "{e}"
        );
        let mut text = header_line();
        text.push('\n');
        let good = csv_line(&row(1));
        text.push_str(&good);
        text.push_str("1,oops\n");
        text.push_str(&good);
        let e = parse_log("f.csv", text.as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("f.csv:3: malformed row"), "{e}");
        let mut newer = header_line();
        newer.push('\n');
        newer.push_str(&good.replacen('1', "9", 1));
        let e = parse_log("f.csv", newer.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("schema version 9"), "{e}");
    }

    fn csv_line(r: &DriftRow) -> String {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(vec![]);
        w.serialize(r).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }
}
