//! The edge: finding and reading the leap-seconds.list on this system, and reading the
//! kernel's state (read-only).
//!
//! Search order: the file the local time daemon is configured with (chrony's `leapseclist`,
//! ntpd's `leapfile`), then `$TZDIR/leap-seconds.list`, then the places tzdata and the BSDs
//! install it ([`STANDARD_PATHS`]). The first that exists is the system's list.
//!
//! skew's own cache ([`cache_dir`]: `/var/lib/skew/` for root, `$XDG_CACHE_HOME/skew/` for
//! others), written by `skew leap --fetch`, is the other candidate: [`in_use`] reads both
//! and keeps the freshest usable one ([`crate::in_use::choose`]).

use crate::in_use::{choose, Candidate, Chosen, Origin};
use crate::list::{parse, LeapList, ParseError};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file name of the cached list inside the cache directory.
pub const CACHE_FILE: &str = "leap-seconds.list";
/// The cache directory of root (cron jobs, system services).
pub const ROOT_CACHE_DIR: &str = "/var/lib/skew";
/// An environment variable naming the cache directory, over the rules of [`cache_dir`]
/// (tests, and hosts that keep state elsewhere).
pub const CACHE_DIR_ENV: &str = "SKEW_CACHE_DIR";

/// Where systems install the list, in search order.
pub const STANDARD_PATHS: &[&str] = &[
    // tzdata on Debian, Ubuntu, Fedora, RHEL, Arch, Alpine, SUSE...
    "/usr/share/zoneinfo/leap-seconds.list",
    // NixOS and systems that keep zoneinfo under /etc.
    "/etc/zoneinfo/leap-seconds.list",
    // FreeBSD: fetched by periodic(8) for ntpd, and the copy in the base system.
    "/var/db/ntpd.leap-seconds.list",
    "/etc/ntp/leap-seconds",
    // macOS.
    "/var/db/timezone/zoneinfo/leap-seconds.list",
    // Solaris / illumos.
    "/usr/share/lib/zoneinfo/leap-seconds.list",
];

/// Time daemon configuration files and the directive naming their leap-seconds file.
pub const DAEMON_CONFIGS: &[(&str, &str)] = &[
    ("/etc/chrony/chrony.conf", "leapseclist"),
    ("/etc/chrony.conf", "leapseclist"),
    ("/etc/ntpsec/ntp.conf", "leapfile"),
    ("/etc/ntp.conf", "leapfile"),
];

/// A list larger than this is not a leap-seconds.list (the real one is about 5 KB).
pub const MAX_LIST_BYTES: u64 = 1 << 20;

/// Why no list could be used.
#[derive(Debug, Error)]
pub enum LoadError {
    /// No list in any of the usual places.
    #[error("no leap-seconds.list found (looked in {}): install tzdata or give --file", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// Where it looked.
        searched: Vec<PathBuf>,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is too large.
    #[error("{} is {bytes} bytes: too large to be a leap-seconds.list", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The file does not parse.
    #[error("{}: {source}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error, naming the line.
        source: ParseError,
    },
}

impl LoadError {
    /// The file concerned, if one was found.
    pub fn path(&self) -> Option<&Path> {
        match self {
            LoadError::NotFound { .. } => None,
            LoadError::Io { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::Parse { path, .. } => Some(path),
        }
    }
}

/// The path given by `directive` (`leapseclist`, `leapfile`) in a daemon's configuration
/// text: the first non-comment line starting with it.
pub fn configured_path(conf: &str, directive: &str) -> Option<String> {
    conf.lines()
        .map(|l| l.split(['#', '!', ';']).next().unwrap_or("").trim())
        .find_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some(directive))
                .then(|| it.next())
                .flatten()
                .map(str::to_string)
        })
}

