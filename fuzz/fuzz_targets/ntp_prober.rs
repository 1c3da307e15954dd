//! The per-server state machine driven by a fuzzed sequence of events: sends, fuzzed
//! datagrams (from the server or elsewhere, echoing the nonce or not), transmit
//! timestamps, ticks, send errors. It never panics, never sends more than its sample
//! budget, and its result (with the JSON/CSV view) can always be produced.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_ntp::bounds::BoundParams;
use skew_ntp::packet::HEADER_LEN;
use skew_ntp::result::TimestampSource;
use skew_ntp::validate::Arrival;
use skew_ntp::{ProbeConfig, ServerProber};
use std::net::SocketAddr;

#[derive(Debug, Arbitrary)]
enum Event {
    /// Send if due (advancing the clock by `advance_ns` first).
    Send {
        advance_ns: u32,
        nonce: u64,
        t1_offset_ns: i32,
    },
    /// A datagram arrives.
    Datagram {
        advance_ns: u32,
        from_server: bool,
        echo_nonce: bool,
        kernel: bool,
        t4_offset_ns: i64,
        bytes: Vec<u8>,
    },
    /// The kernel's transmit timestamp for a nonce (the one in flight or not).
    TxTimestamp {
        for_pending: bool,
        nonce: u64,
        t1_unix_ns: i64,
    },
    /// Time passes.
    Tick { advance_ns: u32 },
    /// A late datagram for an old request.
    Late,
    /// Sending fails.
    SendError,
}

#[derive(Debug, Arbitrary)]
struct Input {
    samples: u8,
    interval_ns: u32,
    timeout_ns: u32,
    precision_ns: u16,
    epoch_unix_ns: i64,
    events: Vec<Event>,
}

fuzz_target!(|input: Input| {
    let server: SocketAddr = "127.0.0.1:123".parse().unwrap();
    let stranger: SocketAddr = "127.0.0.1:124".parse().unwrap();
    let config = ProbeConfig {
        samples: u32::from(input.samples % 16),
        interval_ns: i64::from(input.interval_ns),
        timeout_ns: i64::from(input.timeout_ns).max(1),
        bounds: BoundParams {
            local_precision_ns: i64::from(input.precision_ns),
            ..BoundParams::default()
        },
    };
    let mut mono: i64 = 0;
    let mut p = ServerProber::new("fuzz", server, config, mono);
    let mut sends = 0u32;
    for e in input.events.into_iter().take(256) {
        match e {
            Event::Send {
                advance_ns,
                nonce,
                t1_offset_ns,
            } => {
                mono += i64::from(advance_ns);
                if p.due(mono) {
                    sends += 1;
                    let t1 = input
                        .epoch_unix_ns
                        .saturating_add(mono + i64::from(t1_offset_ns));
                    p.on_sent(nonce, t1, mono);
                    assert_eq!(p.pending_nonce(), Some(nonce));
                }
            }
            Event::Datagram {
                advance_ns,
                from_server,
                echo_nonce,
                kernel,
                t4_offset_ns,
                mut bytes,
            } => {
                mono += i64::from(advance_ns);
                if let (true, Some(n), true) =
                    (echo_nonce, p.pending_nonce(), bytes.len() >= HEADER_LEN)
                {
                    bytes[24..32].copy_from_slice(&n.to_be_bytes());
                }
                let arrival = Arrival {
                    from: if from_server { server } else { stranger },
                    bytes: &bytes,
                    t4_unix_ns: input
                        .epoch_unix_ns
                        .saturating_add(mono)
                        .saturating_add(t4_offset_ns),
                    received_mono_ns: mono,
                };
                let rx = if kernel {
                    TimestampSource::Kernel
                } else {
                    TimestampSource::User
                };
                let _ = p.on_datagram(&arrival, rx);
            }
            Event::TxTimestamp {
                for_pending,
                nonce,
                t1_unix_ns,
            } => {
                let n = if for_pending {
                    p.pending_nonce().unwrap_or(nonce)
                } else {
                    nonce
                };
                p.on_tx_timestamp(n, t1_unix_ns);
            }
            Event::Tick { advance_ns } => {
                mono += i64::from(advance_ns);
                p.on_tick(mono);
            }
            Event::Late => p.on_late(),
            Event::SendError => p.on_send_error("fuzzed send error".into()),
        }
        if let Some(w) = p.next_wakeup_mono_ns() {
            assert!(!p.is_done());
            let _ = w;
        }
    }
    assert!(
        sends <= config.samples,
        "sent {sends} of {} samples",
        config.samples
    );
    let r = p.finish();
    assert_eq!(r.counters.sent, u64::from(sends));
    let rec = r.record();
    let _ = rec.csv_fields();
    let _ = r.timeout_advice();
});
