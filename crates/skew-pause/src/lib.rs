//! Pause detection: is this process (or the whole machine) stalling, for how long, and why?
//!
//! A dedicated thread sleeps to absolute deadlines on CLOCK_MONOTONIC (1 ms by default,
//! timer slack lowered to 1 ns) and records each wake's overshoot in an HdrHistogram, as
//! jHiccup does. A pause P behind an overshoot satisfies `overshoot ≤ P ≤ overshoot +
//! interval`, and is reported as that interval. Overshoots above the threshold become
//! events, classified from signals read when they fire, against checkpoints refreshed every
//! second: a sibling detector in a separate process (shared-memory heartbeat), the thread's
//! run-delay, steal time, BOOTTIME − MONOTONIC, REALTIME − BOOTTIME, and the VMClock
//! disruption marker / VM generation ID.
//!
//! Pure modules (no IO), driven by unit tests with simulated clocks:
//! * [`config`]: settings and the defaults measured on this kind of machine;
//! * [`snapshot`]: what is read at one instant;
//! * [`pause`]: the interval arithmetic of a late wake;
//! * [`witness`]: the sibling's verdict on a stall;
//! * [`classify`]: the kind of an event, from two snapshots;
//! * [`detector`]: the state machine of the hiccup loop;
//! * [`summary`]: histograms, percentiles, CSV rows;
//! * [`event`], [`report`]: results and their serialisable views;
//! * [`procfs`]: parsers of schedstat, `/proc/stat`, the VMClock page.
//!
//! Edges: [`sys`] (clocks and timers from `skew-clock-io`, readers, the forked sibling from
//! `skew-process-io`, and termination signals) and [`monitor`] (the thread and the
//! embedding API). The crate has no `unsafe` code of its own.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod classify;
pub mod config;
pub mod detector;
pub mod event;
pub mod monitor;
pub mod pause;
pub mod procfs;
pub mod report;
pub mod snapshot;
pub mod summary;
pub mod sys;
pub mod witness;

pub use config::{DetectorConfig, MonitorConfig};
pub use detector::{DetectorSummary, Message};
pub use event::{PauseEvent, PauseKind};
pub use monitor::{MonitorError, PauseMonitor, StartInfo, Stopper};
pub use report::Report;
pub use summary::IntervalStats;
pub use witness::SiblingVerdict;
