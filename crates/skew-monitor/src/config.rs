//! The TOML configuration file of `skew monitor` and `skew check`. Every key is optional;
//! command-line flags override the file. Unknown keys are errors (a typo must not silently
//! disable an alert).

use serde::Deserialize;
use skew_time::DurationRange;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An offset or bound threshold (`warn`, `crit`, `warn_bound`, `crit_bound`): 0 to 36500
/// days (a clock reset to 1970 is 56 years off).
pub const OFFSET_THRESHOLD_RANGE: DurationRange =
    DurationRange::new(0, 36_500 * 86_400_000_000_000);
/// A pause threshold (`warn_pause`, `crit_pause`): 0 to 1 day.
pub const PAUSE_THRESHOLD_RANGE: DurationRange = DurationRange::new(0, 86_400_000_000_000);
/// The local clock reading of a run: 10 ms to 1 h.
pub const CLOCK_DURATION_RANGE: DurationRange = DurationRange::new(10_000_000, 3_600_000_000_000);
/// The pause sample of a run: 1 ms to 1 h.
pub const PAUSE_DURATION_RANGE: DurationRange = DurationRange::new(1_000_000, 3_600_000_000_000);
/// The detector interval of the pause sample: the same as `skew pauses --interval`.
pub const PAUSE_INTERVAL_RANGE: DurationRange = skew_pause::config::INTERVAL_RANGE;
/// The random sleep before a run (`splay`): 0 to 1 day.
pub const SPLAY_RANGE: DurationRange = DurationRange::new(0, 86_400_000_000_000);
/// The wait for another run's lock on the drift log: 0 to 1 h.
pub const LOCK_WAIT_RANGE: DurationRange = DurationRange::new(0, 3_600_000_000_000);

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the configuration: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a bad value.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said (with line and column).
        message: String,
    },
}

/// Alert thresholds (durations such as `100ms`, `0.5`, `1s`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    /// WARNING on |offset| above this.
    pub warn: Option<String>,
    /// CRITICAL on |offset| above this.
    pub crit: Option<String>,
    /// WARNING on the agreement half-width above this.
    pub warn_bound: Option<String>,
    /// CRITICAL on the agreement half-width above this.
    pub crit_bound: Option<String>,
    /// WARNING on a pause longer than this.
    pub warn_pause: Option<String>,
    /// CRITICAL on a pause longer than this.
    pub crit_pause: Option<String>,
}

/// The local clock reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// Take the reading (default true).
    pub enabled: Option<bool>,
    /// How long (default 2s).
    pub duration: Option<String>,
    /// WARNING when the kernel says nothing disciplines the clock (default true; false for
    /// hosts meant to run free, as `--no-kernel-sync`).
    pub kernel_sync: Option<bool>,
}

/// The short pause sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseConfig {
    /// Take the sample (default false).
    pub enabled: Option<bool>,
    /// How long (default 5s).
    pub duration: Option<String>,
    /// Sleep interval of the detector (default 1ms).
    pub interval: Option<String>,
}

/// The leap-second check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeapConfig {
    /// Check the leap-seconds list (default true).
    pub enabled: Option<bool>,
    /// The list to read (default: the usual system places).
    pub file: Option<PathBuf>,
}

/// Network Time Security (`[nts]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtsConfig {
    /// PEM files of CA certificates trusted besides the system's roots.
    pub ca: Option<Vec<PathBuf>>,
    /// WARNING when an NTS server's certificate ends within this many days (default 30).
    pub warn_cert_days: Option<f64>,
    /// CRITICAL when it ends within this many days (default 7).
    pub crit_cert_days: Option<f64>,
    /// Deadline of each key exchange (default 5s).
    pub ke_timeout: Option<String>,
}

