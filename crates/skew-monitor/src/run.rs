//! One monitoring run: probe the servers and take the local readings concurrently, then
//! assemble the [`RunReport`]. The plan says what to do; the CLI builds it from flags and
//! the configuration file.

use crate::nagios::{Finding, State};
use crate::rows::{ClockReading, LeapReading, PauseReading, RunReport};
use skew_clock::reading::{self, ReadingConfig};
use skew_driftlog::LeapListStatus;
use skew_leap::list_check::{check_list, DEFAULT_EXPIRY_WARNING_DAYS};
use skew_leap::Severity;
use skew_ntp::select::{select_answered, AgreementRecord};
use skew_ntp_io::{probe_servers, ProbeRequest};
use skew_pause::{MonitorConfig as PauseMonitorConfig, PauseKind, PauseMonitor};
use skew_truetime::state::{ClockReadings, MeasurementState, STATE_VERSION};
use std::time::Duration;

/// What one run does.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// The servers and how to probe them.
    pub probe: ProbeRequest,
    /// Servers that must agree (None: the default majority rule).
    pub min_agree: Option<usize>,
    /// Take a local clock reading of this length (None: skip).
    pub clock: Option<Duration>,
    /// Take a pause sample: (length, detector interval) (None: skip).
    pub pause: Option<(Duration, Duration)>,
    /// Check the leap-seconds list (None: skip; Some(None): find the system's list).
    pub leap: Option<Option<std::path::PathBuf>>,
    /// This host's name as written in the log.
    pub host: String,
    /// When an NTS server's certificate end is a WARNING / CRITICAL.
    pub nts_cert: crate::nts::CertThresholds,
}

/// What a run produced beyond the report: the clocks around it (for the state file).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The report.
    pub report: RunReport,
    /// The probe results behind the report's records.
    pub results: Vec<skew_ntp::ServerResult>,
    /// The selection behind the report's agreement.
    pub agreement: skew_ntp::select::Agreement,
    /// The clocks when the run started.
    pub started: (ClockReadings, String),
    /// The clocks when it ended.
    pub ended: (ClockReadings, String),
    /// Wall time of the run on the monotonic clock, s.
    pub duration_s: f64,
    /// Why the servers could not be probed at all (a malformed server argument).
    pub probe_error: Option<String>,
    /// Local findings that affect the verdict (leap-seconds list).
    pub findings: Vec<Finding>,
}

/// The leap-seconds list's status as of `at_unix_s`, and the findings it gives a monitor run:
/// a bad hash or inconsistent data is CRITICAL, an expired or expiring list or no list at all
/// is a WARNING (the kernel's unset TAI offset, usual on hosts without a leap-aware daemon, is
/// left to `skew leap`). The list is `file` when given, else the freshest usable one of the
/// system's and skew's cache ([`skew_leap::system::in_use`]). Each finding is one short
/// clause, fit for the Nagios line; the advice is `skew check`'s and `skew leap`'s.
pub fn leap_reading(file: Option<&std::path::Path>, at_unix_s: i64) -> (LeapReading, Vec<Finding>) {
    let chosen = skew_leap::system::in_use(file);
    let (chosen, list) = match chosen {
        Ok(c) => match c.loaded.clone() {
            Ok(l) => (c, l),
            Err(e) => return missing(Some(&c), e),
        },
        Err(e) => return missing(None, e.to_string()),
    };
    let c = check_list(&list, at_unix_s, DEFAULT_EXPIRY_WARNING_DAYS);
    let status = if !c.hash.is_valid() {
        LeapListStatus::BadHash
    } else if !list.inconsistencies.is_empty() {
        LeapListStatus::Inconsistent
    } else if c.expired {
        LeapListStatus::Expired
    } else if c.expiring_soon {
        LeapListStatus::Expiring
    } else {
        LeapListStatus::Ok
    };
    let expires = skew_leap::calendar::iso_date(list.expires_unix_s());
    let findings = c
        .findings
        .iter()
        .filter_map(|f| {
            let state = match f.severity {
                Severity::Note => return None,
                Severity::Warning | Severity::Unknown => State::Warning,
                Severity::Critical => State::Critical,
            };
            let text = match status {
                LeapListStatus::Expired => format!("leap-seconds list expired on {expires}"),
                LeapListStatus::Expiring => format!("leap-seconds list expires on {expires}"),
                _ => format!("leap-seconds list {}: {}", chosen.path.display(), f.message),
            };
            Some(Finding { state, text })
        })
        .collect();
    let reading = LeapReading {
        status: status.as_str().into(),
        expires: Some(expires),
        tai_minus_utc_s: c.tai_minus_utc_s.map(i64::from),
        next: c.next_leap.map(|n| n.second_label()),
        expires_unix_s: Some(list.expires_unix_s()),
        path: Some(chosen.path.display().to_string()),
        source: Some(chosen.origin),
        chosen: Some(chosen.describe()),
    };
    (reading, findings)
}

