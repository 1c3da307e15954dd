//! Reading drift logs fast: one pass over the bytes that checks the rules every reader
//! shares (empty file, foreign header, newer schema, field counts, a torn last line) and
//! hands each row's raw fields to a visitor that decodes only the columns it needs.
//!
//! [`crate::read::parse_log`] is built on it (its visitor deserializes whole
//! [`DriftRow`](crate::schema::DriftRow)s); `skew report` uses it with a visitor that reads a
//! dozen columns and no strings, on several threads for large files. Skew's writer puts one
//! row on one line (fields never hold newlines), so rows are split on newlines and commas;
//! a line with a quote is handed to the csv crate, and a quoted field spanning lines is
//! still read as one row. Chunks for threads start at a newline outside quotes.

use crate::error::LogError;
use crate::schema::SCHEMA_VERSION;

/// Columns every drift log must have.
pub const REQUIRED_COLUMNS: [&str; 3] = ["schema", "run_time", "kind"];

/// Smallest file body worth splitting across threads (small in unit tests, so that they
/// exercise the splitting on small inputs).
#[cfg(not(test))]
const MIN_BYTES_PER_THREAD: usize = 4 << 20;
#[cfg(test)]
const MIN_BYTES_PER_THREAD: usize = 64 << 10;

/// The header of a drift log: column names in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// The position of column `name`, if the file has it.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the header has no columns (never, for a header that passed the checks).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One row's raw fields (unquoted), with its line number.
#[derive(Debug, Clone, Copy)]
pub struct RawRow<'a> {
    line: u64,
    src: &'a [u8],
    ranges: &'a [(u32, u32)],
}

impl<'a> RawRow<'a> {
    /// The 1-based line of the file where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Field `i` (empty when out of range).
    pub fn field(&self, i: usize) -> &'a [u8] {
        self.ranges
            .get(i)
            .map_or(&[][..], |&(s, e)| &self.src[s as usize..e as usize])
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// Receives the rows of a scan.
pub trait RowVisitor {
    /// Decodes one row. An error is the reason the row is malformed (the scan adds the file
    /// and line); the visitor must not keep anything of a row it rejects.
    fn visit(&mut self, row: &RawRow<'_>) -> Result<(), String>;
}

impl<F: FnMut(&RawRow<'_>) -> Result<(), String>> RowVisitor for F {
    fn visit(&mut self, row: &RawRow<'_>) -> Result<(), String> {
        self(row)
    }
}

/// What a scan produced.
#[derive(Debug)]
pub struct Scanned<V> {
    /// The header.
    pub header: Header,
    /// One visitor per chunk, in file order.
    pub visitors: Vec<V>,
    /// Rows visited.
    pub rows: u64,
    /// Things skipped (a torn last line), as text naming the file and line.
    pub warnings: Vec<String>,
    /// Bytes read (decompressed).
    pub bytes: u64,
}

/// What a reader takes from one file: at most `max_bytes` (after decompression) and lines
/// of at most `max_line_bytes`. A drift log written by skew has lines of a few hundred
/// bytes; a file that is not one (a decompression bomb, a sparse file of zeros) is refused
/// after reading at most the limit, in blocks, never whole into memory (issue 14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest file, bytes (of the decompressed content for a gzipped one).
    pub max_bytes: u64,
    /// Longest line, bytes.
    pub max_line_bytes: usize,
}

/// Default [`ReadLimits::max_bytes`]: 1 GiB (about 4 million rows, four years of a
/// five-server monitor run every minute); `skew report --max-log-bytes` raises it.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 1 << 30;

/// [`ReadLimits::max_line_bytes`]: 64 KiB, a hundred times the longest row skew writes.
pub const MAX_LINE_BYTES: usize = 64 << 10;

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_bytes: DEFAULT_MAX_LOG_BYTES,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// Parses a size in bytes for [`ReadLimits::max_bytes`]: `1073741824`, `100k`, `512M`, `1G`, `2GiB` (binary multiples:
/// k = 1024). Zero is refused (nothing could be read).
///
/// ```
/// use skew_driftlog::scan::parse_size;
/// assert_eq!(parse_size("1G").unwrap(), 1 << 30);
/// assert_eq!(parse_size("100k").unwrap(), 102_400);
/// assert!(parse_size("0").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "{text:?}: expected a size such as 512M, 1G or 1073741824"
            ))
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?}: expected a size such as 512M, 1G or 1073741824"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes == 0 {
        return Err(format!("{text:?}: the size must be greater than zero"));
    }
    Ok(bytes)
}

