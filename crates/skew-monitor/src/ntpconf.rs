//! The servers of an NTP configuration: chrony (`server`, `pool`, `peer` lines), ntpd/ntpsec
//! (the same three) and systemd-timesyncd (`NTP=`, `FallbackNTP=`). A `pool` line stands for
//! several servers: every address its name resolves to, up to its `maxsources` (chrony's
//! default, [`DEFAULT_POOL_MAXSOURCES`]); a `server` line and a timesyncd name are one server
//! each. A chrony source marked `nts` is probed with NTS, named by its NTS-KE endpoint.
//! Parsing is pure ([`parse`], which tells the three syntaxes apart by content);
//! [`read_conf`] reads one file and [`system_conf`] the usual files of the system.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How many addresses a `pool` line gives when it does not say (`maxsources`, chrony's
/// default; ntpd has no such option and gets the same).
pub const DEFAULT_POOL_MAXSOURCES: usize = 4;

/// chrony's upper limit of `maxsources`.
pub const MAX_POOL_MAXSOURCES: usize = 16;

/// The server to use when the system configures none.
pub const DEFAULT_SERVER: &str = "pool.ntp.org";

/// Which daemon's configuration a text is, told apart by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfKind {
    /// chrony.conf: directives only chrony knows (`makestep`, `rtcsync`, `allow`,
    /// `sourcedir`, a `maxsources` or `port` option...).
    Chrony,
    /// ntp.conf of ntpd or ntpsec: directives only ntpd knows (`restrict`, `tos`,
    /// `filegen`, `statsdir`...).
    Ntpd,
    /// `server` and `pool` lines and nothing that tells chrony from ntpd (both read them
    /// alike).
    ChronyOrNtpd,
    /// systemd-timesyncd's timesyncd.conf: a `[Time]` section, `NTP=`, `FallbackNTP=`.
    Timesyncd,
}

impl ConfKind {
    /// How the kind is named in reports: `chrony.conf`, `ntp.conf`, `chrony.conf or
    /// ntp.conf`, `timesyncd.conf`.
    pub fn name(self) -> &'static str {
        match self {
            ConfKind::Chrony => "chrony.conf",
            ConfKind::Ntpd => "ntp.conf",
            ConfKind::ChronyOrNtpd => "chrony.conf or ntp.conf",
            ConfKind::Timesyncd => "timesyncd.conf",
        }
    }
}

/// One server or pool line of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfEntry {
    /// Host name or address, with `:port` when the line gave a port (`[v6]:port` for IPv6).
    /// For an NTS source, the NTS-KE server (with `:ntsport` when the line gave one).
    pub server: String,
    /// Marked `nts` (chrony): probe it with NTS.
    pub nts: bool,
    /// `Some(n)`: a pool, probed at up to `n` of the addresses its name resolves to
    /// (`maxsources`); `None`: one server (the first address).
    pub pool: Option<usize>,
    /// The line number in its file, from 1.
    pub line: usize,
    /// The line as written (trimmed).
    pub text: String,
}

/// A configuration file read for its servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfFile {
    /// The file.
    pub path: PathBuf,
    /// What kind of configuration its content is.
    pub kind: ConfKind,
    /// Its server and pool lines, in file order.
    pub entries: Vec<ConfEntry>,
    /// Directives naming other files that were not read (`include`, `confdir`,
    /// `sourcedir`, `includefile`), as written.
    pub not_followed: Vec<String>,
}

/// Directives only chrony has (or that ntpd spells otherwise).
const CHRONY_ONLY: &[&str] = &[
    "allow",
    "bindcmdaddress",
    "cmdallow",
    "cmdport",
    "confdir",
    "deny",
    "dumpdir",
    "hwtimestamp",
    "initstepslew",
    "keyfile",
    "leapsecmode",
    "leapsectz",
    "local",
    "lock_all",
    "logdir",
    "makestep",
    "maxdistance",
    "maxupdateskew",
    "minsources",
    "ntsdumpdir",
    "ntsserverkey",
    "ntstrustedcerts",
    "refclock",
    "rtcfile",
    "rtcsync",
    "smoothtime",
    "sourcedir",
];

/// Directives only ntpd/ntpsec have.
const NTPD_ONLY: &[&str] = &[
    "broadcastclient",
    "disable",
    "discard",
    "enable",
    "filegen",
    "fudge",
    "includefile",
    "interface",
    "keys",
    "leapfile",
    "logfile",
    "manycastclient",
    "nic",
    "restrict",
    "statistics",
    "statsdir",
    "tinker",
    "tos",
    "trustedkey",
];

