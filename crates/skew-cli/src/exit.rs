//! Exit codes, shared by all subcommands and documented in the README.

/// Success (`probe`: every server ok; monitor: Nagios OK).
pub const OK: i32 = 0;
/// Partial failure (`probe`: some servers failed; monitor: WARNING).
pub const SOME_FAILED: i32 = 1;
/// Total failure (`probe`: no server answered validly; monitor: CRITICAL).
pub const ALL_FAILED: i32 = 2;
/// `pauses`: events above the threshold were seen (Nagios WARNING).
pub const EVENTS_SEEN: i32 = 1;
/// `pauses`: CLOCK_MONOTONIC went backwards, a hard fault of the clock (Nagios CRITICAL).
pub const CLOCK_FAULT: i32 = 2;
/// Usage error: bad flags or arguments (sysexits EX_USAGE).
pub const USAGE: i32 = 64;
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
