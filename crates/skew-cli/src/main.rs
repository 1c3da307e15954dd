//! `skew`: measure how wrong clocks are.
//!
//! The command-line front end: argument parsing (clap), human/JSON/CSV printing and exit
//! codes. Every measurement is made by the library crates; this crate only presents it.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod exit;
mod output;

use clap::error::ErrorKind;
use clap::FromArgMatches;

fn main() {
    // Behave like a Unix tool when piped into `head`: die quietly on SIGPIPE instead of
    // panicking on a failed write.
    skew_process_io::signals::default_sigpipe();
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let code = match parsed {
        Ok(cli) => cli.run(),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                exit::OK
            }
            _ => {
                let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
                if cli::answers_nagios(&args) {
                    // monitor and check answer Nagios even about their own command line:
                    // clap's message on stderr, its first line as the UNKNOWN line.
                    let _ = e.print();
                    let text = e.to_string();
                    let first = text.lines().next().unwrap_or("usage error");
                    let reason = first.strip_prefix("error: ").unwrap_or(first);
                    println!("{}", skew_monitor::nagios::Verdict::unknown(reason).line);
                    exit::UNKNOWN
                } else {
                    let _ = e.print();
                    exit::USAGE
                }
            }
        },
    };
    std::process::exit(code);
}
