//! Files that are appended to: whether a file starts with a given header line, so a writer
//! never appends its rows to somebody else's file (the drift log, `skew clocks --csv`).

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The longest first line read before giving up on finding its end.
pub const MAX_HEADER_BYTES: usize = 65536;

/// What a file starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// The file is empty: the writer may write its header.
    Empty,
    /// The first line is the header (a `\r` before its `\n` is tolerated).
    Matches,
    /// No line end yet, and what is there is a beginning of the header: a writer killed
    /// while writing it.
    Torn,
    /// Something else; the first line as text (lossy, at most [`MAX_HEADER_BYTES`]).
    Foreign {
        /// The first line.
        first_line: String,
    },
}

/// Reads the first line of `f` (from offset 0, whatever the file position or append mode)
/// and compares it with `header` (without its line end).
pub fn check_header(f: &File, header: &str) -> std::io::Result<Header> {
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    let mut offset = 0u64;
    let mut newline = false;
    loop {
        let n = f.read_at(&mut buf, offset)?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            first.extend_from_slice(&buf[..i]);
            newline = true;
            break;
        }
        first.extend_from_slice(&buf[..n]);
        if first.len() > MAX_HEADER_BYTES {
            first.truncate(MAX_HEADER_BYTES);
            break;
        }
    }
    if first.is_empty() && !newline {
        return Ok(Header::Empty);
    }
    let line = String::from_utf8_lossy(&first);
    let line = line.trim_end_matches('\r');
    if newline && line == header {
        Ok(Header::Matches)
    } else if !newline && header.as_bytes().starts_with(&first) {
        Ok(Header::Torn)
    } else {
        Ok(Header::Foreign {
            first_line: line.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn with(content: &[u8]) -> Header {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        check_header(&f, "a,b,c").unwrap()
    }

    #[test]
    fn each_case() {
        assert_eq!(with(b""), Header::Empty);
        assert_eq!(with(b"a,b,c\n1,2,3\n"), Header::Matches);
        assert_eq!(with(b"a,b,c\r\n"), Header::Matches);
        assert_eq!(with(b"a,b"), Header::Torn);
        assert_eq!(
            with(b"a,b,c,d\n"),
            Header::Foreign {
                first_line: "a,b,c,d".into()
            }
        );
        assert_eq!(
            with(b"a,b,c"),
            Header::Torn,
            "the whole header without its newline"
        );
        assert_eq!(
            with(b"\n"),
            Header::Foreign {
                first_line: String::new()
            }
        );
        assert_eq!(
            with(b"x"),
            Header::Foreign {
                first_line: "x".into()
            }
        );
    }
}
