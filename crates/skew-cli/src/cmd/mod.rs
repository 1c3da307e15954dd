//! One module per subcommand; each turns its arguments into library calls and prints.

pub mod check;
pub mod clocks;
pub mod completions;
pub mod daemon;
pub mod exporter;
pub mod leap;
pub mod man;
pub mod monitor;
pub mod now;
pub mod pauses;
pub mod probe;
pub mod proxy;
pub mod report;
pub mod run_options;
pub mod serve;

use crate::cli::{Cli, Command};
use crate::exit::CliError;

/// Runs the parsed command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let result: Result<i32, CliError> = match cli.command {
        Command::Probe(a) => probe::run(a),
        Command::Monitor(a) => monitor::run(a),
        Command::Check(a) => check::run(a),
        Command::Now(a) => now::run(a),
        Command::Clocks(a) => clocks::run(a),
        Command::Leap(a) => leap::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Proxy(a) => proxy::run(a),
        Command::Report(a) => report::run(a),
        Command::Pauses(a) => pauses::run(a),
        Command::Exporter(a) => exporter::run(a),
        Command::Man(a) => man::run(a),
        Command::Completions(a) => completions::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("skew: {}", e.message);
            e.code
        }
    }
}
