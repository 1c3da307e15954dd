//! The command line: `skew <COMMAND>`.

use crate::cmd;
use crate::exit::{self, CliError};
use clap::{CommandFactory, Parser, Subcommand};
use skew_monitor::nagios::Verdict;

/// skew measures how wrong clocks are: NTP offsets with honest error bounds, clock steps
/// and rates, process and VM pauses, leap seconds, drift logs and reports.
///
/// Offsets are server − local everywhere (as chrony and ntpdig): positive means the local
/// clock is behind.
#[derive(Debug, Parser)]
#[command(name = "skew", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. The first paragraph of each is its one-line summary (`skew --help`); the
/// rest is the DESCRIPTION of its manual page (`skew man COMMAND`) and of `skew COMMAND --help`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe NTP servers: offset, delay and honest bounds per server.
    ///
    /// Sends -n requests to each server, one per --interval per address, all servers at once,
    /// and times each exchange with the kernel's timestamps. The offset (server − local) is
    /// the lowest-delay sample's. The hard bound holds the offset to the server's clock
    /// whatever the path asymmetry (θ ± δ/2, widened by both clocks' precision and by
    /// --max-drift-ppm over the exchange); the UTC bound adds the server's root delay / 2 +
    /// root dispersion. The servers' UTC bounds are intersected (Marzullo): a server outside
    /// the majority's agreement is a falseticker, and without a majority skew says so.
    ///
    /// Output: a table, --json or --csv (every key and column: docs/formats.md). More:
    /// docs/commands/probe.md.
    Probe(cmd::probe::ProbeArgs),
    /// One cron-run measurement: drift log, Prometheus textfile, state, Nagios line.
    ///
    /// Probes the servers (as skew probe), takes a short reading of the local clock (as skew
    /// clocks), checks the leap-seconds list (as skew leap) and optionally samples pauses (as
    /// skew pauses); then appends the rows to the CSV drift log under a lock, writes the
    /// Prometheus textfile and the state file for skew now atomically, and prints one Nagios
    /// line judged on the majority's agreement, like check_ntp_time. Outputs that cannot be
    /// written make the run UNKNOWN; the others are still written.
    ///
    /// Drift-log columns and metrics: docs/formats.md. More: docs/commands/monitor.md.
    Monitor(cmd::monitor::MonitorArgs),
    /// The monitoring run for a person at a terminal: a readable report, nothing written.
    ///
    /// The run skew monitor makes, with the servers of the command line, the configuration
    /// file or the system's NTP configuration (chrony, ntpd, systemd-timesyncd), else
    /// pool.ntp.org: the probe table with the majority's verdict, the local checks and the
    /// Nagios verdict. Unreachable servers are reported and the local checks still run.
    ///
    /// More: docs/commands/check.md.
    Check(cmd::check::CheckArgs),
    /// A TrueTime-style interval for the current time: earliest/latest, or unknown.
    ///
    /// Reads the state file of the last skew monitor --state run and widens the majority's
    /// agreement on UTC − local by --max-drift-ppm × the monotonic time since. Answers unknown
    /// rather than a confident but wrong interval after a reboot, a suspend, a step of the
    /// time of day, a recorded machine-wide pause, no majority, or a state older than
    /// --max-age.
    ///
    /// More: docs/commands/now.md.
    Now(cmd::now::NowArgs),
    /// What the local clocks do: resolution, read cost, rates, steps, suspend, TAI, kernel
    /// discipline, clocksource.
    ///
    /// Samples REALTIME, MONOTONIC and BOOTTIME bracketed by MONOTONIC_RAW reads for
    /// --duration and reports each clock's resolution and read cost, the rates of REALTIME and
    /// MONOTONIC against RAW with a 95 % interval, steps of REALTIME against BOOTTIME (and the
    /// settings the kernel reports through a cancel-on-set timerfd), suspends, TAI against the
    /// leap-seconds list, and the kernel's discipline (adjtimex, read-only). Never sets a
    /// clock.
    ///
    /// More: docs/commands/clocks.md.
    Clocks(cmd::clocks::ClocksArgs),
    /// Leap seconds: the leap-seconds.list, the kernel's leap state, servers' announcements
    /// and smearing.
    ///
    /// Checks the leap-seconds.list (SHA-1, expiry, consistency, TAI − UTC, the next leap),
    /// the kernel's leap flags and TAI offset against it, and, for each SERVER, its leap
    /// indicator and whether its offset ramps against the majority's like a leap smear. --at
    /// judges all of it as of another instant.
    ///
    /// More: docs/commands/leap.md.
    Leap(cmd::leap::LeapArgs),
    /// Serve the local clock over NTP, with lies and faults chosen by flags.
    ///
    /// An NTP server of this host's clock (kernel receive timestamps, batched replies) that
    /// can serve an offset, a drift, a step or a leap smear, wrong header fields,
    /// Kiss-o'-Death, loss, held, duplicate, forged, truncated or garbage replies: for testing
    /// NTP clients and showing what they believe. Seeded, so a run repeats.
    ///
    /// More: docs/commands/serve.md.
    Serve(cmd::serve::ServeArgs),
    /// Forward NTP (any UDP) to a server with delay, jitter, loss, duplication, reordering
    /// and rewritten timestamps.
    ///
    /// A UDP impairment proxy for machines without netem: each datagram is released at its
    /// kernel arrival time + its direction's delay and jitter, or lost, duplicated or
    /// reordered, and --shift rewrites the server's timestamps like a man in the middle.
    /// Seeded, so a run repeats.
    ///
    /// More: docs/commands/proxy.md.
    Proxy(cmd::proxy::ProxyArgs),
    /// A PNG drift report from drift logs: offsets, delays, clock, pauses, events, statistics.
    ///
    /// Reads the drift logs skew monitor --log writes (rotated and gzipped ones too) and
    /// draws offset with its bounds, delay, local clock rate and pause panels on one time
    /// axis, with steps, suspends and leap seconds marked and ntpviz's statistics table;
    /// computes the largest pairwise skew between hosts or servers and a lease's safety
    /// margin.
    ///
    /// More: docs/commands/report.md.
    Report(cmd::report::ReportArgs),
    /// Detect pauses: process stalls, scheduling delays, VM pauses, suspends and clock steps.
    ///
    /// A thread sleeps to absolute deadlines and measures how late it wakes; a forked sibling
    /// process does the same, so a stall of this process alone is told from one of the whole
    /// machine. Each pause is reported as an interval [min, max] with its kind, from the
    /// run-delay, steal time, VM markers and the clocks read when it ends.
    ///
    /// More: docs/commands/pauses.md.
    Pauses(cmd::pauses::PausesArgs),
    /// Continuous measurement for Prometheus: /metrics (sourcestats, Allan deviation, the
    /// agreement, the local clock) and /probe (multi-target).
    ///
    /// A long-running service: polls each server every --poll through the probe engine,
    /// keeps a window of samples per server for chrony-like sourcestats and the overlapping
    /// Allan deviation, takes the local clock readings skew monitor takes, and serves
    /// /metrics, /probe?target=HOST[:PORT] (blackbox_exporter's multi-target pattern), / and
    /// /-/healthy on a loopback address by default.
    ///
    /// More: docs/commands/exporter.md.
    Exporter(cmd::exporter::ExporterArgs),
    /// Print a manual page (roff), generated from these definitions: skew.1 or skew-COMMAND.1.
    ///
    /// Prints the page of skew itself or of one command (skew man probe prints skew-probe.1),
    /// generated from the same definitions as --help. Read one with `skew man probe | man -l
    /// -`; install one with `skew man probe > /usr/local/share/man/man1/skew-probe.1` (and
    /// `skew man > .../skew.1`), one per command.
    Man(cmd::man::ManArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    ///
    /// Generated from the same definitions as --help: commands, flags and the values of flags
    /// that take a fixed set. bash: `source <(skew completions bash)` in ~/.bashrc, or save
    /// it as /usr/share/bash-completion/completions/skew; zsh: save it as _skew in a
    /// directory of $fpath; fish: save it as ~/.config/fish/completions/skew.fish; elvish and
    /// powershell: evaluate it from the shell's start-up file.
    Completions(cmd::completions::CompletionsArgs),
}

