//! `skew probe`: offset, delay and honest bounds for each server.

use crate::cmd::nts_args::{run_error, NtsArgs};
use crate::exit::{self, CliError};
use crate::output::print_json;
use crate::output::table::{Align, Table};
use clap::Args;
use skew_ntp::bounds::PHI_PPM;
use skew_ntp::fleet::{largest_pairwise_skew_ns, lease_margin, ProbeClocks};
use skew_ntp::result::CSV_COLUMNS;
use skew_ntp::select::{select_answered, Agreement, AgreementRecord};
use skew_ntp::{ProbeRecord, ServerResult, Status};
use skew_ntp_io::{probe_servers, Family, ProbeRequest, ProbeRun, ProbeSettings};
use skew_time::escape::escape_control;
use skew_time::format::{signed, signed_interval, unsigned, unsigned_s};
use std::time::Duration;

/// How to probe: shared by `probe`, `monitor`, `check` and `leap`.
#[derive(Debug, Clone, Args)]
pub struct ProbeOptions {
    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Probe every address a name resolves to (default: the first).
    #[arg(long)]
    pub all_addresses: bool,
    /// Requests per server.
    #[arg(short = 'n', long, default_value_t = skew_ntp::prober::DEFAULT_SAMPLES, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub samples: u32,
    /// Time between two requests to one server (public servers expect at least 2s).
    #[arg(long, default_value = skew_ntp::prober::DEFAULT_INTERVAL_TEXT, value_parser = skew_ntp::prober::INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub interval: Duration,
    /// How long to wait for each reply.
    #[arg(long, default_value = skew_ntp::prober::DEFAULT_TIMEOUT_TEXT, value_parser = skew_ntp::prober::TIMEOUT_RANGE.parser(), value_name = "DUR")]
    pub timeout: Duration,
    /// Maximum relative frequency error between the clocks assumed by the bounds, in ppm.
    #[arg(long, default_value_t = PHI_PPM, value_name = "PPM", value_parser = skew_time::parse_ppm)]
    pub max_drift_ppm: f64,
    /// Maximum requests awaiting a reply at once across all servers, counting only those
    /// sent in the last 100 ms (a request to a dead server stops counting then).
    #[arg(long, default_value_t = skew_ntp_io::DEFAULT_MAX_INFLIGHT, value_name = "N")]
    pub max_inflight: usize,
    /// Maximum requests per second across all servers (0: no limit).
    #[arg(long, default_value_t = skew_ntp_io::DEFAULT_RATE_PER_S, value_name = "N")]
    pub rate: u32,
    /// Ask for interleaved mode (RFC 9769, chrony's xleave) after the first reply: the
    /// server's next reply carries the real transmit time of its previous one, without the
    /// microseconds its basic-mode T3 is read early. Servers that do not answer interleaved
    /// are measured in basic mode; each sample says which (`mode`). Not with --nts.
    #[arg(long)]
    pub interleaved: bool,
    /// Servers whose UTC bounds must share a point for a majority (default: a majority of
    /// the servers that answered, and at least 3 when 3 or more answered).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_agree: Option<u32>,
}

impl ProbeOptions {
    /// The engine request for `servers`.
    pub fn request(&self, servers: &[String]) -> ProbeRequest {
        ProbeSettings {
            family: if self.ipv4 {
                Family::V4
            } else if self.ipv6 {
                Family::V6
            } else {
                Family::Any
            },
            all_addresses: self.all_addresses,
            samples: self.samples,
            interval_ns: skew_time::duration_ns(self.interval),
            timeout_ns: skew_time::duration_ns(self.timeout),
            max_drift_ppm: self.max_drift_ppm,
            max_inflight: self.max_inflight,
            rate_per_s: self.rate,
            interleaved: self.interleaved,
        }
        .request(servers)
    }

    /// Selects truechimers among `results` with `--min-agree` (or its default: a majority
    /// of the servers that answered).
    pub fn select(&self, results: &[ServerResult]) -> Agreement {
        select_answered(results, self.min_agree.map(|k| k as usize))
    }

    /// Probes `servers`; a malformed server argument is a usage error.
    pub fn probe(&self, servers: &[String]) -> Result<ProbeRun, CliError> {
        self.probe_request(&self.request(servers))
    }

