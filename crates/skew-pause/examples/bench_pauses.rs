//! Benchmark of `skew pauses` (run by `bench/pauses.sh`):
//!
//! 1. CPU overhead at 1 ms and 10 ms intervals, side by side with a bare sleep loop doing
//!    the same sleeps (the same absolute `clock_nanosleep` + `clock_gettime`, the same 1 ns
//!    timer slack, and once more with the kernel's default 50 µs slack), all running at the
//!    same time so that they share the machine's noise.
//! 2. Recovered pause lengths: a detector process is SIGSTOPped for 50, 300 and 1000 ms,
//!    several times each; the stop is measured on the injector's side too, and every
//!    reported interval must contain it.
//!
//! ```text
//! cargo run --release -p skew-pause --example bench_pauses -- SKEW_BINARY [SECONDS] [TRIALS]
//! ```
use serde_json::Value;
use skew_pause::pause::next_deadline_ns;
use skew_pause::sys::clocks::{mono_ns, process_cpu_ns, set_timer_slack, sleep_until_mono};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The bare loop: sleep to absolute deadlines and read the clock, nothing else. Prints
/// "cpu_ns wakes elapsed_ns".
fn bare(interval_ns: i64, seconds: i64, slack_ns: u64) {
    if slack_ns > 0 {
        set_timer_slack(slack_ns);
    }
    let start = mono_ns();
    let cpu0 = process_cpu_ns().unwrap_or(0);
    let end = start + seconds * 1_000_000_000;
    let mut deadline = start + interval_ns;
    let mut wakes = 0u64;
    let mut worst = 0i64;
    while deadline < end {
        sleep_until_mono(deadline);
        let now = mono_ns();
        worst = worst.max(now - deadline);
        wakes += 1;
        deadline = next_deadline_ns(deadline, now, interval_ns);
    }
    let cpu = process_cpu_ns().unwrap_or(0) - cpu0;
    println!("{cpu} {wakes} {} {worst}", mono_ns() - start);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn cpu_overhead(skew: &str, seconds: i64, runs: usize) {
    println!(
        "## CPU overhead ({seconds} s per run, {runs} runs, all three at once; % of one core)\n"
    );
    println!("| interval | bare loop, slack 1 ns | bare loop, slack 50 µs | skew detector thread | ratio detector / bare | skew sibling | skew detector + sibling | ratio total / bare |");
    println!("|---|---|---|---|---|---|---|---|");
    let me = std::env::current_exe().expect("own path");
    for interval_ms in [1i64, 10] {
        let (mut b1, mut b50, mut det, mut sib, mut tot) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..runs {
            let spawn_bare = |slack: &str| {
                Command::new(&me)
                    .args([
                        "bare",
                        &(interval_ms * 1_000_000).to_string(),
                        &seconds.to_string(),
                        slack,
                    ])
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("bare loop")
            };
            let bare1 = spawn_bare("1");
            let bare50 = spawn_bare("0");
            let skew_run = Command::new(skew)
                .args([
                    "pauses",
                    "--json",
                    "--interval",
                    &format!("{interval_ms}ms"),
                    "--duration",
                    &format!("{seconds}s"),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("skew");
            let frac = |c: std::process::Child| {
                let out = c.wait_with_output().expect("bare output");
                let s = String::from_utf8_lossy(&out.stdout);
                let f: Vec<f64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();
                f[0] / f[2]
            };
            b1.push(frac(bare1) * 100.0);
            b50.push(frac(bare50) * 100.0);
            let out = skew_run.wait_with_output().expect("skew output");
            let v: Value = serde_json::from_slice(&out.stdout).expect("skew JSON");
            det.push(v["cpu_overhead_detector"].as_f64().unwrap() * 100.0);
            sib.push(v["cpu_overhead_sibling"].as_f64().unwrap() * 100.0);
            tot.push(v["cpu_overhead"].as_f64().unwrap() * 100.0);
        }
        let (b1m, dm, tm) = (median(b1.clone()), median(det.clone()), median(tot.clone()));
        println!(
            "| {interval_ms} ms | {b1m:.2} ({}) | {:.2} | {dm:.2} ({}) | **{:.2}×** | {:.2} | {tm:.2} | {:.2}× |",
            b1.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(", "),
            median(b50),
            det.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(", "),
            dm / b1m,
            median(sib),
            tm / b1m,
        );
    }
    println!("\n(medians; every run in parentheses)\n");
}

struct Injected {
    nominal_ms: u64,
    truth_lo: f64,
    truth_hi: f64,
    /// When SIGCONT was sent, s since the Unix epoch.
    resumed_unix_s: f64,
}

fn unix_s(text: &str) -> f64 {
    skew_time::rfc3339::parse_ns(text.as_bytes()).map_or(0.0, skew_time::ns_to_s)
}

fn recovery(skew: &str, trials: usize) {
    println!("## Recovered pause lengths ({trials} SIGSTOPs of each length per interval)\n");
    println!("| interval | stop | trials | reported interval contains the stop | kinds | max error of the midpoint | mean width | min − stop (mean, min, max) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut misses = Vec::new();
    let mut others = Vec::new();
    for interval_ms in [1u64, 10] {
        let lengths = [50u64, 300, 1000];
        let gap = Duration::from_millis(1300);
        let total =
            trials as u64 * (lengths.iter().sum::<u64>() + 3 * gap.as_millis() as u64) + 4000;
        let child = Command::new(skew)
            .args([
                "pauses",
                "--json",
                "--interval",
                &format!("{interval_ms}ms"),
                "--duration",
                &format!("{total}ms"),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("skew");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        std::thread::sleep(Duration::from_millis(1500));
        let mut injected = Vec::new();
        for _ in 0..trials {
            for &ms in &lengths {
                let t0 = Instant::now();
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
                let t1 = Instant::now();
                std::thread::sleep(Duration::from_millis(ms));
                let t2 = Instant::now();
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
                let t3 = Instant::now();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs_f64();
                injected.push(Injected {
                    nominal_ms: ms,
                    truth_lo: (t2 - t1).as_secs_f64(),
                    truth_hi: (t3 - t0).as_secs_f64(),
                    resumed_unix_s: now,
                });
                std::thread::sleep(gap);
            }
        }
        let out = child.wait_with_output().expect("skew output");
        let v: Value = serde_json::from_slice(&out.stdout).expect("skew JSON");
        // Each stop is matched with the event that ended within 100 ms of its SIGCONT.
        let all = v["events"].as_array().unwrap();
        let mut matched: Vec<(&Injected, &Value)> = Vec::new();
        for inj in &injected {
            match all
                .iter()
                .find(|e| (unix_s(e["end"].as_str().unwrap()) - inj.resumed_unix_s).abs() < 0.1)
            {
                Some(e) => matched.push((inj, e)),
                None => misses.push(format!(
                    "{interval_ms} ms: no event for the {} ms stop resumed at {:.3}",
                    inj.nominal_ms, inj.resumed_unix_s
                )),
            }
        }
        for e in all {
            if !matched.iter().any(|(_, m)| *m == e) {
                others.push(format!("{interval_ms} ms: {e}"));
            }
        }
        for &ms in &lengths {
            let pairs: Vec<&(&Injected, &Value)> =
                matched.iter().filter(|(i, _)| i.nominal_ms == ms).collect();
            let mut contained = 0;
            let mut max_mid_err = 0f64;
            let mut widths = vec![];
            let mut min_err = vec![];
            let mut kinds: Vec<(String, usize)> = Vec::new();
            for (inj, e) in &pairs {
                let (lo, hi) = (e["min_s"].as_f64().unwrap(), e["max_s"].as_f64().unwrap());
                let k = e["kind"].as_str().unwrap_or("?").to_string();
                match kinds.iter_mut().find(|(n, _)| *n == k) {
                    Some((_, c)) => *c += 1,
                    None => kinds.push((k, 1)),
                }
                // The stop lasted between truth_lo and truth_hi (the injector's bracket).
                if lo <= inj.truth_hi && inj.truth_lo <= hi {
                    contained += 1;
                } else {
                    misses.push(format!(
                        "stop [{:.6}, {:.6}] s, reported {e}",
                        inj.truth_lo, inj.truth_hi
                    ));
                }
                let mid = (lo + hi) / 2.0;
                let truth = (inj.truth_lo + inj.truth_hi) / 2.0;
                max_mid_err = max_mid_err.max((mid - truth).abs());
                widths.push(hi - lo);
                min_err.push(lo - truth);
            }
            let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
            let mn = min_err.iter().cloned().fold(f64::MAX, f64::min);
            let mx = min_err.iter().cloned().fold(f64::MIN, f64::max);
            println!(
                "| {interval_ms} ms | {ms} ms | {} | {contained}/{} | {} | {:.3} ms | {:.3} ms | {:+.3}, {:+.3}, {:+.3} ms |",
                pairs.len(),
                pairs.len(),
                kinds
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                max_mid_err * 1e3,
                mean(&widths) * 1e3,
                mean(&min_err) * 1e3,
                mn * 1e3,
                mx * 1e3,
            );
        }
    }
    println!();
    for m in misses {
        println!("miss: {m}\n");
    }
    for o in others {
        println!("other event (not injected): {o}\n");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("bare") {
        bare(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            args[4].parse().unwrap(),
        );
        return;
    }
    let skew = args
        .get(1)
        .expect("usage: bench_pauses SKEW_BINARY [SECONDS] [TRIALS]");
    let seconds: i64 = args.get(2).map_or(30, |s| s.parse().unwrap());
    let trials: usize = args.get(3).map_or(10, |s| s.parse().unwrap());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.trim());
    if seconds > 0 {
        cpu_overhead(skew, seconds, 3);
    }
    recovery(skew, trials);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
}
