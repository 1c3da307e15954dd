//! The monitor: the hiccup thread that drives the [`Detector`] with the real clocks, and
//! the API a service embeds — start it, receive events through a channel or a callback,
//! stop it for the final report.
//!
//! ```no_run
//! use skew_pause::{Message, MonitorConfig, PauseMonitor};
//! let monitor = PauseMonitor::start_with_callback(MonitorConfig::default(), |m| {
//!     if let Message::Event(e) = m {
//!         eprintln!("paused {}..{} ns ({})", e.min_ns, e.max_ns.unwrap_or(-1), e.kind);
//!     }
//! })?;
//! // ... the service runs ...
//! let report = monitor.stop()?;
//! println!("p99.9 overshoot {} ns", report.summary.overshoots.p999_ns);
//! # Ok::<(), skew_pause::MonitorError>(())
//! ```
#![forbid(unsafe_code)]

use crate::config::{ConfigError, MonitorConfig};
use crate::detector::{Detector, Message, Need};
use crate::report::{CpuUsage, Report, SiblingInfo, Sources};
use crate::snapshot::Snapshot;
use crate::sys::clocks::{mono_ns, read_clocks, set_timer_slack, sleep_until_mono, thread_cpu_ns};
use crate::sys::readers::SignalReaders;
use crate::sys::sibling::Sibling;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Why a monitor could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The configuration is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A thread could not be created.
    #[error("cannot start the detector thread: {0}")]
    Thread(std::io::Error),
    /// The detector thread ended abnormally.
    #[error("the detector thread panicked")]
    Panicked,
}

/// What the monitor found out when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartInfo {
    /// Signals available.
    pub sources: Sources,
    /// The sibling.
    pub sibling: SiblingInfo,
    /// The detector thread's timer slack, ns.
    pub timer_slack_ns: Option<u64>,
}

/// Stops a monitor from another thread (a signal-handling thread, a shutdown hook); the
/// monitor's channel then closes once its last messages are sent.
#[derive(Debug, Clone)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    /// Asks the detector to stop (it does within one interval).
    pub fn stop(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A running pause monitor. Dropping it stops it (without the report).
#[derive(Debug)]
pub struct PauseMonitor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Report>>,
    dispatcher: Option<JoinHandle<()>>,
    info: StartInfo,
}

impl PauseMonitor {
    /// Starts the detector thread (and its sibling process); events and interval
    /// statistics arrive on the returned channel as they happen.
    pub fn start(cfg: MonitorConfig) -> Result<(PauseMonitor, Receiver<Message>), MonitorError> {
        cfg.validate()?;
        let (tx, rx) = channel();
        let (ready_tx, ready_rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("skew-pause".into())
            .spawn(move || detector_thread(cfg, stop2, tx, ready_tx))
            .map_err(MonitorError::Thread)?;
        let info = match ready_rx.recv() {
            Ok(info) => info,
            Err(_) => {
                let _ = thread.join();
                return Err(MonitorError::Panicked);
            }
        };
        Ok((
            PauseMonitor {
                stop,
                thread: Some(thread),
                dispatcher: None,
                info,
            },
            rx,
        ))
    }

    /// Starts the monitor and calls `on_message` (on a thread of its own, so that a slow
    /// callback never delays the detector) for every event and interval.
    pub fn start_with_callback<F>(
        cfg: MonitorConfig,
        mut on_message: F,
    ) -> Result<PauseMonitor, MonitorError>
    where
        F: FnMut(Message) + Send + 'static,
    {
        let (mut m, rx) = Self::start(cfg)?;
        let d = std::thread::Builder::new()
            .name("skew-pause-events".into())
            .spawn(move || {
                for msg in rx {
                    on_message(msg);
                }
            })
            .map_err(MonitorError::Thread)?;
        m.dispatcher = Some(d);
        Ok(m)
    }

    /// A handle that stops the monitor from elsewhere; collect the report with
    /// [`PauseMonitor::stop`].
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.stop))
    }

    /// What the monitor found out when it started (signals, sibling).
    pub fn info(&self) -> &StartInfo {
        &self.info
    }

    /// Stops the detector (within one interval) and the sibling, and returns the report.
    /// With a callback, every message has been delivered when this returns.
    pub fn stop(mut self) -> Result<Report, MonitorError> {
        self.stop.store(true, Ordering::Release);
        let report = self
            .thread
            .take()
            .expect("present until stopped")
            .join()
            .map_err(|_| MonitorError::Panicked)?;
        if let Some(d) = self.dispatcher.take() {
            let _ = d.join();
        }
        Ok(report)
    }
}

