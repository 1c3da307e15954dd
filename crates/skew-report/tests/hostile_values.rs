//! Logs with absurd values still make a report (issue 14.5): one finite huge value (1e300),
//! infinities, subnormals and run times at the ends of the i64 range clamp the axes and
//! bound the ticks instead of aborting on a huge allocation or overflowing.

use proptest::prelude::*;
use skew_monitor::schema::{DriftRow, Kind};
use skew_report::analysis::{analyze, AnalysisOptions};
use skew_report::filter::Filter;
use skew_report::read::parse_bytes;
use skew_report::render::{render, PageOptions};

const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

/// The value given to one column of one row, all others ordinary.
#[derive(Debug, Clone, Copy)]
struct Poison {
    column: &'static str,
    value: f64,
}

fn rows(n: i64, step_ns: i64, t0: i64, poison: &[(i64, Poison)]) -> Vec<DriftRow> {
    let mut out = Vec::new();
    for r in 0..n {
        let t = skew_time::format::rfc3339_utc(t0.saturating_add(r.saturating_mul(step_ns)));
        let mut ntp = DriftRow {
            run_time: t.clone(),
            host: "h".into(),
            kind: Kind::Ntp,
            server: Some("a".into()),
            address: Some("a".into()),
            status: Some("ok".into()),
            offset_s: Some(1e-6),
            delay_s: Some(2e-5),
            bound_lo_s: Some(-1e-5),
            bound_hi_s: Some(1e-5),
            utc_lo_s: Some(-2e-5),
            utc_hi_s: Some(2e-5),
            leap: Some("none".into()),
            truechimer: Some(true),
            ..DriftRow::default()
        };
        let mut clock = DriftRow {
            run_time: t.clone(),
            host: "h".into(),
            kind: Kind::Clock,
            rate_ppm: Some(1.5),
            rate_ci95_ppm: Some(0.1),
            kernel_freq_ppm: Some(-3.0),
            steps: Some(0),
            suspended_s: Some(0.0),
            ..DriftRow::default()
        };
        let mut pause = DriftRow {
            run_time: t.clone(),
            host: "h".into(),
            kind: Kind::Pause,
            pause_max_s: Some(0.002),
            pause_p99_s: Some(0.0002),
            pause_events: Some(0),
            ..DriftRow::default()
        };
        let mut agreement = DriftRow {
            run_time: t,
            host: "h".into(),
            kind: Kind::Agreement,
            status: Some("majority".into()),
            utc_lo_s: Some(-1e-5),
            utc_hi_s: Some(1e-5),
            falsetickers: Some(0),
            ..DriftRow::default()
        };
        for (at, p) in poison {
            if *at != r {
                continue;
            }
            let v = Some(p.value);
            match p.column {
                "offset_s" => ntp.offset_s = v,
                "delay_s" => ntp.delay_s = v,
                "bound_lo_s" => ntp.bound_lo_s = v,
                "bound_hi_s" => ntp.bound_hi_s = v,
                "utc_lo_s" => ntp.utc_lo_s = v,
                "utc_hi_s" => ntp.utc_hi_s = v,
                "rate_ppm" => clock.rate_ppm = v,
                "rate_ci95_ppm" => clock.rate_ci95_ppm = v,
                "kernel_freq_ppm" => clock.kernel_freq_ppm = v,
                "step_max_s" => {
                    clock.steps = Some(1);
                    clock.step_max_s = v;
                }
                "suspended_s" => clock.suspended_s = v,
                "pause_max_s" => pause.pause_max_s = v,
                "pause_p99_s" => pause.pause_p99_s = v,
                "agreement_lo_s" => agreement.utc_lo_s = v,
                "agreement_hi_s" => agreement.utc_hi_s = v,
                other => panic!("no column {other}"),
            }
        }
        out.extend([ntp, clock, pause, agreement]);
    }
    out
}

const COLUMNS: [&str; 15] = [
    "offset_s",
    "delay_s",
    "bound_lo_s",
    "bound_hi_s",
    "utc_lo_s",
    "utc_hi_s",
    "rate_ppm",
    "rate_ci95_ppm",
    "kernel_freq_ppm",
    "step_max_s",
    "suspended_s",
    "pause_max_s",
    "pause_p99_s",
    "agreement_lo_s",
    "agreement_hi_s",
];

fn csv_of(rows: &[DriftRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).unwrap();
    }
    w.into_inner().unwrap()
}

/// Reads, analyses and draws a small page; returns the count of non-white pixels.
fn report(bytes: &[u8], opts: &AnalysisOptions) -> usize {
    let (mut data, _) = parse_bytes("t.csv", bytes, &Filter::default(), 1).unwrap();
    data.finish();
    let a = analyze(&data, opts);
    let rgb = render(
        &data,
        &a,
        &PageOptions {
            width: 800,
            height: 600,
            title: "hostile".into(),
        },
    )
    .unwrap();
    assert_eq!(rgb.len(), 800 * 600 * 3);
    // The JSON summary serializes too (non-finite statistics become null, not an error).
    serde_json::to_string(&a).unwrap();
    rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count()
}

/// The finding: one row with 1e300 in `delay_s`, `pause_max_s` or `pause_p99_s`
/// aborted on a 4–8 GiB allocation in the log axis' ticks. Every numeric column is tried.
#[test]
fn one_huge_finite_value_in_any_column_still_draws() {
    for column in COLUMNS {
        for value in [1e300, -1e300, f64::MAX, 1e-320] {
            let bytes = csv_of(&rows(
                20,
                10_000_000_000,
                T0,
                &[(7, Poison { column, value })],
            ));
            let drawn = report(&bytes, &AnalysisOptions::default());
            assert!(drawn > 10_000, "{column} = {value}: {drawn} pixels drawn");
        }
    }
}

/// Run times at both ends of what fits in i64 ns (1677 and 2262): spans and gaps that
/// overflow i64 are computed without overflow, and the time axis has a bounded number of
/// ticks.
#[test]
fn run_times_at_the_ends_of_the_range() {
    let lo = -9_223_372_036_000_000_000; // 1677-09-21
    let hi = 9_223_372_036_000_000_000; // 2262-04-11
    let mut all = rows(3, 10_000_000_000, lo, &[]);
    all.extend(rows(3, 10_000_000_000, hi - 30_000_000_000, &[]));
    let bytes = csv_of(&all);
    assert!(report(&bytes, &AnalysisOptions::default()) > 10_000);
    // A window asked for that reaches the ends of the range.
    let opts = AnalysisOptions {
        since_ns: Some(i64::MIN),
        until_ns: Some(i64::MAX),
        ..AnalysisOptions::default()
    };
    assert!(report(&bytes, &opts) > 10_000);
}

fn extreme() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1e300),
        Just(-1e300),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-5e-324),
        Just(0.0),
        Just(1e12),
        Just(1e-12),
        -1e308f64..1e308,
        -1.0f64..1.0,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any mix of extreme values in any columns draws a page.
    #[test]
    fn extreme_values_anywhere_draw_a_page(
        poison in proptest::collection::vec((0i64..6, 0usize..COLUMNS.len(), extreme()), 1..8),
        step_ns in prop_oneof![Just(1i64), Just(10_000_000_000i64), Just(86_400_000_000_000i64)],
    ) {
        let p: Vec<(i64, Poison)> = poison
            .iter()
            .map(|&(r, c, value)| (r, Poison { column: COLUMNS[c], value }))
            .collect();
        let bytes = csv_of(&rows(6, step_ns, T0, &p));
        prop_assert!(report(&bytes, &AnalysisOptions::default()) > 10_000);
    }
}
