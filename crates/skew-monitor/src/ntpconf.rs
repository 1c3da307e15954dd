//! The servers of the system's NTP configuration: chrony (`server`, `pool`, `peer` lines,
//! `sourcedir` files), ntpd/ntpsec (`server`, `pool`, `peer`) and systemd-timesyncd
//! (`NTP=`, `FallbackNTP=`). Parsing is pure; [`system_servers`] reads the usual files.

use std::path::{Path, PathBuf};

/// A server found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredServer {
    /// Host name or address (with `:port` when the file gave a port). For an NTS server,
    /// the NTS-KE server (with `:ntsport` when the file gave one).
    pub server: String,
    /// The file it came from.
    pub source: PathBuf,
    /// Marked `nts` (chrony): probe it with NTS.
    pub nts: bool,
}

/// Servers in chrony or ntpd syntax: `server|pool|peer HOST [options]`; a `port N` option
/// (chrony) is kept as `HOST:N`. ntpd reference clocks (127.127.x.x) are skipped.
pub fn parse_chrony_or_ntpd(text: &str) -> Vec<String> {
    parse_sources(text).into_iter().map(|(s, _)| s).collect()
}

/// Like [`parse_chrony_or_ntpd`], with whether each server is marked `nts` (chrony). An NTS
/// server is named by its NTS-KE endpoint: `HOST`, or `HOST:N` with `ntsport N` (its `port`
/// is left to the key exchange, which names the NTP port).
pub fn parse_sources(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', '!', ';', '%']) {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(directive) = words.next() else {
            continue;
        };
        if !matches!(
            directive.to_ascii_lowercase().as_str(),
            "server" | "pool" | "peer"
        ) {
            continue;
        }
        let Some(host) = words.next() else { continue };
        if host.starts_with("127.127.") {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let nts = rest.iter().any(|w| w.eq_ignore_ascii_case("nts"));
        let key = if nts { "ntsport" } else { "port" };
        let port = rest.windows(2).find(|w| w[0] == key).map(|w| w[1]);
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        out.push((
            match port {
                Some(p) => format!("{host}:{p}"),
                None => host,
            },
            nts,
        ));
    }
    out
}

/// Servers from systemd-timesyncd's `NTP=` (and, when it gives none, `FallbackNTP=`) lines.
pub fn parse_timesyncd(text: &str) -> Vec<String> {
    let mut ntp = Vec::new();
    let mut fallback = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(v) = line.strip_prefix("NTP=") {
            ntp.extend(v.split_whitespace().map(String::from));
        } else if let Some(v) = line.strip_prefix("FallbackNTP=") {
            fallback.extend(v.split_whitespace().map(String::from));
        }
    }
    if ntp.is_empty() {
        fallback
    } else {
        ntp
    }
}

/// The server to use when the system configures none.
pub const DEFAULT_SERVER: &str = "pool.ntp.org";

/// Reads the usual configuration files under `root` (`/` normally; tests pass a fake root)
/// and returns the servers found, without duplicates, in file order.
pub fn system_servers(root: &Path) -> Vec<ConfiguredServer> {
    let mut out: Vec<ConfiguredServer> = Vec::new();
    let mut push = |servers: Vec<(String, bool)>, source: &Path| {
        for (s, nts) in servers {
            if !out.iter().any(|c| c.server == s && c.nts == nts) {
                out.push(ConfiguredServer {
                    server: s,
                    source: source.to_path_buf(),
                    nts,
                });
            }
        }
    };
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let mut chrony_files = vec![at("/etc/chrony/chrony.conf"), at("/etc/chrony.conf")];
    for dir in ["/etc/chrony/sources.d", "/etc/chrony/conf.d"] {
        if let Ok(rd) = std::fs::read_dir(at(dir)) {
            let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            v.sort();
            chrony_files.extend(v);
        }
    }
    chrony_files.extend([at("/etc/ntp.conf"), at("/etc/ntpsec/ntp.conf")]);
    for f in chrony_files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            push(parse_sources(&text), &f);
        }
    }
    let mut timesyncd = vec![at("/etc/systemd/timesyncd.conf")];
    if let Ok(rd) = std::fs::read_dir(at("/etc/systemd/timesyncd.conf.d")) {
        let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        v.sort();
        timesyncd.extend(v);
    }
    for f in timesyncd {
        if let Ok(text) = std::fs::read_to_string(&f) {
            push(
                parse_timesyncd(&text)
                    .into_iter()
                    .map(|s| (s, false))
                    .collect(),
                &f,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrony_and_ntpd_lines() {
        let text = "# comment\n! also\npool 2.debian.pool.ntp.org iburst\nserver ntp1.example port 1123 iburst\n\
                    server 127.127.1.0\nserver fe80::1 iburst\npeer 10.0.0.2\nallow 10/8\nSERVER upper.example\n";
        assert_eq!(
            parse_chrony_or_ntpd(text),
            vec![
                "2.debian.pool.ntp.org",
                "ntp1.example:1123",
                "[fe80::1]",
                "10.0.0.2",
                "upper.example"
            ]
        );
    }

    #[test]
    fn nts_marks() {
        let text = "server time.example nts iburst\nserver nts.example iburst nts ntsport 4461 port 1123\n\
                    pool plain.example\nserver 127.0.0.1 port 11123 nts\n";
        assert_eq!(
            parse_sources(text),
            vec![
                ("time.example".to_string(), true),
                ("nts.example:4461".to_string(), true),
                ("plain.example".to_string(), false),
                ("127.0.0.1".to_string(), true),
            ]
        );
    }

    #[test]
    fn timesyncd_lines() {
        assert_eq!(
            parse_timesyncd("[Time]\n#NTP=\nFallbackNTP=a.example b.example\n"),
            vec!["a.example", "b.example"]
        );
        assert_eq!(
            parse_timesyncd("[Time]\nNTP=c.example\nFallbackNTP=a.example\n"),
            vec!["c.example"]
        );
    }

    #[test]
    fn fake_root() {
        let root = std::env::temp_dir().join(format!("skew-ntpconf-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc/chrony/sources.d")).unwrap();
        std::fs::create_dir_all(root.join("etc/systemd")).unwrap();
        std::fs::write(
            root.join("etc/chrony/chrony.conf"),
            "pool a.example iburst\n",
        )
        .unwrap();
        std::fs::write(
            root.join("etc/chrony/sources.d/x.sources"),
            "server b.example\npool a.example\n",
        )
        .unwrap();
        std::fs::write(
            root.join("etc/systemd/timesyncd.conf"),
            "[Time]\nNTP=c.example\n",
        )
        .unwrap();
        let v: Vec<String> = system_servers(&root)
            .into_iter()
            .map(|c| c.server)
            .collect();
        assert_eq!(v, vec!["a.example", "b.example", "c.example"]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
