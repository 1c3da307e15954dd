//! Termination signals for a command-line front end: SIGINT and SIGTERM are blocked in
//! every thread and taken synchronously by one waiting thread, so that a Ctrl-C ends the run
//! with its final summary instead of killing the process.
#![forbid(unsafe_code)]

use nix::sys::signal::{SigSet, Signal};

/// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it creates
/// afterwards). Call it first thing in `main`, before any thread exists.
pub fn block_termination_signals() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    Ok(set)
}

/// Starts a thread that waits for one of `set`'s signals and calls `on_signal` with it.
pub fn on_termination<F>(set: SigSet, on_signal: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce(Signal) + Send + 'static,
{
    std::thread::Builder::new()
        .name("skew-signals".into())
        .spawn(move || {
            if let Ok(sig) = set.wait() {
                on_signal(sig);
            }
        })
}
