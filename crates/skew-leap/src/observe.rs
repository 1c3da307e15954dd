//! What the leap checks need from a probed server: its leap indicator over the run, its
//! clock reading, and its offset series. Made from the prober's [`ServerResult`], or built
//! directly in tests.

use skew_ntp::packet::Leap;
use skew_ntp::{ServerResult, Status};

/// One offset measurement: θ (server − local) at the local midpoint of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPoint {
    /// Local time of the exchange's midpoint ((T1 + T4) / 2), Unix ns.
    pub at_unix_ns: i64,
    /// θ, ns (server − local).
    pub offset_ns: i64,
    /// δ, ns.
    pub delay_ns: i64,
}

/// A server as the leap checks see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerObservation {
    /// The server as the user named it.
    pub server: String,
    /// `ip:port` probed.
    pub address: Option<String>,
    /// The probe's outcome.
    pub status: Status,
    /// Why the probe failed, when it did.
    pub error: Option<String>,
    /// The leap indicator of the last reply.
    pub leap: Option<Leap>,
    /// Every distinct leap indicator seen, in order of first appearance.
    pub leaps_seen: Vec<Leap>,
    /// The server's transmit time (T3) in its last reply, Unix ns.
    pub server_time_unix_ns: Option<i64>,
    /// Stratum of the last reply.
    pub stratum: Option<u8>,
    /// Offsets from synchronized replies, in the order taken.
    pub points: Vec<OffsetPoint>,
}

impl ServerObservation {
    /// From a probe result.
    pub fn from_result(r: &ServerResult) -> ServerObservation {
        let mut leaps_seen = Vec::new();
        for s in &r.samples {
            if !leaps_seen.contains(&s.header.leap) {
                leaps_seen.push(s.header.leap);
            }
        }
        let last = r.samples.last();
        ServerObservation {
            server: r.server.clone(),
            address: r.address.map(|a| a.to_string()),
            status: r.status,
            error: r.error.clone(),
            leap: last.map(|s| s.header.leap).or(r.header.map(|h| h.leap)),
            leaps_seen,
            server_time_unix_ns: last.map(|s| s.sample.t3_ns),
            stratum: last
                .map(|s| s.header.stratum)
                .or(r.header.map(|h| h.stratum)),
            points: r
                .samples
                .iter()
                .filter(|s| !s.unsynchronized)
                .map(|s| OffsetPoint {
                    at_unix_ns: s.sample.local_midpoint_ns(),
                    offset_ns: s.sample.offset_ns(),
                    delay_ns: s.sample.delay_ns(),
                })
                .collect(),
        }
    }

    /// Whether the server gave synchronized measurements (status `ok`, or measured before a
    /// Kiss-o'-Death).
    pub fn is_usable(&self) -> bool {
        !self.points.is_empty() && self.leap.is_some_and(|l| l != Leap::Unsynchronized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_ntp::packet::Leap;
    use skew_ntp::result::{Counters, SampleRecord, TimestampSource};
    use skew_ntp::timestamp::{NtpShort, NtpTimestamp};
    use skew_ntp::validate::ServerHeader;
    use skew_ntp::Sample;

    fn rec(t1: i64, leap: Leap, unsync: bool) -> SampleRecord {
        SampleRecord {
            sample: Sample {
                t1_ns: t1,
                t2_ns: t1 + 1_000 + 500,
                t3_ns: t1 + 1_000 + 600,
                t4_ns: t1 + 2_100,
            },
            header: ServerHeader {
                leap,
                version: 4,
                stratum: 2,
                poll: 0,
                precision: -20,
                root_delay: NtpShort(0),
                root_dispersion: NtpShort(0),
                reference_id: [0; 4],
                reference_ts: NtpTimestamp::ZERO,
            },
            rx: TimestampSource::Kernel,
            tx: TimestampSource::Kernel,
            unsynchronized: unsync,
        }
    }

    #[test]
    fn from_a_probe_result() {
        let r = ServerResult {
            server: "ntp.example:123".into(),
            address: Some("127.0.0.1:123".parse().unwrap()),
            status: Status::Ok,
            error: None,
            summary: None,
            header: None,
            kiss_code: None,
            samples: vec![
                rec(1_000_000_000, Leap::Insert, false),
                rec(2_000_000_000, Leap::Unsynchronized, true),
                rec(3_000_000_000, Leap::None, false),
            ],
            counters: Counters::default(),
            warnings: vec![],
            local_precision_ns: 0,
            nts: None,
        };
        let o = ServerObservation::from_result(&r);
        assert_eq!(o.leap, Some(Leap::None));
        assert_eq!(
            o.leaps_seen,
            vec![Leap::Insert, Leap::Unsynchronized, Leap::None]
        );
        assert_eq!(
            o.points.len(),
            2,
            "unsynchronized replies are not measurements"
        );
        assert_eq!(o.points[0].offset_ns, 500);
        assert_eq!(o.points[0].delay_ns, 2_000);
        assert_eq!(o.points[1].at_unix_ns, 3_000_001_050);
        assert_eq!(o.server_time_unix_ns, Some(3_000_001_600));
        assert_eq!(o.address.as_deref(), Some("127.0.0.1:123"));
        assert!(o.is_usable());
        let failed = ServerResult::failed("x", None, Status::Timeout, "no reply".into());
        let o = ServerObservation::from_result(&failed);
        assert_eq!(o.leap, None);
        assert!(!o.is_usable());
    }
}
