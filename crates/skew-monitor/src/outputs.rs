//! What a monitor run leaves behind, written in one place: the drift-log rows (appended
//! under the log's lock), the `skew now` state (atomically, carrying the step counter
//! forward) and the Prometheus textfile (atomically, with the check's status). A file that
//! cannot be written does not stop the others; each failure comes back as one line of text
//! for the Nagios verdict.

use crate::nagios::{State, Verdict};
use crate::prom::{render, write_atomic, PromExtras};
use crate::run::RunOutcome;
use std::path::PathBuf;
use std::time::Duration;

/// Where a run's outputs go (each optional) and how long to wait for the log's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The CSV drift log to append to.
    pub log: Option<PathBuf>,
    /// The Prometheus textfile.
    pub prom: Option<PathBuf>,
    /// The measurement state for `skew now`.
    pub state: Option<PathBuf>,
    /// How long to wait for an overlapping run's lock on the log.
    pub lock_wait: Duration,
}

/// How long a run waits for another run's lock on the drift log by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// Writes the outputs of `outcome` judged as `verdict`: the log, then the state, then the
/// textfile (whose `skew_check_status` is UNKNOWN when an earlier output failed). Returns
/// the failures, each naming its file.
pub fn write_outputs(outcome: &RunOutcome, verdict: &Verdict, outputs: &Outputs) -> Vec<String> {
    let mut failures: Vec<String> = Vec::new();
    let steps_before = outputs
        .state
        .as_ref()
        .and_then(|p| skew_truetime::state::read(p).ok())
        .map_or(0, |s| s.clock_steps_total);
    if let Some(path) = &outputs.log {
        if let Err(e) = skew_driftlog::append_rows(path, &outcome.report.rows(), outputs.lock_wait)
        {
            failures.push(format!("drift log {} not written: {e}", path.display()));
        }
    }
    let state = outcome.state(steps_before);
    if let Some(path) = &outputs.state {
        if let Err(e) = skew_truetime::state::write(path, &state) {
            failures.push(format!("state {} not written: {e}", path.display()));
        }
    }
    if let Some(path) = &outputs.prom {
        let extras = PromExtras {
            run_duration_s: outcome.duration_s,
            clock_steps_total: outputs.state.as_ref().map(|_| state.clock_steps_total),
            check_status: Some(if failures.is_empty() {
                verdict.state.code()
            } else {
                State::Unknown.code()
            }),
        };
        if let Err(e) = write_atomic(path, &render(&outcome.report, &extras)) {
            failures.push(format!(
                "{}: Prometheus textfile not written: {e}",
                path.display()
            ));
        }
    }
    failures
}
