//! Local measurements, as `skew monitor` takes them but continuously: the time-of-day rate
//! against MONOTONIC_RAW, steps and suspend (skew-clock's sampling and detection, one
//! bracketed sample every few seconds and the kernel's cancel-on-set timerfd between them),
//! the kernel's discipline (read-only adjtimex), the leap-seconds list (checked hourly), and
//! optionally the pause detector of `skew pauses` running at a low rate.
//!
//! [`LocalView`] and the functions that fill it from readings are pure; [`spawn`] runs the
//! threads.

use skew_clock::linux::LinuxEnv;
use skew_clock::monitor::{Monitor, MonitorConfig, Summary};
use skew_clock::run::{Pacer, Wake};
use skew_clock::sample::take_sample;
use skew_clock::KernelState;
use skew_pause::{IntervalStats, Message, PauseEvent, PauseKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The clock figures of the last interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClockValues {
    /// REALTIME's rate against RAW, ppm.
    pub rate_ppm: Option<f64>,
    /// Its 95 % confidence half-width, ppm.
    pub rate_ci95_ppm: Option<f64>,
    /// The kernel's frequency correction, ppm.
    pub kernel_freq_ppm: Option<f64>,
    /// Whether the kernel considers the clock synchronized.
    pub kernel_synchronized: Option<bool>,
    /// Whether the kernel's state could be read (false: adjtimex denied, e.g. by systemd's
    /// ProtectClock=, or failed).
    pub kernel_readable: Option<bool>,
    /// BOOTTIME − MONOTONIC, s.
    pub suspended_s: Option<f64>,
    /// Steps in the interval.
    pub steps: u32,
}

/// The pause figures of the last interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PauseValues {
    /// Upper bound of the longest pause, s.
    pub max_s: f64,
    /// 99th percentile of the overshoot, s.
    pub p99_s: f64,
    /// Pauses above the threshold.
    pub events: u32,
}

/// The leap-seconds list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeapValues {
    /// Expiry, Unix s.
    pub expires_unix_s: Option<i64>,
    /// TAI − UTC now, s.
    pub tai_minus_utc_s: Option<i64>,
}

/// Everything local a scrape reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalView {
    /// The clock (None until the first interval closes, or when disabled).
    pub clock: Option<ClockValues>,
    /// Time-of-day steps since the exporter started.
    pub steps_total: Option<u64>,
    /// Pauses (None when disabled).
    pub pause: Option<PauseValues>,
    /// The leap-seconds list (None when disabled).
    pub leap: Option<LeapValues>,
}

/// The clock figures of a closed interval and the kernel's state.
pub fn clock_values(s: &Summary, kernel: Option<&KernelState>) -> ClockValues {
    let fit = s.realtime_vs_raw.as_ref();
    ClockValues {
        rate_ppm: fit.map(|f| f.ppm),
        rate_ci95_ppm: fit.map(|f| f.ci95_ppm),
        kernel_freq_ppm: kernel.map(|k| k.freq_ppm),
        kernel_synchronized: kernel.map(|k| k.synchronized),
        kernel_readable: Some(kernel.is_some()),
        suspended_s: Some(s.suspended_ns as f64 / 1e9),
        steps: s.steps.len() as u32,
    }
}

/// The pause figures of one reporting interval and the events that fired in it: the longest
/// pause is the largest upper bound of the events, or of the largest overshoot (overshoot +
/// interval) when there is none; clock steps are not pauses (as `skew monitor`).
pub fn pause_values(stats: &IntervalStats, events: &[PauseEvent], interval_ns: i64) -> PauseValues {
    let pauses: Vec<&PauseEvent> = events
        .iter()
        .filter(|e| e.kind != PauseKind::Step)
        .collect();
    let longest = pauses.iter().filter_map(|e| e.max_ns).max().unwrap_or(0);
    let max_ns = longest.max(stats.summary.max_ns.saturating_add(interval_ns));
    PauseValues {
        max_s: max_ns as f64 / 1e9,
        p99_s: stats.summary.p99_ns as f64 / 1e9,
        events: pauses.len() as u32,
    }
}

/// Reads the leap-seconds list (the system's, or `file`) as of `now_unix_s`.
pub fn leap_values(file: Option<&std::path::Path>, now_unix_s: i64) -> LeapValues {
    let list = match file {
        Some(p) => skew_leap::system::load(p).ok(),
        None => skew_leap::system::load_system().ok().map(|(_, l)| l),
    };
    match list {
        Some(l) => {
            let c = skew_leap::list_check::check_list(
                &l,
                now_unix_s,
                skew_leap::list_check::DEFAULT_EXPIRY_WARNING_DAYS,
            );
            LeapValues {
                expires_unix_s: Some(l.expires_unix_s()),
                tai_minus_utc_s: c.tai_minus_utc_s.map(i64::from),
            }
        }
        None => LeapValues::default(),
    }
}

/// What the local threads measure.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Close a clock interval (and report pauses) this often.
    pub interval: Duration,
    /// Take clock readings.
    pub clock: bool,
    /// Check the leap-seconds list (Some(None): the system's).
    pub leap: Option<Option<std::path::PathBuf>>,
    /// Run the pause detector at this interval.
    pub pause_interval: Option<Duration>,
}

/// Longest wait of the pause thread between checks of the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(500);
/// How often the leap-seconds list is read again.
const LEAP_EVERY: Duration = Duration::from_secs(3600);

