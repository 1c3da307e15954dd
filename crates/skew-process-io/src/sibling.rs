//! The sibling detector: a forked child process that sleeps on its own lattice of
//! deadlines and publishes its heartbeat and its own stalls in an anonymous shared mapping.
//!
//! Why a fork with an inherited `MAP_SHARED | MAP_ANONYMOUS` page: no executable to find,
//! no hidden command-line flag for the embedding program to honour, no file in `/dev/shm`
//! to name or clean up; the page disappears with the two processes. The child only makes
//! async-signal-safe system calls (it is forked from a multi-threaded process) and never
//! allocates; `PR_SET_PDEATHSIG` kills it when the detector thread that forked it ends, and
//! it also exits when its parent changes or when asked through the page. It leads a process
//! group of its own, so that a Ctrl-Z stopping the detector's group leaves the witness running.
#![allow(unsafe_code)]

use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::sys::signal::{kill, SigHandler, Signal};
use nix::unistd::{fork, getpid, getppid, setpgid, ForkResult, Pid};
use skew_clock_io::{mono_ns, set_timer_slack, sleep_until_mono};
use skew_time::next_deadline_ns;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A stall of the sibling detector: it should have woken at `from_ns` and woke at
/// `to_ns` (MONOTONIC, ns). Every sibling deadline in between was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallSpan {
    /// The first deadline missed, ns.
    pub from_ns: i64,
    /// When the sibling woke, ns.
    pub to_ns: i64,
}

/// What the sibling detector (a separate process) published in shared memory.
///
/// Its deadlines lie on the lattice `first_deadline_ns + k × interval_ns`; it publishes the
/// last deadline it woke for, and a ring of its own stalls (wakes more than
/// `margin_ns` late).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiblingView {
    /// Its process ID.
    pub pid: u32,
    /// Its wake-up period, ns.
    pub interval_ns: i64,
    /// How late a wake must be to be recorded as a stall, ns.
    pub margin_ns: i64,
    /// Its first deadline (MONOTONIC, ns); 0 until it started.
    pub first_deadline_ns: i64,
    /// The deadline of its latest wake, ns.
    pub last_deadline_ns: i64,
    /// Its latest wake, ns (the heartbeat).
    pub last_wake_ns: i64,
    /// Its stalls, oldest first (at most the ring's size).
    pub stalls: Vec<StallSpan>,
    /// The ring holds every stall that started at or after this time (older ones may
    /// have been overwritten), ns; `i64::MIN` when nothing was lost.
    pub complete_since_ns: i64,
    /// Whether it has exited.
    pub exited: bool,
}

/// Stall records kept in the ring.
pub const RING: usize = 64;
const MAGIC: u64 = 0x736b_6577_7369_6231; // "skewsib1"
const PAGE: usize = 4096;

#[repr(C)]
struct Slot {
    /// 2n+1 while record n is written, 2n+2 once complete.
    seq: AtomicU64,
    from_ns: AtomicI64,
    to_ns: AtomicI64,
}

/// The shared page. Every field is an atomic, so any bit pattern (and the zeroed page
/// `mmap` returns) is a valid value.
#[repr(C)]
struct Shared {
    magic: AtomicU64,
    stop: AtomicU32,
    exited: AtomicU32,
    interval_ns: AtomicI64,
    margin_ns: AtomicI64,
    first_deadline_ns: AtomicI64,
    last_deadline_ns: AtomicI64,
    last_wake_ns: AtomicI64,
    wakes: AtomicU64,
    stalls_written: AtomicU64,
    slots: [Slot; RING],
}

const _: () = assert!(std::mem::size_of::<Shared>() <= PAGE);

/// Why the sibling could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SiblingError {
    /// The shared page could not be mapped.
    #[error("cannot map the sibling's shared page: {0}")]
    Map(nix::Error),
    /// The process could not be forked.
    #[error("cannot fork the sibling process: {0}")]
    Fork(nix::Error),
}

/// A running sibling, owned by the thread that forked it.
#[derive(Debug)]
pub struct Sibling {
    page: NonNull<Shared>,
    pid: Pid,
    reaped: bool,
}

