//! The rows a report draws, as columns: one [`ServerSeries`] per (host, server) from the
//! `ntp` rows, and per host the `agreement`, `clock`, `pause` and `leap` rows. Values are
//! the log's seconds and ppm; an absent value is NaN. Times are ns since the Unix epoch.

use std::collections::{BTreeMap, HashMap};

/// The leap indicator a server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeapFlag {
    /// No value in the row.
    #[default]
    Absent,
    /// `none`.
    None,
    /// `insert`: the last minute of the day has 61 s.
    Insert,
    /// `delete`: it has 59 s.
    Delete,
    /// `unsynchronized` (alarm).
    Unsynchronized,
}

impl LeapFlag {
    /// Parses the drift log's value.
    pub fn parse(b: &[u8]) -> Option<LeapFlag> {
        use skew_driftlog::Leap;
        Some(match skew_driftlog::schema::parse_leap(b)? {
            None => LeapFlag::Absent,
            Some(Leap::None) => LeapFlag::None,
            Some(Leap::Insert) => LeapFlag::Insert,
            Some(Leap::Delete) => LeapFlag::Delete,
            Some(Leap::Unsynchronized) => LeapFlag::Unsynchronized,
        })
    }

    /// Whether a leap second is announced.
    pub fn announces(self) -> bool {
        matches!(self, LeapFlag::Insert | LeapFlag::Delete)
    }

    /// The drift log's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            LeapFlag::Absent => "",
            LeapFlag::None => "none",
            LeapFlag::Insert => "insert",
            LeapFlag::Delete => "delete",
            LeapFlag::Unsynchronized => "unsynchronized",
        }
    }
}

/// One server as seen from one host (`ntp` rows), in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSeries {
    /// The host that probed it.
    pub host: String,
    /// The server as given to the monitor.
    pub server: String,
    /// The address probed: a series is one clock, one address of one name (the addresses of
    /// a pool are series of their own). Empty when the name never resolved.
    pub address: String,
    /// Run times.
    pub t_ns: Vec<i64>,
    /// Offset (server − local), s.
    pub offset_s: Vec<f64>,
    /// Delay (round trip), s.
    pub delay_s: Vec<f64>,
    /// Hard bound, lower end, s.
    pub bound_lo_s: Vec<f64>,
    /// Hard bound, upper end, s.
    pub bound_hi_s: Vec<f64>,
    /// UTC bound, lower end, s.
    pub utc_lo_s: Vec<f64>,
    /// UTC bound, upper end, s.
    pub utc_hi_s: Vec<f64>,
    /// Whether the majority counted it (None: unknown, or not measured).
    pub truechimer: Vec<Option<bool>>,
    /// The leap indicator.
    pub leap: Vec<LeapFlag>,
    /// Rows per status (`ok`, `timeout`...).
    pub statuses: BTreeMap<String, u64>,
}

/// The majority's verdicts of one host (`agreement` rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgreementSeries {
    /// Run times.
    pub t_ns: Vec<i64>,
    /// Agreement interval on UTC − local, lower end, s (NaN without a majority).
    pub lo_s: Vec<f64>,
    /// Upper end, s.
    pub hi_s: Vec<f64>,
    /// Whether a majority agreed.
    pub majority: Vec<bool>,
    /// Falsetickers in the run.
    pub falsetickers: Vec<u32>,
}

/// The local clock readings of one host (`clock` rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClockSeries {
    /// Run times.
    pub t_ns: Vec<i64>,
    /// Time-of-day rate against the monotonic clock, ppm.
    pub rate_ppm: Vec<f64>,
    /// Half-width of its 95 % confidence interval, ppm.
    pub rate_ci95_ppm: Vec<f64>,
    /// The kernel's frequency correction, ppm.
    pub kernel_freq_ppm: Vec<f64>,
    /// Steps seen during the reading.
    pub steps: Vec<u32>,
    /// The largest step, signed, s.
    pub step_max_s: Vec<f64>,
    /// BOOTTIME − MONOTONIC, s.
    pub suspended_s: Vec<f64>,
    /// The kernel state where it changed: (time, state).
    pub kernel_states: Vec<(i64, String)>,
}

