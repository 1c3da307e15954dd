//! One NTS server's session kept across polls, without IO: when to run a key exchange, how
//! long to wait after unproductive ones, and what the polls did to the session.
//!
//! A long-running client (`skew exporter`) polls a server once per poll for days. It runs one
//! key exchange at the start and then lives on the cookies each authentic reply brings back.
//! A new key exchange is wanted ([`Trigger`]) when
//!
//! * the server sent an NTS NAK (it can no longer read our cookies: its keys changed) —
//!   the session is dropped;
//! * the cookie jar is empty (replies that would have refilled it were lost) — dropped;
//! * [`KeeperPolicy::failed_polls`] polls in a row got no authentic reply (half the jar: a
//!   new exchange starts while cookies remain, and the session stays in use until one
//!   succeeds);
//! * the session is [`KeeperPolicy::refresh_ns`] old: the certificate is checked again
//!   (its end date is what operators alert on) and the keys renewed; a failed refresh
//!   keeps the working session.
//!
//! Key exchanges back off as chrony's client does: every key exchange since the last one
//! whose session got an authentic reply counts, and the next may start only
//! `backoff_first_ns × 2^(k−1)` (at most `backoff_max_ns`) after the previous one. A key
//! exchange server that is down, or one whose sessions the NTP server keeps refusing, is
//! thus asked less and less often, never once per poll; a working session resets the count.
//! The keeper never falls back to plain NTP: without a session, a poll sends nothing.

use crate::nts::report::KeFacts;
use crate::nts::session::{NtsSession, SessionCounts};
use crate::result::Status;
use std::collections::BTreeMap;

const NS_PER_S: i64 = 1_000_000_000;

/// Default time between key exchanges of a working session: 6 hours. The certificate's end
/// date (what `--crit-cert-days` style alerts use, in days) is then never more than a
/// quarter of a day old, a renewed or broken key exchange server shows within hours, and
/// the cost is four TLS handshakes a day per server — next to 1,350 NTP polls a day at the
/// default 64 s poll. (chrony's `ntsrefresh` default is 4 weeks; a client that only needs
/// keys can wait that long, a monitor of the server's health cannot.)
pub const DEFAULT_REFRESH_NS: i64 = 6 * 3600 * NS_PER_S;
/// Polls in a row without an authentic reply before a new key exchange: half of the 8
/// cookies, so the exchange starts while the session can still be used.
pub const DEFAULT_FAILED_POLLS: u32 = 4;
/// Longest wait between two unproductive key exchanges: an hour (chrony's client waits up
/// to 2¹⁹ s; a monitor should notice a repaired server sooner).
pub const DEFAULT_MAX_BACKOFF_NS: i64 = 3600 * NS_PER_S;

/// When to run key exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeeperPolicy {
    /// A working session is renewed by a key exchange this long after its own, ns.
    pub refresh_ns: i64,
    /// Polls in a row without an authentic reply before a new key exchange.
    pub failed_polls: u32,
    /// Wait after the first unproductive key exchange, ns (doubled after each further one).
    pub backoff_first_ns: i64,
    /// Longest wait between key exchanges, ns.
    pub backoff_max_ns: i64,
}

impl KeeperPolicy {
    /// The policy for a server polled every `poll_ns`: key exchanges happen at polls, so the
    /// back-off starts at one poll and ends at an hour (or the poll, if longer).
    pub fn for_poll(poll_ns: i64, refresh_ns: i64) -> KeeperPolicy {
        KeeperPolicy {
            refresh_ns: refresh_ns.max(1),
            failed_polls: DEFAULT_FAILED_POLLS,
            backoff_first_ns: poll_ns.max(1),
            backoff_max_ns: DEFAULT_MAX_BACKOFF_NS.max(poll_ns),
        }
    }

    /// The wait before a key exchange when `k` key exchanges were made since the last
    /// productive one: 0, first, 2 × first, 4 × first... at most the maximum.
    pub fn backoff_ns(&self, k: u32) -> i64 {
        match k {
            0 => 0,
            k if k > 62 => self.backoff_max_ns,
            k => self
                .backoff_first_ns
                .saturating_mul(1i64 << (k - 1))
                .min(self.backoff_max_ns),
        }
    }
}

