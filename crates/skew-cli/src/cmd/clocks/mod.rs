//! `skew clocks`: what the local clocks do — resolution and read cost of every Linux clock,
//! rates against MONOTONIC_RAW, steps of the time of day, suspend, TAI, the kernel's
//! discipline and the clocksource.

mod human;
mod sink;

use crate::exit::{self, CliError};
use crate::output::print_json;
use clap::Args;
use sink::CsvSink;
use skew_clock::detect::Direction;
use skew_clock::linux;
use skew_clock::monitor::Summary;
use skew_clock::reading::{kernel_now, measure_tai, tai_minus_realtime_s, Session};
use skew_clock::report::{self, IntervalRecord, ReportInputs};
use skew_clock::resolution::{survey, SurveyConfig};
use skew_clock::run::{self, Flow, RunConfig};
use skew_clock::{ClockError, ClockId};
use skew_time::duration_ns;
use std::time::Duration;

/// Arguments of `skew clocks`.
#[derive(Debug, Args)]
#[command(
    after_help = "Rates are against CLOCK_MONOTONIC_RAW (the bare clocksource): positive \
means the clock runs faster. Steps are jumps of CLOCK_REALTIME against CLOCK_BOOTTIME, so a \
suspend is not taken for a step.\n\nExit status: 0 nothing happened to the clocks, 1 REALTIME \
stepped forward, the kernel reported a clock setting, the system suspended or a monotonic clock \
jumped, 2 REALTIME stepped backward, 3 a clock the measurement needs cannot be read, 64 usage \
error, 74 the CSV file cannot be written."
)]
pub struct ClocksArgs {
    /// How long to sample [default: 10s; with --watch: until interrupted or --count].
    #[arg(long, value_parser = run::RUN_DURATION_RANGE.parser(), value_name = "DUR")]
    pub duration: Option<Duration>,
    /// Smallest jump of REALTIME against BOOTTIME reported as a step (also the threshold for
    /// suspends and monotonic jumps).
    #[arg(long, default_value = "1ms", value_parser = run::STEP_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub step_threshold: Duration,
    /// Time between samples.
    #[arg(long, default_value = "10ms", value_parser = run::SAMPLE_INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub sample_interval: Duration,
    /// Chained read rounds per sample; each clock's tightest RAW bracket is kept.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Print one line per interval (like `ntpcheck utils track`) until interrupted
    /// (Ctrl-C), --count lines or --duration.
    #[arg(long)]
    pub watch: bool,
    /// Length of a --watch interval.
    #[arg(long, default_value = "1s", value_parser = run::WATCH_INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub interval: Duration,
    /// Stop --watch after N lines.
    #[arg(long, value_name = "N", requires = "watch",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Print JSON: the report (with --watch: one JSON object per interval, one per line).
    #[arg(long)]
    pub json: bool,
    /// Print CSV rows a drift log can hold: to stdout with a header, or appended to FILE
    /// (header only when FILE is new or empty). One row for the run, or one per --watch
    /// interval.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub csv: Option<String>,
    /// Skip the per-clock survey (resolution and read cost; about 0.5 s).
    #[arg(long)]
    pub no_survey: bool,
}

fn clock_failure(e: ClockError) -> CliError {
    CliError::new(exit::UNKNOWN, e.to_string())
}

impl ClocksArgs {
    fn validate(&self) -> Result<(), CliError> {
        if self.json && self.csv.as_deref() == Some("-") {
            return Err(CliError::usage(
                "--json and --csv both print to stdout: give --csv a FILE",
            ));
        }
        // The ranges of single flags are checked as they are parsed (skew_clock::run's).
        if self.interval < self.sample_interval {
            return Err(CliError::usage(
                "--interval must be at least --sample-interval",
            ));
        }
        Ok(())
    }
}

/// The exit code for a run.
pub fn exit_code(s: &Summary, step_threshold_ns: i64) -> i32 {
    if s.steps.iter().any(|x| x.direction == Direction::Backward) {
        exit::CLOCK_STEPPED_BACK
    } else if !s.steps.is_empty()
        || !s.clock_sets.is_empty()
        || !s.suspends.is_empty()
        || !s.jumps.is_empty()
        || s.suspend_growth_ns > step_threshold_ns
    {
        exit::CLOCK_EVENT
    } else {
        exit::OK
    }
}

