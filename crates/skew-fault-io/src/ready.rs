//! Readiness without sleeps: once every address is bound, one `listening on ADDR` line per
//! address on stdout, and optionally the same lines in a file written atomically (a
//! temporary file renamed into place), so a supervisor can wait for either.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;

/// The readiness line for an address.
pub fn line(addr: &SocketAddr) -> String {
    format!("listening on {addr}")
}

/// Prints the readiness lines on stdout and flushes.
pub fn announce(addrs: &[SocketAddr]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for a in addrs {
        writeln!(out, "{}", line(a))?;
    }
    out.flush()
}

/// Writes the readiness lines to `path` atomically ([`skew_fs::write_atomic`]).
pub fn write_ready_file(path: &Path, addrs: &[SocketAddr]) -> io::Result<()> {
    let mut text = String::new();
    for a in addrs {
        text.push_str(&line(a));
        text.push('\n');
    }
    Ok(skew_fs::write_atomic(path, text.as_bytes())?)
}

/// Parses readiness lines back into addresses (for supervisors and tests).
pub fn parse(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.strip_prefix("listening on "))
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trip() {
        let dir = std::env::temp_dir().join(format!("skew-ready-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ready");
        let addrs: Vec<SocketAddr> =
            vec!["127.0.0.1:5".parse().unwrap(), "[::1]:6".parse().unwrap()];
        write_ready_file(&p, &addrs).unwrap();
        assert_eq!(parse(&std::fs::read_to_string(&p).unwrap()), addrs);
        assert_eq!(line(&addrs[1]), "listening on [::1]:6");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
