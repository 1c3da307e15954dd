//! `skew check`: the monitoring run for a person at a terminal — a readable report,
//! nothing written.

use crate::cmd::probe::human;
use crate::cmd::run_options::RunOptions;
use crate::exit::CliError;
use clap::Args;
use skew_driftlog::LeapListStatus;
use skew_monitor::nagios::{evaluate, State};
use skew_monitor::plan::{Plan, SourceLine};
use skew_monitor::rows::LeapReading;
use skew_monitor::run::execute;
use skew_time::escape::escape_control;
use std::path::Path;

/// Arguments of `skew check`.
#[derive(Debug, Args)]
#[command(
    after_help = "Nothing is written. Exit status as `skew monitor`: 0 OK, 1 WARNING, \
2 CRITICAL, 3 UNKNOWN (including usage and configuration errors, reported as `SKEW UNKNOWN: \
<reason>` on stdout)."
)]
pub struct CheckArgs {
    /// What to probe and check.
    #[command(flatten)]
    pub run: RunOptions,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the run probes, said before it starts: how many servers (and pools) from where.
fn announce(plan: &Plan) {
    let probe = &plan.run.probe;
    let pools = probe.pools.len();
    let servers = probe.servers.len() - pools;
    let what = if pools > 0 {
        format!("{servers} server(s) and {pools} pool(s)")
    } else {
        format!("{servers} server(s)")
    };
    eprintln!(
        "skew check: probing {what} from {} ({} samples, {:?} apart)...",
        escape_control(&plan.servers_from),
        probe.engine.probe.samples,
        std::time::Duration::from_nanos(probe.engine.probe.interval_ns as u64)
    );
}

/// The header of the servers' section: where they came from and, for an NTP
/// configuration, how many addresses each of its lines gave.
fn servers_header(plan: &Plan, lines: &[SourceLine]) -> String {
    if plan.conf.is_empty() {
        return format!(
            "NTP servers (from {}):\n",
            escape_control(&plan.servers_from)
        );
    }
    let mut out = String::new();
    for f in &plan.conf {
        let file = f.path.display().to_string();
        out.push_str(&format!(
            "NTP servers from {} ({}):\n",
            escape_control(&file),
            f.kind.name()
        ));
        for l in lines.iter().filter(|l| l.file == file) {
            let gave = match (l.addresses, &l.error) {
                (0, Some(e)) => format!("no address ({})", escape_control(e)),
                (1, _) => "1 address".to_string(),
                (n, _) => format!("{n} addresses"),
            };
            let limit = l
                .maxsources
                .map_or(String::new(), |m| format!(" (a pool: up to {m})"));
            out.push_str(&format!(
                "  line {}: {} -> {gave}{limit}\n",
                l.line,
                escape_control(&l.text)
            ));
        }
        for d in &f.not_followed {
            out.push_str(&format!(
                "  not read: {} (only this file is read)\n",
                escape_control(d)
            ));
        }
    }
    out
}

/// Runs `skew check`.
pub fn run(args: CheckArgs) -> Result<i32, CliError> {
    let config = args.run.load_config()?;
    let plan = args.run.plan(&config, Path::new("/"))?;
    announce(&plan);
    let outcome = execute(&plan.run);
    if let Some(e) = &outcome.probe_error {
        return Err(CliError::new(State::Unknown.code(), e.clone()));
    }
    let verdict = evaluate(&outcome.report, &plan.thresholds, &outcome.findings);
    let lines = plan.source_lines(&outcome.results);
    if args.json {
        crate::output::print_json(&serde_json::json!({
            "report": outcome.report,
            "state": verdict.state.name(),
            "line": verdict.line,
            "reasons": verdict.reasons,
            "servers_from": plan.servers_from,
            "sources": lines,
        }))?;
        return Ok(verdict.state.code());
    }
    let mut out = servers_header(&plan, &lines);
    out.push_str(&human(&outcome.results, &outcome.agreement));
    if let Some(c) = &outcome.report.clock {
        out.push_str("\nLocal clock:\n");
        match (c.rate_ppm, c.rate_ci95_ppm) {
            (Some(r), Some(ci)) => out.push_str(&format!(
                "  time of day vs MONOTONIC_RAW: {r:+.4} ppm ± {ci:.4} (95 %)\n"
            )),
            _ => out.push_str("  time of day vs MONOTONIC_RAW: not measured\n"),
        }
        out.push_str(&format!(
            "  steps of the time of day during the run: {}{}{}\n",
            c.steps,
            c.step_max_s
                .map_or(String::new(), |s| format!(" (largest {s:+.6} s)")),
            if c.steps_local > 0 {
                format!(
                    "; {} local to this process: the kernel reported no clock setting \
                     (a time-faking library such as libfaketime?)",
                    c.steps_local
                )
            } else {
                String::new()
            }
        ));
        // Below the readings' own uncertainty (sub-millisecond) a tiny negative value is 0.
        if let Some(s) = c.suspended_s.map(|s| if s.abs() < 5e-4 { 0.0 } else { s }) {
            out.push_str(&format!("  suspended since boot: {s:.3} s\n"));
        }
        if let Some(s) = &c.kernel_state {
            out.push_str(&format!(
                "  kernel discipline: {s}, {} (frequency {:+.3} ppm)\n",
                if c.kernel_synchronized == Some(true) {
                    "synchronized"
                } else {
                    "not synchronized"
                },
                c.kernel_freq_ppm.unwrap_or(0.0)
            ));
            if c.kernel_synchronized == Some(false) {
                out.push_str(&format!(
                    "    {}: the clock is as right as it is now and will drift freely \
                     (run a time daemon, or --no-kernel-sync on a host meant to run free)\n",
                    c.kernel_sync_reason
                        .as_deref()
                        .unwrap_or("not synchronized")
                ));
            }
        }
        if let Some(e) = &c.kernel_error {
            out.push_str(&format!("  kernel discipline: could not read: {e}\n"));
        }
    }
    if let Some(l) = &outcome.report.leap {
        out.push_str(&leap_section(l));
    }
    out.push_str(&format!(
        "\nVerdict: {}\n",
        escape_control(&verdict.headline)
    ));
    for r in &verdict.reasons {
        out.push_str(&format!("  - {}\n", escape_control(r)));
    }
    print!("{out}");
    Ok(verdict.state.code())
}

/// The leap-seconds part of the report: the list's status, which list it is, and what it
/// can and cannot tell. An expired list never says "no leap second scheduled": it cannot
/// know, and the advice to renew it is given here (the Nagios line keeps one short clause).
fn leap_section(l: &LeapReading) -> String {
    let expired = l.status == LeapListStatus::Expired.as_str();
    let scheduled = match (&l.next, l.expires.as_deref()) {
        (Some(n), _) => format!(", next leap {n}"),
        (None, Some(_)) if expired => "; it cannot tell whether a leap second is scheduled \
             after that: run `skew leap --fetch` or install a current tzdata"
            .into(),
        (None, Some(_))
            if l.status == LeapListStatus::Ok.as_str()
                || l.status == LeapListStatus::Expiring.as_str() =>
        {
            ", no leap second scheduled up to its expiry".into()
        }
        _ => String::new(),
    };
    let status = match l.expires.as_deref() {
        Some(e) if expired => format!("expired on {e}"),
        Some(e) => format!("{}, expires {e}", l.status),
        None => l.status.clone(),
    };
    let mut out = format!(
        "\nLeap seconds: list {status}{}{scheduled}\n",
        l.tai_minus_utc_s
            .map_or(String::new(), |t| format!(", TAI − UTC {t} s")),
    );
    if let Some(c) = &l.chosen {
        out.push_str(&format!("  list used: {c}\n"));
    }
    out
}
