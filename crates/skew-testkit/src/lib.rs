//! Test harness for skew's integration tests and benchmarks.
//!
//! Real peers, not mocks: [`Chronyd`] starts a chronyd serving the local clock (or a
//! follower with a known offset, or one under libfaketime) on a free loopback port, always
//! with `-x` so it never touches the system clock, and stops it by PID when dropped, also
//! when a test panics. [`Spawned`] does the same for any child process; [`SkewDaemon`]
//! starts our own `skew serve` and `skew proxy` and waits for their readiness file. [`chronyd_q`] runs chrony's one-shot client as a reference measurement. [`nts`] has
//! the NTS peers: a test PKI, chronyd serving NTS, a scripted NTS-KE server and a forger.
//! [`HttpsFiles`] serves files over HTTPS on loopback (`openssl s_server`, a [`TestPki`]).
//! [`with_adjtimex_denied`] runs what it is given under systemd's `ProtectClock=` seccomp
//! filter, emulated. [`one_module_at_a_time`] keeps the modules of a crate's single test binary from overlapping.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chrony;
pub mod daemon;
pub mod https;
pub mod ntp;
pub mod nts;
pub mod ports;
pub mod process;
pub mod seccomp;
pub mod serial;

pub use chrony::{chronyd_q, Chronyd};
pub use daemon::{DaemonOutput, SkewDaemon};
pub use https::HttpsFiles;
pub use nts::{chronyd_q_nts, KeRelay, NtsChronyd, RacingForger, ScriptedKe, TestPki, Validity};
pub use ports::{free_tcp_port, free_udp_port, http_get};
pub use process::{which, Spawned};
pub use seccomp::with_adjtimex_denied;
pub use serial::one_module_at_a_time;

/// libfaketime's preload library on Debian.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Panics with a clear message when a program the tests need is missing. The README's test
/// command installs all of them.
pub fn require(program: &str) {
    assert!(
        which(program).is_some(),
        "{program} is not installed: run the README's test command (scripts/test.sh), which installs it"
    );
}
