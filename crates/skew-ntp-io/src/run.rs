//! One probing run from server arguments to results: parse, resolve, probe, in order.

use crate::clock::{LocalClock, SystemClock};
use crate::engine::{run_probes, unresolved, EngineConfig, EngineStats, Target};
use crate::target::{parse_server, resolve_all, Family, SpecError};
use skew_ntp::ServerResult;
use std::collections::BTreeMap;

/// What to probe and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRequest {
    /// Server arguments (`host`, `host:port`, `[v6]:port`...).
    pub servers: Vec<String>,
    /// Address families to use.
    pub family: Family,
    /// Probe every address a name resolves to, not only the first.
    pub all_addresses: bool,
    /// Pools: servers (by their text in `servers`) that stand for several servers, each
    /// probed at up to this many of the addresses its name resolves to (a `pool` line's
    /// `maxsources`), whatever `all_addresses` says. Each address is a server of its own.
    pub pools: BTreeMap<String, usize>,
    /// Engine settings.
    pub engine: EngineConfig,
}

/// How to probe, whatever the servers: the settings a command line or a configuration
/// gives, with skew's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeSettings {
    /// Address families to use.
    pub family: Family,
    /// Probe every address a name resolves to, not only the first.
    pub all_addresses: bool,
    /// Requests per server.
    pub samples: u32,
    /// Time between two requests to one server, ns.
    pub interval_ns: i64,
    /// How long to wait for each reply, ns.
    pub timeout_ns: i64,
    /// Maximum relative frequency error between the clocks assumed by the bounds, ppm.
    pub max_drift_ppm: f64,
    /// Maximum requests in flight at once across all servers.
    pub max_inflight: usize,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        let p = skew_ntp::ProbeConfig::default();
        ProbeSettings {
            family: Family::Any,
            all_addresses: false,
            samples: p.samples,
            interval_ns: p.interval_ns,
            timeout_ns: p.timeout_ns,
            max_drift_ppm: skew_ntp::bounds::PHI_PPM,
            max_inflight: crate::DEFAULT_MAX_INFLIGHT,
        }
    }
}

impl ProbeSettings {
    /// The request for `servers` (the local precision is measured by the engine).
    pub fn request(&self, servers: &[String]) -> ProbeRequest {
        let mut probe = skew_ntp::ProbeConfig {
            samples: self.samples,
            interval_ns: self.interval_ns,
            timeout_ns: self.timeout_ns,
            ..skew_ntp::ProbeConfig::default()
        };
        probe.bounds.local_precision_ns = 0; // measured by the engine
        probe.bounds.max_drift_ppm = self.max_drift_ppm;
        ProbeRequest {
            servers: servers.to_vec(),
            family: self.family,
            all_addresses: self.all_addresses,
            pools: BTreeMap::new(),
            engine: EngineConfig {
                probe,
                max_inflight: self.max_inflight,
            },
        }
    }
}

/// The results of a run, one per probed address, in the order the servers were given.
#[derive(Debug, Clone)]
pub struct ProbeRun {
    /// One result per address (or per unresolved server).
    pub results: Vec<ServerResult>,
    /// Datagrams that belonged to no server.
    pub stats: EngineStats,
    /// Time of day when the run started, ns since the Unix epoch.
    pub started_unix_ns: i64,
    /// Monotonic duration of the run, ns.
    pub elapsed_ns: i64,
}

/// Parses, resolves and probes the servers with the real clocks. A malformed server
/// argument fails the whole run (a usage error); unresolvable names become `unresolved`
/// results beside the others.
pub fn probe_servers(req: &ProbeRequest) -> Result<ProbeRun, SpecError> {
    probe_servers_with(req, &SystemClock)
}

/// [`probe_servers`] with a given clock.
pub fn probe_servers_with(
    req: &ProbeRequest,
    clock: &dyn LocalClock,
) -> Result<ProbeRun, SpecError> {
    let specs = req
        .servers
        .iter()
        .map(|s| parse_server(s))
        .collect::<Result<Vec<_>, _>>()?;
    let started_unix_ns = clock.realtime_ns();
    let t0 = clock.monotonic_ns();
    // Every address of every name, then as many as each server takes: the first, all of
    // them (`all_addresses`), or up to a pool's limit.
    let resolved = resolve_all(&specs, req.family, true, 16);
    // Slots: either an index into the engine's targets or a finished unresolved result.
    let mut targets = Vec::new();
    let mut slots: Vec<Result<Vec<usize>, ServerResult>> = Vec::new();
    for r in resolved {
        match r.addresses {
            Ok(mut addrs) => {
                match req.pools.get(&r.spec.text) {
                    Some(&n) => addrs.truncate(n.max(1)),
                    None if !req.all_addresses => addrs.truncate(1),
                    None => {}
                }
                let idx = addrs
                    .into_iter()
                    .map(|a| {
                        targets.push(Target {
                            server: r.spec.text.clone(),
                            address: a,
                        });
                        targets.len() - 1
                    })
                    .collect();
                slots.push(Ok(idx));
            }
            Err(e) => slots.push(Err(unresolved(&r.spec.text, e))),
        }
    }
    let (probed, stats) = run_probes(&targets, &req.engine, clock);
    let mut probed: Vec<Option<ServerResult>> = probed.into_iter().map(Some).collect();
    let mut results = Vec::new();
    for s in slots {
        match s {
            Ok(idx) => results.extend(idx.into_iter().filter_map(|i| probed[i].take())),
            Err(r) => results.push(r),
        }
    }
    Ok(ProbeRun {
        results,
        stats,
        started_unix_ns,
        elapsed_ns: clock.monotonic_ns() - t0,
    })
}
