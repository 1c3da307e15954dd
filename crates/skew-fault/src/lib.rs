//! The decisions of `skew serve` and `skew proxy`, without IO.
//!
//! Everything a liar decides is a pure function of integers and a seeded random generator,
//! so unit tests drive it with simulated time and repeat it exactly:
//!
//! * [`rng`]: SplitMix64, the small seeded generator behind every random choice, and
//!   [`rng::Probability`] (`0.1`, `10%`);
//! * [`served`]: what the served clock reads at a given true time (offset, drift, step,
//!   leap smear);
//! * [`serve`]: the fault-injecting server: header faults, the Kiss-o'-Death schedule,
//!   loss, hold, duplicates, wrong origin, zero transmit, truncation, garbage, and the
//!   rendering of each datagram at its send time;
//! * [`proxy`]: per-direction delay, jitter and loss, duplication, reordering, and the
//!   man-in-the-middle rewrite of a server's T2/T3 (`--shift`);
//! * [`queue`]: a fixed-capacity deadline queue that refuses (and lets the caller count)
//!   what does not fit;
//! * [`stats`]: counters and the scheduling-error histogram, with their JSON views.
//!
//! The IO edge (`skew-fault-io`) owns sockets, clocks, timers and signals.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod proxy;
pub mod queue;
pub mod rng;
pub mod serve;
pub mod served;
pub mod stats;

pub use proxy::{Direction, Impairer, PathConfig, ProxyConfig};
pub use queue::DeadlineQueue;
pub use rng::{Probability, SplitMix64};
pub use serve::{FaultServer, ServeConfig};
pub use served::{ServedClock, SmearKind};
