//! What one monitoring run does, decided from the command line's settings, the
//! configuration file and skew's defaults — flags win over the file, the file over the
//! defaults, and each default is defined once (the probe's in `skew_ntp::prober`, the
//! thresholds' in [`Thresholds::default`], the readings' here).

use crate::config::{duration, Config};
use crate::nagios::Thresholds;
use crate::ntpconf::{system_servers, DEFAULT_SERVER};
use crate::run::{hostname, RunPlan};
use skew_ntp_io::{Family, ProbeSettings};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Length of the local clock reading unless told otherwise.
pub const DEFAULT_CLOCK_DURATION: Duration = Duration::from_secs(2);
/// Length of the pause sample unless told otherwise.
pub const DEFAULT_PAUSE_DURATION: Duration = Duration::from_secs(5);
/// Sleep interval of the pause sample's detector unless told otherwise.
pub const DEFAULT_PAUSE_INTERVAL: Duration = Duration::from_millis(1);

/// What the command line says (None and false: not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Servers given as arguments.
    pub servers: Vec<String>,
    /// The configuration file, when one was given (named in `servers_from`).
    pub config_path: Option<PathBuf>,
    /// IPv4 only.
    pub ipv4: bool,
    /// IPv6 only.
    pub ipv6: bool,
    /// Requests per server.
    pub samples: Option<u32>,
    /// Time between requests to one server.
    pub interval: Option<Duration>,
    /// How long to wait for each reply.
    pub timeout: Option<Duration>,
    /// Servers whose bounds must agree.
    pub min_agree: Option<u32>,
    /// WARNING when |offset| exceeds this.
    pub warn: Option<Duration>,
    /// CRITICAL when |offset| exceeds this.
    pub crit: Option<Duration>,
    /// WARNING when the agreement's half-width exceeds this.
    pub warn_bound: Option<Duration>,
    /// CRITICAL when the agreement's half-width exceeds this.
    pub crit_bound: Option<Duration>,
    /// WARNING when a pause exceeds this.
    pub warn_pause: Option<Duration>,
    /// CRITICAL when a pause exceeds this.
    pub crit_pause: Option<Duration>,
    /// Skip the local clock reading.
    pub no_clock: bool,
    /// Length of the local clock reading.
    pub clock_duration: Option<Duration>,
    /// No WARNING for a kernel clock nothing disciplines (hosts meant to run free).
    pub no_kernel_sync: bool,
    /// Take a pause sample.
    pub pause: bool,
    /// Length of the pause sample.
    pub pause_duration: Option<Duration>,
    /// Sleep interval of the pause detector.
    pub pause_interval: Option<Duration>,
    /// Skip the leap-seconds list check.
    pub no_leap: bool,
    /// The leap-seconds list to check.
    pub leap_file: Option<PathBuf>,
    /// The host name written in the log.
    pub host: Option<String>,
}

/// A run plan with its thresholds, and where the servers came from.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What to do.
    pub run: RunPlan,
    /// Alert thresholds.
    pub thresholds: Thresholds,
    /// Where the server list came from (`the command line`, the config file, a system file).
    pub servers_from: String,
}

