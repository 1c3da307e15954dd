//! What one monitoring run does, decided from the command line's settings, the
//! configuration file and skew's defaults — flags win over the file, the file over the
//! defaults, and each default is defined once (the probe's in `skew_ntp::prober`, the
//! thresholds' in [`Thresholds::default`], the readings' here).

use crate::config::{duration, server_entry, Config};
use crate::nagios::Thresholds;
use crate::ntpconf::{read_conf, servers_of, system_conf, ConfFile, DEFAULT_SERVER};
use crate::nts::CertThresholds;
use crate::run::{hostname, RunPlan};
use skew_ntp::nts::Aead;
use skew_ntp_io::{Family, NtsOptions, ProbeSettings};
use std::collections::BTreeMap;
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
    /// An NTP configuration to take the servers from instead of the system's.
    pub ntp_conf: Option<PathBuf>,
    /// IPv4 only.
    pub ipv4: bool,
    /// IPv6 only.
    pub ipv6: bool,
    /// Probe every address a server's name resolves to, not only the first.
    pub all_addresses: bool,
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
    /// Probe the command line's servers with NTS (`--nts`).
    pub nts: bool,
    /// CA files trusted for NTS-KE besides the system's roots (`--nts-ca`).
    pub nts_ca: Vec<PathBuf>,
    /// AEADs to offer, in order of preference (`--nts-aead`).
    pub nts_aead: Vec<Aead>,
    /// Deadline of each key exchange (`--nts-ke-timeout`).
    pub nts_ke_timeout: Option<Duration>,
    /// WARNING when an NTS server's certificate ends within this many days.
    pub warn_cert_days: Option<f64>,
    /// CRITICAL when an NTS server's certificate ends within this many days.
    pub crit_cert_days: Option<f64>,
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
    /// The NTP configuration files the servers came from (empty when they came from the
    /// command line, the configuration's `servers` or the default), with their lines.
    pub conf: Vec<ConfFile>,
}

/// A server or pool line of an NTP configuration, with the addresses the run probed for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLine {
    /// The configuration file.
    pub file: String,
    /// What its content was taken for (`chrony.conf`, `ntp.conf`, `timesyncd.conf`...).
    pub kind: &'static str,
    /// The line number, from 1.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// A pool's limit of addresses (`maxsources`); null for a server.
    pub maxsources: Option<usize>,
    /// Distinct addresses probed for this line.
    pub addresses: usize,
    /// Why it gave no address (a name that does not resolve), else null.
    pub error: Option<String>,
}

impl Plan {
    /// Each server and pool line of the NTP configuration the servers came from, with how
    /// many addresses it gave in `results` (empty when the servers came from elsewhere).
    pub fn source_lines(&self, results: &[skew_ntp::ServerResult]) -> Vec<SourceLine> {
        let mut out = Vec::new();
        for f in &self.conf {
            for e in &f.entries {
                let mine = results.iter().filter(|r| r.server == e.server);
                let addresses: std::collections::HashSet<_> =
                    mine.clone().filter_map(|r| r.address).collect();
                out.push(SourceLine {
                    file: f.path.display().to_string(),
                    kind: f.kind.name(),
                    line: e.line,
                    text: e.text.clone(),
                    maxsources: e.pool,
                    addresses: addresses.len(),
                    error: if addresses.is_empty() {
                        mine.filter_map(|r| r.error.clone()).next()
                    } else {
                        None
                    },
                });
            }
        }
        out
    }
}

/// Why a run cannot be planned: a configuration or usage error (Nagios UNKNOWN).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The NTP configuration named by `--ntp-conf` or `ntp_conf` cannot be read.
    #[error("cannot read the NTP configuration {path}: {source}")]
    NtpConf {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The NTP configuration names no server.
    #[error("the NTP configuration {path} ({kind}) has no server or pool line")]
    NoServers {
        /// The file.
        path: PathBuf,
        /// What its content was taken for.
        kind: &'static str,
    },
    /// A WARNING threshold above its CRITICAL threshold: the CRITICAL state would be
    /// reached first, and the WARNING never seen.
    #[error(
        "the WARNING threshold of {what} ({warn_s} s, {warn_flag}) is above the CRITICAL one ({crit_s} s, {crit_flag})"
    )]
    Thresholds {
        /// What is judged.
        what: &'static str,
        /// The warning threshold, s.
        warn_s: f64,
        /// The critical threshold, s.
        crit_s: f64,
        /// Where the warning threshold is set.
        warn_flag: &'static str,
        /// Where the critical threshold is set.
        crit_flag: &'static str,
    },
    /// A zero timeout would end every exchange before its reply.
    #[error("the timeout must be greater than zero")]
    ZeroTimeout,
    /// A server that is not of the accepted forms (`host`, `host:port`, `[v6]:port`).
    #[error(transparent)]
    Server(#[from] skew_ntp_io::target::SpecError),
    /// `--nts-ke-timeout 0` with servers to probe with NTS.
    #[error("--nts-ke-timeout must be greater than zero")]
    ZeroKeTimeout,
}

