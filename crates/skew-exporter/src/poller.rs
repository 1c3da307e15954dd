//! The poller thread: starts an engine run (one sample per server) for the servers due on the
//! grid, each run on a thread of its own so a dead server's timeout never holds back the
//! next servers due, applies the results, and publishes a new view after each run.
//!
//! NTS servers keep their session across runs (`skew_ntp::nts::keeper` decides when to run a
//! key exchange): a server whose session is usable is polled in the shared run with it, and
//! the session comes back with the cookies its reply brought; a server due for a key exchange
//! gets a run of its own (the exchange, then its poll), so a slow or dead key exchange server
//! delays nobody else; a server without a session whose next key exchange is not yet allowed
//! is not polled at all (never in plain NTP) and its poll is recorded as failed at once.
//!
//! A pool is several servers, one per address, and its name is resolved again (on a worker,
//! like a run) while it lacks addresses or has one that stopped answering; [`crate::pool`]
//! decides which addresses to add and retire, and a retired address's series leave the view.
//! Entries are known by an id that never changes, so a run's results still find their
//! servers after a pool changed the list (and those of a retired address are dropped).

use crate::config::{self, ExporterConfig};
use crate::pool::{decide, wants_addresses, Member, PoolTrack};
use crate::server::{PollTimes, ServerState};
use crate::view::{build, ServersView};
use skew_ntp::nts::keeper::{KeOutcome, Trigger};
use skew_ntp::nts::{KeFacts, NtsReport, NtsSession};
use skew_ntp::{ProbeConfig, Security, ServerResult, Status};
use skew_ntp_io::target::{resolve, ServerSpec};
use skew_ntp_io::{
    establish, run_probes_keeping_sessions, EngineConfig, LocalClock, SystemClock, Target,
};
use skew_nts_io::KeConfig;
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
    /// Its identity for the poller's whole life (positions change when a pool does).
    pub id: u64,
    /// The pool it is an address of (an index into the poller's pools). A pool whose name
    /// gave no address has one entry without an address, which is never polled.
    pub pool: Option<usize>,
    /// The parsed argument (resolved again while it has no address). For an NTS server,
    /// the key exchange server (port 4460 unless given).
    pub spec: ServerSpec,
    /// The polling state (NTS servers: with their keeper; the address is the NTP server's,
    /// named by the key exchange).
    pub state: ServerState,
    /// NTS servers: the key exchange server's addresses, tried in order (empty until the
    /// name resolves).
    pub ke_addresses: Vec<SocketAddr>,
}

/// A pool: its name as given and its resolutions.
#[derive(Debug, Clone)]
pub struct PoolEntry {
    /// The pool's name (and port), resolved again while it lacks addresses.
    pub spec: ServerSpec,
    /// When to resolve it again.
    pub track: PoolTrack,
}

/// The addresses of pool `pool` among `entries`, as its decisions see them.
fn members_of(entries: &[Entry], pool: usize) -> Vec<Member> {
    entries
        .iter()
        .filter(|e| e.pool == Some(pool))
        .filter_map(|e| {
            Some(Member {
                address: e.state.address?,
                polls: e.state.polls,
                reach: e.state.reach,
                stopped: e.state.stopped.is_some(),
            })
        })
        .collect()
}

/// The position of the entry `id` (looked for at `hint` first).
fn position(entries: &[Entry], id: u64, hint: usize) -> Option<usize> {
    match entries.get(hint) {
        Some(e) if e.id == id => Some(hint),
        _ => entries.iter().position(|e| e.id == id),
    }
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
    Done(Vec<Polled>),
    /// A pool's name resolved again: the pool, and every address it gave (or why none).
    Resolved(usize, Result<Vec<SocketAddr>, String>),
    Wake,
}

