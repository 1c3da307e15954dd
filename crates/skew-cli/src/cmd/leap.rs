//! `skew leap`: the leap-seconds.list, the kernel's leap state and servers' announcements
//! and smearing, judged at an instant.

use crate::cmd::probe::ProbeOptions;
use crate::exit::{self, CliError};
use crate::output::print_json;
use crate::output::table::{Align, Table};
use clap::Args;
use skew_clock::adjtimex::read as read_kernel;
use skew_leap::list_check::DEFAULT_EXPIRY_WARNING_DAYS;
use skew_leap::observe::ServerObservation;
use skew_leap::report::{evaluate, leap_second_named, Inputs, KernelInput, LeapReport, ListInput};
use skew_leap::schedule::LeapView;
use skew_leap::system::in_use;
use skew_leap::{Severity, Verdict};
use skew_time::rfc3339::{parse_instant_leap, ParsedInstant};
use std::path::PathBuf;

/// `--at` as given: the instant, and whether it named a second 60.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// The instant read.
    pub parsed: ParsedInstant,
}

fn parse_at(s: &str) -> Result<At, String> {
    parse_instant_leap(s)
        .map(|parsed| At { parsed })
        .map_err(|e| e.to_string())
}

/// Arguments of `skew leap`.
#[derive(Debug, Args)]
#[command(
    mut_arg("samples", |a| a.default_value("8")),
    after_help = "Exit status (Nagios): 0 fine, 1 warning (list expired or expiring within the \
warning window, kernel TAI offset unset, a server announcing a leap the list does not \
schedule...), 2 critical (bad hash, inconsistent list, servers disagreeing about a leap at the \
end of today), 3 could not check (no list, unparsable list, kernel unreadable, no server \
answered), 64 usage error."
)]
pub struct LeapArgs {
    /// NTP servers whose leap indicator and smearing to check: host, host:port,
    /// v4addr:port or [v6addr]:port (port 123 by default).
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// The leap-seconds.list to check (default: the freshest valid one of the system's —
    /// the one the time daemon is configured with, else $TZDIR/leap-seconds.list,
    /// /usr/share/zoneinfo/leap-seconds.list and the other usual places — and skew's cache,
    /// written by --fetch).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Evaluate everything as of this instant instead of now: 2016-12-31T12:00:00Z,
    /// 2016-12-31 14:00:00+02:00, 2016-12-31 (midnight UTC) or @UNIX-SECONDS. A time
    /// without a zone is UTC.
    #[arg(long, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<At>,
    /// Warn when the list expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_EXPIRY_WARNING_DAYS,
          value_parser = clap::value_parser!(i64).range(0..=3650))]
    pub expiry_warning_days: i64,
    /// Do not read the kernel's state (adjtimex).
    #[arg(long)]
    pub no_kernel: bool,
    /// Instead of the report: download a current leap-seconds list over HTTPS (default: the
    /// IANA tz database's copy, then the IERS original), check its #h hash and that it is
    /// fresher than the list in use, and keep it in skew's cache, written atomically
    /// (/var/lib/skew/ for root, $XDG_CACHE_HOME/skew/ for others; $SKEW_CACHE_DIR
    /// overrides). Every command then uses the freshest valid list of the system's and the
    /// cache's. Exit 0 updated or current, 1 only older lists, 2 only invalid lists, 3
    /// nothing downloaded or the cache not written.
    #[arg(long, value_name = "URL", num_args = 0..=1, conflicts_with_all = ["servers", "at", "file", "no_kernel"])]
    pub fetch: Option<Option<String>>,
    /// With --fetch: a PEM file of CA certificates to trust besides the system's roots
    /// (repeatable).
    #[arg(long = "fetch-ca", value_name = "FILE", requires = "fetch")]
    pub fetch_ca: Vec<PathBuf>,
    /// With --fetch: the deadline of each download [default: 20s].
    #[arg(long, value_parser = skew_leap::fetch::FETCH_TIMEOUT_RANGE.parser(), value_name = "DUR", requires = "fetch")]
    pub fetch_timeout: Option<std::time::Duration>,
    /// How to probe the servers.
    #[command(flatten)]
    pub opts: ProbeOptions,
    /// Print JSON: {"list": ..., "kernel": ..., "servers": [...], "warnings": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// The exit code of a verdict (Nagios).
pub fn exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Ok => exit::OK,
        Verdict::Warning => exit::WARNING,
        Verdict::Critical => exit::CRITICAL,
        Verdict::Unknown => exit::UNKNOWN,
    }
}

