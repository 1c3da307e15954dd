//! The poller's entries, from the server arguments at start: parsed, resolved (an NTS
//! server's name is its key exchange server's), checked against the poll's rules, one entry
//! per server (an NTS server with its keeper; a pool one per address, up to its
//! `maxsources`), a server given twice polled once. Resolution is this module's only IO.

use crate::config::{self, ExporterConfig};
use crate::poller::{Entry, PoolEntry};
use crate::pool::PoolTrack;
use crate::server::ServerState;
use crate::StartError;
use skew_ntp::nts::keeper::{Keeper, KeeperPolicy};
use skew_ntp::nts::KeFacts;
use skew_ntp_io::parse_nts_server;
use skew_ntp_io::target::{parse_server, resolve_all, ResolvedServer, ServerSpec};
use std::net::SocketAddr;

/// Parses every server argument (an NTS server's as a key exchange server), in order.
pub(crate) fn parse_specs(config: &ExporterConfig) -> Result<Vec<ServerSpec>, StartError> {
    config
        .servers
        .iter()
        .map(|s| {
            let spec = if config.is_nts(s) {
                parse_nts_server(s)
            } else {
                parse_server(s)
            };
            spec.map_err(|e| StartError::Server(format!("{s}: {e}")))
        })
        .collect()
}

/// Resolves `specs` (parsed from `config.servers`, in order) and makes the poller's entries
/// and pools, their polling starting at `start_mono`.
pub(crate) fn build(
    config: &ExporterConfig,
    specs: Vec<ServerSpec>,
    start_mono: i64,
) -> Result<(Vec<Entry>, Vec<PoolEntry>), StartError> {
    // Plain names resolve to the address polled (a pool's to up to its maxsources
    // addresses); NTS names to the key exchange server's addresses, tried in order.
    let (nts_specs, plain_specs): (Vec<ServerSpec>, Vec<ServerSpec>) =
        specs.into_iter().partition(|s| config.is_nts(&s.text));
    let mut nts_resolved = resolve_all(&nts_specs, config.family, true, 16).into_iter();
    let mut plain_resolved = resolve_all(&plain_specs, config.family, true, 16).into_iter();
    let mut b = Builder::new(config, start_mono);
    for s in &config.servers {
        let nts = config.is_nts(s);
        let r = if nts {
            nts_resolved.next()
        } else {
            plain_resolved.next()
        }
        .expect("one resolution per server");
        b.add(r, nts)?;
    }
    Ok((b.entries, b.pools))
}

/// The entries made so far, and what every new one's polling state starts from.
struct Builder<'a> {
    config: &'a ExporterConfig,
    start_mono: i64,
    poll_ns: i64,
    max_poll_ns: i64,
    policy: KeeperPolicy,
    entries: Vec<Entry>,
    pools: Vec<PoolEntry>,
    /// The id of the next entry (ids are never reused).
    next_id: u64,
}

