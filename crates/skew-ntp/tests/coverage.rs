//! Coverage of the hard bound: many simulated runs through the real [`ServerProber`], each
//! against a simulated server whose clock may drift (within PHI) and step between samples,
//! over paths with any asymmetry, with a transmit timestamp read early as chronyd's is. The
//! hard bound (`bound_lo_s`/`bound_hi_s`) must contain the server's true offset at the time
//! it refers to (the best sample's local midpoint) in every run: 0 misses.
//!
//! The simulation is deterministic (SplitMix64 with fixed seeds), so a miss replays exactly.

use skew_ntp::bounds::BoundParams;
use skew_ntp::nts::RequestEntropy;
use skew_ntp::packet::{Leap, Packet, MODE_SERVER};
use skew_ntp::result::TimestampSource;
use skew_ntp::timestamp::{NtpShort, NtpTimestamp};
use skew_ntp::validate::{Arrival, Verdict};
use skew_ntp::{Mode, ProbeConfig, ServerProber, ServerResult, Status};
use std::net::SocketAddr;

const EPOCH: i64 = 1_700_000_000_000_000_000;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;

/// SplitMix64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The simulated server's clock against true time (the local clock is true time).
#[derive(Debug, Clone, Copy)]
struct ServerClock {
    offset_ns: i64,
    drift_ppm: f64,
    /// A step of `by_ns` at true time `at_ns`.
    step: Option<(i64, i64)>,
}

impl ServerClock {
    /// The server's offset (server − true) at true time `t`.
    fn offset_at(&self, t: i64) -> i64 {
        let drift = ((t - EPOCH) as f64 * self.drift_ppm / 1e6).round() as i64;
        let step = match self.step {
            Some((at, by)) if t >= at => by,
            _ => 0,
        };
        self.offset_ns + drift + step
    }
    fn read(&self, t: i64) -> i64 {
        t + self.offset_at(t)
    }
}

/// One simulated path and server behaviour for a run.
#[derive(Debug, Clone, Copy)]
struct Path {
    /// Ranges of the one-way delays, ns.
    out_ns: (i64, i64),
    back_ns: (i64, i64),
    /// Server processing time range, ns.
    proc_ns: (i64, i64),
    /// How much earlier than the real transmit the server reads its basic-mode T3, ns.
    early_t3_ns: i64,
}

fn addr() -> SocketAddr {
    "127.0.0.1:123".parse().unwrap()
}

fn reply(origin: NtpTimestamp, t2: NtpTimestamp, t3: NtpTimestamp) -> [u8; 48] {
    Packet {
        leap: Leap::None,
        version: 4,
        mode: MODE_SERVER,
        stratum: 2,
        poll: 0,
        // 2^-29 s ≈ 1.9 ns: covers the 64-bit timestamps' rounding.
        precision: -29,
        root_delay: NtpShort::from_ns_ceil(0),
        root_dispersion: NtpShort::from_ns_ceil(0),
        reference_id: [127, 0, 0, 1],
        reference_ts: NtpTimestamp::from_unix_ns(t2.to_unix_ns(EPOCH) - 1_000_000_000),
        origin_ts: origin,
        receive_ts: t2,
        transmit_ts: t3,
    }
    .encode()
}

/// A server that answers interleaved requests as chronyd does (RFC 9769): it remembers the
/// receive timestamp it sent in its last reply and that reply's real transmit time; a
/// request whose origin names that receive timestamp gets the real transmit time back.
#[derive(Default)]
struct SimServer {
    interleaved: bool,
    /// (receive timestamp sent, real transmit time) of the last reply.
    saved: Option<(NtpTimestamp, NtpTimestamp)>,
}

impl SimServer {
    /// The reply to `request`, received at true time `arrive` and sent at `leave`.
    fn answer(
        &mut self,
        request: &[u8],
        clock: &ServerClock,
        path: &Path,
        arrive: i64,
        leave: i64,
    ) -> [u8; 48] {
        let q = Packet::decode(request).unwrap();
        let t2_ns = clock.read(arrive);
        let t2 = NtpTimestamp::from_unix_ns(t2_ns);
        let real_t3 = NtpTimestamp::from_unix_ns(clock.read(leave));
        let bytes = match self.saved {
            Some((rx, tx)) if self.interleaved && !q.origin_ts.is_zero() && q.origin_ts == rx => {
                reply(q.receive_ts, t2, tx)
            }
            _ => {
                // Basic: T3 read before the reply leaves (never before T2).
                let est = (clock.read(leave) - path.early_t3_ns).max(t2_ns);
                reply(q.transmit_ts, t2, NtpTimestamp::from_unix_ns(est))
            }
        };
        self.saved = Some((t2, real_t3));
        bytes
    }
}

