//! One probing run from server arguments to results: parse, resolve, probe, in order.

use crate::clock::{LocalClock, SystemClock};
use crate::engine::{run_probes, unresolved, EngineConfig, EngineStats, Target};
use crate::nts::{parse_nts_server, NtsOptions};
use crate::target::{parse_server, resolve_all, Family, SpecError};
use skew_ntp::ServerResult;
use skew_nts_io::TrustError;
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
    /// NTS for the servers named in `nts_servers` (`--nts`, or servers marked `nts`).
    pub nts: Option<NtsOptions>,
    /// Servers (as in `servers`) to probe with NTS: their argument names the NTS-KE server
    /// (port 4460 unless given). `--nts` puts every server here.
    pub nts_servers: Vec<String>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A server argument is malformed.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A CA file cannot be used.
    #[error(transparent)]
    Trust(#[from] TrustError),
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
            nts: None,
            nts_servers: vec![],
        }
    }
}

impl ProbeRequest {
    /// The request with NTS for `nts_servers` (some of `servers`; all of them for `--nts`).
    pub fn with_nts(self, options: NtsOptions, nts_servers: Vec<String>) -> ProbeRequest {
        ProbeRequest {
            nts: Some(options),
            nts_servers,
            ..self
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
/// argument (or an unusable CA file) fails the whole run; unresolvable names, failed key
/// exchanges become results beside the others.
pub fn probe_servers(req: &ProbeRequest) -> Result<ProbeRun, RunError> {
    probe_servers_with(req, &SystemClock)
}

/// [`probe_servers`] with a given clock.
pub fn probe_servers_with(
    req: &ProbeRequest,
    clock: &dyn LocalClock,
) -> Result<ProbeRun, RunError> {
    // Which arguments are NTS, by position.
    let nts_set: std::collections::HashSet<&String> = req.nts_servers.iter().collect();
    let nts_wanted = |s: &String| req.nts.is_some() && nts_set.contains(s);
    let (nts_pos, plain_pos): (Vec<usize>, Vec<usize>) =
        (0..req.servers.len()).partition(|&i| nts_wanted(&req.servers[i]));
    let specs = plain_pos
        .iter()
        .map(|&i| parse_server(&req.servers[i]))
        .collect::<Result<Vec<_>, _>>()?;
    let nts_specs = nts_pos
        .iter()
        .map(|&i| parse_nts_server(&req.servers[i]))
        .collect::<Result<Vec<_>, _>>()?;
    let anchors = match &req.nts {
        Some(o) if !nts_specs.is_empty() => Some(o.anchors()?),
        _ => None,
    };
    let started_unix_ns = clock.realtime_ns();
    let t0 = clock.monotonic_ns();
    // Slots, by argument position: indices into the engine's targets, or a finished
    // result (unresolved, failed key exchange).
    let mut slots: Vec<Option<Result<Vec<usize>, ServerResult>>> = vec![None; req.servers.len()];
    // Key exchanges first: their sessions go with the NTP targets they name.
    let mut targets = Vec::new();
    if let (Some(o), Some(a)) = (&req.nts, &anchors) {
        let p = crate::nts::plan(&nts_specs, o, a, req.family, req.all_addresses);
        targets = p.targets;
        for (&i, slot) in nts_pos.iter().zip(p.slots) {
            slots[i] = Some(slot);
        }
    }
    // Every address of every name, then as many as each server takes: the first, all of
    // them (`all_addresses`), or up to a pool's limit.
    let resolved = resolve_all(&specs, req.family, true, 16);
    for (&i, r) in plain_pos.iter().zip(resolved) {
        slots[i] = Some(match r.addresses {
            Ok(mut addrs) => Ok({
                match req.pools.get(&r.spec.text) {
                    Some(&n) => addrs.truncate(n.max(1)),
                    None if !req.all_addresses => addrs.truncate(1),
                    None => {}
                }
                addrs
            }
            .into_iter()
            .map(|a| {
                targets.push(Target::plain(&r.spec.text, a));
                targets.len() - 1
            })
            .collect()),
            Err(e) => Err(unresolved(&r.spec.text, e)),
        });
    }
    let slots: Vec<Result<Vec<usize>, ServerResult>> = slots.into_iter().flatten().collect();
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
