//! What the picture shows at its edges (issue 13.6): the first and last runs are not drawn
//! on the frame, a lone run is a marker rather than a one-pixel dash, a long stretch
//! without runs becomes a narrow broken-axis band so the data keep the width, and the
//! bounds' legend swatches are in the series' colours, as the bands are.

use skew_monitor::schema::{DriftRow, Kind};
use skew_report::analysis::{analyze, AnalysisOptions};
use skew_report::filter::Filter;
use skew_report::layout::{Layout, Rect};
use skew_report::read::parse_bytes;
use skew_report::render::{render_with_layout, PageOptions};

const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z
const S: i64 = 1_000_000_000;

/// The first series' colour.
const SERIES0: [u8; 3] = [0x1F, 0x77, 0xB4];

fn rows_at(t: i64) -> Vec<DriftRow> {
    let run_time = skew_time::format::rfc3339_utc(t);
    let wobble = ((t / S) % 7) as f64 * 1e-6;
    vec![
        DriftRow {
            run_time: run_time.clone(),
            host: "h".into(),
            kind: Kind::Ntp,
            server: Some("a".into()),
            address: Some("a".into()),
            status: Some("ok".into()),
            offset_s: Some(wobble),
            delay_s: Some(2e-5),
            bound_lo_s: Some(wobble - 1e-5),
            bound_hi_s: Some(wobble + 1e-5),
            utc_lo_s: Some(wobble - 2e-5),
            utc_hi_s: Some(wobble + 2e-5),
            leap: Some("none".into()),
            truechimer: Some(true),
            ..DriftRow::default()
        },
        DriftRow {
            run_time,
            host: "h".into(),
            kind: Kind::Pause,
            pause_max_s: Some(0.002 + wobble * 100.0),
            pause_p99_s: Some(0.0002),
            pause_events: Some(0),
            ..DriftRow::default()
        },
    ]
}

fn draw(times: &[i64]) -> (Vec<u8>, Layout) {
    let mut w = csv::Writer::from_writer(Vec::new());
    for &t in times {
        for r in rows_at(t) {
            w.serialize(r).unwrap();
        }
    }
    let bytes = w.into_inner().unwrap();
    let (mut data, _) = parse_bytes("t.csv", &bytes, &Filter::default(), 1).unwrap();
    data.finish();
    let a = analyze(&data, &AnalysisOptions::default());
    render_with_layout(
        &data,
        &a,
        &PageOptions {
            width: 1600,
            height: 1400,
            title: "picture".into(),
        },
    )
    .unwrap()
}

/// `c` at opacity `a` over white, as the bitmap backend blends it.
fn over_white(c: [u8; 3], a: f64) -> [u8; 3] {
    c.map(|v| (255.0 - (255.0 - f64::from(v)) * a).round() as u8)
}

fn near(p: &[u8], c: [u8; 3]) -> bool {
    p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 3)
}

/// The x of every pixel of colour `c` inside `r`.
fn columns_of(rgb: &[u8], width: i32, r: Rect, c: [u8; 3]) -> Vec<i32> {
    let mut xs = Vec::new();
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            let i = ((y * width + x) * 3) as usize;
            if near(&rgb[i..i + 3], c) {
                xs.push(x);
            }
        }
    }
    xs
}

#[test]
fn the_first_and_last_runs_are_not_on_the_frame() {
    let times: Vec<i64> = (0..100).map(|k| T0 + k * 10 * S).collect();
    let (rgb, l) = draw(&times);
    let plot = l.panels[3].plot;
    // The bars' pixels: their blue at 75 %, over white or over a grid line.
    let mut bars = Vec::new();
    for y in plot.y..plot.bottom() {
        for x in plot.x..plot.right() {
            let i = ((y * 1600 + x) * 3) as usize;
            let (r, b) = (rgb[i], rgb[i + 2]);
            if r < 150 && b > r + 50 {
                bars.push(x);
            }
        }
    }
    bars.sort_unstable();
    bars.dedup();
    // Every run's bar is seen (before: the first and last were the frame's own columns,
    // hidden under it), and none touches the frame.
    let seen = bars.chunk_by(|a, b| b - a <= 2).count();
    assert_eq!(seen, 100, "{bars:?}");
    let (first, last) = (bars[0], bars[bars.len() - 1]);
    assert!(
        first >= plot.x + 10,
        "first bar at {first}, plot from {}",
        plot.x
    );
    assert!(
        last <= plot.right() - 11,
        "last bar at {last}, plot to {}",
        plot.right()
    );
}

