//! Benchmark: what `skew clocks` pays per clock reading, against bare `clock_gettime` pairs.
//!
//! A bracketed reading of clock X on the MONOTONIC_RAW timeline needs X and one RAW read (the
//! chain shares each RAW read between two brackets), so its floor is a bare pair
//! `clock_gettime(RAW); clock_gettime(X)`. This measures, interleaved and repeated:
//!
//! * bare: pairs of `libc::clock_gettime(MONOTONIC_RAW)` + `libc::clock_gettime(X)`, X cycling
//!   through REALTIME, MONOTONIC, BOOTTIME, results kept alive with `black_box`;
//! * skew: `take_sample(LinuxClocks, rounds)` (the code `skew clocks` runs), per clock reading
//!   (3 × rounds readings per sample).
//!
//! Prints ns per pair / per reading (median and minimum over the repetitions) and their ratio:
//! the median of the paired ratios (each skew repetition runs right after a bare one, so
//! both see the same load from other processes) and minimum over minimum (the quiet-machine
//! figure).
//!
//! `cargo run --release -p skew-clock --example sampling_overhead [-- ROUNDS REPS]`

use skew_clock::linux::LinuxClocks;
use skew_clock::sample::take_sample;
use std::hint::black_box;
use std::time::Instant;

fn bare_pairs(pairs: u64) -> f64 {
    let ids = [
        libc::CLOCK_REALTIME,
        libc::CLOCK_MONOTONIC,
        libc::CLOCK_BOOTTIME,
    ];
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut acc = 0i64;
    let t0 = Instant::now();
    for i in 0..pairs {
        // SAFETY: `ts` is a valid timespec; the clock ids are valid on Linux.
        unsafe {
            libc::clock_gettime(libc::CLOCK_MONOTONIC_RAW, &mut ts);
        }
        acc = acc.wrapping_add(black_box(ts.tv_nsec));
        // SAFETY: as above.
        unsafe {
            libc::clock_gettime(ids[(i % 3) as usize], &mut ts);
        }
        acc = acc.wrapping_add(black_box(ts.tv_nsec));
    }
    black_box(acc);
    t0.elapsed().as_nanos() as f64 / pairs as f64
}

fn skew_readings(samples: u64, rounds: u32) -> f64 {
    let mut c = LinuxClocks;
    let t0 = Instant::now();
    for _ in 0..samples {
        black_box(take_sample(&mut c, rounds).expect("clocks readable"));
    }
    t0.elapsed().as_nanos() as f64 / (samples * 3 * u64::from(rounds)) as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(101);
    let readings_per_rep: u64 = 300_000;
    let samples = readings_per_rep / (3 * u64::from(rounds));
    // Warm up both paths.
    bare_pairs(100_000);
    skew_readings(10_000, rounds);
    let (mut bare, mut skew) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        bare.push(bare_pairs(readings_per_rep));
        skew.push(skew_readings(samples, rounds));
    }
    let mut paired: Vec<f64> = skew.iter().zip(&bare).map(|(s, b)| s / b).collect();
    let ratio = median(&mut paired);
    let (b, s) = (median(&mut bare), median(&mut skew));
    let bmin = bare.iter().copied().fold(f64::INFINITY, f64::min);
    let smin = skew.iter().copied().fold(f64::INFINITY, f64::min);
    println!("rounds per sample      {rounds}");
    println!("repetitions            {reps} x {readings_per_rep} readings");
    println!("bare pair              {b:.2} ns median, {bmin:.2} ns min");
    println!("skew bracketed reading {s:.2} ns median, {smin:.2} ns min");
    println!(
        "ratio skew/bare        {ratio:.3} median of paired ratios, {:.3} min/min",
        smin / bmin
    );
    let sample_us = s * 3.0 * f64::from(rounds) / 1e3;
    println!(
        "one sample             {sample_us:.2} us ({} reads); at one sample per 10 ms: {:.3} % of a core",
        6 * rounds + 1,
        sample_us / 10_000.0 * 100.0
    );
}