/// Why a key exchange is wanted. Ordered by urgency: when several apply, the first is
/// reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trigger {
    /// No session yet.
    Start,
    /// The server sent an NTS NAK.
    Nak,
    /// Every cookie was spent.
    Cookies,
    /// Polls in a row got no authentic reply.
    Failures,
    /// The session is due for renewal.
    Refresh,
}

impl Trigger {
    /// The label value: `start`, `nak`, `cookies`, `failures`, `refresh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Start => "start",
            Trigger::Nak => "nak",
            Trigger::Cookies => "cookies",
            Trigger::Failures => "failures",
            Trigger::Refresh => "refresh",
        }
    }
}

/// A failed key exchange, as the edge saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeFailureNote {
    /// The step that failed (`tcp`, `tls`, `certificate`, `alpn`, `protocol`, `timeout`, or
    /// `unresolved` when the NTP server it named has no address).
    pub step: &'static str,
    /// The message, for people.
    pub message: String,
    /// What was learned before it failed.
    pub facts: Box<KeFacts>,
}

/// What a key exchange gave.
#[derive(Debug, Clone)]
pub enum KeOutcome {
    /// A session, ready for polls.
    Established(Box<NtsSession>),
    /// Nothing usable.
    Failed(KeFailureNote),
}

/// What the keeper counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeeperCounts {
    /// Key exchanges run (successful or not), by trigger.
    pub key_exchanges: BTreeMap<&'static str, u64>,
    /// Failed key exchanges, by the step that failed.
    pub failures: BTreeMap<&'static str, u64>,
    /// NTS NAKs received.
    pub naks: u64,
    /// Replies dropped because they did not authenticate.
    pub unauthenticated: u64,
}

/// One NTS server's session and key-exchange schedule.
#[derive(Debug, Clone)]
pub struct Keeper {
    policy: KeeperPolicy,
    session: Option<NtsSession>,
    /// When the session's key exchange ran, monotonic ns.
    session_since_mono_ns: i64,
    /// The session has had no authentic reply yet.
    fresh: bool,
    wanted: Option<Trigger>,
    /// Key exchanges since the last one whose session got an authentic reply.
    unproductive: u32,
    last_attempt_mono_ns: Option<i64>,
    failed_polls: u32,
    last_failure: Option<KeFailureNote>,
    last_ok: Option<bool>,
    last_success_unix_ns: Option<i64>,
    /// What the last key exchange (or the session in use) told about the server.
    facts: KeFacts,
    counts: KeeperCounts,
}

