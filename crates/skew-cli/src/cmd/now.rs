//! `skew now`: a TrueTime-style interval for the current time from the last measurement.

use crate::exit::{self, CliError};
use clap::Args;
use skew_time::format::unsigned;
use skew_time::rfc3339::format_ns as rfc3339_ns;
use skew_truetime::stall::Stall;
use skew_truetime::{clocks, evaluate, Interval, Limits, Status};
use std::path::PathBuf;
use std::time::Duration;

/// The state file `skew monitor --state` writes by default in the examples.
pub const DEFAULT_STATE: &str = "/var/lib/skew/state.json";

/// Arguments of `skew now`.
#[derive(Debug, Args)]
#[command(
    after_help = "earliest ≤ true UTC ≤ latest, from the last `skew monitor --state` measurement \
widened by --max-drift-ppm × the time since. Status `unknown` (no interval) when the state is older than \
--max-age, the machine rebooted or was suspended, the time-of-day clock stepped, or a pause longer than \
the bound was recorded since.\n\nExit status: 0 interval known, 1 unknown, 2 no usable state file, 64 usage error."
)]
pub struct NowArgs {
    /// The state file written by `skew monitor --state`.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_STATE)]
    pub state: PathBuf,
    /// Maximum drift rate of the local clock since the measurement, in ppm.
    #[arg(long, default_value_t = 50.0, value_name = "PPM", value_parser = skew_time::parse_ppm)]
    pub max_drift_ppm: f64,
    /// Oldest measurement still trusted.
    #[arg(long, default_value = "24h", value_parser = skew_truetime::interval::MAX_AGE_RANGE.parser(), value_name = "DUR")]
    pub max_age: Duration,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print one interval every DUR (with --count), and go unknown if this process itself
    /// is paused for longer than the bound.
    #[arg(long, value_parser = skew_truetime::interval::WATCH_RANGE.parser(), value_name = "DUR")]
    pub watch: Option<Duration>,
    /// How many intervals to print with --watch.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub count: u64,
    /// With --watch: stalls of this process shorter than this are scheduling noise, not
    /// pauses (this machine's 1 ms sleeps overshoot up to 4 ms when quiet); a stall longer
    /// than both this and the bound voids the interval.
    #[arg(long, default_value = "20ms", value_parser = skew_truetime::interval::PAUSE_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub pause_threshold: Duration,
}

/// latest − earliest, exactly (two `i64` time stamps can be more than `i64::MAX` apart).
fn width_ns(earliest_ns: i64, latest_ns: i64) -> i128 {
    i128::from(latest_ns) - i128::from(earliest_ns)
}

fn show(i: &Interval, json: bool) -> Result<(), CliError> {
    if json {
        return crate::output::print_json(&serde_json::json!({
            "status": i.status,
            "earliest": i.earliest_ns.map(rfc3339_ns),
            "latest": i.latest_ns.map(rfc3339_ns),
            "earliest_ns": i.earliest_ns,
            "latest_ns": i.latest_ns,
            "local": rfc3339_ns(i.local_ns),
            "local_ns": i.local_ns,
            "age_s": i.age_s,
            "reason": i.reason,
        }));
    }
    match (i.earliest_ns, i.latest_ns) {
        (Some(e), Some(l)) => println!(
            "ok  earliest {}  latest {}  (width {:.6} s, age {:.1} s)",
            rfc3339_ns(e),
            rfc3339_ns(l),
            width_ns(e, l) as f64 / 1e9,
            i.age_s
        ),
        _ => println!("unknown  local {}  ({})", rfc3339_ns(i.local_ns), i.reason),
    }
    Ok(())
}

/// Runs `skew now`.
pub fn run(args: NowArgs) -> Result<i32, CliError> {
    let limits = Limits {
        max_drift_ppm: args.max_drift_ppm,
        max_age_ns: skew_time::duration_ns(args.max_age),
        ..Limits::default()
    };
    let state = skew_truetime::state::read(&args.state)
        .map_err(|e| CliError::new(exit::ALL_FAILED, e.to_string()))?;
    let Some(every) = args.watch else {
        let i = evaluate(&state, &clocks::read_now(), &limits);
        show(&i, args.json)?;
        return Ok(if i.status == Status::Ok {
            exit::OK
        } else {
            exit::SOME_FAILED
        });
    };
    // Watch: re-read the state each time (a new measurement may land), and notice our own
    // stalls: after a pause longer than the bound we cannot vouch for what the clock did.
    let mut paused: Option<String> = None;
    let mut last_mono = clocks::read_clocks().monotonic_ns;
    // The usual wake-up latency: the largest overshoot of the ordinary wake-ups so far, so
    // that a pause's lower bound gives it back (as `skew pauses` does with its p99.9).
    let mut latency_ns = 0i64;
    let mut code = exit::OK;
    for n in 0..args.count.max(1) {
        let state = skew_truetime::state::read(&args.state).unwrap_or_else(|_| state.clone());
        let now = clocks::read_now();
        let gap_ns = now.0.monotonic_ns - last_mono;
        let expected_ns = if n == 0 {
            0
        } else {
            skew_time::duration_ns(every)
        };
        let mut i = evaluate(&state, &now, &limits);
        let stall = Stall::of(gap_ns, expected_ns, latency_ns);
        let threshold_ns = skew_time::duration_ns(args.pause_threshold);
        if let (Some(e), Some(l)) = (i.earliest_ns, i.latest_ns) {
            let half_ns = width_ns(e, l) / 2;
            if i128::from(stall.overshoot_ns) > half_ns.max(i128::from(threshold_ns)) {
                // The stop may have overlapped the sleep: it lasted between the overshoot
                // (less the usual latency) and the whole gap.
                paused = Some(format!(
                    "this process was paused for {}..{}, longer than the bound ±{:.6} s",
                    unsigned(stall.min_ns as u64),
                    unsigned(stall.max_ns as u64),
                    half_ns as f64 / 1e9
                ));
            }
        }
        if n > 0 && stall.overshoot_ns <= threshold_ns {
            latency_ns = latency_ns.max(stall.overshoot_ns);
        }
        if let Some(why) = &paused {
            if state.at.monotonic_ns < now.0.monotonic_ns - gap_ns {
                i = Interval {
                    status: Status::Unknown,
                    earliest_ns: None,
                    latest_ns: None,
                    reason: why.clone(),
                    ..i
                };
            } else {
                paused = None; // a fresh measurement landed after the pause
            }
        }
        if i.status != Status::Ok {
            code = exit::SOME_FAILED;
        }
        show(&i, args.json)?;
        last_mono = now.0.monotonic_ns;
        if n + 1 < args.count.max(1) {
            std::thread::sleep(every);
        }
    }
    Ok(code)
}
