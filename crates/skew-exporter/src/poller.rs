//! The poller thread: starts an engine run (`skew_ntp_io::run_probes`, one sample per server)
//! for the servers due on the grid, each run on a thread of its own so a dead server's
//! timeout never holds back the next servers due, applies the results, and publishes a new
//! view after each run.

use crate::config::ExporterConfig;
use crate::server::{PollTimes, ServerState};
use crate::view::{build, ServersView};
use skew_ntp::{ProbeConfig, ServerResult, Status};
use skew_ntp_io::target::{resolve, ServerSpec};
use skew_ntp_io::{run_probes, EngineConfig, LocalClock, SystemClock, Target};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Engine runs allowed at once; more servers due wait for one to end.
const MAX_RUNS: usize = 8;
/// Longest sleep of the poller (it wakes up earlier when a server is due, a run ends or a
/// stop is asked for).
const MAX_WAIT_NS: i64 = 3_600_000_000_000;

/// A server to poll: how it was given, and its state.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The parsed argument (resolved again while it has no address).
    pub spec: ServerSpec,
    /// The polling state.
    pub state: ServerState,
}

type Job = Box<dyn FnOnce() + Send>;

/// Worker threads for engine runs, started as needed (up to [`MAX_RUNS`]) and kept: a run
/// every second at short polls does not create a thread every second.
struct Pool {
    jobs: Sender<Job>,
    queue: Arc<Mutex<Receiver<Job>>>,
    workers: usize,
}

impl Pool {
    fn new() -> Pool {
        let (jobs, queue) = channel::<Job>();
        Pool {
            jobs,
            queue: Arc::new(Mutex::new(queue)),
            workers: 0,
        }
    }

    /// Queues `job`, starting a worker first when the `busy` ones are all there are.
    fn submit(&mut self, job: Job, busy: usize) -> bool {
        if busy >= self.workers {
            let queue = self.queue.clone();
            let started =
                std::thread::Builder::new()
                    .name("skew-poll".into())
                    .spawn(move || loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(job) => job(),
                            Err(_) => return, // the poller ended
                        }
                    });
            if started.is_err() {
                return false;
            }
            self.workers += 1;
        }
        self.jobs.send(job).is_ok()
    }
}

enum Event {
    Done(Done),
    Wake,
}

struct Done {
    polls: Vec<(usize, i64)>,
    start_mono_ns: i64,
    start_unix_ns: i64,
    results: Vec<ServerResult>,
    resolved: Vec<(usize, Result<SocketAddr, String>)>,
}

/// The poller's settings.
#[derive(Debug, Clone)]
pub struct Poller {
    /// The exporter's configuration.
    pub config: ExporterConfig,
    /// The local clock's reading precision, ns (measured once).
    pub precision_ns: i64,
}

impl Poller {
    fn engine(&self) -> EngineConfig {
        let mut probe = ProbeConfig {
            samples: 1,
            interval_ns: skew_time::duration_ns(self.config.poll),
            timeout_ns: skew_time::duration_ns(self.config.timeout),
            ..ProbeConfig::default()
        };
        probe.bounds.local_precision_ns = self.precision_ns;
        probe.bounds.max_drift_ppm = self.config.max_drift_ppm;
        EngineConfig {
            probe,
            max_inflight: skew_ntp_io::DEFAULT_MAX_INFLIGHT,
        }
    }

