//! Writes a synthetic schema-1 drift log through `skew_monitor`'s own types and writer, for
//! tests and benchmarks of `skew report`.
//!
//! ```text
//! cargo run --release -p skew-report --example gen_drift_log -- --out /tmp/drift.csv \
//!     [--rows 1000000] [--hosts 1] [--servers 4] [--interval 10s] [--splay 1.3s] \
//!     [--start 2026-11-20T00:00:00Z] [--seed 1] [--no-events]
//! ```
//!
//! Each run of each host writes four `ntp` rows (two honest servers, a liar 250 ms ahead
//! that the majority marks as a falseticker, and a jittery path), one `agreement`, one
//! `clock`, one `pause` and one `leap` row. `--servers N` probes N servers instead (their
//! roles cycle through those four); host k runs `--splay` × k after host 0. Unless `--no-events` is given, the log also holds
//! a time-of-day step, a suspend, a long pause, a stretch of missing runs and a leap-second
//! announcement, at fixed fractions of the run.

use skew_monitor::log::append_rows;
use skew_monitor::schema::{DriftRow, Kind, SCHEMA_VERSION};
use skew_time::format::rfc3339_utc;
use std::path::PathBuf;
use std::time::Duration;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

struct Args {
    out: PathBuf,
    rows: u64,
    hosts: u32,
    servers: u32,
    interval_ns: i64,
    splay_ns: i64,
    start_ns: i64,
    seed: u64,
    events: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        out: PathBuf::new(),
        rows: 1_000_000,
        hosts: 1,
        servers: 4,
        interval_ns: 10_000_000_000,
        splay_ns: 1_300_000_000,
        start_ns: 1_795_132_800_000_000_000, // 2026-11-20T00:00:00Z
        seed: 1,
        events: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => a.out = PathBuf::from(value()?),
            "--rows" => a.rows = value()?.parse().map_err(|e| format!("--rows: {e}"))?,
            "--hosts" => a.hosts = value()?.parse().map_err(|e| format!("--hosts: {e}"))?,
            "--servers" => a.servers = value()?.parse().map_err(|e| format!("--servers: {e}"))?,
            "--splay" => {
                let d = skew_time::parse_duration(&value()?).map_err(|e| e.to_string())?;
                a.splay_ns = d.as_nanos() as i64;
            }
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--interval" => {
                let d = skew_time::parse_duration(&value()?).map_err(|e| e.to_string())?;
                a.interval_ns = d.as_nanos() as i64;
            }
            "--start" => {
                let v = value()?;
                let t = chrono::DateTime::parse_from_rfc3339(&v).map_err(|e| e.to_string())?;
                a.start_ns = t.timestamp_nanos_opt().ok_or("--start out of range")?;
            }
            "--no-events" => a.events = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.out.as_os_str().is_empty() {
        return Err("--out FILE is required".into());
    }
    if a.hosts == 0 || a.servers == 0 || a.interval_ns <= 0 {
        return Err("--hosts, --servers and --interval must be positive".into());
    }
    Ok(a)
}

/// One host's simulated state.
struct Host {
    name: String,
    /// UTC − local, s (the truth the servers see).
    true_offset_s: f64,
    rate_ppm: f64,
    suspended_s: f64,
}

/// The servers probed: `127.0.0.1:11123` and up.
fn servers(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| format!("127.0.0.1:{}", 11_123 + i))
        .collect()
}

/// Which events happen in this run.
#[derive(Clone, Copy, Default)]
struct Events {
    step: bool,
    suspend: bool,
    long_pause: bool,
    leap_announced: bool,
}

/// Rounds to whole nanoseconds, as the monitor's values are (integer ns / 1e9).
fn ns(x: f64) -> Option<f64> {
    Some((x * 1e9).round() / 1e9)
}

