//! Server names on the command line: `host`, `host:port`, `v4addr:port`, `[v6addr]:port`
//! (and a bare IPv6 address), resolved to socket addresses.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The NTP port.
pub const NTP_PORT: u16 = 123;

/// Which address families to probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Both (the resolver's order).
    #[default]
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// Whether `addr` belongs to the family.
    pub fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// A parsed server argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The argument as given.
    pub text: String,
    /// Host name or address literal (without brackets).
    pub host: String,
    /// Port (123 unless given).
    pub port: u16,
}

/// A server argument that is not of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Empty argument.
    #[error("empty server name")]
    Empty,
    /// The port is not a number from 1 to 65535.
    #[error("invalid port {port:?} in {text:?} (expected 1-65535)")]
    BadPort {
        /// The argument.
        text: String,
        /// The port text.
        port: String,
    },
    /// A bracketed IPv6 address is malformed.
    #[error("invalid bracketed IPv6 address in {0:?} (expected [addr] or [addr]:port)")]
    BadBracket(String),
    /// An IPv6 address followed by a port without brackets (`::1:41123`), which no
    /// resolver can read.
    #[error(
        "{text:?} is not an IPv6 address; for address {addr} port {port} write [{addr}]:{port}"
    )]
    UnbracketedPort {
        /// The argument.
        text: String,
        /// The address part.
        addr: std::net::Ipv6Addr,
        /// The port part.
        port: u16,
    },
    /// Several colons, but not an IPv6 address.
    #[error("{0:?} is not an IPv6 address (expected e.g. 2001:db8::1, or [2001:db8::1]:123 with a port)")]
    BadIpv6(String),
}

fn parse_port(text: &str, port: &str) -> Result<u16, SpecError> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(SpecError::BadPort {
            text: text.into(),
            port: port.into(),
        }),
    }
}

/// Parses a server argument.
///
/// ```
/// use skew_ntp_io::parse_server;
/// assert_eq!(parse_server("[::1]:1123").unwrap().port, 1123);
/// assert_eq!(parse_server("::1").unwrap().host, "::1");
/// assert_eq!(parse_server("time.example").unwrap().port, 123);
/// ```
pub fn parse_server(text: &str) -> Result<ServerSpec, SpecError> {
    parse_server_with_port(text, NTP_PORT)
}

/// Parses a server argument whose port is `default_port` unless given (4460 for NTS-KE).
pub fn parse_server_with_port(text: &str, default_port: u16) -> Result<ServerSpec, SpecError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(SpecError::Empty);
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| SpecError::BadBracket(t.into()))?;
        if h.is_empty() || h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(SpecError::BadBracket(t.into()));
        }
        let port = match after {
            "" => default_port,
            p => parse_port(
                t,
                p.strip_prefix(':')
                    .ok_or_else(|| SpecError::BadBracket(t.into()))?,
            )?,
        };
        (h.to_string(), port)
    } else if t.matches(':').count() >= 2 {
        // A bare IPv6 literal: no port can be given without brackets. Anything else with
        // two colons is no host name either; a scope (`fe80::1%eth0`) is the resolver's.
        if !t.contains('%') && t.parse::<std::net::Ipv6Addr>().is_err() {
            let split = t.rsplit_once(':').and_then(|(a, p)| {
                Some((
                    a.parse::<std::net::Ipv6Addr>().ok()?,
                    p.parse::<u16>().ok()?,
                ))
            });
            return Err(match split {
                Some((addr, port)) if port > 0 => SpecError::UnbracketedPort {
                    text: t.into(),
                    addr,
                    port,
                },
                _ => SpecError::BadIpv6(t.into()),
            });
        }
        (t.to_string(), default_port)
    } else if let Some((h, p)) = t.split_once(':') {
        if h.is_empty() {
            return Err(SpecError::Empty);
        }
        (h.to_string(), parse_port(t, p)?)
    } else {
        (t.to_string(), default_port)
    };
    Ok(ServerSpec {
        text: text.to_string(),
        host,
        port,
    })
}

/// A server argument with the addresses it resolved to, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedServer {
    /// The parsed argument.
    pub spec: ServerSpec,
    /// Addresses to probe (one unless all addresses were asked for), or the error.
    pub addresses: Result<Vec<SocketAddr>, String>,
}

/// Resolves one server: an address literal directly, a name through the system resolver.
pub fn resolve(spec: &ServerSpec, family: Family, all_addresses: bool) -> ResolvedServer {
    let found: Result<Vec<SocketAddr>, String> = match spec.host.parse::<IpAddr>() {
        Ok(ip) => Ok(vec![SocketAddr::new(ip, spec.port)]),
        Err(_) => (spec.host.as_str(), spec.port)
            .to_socket_addrs()
            .map(|it| it.collect())
            .map_err(|e| format!("cannot resolve {:?}: {e}", spec.host)),
    };
    let addresses = found.and_then(|v| {
        // Each address once, in the resolver's order.
        let mut seen = std::collections::HashSet::new();
        let v: Vec<SocketAddr> = v
            .into_iter()
            .filter(|a| family.admits(a) && seen.insert(*a))
            .collect();
        if v.is_empty() {
            let fam = match family {
                Family::V4 => "IPv4 ",
                Family::V6 => "IPv6 ",
                Family::Any => "",
            };
            return Err(format!("no {fam}address for {:?}", spec.host));
        }
        Ok(if all_addresses { v } else { v[..1].to_vec() })
    });
    ResolvedServer {
        spec: spec.clone(),
        addresses,
    }
}