/// Every place looked at, in order (daemon configurations are read to find theirs).
pub fn candidate_paths() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for (conf, directive) in DAEMON_CONFIGS {
        if let Ok(text) = std::fs::read_to_string(conf) {
            if let Some(p) = configured_path(&text, directive) {
                out.push(PathBuf::from(p));
            }
        }
    }
    if let Some(dir) = std::env::var_os("TZDIR").filter(|d| !d.is_empty()) {
        out.push(Path::new(&dir).join("leap-seconds.list"));
    }
    out.extend(STANDARD_PATHS.iter().map(PathBuf::from));
    let mut seen = Vec::new();
    out.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    out
}

/// The first existing list among [`candidate_paths`].
pub fn find_list() -> Result<PathBuf, LoadError> {
    let searched = candidate_paths();
    searched
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(LoadError::NotFound { searched })
}

/// Reads and parses the list at `path`.
pub fn load(path: &Path) -> Result<LeapList, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > MAX_LIST_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            bytes,
        });
    }
    let data = std::fs::read(path).map_err(io)?;
    parse(&data).map_err(|source| LoadError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// skew's cache directory from the process's identity and environment (pure): `dir_env`
/// (`$SKEW_CACHE_DIR`) when set; else `/var/lib/skew` for root; else `$XDG_CACHE_HOME/skew`
/// when that is an absolute path (the XDG rule), else `$HOME/.cache/skew`; `None` when there
/// is no home either.
pub fn cache_dir_for(
    is_root: bool,
    dir_env: Option<&OsStr>,
    xdg_cache_home: Option<&OsStr>,
    home: Option<&OsStr>,
) -> Option<PathBuf> {
    fn absolute(v: Option<&OsStr>) -> Option<&Path> {
        v.map(Path::new).filter(|p| p.is_absolute())
    }
    if let Some(d) = absolute(dir_env) {
        return Some(d.to_path_buf());
    }
    if is_root {
        return Some(PathBuf::from(ROOT_CACHE_DIR));
    }
    if let Some(x) = absolute(xdg_cache_home) {
        return Some(x.join("skew"));
    }
    absolute(home).map(|h| h.join(".cache").join("skew"))
}

/// skew's cache directory for this process ([`cache_dir_for`]).
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_for(
        rustix::process::geteuid().is_root(),
        std::env::var_os(CACHE_DIR_ENV).as_deref(),
        std::env::var_os("XDG_CACHE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

/// Where `skew leap --fetch` keeps the list.
pub fn cache_path() -> Option<PathBuf> {
    cache_dir().map(|d| d.join(CACHE_FILE))
}

fn candidate(origin: Origin, path: PathBuf) -> Candidate {
    let loaded = load(&path).map_err(|e| e.to_string());
    Candidate {
        origin,
        path,
        loaded,
    }
}

/// The list to use: `given` when there is one (`--file`, `--leap-file`); else the freshest
/// usable one of the system's and skew's cache ([`choose`]). The error only says that none
/// exists; a list that exists but cannot be read is chosen, with its error, when nothing
/// better is there.
pub fn in_use(given: Option<&Path>) -> Result<Chosen, LoadError> {
    if let Some(p) = given {
        return Ok(Chosen {
            origin: Origin::Given,
            path: p.to_path_buf(),
            loaded: load(p).map_err(|e| e.to_string()),
            passed_over: vec![],
        });
    }
    let mut candidates = Vec::new();
    let system = find_list();
    if let Ok(p) = &system {
        candidates.push(candidate(Origin::System, p.clone()));
    }
    let cache = cache_path();
    if let Some(p) = cache.clone().filter(|p| p.is_file()) {
        candidates.push(candidate(Origin::Cache, p));
    }
    choose(candidates).ok_or_else(|| {
        let mut searched = match system {
            Err(LoadError::NotFound { searched }) => searched,
            _ => vec![],
        };
        searched.extend(cache);
        LoadError::NotFound { searched }
    })
}

/// The list in use ([`in_use`]) read: `(which, list)`, or why there is none.
pub fn load_in_use(given: Option<&Path>) -> Result<(Chosen, LeapList), String> {
    let chosen = in_use(given).map_err(|e| e.to_string())?;
    match &chosen.loaded {
        Ok(l) => {
            let l = l.clone();
            Ok((chosen, l))
        }
        Err(e) => Err(e.clone()),
    }
}

/// Finds and loads the system's list: `(path, list)`.
pub fn load_system() -> Result<(PathBuf, LeapList), LoadError> {
    let path = find_list()?;
    let list = load(&path)?;
    Ok((path, list))
}

/// TAI − UTC at `unix_s` from the list in use ([`in_use`]: the freshest of the system's and
/// skew's cache), with whether the list still vouches for it (not expired) and which list it
/// is: the one-call API for other commands.
pub fn system_tai_minus_utc(unix_s: i64) -> Result<(Option<i32>, bool, Chosen), String> {
    let (chosen, list) = load_in_use(None)?;
    Ok((
        list.tai_minus_utc_at(unix_s),
        !list.is_expired_at(unix_s),
        chosen,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_directives() {
        let chrony = "# leapseclist /commented\npool 2.debian.pool.ntp.org iburst\nleapseclist /usr/share/zoneinfo/leap-seconds.list\nleapsectz right/UTC\n";
        assert_eq!(
            configured_path(chrony, "leapseclist").as_deref(),
            Some("/usr/share/zoneinfo/leap-seconds.list")
        );
        assert_eq!(
            configured_path("leapfile /var/lib/ntp/leap # comment\n", "leapfile").as_deref(),
            Some("/var/lib/ntp/leap")
        );
        assert_eq!(configured_path("leapfile\n", "leapfile"), None);
        assert_eq!(configured_path("leapfilex /a\n", "leapfile"), None);
        assert_eq!(configured_path("", "leapfile"), None);
    }

    #[test]
    fn cache_directory_rules() {
        let os = |s: &'static str| Some(OsStr::new(s));
        let p = |s: &str| Some(PathBuf::from(s));
        // Root: /var/lib/skew whatever XDG says (cron and `sudo` must agree).
        assert_eq!(
            cache_dir_for(true, None, os("/root/.cache"), os("/root")),
            p("/var/lib/skew")
        );
        assert_eq!(
            cache_dir_for(false, None, os("/home/a/.xdg"), os("/home/a")),
            p("/home/a/.xdg/skew")
        );
        // A relative XDG_CACHE_HOME is ignored (XDG Base Directory specification).
        assert_eq!(
            cache_dir_for(false, None, os("rel"), os("/home/a")),
            p("/home/a/.cache/skew")
        );
        assert_eq!(
            cache_dir_for(false, None, None, os("/home/a")),
            p("/home/a/.cache/skew")
        );
        assert_eq!(cache_dir_for(false, None, None, None), None);
        assert_eq!(cache_dir_for(false, None, os(""), os("")), None);
        // SKEW_CACHE_DIR over everything.
        assert_eq!(
            cache_dir_for(true, os("/srv/skew"), None, None),
            p("/srv/skew")
        );
        assert_eq!(
            cache_dir_for(false, os("/srv/skew"), os("/x"), os("/h")),
            p("/srv/skew")
        );
    }

    #[test]
    fn candidates_are_unique_and_include_tzdata() {
        let c = candidate_paths();
        assert!(c.contains(&PathBuf::from("/usr/share/zoneinfo/leap-seconds.list")));
        let mut d = c.clone();
        d.dedup();
        assert_eq!(c.len(), d.len());
    }

    #[test]
    fn load_errors_name_the_file() {
        let e = load(Path::new("/nonexistent/leap-seconds.list")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/leap-seconds.list: "),
            "{e}"
        );
        assert_eq!(e.path(), Some(Path::new("/nonexistent/leap-seconds.list")));
        let e = LoadError::NotFound {
            searched: vec!["/a".into(), "/b".into()],
        };
        assert_eq!(
            e.to_string(),
            "no leap-seconds.list found (looked in /a, /b): install tzdata or give --file"
        );
        assert_eq!(e.path(), None);
    }
}
