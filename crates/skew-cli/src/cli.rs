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
    /// Detect pauses: process stalls, scheduling delays, VM pauses, suspends and clock steps.
    Pauses(cmd::pauses::PausesArgs),
}
