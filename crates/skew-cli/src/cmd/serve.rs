//! `skew serve`: an NTP server of the local clock that lies in controlled ways.

use super::daemon::{
    bind_and_announce, finish, nonzero, parse_listen, parse_probability, parse_seconds_ns,
    parse_signed_ns, DaemonOptions,
};
use crate::exit::CliError;
use clap::{Args, ValueEnum};
use skew_fault::serve::{HeaderConfig, KodConfig, Misbehaviour};
use skew_fault::served::{Smear, SmearKind, Step};
use skew_fault::{Probability, ServeConfig, ServedClock};
use skew_fault_io::{run_serve, ServeLimits};
use skew_ntp::packet::Leap;
use skew_ntp::timestamp::{ns_to_precision, NtpShort};
use skew_ntp_io::clock::{measure_precision_ns, LocalClock, SystemClock};
use skew_time::duration_ns;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The leap indicator to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeapArg {
    /// 0: no leap second pending.
    None,
    /// 1: the last minute of the day has 61 seconds.
    Insert,
    /// 2: the last minute of the day has 59 seconds.
    Delete,
    /// 3: clock not synchronized.
    Alarm,
}

impl From<LeapArg> for Leap {
    fn from(l: LeapArg) -> Leap {
        match l {
            LeapArg::None => Leap::None,
            LeapArg::Insert => Leap::Insert,
            LeapArg::Delete => Leap::Delete,
            LeapArg::Alarm => Leap::Unsynchronized,
        }
    }
}

/// Which simulated leap second is smeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmearKindArg {
    /// An inserted leap second: the served clock slows down by 1/86400.
    Insert,
    /// A deleted leap second: the served clock speeds up by 1/86400.
    Delete,
}

/// Arguments of `skew serve`.
#[derive(Debug, Args)]
#[command(
    disable_version_flag = true,
    after_help = "Offsets are what the served clock reads minus the local clock, so a client on this \
host measures them as its offset (server − local).\n\nReadiness: one `listening on ADDR` line per \
address on stdout once all are bound.\n\nExit status: 0 stopped by a signal or a limit, 64 usage \
error, 69 an address cannot be bound, 70 internal error."
)]
pub struct ServeArgs {
    /// Address to serve on: IP:PORT or [IPv6]:PORT; repeat for several (port 0 picks a
    /// free port, printed in the `listening on` line).
    #[arg(long, required = true, value_parser = parse_listen, value_name = "ADDR")]
    pub listen: Vec<SocketAddr>,