fn secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// The servers to probe, each with whether it is probed with NTS, with their pools (name →
/// up to how many addresses), where they came from, and the NTP configuration files read.
#[derive(Debug, Clone)]
pub struct ChosenServers {
    /// Each server (`host`, `host:port`...) and whether it is probed with NTS.
    pub names: Vec<(String, bool)>,
    /// The servers that are pools, with their limit of addresses.
    pub pools: BTreeMap<String, usize>,
    /// Where they came from, for a person.
    pub from: String,
    /// The NTP configuration files read (empty for the command line, the configuration's
    /// `servers` and the default).
    pub conf: Vec<ConfFile>,
}

impl ChosenServers {
    fn listed(names: Vec<(String, bool)>, from: String) -> ChosenServers {
        ChosenServers {
            names,
            pools: BTreeMap::new(),
            from,
            conf: Vec::new(),
        }
    }

    fn of_conf(conf: Vec<ConfFile>) -> ChosenServers {
        let from: Vec<String> = conf
            .iter()
            .map(|c| format!("{} ({})", c.path.display(), c.kind.name()))
            .collect();
        let servers = servers_of(&conf);
        ChosenServers {
            names: servers.iter().map(|c| (c.server.clone(), c.nts)).collect(),
            pools: servers
                .iter()
                .filter_map(|c| Some((c.server.clone(), c.pool?)))
                .collect(),
            from: from.join(", "),
            conf,
        }
    }
}

/// Reads the NTP configuration `path`, which must name a server.
fn one_conf(path: &Path) -> Result<ConfFile, PlanError> {
    let c = read_conf(path).map_err(|source| PlanError::NtpConf {
        path: path.to_path_buf(),
        source,
    })?;
    if c.entries.is_empty() {
        return Err(PlanError::NoServers {
            path: path.to_path_buf(),
            kind: c.kind.name(),
        });
    }
    Ok(c)
}

/// The servers to probe, each with whether it is probed with NTS: from the command line
/// (`args`, all with NTS when `args_nts`), else the NTP configuration `ntp_conf`
/// (`--ntp-conf`), else the configuration file's `servers` (`HOST nts` marks an NTS server)
/// or `ntp_conf`, else the system's NTP configuration under `root` (chrony's `nts` option),
/// else pool.ntp.org. Shared by `monitor`, `check` and `exporter`. An NTP configuration
/// named that cannot be read or names no server is an error.
pub fn choose_servers(
    args: &[String],
    args_nts: bool,
    ntp_conf: Option<&Path>,
    config: &Config,
    config_path: Option<&Path>,
    root: &Path,
) -> Result<ChosenServers, PlanError> {
    if !args.is_empty() {
        let s = args.iter().map(|s| (s.clone(), args_nts)).collect();
        return Ok(ChosenServers::listed(s, "the command line".to_string()));
    }
    if let Some(p) = ntp_conf {
        return Ok(ChosenServers::of_conf(vec![one_conf(p)?]));
    }
    if let Some(s) = config.servers.clone().filter(|s| !s.is_empty()) {
        let from = config_path.map_or("the configuration".into(), |p| p.display().to_string());
        return Ok(ChosenServers::listed(
            s.iter().filter_map(|e| server_entry(e)).collect(),
            from,
        ));
    }
    if let Some(p) = &config.ntp_conf {
        return Ok(ChosenServers::of_conf(vec![one_conf(p)?]));
    }
    let sys = system_conf(root);
    if sys.is_empty() {
        return Ok(ChosenServers::listed(
            vec![(DEFAULT_SERVER.to_string(), false)],
            "the default (no NTP configuration found)".into(),
        ));
    }
    Ok(ChosenServers::of_conf(sys))
}

