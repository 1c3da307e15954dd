//! Interval arithmetic of a sleep-and-measure detector: what one late wake says about the
//! pause that caused it.
//!
//! The thread asked to wake at `deadline` and woke at `wake`; it last ran at `prev_wake`.
//! It cannot have run between `deadline` and `wake` (else it would have woken earlier), and
//! it did run at `prev_wake`, so the time it could not run satisfies
//! `wake − deadline ≤ P ≤ wake − prev_wake ≤ overshoot + interval`.
//!
//! The overshoot also holds the kernel's wake-up latency once the stall is over (tens of µs
//! quiet, milliseconds on a busy machine), so the external stall (the SIGSTOP, the freeze,
//! the VM pause) can be that much shorter than the overshoot: the lower bound gives back the
//! usual latency (the p99.9 of the run's ordinary overshoots). The answer is the interval
//! `[overshoot − latency, wake − prev_wake]`, never a single falsely exact figure.
#![forbid(unsafe_code)]

use skew_time::IntervalNs;

/// One wake that came late: the raw observation behind an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overshoot {
    /// When the thread asked to wake (MONOTONIC, ns).
    pub deadline_ns: i64,
    /// When it woke (MONOTONIC, ns).
    pub wake_ns: i64,
    /// When it woke before that: the last time it was seen running (MONOTONIC, ns).
    pub prev_wake_ns: i64,
    /// The detector's interval, ns.
    pub interval_ns: i64,
    /// The usual wake-up latency to give back from the lower bound, ns (0: none).
    pub latency_ns: i64,
}

impl Overshoot {
    /// How late the wake was, ns (never negative).
    pub fn overshoot_ns(&self) -> i64 {
        self.wake_ns.saturating_sub(self.deadline_ns).max(0)
    }

    /// The bounds on the pause: `[overshoot − latency, min(wake − prev_wake, overshoot +
    /// interval)]`.
    pub fn bounds(&self) -> IntervalNs {
        let over = self.overshoot_ns();
        let lo = over.saturating_sub(self.latency_ns.max(0)).max(0);
        let since_prev = self.wake_ns.saturating_sub(self.prev_wake_ns);
        let hi = since_prev
            .min(over.saturating_add(self.interval_ns.max(0)))
            .max(over);
        IntervalNs::new(lo, hi)
    }

    /// The span during which the thread certainly did not run: `[deadline, wake]`.
    pub fn certain_stall(&self) -> (i64, i64) {
        (self.deadline_ns, self.wake_ns.max(self.deadline_ns))
    }

    /// The earliest instant the pause can have started: the previous wake (MONOTONIC, ns).
    pub fn earliest_start_ns(&self) -> i64 {
        self.wake_ns.saturating_sub(self.bounds().hi_ns)
    }
}

pub use skew_time::next_deadline_ns;

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn bounds_of_a_stop() {
        // 1 ms loop, woke at 1000 ms previously, deadline 1001 ms, woke at 1301.2 ms.
        let o = Overshoot {
            deadline_ns: 1001 * MS,
            wake_ns: 1301 * MS + 200_000,
            prev_wake_ns: 1000 * MS + 100_000,
            interval_ns: MS,
            latency_ns: 0,
        };
        assert_eq!(o.overshoot_ns(), 300 * MS + 200_000);
        let b = o.bounds();
        assert_eq!(b.lo_ns, 300 * MS + 200_000);
        assert_eq!(b.hi_ns, 301 * MS + 100_000); // wake − prev_wake, tighter than +1 ms
        assert!(b.contains(301 * MS));
        assert_eq!(o.earliest_start_ns(), 1000 * MS + 100_000);
        assert_eq!(o.certain_stall(), (1001 * MS, 1301 * MS + 200_000));
        // The usual wake-up latency is given back from the lower bound only.
        let o = Overshoot {
            latency_ns: 150_000,
            ..o
        };
        assert_eq!(
            o.bounds(),
            IntervalNs::new(300 * MS + 50_000, 301 * MS + 100_000)
        );
        let o = Overshoot {
            latency_ns: 400 * MS,
            ..o
        };
        assert_eq!(o.bounds().lo_ns, 0);
    }

    #[test]
    fn bounds_never_exceed_overshoot_plus_interval() {
        // A prev_wake long ago (e.g. the first wake) caps at overshoot + interval.
        let o = Overshoot {
            deadline_ns: 10 * MS,
            wake_ns: 40 * MS,
            prev_wake_ns: 0,
            interval_ns: MS,
            latency_ns: 0,
        };
        assert_eq!(o.bounds(), IntervalNs::new(30 * MS, 31 * MS));
        // An early wake (clock oddity) is clamped to a zero overshoot.
        let o = Overshoot {
            deadline_ns: 10 * MS,
            wake_ns: 9 * MS,
            prev_wake_ns: 8 * MS,
            interval_ns: MS,
            latency_ns: 0,
        };
        assert_eq!(o.bounds(), IntervalNs::new(0, MS));
    }

    #[test]
    fn deadlines_stay_on_the_lattice() {
        assert_eq!(next_deadline_ns(10 * MS, 10 * MS + 50_000, MS), 11 * MS);
        // A 300 ms pause skips the missed deadlines.
        assert_eq!(next_deadline_ns(10 * MS, 310 * MS + 3, MS), 311 * MS);
        assert_eq!(next_deadline_ns(10 * MS, 311 * MS, MS), 312 * MS);
        // MONOTONIC went backwards by a second: restart after the wake.
        assert_eq!(next_deadline_ns(2000 * MS, 1000 * MS, MS), 1001 * MS);
        // Extremes do not overflow.
        assert_eq!(next_deadline_ns(i64::MAX - 5, i64::MAX - 4, MS), i64::MAX);
    }
}