    /// Runs a request made by [`ProbeOptions::request`] (and perhaps given NTS): a malformed
    /// server argument is a usage error, an unreadable or unusable CA file exits 66 or 65.
    /// (The drift allowance and the timeout were checked as they were parsed.)
    pub fn probe_request(&self, req: &ProbeRequest) -> Result<ProbeRun, CliError> {
        probe_servers(req).map_err(run_error)
    }
}

/// Arguments of `skew probe`.
#[derive(Debug, Args)]
#[command(
    after_help = "Offsets are server − local: positive means the local clock is behind \
(as chrony and ntpdig report them).\n\nExit status: 0 every server ok, 1 some failed, 2 none \
answered validly, 64 usage error."
)]
pub struct ProbeArgs {
    /// Servers: host, host:port, v4addr:port or [v6addr]:port (port 123 by default).
    #[arg(required = true, value_name = "SERVER")]
    pub servers: Vec<String>,
    /// How to probe.
    #[command(flatten)]
    pub opts: ProbeOptions,
    /// Network Time Security.
    #[command(flatten)]
    pub nts: NtsArgs,
    /// Print JSON: {"probes": [...]}.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV: a header and one row per server.
    #[arg(long)]
    pub csv: bool,
    /// Advise request timeouts from each server's round trips (p99.9 + 50 %, and
    /// Jacobson/Karels SRTT + 4·RTTVAR), stating the sample count each rests on.
    #[arg(long)]
    pub advise: bool,
    /// Show the safety margin of a lease of this length between this host and the servers:
    /// the largest pairwise skew bound + the longest pause observed (none, in a probe) +
    /// --lease-drift-ppm × the lease.
    #[arg(long, value_parser = skew_ntp::fleet::LEASE_RANGE.parser(), value_name = "DUR")]
    pub lease: Option<Duration>,
    /// Drift rate assumed over a lease, in ppm.
    #[arg(long, default_value_t = 50.0, value_name = "PPM", value_parser = skew_time::parse_ppm)]
    pub lease_drift_ppm: f64,
}

/// The exit code for a set of results: 0 all ok and agreeing, 1 some failed (or were
/// falsetickers, or no majority agrees), 2 none measured.
pub fn exit_code(results: &[ServerResult], agreement: &Agreement) -> i32 {
    if !results.iter().any(|r| r.is_measured()) {
        exit::ALL_FAILED
    } else if results.iter().all(|r| r.status == Status::Ok)
        && agreement.majority()
        && agreement.falsetickers == 0
    {
        exit::OK
    } else {
        exit::SOME_FAILED
    }
}

/// The JSON view of one result with the selection (and, with `--advise`, the advice)
/// applied.
fn record_of(r: &ServerResult, verdict: Option<bool>, advise: bool) -> ProbeRecord {
    let mut rec = r.record();
    rec.truechimer = Some(verdict.unwrap_or(false));
    if advise {
        rec.advice = r.timeout_advice();
    }
    rec
}

/// The records, made one at a time while they are written: 100,000 probes never hold
/// 100,000 records in memory at once.
struct Records<'a> {
    results: &'a [ServerResult],
    verdicts: &'a [Option<bool>],
    advise: bool,
}

impl Records<'_> {
    fn each(&self) -> impl Iterator<Item = ProbeRecord> + '_ {
        self.results
            .iter()
            .zip(self.verdicts)
            .map(|(r, v)| record_of(r, *v, self.advise))
    }
}

impl serde::Serialize for Records<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.each())
    }
}

/// The JSON document of `skew probe --json`, serialised directly (not through a
/// `serde_json::Value`: 10,000 probes would cost tens of MB more). Top-level keys in
/// alphabetical order, as they were when built with `json!`.
#[derive(serde::Serialize)]
struct ProbeJson<'a> {
    agreement: AgreementRecord,
    lease: Option<skew_ntp::fleet::LeaseMargin>,
    pairwise_skew: Option<skew_ntp::fleet::PairwiseSkew>,
    probes: Records<'a>,
}

