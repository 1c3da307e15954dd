//! One server's continuous polling, without IO: when it is due, what each poll's result does
//! to it (reachability register, window of samples, RATE back-off, DENY/RSTR stop), and the
//! figures of its window (sourcestats, Allan deviation).
//!
//! Polls of all servers sit on one grid (start + k·poll), so servers due together are probed
//! in one engine run; a RATE kiss doubles a server's poll, which keeps it on the grid.

use skew_ntp::nts::keeper::Keeper;
use skew_ntp::packet::KissCode;
use skew_ntp::{ProbeRecord, ServerResult, Status};
use skew_sourcestats::{
    adev_octaves, phase_grid, sourcestats, AdevPoint, SourceStats, StatsConfig,
};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

/// A measured sample in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSample {
    /// When it was taken, monotonic ns.
    pub mono_ns: i64,
    /// When it was taken, Unix ns.
    pub unix_ns: i64,
    /// Offset, server − local, ns.
    pub offset_ns: i64,
    /// Half-width of its hard bound, ns.
    pub half_width_ns: i64,
}

/// When a poll was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollTimes {
    /// The grid time it was due at, monotonic ns.
    pub due_mono_ns: i64,
    /// When the engine run started, monotonic ns.
    pub start_mono_ns: i64,
    /// When the engine run started, Unix ns.
    pub start_unix_ns: i64,
}

/// One server (one address) being polled.
#[derive(Debug, Clone)]
pub struct ServerState {
    /// The server as given.
    pub server: String,
    /// The address polled (None until the name resolves).
    pub address: Option<SocketAddr>,
    /// The configured poll, ns.
    pub base_poll_ns: i64,
    /// The current poll, ns (doubled by each RATE kiss, up to the maximum).
    pub poll_ns: i64,
    /// The longest poll, ns.
    pub max_poll_ns: i64,
    /// The next grid time the server is due, monotonic ns.
    pub next_due_mono_ns: i64,
    /// A poll is under way.
    pub in_flight: bool,
    /// chrony's reachability register: bit 0 is the last poll.
    pub reach: u8,
    /// Why the server is no longer polled (DENY, RSTR, a refused address).
    pub stopped: Option<String>,
    /// Polls made.
    pub polls: u64,
    /// Polls that did not measure, by status.
    pub errors: BTreeMap<&'static str, u64>,
    /// The last poll's result.
    pub last: Option<ServerResult>,
    /// When the last poll was made.
    pub last_poll: Option<PollTimes>,
    /// How long the last poll's exchange took (reply or timeout), ns.
    pub last_duration_ns: Option<i64>,
    /// NTS servers: the session kept across polls and its key exchanges.
    pub nts: Option<Keeper>,
    window: VecDeque<WindowSample>,
    capacity: usize,
}

impl ServerState {
    /// A server due at `start_mono_ns`.
    pub fn new(
        server: &str,
        address: Option<SocketAddr>,
        poll_ns: i64,
        max_poll_ns: i64,
        window: usize,
        start_mono_ns: i64,
    ) -> Self {
        ServerState {
            server: server.to_string(),
            address,
            base_poll_ns: poll_ns,
            poll_ns,
            max_poll_ns: max_poll_ns.max(poll_ns),
            next_due_mono_ns: start_mono_ns,
            in_flight: false,
            reach: 0,
            stopped: None,
            polls: 0,
            errors: BTreeMap::new(),
            last: None,
            last_poll: None,
            last_duration_ns: None,
            nts: None,
            window: VecDeque::with_capacity(window),
            capacity: window.max(1),
        }
    }

    /// The same server polled with NTS, its session kept by `keeper`.
    pub fn with_nts(mut self, keeper: Keeper) -> Self {
        self.nts = Some(keeper);
        self
    }

    /// Sets the address polled. A different address than before (an NTS key exchange
    /// naming another NTP server) empties the window: statistics over two servers mean
    /// nothing.
    pub fn set_address(&mut self, address: SocketAddr) {
        if self.address.is_some_and(|a| a != address) {
            self.window.clear();
        }
        self.address = Some(address);
    }

    /// Whether a poll should start now.
    pub fn due(&self, now_mono_ns: i64) -> bool {
        !self.in_flight && self.stopped.is_none() && self.next_due_mono_ns <= now_mono_ns
    }

    /// Marks the poll due at `due_mono_ns` as started.
    pub fn start_poll(&mut self) {
        self.in_flight = true;
    }

    /// The samples held, oldest first.
    pub fn window(&self) -> &VecDeque<WindowSample> {
        &self.window
    }