/// One server's part of a run, as the poller hands it to a worker.
struct Work {
    id: u64,
    index: usize,
    due_mono_ns: i64,
    spec: ServerSpec,
    address: Option<SocketAddr>,
    nts: bool,
    /// Plain, or NTS with a copy of the keeper's session (none when it has none).
    security: Security,
    /// NTS: the key exchange to run first, and the key exchange server's addresses.
    ke: Option<(Trigger, Vec<SocketAddr>)>,
}

/// A key exchange a run made.
struct KeDone {
    trigger: Trigger,
    outcome: KeOutcome,
    /// When it started, monotonic and Unix ns.
    at_mono_ns: i64,
    at_unix_ns: i64,
    /// The NTP server's address it named (on success).
    address: Option<SocketAddr>,
}

/// What a run did for one server.
struct Polled {
    id: u64,
    index: usize,
    due_mono_ns: i64,
    /// When its engine run started (after its key exchange, if any), monotonic and Unix ns.
    start_mono_ns: i64,
    start_unix_ns: i64,
    /// The result (None: no request could be made, an NTS server without a session).
    result: Option<ServerResult>,
    /// A plain server's name, resolved in this run.
    resolved: Option<Result<SocketAddr, String>>,
    /// An NTS server's key exchange addresses, resolved in this run.
    ke_resolved: Option<Vec<SocketAddr>>,
    /// The key exchange made first.
    ke: Option<KeDone>,
    /// Why the server may not be polled any more (an address refused under a short poll
    /// or refresh).
    refused: Option<String>,
    /// NTS: the session as the poll left it.
    session: Option<NtsSession>,
}

/// The poller's settings.
#[derive(Debug, Clone)]
pub struct Poller {
    /// The exporter's configuration.
    pub config: ExporterConfig,
    /// The local clock's reading precision, ns (measured once).
    pub precision_ns: i64,
    /// How to run key exchanges (with NTS servers).
    pub ke: Option<Arc<KeConfig>>,
}

/// A failed result for an NTS server, with its key exchange's facts.
fn nts_failed(
    server: &str,
    address: Option<SocketAddr>,
    status: Status,
    error: String,
    facts: KeFacts,
) -> ServerResult {
    let mut r = ServerResult::failed(server, address, status, error);
    r.nts = Some(NtsReport {
        ke: facts,
        authenticated: false,
        dropped_unauthenticated: 0,
    });
    r
}

/// The result of a poll that could not be made: a pool whose name gave no address, or an
/// NTS server without a session.
fn unpolled_result(e: &Entry, pools: &[PoolEntry], now_mono_ns: i64) -> ServerResult {
    match e.pool.and_then(|p| pools.get(p)) {
        Some(p) if e.state.address.is_none() => ServerResult::failed(
            &e.spec.text,
            None,
            Status::Unresolved,
            p.track
                .last_error
                .clone()
                .unwrap_or_else(|| "no address".into()),
        ),
        _ => no_session_result(e, now_mono_ns),
    }
}

