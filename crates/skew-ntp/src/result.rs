//! Per-server probe results, and their JSON/CSV view.
//!
//! [`ServerResult`] keeps integer nanoseconds and the raw headers; [`ProbeRecord`] is the
//! serialisable view with seconds as floating point, whose field names are the documented
//! JSON keys (ntpdig-like: `offset_s`, `delay_s`, `stratum`, `leap`...). The human table,
//! the JSON, the CSV row and the drift log are all made from the same result, so they cannot
//! disagree.

use crate::bounds::{intersect_at, sample_bound, utc_widening_ns, BoundParams};
use crate::exchange::Sample;
use crate::filter::{best_index, jitter_ns};
use crate::nts::report::{NtsReport, NtsView};
use crate::packet::{refid_display, KissCode, Leap};
use crate::validate::ServerHeader;
use serde::{Deserialize, Serialize};
use skew_time::{ns_to_s, IntervalNs};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

/// The outcome of probing one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At least one valid measurement, no Kiss-o'-Death, server synchronized.
    Ok,
    /// No reply to any request within its timeout.
    Timeout,
    /// The server sent a Kiss-o'-Death (see `kiss_code`).
    Kod,
    /// The server answered but says it is not synchronized (LI = 3 or stratum ≥ 16).
    Unsynchronized,
    /// The server answered only with unusable replies (see `error`).
    Invalid,
    /// The name could not be resolved.
    Unresolved,
    /// Requests could not be sent (no route, address family unavailable...).
    Unreachable,
    /// NTS: the server answered with an NTS NAK (kiss code NTSN): it could not use the
    /// cookie.
    #[serde(rename = "nts-nak")]
    NtsNak,
    /// NTS: the key exchange failed (TCP, TLS, certificate, ALPN, or the server's records);
    /// `error` says which.
    #[serde(rename = "nts-ke-failed")]
    NtsKeFailed,
}

impl Status {
    /// The name used in JSON, CSV and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Timeout => "timeout",
            Status::Kod => "kod",
            Status::Unsynchronized => "unsynchronized",
            Status::Invalid => "invalid",
            Status::Unresolved => "unresolved",
            Status::Unreachable => "unreachable",
            Status::NtsNak => "nts-nak",
            Status::NtsKeFailed => "nts-ke-failed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a local timestamp (T1 or T4) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampSource {
    /// The kernel's software timestamp (SO_TIMESTAMPING / SO_TIMESTAMPNS): taken when the
    /// packet left or arrived, without the process's scheduling delay.
    Kernel,
    /// A clock read in user space just before sending or just after receiving.
    User,
}

impl TimestampSource {
    /// `kernel` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampSource::Kernel => "kernel",
            TimestampSource::User => "user",
        }
    }
}

/// One measured exchange with the header it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    /// The four timestamps.
    pub sample: Sample,
    /// The reply's header.
    pub header: ServerHeader,
    /// Where T4 came from.
    pub rx: TimestampSource,
    /// Where T1 came from.
    pub tx: TimestampSource,
    /// The server said it was unsynchronized in this reply.
    pub unsynchronized: bool,
}

/// Counts of what happened during a server's probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests sent.
    pub sent: u64,
    /// Replies accepted (measured, KoD or invalid).
    pub answered: u64,
    /// Requests that got no accepted reply within the timeout.
    pub timeouts: u64,
    /// Datagrams dropped, by reason (`wrong_source`, `truncated`, `origin_mismatch`,
    /// `bad_mode`, `bad_version`, `late`).
    pub dropped: BTreeMap<String, u64>,
}

impl Counters {
    /// Adds one drop under `key`.
    pub fn drop_one(&mut self, key: &str) {
        *self.dropped.entry(key.to_string()).or_insert(0) += 1;
    }

    /// Total datagrams dropped.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// What the samples of one server say together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Index of the best (lowest-delay) sample.
    pub best: usize,
    /// Offset of the best sample, ns (server − local).
    pub offset_ns: i64,
    /// Delay of the best sample, ns.
    pub delay_ns: i64,
    /// Jitter, ns (RMS of offset differences to the best sample).
    pub jitter_ns: f64,
    /// Hard bound on the offset to the server's clock, at the best sample's time.
    pub bound: IntervalNs,
    /// Bound on the offset to UTC (hard bound + root delay / 2 + root dispersion).
    pub utc_bound: IntervalNs,
    /// False when the samples' bounds did not intersect (a clock stepped or drifted faster
    /// than allowed); the bounds are then the best sample's own.
    pub consistent: bool,
}

