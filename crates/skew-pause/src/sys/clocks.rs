//! The Linux clocks and timers the detector uses: CLOCK_MONOTONIC/BOOTTIME/REALTIME reads,
//! absolute-deadline sleeps (`clock_nanosleep` with `TIMER_ABSTIME`), timer slack
//! (`PR_SET_TIMERSLACK`) and per-thread CPU time (`getrusage`).
//!
//! Everything here is async-signal-safe and allocation-free, so the forked sibling may use
//! it too.
#![forbid(unsafe_code)]

use crate::snapshot::ClockReadings;
use nix::errno::Errno;
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::{TimeSpec, TimeValLike};
use nix::time::{clock_gettime, clock_nanosleep, ClockId, ClockNanosleepFlags};

const NS_PER_S: i64 = 1_000_000_000;

fn to_ns(ts: TimeSpec) -> i64 {
    ts.tv_sec()
        .saturating_mul(NS_PER_S)
        .saturating_add(ts.tv_nsec())
}

fn read_ns(id: ClockId) -> i64 {
    // clock_gettime cannot fail for these clocks on Linux; 0 if it ever does.
    clock_gettime(id).map(to_ns).unwrap_or(0)
}

/// CLOCK_MONOTONIC, ns.
pub fn mono_ns() -> i64 {
    read_ns(ClockId::CLOCK_MONOTONIC)
}

/// Reads MONOTONIC, BOOTTIME and REALTIME between two MONOTONIC reads; retries (up to 4
/// times) when the reads were interrupted, keeping the tightest.
pub fn read_clocks() -> ClockReadings {
    let mut best: Option<ClockReadings> = None;
    for _ in 0..4 {
        let m1 = mono_ns();
        let boot_ns = read_ns(ClockId::CLOCK_BOOTTIME);
        let real_ns = read_ns(ClockId::CLOCK_REALTIME);
        let m2 = mono_ns();
        let r = ClockReadings {
            mono_ns: m1 + (m2.saturating_sub(m1)) / 2,
            boot_ns,
            real_ns,
            span_ns: m2.saturating_sub(m1),
        };
        if best.is_none_or(|b| r.span_ns < b.span_ns) {
            best = Some(r);
        }
        if r.span_ns >= 0 && r.span_ns < 5_000 {
            break;
        }
    }
    best.expect("at least one read")
}

/// Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` (an absolute deadline, so that the
/// error never accumulates); signals do not cut the sleep short.
pub fn sleep_until_mono(deadline_ns: i64) {
    let d = deadline_ns.max(0);
    let ts = TimeSpec::new(d / NS_PER_S, d % NS_PER_S);
    loop {
        match clock_nanosleep(
            ClockId::CLOCK_MONOTONIC,
            ClockNanosleepFlags::TIMER_ABSTIME,
            &ts,
        ) {
            Ok(_) => return,
            Err(Errno::EINTR) => continue,
            Err(_) => {
                // Not expected on Linux; fall back to a relative sleep.
                let left = deadline_ns.saturating_sub(mono_ns());
                if left > 0 {
                    std::thread::sleep(std::time::Duration::from_nanos(left as u64));
                }
                return;
            }
        }
    }
}

/// Sets the calling thread's timer slack and returns the value in force afterwards.
pub fn set_timer_slack(ns: u64) -> Option<u64> {
    let _ = nix::sys::prctl::set_timerslack(ns as libc::c_ulong);
    nix::sys::prctl::get_timerslack().ok().map(|v| v as u64)
}

fn usage_ns(who: UsageWho) -> Option<i64> {
    let u = getrusage(who).ok()?;
    Some(
        u.user_time()
            .num_microseconds()
            .saturating_add(u.system_time().num_microseconds())
            .saturating_mul(1_000),
    )
}

/// CPU time (user + system) of the calling thread, ns.
pub fn thread_cpu_ns() -> Option<i64> {
    usage_ns(UsageWho::RUSAGE_THREAD)
}

/// CPU time (user + system) of the whole process, ns.
pub fn process_cpu_ns() -> Option<i64> {
    usage_ns(UsageWho::RUSAGE_SELF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_read_together() {
        let c = read_clocks();
        assert!(c.mono_ns > 0);
        assert!(c.boot_ns >= c.mono_ns - c.span_ns);
        assert!(c.real_ns > 1_600_000_000 * NS_PER_S);
        assert!((0..10_000_000).contains(&c.span_ns), "{c:?}");
    }

    #[test]
    fn absolute_sleep_and_slack() {
        let t0 = mono_ns();
        sleep_until_mono(t0 + 2_000_000);
        let t1 = mono_ns();
        assert!(t1 >= t0 + 2_000_000);
        // A deadline in the past returns at once.
        sleep_until_mono(t0);
        std::thread::spawn(|| {
            assert_eq!(set_timer_slack(1), Some(1));
        })
        .join()
        .unwrap();
        assert!(thread_cpu_ns().unwrap() >= 0);
        assert!(process_cpu_ns().unwrap() >= thread_cpu_ns().unwrap());
    }
}