/// Runs `skew probe`.
pub fn run(args: ProbeArgs) -> Result<i32, CliError> {
    let mut req = args.opts.request(&args.servers);
    if args.nts.nts {
        if args.opts.interleaved {
            return Err(CliError::usage(
                "--interleaved cannot be combined with --nts: NTS requests are never interleaved",
            ));
        }
        req = req.with_nts(args.nts.options()?, args.servers.clone());
    }
    let run = args.opts.probe_request(&req)?;
    let agreement = args.opts.select(&run.results);
    let records = Records {
        results: &run.results,
        verdicts: &agreement.verdicts,
        advise: args.advise,
    };
    // Falsetickers are left out of the skew and the lease; each address is one clock.
    let clocks = ProbeClocks::of(&run.results, &agreement);
    let pairwise = clocks.largest_pairwise_skew();
    let lease = args.lease.map(|l| {
        let skew_ns = largest_pairwise_skew_ns(&clocks.clocks).unwrap_or(0);
        lease_margin(skew_time::duration_ns(l), skew_ns, 0, args.lease_drift_ppm)
    });
    if args.json {
        print_json(&ProbeJson {
            agreement: AgreementRecord::from(&agreement),
            lease,
            pairwise_skew: pairwise,
            probes: records,
        })?;
    } else if args.csv {
        write_csv(records.each())?;
    } else {
        print!("{}", human(&run.results, &agreement));
        if let Some(p) = &pairwise {
            println!(
                "Largest pairwise skew bound: {} between {} and {} ({} clocks, this host included): \
timestamps from these clocks closer than this cannot be ordered.",
                unsigned(p.bound_ns.max(0) as u64),
                escape_control(&p.ahead),
                escape_control(&p.behind),
                p.clocks
            );
        }
        if !clocks.left_out.is_empty() && (pairwise.is_some() || lease.is_some()) {
            println!(
                "Left out of the skew{}: {} (falseticker{}: {} bound says where {} clock is, not where the truth is).",
                if lease.is_some() { " and the lease" } else { "" },
                escape_control(&clocks.left_out.join(", ")),
                if clocks.left_out.len() > 1 { "s" } else { "" },
                if clocks.left_out.len() > 1 { "their" } else { "its" },
                if clocks.left_out.len() > 1 { "each" } else { "its" },
            );
        }
        if let Some(m) = &lease {
            println!(
                "Lease of {:.3} s: stop using it {} before it ends (skew {} + pause {} + {} ppm drift {}).",
                m.lease_s(),
                unsigned(m.margin_ns.max(0) as u64),
                unsigned(m.skew_bound_ns.max(0) as u64),
                unsigned(m.pause_ns.max(0) as u64),
                m.drift_ppm,
                unsigned(m.drift_ns.max(0) as u64)
            );
        }
        if args.advise {
            print!("{}", advice_table(&run.results));
        }
    }
    Ok(exit_code(&run.results, &agreement))
}

/// The `--advise` table: per server, the covering timeout and Jacobson/Karels' RTO.
pub fn advice_table(results: &[ServerResult]) -> String {
    let mut t = Table::new(&[
        ("Server", Align::Left),
        ("Samples", Align::Right),
        ("RTT p50", Align::Right),
        ("RTT p99.9", Align::Right),
        ("Timeout", Align::Right),
        ("SRTT", Align::Right),
        ("RTTVAR", Align::Right),
        ("RTO", Align::Right),
    ]);
    let mut notes = String::new();
    for r in results {
        let Some(a) = r.timeout_advice() else {
            t.row(vec![r.server.clone(), "0".into()]);
            continue;
        };
        let u = unsigned_s;
        t.row(vec![
            r.server.clone(),
            a.samples.to_string(),
            u(a.rtt_p50_s),
            u(a.rtt_p999_s),
            u(a.timeout_s),
            u(a.srtt_s),
            u(a.rttvar_s),
            u(a.rto_s),
        ]);
        if r.counters.timeouts > 0 {
            notes.push_str(&format!(
                "{}: {} request(s) timed out and are not in the round trips above\n",
                escape_control(&r.server),
                r.counters.timeouts
            ));
        }
    }
    format!(
        "\nTimeout advice (Timeout covers p99.9 of the observed round trips + 50 %; with fewer than \
1000 samples p99.9 is the largest seen. RTO = SRTT + 4·RTTVAR, Jacobson/Karels, RFC 6298, \
without TCP's 1 s floor):\n{}{notes}",
        t.render()
    )
}

