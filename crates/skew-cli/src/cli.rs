//! The command line: `skew <COMMAND>`.

use crate::cmd;
use clap::{Parser, Subcommand};

/// skew measures how wrong clocks are: NTP offsets with honest error bounds, clock steps
/// and rates, process and VM pauses, leap seconds, drift logs and reports.
///
/// Offsets are server − local everywhere (as chrony and ntpdig): positive means the local
/// clock is behind.
#[derive(Debug, Parser)]
#[command(name = "skew", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe NTP servers: offset, delay and honest bounds per server.
    Probe(cmd::probe::ProbeArgs),
    /// One cron-run measurement: drift log, Prometheus textfile, state, Nagios line.
    Monitor(cmd::monitor::MonitorArgs),
    /// The monitoring run for a person at a terminal: a readable report, nothing written.
    Check(cmd::check::CheckArgs),
    /// A TrueTime-style interval for the current time: earliest/latest, or unknown.
    Now(cmd::now::NowArgs),
    /// What the local clocks do: resolution, read cost, rates, steps, suspend, TAI, kernel
    /// discipline, clocksource.
    Clocks(cmd::clocks::ClocksArgs),
    /// Leap seconds: the leap-seconds.list, the kernel's leap state, servers' announcements
    /// and smearing.
    Leap(cmd::leap::LeapArgs),
    /// Serve the local clock over NTP, with lies and faults chosen by flags.
    Serve(cmd::serve::ServeArgs),
    /// Forward NTP (any UDP) to a server with delay, jitter, loss, duplication, reordering
    /// and rewritten timestamps.
    Proxy(cmd::proxy::ProxyArgs),
    /// A PNG drift report from drift logs: offsets, delays, clock, pauses, events, statistics.
    Report(cmd::report::ReportArgs),
    /// Detect pauses: process stalls, scheduling delays, VM pauses, suspends and clock steps.
    Pauses(cmd::pauses::PausesArgs),
    /// Continuous measurement for Prometheus: /metrics (sourcestats, Allan deviation, the
    /// agreement, the local clock) and /probe (multi-target).
    Exporter(cmd::exporter::ExporterArgs),
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
