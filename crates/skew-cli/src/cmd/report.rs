//! `skew report`: a PNG drift report from drift logs, a summary, ntpviz-style statistics.

use crate::exit::{self, CliError};
use crate::output::table::{Align, Table};
use clap::Args;
use skew_report::read::ReadError;
use skew_report::text::{metric_value, nanos_unsigned, seconds_unsigned, summary_parts};
use skew_report::time::{parse_time_arg, TimeArg};
use skew_report::{run_report, AnalysisOptions, Filter, ReportError, ReportOutcome, ReportRequest};
use skew_time::duration_ns;
use skew_time::escape::escape_control;
use std::path::PathBuf;
use std::time::Duration;

fn parse_time(s: &str) -> Result<TimeArg, String> {
    parse_time_arg(s).map_err(|e| e.to_string())
}

/// Arguments of `skew report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Reads drift logs written by `skew monitor --log` (rotated and gzipped ones too) \
and draws offset, delay, local clock and pause panels on one UTC time axis, with steps, suspends and \
leap seconds marked and an ntpviz-style statistics table. The PNG (and --stats-csv) are written \
atomically: a failed report leaves no file.\n\nExit status: 0 report written, 2 no rows in the selected \
range, 64 usage error, 65 a log is empty, not a drift log, has a malformed row (file:line given) or \
is larger than --max-log-bytes, 66 a log cannot be read or a pattern matches nothing, 70 drawing failed, 73 an output cannot be written."
)]
pub struct ReportArgs {
    /// Drift logs: files, or glob patterns such as 'drift.csv*' (quoted, so that skew expands them).
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<String>,
    /// The PNG to write.
    #[arg(short = 'o', long, value_name = "FILE", default_value = "report.png")]
    pub output: PathBuf,
    /// Rows from this time on: RFC 3339 (2026-11-27T08:00:00Z), a date (UTC midnight), or a
    /// duration before now (7d, 36h).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub since: Option<TimeArg>,
    /// Rows up to this time (same forms as --since; `now` is accepted).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub until: Option<TimeArg>,
    /// Only this server (the name given to the monitor, or the address ip:port); repeat for more.
    #[arg(long = "server", value_name = "NAME")]
    pub servers: Vec<String>,
    /// Only this host (as written in the log's host column); repeat for more.
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1600, value_name = "PX", value_parser = clap::value_parser!(u32).range(800..=10_000))]
    pub width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 1400, value_name = "PX", value_parser = clap::value_parser!(u32).range(600..=10_000))]
    pub height: u32,
    /// The title at the top (default: "skew drift report: HOST").
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Also write the statistics table as CSV to this file.
    #[arg(long, value_name = "FILE")]
    pub stats_csv: Option<PathBuf>,
    /// Show the safety margin of a lease of this length: largest pairwise skew bound + longest
    /// pause observed + --lease-drift-ppm × the lease.
    #[arg(long, value_parser = skew_ntp::fleet::LEASE_RANGE.parser(), value_name = "DUR")]
    pub lease: Option<Duration>,
    /// Drift rate assumed over a lease and between hosts' measurements, in ppm.
    #[arg(long, default_value_t = 50.0, value_name = "PPM", value_parser = skew_time::parse_ppm)]
    pub lease_drift_ppm: f64,
    /// Pauses at least this long are marked as long.
    #[arg(long, default_value = "100ms", value_parser = skew_report::analysis::LONG_PAUSE_RANGE.parser(), value_name = "DUR")]
    pub long_pause: Duration,
    /// A time between runs longer than this is a gap (default: twice each host's median
    /// time between runs).
    #[arg(long, value_parser = skew_report::analysis::WINDOW_RANGE.parser(), value_name = "DUR")]
    pub gap: Option<Duration>,
    /// Window within which several hosts' runs are compared for the pairwise skew (default:
    /// the longest median time between runs of the hosts).
    #[arg(long, value_parser = skew_report::analysis::WINDOW_RANGE.parser(), value_name = "DUR")]
    pub match_window: Option<Duration>,
    /// Print the summary as JSON (files, hosts, servers, gaps, events, statistics, pairwise
    /// skew, lease) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Read at most this much of each log (after decompression: 512M, 1G, 4G...); a larger
    /// log, a decompression bomb or a file that is not a log fails instead of filling the
    /// memory. Lines longer than 64 KiB are refused too.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = skew_report::parse_size)]
    pub max_log_bytes: u64,
    /// Threads for parsing large logs (default: the CPUs available).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
}

fn now_unix_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, duration_ns)
}

/// Maps a report error to its exit code.
fn code_of(e: &ReportError) -> i32 {
    match e {
        ReportError::Read(ReadError::Log(_)) => exit::DATA_ERR,
        ReportError::Read(ReadError::BadPattern { .. }) => exit::USAGE,
        ReportError::Read(_) => exit::NO_INPUT,
        ReportError::NoData(_) => exit::NO_DATA,
        ReportError::Render(_) => exit::SOFTWARE,
        ReportError::Write(_) => exit::CANT_CREATE,
    }
}