/// Runs `skew clocks`.
pub fn run(args: ClocksArgs) -> Result<i32, CliError> {
    args.validate()?;
    let step_ns = duration_ns(args.step_threshold);
    let sample_ns = duration_ns(args.sample_interval);
    let mut session = Session::new(step_ns, sample_ns);
    let user_hz = session.user_hz;
    let mut csv = match args.csv.as_deref() {
        None => None,
        Some(path) => Some(CsvSink::open(path)?),
    };
    if args.watch {
        linux::stop_on_signals().map_err(|e| {
            CliError::new(exit::SOFTWARE, format!("cannot handle stop signals: {e}"))
        })?;
    }
    let survey_entries = if args.watch || args.no_survey {
        Vec::new()
    } else {
        survey(
            &mut session.env.clocks,
            &ClockId::ALL,
            &SurveyConfig::default(),
        )
        .map_err(clock_failure)?
    };
    let clocksource = linux::read_clocksource().map_err(|e| e.to_string());
    let clocksource_name = clocksource.as_ref().ok().map(|c| c.current.clone());
    let human_out = !args.json && args.csv.as_deref() != Some("-");
    let run_ns = match (args.duration, args.watch) {
        (Some(d), _) => Some(duration_ns(d)),
        (None, true) => None,
        (None, false) => Some(10_000_000_000),
    };
    let cfg = RunConfig {
        duration_ns: run_ns,
        interval_ns: if args.watch {
            duration_ns(args.interval)
        } else {
            run_ns.unwrap_or(i64::MAX)
        },
        sample_interval_ns: sample_ns,
        rounds: args.rounds,
    };
    if args.watch && human_out {
        println!("{}", human::watch_header());
    }
    let mut lines = 0u64;
    let mut write_error: Option<CliError> = None;
    let watch = args.watch;
    let json = args.json;
    let count = args.count;
    session
        .run(&cfg, |env, summary| {
            if !watch {
                return Flow::Continue;
            }
            lines += 1;
            let kernel = kernel_now().ok();
            let tai = tai_minus_realtime_s(env, 8).ok();
            let record = IntervalRecord::of(
                summary,
                kernel.as_ref(),
                user_hz,
                tai,
                clocksource_name.as_deref(),
            );
            if json {
                match serde_json::to_string(&record) {
                    Ok(line) => println!("{line}"),
                    Err(e) => write_error = Some(CliError::new(exit::SOFTWARE, e.to_string())),
                }
            } else if human_out {
                println!("{}", human::watch_line(&record));
            }
            if let Some(sink) = csv.as_mut() {
                if let Err(e) = sink.write(&record) {
                    write_error = Some(e);
                    return Flow::Stop;
                }
            }
            if count.is_some_and(|c| lines >= c) {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
        .map_err(clock_failure)?;
    if let Some(e) = write_error {
        return Err(e);
    }
    let Some(summary) = session.monitor.summary() else {
        return Err(CliError::new(exit::SOFTWARE, "no sample was taken"));
    };
    let code = exit_code(&summary, step_ns);
    if args.watch {
        if human_out {
            print!("{}", human::watch_trailer(&summary));
        }
        return Ok(code);
    }
    // The report: the kernel at the end, CLOCK_TAI now, the files.
    let kernel_end = kernel_now();
    // TAI − UTC now according to the leap-seconds.list in use: the freshest of the system's
    // and skew's cache (None when there is none).
    let now_s = summary.end.realtime_ns.div_euclid(1_000_000_000);
    let in_use = skew_leap::system::system_tai_minus_utc(now_s).ok();
    let list_tai = in_use.as_ref().and_then(|(v, _, _)| *v).map(i64::from);
    let tai = measure_tai(&mut session.env, kernel_end.as_ref().ok(), list_tai)
        .map(|mut t| {
            t.list_file = in_use
                .as_ref()
                .filter(|_| list_tai.is_some())
                .map(|(_, _, chosen)| chosen.describe());
            t
        })
        .map_err(|e| e.to_string());
    let rep = report::build(ReportInputs {
        survey: &survey_entries,
        summary: &summary,
        kernel: kernel_end.as_ref().map_err(|e| e.clone()),
        user_hz,
        tai,
        clocksource,
        timens: linux::read_timens_offsets(),
        timerfd_error: session.env.pacer.error().map(str::to_string),
        sample_interval_ns: sample_ns,
        rounds: args.rounds,
        step_threshold_ns: step_ns,
    });
    if let Some(sink) = csv.as_mut() {
        let record = IntervalRecord::of(
            &summary,
            kernel_end.as_ref().ok(),
            user_hz,
            rep.tai_minus_utc_s,
            clocksource_name.as_deref(),
        );
        sink.write(&record)?;
    }
    if args.json {
        print_json(&rep)?;
    } else if human_out {
        print!("{}", human::report(&rep));
    }
    Ok(code)
}