/// The reading and finding when no list could be read.
fn missing(
    chosen: Option<&skew_leap::in_use::Chosen>,
    error: String,
) -> (LeapReading, Vec<Finding>) {
    let r = LeapReading {
        status: LeapListStatus::Missing.as_str().into(),
        path: chosen.map(|c| c.path.display().to_string()),
        source: chosen.map(|c| c.origin),
        chosen: chosen.map(skew_leap::in_use::Chosen::describe),
        ..LeapReading::default()
    };
    let finding = Finding {
        state: State::Warning,
        text: format!("leap-seconds list: {error}"),
    };
    (r, vec![finding])
}

/// A short reading of the local clocks: rate against MONOTONIC_RAW, steps, suspend, and the
/// kernel's discipline (as `skew clocks` measures them). A clock that cannot be read leaves
/// the figures empty rather than failing the run.
fn clock_reading(duration: Duration) -> ClockReading {
    let cfg = ReadingConfig {
        duration_ns: skew_time::duration_ns(duration),
        ..ReadingConfig::default()
    };
    let (summary, kernel, steps_local) = match reading::take(&cfg) {
        Ok(r) => {
            let local = r.steps_local_to_process() as u32;
            (Some(r.summary), r.kernel, local)
        }
        Err(_) => (None, reading::kernel_now(), 0),
    };
    let fit = summary.as_ref().and_then(|s| s.realtime_vs_raw.as_ref());
    let largest = summary
        .as_ref()
        .and_then(|s| s.steps.iter().max_by_key(|x| x.size_ns.unsigned_abs()));
    let k = kernel.as_ref().ok();
    ClockReading {
        rate_ppm: fit.map(|f| f.ppm),
        rate_ci95_ppm: fit.map(|f| f.ci95_ppm),
        kernel_freq_ppm: k.map(|k| k.freq_ppm),
        kernel_state: k.map(|k| k.state.clone()),
        kernel_synchronized: k.map(|k| k.synchronized),
        kernel_sync_reason: k.map(|k| k.sync_reason.clone()),
        kernel_error: kernel.as_ref().err().cloned(),
        steps: summary.as_ref().map_or(0, |s| s.steps.len() as u32),
        step_max_s: largest.map(|x| x.size_ns as f64 / 1e9),
        steps_local,
        suspended_s: summary.as_ref().map(|s| s.suspended_ns as f64 / 1e9),
    }
}

/// A short pause sample: the hiccup detector of `skew pauses` for `length`, sleeping
/// `interval`. The longest pause is the largest upper bound of its events, or of the largest
/// overshoot (overshoot + interval) when there is none; clock steps are not pauses. A sample
/// that cannot be taken (an interval `skew pauses` refuses too) is an error, never a
/// silently missing reading (issue 14.10: `--crit-pause` was then off without notice).
fn pause_reading(length: Duration, interval: Duration) -> Result<PauseReading, String> {
    let interval_ns = skew_time::duration_ns(interval);
    let (monitor, rx) = PauseMonitor::start(PauseMonitorConfig::for_interval(interval_ns))
        .map_err(|e| e.to_string())?;
    std::thread::sleep(length);
    let report = monitor.stop().map_err(|e| e.to_string())?;
    drop(rx);
    let s = &report.summary;
    let pauses: Vec<&skew_pause::PauseEvent> = s
        .events
        .iter()
        .filter(|e| e.kind != PauseKind::Step)
        .collect();
    let longest_event = pauses.iter().filter_map(|e| e.max_ns).max().unwrap_or(0);
    let max_ns = longest_event.max(s.overshoots.max_ns.saturating_add(interval_ns));
    Ok(PauseReading {
        max_s: max_ns as f64 / 1e9,
        p99_s: s.overshoots.p99_ns as f64 / 1e9,
        events: pauses.len() as u32,
    })
}