/// The pause samples of one host (`pause` rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PauseSeries {
    /// Run times.
    pub t_ns: Vec<i64>,
    /// The longest pause's upper bound, s.
    pub max_s: Vec<f64>,
    /// 99th percentile of the sleep overshoot, s.
    pub p99_s: Vec<f64>,
    /// Events above the detector's threshold.
    pub events: Vec<u32>,
}

/// The leap-second status of one host where it changed (`leap` rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeapState {
    /// Run time of the first row with this state.
    pub t_ns: i64,
    /// The list's status (`ok`, `expiring`...).
    pub status: String,
    /// The next scheduled leap second (RFC 3339), empty if none.
    pub next: String,
    /// The list's expiry (RFC 3339).
    pub expires: String,
}

/// Everything one host wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostData {
    /// The host's name.
    pub host: String,
    /// Distinct run times.
    pub runs_ns: Vec<i64>,
    /// Distinct runs: (run time, a hash of the run's `run_id`, 0 for rows without one), so
    /// that two runs started at the same time stay two runs (issue 14.14).
    pub run_keys: Vec<(i64, u64)>,
    /// `agreement` rows.
    pub agreement: AgreementSeries,
    /// `clock` rows.
    pub clock: ClockSeries,
    /// `pause` rows.
    pub pause: PauseSeries,
    /// `leap` rows, where the state changed.
    pub leap: Vec<LeapState>,
}

/// The data of a report: every selected row of every log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogData {
    /// Hosts, by name.
    pub hosts: Vec<HostData>,
    /// Server series, by (host, server).
    pub series: Vec<ServerSeries>,
}

/// A column that can be reordered by a permutation.
trait Permute {
    fn permute(&mut self, order: &[usize]);
}

impl<T: Clone> Permute for Vec<T> {
    fn permute(&mut self, order: &[usize]) {
        let v: Vec<T> = order.iter().map(|&i| self[i].clone()).collect();
        *self = v;
    }
}

/// Sorts columns by `t` (stable) when they are not in order already.
fn sort_by_time(t: &mut Vec<i64>, cols: &mut [&mut dyn Permute]) {
    if t.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let mut order: Vec<usize> = (0..t.len()).collect();
    order.sort_by_key(|&i| t[i]);
    t.permute(&order);
    for c in cols {
        c.permute(&order);
    }
}

impl ServerSeries {
    /// Rows in the series.
    pub fn len(&self) -> usize {
        self.t_ns.len()
    }

    /// Whether the series has no rows.
    pub fn is_empty(&self) -> bool {
        self.t_ns.is_empty()
    }

    /// The label used in legends and tables: the server, prefixed by the host when the
    /// report holds several hosts.
    pub fn label(&self, many_hosts: bool) -> String {
        if many_hosts {
            format!("{}: {}", self.host, self.server)
        } else {
            self.server.clone()
        }
    }

    fn append(&mut self, mut o: ServerSeries) {
        self.t_ns.append(&mut o.t_ns);
        self.offset_s.append(&mut o.offset_s);
        self.delay_s.append(&mut o.delay_s);
        self.bound_lo_s.append(&mut o.bound_lo_s);
        self.bound_hi_s.append(&mut o.bound_hi_s);
        self.utc_lo_s.append(&mut o.utc_lo_s);
        self.utc_hi_s.append(&mut o.utc_hi_s);
        self.truechimer.append(&mut o.truechimer);
        self.leap.append(&mut o.leap);
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        if !o.address.is_empty() {
            self.address = o.address;
        }
    }

    fn sort(&mut self) {
        sort_by_time(
            &mut self.t_ns,
            &mut [
                &mut self.offset_s,
                &mut self.delay_s,
                &mut self.bound_lo_s,
                &mut self.bound_hi_s,
                &mut self.utc_lo_s,
                &mut self.utc_hi_s,
                &mut self.truechimer,
                &mut self.leap,
            ],
        );
    }
}

