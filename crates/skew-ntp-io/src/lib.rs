//! The NTP edges of skew: where packets meet sockets and clocks.
//!
//! * [`clock`]: the [`LocalClock`] trait (time of day and monotonic time) and the real
//!   Linux clocks behind it, plus the measurement of the local clock's precision;
//! * [`socket`]: a non-blocking UDP socket that reports the kernel's receive timestamp
//!   (SO_TIMESTAMPNS) for each datagram, or a user-space clock read where it cannot;
//! * [`target`]: `host`, `host:port`, `[v6]:port` parsing and name resolution;
//! * [`nonce`]: request nonces from the operating system's secure random generator;
//! * [`engine`]: the concurrent probe engine that drives [`skew_ntp::ServerProber`]s over
//!   one socket per address family;
//! * [`nts`]: the NTS part of a run: key exchanges (`skew-nts-io`), then NTP targets
//!   carrying their sessions;
//! * [`run`]: one run from server arguments to results (parse, resolve, key exchange,
//!   probe).
//!
//! Everything protocol-related (validation, math, pacing) lives in the pure `skew-ntp`
//! crate; this crate only moves bytes and reads clocks.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod engine;
pub mod nonce;
pub mod nts;
pub mod run;
pub mod socket;
pub mod target;

pub use clock::{LocalClock, SystemClock};
pub use engine::{
    run_probes, run_probes_keeping_sessions, EngineConfig, EngineStats, Target,
    DEFAULT_MAX_INFLIGHT,
};
pub use nts::{establish, parse_nts_server, NtsOptions, DEFAULT_KE_TIMEOUT};
pub use run::{probe_servers, ProbeRequest, ProbeRun, ProbeSettings, RunError};
pub use target::{parse_server, resolve_all, Family, ResolvedServer, ServerSpec};
