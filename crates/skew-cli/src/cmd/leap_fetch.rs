//! `skew leap --fetch [URL]`: download a current leap-seconds list over HTTPS and keep it in
//! skew's cache when it is valid and fresher than the list in use. The decisions are
//! `skew_leap::fetch`'s; the download is `skew_http_io`'s; the write is
//! `skew_fs::write_atomic`'s.

use crate::exit::{self, CliError};
use crate::output::print_json;
use serde::Serialize;
use skew_http_io::{FetchError, FetchSettings, Fetcher};
use skew_leap::calendar::{iso_s, ntp_to_unix_s};
use skew_leap::fetch::{fetch, Attempt, FetchStatus, DEFAULT_URLS};
use skew_leap::in_use::{Chosen, Origin};
use skew_leap::system::{cache_path, in_use, CACHE_DIR_ENV};
use std::path::PathBuf;
use std::time::Duration;

/// What `--fetch` was asked.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The URL given, or None for the defaults (IANA, then IERS).
    pub url: Option<String>,
    /// CA files to trust besides the system's roots.
    pub ca_files: Vec<PathBuf>,
    /// Deadline of each download.
    pub timeout: Option<Duration>,
    /// Print JSON.
    pub json: bool,
}

/// A list as the report names it.
#[derive(Debug, Serialize)]
struct ListRef {
    path: String,
    source: Origin,
    expires: Option<String>,
    last_update: Option<String>,
    /// Which list and why, as one line.
    chosen: String,
}

fn list_ref(c: &Chosen) -> ListRef {
    let l = c.loaded.as_ref().ok();
    ListRef {
        path: c.path.display().to_string(),
        source: c.origin,
        expires: l.map(|l| iso_s(ntp_to_unix_s(l.expires_ntp_s))),
        last_update: l.map(|l| iso_s(ntp_to_unix_s(l.last_update_ntp_s))),
        chosen: c.describe(),
    }
}

/// The JSON report of a fetch.
#[derive(Debug, Serialize)]
struct FetchReport {
    status: FetchStatus,
    attempts: Vec<Attempt>,
    written: Option<String>,
    error: Option<String>,
    before: Option<ListRef>,
    in_use: Option<ListRef>,
}

/// The exit code of a fetch: 0 updated or already current, 1 only older lists found,
/// 2 only invalid lists (bad hash, inconsistent), 3 nothing downloaded or the cache not
/// written.
fn code(status: FetchStatus, write_failed: bool) -> i32 {
    if write_failed {
        return exit::UNKNOWN;
    }
    match status {
        FetchStatus::Updated | FetchStatus::Current => exit::OK,
        FetchStatus::Older => exit::WARNING,
        FetchStatus::Invalid => exit::CRITICAL,
        FetchStatus::Failed => exit::UNKNOWN,
    }
}

/// Runs `skew leap --fetch`.
pub fn run(req: FetchRequest) -> Result<i32, CliError> {
    let urls: Vec<String> = match &req.url {
        Some(u) => {
            if !u
                .get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
            {
                return Err(CliError::usage(format!(
                    "--fetch {u}: only https:// URLs are fetched (TLS is what vouches for the \
                     list's origin: its #h hash is an unkeyed SHA-1 anyone can recompute)"
                )));
            }
            vec![u.clone()]
        }
        None => DEFAULT_URLS.iter().map(|s| s.to_string()).collect(),
    };
    let Some(cache) = cache_path() else {
        return Err(CliError::new(
            exit::UNKNOWN,
            format!("no cache directory: HOME is not set; set {CACHE_DIR_ENV} or XDG_CACHE_HOME"),
        ));
    };
    let settings = FetchSettings {
        timeout: req.timeout.unwrap_or(skew_http_io::DEFAULT_TIMEOUT),
        ca_files: req.ca_files.clone(),
        ..FetchSettings::default()
    };
    let fetcher = Fetcher::new(&settings).map_err(|e| match e {
        FetchError::CaFile { .. } => CliError::new(exit::NO_INPUT, e.to_string()),
        e => CliError::new(exit::UNKNOWN, e.to_string()),
    })?;
    let before = in_use(None).ok();
    let current = before.as_ref().and_then(|c| c.loaded.as_ref().ok());
    let run = fetch(&urls, current, |u| {
        fetcher.get(u).map_err(|e| e.to_string())
    });
    let status = run.status();
    let mut written = None;
    let mut error = None;
    if let Some((bytes, _)) = &run.newer {
        match skew_fs::write_atomic_creating_dir(&cache, bytes) {
            Ok(()) => written = Some(cache.display().to_string()),
            Err(e) => error = Some(format!("cannot write {}: {e}", cache.display())),
        }
    }
    let after = in_use(None).ok();
    let report = FetchReport {
        status,
        attempts: run.attempts,
        written,
        error,
        before: before.as_ref().map(list_ref),
        in_use: after.as_ref().map(list_ref),
    };
    let code = code(status, report.error.is_some());
    if req.json {
        print_json(&report)?;
    } else {
        print!("{}", human(&report, code));
    }
    Ok(code)
}

fn human(r: &FetchReport, code: i32) -> String {
    let mut out = String::from("Fetching a leap-seconds list\n");
    match &r.before {
        Some(b) => out.push_str(&format!(
            "  in use before: {}, expires {}\n",
            b.chosen,
            b.expires.as_deref().map_or("?", |e| &e[..10])
        )),
        None => out.push_str("  in use before: none\n"),
    }
    for a in &r.attempts {
        let what = match (&a.error, &a.expires) {
            (Some(e), _) => e.clone(),
            (None, Some(x)) => format!(
                "expires {}, updated {}",
                &x[..10],
                a.last_update.as_deref().map_or("?", |u| &u[..10])
            ),
            (None, None) => String::new(),
        };
        let outcome = serde_json::to_value(&a.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!("  {}: {outcome}: {what}\n", a.url));
    }
    if let Some(w) = &r.written {
        out.push_str(&format!("  wrote {w}\n"));
    }
    if let Some(e) = &r.error {
        out.push_str(&format!("  {e}\n"));
    }
    if let Some(u) = &r.in_use {
        out.push_str(&format!("  in use now: {}\n", u.chosen));
    }
    out.push_str(&format!("\nStatus: {} (exit {code})\n", r.status.as_str()));
    out
}
