//! One module per subcommand; each turns its arguments into library calls and prints.

pub mod pauses;
pub mod probe;

use crate::cli::{Cli, Command};
use crate::exit::CliError;

/// Runs the parsed command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let result: Result<i32, CliError> = match cli.command {
        Command::Probe(a) => probe::run(a),
        Command::Pauses(a) => pauses::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("skew: {}", e.message);
            e.code
        }
    }
}
