//! One module per subcommand; each turns its arguments into library calls and prints.

pub mod daemon;
pub mod probe;
pub mod proxy;
pub mod serve;

use crate::cli::{Cli, Command};
use crate::exit::CliError;

/// Runs the parsed command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let result: Result<i32, CliError> = match cli.command {
        Command::Probe(a) => probe::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Proxy(a) => proxy::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("skew: {}", e.message);
            e.code
        }
    }
}
