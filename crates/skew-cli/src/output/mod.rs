//! Output helpers shared by the subcommands: aligned text tables and JSON printing.

pub mod table;

use std::io::Write;

/// Prints a value as pretty JSON on stdout, followed by a newline.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), crate::exit::CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        crate::exit::CliError::new(crate::exit::SOFTWARE, format!("cannot encode JSON: {e}"))
    })?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    Ok(())
}