fn run_rows(
    rng: &mut Rng,
    h: &mut Host,
    servers: &[String],
    t_ns: i64,
    ev: Events,
) -> Vec<DriftRow> {
    let base = DriftRow {
        schema: SCHEMA_VERSION,
        run_time: rfc3339_utc(t_ns),
        host: h.name.clone(),
        ..DriftRow::default()
    };
    h.true_offset_s += rng.normal() * 0.3e-6;
    h.rate_ppm += rng.normal() * 0.01;
    let leap = if ev.leap_announced { "insert" } else { "none" };
    let mut rows = Vec::with_capacity(8);
    let mut truechimer_bounds: Vec<(f64, f64)> = Vec::new();
    for (k, server) in servers.iter().enumerate() {
        // The four roles, cycled.
        let i = k % 4;
        let (bias_s, delay_s, noise_s, truechimer) = match i {
            0 => (0.0, 7e-6 + rng.uniform() * 2e-6, 1.5e-6, true),
            1 => (0.0, 9e-6 + rng.uniform() * 3e-6, 2.0e-6, true),
            2 => (0.25, 8e-6 + rng.uniform() * 2e-6, 1.5e-6, false),
            _ => (0.0, 0.2e-3 + rng.uniform() * 10e-3, 0.0, true),
        };
        if i == 3 && rng.uniform() < 0.05 {
            rows.push(DriftRow {
                kind: Kind::Ntp,
                server: Some(server.to_string()),
                address: Some(server.to_string()),
                status: Some("timeout".into()),
                error: Some("no valid reply to 4 requests within 1.000 s each".into()),
                truechimer: Some(false),
                ..base.clone()
            });
            continue;
        }
        // A jittery path: the offset moves by half the asymmetry, within ± delay/2.
        let asym = if i == 3 {
            (rng.uniform() - 0.5) * delay_s * 0.9
        } else {
            rng.normal() * noise_s * 0.3
        };
        let offset = h.true_offset_s + bias_s + asym + rng.normal() * noise_s * 0.1;
        let half = delay_s / 2.0 + 1e-6;
        let (lo, hi) = (offset - half, offset + half);
        let root = if i == 2 {
            20e-6
        } else {
            5e-6 + rng.uniform() * 2e-6
        };
        if truechimer {
            truechimer_bounds.push((lo - root, hi + root));
        }
        rows.push(DriftRow {
            kind: Kind::Ntp,
            server: Some(server.to_string()),
            address: Some(server.to_string()),
            status: Some("ok".into()),
            offset_s: ns(offset),
            delay_s: ns(delay_s),
            jitter_s: ns(noise_s.max(delay_s / 20.0)),
            bound_lo_s: ns(lo),
            bound_hi_s: ns(hi),
            utc_lo_s: ns(lo - root),
            utc_hi_s: ns(hi + root),
            stratum: Some(if i == 2 { 9 } else { 8 }),
            leap: Some(if i == 2 { "none" } else { leap }.into()),
            root_delay_s: ns(root),
            root_dispersion_s: ns(root / 2.0),
            truechimer: Some(truechimer),
            ..base.clone()
        });
    }
    let lo = truechimer_bounds
        .iter()
        .map(|b| b.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let hi = truechimer_bounds
        .iter()
        .map(|b| b.1)
        .fold(f64::INFINITY, f64::min);
    let majority = truechimer_bounds.len() >= 3 && lo <= hi;
    rows.push(DriftRow {
        kind: Kind::Agreement,
        status: Some(if majority { "majority" } else { "no_majority" }.into()),
        offset_s: majority.then(|| (lo + hi) / 2.0).and_then(ns),
        utc_lo_s: majority.then_some(lo).and_then(ns),
        utc_hi_s: majority.then_some(hi).and_then(ns),
        truechimers: Some(if majority {
            truechimer_bounds.len() as u32
        } else {
            0
        }),
        falsetickers: Some(if majority { 1 } else { 0 }),
        ..base.clone()
    });
    let step = ev.step;
    if ev.suspend {
        h.suspended_s += 12.5;
    }
    rows.push(DriftRow {
        kind: Kind::Clock,
        rate_ppm: Some(((h.rate_ppm + rng.normal() * 0.05) * 1e3).round() / 1e3),
        rate_ci95_ppm: Some(0.08),
        kernel_freq_ppm: Some(-12.345),
        kernel_state: Some("TIME_OK".into()),
        kernel_synchronized: Some(true),
        steps: Some(u32::from(step)),
        step_max_s: step.then_some(0.5),
        suspended_s: Some(h.suspended_s),
        ..base.clone()
    });
    let long = ev.long_pause;
    let max = if long {
        0.35
    } else {
        0.4e-3 + rng.uniform().powi(8) * 4e-3
    };
    rows.push(DriftRow {
        kind: Kind::Pause,
        pause_max_s: ns(max),
        pause_p99_s: ns(0.16e-3 + rng.uniform() * 0.05e-3),
        pause_events: Some(u32::from(long)),
        ..base.clone()
    });
    rows.push(DriftRow {
        kind: Kind::Leap,
        status: Some("ok".into()),
        leap_expires: Some("2026-12-28T00:00:00Z".into()),
        tai_minus_utc_s: Some(37),
        leap_next: (leap == "insert").then(|| "2026-12-31T23:59:60Z".into()),
        ..base
    });
    rows
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_drift_log: {e}");
            std::process::exit(64);
        }
    };
    let _ = std::fs::remove_file(&a.out);
    let servers = servers(a.servers);
    let rows_per_run = (servers.len() + 4) as u64;
    let mut runs = a.rows.div_ceil(rows_per_run * u64::from(a.hosts)).max(1);
    if a.events {
        runs = runs * 100 / 98 + 1; // 2 % of the runs are missing
    }
    let mut rng = Rng(a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut hosts: Vec<Host> = (0..a.hosts)
        .map(|i| Host {
            name: format!("host{i:02}"),
            true_offset_s: (i as f64) * 3e-6,
            rate_ppm: 2.0 + i as f64,
            suspended_s: 0.0,
        })
        .collect();
    let mut batch = Vec::with_capacity(65_536);
    let mut written = 0u64;
    'runs: for r in 0..runs {
        let at = |percent: u64| a.events && r == runs * percent / 100;
        if a.events && (runs * 70 / 100..runs * 72 / 100).contains(&r) {
            continue; // missing runs: the monitor did not run
        }
        let ev = Events {
            step: at(40),
            suspend: at(60),
            long_pause: at(50),
            leap_announced: a.events && r >= runs * 80 / 100,
        };
        for (hi, h) in hosts.iter_mut().enumerate() {
            // Hosts run at slightly different times, as a fleet with splay would.
            let t = a.start_ns + r as i64 * a.interval_ns + hi as i64 * a.splay_ns;
            for row in run_rows(&mut rng, h, &servers, t, ev) {
                batch.push(row);
                written += 1;
                if written >= a.rows {
                    break 'runs;
                }
            }
        }
        if batch.len() >= 60_000 {
            flush(&a.out, &mut batch);
        }
    }
    flush(&a.out, &mut batch);
    eprintln!("gen_drift_log: wrote {written} rows to {}", a.out.display());
}

fn flush(path: &std::path::Path, batch: &mut Vec<DriftRow>) {
    if let Err(e) = append_rows(path, batch, Duration::from_secs(10)) {
        eprintln!("gen_drift_log: {e}");
        std::process::exit(1);
    }
    batch.clear();
}
