//! The exporter's settings and the rules they must follow (pure).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The default poll: 64 s, the pool's etiquette (chrony's and ntpd's minimum default).
pub const DEFAULT_POLL: Duration = Duration::from_secs(64);
/// Polls shorter than this are only allowed for loopback and private addresses.
pub const MIN_PUBLIC_POLL: Duration = Duration::from_secs(16);
/// The default window: samples kept per server.
pub const DEFAULT_WINDOW: usize = 64;
/// The longest poll a RATE kiss can push a server to (2¹⁷ s, RFC 5905's maximum).
pub const MAX_POLL: Duration = Duration::from_secs(1 << 17);
/// Between two requests of one `/probe` to a public address: the 2 s of `skew probe`.
pub const PUBLIC_PROBE_INTERVAL: Duration = Duration::from_secs(2);
/// Most samples one `/probe` may ask for.
pub const MAX_PROBE_SAMPLES: u32 = 16;
/// The polls a run accepts (`--poll`): 10 ms to [`MAX_POLL`].
pub const POLL_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(10_000_000, (1 << 17) * 1_000_000_000);
/// The time between the requests of one `/probe` (`--probe-interval`): 0 to 1 h.
pub const PROBE_INTERVAL_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(0, 3_600_000_000_000);
/// Time between key exchanges of a working NTS session unless told otherwise (6 h: see
/// [`skew_ntp::nts::keeper::DEFAULT_REFRESH_NS`]).
pub const DEFAULT_NTS_REFRESH: Duration =
    Duration::from_nanos(skew_ntp::nts::keeper::DEFAULT_REFRESH_NS as u64);
/// `--nts-refresh` shorter than this is only allowed for loopback and private key exchange
/// servers.
pub const MIN_PUBLIC_NTS_REFRESH: Duration = Duration::from_secs(3600);
/// The NTS refreshes a run accepts (`--nts-refresh`): 1 s to 30 days.
pub const NTS_REFRESH_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000_000, 30 * 86_400_000_000_000);

/// What the exporter does.
#[derive(Debug, Clone, PartialEq)]
pub struct ExporterConfig {
    /// Servers as given (`host`, `host:port`, `[v6]:port`).
    pub servers: Vec<String>,
    /// Pools (some of `servers`, by their text) with their most addresses (`maxsources`):
    /// each polls every address its name resolves to, up to that many, each a server of
    /// its own. A pool that is also an NTS server is polled as one NTS server.
    pub pools: std::collections::BTreeMap<String, usize>,
    /// Address family restriction.
    pub family: skew_ntp_io::Family,
    /// Time between two polls of a server.
    pub poll: Duration,
    /// How long to wait for a reply.
    pub timeout: Duration,
    /// Samples kept per server.
    pub window: usize,
    /// Servers that must agree (None: the default majority).
    pub min_agree: Option<usize>,
    /// Relative frequency error allowed by the bounds, ppm.
    pub max_drift_ppm: f64,
    /// Where to serve HTTP.
    pub listen: SocketAddr,
    /// Take local clock readings (rate, steps, suspend, kernel discipline).
    pub clock: bool,
    /// Check the leap-seconds list (None: skip; Some(None): the system's list).
    pub leap: Option<Option<std::path::PathBuf>>,
    /// Run the pause detector with this sleep interval (None: off).
    pub pause_interval: Option<Duration>,
    /// Time between two requests of one `/probe` to a loopback or private address (public
    /// addresses always get at least [`PUBLIC_PROBE_INTERVAL`]).
    pub probe_interval: Duration,
    /// `/probe` requests served at once; more get 503.
    pub max_concurrent_probes: usize,
    /// Servers (some of `servers`) polled with NTS: each names an NTS-KE server (`host` or
    /// `host:port`, port 4460 unless given).
    pub nts_servers: Vec<String>,
    /// How to run key exchanges (needed when `nts_servers` is not empty).
    pub nts: Option<skew_ntp_io::NtsOptions>,
    /// Time between key exchanges of a working NTS session.
    pub nts_refresh: Duration,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            servers: Vec::new(),
            pools: std::collections::BTreeMap::new(),
            family: skew_ntp_io::Family::Any,
            poll: DEFAULT_POLL,
            timeout: Duration::from_secs(1),
            window: DEFAULT_WINDOW,
            min_agree: None,
            max_drift_ppm: skew_ntp::bounds::PHI_PPM,
            listen: SocketAddr::from(([127, 0, 0, 1], 9123)),
            clock: true,
            leap: Some(None),
            pause_interval: None,
            probe_interval: PUBLIC_PROBE_INTERVAL,
            max_concurrent_probes: 8,
            nts_servers: Vec::new(),
            nts: None,
            nts_refresh: DEFAULT_NTS_REFRESH,
        }
    }
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// No server to poll.
    #[error("no server to poll")]
    NoServers,
    /// A zero or absurd setting.
    #[error("{0}")]
    Invalid(String),
    /// A short poll for an address that is neither loopback nor private.
    #[error("--poll {poll_s} s is under {min_s} s, which is only allowed for loopback and private addresses; {server} ({address}) is neither")]
    PollTooShort {
        /// The server as given.
        server: String,
        /// Its address.
        address: String,
        /// The poll asked for, s.
        poll_s: f64,
        /// The minimum for public addresses, s.
        min_s: u64,
    },
    /// A short `--nts-refresh` for a key exchange server that is neither loopback nor
    /// private.
    #[error("--nts-refresh {refresh_s} s is under {min_s} s, which is only allowed for loopback and private key exchange servers; {server} ({address}) is neither")]
    NtsRefreshTooShort {
        /// The server as given.
        server: String,
        /// The key exchange server's address.
        address: String,
        /// The refresh asked for, s.
        refresh_s: f64,
        /// The minimum for public addresses, s.
        min_s: u64,
    },
}

