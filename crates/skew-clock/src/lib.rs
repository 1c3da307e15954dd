//! Local clocks for skew.
//!
//! Pure modules (`#![forbid(unsafe_code)]`, no clock reads of their own: they read through
//! the [`ClockSource`] trait):
//!
//! * [`kernel`] (from `skew-time`): the kernel's clock discipline as `adjtimex` reports it, decoded
//!   purely from a snapshot ([`kernel::Timex`]) so every state and flag can be tested;
//! * [`source`]: the Linux clocks by name, and the [`ClockSource`] trait the real and the
//!   simulated clocks implement;
//! * [`sample`]: tightly bracketed readings on the MONOTONIC_RAW timeline;
//! * [`resolution`]: resolution (`clock_getres` and chrony's measurement) and read cost;
//! * [`regress`]: rates against RAW with a 95 % confidence interval;
//! * [`detect`]: steps of REALTIME against BOOTTIME, suspends, MONOTONIC jumps;
//! * [`monitor`]: a run's state, intervals and summaries; [`run`]: the sampling loop over a
//!   [`ClockSource`] + [`run::Pacer`];
//! * [`tai`], [`kernel_rate`], [`timens`], [`clocksource`]: judgements and parsers over
//!   snapshots; [`report`]: the JSON and CSV views;
//! * [`sim`]: simulated clocks for tests.
//!
//! Modules that touch the system, with no `unsafe` of their own (the system calls are
//! `skew-clock-io`'s and `skew-process-io`'s):
//!
//! * [`adjtimex`] (re-exported from `skew-clock-io`): the discipline state, strictly
//!   read-only (`modes = 0`);
//! * [`reading`]: a short reading of the real clocks in one call (for `skew monitor`);
//! * [`linux`]: the real clocks as a [`ClockSource`], the timerfd (TFD_TIMER_CANCEL_ON_SET)
//!   that reports clock settings, stop signals, and the clocksource and time-namespace files.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use skew_clock_io::adjtimex;
pub mod clocksource;
pub mod detect;
pub use skew_time::kernel;
pub mod kernel_rate;
pub mod linux;
pub mod monitor;
pub mod reading;
pub mod regress;
pub mod report;
pub mod resolution;
pub mod run;
pub mod sample;
pub mod sim;
pub mod source;
pub mod tai;
pub mod timens;

pub use kernel::{KernelState, TimeState, Timex};
pub use source::{ClockError, ClockId, ClockSource};
