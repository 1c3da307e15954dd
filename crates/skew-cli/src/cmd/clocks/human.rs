//! The human views of `skew clocks`: the report, and the `--watch` lines.

use crate::output::table::{Align, Table};
use skew_clock::detect::Direction;
use skew_clock::monitor::Summary;
use skew_clock::report::{ClocksReport, IntervalRecord, RateEntry};
use skew_time::format::{signed, signed_s, unsigned, unsigned_s};

/// A fractional nanosecond figure: `20.3ns`, or `4.000ms` above 1 µs.
fn ns_f(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.1}ns")
    } else {
        unsigned(v.round() as u64)
    }
}

fn dash() -> String {
    "-".to_string()
}

fn ppm(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(dash, |v| format!("{v:+.decimals$}"))
}

/// Shortens an RFC 3339 timestamp with nanoseconds to microseconds.
fn short_time(t: &str) -> String {
    match t.len() {
        30 => format!("{}Z", &t[..26]),
        _ => t.to_string(),
    }
}

fn rate_row(name: &str, r: &RateEntry) -> Vec<String> {
    vec![
        name.to_string(),
        ppm(r.ppm, 6),
        r.ci95_ppm.map_or_else(dash, |v| format!("{v:.6}")),
        ppm(r.kernel_expected_ppm, 6),
        ppm(r.minus_kernel_ppm, 6),
        r.n.to_string(),
        r.segments.to_string(),
        r.residual_rms_ns
            .map_or_else(dash, |v| unsigned(v.round() as u64)),
    ]
}

/// The report.
pub fn report(r: &ClocksReport) -> String {
    let mut out = String::new();
    let run = &r.run;
    out.push_str(&format!(
        "skew clocks: {:.3} s from {} to {}, {} samples (every {}, tightest of {} chained reads)\n\n",
        run.duration_s,
        short_time(&run.start),
        short_time(&run.end),
        run.samples,
        unsigned_s(run.sample_interval_s),
        run.rounds
    ));

    survey(&mut out, r);
    rates(&mut out, r);
    steps(&mut out, r);
    suspend_and_tai(&mut out, r);
    kernel_and_clocksource(&mut out, r);
    warnings_and_notes(&mut out, r);
    out
}

/// The per-clock survey: resolution and read cost.
fn survey(out: &mut String, r: &ClocksReport) {
    if !r.clocks.is_empty() {
        let mut t = Table::new(&[
            ("Clock", Align::Left),
            ("Resolution", Align::Right),
            ("Measured", Align::Right),
            ("Read min", Align::Right),
            ("Read median", Align::Right),
            ("Behaviour", Align::Left),
        ]);
        for c in &r.clocks {
            let behaviour = match &c.error {
                Some(_) => "unavailable (see the notes)".to_string(),
                None => c.behaviour.to_string(),
            };
            t.row(vec![
                c.name.to_string(),
                c.resolution_ns
                    .map_or_else(dash, |v| unsigned(v.max(0) as u64)),
                c.measured_resolution_ns
                    .map_or_else(dash, |v| unsigned(v.max(0) as u64)),
                c.read_cost_ns.map_or_else(dash, |v| ns_f(v.min)),
                c.read_cost_ns.map_or_else(dash, |v| ns_f(v.median)),
                behaviour,
            ]);
        }
        out.push_str(&t.render());
        out.push_str(
            "Resolution: clock_getres. Measured: smallest forward step between consecutive reads \
(chrony's method). Read: time per clock_gettime call.\n\n",
        );
    }
}

/// Rates against MONOTONIC_RAW, with what the kernel predicts.
fn rates(out: &mut String, r: &ClocksReport) {
    out.push_str("Rates against MONOTONIC_RAW (least squares over the samples, 95 % CI):\n");
    let mut t = Table::new(&[
        ("Clock", Align::Left),
        ("Rate ppm", Align::Right),
        ("+/- ppm", Align::Right),
        ("Kernel ppm", Align::Right),
        ("Diff ppm", Align::Right),
        ("N", Align::Right),
        ("Segments", Align::Right),
        ("Resid RMS", Align::Right),
    ]);
    t.row(rate_row("REALTIME", &r.rate_ppm.realtime_vs_raw));
    t.row(rate_row("MONOTONIC", &r.rate_ppm.monotonic_vs_raw));
    out.push_str(&t.render());
    if let Some(k) = &r.kernel_rate {
        out.push_str(&format!(
            "Kernel ppm: what adjtimex predicts = freq {:+.4} + tick {:+.4} + PLL slew {:+.4}. \
Diff: measured − predicted.\n",
            k.freq_ppm, k.tick_ppm, k.pll_slew_ppm
        ));
    }
    out.push('\n');
}