/// Whether `ip` is a loopback, private (RFC 1918, RFC 4193), link-local or shared (RFC 6598)
/// address: one whose operator is the exporter's own, so shorter polls are allowed.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_local_address(IpAddr::V4(v4));
            }
            let s = a.segments();
            a.is_loopback() || (s[0] & 0xFE00) == 0xFC00 || (s[0] & 0xFFC0) == 0xFE80
        }
    }
}

impl ExporterConfig {
    /// Checks the settings that do not depend on name resolution.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.servers.is_empty() {
            return Err(ConfigError::NoServers);
        }
        if self.poll < Duration::from_millis(10) {
            return Err(ConfigError::Invalid("--poll must be at least 10ms".into()));
        }
        if self.timeout.is_zero() || self.timeout >= self.poll {
            return Err(ConfigError::Invalid(format!(
                "--timeout must be greater than zero and shorter than --poll ({} s)",
                self.poll.as_secs_f64()
            )));
        }
        if !(3..=4096).contains(&self.window) {
            return Err(ConfigError::Invalid(
                "--window must be between 3 and 4096".into(),
            ));
        }
        if !(self.max_drift_ppm.is_finite() && self.max_drift_ppm >= 0.0) {
            return Err(ConfigError::Invalid(
                "--max-drift-ppm must be a non-negative number".into(),
            ));
        }
        if self.max_concurrent_probes == 0 {
            return Err(ConfigError::Invalid(
                "at least one /probe must be allowed at once".into(),
            ));
        }
        if !self.nts_servers.is_empty() && self.nts.is_none() {
            return Err(ConfigError::Invalid("NTS servers need NTS settings".into()));
        }
        if self.nts_refresh < self.poll {
            return Err(ConfigError::Invalid(format!(
                "--nts-refresh must be at least --poll ({} s): key exchanges happen at polls",
                self.poll.as_secs_f64()
            )));
        }
        Ok(())
    }

    /// Whether `server` (as given) is polled with NTS.
    pub fn is_nts(&self, server: &str) -> bool {
        self.nts.is_some() && self.nts_servers.iter().any(|s| s == server)
    }

    /// Checks a key exchange server's address: under [`MIN_PUBLIC_POLL`] (as for every
    /// address polled) and under [`MIN_PUBLIC_NTS_REFRESH`] only loopback and private
    /// addresses are allowed.
    pub fn check_ke_address(&self, server: &str, address: SocketAddr) -> Result<(), ConfigError> {
        self.check_address(server, address)?;
        if self.nts_refresh < MIN_PUBLIC_NTS_REFRESH && !is_local_address(address.ip()) {
            return Err(ConfigError::NtsRefreshTooShort {
                server: server.into(),
                address: address.to_string(),
                refresh_s: self.nts_refresh.as_secs_f64(),
                min_s: MIN_PUBLIC_NTS_REFRESH.as_secs(),
            });
        }
        Ok(())
    }

    /// Checks a resolved address against the poll: under [`MIN_PUBLIC_POLL`] only loopback
    /// and private addresses may be polled.
    pub fn check_address(&self, server: &str, address: SocketAddr) -> Result<(), ConfigError> {
        if self.poll < MIN_PUBLIC_POLL && !is_local_address(address.ip()) {
            return Err(ConfigError::PollTooShort {
                server: server.into(),
                address: address.to_string(),
                poll_s: self.poll.as_secs_f64(),
                min_s: MIN_PUBLIC_POLL.as_secs(),
            });
        }
        Ok(())
    }

    /// The interval between the requests of one `/probe` to `address`.
    pub fn probe_interval_for(&self, address: IpAddr) -> Duration {
        if is_local_address(address) {
            self.probe_interval
        } else {
            self.probe_interval.max(PUBLIC_PROBE_INTERVAL)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn local_addresses() {
        for a in [
            "127.0.0.1",
            "127.5.6.7",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.0.5",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fc12::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_local_address(ip(a)), "{a}");
        }
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "192.169.0.1",
            "100.128.0.1",
            "2001:db8::1",
            "2a00::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_local_address(ip(a)), "{a}");
        }
    }

    #[test]
    fn short_polls_only_for_local_addresses() {
        let c = ExporterConfig {
            servers: vec!["x".into()],
            poll: Duration::from_secs(1),
            timeout: Duration::from_millis(500),
            ..ExporterConfig::default()
        };
        c.check().unwrap();
        assert!(c
            .check_address("a", "127.0.0.1:123".parse().unwrap())
            .is_ok());
        let e = c
            .check_address("pool", "192.0.2.1:123".parse().unwrap())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("only allowed for loopback and private"),
            "{e}"
        );
        let slow = ExporterConfig {
            poll: MIN_PUBLIC_POLL,
            ..c.clone()
        };
        assert!(slow
            .check_address("pool", "192.0.2.1:123".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn settings_are_checked() {
        let ok = ExporterConfig {
            servers: vec!["x".into()],
            ..ExporterConfig::default()
        };
        ok.check().unwrap();
        assert_eq!(
            ExporterConfig::default().check(),
            Err(ConfigError::NoServers)
        );
        for bad in [
            ExporterConfig {
                timeout: ok.poll,
                ..ok.clone()
            },
            ExporterConfig {
                window: 2,
                ..ok.clone()
            },
            ExporterConfig {
                max_drift_ppm: f64::NAN,
                ..ok.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nts_settings_are_checked() {
        let ok = ExporterConfig {
            servers: vec!["a".into(), "b".into()],
            nts_servers: vec!["b".into()],
            nts: Some(skew_ntp_io::NtsOptions::default()),
            ..ExporterConfig::default()
        };
        ok.check().unwrap();
        assert!(ok.is_nts("b") && !ok.is_nts("a"));
        let no_options = ExporterConfig {
            nts: None,
            ..ok.clone()
        };
        assert!(no_options.check().is_err());
        assert!(!no_options.is_nts("b"));
        let refresh_under_poll = ExporterConfig {
            nts_refresh: Duration::from_secs(10),
            ..ok.clone()
        };
        assert!(refresh_under_poll
            .check()
            .unwrap_err()
            .to_string()
            .contains("--nts-refresh must be at least --poll"));
        // A short refresh only for local key exchange servers, as a short poll.
        let short = ExporterConfig {
            nts_refresh: Duration::from_secs(600),
            ..ok.clone()
        };
        short.check().unwrap();
        assert!(short
            .check_ke_address("b", "10.0.0.1:4460".parse().unwrap())
            .is_ok());
        let e = short
            .check_ke_address("b", "192.0.2.1:4460".parse().unwrap())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("only allowed for loopback and private key exchange servers"),
            "{e}"
        );
        assert!(ok
            .check_ke_address("b", "192.0.2.1:4460".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn probe_interval_keeps_etiquette_for_public_addresses() {
        let c = ExporterConfig {
            probe_interval: Duration::from_millis(10),
            ..ExporterConfig::default()
        };
        assert_eq!(
            c.probe_interval_for(ip("127.0.0.1")),
            Duration::from_millis(10)
        );
        assert_eq!(c.probe_interval_for(ip("192.0.2.7")), PUBLIC_PROBE_INTERVAL);
    }
}
