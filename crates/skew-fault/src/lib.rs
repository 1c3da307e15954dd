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

/// A hold (serve) or path delay and jitter (proxy) a liar accepts: 0 to 60 s (the datagram
/// waits in a queue that long).
pub const DELAY_RANGE: skew_time::DurationRange = skew_time::DurationRange::new(0, 60_000_000_000);
/// When a served clock steps (`--step-after`): 0 to 3650 days after the start.
pub const STEP_AFTER_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 3_650 * 86_400_000_000_000);
/// How long a liar runs at most (`--max-seconds`): 1 ms to 3650 days.
pub const RUN_LIMIT_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 3_650 * 86_400_000_000_000);
/// How long a liar busy-waits before a due time (`--busy-wait`): 0 to 100 ms.
pub const BUSY_WAIT_RANGE: skew_time::DurationRange = skew_time::DurationRange::new(0, 100_000_000);

pub use proxy::{Direction, Impairer, PathConfig, ProxyConfig};
pub use queue::DeadlineQueue;
pub use rng::{Probability, SplitMix64};
pub use serve::{FaultServer, ServeConfig};
pub use served::{ServedClock, SmearKind};