    // Time faults.
    /// Serve the local clock plus this many seconds (signed, exact to the ns: -0.037).
    #[arg(long, value_parser = parse_signed_ns, value_name = "S", allow_hyphen_values = true, help_heading = "Time faults")]
    pub offset: Option<i64>,
    /// Let the served clock run this many ppm fast (negative: slow) from the start: the
    /// offset grows by P µs per second.
    #[arg(long, value_name = "P", allow_hyphen_values = true, value_parser = parse_ppm, help_heading = "Time faults")]
    pub drift_ppm: Option<i64>,
    /// Step the served clock by --step after this long.
    #[arg(long, value_parser = skew_fault::STEP_AFTER_RANGE.parser(), value_name = "DUR", requires = "step", help_heading = "Time faults")]
    pub step_after: Option<Duration>,
    /// Size of the step, signed seconds (with --step-after).
    #[arg(long, value_parser = parse_signed_ns, value_name = "S", allow_hyphen_values = true, requires = "step_after", help_heading = "Time faults")]
    pub step: Option<i64>,
    /// Smear a simulated leap second linearly over 24 h, noon to noon around --leap-at
    /// (−0.5 s at the leap, −1 s after it, against the local clock); LI stays as --leap says.
    #[arg(long, help_heading = "Time faults")]
    pub smear_leap: bool,
    /// The simulated leap: the instant the leap second ends, RFC 3339
    /// (2016-12-31T23:59:60Z is written 2017-01-01T00:00:00Z), or +DUR/-DUR from the start
    /// (default: the next 1 January or 1 July, 00:00 UTC).
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        requires = "smear_leap",
        help_heading = "Time faults"
    )]
    pub leap_at: Option<String>,
    /// Whether the smeared leap second is inserted or deleted.
    #[arg(long, value_enum, default_value_t = SmearKindArg::Insert, value_name = "KIND", help_heading = "Time faults")]
    pub smear_kind: SmearKindArg,

    // Header faults.
    /// Leap indicator to announce: none, insert, delete, alarm (3 = unsynchronized).
    #[arg(long, value_enum, default_value_t = LeapArg::None, value_name = "LI", help_heading = "Header faults")]
    pub leap: LeapArg,
    /// Stratum (1 primary, 2-15 secondary, 16 unsynchronized; 0 is a Kiss-o'-Death).
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        help_heading = "Header faults"
    )]
    pub stratum: u8,
    /// Reference ID: 1-4 ASCII characters (GPS, LOCL), a dotted IPv4 address, or 0xHHHHHHHH.
    #[arg(long, default_value = "SKEW", value_parser = parse_refid, value_name = "X", help_heading = "Header faults")]
    pub refid: [u8; 4],
    /// Root delay announced, seconds (16.16 fixed point on the wire, rounded up).
    #[arg(long, default_value = "0", value_parser = parse_seconds_ns, value_name = "S", help_heading = "Header faults")]
    pub root_delay: i64,
    /// Root dispersion announced, seconds.
    #[arg(long, default_value = "0.0001", value_parser = parse_seconds_ns, value_name = "S", help_heading = "Header faults")]
    pub root_dispersion: i64,
    /// Precision announced, log2 seconds (default: measured from the local clock).
    #[arg(
        long,
        value_name = "LOG2",
        allow_hyphen_values = true,
        help_heading = "Header faults"
    )]
    pub precision: Option<i8>,
    /// Version number in replies (default: the request's).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=7), help_heading = "Header faults")]
    pub version: Option<u8>,
    /// Mode in replies (4 = server; anything else is a fault).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=7), help_heading = "Header faults")]
    pub mode: u8,

    // Kiss-o'-Death.
    /// Answer with a Kiss-o'-Death carrying this code (RATE, DENY, RSTR or any 1-4
    /// character code): stratum 0, LI 3.
    #[arg(long, value_parser = parse_kiss_code, value_name = "CODE", help_heading = "Kiss-o'-Death")]
    pub kod: Option<[u8; 4]>,
    /// Only every Nth request gets the Kiss-o'-Death (default: every request).
    #[arg(long, value_name = "N", requires = "kod", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Kiss-o'-Death")]
    pub kod_every: Option<u64>,

    // Misbehaviour.
    /// Probability that a request gets no reply (0.1 or 10%).
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0", help_heading = "Misbehaviour")]
    pub loss: Probability,
    /// Hold each reply this long before sending it (T3 is still read when it leaves).
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0", help_heading = "Misbehaviour")]
    pub hold: Duration,
    /// Add a uniform random hold between 0 and this.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0", help_heading = "Misbehaviour")]
    pub hold_jitter: Duration,
    /// Probability that a request is answered twice.
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0", help_heading = "Misbehaviour")]
    pub duplicate: Probability,
    /// Precede every reply with a forged one whose origin does not match the request
    /// (and whose timestamps are an hour off).
    #[arg(long, help_heading = "Misbehaviour")]
    pub wrong_origin: bool,
    /// Send a zero transmit timestamp.
    #[arg(long, help_heading = "Misbehaviour")]
    pub zero_transmit: bool,
    /// Cut every reply to at most this many bytes.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Misbehaviour")]
    pub truncate: Option<u16>,
    /// Probability that a reply is replaced by 48 random bytes.
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0", help_heading = "Misbehaviour")]
    pub garbage: Probability,

    /// Limits, readiness, statistics, seed.
    #[command(flatten)]
    pub daemon: DaemonOptions,
}

/// Parses a rate in ppm exactly, as ppm × 10⁹ (`12.5` → 12 500 000 000).
pub fn parse_ppm(s: &str) -> Result<i64, String> {
    if s.trim().chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "invalid rate {s:?}: a signed number of ppm such as -12.5"
        ));
    }
    parse_signed_ns(s)
}

/// Parses a reference ID.
pub fn parse_refid(s: &str) -> Result<[u8; 4], String> {
    if let Ok(ip) = s.parse::<Ipv4Addr>() {
        return Ok(ip.octets());
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16)
            .map(|v| v.to_be_bytes())
            .map_err(|_| format!("invalid hex reference ID {s:?}"));
    }
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "invalid reference ID {s:?}: 1-4 printable ASCII characters, an IPv4 address or 0xHHHHHHHH"
        ));
    }
    let mut out = [0u8; 4];
    out[..s.len()].copy_from_slice(s.as_bytes());
    Ok(out)
}

