//! The sibling as a witness: did another process run while the detector thread was stalled?
//!
//! The sibling wakes on the lattice `first + k × interval` and records a stall whenever it
//! wakes more than `margin` late. If one of its deadlines lies inside the detector's stall
//! and it woke on time for it, something else ran during the pause (a process-local
//! pause); if every such deadline was missed, the sibling stalled at the same instant (the
//! whole VM, or the whole container, stopped).
#![forbid(unsafe_code)]

use crate::snapshot::SiblingView;
use serde::Serialize;

/// What the sibling says about a stall of the detector thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiblingVerdict {
    /// It missed every deadline inside the stall: it stalled too.
    Stalled,
    /// It woke on time for a deadline inside the stall: it ran.
    Ran,
    /// It has not yet reached the end of the stall (ask again shortly).
    Pending,
    /// It cannot tell: no deadline of its inside the stall, or its record was lost.
    NoWitness,
    /// There is no sibling.
    Absent,
}

impl SiblingVerdict {
    /// The name used in JSON and in the human output.
    pub fn as_str(self) -> &'static str {
        match self {
            SiblingVerdict::Stalled => "stalled",
            SiblingVerdict::Ran => "ran",
            SiblingVerdict::Pending => "pending",
            SiblingVerdict::NoWitness => "no_witness",
            SiblingVerdict::Absent => "absent",
        }
    }

    /// `Some(true)` stalled, `Some(false)` ran, `None` unknown (the JSON `sibling_stalled`).
    pub fn stalled(self) -> Option<bool> {
        match self {
            SiblingVerdict::Stalled => Some(true),
            SiblingVerdict::Ran => Some(false),
            _ => None,
        }
    }
}

/// First lattice point at or after `t`.
fn lattice_at_or_after(first: i64, interval: i64, t: i64) -> i64 {
    if t <= first {
        return first;
    }
    let k = (t as i128 - first as i128 + interval as i128 - 1) / interval as i128;
    (first as i128 + k * interval as i128).min(i64::MAX as i128) as i64
}

/// Last lattice point at or before `t` (`None` when `t` is before the first).
fn lattice_at_or_before(first: i64, interval: i64, t: i64) -> Option<i64> {
    if t < first {
        return None;
    }
    let k = (t as i128 - first as i128) / interval as i128;
    Some((first as i128 + k * interval as i128) as i64)
}