    /// Applies a poll's result.
    pub fn apply(&mut self, result: ServerResult, times: PollTimes, timeout_ns: i64) {
        self.in_flight = false;
        self.polls += 1;
        let answered = matches!(result.status, Status::Ok | Status::Unsynchronized);
        self.reach = (self.reach << 1) | u8::from(answered);
        if result.status != Status::Ok {
            *self.errors.entry(result.status.as_str()).or_insert(0) += 1;
        }
        if let (Status::Ok, Some(s)) = (result.status, result.summary) {
            let sample = result.samples[s.best].sample;
            let mid = sample.local_midpoint_ns();
            let since = (mid - times.start_unix_ns).clamp(0, timeout_ns.max(0) * 2);
            if self.window.len() == self.capacity {
                self.window.pop_front();
            }
            self.window.push_back(WindowSample {
                mono_ns: times.start_mono_ns + since,
                unix_ns: mid,
                offset_ns: s.offset_ns,
                half_width_ns: (s.bound.width_ns() / 2).max(1),
            });
        }
        self.last_duration_ns = match result.samples.last() {
            Some(r) => Some(r.sample.local_span_ns()),
            None if result.counters.timeouts > 0 => Some(timeout_ns),
            None => None,
        };
        match &result.kiss_code {
            Some(KissCode::Rate) => {
                self.poll_ns = self.poll_ns.saturating_mul(2).min(self.max_poll_ns);
            }
            Some(code @ (KissCode::Deny | KissCode::Rstr)) => {
                self.stopped = Some(format!(
                    "the server sent Kiss-o'-Death {code}: no more polls (RFC 5905)"
                ));
            }
            _ => {}
        }
        // The next poll: on the grid, one (possibly backed-off) poll after this one was due,
        // and never in the past (a late batch does not make the next one burst).
        let mut next = times.due_mono_ns.saturating_add(self.poll_ns);
        while next <= times.start_mono_ns {
            next = next.saturating_add(self.poll_ns);
        }
        self.next_due_mono_ns = next;
        self.last_poll = Some(times);
        self.last = Some(result);
    }

    /// The sourcestats of the window (None with fewer than 3 samples).
    pub fn stats(&self, precision_ns: i64) -> Option<SourceStats> {
        let pts: Vec<skew_sourcestats::Sample> = self
            .window
            .iter()
            .map(|w| skew_sourcestats::Sample {
                x_ns: w.mono_ns,
                offset_ns: w.offset_ns,
                distance_ns: w.half_width_ns,
            })
            .collect();
        sourcestats(
            &pts,
            &StatsConfig {
                precision_ns: precision_ns.max(1),
                ..StatsConfig::default()
            },
        )
    }

    /// The overlapping Allan deviation of the window's offsets at τ = poll × 2ᵏ (the current
    /// poll is the grid step; missed polls are gaps).
    pub fn allan(&self) -> Vec<AdevPoint> {
        let pts: Vec<(i64, i64)> = self
            .window
            .iter()
            .map(|w| (w.mono_ns, w.offset_ns))
            .collect();
        let grid = phase_grid(&pts, self.poll_ns, 4 * self.capacity);
        adev_octaves(&grid, self.poll_ns)
    }