/// Runs `skew leap`.
pub fn run(args: LeapArgs) -> Result<i32, CliError> {
    if let Some(url) = args.fetch.clone() {
        return crate::cmd::leap_fetch::run(crate::cmd::leap_fetch::FetchRequest {
            url,
            ca_files: args.fetch_ca.clone(),
            timeout: args.fetch_timeout,
            json: args.json,
        });
    }
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, skew_time::duration_ns);
    let list = match in_use(args.file.as_deref()) {
        Ok(chosen) => match chosen.loaded {
            Ok(list) => ListInput::Loaded {
                path: chosen.path.display().to_string(),
                source: chosen.origin,
                passed_over: chosen.passed_over,
                list,
            },
            Err(error) => ListInput::Failed {
                path: Some(chosen.path.display().to_string()),
                source: Some(chosen.origin),
                error,
            },
        },
        Err(e) => ListInput::Failed {
            path: None,
            source: None,
            error: e.to_string(),
        },
    };
    // A second 60 exists only where the list inserts a leap second: anything else is a
    // usage error, checked against the list in use.
    let at_in_leap_second = match args.at.filter(|a| a.parsed.leap_second) {
        None => false,
        Some(a) => match &list {
            ListInput::Loaded { list, path, .. } => {
                leap_second_named(list, a.parsed.unix_ns).map_err(|e| {
                    CliError::usage(format!("--at names a second 60, but {e} (list {path})"))
                })?;
                true
            }
            ListInput::Failed { error, .. } => {
                return Err(CliError::usage(format!(
                    "--at names a second 60, which only a leap-seconds list can confirm: {error}"
                )))
            }
        },
    };
    let kernel = if args.no_kernel {
        KernelInput::Skipped
    } else {
        match read_kernel() {
            Ok(t) => KernelInput::Read(t),
            Err(e) => KernelInput::Failed(e.to_string()),
        }
    };
    let servers = if args.servers.is_empty() {
        vec![]
    } else {
        let run = args.opts.probe(&args.servers)?;
        run.results
            .iter()
            .map(ServerObservation::from_result)
            .collect()
    };
    let report = evaluate(&Inputs {
        at_unix_ns: args.at.map_or(now_ns, |a| a.parsed.unix_ns),
        at_is_now: args.at.is_none(),
        at_in_leap_second,
        list,
        kernel,
        servers,
        expiry_warning_days: args.expiry_warning_days,
    });
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", human(&report));
    }
    Ok(exit_code(report.status))
}

fn leap_text(l: &LeapView) -> String {
    format!(
        "{} ({}, TAI − UTC {} → {} s, list line {})",
        l.second,
        l.kind.as_str(),
        l.tai_minus_utc_before_s,
        l.tai_minus_utc_after_s,
        l.line
    )
}

