//! Output helpers shared by the subcommands: aligned text tables and JSON printing.

pub mod table;

use std::io::Write;

/// Prints a value as pretty JSON on stdout, followed by a newline. The text is streamed
/// through a buffer rather than built whole first, so a large report (10,000 probes) costs
/// no more memory than the value itself. Errors writing stdout (a closed pipe) are ignored,
/// as for every other output.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), crate::exit::CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match serde_json::to_writer_pretty(&mut out, value) {
        Err(e) if !e.is_io() => {
            return Err(crate::exit::CliError::new(
                crate::exit::SOFTWARE,
                format!("cannot encode JSON: {e}"),
            ))
        }
        _ => {}
    }
    let _ = writeln!(out);
    let _ = out.flush();
    Ok(())
}
