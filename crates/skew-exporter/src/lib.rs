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
pub mod probe;
pub mod render;
pub mod server;
pub mod signals;
pub mod view;

pub use config::{ConfigError, ExporterConfig};

use poller::{Entry, Poller};
use server::ServerState;
use skew_ntp_io::target::{parse_server, resolve_all};
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
    /// The servers as polled: (server, address) after resolution at start.
    pub servers: Vec<(String, Option<std::net::SocketAddr>)>,
}

impl Exporter {
    /// Checks the settings, resolves the servers, binds the listening address and starts
    /// polling and serving. With a poll under 16 s every server must resolve now, to a
    /// loopback or private address.
    pub fn start(config: ExporterConfig) -> Result<Exporter, StartError> {
        config.check()?;
        let specs = config
            .servers
            .iter()
            .map(|s| parse_server(s).map_err(|e| StartError::Server(format!("{s}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let clock = SystemClock;
        let start_mono = clock.monotonic_ns();
        let poll_ns = skew_time::duration_ns(config.poll);
        let max_poll_ns = skew_time::duration_ns(config::MAX_POLL.max(config.poll));
        let mut entries: Vec<Entry> = Vec::new();
        for r in resolve_all(&specs, config.family, false, 16) {
            let address = match &r.addresses {
                Ok(a) => a.first().copied(),
                Err(_) => None,
            };
            match address {
                Some(a) => config.check_address(&r.spec.text, a)?,
                None if config.poll < config::MIN_PUBLIC_POLL => {
                    return Err(StartError::Server(format!(
                        "{}: {}; with --poll under {} s every server must resolve now, to a loopback or private address",
                        r.spec.text,
                        r.addresses.as_ref().err().cloned().unwrap_or_else(|| "no address".into()),
                        config::MIN_PUBLIC_POLL.as_secs()
                    )))
                }
                None => {}
            }
            if entries.iter().any(|e| {
                e.spec.text == r.spec.text && e.state.address == address && address.is_some()
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
                spec: r.spec,
                state,
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
        };
        {
            let (shared, stop) = (shared.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("skew-poller".into())
                    .spawn(move || poller.run(entries, &shared.servers, &stop, woken))
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