/// Bytes read from a stream at a time (less in unit tests, so that they cross blocks).
#[cfg(not(test))]
const BLOCK_BYTES: usize = 16 << 20;
#[cfg(test)]
const BLOCK_BYTES: usize = 96 << 10;

/// Scans drift-log `bytes` (`label` names the file in messages) with up to `threads`
/// threads. `make` builds one visitor per chunk from the header (an error there means the
/// file lacks what the reader needs: reported as not a drift log, line 1). No size limit
/// applies (the bytes are already in memory); lines are capped at [`MAX_LINE_BYTES`].
pub fn scan_log<V, F>(
    label: &str,
    bytes: &[u8],
    threads: usize,
    make: F,
) -> Result<Scanned<V>, LogError>
where
    V: RowVisitor + Send,
    F: Fn(&Header) -> Result<V, String>,
{
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(LogError::Empty {
            path: label.to_string(),
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_end = record_end(bytes, 0);
    let mut scanner = Scanner::new(label, threads, MAX_LINE_BYTES, &bytes[..header_end], make)?;
    let body_start = (header_end + 1).min(bytes.len());
    scanner.scan_body(&bytes[body_start..], bytes.last() != Some(&b'\n'))?;
    Ok(scanner.finish(bytes.len() as u64))
}

/// Scans a drift log from `reader` in blocks of 16 MiB, within `limits`: memory stays
/// within a block or two whatever the file holds (plus what the visitors keep). Otherwise
/// the same rules and results as [`scan_log`].
pub fn scan_reader<R, V, F>(
    label: &str,
    mut reader: R,
    threads: usize,
    limits: ReadLimits,
    make: F,
) -> Result<Scanned<V>, LogError>
where
    R: std::io::Read,
    V: RowVisitor + Send,
    F: Fn(&Header) -> Result<V, String>,
{
    let mut input = Input {
        label,
        limits,
        total: 0,
        eof: false,
    };
    let mut buf: Vec<u8> = Vec::new();
    // The header: the first record, at most a line long.
    let header_end = loop {
        let start = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let end = record_end(&buf, start);
        if end < buf.len() {
            break end;
        }
        if input.eof {
            break buf.len();
        }
        if buf.len() > limits.max_line_bytes {
            // The first line is longer than a line: not a header, unless the whole file is
            // blank (then it is empty, as for bytes in memory).
            if buf.iter().all(u8::is_ascii_whitespace) && input.rest_is_blank(&mut reader)? {
                return Err(LogError::Empty {
                    path: label.to_string(),
                });
            }
            return Err(LogError::UnknownFormat {
                path: label.into(),
                line: 1,
                reason: format!(
                    "the first line is longer than {} bytes (not a header)",
                    limits.max_line_bytes
                ),
            });
        }
        input.fill(&mut reader, &mut buf, limits.max_line_bytes + 1)?;
    };
    let start = if buf.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if buf.iter().all(u8::is_ascii_whitespace) && (input.eof || input.rest_is_blank(&mut reader)?) {
        return Err(LogError::Empty {
            path: label.to_string(),
        });
    }
    let mut scanner = Scanner::new(
        label,
        threads,
        limits.max_line_bytes,
        &buf[start..header_end],
        make,
    )?;
    buf.drain(..(header_end + 1).min(buf.len()));
    loop {
        if !input.eof && buf.len() < BLOCK_BYTES {
            input.fill(&mut reader, &mut buf, BLOCK_BYTES)?;
            continue;
        }
        if input.eof {
            let torn = !buf.is_empty() && buf.last() != Some(&b'\n');
            scanner.scan_body(&buf, torn)?;
            return Ok(scanner.finish(input.total));
        }
        // Scan every complete record of the block; keep the rest for the next one.
        let cut = last_record_boundary(&buf);
        if cut == 0 {
            return Err(LogError::Malformed {
                path: label.into(),
                line: scanner.line,
                reason: format!("line longer than {} bytes", limits.max_line_bytes),
            });
        }
        scanner.scan_body(&buf[..cut], false)?;
        buf.drain(..cut);
    }
}

/// The reading side of [`scan_reader`]: counts the bytes against the limit.
struct Input<'a> {
    label: &'a str,
    limits: ReadLimits,
    total: u64,
    eof: bool,
}

impl Input<'_> {
    /// Reads the rest of the input (counting it against the limit, keeping none of it):
    /// whether it is all blank space.
    fn rest_is_blank<R: std::io::Read>(&mut self, reader: &mut R) -> Result<bool, LogError> {
        let mut buf = Vec::with_capacity(64 << 10);
        while !self.eof {
            buf.clear();
            self.fill(reader, &mut buf, 64 << 10)?;
            if !buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads until `buf` holds `want` bytes or the input ends.
    fn fill<R: std::io::Read>(
        &mut self,
        reader: &mut R,
        buf: &mut Vec<u8>,
        want: usize,
    ) -> Result<(), LogError> {
        let mut chunk = [0u8; 64 << 10];
        while buf.len() < want {
            let n = match reader.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(LogError::Io {
                        path: self.label.into(),
                        action: "read the drift log",
                        source: e,
                    })
                }
            };
            self.total += n as u64;
            if self.total > self.limits.max_bytes {
                return Err(LogError::TooLarge {
                    path: self.label.into(),
                    limit: self.limits.max_bytes,
                });
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }
}

/// The end of the last complete record of `buf` (just after its newline), counting quotes
/// so that a newline inside a quoted field does not end a record; 0 when there is none.
fn last_record_boundary(buf: &[u8]) -> usize {
    let Some(mut nl) = memchr::memrchr(b'\n', buf) else {
        return 0;
    };
    // Quotes before the candidate newline: an even count means it is outside quotes.
    let mut quotes = memchr::memchr_iter(b'"', &buf[..nl]).count();
    loop {
        if quotes % 2 == 0 {
            return nl + 1;
        }
        let Some(prev) = memchr::memrchr(b'\n', &buf[..nl]) else {
            return 0;
        };
        quotes -= memchr::memchr_iter(b'"', &buf[prev..nl]).count();
        nl = prev;
    }
}

/// The scan of one file's body, block after block: the header's facts, the visitors made
/// so far (one per chunk, in file order), the line the next block starts at.
struct Scanner<'a, V, F> {
    label: &'a str,
    threads: usize,
    max_line_bytes: usize,
    make: F,
    header: Header,
    schema_col: usize,
    visitors: Vec<V>,
    rows: u64,
    warnings: Vec<String>,
    line: u64,
}

impl<'a, V, F> Scanner<'a, V, F>
where
    V: RowVisitor + Send,
    F: Fn(&Header) -> Result<V, String>,
{
    /// Checks the header line (without its line end) and takes the columns from it.
    fn new(
        label: &'a str,
        threads: usize,
        max_line_bytes: usize,
        header_line: &[u8],
        make: F,
    ) -> Result<Self, LogError> {
        let unknown = |reason: String| LogError::UnknownFormat {
            path: label.into(),
            line: 1,
            reason,
        };
        if header_line.len() > max_line_bytes {
            return Err(unknown(format!(
                "the first line is longer than {max_line_bytes} bytes (not a header)"
            )));
        }
        let header_line = trim_cr(header_line);
        // One rule for line ends, the appender's and every reader's: `\n`, with a tolerated
        // `\r` before it. A file with bare `\r` line ends is one long line whose first "line"
        // would hold the header and every row (issue 14.13: `skew report` then read 0 rows
        // and said "nothing to report" while `skew monitor` refused the file at line 1).
        if memchr::memchr(b'\r', header_line).is_some() {
            return Err(unknown(
                "bare CR (\\r) line ends: drift logs end their lines with \\n".into(),
            ));
        }
        let mut scratch = Vec::new();
        let mut ranges = Vec::new();
        let quoted = split_fields(header_line, &mut scratch, &mut ranges)
            .map_err(|e| unknown(format!("unreadable header: {e}")))?;
        let src = if quoted { &scratch[..] } else { header_line };
        let header = Header {
            names: ranges
                .iter()
                .map(|&(s, e)| String::from_utf8_lossy(&src[s as usize..e as usize]).into_owned())
                .collect(),
        };
        for needed in REQUIRED_COLUMNS {
            if header.index(needed).is_none() {
                return Err(unknown(format!("the header has no {needed:?} column")));
            }
        }
        // The reader must be able to use this header (checked once, before any row).
        make(&header).map_err(unknown)?;
        let schema_col = header.index("schema").unwrap_or(0);
        Ok(Scanner {
            label,
            threads,
            max_line_bytes,
            make,
            header,
            schema_col,
            visitors: Vec::new(),
            rows: 0,
            warnings: Vec::new(),
            line: 2,
        })
    }

    /// Scans whole records (`body` starts at a record and ends after a newline, except the
    /// file's last body, whose last line is torn when `torn_possible`).
    fn scan_body(&mut self, body: &[u8], torn_possible: bool) -> Result<(), LogError> {
        let chunks = split_chunks(body, self.threads);
        let mut visitors = Vec::with_capacity(chunks.len());
        for _ in &chunks {
            visitors.push(
                (self.make)(&self.header).map_err(|reason| LogError::UnknownFormat {
                    path: self.label.into(),
                    line: 1,
                    reason,
                })?,
            );
        }
        let mut bases = Vec::with_capacity(chunks.len());
        let mut line_base = self.line;
        for c in &chunks {
            bases.push(line_base);
            line_base += count_newlines(&body[c.clone()]);
        }
        let ctx = ChunkCtx {
            label: self.label,
            ncols: self.header.len(),
            schema_col: self.schema_col,
            max_line_bytes: self.max_line_bytes,
        };
        let outcomes: Vec<ChunkOutcome> = if visitors.len() == 1 {
            vec![scan_chunk(
                &ctx,
                &body[chunks[0].clone()],
                bases[0],
                torn_possible,
                &mut visitors[0],
            )]
        } else {
            let n = visitors.len();
            let label = self.label;
            std::thread::scope(|s| {
                let handles: Vec<_> = visitors
                    .iter_mut()
                    .enumerate()
                    .map(|(i, v)| {
                        let chunk = &body[chunks[i].clone()];
                        let base = bases[i];
                        let ctx = &ctx;
                        let torn = i + 1 == n && torn_possible;
                        s.spawn(move || scan_chunk(ctx, chunk, base, torn, v))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| ChunkOutcome {
                            rows: 0,
                            warning: None,
                            error: Some(LogError::Malformed {
                                path: label.into(),
                                line: 0,
                                reason: "the reader thread panicked".into(),
                            }),
                        })
                    })
                    .collect()
            })
        };
        for o in outcomes {
            if let Some(e) = o.error {
                return Err(e);
            }
            self.rows += o.rows;
            self.warnings.extend(o.warning);
        }
        self.visitors.extend(visitors);
        self.line = line_base;
        Ok(())
    }

    fn finish(self, bytes: u64) -> Scanned<V> {
        Scanned {
            header: self.header,
            visitors: self.visitors,
            rows: self.rows,
            warnings: self.warnings,
            bytes,
        }
    }
}