/// The meaningful lines of a chrony/ntpd text: (line number from 1, trimmed line, its
/// words), comments and blank lines left out.
fn directive_lines(text: &str) -> impl Iterator<Item = (usize, &str, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', '!', ';', '%']) {
            return None;
        }
        Some((i + 1, line, line.split_whitespace().collect()))
    })
}

/// Whether a text is systemd-timesyncd's: a `[Time]` section, or `NTP=`/`FallbackNTP=`
/// lines and no server or pool line.
fn is_timesyncd(text: &str) -> bool {
    let mut assignments = false;
    for line in text.lines().map(str::trim) {
        if line.eq_ignore_ascii_case("[time]") {
            return true;
        }
        if line.starts_with("NTP=") || line.starts_with("FallbackNTP=") {
            assignments = true;
        }
    }
    assignments && !directive_lines(text).any(|(_, _, w)| is_source_directive(w[0]))
}

fn is_source_directive(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "server" | "pool" | "peer"
    )
}

/// Tells the kind of configuration `text` is by its content.
pub fn detect_kind(text: &str) -> ConfKind {
    if is_timesyncd(text) {
        return ConfKind::Timesyncd;
    }
    let (mut chrony, mut ntpd) = (0usize, 0usize);
    for (_, _, words) in directive_lines(text) {
        let d = words[0].to_ascii_lowercase();
        if CHRONY_ONLY.contains(&d.as_str()) {
            chrony += 1;
        } else if NTPD_ONLY.contains(&d.as_str()) {
            ntpd += 1;
        } else if is_source_directive(&d)
            && words
                .iter()
                .skip(2)
                .any(|w| matches!(*w, "maxsources" | "port" | "nts" | "xleave"))
        {
            chrony += 1;
        }
    }
    match chrony.cmp(&ntpd) {
        std::cmp::Ordering::Greater => ConfKind::Chrony,
        std::cmp::Ordering::Less => ConfKind::Ntpd,
        std::cmp::Ordering::Equal => ConfKind::ChronyOrNtpd,
    }
}

/// Server, pool and peer lines in chrony or ntpd syntax: `server|pool|peer [-4|-6] HOST
/// [options]`. A `port N` option (chrony) is kept as `HOST:N`; a pool takes `maxsources N`
/// (default [`DEFAULT_POOL_MAXSOURCES`], at most [`MAX_POOL_MAXSOURCES`]). A source marked
/// `nts` is named by its NTS-KE endpoint: `HOST`, or `HOST:N` with `ntsport N` (its `port` is
/// left to the key exchange, which names the NTP port). ntpd reference clocks (127.127.x.x)
/// are skipped.
pub fn parse_chrony_or_ntpd(text: &str) -> Vec<ConfEntry> {
    let mut out = Vec::new();
    for (line, written, words) in directive_lines(text) {
        let directive = words[0].to_ascii_lowercase();
        if !is_source_directive(&directive) {
            continue;
        }
        // ntpd allows `server -4 HOST`: the family qualifier is not the host.
        let mut rest = words[1..]
            .iter()
            .copied()
            .skip_while(|w| *w == "-4" || *w == "-6");
        let Some(host) = rest.next() else { continue };
        if host.starts_with("127.127.") {
            continue;
        }
        let options: Vec<&str> = rest.collect();
        let value_of = |key: &str| options.windows(2).find(|w| w[0] == key).map(|w| w[1]);
        let nts = options.iter().any(|w| w.eq_ignore_ascii_case("nts"));
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let pool = (directive == "pool").then(|| {
            value_of("maxsources")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(DEFAULT_POOL_MAXSOURCES)
                .clamp(1, MAX_POOL_MAXSOURCES)
        });
        out.push(ConfEntry {
            server: match value_of(if nts { "ntsport" } else { "port" }) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            },
            nts,
            pool,
            line,
            text: written.to_string(),
        });
    }
    out
}

/// Servers from systemd-timesyncd's `NTP=` lines (and, when they give none, `FallbackNTP=`),
/// each a server of its own. An empty assignment clears the list given so far, as in
/// systemd.
pub fn parse_timesyncd(text: &str) -> Vec<ConfEntry> {
    let mut ntp: Vec<ConfEntry> = Vec::new();
    let mut fallback: Vec<ConfEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with(['#', ';']) {
            continue;
        }
        let (list, value) = if let Some(v) = line.strip_prefix("NTP=") {
            (&mut ntp, v)
        } else if let Some(v) = line.strip_prefix("FallbackNTP=") {
            (&mut fallback, v)
        } else {
            continue;
        };
        if value.trim().is_empty() {
            list.clear();
        }
        list.extend(value.split_whitespace().map(|s| ConfEntry {
            server: s.to_string(),
            nts: false,
            pool: None,
            line: i + 1,
            text: line.to_string(),
        }));
    }
    if ntp.is_empty() {
        fallback
    } else {
        ntp
    }
}