impl Keeper {
    /// A keeper that wants its first key exchange now. `facts` names the key exchange
    /// server for reports made before any exchange.
    pub fn new(policy: KeeperPolicy, facts: KeFacts) -> Keeper {
        Keeper {
            policy,
            session: None,
            session_since_mono_ns: 0,
            fresh: false,
            wanted: Some(Trigger::Start),
            unproductive: 0,
            last_attempt_mono_ns: None,
            failed_polls: 0,
            last_failure: None,
            last_ok: None,
            last_success_unix_ns: None,
            facts,
            counts: KeeperCounts::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &KeeperPolicy {
        &self.policy
    }

    /// The session to poll with, if there is one.
    pub fn session(&self) -> Option<&NtsSession> {
        self.session.as_ref()
    }

    /// What the key exchange server said last (the session's exchange, or the last failed
    /// one when there is no session).
    pub fn facts(&self) -> &KeFacts {
        &self.facts
    }

    /// The counts so far.
    pub fn counts(&self) -> &KeeperCounts {
        &self.counts
    }

    /// Whether the last key exchange succeeded (None before the first).
    pub fn last_ok(&self) -> Option<bool> {
        self.last_ok
    }

    /// When the last successful key exchange ran, Unix ns.
    pub fn last_success_unix_ns(&self) -> Option<i64> {
        self.last_success_unix_ns
    }

    /// The last failed key exchange, if any.
    pub fn last_failure(&self) -> Option<&KeFailureNote> {
        self.last_failure.as_ref()
    }

    /// Cookies in the session's jar (None without a session).
    pub fn cookies_held(&self) -> Option<usize> {
        self.session.as_ref().map(NtsSession::cookies)
    }

    /// The key exchange wanted, whether or not the back-off allows it yet.
    pub fn wanted(&self) -> Option<Trigger> {
        self.wanted
    }

    fn want(&mut self, t: Trigger) {
        self.wanted = Some(self.wanted.map_or(t, |w| w.min(t)));
    }

    /// When the next key exchange may start, monotonic ns (None when none is wanted).
    pub fn next_attempt_mono_ns(&self) -> Option<i64> {
        self.wanted?;
        Some(self.last_attempt_mono_ns.map_or(i64::MIN, |t| {
            t.saturating_add(self.policy.backoff_ns(self.unproductive))
        }))
    }

    /// At a poll at `now_mono_ns`: the key exchange to run before it, if one is wanted and
    /// the back-off allows it (a session old enough for renewal wants one from now on).
    pub fn key_exchange_due(&mut self, now_mono_ns: i64) -> Option<Trigger> {
        if self.session.is_some()
            && now_mono_ns.saturating_sub(self.session_since_mono_ns) >= self.policy.refresh_ns
        {
            self.want(Trigger::Refresh);
        }
        let t = self.wanted?;
        (self.next_attempt_mono_ns()? <= now_mono_ns).then_some(t)
    }

    /// Records the key exchange run for `trigger` at `now_mono_ns` / `now_unix_ns`: a new
    /// session replaces the old one; a failure keeps the old one (if any) in use and the
    /// exchange wanted, after the back-off.
    pub fn ke_done(
        &mut self,
        trigger: Trigger,
        outcome: KeOutcome,
        now_mono_ns: i64,
        now_unix_ns: i64,
    ) {
        *self
            .counts
            .key_exchanges
            .entry(trigger.as_str())
            .or_insert(0) += 1;
        self.unproductive = self.unproductive.saturating_add(1);
        self.last_attempt_mono_ns = Some(now_mono_ns);
        match outcome {
            KeOutcome::Established(session) => {
                self.facts = session.facts().clone();
                self.session = Some(*session);
                self.session_since_mono_ns = now_mono_ns;
                self.fresh = true;
                self.wanted = None;
                self.failed_polls = 0;
                self.last_ok = Some(true);
                self.last_success_unix_ns = Some(now_unix_ns);
            }
            KeOutcome::Failed(note) => {
                *self.counts.failures.entry(note.step).or_insert(0) += 1;
                self.want(trigger);
                self.last_ok = Some(false);
                if self.session.is_none() {
                    self.facts = (*note.facts).clone();
                }
                self.last_failure = Some(note);
            }
        }
    }

    /// Takes the session back from a poll (`returned`: the keeper's session after the
    /// engine used it) with the replies it dropped as unauthenticated: an authentic reply
    /// resets the failed polls (and, the first time for this session, the back-off); a
    /// NAK or an empty jar drops the session; too many failed polls want a key exchange.
    pub fn after_poll(&mut self, returned: NtsSession, dropped_unauthenticated: u64) {
        let before: SessionCounts = self
            .session
            .as_ref()
            .map(NtsSession::counts)
            .unwrap_or_default();
        let after = returned.counts();
        let authenticated = after.authenticated > before.authenticated;
        let naks = after.naks.saturating_sub(before.naks);
        self.counts.naks += naks;
        self.counts.unauthenticated += dropped_unauthenticated;
        if authenticated {
            self.failed_polls = 0;
            if self.fresh {
                self.fresh = false;
                self.unproductive = 0;
            }
        } else {
            self.failed_polls = self.failed_polls.saturating_add(1);
        }
        if naks > 0 && !authenticated {
            self.session = None;
            self.want(Trigger::Nak);
        } else if returned.cookies() == 0 {
            self.session = None;
            self.want(Trigger::Cookies);
        } else {
            self.session = Some(returned);
            if self.failed_polls >= self.policy.failed_polls {
                self.want(Trigger::Failures);
            }
        }
    }

    /// For a poll that cannot be made (no session, the next key exchange not yet allowed):
    /// its status and message.
    pub fn no_session(&self, now_mono_ns: i64) -> (Status, String) {
        let next = match self.next_attempt_mono_ns() {
            Some(t) if t > now_mono_ns => format!(
                "; next key exchange in {:.0} s",
                ((t - now_mono_ns) as f64 / 1e9).ceil()
            ),
            _ => String::new(),
        };
        match (self.last_ok, &self.last_failure, self.wanted) {
            (Some(false), Some(f), _) => (Status::NtsKeFailed, format!("{}{next}", f.message)),
            (_, _, Some(Trigger::Nak)) => (
                Status::NtsNak,
                format!("no NTS session: the server sent an NTS NAK for the last one{next}"),
            ),
            _ => (
                Status::Timeout,
                format!("no NTS session: its cookies ran out without an authentic reply{next}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nts::aead::Aead;
    use crate::nts::ef::{fields, MIN_FIELD_LEN, UNIQUE_IDENTIFIER};
    use crate::nts::packet::{seal_reply, NAK_CODE};
    use crate::nts::session::{NtsKeys, RequestEntropy};
    use crate::packet::Packet;

    const S: i64 = NS_PER_S;
    const POLL: i64 = 64 * S;

    fn keys() -> NtsKeys {
        NtsKeys {
            aead: Aead::AesSivCmac256,
            c2s: vec![1; 32],
            s2c: vec![2; 32],
        }
    }

    fn session(cookies: usize) -> NtsSession {
        NtsSession::new(
            keys(),
            (0..cookies).map(|i| vec![i as u8; 100]).collect(),
            KeFacts {
                ke_server: "ke".into(),
                cookies,
                ..KeFacts::default()
            },
        )
    }

    fn keeper() -> Keeper {
        Keeper::new(
            KeeperPolicy::for_poll(POLL, DEFAULT_REFRESH_NS),
            KeFacts::default(),
        )
    }

    fn fail(step: &'static str) -> KeOutcome {
        KeOutcome::Failed(KeFailureNote {
            step,
            message: format!("NTS key exchange failed ({step}): no"),
            facts: Box::default(),
        })
    }

    /// What the server does with one request.
    enum Server {
        /// An authentic reply carrying as many cookies as were asked for.
        Answers,
        /// Nothing comes back.
        Silent,
        /// An NTS NAK.
        Naks,
    }

    /// One poll with the keeper's session, the way the engine makes it.
    fn poll(k: &mut Keeper, server: Server, n: u64) {
        let mut s = k.session().cloned().expect("a session to poll with");
        let header = Packet::client_request(n).encode();
        let req = s
            .request(&header, n, &RequestEntropy::from_bytes([n as u8; 48]))
            .unwrap();
        let uid = fields(&req[48..], MIN_FIELD_LEN)
            .map(|f| f.unwrap())
            .find(|f| f.field_type == UNIQUE_IDENTIFIER)
            .unwrap()
            .value
            .to_vec();
        match server {
            Server::Answers => {
                let want = 8 - s.cookies();
                let mut h = header;
                h[0] = 0x24;
                h[24..32].copy_from_slice(&n.to_be_bytes());
                let new: Vec<Vec<u8>> = (0..want).map(|i| vec![0xa0 + i as u8; 100]).collect();
                let reply =
                    seal_reply(&h, &uid, &new, Aead::AesSivCmac256, &[2; 32], &[9; 16]).unwrap();
                assert!(matches!(
                    s.check_reply(&reply, n),
                    crate::nts::ReplyAuth::Authenticated { .. }
                ));
            }
            Server::Silent => {}
            Server::Naks => {
                let mut nak = req[..84].to_vec();
                nak[0] = 0x24;
                nak[1] = 0;
                nak[12..16].copy_from_slice(&NAK_CODE);
                nak[24..32].copy_from_slice(&n.to_be_bytes());
                assert_eq!(s.check_reply(&nak, n), crate::nts::ReplyAuth::Nak);
            }
        }
        k.after_poll(s, 0);
    }

    #[test]
    fn one_key_exchange_lives_on_refilled_cookies() {
        let mut k = keeper();
        assert_eq!(k.key_exchange_due(0), Some(Trigger::Start));
        assert!(k.session().is_none());
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            0,
            7,
        );
        assert_eq!(k.last_success_unix_ns(), Some(7));
        // 100 polls (12 × the jar) on one key exchange: every reply refills what it spent.
        for n in 1..=100u64 {
            let now = n as i64 * POLL;
            assert_eq!(k.key_exchange_due(now), None, "poll {n}");
            poll(&mut k, Server::Answers, n);
            assert_eq!(k.cookies_held(), Some(8));
        }
        assert_eq!(k.counts().key_exchanges.get("start"), Some(&1));
        assert_eq!(k.counts().key_exchanges.len(), 1);
        assert_eq!(k.last_ok(), Some(true));
    }

    #[test]
    fn refresh_renews_a_working_session_and_keeps_it_when_that_fails() {
        let mut k = keeper();
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            0,
            0,
        );
        poll(&mut k, Server::Answers, 1);
        let r = DEFAULT_REFRESH_NS;
        assert_eq!(k.key_exchange_due(r - 1), None);
        assert_eq!(k.key_exchange_due(r), Some(Trigger::Refresh));
        // The refresh fails: the old session stays in use, and is still good.
        k.ke_done(Trigger::Refresh, fail("tcp"), r, r);
        assert!(k.session().is_some());
        poll(&mut k, Server::Answers, 2);
        assert_eq!(k.last_ok(), Some(false));
        assert_eq!(k.counts().failures.get("tcp"), Some(&1));
        // Authentic replies on the old session do not reset the back-off of the refresh:
        // the failing key exchange server is asked after 1, 2, 4... polls, not every poll.
        assert_eq!(k.key_exchange_due(r + POLL - 1), None);
        assert_eq!(k.key_exchange_due(r + POLL), Some(Trigger::Refresh));
        k.ke_done(Trigger::Refresh, fail("tcp"), r + POLL, 0);
        poll(&mut k, Server::Answers, 3);
        assert_eq!(k.key_exchange_due(r + 2 * POLL), None);
        assert_eq!(k.key_exchange_due(r + 3 * POLL), Some(Trigger::Refresh));
        // It works again: a new session, the old one replaced, nothing more wanted until
        // the next refresh.
        let t = r + 3 * POLL;
        k.ke_done(
            Trigger::Refresh,
            KeOutcome::Established(Box::new(session(8))),
            t,
            0,
        );
        poll(&mut k, Server::Answers, 4);
        assert_eq!(k.wanted(), None);
        assert_eq!(k.key_exchange_due(t + r - 1), None);
        assert_eq!(k.key_exchange_due(t + r), Some(Trigger::Refresh));
        assert_eq!(k.counts().key_exchanges.get("refresh"), Some(&3));
    }

    #[test]
    fn a_nak_drops_the_session_and_a_new_exchange_recovers() {
        let mut k = keeper();
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            0,
            0,
        );
        poll(&mut k, Server::Answers, 1);
        // The server restarted with new keys: the next request's cookie gets a NAK.
        poll(&mut k, Server::Naks, 2);
        assert!(k.session().is_none());
        assert_eq!(k.counts().naks, 1);
        let (status, why) = k.no_session(2 * POLL);
        assert_eq!(status, Status::NtsNak, "{why}");
        // The session had worked: no back-off, the next poll re-keys.
        assert_eq!(k.key_exchange_due(2 * POLL), Some(Trigger::Nak));
        k.ke_done(
            Trigger::Nak,
            KeOutcome::Established(Box::new(session(8))),
            2 * POLL,
            0,
        );
        poll(&mut k, Server::Answers, 3);
        assert_eq!(k.wanted(), None);
        assert_eq!(k.counts().key_exchanges.get("nak"), Some(&1));
    }

    #[test]
    fn sessions_the_server_keeps_refusing_back_off() {
        // The key exchange works but the NTP server NAKs every session (its keys differ):
        // a key exchange after 1, 2, 4, 8... polls, never every poll.
        let mut k = keeper();
        let mut exchanges = vec![];
        for p in 0..200i64 {
            let now = p * POLL;
            if let Some(t) = k.key_exchange_due(now) {
                exchanges.push(p);
                k.ke_done(t, KeOutcome::Established(Box::new(session(8))), now, 0);
            }
            if k.session().is_some() {
                poll(&mut k, Server::Naks, p as u64);
            }
        }
        assert_eq!(&exchanges[..7], &[0, 1, 3, 7, 15, 31, 63], "{exchanges:?}");
        // Capped at an hour (56.25 polls of 64 s): 63, then every 57 polls.
        assert_eq!(&exchanges[7..], &[120, 177], "{exchanges:?}");
    }

    #[test]
    fn a_dead_key_exchange_server_is_asked_less_and_less() {
        let mut k = keeper();
        let mut tries = vec![];
        for p in 0..100i64 {
            let now = p * POLL;
            match k.key_exchange_due(now) {
                Some(t) => {
                    tries.push(p);
                    k.ke_done(t, fail("tcp"), now, 0);
                }
                None => {
                    let (status, why) = k.no_session(now);
                    assert_eq!(status, Status::NtsKeFailed);
                    assert!(why.contains("(tcp)") && why.contains("next key exchange in"));
                }
            }
        }
        assert_eq!(tries, vec![0, 1, 3, 7, 15, 31, 63], "{tries:?}");
        assert_eq!(k.counts().failures.get("tcp"), Some(&7));
        assert_eq!(k.counts().key_exchanges.get("start"), Some(&7));
        // It comes back: the session works, the back-off is forgotten.
        let t = 63 * POLL + k.policy().backoff_ns(7);
        assert_eq!(k.next_attempt_mono_ns(), Some(t));
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            t,
            0,
        );
        poll(&mut k, Server::Answers, 1);
        poll(&mut k, Server::Naks, 2);
        assert_eq!(k.key_exchange_due(t), Some(Trigger::Nak));
    }

    #[test]
    fn failed_polls_want_a_new_exchange_while_cookies_remain() {
        let mut k = keeper();
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            0,
            0,
        );
        poll(&mut k, Server::Answers, 1);
        for n in 2..=4 {
            poll(&mut k, Server::Silent, n);
            assert_eq!(k.wanted(), None);
        }
        poll(&mut k, Server::Silent, 5);
        assert_eq!(k.wanted(), Some(Trigger::Failures));
        assert_eq!(k.cookies_held(), Some(4));
        // The exchange fails: the session is still used, and polls go on spending it.
        k.ke_done(Trigger::Failures, fail("timeout"), 5 * POLL, 0);
        for n in 6..=9 {
            poll(&mut k, Server::Silent, n);
        }
        // The jar is empty: the session is dropped; the more urgent reason is reported.
        assert!(k.session().is_none());
        assert_eq!(k.wanted(), Some(Trigger::Cookies));
        let (status, _) = k.no_session(9 * POLL);
        assert_eq!(status, Status::NtsKeFailed);
    }

    #[test]
    fn an_empty_jar_without_any_failed_exchange_is_a_timeout() {
        let mut k = keeper();
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(2))),
            0,
            0,
        );
        poll(&mut k, Server::Silent, 1);
        poll(&mut k, Server::Silent, 2);
        assert!(k.session().is_none());
        assert_eq!(k.wanted(), Some(Trigger::Cookies));
        let (status, why) = k.no_session(2 * POLL);
        assert_eq!(status, Status::Timeout, "{why}");
        assert!(why.contains("cookies ran out"), "{why}");
        // This session never got an authentic reply: the next exchange waits a poll.
        assert_eq!(k.next_attempt_mono_ns(), Some(POLL));
    }

    #[test]
    fn counts_unauthenticated_replies() {
        let mut k = keeper();
        k.ke_done(
            Trigger::Start,
            KeOutcome::Established(Box::new(session(8))),
            0,
            0,
        );
        let s = k.session().cloned().unwrap();
        k.after_poll(s, 3);
        assert_eq!(k.counts().unauthenticated, 3);
        assert_eq!(k.facts().ke_server, "ke");
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let p = KeeperPolicy::for_poll(S, DEFAULT_REFRESH_NS);
        let waits: Vec<i64> = (0..5).map(|k| p.backoff_ns(k) / S).collect();
        assert_eq!(waits, vec![0, 1, 2, 4, 8]);
        assert_eq!(p.backoff_ns(13), DEFAULT_MAX_BACKOFF_NS);
        assert_eq!(p.backoff_ns(u32::MAX), DEFAULT_MAX_BACKOFF_NS);
        let slow = KeeperPolicy::for_poll(2 * 3600 * S, DEFAULT_REFRESH_NS);
        assert_eq!(slow.backoff_ns(1), 2 * 3600 * S, "never less than a poll");
        assert_eq!(slow.backoff_ns(5), 2 * 3600 * S);
    }
}
