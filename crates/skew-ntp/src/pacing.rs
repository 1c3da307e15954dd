//! Sweep pacing without IO: how fast requests to many servers may leave, whatever their number.
//!
//! Two limits apply across all the servers of a run, on top of each server's own pacing
//! ([`crate::prober`]: one request in flight, one per interval):
//!
//! * [`RateLimit`]: at most `rate` requests per second (the zmap/masscan convention), with
//!   bursts of at most [`BURST_NS`] worth of the rate, so a sweep never leaves as one burst of
//!   thousands of datagrams (what a server's receive buffer, a cheap router or a firewall
//!   drops);
//! * [`Window`]: at most `limit` requests awaiting a reply, counting only requests sent less
//!   than `hold` ago. One server process answering many addresses sees at most `limit` of our
//!   requests queued in its socket even while it is not scheduled; a request to a dead address
//!   stops counting after `hold`, so dead targets delay the live ones by `hold`, not by the
//!   timeout. The exchange itself still waits for its reply until the timeout.
//!
//! Both are pure state machines over monotonic nanoseconds, driven by the engine.

use std::collections::VecDeque;

/// Requests per second across all servers unless told otherwise (`--rate`): chosen from
/// measurement (docs/benchmarks/scale.md).
pub const DEFAULT_RATE_PER_S: u32 = 50_000;
/// Requests awaiting a reply at once unless told otherwise (`--max-inflight`): half the 256
/// small datagrams a default Linux receive buffer (212,992 bytes) holds, so one server
/// process answering many addresses cannot overflow even while it is not running. A window
/// of the whole 256 left no slack: once a datagram is lost, a later answer releases its
/// place and the next request lands in a still full queue (measured: 16–77 of 10,000
/// dropped by one chronyd, up to 4 % of 100,000 by four; 0 with 128).
pub const DEFAULT_WINDOW: usize = 128;
/// How long an unanswered request counts against the window, ns: a request still unanswered
/// after this is presumed lost (a dead address) and no longer holds back the others.
pub const DEFAULT_HOLD_NS: i64 = 100_000_000;
/// The longest burst the rate limit allows, as time at the rate, ns (1 ms: 50 requests at
/// 50,000 per second).
pub const BURST_NS: i64 = 1_000_000;

/// A rate limit: the generic cell rate algorithm (GCRA, a token bucket without a timer),
/// exact in integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second; 0 means no limit.
    rate_per_s: u64,
    /// The theoretical arrival time of the next request, in ns × rate (so no rounding).
    tat_scaled: i128,
    /// Burst tolerance, in ns × rate.
    tolerance_scaled: i128,
}

impl RateLimit {
    /// At most `rate_per_s` requests per second (0: unlimited), bursts of up to
    /// `burst_ns` worth of the rate (at least one request).
    pub fn new(rate_per_s: u32, burst_ns: i64) -> RateLimit {
        let rate = u64::from(rate_per_s);
        // A burst of n requests needs a tolerance of (n − 1) emission intervals.
        let burst = (i128::from(burst_ns.max(0)) * i128::from(rate) / 1_000_000_000).max(1);
        RateLimit {
            rate_per_s: rate,
            tat_scaled: i128::MIN / 2,
            tolerance_scaled: (burst - 1) * 1_000_000_000,
        }
    }

    /// Whether a request may leave at `now_ns`.
    pub fn allows(&self, now_ns: i64) -> bool {
        self.rate_per_s == 0
            || i128::from(now_ns) * i128::from(self.rate_per_s)
                >= self.tat_scaled - self.tolerance_scaled
    }

    /// Records a request that left at `now_ns` (call only when [`RateLimit::allows`]).
    pub fn take(&mut self, now_ns: i64) {
        if self.rate_per_s == 0 {
            return;
        }
        let now = i128::from(now_ns) * i128::from(self.rate_per_s);
        self.tat_scaled = self.tat_scaled.max(now) + 1_000_000_000;
    }

