//! The edges: the Linux clocks and timers, the `/proc` and device readers, the sibling
//! process with its shared-memory heartbeat, and termination signals. Each is thin; every
//! decision is made by the pure modules.

pub mod clocks;
pub mod readers;
pub mod sibling;
pub mod signals;
