//! The file edge: which files a report reads (names, glob patterns, rotated and gzipped
//! files) and reading them into [`LogData`] with the fast scanner, on several threads.

use crate::data::LogData;
use crate::filter::Filter;
use crate::ingest::{Ingest, IngestCounts};
use serde::Serialize;
use skew_driftlog::scan::{scan_log, scan_reader, ReadLimits, Scanned};
use skew_driftlog::LogError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why logs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A pattern matched no file.
    #[error("{pattern}: no such file (and no file matches it as a pattern)")]
    NoMatch {
        /// The argument.
        pattern: String,
    },
    /// A pattern is not a valid glob.
    #[error("{pattern}: invalid pattern: {reason}")]
    BadPattern {
        /// The argument.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// A file could not be read (or decompressed).
    #[error("{path}: cannot read: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file is empty, not a drift log, or has a malformed row.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// The file.
    pub path: String,
    /// Bytes (uncompressed).
    pub bytes: u64,
    /// Rows read.
    pub rows: u64,
    /// Rows the filter kept.
    pub used: u64,
    /// First run time in the file, RFC 3339.
    pub first: Option<String>,
    /// Last run time in the file.
    pub last: Option<String>,
    /// Things skipped (a torn last line).
    pub warnings: Vec<String>,
}

/// Expands the arguments: an existing file is taken as is; anything else is a glob
/// pattern (`drift.csv*` takes rotated files too), sorted. The same file named twice is
/// read once.
pub fn expand_inputs(args: &[String]) -> Result<Vec<PathBuf>, ReadError> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in args {
        let mut found = Vec::new();
        if Path::new(a).exists() {
            found.push(PathBuf::from(a));
        } else {
            let paths = glob::glob(a).map_err(|e| ReadError::BadPattern {
                pattern: a.clone(),
                reason: e.to_string(),
            })?;
            for p in paths.flatten() {
                if p.is_file() {
                    found.push(p);
                }
            }
            if found.is_empty() {
                return Err(ReadError::NoMatch { pattern: a.clone() });
            }
            found.sort();
        }
        for p in found {
            let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if seen.insert(key) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Reads one log as a stream (decompressing gzip, as rotated `drift.csv.2.gz`) in blocks,
/// within `limits`: a plain file larger than the limit is refused before it is read, a
/// compressed one once its decompressed bytes pass the limit, and a first line longer than a
/// line (zeros of a bomb or a sparse file) at once (issue 14.4). Memory: a block (16 MiB)
/// and what the filter keeps.
pub fn read_file(
    path: &Path,
    filter: &Filter,
    threads: usize,
    limits: ReadLimits,
) -> Result<(LogData, FileSummary), ReadError> {
    let label = path.display().to_string();
    let io = |e: std::io::Error| ReadError::Io {
        path: label.clone(),
        reason: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match f.read(&mut magic[got..]).map_err(io)? {
            0 => break,
            n => got += n,
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let gzip = magic[..got] == [0x1f, 0x8b];
    if !gzip {
        let len = f.metadata().map_err(io)?.len();
        if len > limits.max_bytes {
            return Err(ReadError::Log(LogError::TooLarge {
                path: label,
                limit: limits.max_bytes,
            }));
        }
    }
    let scanned = if gzip {
        let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(head.chain(f)));
        scan_reader(&label, decoder, threads, limits, |h| Ingest::new(h, filter)).map_err(|e| {
            match e {
                LogError::Io { source, .. } => ReadError::Io {
                    path: label.clone(),
                    reason: format!("not valid gzip: {source}"),
                },
                e => ReadError::Log(e),
            }
        })?
    } else {
        scan_reader(&label, head.chain(f), threads, limits, |h| {
            Ingest::new(h, filter)
        })?
    };
    Ok(collect(&label, scanned))
}

/// Parses one file's bytes; `label` names it in messages.
pub fn parse_bytes(
    label: &str,
    bytes: &[u8],
    filter: &Filter,
    threads: usize,
) -> Result<(LogData, FileSummary), ReadError> {
    let scanned = scan_log(label, bytes, threads, |h| Ingest::new(h, filter))?;
    Ok(collect(label, scanned))
}

/// The data and summary of a scan.
fn collect(label: &str, scanned: Scanned<Ingest<'_>>) -> (LogData, FileSummary) {
    let mut data = LogData::default();
    let mut counts = IngestCounts::default();
    for v in scanned.visitors {
        let c = v.counts;
        counts.rows += c.rows;
        counts.used += c.used;
        counts.first_ns = [counts.first_ns, c.first_ns].into_iter().flatten().min();
        counts.last_ns = [counts.last_ns, c.last_ns].into_iter().flatten().max();
        data.merge(v.into_data());
    }
    let summary = FileSummary {
        path: label.to_string(),
        bytes: scanned.bytes,
        rows: counts.rows,
        used: counts.used,
        first: counts.first_ns.map(crate::time::rfc3339_s),
        last: counts.last_ns.map(crate::time::rfc3339_s),
        warnings: scanned.warnings,
    };
    (data, summary)
}

/// Reads and merges every file; the first error stops (nothing is drawn from a log that
/// is partly unreadable).
pub fn read_logs(
    paths: &[PathBuf],
    filter: &Filter,
    threads: usize,
    limits: ReadLimits,
) -> Result<(LogData, Vec<FileSummary>), ReadError> {
    let mut data = LogData::default();
    let mut files = Vec::new();
    for p in paths {
        let (d, s) = read_file(p, filter, threads, limits)?;
        data.merge(d);
        files.push(s);
    }
    data.finish();
    Ok((data, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("skew-report-read-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const LOG: &str =
        "schema,run_time,host,kind,pause_max_s\n1,2026-11-20T00:00:00Z,h,pause,0.001\n";

    #[test]
    fn globs_rotated_and_gzipped_files() {
        let d = dir("glob");
        std::fs::write(d.join("drift.csv"), LOG).unwrap();
        std::fs::write(d.join("drift.csv.1"), LOG.replace("00:00:00", "00:00:10")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(LOG.replace("00:00:00", "00:00:20").as_bytes())
            .unwrap();
        std::fs::write(d.join("drift.csv.2.gz"), gz.finish().unwrap()).unwrap();
        let pattern = format!("{}/drift.csv*", d.display());
        let literal = d.join("drift.csv").display().to_string();
        let paths = expand_inputs(&[pattern, literal]).unwrap();
        assert_eq!(paths.len(), 3, "{paths:?}");
        let (data, files) =
            read_logs(&paths, &Filter::default(), 2, ReadLimits::default()).unwrap();
        assert_eq!(files.iter().map(|f| f.rows).sum::<u64>(), 3);
        assert_eq!(data.hosts[0].pause.t_ns.len(), 3);
        assert!(data.hosts[0].pause.t_ns.windows(2).all(|w| w[0] < w[1]));
        let e = expand_inputs(&[format!("{}/nothing*", d.display())]).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let d = dir("errors");
        let p = d.join("bad.csv");
        std::fs::write(&p, format!("{LOG}1,2026-11-20T00:00:01Z,h,pause,slow\n")).unwrap();
        let e = read_logs(
            std::slice::from_ref(&p),
            &Filter::default(),
            1,
            ReadLimits::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3: malformed row: pause_max_s: invalid number \"slow\"",
                p.display()
            )
        );
        std::fs::write(&p, "").unwrap();
        let e = read_logs(
            std::slice::from_ref(&p),
            &Filter::default(),
            1,
            ReadLimits::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("empty drift log"), "{e}");
        std::fs::write(&p, [0x1f, 0x8b, 0, 1, 2]).unwrap();
        let e = read_logs(&[p], &Filter::default(), 1, ReadLimits::default()).unwrap_err();
        assert!(e.to_string().contains("not valid gzip"), "{e}");
    }
}
