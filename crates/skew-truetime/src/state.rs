//! The measurement state: what `skew monitor` saves for `skew now` and the [`crate::TrueTime`]
//! API, as a small JSON file written atomically.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The state format version.
pub const STATE_VERSION: u32 = 1;

/// Why the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// No state file (no measurement yet).
    #[error("{path}: no measurement state ({source}); run `skew monitor --state {path}` first")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a state file of this version.
    #[error("{path}: not a skew state file: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// Writing failed.
    #[error("{path}: cannot write the state: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The clocks at one instant (the shared type: field names are the state file's keys).
pub use skew_time::ClockReadings;

/// Something recorded after the measurement that voids it (a long pause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidation {
    /// When, ns since the Unix epoch.
    pub at_unix_ns: i64,
    /// Why.
    pub reason: String,
}

/// The saved measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The host that measured.
    pub host: String,
    /// The kernel's boot id at the measurement (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: String,
    /// The clocks when the measurement started.
    pub at: ClockReadings,
    /// The clocks when it ended (bounds hold from `at` on; age counts from `at`).
    pub until: ClockReadings,
    /// Lower end of the agreed bound on UTC − local time, ns (None: no majority).
    pub lo_ns: Option<i64>,
    /// Upper end, ns.
    pub hi_ns: Option<i64>,
    /// Steps of the time-of-day clock seen by all monitor runs (a counter).
    pub clock_steps_total: u64,
    /// Set when something voided the measurement after it was taken.
    pub invalidated: Option<Invalidation>,
}

/// Reads a state file.
pub fn read(path: &Path) -> Result<MeasurementState, StateError> {
    let text = std::fs::read_to_string(path).map_err(|source| StateError::Missing {
        path: path.to_path_buf(),
        source,
    })?;
    let s: MeasurementState = serde_json::from_str(&text).map_err(|e| StateError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if s.version != STATE_VERSION {
        return Err(StateError::Invalid {
            path: path.to_path_buf(),
            message: format!("version {} (this skew reads {STATE_VERSION})", s.version),
        });
    }
    Ok(s)
}

/// Writes a state file atomically ([`skew_fs::write_atomic`]); the directory is created
/// when missing.
pub fn write(path: &Path, s: &MeasurementState) -> Result<(), StateError> {
    let err = |source| StateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut text = serde_json::to_string_pretty(s).map_err(|e| err(std::io::Error::other(e)))?;
    text.push('\n');
    skew_fs::write_atomic_creating_dir(path, text.as_bytes()).map_err(|e| err(e.into()))
}

/// Records an invalidation in the state file at `path` (read, modify, write atomically).
pub fn invalidate(path: &Path, inv: Invalidation) -> Result<(), StateError> {
    let mut s = read(path)?;
    s.invalidated = Some(inv);
    write(path, &s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> MeasurementState {
        let at = ClockReadings {
            realtime_ns: 1_795_000_000_000_000_000,
            monotonic_ns: 1_000_000_000_000,
            boottime_ns: 1_000_500_000_000,
        };
        MeasurementState {
            version: STATE_VERSION,
            host: "h".into(),
            boot_id: "b".into(),
            at,
            until: ClockReadings {
                realtime_ns: at.realtime_ns + 8_000_000_000,
                monotonic_ns: at.monotonic_ns + 8_000_000_000,
                boottime_ns: at.boottime_ns + 8_000_000_000,
            },
            lo_ns: Some(-20_000),
            hi_ns: Some(30_000),
            clock_steps_total: 0,
            invalidated: None,
        }
    }

    #[test]
    fn round_trip_and_errors() {
        let dir = std::env::temp_dir().join(format!("skew-state-{}", std::process::id()));
        let p = dir.join("a/state.json");
        assert!(matches!(read(&p), Err(StateError::Missing { .. })));
        write(&p, &sample()).unwrap();
        assert_eq!(read(&p).unwrap(), sample());
        invalidate(
            &p,
            Invalidation {
                at_unix_ns: 5,
                reason: "pause".into(),
            },
        )
        .unwrap();
        assert_eq!(read(&p).unwrap().invalidated.unwrap().reason, "pause");
        std::fs::write(&p, "{}").unwrap();
        assert!(matches!(read(&p), Err(StateError::Invalid { .. })));
        let _ = std::fs::remove_dir_all(dir);
    }
}
