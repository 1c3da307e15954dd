//! The NTS options shared by `probe`, `check` and `monitor`.

use crate::exit::{self, CliError};
use clap::Args;
use skew_ntp::nts::Aead;
use skew_ntp_io::{NtsOptions, RunError};
use std::path::PathBuf;
use std::time::Duration;

fn parse_aead(s: &str) -> Result<Aead, String> {
    Aead::parse(s).ok_or_else(|| {
        format!("unknown AEAD {s:?} (expected aes-128-gcm-siv or 30, aes-siv-cmac-256 or 15)")
    })
}

/// Network Time Security options.
#[derive(Debug, Clone, Args)]
pub struct NtsArgs {
    /// Probe with Network Time Security (RFC 8915): each SERVER names an NTS-KE server,
    /// host or host:port (port 4460 by default); the key exchange says which NTP server
    /// and port to query, and only authenticated replies count.
    #[arg(long)]
    pub nts: bool,
    /// A PEM file of CA certificates to trust for NTS-KE besides the system's roots
    /// (repeatable).
    #[arg(long = "nts-ca", value_name = "FILE")]
    pub nts_ca: Vec<PathBuf>,
    /// AEAD algorithms to offer, in order of preference: aes-128-gcm-siv (30),
    /// aes-siv-cmac-256 (15) [default: both, in that order].
    #[arg(long = "nts-aead", value_name = "LIST", value_delimiter = ',', value_parser = parse_aead)]
    pub nts_aead: Vec<Aead>,
    /// Deadline of each NTS key exchange (connect, TLS handshake, records) [default: 5s].
    #[arg(long = "nts-ke-timeout", value_name = "DUR", value_parser = skew_ntp_io::nts::KE_TIMEOUT_RANGE.parser())]
    pub nts_ke_timeout: Option<Duration>,
}

impl NtsArgs {
    /// The engine's NTS options; a zero `--nts-ke-timeout` is a usage error.
    pub fn options(&self) -> Result<NtsOptions, CliError> {
        NtsOptions::new(self.nts_ca.clone(), &self.nts_aead, self.nts_ke_timeout)
            .ok_or_else(ke_timeout_zero)
    }
}

/// The usage error for `--nts-ke-timeout 0`.
fn ke_timeout_zero() -> CliError {
    CliError::usage("--nts-ke-timeout must be greater than zero")
}

/// The exit code and message for a run that could not start.
pub fn run_error(e: RunError) -> CliError {
    match e {
        RunError::Spec(e) => CliError::usage(e.to_string()),
        RunError::Trust(t) if t.is_unreadable() => CliError::new(exit::NO_INPUT, t.to_string()),
        RunError::Trust(t) => CliError::new(exit::DATA_ERR, t.to_string()),
    }
}