#[test]
fn a_lone_run_is_drawn_as_a_marker() {
    let (rgb, l) = draw(&[T0]);
    for panel in [0, 1] {
        let dots = columns_of(&rgb, 1600, l.panels[panel].plot, SERIES0).len();
        // Before: a 3-pixel dash.
        assert!(dots >= 15, "panel {panel}: {dots} pixels");
    }
}

#[test]
fn a_three_day_gap_keeps_the_data_wide() {
    let mut times: Vec<i64> = (0..60).map(|k| T0 + k * 10 * S).collect();
    let after = T0 + 600 * S + 3 * 86_400 * S;
    times.extend((0..60).map(|k| after + k * 10 * S));
    let (rgb, l) = draw(&times);
    let plot = l.panels[0].plot;
    // The line's pixels (anti-aliased: at least about half of its colour, darker than
    // the bands under it).
    let mut xs = Vec::new();
    for y in plot.y..plot.bottom() {
        for x in plot.x..plot.right() {
            let i = ((y * 1600 + x) * 3) as usize;
            let (r, b) = (rgb[i], rgb[i + 2]);
            if r < 140 && b > r + 60 {
                xs.push(x);
            }
        }
    }
    xs.sort_unstable();
    xs.dedup();
    // Before: the two ten-minute stretches were squeezed into a few pixels at the edges
    // and the rest of every panel was grey.
    assert!(
        xs.len() as f64 > 0.8 * f64::from(plot.w),
        "the series' line covers {} of {} columns",
        xs.len(),
        plot.w
    );
    // The band between them is narrow, and hatched as a break (not just a shaded gap).
    let gap = over_white([0xEF, 0xEF, 0xEF], 1.0);
    let grey: Vec<i32> = {
        let mut v = columns_of(
            &rgb,
            1600,
            Rect {
                h: 1,
                y: plot.y + plot.h / 2,
                ..plot
            },
            gap,
        );
        v.dedup();
        v
    };
    assert!(
        !grey.is_empty() && grey.len() < 60,
        "{} grey columns",
        grey.len()
    );
    let hatch = columns_of(&rgb, 1600, plot, [0xD4, 0xD4, 0xD4]);
    assert!(!hatch.is_empty());
}

#[test]
fn the_bounds_legend_is_in_the_series_colour() {
    let times: Vec<i64> = (0..50).map(|k| T0 + k * 10 * S).collect();
    let (rgb, l) = draw(&times);
    let legend = l.panels[0].legend;
    // One series (one legend line), then the hard bound's swatch, then the UTC bound's:
    // 22 × 10 px at the left of lines 1 and 2.
    let swatch = |line: i32| Rect {
        x: legend.x + 1,
        y: legend.y + 17 * line + 8 - 4,
        w: 20,
        h: 8,
    };
    let all = |r: Rect, c: [u8; 3]| columns_of(&rgb, 1600, r, c).len() == (r.w * r.h) as usize;
    // Before: the hard bound's swatch was grey (0x555555 at 35 %), the UTC bound's at 12 %.
    // The band is the series' colour at 25 % inside its UTC band at 10 %: so is the swatch.
    let hard = 1.0 - 0.75 * 0.9;
    assert!(
        all(swatch(1), over_white(SERIES0, hard)),
        "{:?}",
        &rgb[((swatch(1).y * 1600 + swatch(1).x) * 3) as usize..][..3]
    );
    assert!(all(swatch(2), over_white(SERIES0, 0.10)));
}
