//! The renderer on crafted logs: every panel draws, falsetickers are visibly marked, small
//! pages and empty panels work, fleets overflow their legends gracefully.

use skew_monitor::schema::{DriftRow, Kind};
use skew_report::analysis::{analyze, AnalysisOptions};
use skew_report::filter::Filter;
use skew_report::read::parse_bytes;
use skew_report::render::{render, PageOptions};

const T0: i64 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z

fn ntp(host: &str, t: i64, server: &str, offset: f64, truechimer: bool) -> DriftRow {
    DriftRow {
        run_time: skew_time::format::rfc3339_utc(t),
        host: host.into(),
        kind: Kind::Ntp,
        server: Some(server.into()),
        address: Some(server.into()),
        status: Some("ok".into()),
        offset_s: Some(offset),
        delay_s: Some(2e-5),
        bound_lo_s: Some(offset - 1e-5),
        bound_hi_s: Some(offset + 1e-5),
        utc_lo_s: Some(offset - 2e-5),
        utc_hi_s: Some(offset + 2e-5),
        leap: Some("none".into()),
        truechimer: Some(truechimer),
        ..DriftRow::default()
    }
}

/// `runs` runs of `hosts` hosts, two honest servers each, and a liar when asked.
fn log(hosts: usize, runs: i64, liar: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in 0..runs {
        for h in 0..hosts {
            let host = format!("h{h}");
            let t = T0 + r * 10_000_000_000;
            let wobble = ((r * 7 + h as i64) % 11) as f64 * 1e-6;
            w.serialize(ntp(&host, t, "a", wobble, true)).unwrap();
            w.serialize(ntp(&host, t, "b", -wobble, true)).unwrap();
            if liar {
                w.serialize(ntp(&host, t, "liar", 0.25, false)).unwrap();
            }
            w.serialize(DriftRow {
                run_time: skew_time::format::rfc3339_utc(t),
                host: host.clone(),
                kind: Kind::Agreement,
                status: Some("majority".into()),
                utc_lo_s: Some(-1e-5),
                utc_hi_s: Some(1e-5),
                truechimers: Some(2),
                falsetickers: Some(u32::from(liar)),
                ..DriftRow::default()
            })
            .unwrap();
            w.serialize(DriftRow {
                run_time: skew_time::format::rfc3339_utc(t),
                host,
                kind: Kind::Pause,
                pause_max_s: Some(0.001 + wobble * 100.0),
                pause_p99_s: Some(0.0002),
                pause_events: Some(0),
                ..DriftRow::default()
            })
            .unwrap();
        }
    }
    w.into_inner().unwrap()
}

fn draw(bytes: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (mut data, _) = parse_bytes("t.csv", bytes, &Filter::default(), 1).unwrap();
    data.finish();
    let a = analyze(&data, &AnalysisOptions::default());
    let rgb = render(
        &data,
        &a,
        &PageOptions {
            width,
            height,
            title: "test".into(),
        },
    )
    .unwrap();
    assert_eq!(rgb.len(), (width * height * 3) as usize);
    rgb
}

fn reddish(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .filter(|p| p[0] > 180 && p[1] < 100 && p[2] < 100)
        .count()
}

fn non_white(rgb: &[u8]) -> usize {
    rgb.chunks(3).filter(|p| p != &[255, 255, 255]).count()
}

#[test]
fn falsetickers_are_marked_in_red() {
    let honest = draw(&log(1, 300, false), 1600, 1400);
    let lying = draw(&log(1, 300, true), 1600, 1400);
    assert_eq!(reddish(&honest), 0, "no red without a falseticker");
    assert!(reddish(&lying) > 200, "{} red pixels", reddish(&lying));
    // Something is drawn in every panel's area (not a blank page).
    assert!(non_white(&honest) > 100_000);
}

#[test]
fn small_pages_and_empty_panels() {
    // Pause rows only: the offset, delay and clock panels say "no data".
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in 0..5 {
        w.serialize(DriftRow {
            run_time: skew_time::format::rfc3339_utc(T0 + r * 1_000_000_000),
            host: "h".into(),
            kind: Kind::Pause,
            pause_max_s: Some(0.002),
            pause_p99_s: Some(0.0001),
            pause_events: Some(0),
            ..DriftRow::default()
        })
        .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    for (wd, ht) in [(800, 600), (1600, 1400), (3000, 1000)] {
        assert!(non_white(&draw(&bytes, wd, ht)) > 1000);
    }
    // One run only: a minute around it.
    let one = draw(&log(1, 1, true), 800, 600);
    assert!(reddish(&one) > 0);
}

#[test]
fn fleets_render() {
    let rgb = draw(&log(12, 50, true), 1600, 1400);
    assert!(non_white(&rgb) > 100_000);
}

#[test]
fn control_characters_are_drawn_as_their_escapes() {
    // A host or server named with terminal escapes (issue 14.2) is drawn as the terminal
    // shows it: the page with the raw name equals the page with the escaped one.
    let bytes = log(1, 20, true);
    let (mut data, _) = parse_bytes("t.csv", &bytes, &Filter::default(), 1).unwrap();
    data.finish();
    let page = |name: &str| {
        let mut d = data.clone();
        for s in &mut d.series {
            s.server = format!("{}{name}", s.server);
        }
        let a = analyze(&d, &AnalysisOptions::default());
        render(
            &d,
            &a,
            &PageOptions {
                width: 800,
                height: 600,
                title: format!("title {name}"),
            },
        )
        .unwrap()
    };
    assert!(page("\x1b[31m\u{202e}") == page("\\x1b[31m\\u{202e}"));
    assert!(page("\x1b[31m") != page("[31m"));
}