/// Value names of the flags that take a duration or a number of seconds.
const TIME_VALUE_NAMES: [&str; 3] = ["DUR", "SECONDS", "S"];

/// The command line as clap parses it: the derived definitions, with every flag that takes
/// a duration or seconds (value name `DUR`, `SECONDS` or `S`) allowed to take a value that
/// starts with `-`. So `-w -1s` and `--lease -5s` reach the value parser, which says the
/// value must not be negative, instead of clap's tip to write `-- -1` (which would turn the
/// value into a SERVER); positional arguments are untouched.
pub fn command() -> clap::Command {
    fn time_flags_take_hyphens(cmd: clap::Command) -> clap::Command {
        let cmd = cmd.mut_args(|a| {
            let takes_time = !a.is_positional()
                && a.get_value_names()
                    .is_some_and(|v| v.iter().any(|n| TIME_VALUE_NAMES.contains(&n.as_str())));
            if takes_time {
                a.allow_hyphen_values(true)
            } else {
                a
            }
        });
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        names
            .into_iter()
            .fold(cmd, |c, n| c.mut_subcommand(n, time_flags_take_hyphens))
    }
    time_flags_take_hyphens(Cli::command())
}

/// Whether the command line `args` (without the program name) runs a command that answers
/// Nagios (`monitor`, `check`): the first argument that is not a flag names the command.
pub fn answers_nagios<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> bool {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy())
        .find(|a| !a.starts_with('-'))
        .is_some_and(|c| c == "monitor" || c == "check")
}