impl Drop for PauseMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(d) = self.dispatcher.take() {
            let _ = d.join();
        }
    }
}

fn snapshot(readers: &mut SignalReaders, sibling: Option<&Sibling>) -> Snapshot {
    Snapshot {
        clocks: read_clocks(),
        thread: readers.thread(),
        steal_ns: readers.steal(),
        sibling: sibling.map(Sibling::view),
        vmclock_marker: readers.vmclock_marker(),
        vmgenid_digest: readers.vmgenid_digest(),
    }
}

/// The longest single sleep of the detector thread: a stop request is seen within this
/// (plus the timer slack, at most 100 ms), whatever the interval (up to 10 s), so a signal
/// ends `skew pauses` within a second (issue 14.7).
pub const STOP_CHECK_NS: i64 = 100_000_000;

/// Sleeps until MONOTONIC reaches `deadline_ns`, in steps of at most [`STOP_CHECK_NS`];
/// false when `stop` was set first. The last step ends at the deadline itself, so the
/// overshoot measured is the same as one sleep's (a pause that ends before the deadline
/// was never visible to a sleeping thread anyway: the clock counts through it).
fn sleep_until_unless_stopped(deadline_ns: i64, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let now = mono_ns();
        if now >= deadline_ns {
            return true;
        }
        let step_end = deadline_ns.min(now.saturating_add(STOP_CHECK_NS));
        sleep_until_mono(step_end);
        if step_end == deadline_ns {
            return true;
        }
    }
}

/// The hiccup thread: sleep to each absolute deadline, measure, hand the wake to the
/// detector, read what it asks for, forward what it says.
fn detector_thread(
    cfg: MonitorConfig,
    stop: Arc<AtomicBool>,
    tx: Sender<Message>,
    ready: Sender<StartInfo>,
) -> Report {
    let timer_slack_ns = set_timer_slack(cfg.timer_slack_ns);
    let mut readers = SignalReaders::open(cfg.vmclock_path.as_deref(), cfg.vmgenid_path.as_deref());
    let sources = readers.sources();
    let margin_ns = cfg.detector.sibling_margin_ns();
    let mut sibling_info = SiblingInfo {
        margin_ns,
        ..SiblingInfo::default()
    };
    let sibling = cfg.detector.sibling_interval_ns.and_then(|interval| {
        match Sibling::spawn(interval, margin_ns, cfg.timer_slack_ns) {
            Ok(s) => {
                sibling_info.pid = Some(s.pid());
                sibling_info.interval_ns = Some(interval);
                Some(s)
            }
            Err(e) => {
                sibling_info.error = Some(e.to_string());
                None
            }
        }
    });
    let _ = ready.send(StartInfo {
        sources,
        sibling: sibling_info.clone(),
        timer_slack_ns,
    });
    let cpu0 = thread_cpu_ns();
    let mut det = Detector::new(
        cfg.detector.clone(),
        snapshot(&mut readers, sibling.as_ref()),
    );
    let mut out = Vec::new();
    while !stop.load(Ordering::Acquire) {
        if !sleep_until_unless_stopped(det.deadline_ns(), &stop) {
            break;
        }
        let wake = mono_ns();
        match det.on_wake(wake, &mut out) {
            Need::Nothing => {}
            Need::Snapshot => det.on_snapshot(snapshot(&mut readers, sibling.as_ref()), &mut out),
            Need::Sibling => det.on_sibling(sibling.as_ref().map(Sibling::view), wake, &mut out),
            Need::Thread => det.on_thread(readers.thread()),
        }
        for m in out.drain(..) {
            let _ = tx.send(m);
        }
    }
    let last = snapshot(&mut readers, sibling.as_ref());
    let summary = det.finish(last, &mut out);
    for m in out.drain(..) {
        let _ = tx.send(m);
    }
    let detector_ns = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let sibling_ns = sibling.and_then(Sibling::stop);
    Report {
        config: cfg.detector,
        summary,
        cpu: CpuUsage {
            detector_ns,
            sibling_ns,
        },
        sibling: sibling_info,
        sources,
        timer_slack_ns,
    }
}
