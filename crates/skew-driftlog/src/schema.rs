//! The drift log's CSV schema, version 1.
//!
//! One file holds rows of several kinds, told apart by the `kind` column; each row carries
//! the schema version, the run's time (UTC, RFC 3339 with nanoseconds) and the host name.
//! Columns a kind does not use are empty. Readers map columns by header name, so columns
//! added later (without a version change) do not break them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The schema version written in every row's `schema` column.
pub const SCHEMA_VERSION: u32 = 1;

/// Defines every column once: the [`DriftRow`] field (its name is the column's name), its
/// type, and its [`Column`] variant; [`COLUMNS`] and the header follow from the same list.
/// A field marked `[$with]` is written by the serializer function `$with` (seconds:
/// [`fixed_seconds`]).
macro_rules! columns {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty $([$with:literal])? => $variant:ident,)*) => {
        /// One drift-log row. Field names are the column names; `None` is an empty field.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct DriftRow {
            $($(#[doc = $doc])* $(#[serde(serialize_with = $with)])? pub $field: $ty,)*
        }

        /// A column of the drift log, in the order written.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Column {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Column {
            /// Every column, in the order written.
            pub const ALL: &'static [Column] = &[$(Column::$variant,)*];

            /// The column's name in the header.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Column::$variant => stringify!($field),)*
                }
            }
        }

        /// Column names, in the order written.
        pub const COLUMNS: &[&str] = &[$(stringify!($field),)*];
    };
}

columns! {
    /// Schema version ([`SCHEMA_VERSION`]).
    schema: u32 => Schema,
    /// The run's start, UTC, RFC 3339 with nanoseconds.
    run_time: String => RunTime,
    /// The host that ran it.
    host: String => Host,
    /// What the row describes.
    kind: Kind => Kind,
    /// Server as given (ntp).
    server: Option<String> => Server,
    /// Address probed (ntp).
    address: Option<String> => Address,
    /// ntp: probe status; agreement: `majority`/`no_majority`; leap: list status.
    status: Option<String> => Status,
    /// ntp: best offset; agreement: midpoint of the agreement (s).
    offset_s: Option<f64> ["fixed_seconds"] => OffsetS,
    /// Delay (s).
    delay_s: Option<f64> ["fixed_seconds"] => DelayS,
    /// Jitter (s).
    jitter_s: Option<f64> ["fixed_seconds"] => JitterS,
    /// Hard bound, lower end (s).
    bound_lo_s: Option<f64> ["fixed_seconds"] => BoundLoS,
    /// Hard bound, upper end (s).
    bound_hi_s: Option<f64> ["fixed_seconds"] => BoundHiS,
    /// UTC bound (ntp) or agreement interval (agreement), lower end (s).
    utc_lo_s: Option<f64> ["fixed_seconds"] => UtcLoS,
    /// UTC bound (ntp) or agreement interval (agreement), upper end (s).
    utc_hi_s: Option<f64> ["fixed_seconds"] => UtcHiS,
    /// Stratum.
    stratum: Option<u8> => Stratum,
    /// Leap indicator (`none`, `insert`, `delete`, `unsynchronized`).
    leap: Option<Leap> => Leap,
    /// Root delay (s).
    root_delay_s: Option<f64> ["fixed_seconds"] => RootDelayS,
    /// Root dispersion (s).
    root_dispersion_s: Option<f64> ["fixed_seconds"] => RootDispersionS,
    /// Whether the server agrees with the majority.
    truechimer: Option<bool> => Truechimer,
    /// agreement: number of truechimers.
    truechimers: Option<u32> => Truechimers,
    /// agreement: number of falsetickers.
    falsetickers: Option<u32> => Falsetickers,
    /// Why not ok (one line).
    error: Option<String> => Error,
    /// clock: time-of-day rate against MONOTONIC_RAW (ppm).
    rate_ppm: Option<f64> => RatePpm,
    /// clock: half-width of the rate's 95 % confidence interval (ppm).
    rate_ci95_ppm: Option<f64> => RateCi95Ppm,
    /// clock / leap: the kernel's frequency correction (ppm).
    kernel_freq_ppm: Option<f64> => KernelFreqPpm,
    /// clock / leap: the kernel's state (`TIME_OK`...).
    kernel_state: Option<String> => KernelState,
    /// clock: whether the kernel considers the clock synchronized.
    kernel_synchronized: Option<bool> => KernelSynchronized,
    /// clock: steps of the time-of-day clock seen during the reading.
    steps: Option<u32> => Steps,
    /// clock: the largest step, signed (s).
    step_max_s: Option<f64> ["fixed_seconds"] => StepMaxS,
    /// clock: BOOTTIME − MONOTONIC, time spent suspended since boot (s).
    suspended_s: Option<f64> ["fixed_seconds"] => SuspendedS,
    /// pause: the longest pause's upper bound (s).
    pause_max_s: Option<f64> ["fixed_seconds"] => PauseMaxS,
    /// pause: 99th percentile of the sleep overshoot (s).
    pause_p99_s: Option<f64> ["fixed_seconds"] => PauseP99S,
    /// pause: events above the threshold.
    pause_events: Option<u32> => PauseEvents,
    /// leap: expiry of the leap-seconds list (RFC 3339).
    leap_expires: Option<String> => LeapExpires,
    /// leap: TAI − UTC now according to the list (s).
    tai_minus_utc_s: Option<i64> => TaiMinusUtcS,
    /// leap: the next scheduled leap second (RFC 3339), empty if none.
    leap_next: Option<String> => LeapNext,
    /// ntp (NTS servers): whether every sample was authenticated.
    nts_authenticated: Option<bool> => NtsAuthenticated,
    /// ntp (NTS servers): the key exchange's duration (s).
    nts_ke_duration_s: Option<f64> => NtsKeDurationS,
    /// ntp (NTS servers): the certificate's notAfter (RFC 3339).
    nts_cert_not_after: Option<String> => NtsCertNotAfter,
    /// ntp (NTS servers): cookies the key exchange gave.
    nts_cookies: Option<u32> => NtsCookies,
    /// The run's identity: 16 hex digits each run draws at random, the same in all its
    /// rows, so that two runs that started in the same nanosecond (two monitors at once)
    /// stay apart (issue 14.14). Empty in logs written before it existed.
    run_id: Option<String> => RunId,
}

