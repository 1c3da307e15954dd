//! The clock edge of skew: every system call that reads a clock or the kernel's clock
//! discipline, each thin, each `unsafe` block with a `// SAFETY:` comment. What the readings
//! mean is decided in pure code (`skew_time::clocks`, `skew_time::kernel`, `skew-clock`,
//! `skew-pause`).
//!
//! * [`clock_ns`], [`resolution_ns`]: any clock by its Linux id, through glibc (vDSO where
//!   the clocksource allows; an `LD_PRELOAD` time faker sees these reads);
//! * [`read_clocks`]: REALTIME, MONOTONIC and BOOTTIME between two MONOTONIC reads;
//! * [`mono_ns`], [`sleep_until_mono`], [`set_timer_slack`], [`thread_cpu_ns`],
//!   [`process_cpu_ns`]: the pause detector's timers (async-signal-safe, allocation-free, so
//!   a forked child may use them);
//! * [`adjtimex`]: the kernel's discipline, read with `modes = 0` and never written;
//! * [`boot_id`], [`user_hz`].
//!
//! skew never changes the system clock: there is no call here that could.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod adjtimex;

use nix::errno::Errno;
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::time::{TimeSpec, TimeValLike};
use nix::time::{clock_nanosleep, ClockId, ClockNanosleepFlags};
use skew_time::{BracketedReadings, ClockReadings};

const NS_PER_S: i64 = 1_000_000_000;

/// Calls `call` with a zeroed timespec and returns it in ns, or the errno when `call`
/// returned non-zero.
#[inline]
fn timespec_ns(call: impl FnOnce(&mut libc::timespec) -> libc::c_int) -> Result<i64, i32> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if call(&mut ts) != 0 {
        return Err(Errno::last_raw());
    }
    Ok(ts
        .tv_sec
        .saturating_mul(NS_PER_S)
        .saturating_add(ts.tv_nsec))
}

/// Reads clock `id` (a Linux `clockid_t`: `libc::CLOCK_REALTIME`...), ns since its epoch;
/// the error is the errno (EINVAL for a clock this kernel does not have).
#[inline]
#[allow(unsafe_code)]
pub fn clock_ns(id: libc::clockid_t) -> Result<i64, i32> {
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call; an unknown
    // clock id only makes the call fail with EINVAL.
    timespec_ns(|ts| unsafe { libc::clock_gettime(id, ts) })
}

/// The resolution of clock `id` (`clock_getres`), ns; the error is the errno.
#[allow(unsafe_code)]
pub fn resolution_ns(id: libc::clockid_t) -> Result<i64, i32> {
    // SAFETY: as for clock_gettime: a valid, writable timespec for the duration of the call.
    timespec_ns(|ts| unsafe { libc::clock_getres(id, ts) })
}

fn read_or_zero(id: libc::clockid_t) -> i64 {
    // clock_gettime cannot fail for the standard clocks on Linux; 0 if it ever does.
    clock_ns(id).unwrap_or(0)
}

/// CLOCK_MONOTONIC, ns.
pub fn mono_ns() -> i64 {
    read_or_zero(libc::CLOCK_MONOTONIC)
}

/// CLOCK_REALTIME, ns since the Unix epoch.
pub fn realtime_ns() -> i64 {
    read_or_zero(libc::CLOCK_REALTIME)
}

/// Reads BOOTTIME and REALTIME between two MONOTONIC reads (whose midpoint is the
/// MONOTONIC reading); retries (up to 4 times) when the reads were interrupted (more than
/// 5 µs apart), keeping the tightest.
pub fn read_clocks() -> BracketedReadings {
    let mut best: Option<BracketedReadings> = None;
    for _ in 0..4 {
        let m1 = mono_ns();
        let boottime_ns = read_or_zero(libc::CLOCK_BOOTTIME);
        let realtime_ns = read_or_zero(libc::CLOCK_REALTIME);
        let m2 = mono_ns();
        let r = BracketedReadings {
            clocks: ClockReadings {
                realtime_ns,
                monotonic_ns: m1 + (m2.saturating_sub(m1)) / 2,
                boottime_ns,
            },
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

/// The kernel's boot id (changes at every boot), or empty when unavailable.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `sysconf(_SC_CLK_TCK)`: the USER_HZ the kernel's `tick` is counted in (100 on Linux).
#[allow(unsafe_code)]
pub fn user_hz() -> i64 {
    // SAFETY: sysconf has no memory effects; it returns -1 on error.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as i64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_read_together() {
        let r = read_clocks();
        let c = r.clocks;
        assert!(c.monotonic_ns > 0);
        assert!(c.boottime_ns >= c.monotonic_ns - r.span_ns);
        assert!(c.realtime_ns > 1_600_000_000 * NS_PER_S);
        assert!((0..10_000_000).contains(&r.span_ns), "{r:?}");
        assert!(!boot_id().is_empty());
        assert!(user_hz() > 0);
    }

    #[test]
    fn any_clock_by_id() {
        assert!(clock_ns(libc::CLOCK_MONOTONIC_RAW).unwrap() > 0);
        assert!(resolution_ns(libc::CLOCK_MONOTONIC).unwrap() >= 1);
        assert_eq!(clock_ns(12_345), Err(libc::EINVAL));
        assert!(realtime_ns() > 1_600_000_000 * NS_PER_S);
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
