//! What `skew serve` and `skew proxy` count, and their `--stats-json` report.
//!
//! Every counter is a plain `u64` bumped by the core or the edge; the report is the one
//! serialisable view, so the JSON keys are defined here and nowhere else.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest scheduling error the histogram resolves, ns (60 s; larger values count as this).
const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// The distribution of how late datagrams were released, in ns (3 significant digits).
#[derive(Debug, Clone)]
pub struct Lateness {
    hist: Histogram<u64>,
    early: u64,
}

impl Default for Lateness {
    fn default() -> Self {
        Self::new()
    }
}

impl Lateness {
    /// An empty histogram (allocated once, here).
    pub fn new() -> Self {
        Lateness {
            hist: Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
                .expect("static histogram bounds are valid"),
            early: 0,
        }
    }

    /// Records that a datagram due at `due_ns` was released at `sent_ns`.
    pub fn record(&mut self, due_ns: i64, sent_ns: i64) {
        let late = sent_ns.saturating_sub(due_ns);
        if late < 0 {
            self.early += 1;
        }
        self.hist.saturating_record(late.max(0) as u64);
    }

    /// Datagrams recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The summary for the report.
    pub fn summary(&self) -> LatenessSummary {
        let q = |x: f64| {
            if self.hist.is_empty() {
                0.0
            } else {
                self.hist.value_at_quantile(x) as f64 / 1e9
            }
        };
        LatenessSummary {
            count: self.hist.len(),
            p50_s: q(0.5),
            p90_s: q(0.9),
            p99_s: q(0.99),
            p999_s: q(0.999),
            max_s: if self.hist.is_empty() {
                0.0
            } else {
                self.hist.max() as f64 / 1e9
            },
            mean_s: if self.hist.is_empty() {
                0.0
            } else {
                self.hist.mean() / 1e9
            },
            early: self.early,
        }
    }
}

/// Scheduling error: how late datagrams left after their due time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatenessSummary {
    /// Datagrams measured.
    pub count: u64,
    /// Median, s.
    pub p50_s: f64,
    /// 90th percentile, s.
    pub p90_s: f64,
    /// 99th percentile, s.
    pub p99_s: f64,
    /// 99.9th percentile, s.
    pub p999_s: f64,
    /// Largest, s.
    pub max_s: f64,
    /// Mean, s.
    pub mean_s: f64,
    /// Datagrams released before their due time (a bug if ever non-zero).
    pub early: u64,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// SIGINT or SIGTERM.
    Signal,
    /// `--max-seconds` passed.
    MaxSeconds,
    /// `--max-requests` reached.
    MaxRequests,
}

/// Requests or datagrams `skew serve` did not answer, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServeDrops {
    /// Lost on purpose (`--loss`).
    pub loss: u64,
    /// Shorter than 48 bytes: not a request.
    pub short: u64,
    /// Not a client request (mode ≠ 3).
    pub not_client: u64,
    /// Version outside 1–4.
    pub bad_version: u64,
    /// The hold queue was full.
    pub queue_full: u64,
    /// The kernel refused to send.
    pub send_error: u64,
    /// Still held when the server stopped.
    pub shutdown: u64,
}

/// Faults `skew serve` injected, in datagrams or replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServeFaults {
    /// Kiss-o'-Death replies sent.
    pub kod: u64,
    /// Second answers sent (`--duplicate`).
    pub duplicate: u64,
    /// Forged copies with a wrong origin sent (`--wrong-origin`).
    pub wrong_origin: u64,
    /// Garbage datagrams sent instead of replies (`--garbage`).
    pub garbage: u64,
    /// Replies cut short (`--truncate`).
    pub truncated: u64,
    /// Replies with a zero transmit timestamp (`--zero-transmit`).
    pub zero_transmit: u64,
    /// Datagrams sent after a hold (`--hold`, `--hold-jitter`).
    pub held: u64,
}

/// `skew serve`'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServeCounters {
    /// Datagrams received.
    pub received: u64,
    /// Requests answered with a reply (KoD and faulty headers included; garbage not).
    pub answered: u64,
    /// Datagrams sent (replies, duplicates, forgeries, garbage).
    pub sent: u64,
    /// What was not answered, by reason.
    pub dropped: ServeDrops,
    /// Faults injected.
    pub faults: ServeFaults,
}