impl HostData {
    /// Runs that share their run time with another run of this host (two monitors started
    /// at once): the runs beyond the first at each time.
    pub fn concurrent_runs(&self) -> usize {
        let mut times = self.run_keys.iter().map(|k| k.0).collect::<Vec<_>>();
        times.dedup();
        self.run_keys.len() - times.len()
    }

    /// Runs: distinct run times, plus the concurrent runs kept apart by their `run_id`.
    pub fn runs(&self) -> usize {
        self.runs_ns.len() + self.concurrent_runs()
    }

    fn append(&mut self, mut o: HostData) {
        self.runs_ns.append(&mut o.runs_ns);
        self.run_keys.append(&mut o.run_keys);
        let a = &mut self.agreement;
        let mut b = o.agreement;
        a.t_ns.append(&mut b.t_ns);
        a.lo_s.append(&mut b.lo_s);
        a.hi_s.append(&mut b.hi_s);
        a.majority.append(&mut b.majority);
        a.falsetickers.append(&mut b.falsetickers);
        let c = &mut self.clock;
        let mut d = o.clock;
        c.t_ns.append(&mut d.t_ns);
        c.rate_ppm.append(&mut d.rate_ppm);
        c.rate_ci95_ppm.append(&mut d.rate_ci95_ppm);
        c.kernel_freq_ppm.append(&mut d.kernel_freq_ppm);
        c.steps.append(&mut d.steps);
        c.step_max_s.append(&mut d.step_max_s);
        c.suspended_s.append(&mut d.suspended_s);
        c.kernel_states.append(&mut d.kernel_states);
        let p = &mut self.pause;
        let mut q = o.pause;
        p.t_ns.append(&mut q.t_ns);
        p.max_s.append(&mut q.max_s);
        p.p99_s.append(&mut q.p99_s);
        p.events.append(&mut q.events);
        self.leap.append(&mut o.leap);
    }

    fn sort(&mut self) {
        self.runs_ns.sort_unstable();
        self.runs_ns.dedup();
        self.run_keys.sort_unstable();
        self.run_keys.dedup();
        let a = &mut self.agreement;
        sort_by_time(
            &mut a.t_ns,
            &mut [
                &mut a.lo_s,
                &mut a.hi_s,
                &mut a.majority,
                &mut a.falsetickers,
            ],
        );
        let c = &mut self.clock;
        sort_by_time(
            &mut c.t_ns,
            &mut [
                &mut c.rate_ppm,
                &mut c.rate_ci95_ppm,
                &mut c.kernel_freq_ppm,
                &mut c.steps,
                &mut c.step_max_s,
                &mut c.suspended_s,
            ],
        );
        c.kernel_states.sort_by_key(|k| k.0);
        c.kernel_states.dedup_by(|b, a| a.1 == b.1);
        let p = &mut self.pause;
        sort_by_time(
            &mut p.t_ns,
            &mut [&mut p.max_s, &mut p.p99_s, &mut p.events],
        );
        self.leap.sort_by_key(|l| l.t_ns);
        self.leap
            .dedup_by(|b, a| (&a.status, &a.next, &a.expires) == (&b.status, &b.next, &b.expires));
    }
}