fn write_csv(records: impl Iterator<Item = ProbeRecord>) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    let io = |e: csv::Error| CliError::new(exit::SOFTWARE, format!("cannot write CSV: {e}"));
    w.write_record(CSV_COLUMNS).map_err(io)?;
    for r in records {
        w.write_record(r.csv_fields()).map_err(io)?;
    }
    let _ = w.flush();
    Ok(())
}

/// The selection mark of a server, like chronyc's: `*` truechimer, `x` falseticker, `?`
/// not a candidate (not measured, or not ok), ` ` when there is no majority.
fn mark(verdict: Option<bool>, majority: bool) -> &'static str {
    match (verdict, majority) {
        (None, _) => "?",
        (Some(_), false) => " ",
        (Some(true), true) => "*",
        (Some(false), true) => "x",
    }
}

/// One line saying what the majority of the servers that answered concluded, and how many
/// of those probed answered.
pub fn agreement_line(a: &Agreement) -> String {
    let answered = if a.candidates < a.servers {
        format!(" ({} of {} answered)", a.candidates, a.servers)
    } else {
        String::new()
    };
    match a.interval {
        Some(i) => {
            // Enough digits that the ends differ, rounded outward: never a zero-width
            // interval for one that is not a point.
            let (lo, hi) = signed_interval(i.lo_ns, i.hi_ns);
            format!(
            "Agreement: {} of {} measured servers agree (at least {} required){answered}; UTC offset within [{lo}, {hi}]{}.\n",
            a.truechimers,
            a.candidates,
            a.min_agree,
            if a.falsetickers > 0 { format!("; {} falseticker(s) marked x", a.falsetickers) } else { String::new() }
        )
        }
        None if a.candidates == 0 => format!(
            "No server answered ({} probed): nothing to agree on.\n",
            a.servers
        ),
        None => format!(
            "No majority: at most {} of {} measured servers agree, {} required{answered}; no server can be trusted over the others.\n",
            a.max_overlap, a.candidates, a.min_agree
        ),
    }
}

/// What a drop counter's key means, for a person.
fn drop_label(key: &str) -> &str {
    match key {
        "origin_mismatch" => "wrong origin (forged, stray or replayed)",
        "late" => "late or duplicate",
        "wrong_source" => "from another address or port",
        "truncated" => "truncated",
        "bad_mode" => "wrong mode",
        "bad_version" => "wrong version",
        other => other,
    }
}

/// The footer line of a server whose address sent datagrams that were dropped (forged,
/// duplicate, late, malformed), or None.
fn dropped_line(r: &ServerResult) -> Option<String> {
    let total = r.counters.dropped_total();
    if total == 0 {
        return None;
    }
    let parts: Vec<String> = r
        .counters
        .dropped
        .iter()
        .map(|(k, n)| format!("{n} {}", drop_label(k)))
        .collect();
    Some(format!(
        "{} ({}): dropped {total} datagram(s) that were not its replies: {}\n",
        escape_control(&r.server),
        r.address.map_or("-".into(), |a| a.to_string()),
        parts.join(", ")
    ))
}

/// The Auth cell of an NTS server: `nts` when every sample used was authenticated, `none`
/// otherwise.
fn auth_cell(r: &ServerResult) -> String {
    match &r.nts {
        Some(n) if n.authenticated => "nts".into(),
        Some(_) => "none".into(),
        None => "-".into(),
    }
}

/// One line on a server's key exchange and certificate.
fn nts_line(r: &ServerResult) -> Option<String> {
    let n = r.nts.as_ref()?;
    let k = &n.ke;
    let mut parts = vec![format!("key exchange {}:{}", k.ke_server, k.ke_port)];
    if let Some(d) = k.ke_duration_ns {
        parts.push(format!("in {}", unsigned(d.max(0) as u64)));
    }
    if let Some(v) = &k.tls_version {
        parts.push(v.clone());
    }
    if let Some(a) = k.aead {
        parts.push(a.to_string());
    }
    if k.cookies > 0 {
        parts.push(format!(
            "{} cookies of {} bytes",
            k.cookies,
            k.cookie_bytes.unwrap_or(0)
        ));
    }
    if let (Some(h), Some(p)) = (&k.ntp_server, k.ntp_port) {
        parts.push(format!("NTP at {h}:{p}"));
    }
    if let (Some(sub), Some(end)) = (&k.cert_subject, k.cert_not_after_unix_s) {
        let left = k.cert_seconds_left().map_or(String::new(), |s| {
            format!(", {:.1} days left", s as f64 / 86_400.0)
        });
        parts.push(format!(
            "certificate {sub} valid until {}{left}",
            skew_time::rfc3339::format_secs(end)
        ));
    }
    if n.dropped_unauthenticated > 0 {
        parts.push(format!(
            "{} unauthenticated replies dropped",
            n.dropped_unauthenticated
        ));
    }
    Some(format!(
        "{}: NTS: {}\n",
        escape_control(&r.server),
        escape_control(&parts.join(", "))
    ))
}