/// Runs `skew report`.
pub fn run(args: ReportArgs) -> Result<i32, CliError> {
    let now = now_unix_ns();
    let since_ns = args.since.map(|t| t.resolve(now));
    let until_ns = args.until.map(|t| t.resolve(now));
    if let (Some(s), Some(u)) = (since_ns, until_ns) {
        if s > u {
            return Err(CliError::usage("--since is after --until"));
        }
    }
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let req = ReportRequest {
        inputs: args.logs.clone(),
        filter: Filter {
            since_ns,
            until_ns,
            hosts: args.hosts.clone(),
            servers: args.servers.clone(),
        },
        analysis: AnalysisOptions {
            since_ns,
            until_ns,
            gap_ns: args.gap.map(duration_ns),
            long_pause_ns: duration_ns(args.long_pause),
            lease_ns: args.lease.map(duration_ns),
            drift_ppm: args.lease_drift_ppm,
            match_window_ns: args.match_window.map(duration_ns),
        },
        width: args.width,
        height: args.height,
        title: args.title.clone(),
        output: args.output.clone(),
        stats_csv: args.stats_csv.clone(),
        threads,
        limits: skew_report::ReadLimits {
            max_bytes: args.max_log_bytes,
            ..skew_report::ReadLimits::default()
        },
    };
    // Names of files, hosts and servers come from the logs: never print their control
    // characters raw (issue 14.2).
    let outcome =
        run_report(&req).map_err(|e| CliError::new(code_of(&e), escape_control(&e.to_string())))?;
    for w in &outcome.warnings {
        eprintln!("skew: warning: {}", escape_control(w));
    }
    if args.json {
        crate::output::print_json(&outcome)?;
    } else {
        print!("{}", human(&outcome));
    }
    Ok(exit::OK)
}

/// The text summary: what was written, the summary lines, the statistics table. Every
/// piece of text from a log is escaped (before the table measures its columns), and each
/// line again as a whole, so no control character from a log reaches the terminal.
fn human(o: &ReportOutcome) -> String {
    human_raw(o)
        .lines()
        .map(|l| escape_control(l).into_owned() + "\n")
        .collect()
}

fn human_raw(o: &ReportOutcome) -> String {
    let esc = |s: &str| escape_control(s).into_owned();
    let mut out = format!(
        "{}: {}x{} PNG from {} rows of {} file(s) ({} rows used){}\n",
        o.output,
        o.width,
        o.height,
        o.rows_read,
        o.files.len(),
        o.rows_used,
        o.stats_csv
            .as_ref()
            .map_or_else(String::new, |p| format!("; statistics in {p}"))
    );
    for part in summary_parts(&o.analysis) {
        out.push_str(&esc(&part));
        out.push('\n');
    }
    for e in &o.analysis.events {
        out.push_str(&format!(
            "{}  {}  {}\n",
            e.time,
            esc(&e.host),
            esc(&e.label)
        ));
    }
    if let Some(p) = o
        .analysis
        .long_pauses
        .iter()
        .max_by(|a, b| a.max_s.total_cmp(&b.max_s))
    {
        out.push_str(&format!(
            "{} long pause(s) ≥ {}; longest {} at {} on {}\n",
            o.analysis.long_pauses.len(),
            nanos_unsigned(o.analysis.long_pause_ns),
            seconds_unsigned(p.max_s),
            p.time,
            esc(&p.host)
        ));
    }
    let many_hosts = o.analysis.hosts.len() > 1;
    let mut cols = vec![("Source", Align::Left), ("Metric", Align::Left)];
    if many_hosts {
        cols.insert(0, ("Host", Align::Left));
    }
    for c in [
        "N",
        "Min",
        "1%",
        "5%",
        "50%",
        "95%",
        "99%",
        "Max",
        "90% range",
        "98% range",
        "Mean",
        "StdDev",
    ] {
        cols.push((c, Align::Right));
    }
    let mut t = Table::new(&cols);
    for r in &o.analysis.stats {
        let s = &r.stats;
        let v = |x: f64, spread: bool| metric_value(&r.metric, x, spread);
        let mut row = vec![esc(&r.source), esc(&r.metric)];
        if many_hosts {
            row.insert(0, esc(&r.host));
        }
        row.extend([
            s.count.to_string(),
            v(s.min, false),
            v(s.p1, false),
            v(s.p5, false),
            v(s.p50, false),
            v(s.p95, false),
            v(s.p99, false),
            v(s.max, false),
            v(s.range_90, true),
            v(s.range_98, true),
            v(s.mean, false),
            v(s.stddev, true),
        ]);
        t.row(row);
    }
    out.push('\n');
    out.push_str(&t.render());
    out
}
