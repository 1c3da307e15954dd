//! `skew exporter`: continuous measurement served to Prometheus. Flags become an
//! [`ExporterConfig`]; the exporter runs until SIGTERM or SIGINT.

use crate::cmd::nts_args::{self, NtsArgs};
use crate::exit::{self, CliError};
use clap::Args;
use skew_exporter::config::{DEFAULT_NTS_REFRESH, DEFAULT_POLL, DEFAULT_WINDOW};
use skew_exporter::{Exporter, ExporterConfig, StartError};
use skew_monitor::config::{duration, Config};
use skew_monitor::plan::{choose_servers, nts_settings};
use skew_ntp_io::RunError;
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
    #[arg(long, value_parser = skew_exporter::config::POLL_RANGE.parser(), value_name = "DUR")]
    pub poll: Option<Duration>,
    /// How long to wait for each reply (less than --poll) [default: 1s, or half the poll].
    #[arg(long, value_parser = skew_ntp::prober::TIMEOUT_RANGE.parser(), value_name = "DUR")]
    pub timeout: Option<Duration>,
    /// Samples kept per server for sourcestats and the Allan deviation [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(3..=4096))]
    pub window: Option<u32>,
    /// Servers whose UTC bounds must share a point for a majority [default: a majority].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_agree: Option<u32>,
    /// Maximum relative frequency error between the clocks assumed by the bounds, in ppm.
    #[arg(long, default_value_t = skew_ntp::bounds::PHI_PPM, value_name = "PPM", value_parser = skew_time::parse_ppm)]
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
    #[arg(long, value_parser = skew_pause::config::INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub pause_interval: Option<Duration>,
    /// Time between the requests of one /probe to a loopback or private address (public
    /// addresses always get 2s).
    #[arg(long, default_value = "2s", value_parser = skew_exporter::config::PROBE_INTERVAL_RANGE.parser(), value_name = "DUR")]
    pub probe_interval: Duration,
    /// Network Time Security: `--nts` polls the command line's servers with NTS (servers
    /// marked `nts` in chrony.conf or skew.toml always are).
    #[command(flatten)]
    pub nts: NtsArgs,
    /// Time between key exchanges of a working NTS session: the certificate is checked
    /// again and the keys renewed (under 1h only for loopback and private key exchange
    /// servers) [default: 6h].
    #[arg(long, value_parser = skew_exporter::config::NTS_REFRESH_RANGE.parser(), value_name = "DUR")]
    pub nts_refresh: Option<Duration>,
}

impl ExporterArgs {
    /// The exporter's configuration: flags over the file over the defaults; servers chosen as
    /// `monitor` and `check` choose them, those marked `nts` (or all with `--nts`) polled
    /// with NTS, each pool polled at every address its name resolves to (up to its
    /// `maxsources`). An unusable `ntp_conf` in the file is a usage error.
    pub fn exporter_config(
        &self,
        config: &Config,
        root: &Path,
    ) -> Result<ExporterConfig, CliError> {
        let chosen = choose_servers(
            &self.servers,
            self.nts.nts,
            None,
            config,
            self.config.as_deref(),
            root,
        )
        .map_err(|e| CliError::usage(e.to_string()))?;
        let nts_servers: Vec<String> = chosen
            .names
            .iter()
            .filter(|(_, nts)| *nts)
            .map(|(s, _)| s.clone())
            .collect();
        let servers = chosen.names.into_iter().map(|(s, _)| s).collect();
        let nts = if nts_servers.is_empty() {
            None
        } else {
            let n = &self.nts;
            Some(
                nts_settings(&n.nts_ca, &n.nts_aead, n.nts_ke_timeout, config)
                    .map_err(|e| CliError::usage(e.to_string()))?,
            )
        };
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
            pools: chosen.pools,
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
            nts_servers,
            nts,
            // Key exchanges happen at polls: the default is never shorter than the poll.
            nts_refresh: self.nts_refresh.unwrap_or(DEFAULT_NTS_REFRESH.max(poll)),
            ..ExporterConfig::default()
        };
        Ok(cfg)
    }
}

