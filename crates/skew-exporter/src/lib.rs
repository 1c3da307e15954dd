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
//! Edges: `entries` (the server arguments resolved at start into the poller's entries),
//! [`poller`] (threads running the engine), [`local`]'s threads, [`http`] (hyper on
//! tokio), [`notify`] (systemd readiness), [`signals`] (waiting for SIGTERM/SIGINT).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod entries;
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
use skew_ntp_io::{LocalClock, SystemClock};
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
        let specs = entries::parse_specs(&config)?;
        let ke = match &config.nts {
            Some(o) if !config.nts_servers.is_empty() => Some(Arc::new(o.ke_config(&o.anchors()?))),
            _ => None,
        };
        let clock = SystemClock;
        let start_mono = clock.monotonic_ns();
        let (entries, pools) = entries::build(&config, specs, start_mono)?;
        let servers = entries
            .iter()
            .map(|e| (e.spec.text.clone(), e.state.address))
            .collect();
        let precision_ns = skew_ntp_io::clock::measure_precision_ns(&clock);
        let start_unix_s = clock.realtime_ns() as f64 / 1e9;
        let shared = shared_state(&config, precision_ns, start_unix_s);
        let http = http::HttpServer::start(config.listen, shared.clone()).map_err(|source| {
            StartError::Listen {
                addr: config.listen,
                source,
            }
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, woken) = std::sync::mpsc::channel();
        let poller = Poller {
            config: config.clone(),
            precision_ns,
            ke,
        };
        let mut threads = vec![spawn_poller(poller, entries, pools, &shared, &stop, woken)];
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

/// What the HTTP server and the threads share: empty views until the first poll, the
/// settings, the local precision, and the process's start time.
fn shared_state(
    config: &ExporterConfig,
    precision_ns: i64,
    start_unix_s: f64,
) -> Arc<http::Shared> {
    Arc::new(http::Shared {
        servers: Mutex::new(Arc::new(view::ServersView::default())),
        local: Arc::new(Mutex::new(Arc::new(local::LocalView::default()))),
        scrapes: Default::default(),
        probes: Default::default(),
        start_unix_s,
        config: config.clone(),
        precision_ns,
        pacing: Mutex::new(probe::Pacing::default()),
    })
}

/// Starts the thread polling `entries` and `pools` into `shared`'s servers view until
/// `stop` (`woken` wakes it early).
fn spawn_poller(
    poller: Poller,
    entries: Vec<Entry>,
    pools: Vec<PoolEntry>,
    shared: &Arc<http::Shared>,
    stop: &Arc<AtomicBool>,
    woken: std::sync::mpsc::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    let (shared, stop) = (shared.clone(), stop.clone());
    std::thread::Builder::new()
        .name("skew-poller".into())
        .spawn(move || poller.run(entries, pools, &shared.servers, &stop, woken))
        .expect("spawn the poller thread")
}