struct ChunkCtx<'a> {
    label: &'a str,
    ncols: usize,
    schema_col: usize,
    max_line_bytes: usize,
}

struct ChunkOutcome {
    rows: u64,
    warning: Option<String>,
    error: Option<LogError>,
}

fn scan_chunk<V: RowVisitor>(
    ctx: &ChunkCtx<'_>,
    chunk: &[u8],
    first_line: u64,
    torn_possible: bool,
    visitor: &mut V,
) -> ChunkOutcome {
    let mut out = ChunkOutcome {
        rows: 0,
        warning: None,
        error: None,
    };
    let mut scratch = Vec::new();
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(ctx.ncols);
    let mut pos = 0usize;
    let mut line = first_line;
    let malformed = |line: u64, reason: String| LogError::Malformed {
        path: ctx.label.into(),
        line,
        reason,
    };
    while pos < chunk.len() {
        // Most rows have no quote: the first newline ends them (one pass).
        let (end, may_quote) = match memchr::memchr2(b'\n', b'"', &chunk[pos..]) {
            Some(i) if chunk[pos + i] == b'\n' => (pos + i, false),
            Some(_) => (record_end(chunk, pos), true),
            None => (chunk.len(), false),
        };
        let record = trim_cr(&chunk[pos..end]);
        let this_line = line;
        if record.len() > ctx.max_line_bytes {
            out.error = Some(malformed(
                this_line,
                format!("line longer than {} bytes", ctx.max_line_bytes),
            ));
            return out;
        }
        line += 1 + if may_quote { count_newlines(record) } else { 0 };
        let next = end + 1;
        let last = next >= chunk.len();
        pos = next;
        if record.is_empty() {
            continue;
        }
        let torn = last && torn_possible;
        let torn_warning =
            |why: &str| format!("{}:{this_line}: torn last line skipped ({why})", ctx.label);
        // Rows are appended whole, newline included: a last line without its newline was
        // never completely written, even when what was written happens to parse (a number
        // cut short is still a number). The next append cuts it; the reader skips it.
        if torn {
            out.warning = Some(torn_warning("a run was interrupted while writing it"));
            break;
        }
        let quoted = match split_fields(record, &mut scratch, &mut ranges) {
            Ok(q) => q,
            Err(e) if torn => {
                out.warning = Some(torn_warning(&e));
                break;
            }
            Err(e) => {
                out.error = Some(malformed(this_line, e));
                return out;
            }
        };
        if ranges.len() != ctx.ncols {
            if torn {
                out.warning = Some(torn_warning("a run was interrupted while writing it"));
                break;
            }
            out.error = Some(malformed(
                this_line,
                format!("{} fields, the header has {}", ranges.len(), ctx.ncols),
            ));
            return out;
        }
        let row = RawRow {
            line: this_line,
            src: if quoted { &scratch } else { record },
            ranges: &ranges,
        };
        let schema = row.field(ctx.schema_col);
        if schema != b"1" {
            match std::str::from_utf8(schema)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                Some(v) if v > SCHEMA_VERSION => {
                    out.error = Some(LogError::UnknownFormat {
                        path: ctx.label.into(),
                        line: this_line,
                        reason: format!(
                            "schema version {v} is newer than this skew understands ({SCHEMA_VERSION})"
                        ),
                    });
                    return out;
                }
                Some(_) => {}
                None if torn => {
                    out.warning = Some(torn_warning("no schema version"));
                    break;
                }
                None => {
                    out.error = Some(malformed(
                        this_line,
                        format!(
                            "schema: invalid version {:?}",
                            String::from_utf8_lossy(schema)
                        ),
                    ));
                    return out;
                }
            }
        }
        match visitor.visit(&row) {
            Ok(()) => out.rows += 1,
            Err(e) if torn => {
                out.warning = Some(torn_warning(&e));
                break;
            }
            Err(e) => {
                out.error = Some(malformed(this_line, e));
                return out;
            }
        }
    }
    out
}

