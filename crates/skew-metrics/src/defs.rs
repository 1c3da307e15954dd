//! Every metric skew exposes: its name, help text, type and label names, defined once.
//!
//! Names follow the Prometheus conventions: a `skew_` prefix, base units in the name
//! (`_seconds`; `_ppm` where chrony and the kernel speak ppm), `_total` for counters. Labels
//! carry identity (server, address, τ), never values. The textfile of `skew monitor`, the
//! exporter's `/metrics` and its `/probe` answers are all made from these definitions.

/// A metric's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only grows (its name ends in `_total`).
    Counter,
}

/// One metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// The exposed name.
    pub name: &'static str,
    /// The HELP text.
    pub help: &'static str,
    /// Gauge or counter.
    pub kind: Kind,
    /// Label names, in the order their values are given.
    pub labels: &'static [&'static str],
}

/// Labels of per-server metrics: the server as given, and the address probed.
pub const SERVER: &[&str] = &["server", "address"];
/// Labels of the Allan deviation: per server and averaging time.
pub const SERVER_TAU: &[&str] = &["server", "address", "tau_seconds"];
/// Labels of per-server error counts.
pub const SERVER_STATUS: &[&str] = &["server", "address", "status"];
/// Labels of per-NTS-server metrics: the server as given (its key exchange's name; one
/// exchange serves every address it names).
pub const NTS_SERVER: &[&str] = &["server"];
/// Labels of an NTS server's key exchanges by what triggered them.
pub const NTS_SERVER_TRIGGER: &[&str] = &["server", "trigger"];
/// Labels of an NTS server's failed key exchanges by the step that failed.
pub const NTS_SERVER_STEP: &[&str] = &["server", "step"];
/// No labels.
pub const NONE: &[&str] = &[];

const fn gauge(
    name: &'static str,
    labels: &'static [&'static str],
    help: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        help,
        kind: Kind::Gauge,
        labels,
    }
}

const fn counter(
    name: &'static str,
    labels: &'static [&'static str],
    help: &'static str,
) -> MetricDef {
    MetricDef {
        name,
        help,
        kind: Kind::Counter,
        labels,
    }
}

// --- Per server: one probe's result (monitor runs, every exporter poll, /probe) ---

/// 1 when measured with status ok.
pub const NTP_UP: MetricDef = gauge(
    "skew_ntp_up",
    SERVER,
    "1 when the server was measured with status ok, else 0.",
);
/// The best sample's offset.
pub const NTP_OFFSET: MetricDef = gauge(
    "skew_ntp_offset_seconds",
    SERVER,
    "Offset of the server's clock from the local clock (server - local) of the best sample.",
);
/// The hard bound's lower end.
pub const NTP_BOUND_LOWER: MetricDef = gauge(
    "skew_ntp_bound_lower_seconds",
    SERVER,
    "Lower end of the hard bound on the offset to the server's clock.",
);
/// The hard bound's upper end.
pub const NTP_BOUND_UPPER: MetricDef = gauge(
    "skew_ntp_bound_upper_seconds",
    SERVER,
    "Upper end of the hard bound on the offset to the server's clock.",
);
/// The UTC bound's lower end.
pub const NTP_UTC_BOUND_LOWER: MetricDef = gauge(
    "skew_ntp_utc_bound_lower_seconds",
    SERVER,
    "Lower end of the bound on the offset to UTC through this server.",
);
/// The UTC bound's upper end.
pub const NTP_UTC_BOUND_UPPER: MetricDef = gauge(
    "skew_ntp_utc_bound_upper_seconds",
    SERVER,
    "Upper end of the bound on the offset to UTC through this server.",
);
/// The best sample's delay.
pub const NTP_DELAY: MetricDef = gauge(
    "skew_ntp_delay_seconds",
    SERVER,
    "Round-trip delay of the best sample.",
);
/// Jitter of the samples.
pub const NTP_JITTER: MetricDef = gauge(
    "skew_ntp_jitter_seconds",
    SERVER,
    "RMS of the samples' offset differences to the best sample.",
);
/// Stratum.
pub const NTP_STRATUM: MetricDef =
    gauge("skew_ntp_stratum", SERVER, "Stratum the server reported.");
