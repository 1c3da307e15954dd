//! SIGINT and SIGTERM as a flag: the loops check it and stop cleanly, printing their
//! statistics (the flag and its handler live in `skew-process-io`).

pub use skew_process_io::signals::{request_stop, stop_requested};

/// Installs the handler for SIGINT and SIGTERM (without SA_RESTART, so a blocking
/// `ppoll` returns at once with EINTR).
pub fn install() -> nix::Result<()> {
    skew_process_io::signals::stop_on_signals()
}