impl<'a> Builder<'a> {
    /// No entries yet; polling every `config.poll` from `start_mono`.
    fn new(config: &'a ExporterConfig, start_mono: i64) -> Builder<'a> {
        let poll_ns = skew_time::duration_ns(config.poll);
        Builder {
            config,
            start_mono,
            poll_ns,
            max_poll_ns: skew_time::duration_ns(config::MAX_POLL.max(config.poll)),
            policy: KeeperPolicy::for_poll(poll_ns, skew_time::duration_ns(config.nts_refresh)),
            entries: Vec::new(),
            pools: Vec::new(),
            next_id: 0,
        }
    }

    /// Adds the entries of one resolved server argument (`nts`: an NTS server). With a poll
    /// under 16 s, a server that did not resolve is refused.
    fn add(&mut self, r: ResolvedServer, nts: bool) -> Result<(), StartError> {
        let found = r.addresses.as_ref().ok().cloned().unwrap_or_default();
        if found.is_empty() && self.config.poll < config::MIN_PUBLIC_POLL {
            return Err(StartError::Server(format!(
                "{}: {}; with --poll under {} s every server must resolve now, to a loopback or private address",
                r.spec.text,
                r.addresses.as_ref().err().cloned().unwrap_or_else(|| "no address".into()),
                config::MIN_PUBLIC_POLL.as_secs()
            )));
        }
        if nts {
            return self.add_nts(r, found);
        }
        if let Some(&max) = self.config.pools.get(&r.spec.text) {
            return self.add_pool(r, found, max);
        }
        self.add_plain(r, found)
    }

    /// An NTS server: one entry with its keeper, the key exchange server at `found`.
    fn add_nts(&mut self, r: ResolvedServer, found: Vec<SocketAddr>) -> Result<(), StartError> {
        for a in &found {
            self.config.check_ke_address(&r.spec.text, *a)?;
        }
        if self
            .entries
            .iter()
            .any(|e| e.spec.text == r.spec.text && e.state.nts.is_some())
        {
            return Ok(()); // the same server twice: polled once
        }
        let facts = KeFacts {
            ke_server: r.spec.host.clone(),
            ke_port: r.spec.port,
            ..KeFacts::default()
        };
        let state = self
            .state(&r.spec.text, None)
            .with_nts(Keeper::new(self.policy, facts));
        self.push(None, r.spec, state, found);
        Ok(())
    }

    /// A pool: one entry per address up to `max`, or one without an address when its name
    /// gave none, and the pool's own track.
    fn add_pool(
        &mut self,
        r: ResolvedServer,
        found: Vec<SocketAddr>,
        max: usize,
    ) -> Result<(), StartError> {
        if self.pools.iter().any(|p| p.spec.text == r.spec.text) {
            return Ok(()); // the same pool twice: polled once
        }
        let taken: Vec<SocketAddr> = found.iter().copied().take(max.max(1)).collect();
        for a in &taken {
            self.config.check_address(&r.spec.text, *a)?;
        }
        let error = r.addresses.as_ref().err().cloned();
        let track = PoolTrack::new(&r.spec.text, max, self.start_mono, self.poll_ns, error);
        // Each address a server; a name that gave none one entry without an address.
        let addresses: Vec<Option<SocketAddr>> = if taken.is_empty() {
            vec![None]
        } else {
            taken.into_iter().map(Some).collect()
        };
        let pool = self.pools.len();
        for address in addresses {
            let state = self.state(&r.spec.text, address);
            self.push(Some(pool), r.spec.clone(), state, Vec::new());
        }
        self.pools.push(PoolEntry {
            spec: r.spec,
            track,
        });
        Ok(())
    }

    /// A plain server: one entry at the first address found (none if it did not resolve).
    fn add_plain(&mut self, r: ResolvedServer, found: Vec<SocketAddr>) -> Result<(), StartError> {
        let address = found.first().copied();
        if let Some(a) = address {
            self.config.check_address(&r.spec.text, a)?;
        }
        if self.entries.iter().any(|e| {
            e.pool.is_none()
                && e.spec.text == r.spec.text
                && e.state.address == address
                && address.is_some()
        }) {
            return Ok(()); // the same server twice: polled once
        }
        let state = self.state(&r.spec.text, address);
        self.push(None, r.spec, state, Vec::new());
        Ok(())
    }

    /// A new polling state for `server` at `address`.
    fn state(&self, server: &str, address: Option<SocketAddr>) -> ServerState {
        ServerState::new(
            server,
            address,
            self.poll_ns,
            self.max_poll_ns,
            self.config.window,
            self.start_mono,
        )
    }

    /// Adds an entry with the next id.
    fn push(
        &mut self,
        pool: Option<usize>,
        spec: ServerSpec,
        state: ServerState,
        ke_addresses: Vec<SocketAddr>,
    ) {
        self.entries.push(Entry {
            id: self.next_id,
            pool,
            spec,
            state,
            ke_addresses,
        });
        self.next_id += 1;
    }
}