/// Leap indicator.
pub const NTP_LEAP: MetricDef = gauge(
    "skew_ntp_leap",
    SERVER,
    "Leap indicator the server sent (0 none, 1 insert, 2 delete, 3 unsynchronized).",
);
/// Root delay.
pub const NTP_ROOT_DELAY: MetricDef = gauge(
    "skew_ntp_root_delay_seconds",
    SERVER,
    "Root delay the server reported.",
);
/// Root dispersion.
pub const NTP_ROOT_DISPERSION: MetricDef = gauge(
    "skew_ntp_root_dispersion_seconds",
    SERVER,
    "Root dispersion the server reported.",
);
/// Agreement with the majority.
pub const NTP_TRUECHIMER: MetricDef = gauge(
    "skew_ntp_truechimer",
    SERVER,
    "1 when the server agrees with the majority, else 0.",
);

/// The per-server families of one probe result, in the order they are written.
pub const NTP_PER_SERVER: [&MetricDef; 13] = [
    &NTP_UP,
    &NTP_OFFSET,
    &NTP_BOUND_LOWER,
    &NTP_BOUND_UPPER,
    &NTP_UTC_BOUND_LOWER,
    &NTP_UTC_BOUND_UPPER,
    &NTP_DELAY,
    &NTP_JITTER,
    &NTP_STRATUM,
    &NTP_LEAP,
    &NTP_ROOT_DELAY,
    &NTP_ROOT_DISPERSION,
    &NTP_TRUECHIMER,
];

// --- Per NTS server: its key exchange and authentication (monitor runs with NTS) ---

/// Whether every sample was authenticated.
pub const NTS_AUTHENTICATED: MetricDef = gauge(
    "skew_nts_authenticated",
    NTS_SERVER,
    "1 when every sample from this NTS server was authenticated, else 0.",
);
/// The key exchange's duration.
pub const NTS_KE_DURATION: MetricDef = gauge(
    "skew_nts_ke_duration_seconds",
    NTS_SERVER,
    "Duration of the NTS key exchange (TCP connect to its last record).",
);
/// The NTS-KE certificate's notAfter.
pub const NTS_CERT_EXPIRY: MetricDef = gauge(
    "skew_nts_cert_expiry_timestamp_seconds",
    NTS_SERVER,
    "When the NTS-KE server's certificate ends (notAfter), seconds since the Unix epoch.",
);
/// Cookies the key exchange gave.
pub const NTS_COOKIES: MetricDef = gauge(
    "skew_nts_cookies",
    NTS_SERVER,
    "Cookies the NTS key exchange gave.",
);

/// The per-NTS-server families, in the order they are written.
pub const NTS_PER_SERVER: [&MetricDef; 4] = [
    &NTS_AUTHENTICATED,
    &NTS_KE_DURATION,
    &NTS_CERT_EXPIRY,
    &NTS_COOKIES,
];

// --- The servers together ---

/// Servers probed.
pub const NTP_SERVERS: MetricDef = gauge("skew_ntp_servers", NONE, "Servers probed in the run.");
/// Servers measured ok.
pub const NTP_SERVERS_UP: MetricDef = gauge(
    "skew_ntp_servers_up",
    NONE,
    "Servers measured with status ok.",
);
/// Whether a majority agrees.
pub const AGREEMENT_MAJORITY: MetricDef = gauge(
    "skew_agreement_majority",
    NONE,
    "1 when enough servers agree (see --min-agree), else 0.",
);
/// The agreement's lower end.
pub const AGREEMENT_LOWER: MetricDef = gauge(
    "skew_agreement_lower_seconds",
    NONE,
    "Lower end of the agreed bound on the offset to UTC.",
);
/// The agreement's upper end.
pub const AGREEMENT_UPPER: MetricDef = gauge(
    "skew_agreement_upper_seconds",
    NONE,
    "Upper end of the agreed bound on the offset to UTC.",
);
/// Truechimers.
pub const AGREEMENT_TRUECHIMERS: MetricDef = gauge(
    "skew_agreement_truechimers",
    NONE,
    "Servers agreeing with the majority.",
);
/// Falsetickers.
pub const AGREEMENT_FALSETICKERS: MetricDef = gauge(
    "skew_agreement_falsetickers",
    NONE,
    "Measured servers disagreeing with the majority.",
);

// --- The local clock ---

