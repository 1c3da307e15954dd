//! Simulated clocks for tests: a [`ClockSource`] and [`Pacer`] whose time only moves when it
//! is read or waited on, with chosen rates, read costs, noise, preemption, steps of
//! REALTIME (as a kernel clock setting or as a process-local fake), suspends and MONOTONIC
//! jumps. Deterministic for a given seed.
//!
//! The model follows Linux: MONOTONIC_RAW counts awake time at the nominal rate; MONOTONIC,
//! BOOTTIME, REALTIME and TAI are slewed together (`rate_ppm`); a suspend freezes RAW and
//! MONOTONIC while BOOTTIME and REALTIME keep counting; a step moves REALTIME (and TAI)
//! only.
#![forbid(unsafe_code)]

use crate::run::{Pacer, Wake};
use crate::source::{ClockError, ClockId, ClockSource};

/// How the simulated machine behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// REALTIME at the start, ns since the Unix epoch.
    pub start_unix_ns: i64,
    /// MONOTONIC_RAW at the start, ns.
    pub raw_start_ns: i64,
    /// MONOTONIC at the start, ns.
    pub monotonic_start_ns: i64,
    /// BOOTTIME − MONOTONIC at the start (suspended before the run), ns.
    pub suspended_start_ns: i64,
    /// Rate of the slewed clocks (MONOTONIC, BOOTTIME, REALTIME, TAI) against RAW, ppm.
    pub rate_ppm: f64,
    /// Extra rate of REALTIME alone (not physical on Linux; lets tests tell the two fits apart).
    pub realtime_extra_ppm: f64,
    /// CLOCK_TAI − CLOCK_REALTIME, s.
    pub tai_offset_s: i64,
    /// Time one clock read takes, ns.
    pub read_cost_ns: i64,
    /// Extra uniform random time per read, 0..this ns.
    pub read_jitter_ns: i64,
    /// On average one read in this many is preempted (0: never).
    pub preempt_one_in: u64,
    /// How long a preemption lasts, ns.
    pub preempt_ns: i64,
    /// Tick of the COARSE clocks, ns.
    pub coarse_tick_ns: i64,
    /// Whether the ALARM clocks exist (they need an RTC).
    pub alarm_clocks: bool,
    /// How late a wait returns after its timeout, ns.
    pub sleep_overshoot_ns: i64,
    /// How long after a clock setting a waiting pacer wakes, ns.
    pub wake_latency_ns: i64,
    /// Random seed.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            start_unix_ns: 1_795_743_118_000_000_000,
            raw_start_ns: 1_000_000_000_000,
            monotonic_start_ns: 1_000_250_000_000,
            suspended_start_ns: 0,
            rate_ppm: 0.0,
            realtime_extra_ppm: 0.0,
            tai_offset_s: 0,
            read_cost_ns: 20,
            read_jitter_ns: 10,
            preempt_one_in: 0,
            preempt_ns: 0,
            coarse_tick_ns: 4_000_000,
            alarm_clocks: false,
            sleep_overshoot_ns: 60_000,
            wake_latency_ns: 20_000,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EventKind {
    /// REALTIME moves by this many ns; `kernel` says whether a timerfd would see it.
    Step { size_ns: i64, kernel: bool },
    /// The machine sleeps this long.
    Suspend { len_ns: i64 },
    /// MONOTONIC alone moves (a bug, or a fake that shifts it).
    MonotonicJump { size_ns: i64 },
    /// A signal asks the program to stop.
    Interrupt,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at_ns: i64,
    kind: EventKind,
}

/// Simulated Linux clocks. Time advances by the cost of each read and by waits.
#[derive(Debug, Clone)]
pub struct SimClocks {
    cfg: SimConfig,
    /// Awake time since the start (what MONOTONIC_RAW counts), ns.
    awake_ns: i64,
    sleep_ns: i64,
    realtime_steps_ns: i64,
    monotonic_jumps_ns: i64,
    cpu_ns: i64,
    rng: u64,
    events: Vec<Event>,
    next_event: usize,
    pending_set: bool,
    pending_interrupt: bool,
    reads: u64,
}

impl SimClocks {
    /// A simulated machine.
    pub fn new(cfg: SimConfig) -> SimClocks {
        let rng = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        SimClocks {
            cfg,
            awake_ns: 0,
            sleep_ns: 0,
            realtime_steps_ns: 0,
            monotonic_jumps_ns: 0,
            cpu_ns: 0,
            rng,
            events: Vec::new(),
            next_event: 0,
            pending_set: false,
            pending_interrupt: false,
            reads: 0,
        }
    }

    fn schedule(&mut self, at_ns: i64, kind: EventKind) {
        self.events.push(Event { at_ns, kind });
        self.events[self.next_event..].sort_by_key(|e| e.at_ns);
    }

