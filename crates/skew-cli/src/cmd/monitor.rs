//! `skew monitor`: one cron-run measurement that appends to the drift log, writes the
//! Prometheus textfile and the state file, and prints a Nagios line.

use crate::cmd::run_options::RunOptions;
use crate::exit::CliError;
use clap::Args;
use skew_monitor::config::duration;
use skew_monitor::nagios::{evaluate, State};
use skew_monitor::outputs::{write_outputs, Outputs, DEFAULT_LOCK_WAIT};
use skew_monitor::run::execute;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `skew monitor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints one Nagios line: SKEW OK: offset +0.000123 s (±0.000045 s) 3/3 servers|perfdata.\n\
Every exit prints exactly one such line. Exit status (monitoring-plugins): 0 OK, 1 WARNING, \
2 CRITICAL, 3 UNKNOWN (a usage error, an unusable configuration file, or an unwritable log, prom \
or state file: `SKEW UNKNOWN: <reason>`)."
)]
pub struct MonitorArgs {
    /// What to probe and check.
    #[command(flatten)]
    pub run: RunOptions,
    /// Append to this CSV drift log (created with its directory when missing).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Write this Prometheus textfile (atomically) for node_exporter's textfile collector.
    #[arg(long, value_name = "FILE")]
    pub prom: Option<PathBuf>,
    /// Save the measurement in this state file for `skew now`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Sleep a random part of this first (cron jobs starting at :00 hurt public servers).
    #[arg(long, value_parser = skew_monitor::config::SPLAY_RANGE.parser(), value_name = "DUR")]
    pub splay: Option<Duration>,
    /// How long to wait for an overlapping run's lock on the log [default: 60s].
    #[arg(long, value_parser = skew_monitor::config::LOCK_WAIT_RANGE.parser(), value_name = "DUR")]
    pub lock_wait: Option<Duration>,
    /// Print the run's full report as JSON after the Nagios line is decided (instead of it).
    #[arg(long)]
    pub json: bool,
}

fn random_below(limit: Duration) -> Duration {
    let r = getrandom::u64().unwrap_or(0);
    let ns = limit.as_nanos().min(u64::MAX as u128) as u64;
    if ns == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(r % ns)
    }
}

/// Runs `skew monitor`.
pub fn run(args: MonitorArgs) -> Result<i32, CliError> {
    let config = args.run.load_config()?;
    let outputs = Outputs {
        log: args.log.clone().or(config.log.clone()),
        prom: args.prom.clone().or(config.prom.clone()),
        state: args.state.clone().or(config.state.clone()),
        lock_wait: args
            .lock_wait
            .or(duration(&config.lock_wait))
            .unwrap_or(DEFAULT_LOCK_WAIT),
    };
    let splay = args.splay.or(duration(&config.splay));
    let plan = args.run.plan(&config, Path::new("/"))?;
    if let Some(s) = splay {
        std::thread::sleep(random_below(s));
    }
    let outcome = execute(&plan.run);
    if let Some(e) = &outcome.probe_error {
        return Err(CliError::new(State::Unknown.code(), e.clone()));
    }
    let mut verdict = evaluate(&outcome.report, &plan.thresholds, &outcome.findings);
    let failures = write_outputs(&outcome, &verdict, &outputs);
    verdict.outputs_failed(&failures);
    if args.json {
        crate::output::print_json(&serde_json::json!({
            "report": outcome.report,
            "state": verdict.state.name(),
            "line": verdict.line,
            "reasons": verdict.reasons,
            "failures": failures,
            "sources": plan.source_lines(&outcome.results),
        }))?;
    } else {
        println!("{}", verdict.line);
    }
    Ok(verdict.state.code())
}

#[cfg(test)]
mod tests {
    use super::random_below;
    use std::time::Duration;

    #[test]
    fn splay_is_spread_over_the_whole_window() {
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
        let limit = Duration::from_secs(60);
        let draws: Vec<Duration> = (0..2000).map(|_| random_below(limit)).collect();
        assert!(draws.iter().all(|d| *d < limit));
        // Cron jobs must not bunch up: every tenth of the window gets some runs.
        let mut tenths = [0u32; 10];
        for d in &draws {
            tenths[(d.as_nanos() * 10 / limit.as_nanos()) as usize] += 1;
        }
        assert!(tenths.iter().all(|&n| n > 100), "{tenths:?}");
    }
}
