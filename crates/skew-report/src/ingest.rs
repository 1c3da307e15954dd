//! Decoding drift-log rows into [`LogData`]: a [`RowVisitor`] for
//! [`skew_driftlog::scan::scan_log`] that reads only the columns a report draws, turns run
//! times into integers once per run, and keeps nothing but numbers per row.

use crate::data::{HostData, LeapFlag, LeapState, LogData, ServerSeries};
use crate::filter::Filter;
use crate::time::parse_rfc3339_ns;
use skew_driftlog::scan::{Header, RawRow, RowVisitor};
use skew_driftlog::schema::{AgreementStatus, Column};
use std::collections::HashMap;

/// Column positions in one file, by [`Column`] (None: the file lacks the column, read as
/// empty). The columns themselves are defined once, in [`skew_driftlog::schema`].
#[derive(Debug, Clone)]
struct Cols {
    idx: [Option<usize>; Column::ALL.len()],
}

/// Counts of what a visitor saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    /// Rows read.
    pub rows: u64,
    /// Rows kept by the filter.
    pub used: u64,
    /// Earliest run time of any row (kept or not).
    pub first_ns: Option<i64>,
    /// Latest run time of any row.
    pub last_ns: Option<i64>,
}

/// A visitor that decodes drift-log rows into [`LogData`].
#[derive(Debug)]
pub struct Ingest<'f> {
    cols: Cols,
    filter: &'f Filter,
    data: LogData,
    hosts: HashMap<Vec<u8>, usize>,
    /// Series by a hash of (host, server) → candidates (no allocation per row).
    series: HashMap<u64, Vec<usize>>,
    /// Per (host, server name): its newest series with an address, for rows without one.
    newest_of_name: HashMap<(usize, Vec<u8>), usize>,
    last_host: (Vec<u8>, usize),
    last_time: (Vec<u8>, i64),
    /// What was seen.
    pub counts: IngestCounts,
}

