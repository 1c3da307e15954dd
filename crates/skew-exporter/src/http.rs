//! The HTTP edge: hyper (HTTP/1.1) on a single-threaded tokio runtime of its own, so a scrape
//! never shares a thread with polling. Bad HTTP is hyper's to refuse (it parses and bounds
//! everything: a garbage request gets 400, over-long headers 431, both with the connection
//! closed); on top of it every connection has a header deadline and a lifetime, and the
//! connections and `/probe` requests served at once are capped, so slow or stuck clients
//! cost bounded memory and time.

use crate::config::ExporterConfig;
use crate::local::LocalView;
use crate::probe::{parse_query, run_probe, Pacing};
use crate::render::{metrics_text, ExporterCounts};
use crate::view::ServersView;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A client must send a whole request head within this.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection is closed after this, whatever it is doing.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 64;
/// Largest request head accepted, bytes (hyper's minimum buffer).
pub const MAX_HEAD_BYTES: usize = 8192;

/// What the handlers read.
#[derive(Debug)]
pub struct Shared {
    /// The servers' view (swapped whole by the poller).
    pub servers: Mutex<Arc<ServersView>>,
    /// The local view (swapped whole by the local threads).
    pub local: Arc<Mutex<Arc<LocalView>>>,
    /// `/metrics` requests served.
    pub scrapes: AtomicU64,
    /// `/probe` requests answered.
    pub probes: AtomicU64,
    /// When the exporter started, Unix s.
    pub start_unix_s: f64,
    /// The configuration (for `/probe`).
    pub config: ExporterConfig,
    /// The local clock's precision, ns.
    pub precision_ns: i64,
    /// `/probe` pacing per public address.
    pub pacing: Mutex<Pacing>,
}

const INDEX: &str = "<!DOCTYPE html>\n<html><head><title>skew exporter</title></head><body>\n\
<h1>skew exporter</h1>\n<p>Continuous NTP measurement for Prometheus.</p>\n<ul>\n\
<li><a href=\"/metrics\">/metrics</a>: every server polled, sourcestats, Allan deviation, the agreement, the local clock</li>\n\
<li><a href=\"/probe?target=127.0.0.1:123\">/probe?target=HOST[:PORT]&amp;samples=N</a>: one probe now (the multi-target pattern of blackbox_exporter)</li>\n\
<li><a href=\"/-/healthy\">/-/healthy</a></li>\n</ul>\n</body></html>\n";

fn reply(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

const TEXT: &str = "text/plain; charset=utf-8";

fn monotonic_ns() -> i64 {
    use skew_ntp_io::LocalClock;
    skew_ntp_io::SystemClock.monotonic_ns()
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    probes: Arc<tokio::sync::Semaphore>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(405, TEXT, "only GET and HEAD\n"));
    }
    let resp = match req.uri().path() {
        "/" => reply(200, "text/html; charset=utf-8", INDEX),
        "/-/healthy" => reply(200, TEXT, "Healthy\n"),
        "/metrics" => {
            let scrapes = shared.scrapes.fetch_add(1, Ordering::Relaxed) + 1;
            let servers = shared
                .servers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let local = shared
                .local
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let counts = ExporterCounts {
                scrapes,
                probes: shared.probes.load(Ordering::Relaxed),
                start_unix_s: shared.start_unix_s,
            };
            let now = monotonic_ns();
            let render = move || metrics_text(&servers, &servers.text, &local, &counts, now);
            match tokio::task::spawn_blocking(render).await {
                Ok(text) => reply(200, skew_metrics::CONTENT_TYPE, text),
                Err(_) => reply(500, TEXT, "the metrics could not be rendered\n"),
            }
        }
        "/probe" => {
            let query = match parse_query(req.uri().query()) {
                Ok(q) => q,
                Err(r) => return Ok(reply(r.status, TEXT, format!("{}\n", r.message))),
            };
            let Ok(permit) = probes.try_acquire_owned() else {
                return Ok(reply(
                    503,
                    TEXT,
                    "too many /probe requests at once; try again\n",
                ));
            };
            let scrape_timeout = req
                .headers()
                .get("x-prometheus-scrape-timeout-seconds")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            let s = shared.clone();
            let result = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                run_probe(&query, &s.config, s.precision_ns, &s.pacing, scrape_timeout)
            })
            .await;
            match result {
                Ok(Ok(text)) => {
                    shared.probes.fetch_add(1, Ordering::Relaxed);
                    reply(200, skew_metrics::CONTENT_TYPE, text)
                }
                Ok(Err(r)) => reply(r.status, TEXT, format!("{}\n", r.message)),
                Err(_) => reply(500, TEXT, "the probe failed\n"),
            }
        }
        _ => reply(404, TEXT, "not found: see /\n"),
    };
    Ok(resp)
}

/// The HTTP server, running on its own thread.
#[derive(Debug)]
pub struct HttpServer {
    /// The address bound.
    pub local_addr: std::net::SocketAddr,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `addr` and starts serving on a thread of its own.
    pub fn start(addr: std::net::SocketAddr, shared: Arc<Shared>) -> std::io::Result<HttpServer> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let local_addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .max_blocking_threads(2 * shared.config.max_concurrent_probes + 4)
            .build()?;
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("skew-http".into())
            .spawn(move || {
                runtime.block_on(serve(std_listener, shared, stop2));
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(HttpServer {
            local_addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops accepting, drops the connections and waits for the thread (at most about
    /// 0.5 s).
    pub fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    std_listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: Arc<tokio::sync::Notify>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
        return;
    };
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let probes = Arc::new(tokio::sync::Semaphore::new(
        shared.config.max_concurrent_probes,
    ));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(64)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            _ = stop.notified() => break,
            a = listener.accept() => a,
        };
        let Ok((stream, _peer)) = accepted else {
            // Out of descriptors or similar: do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream); // over the cap: closed at once
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn_builder = builder.clone();
        let (shared, probes) = (shared.clone(), probes.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let service =
                hyper::service::service_fn(move |req| handle(req, shared.clone(), probes.clone()));
            let conn = conn_builder.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
}
