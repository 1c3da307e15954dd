//! The serving and forwarding loops in-process, driven by the bounded load generator.

use skew_fault::serve::{HeaderConfig, Misbehaviour};
use skew_fault::stats::StopReason;
use skew_fault::{PathConfig, Probability, ProxyConfig, ServeConfig, ServedClock};
use skew_fault_io::loadgen::{run_load, LoadConfig};
use skew_fault_io::proxy::{run_proxy, ProxyLimits};
use skew_fault_io::{bind_udp, run_serve, ServeLimits};
use skew_ntp_io::SystemClock;
use std::time::Duration;

fn serve_config(loss: Probability) -> ServeConfig {
    ServeConfig {
        clock: ServedClock::truthful(0),
        header: HeaderConfig::default(),
        kod: None,
        faults: Misbehaviour {
            loss,
            ..Misbehaviour::default()
        },
        seed: 5,
    }
}

fn load(target: std::net::SocketAddr, n: u64) -> skew_fault_io::loadgen::LoadResult {
    run_load(&LoadConfig {
        target,
        max_requests: n,
        max_duration: Duration::from_secs(20),
        window: 64,
        stall: Duration::from_millis(500),
    })
    .unwrap()
}

#[test]
fn serve_answers_every_request_of_a_bounded_load() {
    let sock = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = sock.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let limits = ServeLimits {
            max_requests: Some(20_000),
            max_duration: Some(Duration::from_secs(30)),
            ..ServeLimits::default()
        };
        run_serve(
            &[sock],
            serve_config(Probability::NEVER),
            &limits,
            &SystemClock,
        )
    });
    let r = load(addr, 20_000);
    let report = server.join().unwrap();
    assert_eq!(r.sent, 20_000);
    assert_eq!(r.replies, 20_000, "{r:?}");
    assert_eq!(r.invalid, 0);
    assert_eq!(report.stopped_by, StopReason::MaxRequests);
    assert_eq!(report.counters.answered, 20_000);
    assert_eq!(report.counters.sent, 20_000);
    assert_eq!(report.kernel_rx_timestamps, 20_000);
    assert!(r.replies_per_s() > 1000.0);
}

#[test]
fn proxy_forwards_a_bounded_load_with_measured_lateness() {
    let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let upstream = server.local_addr().unwrap();
    let front = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = front.local_addr().unwrap();
    let s = std::thread::spawn(move || {
        let limits = ServeLimits {
            max_requests: Some(2_000),
            max_duration: Some(Duration::from_secs(30)),
            ..ServeLimits::default()
        };
        run_serve(
            &[server],
            serve_config(Probability::NEVER),
            &limits,
            &SystemClock,
        )
    });
    let p = std::thread::spawn(move || {
        let config = ProxyConfig {
            fwd: PathConfig {
                delay_ns: 1_000_000,
                jitter_ns: 500_000,
                loss: Probability::NEVER,
            },
            back: PathConfig {
                delay_ns: 200_000,
                ..PathConfig::default()
            },
            seed: 1,
            ..ProxyConfig::default()
        };
        let limits = ProxyLimits {
            max_requests: Some(2_000),
            max_duration: Some(Duration::from_secs(30)),
            ..ProxyLimits::default()
        };
        run_proxy(&[front], upstream, config, &limits, &SystemClock)
    });
    let r = load(addr, 2_000);
    let proxy = p.join().unwrap();
    let served = s.join().unwrap();
    assert_eq!(r.replies, 2_000, "{r:?}");
    assert_eq!(served.counters.answered, 2_000);
    let c = &proxy.counters;
    assert_eq!((c.fwd.received, c.fwd.forwarded), (2_000, 2_000));
    assert_eq!((c.back.received, c.back.forwarded), (2_000, 2_000));
    assert_eq!(c.answered, 2_000);
    assert_eq!(c.clients, 1);
    assert_eq!(proxy.stopped_by, StopReason::MaxRequests);
    let late = &proxy.scheduling_error;
    assert_eq!(late.count + proxy.immediate_latency.count, 4_000);
    assert_eq!(late.early, 0, "nothing leaves before its due time");
    assert_eq!(proxy.immediate_latency.early, 0);
}
