//! How long a watching process (`skew now --watch`) was itself stopped, from the gap between
//! two wake-ups: an interval that contains the truth, as `skew pauses` reports its pauses.
//!
//! Between two reads of MONOTONIC the process meant to sleep `sleep_ns`. If it was stopped
//! (SIGSTOP, a frozen cgroup, the whole VM) for P, the gap is at least P (the stop lies
//! between the reads) and at most `sleep_ns` + P + the usual wake-up latency (the stop may
//! have overlapped the sleep, hiding up to `sleep_ns` of it). So
//! `gap − sleep − latency ≤ P ≤ gap`. A 0.4 s SIGSTOP during a 0.1 s sleep reads as a stall
//! of about 0.3 s: the interval `[0.3 s − latency, 0.4 s…]` holds the 0.4 s. Pure.

/// A stall of the watching process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// The gap beyond the planned sleep, ns (what the process saw as lateness).
    pub overshoot_ns: i64,
    /// The shortest pause that explains the gap, ns: the overshoot less the usual wake-up
    /// latency (never negative).
    pub min_ns: i64,
    /// The longest pause that fits between the two reads, ns: the whole gap.
    pub max_ns: i64,
}

impl Stall {
    /// The stall between two reads `gap_ns` apart around a planned sleep of `sleep_ns`, given
    /// the usual wake-up latency `latency_ns` (e.g. the largest ordinary overshoot seen).
    pub fn of(gap_ns: i64, sleep_ns: i64, latency_ns: i64) -> Stall {
        let overshoot_ns = gap_ns.saturating_sub(sleep_ns).max(0);
        Stall {
            overshoot_ns,
            min_ns: overshoot_ns.saturating_sub(latency_ns.max(0)).max(0),
            max_ns: gap_ns.max(overshoot_ns),
        }
    }

    /// Whether `true_ns` lies in `[min_ns, max_ns]`.
    pub fn contains(&self, true_ns: i64) -> bool {
        (self.min_ns..=self.max_ns).contains(&true_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulated watch loops: a stop of length P starting anywhere in the cycle (during the
    /// sleep or the work between reads), with wake-up latency up to L; the interval always
    /// holds P.
    #[test]
    fn the_interval_holds_the_stop_wherever_it_starts() {
        let sleep = 100_000_000;
        let work = 2_000_000;
        let latency = 1_500_000;
        for p in [30_000_000i64, 150_000_000, 400_000_000, 2_000_000_000] {
            for start in (0..sleep + work).step_by(7_000_000) {
                for lat in [0, latency] {
                    // The cycle: work, then sleep until `work + sleep`; stopped from `start`
                    // for `p`; woken at the later of the deadline and the stop's end, plus
                    // latency.
                    let deadline = work + sleep;
                    let stop_end = start + p;
                    let wake = if stop_end > work {
                        deadline.max(stop_end)
                    } else {
                        deadline + p
                    } + lat;
                    let gap = wake; // from the previous read at 0
                    let s = Stall::of(gap, sleep, latency);
                    assert!(s.contains(p), "p {p} start {start} lat {lat}: {s:?}");
                }
            }
        }
    }

    #[test]
    fn the_reported_case() {
        // A 0.4 s SIGSTOP that began during a 0.1 s sleep read as 0.305 s of overshoot:
        // the old report said "paused for 0.305 s", which misses the 0.4 s.
        let s = Stall::of(405_000_000, 100_000_000, 1_000_000);
        assert_eq!(s.overshoot_ns, 305_000_000);
        assert!(s.contains(400_000_000));
        assert_eq!((s.min_ns, s.max_ns), (304_000_000, 405_000_000));
        assert_eq!(
            Stall::of(50, 100, 10),
            Stall {
                overshoot_ns: 0,
                min_ns: 0,
                max_ns: 50
            }
        );
    }
}