/// Parses a kiss code: 1-4 printable ASCII characters (RATE, DENY, RSTR...).
pub fn parse_kiss_code(s: &str) -> Result<[u8; 4], String> {
    if s.parse::<Ipv4Addr>().is_ok() || s.starts_with("0x") {
        return Err(format!(
            "invalid kiss code {s:?}: 1-4 ASCII characters such as RATE"
        ));
    }
    parse_refid(s)
}

/// The server's configuration from the flags, with the clock starting at `start_unix_ns`.
pub fn config(args: &ServeArgs, start_unix_ns: i64, seed: u64) -> Result<ServeConfig, CliError> {
    let clock = ServedClock {
        start_unix_ns,
        offset_ns: args.offset.unwrap_or(0),
        drift_ppm_e9: args.drift_ppm.unwrap_or(0),
        step: match (args.step_after, args.step) {
            (Some(after), Some(by)) => Some(Step {
                after_ns: duration_ns(after),
                by_ns: by,
            }),
            _ => None,
        },
        smear: if args.smear_leap {
            Some(Smear {
                leap_unix_ns: skew_fault::served::leap_instant(
                    args.leap_at.as_deref(),
                    start_unix_ns,
                )
                .map_err(|e| CliError::usage(e.to_string()))?,
                kind: match args.smear_kind {
                    SmearKindArg::Insert => SmearKind::Insert,
                    SmearKindArg::Delete => SmearKind::Delete,
                },
            })
        } else {
            None
        },
    };
    let precision = match args.precision {
        Some(p) => p,
        None => ns_to_precision(measure_precision_ns(&SystemClock)),
    };
    Ok(ServeConfig {
        clock,
        header: HeaderConfig {
            leap: args.leap.into(),
            stratum: args.stratum,
            reference_id: args.refid,
            root_delay: NtpShort::from_ns_ceil(args.root_delay),
            root_dispersion: NtpShort::from_ns_ceil(args.root_dispersion),
            precision,
            version: args.version,
            mode: args.mode,
        },
        kod: args.kod.map(|code| KodConfig {
            code,
            every: args.kod_every.unwrap_or(1),
        }),
        faults: Misbehaviour {
            loss: args.loss,
            hold_ns: duration_ns(args.hold),
            hold_jitter_ns: duration_ns(args.hold_jitter),
            duplicate: args.duplicate,
            wrong_origin: args.wrong_origin,
            zero_transmit: args.zero_transmit,
            truncate: args.truncate.map(usize::from),
            garbage: args.garbage,
        },
        seed,
    })
}

/// Runs `skew serve`.
pub fn run(args: ServeArgs) -> Result<i32, CliError> {
    let seed = args.daemon.seed()?;
    let start = SystemClock.realtime_ns();
    let cfg = config(&args, start, seed)?;
    let socks = bind_and_announce(&args.listen, &args.daemon)?;
    let limits = ServeLimits {
        max_duration: args.daemon.max_seconds,
        max_requests: args.daemon.max_requests,
        queue_capacity: args.daemon.queue_capacity as usize,
        busy_wait_ns: args.daemon.busy_wait_ns(),
    };
    let report = run_serve(&socks, cfg, &limits, &SystemClock);
    let c = &report.counters;
    let json = serde_json::to_value(c).unwrap_or_default();
    let summary = format!(
        "skew serve: stopped by {} after {:.3} s: {} received, {} answered, {} datagrams sent; \
dropped: {}; faults: {}; seed {}",
        serde_json::to_value(report.stopped_by)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        report.elapsed_s,
        c.received,
        c.answered,
        c.sent,
        nonzero(&json["dropped"]),
        nonzero(&json["faults"]),
        report.seed
    );
    finish(&args.daemon, &report, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refids_and_codes() {
        assert_eq!(parse_refid("GPS").unwrap(), *b"GPS\0");
        assert_eq!(parse_refid("LOCL").unwrap(), *b"LOCL");
        assert_eq!(parse_refid("192.0.2.1").unwrap(), [192, 0, 2, 1]);
        assert_eq!(parse_refid("0x7f7f0101").unwrap(), [127, 127, 1, 1]);
        assert!(parse_refid("TOOLONG").is_err());
        assert!(parse_refid("").is_err());
        assert!(parse_refid("0xZZ").is_err());
        assert_eq!(parse_kiss_code("RATE").unwrap(), *b"RATE");
        assert!(parse_kiss_code("10.0.0.1").is_err());
    }
}
