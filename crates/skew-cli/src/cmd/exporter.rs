//! `skew exporter`: continuous measurement served to Prometheus. Flags become an
//! [`ExporterConfig`]; the exporter runs until SIGTERM or SIGINT.

use crate::exit::{self, CliError};
use clap::Args;
use skew_exporter::config::{DEFAULT_POLL, DEFAULT_WINDOW};
use skew_exporter::{Exporter, ExporterConfig, StartError};
use skew_monitor::config::{duration, Config};
use skew_monitor::plan::choose_servers;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `skew exporter`.
#[derive(Debug, Args)]
#[command(
    after_help = "Serves /metrics, /probe?target=HOST[:PORT]&samples=N, / and /-/healthy. \
Stops cleanly on SIGTERM or SIGINT.\n\nExit status: 0 stopped by a signal, 64 usage error (bad \
flag or server, a poll under 16s for a public address), 69 the listening address cannot be bound."
)]
pub struct ExporterArgs {
    /// Servers: host, host:port, v4addr:port or [v6addr]:port (default: the config file's
    /// `servers`, else the system's NTP configuration, else pool.ntp.org).
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// A TOML configuration file (servers, timeout, min_agree, clock, pause, leap; see
    /// examples/skew.toml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Time between two polls of a server (under 16s only for loopback and private
    /// addresses) [default: 64s].
    #[arg(long, value_parser = skew_time::parse_duration, value_name = "DUR")]
    pub poll: Option<Duration>,
    /// How long to wait for each reply (less than --poll) [default: 1s, or half the poll].
    #[arg(long, value_parser = skew_time::parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// Samples kept per server for sourcestats and the Allan deviation [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..=4096))]
    pub window: Option<u32>,
    /// Servers whose UTC bounds must share a point for a majority [default: a majority].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_agree: Option<u32>,
    /// Maximum relative frequency error between the clocks assumed by the bounds, in ppm.
    #[arg(long, default_value_t = skew_ntp::bounds::PHI_PPM, value_name = "PPM")]
    pub max_drift_ppm: f64,
    /// Address to serve HTTP on (all interfaces only when asked, e.g. 0.0.0.0:9123).
    #[arg(long, default_value = "127.0.0.1:9123", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Skip the local clock readings (rate, steps, suspend, kernel discipline).
    #[arg(long)]
    pub no_clock: bool,
    /// Skip the leap-seconds list check.
    #[arg(long)]
    pub no_leap: bool,
    /// The leap-seconds list to check [default: the system's].
    #[arg(long, value_name = "FILE")]
    pub leap_file: Option<PathBuf>,
    /// Run the pause detector of `skew pauses` continuously (skew_pause_* metrics).
    #[arg(long)]
    pub pause: bool,
    /// Sleep interval of the pause detector [default: 10ms, about 0.5 % of a core].
    #[arg(long, value_parser = skew_time::parse_duration, value_name = "DUR")]
    pub pause_interval: Option<Duration>,
    /// Time between the requests of one /probe to a loopback or private address (public
    /// addresses always get 2s).
    #[arg(long, default_value = "2s", value_parser = skew_time::parse_duration, value_name = "DUR")]
    pub probe_interval: Duration,
}