/// The end (index of the newline, or the length) of the record starting at `start`: the
/// first newline outside quotes.
fn record_end(bytes: &[u8], start: usize) -> usize {
    let mut from = start;
    loop {
        let nl = memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i);
        let quotes = memchr::memchr_iter(b'"', &bytes[start..nl]).count();
        if quotes % 2 == 0 || nl >= bytes.len() {
            return nl;
        }
        from = nl + 1;
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Splits one record into field ranges. Without quotes the ranges point into `record`
/// (returns false); with quotes the csv crate unquotes the fields into `scratch` and the
/// ranges point there (returns true).
fn split_fields(
    record: &[u8],
    scratch: &mut Vec<u8>,
    ranges: &mut Vec<(u32, u32)>,
) -> Result<bool, String> {
    ranges.clear();
    scratch.clear();
    if record.len() > u32::MAX as usize {
        return Err("line too long".into());
    }
    if memchr::memchr(b'"', record).is_none() {
        split_commas(record, ranges);
        return Ok(false);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(record);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => {
            ranges.push((0, 0));
            return Ok(true);
        }
        Err(e) => return Err(e.to_string()),
    }
    if rdr
        .read_byte_record(&mut csv::ByteRecord::new())
        .unwrap_or(false)
    {
        return Err("more than one record on a line".into());
    }
    for f in rec.iter() {
        let s = scratch.len() as u32;
        scratch.extend_from_slice(f);
        ranges.push((s, scratch.len() as u32));
    }
    Ok(true)
}

/// Field ranges of a record without quotes. Commas are found eight bytes at a time (fields
/// are short: a call to memchr per comma costs more than this).
fn split_commas(record: &[u8], ranges: &mut Vec<(u32, u32)>) {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const COMMAS: u64 = 0x2C2C_2C2C_2C2C_2C2C;
    let mut start = 0u32;
    let mut i = 0usize;
    let mut words = record.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ COMMAS;
        // High bit set exactly in the bytes of x that are zero (the commas).
        let mut m = !(((x & LO7).wrapping_add(LO7)) | x | LO7);
        while m != 0 {
            let at = (i + (m.trailing_zeros() / 8) as usize) as u32;
            ranges.push((start, at));
            start = at + 1;
            m &= m - 1;
        }
        i += 8;
    }
    for (k, &b) in words.remainder().iter().enumerate() {
        if b == b',' {
            let at = (i + k) as u32;
            ranges.push((start, at));
            start = at + 1;
        }
    }
    ranges.push((start, record.len() as u32));
}