/// A `servers` entry: `HOST`, or `HOST nts` for an NTS-KE server (as chrony marks them).
/// Returns the server and whether it is marked; `None` for anything else after the host.
pub fn server_entry(entry: &str) -> Option<(String, bool)> {
    let mut w = entry.split_whitespace();
    let host = w.next()?.to_string();
    match (w.next(), w.next()) {
        (None, _) => Some((host, false)),
        (Some(m), None) if m.eq_ignore_ascii_case("nts") => Some((host, true)),
        _ => None,
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Servers to probe: `HOST` or `HOST nts` (an NTS-KE server, probed with NTS).
    pub servers: Option<Vec<String>>,
    /// An NTP configuration (chrony.conf, ntp.conf or timesyncd.conf) whose servers and
    /// pools to probe instead of the system's (not together with `servers`).
    pub ntp_conf: Option<PathBuf>,
    /// Requests per server.
    pub samples: Option<u32>,
    /// Time between requests to one server.
    pub interval: Option<String>,
    /// Timeout per request.
    pub timeout: Option<String>,
    /// Servers that must agree.
    pub min_agree: Option<u32>,
    /// The drift log to append to.
    pub log: Option<PathBuf>,
    /// The Prometheus textfile to write.
    pub prom: Option<PathBuf>,
    /// The state file (`skew now`, step counter).
    pub state: Option<PathBuf>,
    /// Sleep a random part of this first.
    pub splay: Option<String>,
    /// How long to wait for another run's lock on the log.
    pub lock_wait: Option<String>,
    /// Alert thresholds.
    #[serde(default)]
    pub thresholds: ThresholdConfig,
    /// The local clock reading.
    #[serde(default)]
    pub clock: ClockConfig,
    /// The pause sample.
    #[serde(default)]
    pub pause: PauseConfig,
    /// The leap-second check.
    #[serde(default)]
    pub leap: LeapConfig,
    /// Network Time Security.
    #[serde(default)]
    pub nts: NtsConfig,
}

impl Config {
    /// Parses TOML text; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: one_line_error(text, &e),
        })?;
        for (key, days) in [
            ("nts.warn_cert_days", c.nts.warn_cert_days),
            ("nts.crit_cert_days", c.nts.crit_cert_days),
        ] {
            if let Some(d) = days {
                crate::nts::check_cert_days(d).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!("{key}: {e}"),
                })?;
            }
        }
        if c.servers.is_some() && c.ntp_conf.is_some() {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: "servers and ntp_conf both name the servers to probe: keep one".into(),
            });
        }
        for e in c.servers.iter().flatten() {
            if server_entry(e).is_none() {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!("servers: {e:?} is not \"HOST\" or \"HOST nts\""),
                });
            }
        }
        // Validate every duration now, against the range its flag accepts too, so a typo
        // or an absurd value fails the run before anything is done.
        for (key, v, range) in c.durations() {
            if let Some(v) = v {
                range.parse(v).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!("{key}: {e}"),
                })?;
            }
        }
        Ok(c)
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Every duration key, its value and the range it accepts (the same as its flag's).
    fn durations(&self) -> Vec<(&'static str, Option<&String>, DurationRange)> {
        use skew_ntp::prober::{INTERVAL_RANGE, TIMEOUT_RANGE};
        let t = &self.thresholds;
        vec![
            ("interval", self.interval.as_ref(), INTERVAL_RANGE),
            ("timeout", self.timeout.as_ref(), TIMEOUT_RANGE),
            ("splay", self.splay.as_ref(), SPLAY_RANGE),
            ("lock_wait", self.lock_wait.as_ref(), LOCK_WAIT_RANGE),
            ("thresholds.warn", t.warn.as_ref(), OFFSET_THRESHOLD_RANGE),
            ("thresholds.crit", t.crit.as_ref(), OFFSET_THRESHOLD_RANGE),
            (
                "thresholds.warn_bound",
                t.warn_bound.as_ref(),
                OFFSET_THRESHOLD_RANGE,
            ),
            (
                "thresholds.crit_bound",
                t.crit_bound.as_ref(),
                OFFSET_THRESHOLD_RANGE,
            ),
            (
                "thresholds.warn_pause",
                t.warn_pause.as_ref(),
                PAUSE_THRESHOLD_RANGE,
            ),
            (
                "thresholds.crit_pause",
                t.crit_pause.as_ref(),
                PAUSE_THRESHOLD_RANGE,
            ),
            (
                "clock.duration",
                self.clock.duration.as_ref(),
                CLOCK_DURATION_RANGE,
            ),
            (
                "pause.duration",
                self.pause.duration.as_ref(),
                PAUSE_DURATION_RANGE,
            ),
            (
                "pause.interval",
                self.pause.interval.as_ref(),
                PAUSE_INTERVAL_RANGE,
            ),
            (
                "nts.ke_timeout",
                self.nts.ke_timeout.as_ref(),
                skew_ntp_io::nts::KE_TIMEOUT_RANGE,
            ),
        ]
    }
}