/// Combines measured samples: best by lowest delay, jitter, and the intersection of the
/// samples' hard and UTC bounds at the best sample's time. `None` for no samples.
pub fn summarize(samples: &[SampleRecord], p: &BoundParams) -> Option<Summary> {
    let plain: Vec<Sample> = samples.iter().map(|r| r.sample).collect();
    let best = best_index(&plain)?;
    let at = plain[best].local_midpoint_ns();
    let mut hard = Vec::with_capacity(samples.len());
    let mut utc = Vec::with_capacity(samples.len());
    for r in samples {
        let b = sample_bound(&r.sample, r.header.precision_ns(), p);
        let w = utc_widening_ns(
            r.header.root_delay.to_ns_ceil(),
            r.header.root_dispersion.to_ns_ceil(),
        );
        hard.push((b, r.sample.local_midpoint_ns()));
        utc.push((b.widen(w), r.sample.local_midpoint_ns()));
    }
    let joint =
        intersect_at(&hard, at, p.max_drift_ppm).zip(intersect_at(&utc, at, p.max_drift_ppm));
    let consistent = joint.is_some();
    let (bound, utc_bound) = joint.unwrap_or((hard[best].0, utc[best].0));
    Some(Summary {
        best,
        offset_ns: plain[best].offset_ns(),
        delay_ns: plain[best].delay_ns(),
        jitter_ns: jitter_ns(&plain, best),
        bound,
        utc_bound,
        consistent,
    })
}

/// Everything known about one probed server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerResult {
    /// The server as the user named it (`host`, `host:port`...).
    pub server: String,
    /// The address probed, when resolved.
    pub address: Option<SocketAddr>,
    /// The outcome.
    pub status: Status,
    /// Why the status is not `ok`, as text.
    pub error: Option<String>,
    /// The combined measurement, when any sample was measured.
    pub summary: Option<Summary>,
    /// The header of the best sample, or of the last reply when nothing was measured.
    pub header: Option<ServerHeader>,
    /// The Kiss-o'-Death code, when one was received.
    pub kiss_code: Option<KissCode>,
    /// Measured samples, in the order taken.
    pub samples: Vec<SampleRecord>,
    /// What happened on the wire.
    pub counters: Counters,
    /// Notes that do not change the status (timeouts among good samples, inconsistent
    /// bounds...).
    pub warnings: Vec<String>,
    /// The local clock precision used in the bounds, ns.
    pub local_precision_ns: i64,
    /// NTS: the key exchange's facts and the samples' authentication (`None` for plain
    /// NTP).
    pub nts: Option<NtsReport>,
}

impl ServerResult {
    /// A result for a server that could not be probed at all (`unresolved`, `unreachable`).
    pub fn failed(
        server: &str,
        address: Option<SocketAddr>,
        status: Status,
        error: String,
    ) -> Self {
        ServerResult {
            server: server.to_string(),
            address,
            status,
            error: Some(error),
            summary: None,
            header: None,
            kiss_code: None,
            samples: vec![],
            counters: Counters::default(),
            warnings: vec![],
            local_precision_ns: 0,
            nts: None,
        }
    }

    /// `kernel` when every sample's T4 came from the kernel, `user` when any did not,
    /// `None` without samples.
    pub fn rx_timestamp(&self) -> Option<TimestampSource> {
        Self::all_kernel(self.samples.iter().map(|s| s.rx))
    }

    /// The same for T1 (kernel transmit timestamps).
    pub fn tx_timestamp(&self) -> Option<TimestampSource> {
        Self::all_kernel(self.samples.iter().map(|s| s.tx))
    }

    fn all_kernel(
        mut it: impl ExactSizeIterator<Item = TimestampSource>,
    ) -> Option<TimestampSource> {
        if it.len() == 0 {
            None
        } else if it.all(|s| s == TimestampSource::Kernel) {
            Some(TimestampSource::Kernel)
        } else {
            Some(TimestampSource::User)
        }
    }

    /// Whether the result carries a measurement (status `ok` or `unsynchronized`, or a
    /// KoD after some good samples).
    pub fn is_measured(&self) -> bool {
        self.summary.is_some()
    }

    /// The serialisable view.
    pub fn record(&self) -> ProbeRecord {
        ProbeRecord::from(self)
    }