/// The kind of `text` and its server lines.
pub fn parse(text: &str) -> (ConfKind, Vec<ConfEntry>) {
    let kind = detect_kind(text);
    let entries = match kind {
        ConfKind::Timesyncd => parse_timesyncd(text),
        _ => parse_chrony_or_ntpd(text),
    };
    (kind, entries)
}

/// Directives that name other files (chrony's `include`, `confdir`, `sourcedir`, ntpd's
/// `includefile`), as written.
fn other_files(text: &str) -> Vec<String> {
    directive_lines(text)
        .filter(|(_, _, w)| {
            matches!(
                w[0].to_ascii_lowercase().as_str(),
                "include" | "confdir" | "sourcedir" | "includefile"
            )
        })
        .map(|(_, l, _)| l.to_string())
        .collect()
}

/// Reads one configuration file: its kind (by content) and its server lines. Directives
/// naming other files are listed in `not_followed`, not read.
pub fn read_conf(path: &Path) -> std::io::Result<ConfFile> {
    let text = std::fs::read_to_string(path)?;
    let (kind, entries) = parse(&text);
    Ok(ConfFile {
        path: path.to_path_buf(),
        kind,
        not_followed: if kind == ConfKind::Timesyncd {
            Vec::new()
        } else {
            other_files(&text)
        },
        entries,
    })
}

/// Reads the usual configuration files under `root` (`/` normally; tests pass a fake root):
/// chrony's `/etc/chrony/chrony.conf`, `/etc/chrony.conf`, `/etc/chrony/sources.d/*` and
/// `conf.d/*`, ntpd's `/etc/ntp.conf` and `/etc/ntpsec/ntp.conf`, timesyncd's
/// `/etc/systemd/timesyncd.conf` and `timesyncd.conf.d/*`. Returns the files that name at
/// least one server, in that order.
pub fn system_conf(root: &Path) -> Vec<ConfFile> {
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let sorted_dir = |dir: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(at(dir))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut files = vec![at("/etc/chrony/chrony.conf"), at("/etc/chrony.conf")];
    files.extend(sorted_dir("/etc/chrony/sources.d"));
    files.extend(sorted_dir("/etc/chrony/conf.d"));
    files.extend([at("/etc/ntp.conf"), at("/etc/ntpsec/ntp.conf")]);
    files.push(at("/etc/systemd/timesyncd.conf"));
    files.extend(sorted_dir("/etc/systemd/timesyncd.conf.d"));
    files
        .iter()
        .filter_map(|f| read_conf(f).ok())
        .filter(|c| !c.entries.is_empty())
        .collect()
}

/// A server to probe, from a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredServer {
    /// Host name or address (with `:port` when the file gave a port). For an NTS server,
    /// the NTS-KE server (with `:ntsport` when the file gave one).
    pub server: String,
    /// The file it came from.
    pub source: PathBuf,
    /// Marked `nts` (chrony): probe it with NTS.
    pub nts: bool,
    /// `Some(n)`: a pool of up to `n` addresses.
    pub pool: Option<usize>,
}

/// The servers of `files` without duplicates (the first line naming a server decides
/// whether it is a pool), in file order.
pub fn servers_of(files: &[ConfFile]) -> Vec<ConfiguredServer> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        for e in &f.entries {
            if seen.insert((e.server.clone(), e.nts)) {
                out.push(ConfiguredServer {
                    server: e.server.clone(),
                    source: f.path.clone(),
                    nts: e.nts,
                    pool: e.pool,
                });
            }
        }
    }
    out
}

