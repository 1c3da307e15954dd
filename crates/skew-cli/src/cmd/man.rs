//! `skew man [COMMAND]`: the manual pages, generated from the clap definitions (clap_mangen),
//! so they say exactly what `--help` says and cannot go stale.

use crate::exit::{self, CliError};
use clap::Args;
use std::io::Write;

/// The commands that have a page of their own (`skew-NAME.1`), in the order of `skew --help`.
/// A unit test keeps this list equal to the subcommands of `skew` (`cli.rs`).
pub const PAGES: &[&str] = &[
    "probe",
    "monitor",
    "check",
    "now",
    "clocks",
    "leap",
    "serve",
    "proxy",
    "report",
    "pauses",
    "exporter",
    "man",
    "completions",
];

/// Arguments of `skew man`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 page printed, 64 usage error (an unknown command), 74 the page cannot be written."
)]
pub struct ManArgs {
    /// The command whose page to print (`probe` prints skew-probe.1); none: the page of skew
    /// itself (skew.1), which lists every command.
    #[arg(value_name = "COMMAND", value_parser = clap::builder::PossibleValuesParser::new(PAGES))]
    pub command: Option<String>,
}

/// The roff source of the page of `command` (`None`: `skew.1`) of the command line `cli`
/// (`Cli::command()`, passed in so that this module does not import `cli.rs`).
pub fn page(mut cli: clap::Command, command: Option<&str>) -> Result<Vec<u8>, CliError> {
    cli.build();
    let cmd = match command {
        // The generated `help` subcommand has no page of its own: keep it out of the list.
        None => cli.mut_subcommand("help", |h| h.hide(true)),
        Some(name) => cli
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| CliError::usage(format!("no manual page for {name:?}")))?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .manual("skew manual")
        .source(format!("skew {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot render the page: {e}")))?;
    let text = String::from_utf8(out)
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("the page is not UTF-8: {e}")))?;
    // clap_mangen calls the text after the options (`after_help`: notes, exit status) EXTRA.
    let mut text = text.replacen(".SH EXTRA\n", ".SH NOTES\n", 1);
    let see_also = see_also(command);
    match text.find(".SH VERSION\n") {
        Some(at) => text.insert_str(at, &see_also),
        None => text.push_str(&see_also),
    }
    Ok(ascii_roff(&text).into_bytes())
}

/// The SEE ALSO section of a page: the other pages and the documents in skew's source.
fn see_also(command: Option<&str>) -> String {
    let pages: Vec<String> = match command {
        None => PAGES
            .iter()
            .map(|p| format!("\\fBskew\\-{}\\fR(1)", p.replace('-', "\\-")))
            .collect(),
        Some(_) => vec!["\\fBskew\\fR(1)".to_string()],
    };
    let docs = match command {
        None => "README.md (what skew is, set-up), docs/guide.md (tasks: check a host, cron \
with Prometheus and Nagios, leases, reports, testing a client), docs/commands/ (one document per \
command: what it measures and how), docs/formats.md (every JSON key, CSV column, drift-log column \
and metric) and docs/ARCHITECTURE.md, in skew's source."
            .to_string(),
        Some(name) => format!(
            "docs/commands/{name}.md (what it measures and how, with examples) and \
docs/formats.md (every JSON key, CSV column, drift-log column and metric), in skew's source."
        ),
    };
    format!(
        ".SH \"SEE ALSO\"\n{}\n.PP\n{}\n",
        pages.join(", "),
        docs.replace('-', "\\-")
    )
}

/// `text` with every non-ASCII character written as a roff escape (`−` as `\[u2212]`): the
/// help texts use −, ×, ≤ and µ, which groff (without preconv) and other roff readers would
/// take for Latin-1 bytes.
pub fn ascii_roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", c as u32));
        }
    }
    out
}

/// Runs `skew man`.
pub fn run(a: ManArgs, cli: clap::Command) -> Result<i32, CliError> {
    let text = page(cli, a.command.as_deref())?;
    std::io::stdout()
        .lock()
        .write_all(&text)
        .map_err(|e| CliError::new(exit::IO_ERROR, format!("cannot write the page: {e}")))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::{ascii_roff, CliError, PAGES};
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn page(command: Option<&str>) -> Result<Vec<u8>, CliError> {
        super::page(Cli::command(), command)
    }

    #[test]
    fn every_command_has_a_page_and_every_page_a_command() {
        let cli = Cli::command();
        let commands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(
            commands, PAGES,
            "skew_cli::cmd::man::PAGES must list every subcommand of cli.rs, in the same order"
        );
    }

    #[test]
    fn a_command_page_is_titled_skew_dash_command() {
        let text = String::from_utf8(page(Some("probe")).unwrap()).unwrap();
        assert!(text.contains(".TH skew-probe 1"), "{text}");
        let top = String::from_utf8(page(None).unwrap()).unwrap();
        assert!(top.contains(".TH skew 1"), "{top}");
        assert!(top.contains("skew\\-probe(1)"), "{top}");
        assert!(!top.contains("skew\\-help(1)"), "{top}");
        assert!(top.contains(".SH \"SEE ALSO\""), "{top}");
        assert!(text.contains("docs/commands/probe.md"), "{text}");
    }

    #[test]
    fn non_ascii_characters_become_roff_escapes() {
        assert_eq!(
            ascii_roff("a − b ≤ 5 µs"),
            "a \\[u2212] b \\[u2264] 5 \\[u00B5]s"
        );
        let text = String::from_utf8(page(Some("pauses")).unwrap()).unwrap();
        assert!(text.is_ascii());
    }
}