/// The human report: a chronyc-like table, the agreement, then errors, warnings and the
/// datagrams dropped per server. With NTS servers, an Auth column and a line per server on
/// its key exchange. Text from the command line, the network or the resolver is escaped
/// (the table escapes its cells).
pub fn human(results: &[ServerResult], agreement: &Agreement) -> String {
    let any_nts = results.iter().any(|r| r.nts.is_some());
    let mut columns = vec![
        ("S", Align::Left),
        ("Server", Align::Left),
        ("Address", Align::Left),
        ("St", Align::Right),
        ("Offset", Align::Right),
        ("+/- Bound", Align::Right),
        ("+/- UTC", Align::Right),
        ("Delay", Align::Right),
        ("Jitter", Align::Right),
        ("Leap", Align::Left),
        ("RX", Align::Left),
    ];
    if any_nts {
        columns.push(("Auth", Align::Left));
    }
    columns.push(("Status", Align::Left));
    let mut t = Table::new(&columns);
    for (r, v) in results.iter().zip(&agreement.verdicts) {
        let h = r.header.as_ref();
        let s = r.summary.as_ref();
        let dash = || "-".to_string();
        let mut row = vec![
            mark(*v, agreement.majority()).to_string(),
            r.server.clone(),
            r.address.map_or_else(dash, |a| a.to_string()),
            h.map_or_else(dash, |h| h.stratum.to_string()),
            s.map_or_else(dash, |s| signed(s.offset_ns)),
            s.map_or_else(dash, |s| {
                unsigned(s.bound.half_width_around(s.offset_ns) as u64)
            }),
            s.map_or_else(dash, |s| {
                unsigned(s.utc_bound.half_width_around(s.offset_ns) as u64)
            }),
            s.map_or_else(dash, |s| unsigned(s.delay_ns.max(0) as u64)),
            s.map_or_else(dash, |s| unsigned(s.jitter_ns.round() as u64)),
            h.map_or_else(dash, |h| h.leap.to_string()),
            r.rx_timestamp()
                .map_or_else(dash, |x| x.as_str().to_string()),
        ];
        if any_nts {
            row.push(auth_cell(r));
        }
        row.push(match &r.kiss_code {
            Some(k) => format!("{} {k}", r.status),
            None => r.status.to_string(),
        });
        t.row(row);
    }
    let mut out = t.render();
    out.push_str(&agreement_line(agreement));
    for r in results {
        if let Some(line) = nts_line(r) {
            out.push_str(&line);
        }
    }
    for r in results {
        if let Some(e) = &r.error {
            out.push_str(&format!(
                "{} ({}): {}: {}\n",
                escape_control(&r.server),
                r.address.map_or("-".into(), |a| a.to_string()),
                r.status,
                escape_control(e)
            ));
        }
        for w in &r.warnings {
            out.push_str(&format!(
                "{}: warning: {}\n",
                escape_control(&r.server),
                escape_control(w)
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in results {
        // A repeat of an address carries a copy of its counters: one line per address.
        if r.address.is_none_or(|a| seen.insert(a)) {
            out.extend(dropped_line(r));
        }
    }
    out.push_str(
        "Offset: server − local (positive: the local clock is behind). +/- Bound: the offset to the \
server's clock lies within offset ± this, whatever the path asymmetry. +/- UTC: adds the server's \
root delay/2 + root dispersion. S: * agrees with the majority, x falseticker, ? not measured.\n",
    );
    if any_nts {
        out.push_str(
            "Auth: nts = every sample used was authenticated with NTS (RFC 8915); none = not \
authenticated (replies that did not authenticate are dropped, never used).\n",
        );
    }
    out
}