    /// Timeout advice from the measured round trips (T4 − T1), in the order taken.
    pub fn timeout_advice(&self) -> Option<crate::advice::TimeoutAdvice> {
        let rtts: Vec<i64> = self
            .samples
            .iter()
            .map(|s| s.sample.local_span_ns())
            .collect();
        crate::advice::advise(&rtts)
    }
}

/// One sample in the JSON view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleView {
    /// T1, ns since the Unix epoch.
    pub t1_ns: i64,
    /// T2, ns since the Unix epoch (server clock).
    pub t2_ns: i64,
    /// T3, ns since the Unix epoch (server clock).
    pub t3_ns: i64,
    /// T4, ns since the Unix epoch.
    pub t4_ns: i64,
    /// θ, seconds.
    pub offset_s: f64,
    /// δ, seconds.
    pub delay_s: f64,
    /// Where T4 came from.
    pub rx_timestamp: TimestampSource,
    /// Where T1 came from.
    pub tx_timestamp: TimestampSource,
    /// The server's leap indicator in this reply.
    pub leap: Leap,
}

/// The JSON view of a [`ServerResult`] (one entry of `{"probes": [...]}`).
///
/// Fields that do not apply are `null`. Offsets are server − local, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// The server as given.
    pub server: String,
    /// The address probed (`ip:port`).
    pub address: Option<String>,
    /// `ok`, `timeout`, `kod`, `unsynchronized`, `invalid`, `unresolved`, `unreachable`.
    pub status: Status,
    /// Why not ok.
    pub error: Option<String>,
    /// Offset of the best sample, s.
    pub offset_s: Option<f64>,
    /// Delay of the best sample, s.
    pub delay_s: Option<f64>,
    /// Jitter, s.
    pub jitter_s: Option<f64>,
    /// Hard bound, lower end, s.
    pub bound_lo_s: Option<f64>,
    /// Hard bound, upper end, s.
    pub bound_hi_s: Option<f64>,
    /// UTC bound, lower end, s.
    pub utc_lo_s: Option<f64>,
    /// UTC bound, upper end, s.
    pub utc_hi_s: Option<f64>,
    /// Server stratum.
    pub stratum: Option<u8>,
    /// Reference ID as text (dotted IPv4 or ASCII).
    pub refid: Option<String>,
    /// Leap indicator.
    pub leap: Option<Leap>,
    /// Server precision, s.
    pub precision_s: Option<f64>,
    /// Server root delay, s.
    pub root_delay_s: Option<f64>,
    /// Server root dispersion, s.
    pub root_dispersion_s: Option<f64>,
    /// Kiss-o'-Death code (kod only).
    pub kiss_code: Option<String>,
    /// Where T4 came from: `kernel` or `user`.
    pub rx_timestamp: Option<TimestampSource>,
    /// Where T1 came from: `kernel` (transmit timestamp) or `user`.
    pub tx_timestamp: Option<TimestampSource>,
    /// Measured samples.
    pub samples: Vec<SampleView>,
    /// NTP version of the replies.
    pub version: Option<u8>,
    /// Local clock precision used in the bounds, s.
    pub local_precision_s: f64,
    /// False when the samples' bounds did not intersect.
    pub bound_consistent: Option<bool>,
    /// Requests sent.
    pub sent: u64,
    /// Requests answered (measured, KoD or invalid).
    pub answered: u64,
    /// Requests whose exchange ended without an acceptable reply within the timeout.
    #[serde(default)]
    pub timeouts: u64,
    /// Datagrams dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Notes that do not change the status.
    pub warnings: Vec<String>,
    /// Whether this server agrees with the majority (set by selection, else null).
    pub truechimer: Option<bool>,
    /// Timeout advice from the round trips (with `--advise`, else null).
    pub advice: Option<crate::advice::TimeoutAdvice>,
    /// NTS (with `--nts`, else null): key exchange, certificate, cookies, authentication.
    #[serde(default)]
    pub nts: Option<NtsView>,
}