/// Powers of ten exactly representable as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a decimal number as the drift log writes them (`-0.001611252`, `8.132e-6`).
/// Clinger's fast path: a mantissa below 2⁵³ scaled by an exact power of ten ≤ 10²² is one
/// correctly rounded operation, so the result is exact; anything else goes to the standard
/// library's parser.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let slow = || std::str::from_utf8(b).ok()?.parse::<f64>().ok();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mant: u64 = 0;
    let mut ndigits = 0u32;
    let mut frac = 0i32;
    let mut seen_dot = false;
    let mut i = 0;
    while i < digits.len() {
        match digits[i] {
            c @ b'0'..=b'9' => {
                if ndigits >= 19 {
                    return slow();
                }
                mant = mant * 10 + u64::from(c - b'0');
                if mant != 0 {
                    ndigits += 1;
                }
                if seen_dot {
                    frac += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            b'e' | b'E' => break,
            _ => return slow(),
        }
        i += 1;
    }
    if i == 0 || (i == 1 && seen_dot) {
        return slow();
    }
    let mut exp: i32 = 0;
    if i < digits.len() {
        let e = &digits[i + 1..];
        let (eneg, ed) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if ed.is_empty() || ed.len() > 4 || !ed.iter().all(u8::is_ascii_digit) {
            return slow();
        }
        exp = ed.iter().fold(0i32, |a, &c| a * 10 + i32::from(c - b'0'));
        if eneg {
            exp = -exp;
        }
    }
    let e10 = exp - frac;
    if mant >= 1 << 53 || e10.unsigned_abs() > 22 {
        return slow();
    }
    let m = mant as f64;
    let v = if e10 >= 0 {
        m * POW10[e10 as usize]
    } else {
        m / POW10[(-e10) as usize]
    };
    Some(if neg { -v } else { v })
}

/// FNV-1a over the host index and the server's bytes.
fn fnv1a(host: usize, server: &[u8], address: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in (host as u64)
        .to_le_bytes()
        .iter()
        .chain(server)
        .chain(&[0xff])
        .chain(address)
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn field_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'f> Ingest<'f> {
    /// A visitor for a file with `header`, keeping the rows `filter` selects.
    pub fn new(header: &Header, filter: &'f Filter) -> Result<Ingest<'f>, String> {
        let mut idx = [None; Column::ALL.len()];
        for &c in Column::ALL {
            idx[c as usize] = header.index(c.name());
        }
        if idx[Column::RunTime as usize].is_none() || idx[Column::Kind as usize].is_none() {
            return Err("the header has no \"run_time\" or \"kind\" column".into());
        }
        Ok(Ingest {
            cols: Cols { idx },
            filter,
            data: LogData::default(),
            hosts: HashMap::new(),
            series: HashMap::new(),
            newest_of_name: HashMap::new(),
            last_host: (Vec::new(), usize::MAX),
            last_time: (Vec::new(), 0),
            counts: IngestCounts::default(),
        })
    }

    /// The data decoded so far.
    pub fn into_data(self) -> LogData {
        self.data
    }

    fn raw<'a>(&self, row: &RawRow<'a>, col: Column) -> &'a [u8] {
        self.cols.idx[col as usize].map_or(&[][..], |i| row.field(i))
    }

    fn f64(&self, row: &RawRow<'_>, col: Column) -> Result<f64, String> {
        let b = self.raw(row, col);
        if b.is_empty() {
            return Ok(f64::NAN);
        }
        parse_f64(b).ok_or_else(|| {
            format!(
                "{}: invalid number {:?}",
                col.name(),
                String::from_utf8_lossy(b)
            )
        })
    }

    fn u32(&self, row: &RawRow<'_>, col: Column) -> Result<Option<u32>, String> {
        let b = self.raw(row, col);
        if b.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{}: invalid count {:?}",
                    col.name(),
                    String::from_utf8_lossy(b)
                )
            })
    }

    fn bool(&self, row: &RawRow<'_>, col: Column) -> Result<Option<bool>, String> {
        match self.raw(row, col) {
            b"" => Ok(None),
            b"true" => Ok(Some(true)),
            b"false" => Ok(Some(false)),
            b => Err(format!(
                "{}: invalid boolean {:?} (true or false)",
                col.name(),
                String::from_utf8_lossy(b)
            )),
        }
    }

    fn time(&mut self, row: &RawRow<'_>) -> Result<i64, String> {
        let b = self.raw(row, Column::RunTime);
        if b == self.last_time.0.as_slice() {
            return Ok(self.last_time.1);
        }
        let t = parse_rfc3339_ns(b).ok_or_else(|| {
            format!(
                "run_time: invalid RFC 3339 time {:?}",
                String::from_utf8_lossy(b)
            )
        })?;
        self.last_time.0.clear();
        self.last_time.0.extend_from_slice(b);
        self.last_time.1 = t;
        Ok(t)
    }

    fn host_index(&mut self, name: &[u8]) -> usize {
        if self.last_host.1 != usize::MAX && self.last_host.0 == name {
            return self.last_host.1;
        }
        let i = match self.hosts.get(name) {
            Some(&i) => i,
            None => {
                self.data.hosts.push(HostData {
                    host: field_str(name),
                    ..HostData::default()
                });
                let i = self.data.hosts.len() - 1;
                self.hosts.insert(name.to_vec(), i);
                i
            }
        };
        self.last_host.0.clear();
        self.last_host.0.extend_from_slice(name);
        self.last_host.1 = i;
        i
    }

    /// The series of `server` at `address` seen from `host`: every address is a clock of its
    /// own (the addresses of a pool share the pool's name). A row without an address (the
    /// name did not resolve) joins the series of the name's newest address, if any.
    fn series_index(&mut self, host: usize, server: &[u8], address: &[u8]) -> usize {
        if address.is_empty() {
            if let Some(&i) = self.newest_of_name.get(&(host, server.to_vec())) {
                return i;
            }
        }
        let key = fnv1a(host, server, address);
        if let Some(c) = self.series.get(&key) {
            for &i in c {
                let s = &self.data.series[i];
                if s.server.as_bytes() == server
                    && s.address.as_bytes() == address
                    && s.host == self.data.hosts[host].host
                {
                    return i;
                }
            }
        }
        self.data.series.push(ServerSeries {
            host: self.data.hosts[host].host.clone(),
            server: field_str(server),
            address: field_str(address),
            ..ServerSeries::default()
        });
        let i = self.data.series.len() - 1;
        self.series.entry(key).or_default().push(i);
        if !address.is_empty() {
            self.newest_of_name.insert((host, server.to_vec()), i);
        }
        i
    }

    /// Decodes a row's columns (all of them, whether the filters keep it or not, so a
    /// malformed row is an error wherever it is).
    fn decode<'a>(&self, row: &RawRow<'a>, kind: &[u8]) -> Result<Decoded<'a>, String> {
        Ok(match kind {
            b"ntp" => {
                let leap_b = self.raw(row, Column::Leap);
                Decoded::Ntp {
                    server: self.raw(row, Column::Server),
                    address: self.raw(row, Column::Address),
                    status: self.raw(row, Column::Status),
                    v: [
                        self.f64(row, Column::OffsetS)?,
                        self.f64(row, Column::DelayS)?,
                        self.f64(row, Column::BoundLoS)?,
                        self.f64(row, Column::BoundHiS)?,
                        self.f64(row, Column::UtcLoS)?,
                        self.f64(row, Column::UtcHiS)?,
                    ],
                    truechimer: self.bool(row, Column::Truechimer)?,
                    leap: LeapFlag::parse(leap_b).ok_or_else(|| {
                        format!(
                            "leap: invalid leap indicator {:?} (none, insert, delete, unsynchronized)",
                            String::from_utf8_lossy(leap_b)
                        )
                    })?,
                }
            }
            b"agreement" => Decoded::Agreement {
                lo: self.f64(row, Column::UtcLoS)?,
                hi: self.f64(row, Column::UtcHiS)?,
                falsetickers: self.u32(row, Column::Falsetickers)?.unwrap_or(0),
                majority: AgreementStatus::parse(self.raw(row, Column::Status))
                    == Some(AgreementStatus::Majority),
            },
            b"clock" => Decoded::Clock {
                v: [
                    self.f64(row, Column::RatePpm)?,
                    self.f64(row, Column::RateCi95Ppm)?,
                    self.f64(row, Column::KernelFreqPpm)?,
                    self.f64(row, Column::StepMaxS)?,
                    self.f64(row, Column::SuspendedS)?,
                ],
                steps: self.u32(row, Column::Steps)?.unwrap_or(0),
                kstate: self.raw(row, Column::KernelState),
            },
            b"pause" => Decoded::Pause {
                max: self.f64(row, Column::PauseMaxS)?,
                p99: self.f64(row, Column::PauseP99S)?,
                events: self.u32(row, Column::PauseEvents)?.unwrap_or(0),
            },
            b"leap" => Decoded::Leap {
                status: self.raw(row, Column::Status),
                next: self.raw(row, Column::LeapNext),
                expires: self.raw(row, Column::LeapExpires),
            },
            other => {
                return Err(format!(
                    "kind: unknown row kind {:?} (ntp, agreement, clock, pause, leap)",
                    String::from_utf8_lossy(other)
                ))
            }
        })
    }

    /// Keeps a decoded row of `host` at `t`, of the run `run` (a hash of its `run_id`).
    fn keep(&mut self, host: usize, t: i64, run: u64, d: Decoded<'_>) {
        let h = &mut self.data.hosts[host];
        match d {
            Decoded::Ntp {
                server,
                address,
                status,
                v,
                truechimer,
                leap,
            } => {
                let i = self.series_index(host, server, address);
                let s = &mut self.data.series[i];
                match s.statuses.get_mut(&*String::from_utf8_lossy(status)) {
                    Some(n) => *n += 1,
                    None => {
                        s.statuses.insert(field_str(status), 1);
                    }
                }
                s.t_ns.push(t);
                s.offset_s.push(v[0]);
                s.delay_s.push(v[1]);
                s.bound_lo_s.push(v[2]);
                s.bound_hi_s.push(v[3]);
                s.utc_lo_s.push(v[4]);
                s.utc_hi_s.push(v[5]);
                // Only a measured server takes part in the selection.
                s.truechimer
                    .push(if v[0].is_nan() { None } else { truechimer });
                s.leap.push(leap);
            }
            Decoded::Agreement {
                lo,
                hi,
                falsetickers,
                majority,
            } => {
                let a = &mut h.agreement;
                a.t_ns.push(t);
                a.lo_s.push(lo);
                a.hi_s.push(hi);
                a.majority.push(majority);
                a.falsetickers.push(falsetickers);
            }
            Decoded::Clock { v, steps, kstate } => {
                let c = &mut h.clock;
                c.t_ns.push(t);
                c.rate_ppm.push(v[0]);
                c.rate_ci95_ppm.push(v[1]);
                c.kernel_freq_ppm.push(v[2]);
                c.step_max_s.push(v[3]);
                c.suspended_s.push(v[4]);
                c.steps.push(steps);
                if !kstate.is_empty()
                    && c.kernel_states
                        .last()
                        .is_none_or(|k| k.1.as_bytes() != kstate)
                {
                    c.kernel_states.push((t, field_str(kstate)));
                }
            }
            Decoded::Pause { max, p99, events } => {
                let p = &mut h.pause;
                p.t_ns.push(t);
                p.max_s.push(max);
                p.p99_s.push(p99);
                p.events.push(events);
            }
            Decoded::Leap {
                status,
                next,
                expires,
            } => {
                let same = h.leap.last().is_some_and(|x| {
                    x.status.as_bytes() == status
                        && x.next.as_bytes() == next
                        && x.expires.as_bytes() == expires
                });
                if !same {
                    h.leap.push(LeapState {
                        t_ns: t,
                        status: field_str(status),
                        next: field_str(next),
                        expires: field_str(expires),
                    });
                }
            }
        }
        let h = &mut self.data.hosts[host];
        if h.runs_ns.last() != Some(&t) {
            h.runs_ns.push(t);
        }
        if h.run_keys.last() != Some(&(t, run)) {
            h.run_keys.push((t, run));
        }
    }
}

