//! Options shared by `skew monitor` and `skew check`: what to probe and check. The merge
//! with the configuration file and the defaults is `skew_monitor::plan`'s.

use crate::cmd::nts_args::NtsArgs;
use crate::exit::CliError;
use clap::Args;
use skew_monitor::config::{self, Config};
use skew_monitor::nagios::State;
use skew_monitor::plan::{plan, Overrides, Plan};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one monitoring run probes and checks.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Servers: host, host:port, v4addr:port or [v6addr]:port (default: --ntp-conf's, the
    /// config file's `servers` or `ntp_conf`, else the system's NTP configuration, else
    /// pool.ntp.org).
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// A TOML configuration file (see examples/skew.toml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Probe the servers and pools of this NTP configuration (a chrony.conf, ntp.conf or
    /// timesyncd.conf, told apart by content) instead of the system's. A pool line is
    /// every address its name resolves to, up to its maxsources (default 4).
    #[arg(long, value_name = "FILE", conflicts_with = "servers")]
    pub ntp_conf: Option<PathBuf>,
    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Probe every address a server's name resolves to (default: the first; a pool line
    /// of an NTP configuration always gives up to its maxsources).
    #[arg(long)]
    pub all_addresses: bool,
    /// Requests per server [default: 4].
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub samples: Option<u32>,
    /// Time between requests to one server [default: 2s].
    #[arg(long, value_parser = skew_ntp::prober::INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub interval: Option<Duration>,
    /// How long to wait for each reply [default: 1s].
    #[arg(long, value_parser = skew_ntp::prober::TIMEOUT_RANGE.parser(), value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// Servers whose bounds must agree [default: a majority, at least 3 with 3 or more].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_agree: Option<u32>,
    /// WARNING when |offset| exceeds this [default: 100ms].
    #[arg(short = 'w', long = "warn", value_parser = config::OFFSET_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub warn: Option<Duration>,
    /// CRITICAL when |offset| exceeds this [default: 500ms].
    #[arg(short = 'c', long = "crit", value_parser = config::OFFSET_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub crit: Option<Duration>,
    /// WARNING when the agreement's half-width exceeds this [default: 250ms].
    #[arg(long, value_parser = config::OFFSET_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub warn_bound: Option<Duration>,
    /// CRITICAL when the agreement's half-width exceeds this [default: 1s].
    #[arg(long, value_parser = config::OFFSET_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub crit_bound: Option<Duration>,
    /// WARNING when a pause in the pause sample exceeds this [default: 1s].
    #[arg(long, value_parser = config::PAUSE_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub warn_pause: Option<Duration>,
    /// CRITICAL when a pause in the pause sample exceeds this [default: 10s].
    #[arg(long, value_parser = config::PAUSE_THRESHOLD_RANGE.parser(), value_name = "DUR")]
    pub crit_pause: Option<Duration>,
    /// Skip the local clock reading.
    #[arg(long)]
    pub no_clock: bool,
    /// Length of the local clock reading [default: 2s].
    #[arg(long, value_parser = config::CLOCK_DURATION_RANGE.parser(), value_name = "DUR")]
    pub clock_duration: Option<Duration>,
    /// No WARNING when the kernel says nothing disciplines the clock (TIME_ERROR,
    /// STA_UNSYNC): for hosts meant to run free (skew.toml: `[clock] kernel_sync = false`).
    #[arg(long)]
    pub no_kernel_sync: bool,
    /// Take a short pause sample beside the probe (the `skew pauses` detector).
    #[arg(long)]
    pub pause: bool,
    /// Length of the pause sample [default: 5s].
    #[arg(long, value_parser = config::PAUSE_DURATION_RANGE.parser(), value_name = "DUR")]
    pub pause_duration: Option<Duration>,
    /// Sleep interval of the pause detector [default: 1ms].
    #[arg(long, value_parser = config::PAUSE_INTERVAL_RANGE.parser(), value_name = "DUR")]
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
    /// Network Time Security: `--nts` probes the command line's servers with NTS (servers
    /// marked `nts` in chrony.conf or skew.toml always are).
    #[command(flatten)]
    pub nts: NtsArgs,
    /// WARNING when an NTS server's certificate ends within this many days [default: 30].
    #[arg(long, value_name = "DAYS", value_parser = skew_monitor::nts::parse_cert_days)]
    pub warn_cert_days: Option<f64>,
    /// CRITICAL when an NTS server's certificate ends within this many days [default: 7].
    #[arg(long, value_name = "DAYS", value_parser = skew_monitor::nts::parse_cert_days)]
    pub crit_cert_days: Option<f64>,
}