fn field(out: &mut String, name: &str, value: String) {
    out.push_str(&format!("  {name:<18}{value}\n"));
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// The human report.
pub fn human(r: &LeapReport) -> String {
    let mut out = format!(
        "Leap seconds as of {}{}\n\n",
        r.at,
        if r.at_is_now {
            " (now)"
        } else if r.at_in_leap_second {
            " (--at, inside a leap second)"
        } else {
            " (--at)"
        }
    );
    list_section(&mut out, r);
    kernel_section(&mut out, r);
    servers_section(&mut out, r);
    findings_and_status(&mut out, r);
    out
}

/// The leap-seconds list: where, hash, expiry, the next leap.
fn list_section(out: &mut String, r: &LeapReport) {
    let l = &r.list;
    out.push_str(&format!(
        "Leap-seconds list  {}{}\n",
        l.path.as_deref().unwrap_or("(none found)"),
        l.source
            .map_or(String::new(), |s| format!(" ({})", s.describe()))
    ));
    if let Some(e) = &l.error {
        field(out, "Error", format!("could not check: {e}"));
    } else {
        field(
            out,
            "Hash",
            match l.hash {
                Some("valid") => {
                    format!("valid (SHA-1 {})", l.hash_computed.as_deref().unwrap_or(""))
                }
                Some("mismatch") => format!(
                    "BAD: the file says {}, the data hash to {}",
                    l.hash_expected.as_deref().unwrap_or(""),
                    l.hash_computed.as_deref().unwrap_or("")
                ),
                _ => "missing (no #h line)".to_string(),
            },
        );
        field(
            out,
            "Last update",
            format!(
                "{} (NTP {})",
                l.last_update.as_deref().map_or("", |s| &s[..10]),
                l.last_update_ntp_s.unwrap_or(0)
            ),
        );
        let days = l.days_until_expiry.unwrap_or(0);
        let state = if l.expired == Some(true) {
            format!("EXPIRED {} days ago", l.days_since_expiry.unwrap_or(0))
        } else if l.expiring_soon == Some(true) {
            format!("expires in {days} days")
        } else {
            format!("valid for {days} more days")
        };
        field(
            out,
            "Expires",
            format!(
                "{} (NTP {}): {state}",
                l.expires.as_deref().map_or("", |s| &s[..10]),
                l.expires_ntp_s.unwrap_or(0)
            ),
        );
        field(
            out,
            "TAI − UTC",
            l.tai_minus_utc_s
                .map_or("unknown (before 1972)".to_string(), |v| format!("{v} s")),
        );
        field(
            out,
            "Last leap",
            l.last_leap.as_ref().map_or("none".to_string(), leap_text),
        );
        let next = match (&l.next_leap, l.expired) {
            (Some(n), _) => leap_text(n),
            (None, Some(true)) => format!(
                "unknown: the list expired on {} and cannot tell",
                l.expires.as_deref().map_or("", |s| &s[..10])
            ),
            (None, _) => format!(
                "none scheduled up to the list's expiry ({})",
                l.expires.as_deref().map_or("", |s| &s[..10])
            ),
        };
        field(out, "Next leap", next);
    }
}

/// The kernel's leap state (adjtimex, read-only).
fn kernel_section(out: &mut String, r: &LeapReport) {
    if let Some(k) = &r.kernel {
        out.push_str("\nKernel (adjtimex, read-only)\n");
        if let Some(e) = &k.error {
            field(out, "Error", format!("could not read: {e}"));
        } else {
            let flags = if k.status.is_empty() {
                "none".to_string()
            } else {
                k.status.join(" ")
            };
            field(
                out,
                "State",
                format!(
                    "{} (status {flags}; {})",
                    k.state.as_deref().unwrap_or("?"),
                    if k.synchronized == Some(true) {
                        "synchronized"
                    } else {
                        "not synchronized"
                    }
                ),
            );
            field(
                out,
                "Leap armed",
                format!(
                    "{} (STA_INS {}, STA_DEL {})",
                    yes_no(k.leap_armed),
                    if k.sta_ins == Some(true) {
                        "set"
                    } else {
                        "clear"
                    },
                    if k.sta_del == Some(true) {
                        "set"
                    } else {
                        "clear"
                    }
                ),
            );
            let tai = k.tai_s.unwrap_or(0);
            let cmp = match (tai, k.expected_tai_s) {
                (0, Some(e)) => format!(" (unset; the list says {e} s)"),
                (0, None) => " (unset)".to_string(),
                (t, Some(e)) if t == e => " (matches the list)".to_string(),
                (_, Some(e)) => format!(" (the list says {e} s)"),
                (_, None) => String::new(),
            };
            field(out, "TAI offset", format!("{tai} s{cmp}"));
        }
    }
}

/// What the servers announce and whether they smear.
fn servers_section(out: &mut String, r: &LeapReport) {
    if !r.servers.is_empty() {
        out.push_str("\nServers\n");
        let mut t = Table::new(&[
            ("Server", Align::Left),
            ("Address", Align::Left),
            ("St", Align::Right),
            ("Leap", Align::Left),
            ("Smearing", Align::Left),
            ("Rate vs majority", Align::Right),
            ("Offset vs majority", Align::Right),
            ("Clock", Align::Left),
            ("Status", Align::Left),
        ]);
        for s in &r.servers {
            let dash = || "-".to_string();
            t.row(vec![
                s.server.clone(),
                s.address.clone().unwrap_or_else(dash),
                s.stratum.map_or_else(dash, |x| x.to_string()),
                s.leap.map_or_else(dash, |x| x.as_str().to_string()),
                match s.smearing {
                    Some(true) => "YES".into(),
                    Some(false) => "no".into(),
                    None => "?".into(),
                },
                match (s.rate_vs_majority_ppm, s.rate_sigma_ppm) {
                    (Some(r), Some(e)) => format!("{r:+.2} ± {e:.2} ppm"),
                    _ => dash(),
                },
                s.offset_vs_majority_s
                    .map_or_else(dash, skew_time::format::signed_s),
                s.server_time
                    .as_deref()
                    .map_or_else(dash, |c| c.get(..19).unwrap_or(c).to_string()),
                s.status.to_string(),
            ]);
        }
        out.push_str(&t.render());
        for s in &r.servers {
            out.push_str(&format!("{}: {}\n", s.server, s.smear_reason));
        }
        if let Some(sm) = &r.smear {
            out.push_str(&format!(
                "Smear check: {}; majority: {}.\n",
                sm.window,
                if sm.majority.is_empty() {
                    sm.majority_error.clone().unwrap_or_default()
                } else {
                    sm.majority.join(", ")
                }
            ));
        }
    }
}

/// Warnings, notes and the verdict.
fn findings_and_status(out: &mut String, r: &LeapReport) {
    let problems: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Note)
        .collect();
    if !problems.is_empty() {
        out.push_str("\nWarnings\n");
        for f in problems {
            out.push_str(&format!("  [{}] {}\n", f.severity.as_str(), f.text()));
        }
    }
    if !r.notes.is_empty() {
        out.push_str("\nNotes\n");
        for n in &r.notes {
            out.push_str(&format!("  {n}\n"));
        }
    }
    out.push_str(&format!(
        "\nStatus: {} (exit {})\n",
        r.status.as_str(),
        exit_code(r.status)
    ));
}