    /// Steps REALTIME by `size_ns` at awake time `at_ns`, as `settimeofday` would (a waiting
    /// timerfd pacer wakes).
    pub fn step_realtime_at(&mut self, at_ns: i64, size_ns: i64) {
        self.schedule(
            at_ns,
            EventKind::Step {
                size_ns,
                kernel: true,
            },
        );
    }

    /// Steps REALTIME by `size_ns` at `at_ns` for this process only, as libfaketime does: no
    /// timerfd sees it.
    pub fn fake_realtime_step_at(&mut self, at_ns: i64, size_ns: i64) {
        self.schedule(
            at_ns,
            EventKind::Step {
                size_ns,
                kernel: false,
            },
        );
    }

    /// Suspends the machine for `len_ns` at awake time `at_ns` (the timerfd fires on resume).
    pub fn suspend_at(&mut self, at_ns: i64, len_ns: i64) {
        self.schedule(at_ns, EventKind::Suspend { len_ns });
    }

    /// Moves MONOTONIC alone by `size_ns` at `at_ns`.
    pub fn jump_monotonic_at(&mut self, at_ns: i64, size_ns: i64) {
        self.schedule(at_ns, EventKind::MonotonicJump { size_ns });
    }

    /// Delivers a stop signal at `at_ns`: a wait in progress returns [`Wake::Interrupted`].
    pub fn interrupt_at(&mut self, at_ns: i64) {
        self.schedule(at_ns, EventKind::Interrupt);
    }

    /// Awake time since the start, ns.
    pub fn awake_ns(&self) -> i64 {
        self.awake_ns
    }

    /// Clock reads so far.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn apply(&mut self, e: Event) {
        match e.kind {
            EventKind::Step { size_ns, kernel } => {
                self.realtime_steps_ns += size_ns;
                if kernel {
                    self.pending_set = true;
                }
            }
            EventKind::Suspend { len_ns } => {
                self.sleep_ns += len_ns;
                self.pending_set = true;
            }
            EventKind::MonotonicJump { size_ns } => self.monotonic_jumps_ns += size_ns,
            EventKind::Interrupt => self.pending_interrupt = true,
        }
    }

    /// Advances awake time to `target_ns`, applying the events on the way.
    fn advance_to(&mut self, target_ns: i64) {
        while let Some(e) = self.events.get(self.next_event).copied() {
            if e.at_ns > target_ns {
                break;
            }
            self.awake_ns = self.awake_ns.max(e.at_ns);
            self.next_event += 1;
            self.apply(e);
        }
        self.awake_ns = self.awake_ns.max(target_ns);
    }

    fn slewed_ns(&self, extra_ppm: f64) -> i64 {
        let a = self.awake_ns as f64;
        self.awake_ns + (a * (self.cfg.rate_ppm + extra_ppm) * 1e-6).round() as i64
    }

    fn value(&self, clock: ClockId) -> i64 {
        let c = &self.cfg;
        let mono = c.monotonic_start_ns + self.slewed_ns(0.0) + self.monotonic_jumps_ns;
        let boot =
            c.monotonic_start_ns + self.slewed_ns(0.0) + c.suspended_start_ns + self.sleep_ns;
        let real = c.start_unix_ns
            + self.slewed_ns(c.realtime_extra_ppm)
            + self.sleep_ns
            + self.realtime_steps_ns;
        let coarse = |v: i64| v - v.rem_euclid(c.coarse_tick_ns.max(1));
        match clock {
            ClockId::Realtime | ClockId::RealtimeAlarm => real,
            ClockId::RealtimeCoarse => coarse(real),
            ClockId::Tai => real + c.tai_offset_s * 1_000_000_000,
            ClockId::Monotonic => mono,
            ClockId::MonotonicCoarse => coarse(mono),
            ClockId::MonotonicRaw => c.raw_start_ns + self.awake_ns,
            ClockId::Boottime | ClockId::BoottimeAlarm => boot,
            ClockId::ProcessCputime | ClockId::ThreadCputime => self.cpu_ns,
        }
    }

    fn supported(&self, clock: ClockId) -> Result<(), ClockError> {
        if matches!(clock, ClockId::RealtimeAlarm | ClockId::BoottimeAlarm)
            && !self.cfg.alarm_clocks
        {
            return Err(ClockError { clock, errno: 22 });
        }
        Ok(())
    }
}