/// One row's decoded columns, borrowing the row's text.
enum Decoded<'a> {
    Ntp {
        server: &'a [u8],
        address: &'a [u8],
        status: &'a [u8],
        /// offset, delay, bound lo/hi, UTC lo/hi.
        v: [f64; 6],
        truechimer: Option<bool>,
        leap: LeapFlag,
    },
    Agreement {
        lo: f64,
        hi: f64,
        falsetickers: u32,
        majority: bool,
    },
    Clock {
        /// rate, its 95 % half-width, kernel frequency, largest step, time suspended.
        v: [f64; 5],
        steps: u32,
        kstate: &'a [u8],
    },
    Pause {
        max: f64,
        p99: f64,
        events: u32,
    },
    Leap {
        status: &'a [u8],
        next: &'a [u8],
        expires: &'a [u8],
    },
}

impl RowVisitor for Ingest<'_> {
    fn visit(&mut self, row: &RawRow<'_>) -> Result<(), String> {
        let t = self.time(row)?;
        let kind = self.raw(row, Column::Kind);
        let d = self.decode(row, kind)?;
        self.counts.rows += 1;
        self.counts.first_ns = Some(self.counts.first_ns.map_or(t, |f| f.min(t)));
        self.counts.last_ns = Some(self.counts.last_ns.map_or(t, |l| l.max(t)));
        let host_name = self.raw(row, Column::Host);
        if !self.filter.time_ok(t) || !self.filter.host_ok(host_name) {
            return Ok(());
        }
        if let Decoded::Ntp {
            server, address, ..
        } = &d
        {
            if !self.filter.server_ok(server, address) {
                return Ok(());
            }
        }
        let host = self.host_index(host_name);
        let run_id = self.raw(row, Column::RunId);
        let run = if run_id.is_empty() {
            0
        } else {
            fnv1a(0, run_id, b"")
        };
        self.keep(host, t, run, d);
        self.counts.used += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_driftlog::scan::scan_log;
    use skew_driftlog::schema::COLUMNS;

    #[test]
    fn fast_numbers_match_the_standard_parser() {
        for text in [
            "0",
            "-0",
            "1",
            "0.5",
            "-0.001611252",
            "8.132e-6",
            "1.5E+3",
            "250000000",
            "0.25",
            "1e-22",
            "123456789012345678",
            "3.",
            ".5",
            "+2",
            "9007199254740993",
            "1e23",
            "12345678901234567890",
            "1e-400",
            "inf",
            "NaN",
            "1e",
            "",
            "-",
            ".",
            "1.2.3",
            "0x10",
            "1e+",
            " 1",
            "1_0",
        ] {
            let std = text.parse::<f64>().ok();
            let fast = parse_f64(text.as_bytes());
            match (std, fast) {
                (Some(a), Some(b)) => {
                    assert!(a == b || (a.is_nan() && b.is_nan()), "{text}: {a} vs {b}")
                }
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{text}: {a:?} vs {b:?}"),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_parse_round_trips(x in proptest::num::f64::NORMAL | proptest::num::f64::ZERO, ns in -10_000_000_000i64..10_000_000_000) {
            // As serde/ryu writes them, and as the monitor's values are (integer ns / 1e9).
            for v in [x, ns as f64 / 1e9] {
                let text = format!("{v:?}");
                proptest::prop_assert_eq!(parse_f64(text.as_bytes()), Some(v));
                let mut w = csv::Writer::from_writer(vec![]);
                w.serialize(v).unwrap();
                let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
                proptest::prop_assert_eq!(parse_f64(text.trim().as_bytes()), Some(v));
            }
        }
    }

    #[test]
    fn every_used_column_is_in_the_schema() {
        // The columns are `Column`s now, so a name outside the schema cannot be written;
        // the header lookup uses exactly the schema's names.
        for c in Column::ALL {
            assert!(
                COLUMNS.contains(&c.name()),
                "{c:?} is not a drift-log column"
            );
        }
    }

    fn ingest(text: &str, filter: &Filter) -> Result<(LogData, IngestCounts), String> {
        let s = scan_log("t.csv", text.as_bytes(), 1, |h| Ingest::new(h, filter))
            .map_err(|e| e.to_string())?;
        let mut data = LogData::default();
        let mut counts = IngestCounts::default();
        for v in s.visitors {
            counts.rows += v.counts.rows;
            counts.used += v.counts.used;
            data.merge(v.into_data());
        }
        data.finish();
        Ok((data, counts))
    }

    fn log(rows: &[skew_driftlog::DriftRow]) -> String {
        let mut w = csv::Writer::from_writer(vec![]);
        for r in rows {
            w.serialize(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn ntp(t: &str, server: &str, offset: Option<f64>) -> skew_driftlog::DriftRow {
        skew_driftlog::DriftRow {
            run_time: t.into(),
            host: "h1".into(),
            kind: skew_driftlog::Kind::Ntp,
            server: Some(server.into()),
            address: Some(format!("{server}:123")),
            status: Some(if offset.is_some() { "ok" } else { "timeout" }.into()),
            offset_s: offset,
            delay_s: offset.map(|_| 1e-5),
            bound_lo_s: offset.map(|o| o - 5e-6),
            bound_hi_s: offset.map(|o| o + 5e-6),
            truechimer: Some(offset.is_some()),
            leap: offset.map(|_| skew_driftlog::Leap::None),
            ..Default::default()
        }
    }

    #[test]
    fn decodes_and_filters() {
        let t1 = "2026-11-20T00:00:00.000000000Z";
        let t2 = "2026-11-20T00:00:10.000000000Z";
        let rows = vec![
            ntp(t1, "a", Some(1e-6)),
            ntp(t1, "b", None),
            skew_driftlog::DriftRow {
                run_time: t1.into(),
                host: "h1".into(),
                kind: skew_driftlog::Kind::Pause,
                pause_max_s: Some(0.002),
                pause_events: Some(0),
                ..Default::default()
            },
            ntp(t2, "a", Some(2e-6)),
            ntp(t2, "b", Some(3e-6)),
        ];
        let text = log(&rows);
        let (d, c) = ingest(&text, &Filter::default()).unwrap();
        assert_eq!((c.rows, c.used), (5, 5));
        assert_eq!(d.series.len(), 2);
        let b = &d.series[1];
        assert_eq!(b.server, "b");
        assert_eq!(b.address, "b:123");
        assert!(b.offset_s[0].is_nan());
        assert_eq!(b.truechimer, vec![None, Some(true)]);
        assert_eq!(b.statuses.get("timeout"), Some(&1));
        assert_eq!(d.hosts[0].runs_ns.len(), 2);
        assert_eq!(d.hosts[0].pause.max_s, vec![0.002]);
        let f = Filter {
            since_ns: Some(parse_rfc3339_ns(t2.as_bytes()).unwrap()),
            servers: vec!["a:123".into()],
            ..Filter::default()
        };
        let (d, c) = ingest(&text, &f).unwrap();
        assert_eq!((c.rows, c.used), (5, 1));
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].offset_s, vec![2e-6]);
    }

    #[test]
    fn runs_at_the_same_time_stay_apart_by_run_id() {
        // Issue 14.14: two monitors wrote the same run_time and the report merged them.
        let t = "2026-11-27T00:00:00.000000000Z";
        let t2 = "2026-11-27T00:01:00.000000000Z";
        let with = |t: &str, id: Option<&str>| {
            let mut r = ntp(t, "a", Some(1e-6));
            r.run_id = id.map(String::from);
            r
        };
        let f = Filter::default();
        let (d, _) = ingest(
            &log(&[
                with(t, Some("aaaa")),
                with(t, Some("bbbb")),
                with(t2, Some("cccc")),
            ]),
            &f,
        )
        .unwrap();
        assert_eq!(d.hosts[0].runs(), 3);
        assert_eq!(d.hosts[0].concurrent_runs(), 1);
        assert_eq!(d.hosts[0].runs_ns.len(), 2, "distinct times for gaps");
        // A log without run_id (written before it existed) counts runs by time.
        let (d, _) = ingest(&log(&[with(t, None), with(t, None), with(t2, None)]), &f).unwrap();
        assert_eq!(d.hosts[0].runs(), 2);
        assert_eq!(d.hosts[0].concurrent_runs(), 0);
    }

    #[test]
    fn rows_outside_the_filter_are_still_checked() {
        // The writer puts seconds with nine decimals: 1e-6 is "0.000001000".
        let text =
            log(&[ntp("2026-11-20T00:00:00Z", "a", Some(1e-6))]).replacen("0.000001000,", "x,", 1);
        let f = Filter {
            since_ns: Some(i64::MAX),
            ..Filter::default()
        };
        let e = ingest(&text, &f).unwrap_err();
        assert!(e.contains("t.csv:2: malformed row: offset_s"), "{e}");
    }

    #[test]
    fn bad_values_name_the_column() {
        let text = log(&[ntp("2026-11-20T00:00:00Z", "a", Some(1e-6))]);
        for (from, to, msg) in [
            ("0.000001000,", "zero,", "offset_s: invalid number \"zero\""),
            (
                "2026-11-20T00:00:00Z",
                "yesterday",
                "run_time: invalid RFC 3339",
            ),
            (",true,", ",yes,", "truechimer: invalid boolean"),
            (",ntp,", ",hiccup,", "unknown row kind \"hiccup\""),
        ] {
            let bad = text.replacen(from, to, 1);
            assert_ne!(bad, text, "{from}");
            let e = ingest(&bad, &Filter::default()).unwrap_err();
            assert!(e.starts_with("t.csv:2: malformed row: "), "{e}");
            assert!(e.contains(msg), "{e}");
        }
    }

    /// Issue 13's pools: the addresses of one name are clocks of their own. A log where
    /// `pool.test` answered at two addresses, 100 ms apart, gives two series named by their
    /// addresses (not one series zigzagging between them), a row whose name did not resolve
    /// joins its name's last address, and the pairwise skew sees the 100 ms.
    #[test]
    fn the_addresses_of_a_pool_are_series_of_their_own() {
        let runs = [
            "2026-11-20T00:00:00.000000000Z",
            "2026-11-20T00:01:00.000000000Z",
            "2026-11-20T00:02:00.000000000Z",
        ];
        let mut rows = Vec::new();
        for (k, t) in runs.iter().enumerate() {
            for (address, offset) in [("127.0.0.1:123", 0.0), ("127.0.0.2:123", 0.1)] {
                let mut r = ntp(t, "pool.test", Some(offset));
                r.address = Some(address.into());
                if k == 2 && offset == 0.1 {
                    // The last run could not resolve the name for this member.
                    r.address = None;
                    r.status = Some("unresolved".into());
                    (r.offset_s, r.bound_lo_s, r.bound_hi_s, r.delay_s) = (None, None, None, None);
                    r.truechimer = Some(false);
                    r.leap = None;
                }
                rows.push(r);
            }
        }
        let (d, _) = ingest(&log(&rows), &Filter::default()).unwrap();
        let names: Vec<(&str, &str, usize)> = d
            .series
            .iter()
            .map(|s| (s.server.as_str(), s.address.as_str(), s.len()))
            .collect();
        assert_eq!(
            names,
            [
                ("pool.test (127.0.0.1:123)", "127.0.0.1:123", 3),
                ("pool.test (127.0.0.2:123)", "127.0.0.2:123", 3),
            ]
        );
        assert!(d.series[0].offset_s.iter().all(|o| *o == 0.0));
        assert_eq!(d.series[1].offset_s[..2], [0.1, 0.1]);
        let skew = crate::fleet::log_skew(&d, None, 0.0).unwrap();
        assert!(skew.skew.bound_s() > 0.1, "{skew:?}");
        // A name at one address keeps its plain name.
        let (d, _) = ingest(
            &log(&[ntp(runs[0], "a", Some(0.0)), ntp(runs[1], "a", Some(0.0))]),
            &Filter::default(),
        )
        .unwrap();
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].server, "a");
    }
}