/// The NTS options for a run with NTS servers: flags over the file's `[nts]` over the
/// defaults (a zero `ke_timeout` in the file counts as not given).
fn nts_options(o: &Overrides, config: &Config) -> Result<NtsOptions, PlanError> {
    nts_settings(&o.nts_ca, &o.nts_aead, o.nts_ke_timeout, config)
}

/// The NTS options from the flags `--nts-ca`, `--nts-aead`, `--nts-ke-timeout` over the
/// file's `[nts]` table over the defaults (a zero `ke_timeout` in the file counts as not
/// given; a zero flag is an error). Shared by `monitor`, `check` and `exporter`.
pub fn nts_settings(
    ca: &[PathBuf],
    aead: &[Aead],
    ke_timeout: Option<Duration>,
    config: &Config,
) -> Result<NtsOptions, PlanError> {
    let ca = if ca.is_empty() {
        config.nts.ca.clone().unwrap_or_default()
    } else {
        ca.to_vec()
    };
    let ke_timeout =
        ke_timeout.or_else(|| duration(&config.nts.ke_timeout).filter(|d| !d.is_zero()));
    NtsOptions::new(ca, aead, ke_timeout).ok_or(PlanError::ZeroKeTimeout)
}

/// Checks that no WARNING threshold is above its CRITICAL one.
fn check_thresholds(t: &Thresholds) -> Result<(), PlanError> {
    let pairs = [
        (
            "the offset",
            t.warn_offset_s,
            t.crit_offset_s,
            "-w/--warn or thresholds.warn",
            "-c/--crit or thresholds.crit",
        ),
        (
            "the bound",
            t.warn_bound_s,
            t.crit_bound_s,
            "--warn-bound or thresholds.warn_bound",
            "--crit-bound or thresholds.crit_bound",
        ),
        (
            "a pause",
            t.warn_pause_s,
            t.crit_pause_s,
            "--warn-pause or thresholds.warn_pause",
            "--crit-pause or thresholds.crit_pause",
        ),
    ];
    for (what, warn_s, crit_s, warn_flag, crit_flag) in pairs {
        if warn_s > crit_s {
            return Err(PlanError::Thresholds {
                what,
                warn_s,
                crit_s,
                warn_flag,
                crit_flag,
            });
        }
    }
    Ok(())
}

