//! What `skew serve` and `skew proxy` share: listening addresses, limits, readiness,
//! statistics, seeds, and the parsers of their flag values.

use crate::exit::{self, CliError};
use crate::output::print_json;
use clap::Args;
use serde::Serialize;
use skew_fault::Probability;
use skew_fault_io::{bind_all, ready, signals};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

/// Parses a probability: `0.1` or `10%`.
pub fn parse_probability(s: &str) -> Result<Probability, String> {
    Probability::parse(s).map_err(|e| e.to_string())
}

/// Parses signed seconds exactly to the nanosecond (`-0.037`, `+1.5`, `20ms`).
pub fn parse_signed_ns(s: &str) -> Result<i64, String> {
    skew_time::parse_signed_seconds(s).map_err(|e| e.to_string())
}

/// Parses non-negative seconds exactly (`0.0001`, `250us`).
pub fn parse_seconds_ns(s: &str) -> Result<i64, String> {
    let v = parse_signed_ns(s)?;
    if v < 0 {
        return Err(format!("{s:?} is negative"));
    }
    Ok(v)
}

/// Parses a listening address: `IP:PORT` or `[IPv6]:PORT` (port 0 picks a free port).
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| {
        format!("invalid address {s:?}: expected IP:PORT or [IPv6]:PORT, e.g. 127.0.0.1:11123")
    })
}

/// Flags shared by `serve` and `proxy`: bounds, readiness and statistics.
#[derive(Debug, Clone, Args)]
pub struct DaemonOptions {
    /// Stop by itself after this long (a number of seconds, or a duration such as 500ms).
    #[arg(long, value_parser = skew_fault::RUN_LIMIT_RANGE.parser(), value_name = "SECONDS")]
    pub max_seconds: Option<Duration>,
    /// Stop by itself after this many requests (serve: requests accepted, lost ones
    /// included; proxy: datagrams from clients).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: Option<u64>,
    /// On exit, print the statistics as JSON on stdout (after the `listening on` lines).
    #[arg(long)]
    pub stats_json: bool,
    /// Once every address is bound, also write the `listening on ADDR` lines to this file
    /// (atomically: written beside it, then renamed).
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Capacity of the queue of delayed datagrams; when full, datagrams are dropped and
    /// counted (`dropped.queue_full`).
    #[arg(long = "queue", value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub queue_capacity: u64,
    /// Busy-wait this long before each due time instead of sleeping, for precise release
    /// (0 sleeps only; costs CPU only while something is due).
    #[arg(long, value_parser = skew_fault::BUSY_WAIT_RANGE.parser(), value_name = "DUR", default_value = "200us")]
    pub busy_wait: Duration,
    /// Seed of the random choices, to repeat a run exactly (default: drawn at random and
    /// reported in the statistics).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Run under the real-time scheduler (SCHED_FIFO) at this priority, so other processes
    /// cannot delay a release by a time slice (needs root or CAP_SYS_NICE).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=99))]
    pub rt_priority: Option<i32>,
}

impl DaemonOptions {
    /// The seed given, or a fresh random one.
    pub fn seed(&self) -> Result<u64, CliError> {
        match self.seed {
            Some(s) => Ok(s),
            None => skew_ntp_io::nonce::fresh_nonce()
                .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string())),
        }
    }

    /// The busy-wait in ns.
    pub fn busy_wait_ns(&self) -> i64 {
        skew_time::duration_ns(self.busy_wait)
    }
}

/// Binds every address (exit 69 on failure), installs the signal handlers, announces
/// readiness on stdout and in the ready file, and returns the sockets.
pub fn bind_and_announce(
    listen: &[SocketAddr],
    opts: &DaemonOptions,
) -> Result<Vec<UdpSocket>, CliError> {
    let socks = bind_all(listen).map_err(|e| CliError::new(exit::UNAVAILABLE, e.to_string()))?;
    signals::install().map_err(|e| {
        CliError::new(
            exit::SOFTWARE,
            format!("cannot install signal handlers: {e}"),
        )
    })?;
    let bound: Vec<SocketAddr> = socks
        .iter()
        .map(|s| s.local_addr())
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot read bound address: {e}")))?;
    ready::announce(&bound)
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot write to stdout: {e}")))?;
    if let Some(path) = &opts.ready_file {
        ready::write_ready_file(path, &bound).map_err(|e| {
            CliError::new(
                exit::UNAVAILABLE,
                format!("cannot write the ready file {}: {e}", path.display()),
            )
        })?;
    }
    Ok(socks)
}

/// Prints the report: JSON on stdout with `--stats-json`, else `summary` on stderr.
pub fn finish<T: Serialize>(
    opts: &DaemonOptions,
    report: &T,
    summary: String,
) -> Result<i32, CliError> {
    if opts.stats_json {
        print_json(report)?;
    } else {
        eprintln!("{summary}");
    }
    if let Some(path) = &opts.ready_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(exit::OK)
}

/// `key N, key N` for the non-zero counters of a JSON object (for the human summary).
pub fn nonzero(v: &serde_json::Value) -> String {
    let parts: Vec<String> = v
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.as_u64().unwrap_or(0) > 0)
                .map(|(k, n)| format!("{k} {n}"))
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_parsers() {
        assert_eq!(parse_signed_ns("-0.037").unwrap(), -37_000_000);
        assert!(parse_seconds_ns("-1").is_err());
        assert_eq!(parse_seconds_ns("250us").unwrap(), 250_000);
        assert!(parse_listen("127.0.0.1:5").is_ok());
        assert!(parse_listen("[::1]:5").is_ok());
        assert!(parse_listen("localhost").unwrap_err().contains("IP:PORT"));
        assert!(parse_probability("10%").is_ok());
        assert!(parse_probability("2").is_err());
    }
}
