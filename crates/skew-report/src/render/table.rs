//! The statistics table at the foot of the page, like ntpviz's: one row per series and
//! metric, numbers right-aligned with their units, columns dropped (narrowest page first)
//! when the page is too narrow.

use super::canvas::{alpha, rgb, Anchor, Canvas, Drawn};
use super::frame::{INK, MUTED};
use super::Ctx;
use crate::layout::{ellipsize, font, size, Measure, Rect};
use crate::stats::StatsRow;
use crate::text::metric_value;

struct Column {
    title: &'static str,
    numeric: bool,
    cell: fn(&StatsRow) -> String,
}

fn columns() -> Vec<Column> {
    fn v(r: &StatsRow, x: f64, spread: bool) -> String {
        metric_value(&r.metric, x, spread)
    }
    vec![
        Column {
            title: "Host",
            numeric: false,
            cell: |r| r.host.clone(),
        },
        Column {
            title: "Source",
            numeric: false,
            cell: |r| r.source.clone(),
        },
        Column {
            title: "Metric",
            numeric: false,
            cell: |r| r.metric.clone(),
        },
        Column {
            title: "N",
            numeric: true,
            cell: |r| r.stats.count.to_string(),
        },
        Column {
            title: "Min",
            numeric: true,
            cell: |r| v(r, r.stats.min, false),
        },
        Column {
            title: "1%",
            numeric: true,
            cell: |r| v(r, r.stats.p1, false),
        },
        Column {
            title: "5%",
            numeric: true,
            cell: |r| v(r, r.stats.p5, false),
        },
        Column {
            title: "50%",
            numeric: true,
            cell: |r| v(r, r.stats.p50, false),
        },
        Column {
            title: "95%",
            numeric: true,
            cell: |r| v(r, r.stats.p95, false),
        },
        Column {
            title: "99%",
            numeric: true,
            cell: |r| v(r, r.stats.p99, false),
        },
        Column {
            title: "Max",
            numeric: true,
            cell: |r| v(r, r.stats.max, false),
        },
        Column {
            title: "90% range",
            numeric: true,
            cell: |r| v(r, r.stats.range_90, true),
        },
        Column {
            title: "98% range",
            numeric: true,
            cell: |r| v(r, r.stats.range_98, true),
        },
        Column {
            title: "Mean",
            numeric: true,
            cell: |r| v(r, r.stats.mean, false),
        },
        Column {
            title: "StdDev",
            numeric: true,
            cell: |r| v(r, r.stats.stddev, true),
        },
    ]
}

/// Columns given up, in this order, when the page is too narrow.
const DROP_ORDER: [&str; 8] = [
    "1%",
    "99%",
    "98% range",
    "Host",
    "5%",
    "95%",
    "N",
    "90% range",
];

/// Draws the table in `r`, `rows` rows of `ctx.analysis.stats` at most.
pub fn draw(cv: &Canvas, ctx: &Ctx, r: Rect, rows: usize) -> Drawn {
    let stats = &ctx.analysis.stats;
    let line = size::LINE_H;
    let y0 = f64::from(r.y);
    cv.text(
        "Statistics (ntpviz-style; percentiles by nearest rank, population standard deviation; all rows in --stats-csv)",
        f64::from(r.x),
        y0 + f64::from(line) / 2.0,
        font::LABEL,
        INK,
        Anchor::Left,
    )?;
    if stats.is_empty() {
        return cv.text(
            "no data: no values in the selected range",
            f64::from(r.x),
            y0 + f64::from(line) * 1.5,
            font::TICK,
            MUTED,
            Anchor::Left,
        );
    }
    let mut cols = columns();
    if !ctx.many_hosts {
        cols.retain(|c| c.title != "Host");
    }
    let shown = &stats[..rows.min(stats.len())];
    let pad = 14.0;
    let swatch = 16.0;
    let widths = |cols: &[Column]| -> Vec<f64> {
        cols.iter()
            .map(|c| {
                shown
                    .iter()
                    .map(|row| cv.text_width(&(c.cell)(row), font::TICK))
                    .fold(cv.text_width(c.title, font::TICK), f64::max)
                    .min(if c.numeric { 120.0 } else { 260.0 })
            })
            .collect()
    };
    let mut w = widths(&cols);
    let mut dropped = false;
    for name in DROP_ORDER {
        if swatch + w.iter().map(|x| x + pad).sum::<f64>() <= f64::from(r.w) {
            break;
        }
        if let Some(i) = cols.iter().position(|c| c.title == name) {
            cols.remove(i);
            w.remove(i);
            dropped = true;
        }
    }
    let header_y = y0 + f64::from(line) * 1.5;
    cv.rect(
        Rect {
            x: r.x,
            y: (header_y - f64::from(line) / 2.0) as i32,
            w: r.w,
            h: line,
        },
        alpha(rgb(0xE8E8E8), 1.0),
        true,
    )?;
    let mut xs = Vec::with_capacity(cols.len());
    let mut x = f64::from(r.x) + swatch;
    for (c, cw) in cols.iter().zip(&w) {
        xs.push(x);
        let (tx, anchor) = if c.numeric {
            (x + cw, Anchor::Right)
        } else {
            (x, Anchor::Left)
        };
        cv.text(c.title, tx, header_y, font::TICK, INK, anchor)?;
        x += cw + pad;
    }
    for (i, row) in shown.iter().enumerate() {
        let y = header_y + f64::from(line) * (i as f64 + 1.0);
        if i % 2 == 1 {
            cv.rect(
                Rect {
                    x: r.x,
                    y: (y - f64::from(line) / 2.0) as i32,
                    w: r.w,
                    h: line,
                },
                alpha(rgb(0xF6F6F6), 1.0),
                true,
            )?;
        }
        cv.rect(
            Rect {
                x: r.x + 2,
                y: y as i32 - 4,
                w: 9,
                h: 9,
            },
            alpha(ctx.stats_color(row), 1.0),
            true,
        )?;
        for ((c, cw), x) in cols.iter().zip(&w).zip(&xs) {
            let text = ellipsize(&(c.cell)(row), *cw, font::TICK, cv);
            let (tx, anchor) = if c.numeric {
                (x + cw, Anchor::Right)
            } else {
                (*x, Anchor::Left)
            };
            cv.text(&text, tx, y, font::TICK, INK, anchor)?;
        }
    }
    let mut notes = Vec::new();
    if shown.len() < stats.len() {
        notes.push(format!(
            "{} more rows in --stats-csv",
            stats.len() - shown.len()
        ));
    }
    if dropped {
        notes.push("some columns left out for width: all in --stats-csv".to_string());
    }
    if !notes.is_empty() {
        let y = header_y + f64::from(line) * (shown.len() as f64 + 1.0);
        cv.text(
            &notes.join("; "),
            f64::from(r.x) + swatch,
            y,
            font::TICK,
            MUTED,
            Anchor::Left,
        )?;
    }
    Ok(())
}