impl ExporterArgs {
    /// The exporter's configuration: flags over the file over the defaults; servers chosen as
    /// `monitor` and `check` choose them. The exporter probes plain NTP only, so servers
    /// marked `nts` (in the file or the system's chrony configuration) are left out: they are
    /// returned beside the configuration, to be named in a warning.
    pub fn exporter_config(&self, config: &Config, root: &Path) -> (ExporterConfig, Vec<String>) {
        let (chosen, _) =
            choose_servers(&self.servers, false, config, self.config.as_deref(), root);
        let (nts, plain): (Vec<_>, Vec<_>) = chosen.into_iter().partition(|(_, nts)| *nts);
        let servers = plain.into_iter().map(|(s, _)| s).collect();
        let nts = nts.into_iter().map(|(s, _)| s).collect();
        let poll = self.poll.unwrap_or(DEFAULT_POLL);
        let timeout = self
            .timeout
            .or(duration(&config.timeout))
            .unwrap_or_else(|| Duration::from_secs(1).min(poll / 2));
        let family = if self.ipv4 {
            skew_ntp_io::Family::V4
        } else if self.ipv6 {
            skew_ntp_io::Family::V6
        } else {
            skew_ntp_io::Family::Any
        };
        let leap_enabled = !self.no_leap && config.leap.enabled.unwrap_or(true);
        let pause = self.pause || config.pause.enabled.unwrap_or(false);
        let cfg = ExporterConfig {
            servers,
            family,
            poll,
            timeout,
            window: self.window.map_or(DEFAULT_WINDOW, |w| w as usize),
            min_agree: self.min_agree.or(config.min_agree).map(|k| k as usize),
            max_drift_ppm: self.max_drift_ppm,
            listen: self.listen,
            clock: !self.no_clock && config.clock.enabled.unwrap_or(true),
            leap: leap_enabled.then(|| self.leap_file.clone().or(config.leap.file.clone())),
            pause_interval: pause.then(|| {
                self.pause_interval
                    .or(duration(&config.pause.interval))
                    .unwrap_or(Duration::from_millis(10))
            }),
            probe_interval: self.probe_interval,
            ..ExporterConfig::default()
        };
        (cfg, nts)
    }
}

/// Runs `skew exporter` until a stop signal.
pub fn run(args: ExporterArgs) -> Result<i32, CliError> {
    let config = match &args.config {
        Some(p) => Config::load(p).map_err(|e| CliError::usage(e.to_string()))?,
        None => Config::default(),
    };
    let (cfg, nts) = args.exporter_config(&config, Path::new("/"));
    for s in &nts {
        eprintln!(
            "skew exporter: warning: {s} is an NTS server; the exporter probes plain NTP only and leaves it out (skew monitor and skew check measure it with NTS)"
        );
    }
    // Blocked before any thread starts, taken with sigwait below: no wake-ups while idle.
    skew_exporter::signals::block_stop_signals()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot handle signals: {e}")))?;
    let exporter = Exporter::start(cfg.clone()).map_err(|e| match e {
        StartError::Listen { .. } => CliError::new(exit::UNAVAILABLE, e.to_string()),
        _ => CliError::usage(e.to_string()),
    })?;
    eprintln!(
        "skew exporter: polling {} server(s) every {} s, serving http://{}/metrics",
        exporter.servers.len(),
        cfg.poll.as_secs_f64(),
        exporter.local_addr()
    );
    let _ = skew_exporter::signals::wait_stop_signal();
    exporter.stop(Duration::from_millis(500));
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        args: ExporterArgs,
    }

    #[test]
    fn servers_as_monitor_chooses_them_without_the_nts_ones() {
        let root = std::env::temp_dir().join(format!("skew-exporter-nts-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc/chrony")).unwrap();
        std::fs::write(
            root.join("etc/chrony/chrony.conf"),
            "server plain.example iburst\nserver nts.example iburst nts ntsport 4461\n",
        )
        .unwrap();
        let args = T::parse_from(["t"]).args;
        let (cfg, nts) = args.exporter_config(&Config::default(), &root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(cfg.servers, ["plain.example"]);
        assert_eq!(nts, ["nts.example:4461"]);
        // The file's `HOST nts` entries likewise; the command line is always plain.
        let file = Config::parse(Path::new("t.toml"), "servers = [\"a\", \"b nts\"]\n").unwrap();
        let (cfg, nts) = args.exporter_config(&file, Path::new("/nonexistent"));
        assert_eq!(
            (cfg.servers, nts),
            (vec!["a".to_string()], vec!["b".to_string()])
        );
        let args = T::parse_from(["t", "c", "d:1123"]).args;
        let (cfg, nts) = args.exporter_config(&file, Path::new("/nonexistent"));
        assert_eq!(cfg.servers, ["c", "d:1123"]);
        assert!(nts.is_empty());
    }
}
