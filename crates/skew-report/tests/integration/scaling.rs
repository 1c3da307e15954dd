//! Issue 14.6: `skew report` was quadratic in distinct hosts and servers (each series
//! looked up its statistics by scanning them all, merging scanned every host for each
//! new one, the stats table scanned every series for each host, the fleet skew scanned
//! each window's hosts, and grouping scanned each event's hosts and servers): 50,000
//! rows of 5,000 hosts took 45–51 s.
//!
//! These inputs are large enough that work quadratic in hosts or servers cannot finish
//! in any reasonable time, while linear work takes seconds even in a debug build: the
//! fleet below (32,000 hosts) takes about 7 s in a debug build on a loaded 2-core
//! machine; the quadratic code took 59 s for 8,000 hosts and did not finish 32,000 in
//! 120 s. The watchdog only turns "does not finish" into a failure instead of a
//! hang: its budget is far above linear and far below quadratic, so load does not
//! decide the outcome. Speed itself is measured by `bench/report_scaling.sh`.

use skew_report::analysis::{analyze, Analysis, AnalysisOptions};
use skew_report::data::{
    AgreementSeries, ClockSeries, HostData, LeapFlag, LogData, PauseSeries, ServerSeries,
};
use skew_report::events::EventKind;
use skew_report::render::{render, PageOptions};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

/// Runs `f` on a thread; fails if it panics or has not finished within `budget`.
fn finishes<T: Send + 'static>(budget: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(budget) {
        Ok(v) => v,
        Err(RecvTimeoutError::Timeout) => {
            panic!("not finished within {budget:?}: the work grows faster than the input")
        }
        Err(RecvTimeoutError::Disconnected) => panic!("the report panicked (see above)"),
    }
}

fn series(host: &str, server: &str, t: &[i64], falseticker: bool) -> ServerSeries {
    let n = t.len();
    ServerSeries {
        host: host.into(),
        server: server.into(),
        address: server.into(),
        t_ns: t.to_vec(),
        offset_s: vec![1e-6; n],
        delay_s: vec![2e-5; n],
        bound_lo_s: vec![-1e-5; n],
        bound_hi_s: vec![1e-5; n],
        utc_lo_s: vec![-2e-5; n],
        utc_hi_s: vec![2e-5; n],
        truechimer: vec![Some(!falseticker); n],
        leap: vec![LeapFlag::Insert; n],
        statuses: [("ok".to_string(), n as u64)].into(),
    }
}

fn host(name: &str, t: &[i64]) -> HostData {
    let n = t.len();
    HostData {
        host: name.into(),
        runs_ns: t.to_vec(),
        run_keys: t.iter().map(|&x| (x, 0)).collect(),
        agreement: AgreementSeries {
            t_ns: t.to_vec(),
            lo_s: vec![-1e-5; n],
            hi_s: vec![1e-5; n],
            majority: vec![true; n],
            falsetickers: vec![1; n],
        },
        clock: ClockSeries {
            t_ns: t.to_vec(),
            rate_ppm: vec![1.0; n],
            rate_ci95_ppm: vec![0.1; n],
            kernel_freq_ppm: vec![2.0; n],
            steps: vec![1; n],
            step_max_s: vec![0.5; n],
            suspended_s: vec![0.0; n],
            kernel_states: Vec::new(),
        },
        pause: PauseSeries {
            t_ns: t.to_vec(),
            max_s: vec![1e-3; n],
            p99_s: vec![1e-4; n],
            events: vec![0; n],
        },
        leap: Vec::new(),
    }
}

/// Hosts `from..to`, each with one run at the same instant (no splay: every host in one
/// matching window), a step, two servers (one a falseticker) announcing a leap second.
fn fleet(from: usize, to: usize) -> LogData {
    let mut d = LogData::default();
    for h in from..to {
        let name = format!("host{h:06}");
        d.hosts.push(host(&name, &[T0]));
        d.series.push(series(&name, "a", &[T0], false));
        d.series.push(series(&name, "liar", &[T0], true));
    }
    d
}

fn draw(d: &LogData, a: &Analysis) {
    let rgb = render(
        d,
        a,
        &PageOptions {
            width: 800,
            height: 600,
            title: "scaling".into(),
        },
    )
    .unwrap();
    assert_eq!(rgb.len(), 800 * 600 * 3);
}

#[test]
fn a_fleet_of_32000_hosts_takes_linear_work() {
    let _one_module = skew_testkit::one_module_at_a_time(module_path!());
    const N: usize = 32_000;
    let a = finishes(Duration::from_secs(120), || {
        // Two parts (two files) sharing half their hosts: merging matches them by name.
        let mut d = fleet(0, N / 2);
        d.merge(fleet(N / 4, N));
        d.finish();
        let a = analyze(
            &d,
            &AnalysisOptions {
                match_window_ns: Some(60_000_000_000),
                ..AnalysisOptions::default()
            },
        );
        draw(&d, &a);
        a
    });
    assert_eq!(a.hosts.len(), N);
    assert_eq!(a.servers.len(), 2 * N);
    // The hosts in both parts have both parts' runs.
    let both = &a.hosts[N / 4];
    assert_eq!((both.host.as_str(), both.runs), ("host008000", 1));
    assert_eq!(a.servers[2 * (N / 4)].rows, 2);
    // Per host: a and liar (offset, delay), agreement, clock rate and kernel, pause.
    assert_eq!(a.stats.len(), N * 8);
    let skew = a.pairwise_skew.unwrap();
    assert_eq!((skew.basis, skew.skew.clocks), ("hosts", N));
    // One step per clock row: the hosts in both parts have two.
    let steps = a
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Step)
        .count();
    assert_eq!(steps, N + N / 4);
    let announced: Vec<_> = a
        .events
        .iter()
        .filter(|e| e.kind == EventKind::LeapAnnounced)
        .collect();
    assert_eq!(announced.len(), N);
    assert!(announced.iter().all(|e| e.servers == ["a", "liar"]));
}

#[test]
fn one_host_with_50000_servers_takes_linear_work() {
    let _one_module = skew_testkit::one_module_at_a_time(module_path!());
    // 50,000 servers over 5,000 runs half a second apart, 10 measured per run (a pool
    // whose addresses keep changing), all starting to announce a leap second within the
    // hour: one announcement naming every server.
    const SERVERS: usize = 50_000;
    const PER_RUN: usize = 10;
    let a = finishes(Duration::from_secs(120), || {
        let runs: Vec<i64> = (0..SERVERS / PER_RUN)
            .map(|r| T0 + r as i64 * 500_000_000)
            .collect();
        let mut d = LogData {
            hosts: vec![host("h", &runs)],
            series: Vec::new(),
        };
        for s in 0..SERVERS {
            let t = [runs[s / PER_RUN]];
            d.series.push(series(
                "h",
                &format!("10.{}.{}.1:123", s / 256, s % 256),
                &t,
                false,
            ));
        }
        d.finish();
        let a = analyze(&d, &AnalysisOptions::default());
        draw(&d, &a);
        a
    });
    assert_eq!(a.servers.len(), SERVERS);
    let skew = a.pairwise_skew.unwrap();
    assert_eq!(skew.basis, "servers");
    assert_eq!(
        (skew.skew.clocks, skew.compared),
        (PER_RUN + 1, SERVERS / PER_RUN)
    );
    let announced: Vec<_> = a
        .events
        .iter()
        .filter(|e| e.kind == EventKind::LeapAnnounced)
        .collect();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].servers.len(), SERVERS);
}
