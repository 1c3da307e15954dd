//! A pool's addresses over time, without IO: which addresses to poll after each resolution
//! of its name, and when to resolve it again.
//!
//! A `pool NAME` line is every address its name resolves to, up to its `maxsources`, each
//! address a server of its own (issue 13). As chrony does with pool sources, an address is
//! kept for as long as it answers, whatever the name resolves to later (pool.ntp.org gives
//! other addresses at every query); an address that stopped answering (no valid reply in its
//! last [`UNREACHABLE_POLLS`] polls, or a Kiss-o'-Death DENY/RSTR) is retired when the name
//! gives a replacement or no longer gives it, and its series leave `/metrics` with it. The
//! name is resolved again only while the pool has fewer addresses than its `maxsources` or
//! an address that stopped answering, at most once every [`RESOLVE_EVERY_POLLS`] polls (every
//! poll while it has no address at all, as for a server's name that did not resolve).

use std::net::SocketAddr;

/// Polls without a valid reply after which a pool's address counts as unreachable and may be
/// replaced: chrony's reachability register is 8 polls long, and chrony replaces a pool
/// source once it is all zeros.
pub const UNREACHABLE_POLLS: u64 = 8;

/// While a pool needs addresses, its name is resolved again at most once every this many
/// polls (at the default poll of 64 s, every 8.5 min).
pub const RESOLVE_EVERY_POLLS: i64 = 8;

/// One of a pool's addresses, as the decisions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The address polled.
    pub address: SocketAddr,
    /// Polls made since it joined the pool.
    pub polls: u64,
    /// Its reachability register (bit 0: the last poll got a valid reply).
    pub reach: u8,
    /// It is no longer polled (Kiss-o'-Death DENY or RSTR, or an address refused).
    pub stopped: bool,
}

impl Member {
    /// Whether it stopped answering: stopped, or no valid reply in its last
    /// [`UNREACHABLE_POLLS`] polls.
    pub fn unreachable(&self) -> bool {
        self.stopped || (self.polls >= UNREACHABLE_POLLS && self.reach == 0)
    }
}

/// What a resolution changes in a pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Addresses no longer polled (their series are removed).
    pub retire: Vec<SocketAddr>,
    /// Addresses polled from now on, in the resolver's order.
    pub add: Vec<SocketAddr>,
}

impl Change {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.retire.is_empty() && self.add.is_empty()
    }
}

/// The change after the pool's name resolved to `resolved` (in the resolver's order,
/// addresses that may not be polled already left out), for a pool of at most `max_sources`
/// addresses now polling `members`.
///
/// * An unreachable member the name no longer gives is retired.
/// * New addresses (not polled yet) fill the free places, in the resolver's order.
/// * Each new address left over replaces an unreachable member the name still gives.
/// * A member that answers is kept, given by the name or not.
pub fn decide(members: &[Member], resolved: &[SocketAddr], max_sources: usize) -> Change {
    let max_sources = max_sources.max(1);
    let (gone, dead_listed): (Vec<&Member>, Vec<&Member>) = members
        .iter()
        .filter(|m| m.unreachable())
        .partition(|m| !resolved.contains(&m.address));
    let mut retire: Vec<SocketAddr> = gone.iter().map(|m| m.address).collect();
    let mut fresh = resolved
        .iter()
        .copied()
        .filter(|a| !members.iter().any(|m| m.address == *a))
        .fold(Vec::new(), |mut v, a| {
            if !v.contains(&a) {
                v.push(a);
            }
            v
        })
        .into_iter();
    let kept = members.len() - retire.len();
    let mut add: Vec<SocketAddr> = fresh
        .by_ref()
        .take(max_sources.saturating_sub(kept))
        .collect();
    // The first-joined unreachable member is replaced first.
    for (m, a) in dead_listed.iter().zip(fresh) {
        retire.push(m.address);
        add.push(a);
    }
    Change { retire, add }
}

/// Whether a pool polling `members` wants its name resolved again: it has fewer than
/// `max_sources` addresses, or one that stopped answering.
pub fn wants_addresses(members: &[Member], max_sources: usize) -> bool {
    members.len() < max_sources.max(1) || members.iter().any(Member::unreachable)
}

/// A pool's name and when it may be resolved again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolTrack {
    /// The pool as given (`host` or `host:port`): its addresses' `server` label.
    pub name: String,
    /// At most this many addresses (`maxsources`).
    pub max_sources: usize,
    /// The earliest time of the next resolution, monotonic ns.
    pub next_resolve_mono_ns: i64,
    /// A resolution is under way.
    pub resolving: bool,
    /// Resolutions made since start (the one at start included).
    pub resolutions: u64,
    /// Why the last resolution gave no address (None after one that did).
    pub last_error: Option<String>,
}

impl PoolTrack {
    /// A pool whose name was resolved at `now_mono_ns` (at start); `error` says why it gave
    /// no address, if it did not.
    pub fn new(
        name: &str,
        max_sources: usize,
        now_mono_ns: i64,
        poll_ns: i64,
        error: Option<String>,
    ) -> PoolTrack {
        let mut t = PoolTrack {
            name: name.to_string(),
            max_sources: max_sources.max(1),
            next_resolve_mono_ns: now_mono_ns,
            resolving: false,
            resolutions: 0,
            last_error: None,
        };
        t.resolved(now_mono_ns, poll_ns, error);
        t
    }

    /// Whether to resolve the name now, for a pool polling `members`.
    pub fn due(&self, now_mono_ns: i64, members: &[Member]) -> bool {
        !self.resolving
            && now_mono_ns >= self.next_resolve_mono_ns
            && wants_addresses(members, self.max_sources)
    }