impl From<&ServerResult> for ProbeRecord {
    fn from(r: &ServerResult) -> Self {
        let s = r.summary.as_ref();
        let h = r.header.as_ref();
        ProbeRecord {
            server: r.server.clone(),
            address: r.address.map(|a| a.to_string()),
            status: r.status,
            error: r.error.clone(),
            offset_s: s.map(|s| ns_to_s(s.offset_ns)),
            delay_s: s.map(|s| ns_to_s(s.delay_ns)),
            jitter_s: s.map(|s| s.jitter_ns / 1e9),
            bound_lo_s: s.map(|s| ns_to_s(s.bound.lo_ns)),
            bound_hi_s: s.map(|s| ns_to_s(s.bound.hi_ns)),
            utc_lo_s: s.map(|s| ns_to_s(s.utc_bound.lo_ns)),
            utc_hi_s: s.map(|s| ns_to_s(s.utc_bound.hi_ns)),
            stratum: h.map(|h| h.stratum),
            refid: h.map(|h| refid_display(h.stratum, h.reference_id)),
            leap: h.map(|h| h.leap),
            precision_s: h.map(|h| ns_to_s(h.precision_ns())),
            root_delay_s: h.map(|h| ns_to_s(h.root_delay.to_ns_ceil())),
            root_dispersion_s: h.map(|h| ns_to_s(h.root_dispersion.to_ns_ceil())),
            kiss_code: r.kiss_code.as_ref().map(|k| k.to_string()),
            rx_timestamp: r.rx_timestamp(),
            tx_timestamp: r.tx_timestamp(),
            samples: r
                .samples
                .iter()
                .map(|x| SampleView {
                    t1_ns: x.sample.t1_ns,
                    t2_ns: x.sample.t2_ns,
                    t3_ns: x.sample.t3_ns,
                    t4_ns: x.sample.t4_ns,
                    offset_s: ns_to_s(x.sample.offset_ns()),
                    delay_s: ns_to_s(x.sample.delay_ns()),
                    rx_timestamp: x.rx,
                    tx_timestamp: x.tx,
                    leap: x.header.leap,
                })
                .collect(),
            version: h.map(|h| h.version),
            local_precision_s: ns_to_s(r.local_precision_ns),
            bound_consistent: s.map(|s| s.consistent),
            sent: r.counters.sent,
            timeouts: r.counters.timeouts,
            answered: r.counters.answered,
            dropped: r.counters.dropped.clone(),
            warnings: r.warnings.clone(),
            truechimer: None,
            advice: None,
            nts: r.nts.as_ref().map(NtsView::from),
        }
    }
}

/// Column names of the one-row-per-server CSV (`skew probe --csv`).
pub const CSV_COLUMNS: &[&str] = &[
    "server",
    "address",
    "status",
    "error",
    "offset_s",
    "delay_s",
    "jitter_s",
    "bound_lo_s",
    "bound_hi_s",
    "utc_lo_s",
    "utc_hi_s",
    "stratum",
    "refid",
    "leap",
    "precision_s",
    "root_delay_s",
    "root_dispersion_s",
    "kiss_code",
    "rx_timestamp",
    "samples",
    "truechimer",
    "nts_ke_server",
    "nts_ke_port",
    "nts_ntp_server",
    "nts_ntp_port",
    "nts_tls_version",
    "nts_aead",
    "nts_cookies",
    "nts_cookie_bytes",
    "nts_ke_duration_s",
    "nts_cert_subject",
    "nts_cert_not_after",
    "nts_cert_days_left",
    "nts_authenticated",
    "nts_dropped_unauthenticated",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn secs(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.9}")).unwrap_or_default()
}