/// REALTIME's rate against RAW.
pub const CLOCK_RATE: MetricDef = gauge(
    "skew_clock_rate_ppm",
    NONE,
    "Rate of the time-of-day clock against CLOCK_MONOTONIC_RAW, ppm.",
);
/// Its confidence interval.
pub const CLOCK_RATE_CI95: MetricDef = gauge(
    "skew_clock_rate_ci95_ppm",
    NONE,
    "Half-width of the 95 % confidence interval of the rate, ppm.",
);
/// The kernel's frequency correction.
pub const KERNEL_FREQUENCY: MetricDef = gauge(
    "skew_kernel_frequency_ppm",
    NONE,
    "The kernel's frequency correction (adjtimex), ppm.",
);
/// Whether the kernel's state could be read at all.
pub const KERNEL_READABLE: MetricDef = gauge(
    "skew_kernel_readable",
    NONE,
    "1 when the kernel's clock state could be read (adjtimex, read-only), 0 when it was denied (a seccomp filter such as systemd's ProtectClock=) or failed.",
);
/// The kernel's synchronized flag.
pub const KERNEL_SYNCHRONIZED: MetricDef = gauge(
    "skew_kernel_synchronized",
    NONE,
    "1 when the kernel considers the clock synchronized, else 0.",
);
/// BOOTTIME − MONOTONIC.
pub const CLOCK_SUSPENDED: MetricDef = gauge(
    "skew_clock_suspended_seconds",
    NONE,
    "Time spent suspended since boot (BOOTTIME - MONOTONIC).",
);
/// Steps during the run (monitor) or the last poll interval (exporter).
pub const CLOCK_RUN_STEPS: MetricDef = gauge(
    "skew_clock_run_steps",
    NONE,
    "Steps of the time-of-day clock seen during this run.",
);
/// Steps over all runs (monitor's state file) or the exporter's life.
pub const CLOCK_STEPS_TOTAL: MetricDef = counter(
    "skew_clock_steps_total",
    NONE,
    "Steps of the time-of-day clock seen by all monitor runs.",
);

// --- Pauses, leap seconds, the run ---

/// The longest pause.
pub const PAUSE_MAX: MetricDef = gauge(
    "skew_pause_max_seconds",
    NONE,
    "Upper bound of the longest pause in the run's pause sample.",
);
/// The overshoot's p99.
pub const PAUSE_P99: MetricDef = gauge(
    "skew_pause_p99_seconds",
    NONE,
    "99th percentile of the sleep overshoot in the pause sample.",
);
/// Pause events.
pub const PAUSE_EVENTS: MetricDef = gauge(
    "skew_pause_events",
    NONE,
    "Pauses above the threshold in the run's pause sample.",
);
/// The leap-seconds list's expiry.
pub const LEAP_FILE_EXPIRY: MetricDef = gauge(
    "skew_leap_file_expiry_timestamp_seconds",
    NONE,
    "Expiry of the leap-seconds list, Unix time.",
);
/// TAI − UTC.
pub const LEAP_TAI_OFFSET: MetricDef = gauge(
    "skew_leap_tai_offset_seconds",
    NONE,
    "TAI - UTC now according to the leap-seconds list.",
);
/// The Nagios state.
pub const CHECK_STATUS: MetricDef = gauge(
    "skew_check_status",
    NONE,
    "The run's Nagios state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
);
/// The run's wall time.
pub const RUN_DURATION: MetricDef = gauge(
    "skew_run_duration_seconds",
    NONE,
    "Wall time of the monitor run.",
);
/// When the run started.
pub const LAST_RUN_TIMESTAMP: MetricDef = gauge(
    "skew_last_run_timestamp_seconds",
    NONE,
    "When the monitor run started, Unix time.",
);

// --- The exporter: continuous measurement ---

