//! One probing run from server arguments to results: parse, resolve, probe, in order.

use crate::clock::{LocalClock, SystemClock};
use crate::engine::{run_probes, unresolved, EngineConfig, EngineStats, Target};
use crate::target::{parse_server, resolve_all, Family, SpecError};
use skew_ntp::ServerResult;

/// What to probe and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRequest {
    /// Server arguments (`host`, `host:port`, `[v6]:port`...).
    pub servers: Vec<String>,
    /// Address families to use.
    pub family: Family,
    /// Probe every address a name resolves to, not only the first.
    pub all_addresses: bool,
    /// Engine settings.
    pub engine: EngineConfig,
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
    let resolved = resolve_all(&specs, req.family, req.all_addresses, 16);
    // Slots: either an index into the engine's targets or a finished unresolved result.
    let mut targets = Vec::new();
    let mut slots: Vec<Result<Vec<usize>, ServerResult>> = Vec::new();
    for r in resolved {
        match r.addresses {
            Ok(addrs) => {
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