/// Runs `skew exporter` until a stop signal.
pub fn run(args: ExporterArgs) -> Result<i32, CliError> {
    let config = match &args.config {
        Some(p) => Config::load(p).map_err(|e| CliError::usage(e.to_string()))?,
        None => Config::default(),
    };
    let cfg = args.exporter_config(&config, Path::new("/"))?;
    // Blocked before any thread starts, taken with sigwait below: no wake-ups while idle.
    skew_exporter::signals::block_stop_signals()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot handle signals: {e}")))?;
    let exporter = Exporter::start(cfg.clone()).map_err(|e| match e {
        StartError::Listen { .. } => CliError::new(exit::UNAVAILABLE, e.to_string()),
        StartError::Trust(t) => nts_args::run_error(RunError::Trust(t)),
        _ => CliError::usage(e.to_string()),
    })?;
    let nts = match cfg.nts_servers.len() {
        0 => String::new(),
        n => format!(" ({n} with NTS)"),
    };
    let in_pools = exporter
        .servers
        .iter()
        .filter(|(s, a)| a.is_some() && cfg.pools.contains_key(s) && !cfg.is_nts(s))
        .count();
    let pools = match cfg.pools.keys().filter(|s| !cfg.is_nts(s)).count() {
        0 => String::new(),
        n => format!(" ({in_pools} of them the addresses of {n} pool(s))"),
    };
    eprintln!(
        "skew exporter: polling {} server(s){nts}{pools} every {} s, serving http://{}/metrics",
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

    /// The defaults the issue and docs/commands/exporter.md name: a poll every 64 s, a window of
    /// 64 samples, HTTP on 127.0.0.1:9123 only, a 1 s timeout, the local clock read, the leap
    /// list read, no pause sampling, no NTS.
    #[test]
    fn defaults_are_the_documented_ones() {
        let args = T::parse_from(["t", "127.0.0.1:123"]).args;
        let cfg = args
            .exporter_config(&Config::default(), Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(cfg.servers, ["127.0.0.1:123"]);
        assert_eq!(cfg.poll, Duration::from_secs(64));
        assert_eq!(cfg.window, 64);
        assert_eq!(cfg.listen, "127.0.0.1:9123".parse().unwrap());
        assert_eq!(cfg.timeout, Duration::from_secs(1));
        assert!(cfg.clock);
        assert!(cfg.leap.is_some());
        assert_eq!(cfg.pause_interval, None);
        assert!(cfg.nts_servers.is_empty() && cfg.nts.is_none());
        // A poll shorter than 2 s keeps the timeout within half of it.
        let fast = T::parse_from(["t", "--poll", "1s", "127.0.0.1:123"]).args;
        let cfg = fast
            .exporter_config(&Config::default(), Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(cfg.timeout, Duration::from_millis(500));
    }

    #[test]
    fn servers_as_monitor_chooses_them_the_nts_ones_with_nts() {
        let root = std::env::temp_dir().join(format!("skew-exporter-nts-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc/chrony")).unwrap();
        std::fs::write(
            root.join("etc/chrony/chrony.conf"),
            "server plain.example iburst\nserver nts.example iburst nts ntsport 4461\npool pool.example\n",
        )
        .unwrap();
        let args = T::parse_from(["t"]).args;
        let cfg = args.exporter_config(&Config::default(), &root).unwrap();
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            cfg.servers,
            ["plain.example", "nts.example:4461", "pool.example"]
        );
        assert_eq!(cfg.nts_servers, ["nts.example:4461"]);
        assert_eq!(
            cfg.pools,
            [("pool.example".to_string(), 4)].into(),
            "polled at up to 4 addresses"
        );
        assert!(cfg.is_nts("nts.example:4461") && !cfg.is_nts("plain.example"));
        let nts = cfg.nts.as_ref().unwrap();
        assert_eq!(nts.ke_timeout, skew_ntp_io::DEFAULT_KE_TIMEOUT);
        assert_eq!(cfg.nts_refresh, DEFAULT_NTS_REFRESH);
        // The file's `HOST nts` entries likewise, with its [nts] table under the flags.
        let file = Config::parse(
            Path::new("t.toml"),
            "servers = [\"a\", \"b nts\"]\n[nts]\nca = [\"/f.pem\"]\nke_timeout = \"2s\"\n",
        )
        .unwrap();
        let cfg = args
            .exporter_config(&file, Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(
            (cfg.servers, cfg.nts_servers),
            (
                vec!["a".to_string(), "b".to_string()],
                vec!["b".to_string()]
            )
        );
        let nts = cfg.nts.unwrap();
        assert_eq!(nts.ca_files, [std::path::PathBuf::from("/f.pem")]);
        assert_eq!(nts.ke_timeout, Duration::from_secs(2));
        // The command line: plain unless --nts, which makes every server NTS.
        let args = T::parse_from(["t", "c", "d:1123"]).args;
        let cfg = args
            .exporter_config(&file, Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(cfg.servers, ["c", "d:1123"]);
        assert!(cfg.nts_servers.is_empty() && cfg.nts.is_none());
        let args = T::parse_from([
            "t",
            "--nts",
            "--nts-ca",
            "/g.pem",
            "--nts-ke-timeout",
            "1s",
            "--nts-aead",
            "aes-siv-cmac-256",
            "--nts-refresh",
            "2h",
            "c",
        ])
        .args;
        let cfg = args
            .exporter_config(&file, Path::new("/nonexistent"))
            .unwrap();
        assert_eq!(cfg.nts_servers, ["c"]);
        let nts = cfg.nts.as_ref().unwrap();
        assert_eq!(nts.ca_files, [std::path::PathBuf::from("/g.pem")]);
        assert_eq!(nts.ke_timeout, Duration::from_secs(1));
        assert_eq!(nts.offer, [skew_ntp::nts::Aead::AesSivCmac256]);
        assert_eq!(cfg.nts_refresh, Duration::from_secs(7200));
        // A zero key exchange deadline is a usage error; a poll longer than the default
        // refresh lengthens it.
        let e = T::try_parse_from(["t", "--nts", "--nts-ke-timeout", "0s", "c"]).unwrap_err();
        assert!(e.to_string().contains("outside 1ms..10m"), "{e}");
        let args = T::parse_from(["t", "--nts", "--poll", "8h", "c"]).args;
        let cfg = args.exporter_config(&file, Path::new("/n")).unwrap();
        assert_eq!(cfg.nts_refresh, Duration::from_secs(8 * 3600));
        cfg.check().unwrap();
    }
}