/// The result of a poll that could not be made: an NTS server without a session.
fn no_session_result(e: &Entry, now_mono_ns: i64) -> ServerResult {
    match &e.state.nts {
        Some(k) => {
            let (status, why) = k.no_session(now_mono_ns);
            nts_failed(
                &e.spec.text,
                e.state.address,
                status,
                why,
                k.facts().clone(),
            )
        }
        None => ServerResult::failed(
            &e.spec.text,
            e.state.address,
            Status::Unreachable,
            "no request could be made".into(),
        ),
    }
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

    /// Sorts the servers due at `now_mono_ns` into the shared run, runs of their own (NTS
    /// servers due for a key exchange) and polls that cannot be made (NTS servers without
    /// a session, waiting for their next key exchange; a pool whose name gave no address,
    /// resolved again by the pool's own schedule).
    fn due_work(
        &self,
        entries: &mut [Entry],
        now_mono_ns: i64,
    ) -> (Vec<Work>, Vec<Work>, Vec<usize>) {
        let (mut shared, mut own, mut none) = (Vec::new(), Vec::new(), Vec::new());
        for (index, e) in entries.iter_mut().enumerate() {
            if !e.state.due(now_mono_ns) {
                continue;
            }
            if e.pool.is_some() && e.state.address.is_none() {
                none.push(index);
                continue;
            }
            let mut w = Work {
                id: e.id,
                index,
                due_mono_ns: e.state.next_due_mono_ns,
                spec: e.spec.clone(),
                address: e.state.address,
                nts: e.state.nts.is_some(),
                security: Security::Plain,
                ke: None,
            };
            let Some(k) = e.state.nts.as_mut() else {
                shared.push(w);
                continue;
            };
            if let Some(s) = k.session() {
                w.security = Security::Nts(Box::new(s.clone()));
            }
            match k.key_exchange_due(now_mono_ns) {
                Some(t) => {
                    w.ke = Some((t, e.ke_addresses.clone()));
                    own.push(w);
                }
                None if w.security.is_nts() && w.address.is_some() => shared.push(w),
                None => none.push(index),
            }
        }
        (shared, own, none)
    }

    /// Publishes a new view of `entries`.
    fn publish(&self, entries: &[Entry], view: &Mutex<Arc<ServersView>>, now_mono_ns: i64) {
        let states: Vec<&ServerState> = entries.iter().map(|e| &e.state).collect();
        let v = build(
            &states,
            now_mono_ns,
            self.precision_ns,
            self.config.min_agree,
            self.config.max_drift_ppm,
        );
        *view.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(v);
    }

    /// Runs until `stop` is set, publishing views into `view`. A message on `wake` (or its
    /// closing) ends any wait at once, so a stop is prompt without periodic wake-ups.
    /// `pools` are the pools among `entries` (each entry's `pool` indexes them).
    pub fn run(
        &self,
        mut entries: Vec<Entry>,
        mut pools: Vec<PoolEntry>,
        view: &Mutex<Arc<ServersView>>,
        stop: &AtomicBool,
        wake: Receiver<()>,
    ) {
        let clock = SystemClock;
        let (tx, rx): (Sender<Event>, Receiver<Event>) = channel();
        let mut workers = Pool::new();
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
        let mut next_id = entries.iter().map(|e| e.id + 1).max().unwrap_or(0);
        let timeout_ns = skew_time::duration_ns(self.config.timeout);
        while !stop.load(Ordering::Relaxed) {
            let now = clock.monotonic_ns();
            if runs < MAX_RUNS {
                let (shared, own, none) = self.due_work(&mut entries, now);
                if !none.is_empty() {
                    let unix = clock.realtime_ns();
                    for i in none {
                        let r = unpolled_result(&entries[i], &pools, now);
                        let e = &mut entries[i];
                        let times = PollTimes {
                            due_mono_ns: e.state.next_due_mono_ns,
                            start_mono_ns: now,
                            start_unix_ns: unix,
                        };
                        e.state.start_poll();
                        e.state.apply(r, times, timeout_ns);
                    }
                    self.publish(&entries, view, now);
                }
                // The shared run first, then each key exchange in a run of its own; what
                // does not fit under MAX_RUNS stays due and starts when a run ends.
                let runs_wanted = std::iter::once(shared)
                    .filter(|w| !w.is_empty())
                    .chain(own.into_iter().map(|w| vec![w]));
                for work in runs_wanted {
                    if runs >= MAX_RUNS {
                        break;
                    }
                    let indices: Vec<usize> = work.iter().map(|w| w.index).collect();
                    for &i in &indices {
                        entries[i].state.start_poll();
                    }
                    if self.start_run(&mut workers, runs, work, tx.clone()) {
                        runs += 1;
                    } else {
                        // No thread to run it on (resources exhausted): try again later.
                        for &i in &indices {
                            entries[i].state.in_flight = false;
                        }
                        break;
                    }
                }
                // Pools that want addresses, resolved on a worker as a run is.
                for (i, p) in pools.iter_mut().enumerate() {
                    if runs >= MAX_RUNS {
                        break;
                    }
                    if !p.track.due(now, &members_of(&entries, i)) {
                        continue;
                    }
                    p.track.resolving = true;
                    if self.start_resolution(&mut workers, runs, i, p.spec.clone(), tx.clone()) {
                        runs += 1;
                    } else {
                        p.track.resolving = false;
                        break;
                    }
                }
            }
            let next_due = entries
                .iter()
                .filter(|e| e.state.stopped.is_none() && !e.state.in_flight)
                .map(|e| e.state.next_due_mono_ns);
            let next_resolution = pools
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    !p.track.resolving
                        && wants_addresses(&members_of(&entries, *i), p.track.max_sources)
                })
                .map(|(_, p)| p.track.next_resolve_mono_ns);
            // Sleep until the next server or pool is due or a run ends (the engine bounds
            // every run by the timeout, the key exchange by its deadline).
            let wait_ns = next_due
                .chain(next_resolution)
                .min()
                .map_or(MAX_WAIT_NS, |d| d - clock.monotonic_ns())
                .clamp(0, MAX_WAIT_NS);
            let wait = if runs >= MAX_RUNS {
                MAX_WAIT_NS
            } else {
                wait_ns
            };
            let mut event = match rx.recv_timeout(Duration::from_nanos(wait as u64)) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            // This event and every other that came meanwhile, then one view.
            loop {
                match event {
                    Event::Wake => return,
                    Event::Done(done) => {
                        runs -= 1;
                        self.apply(&mut entries, &pools, done, timeout_ns);
                    }
                    Event::Resolved(pool, found) => {
                        runs -= 1;
                        let now = clock.monotonic_ns();
                        self.resolved(&mut entries, &mut pools, pool, found, now, &mut next_id);
                    }
                }
                match rx.try_recv() {
                    Ok(e) => event = e,
                    Err(_) => break,
                }
            }
            self.publish(&entries, view, clock.monotonic_ns());
        }
    }

    /// Starts resolving pool `pool`'s name (`spec`) on a worker; false when no worker could
    /// be started.
    fn start_resolution(
        &self,
        workers: &mut Pool,
        busy: usize,
        pool: usize,
        spec: ServerSpec,
        tx: Sender<Event>,
    ) -> bool {
        let family = self.config.family;
        let job: Job = Box::new(move || {
            let found = resolve(&spec, family, true).addresses;
            let _ = tx.send(Event::Resolved(pool, found));
        });
        workers.submit(job, busy)
    }

    /// Applies a resolution of pool `pool` made at `now_mono_ns`: the addresses
    /// [`crate::pool::decide`] retires leave `entries` (and with them their series), the
    /// ones it adds join them after the pool's other addresses, due with them on the grid.
    /// A pool left without any address keeps one entry without an address, which says why.
    fn resolved(
        &self,
        entries: &mut Vec<Entry>,
        pools: &mut [PoolEntry],
        pool: usize,
        found: Result<Vec<SocketAddr>, String>,
        now_mono_ns: i64,
        next_id: &mut u64,
    ) {
        let Some(p) = pools.get_mut(pool) else { return };
        let poll_ns = skew_time::duration_ns(self.config.poll);
        let found = match found {
            Ok(found) => found,
            Err(why) => {
                // Nothing known about the name: nothing changes.
                p.track.resolved(now_mono_ns, poll_ns, Some(why));
                return;
            }
        };
        let mut refused = None;
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| match self.config.check_address(&p.track.name, *a) {
                Ok(()) => true,
                Err(why) => {
                    refused.get_or_insert(why.to_string());
                    false
                }
            })
            .collect();
        let error = allowed.is_empty().then(|| refused.unwrap_or_default());
        p.track.resolved(now_mono_ns, poll_ns, error);
        let change = decide(&members_of(entries, pool), &allowed, p.track.max_sources);
        let mine = |e: &Entry| e.pool == Some(pool);
        let due_of = |entries: &[Entry]| {
            entries
                .iter()
                .filter(|e| mine(e))
                .map(|e| e.state.next_due_mono_ns)
                .min()
        };
        let due_before = due_of(entries);
        let mut at = entries
            .iter()
            .rposition(mine)
            .map_or(entries.len(), |i| i + 1);
        let before = entries.len();
        entries.retain(|e| {
            let retired = e
                .state
                .address
                .map_or(!change.add.is_empty(), |a| change.retire.contains(&a));
            !(mine(e) && retired)
        });
        at -= before - entries.len();
        // New addresses are due with the pool's others (on the grid), or at once.
        let due = due_of(entries).or(due_before).unwrap_or(now_mono_ns);
        let max_poll_ns = skew_time::duration_ns(config::MAX_POLL.max(self.config.poll));
        // Nothing left: one entry without an address says why.
        let placeholder = (!entries.iter().any(mine) && change.add.is_empty()).then_some(None);
        let mut fresh: Vec<Entry> = change
            .add
            .iter()
            .map(|a| Some(*a))
            .chain(placeholder)
            .map(|address| {
                *next_id += 1;
                Entry {
                    id: *next_id - 1,
                    pool: Some(pool),
                    spec: p.spec.clone(),
                    state: ServerState::new(
                        &p.spec.text,
                        address,
                        poll_ns,
                        max_poll_ns,
                        self.config.window,
                        due,
                    ),
                    ke_addresses: Vec::new(),
                }
            })
            .collect();
        let tail = entries.split_off(at.min(entries.len()));
        entries.append(&mut fresh);
        entries.extend(tail);
    }

    /// Starts an engine run for `work` on a worker of the pool (a new worker when all are
    /// busy, up to [`MAX_RUNS`]); false when no worker could be started.
    fn start_run(&self, pool: &mut Pool, busy: usize, work: Vec<Work>, tx: Sender<Event>) -> bool {
        let engine = self.engine();
        let config = self.config.clone();
        let ke_config = self.ke.clone();
        let job: Job = Box::new(move || {
            let polled = run_work(work, &config, ke_config.as_deref(), &engine);
            let _ = tx.send(Event::Done(polled));
        });
        pool.submit(job, busy)
    }

    fn apply(
        &self,
        entries: &mut [Entry],
        pools: &[PoolEntry],
        done: Vec<Polled>,
        timeout_ns: i64,
    ) {
        for p in done {
            // A retired pool address's last poll is dropped with it.
            let Some(i) = position(entries, p.id, p.index) else {
                continue;
            };
            let e = &mut entries[i];
            if let Some(Ok(a)) = &p.resolved {
                e.state.address = Some(*a);
                if let Err(why) = self.config.check_address(&e.spec.text, *a) {
                    e.state.stopped = Some(why.to_string());
                }
            }
            if let Some(a) = p.ke_resolved {
                e.ke_addresses = a;
            }
            if let Some(ke) = p.ke {
                if let Some(k) = e.state.nts.as_mut() {
                    k.ke_done(ke.trigger, ke.outcome, ke.at_mono_ns, ke.at_unix_ns);
                }
                if let Some(a) = ke.address {
                    e.state.set_address(a);
                }
            }
            if let Some(why) = p.refused {
                e.state.stopped = Some(why);
            }
            if let (Some(k), Some(s)) = (e.state.nts.as_mut(), p.session) {
                let dropped = p
                    .result
                    .as_ref()
                    .and_then(|r| r.counters.dropped.get("unauthenticated").copied())
                    .unwrap_or(0);
                k.after_poll(s, dropped);
            }
            let result = match p.result {
                Some(r) => r,
                None => unpolled_result(e, pools, p.start_mono_ns),
            };
            let times = PollTimes {
                due_mono_ns: p.due_mono_ns,
                start_mono_ns: p.start_mono_ns,
                start_unix_ns: p.start_unix_ns,
            };
            e.state.apply(result, times, timeout_ns);
        }
    }
}