/// The sibling's verdict on a stall of the detector thread that certainly covered
/// `[stall_from_ns, stall_to_ns]` (MONOTONIC). Only sibling deadlines at least its margin
/// inside that span count, so that neither side's ordinary wake-up latency decides.
pub fn sibling_verdict(
    view: Option<&SiblingView>,
    stall_from_ns: i64,
    stall_to_ns: i64,
) -> SiblingVerdict {
    let Some(v) = view else {
        return SiblingVerdict::Absent;
    };
    if v.interval_ns <= 0 || v.first_deadline_ns == 0 {
        return SiblingVerdict::NoWitness;
    }
    let lo = stall_from_ns
        .saturating_add(v.margin_ns)
        .max(v.first_deadline_ns);
    let hi = stall_to_ns.saturating_sub(v.margin_ns);
    let first = lattice_at_or_after(v.first_deadline_ns, v.interval_ns, lo);
    let Some(last) = lattice_at_or_before(v.first_deadline_ns, v.interval_ns, hi) else {
        return SiblingVerdict::NoWitness;
    };
    if first > last {
        return SiblingVerdict::NoWitness;
    }
    if first < v.complete_since_ns {
        return SiblingVerdict::NoWitness;
    }
    // Walk the deadlines in [first, last] that the sibling has already dealt with, jumping
    // over its recorded stalls; an uncovered one is a deadline it met.
    let known_until = v.last_deadline_ns.min(last);
    let mut cur = first;
    while cur <= known_until {
        let covered_to = v
            .stalls
            .iter()
            .filter(|s| s.from_ns <= cur && cur <= s.to_ns)
            .map(|s| s.to_ns)
            .max();
        match covered_to {
            Some(end) => {
                let next = lattice_at_or_after(v.first_deadline_ns, v.interval_ns, end);
                cur = if next == end {
                    next.saturating_add(v.interval_ns)
                } else {
                    next
                };
            }
            None => return SiblingVerdict::Ran,
        }
    }
    if known_until < last {
        if v.exited {
            SiblingVerdict::NoWitness
        } else {
            SiblingVerdict::Pending
        }
    } else {
        SiblingVerdict::Stalled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::StallSpan;

    const MS: i64 = 1_000_000;

    /// A sibling with a 10 ms period from t = 1000 ms, 5 ms margin, last deadline `last`.
    fn view(last: i64, stalls: &[(i64, i64)]) -> SiblingView {
        SiblingView {
            pid: 42,
            interval_ns: 10 * MS,
            margin_ns: 5 * MS,
            first_deadline_ns: 1000 * MS,
            last_deadline_ns: last,
            last_wake_ns: last + 50_000,
            stalls: stalls
                .iter()
                .map(|&(from_ns, to_ns)| StallSpan { from_ns, to_ns })
                .collect(),
            complete_since_ns: i64::MIN,
            exited: false,
        }
    }

    #[test]
    fn a_sibling_that_kept_running_witnesses_a_process_pause() {
        // Detector stalled 2000..2300 ms; sibling woke on time all along, now at 2310.
        let v = view(2310 * MS, &[]);
        assert_eq!(
            sibling_verdict(Some(&v), 2000 * MS, 2300 * MS),
            SiblingVerdict::Ran
        );
    }

    #[test]
    fn a_sibling_stalled_over_the_same_span_confirms_a_vm_pause() {
        // Both stalled from ~2000 ms: the sibling's deadline 2000 was missed, it woke at 2300.
        let v = view(2300 * MS, &[(2000 * MS, 2300 * MS + 80_000)]);
        assert_eq!(
            sibling_verdict(Some(&v), 1999 * MS, 2300 * MS),
            SiblingVerdict::Stalled
        );
        assert_eq!(SiblingVerdict::Stalled.stalled(), Some(true));
    }

    #[test]
    fn several_stall_records_chain() {
        let v = view(
            2300 * MS,
            &[(2000 * MS, 2150 * MS), (2150 * MS + 1, 2300 * MS + 1)],
        );
        // 2160 is covered by the second span: everything in [2005, 2295] is covered.
        assert_eq!(
            sibling_verdict(Some(&v), 2000 * MS, 2300 * MS),
            SiblingVerdict::Stalled
        );
        // A gap between records: the sibling met deadline 2160.
        let v = view(
            2300 * MS,
            &[(2000 * MS, 2150 * MS), (2170 * MS, 2300 * MS + 1)],
        );
        assert_eq!(
            sibling_verdict(Some(&v), 2000 * MS, 2300 * MS),
            SiblingVerdict::Ran
        );
    }

    #[test]
    fn not_there_yet_is_pending_not_a_verdict() {
        // The sibling is still in its stall: its last deadline was before the stall.
        let v = view(1990 * MS, &[]);
        assert_eq!(
            sibling_verdict(Some(&v), 2000 * MS, 2300 * MS),
            SiblingVerdict::Pending
        );
        let mut gone = v.clone();
        gone.exited = true;
        assert_eq!(
            sibling_verdict(Some(&gone), 2000 * MS, 2300 * MS),
            SiblingVerdict::NoWitness
        );
    }

    #[test]
    fn too_short_or_unknown_is_no_witness() {
        let v = view(3000 * MS, &[]);
        // 12 ms stall: [2006, 2007] after margins holds no deadline of a 10 ms lattice.
        assert_eq!(
            sibling_verdict(Some(&v), 2001 * MS, 2012 * MS),
            SiblingVerdict::NoWitness
        );
        // Started after the stall.
        let mut late = view(3000 * MS, &[]);
        late.first_deadline_ns = 2500 * MS;
        assert_eq!(
            sibling_verdict(Some(&late), 2000 * MS, 2300 * MS),
            SiblingVerdict::NoWitness
        );
        // Ring overwritten past the stall.
        let mut lost = view(3000 * MS, &[]);
        lost.complete_since_ns = 2100 * MS;
        assert_eq!(
            sibling_verdict(Some(&lost), 2000 * MS, 2300 * MS),
            SiblingVerdict::NoWitness
        );
        // Not started.
        let mut none = view(0, &[]);
        none.first_deadline_ns = 0;
        assert_eq!(
            sibling_verdict(Some(&none), 2000 * MS, 2300 * MS),
            SiblingVerdict::NoWitness
        );
        assert_eq!(
            sibling_verdict(None, 2000 * MS, 2300 * MS),
            SiblingVerdict::Absent
        );
        assert_eq!(SiblingVerdict::Absent.stalled(), None);
        for v in [
            SiblingVerdict::Stalled,
            SiblingVerdict::Ran,
            SiblingVerdict::Pending,
            SiblingVerdict::NoWitness,
            SiblingVerdict::Absent,
        ] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
    }

    #[test]
    fn decided_early_when_a_met_deadline_is_already_known() {
        // Last deadline 2100 lies inside the stall and was met: no need to wait for 2300.
        let v = view(2100 * MS, &[]);
        assert_eq!(
            sibling_verdict(Some(&v), 2000 * MS, 2300 * MS),
            SiblingVerdict::Ran
        );
    }

    #[test]
    fn lattice_helpers() {
        assert_eq!(lattice_at_or_after(100, 10, 95), 100);
        assert_eq!(lattice_at_or_after(100, 10, 101), 110);
        assert_eq!(lattice_at_or_after(100, 10, 110), 110);
        assert_eq!(lattice_at_or_before(100, 10, 99), None);
        assert_eq!(lattice_at_or_before(100, 10, 119), Some(110));
    }
}