impl Sibling {
    /// Forks a sibling that wakes every `interval_ns` and records stalls longer than
    /// `margin_ns`. Call it from the detector thread: the sibling dies with that thread.
    pub fn spawn(
        interval_ns: i64,
        margin_ns: i64,
        timer_slack_ns: u64,
    ) -> Result<Sibling, SiblingError> {
        // SAFETY: a fresh anonymous mapping aliases no existing memory; it is page-aligned
        // (more than `Shared`'s alignment), one page long (at least its size, checked at
        // compile time), zero-filled (a valid `Shared`), and unmapped only in `Drop`.
        let raw = unsafe {
            mmap_anonymous(
                None,
                NonZeroUsize::new(PAGE).expect("non-zero"),
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(SiblingError::Map)?;
        let page = raw.cast::<Shared>();
        // SAFETY: see above: the page is valid, aligned and a valid `Shared` until unmapped;
        // it is only accessed through atomics.
        let sh: &Shared = unsafe { page.as_ref() };
        sh.interval_ns.store(interval_ns.max(1), Ordering::Relaxed);
        sh.margin_ns.store(margin_ns.max(0), Ordering::Relaxed);
        sh.magic.store(MAGIC, Ordering::Release);
        let parent = getpid();
        // SAFETY: the child runs only `child_main`, which makes async-signal-safe system
        // calls on the shared page and its own stack, never allocates, never unwinds and
        // ends with `_exit`; the parent continues normally.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => child_main(sh, parent, timer_slack_ns),
            Ok(ForkResult::Parent { child }) => Ok(Sibling {
                page,
                pid: child,
                reaped: false,
            }),
            Err(e) => {
                // SAFETY: the page was mapped above with this length and nothing refers
                // to it any more.
                unsafe {
                    let _ = munmap(raw, PAGE);
                }
                Err(SiblingError::Fork(e))
            }
        }
    }

    fn shared(&self) -> &Shared {
        // SAFETY: `page` points to the mapping created in `spawn`, valid and aligned until
        // `Drop` unmaps it; all access goes through atomics, so sharing it with the child
        // process is sound.
        unsafe { self.page.as_ref() }
    }

    /// The sibling's process ID.
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// What the sibling has published so far.
    pub fn view(&self) -> SiblingView {
        let sh = self.shared();
        // Read the heartbeat first: a stall record is written before the heartbeat that
        // follows it, so every stall up to `last_deadline` is visible below.
        let last_deadline_ns = sh.last_deadline_ns.load(Ordering::Acquire);
        let last_wake_ns = sh.last_wake_ns.load(Ordering::Acquire);
        let exited = sh.exited.load(Ordering::Acquire) != 0;
        let written = sh.stalls_written.load(Ordering::Acquire);
        let oldest = written.saturating_sub(RING as u64);
        let mut stalls = Vec::new();
        let mut complete_since_ns = i64::MIN;
        for n in oldest..written {
            let slot = &sh.slots[(n % RING as u64) as usize];
            let s1 = slot.seq.load(Ordering::Acquire);
            let from_ns = slot.from_ns.load(Ordering::Relaxed);
            let to_ns = slot.to_ns.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            let s2 = slot.seq.load(Ordering::Relaxed);
            if s1 != 2 * n + 2 || s1 != s2 {
                // Overwritten while we read: older history is incomplete.
                complete_since_ns = i64::MAX;
                continue;
            }
            stalls.push(StallSpan { from_ns, to_ns });
        }
        if oldest > 0 && complete_since_ns != i64::MAX {
            complete_since_ns = stalls.first().map_or(i64::MAX, |s| s.from_ns);
        }
        SiblingView {
            pid: self.pid(),
            interval_ns: sh.interval_ns.load(Ordering::Relaxed),
            margin_ns: sh.margin_ns.load(Ordering::Relaxed),
            first_deadline_ns: sh.first_deadline_ns.load(Ordering::Acquire),
            last_deadline_ns,
            last_wake_ns,
            stalls,
            complete_since_ns,
            exited,
        }
    }

    /// Asks the sibling to exit, waits for it (killing it if it does not exit within one
    /// of its intervals plus 50 ms, or 300 ms, whichever is shorter: a stop must not wait
    /// for a 10 s interval) and returns the CPU time it used, ns (`wait4` reports it for a
    /// killed child too).
    pub fn stop(mut self) -> Option<i64> {
        self.shared().stop.store(1, Ordering::Release);
        let interval = self.shared().interval_ns.load(Ordering::Relaxed).max(0) as u64;
        let limit = (Duration::from_nanos(interval) + Duration::from_millis(50))
            .min(Duration::from_millis(300));
        let t0 = Instant::now();
        loop {
            match self.reap(false) {
                Reaped::Done(cpu) => return cpu,
                Reaped::Gone => return None,
                Reaped::Running if t0.elapsed() < limit => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Reaped::Running => break,
            }
        }
        let _ = kill(self.pid, Signal::SIGKILL);
        match self.reap(true) {
            Reaped::Done(cpu) => cpu,
            _ => None,
        }
    }

    fn reap(&mut self, block: bool) -> Reaped {
        if self.reaped {
            return Reaped::Gone;
        }
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if block { 0 } else { libc::WNOHANG };
        // SAFETY: `status` and `ru` are valid for writes for the duration of the call; the
        // pid is our own child.
        let r = unsafe { libc::wait4(self.pid.as_raw(), &mut status, flags, &mut ru) };
        if r == 0 {
            return Reaped::Running;
        }
        self.reaped = true;
        if r < 0 {
            // Someone else reaped it (a SIGCHLD handler of the host program).
            return Reaped::Gone;
        }
        let tv = |t: libc::timeval| {
            t.tv_sec
                .saturating_mul(1_000_000_000)
                .saturating_add(t.tv_usec.saturating_mul(1_000))
        };
        Reaped::Done(Some(tv(ru.ru_utime) + tv(ru.ru_stime)))
    }
}

enum Reaped {
    Running,
    Done(Option<i64>),
    Gone,
}

impl Drop for Sibling {
    fn drop(&mut self) {
        if !self.reaped && self.pid.as_raw() > 0 {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.reap(true);
        }
        // SAFETY: the page was mapped in `spawn` with this length and no reference to it
        // outlives `self` (the child has its own mapping).
        unsafe {
            let _ = munmap(self.page.cast(), PAGE);
        }
    }
}

/// The sibling's life: sleep to each deadline, publish the heartbeat and any stall.
/// Async-signal-safe system calls only, no allocation, no panics (saturating arithmetic).
fn child_main(sh: &Shared, parent: Pid, timer_slack_ns: u64) -> ! {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if getppid() != parent {
        // SAFETY: `_exit` is async-signal-safe and ends the process without running the
        // parent's atexit handlers or destructors.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: close_range(2) only closes descriptors (the pipes and sockets inherited from
    // the parent, which the sibling must not hold open); failure is harmless.
    unsafe {
        libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
    }
    // A process group of its own: the terminal's job control (Ctrl-Z, Ctrl-C) stops or
    // interrupts the detector's group, and must not reach the witness of that very stop.
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // SAFETY: ignoring SIGINT installs no handler code; a Ctrl-C for the whole process
    // group must not end the sibling before the parent's final summary.
    unsafe {
        let _ = nix::sys::signal::signal(Signal::SIGINT, SigHandler::SigIgn);
    }
    let _ = nix::sys::prctl::set_name(c"skew-sibling");
    let _ = set_timer_slack(timer_slack_ns);
    let interval = sh.interval_ns.load(Ordering::Relaxed).max(1);
    let margin = sh.margin_ns.load(Ordering::Relaxed);
    let mut deadline = mono_ns().saturating_add(interval);
    sh.first_deadline_ns.store(deadline, Ordering::Release);
    loop {
        sleep_until_mono(deadline);
        let now = mono_ns();
        if sh.stop.load(Ordering::Acquire) != 0 || getppid() != parent {
            break;
        }
        if now.saturating_sub(deadline) > margin {
            let n = sh.stalls_written.load(Ordering::Relaxed);
            let slot = &sh.slots[(n % RING as u64) as usize];
            slot.seq
                .store(n.wrapping_mul(2).wrapping_add(1), Ordering::Relaxed);
            fence(Ordering::Release);
            slot.from_ns.store(deadline, Ordering::Relaxed);
            slot.to_ns.store(now, Ordering::Relaxed);
            slot.seq
                .store(n.wrapping_mul(2).wrapping_add(2), Ordering::Release);
            sh.stalls_written
                .store(n.wrapping_add(1), Ordering::Release);
        }
        sh.last_wake_ns.store(now, Ordering::Release);
        sh.last_deadline_ns.store(deadline, Ordering::Release);
        sh.wakes.fetch_add(1, Ordering::Relaxed);
        deadline = next_deadline_ns(deadline, now, interval);
    }
    sh.exited.store(1, Ordering::Release);
    // SAFETY: as above.
    unsafe { libc::_exit(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_runs_publishes_and_stops() {
        let s = Sibling::spawn(5_000_000, 2_000_000, 1).expect("fork sibling");
        let pid = s.pid();
        assert!(pid > 0);
        std::thread::sleep(Duration::from_millis(100));
        let v = s.view();
        assert_eq!(v.pid, pid);
        assert_eq!(v.interval_ns, 5_000_000);
        assert!(v.first_deadline_ns > 0);
        assert!(
            v.last_deadline_ns >= v.first_deadline_ns + 5 * 5_000_000,
            "{v:?}"
        );
        assert!(!v.exited);
        // Asked to stop, it exits within an interval and is reaped (no zombie left).
        let cpu = s.stop();
        assert!(cpu.is_some_and(|ns| ns >= 0));
        assert!(kill(Pid::from_raw(pid as i32), None).is_err());
    }
}