/// Splits `body` into up to `threads` ranges that each start at a record boundary.
fn split_chunks(body: &[u8], threads: usize) -> Vec<std::ops::Range<usize>> {
    let n = threads.max(1).min(body.len() / MIN_BYTES_PER_THREAD).max(1);
    let mut cuts = vec![0usize];
    let mut quotes_before = 0usize; // quotes in body[..last cut]
    for k in 1..n {
        let prev = *cuts.last().unwrap_or(&0);
        let mut at = (body.len() * k / n).max(prev);
        // Move to the next newline that is outside quotes.
        loop {
            let Some(i) = memchr::memchr(b'\n', &body[at..]) else {
                at = body.len();
                break;
            };
            let nl = at + i;
            let q = memchr::memchr_iter(b'"', &body[prev..nl]).count();
            if (quotes_before + q) % 2 == 0 {
                quotes_before += q;
                at = nl + 1;
                break;
            }
            at = nl + 1;
        }
        if at >= body.len() {
            break;
        }
        cuts.push(at);
    }
    cuts.push(body.len());
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<(u64, Vec<String>)>;

    /// Keeps every row's fields; rejects kind "bad".
    struct Keep(Rows, usize);

    impl RowVisitor for Keep {
        fn visit(&mut self, r: &RawRow<'_>) -> Result<(), String> {
            if r.field(3) == b"bad" {
                return Err("bad kind".into());
            }
            let fields = (0..self.1)
                .map(|i| String::from_utf8_lossy(r.field(i)).into_owned())
                .collect();
            self.0.push((r.line(), fields));
            Ok(())
        }
    }

    fn collect(bytes: &[u8], threads: usize) -> Result<(Rows, Vec<String>), LogError> {
        let s = scan_log("f.csv", bytes, threads, |h| Ok(Keep(Vec::new(), h.len())))?;
        Ok((
            s.visitors.into_iter().flat_map(|k| k.0).collect(),
            s.warnings,
        ))
    }

    const HEAD: &str = "schema,run_time,host,kind,error\n";

    #[test]
    fn splits_rows_and_quoted_fields() {
        let text = format!(
            "{HEAD}1,t1,h,ntp,\n1,t2,h,ntp,\"a, \"\"quoted\"\" text\"\r\n\n1,t3,h,ntp,\"two\nlines\"\n1,t4,h,ntp,x\n"
        );
        let (rows, warnings) = collect(text.as_bytes(), 1).unwrap();
        assert!(warnings.is_empty());
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![2, 3, 5, 7]);
        assert_eq!(rows[1].1[4], "a, \"quoted\" text");
        assert_eq!(rows[2].1[4], "two\nlines");
        assert_eq!(rows[3].1, vec!["1", "t4", "h", "ntp", "x"]);
    }

    #[test]
    fn errors_and_torn_lines() {
        assert!(matches!(collect(b"", 1), Err(LogError::Empty { .. })));
        let e = collect(b"a,b\n1,2\n", 1).unwrap_err();
        assert!(
            e.to_string().starts_with("f.csv:1: not a skew drift log"),
            "{e}"
        );
        let text = format!("{HEAD}1,t,h,ntp,\n1,t,h\n1,t,h,ntp,\n");
        let e = collect(text.as_bytes(), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:3: malformed row: 3 fields, the header has 5"
        );
        let e = collect(format!("{HEAD}1,t,h,bad,\n").as_bytes(), 1).unwrap_err();
        assert_eq!(e.to_string(), "f.csv:2: malformed row: bad kind");
        let e = collect(format!("{HEAD}2,t,h,ntp,\n").as_bytes(), 1).unwrap_err();
        assert!(
            e.to_string()
                .contains("f.csv:2: not a skew drift log: schema version 2"),
            "{e}"
        );
        let e = collect(format!("{HEAD}x,t,h,ntp,\n").as_bytes(), 1).unwrap_err();
        assert!(
            e.to_string().starts_with("f.csv:2: malformed row: schema"),
            "{e}"
        );
        // A torn last line (no newline) is skipped with a warning.
        let (rows, w) = collect(format!("{HEAD}1,t,h,ntp,\n1,t,h,n").as_bytes(), 1).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            w,
            vec!["f.csv:3: torn last line skipped (a run was interrupted while writing it)"]
        );
        let (_, w) = collect(format!("{HEAD}1,t,h,ntp,\n1,t,h,bad,").as_bytes(), 1).unwrap();
        // Even a torn line that would fail on its own is reported as torn.
        assert_eq!(
            w,
            vec!["f.csv:3: torn last line skipped (a run was interrupted while writing it)"]
        );
    }

    #[test]
    fn bare_cr_line_ends_are_refused_at_line_1() {
        // Issue 14.13: without a quote in the file, the header "line" (the whole file) held
        // every column the reader needs, so the scan found no row and no error.
        let text = format!("{HEAD}1,t1,h,ntp,\n1,t2,h,ntp,x\n").replace('\n', "\r");
        let e = collect(text.as_bytes(), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:1: not a skew drift log: bare CR (\\r) line ends: drift logs end their lines with \\n"
        );
        // CRLF is still a line end.
        let text = format!("{HEAD}1,t1,h,ntp,\n1,t2,h,ntp,x\n").replace('\n', "\r\n");
        let (rows, w) = collect(text.as_bytes(), 1).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(w.is_empty());
    }

    #[test]
    fn threads_see_the_same_rows_and_lines() {
        let mut text = String::from(HEAD);
        for i in 0..50_000 {
            if i % 1000 == 7 {
                text.push_str(&format!("1,t{i},h,ntp,\"multi\nline, {i}\"\n"));
            } else {
                text.push_str(&format!("1,t{i},h,ntp,e{i}\n"));
            }
        }
        assert!(text.len() > 3 * MIN_BYTES_PER_THREAD);
        let one = collect(text.as_bytes(), 1).unwrap();
        assert_eq!(one.0.len(), 50_000);
        for threads in [2, 3] {
            let many = collect(text.as_bytes(), threads).unwrap();
            assert_eq!(one, many, "{threads} threads");
        }
        // An error in a later chunk names its absolute line.
        let mut bad = text.clone();
        bad.push_str("1,t,h\n");
        let lines = bad.matches('\n').count();
        let e = collect(bad.as_bytes(), 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("f.csv:{lines}: malformed row: 3 fields, the header has 5")
        );
    }

    /// A reader that hands out at most `step` bytes per read (as a pipe or a decompressor).
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn collect_stream(
        bytes: &[u8],
        threads: usize,
        step: usize,
        limits: ReadLimits,
    ) -> Result<(Rows, Vec<String>), LogError> {
        let s = scan_reader(
            "f.csv",
            Trickle { data: bytes, step },
            threads,
            limits,
            |h| Ok(Keep(Vec::new(), h.len())),
        )?;
        Ok((
            s.visitors.into_iter().flat_map(|k| k.0).collect(),
            s.warnings,
        ))
    }

    #[test]
    fn a_stream_reads_what_the_bytes_read() {
        // Several blocks, quoted fields spanning lines at block edges, a torn last line.
        let mut text = String::from(HEAD);
        for i in 0..20_000 {
            if i % 997 == 3 {
                text.push_str(&format!("1,t{i},h,ntp,\"multi\nline, {i}\"\n"));
            } else {
                text.push_str(&format!("1,t{i},h,ntp,e{i}\n"));
            }
        }
        text.push_str("1,t,h,n");
        assert!(text.len() > 3 * BLOCK_BYTES);
        let want = collect(text.as_bytes(), 1).unwrap();
        assert_eq!(want.0.len(), 20_000);
        assert_eq!(want.1.len(), 1);
        for (threads, step) in [(1, 1 << 20), (2, 7_001), (3, 65_536), (1, 1)] {
            if step == 1 && threads == 1 {
                // Byte by byte: a short prefix is enough.
                let short = &text.as_bytes()[..5_000];
                assert_eq!(
                    collect_stream(short, 1, 1, ReadLimits::default()).unwrap(),
                    collect(short, 1).unwrap()
                );
                continue;
            }
            let got = collect_stream(text.as_bytes(), threads, step, ReadLimits::default());
            assert_eq!(got.unwrap(), want, "threads {threads}, step {step}");
        }
        // An error in a later block names its absolute line.
        let mut bad = text.replace("1,t,h,n", "");
        bad.push_str("1,t,h\n1,t,h,ntp,\n");
        let lines = bad.matches('\n').count() - 1;
        let e = collect_stream(bad.as_bytes(), 2, 9_999, ReadLimits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("f.csv:{lines}: malformed row: 3 fields, the header has 5")
        );
        assert_eq!(
            e.to_string(),
            collect(bad.as_bytes(), 2).unwrap_err().to_string()
        );
    }

    #[test]
    fn a_stream_stops_at_its_limits() {
        let limits = ReadLimits {
            max_bytes: 10_000,
            max_line_bytes: 1_000,
        };
        // Larger than the limit: refused once the limit is passed, never read whole.
        let mut text = String::from(HEAD);
        while text.len() < 50_000 {
            text.push_str("1,t,h,ntp,x\n");
        }
        let e = collect_stream(text.as_bytes(), 1, 4096, limits).unwrap_err();
        assert!(matches!(e, LogError::TooLarge { limit: 10_000, .. }), "{e}");
        assert!(
            e.to_string().contains("more than the limit of 10000 bytes"),
            "{e}"
        );
        // Within the limit: read.
        let (rows, _) = collect_stream(&text.as_bytes()[..9_000], 1, 4096, limits).unwrap();
        assert!(rows.len() > 100);
        // A first line longer than a line: not a header (a bomb of zeros, a sparse file).
        let zeros = vec![0u8; 9_000];
        let e = collect_stream(&zeros, 1, 4096, limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:1: not a skew drift log: the first line is longer than 1000 bytes (not a header)"
        );
        // A long line later on: malformed at its line, in a stream and in memory alike.
        let mut long = format!("{HEAD}1,t,h,ntp,x\n1,t,h,ntp,");
        long.push_str(&"y".repeat(2_000));
        long.push_str("\n1,t,h,ntp,x\n");
        let e = collect_stream(long.as_bytes(), 1, 512, limits).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv:3: malformed row: line longer than 1000 bytes"
        );
        // Only blank space: empty, however long.
        let blank = vec![b' '; 5_000];
        let e = collect_stream(&blank, 1, 100, limits).unwrap_err();
        assert!(matches!(e, LogError::Empty { .. }), "{e}");
        // Found by the drift_log_stream fuzz target: a first line of blank space and bare CRs
        // longer than a line was dropped, and the header read after it; it is the header.
        let mut cr = vec![b'\r'; 1_500];
        cr.extend_from_slice(b"\xdd\x00\xbb");
        assert_eq!(
            collect_stream(&cr, 1, 100, limits).unwrap_err().to_string(),
            "f.csv:1: not a skew drift log: the first line is longer than 1000 bytes (not a header)"
        );
        let mut spaces = vec![b' '; 1_500];
        spaces.extend_from_slice(HEAD.as_bytes());
        assert!(collect_stream(&spaces, 1, 100, limits).is_err());
        let short = ReadLimits {
            max_line_bytes: 64,
            ..limits
        };
        let e = collect_stream(&cr[1_450..], 1, 7, short).unwrap_err();
        assert_eq!(
            e.to_string(),
            collect(&cr[1_450..], 1).unwrap_err().to_string(),
            "a short first line of CRs: the bare-CR rule, in a stream as in memory"
        );
        // The line cap holds for bytes in memory too.
        let mut huge = format!("{HEAD}1,t,h,ntp,");
        huge.push_str(&"y".repeat(MAX_LINE_BYTES + 1));
        huge.push('\n');
        let e = collect(huge.as_bytes(), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("f.csv:2: malformed row: line longer than {MAX_LINE_BYTES} bytes")
        );
    }

    #[test]
    fn record_boundaries_respect_quotes() {
        assert_eq!(last_record_boundary(b"a,b\nc,d"), 4);
        assert_eq!(last_record_boundary(b"a,b\nc,\"d\ne"), 4);
        assert_eq!(last_record_boundary(b"a,\"b\nc\"\nd"), 8);
        assert_eq!(last_record_boundary(b"no newline"), 0);
        assert_eq!(last_record_boundary(b"\"open\nquote"), 0);
    }

    #[test]
    fn commas_found_at_every_offset() {
        for len in 0..40 {
            for mask in [
                0u64,
                1,
                0b1010_0101,
                u64::MAX,
                0x8000_0000_0001,
                0x1234_5678_9ABC,
            ] {
                let rec: Vec<u8> = (0..len)
                    .map(|i| {
                        if mask >> (i % 64) & 1 == 1 {
                            b','
                        } else {
                            b'a' + (i % 26) as u8
                        }
                    })
                    .collect();
                let mut fast = Vec::new();
                split_commas(&rec, &mut fast);
                let mut slow = Vec::new();
                let mut s = 0u32;
                for (i, &b) in rec.iter().enumerate() {
                    if b == b',' {
                        slow.push((s, i as u32));
                        s = i as u32 + 1;
                    }
                }
                slow.push((s, rec.len() as u32));
                assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(&rec));
            }
        }
        // Bytes with the high bit set (UTF-8) next to commas.
        let rec = "é,ü,,x".as_bytes();
        let mut r = Vec::new();
        split_commas(rec, &mut r);
        assert_eq!(r, vec![(0, 2), (3, 5), (6, 6), (7, 8)]);
    }

    #[test]
    fn chunks_start_outside_quotes() {
        let unit: &[u8] = b"a,\"x\ny\"\nb\n\"c\nd\"\ne\n";
        let body = unit.repeat(3 * MIN_BYTES_PER_THREAD / unit.len() + 1);
        for n in 1..5 {
            let chunks = split_chunks(&body, n);
            assert_eq!(chunks.len(), n.min(3));
            assert_eq!(chunks.last().unwrap().end, body.len());
            for c in &chunks {
                let q = memchr::memchr_iter(b'"', &body[..c.start]).count();
                assert_eq!(q % 2, 0, "{chunks:?}");
                assert!(c.start == 0 || body[c.start - 1] == b'\n');
            }
        }
    }
}