/// A TOML error as one line, `line L, column C (the line): what` (the parser's own text draws
/// the line with a caret over several lines, which a Nagios line cannot hold).
fn one_line_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before.len() - start + 1;
            let written = text[start..].lines().next().unwrap_or("").trim();
            format!(
                "line {line}, column {column} ({written}): {}",
                e.message().trim()
            )
        }
        None => e.message().trim().to_string(),
    }
}

/// Parses an optional duration already validated by [`Config::parse`].
pub fn duration(v: &Option<String>) -> Option<Duration> {
    v.as_deref().and_then(|s| skew_time::parse_duration(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/skew.toml"
        ))
        .unwrap();
        let c = Config::parse(Path::new("examples/skew.toml"), &text).unwrap();
        assert!(c.servers.as_ref().is_some_and(|s| !s.is_empty()));
        assert!(c.log.is_some() && c.prom.is_some());
        assert_eq!(
            duration(&c.thresholds.warn),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Config::parse(Path::new("c.toml"), "samples = 2\nservrs = [\"a\"]\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("c.toml: line 2, column 1 (servrs = [\"a\"]): unknown field `servrs`"),
            "{e}"
        );
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        let e = Config::parse(Path::new("c.toml"), "[thresholds]\nwarn = \"fast\"\n").unwrap_err();
        assert!(e.to_string().contains("thresholds.warn"), "{e}");
        let e = Config::parse(
            Path::new("c.toml"),
            "servers = [\"a\"]\nntp_conf = \"/etc/chrony/chrony.conf\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("keep one"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "samples = \"four\"\n").unwrap_err();
        assert!(e.to_string().contains("samples"), "{e}");
        assert_eq!(
            Config::parse(Path::new("c.toml"), "").unwrap(),
            Config::default()
        );
        let e = Config::parse(Path::new("c.toml"), "servers = [\"a nts x\"]\n").unwrap_err();
        assert!(e.to_string().contains("HOST nts"), "{e}");
        let e = Config::parse(Path::new("c.toml"), "[nts]\nke_timeout = \"soon\"\n").unwrap_err();
        assert!(e.to_string().contains("nts.ke_timeout"), "{e}");
    }

    #[test]
    fn nts_entries_and_table() {
        let c = Config::parse(
            Path::new("c.toml"),
            "servers = [\"a.example\", \"nts.example:4461 nts\"]\n[nts]\nca = [\"/etc/ca.pem\"]\nwarn_cert_days = 20\ncrit_cert_days = 3.5\n",
        )
        .unwrap();
        let s: Vec<_> = c
            .servers
            .unwrap()
            .iter()
            .map(|e| server_entry(e).unwrap())
            .collect();
        assert_eq!(
            s,
            vec![
                ("a.example".to_string(), false),
                ("nts.example:4461".to_string(), true)
            ]
        );
        assert_eq!(c.nts.warn_cert_days, Some(20.0));
        assert_eq!(c.nts.crit_cert_days, Some(3.5));
        assert_eq!(c.nts.ca, Some(vec![PathBuf::from("/etc/ca.pem")]));
        assert_eq!(server_entry("x NTS"), Some(("x".into(), true)));
        assert_eq!(server_entry(""), None);
    }
}