fn now_unix_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn update(view: &Mutex<Arc<LocalView>>, f: impl FnOnce(&mut LocalView)) {
    let mut guard = view.lock().unwrap_or_else(|e| e.into_inner());
    let mut v = (**guard).clone();
    f(&mut v);
    *guard = Arc::new(v);
}

/// Starts the local threads; they update `view` and end when `stop` is set.
pub fn spawn(
    cfg: LocalConfig,
    view: Arc<Mutex<Arc<LocalView>>>,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    if cfg.leap.is_some() {
        let file = cfg.leap.clone().flatten();
        update(&view, |v| {
            v.leap = Some(leap_values(file.as_deref(), now_unix_s()));
        });
    }
    if cfg.clock || cfg.leap.is_some() {
        let (view, stop, cfg) = (view.clone(), stop.clone(), cfg.clone());
        threads.push(
            std::thread::Builder::new()
                .name("skew-local".into())
                .spawn(move || clock_loop(&cfg, &view, &stop))
                .expect("spawn the local clock thread"),
        );
    }
    if let Some(every) = cfg.pause_interval {
        let (view, stop) = (view.clone(), stop.clone());
        let report_ns = skew_time::duration_ns(cfg.interval);
        threads.push(
            std::thread::Builder::new()
                .name("skew-pauses".into())
                .spawn(move || pause_loop(every, report_ns, &view, &stop))
                .expect("spawn the pause thread"),
        );
    }
    threads
}

/// The clock thread: a bracketed sample every `interval / 8` (0.1 to 8 s), an interval closed
/// every `interval`, the leap list read hourly.
fn clock_loop(cfg: &LocalConfig, view: &Mutex<Arc<LocalView>>, stop: &AtomicBool) {
    let interval_ns = skew_time::duration_ns(cfg.interval);
    let sample_every = (cfg.interval / 8).clamp(Duration::from_millis(100), Duration::from_secs(8));
    let mut env = LinuxEnv::default();
    let mut monitor = Monitor::new(MonitorConfig {
        clock_set_window_ns: 2 * skew_time::duration_ns(sample_every) + 1_000_000,
        ..MonitorConfig::default()
    });
    let mut steps_total = 0u64;
    if cfg.clock {
        if let Ok(s) = take_sample(&mut env, 8) {
            monitor.push_sample(s);
        }
        update(view, |v| v.steps_total = Some(0));
    }
    let mut next_sample = Instant::now() + sample_every;
    let mut next_close = Instant::now() + Duration::from_nanos(interval_ns as u64);
    let mut next_leap = Instant::now() + LEAP_EVERY;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let target = next_sample.min(next_close).min(next_leap);
        // No periodic wake-ups: the next sample, interval or leap check (at most 8 s away);
        // a clock setting ends the wait at once (the timerfd).
        let wait = target.saturating_duration_since(now);
        let wake = env.wait_ns(skew_time::duration_ns(wait));
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        if cfg.clock && (wake == Wake::ClockSet || now >= next_sample) {
            if let Ok(s) = take_sample(&mut env, 8) {
                if wake == Wake::ClockSet {
                    monitor.push_clock_set(&s);
                }
                monitor.push_sample(s);
            }
            if now >= next_sample {
                next_sample = now + sample_every;
            }
        }
        if cfg.clock && now >= next_close {
            next_close = now + Duration::from_nanos(interval_ns as u64);
            if monitor.interval_open() {
                if let Some(summary) = monitor.close_interval() {
                    let kernel = skew_clock::adjtimex::read()
                        .ok()
                        .map(|t| KernelState::decode(&t));
                    let values = clock_values(&summary, kernel.as_ref());
                    steps_total += u64::from(values.steps);
                    update(view, |v| {
                        v.clock = Some(values);
                        v.steps_total = Some(steps_total);
                    });
                }
            }
        }
        if now >= next_leap {
            next_leap = now + LEAP_EVERY;
            if let Some(file) = &cfg.leap {
                let values = leap_values(file.as_deref(), now_unix_s());
                update(view, |v| v.leap = Some(values));
            }
        }
    }
}

/// The pause thread: the detector runs for the exporter's life; each reporting interval's
/// statistics and events become the pause figures.
fn pause_loop(every: Duration, report_ns: i64, view: &Mutex<Arc<LocalView>>, stop: &AtomicBool) {
    let interval_ns = skew_time::duration_ns(every);
    let mut cfg = skew_pause::MonitorConfig::for_interval(interval_ns);
    cfg.detector.report_ns = Some(report_ns.max(interval_ns));
    let Ok((monitor, rx)) = skew_pause::PauseMonitor::start(cfg) else {
        return;
    };
    let mut events: Vec<PauseEvent> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match rx.recv_timeout(STOP_CHECK) {
            Ok(Message::Event(e)) => {
                if events.len() < 10_000 {
                    events.push(e);
                }
            }
            Ok(Message::Interval(stats)) => {
                let values = pause_values(&stats, &events, interval_ns);
                events.clear();
                update(view, |v| v.pause = Some(values));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = monitor.stop();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_values_of_a_list() {
        let dir = std::env::temp_dir().join(format!("skew-exporter-leap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No list there: nothing known.
        let none = leap_values(Some(&dir.join("missing")), 1_800_000_000);
        assert_eq!(none, LeapValues::default());
        let _ = std::fs::remove_dir_all(dir);
        if let Ok((path, list)) = skew_leap::system::load_system() {
            let v = leap_values(Some(&path), 1_500_000_000);
            assert_eq!(v.expires_unix_s, Some(list.expires_unix_s()));
            assert_eq!(v.tai_minus_utc_s, Some(37)); // July 2017: 37 s
        }
    }
}
