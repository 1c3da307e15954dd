//! `skew`: measure how wrong clocks are.
//!
//! The command-line front end: argument parsing (clap), human/JSON/CSV printing and exit
//! codes. Every measurement is made by the library crates; this crate only presents it.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod exit;
mod output;

use clap::Parser;

fn main() {
    // Behave like a Unix tool when piped into `head`: die quietly on SIGPIPE instead of
    // panicking on a failed write.
    skew_process_io::signals::default_sigpipe();
    let code = match cli::Cli::try_parse() {
        Ok(cli) => cli.run(),
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            code
        }
    };
    std::process::exit(code);
}
