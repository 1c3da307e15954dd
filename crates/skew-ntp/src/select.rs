//! Truth by majority: selecting truechimers from servers' bounds (Marzullo's algorithm, as in
//! RFC 5905 §11.2.1).
//!
//! Each candidate server contributes an interval (its UTC bound) that contains the true
//! offset if the server is honest. The **agreement** is the smallest interval that contains
//! every point lying in at least `min_agree` candidate intervals: whenever at least
//! `min_agree` candidates are honest, the truth lies in the agreement. A candidate is a
//! **truechimer** when its interval holds such a point (it is part of an agreeing group),
//! else a **falseticker**. When no point lies in `min_agree` intervals there is no majority,
//! and no winner is picked.

use crate::result::{ServerResult, Status};
use serde::{Deserialize, Serialize};
use skew_time::{ns_to_s, IntervalNs};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

/// The default number of servers that must agree: a majority of those counted (the servers
/// that answered, in [`select_answered`]), and at least 3 when 3 or more are counted
/// (ntpd-rs's rule).
pub fn default_min_agree(probed: usize) -> usize {
    let majority = probed / 2 + 1;
    if probed >= 3 {
        majority.max(3)
    } else {
        majority
    }
}

/// The outcome of selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// The interval all agreeing groups share (offset bound, ns), when a majority exists.
    pub interval: Option<IntervalNs>,
    /// Per input: `Some(true)` truechimer, `Some(false)` falseticker, `None` not a candidate.
    pub verdicts: Vec<Option<bool>>,
    /// Number of truechimers.
    pub truechimers: usize,
    /// Number of falsetickers among the candidates.
    pub falsetickers: usize,
    /// Largest number of candidate intervals sharing one point.
    pub max_overlap: usize,
    /// How many had to agree.
    pub min_agree: usize,
    /// Number of candidates (inputs with an interval): the servers that answered.
    pub candidates: usize,
    /// Number of distinct servers probed ([`select_answered`]; the inputs in [`select`]).
    pub servers: usize,
}

impl Agreement {
    /// Whether at least `min_agree` candidates agree.
    pub fn majority(&self) -> bool {
        self.interval.is_some()
    }

    /// Whether input `i` was judged a falseticker: outside the majority's agreement.
    /// Without a majority nobody is.
    pub fn is_falseticker(&self, i: usize) -> bool {
        self.majority() && self.verdicts.get(i) == Some(&Some(false))
    }
}

/// Selects truechimers among `intervals` (`None`: not a candidate, e.g. a server that did
/// not answer), requiring `min_agree` (at least 1) intervals to share a point.
pub fn select(intervals: &[Option<IntervalNs>], min_agree: usize) -> Agreement {
    let min_agree = min_agree.max(1);
    let candidates = intervals.iter().flatten().count();
    // Endpoints: (position, kind) with starts before ends at equal positions, so closed
    // intervals that touch count as overlapping.
    let mut events: Vec<(i64, u8)> = Vec::with_capacity(candidates * 2);
    for iv in intervals.iter().flatten() {
        events.push((iv.lo_ns, 0));
        events.push((iv.hi_ns, 1));
    }
    events.sort_unstable();
    // Sweep: the maximal closed segments covered by at least `min_agree` intervals.
    let mut regions: Vec<IntervalNs> = Vec::new();
    let mut count = 0usize;
    let mut max_overlap = 0usize;
    let mut open: Option<i64> = None;
    for &(x, kind) in &events {
        if kind == 0 {
            count += 1;
            max_overlap = max_overlap.max(count);
            if count >= min_agree && open.is_none() {
                open = Some(x);
            }
        } else {
            count -= 1;
            if count < min_agree {
                if let Some(a) = open.take() {
                    regions.push(IntervalNs::new(a, x));
                }
            }
        }
    }
    let interval = regions
        .first()
        .zip(regions.last())
        .map(|(f, l)| IntervalNs::new(f.lo_ns, l.hi_ns));
    let verdicts: Vec<Option<bool>> = intervals
        .iter()
        .map(|iv| iv.map(|iv| intersects_any(&iv, &regions)))
        .collect();
    let truechimers = verdicts.iter().filter(|v| **v == Some(true)).count();
    Agreement {
        interval,
        falsetickers: if interval.is_some() {
            candidates - truechimers
        } else {
            0
        },
        verdicts,
        truechimers,
        max_overlap,
        min_agree,
        candidates,
        servers: intervals.len(),
    }
}

