//! The drift log on disk: appends that never interleave and survive `kill -9`, and reads
//! that tell a torn last line from a damaged file.
//!
//! The file is opened by [`skew_fs::open_append`]: a symlink (dangling or not), anything
//! but a regular file, a file of another user or with other names is refused (issue
//! 14.1). Appending takes an exclusive advisory lock (`flock`), so overlapping cron runs
//! queue. Under the lock, a last line without its newline (a run killed mid-write) is cut
//! off — it was never a complete row — then the run's rows are written in one `write` and
//! the file is fsynced before the lock is released; if the write or the fsync fails (a full
//! disk), the file is cut back to its length before the append, so a run's rows go in whole
//! or not at all (issue 14.12). A missing file or an emptied one (log rotation by rename or
//! copytruncate) gets a fresh header. A log started before columns were added at the end of
//! the schema keeps its header and gets rows with its columns; a file whose header is not
//! this schema's is refused rather than mixed.

use crate::error::{io_err, LogError};
use crate::schema::{header_line, header_width, is_line_end, DriftRow, COLUMNS, SCHEMA_VERSION};
use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

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
    let file = skew_fs::open_append(path, true)?;
    let t0 = Instant::now();
    // An exclusive flock(2), released when the file is closed.
    loop {
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => break,
            Err(rustix::io::Errno::WOULDBLOCK) | Err(rustix::io::Errno::INTR) => {
                if t0.elapsed() >= lock_wait {
                    return Err(LogError::Locked {
                        path: path.to_path_buf(),
                        waited: t0.elapsed(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(LogError::Io {
                    path: path.to_path_buf(),
                    action: "lock the drift log",
                    source: e.into(),
                })
            }
        }
    }
    let locked = file;
    let mut outcome = AppendOutcome {
        rows: rows.len(),
        ..AppendOutcome::default()
    };
    let mut len = locked
        .metadata()
        .map_err(io_err(path, "stat the drift log"))?
        .len();
    let mut columns = COLUMNS.len();
    if len > 0 {
        // Before anything is cut: a file that is not a drift log is refused untouched.
        columns = check_header(&locked, path)?;
        let keep = complete_prefix_len(&locked, len).map_err(io_err(path, "read the drift log"))?;
        if keep < len {
            locked
                .set_len(keep)
                .map_err(io_err(path, "cut a torn last line"))?;
            outcome.repaired_bytes = len - keep;
            len = keep;
        }
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(len == 0)
        .from_writer(Vec::with_capacity(256 * (rows.len() + 1)));
    for r in rows {
        w.serialize(one_line(r).as_ref())
            .map_err(|e| LogError::Io {
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
    let buf = if columns < COLUMNS.len() {
        first_fields(&buf, columns).map_err(|e| LogError::Io {
            path: path.to_path_buf(),
            action: "encode rows for the log's older header",
            source: std::io::Error::other(e.to_string()),
        })?
    } else {
        buf
    };
    let mut f: &File = &locked;
    let written = f
        .write_all(&buf)
        .map_err(|e| (e, "append to the drift log"))
        .and_then(|()| locked.sync_data().map_err(|e| (e, "fsync the drift log")));
    if let Err((source, action)) = written {
        // A run's rows go in whole or not at all: a full disk (or a file size limit) may
        // have let part of them in, which no later run would remove. Cut back to where
        // this append started (a torn line repaired above stays repaired).
        let cut = locked.set_len(len).and_then(|()| locked.sync_data());
        return Err(LogError::Append {
            path: path.to_path_buf(),
            action,
            source,
            rolled_back: cut.is_ok(),
        });
    }
    drop(locked);
    Ok(outcome)
}

/// The row with every line break in its text replaced by a space: each row must be one
/// line, because a torn append is repaired by cutting after the last newline (a quoted
/// newline inside a field would leave half a row behind).
fn one_line(row: &DriftRow) -> Cow<'_, DriftRow> {
    let breaks = |s: &str| s.contains(['\n', '\r']);
    let opt = |s: &Option<String>| s.as_deref().is_some_and(breaks);
    if !(breaks(&row.run_time)
        || breaks(&row.host)
        || opt(&row.server)
        || opt(&row.address)
        || opt(&row.status)
        || opt(&row.error)
        || opt(&row.kernel_state)
        || opt(&row.leap_expires)
        || opt(&row.leap_next)
        || opt(&row.nts_cert_not_after))
    {
        return Cow::Borrowed(row);
    }
    let fix = |s: &String| s.replace(['\n', '\r'], " ");
    let fix_opt = |s: &Option<String>| s.as_ref().map(fix);
    Cow::Owned(DriftRow {
        run_time: fix(&row.run_time),
        host: fix(&row.host),
        server: fix_opt(&row.server),
        address: fix_opt(&row.address),
        status: fix_opt(&row.status),
        error: fix_opt(&row.error),
        kernel_state: fix_opt(&row.kernel_state),
        leap_expires: fix_opt(&row.leap_expires),
        leap_next: fix_opt(&row.leap_next),
        nts_cert_not_after: fix_opt(&row.nts_cert_not_after),
        ..row.clone()
    })
}

/// The CSV rows in `buf` (no header) cut to their first `n` fields.
fn first_fields(buf: &[u8], n: usize) -> Result<Vec<u8>, csv::Error> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(buf);
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(buf.len()));
    for rec in r.byte_records() {
        let rec = rec?;
        w.write_record(rec.iter().take(n))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The length of the file up to and including its last line end.
fn complete_prefix_len(f: &File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        f.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(is_line_end) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Checks that the file starts with this schema's header line, or with one of the
/// [`EARLIER_HEADERS`](crate::schema::EARLIER_HEADERS), and returns how many columns the
/// file has ([`header_width`]). A file without any newline passes when it is a beginning of
/// the header (a run killed while writing the header of a new log: the torn-line repair then
/// cuts it); anything else is refused.
fn check_header(f: &File, path: &Path) -> Result<usize, LogError> {
    let first =
        skew_fs::header::first_line(f).map_err(io_err(path, "read the drift log header"))?;
    let torn_header = !first.complete && header_line().starts_with(&first.text);
    if torn_header {
        return Ok(COLUMNS.len());
    }
    header_width(&first.text).ok_or_else(|| LogError::UnknownFormat {
        path: path.display().to_string(),
        line: 1,
        reason: format!(
            "the header is not skew's drift-log schema {SCHEMA_VERSION}; refusing to append (rotate or move the file)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{parse_log, read_log};
    use crate::schema::Kind;
    use std::fs::OpenOptions;
    use std::path::PathBuf;

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
    fn a_last_row_missing_only_its_newline_is_torn() {
        // Found by the property tests: the row parsed (every field present, the cut only
        // removed the newline), so the reader took it while the next append cuts it.
        let mut text = header_line();
        text.push('\n');
        let good = csv_line(&row(1));
        text.push_str(&good);
        text.push_str(good.trim_end());
        let r = parse_log("f.csv", text.as_bytes()).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(
            r.warnings,
            vec!["f.csv:3: torn last line skipped (a run was interrupted while writing it)"]
        );
        // A number cut short is still a number: the row is not taken either.
        let cut = &good[..good.find("0.000001000").unwrap() + 4];
        let mut text = header_line();
        text.push('\n');
        text.push_str(&good);
        text.push_str(cut);
        assert_eq!(parse_log("f.csv", text.as_bytes()).unwrap().rows.len(), 1);
    }

    #[test]
    fn line_breaks_in_text_never_split_a_row() {
        // Found by the property tests: an error text with a newline was written inside
        // quotes, so a torn append repaired at the last newline left half a row behind.
        let p = tmp("newline");
        let mut r = row(1);
        r.error = Some("first line\nsecond line\r".into());
        append_rows(&p, &[r], Duration::from_secs(1)).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        let read = read_log(&p).unwrap();
        assert_eq!(
            read.rows[0].1.error.as_deref(),
            Some("first line second line ")
        );
    }

    #[test]
    fn a_log_from_before_the_nts_columns_keeps_its_header() {
        let p = tmp("old-header");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        // A log written by the first schema: its 36 columns, one row.
        const FIRST_COLUMNS: usize = 36;
        let old_header = COLUMNS[..FIRST_COLUMNS].join(",");
        let mut old_row = vec![""; FIRST_COLUMNS];
        old_row[0] = "1";
        old_row[1] = "2026-11-01T00:00:00.000000000Z";
        old_row[2] = "h";
        old_row[3] = "ntp";
        std::fs::write(&p, format!("{old_header}\n{}\n", old_row.join(","))).unwrap();
        let mut r = row(1);
        r.nts_authenticated = Some(true);
        r.nts_cookies = Some(8);
        let o = append_rows(&p, &[r.clone(), r], Duration::from_secs(1)).unwrap();
        assert!(!o.wrote_header);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], old_header, "the header is kept");
        let mut rd = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        for rec in rd.records() {
            assert_eq!(rec.unwrap().len(), FIRST_COLUMNS);
        }
        let back = read_log(&p).unwrap();
        assert_eq!(back.rows.len(), 3);
        assert_eq!(back.rows[1].1.nts_authenticated, None, "not in this log");
        // Not a prefix of the schema: refused.
        let q = p.with_file_name("other.csv");
        std::fs::write(
            &q,
            format!("{},extra\n", COLUMNS[..FIRST_COLUMNS].join(",")),
        )
        .unwrap();
        assert!(append_rows(&q, &[row(1)], Duration::from_secs(1)).is_err());
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
    fn line_ends_are_newlines_and_lone_cr_files_are_refused_at_line_1() {
        // Found by cargo-fuzz (drift_log): with bare \r line ends every row was reported as
        // "line 1". Drift logs end lines with \n (\r\n is tolerated); a file with bare \r
        // line ends is one long line, refused at its header, line 1.
        let good = csv_line(&row(1)).replace('\n', "\r");
        let text = format!("{}\r{good}1,oops\r{good}", header_line());
        let e = parse_log("f.csv", text.as_bytes()).unwrap_err();
        assert!(
            e.to_string().starts_with("f.csv:1: not a skew drift log"),
            "{e}"
        );
        let crlf = csv_line(&row(1)).replace('\n', "\r\n");
        let text = format!("{}\r\n{crlf}{crlf}", header_line());
        let r = parse_log("f.csv", text.as_bytes()).unwrap();
        assert_eq!(
            r.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![2, 3]
        );
        let text = format!("{}\r\n{crlf}1,oops\r\n{crlf}", header_line());
        let e = parse_log("f.csv", text.as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("f.csv:3: malformed row"), "{e}");
    }

    #[test]
    fn a_foreign_file_without_a_newline_is_refused_not_wiped() {
        // Found while fuzzing the reader: the torn-line repair cut everything after the
        // last newline *before* the header was checked, so a file with no newline at all
        // (a one-line note, a log with CR line ends) was emptied and taken over.
        let p = tmp("no-newline");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        for content in ["hello", "name,value\rx,1\r"] {
            std::fs::write(&p, content).unwrap();
            let e = append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap_err();
            assert!(e.to_string().contains(":1: not a skew drift log"), "{e}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), content);
        }
        // A header cut short (a run killed while creating the log) is repaired.
        std::fs::write(&p, &header_line()[..20]).unwrap();
        let o = append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap();
        assert!(o.wrote_header && o.repaired_bytes == 20, "{o:?}");
        assert_eq!(read_log(&p).unwrap().rows.len(), 1);
    }

    #[test]
    fn a_symlink_is_never_appended_through() {
        // Issue 14.1: --log appended through a planted symlink and created the target of a
        // dangling one.
        let p = tmp("symlink");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let victim = p.with_file_name("victim");
        std::fs::write(&victim, "keep\n").unwrap();
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        let e = append_rows(&p, &[row(1)], Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, LogError::Refused(_)), "{e}");
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
        std::fs::remove_file(&p).unwrap();
        let target = p.with_file_name("not-yet");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        assert!(append_rows(&p, &[row(1)], Duration::from_secs(1)).is_err());
        assert!(!target.exists());
    }

    #[test]
    fn lock_is_honoured() {
        // Another process's flock(2) (as taken by older skew versions and flock(1)).
        use nix::fcntl::{Flock, FlockArg};
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

    use proptest::prelude::*;

    /// Text with the characters CSV must quote, and line breaks.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                'a', 'Z', '0', ',', '"', ' ', '\n', '\r', 'é', ';', '#',
            ]),
            1..12,
        )
        .prop_map(|c| c.into_iter().collect())
    }

    /// Seconds as a log holds them exactly: whole nanoseconds up to ±2^43 ns (2.4 h, where
    /// an f64's spacing is far below a nanosecond, so n/1e9 written with nine decimals reads
    /// back as the same f64), or beyond ±9e9 s where the writer keeps Rust's own form.
    /// (Between those, the writer rounds to the nanosecond, which an f64 of that size cannot
    /// always hold: ~1 ns of representation error, far below anything measured.)
    fn finite() -> impl Strategy<Value = f64> {
        proptest::prop_oneof![
            (-(1i64 << 43)..(1i64 << 43)).prop_map(|n| n as f64 / 1e9),
            any::<f64>().prop_filter("finite, beyond 9e9", |x| x.is_finite() && x.abs() >= 9.0e9),
        ]
    }

    fn any_row() -> impl Strategy<Value = DriftRow> {
        (
            text(),
            proptest::sample::select(vec![
                Kind::Ntp,
                Kind::Agreement,
                Kind::Clock,
                Kind::Pause,
                Kind::Leap,
            ]),
            proptest::option::of(text()),
            proptest::option::of(finite()),
            proptest::option::of(text()),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(
                |(host, kind, server, offset_s, error, stratum, truechimer)| DriftRow {
                    run_time: "2026-11-27T00:00:00.000000000Z".into(),
                    host,
                    kind,
                    server,
                    offset_s,
                    error,
                    stratum,
                    truechimer,
                    ..DriftRow::default()
                },
            )
    }

    /// What a row reads back as: line breaks in text became spaces (a row is one line).
    fn one_line(r: &DriftRow) -> DriftRow {
        let f = |s: &String| s.replace(['\n', '\r'], " ");
        DriftRow {
            host: f(&r.host),
            server: r.server.as_ref().map(f),
            error: r.error.as_ref().map(f),
            ..r.clone()
        }
    }

    fn encoded(rows: &[DriftRow]) -> Vec<u8> {
        let mut text = header_line().into_bytes();
        text.push(b'\n');
        for r in rows {
            text.extend_from_slice(csv_line(&one_line(r)).as_bytes());
        }
        text
    }

    /// Line number (1-based) of each line start.
    fn line_starts(bytes: &[u8]) -> Vec<usize> {
        std::iter::once(0)
            .chain(
                bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .filter(|&i| i < bytes.len())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// A run killed at any byte of its append loses no complete row: the reader skips
        /// the torn line with a warning, and the next append cuts it and carries on.
        #[test]
        fn a_write_torn_at_any_byte_loses_no_complete_row(
            before in proptest::collection::vec(any_row(), 1..4),
            torn in proptest::collection::vec(any_row(), 1..4),
            after in proptest::collection::vec(any_row(), 1..3),
            cut in any::<proptest::sample::Index>(),
        ) {
            let p = tmp(&format!("torn-prop-{}", std::thread::current().name().unwrap_or("t").len()));
            let _ = std::fs::remove_file(&p);
            append_rows(&p, &before, Duration::from_secs(1)).unwrap();
            let torn_bytes = encoded(&torn)[header_line().len() + 1..].to_vec();
            let n = cut.index(torn_bytes.len());
            let mut w = OpenOptions::new().append(true).open(&p).unwrap();
            w.write_all(&torn_bytes[..n]).unwrap();
            drop(w);
            // Complete rows of the torn write: those whose newline was written.
            let complete = torn_bytes[..n].iter().filter(|&&b| b == b'\n').count();
            let read = read_log(&p).unwrap();
            let expect: Vec<DriftRow> = before.iter().chain(&torn[..complete]).map(one_line).collect();
            let got: Vec<DriftRow> = read.rows.iter().map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(&got, &expect);
            let partial = n > 0 && torn_bytes[n - 1] != b'\n';
            prop_assert_eq!(read.warnings.len(), usize::from(partial), "{:?}", read.warnings);
            append_rows(&p, &after, Duration::from_secs(1)).unwrap();
            let read = read_log(&p).unwrap();
            let expect: Vec<DriftRow> = expect.into_iter().chain(after.iter().map(one_line)).collect();
            let got: Vec<DriftRow> = read.rows.iter().map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(got, expect);
            prop_assert!(read.warnings.is_empty());
            let _ = std::fs::remove_file(&p);
        }
    }

    proptest! {
        /// Any cut inside the last line (its newline not written): the rows before it are
        /// read, the last line is skipped with a warning naming it, never taken as a row.
        #[test]
        fn a_cut_inside_the_last_line_is_a_torn_line(
            rows in proptest::collection::vec(any_row(), 1..5),
            cut in any::<proptest::sample::Index>(),
        ) {
            let bytes = encoded(&rows);
            let starts = line_starts(&bytes);
            let last_start = *starts.last().unwrap();
            let last_line = starts.len();
            // Keep at least one byte of the last line and drop at least its newline.
            let n = last_start + 1 + cut.index(bytes.len() - 1 - last_start);
            let read = parse_log("f.csv", &bytes[..n]).unwrap();
            let expect: Vec<DriftRow> = rows[..rows.len() - 1].iter().map(one_line).collect();
            let got: Vec<DriftRow> = read.rows.iter().map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(got, expect);
            prop_assert_eq!(read.warnings.len(), 1);
            let needle = format!("f.csv:{last_line}: torn last line");
            prop_assert!(read.warnings[0].contains(&needle), "{:?}", read.warnings);
        }

        /// A damaged row before the last one is an error naming its line, whatever the
        /// damage: a field too many or too few, an unknown kind, a schema that is not a
        /// number, a value out of its type's range.
        #[test]
        fn a_damaged_middle_row_is_an_error_naming_its_line(
            rows in proptest::collection::vec(any_row(), 2..6),
            which in any::<proptest::sample::Index>(),
            damage in 0u8..5,
        ) {
            let k = which.index(rows.len() - 1); // never the last row
            let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
            let mut text = header_line();
            text.push('\n');
            for (i, r) in rows.iter().enumerate() {
                let line = csv_line(&one_line(r));
                if i != k {
                    text.push_str(&line);
                    continue;
                }
                let mut rec: Vec<String> = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(line.as_bytes())
                    .records()
                    .next()
                    .unwrap()
                    .unwrap()
                    .iter()
                    .map(String::from)
                    .collect();
                match damage {
                    0 => rec.push("extra".into()),
                    1 => {
                        rec.pop();
                    }
                    2 => rec[col("kind")] = "sundial".into(),
                    3 => rec[col("schema")] = "one".into(),
                    _ => rec[col("stratum")] = "256".into(),
                }
                let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(vec![]);
                w.write_record(&rec).unwrap();
                text.push_str(&String::from_utf8(w.into_inner().unwrap()).unwrap());
            }
            // Rows are one line each: row k is on line k + 2 (after the header).
            match parse_log("f.csv", text.as_bytes()) {
                Err(LogError::Malformed { line, .. }) => prop_assert_eq!(line, k as u64 + 2),
                other => prop_assert!(false, "damage {} on row {}: {:?}", damage, k, other),
            }
        }

        /// A stream read in any block sizes gives what the bytes give: the same rows, line
        /// numbers, warnings and errors (issue 14.4: logs are now read as streams).
        #[test]
        fn a_stream_reads_like_the_bytes(
            rows in proptest::collection::vec(any_row(), 1..6),
            at in any::<proptest::sample::Index>(),
            op in 0u8..4,
            byte in any::<u8>(),
            step in 1usize..300,
        ) {
            let mut bytes = encoded(&rows);
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
            struct Trickle<'a>(&'a [u8], usize);
            impl std::io::Read for Trickle<'_> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.1.min(buf.len()).min(self.0.len());
                    buf[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let from_bytes = parse_log("f.csv", &bytes).map_err(|e| e.to_string());
            let from_stream = crate::read::parse_reader(
                "f.csv",
                Trickle(&bytes, step),
                crate::scan::ReadLimits::default(),
            )
            .map_err(|e| e.to_string());
            prop_assert_eq!(from_stream, from_bytes);
        }

        /// Any single-byte change, insertion or deletion anywhere in a valid log: never a
        /// panic, and a failure is always a reader error (empty, not a drift log, a
        /// malformed row) naming a line of the input.
        #[test]
        fn any_byte_mutation_gives_a_reader_error_or_rows(
            rows in proptest::collection::vec(any_row(), 1..4),
            at in any::<proptest::sample::Index>(),
            op in 0u8..3,
            byte in any::<u8>(),
        ) {
            let mut bytes = encoded(&rows);
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
            let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            match parse_log("f.csv", &bytes) {
                Ok(read) => {
                    prop_assert!(read.rows.len() <= rows.len() + 1);
                    prop_assert!(read.rows.iter().all(|(l, _)| *l >= 2 && *l <= lines));
                }
                Err(LogError::Empty { .. }) => prop_assert!(false, "a mutated log is not empty"),
                Err(LogError::UnknownFormat { line, .. }) | Err(LogError::Malformed { line, .. }) => {
                    prop_assert!(line >= 1 && line <= lines, "line {} of {}", line, lines);
                }
                Err(e) => prop_assert!(false, "not a reader error: {}", e),
            }
        }
    }
}