/// The headers that earlier releases wrote under this [`SCHEMA_VERSION`], each named by its
/// last column: columns are only ever added at the end, so each is a prefix of [`COLUMNS`].
/// A log started with one of them keeps its header and gets rows cut to its columns
/// ([`header_width`]); readers map columns by name, so the missing ones read as empty.
pub const EARLIER_HEADERS: &[Column] = &[
    // The first release: 36 columns, up to the leap-second status (before NTS).
    Column::LeapNext,
    // With NTS, before `run_id`: 40 columns.
    Column::NtsCookies,
];

/// How many columns a log whose header line is `line` (without its line end) takes: all of
/// [`COLUMNS`] for this schema's header, fewer for one of the [`EARLIER_HEADERS`]; `None`
/// for anything else.
pub fn header_width(line: &str) -> Option<usize> {
    let width = |last: &Column| Column::ALL.iter().position(|c| c == last).map(|i| i + 1);
    std::iter::once(COLUMNS.len())
        .chain(EARLIER_HEADERS.iter().filter_map(width))
        .find(|&n| {
            let mut names = line.split(',');
            COLUMNS[..n].iter().all(|c| names.next() == Some(c)) && names.next().is_none()
        })
}

/// Seconds as the drift log writes them: nine decimals, exact to the nanosecond, without
/// the noise of a float's shortest form (`-1.1320000000000001e-6` is written
/// `-0.000001132`). Values beyond ±9e9 s (or not finite) keep Rust's own form.
pub fn seconds_text(v: f64) -> String {
    if v.is_finite() && v.abs() < 9.0e9 {
        let ns = skew_time::s_to_ns(v);
        let sign = if ns < 0 { "-" } else { "" };
        let a = ns.unsigned_abs();
        format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
    } else {
        format!("{v}")
    }
}

/// Serializes an optional number of seconds with [`seconds_text`] (empty when `None`).
pub fn fixed_seconds<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(x) => s.serialize_str(&seconds_text(*x)),
    }
}

/// What a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One probed server: `server`, `address`, `status`, offset, delay, bounds, header fields.
    Ntp,
    /// The majority's verdict: `status` (`majority` or `no_majority`), the agreement interval
    /// in `utc_lo_s`/`utc_hi_s`, its midpoint in `offset_s`, `truechimers`, `falsetickers`.
    Agreement,
    /// The local clocks: `rate_ppm`, `rate_ci95_ppm`, `kernel_*`, `steps`, `step_max_s`,
    /// `suspended_s`.
    Clock,
    /// Pauses during the run's sample: `pause_max_s`, `pause_p99_s`, `pause_events`.
    Pause,
    /// The leap-second status: `status`, `leap_expires`, `tai_minus_utc_s`, `leap_next`,
    /// `kernel_state`.
    Leap,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Ntp => "ntp",
            Kind::Agreement => "agreement",
            Kind::Clock => "clock",
            Kind::Pause => "pause",
            Kind::Leap => "leap",
        })
    }
}