/// Runs one probe of `samples` exchanges through a [`ServerProber`]; returns the result.
fn run(
    rng: &mut Rng,
    clock: &ServerClock,
    path: &Path,
    samples: u32,
    start: i64,
    interleaved: bool,
) -> ServerResult {
    run_as(rng, clock, path, samples, start, interleaved, interleaved)
}

/// An interleaved client against a server that does (or does not) answer interleaved.
fn run_with_server(
    rng: &mut Rng,
    clock: &ServerClock,
    path: &Path,
    samples: u32,
    server_interleaves: bool,
) -> ServerResult {
    run_as(rng, clock, path, samples, EPOCH, true, server_interleaves)
}

fn run_as(
    rng: &mut Rng,
    clock: &ServerClock,
    path: &Path,
    samples: u32,
    start: i64,
    interleaved: bool,
    server_interleaves: bool,
) -> ServerResult {
    let config = ProbeConfig {
        samples,
        interval_ns: 20 * MS,
        timeout_ns: 300 * MS,
        bounds: BoundParams {
            local_precision_ns: 20,
            max_drift_ppm: 15.0,
        },
        interleaved,
    };
    let mut server = SimServer {
        interleaved: server_interleaves,
        saved: None,
    };
    let mut p = ServerProber::new("sim", addr(), config, 0);
    let mut now = 0i64; // monotonic = true time − start
    let mut nonce = 0x5000u64;
    while !p.is_done() {
        if !p.due(now) {
            now = p.next_wakeup_mono_ns().unwrap();
            continue;
        }
        nonce += 1;
        let cookie = rng.next();
        let request = p
            .request(nonce, cookie, &RequestEntropy::from_bytes([0; 48]))
            .unwrap();
        let t1 = start + now;
        p.on_sent(nonce, t1, now);
        p.on_tx_timestamp(nonce, t1);
        let out = rng.range(path.out_ns.0, path.out_ns.1);
        let back = rng.range(path.back_ns.0, path.back_ns.1);
        let proc_ = rng.range(path.proc_ns.0, path.proc_ns.1);
        let arrive = t1 + out;
        let leave = arrive + proc_;
        let t4 = leave + back;
        let bytes = server.answer(&request, clock, path, arrive, leave);
        let v = p.on_datagram(
            &Arrival {
                from: addr(),
                bytes: &bytes,
                t4_unix_ns: t4,
                received_mono_ns: t4 - start,
            },
            TimestampSource::Kernel,
        );
        assert!(matches!(v, Verdict::Measured(_)), "{v:?}");
        now = t4 - start;
    }
    p.finish()
}

/// The server's true offset at the time the result's bound refers to.
fn truth(r: &ServerResult, clock: &ServerClock) -> i64 {
    let s = r.summary.as_ref().unwrap();
    clock.offset_at(r.samples[s.best].sample.local_midpoint_ns())
}

/// A typical path of the run: loopback-like to LAN-like, any asymmetry.
fn random_path(rng: &mut Rng) -> Path {
    let scale = [5 * US, 30 * US, 300 * US, 3 * MS][rng.range(0, 3) as usize];
    let out_hi = rng.range(1, scale);
    let back_hi = rng.range(1, scale);
    Path {
        out_ns: (rng.range(0, out_hi), out_hi),
        back_ns: (rng.range(0, back_hi), back_hi),
        proc_ns: (US, rng.range(US, 20 * US)),
        early_t3_ns: rng.range(0, 8 * US),
    }
}

/// Half the delay the path gives on average (about a sample's half-width).
fn typical_half_width_ns(p: &Path) -> i64 {
    ((p.out_ns.0 + p.out_ns.1 + p.back_ns.0 + p.back_ns.1) / 2 + p.early_t3_ns) / 2
}

#[test]
fn the_hard_bound_holds_whatever_the_server_clock_does_between_samples() {
    let mut rng = Rng(0x5eed_0014_0008);
    let mut misses = Vec::new();
    let mut runs = 0;
    let mut interleaved_samples = 0;
    // Steps of 0.1 to 10 half-widths, both signs, at a random time between two samples;
    // half the runs in interleaved mode.
    for tenths in 1..=100i64 {
        for sign in [1i64, -1] {
            for k in 0..50 {
                let path = random_path(&mut rng);
                let samples = rng.range(2, 8) as u32;
                let start = EPOCH + rng.range(0, 1_000_000) * MS;
                let hw = typical_half_width_ns(&path).max(1);
                // Sample k leaves at about k × 20 ms; step between sample j and j + 1.
                let j = rng.range(0, i64::from(samples) - 2);
                let step_at = start + j * 20 * MS + rng.range(5 * MS, 15 * MS);
                let clock = ServerClock {
                    offset_ns: rng.range(-1_000 * MS, 1_000 * MS),
                    drift_ppm: rng.unit() * 28.0 - 14.0,
                    step: Some((step_at, sign * hw * tenths / 10)),
                };
                let r = run(&mut rng, &clock, &path, samples, start, k % 2 == 1);
                runs += 1;
                interleaved_samples += count_interleaved(&r);
                assert_eq!(r.status, Status::Ok);
                let s = r.summary.unwrap();
                let t = truth(&r, &clock);
                if !s.bound.contains(t) {
                    misses.push((tenths, sign, s.bound, t, s.consistent));
                }
            }
        }
    }
    assert_eq!(runs, 10_000);
    assert!(interleaved_samples > 10_000, "{interleaved_samples}");
    assert!(
        misses.is_empty(),
        "{} of {runs} hard bounds missed the truth, e.g. (tenths of a half-width, sign, bound, truth, consistent) {:?}",
        misses.len(),
        &misses[..misses.len().min(5)]
    );
}