/// chrony's 8-bit reachability register.
pub const NTP_REACH: MetricDef = gauge("skew_ntp_reach", SERVER, "Reachability register of the last 8 polls, as chrony's: bit 0 is the last poll, set when it got a valid reply (0-255).");
/// The current poll interval.
pub const NTP_POLL: MetricDef = gauge(
    "skew_ntp_poll_seconds",
    SERVER,
    "Current poll interval of the server (doubled on each RATE kiss).",
);
/// When the last measured sample was taken.
pub const NTP_LAST_SAMPLE: MetricDef = gauge(
    "skew_ntp_last_sample_timestamp_seconds",
    SERVER,
    "When the server was last measured with status ok, Unix time.",
);
/// NP.
pub const SOURCESTATS_SAMPLES: MetricDef = gauge(
    "skew_sourcestats_samples",
    SERVER,
    "Samples in the regression over the window (chronyc sourcestats NP).",
);
/// NR.
pub const SOURCESTATS_RUNS: MetricDef = gauge(
    "skew_sourcestats_runs",
    SERVER,
    "Runs of residual signs in the regression (chronyc sourcestats NR).",
);
/// Span.
pub const SOURCESTATS_SPAN: MetricDef = gauge(
    "skew_sourcestats_span_seconds",
    SERVER,
    "Time from the oldest to the newest sample in the regression (Span).",
);
/// Frequency.
pub const SOURCESTATS_FREQUENCY: MetricDef = gauge("skew_sourcestats_frequency_ppm", SERVER, "Slope of the offset over local time, ppm: positive when the server gains on the local clock (Frequency).");
/// Frequency skew.
pub const SOURCESTATS_FREQUENCY_SKEW: MetricDef = gauge("skew_sourcestats_frequency_skew_ppm", SERVER, "Error bound of the frequency, ppm: its standard error times the 99.95 % t quantile (Freq Skew).");
/// Offset now.
pub const SOURCESTATS_OFFSET: MetricDef = gauge(
    "skew_sourcestats_offset_seconds",
    SERVER,
    "The regression's offset (server - local) at the time of the scrape (Offset).",
);
/// Standard deviation.
pub const SOURCESTATS_STDDEV: MetricDef = gauge(
    "skew_sourcestats_stddev_seconds",
    SERVER,
    "Weighted standard deviation of the samples about the regression line (Std Dev).",
);
/// Overlapping Allan deviation.
pub const NTP_ALLAN_DEVIATION: MetricDef = gauge(
    "skew_ntp_allan_deviation",
    SERVER_TAU,
    "Overlapping Allan deviation of the offset series at tau = poll x 2^k (dimensionless).",
);
/// Polls sent.
pub const EXPORTER_POLLS: MetricDef = counter(
    "skew_exporter_polls_total",
    SERVER,
    "Polls of the server since the exporter started.",
);
/// Polls that failed.
pub const EXPORTER_POLL_ERRORS: MetricDef = counter("skew_exporter_poll_errors_total", SERVER_STATUS, "Polls that did not measure the server, by status (timeout, kod, unsynchronized, invalid, unresolved, unreachable, nts-ke-failed, nts-nak).");
/// Last poll's duration.
pub const EXPORTER_PROBE_DURATION: MetricDef = gauge(
    "skew_exporter_probe_duration_seconds",
    SERVER,
    "Duration of the server's last poll, from the request to the reply or the timeout.",
);
/// Windows.
pub const EXPORTER_WINDOW: MetricDef = gauge(
    "skew_exporter_window_samples",
    SERVER,
    "Samples held in the server's window (at most --window).",
);
/// Scrapes served.
pub const EXPORTER_SCRAPES: MetricDef = counter(
    "skew_exporter_scrapes_total",
    NONE,
    "Requests of /metrics served since the exporter started.",
);
/// /probe requests.
pub const EXPORTER_PROBES: MetricDef = counter(
    "skew_exporter_probe_requests_total",
    NONE,
    "Requests of /probe answered since the exporter started.",
);
/// When the exporter started.
pub const EXPORTER_START: MetricDef = gauge(
    "skew_exporter_start_timestamp_seconds",
    NONE,
    "When the exporter started, Unix time.",
);

// --- The exporter's NTS sessions, kept across polls ---

/// Key exchanges by trigger.
pub const NTS_KE_TOTAL: MetricDef = counter("skew_nts_ke_total", NTS_SERVER_TRIGGER, "Key exchanges run since the exporter started, successful or not, by what triggered them (start, nak, cookies, failures, refresh).");
/// Failed key exchanges by step.
pub const NTS_KE_FAILURES: MetricDef = counter("skew_nts_ke_failures_total", NTS_SERVER_STEP, "Failed key exchanges since the exporter started, by the step that failed (tcp, tls, certificate, alpn, protocol, timeout, unresolved).");
/// Whether the last key exchange worked.
pub const NTS_KE_UP: MetricDef = gauge(
    "skew_nts_ke_up",
    NTS_SERVER,
    "1 when the server's last key exchange succeeded, 0 when it failed.",
);
/// When the last successful key exchange ran.
pub const NTS_KE_LAST_SUCCESS: MetricDef = gauge(
    "skew_nts_ke_last_success_timestamp_seconds",
    NTS_SERVER,
    "When the server's last successful key exchange ran, Unix time.",
);
/// Cookies in hand.
pub const NTS_COOKIES_HELD: MetricDef = gauge("skew_nts_cookies_held", NTS_SERVER, "Cookies in hand for the server's next requests after the last poll (each authentic reply brings back the one spent; 0 without a session).");
/// NTS NAKs.
pub const NTS_NAKS: MetricDef = counter("skew_nts_naks_total", NTS_SERVER, "NTS NAKs received since the exporter started (the server could not use a cookie: its keys changed).");
/// Unauthenticated replies dropped.
pub const NTS_UNAUTHENTICATED: MetricDef = counter("skew_nts_unauthenticated_total", NTS_SERVER, "Replies dropped since the exporter started because they did not authenticate (forged, altered, or plain NTP).");

