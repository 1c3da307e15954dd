//! Reading the kernel's clock discipline: `adjtimex(2)` with `modes = 0`, which only reads.
//!
//! skew never changes the system clock: this is its only call into `adjtimex`, and it
//! zeroes `modes` so the kernel changes nothing. Decoding is pure
//! ([`skew_time::kernel::KernelState::decode`]).
#![allow(unsafe_code)]

use skew_time::kernel::{KernelState, Timex};

/// Reads the kernel's discipline state (read-only).
pub fn read() -> std::io::Result<Timex> {
    // SAFETY: `timex` is plain old data; an all-zero value is valid and has `modes = 0`,
    // which makes adjtimex a pure read. The pointer is valid for the duration of the call.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    // SAFETY: see above; the kernel only writes into `tx`.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Timex {
        state,
        status: tx.status,
        offset: tx.offset,
        freq: tx.freq,
        maxerror: tx.maxerror,
        esterror: tx.esterror,
        constant: tx.constant,
        precision: tx.precision,
        tolerance: tx.tolerance,
        tick: tx.tick,
        tai: tx.tai,
    })
}

/// Reads and decodes the kernel's discipline state (read-only).
pub fn kernel_state() -> std::io::Result<KernelState> {
    read().map(|t| KernelState::decode(&t))
}

#[cfg(test)]
mod tests {
    /// Once for real on this machine: the call works and decodes; nothing about the state
    /// is assumed (this machine kind is undisciplined: TIME_ERROR, UNSYNC, tai 0).
    #[test]
    fn reads_this_machine() {
        let k = super::kernel_state().expect("adjtimex(modes = 0)");
        assert!(k.state.starts_with("TIME_") || k.state.starts_with("UNKNOWN"));
        assert!(k.tick_us > 0);
        assert!(k.maxerror_s >= 0.0);
    }
}
