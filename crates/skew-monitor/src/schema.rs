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

/// Column names, in the order written.
pub const COLUMNS: &[&str] = &[
    "schema",
    "run_time",
    "host",
    "kind",
    "server",
    "address",
    "status",
    "offset_s",
    "delay_s",
    "jitter_s",
    "bound_lo_s",
    "bound_hi_s",
    "utc_lo_s",
    "utc_hi_s",
    "stratum",
    "leap",
    "root_delay_s",
    "root_dispersion_s",
    "truechimer",
    "truechimers",
    "falsetickers",
    "error",
    "rate_ppm",
    "rate_ci95_ppm",
    "kernel_freq_ppm",
    "kernel_state",
    "kernel_synchronized",
    "steps",
    "step_max_s",
    "suspended_s",
    "pause_max_s",
    "pause_p99_s",
    "pause_events",
    "leap_expires",
    "tai_minus_utc_s",
    "leap_next",
    "nts_authenticated",
    "nts_ke_duration_s",
    "nts_cert_not_after",
    "nts_cookies",
];

/// How many of [`COLUMNS`] the first version of the schema had: a log started before the
/// later columns were added is still appended to, with its own columns.
pub const FIRST_COLUMNS: usize = 36;

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

/// One drift-log row. Field names are the column names; `None` is an empty field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftRow {
    /// Schema version ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// The run's start, UTC, RFC 3339 with nanoseconds.
    pub run_time: String,
    /// The host that ran it.
    pub host: String,
    /// What the row describes.
    pub kind: Kind,
    /// Server as given (ntp).
    pub server: Option<String>,
    /// Address probed (ntp).
    pub address: Option<String>,
    /// ntp: probe status; agreement: `majority`/`no_majority`; leap: list status.
    pub status: Option<String>,
    /// ntp: best offset; agreement: midpoint of the agreement (s).
    pub offset_s: Option<f64>,
    /// Delay (s).
    pub delay_s: Option<f64>,
    /// Jitter (s).
    pub jitter_s: Option<f64>,
    /// Hard bound, lower end (s).
    pub bound_lo_s: Option<f64>,
    /// Hard bound, upper end (s).
    pub bound_hi_s: Option<f64>,
    /// UTC bound (ntp) or agreement interval (agreement), lower end (s).
    pub utc_lo_s: Option<f64>,
    /// UTC bound (ntp) or agreement interval (agreement), upper end (s).
    pub utc_hi_s: Option<f64>,
    /// Stratum.
    pub stratum: Option<u8>,
    /// Leap indicator (`none`, `insert`, `delete`, `unsynchronized`).
    pub leap: Option<String>,
    /// Root delay (s).
    pub root_delay_s: Option<f64>,
    /// Root dispersion (s).
    pub root_dispersion_s: Option<f64>,
    /// Whether the server agrees with the majority.
    pub truechimer: Option<bool>,
    /// agreement: number of truechimers.
    pub truechimers: Option<u32>,
    /// agreement: number of falsetickers.
    pub falsetickers: Option<u32>,
    /// Why not ok (one line).
    pub error: Option<String>,
    /// clock: time-of-day rate against MONOTONIC_RAW (ppm).
    pub rate_ppm: Option<f64>,
    /// clock: half-width of the rate's 95 % confidence interval (ppm).
    pub rate_ci95_ppm: Option<f64>,
    /// clock / leap: the kernel's frequency correction (ppm).
    pub kernel_freq_ppm: Option<f64>,
    /// clock / leap: the kernel's state (`TIME_OK`...).
    pub kernel_state: Option<String>,
    /// clock: whether the kernel considers the clock synchronized.
    pub kernel_synchronized: Option<bool>,
    /// clock: steps of the time-of-day clock seen during the reading.
    pub steps: Option<u32>,
    /// clock: the largest step, signed (s).
    pub step_max_s: Option<f64>,
    /// clock: BOOTTIME − MONOTONIC, time spent suspended since boot (s).
    pub suspended_s: Option<f64>,
    /// pause: the longest pause's upper bound (s).
    pub pause_max_s: Option<f64>,
    /// pause: 99th percentile of the sleep overshoot (s).
    pub pause_p99_s: Option<f64>,
    /// pause: events above the threshold.
    pub pause_events: Option<u32>,
    /// leap: expiry of the leap-seconds list (RFC 3339).
    pub leap_expires: Option<String>,
    /// leap: TAI − UTC now according to the list (s).
    pub tai_minus_utc_s: Option<i64>,
    /// leap: the next scheduled leap second (RFC 3339), empty if none.
    pub leap_next: Option<String>,
    /// ntp (NTS servers): whether every sample was authenticated.
    pub nts_authenticated: Option<bool>,
    /// ntp (NTS servers): the key exchange's duration (s).
    pub nts_ke_duration_s: Option<f64>,
    /// ntp (NTS servers): the certificate's notAfter (RFC 3339).
    pub nts_cert_not_after: Option<String>,
    /// ntp (NTS servers): cookies the key exchange gave.
    pub nts_cookies: Option<u32>,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_struct() {
        let mut w = csv::Writer::from_writer(vec![]);
        w.serialize(DriftRow::default()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header, COLUMNS.join(","));
        assert_eq!(COLUMNS[FIRST_COLUMNS - 1], "leap_next");
    }
}
