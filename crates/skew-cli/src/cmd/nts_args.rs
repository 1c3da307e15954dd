//! The NTS options shared by `probe`, `check` and `monitor`.

use crate::cmd::probe::parse_dur;
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
    #[arg(long = "nts-ke-timeout", value_name = "DUR", value_parser = parse_dur)]
    pub nts_ke_timeout: Option<Duration>,
}

/// The default deadline of a key exchange.
pub const DEFAULT_KE_TIMEOUT: Duration = Duration::from_secs(5);

impl NtsArgs {
    /// The engine's NTS options.
    pub fn options(&self) -> Result<NtsOptions, CliError> {
        let ke_timeout = self.nts_ke_timeout.unwrap_or(DEFAULT_KE_TIMEOUT);
        if ke_timeout.is_zero() {
            return Err(CliError::usage(
                "--nts-ke-timeout must be greater than zero",
            ));
        }
        let mut offer: Vec<Aead> = Vec::new();
        for a in &self.nts_aead {
            if !offer.contains(a) {
                offer.push(*a);
            }
        }
        if offer.is_empty() {
            offer = Aead::ALL.to_vec();
        }
        Ok(NtsOptions {
            ca_files: self.nts_ca.clone(),
            no_system_roots: false,
            offer,
            ke_timeout,
        })
    }
}

/// The exit code and message for a run that could not start.
pub fn run_error(e: RunError) -> CliError {
    match e {
        RunError::Spec(e) => CliError::usage(e.to_string()),
        RunError::Trust(t) if t.is_unreadable() => CliError::new(exit::NO_INPUT, t.to_string()),
        RunError::Trust(t) => CliError::new(exit::DATA_ERR, t.to_string()),
    }
}