impl LogData {
    /// Adds another part (another file, or another chunk of one), keeping hosts and
    /// series unique; call [`LogData::finish`] once all parts are in. Linear in the hosts
    /// and series of both parts (names are looked up by hash, not by scanning).
    pub fn merge(&mut self, other: LogData) {
        if self.hosts.is_empty() && self.series.is_empty() {
            *self = other;
            return;
        }
        let mut hosts: HashMap<String, usize> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.host.clone(), i))
            .collect();
        for h in other.hosts {
            match hosts.get(&h.host) {
                Some(&i) => self.hosts[i].append(h),
                None => {
                    hosts.insert(h.host.clone(), self.hosts.len());
                    self.hosts.push(h);
                }
            }
        }
        let mut series: HashMap<(String, String, String), usize> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.host.clone(), s.server.clone(), s.address.clone()), i))
            .collect();
        for s in other.series {
            let key = (s.host.clone(), s.server.clone(), s.address.clone());
            match series.get(&key) {
                Some(&i) => self.series[i].append(s),
                None => {
                    series.insert(key, self.series.len());
                    self.series.push(s);
                }
            }
        }
    }

    /// Puts every column in time order and hosts and series in name order.
    pub fn finish(&mut self) {
        for h in &mut self.hosts {
            h.sort();
        }
        for s in &mut self.series {
            s.sort();
        }
        self.hosts.sort_by(|a, b| a.host.cmp(&b.host));
        self.series.sort_by(|a, b| {
            (&a.host, &a.server, &a.address).cmp(&(&b.host, &b.server, &b.address))
        });
        self.name_clocks_apart();
    }

    /// A name seen at several addresses (a pool, or a name whose address changed) is several
    /// clocks: each of its series is named `NAME (ADDRESS)` (`NAME (unresolved)` for rows
    /// the name never resolved in), so tables, legends, statistics and the pairwise skew never
    /// merge two clocks under one name. Series are sorted by host, name and address.
    fn name_clocks_apart(&mut self) {
        for name in self
            .series
            .chunk_by_mut(|a, b| a.host == b.host && a.server == b.server)
            .filter(|name| name.len() > 1)
        {
            for s in name {
                if s.address.is_empty() {
                    s.server = format!("{} (unresolved)", s.server);
                } else if s.address != s.server {
                    s.server = format!("{} ({})", s.server, s.address);
                }
            }
        }
    }

    /// The first and last run time of any row, if any.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let lo = self.hosts.iter().filter_map(|h| h.runs_ns.first()).min()?;
        let hi = self.hosts.iter().filter_map(|h| h.runs_ns.last()).max()?;
        Some((*lo, *hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(host: &str, server: &str, t: &[i64]) -> ServerSeries {
        ServerSeries {
            host: host.into(),
            server: server.into(),
            t_ns: t.to_vec(),
            offset_s: t.iter().map(|&x| x as f64).collect(),
            delay_s: vec![0.0; t.len()],
            bound_lo_s: vec![0.0; t.len()],
            bound_hi_s: vec![0.0; t.len()],
            utc_lo_s: vec![0.0; t.len()],
            utc_hi_s: vec![0.0; t.len()],
            truechimer: t.iter().map(|&x| Some(x % 2 == 0)).collect(),
            leap: vec![LeapFlag::None; t.len()],
            statuses: BTreeMap::from([("ok".to_string(), t.len() as u64)]),
            ..ServerSeries::default()
        }
    }

    #[test]
    fn merge_sorts_rotated_files_back_into_order() {
        // drift.csv.1 (older) read after drift.csv (newer).
        let mut d = LogData {
            series: vec![series("h", "a", &[30, 40])],
            hosts: vec![HostData {
                host: "h".into(),
                runs_ns: vec![30, 40],
                ..HostData::default()
            }],
        };
        d.merge(LogData {
            series: vec![series("h", "a", &[10, 20]), series("h", "b", &[10])],
            hosts: vec![HostData {
                host: "h".into(),
                runs_ns: vec![10, 20, 20],
                ..HostData::default()
            }],
        });
        d.finish();
        assert_eq!(d.series.len(), 2);
        let a = &d.series[0];
        assert_eq!(a.t_ns, vec![10, 20, 30, 40]);
        assert_eq!(a.offset_s, vec![10.0, 20.0, 30.0, 40.0]);
        assert_eq!(a.truechimer, vec![Some(true); 4]);
        assert_eq!(a.statuses["ok"], 4);
        assert_eq!(d.hosts[0].runs_ns, vec![10, 20, 30, 40]);
        assert_eq!(d.time_range(), Some((10, 40)));
        assert_eq!(a.label(false), "a");
        assert_eq!(a.label(true), "h: a");
    }

    #[test]
    fn leap_flags() {
        assert_eq!(LeapFlag::parse(b"insert"), Some(LeapFlag::Insert));
        assert!(LeapFlag::Insert.announces() && !LeapFlag::None.announces());
        assert_eq!(LeapFlag::parse(b"maybe"), None);
        assert_eq!(LeapFlag::Delete.as_str(), "delete");
    }
}
