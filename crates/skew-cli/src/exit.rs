//! Exit codes, shared by all subcommands and documented in the README.

/// Success (`probe`: every server ok; monitor: Nagios OK).
pub const OK: i32 = 0;
/// Partial failure (`probe`: some servers failed; monitor: WARNING).
pub const SOME_FAILED: i32 = 1;
/// Total failure (`probe`: no server answered validly; monitor: CRITICAL).
pub const ALL_FAILED: i32 = 2;
/// `report`: no row of the logs is in the selected range (nothing to draw).
pub const NO_DATA: i32 = 2;
/// Usage error: bad flags or arguments (sysexits EX_USAGE).
pub const USAGE: i32 = 64;
/// Input data error: an empty, unknown or malformed file (sysexits EX_DATAERR).
pub const DATA_ERR: i32 = 65;
/// An input file cannot be opened or read (sysexits EX_NOINPUT).
pub const NO_INPUT: i32 = 66;
/// An output file cannot be created (sysexits EX_CANTCREAT).
pub const CANT_CREATE: i32 = 73;
/// Internal error (sysexits EX_SOFTWARE).
pub const SOFTWARE: i32 = 70;

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