/// Ends a Nagios-answering command (`monitor`, `check`) that failed before it could judge:
/// the reason on stderr, `SKEW UNKNOWN: <reason>` as its one line on stdout, exit 3 (the
/// monitoring-plugins convention, for usage and configuration errors alike).
pub fn nagios_unknown(reason: &str) -> i32 {
    eprintln!("skew: {reason}");
    println!("{}", Verdict::unknown(reason).line);
    exit::UNKNOWN
}

impl Cli {
    /// Runs the parsed command line and returns the exit code (an error is printed on
    /// stderr with its code; `monitor` and `check` print it as their Nagios line too).
    pub fn run(self) -> i32 {
        let result: Result<i32, CliError> = match self.command {
            Command::Probe(a) => cmd::probe::run(a),
            Command::Monitor(a) => {
                return cmd::monitor::run(a).unwrap_or_else(|e| nagios_unknown(&e.message))
            }
            Command::Check(a) => {
                return cmd::check::run(a).unwrap_or_else(|e| nagios_unknown(&e.message))
            }
            Command::Now(a) => cmd::now::run(a),
            Command::Clocks(a) => cmd::clocks::run(a),
            Command::Leap(a) => cmd::leap::run(a),
            Command::Serve(a) => cmd::serve::run(a),
            Command::Proxy(a) => cmd::proxy::run(a),
            Command::Report(a) => cmd::report::run(a),
            Command::Pauses(a) => cmd::pauses::run(a),
            Command::Exporter(a) => cmd::exporter::run(a),
            Command::Man(a) => cmd::man::run(a, command()),
            Command::Completions(a) => cmd::completions::run(a, command()),
        };
        match result {
            Ok(code) => code,
            Err(e) => {
                eprintln!("skew: {}", e.message);
                e.code
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_consistent() {
        command().debug_assert();
    }

    /// Every flag of every command that takes a duration or seconds refuses a negative value
    /// as negative (given as `--flag -1s`, `--flag=-1s` or `-w -1s`), never with clap's
    /// `-- -1` tip, and never takes it as a SERVER.
    #[test]
    fn negative_durations_are_refused_as_negative_by_every_flag() {
        let cli = command();
        let mut checked = 0;
        for sub in cli.get_subcommands() {
            for a in sub.get_arguments() {
                let is_duration = a
                    .get_value_names()
                    .is_some_and(|v| v.iter().any(|n| n == "DUR" || n == "SECONDS"));
                if !is_duration || a.is_positional() {
                    continue;
                }
                let long = format!("--{}", a.get_long().expect("duration flags are long"));
                let mut forms = vec![
                    vec![long.clone(), "-1s".to_string()],
                    vec![format!("{long}=-1s")],
                ];
                if let Some(short) = a.get_short() {
                    forms.push(vec![format!("-{short}"), "-1s".to_string()]);
                }
                for form in forms {
                    let mut argv = vec!["skew".to_string(), sub.get_name().to_string()];
                    argv.extend(form.iter().cloned());
                    let e = command()
                        .try_get_matches_from(&argv)
                        .expect_err(&format!("{argv:?} was accepted"));
                    let text = e.to_string();
                    assert!(
                        text.contains("must not be negative") && !text.contains("-- -1"),
                        "{argv:?}: {text}"
                    );
                }
                checked += 1;
            }
        }
        // probe, monitor, check, now, clocks, serve, proxy, report, pauses all have some.
        assert!(checked >= 40, "only {checked} duration flags found");
    }

    #[test]
    fn monitor_and_check_are_told_apart_from_the_other_commands() {
        assert!(answers_nagios(&["monitor", "--bogus"]));
        assert!(answers_nagios(&["-x", "check"]));
        assert!(!answers_nagios(&["probe", "monitor"]));
        assert!(!answers_nagios::<&str>(&[]));
    }

    /// Parses a command line as `main` does.
    fn parse(argv: &[&str]) -> Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        command()
            .try_get_matches_from(argv)
            .and_then(|m| Cli::from_arg_matches(&m))
    }

    /// The arguments each command needs besides the flag under test.
    fn required(command: &str) -> &'static [&'static str] {
        match command {
            "probe" => &["127.0.0.1:9"],
            "report" => &["drift.csv"],
            "serve" => &["--listen", "127.0.0.1:0"],
            "proxy" => &["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9"],
            _ => &[],
        }
    }

    /// Issue 14.7: `skew pauses --timer-slack 106751d --duration 300ms` never ended. Every
    /// duration flag of every command has a range, checked as it is parsed: 292 years is
    /// outside all of them, and the error names the flag and the range.
    #[test]
    fn every_duration_flag_has_a_range() {
        let cli = command();
        let mut checked = Vec::new();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            for arg in sub.get_arguments() {
                let is_duration = arg.get_value_names().is_some_and(|v| {
                    v.iter()
                        .any(|n| n == "DUR" || n == "SECONDS" || n == "DAYS")
                });
                let Some(long) = arg.get_long() else { continue };
                if !is_duration {
                    continue;
                }
                let flag = format!("--{long}");
                let mut argv = vec!["skew", name];
                argv.extend_from_slice(required(name));
                if flag == "--fetch-timeout" {
                    argv.push("--fetch"); // it requires --fetch
                }
                argv.extend([flag.as_str(), "106751d"]);
                if arg
                    .get_value_names()
                    .is_some_and(|v| v.iter().any(|n| n == "DAYS"))
                {
                    // A number of days: 106751d is not one; 1e308 days and NaN are not either.
                    argv.pop();
                    for bad in ["1e308", "NaN", "-1"] {
                        let mut a = argv.clone();
                        let v = format!("{flag}={bad}");
                        a.pop();
                        a.push(&v);
                        assert!(parse(&a).is_err(), "{a:?} was accepted");
                    }
                    checked.push(format!("{name} {flag}"));
                    continue;
                }
                let e = parse(&argv)
                    .err()
                    .unwrap_or_else(|| panic!("{argv:?} was accepted"));
                assert_eq!(
                    e.kind(),
                    clap::error::ErrorKind::ValueValidation,
                    "{argv:?}: {e}"
                );
                let text = e.to_string();
                assert!(
                    text.contains(&flag) && text.contains("is outside"),
                    "{argv:?}: {text}"
                );
                // The default (or a usual value) still parses.
                checked.push(format!("{name} {flag}"));
            }
        }
        // Every command with durations was visited (the walk found the flags).
        for expected in [
            "probe --interval",
            "probe --timeout",
            "probe --lease",
            "monitor --splay",
            "monitor --lock-wait",
            "monitor --pause-interval",
            "check --crit-pause",
            "now --max-age",
            "now --watch",
            "clocks --sample-interval",
            "leap --timeout",
            "serve --hold",
            "serve --max-seconds",
            "proxy --reorder-delay",
            "proxy --busy-wait",
            "report --gap",
            "pauses --timer-slack",
            "pauses --duration",
            "probe --nts-ke-timeout",
            "monitor --warn-cert-days",
        ] {
            assert!(
                checked.iter().any(|c| c == expected),
                "{expected}: {checked:?}"
            );
        }
        assert!(checked.len() >= 50, "{} flags: {checked:?}", checked.len());
    }

    #[test]
    fn defaults_are_inside_their_ranges() {
        // Every command parses with its defaults (a default outside its range would make the
        // command unusable).
        for sub in command().get_subcommands() {
            let name = sub.get_name();
            if matches!(name, "man" | "completions" | "help") {
                continue;
            }
            let mut argv = vec!["skew", name];
            argv.extend_from_slice(required(name));
            if let Err(e) = parse(&argv) {
                panic!("{argv:?}: {e}");
            }
        }
    }
}