fn secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// The servers: from the command line, the configuration, the system's NTP configuration
/// under `root`, or pool.ntp.org; with where they came from.
fn servers(o: &Overrides, config: &Config, root: &Path) -> (Vec<String>, String) {
    if !o.servers.is_empty() {
        return (o.servers.clone(), "the command line".to_string());
    }
    if let Some(s) = config.servers.clone().filter(|s| !s.is_empty()) {
        let from = o
            .config_path
            .as_ref()
            .map_or("the configuration".into(), |p| p.display().to_string());
        return (s, from);
    }
    let sys = system_servers(root);
    if sys.is_empty() {
        return (
            vec![DEFAULT_SERVER.to_string()],
            "the default (no NTP configuration found)".into(),
        );
    }
    let from: Vec<String> = sys
        .iter()
        .map(|c| c.source.display().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (sys.into_iter().map(|c| c.server).collect(), from.join(", "))
}

/// Builds the plan: flags over the file over the defaults.
pub fn plan(o: &Overrides, config: &Config, root: &Path) -> Plan {
    let (servers, servers_from) = servers(o, config, root);
    let d = Thresholds::default();
    let t = &config.thresholds;
    let pick = |flag: Option<Duration>, file: &Option<String>, def: f64| {
        secs(flag).or_else(|| secs(duration(file))).unwrap_or(def)
    };
    let thresholds = Thresholds {
        warn_offset_s: pick(o.warn, &t.warn, d.warn_offset_s),
        crit_offset_s: pick(o.crit, &t.crit, d.crit_offset_s),
        warn_bound_s: pick(o.warn_bound, &t.warn_bound, d.warn_bound_s),
        crit_bound_s: pick(o.crit_bound, &t.crit_bound, d.crit_bound_s),
        warn_pause_s: pick(o.warn_pause, &t.warn_pause, d.warn_pause_s),
        crit_pause_s: pick(o.crit_pause, &t.crit_pause, d.crit_pause_s),
        kernel_sync: !o.no_kernel_sync && config.clock.kernel_sync.unwrap_or(d.kernel_sync),
    };
    let defaults = ProbeSettings::default();
    let ns = |flag: Option<Duration>, file: &Option<String>, def: i64| {
        flag.or(duration(file)).map_or(def, skew_time::duration_ns)
    };
    let probe = ProbeSettings {
        family: if o.ipv4 {
            Family::V4
        } else if o.ipv6 {
            Family::V6
        } else {
            Family::Any
        },
        samples: o.samples.or(config.samples).unwrap_or(defaults.samples),
        interval_ns: ns(o.interval, &config.interval, defaults.interval_ns),
        timeout_ns: ns(o.timeout, &config.timeout, defaults.timeout_ns),
        ..defaults
    };
    let clock_enabled = !o.no_clock && config.clock.enabled.unwrap_or(true);
    let clock = clock_enabled.then(|| {
        o.clock_duration
            .or(duration(&config.clock.duration))
            .unwrap_or(DEFAULT_CLOCK_DURATION)
    });
    let pause = (o.pause || config.pause.enabled.unwrap_or(false)).then(|| {
        (
            o.pause_duration
                .or(duration(&config.pause.duration))
                .unwrap_or(DEFAULT_PAUSE_DURATION),
            o.pause_interval
                .or(duration(&config.pause.interval))
                .unwrap_or(DEFAULT_PAUSE_INTERVAL),
        )
    });
    let leap_enabled = !o.no_leap && config.leap.enabled.unwrap_or(true);
    let leap = leap_enabled.then(|| o.leap_file.clone().or(config.leap.file.clone()));
    Plan {
        run: RunPlan {
            pause,
            leap,
            probe: probe.request(&servers),
            min_agree: o.min_agree.or(config.min_agree).map(|k| k as usize),
            clock,
            host: o.host.clone().unwrap_or_else(hostname),
        },
        thresholds,
        servers_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_the_file_over_the_defaults() {
        let root = Path::new("/nonexistent-root");
        let empty = Config::default();
        let p = plan(&Overrides::default(), &empty, root);
        assert_eq!(p.run.probe.servers, [DEFAULT_SERVER]);
        assert_eq!(p.servers_from, "the default (no NTP configuration found)");
        let probe = &p.run.probe.engine.probe;
        assert_eq!(probe.samples, skew_ntp::prober::DEFAULT_SAMPLES);
        assert_eq!(probe.interval_ns, skew_ntp::prober::DEFAULT_INTERVAL_NS);
        assert_eq!(probe.timeout_ns, skew_ntp::prober::DEFAULT_TIMEOUT_NS);
        assert_eq!(p.run.clock, Some(DEFAULT_CLOCK_DURATION));
        assert_eq!(p.run.pause, None);
        assert_eq!(p.run.leap, Some(None));
        assert_eq!(p.thresholds, Thresholds::default());

        let file = Config::parse(
            Path::new("t.toml"),
            "servers = [\"a\"]\nsamples = 8\ninterval = \"3s\"\n[thresholds]\nwarn = \"50ms\"\n",
        )
        .unwrap();
        let p = plan(&Overrides::default(), &file, root);
        assert_eq!(p.run.probe.servers, ["a"]);
        assert_eq!(p.servers_from, "the configuration");
        assert_eq!(p.run.probe.engine.probe.samples, 8);
        assert_eq!(p.run.probe.engine.probe.interval_ns, 3_000_000_000);
        assert_eq!(p.thresholds.warn_offset_s, 0.05);
        assert!(p.thresholds.kernel_sync);
        let free = Config::parse(Path::new("t.toml"), "[clock]\nkernel_sync = false\n").unwrap();
        assert!(
            !plan(&Overrides::default(), &free, root)
                .thresholds
                .kernel_sync
        );
        let flag = Overrides {
            no_kernel_sync: true,
            ..Overrides::default()
        };
        assert!(!plan(&flag, &file, root).thresholds.kernel_sync);

        let flags = Overrides {
            servers: vec!["b".into()],
            samples: Some(2),
            warn: Some(Duration::from_millis(10)),
            no_clock: true,
            pause: true,
            ipv6: true,
            ..Overrides::default()
        };
        let p = plan(&flags, &file, root);
        assert_eq!(p.run.probe.servers, ["b"]);
        assert_eq!(p.servers_from, "the command line");
        assert_eq!(p.run.probe.engine.probe.samples, 2);
        assert_eq!(p.run.probe.engine.probe.interval_ns, 3_000_000_000);
        assert_eq!(p.run.probe.family, Family::V6);
        assert_eq!(p.thresholds.warn_offset_s, 0.01);
        assert_eq!(p.run.clock, None);
        assert_eq!(
            p.run.pause,
            Some((DEFAULT_PAUSE_DURATION, DEFAULT_PAUSE_INTERVAL))
        );
    }
}