/// The `leap` column: the leap indicator a server sent (the NTP header's two bits).
pub use skew_ntp::Leap;

/// The `status` of an `agreement` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    /// A majority of the servers agree (`majority`).
    Majority,
    /// No majority (`no_majority`).
    NoMajority,
}

impl AgreementStatus {
    /// From whether there is a majority.
    pub fn of(majority: bool) -> AgreementStatus {
        if majority {
            AgreementStatus::Majority
        } else {
            AgreementStatus::NoMajority
        }
    }

    /// The drift log's word.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::Majority => "majority",
            AgreementStatus::NoMajority => "no_majority",
        }
    }

    /// Reads the drift log's word; `None` for anything else.
    pub fn parse(b: &[u8]) -> Option<AgreementStatus> {
        match b {
            b"majority" => Some(AgreementStatus::Majority),
            b"no_majority" => Some(AgreementStatus::NoMajority),
            _ => None,
        }
    }
}

/// The `status` of a `leap` row: the state of the leap-seconds list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeapListStatus {
    /// Valid and current (`ok`).
    Ok,
    /// Expires soon (`expiring`).
    Expiring,
    /// Past its expiry (`expired`).
    Expired,
    /// Its data contradict each other (`inconsistent`).
    Inconsistent,
    /// Its hash does not match (`bad_hash`).
    BadHash,
    /// No list was found (`missing`).
    Missing,
}

impl LeapListStatus {
    /// Every status.
    pub const ALL: [LeapListStatus; 6] = [
        LeapListStatus::Ok,
        LeapListStatus::Expiring,
        LeapListStatus::Expired,
        LeapListStatus::Inconsistent,
        LeapListStatus::BadHash,
        LeapListStatus::Missing,
    ];

    /// The drift log's word.
    pub fn as_str(self) -> &'static str {
        match self {
            LeapListStatus::Ok => "ok",
            LeapListStatus::Expiring => "expiring",
            LeapListStatus::Expired => "expired",
            LeapListStatus::Inconsistent => "inconsistent",
            LeapListStatus::BadHash => "bad_hash",
            LeapListStatus::Missing => "missing",
        }
    }

    /// Reads the drift log's word; `None` for anything else.
    pub fn parse(b: &[u8]) -> Option<LeapListStatus> {
        LeapListStatus::ALL
            .into_iter()
            .find(|s| s.as_str().as_bytes() == b)
    }
}

/// Reads the `leap` column: `Some(None)` for an empty field, `None` for a word that is not
/// a leap indicator.
pub fn parse_leap(b: &[u8]) -> Option<Option<Leap>> {
    Some(Some(match b {
        b"" => return Some(None),
        b"none" => Leap::None,
        b"insert" => Leap::Insert,
        b"delete" => Leap::Delete,
        b"unsynchronized" => Leap::Unsynchronized,
        _ => return None,
    }))
}

impl Default for DriftRow {
    fn default() -> Self {
        DriftRow {
            schema: SCHEMA_VERSION,
            run_time: String::new(),
            host: String::new(),
            kind: Kind::Ntp,
            server: None,
            address: None,
            status: None,
            offset_s: None,
            delay_s: None,
            jitter_s: None,
            bound_lo_s: None,
            bound_hi_s: None,
            utc_lo_s: None,
            utc_hi_s: None,
            stratum: None,
            leap: None,
            root_delay_s: None,
            root_dispersion_s: None,
            truechimer: None,
            truechimers: None,
            falsetickers: None,
            error: None,
            rate_ppm: None,
            rate_ci95_ppm: None,
            kernel_freq_ppm: None,
            kernel_state: None,
            kernel_synchronized: None,
            steps: None,
            step_max_s: None,
            suspended_s: None,
            pause_max_s: None,
            pause_p99_s: None,
            pause_events: None,
            leap_expires: None,
            tai_minus_utc_s: None,
            leap_next: None,
            nts_authenticated: None,
            nts_ke_duration_s: None,
            nts_cert_not_after: None,
            nts_cookies: None,
            run_id: None,
        }
    }
}

/// The header line of this schema, without its newline.
pub fn header_line() -> String {
    COLUMNS.join(",")
}

