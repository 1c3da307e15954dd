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

/// The largest state file read: 1 MiB (a state is a few hundred bytes).
pub const MAX_STATE_BYTES: u64 = 1 << 20;

/// Reads a state file: a regular file of at most [`MAX_STATE_BYTES`] (a FIFO planted under
/// its name is refused at once rather than waited on by a root-run `skew monitor`).
pub fn read(path: &Path) -> Result<MeasurementState, StateError> {
    let text = skew_fs::read_small(path, MAX_STATE_BYTES).map_err(|e| match e {
        skew_fs::ReadError::Open { source, .. } => StateError::Missing {
            path: path.to_path_buf(),
            source,
        },
        other => StateError::Invalid {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
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

/// A pause (or step, suspend...) seen after a measurement, as the invalidation policy needs
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause<'a> {
    /// Its kind, as reported (`vm`, `suspend`...).
    pub kind: &'a str,
    /// Whether the machine may have shared it (the clock may have moved under it).
    pub machine_wide: bool,
    /// Its upper bound, ns (None: unbounded).
    pub max_ns: Option<i64>,
    /// When it started, ns since the Unix epoch.
    pub start_unix_ns: i64,
    /// When it ended, ns since the Unix epoch.
    pub end_unix_ns: i64,
}

/// The policy: a machine-wide pause that may be longer than the state's bound (an unbounded
/// one always may), ending after the measurement, voids a state not voided yet. Pure.
pub fn pause_invalidation(s: &MeasurementState, p: &Pause<'_>) -> Option<Invalidation> {
    if !p.machine_wide {
        return None;
    }
    let half_ns = match (s.lo_ns, s.hi_ns) {
        // i128: a damaged state may hold anything (it then reads `unknown` anyway).
        (Some(lo), Some(hi)) => (i128::from(hi) - i128::from(lo)) / 2,
        _ => return None, // no interval to void
    };
    let longer = p.max_ns.is_none_or(|m| i128::from(m).abs() > half_ns);
    if !longer || p.end_unix_ns < s.at.realtime_ns || s.invalidated.is_some() {
        return None;
    }
    let reason = format!(
        "{} pause of up to {} at {} (longer than the bound ±{:.6} s)",
        p.kind,
        p.max_ns
            .map_or("an unknown length".to_string(), |m| format!(
                "{:.3} s",
                m as f64 / 1e9
            )),
        skew_time::rfc3339::format_ns(p.start_unix_ns),
        half_ns as f64 / 1e9
    );
    Some(Invalidation {
        at_unix_ns: p.end_unix_ns,
        reason,
    })
}

/// Applies [`pause_invalidation`] to the state file at `path`; `Ok(true)` when it voided it.
pub fn void_if_longer(path: &Path, p: &Pause<'_>) -> Result<bool, StateError> {
    if !p.machine_wide {
        return Ok(false);
    }
    let s = read(path)?;
    match pause_invalidation(&s, p) {
        Some(inv) => invalidate(path, inv).map(|()| true),
        None => Ok(false),
    }
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
    fn pauses_that_void_the_interval() {
        let s = sample(); // bound [-20 µs, +30 µs]: half-width 25 µs
        let p = Pause {
            kind: "vm",
            machine_wide: true,
            max_ns: Some(2_000_000_000),
            start_unix_ns: s.at.realtime_ns + 10,
            end_unix_ns: s.at.realtime_ns + 20,
        };
        let inv = pause_invalidation(&s, &p).expect("voids");
        assert_eq!(inv.at_unix_ns, p.end_unix_ns);
        assert!(
            inv.reason.starts_with("vm pause of up to 2.000 s at "),
            "{}",
            inv.reason
        );
        assert!(inv.reason.ends_with("(longer than the bound ±0.000025 s)"));
        let unbounded = Pause { max_ns: None, ..p };
        assert!(pause_invalidation(&s, &unbounded)
            .unwrap()
            .reason
            .contains("an unknown length"));
        // Not machine-wide, shorter than the bound, before the measurement, already void.
        assert_eq!(
            pause_invalidation(
                &s,
                &Pause {
                    machine_wide: false,
                    ..p
                }
            ),
            None
        );
        assert_eq!(
            pause_invalidation(
                &s,
                &Pause {
                    max_ns: Some(25_000),
                    ..p
                }
            ),
            None
        );
        let before = Pause {
            end_unix_ns: s.at.realtime_ns - 1,
            ..p
        };
        assert_eq!(pause_invalidation(&s, &before), None);
        let mut voided = s.clone();
        voided.invalidated = Some(Invalidation {
            at_unix_ns: 1,
            reason: "x".into(),
        });
        assert_eq!(pause_invalidation(&voided, &p), None);
        let mut no_majority = s.clone();
        no_majority.lo_ns = None;
        assert_eq!(pause_invalidation(&no_majority, &p), None);
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
