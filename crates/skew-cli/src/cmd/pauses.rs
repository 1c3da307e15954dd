//! `skew pauses`: detect process stalls, VM pauses, suspends and clock steps, by sleeping
//! and measuring the overshoot, and say what kind each one was.

use crate::exit::{self, CliError};
use crate::output::print_json;
use crate::output::table::{Align, Table};
use clap::Args;
use skew_pause::config::{self, default_sibling_interval_ns, default_threshold_ns};
use skew_pause::event::utc_string;
use skew_pause::summary::CSV_COLUMNS;
use skew_pause::sys::signals::{block_termination_signals, on_termination};
use skew_pause::{Message, MonitorConfig, PauseEvent, PauseKind, PauseMonitor, Report};
use skew_time::format::{signed, unsigned};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of `skew pauses`.
#[derive(Debug, Args)]
#[command(
    after_help = "A pause P behind a late wake satisfies overshoot − latency ≤ P ≤ time since the \
previous wake ≤ overshoot + interval, where latency is the p99.9 of the ordinary overshoots (the \
kernel's wake-up delay once a stall ends): every length is printed as that interval.\n\nKinds: process (the process alone stopped: SIGSTOP, \
freezer, debugger), scheduling (waited for a CPU), vm (the whole machine stalled, or a VMClock / \
vmgenid change), suspend, step (the clock was set: not a pause), monotonic_backwards (hard fault), \
unknown (no signal explains it).\n\nExit status: 0 no event, 1 events above the threshold, \
2 CLOCK_MONOTONIC went backwards, 64 usage error, 70 the detector could not run."
)]
pub struct PausesArgs {
    /// How often the detector thread wakes (absolute deadlines on CLOCK_MONOTONIC): 1ms is
    /// precise, 10ms the cheap mode. Between 100us and 10s.
    #[arg(long, default_value = "1ms", value_parser = config::INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub interval: Duration,
    /// Report pauses (and steps, suspends) at least this long [default: max(20ms, 4 ×
    /// interval): 20ms at 1ms, 40ms at 10ms, above this machine's measured noise].
    #[arg(long, value_parser = config::THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub threshold: Option<Duration>,
    /// Stop after this long [default: run until Ctrl-C or SIGTERM, then print the summary].
    #[arg(long, value_parser = config::RUN_RANGE.parser(), value_name = "DUR")]
    pub duration: Option<Duration>,
    /// Print one JSON document at the end: {"interval_s", "pauses", "events", "cpu_overhead", ...}.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV rows as they happen, one per --csv-interval, like jHiccup's interval log
    /// (time, count, p50, p90, p99, p99.9, max in seconds); events go to stderr.
    #[arg(long)]
    pub csv: bool,
    /// Period of the CSV rows.
    #[arg(long, default_value = "1s", value_parser = config::REPORT_RANGE.parser(), value_name = "DUR")]
    pub csv_interval: Duration,
    /// How often the sibling detector process wakes [default: threshold / 2, so that every
    /// pause above the threshold has a witness].
    #[arg(long, value_parser = config::INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub sibling_interval: Option<Duration>,
    /// Run without the sibling process (cheaper; process and VM pauses then read `unknown`
    /// unless steal time or a VM marker tells).
    #[arg(long, conflicts_with = "sibling_interval")]
    pub no_sibling: bool,
    /// The VMClock device whose disruption marker changes on live migration ("none": do
    /// not read it).
    #[arg(long, default_value = "/dev/vmclock0", value_name = "PATH")]
    pub vmclock_path: PathBuf,
    /// A file holding the VM generation ID (any content; a change means the VM was cloned
    /// or restored from a snapshot). Linux has no standard file for it: none by default.
    #[arg(long, value_name = "PATH")]
    pub vmgenid_path: Option<PathBuf>,
    /// Timer slack of the detector and sibling (PR_SET_TIMERSLACK); the kernel's default
    /// 50us triples the median overshoot of a 1 ms sleep.
    #[arg(long, default_value = "1ns", value_parser = config::TIMER_SLACK_RANGE.parser(), value_name = "DUR")]
    pub timer_slack: Duration,
    /// The state file of `skew monitor --state`: a machine-wide pause (vm, suspend, step,
    /// unknown) longer than the bound saved there voids it (`skew now` then answers unknown
    /// until the next measurement), since the clock may have moved under a paused machine.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Events kept for the final report (later ones are still printed and counted).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_events: usize,
}