/// Truth by the majority of those that answered: selects among probe results as
/// [`select_servers`] does, with `min_agree` servers required to agree, by default
/// ([`default_min_agree`]) a majority of the servers that answered (the candidates), not of
/// those probed. A dead server is reported by its status, but cannot turn agreeing answers
/// into "no majority"; `Some(n)` still demands `n` agreeing servers. `servers` counts the
/// distinct servers probed.
pub fn select_answered(results: &[ServerResult], min_agree: Option<usize>) -> Agreement {
    let answered = candidate_intervals(results, &repeats_of(results))
        .iter()
        .flatten()
        .count();
    let k = min_agree.unwrap_or_else(|| default_min_agree(answered));
    let mut a = select_servers(results, k);
    a.servers = count_distinct(results);
    a
}

/// For each result, the index of an earlier result with the same address.
fn repeats_of(results: &[ServerResult]) -> Vec<Option<usize>> {
    let mut first_of: HashMap<SocketAddr, usize> = HashMap::new();
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let a = r.address?;
            match first_of.entry(a) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(i);
                    None
                }
            }
        })
        .collect()
}

/// The UTC bound of each result that is a candidate: status `ok`, not a repeat.
fn candidate_intervals(
    results: &[ServerResult],
    repeats: &[Option<usize>],
) -> Vec<Option<IntervalNs>> {
    results
        .iter()
        .zip(repeats)
        .map(|(r, rep)| match (&r.summary, r.status, rep) {
            (Some(s), Status::Ok, None) => Some(s.utc_bound),
            _ => None,
        })
        .collect()
}

/// Selects among probe results: the candidates are the servers with status `ok`, each
/// contributing its UTC bound. A result for an address already seen (a server given twice,
/// two names for one address) is not a second candidate: one server gets one vote, and the
/// repeat gets the verdict of the first. `min_agree` is taken as given; most callers want
/// [`select_answered`].
pub fn select_servers(results: &[ServerResult], min_agree: usize) -> Agreement {
    let repeats = repeats_of(results);
    let intervals = candidate_intervals(results, &repeats);
    let mut agreement = select(&intervals, min_agree);
    for (i, rep) in repeats.iter().enumerate() {
        if let Some(j) = rep {
            agreement.verdicts[i] = agreement.verdicts[*j];
        }
    }
    agreement.servers = count_distinct(results);
    agreement
}

/// Distinct addresses, plus each result without one (unresolved).
fn count_distinct(results: &[ServerResult]) -> usize {
    let addrs: HashSet<SocketAddr> = results.iter().filter_map(|r| r.address).collect();
    addrs.len() + results.iter().filter(|r| r.address.is_none()).count()
}

/// The number of distinct servers among `results`: distinct addresses, plus each result
/// without one (unresolved).
#[deprecated(
    note = "the majority is taken among the servers that answered (issue 13): use \
            select_answered(results, min_agree) instead of \
            select_servers(results, default_min_agree(distinct_servers(results)))"
)]
pub fn distinct_servers(results: &[ServerResult]) -> usize {
    count_distinct(results)
}

/// The JSON view of an [`Agreement`] (`"agreement"` at the top level of probe and monitor
/// results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementRecord {
    /// Lower end of the agreement interval on the offset to UTC, s (null without a majority).
    pub lo_s: Option<f64>,
    /// Upper end, s (null without a majority).
    pub hi_s: Option<f64>,
    /// Number of truechimers.
    pub truechimers: usize,
    /// Number of falsetickers (among the servers that were measured).
    pub falsetickers: usize,
    /// Whether at least `min_agree` servers agree.
    pub majority: bool,
    /// How many servers had to agree.
    pub min_agree: usize,
    /// Servers that took part (status ok): the servers that answered.
    pub candidates: usize,
    /// The largest number of servers whose bounds share a point.
    pub max_overlap: usize,
    /// Distinct servers probed (dead ones included): `candidates` of `servers` answered.
    #[serde(default)]
    pub servers: usize,
}

impl From<&Agreement> for AgreementRecord {
    fn from(a: &Agreement) -> Self {
        AgreementRecord {
            lo_s: a.interval.map(|i| ns_to_s(i.lo_ns)),
            hi_s: a.interval.map(|i| ns_to_s(i.hi_ns)),
            truechimers: a.truechimers,
            falsetickers: a.falsetickers,
            majority: a.majority(),
            min_agree: a.min_agree,
            candidates: a.candidates,
            max_overlap: a.max_overlap,
            servers: a.servers,
        }
    }
}