    /// The earliest time at or after `now_ns` when a request may leave.
    pub fn next_allowed_ns(&self, now_ns: i64) -> i64 {
        if self.allows(now_ns) {
            return now_ns;
        }
        let rate = i128::from(self.rate_per_s);
        let at = self.tat_scaled - self.tolerance_scaled;
        // Ceiling division: the first ns whose scaled value reaches `at`.
        let ns = (at + rate - 1).div_euclid(rate);
        ns.clamp(i128::from(now_ns), i128::from(i64::MAX)) as i64
    }
}

/// The window of requests awaiting a reply, young ones only (see the module documentation).
///
/// A request stops counting when it is answered, `hold` after it was sent, or `settle` after
/// a request sent later than it was answered: a server that answers in order has then
/// skipped it (the request or its reply was lost, or its address is dead), as TCP's RACK
/// (RFC 8985) concludes from a later packet's acknowledgement. A server that stops
/// answering altogether answers nothing later either, so its requests keep counting for the
/// whole `hold`, and no more than `limit` of them can queue up in its socket.
///
/// Requests are identified by the sender's index `who` (a server) and a `key` (its nonce):
/// each server has at most one request counted at a time.
#[derive(Debug, Clone)]
pub struct Window {
    limit: usize,
    hold_ns: i64,
    settle_ns: i64,
    /// Requests counted now.
    young: usize,
    /// The last request of each sender: (key, sent at, still counted).
    last: Vec<Option<(u64, i64, bool)>>,
    /// Every counted request in the order sent: (sent at, who, key). Entries whose request
    /// stopped counting are skipped lazily.
    queue: VecDeque<(i64, usize, u64)>,
    /// Answers not yet settled: (when they settle, the answered request's send time).
    marks: VecDeque<(i64, i64)>,
    /// Requests sent before this were overtaken by a settled answer.
    overtaken_before_ns: i64,
}

/// How long after a later request's answer an earlier unanswered one stops counting, ns.
pub const DEFAULT_SETTLE_NS: i64 = 1_000_000;

impl Window {
    /// A window of `limit` requests (at least 1) for `senders` senders; a request stops
    /// counting `hold_ns` after it was sent, or `settle_ns` after a later one was answered.
    pub fn new(limit: usize, hold_ns: i64, settle_ns: i64, senders: usize) -> Window {
        Window {
            limit: limit.max(1),
            hold_ns: hold_ns.max(0),
            settle_ns: settle_ns.max(0),
            young: 0,
            last: vec![None; senders],
            queue: VecDeque::new(),
            marks: VecDeque::new(),
            overtaken_before_ns: i64::MIN,
        }
    }

    /// Requests counted now (after [`Window::expire`]).
    pub fn young(&self) -> usize {
        self.young
    }

    fn counts(&self, who: usize, key: u64) -> bool {
        matches!(self.last[who], Some((k, _, true)) if k == key)
    }

    fn uncount(&mut self, who: usize) {
        if let Some((_, _, counted)) = &mut self.last[who] {
            if *counted {
                *counted = false;
                self.young -= 1;
            }
        }
    }

    /// Stops counting requests sent `hold` or more before `now_ns`, and requests overtaken
    /// by an answer that settled by `now_ns`.
    pub fn expire(&mut self, now_ns: i64) {
        while let Some(&(at, sent)) = self.marks.front() {
            if at > now_ns {
                break;
            }
            self.marks.pop_front();
            self.overtaken_before_ns = self.overtaken_before_ns.max(sent);
        }
        while let Some(&(sent, who, key)) = self.queue.front() {
            if !self.counts(who, key) {
                self.queue.pop_front(); // no longer counted
                continue;
            }
            if now_ns.saturating_sub(sent) < self.hold_ns && sent >= self.overtaken_before_ns {
                break;
            }
            self.queue.pop_front();
            self.uncount(who);
        }
    }

    /// Whether another request may leave at `now_ns`.
    pub fn has_room(&mut self, now_ns: i64) -> bool {
        self.expire(now_ns);
        self.young < self.limit
    }

    /// When the window may next change by itself (the oldest counted request ages out, or an
    /// answer overtaking it settles), if it can.
    pub fn next_expiry_ns(&mut self) -> Option<i64> {
        while let Some(&(sent, who, key)) = self.queue.front() {
            if self.counts(who, key) {
                let aged = sent.saturating_add(self.hold_ns);
                let settles = self.marks.iter().find(|m| m.1 > sent).map_or(aged, |m| m.0);
                return Some(aged.min(settles));
            }
            self.queue.pop_front();
        }
        None
    }