fn ns(d: Duration, what: &str) -> Result<i64, CliError> {
    i64::try_from(d.as_nanos()).map_err(|_| CliError::usage(format!("{what} is too large")))
}

impl PausesArgs {
    /// The monitor configuration these flags ask for.
    pub fn config(&self) -> Result<MonitorConfig, CliError> {
        let interval_ns = ns(self.interval, "--interval")?;
        let mut cfg = MonitorConfig::for_interval(interval_ns);
        let d = &mut cfg.detector;
        d.threshold_ns = match self.threshold {
            Some(t) => ns(t, "--threshold")?,
            None => default_threshold_ns(interval_ns),
        };
        d.sibling_interval_ns = if self.no_sibling {
            None
        } else {
            Some(match self.sibling_interval {
                Some(s) => ns(s, "--sibling-interval")?,
                None => default_sibling_interval_ns(d.threshold_ns, interval_ns),
            })
        };
        // Interval statistics cost a histogram summary each: only for the CSV rows.
        d.report_ns = if self.csv {
            Some(ns(self.csv_interval, "--csv-interval")?)
        } else {
            None
        };
        d.max_events = self.max_events;
        cfg.vmclock_path =
            (self.vmclock_path.as_os_str() != "none").then(|| self.vmclock_path.clone());
        cfg.vmgenid_path = self.vmgenid_path.clone();
        cfg.timer_slack_ns = ns(self.timer_slack, "--timer-slack")?.max(1) as u64;
        cfg.validate()
            .map_err(|e| CliError::usage(format!("{e}")))?;
        Ok(cfg)
    }
}

/// The length of an event as printed: `min..max`, a signed step `±`, or `≥ min`.
fn length(e: &PauseEvent) -> String {
    match (e.kind, e.max_ns) {
        (PauseKind::Step, Some(max)) => {
            let mid = e.min_ns / 2 + max / 2;
            format!(
                "{} ±{}",
                signed(mid),
                unsigned(((max - e.min_ns) / 2).max(0) as u64)
            )
        }
        (_, Some(max)) => format!(
            "{}..{}",
            unsigned(e.min_ns.max(0) as u64),
            unsigned(max.max(0) as u64)
        ),
        (_, None) => format!("≥ {} (unbounded)", unsigned(e.min_ns.max(0) as u64)),
    }
}

/// One line per event, as it happens.
pub fn event_line(e: &PauseEvent) -> String {
    format!(
        "{}  {:<10}  {}  {}",
        utc_string(e.start_unix_ns),
        e.kind.as_str(),
        length(e),
        e.note
    )
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.2}%", v * 100.0))
}

