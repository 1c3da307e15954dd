//! The Linux clocks and timers the detector uses (from `skew-clock-io`): the three clocks
//! read together, CLOCK_MONOTONIC, absolute-deadline sleeps, timer slack and CPU time.
//! Everything is async-signal-safe and allocation-free, so the forked sibling uses it too.

pub use skew_clock_io::{
    mono_ns, process_cpu_ns, read_clocks, set_timer_slack, sleep_until_mono, thread_cpu_ns,
};
