//! `skew proxy`: a UDP impairment proxy in front of an NTP server.

use super::daemon::{
    bind_and_announce, finish, nonzero, parse_listen, parse_probability, parse_signed_ns,
    DaemonOptions,
};
use crate::exit::{self, CliError};
use clap::Args;
use skew_fault::{PathConfig, Probability, ProxyConfig};
use skew_fault_io::proxy::{check_upstream, run_proxy, ProxyLimits};
use skew_ntp_io::{parse_server, resolve_all, Family, SystemClock};
use skew_time::duration_ns;
use std::net::SocketAddr;
use std::time::Duration;

/// Arguments of `skew proxy`.
#[derive(Debug, Args)]
#[command(
    after_help = "Each datagram is delayed by its direction's delay plus a uniform random jitter \
between 0 and the jitter, counted from its arrival (kernel timestamp).\n\nReadiness: one \
`listening on ADDR` line per address on stdout once all are bound.\n\nExit status: 0 stopped by a \
signal or a limit, 64 usage error, 69 an address cannot be bound or the upstream cannot be \
resolved, 70 internal error."
)]
pub struct ProxyArgs {
    /// Address to accept clients on: IP:PORT or [IPv6]:PORT; repeat for several (port 0
    /// picks a free port, printed in the `listening on` line).
    #[arg(long, required = true, value_parser = parse_listen, value_name = "ADDR")]
    pub listen: Vec<SocketAddr>,
    /// The server to forward to: host:port, v4addr:port or [v6addr]:port (port 123 by
    /// default).
    #[arg(long, required = true, value_name = "ADDR")]
    pub upstream: String,
    /// Delay client → server.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0")]
    pub fwd: Duration,
    /// Delay server → client.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0")]
    pub back: Duration,
    /// Uniform random extra delay client → server, between 0 and this.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0")]
    pub fwd_jitter: Duration,
    /// Uniform random extra delay server → client, between 0 and this.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "0")]
    pub back_jitter: Duration,
    /// Probability of losing a datagram client → server (0.1 or 10%).
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0")]
    pub loss_fwd: Probability,
    /// Probability of losing a datagram server → client.
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0")]
    pub loss_back: Probability,
    /// Probability of delivering a datagram twice (either direction; the copy gets its own
    /// jitter).
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0")]
    pub duplicate: Probability,
    /// Probability of holding a datagram back by --reorder-delay so later ones overtake it.
    #[arg(long, value_parser = parse_probability, value_name = "P", default_value = "0")]
    pub reorder: Probability,
    /// How much longer a reordered datagram is held.
    #[arg(long, value_parser = skew_fault::DELAY_RANGE.parser(), value_name = "DUR", default_value = "10ms")]
    pub reorder_delay: Duration,
    /// Rewrite the server's receive (T2), transmit (T3) and reference timestamps by this
    /// many signed seconds, like a man in the middle: clients see a server S seconds off.
    #[arg(long, value_parser = parse_signed_ns, value_name = "S", allow_hyphen_values = true, default_value = "0")]
    pub shift: i64,
    /// Most client sessions (client address and port, each with its own upstream socket)
    /// at once; the least recently used is closed to make room.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_clients: u64,
    /// Limits, readiness, statistics, seed.
    #[command(flatten)]
    pub daemon: DaemonOptions,
}

/// The upstream's address: a malformed argument is a usage error (64), a name that does
/// not resolve makes the service unavailable (69).
fn upstream_addr(text: &str) -> Result<SocketAddr, CliError> {
    let spec = parse_server(text).map_err(|e| CliError::usage(format!("--upstream: {e}")))?;
    let r = resolve_all(std::slice::from_ref(&spec), Family::Any, false, 1);
    r.into_iter()
        .next()
        .and_then(|r| r.addresses.ok())
        .and_then(|v| v.into_iter().next())
        .ok_or_else(|| {
            CliError::new(
                exit::UNAVAILABLE,
                format!("--upstream: cannot resolve {text:?}"),
            )
        })
}

/// Runs `skew proxy`.
pub fn run(args: ProxyArgs) -> Result<i32, CliError> {
    let upstream = upstream_addr(&args.upstream)?;
    check_upstream(upstream).map_err(|e| CliError::new(exit::UNAVAILABLE, e.to_string()))?;
    let config = ProxyConfig {
        fwd: PathConfig {
            delay_ns: duration_ns(args.fwd),
            jitter_ns: duration_ns(args.fwd_jitter),
            loss: args.loss_fwd,
        },
        back: PathConfig {
            delay_ns: duration_ns(args.back),
            jitter_ns: duration_ns(args.back_jitter),
            loss: args.loss_back,
        },
        duplicate: args.duplicate,
        reorder: args.reorder,
        reorder_delay_ns: duration_ns(args.reorder_delay),
        shift_ns: args.shift,
        seed: args.daemon.seed()?,
    };
    let socks = bind_and_announce(&args.listen, &args.daemon)?;
    let limits = ProxyLimits {
        max_duration: args.daemon.max_seconds,
        max_requests: args.daemon.max_requests,
        queue_capacity: args.daemon.queue_capacity as usize,
        busy_wait_ns: args.daemon.busy_wait_ns(),
        max_clients: args.max_clients as usize,
        ..ProxyLimits::default()
    };
    let report = run_proxy(&socks, upstream, config, &limits, &SystemClock);
    let c = &report.counters;
    let json = serde_json::to_value(c).unwrap_or_default();
    let s = &report.scheduling_error;
    let i = &report.immediate_latency;
    let summary = format!(
        "skew proxy: stopped by {} after {:.3} s: {} received, {} forwarded to {}, {} answered; \
dropped: {}; scheduling error p50 {:.1} us, p99 {:.1} us, max {:.1} us over {} delayed datagrams; \
immediate latency p50 {:.1} us, p99 {:.1} us over {} datagrams; seed {}",
        serde_json::to_value(report.stopped_by)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        report.elapsed_s,
        c.received,
        c.fwd.forwarded,
        report.upstream,
        c.answered,
        nonzero(&json["dropped"]),
        s.p50_s * 1e6,
        s.p99_s * 1e6,
        s.max_s * 1e6,
        s.count,
        i.p50_s * 1e6,
        i.p99_s * 1e6,
        i.count,
        report.seed
    );
    finish(&args.daemon, &report, summary)
}
