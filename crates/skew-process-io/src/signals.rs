//! Signal dispositions: SIGINT and SIGTERM as a flag that loops check to stop cleanly
//! (printing their statistics), and SIGPIPE back to its default for a Unix tool piped into
//! `head`. The handler only stores to an atomic (async-signal-safe).
#![allow(unsafe_code)]

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM set the stop flag instead of killing the process. No
/// SA_RESTART, so a blocking `ppoll` returns at once with EINTR.
pub fn stop_on_signals() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_stop_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(sig, &action) }?;
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM has arrived (or [`request_stop`] was called).
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Asks the loops to stop, as a signal would (for embedding and tests).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Restores the default disposition of SIGPIPE (the Rust runtime ignores it), so that a
/// command piped into `head` dies quietly instead of failing a write. Call it first thing in
/// `main`, before any thread starts.
pub fn default_sigpipe() {
    // SAFETY: SIG_DFL installs no handler; called before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_sets_the_flag() {
        stop_on_signals().unwrap();
        assert!(!stop_requested());
        nix::sys::signal::raise(Signal::SIGTERM).unwrap();
        assert!(stop_requested());
    }
}