/// Whether `iv` intersects one of the sorted, disjoint `regions`.
fn intersects_any(iv: &IntervalNs, regions: &[IntervalNs]) -> bool {
    let i = regions.partition_point(|r| r.hi_ns < iv.lo_ns);
    regions.get(i).is_some_and(|r| r.lo_ns <= iv.hi_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iv(lo: i64, hi: i64) -> Option<IntervalNs> {
        Some(IntervalNs::new(lo, hi))
    }

    #[test]
    fn defaults() {
        assert_eq!(default_min_agree(1), 1);
        assert_eq!(default_min_agree(2), 2);
        assert_eq!(default_min_agree(3), 3);
        assert_eq!(default_min_agree(4), 3);
        assert_eq!(default_min_agree(5), 3);
        assert_eq!(default_min_agree(6), 4);
    }

    #[test]
    fn three_honest_two_liars() {
        let v = [
            iv(-10, 10),
            iv(-5, 12),
            iv(-8, 6),
            iv(500, 520),
            iv(-300, -280),
        ];
        let a = select(&v, 3);
        assert_eq!(a.interval, Some(IntervalNs::new(-5, 6)));
        assert_eq!(
            a.verdicts,
            vec![Some(true), Some(true), Some(true), Some(false), Some(false)]
        );
        assert_eq!((a.truechimers, a.falsetickers, a.max_overlap), (3, 2, 3));
        assert!(a.majority());
    }

    #[test]
    fn two_of_four_is_no_majority() {
        let v = [iv(-10, 10), iv(-5, 12), iv(500, 520), iv(-300, -280)];
        let a = select(&v, default_min_agree(4));
        assert!(!a.majority());
        assert_eq!(a.interval, None);
        assert_eq!(a.truechimers, 0);
        assert_eq!(a.falsetickers, 0);
        assert_eq!(a.max_overlap, 2);
    }

    #[test]
    fn non_candidates_are_not_judged() {
        let v = [iv(0, 10), None, iv(5, 15)];
        let a = select(&v, 2);
        assert_eq!(a.verdicts, vec![Some(true), None, Some(true)]);
        assert_eq!(a.candidates, 2);
        assert_eq!(a.interval, Some(IntervalNs::new(5, 10)));
    }

    #[test]
    fn touching_intervals_agree() {
        let a = select(&[iv(0, 5), iv(5, 9)], 2);
        assert_eq!(a.interval, Some(IntervalNs::new(5, 5)));
    }

    #[test]
    fn wide_honest_intervals_keep_the_truth() {
        // Two wide honest intervals also overlap two liars: 4 intervals share [8, 9], but the
        // agreement keeps the point 0 that three honest intervals share.
        let v = [iv(-10, 10), iv(-10, 10), iv(-1, 1), iv(8, 9), iv(8, 9)];
        let a = select(&v, 3);
        assert!(a.interval.unwrap().contains(0));
        assert_eq!(a.interval, Some(IntervalNs::new(-1, 9)));
    }

    #[test]
    fn single_server() {
        let a = select(&[iv(3, 4)], default_min_agree(1));
        assert_eq!(a.interval, Some(IntervalNs::new(3, 4)));
        assert_eq!(a.verdicts, vec![Some(true)]);
        let a = select(&[None], 1);
        assert!(!a.majority());
    }

    fn result(addr: Option<&str>, utc: Option<IntervalNs>) -> ServerResult {
        let address = addr.map(|a| a.parse().unwrap());
        let mut r = ServerResult::failed("s", address, Status::Timeout, "x".into());
        if let Some(b) = utc {
            r.status = Status::Ok;
            r.error = None;
            r.summary = Some(crate::result::Summary {
                best: 0,
                offset_ns: b.lo_ns / 2 + b.hi_ns / 2,
                delay_ns: 0,
                jitter_ns: 0.0,
                bound: b,
                utc_bound: b,
                consistent: true,
            });
        }
        r
    }

    #[test]
    fn a_server_given_twice_votes_once() {
        // A liar given twice must not outvote one honest server: 1 against 1, no majority.
        let liar = || result(Some("127.0.0.1:2"), iv(500, 510));
        let rs = [result(Some("127.0.0.1:1"), iv(-5, 5)), liar(), liar()];
        let a = select_answered(&rs, None);
        assert_eq!(a.servers, 2);
        assert_eq!(a.candidates, 2);
        assert!(!a.majority(), "{a:?}");
        assert_eq!(a.max_overlap, 1);
        // Three distinct servers, one of them repeated: the repeat copies its verdict.
        let rs = [
            result(Some("127.0.0.1:1"), iv(-5, 5)),
            result(Some("127.0.0.1:3"), iv(-3, 8)),
            liar(),
            result(Some("127.0.0.1:1"), iv(-5, 5)),
            result(None, None),
        ];
        let a = select_servers(&rs, 2);
        assert_eq!(a.servers, 4);
        assert_eq!(
            a.verdicts,
            vec![Some(true), Some(true), Some(false), Some(true), None]
        );
        assert_eq!((a.truechimers, a.falsetickers, a.candidates), (2, 1, 3));
    }

    #[test]
    fn the_majority_is_taken_among_those_that_answered() {
        // Two agreeing servers and two dead ones: 2 of 2 answering servers agree.
        let dead = |a: &str| result(Some(a), None);
        let rs = [
            result(Some("127.0.0.1:1"), iv(-5, 5)),
            dead("127.0.0.1:2"),
            result(Some("127.0.0.1:3"), iv(-3, 8)),
            dead("127.0.0.1:4"),
        ];
        let a = select_answered(&rs, None);
        assert!(a.majority(), "{a:?}");
        assert_eq!((a.candidates, a.servers, a.min_agree), (2, 4, 2));
        assert_eq!(a.interval, Some(IntervalNs::new(-3, 5)));
        assert_eq!(a.verdicts, vec![Some(true), None, Some(true), None]);
        // --min-agree still demands its number.
        let a = select_answered(&rs, Some(3));
        assert!(!a.majority());
        assert_eq!(a.min_agree, 3);
        // One answering liar among three answering servers is still outvoted.
        let rs = [
            result(Some("127.0.0.1:1"), iv(-5, 5)),
            result(Some("127.0.0.1:2"), iv(-4, 6)),
            result(Some("127.0.0.1:3"), iv(-3, 8)),
            result(Some("127.0.0.1:5"), iv(500, 510)),
            dead("127.0.0.1:4"),
        ];
        let a = select_answered(&rs, None);
        assert_eq!((a.candidates, a.servers, a.min_agree), (4, 5, 3));
        assert!(a.is_falseticker(3) && !a.is_falseticker(0) && !a.is_falseticker(4));
        // Nothing answered: nothing to agree on.
        let a = select_answered(&[dead("127.0.0.1:1"), dead("127.0.0.1:2")], None);
        assert_eq!((a.candidates, a.servers), (0, 2));
        assert!(!a.majority());
    }

    proptest! {
        /// Whenever at least `k` intervals contain the truth, the agreement contains it and
        /// every interval containing the truth is a truechimer.
        #[test]
        fn majority_containing_truth_is_kept(
            truth in -1_000_000i64..1_000_000,
            honest in proptest::collection::vec((0i64..100_000, 0i64..100_000), 1..8),
            liars in proptest::collection::vec((-2_000_000i64..2_000_000, 0i64..100_000), 0..8),
            gaps in proptest::collection::vec(any::<bool>(), 0..4),
        ) {
            let mut v: Vec<Option<IntervalNs>> = honest.iter().map(|(a, b)| iv(truth - a, truth + b)).collect();
            let n_honest = v.len();
            v.extend(liars.iter().map(|(c, w)| iv(*c, c + w)));
            v.extend(gaps.iter().map(|_| None));
            for k in 1..=n_honest {
                let a = select(&v, k);
                prop_assert!(a.majority());
                prop_assert!(a.interval.unwrap().contains(truth), "k={} {:?}", k, a);
                for i in 0..n_honest {
                    prop_assert_eq!(a.verdicts[i], Some(true));
                }
                prop_assert_eq!(a.truechimers + a.falsetickers, a.candidates);
            }
        }

        /// The sweep agrees with brute force: a candidate is a truechimer exactly when one of
        /// the points of its interval (checked at every endpoint) is covered k times.
        #[test]
        fn matches_brute_force(
            raw in proptest::collection::vec((-50i64..50, 0i64..30), 1..9),
            k in 1usize..6,
        ) {
            let v: Vec<Option<IntervalNs>> = raw.iter().map(|(a, w)| iv(*a, a + w)).collect();
            let a = select(&v, k);
            let cover = |x: i64| v.iter().flatten().filter(|i| i.contains(x)).count();
            let points: Vec<i64> = v.iter().flatten().flat_map(|i| [i.lo_ns, i.hi_ns]).collect();
            for (i, it) in v.iter().enumerate() {
                let it = it.unwrap();
                let brute = points.iter().any(|&x| it.contains(x) && cover(x) >= k);
                prop_assert_eq!(a.verdicts[i], Some(brute && a.majority()));
            }
            let agreeing: Vec<i64> = points.iter().copied().filter(|&x| cover(x) >= k).collect();
            match a.interval {
                Some(r) => {
                    prop_assert_eq!(r.lo_ns, *agreeing.iter().min().unwrap());
                    prop_assert_eq!(r.hi_ns, *agreeing.iter().max().unwrap());
                }
                None => prop_assert!(agreeing.is_empty()),
            }
        }
    }
}