/// A run, on a worker: key exchanges first (a run with one holds only that server), names
/// that did not resolve yet, then one engine run for every server that can be polled.
fn run_work(
    work: Vec<Work>,
    config: &ExporterConfig,
    ke_config: Option<&KeConfig>,
    engine: &EngineConfig,
) -> Vec<Polled> {
    let clock = SystemClock;
    let mut polled = Vec::with_capacity(work.len());
    let mut targets = Vec::new();
    let mut slots = Vec::with_capacity(work.len());
    for w in work {
        let mut p = Polled {
            id: w.id,
            index: w.index,
            due_mono_ns: w.due_mono_ns,
            start_mono_ns: 0,
            start_unix_ns: 0,
            result: None,
            resolved: None,
            ke_resolved: None,
            ke: None,
            refused: None,
            session: None,
        };
        let target = prepare(w, &mut p, config, ke_config, &clock);
        slots.push(target.map(|t| {
            targets.push(t);
            targets.len() - 1
        }));
        polled.push(p);
    }
    let start_mono_ns = clock.monotonic_ns();
    let start_unix_ns = clock.realtime_ns();
    let (probed, _, kept) = if targets.is_empty() {
        (Vec::new(), Default::default(), Vec::new())
    } else {
        run_probes_keeping_sessions(&targets, engine, &clock)
    };
    let mut probed: Vec<Option<ServerResult>> = probed.into_iter().map(Some).collect();
    let mut kept: Vec<Security> = kept;
    for (p, slot) in polled.iter_mut().zip(slots) {
        p.start_mono_ns = start_mono_ns;
        p.start_unix_ns = start_unix_ns;
        let Some(t) = slot else { continue };
        p.result = probed.get_mut(t).and_then(Option::take);
        if let Some(Security::Nts(s)) = kept.get_mut(t).map(std::mem::take) {
            p.session = Some(*s);
        }
    }
    polled
}

