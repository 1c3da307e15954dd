//! The real Linux clocks (read through `skew-clock-io`), the timerfd that reports clock settings, stop signals,
//! and the `/sys` and `/proc` files the report reads. Everything here is thin; the
//! decisions live in the pure modules.

use crate::clocksource::{self, Clocksource};
use crate::run::{Pacer, Wake};
use crate::source::{ClockError, ClockId, ClockSource};
use crate::timens::{self, TimensOffsets};
use nix::errno::Errno;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{
    ClockId as TimerClock, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags,
};
use std::os::fd::AsFd;

/// The real clocks, through glibc's `clock_gettime` (vDSO where the clocksource allows).
/// An `LD_PRELOAD` time faker such as libfaketime sees these reads, as it would any
/// program's.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinuxClocks;

impl ClockSource for LinuxClocks {
    #[inline]
    fn read_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        skew_clock_io::clock_ns(clock.linux_id() as libc::clockid_t)
            .map_err(|errno| ClockError { clock, errno })
    }

    fn resolution_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        skew_clock_io::resolution_ns(clock.linux_id() as libc::clockid_t)
            .map_err(|errno| ClockError { clock, errno })
    }
}

/// Makes SIGINT and SIGTERM request a clean stop instead of killing the process: a
/// [`TimerfdPacer`] wait then returns [`Wake::Interrupted`].
pub fn stop_on_signals() -> std::io::Result<()> {
    skew_process_io::signals::stop_on_signals().map_err(std::io::Error::from)
}

/// Whether a stop signal has arrived.
pub fn stop_requested() -> bool {
    skew_process_io::signals::stop_requested()
}

/// Waits between samples with `ppoll` on a timerfd armed with TFD_TIMER_CANCEL_ON_SET: the
/// kernel cancels it (read → ECANCELED) the moment CLOCK_REALTIME is set
/// (settimeofday, clock_settime, adjtimex ADJ_SETOFFSET, a leap second) or the system
/// resumes, so the wait returns [`Wake::ClockSet`] at once. A detector independent of the
/// sampling: it sees kernel settings even below the step threshold, and it does not see
/// process-local fakes (LD_PRELOAD).
#[derive(Debug)]
pub struct TimerfdPacer {
    timer: Option<TimerFd>,
    error: Option<String>,
}

/// Arms far in the future (50 years): the timer is only there to be cancelled.
const FAR_FUTURE_S: i64 = 50 * 365 * 86_400;

impl TimerfdPacer {
    /// Creates and arms the timerfd; if that fails, waits still work and
    /// [`TimerfdPacer::error`] says why there is no second detector.
    pub fn new() -> TimerfdPacer {
        let made = TimerFd::new(
            TimerClock::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .and_then(|t| arm(&t).map(|()| t));
        match made {
            Ok(t) => TimerfdPacer {
                timer: Some(t),
                error: None,
            },
            Err(e) => TimerfdPacer {
                timer: None,
                error: Some(format!(
                    "timerfd with TFD_TIMER_CANCEL_ON_SET unavailable: {e}"
                )),
            },
        }
    }

    /// Why the timerfd detector is not running, if it is not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

impl Default for TimerfdPacer {
    fn default() -> Self {
        TimerfdPacer::new()
    }
}

fn arm(t: &TimerFd) -> nix::Result<()> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)?;
    t.set(
        Expiration::OneShot(TimeSpec::new(now.tv_sec().saturating_add(FAR_FUTURE_S), 0)),
        TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET,
    )
}

use skew_clock_io::mono_ns as monotonic_ns;

impl Pacer for TimerfdPacer {
    fn wait_ns(&mut self, ns: i64) -> Wake {
        let deadline = monotonic_ns().saturating_add(ns.max(0));
        loop {
            if stop_requested() {
                return Wake::Interrupted;
            }
            let remaining = deadline - monotonic_ns();
            if remaining <= 0 {
                return Wake::Elapsed;
            }
            let timeout = TimeSpec::new(remaining / 1_000_000_000, remaining % 1_000_000_000);
            let polled = match &self.timer {
                Some(t) => {
                    let mut fds = [PollFd::new(t.as_fd(), PollFlags::POLLIN)];
                    ppoll(&mut fds, Some(timeout), None)
                }
                None => ppoll(&mut [], Some(timeout), None),
            };
            match polled {
                Ok(0) | Err(Errno::EINTR) => continue,
                Ok(_) => {
                    let Some(t) = &self.timer else { continue };
                    let mut buf = [0u8; 8];
                    match nix::unistd::read(t.as_fd(), &mut buf) {
                        Err(Errno::ECANCELED) => {
                            if let Err(e) = arm(t) {
                                self.error = Some(format!("cannot re-arm the timerfd: {e}"));
                                self.timer = None;
                            }
                            return Wake::ClockSet;
                        }
                        // Expired (50 years on?) or spurious: re-arm and keep waiting.
                        Ok(_) => {
                            let _ = arm(t);
                        }
                        Err(_) => {}
                    }
                }
                Err(e) => {
                    // ppoll itself failed: sleep out the rest without the detector.
                    self.error = Some(format!("ppoll on the timerfd failed: {e}"));
                    self.timer = None;
                }
            }
        }
    }
}