impl ProbeRecord {
    /// The CSV row matching [`CSV_COLUMNS`]; absent values are empty fields.
    pub fn csv_fields(&self) -> Vec<String> {
        let mut f = vec![
            self.server.clone(),
            opt(self.address.as_ref()),
            self.status.to_string(),
            opt(self.error.as_ref()),
            secs(self.offset_s),
            secs(self.delay_s),
            secs(self.jitter_s),
            secs(self.bound_lo_s),
            secs(self.bound_hi_s),
            secs(self.utc_lo_s),
            secs(self.utc_hi_s),
            opt(self.stratum),
            opt(self.refid.as_ref()),
            opt(self.leap),
            secs(self.precision_s),
            secs(self.root_delay_s),
            secs(self.root_dispersion_s),
            opt(self.kiss_code.as_ref()),
            opt(self.rx_timestamp.map(|r| r.as_str())),
            self.samples.len().to_string(),
            opt(self.truechimer),
        ];
        let n = self.nts.as_ref();
        f.extend([
            opt(n.map(|n| n.ke_server.clone())),
            opt(n.map(|n| n.ke_port)),
            opt(n.and_then(|n| n.ntp_server.clone())),
            opt(n.and_then(|n| n.ntp_port)),
            opt(n.and_then(|n| n.tls_version.clone())),
            opt(n.and_then(|n| n.aead)),
            opt(n.map(|n| n.cookies)),
            opt(n.and_then(|n| n.cookie_bytes)),
            secs(n.and_then(|n| n.ke_duration_s)),
            opt(n.and_then(|n| n.cert_subject.clone())),
            opt(n.and_then(|n| n.cert_not_after.clone())),
            opt(n.and_then(|n| n.cert_days_left)),
            opt(n.map(|n| n.authenticated)),
            opt(n.map(|n| n.dropped_unauthenticated)),
        ]);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::{NtpShort, NtpTimestamp};

    fn header() -> ServerHeader {
        ServerHeader {
            leap: Leap::None,
            version: 4,
            stratum: 8,
            poll: 0,
            precision: -25,
            root_delay: NtpShort(0),
            root_dispersion: NtpShort::from_ns_ceil(1_000_000),
            reference_id: [127, 127, 1, 1],
            reference_ts: NtpTimestamp::ZERO,
        }
    }

    fn rec(t1: i64, out: i64, back: i64, off: i64) -> SampleRecord {
        SampleRecord {
            sample: Sample {
                t1_ns: t1,
                t2_ns: t1 + out + off,
                t3_ns: t1 + out + off,
                t4_ns: t1 + out + back,
            },
            header: header(),
            rx: TimestampSource::Kernel,
            tx: TimestampSource::User,
            unsynchronized: false,
        }
    }

    #[test]
    fn summary_picks_best_and_intersects() {
        let v = vec![
            rec(0, 50_000, 50_000, 1_000),
            rec(1_000_000, 10_000, 12_000, 1_000),
            rec(2_000_000, 30_000, 5_000, 1_000),
        ];
        let s = summarize(&v, &BoundParams::default()).unwrap();
        assert_eq!(s.best, 1);
        assert_eq!(s.offset_ns, 1_000 - 1_000);
        assert_eq!(s.delay_ns, 22_000);
        assert!(s.consistent);
        assert!(s.bound.contains(1_000));
        assert!(s.bound.width_ns() <= 22_000 + 200);
        assert!(s.utc_bound.lo_ns <= s.bound.lo_ns - 1_000_000);
        assert!(s.utc_bound.hi_ns >= s.bound.hi_ns + 1_000_000);
        assert!(summarize(&[], &BoundParams::default()).is_none());
    }

    #[test]
    fn inconsistent_samples_fall_back_to_best() {
        // The server stepped 1 s between two samples: no intersection.
        let v = vec![
            rec(0, 10_000, 10_000, 0),
            rec(1_000_000, 20_000, 20_000, 1_000_000_000),
        ];
        let s = summarize(&v, &BoundParams::default()).unwrap();
        assert!(!s.consistent);
        assert_eq!(s.best, 0);
        assert!(s.bound.contains(0));
    }

    #[test]
    fn record_view_and_csv() {
        let v = vec![rec(1_000_000_000, 10_000, 10_000, 250_000_000)];
        let mut r = ServerResult::failed(
            "127.0.0.1:123",
            Some("127.0.0.1:123".parse().unwrap()),
            Status::Ok,
            String::new(),
        );
        r.error = None;
        r.summary = summarize(&v, &BoundParams::default());
        r.header = Some(header());
        r.samples = v;
        let p = r.record();
        assert_eq!(p.offset_s, Some(0.25));
        assert_eq!(p.refid.as_deref(), Some("127.127.1.1"));
        assert_eq!(p.rx_timestamp, Some(TimestampSource::Kernel));
        assert_eq!(p.samples[0].t1_ns, 1_000_000_000);
        let json = serde_json::to_value(&p).unwrap();
        for key in [
            "server",
            "address",
            "status",
            "error",
            "offset_s",
            "delay_s",
            "jitter_s",
            "bound_lo_s",
            "bound_hi_s",
            "utc_lo_s",
            "utc_hi_s",
            "stratum",
            "refid",
            "leap",
            "precision_s",
            "root_delay_s",
            "root_dispersion_s",
            "kiss_code",
            "rx_timestamp",
            "samples",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["status"], "ok");
        assert_eq!(json["leap"], "none");
        let back: ProbeRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        let f = p.csv_fields();
        assert_eq!(f.len(), CSV_COLUMNS.len());
        assert_eq!(f[2], "ok");
        assert_eq!(f[4], "0.250000000");
    }
}
