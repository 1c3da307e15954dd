//! The IO edges of `skew serve` and `skew proxy`.
//!
//! The decisions live in the pure `skew-fault` crate; this crate only moves datagrams,
//! reads clocks, waits and handles signals:
//!
//! * [`sockets`]: binding (IPv4 and IPv6-only sockets, kernel receive timestamps, large
//!   buffers), with a typed [`sockets::BindError`];
//! * [`batch`]: `recvmmsg`/`sendmmsg` over preallocated buffers with SO_TIMESTAMPNS;
//! * [`timing`]: precise waits (ppoll with 1 ns timer slack, then a short busy-wait);
//! * [`signals`]: SIGINT/SIGTERM as a stop flag;
//! * [`serve`]: the serving loop; [`proxy`]: the forwarding loop with its release scheduler;
//! * [`ready`]: readiness announcements (`listening on ADDR`, `--ready-file`);
//! * [`loadgen`]: a bounded NTP load generator for benchmarks.
#![warn(missing_docs)]

pub mod addr;
pub mod batch;
pub mod loadgen;
pub mod proxy;
pub mod ready;
pub mod serve;
pub mod signals;
pub mod sockets;
pub mod timing;

pub use serve::{run_serve, ServeLimits};
pub use sockets::{bind_all, bind_udp, BindError};