/// Builds the plan: flags over the file over the defaults. Errors are configuration or
/// usage errors: an unreadable or empty `--ntp-conf`, a malformed server, a WARNING
/// threshold above its CRITICAL one, a zero timeout, NTS settings that cannot be used (only
/// when some server is probed with NTS).
pub fn plan(o: &Overrides, config: &Config, root: &Path) -> Result<Plan, PlanError> {
    let servers = choose_servers(
        &o.servers,
        o.nts,
        o.ntp_conf.as_deref(),
        config,
        o.config_path.as_deref(),
        root,
    )?;
    // A malformed server is a usage error before anything runs.
    for (s, _) in &servers.names {
        skew_ntp_io::parse_server(s)?;
    }
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
    check_thresholds(&thresholds)?;
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
        all_addresses: o.all_addresses,
        samples: o.samples.or(config.samples).unwrap_or(defaults.samples),
        interval_ns: ns(o.interval, &config.interval, defaults.interval_ns),
        timeout_ns: ns(o.timeout, &config.timeout, defaults.timeout_ns),
        ..defaults
    };
    if probe.timeout_ns <= 0 {
        return Err(PlanError::ZeroTimeout);
    }
    let names: Vec<String> = servers.names.iter().map(|(s, _)| s.clone()).collect();
    let mut request = probe.request(&names);
    request.pools = servers.pools;
    let nts_servers: Vec<String> = servers
        .names
        .iter()
        .filter(|(_, nts)| *nts)
        .map(|(s, _)| s.clone())
        .collect();
    if !nts_servers.is_empty() {
        request = request.with_nts(nts_options(o, config)?, nts_servers);
    }
    let cert = CertThresholds::default();
    let nts_cert = CertThresholds {
        warn_days: o
            .warn_cert_days
            .or(config.nts.warn_cert_days)
            .unwrap_or(cert.warn_days),
        crit_days: o
            .crit_cert_days
            .or(config.nts.crit_cert_days)
            .unwrap_or(cert.crit_days),
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
    Ok(Plan {
        run: RunPlan {
            pause,
            leap,
            probe: request,
            min_agree: o.min_agree.or(config.min_agree).map(|k| k as usize),
            clock,
            host: o.host.clone().unwrap_or_else(hostname),
            nts_cert,
        },
        thresholds,
        servers_from: servers.from,
        conf: servers.conf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_the_file_over_the_defaults() {
        let root = Path::new("/nonexistent-root");
        let empty = Config::default();
        let p = plan(&Overrides::default(), &empty, root).unwrap();
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
        let p = plan(&Overrides::default(), &file, root).unwrap();
        assert_eq!(p.run.probe.servers, ["a"]);
        assert_eq!(p.servers_from, "the configuration");
        assert_eq!(p.run.probe.engine.probe.samples, 8);
        assert_eq!(p.run.probe.engine.probe.interval_ns, 3_000_000_000);
        assert_eq!(p.thresholds.warn_offset_s, 0.05);
        assert!(p.thresholds.kernel_sync);
        let free = Config::parse(Path::new("t.toml"), "[clock]\nkernel_sync = false\n").unwrap();
        assert!(
            !plan(&Overrides::default(), &free, root)
                .unwrap()
                .thresholds
                .kernel_sync
        );
        let flag = Overrides {
            no_kernel_sync: true,
            ..Overrides::default()
        };
        assert!(!plan(&flag, &file, root).unwrap().thresholds.kernel_sync);

        let flags = Overrides {
            servers: vec!["b".into()],
            samples: Some(2),
            warn: Some(Duration::from_millis(10)),
            no_clock: true,
            pause: true,
            ipv6: true,
            ..Overrides::default()
        };
        let p = plan(&flags, &file, root).unwrap();
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

    #[test]
    fn a_warning_threshold_above_the_critical_one_is_refused() {
        let root = Path::new("/nonexistent-root");
        let o = |warn, crit| Overrides {
            warn: Some(Duration::from_millis(warn)),
            crit: Some(Duration::from_millis(crit)),
            ..Overrides::default()
        };
        assert!(plan(&o(500, 500), &Config::default(), root).is_ok());
        let e = plan(&o(600, 500), &Config::default(), root).unwrap_err();
        assert!(
            matches!(
                e,
                PlanError::Thresholds {
                    what: "the offset",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("-w/--warn"), "{e}");
        // From the file too, and for the bound.
        let file = Config::parse(
            Path::new("t.toml"),
            "[thresholds]\nwarn_bound = \"2s\"\ncrit_bound = \"1s\"\n",
        )
        .unwrap();
        let e = plan(&Overrides::default(), &file, root).unwrap_err();
        assert!(
            matches!(
                e,
                PlanError::Thresholds {
                    what: "the bound",
                    ..
                }
            ),
            "{e}"
        );
        // A flag can also set the critical threshold below the default warning one.
        let e = plan(
            &Overrides {
                crit: Some(Duration::from_millis(50)),
                ..Overrides::default()
            },
            &Config::default(),
            root,
        )
        .unwrap_err();
        assert!(e.to_string().contains("0.1 s"), "{e}");
        let zero = Overrides {
            timeout: Some(Duration::ZERO),
            ..Overrides::default()
        };
        assert!(matches!(
            plan(&zero, &Config::default(), root),
            Err(PlanError::ZeroTimeout)
        ));
    }

    #[test]
    fn servers_from_an_ntp_configuration_with_pools() {
        let dir = std::env::temp_dir().join(format!("skew-plan-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("chrony.conf");
        std::fs::write(
            &conf,
            "pool pool.test port 1123 maxsources 3\nserver one.test port 1123\nmakestep 1 3\n",
        )
        .unwrap();
        let empty = dir.join("empty.conf");
        std::fs::write(&empty, "makestep 1 3\n").unwrap();
        let root = Path::new("/nonexistent-root");
        let flags = Overrides {
            ntp_conf: Some(conf.clone()),
            ..Overrides::default()
        };
        let p = plan(&flags, &Config::default(), root).unwrap();
        assert_eq!(p.run.probe.servers, ["pool.test:1123", "one.test:1123"]);
        assert_eq!(
            p.run.probe.pools,
            BTreeMap::from([("pool.test:1123".to_string(), 3)])
        );
        assert_eq!(p.conf.len(), 1);
        assert!(
            p.servers_from.ends_with("chrony.conf (chrony.conf)"),
            "{}",
            p.servers_from
        );
        // The file's ntp_conf does the same; the flag wins over the file's servers.
        let file = Config {
            ntp_conf: Some(conf.clone()),
            ..Config::default()
        };
        let p = plan(&Overrides::default(), &file, root).unwrap();
        assert_eq!(p.run.probe.pools.len(), 1);
        let file = Config {
            servers: Some(vec!["x".into()]),
            ..Config::default()
        };
        let p = plan(&flags, &file, root).unwrap();
        assert_eq!(p.run.probe.servers, ["pool.test:1123", "one.test:1123"]);
        // Unreadable or empty: a configuration error naming the file.
        let missing = Overrides {
            ntp_conf: Some(dir.join("missing.conf")),
            ..Overrides::default()
        };
        let e = plan(&missing, &Config::default(), root).unwrap_err();
        assert!(e.to_string().contains("missing.conf"), "{e}");
        let e = plan(
            &Overrides {
                ntp_conf: Some(empty),
                ..Overrides::default()
            },
            &Config::default(),
            root,
        )
        .unwrap_err();
        assert!(matches!(e, PlanError::NoServers { .. }), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn nts_from_the_flags_the_file_and_the_system() {
        let root = std::env::temp_dir().join(format!("skew-plan-nts-sys-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc/chrony")).unwrap();
        std::fs::write(
            root.join("etc/chrony/chrony.conf"),
            "server plain.example iburst\nserver nts.example iburst nts\n",
        )
        .unwrap();
        let p = plan(&Overrides::default(), &Config::default(), &root).unwrap();
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(p.run.probe.servers, ["plain.example", "nts.example"]);
        assert_eq!(p.run.probe.nts_servers, ["nts.example"]);
        let nts = p.run.probe.nts.as_ref().unwrap();
        assert_eq!(nts.ke_timeout, skew_ntp_io::DEFAULT_KE_TIMEOUT);
        assert_eq!(p.run.nts_cert, CertThresholds::default());

        // The file's [nts] table, under the flags.
        let file = Config::parse(
            Path::new("t.toml"),
            "servers = [\"a\", \"b nts\"]\n[nts]\nca = [\"/f.pem\"]\nke_timeout = \"2s\"\nwarn_cert_days = 20\n",
        )
        .unwrap();
        let p = plan(&Overrides::default(), &file, Path::new("/nonexistent")).unwrap();
        assert_eq!(p.run.probe.nts_servers, ["b"]);
        let nts = p.run.probe.nts.as_ref().unwrap();
        assert_eq!(nts.ca_files, [PathBuf::from("/f.pem")]);
        assert_eq!(nts.ke_timeout, Duration::from_secs(2));
        assert_eq!(p.run.nts_cert.warn_days, 20.0);
        let flags = Overrides {
            nts_ca: vec!["/g.pem".into()],
            nts_ke_timeout: Some(Duration::from_secs(1)),
            warn_cert_days: Some(10.0),
            ..Overrides::default()
        };
        let p = plan(&flags, &file, Path::new("/nonexistent")).unwrap();
        let nts = p.run.probe.nts.as_ref().unwrap();
        assert_eq!(nts.ca_files, [PathBuf::from("/g.pem")]);
        assert_eq!(nts.ke_timeout, Duration::from_secs(1));
        assert_eq!(p.run.nts_cert.warn_days, 10.0);

        // A zero deadline fails only when some server uses NTS.
        let zero = Overrides {
            servers: vec!["a".into()],
            nts_ke_timeout: Some(Duration::ZERO),
            ..Overrides::default()
        };
        let p = plan(&zero, &file, Path::new("/")).unwrap();
        assert!(p.run.probe.nts.is_none() && p.run.probe.nts_servers.is_empty());
        let zero = Overrides { nts: true, ..zero };
        assert!(matches!(
            plan(&zero, &file, Path::new("/")).unwrap_err(),
            PlanError::ZeroKeTimeout
        ));
    }
}
