//! `skew exporter`: a long-running, independent measurer that Prometheus scrapes.
//!
//! It polls each server every `--poll` (one sample per poll, through the probe engine's
//! validation and bounds), keeps a window of samples per server and computes chrony-like
//! sourcestats and the overlapping Allan deviation over it, takes the local clock readings
//! `skew monitor` takes, and serves `/metrics`, `/probe` (blackbox_exporter's multi-target
//! pattern), `/` and `/-/healthy`.
//!
//! Pure modules (`#![forbid(unsafe_code)]` crate-wide; no IO): [`config`] (rules of the
//! settings), [`server`] (one server's polling state: grid, reach, window, RATE back-off),
//! [`view`] (what a scrape reads, the agreement), [`render`] (the metrics text through
//! `skew-metrics`), [`probe`]'s query and pacing rules, and the value functions of [`local`].
//! Edges: [`poller`] (threads running the engine), [`local`]'s threads, [`http`] (hyper on
//! tokio), [`notify`] (systemd readiness), [`signals`] (waiting for SIGTERM/SIGINT).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod http;
pub mod local;
pub mod notify;
pub mod poller;
pub mod pool;
pub mod probe;
pub mod render;
pub mod server;
pub mod signals;
pub mod view;

pub use config::{ConfigError, ExporterConfig};