/// The servers of the system's NTP configuration under `root` ([`system_conf`]), without
/// duplicates, in file order.
pub fn system_servers(root: &Path) -> Vec<ConfiguredServer> {
    servers_of(&system_conf(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(entries: &[ConfEntry]) -> Vec<(&str, Option<usize>)> {
        entries
            .iter()
            .map(|e| (e.server.as_str(), e.pool))
            .collect()
    }

    #[test]
    fn chrony_and_ntpd_lines() {
        let text = "# comment\n! also\npool 2.debian.pool.ntp.org iburst\nserver ntp1.example port 1123 iburst\n\
                    server 127.127.1.0\nserver fe80::1 iburst\npeer 10.0.0.2\nallow 10/8\nSERVER upper.example\n\
                    pool small.example maxsources 2 port 9\nserver -4 ntpd.example iburst\npool big.example maxsources 99\n";
        let e = parse_chrony_or_ntpd(text);
        assert_eq!(
            servers(&e),
            vec![
                ("2.debian.pool.ntp.org", Some(4)),
                ("ntp1.example:1123", None),
                ("[fe80::1]", None),
                ("10.0.0.2", None),
                ("upper.example", None),
                ("small.example:9", Some(2)),
                ("ntpd.example", None),
                ("big.example", Some(16)),
            ]
        );
        assert_eq!(
            (e[0].line, e[0].text.as_str()),
            (3, "pool 2.debian.pool.ntp.org iburst")
        );
        assert_eq!(e[5].line, 10);
    }

    #[test]
    fn nts_marks() {
        let text = "server time.example nts iburst\nserver nts.example iburst nts ntsport 4461 port 1123\n\
                    pool plain.example\nserver 127.0.0.1 port 11123 nts\n";
        let entries = parse_chrony_or_ntpd(text);
        let e: Vec<(&str, bool)> = entries.iter().map(|e| (e.server.as_str(), e.nts)).collect();
        assert_eq!(
            e,
            vec![
                ("time.example", true),
                ("nts.example:4461", true),
                ("plain.example", false),
                ("127.0.0.1", true),
            ]
        );
    }

    #[test]
    fn timesyncd_lines() {
        let e = parse_timesyncd("[Time]\n#NTP=\nFallbackNTP=a.example b.example\n");
        assert_eq!(servers(&e), vec![("a.example", None), ("b.example", None)]);
        assert_eq!(e[1].line, 3);
        let e = parse_timesyncd("[Time]\nNTP=c.example\nFallbackNTP=a.example\n");
        assert_eq!(servers(&e), vec![("c.example", None)]);
        // An empty assignment resets the list.
        let e = parse_timesyncd("[Time]\nNTP=c.example\nNTP=\nNTP=d.example\n");
        assert_eq!(servers(&e), vec![("d.example", None)]);
    }

    #[test]
    fn kinds_are_told_apart_by_content() {
        let debian_chrony = "confdir /etc/chrony/conf.d\npool 2.debian.pool.ntp.org iburst\n\
                             sourcedir /run/chrony-dhcp\nkeyfile /etc/chrony/chrony.keys\n\
                             driftfile /var/lib/chrony/chrony.drift\nmakestep 1 3\nrtcsync\n";
        assert_eq!(detect_kind(debian_chrony), ConfKind::Chrony);
        let debian_ntpsec = "driftfile /var/lib/ntpsec/ntp.drift\nleapfile /usr/share/zoneinfo/leap-seconds.list\n\
                             statsdir /var/log/ntpsec/\nfilegen loopstats file loopstats type day enable\n\
                             pool 0.debian.pool.ntp.org iburst\nrestrict default kod nomodify nopeer noquery limited\n";
        assert_eq!(detect_kind(debian_ntpsec), ConfKind::Ntpd);
        assert_eq!(
            detect_kind("pool a.example iburst\n"),
            ConfKind::ChronyOrNtpd
        );
        assert_eq!(
            detect_kind("pool a.example port 1123\n"),
            ConfKind::Chrony,
            "port is chrony's option"
        );
        assert_eq!(detect_kind("[Time]\nNTP=a.example\n"), ConfKind::Timesyncd);
        assert_eq!(detect_kind("FallbackNTP=a.example\n"), ConfKind::Timesyncd);
        let (kind, e) = parse("[Time]\nNTP=pool.example\n");
        assert_eq!(kind, ConfKind::Timesyncd);
        assert_eq!(
            servers(&e),
            vec![("pool.example", None)],
            "timesyncd names are servers"
        );
    }

    #[test]
    fn a_file_read_alone_lists_what_it_does_not_follow() {
        let dir = std::env::temp_dir().join(format!("skew-ntpconf-one-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("some-name.conf");
        std::fs::write(
            &f,
            "sourcedir /etc/chrony/sources.d\npool pool.test port 123 maxsources 3\nmakestep 1 3\n",
        )
        .unwrap();
        let c = read_conf(&f).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(c.kind, ConfKind::Chrony);
        assert_eq!(servers(&c.entries), vec![("pool.test:123", Some(3))]);
        assert_eq!(c.not_followed, vec!["sourcedir /etc/chrony/sources.d"]);
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
        let v: Vec<(String, Option<usize>)> = system_servers(&root)
            .into_iter()
            .map(|c| (c.server, c.pool))
            .collect();
        let files = system_conf(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            v,
            vec![
                ("a.example".into(), Some(4)),
                ("b.example".into(), None),
                ("c.example".into(), None)
            ]
        );
        assert_eq!(files.len(), 3);
        assert_eq!(files[2].kind, ConfKind::Timesyncd);
    }
}