    /// Records a resolution made at `at_mono_ns` (`error`: it gave no address) and sets the
    /// earliest next one: a poll later while the name gives nothing, else
    /// [`RESOLVE_EVERY_POLLS`] polls later.
    pub fn resolved(&mut self, at_mono_ns: i64, poll_ns: i64, error: Option<String>) {
        let polls = if error.is_some() {
            1
        } else {
            RESOLVE_EVERY_POLLS
        };
        self.resolving = false;
        self.resolutions += 1;
        self.next_resolve_mono_ns = at_mono_ns.saturating_add(poll_ns.max(1).saturating_mul(polls));
        self.last_error = error;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, n], 123))
    }

    fn live(n: u8) -> Member {
        Member {
            address: a(n),
            polls: 20,
            reach: 0xff,
            stopped: false,
        }
    }

    fn dead(n: u8) -> Member {
        Member {
            reach: 0,
            ..live(n)
        }
    }

    #[test]
    fn unreachable_after_eight_polls_without_a_reply_or_when_stopped() {
        let young = Member {
            polls: 7,
            reach: 0,
            ..live(1)
        };
        assert!(!young.unreachable(), "7 polls: not yet");
        assert!(Member { polls: 8, ..young }.unreachable());
        // One valid reply in the last 8 polls keeps it.
        assert!(!Member {
            reach: 0x80,
            ..dead(1)
        }
        .unreachable());
        assert!(Member {
            stopped: true,
            ..live(1)
        }
        .unreachable());
    }

    #[test]
    fn new_addresses_fill_the_free_places_in_the_resolvers_order() {
        let c = decide(&[live(1)], &[a(1), a(2), a(3), a(4), a(5)], 4);
        assert_eq!(
            c,
            Change {
                retire: vec![],
                add: vec![a(2), a(3), a(4)]
            }
        );
        // Nothing polled yet (the name did not resolve at start): up to the limit.
        let c = decide(&[], &[a(1), a(2), a(3)], 2);
        assert_eq!(c.add, [a(1), a(2)]);
        // Repeated addresses count once.
        let c = decide(&[], &[a(1), a(1), a(2)], 4);
        assert_eq!(c.add, [a(1), a(2)]);
    }

    #[test]
    fn answering_members_stay_whatever_the_name_gives() {
        // pool.ntp.org gives other addresses at every query: the working ones are kept.
        let members = [live(1), live(2)];
        let c = decide(&members, &[a(7), a(8)], 2);
        assert!(c.is_empty(), "{c:?}");
        let c = decide(&members, &[], 2);
        assert!(c.is_empty());
    }

    #[test]
    fn unreachable_members_are_retired_when_gone_or_replaced() {
        // Gone from the name: retired, its place filled.
        let c = decide(&[live(1), dead(2)], &[a(1), a(3)], 2);
        assert_eq!(
            c,
            Change {
                retire: vec![a(2)],
                add: vec![a(3)]
            }
        );
        // Gone from the name and nothing new: retired all the same (a stale series).
        let c = decide(&[live(1), dead(2)], &[a(1)], 2);
        assert_eq!(
            c,
            Change {
                retire: vec![a(2)],
                add: vec![]
            }
        );
        // Still given by the name and no replacement: kept (its failures are the truth).
        let c = decide(&[live(1), dead(2)], &[a(1), a(2)], 2);
        assert!(c.is_empty(), "{c:?}");
        // Still given, and a new address: the new one replaces it.
        let c = decide(&[live(1), dead(2)], &[a(2), a(4), a(1)], 2);
        assert_eq!(
            c,
            Change {
                retire: vec![a(2)],
                add: vec![a(4)]
            }
        );
        // Two dead ones still given, one new address: the first-joined is replaced.
        let c = decide(&[dead(1), dead(2), live(3)], &[a(1), a(2), a(5)], 3);
        assert_eq!(
            c,
            Change {
                retire: vec![a(1)],
                add: vec![a(5)]
            }
        );
    }

    #[test]
    fn never_more_than_max_sources() {
        let members = [live(1), live(2), dead(3)];
        for resolved in [
            vec![a(4), a(5), a(6)],
            vec![a(3), a(4), a(5)],
            vec![a(1), a(2), a(3), a(4), a(5), a(6)],
        ] {
            let c = decide(&members, &resolved, 3);
            assert_eq!(
                members.len() - c.retire.len() + c.add.len(),
                3,
                "{resolved:?}: {c:?}"
            );
            assert_eq!(c.retire, [a(3)]);
        }
    }

    #[test]
    fn resolved_again_only_when_short_or_unreachable_and_not_too_often() {
        const S: i64 = 1_000_000_000;
        let poll = 64 * S;
        let mut t = PoolTrack::new("pool.example", 2, 0, poll, None);
        assert_eq!((t.resolutions, t.next_resolve_mono_ns), (1, 8 * poll));
        let full = [live(1), live(2)];
        let short = [live(1)];
        let with_dead = [live(1), dead(2)];
        assert!(!t.due(100 * poll, &full), "full and answering: never");
        assert!(!t.due(8 * poll - 1, &short), "at most every 8 polls");
        assert!(t.due(8 * poll, &short) && t.due(8 * poll, &with_dead));
        t.resolving = true;
        assert!(!t.due(9 * poll, &short), "one at a time");
        t.resolved(9 * poll, poll, None);
        assert!(!t.resolving && !t.due(16 * poll, &short) && t.due(17 * poll, &short));
        // A name that gives nothing is tried again at the next poll.
        let t = PoolTrack::new("pool.example", 4, 0, poll, Some("no address".into()));
        assert_eq!(t.next_resolve_mono_ns, poll);
        assert!(t.due(poll, &[]));
        assert_eq!(t.last_error.as_deref(), Some("no address"));
    }
}
