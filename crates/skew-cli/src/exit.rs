//! Exit codes, shared by all subcommands and documented in docs/commands/<command>.md.

/// Success (`probe`: every server ok; monitor: Nagios OK).
pub const OK: i32 = 0;
/// Partial failure (`probe`: some servers failed; monitor: WARNING).
pub const SOME_FAILED: i32 = 1;
/// Total failure (`probe`: no server answered validly; monitor: CRITICAL).
pub const ALL_FAILED: i32 = 2;
/// `clocks`: REALTIME stepped forward, the kernel reported a clock setting, the system
/// suspended or a monotonic clock jumped (Nagios WARNING).
pub const CLOCK_EVENT: i32 = 1;
/// `clocks`: REALTIME stepped backward (Nagios CRITICAL).
pub const CLOCK_STEPPED_BACK: i32 = 2;
/// Nagios WARNING (`leap`: something to fix before it matters).
pub const WARNING: i32 = 1;
/// Nagios CRITICAL (`leap`: wrong now, or about to be).
pub const CRITICAL: i32 = 2;
/// Nagios UNKNOWN (`clocks`: a clock the measurement needs cannot be read; `leap`: something
/// could not be checked).
pub const UNKNOWN: i32 = 3;
/// `pauses`: events above the threshold were seen (Nagios WARNING).
pub const EVENTS_SEEN: i32 = 1;
/// `pauses`: CLOCK_MONOTONIC went backwards, a hard fault of the clock (Nagios CRITICAL).
pub const CLOCK_FAULT: i32 = 2;
/// Usage error: bad flags or arguments (sysexits EX_USAGE).
pub const USAGE: i32 = 64;
/// A service could not be provided: an address cannot be bound, an upstream cannot be
/// resolved (sysexits EX_UNAVAILABLE).
pub const UNAVAILABLE: i32 = 69;
/// `report`: no row of the logs is in the selected range (nothing to draw).
pub const NO_DATA: i32 = 2;
/// Input data error: an empty, unknown or malformed file (sysexits EX_DATAERR).
pub const DATA_ERR: i32 = 65;
/// An input file cannot be opened or read (sysexits EX_NOINPUT).
pub const NO_INPUT: i32 = 66;
/// An output file cannot be created (sysexits EX_CANTCREAT).
pub const CANT_CREATE: i32 = 73;
/// Internal error (sysexits EX_SOFTWARE).
pub const SOFTWARE: i32 = 70;
/// An output file cannot be written (sysexits EX_IOERR).
pub const IO_ERROR: i32 = 74;

/// An error that ends a command with a message and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
}

impl CliError {
    /// A usage error (exit 64).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: USAGE,
            message: message.into(),
        }
    }

    /// An error with a given code.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
}