// --- /probe (blackbox_exporter's names for the probe itself) ---

/// Whether the probe measured the target.
pub const PROBE_SUCCESS: MetricDef = gauge(
    "probe_success",
    NONE,
    "1 when the target was measured with status ok, else 0 (as blackbox_exporter).",
);
/// How long the probe took.
pub const PROBE_DURATION: MetricDef = gauge(
    "probe_duration_seconds",
    NONE,
    "How long the probe took, resolution included (as blackbox_exporter).",
);

/// Every metric, for documentation checks.
pub const ALL: &[&MetricDef] = &[
    &NTP_UP,
    &NTP_OFFSET,
    &NTP_BOUND_LOWER,
    &NTP_BOUND_UPPER,
    &NTP_UTC_BOUND_LOWER,
    &NTP_UTC_BOUND_UPPER,
    &NTP_DELAY,
    &NTP_JITTER,
    &NTP_STRATUM,
    &NTP_LEAP,
    &NTP_ROOT_DELAY,
    &NTP_ROOT_DISPERSION,
    &NTP_TRUECHIMER,
    &NTS_AUTHENTICATED,
    &NTS_KE_DURATION,
    &NTS_CERT_EXPIRY,
    &NTS_COOKIES,
    &NTP_SERVERS,
    &NTP_SERVERS_UP,
    &AGREEMENT_MAJORITY,
    &AGREEMENT_LOWER,
    &AGREEMENT_UPPER,
    &AGREEMENT_TRUECHIMERS,
    &AGREEMENT_FALSETICKERS,
    &CLOCK_RATE,
    &CLOCK_RATE_CI95,
    &KERNEL_FREQUENCY,
    &KERNEL_READABLE,
    &KERNEL_SYNCHRONIZED,
    &CLOCK_SUSPENDED,
    &CLOCK_RUN_STEPS,
    &CLOCK_STEPS_TOTAL,
    &PAUSE_MAX,
    &PAUSE_P99,
    &PAUSE_EVENTS,
    &LEAP_FILE_EXPIRY,
    &LEAP_TAI_OFFSET,
    &CHECK_STATUS,
    &RUN_DURATION,
    &LAST_RUN_TIMESTAMP,
    &NTP_REACH,
    &NTP_POLL,
    &NTP_LAST_SAMPLE,
    &SOURCESTATS_SAMPLES,
    &SOURCESTATS_RUNS,
    &SOURCESTATS_SPAN,
    &SOURCESTATS_FREQUENCY,
    &SOURCESTATS_FREQUENCY_SKEW,
    &SOURCESTATS_OFFSET,
    &SOURCESTATS_STDDEV,
    &NTP_ALLAN_DEVIATION,
    &EXPORTER_POLLS,
    &EXPORTER_POLL_ERRORS,
    &EXPORTER_PROBE_DURATION,
    &EXPORTER_WINDOW,
    &EXPORTER_SCRAPES,
    &EXPORTER_PROBES,
    &EXPORTER_START,
    &NTS_KE_TOTAL,
    &NTS_KE_FAILURES,
    &NTS_KE_UP,
    &NTS_KE_LAST_SUCCESS,
    &NTS_COOKIES_HELD,
    &NTS_NAKS,
    &NTS_UNAUTHENTICATED,
    &PROBE_SUCCESS,
    &PROBE_DURATION,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_conventional() {
        let mut seen = std::collections::HashSet::new();
        for d in ALL {
            assert!(seen.insert(d.name), "{} twice", d.name);
            assert!(
                d.name.starts_with("skew_") || d.name.starts_with("probe_"),
                "{}",
                d.name
            );
            assert_eq!(
                d.kind == Kind::Counter,
                d.name.ends_with("_total"),
                "{}",
                d.name
            );
            assert!(
                d.help.ends_with('.') && !d.help.contains('\n'),
                "{}",
                d.name
            );
            assert!(
                d.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                d.name
            );
        }
        for d in NTP_PER_SERVER.iter().chain(&NTS_PER_SERVER) {
            assert!(ALL.contains(d));
        }
    }
}
