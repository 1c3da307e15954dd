//! Waiting for SIGTERM or SIGINT without waking up: the signals are blocked in every thread
//! (threads started afterwards inherit the mask) and the waiting thread takes them with
//! `sigwait`, so an idle exporter costs no CPU for its stop handling.

use nix::sys::signal::{SigSet, Signal};

/// The stop signals.
fn stop_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set
}

/// Blocks SIGTERM and SIGINT in the calling thread; call before starting any thread.
pub fn block_stop_signals() -> nix::Result<()> {
    stop_set().thread_block()
}

/// Waits until SIGTERM or SIGINT arrives (they must be blocked, see
/// [`block_stop_signals`]) and returns it.
pub fn wait_stop_signal() -> nix::Result<Signal> {
    stop_set().wait()
}