    /// Runs until `stop` is set, publishing views into `view`. A message on `wake` (or its
    /// closing) ends any wait at once, so a stop is prompt without periodic wake-ups.
    pub fn run(
        &self,
        mut entries: Vec<Entry>,
        view: &Mutex<Arc<ServersView>>,
        stop: &AtomicBool,
        wake: Receiver<()>,
    ) {
        let clock = SystemClock;
        let (tx, rx): (Sender<Event>, Receiver<Event>) = channel();
        let mut pool = Pool::new();
        {
            let tx = tx.clone();
            let _ = std::thread::Builder::new()
                .name("skew-poll-wake".into())
                .spawn(move || {
                    let _ = wake.recv();
                    let _ = tx.send(Event::Wake);
                });
        }
        let mut runs = 0usize;
        let timeout_ns = skew_time::duration_ns(self.config.timeout);
        while !stop.load(Ordering::Relaxed) {
            let now = clock.monotonic_ns();
            if runs < MAX_RUNS {
                let due: Vec<(usize, i64)> = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.state.due(now))
                    .map(|(i, e)| (i, e.state.next_due_mono_ns))
                    .collect();
                if !due.is_empty() {
                    for &(i, _) in &due {
                        entries[i].state.start_poll();
                    }
                    if self.start_run(&mut pool, runs, &entries, due.clone(), tx.clone()) {
                        runs += 1;
                    } else {
                        // No thread to run it on (resources exhausted): try again later.
                        for &(i, _) in &due {
                            entries[i].state.in_flight = false;
                        }
                    }
                }
            }
            let next_due = entries
                .iter()
                .filter(|e| e.state.stopped.is_none() && !e.state.in_flight)
                .map(|e| e.state.next_due_mono_ns)
                .min();
            // Sleep until the next server is due or a run ends (the engine bounds every run
            // by the timeout).
            let wait_ns = next_due
                .map_or(MAX_WAIT_NS, |d| d - clock.monotonic_ns())
                .clamp(0, MAX_WAIT_NS);
            let wait = if runs >= MAX_RUNS {
                MAX_WAIT_NS
            } else {
                wait_ns
            };
            match rx.recv_timeout(Duration::from_nanos(wait as u64)) {
                Ok(Event::Wake) => break,
                Ok(Event::Done(done)) => {
                    runs -= 1;
                    self.apply(&mut entries, done, timeout_ns);
                    // Take every other run that ended meanwhile before publishing.
                    while let Ok(Event::Done(done)) = rx.try_recv() {
                        runs -= 1;
                        self.apply(&mut entries, done, timeout_ns);
                    }
                    let states: Vec<ServerState> =
                        entries.iter().map(|e| e.state.clone()).collect();
                    let v = build(
                        &states,
                        clock.monotonic_ns(),
                        self.precision_ns,
                        self.config.min_agree,
                        self.config.max_drift_ppm,
                    );
                    *view.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(v);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// Starts an engine run for `polls` on a worker of the pool (a new worker when all are
    /// busy, up to [`MAX_RUNS`]); false when no worker could be started.
    fn start_run(
        &self,
        pool: &mut Pool,
        busy: usize,
        entries: &[Entry],
        polls: Vec<(usize, i64)>,
        tx: Sender<Event>,
    ) -> bool {
        let work: Vec<(usize, ServerSpec, Option<SocketAddr>)> = polls
            .iter()
            .map(|&(i, _)| (i, entries[i].spec.clone(), entries[i].state.address))
            .collect();
        let engine = self.engine();
        let family = self.config.family;
        let job: Job = Box::new(move || {
            let clock = SystemClock;
            let start_mono_ns = clock.monotonic_ns();
            let start_unix_ns = clock.realtime_ns();
            // Names that did not resolve yet are tried again, here, off the poller.
            let mut resolved = Vec::new();
            let mut targets = Vec::new();
            let mut slots = Vec::new();
            for (i, spec, addr) in &work {
                let addr = match addr {
                    Some(a) => Some(*a),
                    None => {
                        let r = resolve(spec, family, false)
                            .addresses
                            .and_then(|a| a.first().copied().ok_or_else(|| "no address".into()));
                        resolved.push((*i, r.clone()));
                        r.ok()
                    }
                };
                if let Some(a) = addr {
                    targets.push(Target::plain(&spec.text, a));
                    slots.push(Some(targets.len() - 1));
                } else {
                    slots.push(None);
                }
            }
            let (probed, _) = run_probes(&targets, &engine, &clock);
            let results = work
                .iter()
                .zip(&slots)
                .map(|((i, spec, _), slot)| match slot {
                    Some(t) => probed[*t].clone(),
                    None => {
                        let why = resolved
                            .iter()
                            .find(|(j, _)| j == i)
                            .and_then(|(_, r)| r.clone().err())
                            .unwrap_or_else(|| "unresolved".into());
                        ServerResult::failed(&spec.text, None, Status::Unresolved, why)
                    }
                })
                .collect();
            let _ = tx.send(Event::Done(Done {
                polls,
                start_mono_ns,
                start_unix_ns,
                results,
                resolved,
            }));
        });
        pool.submit(job, busy)
    }

    fn apply(&self, entries: &mut [Entry], done: Done, timeout_ns: i64) {
        for (i, r) in &done.resolved {
            if let Ok(a) = r {
                let e = &mut entries[*i];
                e.state.address = Some(*a);
                if let Err(why) = self.config.check_address(&e.spec.text, *a) {
                    e.state.stopped = Some(why.to_string());
                }
            }
        }
        for ((i, due), result) in done.polls.into_iter().zip(done.results) {
            let times = PollTimes {
                due_mono_ns: due,
                start_mono_ns: done.start_mono_ns,
                start_unix_ns: done.start_unix_ns,
            };
            entries[i].state.apply(result, times, timeout_ns);
        }
    }
}