/// Steps of REALTIME, clock settings the kernel reported, jumps.
fn steps(out: &mut String, r: &ClocksReport) {
    let run = &r.run;
    out.push_str(&format!(
        "Steps of REALTIME against BOOTTIME (threshold {}): ",
        unsigned_s(run.step_threshold_s)
    ));
    if r.steps.is_empty() {
        out.push_str("none\n");
    } else {
        out.push('\n');
        let mut t = Table::new(&[
            ("At (UTC)", Align::Left),
            ("Into run", Align::Right),
            ("Size", Align::Right),
            ("+/-", Align::Right),
            ("Direction", Align::Left),
            ("Kernel set", Align::Left),
        ]);
        for st in &r.steps {
            t.row(vec![
                short_time(&st.at),
                format!("{:.3}s", st.elapsed_s),
                signed_s(st.size_s),
                unsigned_s(st.uncertainty_s),
                match st.direction {
                    Direction::Forward => "forward".into(),
                    Direction::Backward => "BACKWARD".into(),
                },
                if st.clock_set_seen { "yes" } else { "no" }.into(),
            ]);
        }
        out.push_str(&t.render());
        if r.steps.iter().any(|s| s.direction == Direction::Backward) {
            out.push_str(&format!(
                "BACKWARD: {}.\n",
                skew_clock::detect::BACKWARD_WARNING
            ));
        }
    }
    out.push_str(&format!(
        "Clock settings reported by the kernel (timerfd TFD_TIMER_CANCEL_ON_SET, {}): {}\n",
        run.timerfd,
        if r.clock_sets.is_empty() {
            "none".to_string()
        } else {
            r.clock_sets
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        short_time(&c.at),
                        c.explained_by.unwrap_or("below the step threshold")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    for j in &r.jumps {
        out.push_str(&format!(
            "{} jumped {} at {}\n",
            j.clock,
            signed_s(j.size_s),
            short_time(&j.at)
        ));
    }
    out.push('\n');
}

/// Suspend (BOOTTIME − MONOTONIC) and TAI.
fn suspend_and_tai(out: &mut String, r: &ClocksReport) {
    let sp = &r.suspend;
    out.push_str(&format!(
        "Suspend: BOOTTIME − MONOTONIC = {} (+/- {}), grew {} during the run",
        signed_s(sp.suspended_s),
        unsigned_s(sp.uncertainty_s),
        signed_s(sp.growth_s)
    ));
    match (&sp.timens_offsets, sp.host_suspended_s) {
        (Some(o), Some(host)) if o.monotonic_s != 0.0 || o.boottime_s != 0.0 => {
            out.push_str(&format!(
                "\n  time namespace: MONOTONIC {:+.3} s, BOOTTIME {:+.3} s; host suspend {}\n",
                o.monotonic_s,
                o.boottime_s,
                signed_s(host)
            ));
        }
        _ => out.push('\n'),
    }
    for e in &sp.events {
        out.push_str(&format!(
            "  suspended {} until {}\n",
            unsigned_s(e.size_s),
            short_time(&e.at)
        ));
    }

    match &r.tai {
        Some(tai) => out.push_str(&format!(
            "TAI: CLOCK_TAI − REALTIME = {} s ({}); kernel TAI offset {} s; {}\n",
            tai.clock_tai_minus_realtime_s,
            signed(tai.clock_tai_minus_realtime_ns),
            tai.kernel_tai_s,
            match tai.list_tai_minus_utc_s {
                Some(v) => format!(
                    "leap-seconds.list TAI − UTC {v} s{}",
                    tai.list_file
                        .as_deref()
                        .map_or(String::new(), |f| format!(" (from {f})"))
                ),
                None => "no leap-seconds.list found to check against".to_string(),
            }
        )),
        None => out.push_str("TAI: CLOCK_TAI cannot be read\n"),
    }
    out.push('\n');
}

/// The kernel's discipline and the clocksource.
fn kernel_and_clocksource(out: &mut String, r: &ClocksReport) {
    match &r.kernel {
        Some(k) => {
            out.push_str("Kernel discipline (adjtimex, read-only):\n");
            out.push_str(&format!(
                "  state {}, status {} (0x{:04x})\n",
                k.state,
                if k.status.is_empty() {
                    "-".to_string()
                } else {
                    k.status.join(" ")
                },
                k.status_raw
            ));
            out.push_str(&format!(
                "  offset {:+.9} s, freq {:+.4} ppm, maxerror {:.6} s, esterror {:.6} s\n",
                k.offset_s, k.freq_ppm, k.maxerror_s, k.esterror_s
            ));
            out.push_str(&format!(
                "  time constant {}, tick {} us, tai {} s\n",
                k.constant, k.tick_us, k.tai_s
            ));
            out.push_str(&format!(
                "  synchronized: {} ({})\n",
                if k.synchronized { "yes" } else { "no" },
                k.sync_reason
            ));
        }
        None => out.push_str("Kernel discipline: unavailable\n"),
    }
    match &r.clocksource {
        Some(c) => {
            out.push_str(&format!(
                "Clocksource: {} (available: {})\n",
                c.current,
                c.available.join(" ")
            ));
            if let Some(n) = c.note {
                out.push_str(&format!("  {n}\n"));
            }
        }
        None => out.push_str("Clocksource: unknown\n"),
    }
}

/// Warnings and notes.
fn warnings_and_notes(out: &mut String, r: &ClocksReport) {
    if !r.warnings.is_empty() || !r.notes.is_empty() {
        out.push('\n');
        for w in &r.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for n in &r.notes {
            out.push_str(&format!("note: {n}\n"));
        }
    }
}

const WATCH_COLUMNS: [(&str, usize); 9] = [
    ("Time (UTC)", 27),
    ("Wall elapsed", 14),
    ("Mono elapsed", 14),
    ("Raw elapsed", 14),
    ("Wall-Raw", 10),
    ("Mono-Raw", 10),
    ("RT ppm +/-95%", 19),
    ("MONO ppm +/-95%", 19),
    ("Suspended", 10),
];

/// The `--watch` header (columns as in `ntpcheck utils track`, plus rates and events).
pub fn watch_header() -> String {
    let mut h = String::new();
    for (i, (name, w)) in WATCH_COLUMNS.iter().enumerate() {
        if i == 0 {
            h.push_str(&format!("{name:<w$}"));
        } else {
            h.push_str(&format!("  {name:>w$}"));
        }
    }
    h.push_str("  Events");
    h
}

fn rate_cell(r: &RateEntry) -> String {
    match (r.ppm, r.ci95_ppm) {
        (Some(p), Some(c)) => format!("{p:+.4} +/-{c:.4}"),
        _ => "-".to_string(),
    }
}

/// One `--watch` line.
pub fn watch_line(r: &IntervalRecord) -> String {
    let mut events: Vec<String> = Vec::new();
    for st in &r.steps {
        match st.direction {
            Direction::Forward => events.push(format!("STEP {}", signed_s(st.size_s))),
            Direction::Backward => events.push(format!(
                "BACKWARD STEP {}: {}",
                signed_s(st.size_s),
                skew_clock::detect::BACKWARD_WARNING
            )),
        }
    }
    for c in &r.clock_sets {
        events.push(format!(
            "CLOCK SET (kernel{})",
            if c.explained_by.is_none() {
                ", below threshold"
            } else {
                ""
            }
        ));
    }
    for sp in &r.suspends {
        events.push(format!("SUSPEND {}", unsigned_s(sp.size_s)));
    }
    for j in &r.jumps {
        events.push(format!("{} JUMP {}", j.clock, signed_s(j.size_s)));
    }
    let cells = [
        short_time(&r.time_utc),
        format!("{:.9}s", r.elapsed_s),
        format!("{:.9}s", r.monotonic_elapsed_s),
        format!("{:.9}s", r.raw_elapsed_s),
        signed_s(r.realtime_minus_raw_s),
        signed_s(r.monotonic_minus_raw_s),
        rate_cell(&r.realtime_vs_raw),
        rate_cell(&r.monotonic_vs_raw),
        signed_s(r.suspended_s),
    ];
    let mut line = String::new();
    for (i, (cell, (_, w))) in cells.iter().zip(WATCH_COLUMNS).enumerate() {
        if i == 0 {
            line.push_str(&format!("{cell:<w$}"));
        } else {
            line.push_str(&format!("  {cell:>w$}"));
        }
    }
    if !events.is_empty() {
        line.push_str("  ");
        line.push_str(&events.join("; "));
    }
    line.trim_end().to_string()
}

/// What `--watch` prints when it stops: the whole run in two lines.
pub fn watch_trailer(s: &Summary) -> String {
    let rate = |f: &Option<skew_clock::regress::RateFit>| {
        f.as_ref()
            .map_or_else(dash, |f| format!("{:+.4} +/- {:.4} ppm", f.ppm, f.ci95_ppm))
    };
    let backward = s
        .steps
        .iter()
        .filter(|x| x.direction == Direction::Backward)
        .count();
    format!(
        "run: {:.3} s, {} samples; REALTIME vs RAW {}, MONOTONIC vs RAW {}\n\
         steps: {} ({} backward), kernel clock settings: {}, suspended during the run: {}\n",
        s.raw_elapsed_ns as f64 / 1e9,
        s.samples,
        rate(&s.realtime_vs_raw),
        rate(&s.monotonic_vs_raw),
        s.steps.len(),
        backward,
        s.clock_sets.len(),
        signed(s.suspend_growth_ns)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shortened_to_microseconds() {
        assert_eq!(
            short_time("2026-11-27T01:31:58.057345536Z"),
            "2026-11-27T01:31:58.057345Z"
        );
        assert_eq!(short_time("odd"), "odd");
        assert_eq!(ns_f(20.34), "20.3ns");
        assert_eq!(ns_f(4_000_000.0), "4.000ms");
    }

    #[test]
    fn header_and_line_align() {
        let h = watch_header();
        assert!(h.starts_with("Time (UTC)"));
        assert!(h.ends_with("Events"));
    }
}
