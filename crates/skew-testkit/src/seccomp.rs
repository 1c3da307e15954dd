//! systemd's `ProtectClock=yes`, emulated: a seccomp filter that makes `adjtimex` and
//! `clock_adjtime` fail with EPERM, even read-only (`modes = 0`), as systemd's filter does.
//!
//! [`with_adjtimex_denied`] runs a closure on a thread of its own with the filter installed;
//! the processes it starts inherit the filter (seccomp filters pass through fork and exec),
//! and the test's other threads are untouched. seccompiler builds the BPF program; no unsafe
//! code here.

use seccompiler::{apply_filter, BpfProgram, SeccompAction, SeccompFilter, TargetArch};
use std::collections::BTreeMap;

/// The BPF program denying `adjtimex` and `clock_adjtime` with EPERM, allowing the rest.
pub fn deny_adjtimex_program() -> Result<BpfProgram, String> {
    let arch: TargetArch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("seccomp on {}: {e:?}", std::env::consts::ARCH))?;
    let rules = BTreeMap::from([
        (libc::SYS_adjtimex, vec![]),
        (libc::SYS_clock_adjtime, vec![]),
    ]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| format!("seccomp filter: {e}"))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp program: {e}"))
}

/// Runs `f` on a new thread under the filter of [`deny_adjtimex_program`] (with
/// no_new_privs, as seccomp requires without CAP_SYS_ADMIN) and returns its result; every
/// process `f` starts inherits the filter. Panics when the filter cannot be installed.
pub fn with_adjtimex_denied<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let program = deny_adjtimex_program().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        apply_filter(&program).unwrap_or_else(|e| panic!("installing the seccomp filter: {e}"));
        f()
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[cfg(test)]
mod tests {
    /// The filter works: a read-only adjtimex fails with EPERM on the filtered thread and in
    /// a child process it starts, and still works on the others.
    #[test]
    fn denies_adjtimex_on_its_thread_and_children_only() {
        let on_thread = super::with_adjtimex_denied(|| {
            let own = nix_adjtimex_errno();
            // A child inherits it: `cat /proc/self/status` shows the filter mode.
            let status = std::process::Command::new("cat")
                .arg("/proc/self/status")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&status.stdout).into_owned();
            (own, text)
        });
        assert_eq!(on_thread.0, Some(libc::EPERM));
        assert!(
            on_thread
                .1
                .lines()
                .any(|l| l.starts_with("Seccomp:") && l.trim_end().ends_with('2')),
            "{}",
            on_thread.1
        );
        assert_eq!(nix_adjtimex_errno(), None, "other threads are not filtered");
    }

    /// `adjtimex(modes = 0)` on this thread: the errno, if any.
    fn nix_adjtimex_errno() -> Option<i32> {
        // The testkit forbids unsafe code: read through the project's own edge.
        skew_clock_io::adjtimex::read().err().map(|e| e.errno)
    }
}