#[test]
fn without_steps_both_the_hard_and_the_joint_bound_hold() {
    let mut rng = Rng(0x5eed_0014_0009);
    let mut runs = 0;
    let mut interleaved_samples = 0;
    for k in 0..10_000 {
        let path = random_path(&mut rng);
        let samples = rng.range(1, 8) as u32;
        let start = EPOCH + rng.range(0, 1_000_000) * MS;
        let clock = ServerClock {
            offset_ns: rng.range(-1_000 * MS, 1_000 * MS),
            drift_ppm: rng.unit() * 28.0 - 14.0,
            step: None,
        };
        let r = run(&mut rng, &clock, &path, samples, start, k % 2 == 1);
        runs += 1;
        interleaved_samples += count_interleaved(&r);
        let s = r.summary.unwrap();
        let t = truth(&r, &clock);
        assert!(s.bound.contains(t), "hard bound {:?} misses {t}", s.bound);
        let joint = s
            .joint
            .expect("samples of one clock without steps intersect");
        assert!(joint.contains(t), "joint bound {joint:?} misses {t}");
        assert!(joint.width_ns() <= s.bound.width_ns());
        assert!(s.consistent);
    }
    assert_eq!(runs, 10_000);
    assert!(interleaved_samples > 10_000, "{interleaved_samples}");
}

fn count_interleaved(r: &ServerResult) -> usize {
    r.samples
        .iter()
        .filter(|s| s.mode == Mode::Interleaved)
        .count()
}

#[test]
fn interleaved_mode_pairs_the_real_transmit_time_with_its_own_exchange() {
    // A server whose basic T3 is read 8 µs before its reply leaves, on a symmetric 5 µs
    // path, 10 µs processing: basic samples are biased by −4 µs with 18 µs delay;
    // interleaved ones exact, with the path's 10 µs.
    let path = Path {
        out_ns: (5 * US, 5 * US),
        back_ns: (5 * US, 5 * US),
        proc_ns: (10 * US, 10 * US),
        early_t3_ns: 8 * US,
    };
    let clock = ServerClock {
        offset_ns: 3 * MS,
        drift_ppm: 0.0,
        step: None,
    };
    let mut rng = Rng(7);
    let r = run(&mut rng, &clock, &path, 4, EPOCH, true);
    let modes: Vec<Mode> = r.samples.iter().map(|s| s.mode).collect();
    use Mode::{Basic, Interleaved};
    assert_eq!(modes, [Basic, Interleaved, Interleaved, Interleaved]);
    let basic = &r.samples[0].sample;
    assert_eq!(basic.delay_ns(), 18 * US);
    assert_eq!(basic.offset_ns(), 3 * MS - 4 * US);
    // The first interleaved sample is exchange 1 again, with its real T3.
    let again = &r.samples[1].sample;
    assert_eq!(
        (again.t1_ns, again.t2_ns, again.t4_ns),
        (basic.t1_ns, basic.t2_ns, basic.t4_ns)
    );
    assert_eq!(again.t3_ns - basic.t3_ns, 8 * US);
    for s in &r.samples[1..] {
        assert_eq!(s.sample.delay_ns(), 10 * US);
        assert!((s.sample.offset_ns() - 3 * MS).abs() <= 1, "{:?}", s.sample);
    }
    let s = r.summary.unwrap();
    assert!(s.best >= 1);
    assert!(s.bound.contains(3 * MS));
    assert!(s.bound.width_ns() < 12 * US, "{:?}", s.bound);
    // The same server without interleaved mode: basic samples only.
    let r = run(&mut rng, &clock, &path, 4, EPOCH, false);
    assert!(r.samples.iter().all(|s| s.mode == Basic));
    // A server that does not answer interleaved requests: basic samples, no harm.
    let mut rng = Rng(8);
    let basic_only = run_with_server(&mut rng, &clock, &path, 4, false);
    assert!(basic_only.samples.iter().all(|s| s.mode == Basic));
    assert_eq!(basic_only.samples.len(), 4);
}