/// What to poll for `w`, after its key exchange or name resolution (recorded in `p`); None
/// when it cannot be polled (`p.result` then says why, or is left to the poller: an NTS
/// server without a session). Never a plain target for an NTS server.
fn prepare(
    w: Work,
    p: &mut Polled,
    config: &ExporterConfig,
    ke_config: Option<&KeConfig>,
    clock: &dyn LocalClock,
) -> Option<Target> {
    let (mut address, mut security) = (w.address, w.security);
    if let Some((trigger, addresses)) = w.ke {
        let (a, s) = key_exchange(&w.spec, trigger, addresses, p, config, ke_config, clock)?;
        (address, security) = (a.or(address), s.unwrap_or(security));
    } else if !w.nts && address.is_none() {
        // A plain name that did not resolve yet is tried again, here, off the poller.
        let r = resolve(&w.spec, config.family, false)
            .addresses
            .and_then(|a| a.first().copied().ok_or_else(|| "no address".into()));
        if let Err(why) = &r {
            p.result = Some(ServerResult::failed(
                &w.spec.text,
                None,
                Status::Unresolved,
                why.clone(),
            ));
        }
        address = r.as_ref().ok().copied();
        p.resolved = Some(r);
    }
    let address = address.filter(|_| p.result.is_none() && w.nts == security.is_nts())?;
    Some(Target {
        server: w.spec.text,
        address,
        security,
    })
}