/// Whether a byte ends a line. Rows are written with `\n` (a `\r` before it is tolerated
/// as part of the line end); the reader ([`crate::scan`]), the appender's repair and the
/// header check use this same notion, so a file is never cut where the reader sees a row.
pub fn is_line_end(b: &u8) -> bool {
    *b == b'\n'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds are written exact to the nanosecond, without float noise (issue 13.6: the
    /// log carried `-1.1320000000000001e-6`).
    #[test]
    fn seconds_have_nine_decimals_and_no_noise() {
        // The float next to -1.132 µs, as a midpoint's arithmetic gives it.
        let noisy: f64 = -1.1320000000000001e-6;
        assert_ne!(noisy, -1.132e-6);
        assert_eq!(format!("{noisy}"), "-0.0000011320000000000001");
        assert_eq!(seconds_text(-1.1320000000000001e-6), "-0.000001132");
        assert_eq!(seconds_text(noisy), "-0.000001132");
        assert_eq!(seconds_text(0.0), "0.000000000");
        assert_eq!(seconds_text(-0.0000000004), "0.000000000");
        assert_eq!(seconds_text(2.000000001), "2.000000001");
        assert_eq!(seconds_text(-287.1), "-287.100000000");
        assert_eq!(seconds_text(1e12), "1000000000000");
        assert_eq!(seconds_text(f64::NAN), "NaN");
        let row = DriftRow {
            offset_s: Some(noisy),
            utc_lo_s: Some(-0.2871),
            rate_ppm: Some(0.5),
            ..DriftRow::default()
        };
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(vec![]);
        w.serialize(&row).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert!(line.contains(",-0.000001132,"), "{line}");
        assert!(line.contains(",-0.287100000,"), "{line}");
        assert!(!line.contains("e-"), "{line}");
        // It reads back to the nanosecond.
        let back: DriftRow = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .deserialize()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(back.offset_s, Some(-0.000001132));
    }

    #[test]
    fn header_matches_struct() {
        let mut w = csv::Writer::from_writer(vec![]);
        w.serialize(DriftRow::default()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header, COLUMNS.join(","));
        assert_eq!(header, header_line());
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, COLUMNS);
    }

    #[test]
    fn earlier_headers_are_known_prefixes() {
        assert_eq!(header_width(&header_line()), Some(COLUMNS.len()));
        // The first release's header: 36 columns ending with leap_next.
        let first = COLUMNS[..36].join(",");
        assert_eq!(COLUMNS[35], "leap_next");
        assert_eq!(header_width(&first), Some(36));
        // The header with NTS, before run_id.
        assert_eq!(COLUMNS[39], "nts_cookies");
        assert_eq!(header_width(&COLUMNS[..40].join(",")), Some(40));
        assert_eq!(*COLUMNS.last().unwrap(), "run_id");
        // Any other prefix, a longer line or a foreign header is not a known header.
        assert_eq!(header_width(&COLUMNS[..37].join(",")), None);
        assert_eq!(header_width(&COLUMNS[..35].join(",")), None);
        assert_eq!(header_width(&format!("{first},extra")), None);
        assert_eq!(header_width(&format!("{},extra", header_line())), None);
        assert_eq!(header_width("a,b"), None);
        for last in EARLIER_HEADERS {
            assert_ne!(*last, *Column::ALL.last().unwrap(), "earlier means shorter");
        }
    }

    #[test]
    fn typed_values_read_back_what_is_written() {
        for (leap, word) in [
            (Some(Leap::None), "none"),
            (Some(Leap::Insert), "insert"),
            (Some(Leap::Delete), "delete"),
            (Some(Leap::Unsynchronized), "unsynchronized"),
            (None, ""),
        ] {
            assert_eq!(parse_leap(word.as_bytes()), Some(leap));
            let row = DriftRow {
                leap,
                ..DriftRow::default()
            };
            let mut w = csv::Writer::from_writer(vec![]);
            w.serialize(&row).unwrap();
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            let at = COLUMNS.iter().position(|c| *c == "leap").unwrap();
            let line = text.lines().nth(1).unwrap();
            assert_eq!(line.split(',').nth(at), Some(word));
        }
        assert_eq!(parse_leap(b"maybe"), None);
        for s in LeapListStatus::ALL {
            assert_eq!(LeapListStatus::parse(s.as_str().as_bytes()), Some(s));
        }
        for m in [true, false] {
            let s = AgreementStatus::of(m);
            assert_eq!(AgreementStatus::parse(s.as_str().as_bytes()), Some(s));
        }
        assert_eq!(AgreementStatus::parse(b"ok"), None);
    }
}
