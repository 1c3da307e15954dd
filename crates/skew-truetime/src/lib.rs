//! A TrueTime-style interval for "now": `earliest ≤ true UTC ≤ latest`, or `unknown`.
//!
//! A measurement (the majority's agreement on the offset to UTC, from `skew monitor`) is
//! saved in a small [`state::MeasurementState`] together with the clocks' readings at that
//! moment. Later, [`interval::evaluate`] turns it into an interval for the current time: the
//! agreement widened by a maximum drift rate (default 50 ppm) times the time elapsed on the
//! monotonic clock. It refuses — status `unknown`, no interval — when the state is too old,
//! the machine rebooted, the time-of-day clock stepped against BOOTTIME, the machine was
//! suspended, or a pause longer than the bound was recorded since the measurement: the
//! failure users of such intervals report is a confident but wrong bound, and this crate
//! prefers saying nothing.
//!
//! * [`state`]: the state file (JSON; written atomically);
//! * [`interval`]: the pure evaluation;
//! * [`stall`]: how long a watching process was itself stopped, as an interval (pure);
//! * [`clocks`]: reading REALTIME, MONOTONIC, BOOTTIME and the boot id (the edge);
//! * [`TrueTime`]: the library API a service embeds.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clocks;
pub mod interval;
pub mod stall;
pub mod state;

pub use interval::{evaluate, Interval, Limits, Status};
pub use state::MeasurementState;

use std::path::{Path, PathBuf};

/// The library API: `TrueTime::open(path)?.now()` gives the interval for the current time.
#[derive(Debug, Clone)]
pub struct TrueTime {
    path: PathBuf,
    limits: Limits,
}

impl TrueTime {
    /// Uses the state file at `path` with the default limits (50 ppm, 24 h).
    pub fn open(path: &Path) -> TrueTime {
        TrueTime {
            path: path.to_path_buf(),
            limits: Limits::default(),
        }
    }

    /// Uses other limits.
    pub fn with_limits(mut self, limits: Limits) -> TrueTime {
        self.limits = limits;
        self
    }

    /// The interval for the current time. A missing or unreadable state gives an error;
    /// a state that cannot vouch for the clock gives status `unknown`.
    pub fn now(&self) -> Result<Interval, state::StateError> {
        let s = state::read(&self.path)?;
        Ok(evaluate(&s, &clocks::read_now(), &self.limits))
    }
}