/// A source and pacer in one: what [`crate::run::run`] drives on a real system.
#[derive(Debug, Default)]
pub struct LinuxEnv {
    /// The clocks.
    pub clocks: LinuxClocks,
    /// The waits and the timerfd detector.
    pub pacer: TimerfdPacer,
}

impl ClockSource for LinuxEnv {
    #[inline]
    fn read_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        self.clocks.read_ns(clock)
    }

    fn resolution_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        self.clocks.resolution_ns(clock)
    }
}

impl Pacer for LinuxEnv {
    fn wait_ns(&mut self, ns: i64) -> Wake {
        self.pacer.wait_ns(ns)
    }
}

/// Where the kernel lists clocksources.
pub const CLOCKSOURCE_DIR: &str = "/sys/devices/system/clocksource/clocksource0";

/// Reads the current and available clocksources.
pub fn read_clocksource() -> std::io::Result<Clocksource> {
    let current = std::fs::read_to_string(format!("{CLOCKSOURCE_DIR}/current_clocksource"))?;
    let available = std::fs::read_to_string(format!("{CLOCKSOURCE_DIR}/available_clocksource"))
        .unwrap_or_default();
    Ok(clocksource::parse(&current, &available))
}

/// Reads this process's time-namespace offsets; `Ok(None)` on kernels without time
/// namespaces (before 5.6).
pub fn read_timens_offsets() -> Result<Option<TimensOffsets>, String> {
    match std::fs::read_to_string("/proc/self/timens_offsets") {
        Ok(text) => timens::parse(&text).map(Some).map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read /proc/self/timens_offsets: {e}")),
    }
}

pub use skew_clock_io::user_hz;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolution::{survey, SurveyConfig};
    use crate::sample::take_sample;

    #[test]
    fn real_clocks_read_and_resolve() {
        let mut c = LinuxClocks;
        let rt = c.read_ns(ClockId::Realtime).unwrap();
        assert!(
            rt > 1_600_000_000_000_000_000,
            "REALTIME {rt} is after 2020"
        );
        for id in [
            ClockId::Monotonic,
            ClockId::MonotonicRaw,
            ClockId::Boottime,
            ClockId::Tai,
        ] {
            assert!(c.read_ns(id).unwrap() > 0);
            assert!(c.resolution_ns(id).unwrap() >= 1);
        }
        let s = take_sample(&mut c, 8).unwrap();
        assert!(s.realtime.bracket_ns < 1_000_000, "{s:?}");
        // BOOTTIME ≥ MONOTONIC, whatever this machine's suspend history.
        assert!(s.boottime_minus_monotonic_ns() > -1_000_000);
    }

    #[test]
    fn survey_of_every_clock_does_not_fail() {
        let mut c = LinuxClocks;
        let cfg = SurveyConfig {
            budget_ns: 20_000_000,
            batches: 11,
            ..SurveyConfig::default()
        };
        let all = survey(&mut c, &ClockId::ALL, &cfg).unwrap();
        assert_eq!(all.len(), 11);
        let raw = all
            .iter()
            .find(|e| e.clock == ClockId::MonotonicRaw)
            .unwrap();
        assert!(raw.error.is_none() && raw.read_cost.is_some(), "{raw:?}");
        // The alarm clocks need an RTC: either they work or they say why not.
        for e in &all {
            assert!(e.error.is_some() || e.measured.is_some(), "{e:?}");
        }
    }

    #[test]
    fn timerfd_waits_and_does_not_fire_by_itself() {
        let mut p = TimerfdPacer::new();
        assert_eq!(p.error(), None);
        let t0 = monotonic_ns();
        assert_eq!(p.wait_ns(20_000_000), Wake::Elapsed);
        let dt = monotonic_ns() - t0;
        assert!((20_000_000..200_000_000).contains(&dt), "{dt}");
        assert_eq!(p.wait_ns(0), Wake::Elapsed);
    }

    #[test]
    fn system_files() {
        let cs = read_clocksource().unwrap();
        assert!(!cs.current.is_empty());
        assert!(cs.available.contains(&cs.current) || cs.available.is_empty());
        // Tests may run inside `unshare --time`; only the format is checked here.
        assert!(read_timens_offsets().is_ok());
        assert!(user_hz() > 0);
    }
}