/// The `--stats-json` report of `skew serve`.
#[derive(Debug, Clone, Serialize)]
pub struct ServeReport {
    /// `serve`.
    pub command: &'static str,
    /// The bound addresses.
    pub listen: Vec<String>,
    /// The seed of the random choices (given or drawn), to repeat the run.
    pub seed: u64,
    /// How long the server ran, s.
    pub elapsed_s: f64,
    /// Why it stopped.
    pub stopped_by: StopReason,
    /// Requests received with a kernel receive timestamp (T2); the rest used a clock read.
    pub kernel_rx_timestamps: u64,
    /// The counters.
    #[serde(flatten)]
    pub counters: ServeCounters,
    /// How late held datagrams left after their due time.
    pub scheduling_error: LatenessSummary,
}

/// Counters of one direction of the proxy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PathCounters {
    /// Datagrams received for this direction.
    pub received: u64,
    /// Datagrams sent on (duplicates included).
    pub forwarded: u64,
    /// Dropped on purpose (`--loss-fwd` / `--loss-back`).
    pub lost: u64,
    /// Extra copies scheduled (`--duplicate`).
    pub duplicated: u64,
    /// Datagrams held back to be overtaken (`--reorder`).
    pub reordered: u64,
}

/// Datagrams `skew proxy` did not deliver, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProxyDrops {
    /// Lost on purpose client → server.
    pub loss_fwd: u64,
    /// Lost on purpose server → client.
    pub loss_back: u64,
    /// The delay queue was full.
    pub queue_full: u64,
    /// The kernel refused to send.
    pub send_error: u64,
    /// Still queued when the proxy stopped.
    pub shutdown: u64,
    /// A client session was closed to make room for a new client (`--max-clients`); its
    /// later replies have nowhere to go.
    pub evicted: u64,
}

/// `skew proxy`'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProxyCounters {
    /// Datagrams received in both directions.
    pub received: u64,
    /// Datagrams delivered back to clients (server → client, duplicates included).
    pub answered: u64,
    /// What was not delivered, by reason.
    pub dropped: ProxyDrops,
    /// Client → server.
    pub fwd: PathCounters,
    /// Server → client.
    pub back: PathCounters,
    /// Server replies whose timestamps were rewritten (`--shift`).
    pub shifted: u64,
    /// Client sessions opened (one upstream socket per client address and port).
    pub clients: u64,
}

/// The `--stats-json` report of `skew proxy`.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyReport {
    /// `proxy`.
    pub command: &'static str,
    /// The bound addresses.
    pub listen: Vec<String>,
    /// The upstream server's address.
    pub upstream: String,
    /// The seed of the random choices (given or drawn), to repeat the run.
    pub seed: u64,
    /// How long the proxy ran, s.
    pub elapsed_s: f64,
    /// Why it stopped.
    pub stopped_by: StopReason,
    /// The counters.
    #[serde(flatten)]
    pub counters: ProxyCounters,
    /// How late datagrams that waited for their due time (arrival + delay) left after it:
    /// the precision of the proxy's release timer.
    pub scheduling_error: LatenessSummary,
    /// Datagrams that were already due when the proxy read them (a delay shorter than the
    /// time the kernel held them): how long after their kernel arrival time + delay they
    /// left, i.e. the proxy's own forwarding latency.
    pub immediate_latency: LatenessSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_percentiles() {
        let mut l = Lateness::new();
        assert_eq!(l.summary().count, 0);
        assert_eq!(l.summary().p99_s, 0.0);
        for i in 1..=1000 {
            l.record(0, i * 1000); // 1 µs .. 1 ms
        }
        l.record(100, 50);
        let s = l.summary();
        assert_eq!(s.count, 1001);
        assert_eq!(s.early, 1);
        assert!((s.p50_s - 500e-6).abs() < 1e-6, "{s:?}");
        assert!((s.p99_s - 990e-6).abs() < 2e-6, "{s:?}");
        assert!((s.max_s - 1e-3).abs() < 2e-6, "{s:?}");
        l.record(0, i64::MAX);
        assert!(l.summary().max_s >= 59.0);
    }

    #[test]
    fn report_keys() {
        let r = ServeReport {
            command: "serve",
            listen: vec!["127.0.0.1:123".into()],
            seed: 1,
            elapsed_s: 1.0,
            stopped_by: StopReason::MaxRequests,
            kernel_rx_timestamps: 0,
            counters: ServeCounters::default(),
            scheduling_error: Lateness::new().summary(),
        };
        let v = serde_json::to_value(&r).unwrap();
        for k in [
            "received",
            "answered",
            "sent",
            "dropped",
            "faults",
            "stopped_by",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["stopped_by"], "max_requests");
        assert_eq!(v["dropped"]["loss"], 0);
        assert_eq!(v["scheduling_error"]["p99_s"], 0.0);
    }
}