impl ClockSource for SimClocks {
    fn read_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        self.supported(clock)?;
        self.reads += 1;
        let jitter = if self.cfg.read_jitter_ns > 0 {
            (self.rand() % self.cfg.read_jitter_ns as u64) as i64
        } else {
            0
        };
        let preempt = if self.cfg.preempt_one_in > 0 && self.rand() % self.cfg.preempt_one_in == 0 {
            self.cfg.preempt_ns
        } else {
            0
        };
        // The value is taken in the middle of the call; preemption lands on either side.
        let half = (self.cfg.read_cost_ns + jitter) / 2;
        let (before, after) = if self.rand() % 2 == 0 {
            (half + preempt, half)
        } else {
            (half, half + preempt)
        };
        self.advance_to(self.awake_ns + before);
        let v = self.value(clock);
        self.advance_to(self.awake_ns + after);
        self.cpu_ns += self.cfg.read_cost_ns + jitter;
        Ok(v)
    }

    fn resolution_ns(&mut self, clock: ClockId) -> Result<i64, ClockError> {
        self.supported(clock)?;
        Ok(match clock {
            ClockId::RealtimeCoarse | ClockId::MonotonicCoarse => self.cfg.coarse_tick_ns,
            _ => 1,
        })
    }
}

impl Pacer for SimClocks {
    fn wait_ns(&mut self, ns: i64) -> Wake {
        if self.pending_interrupt {
            self.pending_interrupt = false;
            return Wake::Interrupted;
        }
        if self.pending_set {
            self.pending_set = false;
            return Wake::ClockSet;
        }
        let target = self.awake_ns + ns.max(0);
        let waker = self.events[self.next_event..]
            .iter()
            .find(|e| {
                e.at_ns <= target
                    && matches!(
                        e.kind,
                        EventKind::Step { kernel: true, .. }
                            | EventKind::Suspend { .. }
                            | EventKind::Interrupt
                    )
            })
            .copied();
        match waker {
            Some(e) => {
                self.advance_to(e.at_ns);
                let wake = if std::mem::take(&mut self.pending_interrupt) {
                    Wake::Interrupted
                } else {
                    self.pending_set = false;
                    Wake::ClockSet
                };
                self.advance_to(self.awake_ns + self.cfg.wake_latency_ns);
                wake
            }
            None => {
                self.advance_to(target + self.cfg.sleep_overshoot_ns);
                Wake::Elapsed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_advance_time_and_follow_the_model() {
        let mut s = SimClocks::new(SimConfig {
            rate_ppm: 100.0,
            tai_offset_s: 37,
            ..SimConfig::default()
        });
        let r0 = s.read_ns(ClockId::MonotonicRaw).unwrap();
        let r1 = s.read_ns(ClockId::MonotonicRaw).unwrap();
        assert!(r1 > r0);
        assert_eq!(s.wait_ns(1_000_000_000), Wake::Elapsed);
        let raw = s.read_ns(ClockId::MonotonicRaw).unwrap() - SimConfig::default().raw_start_ns;
        let mono = s.read_ns(ClockId::Monotonic).unwrap() - SimConfig::default().monotonic_start_ns;
        // 100 ppm over ~1 s: ~100 µs ahead of RAW.
        assert!((mono - raw - 100_000).abs() < 1_000, "{mono} {raw}");
        let rt = s.read_ns(ClockId::Realtime).unwrap();
        let tai = s.read_ns(ClockId::Tai).unwrap();
        assert!((tai - rt - 37_000_000_000).abs() < 1_000);
        assert_eq!(s.read_ns(ClockId::MonotonicCoarse).unwrap() % 4_000_000, 0);
        assert_eq!(s.read_ns(ClockId::RealtimeAlarm).unwrap_err().errno, 22);
        assert!(s.reads() >= 6);
    }

    #[test]
    fn kernel_steps_wake_the_pacer_fake_steps_do_not() {
        let mut s = SimClocks::new(SimConfig::default());
        s.fake_realtime_step_at(100_000_000, 2_000_000_000);
        s.step_realtime_at(300_000_000, -1_000_000_000);
        let rt0 = s.read_ns(ClockId::Realtime).unwrap();
        assert_eq!(s.wait_ns(200_000_000), Wake::Elapsed);
        let rt1 = s.read_ns(ClockId::Realtime).unwrap();
        assert!((rt1 - rt0 - 2_200_000_000).abs() < 1_000_000);
        assert_eq!(s.wait_ns(1_000_000_000), Wake::ClockSet);
        assert!(s.awake_ns() < 400_000_000);
        s.suspend_at(s.awake_ns() + 1_000, 5_000_000_000);
        let b0 = s.read_ns(ClockId::Boottime).unwrap();
        let m0 = s.read_ns(ClockId::Monotonic).unwrap();
        assert_eq!(s.wait_ns(1_000), Wake::ClockSet);
        let b1 = s.read_ns(ClockId::Boottime).unwrap();
        let m1 = s.read_ns(ClockId::Monotonic).unwrap();
        assert!((b1 - b0) - (m1 - m0) >= 5_000_000_000);
        s.interrupt_at(s.awake_ns() + 1000);
        assert_eq!(s.wait_ns(1_000_000), Wake::Interrupted);
    }
}