/// The human summary printed at the end.
pub fn human_summary(r: &Report, stopped_by: Option<&str>) -> String {
    let s = &r.summary;
    let o = &s.overshoots;
    let mut out = String::new();
    out.push_str(&format!(
        "skew pauses: {} at {} intervals (threshold {}), {} wakes{}\n",
        unsigned(s.elapsed_ns.max(0) as u64),
        unsigned(r.config.interval_ns as u64),
        unsigned(r.config.threshold_ns as u64),
        o.count,
        stopped_by.map_or(String::new(), |sig| format!(", stopped by {sig}"))
    ));
    let mut t = Table::new(&[
        ("Overshoot", Align::Left),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("p99.9", Align::Right),
        ("max", Align::Right),
        ("over threshold", Align::Right),
    ]);
    let u = |v: i64| unsigned(v.max(0) as u64);
    t.row(vec![
        "all wakes".into(),
        u(o.p50_ns),
        u(o.p90_ns),
        u(o.p99_ns),
        u(o.p999_ns),
        u(o.max_ns),
        o.count_over_threshold.to_string(),
    ]);
    out.push_str(&t.render());
    let kinds: Vec<String> = s.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!(
        "Events: {}{}\n",
        s.events_total,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    ));
    out.push_str(&format!(
        "CPU: {} of one core (detector thread {}, sibling {})\n",
        pct(r.cpu_overhead()),
        pct(r.record().cpu_overhead_detector),
        pct(r.record().cpu_overhead_sibling)
    ));
    let sib = match (&r.sibling.pid, &r.sibling.error) {
        (Some(pid), _) => format!(
            "pid {pid}, every {}",
            unsigned(r.sibling.interval_ns.unwrap_or(0).max(0) as u64)
        ),
        (None, Some(e)) => format!("not running: {e}"),
        (None, None) => "off".into(),
    };
    let yn = |b: bool| if b { "yes" } else { "no" };
    out.push_str(&format!(
        "Sibling: {sib}. Signals: schedstat {}, steal {}, VMClock {}, vmgenid {}; timer slack {}\n",
        yn(r.sources.schedstat),
        yn(r.sources.steal),
        yn(r.sources.vmclock),
        yn(r.sources.vmgenid),
        r.timer_slack_ns.map_or("-".into(), |v| format!("{v}ns"))
    ));
    if !s.events.is_empty() {
        let mut t = Table::new(&[
            ("Start (UTC)", Align::Left),
            ("Kind", Align::Left),
            ("Length", Align::Right),
            ("Run-delay", Align::Right),
            ("Steal", Align::Right),
            ("Sibling", Align::Left),
        ]);
        for e in &s.events {
            let opt = |v: Option<i64>| v.map_or("-".into(), |x| unsigned(x.max(0) as u64));
            t.row(vec![
                utc_string(e.start_unix_ns),
                e.kind.as_str().into(),
                length(e),
                opt(e.evidence.run_delay_ns),
                opt(e.evidence.steal_ns),
                e.evidence.sibling.as_str().into(),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
        if s.events_dropped() > 0 {
            out.push_str(&format!(
                "({} more events not kept; raise --max-events)\n",
                s.events_dropped()
            ));
        }
    }
    out.push_str(
        "Length: a pause P behind a late wake satisfies overshoot − usual wake-up latency (p99.9) ≤ P ≤ \
time since the previous wake ≤ overshoot + interval.\n",
    );
    out
}

/// The JSON document: the report, and the signal that ended the run.
#[derive(serde::Serialize)]
struct JsonReport {
    #[serde(flatten)]
    report: skew_pause::report::ReportRecord,
    /// `SIGINT` or `SIGTERM` when a signal ended the run, else null.
    stopped_by: Option<&'static str>,
}

/// The exit code of a run: 2 on a clock fault, 1 when events were seen, else 0.
pub fn exit_code(r: &Report) -> i32 {
    if r.summary.has_fault() {
        exit::CLOCK_FAULT
    } else if r.summary.events_total > 0 {
        exit::EVENTS_SEEN
    } else {
        exit::OK
    }
}

/// Voids the measurement state at `path` when `e` may have moved the clock under the machine
/// and may be longer than the state's bound (the policy is `skew_truetime`'s). Errors are
/// reported on stderr and do not stop the detector.
fn void_state_if_longer(path: &std::path::Path, e: &skew_pause::PauseEvent) {
    let pause = skew_truetime::state::Pause {
        kind: e.kind.as_str(),
        machine_wide: e.kind.may_move_the_clock(),
        max_ns: e.max_ns,
        start_unix_ns: e.start_unix_ns,
        end_unix_ns: e.end_unix_ns,
    };
    if let Err(err) = skew_truetime::state::void_if_longer(path, &pause) {
        eprintln!("skew pauses: warning: {err}");
    }
}

/// Runs `skew pauses`.
pub fn run(args: PausesArgs) -> Result<i32, CliError> {
    let cfg = args.config()?;
    // Block SIGINT/SIGTERM before any thread exists (the detector and the sibling inherit
    // the mask); one thread takes them synchronously and ends the run with its summary.
    let sigset = block_termination_signals()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot block signals: {e}")))?;
    let (monitor, rx) =
        PauseMonitor::start(cfg).map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
    if let Some(e) = &monitor.info().sibling.error {
        eprintln!("skew pauses: warning: {e}; running without the sibling");
    }
    // A signal stops the detector, which closes the channel after its last messages.
    let stopped_by: Arc<Mutex<Option<&'static str>>> = Arc::new(Mutex::new(None));
    let flag = Arc::clone(&stopped_by);
    let stopper = monitor.stopper();
    on_termination(sigset, move |sig| {
        *flag.lock().expect("not poisoned") = Some(sig.as_str());
        stopper.stop();
    })
    .map_err(|e| {
        CliError::new(
            exit::SOFTWARE,
            format!("cannot start the signal thread: {e}"),
        )
    })?;
    let mut csv = args
        .csv
        .then(|| csv::Writer::from_writer(std::io::stdout()));
    if let Some(w) = csv.as_mut() {
        let _ = w.write_record(CSV_COLUMNS);
        let _ = w.flush();
    }
    let show = |m: Message, csv: &mut Option<csv::Writer<std::io::Stdout>>| match m {
        Message::Event(e) => {
            if let Some(path) = &args.state {
                void_state_if_longer(path, &e);
            }
            if args.csv {
                eprintln!("{}", event_line(&e));
            } else if !args.json {
                println!("{}", event_line(&e));
                let _ = std::io::stdout().flush();
            }
        }
        Message::Interval(i) => {
            if let Some(w) = csv.as_mut() {
                let _ = w.write_record(i.csv_fields());
                let _ = w.flush();
            }
        }
    };
    // Sleep until a message, the end of --duration, or the channel closing (a signal
    // stopped the detector): no polling.
    let end = args.duration.map(|d| Instant::now() + d);
    loop {
        let next = match end {
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                rx.recv_timeout(left)
            }
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(m) => show(m, &mut csv),
            Err(_) => break,
        }
    }
    let report = monitor
        .stop()
        .map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
    for m in rx.try_iter() {
        show(m, &mut csv);
    }
    let stopped_by = *stopped_by.lock().expect("not poisoned");
    if args.json {
        print_json(&JsonReport {
            report: report.record(),
            stopped_by,
        })?;
    } else if args.csv {
        eprint!("{}", human_summary(&report, stopped_by));
    } else {
        print!("{}", human_summary(&report, stopped_by));
    }
    Ok(exit_code(&report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<MonitorConfig, CliError> {
        let cli =
            crate::cli::Cli::try_parse_from(std::iter::once("skew").chain(args.iter().copied()))
                .map_err(|e| CliError::usage(e.to_string()))?;
        match cli.command {
            crate::cli::Command::Pauses(a) => a.config(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn defaults_and_flags() {
        let c = parse(&["pauses"]).unwrap();
        assert_eq!(c.detector.interval_ns, 1_000_000);
        assert_eq!(c.detector.threshold_ns, 20_000_000);
        assert_eq!(c.detector.sibling_interval_ns, Some(10_000_000));
        assert_eq!(c.vmclock_path, Some(PathBuf::from("/dev/vmclock0")));
        let c = parse(&["pauses", "--interval", "10ms"]).unwrap();
        assert_eq!(c.detector.threshold_ns, 40_000_000);
        assert_eq!(c.detector.sibling_interval_ns, Some(20_000_000));
        let c = parse(&[
            "pauses",
            "--no-sibling",
            "--threshold",
            "5ms",
            "--vmclock-path",
            "none",
        ])
        .unwrap();
        assert_eq!(c.detector.sibling_interval_ns, None);
        assert_eq!(c.detector.threshold_ns, 5_000_000);
        assert_eq!(c.vmclock_path, None);
        assert_eq!(
            parse(&["pauses", "--interval", "1us"]).unwrap_err().code,
            64
        );
        assert_eq!(parse(&["pauses", "--threshold", "0"]).unwrap_err().code, 64);
        assert_eq!(parse(&["pauses", "--duration", "0s"]).unwrap_err().code, 64);
        assert_eq!(parse(&["pauses", "--json", "--csv"]).unwrap_err().code, 64);
    }
}