/// A fresh run identity: 64 random bits as 16 hex digits (the time alone is not unique:
/// two monitors started together wrote the same `run_time`, issue 14.14). Without a random
/// source, the time and the process make one that is still unique on this host.
pub fn new_run_id() -> String {
    let bits = skew_ntp_io::nonce::fresh_nonce().unwrap_or_else(|_| {
        let t = skew_truetime::clocks::read_now().0;
        (t.realtime_ns as u64).rotate_left(17)
            ^ (t.monotonic_ns as u64)
            ^ u64::from(std::process::id())
    });
    format!("{bits:016x}")
}

/// This host's name.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".into())
}

/// Executes a plan.
pub fn execute(plan: &RunPlan) -> RunOutcome {
    let started = skew_truetime::clocks::read_now();
    // The clock reading runs beside the probe, so the run lasts as long as the longer of both.
    let (clock, (results, probe_error)) = std::thread::scope(|s| {
        let clock = plan.clock.map(|d| s.spawn(move || clock_reading(d)));
        let pause = plan
            .pause
            .map(|(len, every)| s.spawn(move || pause_reading(len, every)));
        let probed = match probe_servers(&plan.probe) {
            Ok(run) => (run.results, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let pause = pause.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("the pause detector panicked".into()))
        });
        ((clock.map(|h| h.join().unwrap_or_default()), pause), probed)
    });
    let (clock, pause) = clock;
    let (pause, pause_finding) = match pause {
        None => (None, None),
        Some(Ok(p)) => (Some(p), None),
        Some(Err(e)) => (
            None,
            Some(Finding {
                state: State::Unknown,
                text: format!("pause sample not taken: {e}"),
            }),
        ),
    };
    let agreement = select_answered(&results, plan.min_agree);
    let probes: Vec<skew_ntp::ProbeRecord> = results
        .iter()
        .zip(&agreement.verdicts)
        .map(|(r, v)| {
            let mut rec = r.record();
            rec.truechimer = Some(v.unwrap_or(false));
            rec
        })
        .collect();
    let (leap, mut findings) = match &plan.leap {
        Some(file) => {
            let (r, f) = leap_reading(
                file.as_deref(),
                started.0.realtime_ns.div_euclid(1_000_000_000),
            );
            (Some(r), f)
        }
        None => (None, Vec::new()),
    };
    findings.extend(pause_finding);
    findings.extend(crate::nts::nts_findings(&probes, &plan.nts_cert));
    let ended = skew_truetime::clocks::read_now();
    let report = RunReport {
        run_time_unix_ns: started.0.realtime_ns,
        run_id: new_run_id(),
        host: plan.host.clone(),
        probes,
        agreement: AgreementRecord::from(&agreement),
        clock,
        pause,
        leap,
    };
    let duration_s = (ended.0.monotonic_ns - started.0.monotonic_ns) as f64 / 1e9;
    RunOutcome {
        report,
        results,
        agreement,
        started,
        ended,
        duration_s,
        probe_error,
        findings,
    }
}

impl RunOutcome {
    /// The measurement state for `skew now`, carrying `steps_before` forward plus this run's
    /// steps.
    pub fn state(&self, steps_before: u64) -> MeasurementState {
        let a = self.agreement.interval;
        MeasurementState {
            version: STATE_VERSION,
            host: self.report.host.clone(),
            boot_id: self.started.1.clone(),
            at: self.started.0,
            until: self.ended.0,
            lo_ns: a.map(|i| i.lo_ns - 1),
            hi_ns: a.map(|i| i.hi_ns + 1),
            clock_steps_total: steps_before
                + self.report.clock.as_ref().map_or(0, |c| u64::from(c.steps)),
            invalidated: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_sample_that_cannot_run_is_an_unknown_finding() {
        // Issue 14.10: an interval the detector refuses used to skip the sample silently.
        for interval in [Duration::ZERO, Duration::from_micros(50)] {
            let plan = RunPlan {
                probe: skew_ntp_io::ProbeSettings::default().request(&[]),
                min_agree: None,
                clock: None,
                pause: Some((Duration::from_millis(20), interval)),
                leap: None,
                host: "h".into(),
                nts_cert: crate::nts::CertThresholds::default(),
            };
            let o = execute(&plan);
            assert!(o.report.pause.is_none());
            let f = o
                .findings
                .iter()
                .find(|f| f.text.starts_with("pause sample not taken"))
                .unwrap_or_else(|| panic!("{:?}", o.findings));
            assert_eq!(f.state, State::Unknown);
            assert!(f.text.contains("outside 100us..10s"), "{}", f.text);
        }
    }
}