/// The key exchange of an NTS server's run, recorded in `p`: resolves the key exchange
/// server's name when it has no address yet, checks the addresses against the short poll
/// and refresh rules, runs the exchange, checks the NTP address it names. Returns the NTP
/// address and session to poll with when the exchange succeeded (`(None, None)` when it
/// failed: the session in use, if any, stays), or None when the server cannot be polled
/// (`p.result` says why).
fn key_exchange(
    spec: &ServerSpec,
    trigger: Trigger,
    mut addresses: Vec<SocketAddr>,
    p: &mut Polled,
    config: &ExporterConfig,
    ke_config: Option<&KeConfig>,
    clock: &dyn LocalClock,
) -> Option<(Option<SocketAddr>, Option<Security>)> {
    let text = &spec.text;
    let facts = || KeFacts {
        ke_server: spec.host.clone(),
        ke_port: spec.port,
        ..KeFacts::default()
    };
    let fail = |p: &mut Polled, address, status, why: String, facts: KeFacts| {
        p.result = Some(nts_failed(text, address, status, why, facts));
        None
    };
    if addresses.is_empty() {
        match resolve(spec, config.family, true).addresses {
            Ok(a) => {
                addresses = a.clone();
                p.ke_resolved = Some(a);
            }
            Err(e) => return fail(p, None, Status::Unresolved, e, facts()),
        }
        let refused = addresses
            .iter()
            .find_map(|a| config.check_ke_address(text, *a).err());
        if let Some(why) = refused {
            p.refused = Some(why.to_string());
            return fail(p, None, Status::Unreachable, why.to_string(), facts());
        }
    }
    let Some(ke_config) = ke_config else {
        // Checked at start: NTS servers come with NTS settings.
        let why = "no NTS settings".to_string();
        return fail(p, None, Status::NtsKeFailed, why, facts());
    };
    let at_mono_ns = clock.monotonic_ns();
    let at_unix_ns = clock.realtime_ns();
    let outcome = establish(spec, &addresses, ke_config, config.family);
    let (outcome, named) = match outcome {
        Ok((session, a)) => (KeOutcome::Established(Box::new(session)), Some(a)),
        // The session in use (if any) stays: a failed refresh keeps measuring.
        Err(note) => (KeOutcome::Failed(note), None),
    };
    let session = match &outcome {
        KeOutcome::Established(s) => Some(Security::Nts(s.clone())),
        KeOutcome::Failed(_) => None,
    };
    let facts_named = session
        .as_ref()
        .and_then(|s| s.nts())
        .map(|s| s.facts().clone());
    p.ke = Some(KeDone {
        trigger,
        outcome,
        at_mono_ns,
        at_unix_ns,
        address: named,
    });
    if let Some(a) = named {
        if let Err(why) = config.check_address(text, a) {
            p.refused = Some(why.to_string());
            let facts = facts_named.unwrap_or_else(facts);
            return fail(p, Some(a), Status::Unreachable, why.to_string(), facts);
        }
    }
    Some((named, session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_ntp_io::target::parse_server;

    const S: i64 = 1_000_000_000;

    fn a(n: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, n], 123))
    }

    fn poller() -> Poller {
        Poller {
            config: ExporterConfig {
                servers: vec!["other".into(), "pool.test".into()],
                pools: [("pool.test".to_string(), 2)].into(),
                poll: std::time::Duration::from_secs(1),
                timeout: std::time::Duration::from_millis(500),
                ..ExporterConfig::default()
            },
            precision_ns: 30,
            ke: None,
        }
    }

    fn entry(id: u64, pool: Option<usize>, text: &str, address: Option<SocketAddr>) -> Entry {
        Entry {
            id,
            pool,
            spec: parse_server(text).unwrap(),
            state: ServerState::new(text, address, S, 4 * S, 8, 0),
            ke_addresses: vec![],
        }
    }

    fn pool_entry() -> PoolEntry {
        PoolEntry {
            spec: parse_server("pool.test").unwrap(),
            track: PoolTrack::new("pool.test", 2, 0, S, None),
        }
    }

    /// Makes `e` a member that got no reply in its last 8 polls.
    fn kill(e: &mut Entry) {
        e.state.polls = 8;
        e.state.reach = 0;
    }

    fn addresses(entries: &[Entry]) -> Vec<(u64, &str, Option<SocketAddr>)> {
        entries
            .iter()
            .map(|e| (e.id, e.spec.text.as_str(), e.state.address))
            .collect()
    }

    #[test]
    fn a_resolution_retires_and_adds_pool_addresses_in_place() {
        let p = poller();
        let mut pools = vec![pool_entry()];
        let mut entries = vec![
            entry(0, Some(0), "pool.test", Some(a(1))),
            entry(1, Some(0), "pool.test", Some(a(2))),
            entry(2, None, "other", Some(a(9))),
        ];
        kill(&mut entries[1]);
        entries[0].state.next_due_mono_ns = 7 * S;
        let mut next_id = 3;
        pools[0].track.resolving = true;
        p.resolved(
            &mut entries,
            &mut pools,
            0,
            Ok(vec![a(3), a(1)]),
            9 * S,
            &mut next_id,
        );
        // 127.0.0.2 stopped answering and left the name: retired, 127.0.0.3 in its place,
        // after the pool's other address, due with it on the grid.
        assert_eq!(
            addresses(&entries),
            [
                (0, "pool.test", Some(a(1))),
                (3, "pool.test", Some(a(3))),
                (2, "other", Some(a(9)))
            ]
        );
        assert_eq!(entries[1].pool, Some(0));
        assert_eq!(entries[1].state.next_due_mono_ns, 7 * S);
        assert_eq!(entries[1].state.polls, 0);
        assert_eq!(next_id, 4);
        let t = &pools[0].track;
        assert!(!t.resolving && t.last_error.is_none());
        assert_eq!((t.resolutions, t.next_resolve_mono_ns), (2, 17 * S));
        // A failed resolution changes nothing but the schedule.
        p.resolved(
            &mut entries,
            &mut pools,
            0,
            Err("gone".into()),
            20 * S,
            &mut next_id,
        );
        assert_eq!(entries.len(), 3);
        assert_eq!(pools[0].track.last_error.as_deref(), Some("gone"));
        assert_eq!(pools[0].track.next_resolve_mono_ns, 21 * S);
    }

    #[test]
    fn a_pool_without_addresses_keeps_one_entry_that_says_why() {
        let p = poller();
        let mut pools = vec![PoolEntry {
            track: PoolTrack::new("pool.test", 2, 0, S, Some("cannot resolve".into())),
            ..pool_entry()
        }];
        let mut entries = vec![entry(0, Some(0), "pool.test", None)];
        // Its polls are not made: the resolution's error is their result.
        let r = unpolled_result(&entries[0], &pools, 0);
        assert_eq!(
            (r.status, r.error.as_deref()),
            (Status::Unresolved, Some("cannot resolve"))
        );
        let (shared, own, none) = p.due_work(&mut entries, 0);
        assert!(shared.is_empty() && own.is_empty());
        assert_eq!(none, [0]);
        // The name gives addresses: they replace it.
        let mut next_id = 1;
        p.resolved(
            &mut entries,
            &mut pools,
            0,
            Ok(vec![a(1), a(2), a(3)]),
            S,
            &mut next_id,
        );
        assert_eq!(
            addresses(&entries),
            [(1, "pool.test", Some(a(1))), (2, "pool.test", Some(a(2)))]
        );
        // Both stop answering and leave the name, which now gives only an address that
        // may not be polled at a 1 s poll: nothing left but the entry that says why.
        for e in &mut entries {
            kill(e);
        }
        p.resolved(
            &mut entries,
            &mut pools,
            0,
            Ok(vec!["192.0.2.1:123".parse().unwrap()]),
            2 * S,
            &mut next_id,
        );
        assert_eq!(addresses(&entries), [(3, "pool.test", None)]);
        let why = pools[0].track.last_error.clone().unwrap();
        assert!(
            why.contains("only allowed for loopback and private"),
            "{why}"
        );
    }

    #[test]
    fn results_find_their_entry_by_id() {
        let entries = vec![
            entry(5, None, "x", Some(a(1))),
            entry(7, None, "y", Some(a(2))),
        ];
        assert_eq!(position(&entries, 7, 1), Some(1));
        assert_eq!(position(&entries, 7, 0), Some(1), "a stale hint");
        assert_eq!(position(&entries, 6, 0), None, "retired");
    }
}
