//! Options shared by `skew monitor` and `skew check`: what to probe and check, merged with
//! the configuration file (flags win over the file, the file over the defaults).

use crate::cmd::probe::{parse_dur, ProbeOptions};
use crate::exit::CliError;
use clap::Args;
use skew_monitor::config::{duration, Config};
use skew_monitor::nagios::Thresholds;
use skew_monitor::ntpconf::{system_servers, DEFAULT_SERVER};
use skew_monitor::run::{hostname, RunPlan};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one monitoring run probes and checks.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Servers: host, host:port, v4addr:port or [v6addr]:port (default: the config file's
    /// `servers`, else the system's NTP configuration, else pool.ntp.org).
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// A TOML configuration file (see examples/skew.toml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Requests per server [default: 4].
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub samples: Option<u32>,
    /// Time between requests to one server [default: 2s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub interval: Option<Duration>,
    /// How long to wait for each reply [default: 1s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// Servers whose bounds must agree [default: a majority, at least 3 with 3 or more].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_agree: Option<u32>,
    /// WARNING when |offset| exceeds this [default: 100ms].
    #[arg(short = 'w', long = "warn", value_parser = parse_dur, value_name = "DUR")]
    pub warn: Option<Duration>,
    /// CRITICAL when |offset| exceeds this [default: 500ms].
    #[arg(short = 'c', long = "crit", value_parser = parse_dur, value_name = "DUR")]
    pub crit: Option<Duration>,
    /// WARNING when the agreement's half-width exceeds this [default: 250ms].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub warn_bound: Option<Duration>,
    /// CRITICAL when the agreement's half-width exceeds this [default: 1s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub crit_bound: Option<Duration>,
    /// WARNING when a pause in the pause sample exceeds this [default: 1s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub warn_pause: Option<Duration>,
    /// CRITICAL when a pause in the pause sample exceeds this [default: 10s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub crit_pause: Option<Duration>,
    /// Skip the local clock reading.
    #[arg(long)]
    pub no_clock: bool,
    /// Length of the local clock reading [default: 2s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub clock_duration: Option<Duration>,
    /// Take a short pause sample beside the probe (the `skew pauses` detector).
    #[arg(long)]
    pub pause: bool,
    /// Length of the pause sample [default: 5s].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub pause_duration: Option<Duration>,
    /// Sleep interval of the pause detector [default: 1ms].
    #[arg(long, value_parser = parse_dur, value_name = "DUR")]
    pub pause_interval: Option<Duration>,
    /// Skip the leap-seconds list check.
    #[arg(long)]
    pub no_leap: bool,
    /// The leap-seconds list to check [default: the system's, found as `skew leap` finds it].
    #[arg(long, value_name = "FILE")]
    pub leap_file: Option<PathBuf>,
    /// The host name written in the log [default: this host's name].
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

/// A run plan with its thresholds, and where the servers came from.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What to do.
    pub run: RunPlan,
    /// Alert thresholds.
    pub thresholds: Thresholds,
    /// Where the server list came from (`command line`, the config file, a system file).
    pub servers_from: String,
}

/// The servers to probe and where they came from: the command line, else the
/// configuration file's `servers`, else the system's NTP configuration under `root`, else
/// pool.ntp.org (shared by `monitor`, `check` and `exporter`).
pub fn choose_servers(
    args: &[String],
    config: &Config,
    config_path: Option<&Path>,
    root: &Path,
) -> (Vec<String>, String) {
    if !args.is_empty() {
        (args.to_vec(), "the command line".to_string())
    } else if let Some(s) = config.servers.clone().filter(|s| !s.is_empty()) {
        (
            s,
            config_path.map_or("the configuration".into(), |p| p.display().to_string()),
        )
    } else {
        let sys = system_servers(root);
        if sys.is_empty() {
            (
                vec![DEFAULT_SERVER.to_string()],
                "the default (no NTP configuration found)".into(),
            )
        } else {
            let from: Vec<String> = sys
                .iter()
                .map(|c| c.source.display().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            (sys.into_iter().map(|c| c.server).collect(), from.join(", "))
        }
    }
}

fn secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

impl RunOptions {
    /// Loads the configuration file, if any. Errors carry `code`.
    pub fn load_config(&self, code: i32) -> Result<Config, CliError> {
        match &self.config {
            Some(p) => Config::load(p).map_err(|e| CliError::new(code, e.to_string())),
            None => Ok(Config::default()),
        }
    }

    /// Builds the plan: flags over the file over the defaults; servers from the flags, the
    /// file, the system's NTP configuration under `root`, or pool.ntp.org.
    pub fn plan(&self, config: &Config, root: &Path) -> Plan {
        let (servers, servers_from) =
            choose_servers(&self.servers, config, self.config.as_deref(), root);
        let d = Thresholds::default();
        let t = &config.thresholds;
        let pick = |flag: Option<Duration>, file: &Option<String>, def: f64| {
            secs(flag).or_else(|| secs(duration(file))).unwrap_or(def)
        };
        let thresholds = Thresholds {
            warn_offset_s: pick(self.warn, &t.warn, d.warn_offset_s),
            crit_offset_s: pick(self.crit, &t.crit, d.crit_offset_s),
            warn_bound_s: pick(self.warn_bound, &t.warn_bound, d.warn_bound_s),
            crit_bound_s: pick(self.crit_bound, &t.crit_bound, d.crit_bound_s),
            warn_pause_s: pick(self.warn_pause, &t.warn_pause, d.warn_pause_s),
            crit_pause_s: pick(self.crit_pause, &t.crit_pause, d.crit_pause_s),
        };
        let probe = ProbeOptions {
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            all_addresses: false,
            samples: self.samples.or(config.samples).unwrap_or(4),
            interval: self
                .interval
                .or(duration(&config.interval))
                .unwrap_or(Duration::from_secs(2)),
            timeout: self
                .timeout
                .or(duration(&config.timeout))
                .unwrap_or(Duration::from_secs(1)),
            max_drift_ppm: skew_ntp::bounds::PHI_PPM,
            max_inflight: skew_ntp_io::DEFAULT_MAX_INFLIGHT,
            min_agree: self.min_agree.or(config.min_agree),
        };
        let clock_enabled = !self.no_clock && config.clock.enabled.unwrap_or(true);
        let clock = clock_enabled.then(|| {
            self.clock_duration
                .or(duration(&config.clock.duration))
                .unwrap_or(Duration::from_secs(2))
        });
        let pause = (self.pause || config.pause.enabled.unwrap_or(false)).then(|| {
            (
                self.pause_duration
                    .or(duration(&config.pause.duration))
                    .unwrap_or(Duration::from_secs(5)),
                self.pause_interval
                    .or(duration(&config.pause.interval))
                    .unwrap_or(Duration::from_millis(1)),
            )
        });
        let leap_enabled = !self.no_leap && config.leap.enabled.unwrap_or(true);
        let leap = leap_enabled.then(|| self.leap_file.clone().or(config.leap.file.clone()));
        let run = RunPlan {
            pause,
            leap,
            probe: probe.request(&servers),
            min_agree: probe.min_agree.map(|k| k as usize),
            clock,
            host: self.host.clone().unwrap_or_else(hostname),
        };
        Plan {
            run,
            thresholds,
            servers_from,
        }
    }
}