use poller::{Entry, Poller, PoolEntry};
use pool::PoolTrack;
use server::ServerState;
use skew_ntp::nts::keeper::{Keeper, KeeperPolicy};
use skew_ntp::nts::KeFacts;
use skew_ntp_io::target::{parse_server, resolve_all, ServerSpec};
use skew_ntp_io::{parse_nts_server, LocalClock, SystemClock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings are refused (a usage error).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A server argument is malformed (a usage error).
    #[error("{0}")]
    Server(String),
    /// A CA file for NTS cannot be used.
    #[error(transparent)]
    Trust(#[from] skew_nts_io::TrustError),
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running exporter.
#[derive(Debug)]
pub struct Exporter {
    http: http::HttpServer,
    stop: Arc<AtomicBool>,
    wake: std::sync::mpsc::Sender<()>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The servers as polled: (server, address) after resolution at start (a pool's
    /// addresses each, or the pool without an address when its name gave none).
    pub servers: Vec<(String, Option<std::net::SocketAddr>)>,
}

impl Exporter {
    /// Checks the settings, resolves the servers (an NTS server's name is its key exchange
    /// server's), loads the NTS trust anchors, binds the listening address and starts
    /// polling and serving. With a poll under 16 s every server must resolve now, to a
    /// loopback or private address (with `--nts-refresh` under an hour, every key exchange
    /// server too). A pool is each of its name's addresses, up to its `maxsources`.
    pub fn start(config: ExporterConfig) -> Result<Exporter, StartError> {
        config.check()?;
        let specs = config
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
            .collect::<Result<Vec<_>, _>>()?;
        let ke = match &config.nts {
            Some(o) if !config.nts_servers.is_empty() => Some(Arc::new(o.ke_config(&o.anchors()?))),
            _ => None,
        };
        let clock = SystemClock;
        let start_mono = clock.monotonic_ns();
        let poll_ns = skew_time::duration_ns(config.poll);
        let max_poll_ns = skew_time::duration_ns(config::MAX_POLL.max(config.poll));
        let policy = KeeperPolicy::for_poll(poll_ns, skew_time::duration_ns(config.nts_refresh));
        // Plain names resolve to the address polled (a pool's to up to its maxsources
        // addresses); NTS names to the key exchange server's addresses, tried in order.
        let (nts_specs, plain_specs): (Vec<ServerSpec>, Vec<ServerSpec>) =
            specs.into_iter().partition(|s| config.is_nts(&s.text));
        let mut nts_resolved = resolve_all(&nts_specs, config.family, true, 16).into_iter();
        let mut plain_resolved = resolve_all(&plain_specs, config.family, true, 16).into_iter();
        let mut entries: Vec<Entry> = Vec::new();
        let mut pools: Vec<PoolEntry> = Vec::new();
        let mut next_id = 0u64;
        let mut id = || {
            next_id += 1;
            next_id - 1
        };
        for s in &config.servers {
            let nts = config.is_nts(s);
            let r = if nts {
                nts_resolved.next()
            } else {
                plain_resolved.next()
            }
            .expect("one resolution per server");
            let found = r.addresses.as_ref().ok().cloned().unwrap_or_default();
            if found.is_empty() && config.poll < config::MIN_PUBLIC_POLL {
                return Err(StartError::Server(format!(
                    "{}: {}; with --poll under {} s every server must resolve now, to a loopback or private address",
                    r.spec.text,
                    r.addresses.as_ref().err().cloned().unwrap_or_else(|| "no address".into()),
                    config::MIN_PUBLIC_POLL.as_secs()
                )));
            }
            if nts {
                for a in &found {
                    config.check_ke_address(&r.spec.text, *a)?;
                }
                if entries
                    .iter()
                    .any(|e| e.spec.text == r.spec.text && e.state.nts.is_some())
                {
                    continue; // the same server twice: polled once
                }
                let facts = KeFacts {
                    ke_server: r.spec.host.clone(),
                    ke_port: r.spec.port,
                    ..KeFacts::default()
                };
                let state = ServerState::new(
                    &r.spec.text,
                    None,
                    poll_ns,
                    max_poll_ns,
                    config.window,
                    start_mono,
                )
                .with_nts(Keeper::new(policy, facts));
                entries.push(Entry {
                    id: id(),
                    pool: None,
                    spec: r.spec,
                    state,
                    ke_addresses: found,
                });
                continue;
            }
            if let Some(&max) = config.pools.get(&r.spec.text) {
                if pools.iter().any(|p| p.spec.text == r.spec.text) {
                    continue; // the same pool twice: polled once
                }
                let taken: Vec<std::net::SocketAddr> =
                    found.iter().copied().take(max.max(1)).collect();
                for a in &taken {
                    config.check_address(&r.spec.text, *a)?;
                }
                let error = r.addresses.as_ref().err().cloned();
                let track = PoolTrack::new(&r.spec.text, max, start_mono, poll_ns, error);
                // Each address a server; a name that gave none one entry without an address.
                let addresses: Vec<Option<std::net::SocketAddr>> = if taken.is_empty() {
                    vec![None]
                } else {
                    taken.into_iter().map(Some).collect()
                };
                for address in addresses {
                    let state = ServerState::new(
                        &r.spec.text,
                        address,
                        poll_ns,
                        max_poll_ns,
                        config.window,
                        start_mono,
                    );
                    entries.push(Entry {
                        id: id(),
                        pool: Some(pools.len()),
                        spec: r.spec.clone(),
                        state,
                        ke_addresses: Vec::new(),
                    });
                }
                pools.push(PoolEntry {
                    spec: r.spec,
                    track,
                });
                continue;
            }
            let address = found.first().copied();
            if let Some(a) = address {
                config.check_address(&r.spec.text, a)?;
            }
            if entries.iter().any(|e| {
                e.pool.is_none()
                    && e.spec.text == r.spec.text
                    && e.state.address == address
                    && address.is_some()
            }) {
                continue; // the same server twice: polled once
            }
            let state = ServerState::new(
                &r.spec.text,
                address,
                poll_ns,
                max_poll_ns,
                config.window,
                start_mono,
            );
            entries.push(Entry {
                id: id(),
                pool: None,
                spec: r.spec,
                state,
                ke_addresses: Vec::new(),
            });
        }
        let servers = entries
            .iter()
            .map(|e| (e.spec.text.clone(), e.state.address))
            .collect();
        let precision_ns = skew_ntp_io::clock::measure_precision_ns(&clock);
        let start_unix_s = clock.realtime_ns() as f64 / 1e9;
        let shared = Arc::new(http::Shared {
            servers: Mutex::new(Arc::new(view::ServersView::default())),
            local: Arc::new(Mutex::new(Arc::new(local::LocalView::default()))),
            scrapes: Default::default(),
            probes: Default::default(),
            start_unix_s,
            config: config.clone(),
            precision_ns,
            pacing: Mutex::new(probe::Pacing::default()),
        });
        let http = http::HttpServer::start(config.listen, shared.clone()).map_err(|source| {
            StartError::Listen {
                addr: config.listen,
                source,
            }
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, woken) = std::sync::mpsc::channel();
        let mut threads = Vec::new();
        let poller = Poller {
            config: config.clone(),
            precision_ns,
            ke,
        };
        {
            let (shared, stop) = (shared.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("skew-poller".into())
                    .spawn(move || poller.run(entries, pools, &shared.servers, &stop, woken))
                    .expect("spawn the poller thread"),
            );
        }
        let local_cfg = local::LocalConfig {
            interval: config.poll,
            clock: config.clock,
            leap: config.leap.clone(),
            pause_interval: config.pause_interval,
        };
        threads.extend(local::spawn(local_cfg, shared.local.clone(), stop.clone()));
        let _ = notify::notify("READY=1");
        Ok(Exporter {
            http,
            stop,
            wake,
            threads,
            servers,
        })
    }

    /// The address the HTTP server listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.http.local_addr
    }

    /// Stops serving and polling. Threads are given until `deadline` to end; one that has
    /// not (the clock thread sleeps up to 8 s between samples; an engine run may wait for a
    /// reply) ends on its own at its next wake-up, holding nothing but a socket or a clock.
    pub fn stop(self, deadline: Duration) {
        let _ = notify::notify("STOPPING=1");
        let t0 = std::time::Instant::now();
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.wake.send(());
        self.http.stop();
        for t in self.threads {
            while !t.is_finished() && t0.elapsed() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}