impl RunOptions {
    /// Loads the configuration file, if any. An unusable file is UNKNOWN (3).
    pub fn load_config(&self) -> Result<Config, CliError> {
        match &self.config {
            Some(p) => {
                Config::load(p).map_err(|e| CliError::new(State::Unknown.code(), e.to_string()))
            }
            None => Ok(Config::default()),
        }
    }

    /// The flags as the library's overrides.
    fn overrides(&self) -> Overrides {
        Overrides {
            servers: self.servers.clone(),
            config_path: self.config.clone(),
            ntp_conf: self.ntp_conf.clone(),
            ipv4: self.ipv4,
            ipv6: self.ipv6,
            all_addresses: self.all_addresses,
            samples: self.samples,
            interval: self.interval,
            timeout: self.timeout,
            min_agree: self.min_agree,
            warn: self.warn,
            crit: self.crit,
            warn_bound: self.warn_bound,
            crit_bound: self.crit_bound,
            warn_pause: self.warn_pause,
            crit_pause: self.crit_pause,
            no_clock: self.no_clock,
            clock_duration: self.clock_duration,
            no_kernel_sync: self.no_kernel_sync,
            pause: self.pause,
            pause_duration: self.pause_duration,
            pause_interval: self.pause_interval,
            no_leap: self.no_leap,
            leap_file: self.leap_file.clone(),
            host: self.host.clone(),
            nts: self.nts.nts,
            nts_ca: self.nts.nts_ca.clone(),
            nts_aead: self.nts.nts_aead.clone(),
            nts_ke_timeout: self.nts.nts_ke_timeout,
            warn_cert_days: self.warn_cert_days,
            crit_cert_days: self.crit_cert_days,
        }
    }

    /// Builds the plan ([`skew_monitor::plan::plan`]: flags over the file over the
    /// defaults; servers from the flags, the NTP configuration named, the file, the
    /// system's NTP configuration under `root`, or pool.ntp.org). Its errors are UNKNOWN.
    pub fn plan(&self, config: &Config, root: &Path) -> Result<Plan, CliError> {
        plan(&self.overrides(), config, root)
            .map_err(|e| CliError::new(State::Unknown.code(), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        run: RunOptions,
    }

    fn options(args: &[&str]) -> RunOptions {
        let mut a = vec!["t"];
        a.extend_from_slice(args);
        T::parse_from(a).run
    }

    #[test]
    fn servers_marked_nts_in_chrony_conf_are_probed_with_nts() {
        let root = std::env::temp_dir().join(format!("skew-plan-nts-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc/chrony")).unwrap();
        std::fs::write(
            root.join("etc/chrony/chrony.conf"),
            "server plain.example iburst\nserver nts.example iburst nts\nserver other.example nts ntsport 4461\n",
        )
        .unwrap();
        let plan = options(&["--crit-cert-days", "3"])
            .plan(&Config::default(), &root)
            .unwrap();
        let _ = std::fs::remove_dir_all(&root);
        let p = &plan.run.probe;
        assert_eq!(
            p.servers,
            vec!["plain.example", "nts.example", "other.example:4461"]
        );
        assert_eq!(p.nts_servers, vec!["nts.example", "other.example:4461"]);
        assert!(p.nts.is_some());
        assert_eq!(plan.run.nts_cert.crit_days, 3.0);
        assert_eq!(plan.run.nts_cert.warn_days, 30.0);
    }

    #[test]
    fn command_line_nts_and_none() {
        let plan = options(&["--nts", "a.example", "b.example:1"])
            .plan(&Config::default(), Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(plan.run.probe.nts_servers, vec!["a.example", "b.example:1"]);
        let plan = options(&["a.example"])
            .plan(&Config::default(), Path::new("/nonexistent"))
            .unwrap();
        assert!(plan.run.probe.nts.is_none() && plan.run.probe.nts_servers.is_empty());
        // A zero deadline is refused as the flag is parsed (its range is 1ms..10m).
        let e = T::try_parse_from(["t", "--nts", "--nts-ke-timeout", "0s", "a"]).unwrap_err();
        assert!(e.to_string().contains("outside 1ms..10m"), "{e}");
    }
}
