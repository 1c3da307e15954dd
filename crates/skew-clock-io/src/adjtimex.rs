//! Reading the kernel's clock discipline: `adjtimex(2)` with `modes = 0`, which only reads.
//!
//! skew never changes the system clock: this is its only call into `adjtimex`, and it
//! zeroes `modes` so the kernel changes nothing. Decoding is pure
//! ([`skew_time::kernel::KernelState::decode`]).
#![allow(unsafe_code)]

use skew_time::kernel::{KernelState, Timex};
use std::fmt;

/// How the message of a denied read ([`ReadError::is_denied`]) starts.
pub const DENIED: &str = "adjtimex is denied";

/// Why the kernel's discipline could not be read: the errno of `adjtimex`, explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadError {
    /// The errno.
    pub errno: i32,
}

impl ReadError {
    /// The call was refused (EPERM or EACCES): a seccomp filter or a security module
    /// forbids it, even read-only.
    pub fn is_denied(&self) -> bool {
        self.errno == libc::EPERM || self.errno == libc::EACCES
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = std::io::Error::from_raw_os_error(self.errno);
        if self.is_denied() {
            write!(
                f,
                "{DENIED} ({os}), even to read: a seccomp filter forbids it, as the \
                 one systemd's ProtectClock=yes installs does; skew only reads the kernel's \
                 clock state (modes = 0), so drop ProtectClock= from the unit"
            )
        } else if self.errno == libc::ENOSYS {
            write!(f, "adjtimex is not available here ({os})")
        } else {
            write!(f, "adjtimex failed: {os}")
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads the kernel's discipline state (read-only).
pub fn read() -> Result<Timex, ReadError> {
    // SAFETY: `timex` is plain old data; an all-zero value is valid and has `modes = 0`,
    // which makes adjtimex a pure read. The pointer is valid for the duration of the call.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    // SAFETY: see above; the kernel only writes into `tx`.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return Err(ReadError {
            errno: std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        });
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
pub fn kernel_state() -> Result<KernelState, ReadError> {
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

    #[test]
    fn errors_say_why() {
        let denied = super::ReadError { errno: libc::EPERM };
        assert!(denied.is_denied());
        let t = denied.to_string();
        assert!(
            t.starts_with("adjtimex is denied (Operation not permitted"),
            "{t}"
        );
        assert!(t.contains("ProtectClock=yes"), "{t}");
        let other = super::ReadError {
            errno: libc::EFAULT,
        };
        assert!(!other.is_denied());
        assert!(other
            .to_string()
            .starts_with("adjtimex failed: Bad address"));
    }
}
