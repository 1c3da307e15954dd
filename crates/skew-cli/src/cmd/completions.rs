//! `skew completions SHELL`: the shell completion script, generated from the clap
//! definitions (clap_complete), so every command, flag and fixed value completes.

use crate::cli::Cli;
use crate::exit::{self, CliError};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// Arguments of `skew completions`.
#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 script printed, 64 usage error (an unknown shell).")]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

/// The completion script of `skew` for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "skew", &mut out);
    out
}

/// Runs `skew completions`.
pub fn run(a: CompletionsArgs) -> Result<i32, CliError> {
    use std::io::Write;
    std::io::stdout()
        .lock()
        .write_all(&script(a.shell))
        .map_err(|e| CliError::new(exit::IO_ERROR, format!("cannot write the script: {e}")))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    //! Consistency, as ripgrep's `complete/consistency.rs`: every command and every flag of
    //! the clap definitions appears in every shell's script.
    use super::*;
    use clap::ValueEnum;

    /// How `shell` spells the long flag `long` in its script.
    fn spelled(shell: Shell, long: &str) -> String {
        match shell {
            Shell::Fish => format!("-l {long}"),
            _ => format!("--{long}"),
        }
    }

    #[test]
    fn every_command_and_flag_is_in_every_shells_script() {
        let cli = Cli::command();
        for &shell in Shell::value_variants() {
            let text = String::from_utf8(script(shell)).unwrap();
            for sub in cli.get_subcommands() {
                assert!(
                    text.contains(sub.get_name()),
                    "{shell}: command {} missing",
                    sub.get_name()
                );
                for arg in sub.get_arguments() {
                    if let Some(long) = arg.get_long() {
                        assert!(
                            text.contains(&spelled(shell, long)),
                            "{shell}: `skew {} --{long}` missing from the completion script",
                            sub.get_name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fixed_values_complete() {
        let text = String::from_utf8(script(Shell::Bash)).unwrap();
        for value in ["insert", "delete", "alarm", "powershell", "pauses"] {
            assert!(text.contains(value), "bash script lacks {value}");
        }
    }
}