/// Resolves many servers concurrently (at most `workers` resolver threads at once),
/// keeping their order.
pub fn resolve_all(
    specs: &[ServerSpec],
    family: Family,
    all_addresses: bool,
    workers: usize,
) -> Vec<ResolvedServer> {
    let workers = workers.clamp(1, 64);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let out: Vec<std::sync::Mutex<Option<ResolvedServer>>> =
        specs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    // Literals need no thread.
    let needs_dns = specs.iter().any(|s| s.host.parse::<IpAddr>().is_err());
    let threads = if needs_dns {
        workers.min(specs.len())
    } else {
        1
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= specs.len() {
                    break;
                }
                let r = resolve(&specs[i], family, all_addresses);
                *out[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    out.into_iter()
        .zip(specs)
        .map(|(m, spec)| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| ResolvedServer {
                    spec: spec.clone(),
                    addresses: Err("resolver thread failed".into()),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = parse_server("127.0.0.1:1123").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 1123));
        let s = parse_server("127.0.0.1").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 123));
        let s = parse_server("[::1]:9").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 9));
        let s = parse_server("[fe80::1]").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("fe80::1", 123));
        let s = parse_server("2001:db8::1").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("2001:db8::1", 123));
        let s = parse_server("localhost:5").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("localhost", 5));
    }

    #[test]
    fn default_port() {
        let s = parse_server_with_port("time.example", 4460).unwrap();
        assert_eq!(s.port, 4460);
        let s = parse_server_with_port("time.example:1234", 4460).unwrap();
        assert_eq!(s.port, 1234);
        let s = parse_server_with_port("[::1]", 4460).unwrap();
        assert_eq!(s.port, 4460);
        let s = parse_server_with_port("2001:db8::1", 4460).unwrap();
        assert_eq!(s.port, 4460);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_server(""), Err(SpecError::Empty));
        assert!(matches!(
            parse_server("h:0"),
            Err(SpecError::BadPort { .. })
        ));
        assert!(matches!(
            parse_server("h:70000"),
            Err(SpecError::BadPort { .. })
        ));
        assert!(matches!(
            parse_server("h:x"),
            Err(SpecError::BadPort { .. })
        ));
        assert!(matches!(
            parse_server("[::1"),
            Err(SpecError::BadBracket(_))
        ));
        assert!(matches!(
            parse_server("[::1]x"),
            Err(SpecError::BadBracket(_))
        ));
        assert!(matches!(
            parse_server("[nothost]:1"),
            Err(SpecError::BadBracket(_))
        ));
        assert_eq!(parse_server(":123"), Err(SpecError::Empty));
        // An IPv6 address with a port but no brackets never reaches the resolver.
        let e = parse_server("::1:41123").unwrap_err();
        assert!(matches!(e, SpecError::UnbracketedPort { port: 41123, .. }));
        assert!(e.to_string().contains("write [::1]:41123"), "{e}");
        assert!(matches!(
            parse_server("2001:db8::zz:1"),
            Err(SpecError::BadIpv6(_))
        ));
        // A valid address stays one (its last group is no port), and so does a scope.
        assert_eq!(parse_server("::1:4112").unwrap().host, "::1:4112");
        assert_eq!(parse_server("fe80::1%eth0").unwrap().host, "fe80::1%eth0");
    }

    #[test]
    fn resolution() {
        let r = resolve(&parse_server("127.0.0.1:5").unwrap(), Family::Any, false);
        assert_eq!(r.addresses.unwrap(), vec!["127.0.0.1:5".parse().unwrap()]);
        let r = resolve(&parse_server("127.0.0.1:5").unwrap(), Family::V6, false);
        assert!(r.addresses.unwrap_err().contains("no IPv6 address"));
        let r = resolve(&parse_server("name.invalid").unwrap(), Family::Any, false);
        assert!(r.addresses.unwrap_err().contains("cannot resolve"));
        let specs: Vec<_> = ["127.0.0.1:1", "[::1]:2", "name.invalid"]
            .iter()
            .map(|s| parse_server(s).unwrap())
            .collect();
        let all = resolve_all(&specs, Family::Any, true, 4);
        assert_eq!(all.len(), 3);
        assert!(all[0].addresses.is_ok() && all[1].addresses.is_ok() && all[2].addresses.is_err());
    }
}