    /// The last result's record (None before the first poll).
    pub fn record(&self) -> Option<ProbeRecord> {
        self.last.as_ref().map(|r| r.record())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_ntp::exchange::Sample;
    use skew_ntp::result::{Counters, SampleRecord, Summary, TimestampSource};
    use skew_ntp::validate::ServerHeader;
    use skew_time::IntervalNs;

    const S: i64 = 1_000_000_000;
    const EPOCH: i64 = 1_795_000_000 * S;

    fn header() -> ServerHeader {
        let mut h = ServerHeader::of(&skew_ntp::Packet::client_request(0));
        h.stratum = 2;
        h
    }

    fn measured(offset_ns: i64, at_unix: i64) -> ServerResult {
        let sample = Sample {
            t1_ns: at_unix,
            t2_ns: at_unix + 10_000 + offset_ns,
            t3_ns: at_unix + 11_000 + offset_ns,
            t4_ns: at_unix + 21_000,
        };
        let rec = SampleRecord {
            sample,
            header: header(),
            rx: TimestampSource::Kernel,
            tx: TimestampSource::Kernel,
            unsynchronized: false,
        };
        ServerResult {
            server: "s".into(),
            address: Some("127.0.0.1:123".parse().unwrap()),
            status: Status::Ok,
            error: None,
            summary: Some(Summary {
                best: 0,
                offset_ns,
                delay_ns: 20_000,
                jitter_ns: 0.0,
                bound: IntervalNs::around(offset_ns, 10_500),
                utc_bound: IntervalNs::around(offset_ns, 20_000),
                consistent: true,
            }),
            header: Some(header()),
            kiss_code: None,
            samples: vec![rec],
            counters: Counters {
                sent: 1,
                answered: 1,
                ..Counters::default()
            },
            warnings: vec![],
            local_precision_ns: 30,
            nts: None,
        }
    }

    fn failed(status: Status, kiss: Option<KissCode>) -> ServerResult {
        let mut r = ServerResult::failed("s", "127.0.0.1:123".parse().ok(), status, "x".into());
        r.kiss_code = kiss;
        r.counters.timeouts = u64::from(status == Status::Timeout);
        r
    }

    fn times(due: i64) -> PollTimes {
        PollTimes {
            due_mono_ns: due,
            start_mono_ns: due + 1_000,
            start_unix_ns: EPOCH + due + 1_000,
        }
    }

    fn state() -> ServerState {
        ServerState::new(
            "s",
            "127.0.0.1:123".parse().ok(),
            64 * S,
            (1 << 17) * S,
            8,
            0,
        )
    }

    #[test]
    fn reach_register_as_chrony() {
        let mut s = state();
        let mut due = 0;
        for ok in [
            true, true, false, true, false, false, false, false, false, false, true,
        ] {
            assert!(s.due(due));
            s.start_poll();
            assert!(!s.due(due));
            let r = if ok {
                measured(100, EPOCH + due)
            } else {
                failed(Status::Timeout, None)
            };
            s.apply(r, times(due), S);
            due = s.next_due_mono_ns;
        }
        // Last 8 polls, newest in bit 0: 1,0,0,0,0,0,0,1 (oldest of them: the 4th poll).
        assert_eq!(s.reach, 0b1000_0001);
        assert_eq!(s.polls, 11);
        assert_eq!(s.errors.get("timeout"), Some(&7));
        assert_eq!(s.window().len(), 4);
        assert_eq!(s.next_due_mono_ns, 11 * 64 * S);
        assert_eq!(s.last_duration_ns, Some(21_000));
    }

    #[test]
    fn window_keeps_the_newest_samples() {
        let mut s = state();
        for k in 0..20i64 {
            s.start_poll();
            s.apply(measured(k, EPOCH + k * 64 * S), times(k * 64 * S), S);
        }
        let w: Vec<i64> = s.window().iter().map(|w| w.offset_ns).collect();
        assert_eq!(w, (12..20).collect::<Vec<_>>());
        assert_eq!(s.window()[0].half_width_ns, 10_500);
        // Sample times are placed on the monotonic timeline by their time of day.
        assert_eq!(s.window()[7].mono_ns, 19 * 64 * S + 1_000 + 9_500);
        let st = s.stats(30).unwrap();
        assert_eq!(st.np, 8);
        assert!((st.frequency_ppm - 1.0 / 64e9 * 1e6).abs() < 1e-9, "{st:?}");
        let adev: Vec<usize> = s.allan().iter().map(|p| p.m).collect();
        assert_eq!(adev, vec![1, 2]);
    }

    #[test]
    fn rate_backs_off_and_deny_stops() {
        let mut s = state();
        s.start_poll();
        s.apply(failed(Status::Kod, Some(KissCode::Rate)), times(0), S);
        assert_eq!(s.poll_ns, 128 * S);
        assert_eq!(s.next_due_mono_ns, 128 * S);
        assert!(!s.due(64 * S) && s.due(128 * S));
        s.start_poll();
        s.apply(failed(Status::Kod, Some(KissCode::Rate)), times(128 * S), S);
        assert_eq!((s.poll_ns, s.next_due_mono_ns), (256 * S, 384 * S));
        // The back-off is capped.
        for _ in 0..40 {
            s.start_poll();
            s.apply(failed(Status::Kod, Some(KissCode::Rate)), times(0), S);
        }
        assert_eq!(s.poll_ns, (1 << 17) * S);
        s.start_poll();
        s.apply(failed(Status::Kod, Some(KissCode::Deny)), times(0), S);
        assert!(s.stopped.is_some() && !s.due(i64::MAX));
        assert_eq!(s.errors.get("kod"), Some(&43));
    }

    #[test]
    fn a_new_address_empties_the_window() {
        let mut s = state();
        for k in 0..3i64 {
            s.start_poll();
            s.apply(measured(k, EPOCH + k * 64 * S), times(k * 64 * S), S);
        }
        s.set_address("127.0.0.1:123".parse().unwrap());
        assert_eq!(s.window().len(), 3, "the same address keeps it");
        s.set_address("127.0.0.2:123".parse().unwrap());
        assert!(s.window().is_empty());
        assert_eq!(s.address, "127.0.0.2:123".parse().ok());
    }

    #[test]
    fn a_late_poll_does_not_make_the_next_burst() {
        let mut s = state();
        s.start_poll();
        // The batch started 3 polls late (the process was stopped).
        let t = PollTimes {
            due_mono_ns: 0,
            start_mono_ns: 200 * S,
            start_unix_ns: EPOCH + 200 * S,
        };
        s.apply(failed(Status::Timeout, None), t, S);
        assert_eq!(s.next_due_mono_ns, 256 * S);
    }
}