    /// Counts the request `key` of `who`, sent at `now_ns` (replacing any earlier request of
    /// the same sender that still counted).
    pub fn sent(&mut self, who: usize, key: u64, now_ns: i64) {
        self.uncount(who);
        self.last[who] = Some((key, now_ns, true));
        self.young += 1;
        self.queue.push_back((now_ns, who, key));
    }

    /// Stops counting the request `key` of `who`: its exchange ended (a timeout, an error) or
    /// something answered for it (an ICMP error). Nothing happens if it no longer counts.
    pub fn ended(&mut self, who: usize, key: u64) {
        if self.counts(who, key) {
            self.uncount(who);
        }
    }

    /// The request `key` of `who` was answered at `now_ns`: it stops counting, and requests
    /// sent before it stop counting `settle` later. Works after [`Window::ended`] too.
    pub fn answered(&mut self, who: usize, key: u64, now_ns: i64) {
        let Some((k, sent, _)) = self.last[who] else {
            return;
        };
        if k != key {
            return;
        }
        self.uncount(who);
        if sent > self.marks.back().map_or(self.overtaken_before_ns, |m| m.1) {
            self.marks
                .push_back((now_ns.saturating_add(self.settle_ns), sent));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn rate_limit_paces_after_a_burst() {
        // 1,000 per second, bursts of 1 ms worth: one request, then one per ms.
        let mut r = RateLimit::new(1_000, BURST_NS);
        assert!(r.allows(0));
        r.take(0);
        assert!(!r.allows(MS - 1));
        assert_eq!(r.next_allowed_ns(0), MS);
        assert!(r.allows(MS));
        r.take(MS);
        // 50,000 per second, 1 ms bursts: 50 at once, then one per 20 µs.
        let mut r = RateLimit::new(50_000, BURST_NS);
        let mut n = 0;
        while r.allows(0) {
            r.take(0);
            n += 1;
        }
        assert_eq!(n, 50);
        assert_eq!(r.next_allowed_ns(0), 20_000);
        r.take(20_000);
        assert!(!r.allows(20_000));
        // Idle time does not bank more than the burst.
        let mut n = 0;
        while r.allows(10 * MS) {
            r.take(10 * MS);
            n += 1;
        }
        assert_eq!(n, 50);
    }

    #[test]
    fn rate_limit_counts_exactly_over_a_second() {
        // A rate that does not divide 10^9: 7 per second, no burst: 7 leave in [0, 1 s).
        let mut r = RateLimit::new(7, 0);
        let mut now = 0;
        let mut sent = 0;
        while now < 1_000_000_000 {
            now = r.next_allowed_ns(now);
            if now >= 1_000_000_000 {
                break;
            }
            r.take(now);
            sent += 1;
        }
        assert_eq!(sent, 7);
        let unlimited = RateLimit::new(0, BURST_NS);
        assert!(unlimited.allows(i64::MIN));
        assert_eq!(unlimited.next_allowed_ns(5), 5);
    }

    #[test]
    fn window_counts_young_unanswered_requests() {
        let mut w = Window::new(2, 100 * MS, 0, 4);
        assert!(w.has_room(0));
        w.sent(0, 10, 0);
        w.sent(1, 11, MS);
        assert!(!w.has_room(2 * MS));
        // A reply frees a place at once.
        w.ended(1, 11);
        assert!(w.has_room(2 * MS));
        w.sent(2, 12, 3 * MS);
        assert!(!w.has_room(50 * MS));
        // Stale keys are ignored.
        w.ended(2, 99);
        assert!(!w.has_room(50 * MS));
        // The dead request of sender 0 stops counting 100 ms after it left.
        assert_eq!(w.next_expiry_ns(), Some(100 * MS));
        assert!(!w.has_room(100 * MS - 1));
        assert!(w.has_room(100 * MS));
        assert_eq!(w.young(), 1);
        // Ending it after it stopped counting changes nothing.
        w.ended(0, 10);
        assert_eq!(w.young(), 1);
        assert_eq!(w.next_expiry_ns(), Some(103 * MS));
        w.ended(2, 12);
        assert_eq!(w.next_expiry_ns(), None);
        assert_eq!(w.young(), 0);
    }

    #[test]
    fn a_later_answer_releases_earlier_requests_after_settling() {
        // Dead addresses 0 and 1, then live 2: once 2 is answered and 1 ms has passed, 0 and
        // 1 no longer hold back anyone.
        let mut w = Window::new(3, 100 * MS, MS, 4);
        w.sent(0, 10, 0);
        w.sent(1, 11, 10);
        w.sent(2, 12, 20);
        assert!(!w.has_room(30));
        w.answered(2, 12, 50);
        assert_eq!(w.young(), 2);
        assert_eq!(w.next_expiry_ns(), Some(50 + MS));
        assert!(w.has_room(50));
        w.sent(3, 13, 60); // sent after the answered one: not overtaken by it
        assert!(!w.has_room(MS + 49));
        assert!(w.has_room(MS + 50));
        assert_eq!(w.young(), 1);
        // A server that answers nothing releases nothing before `hold`.
        assert_eq!(w.next_expiry_ns(), Some(60 + 100 * MS));
        // An answer for an ended exchange still marks (ended first, then answered).
        let mut w = Window::new(3, 100 * MS, MS, 2);
        w.sent(0, 1, 0);
        w.sent(1, 2, 5);
        w.ended(1, 2);
        w.answered(1, 2, 7);
        w.expire(7 + MS);
        assert_eq!(w.young(), 0);
        // Stale answers change nothing.
        w.answered(0, 99, 8);
        w.answered(1, 1, 8);
    }

    #[test]
    fn a_sender_counts_once() {
        let mut w = Window::new(8, 100 * MS, 0, 1);
        w.sent(0, 1, 0);
        w.sent(0, 2, MS); // the first one's exchange ended without a word
        assert_eq!(w.young(), 1);
        w.expire(100 * MS); // the old entry is skipped, the new one still counts
        assert_eq!(w.young(), 1);
        w.expire(101 * MS);
        assert_eq!(w.young(), 0);
    }

    proptest::proptest! {
        /// Whatever the order of sends, answers, ends and time, `young` is exactly the number
        /// of requests (one per sender at most) sent less than `hold` ago, not ended, not
        /// answered, and not overtaken by an answer to a later request settled by now.
        #[test]
        fn window_books_match_a_recount(
            events in proptest::collection::vec((0u8..4, 0usize..6, 0i64..30), 0..200),
        ) {
            let (hold, settle) = (50, 7);
            let mut w = Window::new(1000, hold, settle, 6);
            let mut now = 0i64;
            let mut key = 0u64;
            // Model: per sender, the counted (key, sent at); answers as (at, sent).
            let mut model: Vec<Option<(u64, i64)>> = vec![None; 6];
            let mut last: Vec<Option<(u64, i64)>> = vec![None; 6];
            let mut answers: Vec<(i64, i64)> = vec![];
            for (kind, who, dt) in events {
                now += dt;
                match kind {
                    0 => {
                        key += 1;
                        w.sent(who, key, now);
                        model[who] = Some((key, now));
                        last[who] = Some((key, now));
                    }
                    1 => {
                        if let Some((k, _)) = model[who] {
                            w.ended(who, k);
                            model[who] = None;
                        }
                    }
                    2 => {
                        // An answer to the sender's last request, counted or not.
                        if let Some((k, sent)) = last[who] {
                            w.answered(who, k, now);
                            model[who] = None;
                            answers.push((now + settle, sent));
                        }
                    }
                    _ => w.ended(who, key + 1000),
                }
                w.expire(now);
                for m in model.iter_mut() {
                    if let Some((_, t)) = *m {
                        let overtaken = answers.iter().any(|&(at, sent)| at <= now && sent > t);
                        if now - t >= hold || overtaken {
                            *m = None;
                        }
                    }
                }
                let expect = model.iter().filter(|m| m.is_some()).count();
                proptest::prop_assert_eq!(w.young(), expect);
            }
        }
    }
}
