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

/// The first line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstLine {
    /// Its text (lossy UTF-8, without the line end and a `\r` before it; at most
    /// [`MAX_HEADER_BYTES`]).
    pub text: String,
    /// Whether a line end was found (false: the file ends inside it, or is empty).
    pub complete: bool,
}

/// Reads the first line of `f` from offset 0, whatever the file position or append mode.
pub fn first_line(f: &File) -> std::io::Result<FirstLine> {
    let mut first = Vec::new();
    let mut buf = [0u8; 4096];
    let mut offset = 0u64;
    let mut complete = false;
    loop {
        let n = f.read_at(&mut buf, offset)?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            first.extend_from_slice(&buf[..i]);
            complete = true;
            break;
        }
        first.extend_from_slice(&buf[..n]);
        if first.len() > MAX_HEADER_BYTES {
            first.truncate(MAX_HEADER_BYTES);
            break;
        }
    }
    let text = String::from_utf8_lossy(&first);
    Ok(FirstLine {
        text: text.trim_end_matches('\r').to_string(),
        complete,
    })
}

/// Reads the first line of `f` ([`first_line`]) and compares it with `header` (without
/// its line end).
pub fn check_header(f: &File, header: &str) -> std::io::Result<Header> {
    let first = first_line(f)?;
    Ok(if !first.complete && first.text.is_empty() {
        Header::Empty
    } else if first.complete && first.text == header {
        Header::Matches
    } else if !first.complete && header.starts_with(&first.text) {
        Header::Torn
    } else {
        Header::Foreign {
            first_line: first.text,
        }
    })
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
