//! What every panel has: the plot's mapping from data to pixels, the frame with grid, tick
//! labels and axis description, gap shading, event lines, the legend and "no data" notes.

use super::canvas::{alpha, rgb, Anchor, Canvas, Drawn};
use crate::decimate::Columns;
use crate::layout::{ellipsize, font, size, Measure, PanelRects, Rect};
use crate::ticks::Axis;
use crate::time::utc_format;
use crate::timescale::TimeScale;
use plotters::style::{RGBAColor, RGBColor};

/// Text colour.
pub const INK: RGBColor = rgb(0x222222);
/// Secondary text.
pub const MUTED: RGBColor = rgb(0x666666);
/// Grid lines.
pub const GRID: RGBColor = rgb(0xE3E3E3);
/// Plot borders.
pub const BORDER: RGBColor = rgb(0x9A9A9A);
/// Gaps (no runs).
pub const GAP: RGBColor = rgb(0xEFEFEF);
/// Falseticker marks and long pauses.
pub const ALARM: RGBColor = rgb(0xD62728);

/// Hatching of broken-axis bands.
pub const HATCH: RGBColor = rgb(0xD4D4D4);

/// A run of points narrower than this, px, is drawn as markers (a lone point would be a
/// one-pixel dash).
const MIN_LINE_PX: f64 = 2.0;

/// Points of a line this far apart on average, px, also get a marker each.
const SPARSE_PX: f64 = 8.0;

/// Radius of the markers of lone points, px.
const MARKER_R: f64 = 3.0;

/// A plot: pixel rectangle, time axis and value axis.
#[derive(Debug, Clone, Copy)]
pub struct Plot<'a> {
    /// The plot area.
    pub r: Rect,
    /// The time axis.
    pub scale: &'a TimeScale,
    /// The value axis.
    pub y: Axis,
}

impl Plot<'_> {
    /// The x pixel of a time (kept within a plot's width of the plot, so that no
    /// drawing ever spans millions of pixels).
    pub fn x(&self, t: i64) -> f64 {
        self.x_of_frac(self.scale.frac(t))
    }

    /// The x pixel of a fraction of the plot's width.
    pub fn x_of_frac(&self, f: f64) -> f64 {
        f64::from(self.r.x) + f.clamp(-1.0, 2.0) * f64::from(self.r.w - 1)
    }

    /// The y pixel of a value (outside the plot when the value is off scale).
    pub fn y(&self, v: f64) -> f64 {
        f64::from(self.r.bottom() - 1) - self.y.frac(v) * f64::from(self.r.h - 1)
    }

    /// The y pixel, kept inside the plot.
    pub fn y_clamped(&self, v: f64) -> f64 {
        self.y(v)
            .clamp(f64::from(self.r.y), f64::from(self.r.bottom() - 1))
    }

    /// Whether a value is on the scale.
    pub fn on_scale(&self, v: f64) -> bool {
        let f = self.y.frac(v);
        (-1e-9..=1.0 + 1e-9).contains(&f)
    }

    /// One decimation column per pixel.
    pub fn columns(&self) -> Columns<'_> {
        Columns::new(self.scale, self.r.w.max(1) as usize)
    }

    /// Draws a line through `pts`, broken where values leave the scale; returns the
    /// points that were off scale. A run of points too short to show as a line (a lone
    /// point) is drawn as markers, and sparse points get a marker each.
    pub fn line(
        &self,
        cv: &Canvas,
        pts: &[(i64, f64)],
        c: RGBAColor,
        width: u32,
    ) -> Result<Vec<(i64, f64)>, super::canvas::RenderError> {
        let mut off = Vec::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        for &(t, v) in pts {
            if self.on_scale(v) {
                run.push((self.x(t), self.y(v)));
            } else {
                off.push((t, v));
                stroke(cv, &run, c, |cv, r| cv.line(r, c, width), true)?;
                run.clear();
            }
        }
        stroke(cv, &run, c, |cv, r| cv.line(r, c, width), true)?;
        Ok(off)
    }

    /// Draws a dashed line through `pts` (values clamped to the scale; a lone point as a
    /// marker).
    pub fn dashed(&self, cv: &Canvas, pts: &[(i64, f64)], c: RGBAColor) -> Drawn {
        let v: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(t, v)| (self.x(t), self.y_clamped(v)))
            .collect();
        stroke(cv, &v, c, |cv, r| cv.dashed(r, c, 1, 5, 3), false)
    }

    /// Fills a band given per column as (t0, t1, lo, hi), clamped to the plot: one
    /// vertical line per pixel column, interpolated between the band's columns, so no pixel
    /// is blended twice and millions of rows cost no more than a few thousand lines.
    pub fn band(&self, cv: &Canvas, cols: &[crate::decimate::BandColumn], c: RGBAColor) -> Drawn {
        let mut edges: Vec<(f64, f64, f64)> = Vec::with_capacity(cols.len() * 2);
        for b in cols {
            let (yh, yl) = (self.y_clamped(b.hi), self.y_clamped(b.lo));
            edges.push((self.x(b.t0_ns), yh, yl));
            if b.t1_ns != b.t0_ns {
                edges.push((self.x(b.t1_ns), yh, yl));
            }
        }
        let spans = band_spans(&edges);
        // A band over one pixel column (a lone point's bound) is drawn as an error bar a
        // marker wide, not as a hairline.
        let lone = spans.len() <= 1;
        let half = if lone { MARKER_R as i32 - 1 } else { 0 };
        for (x, yh, yl) in spans {
            for dx in -half..=half {
                cv.vspan(x + dx, yh, yl.max(yh), c)?;
            }
        }
        Ok(())
    }
}

/// Strokes a run of points with `draw`, or as markers where it is narrower than
/// [`MIN_LINE_PX`] (with a vertical stroke joining them, so a spread within one column
/// shows); with `sparse_marks`, also a marker on each point of a sparse run.
fn stroke(
    cv: &Canvas,
    run: &[(f64, f64)],
    c: RGBAColor,
    draw: impl Fn(&Canvas, &[(f64, f64)]) -> Drawn,
    sparse_marks: bool,
) -> Drawn {
    let (Some(first), Some(last)) = (run.first(), run.last()) else {
        return Ok(());
    };
    let extent = last.0 - first.0;
    if extent < MIN_LINE_PX {
        let (lo, hi) = run
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.1), b.max(p.1))
            });
        if hi - lo >= 1.0 {
            cv.line(&[(first.0, lo), (first.0, hi)], c, 2)?;
        }
        cv.dot(first.0, lo, MARKER_R, c)?;
        if hi - lo >= 1.0 {
            cv.dot(first.0, hi, MARKER_R, c)?;
        }
        return Ok(());
    }
    draw(cv, run)?;
    if sparse_marks && extent / (run.len() - 1) as f64 >= SPARSE_PX {
        for &(x, y) in run {
            cv.dot(x, y, MARKER_R - 1.0, c)?;
        }
    }
    Ok(())
}

/// The pixel columns of a band whose edges are given at x positions (increasing): for
/// every integer x between the first and last, the band's top and bottom, interpolated.
pub fn band_spans(edges: &[(f64, f64, f64)]) -> Vec<(i32, f64, f64)> {
    let mut out = Vec::new();
    let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
        return out;
    };
    let (x0, x1) = (first.0.round() as i32, last.0.round() as i32);
    let mut k = 0;
    for x in x0..=x1 {
        let xf = f64::from(x);
        while k + 1 < edges.len() && edges[k + 1].0 < xf {
            k += 1;
        }
        let a = edges[k];
        let b = edges[(k + 1).min(edges.len() - 1)];
        let (yh, yl) = if b.0 > a.0 && xf > a.0 {
            let f = ((xf - a.0) / (b.0 - a.0)).clamp(0.0, 1.0);
            (a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
        } else {
            (a.1, a.2)
        };
        // Within one pixel column, keep the widest of the edges that fall in it.
        match out.last_mut() {
            Some((px, h, l)) if *px == x => {
                *h = f64::min(*h, yh);
                *l = f64::max(*l, yl);
            }
            _ => out.push((x, yh, yl)),
        }
    }
    // Edges inside a column widen it (a narrow spike between two pixel centres).
    for e in edges {
        let i = (e.0.round() as i32 - x0) as usize;
        if let Some(o) = out.get_mut(i) {
            o.1 = o.1.min(e.1);
            o.2 = o.2.max(e.2);
        }
    }
    out
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// A filled block.
    Band,
    /// An × mark.
    Cross,
    /// A triangle.
    Triangle,
    /// Vertical bars.
    Stems,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct LegendItem {
    /// How it looks.
    pub swatch: Swatch,
    /// Its colour.
    pub color: RGBAColor,
    /// Its text.
    pub label: String,
    /// Smaller lines under it.
    pub details: Vec<String>,
    /// For a band drawn in each series' own colour: those colours, as stripes of the
    /// swatch (empty: the swatch is `color`).
    pub stripes: Vec<RGBAColor>,
}

impl LegendItem {
    /// An entry.
    pub fn new(swatch: Swatch, color: RGBAColor, label: impl Into<String>) -> Self {
        LegendItem {
            swatch,
            color,
            label: label.into(),
            details: Vec::new(),
            stripes: Vec::new(),
        }
    }

    /// A band swatch striped in the colours of the series it stands for.
    pub fn with_stripes(mut self, stripes: Vec<RGBAColor>) -> Self {
        self.stripes = stripes;
        self
    }

    /// With lines of detail.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    fn lines(&self) -> i32 {
        1 + self.details.len() as i32
    }
}

/// Draws a legend in its column; entries that do not fit are counted in a last line.
pub fn legend(cv: &Canvas, r: Rect, items: &[LegendItem]) -> Drawn {
    let line = size::LINE_H;
    let capacity = (r.h / line).max(1);
    let total: i32 = items.iter().map(LegendItem::lines).sum();
    let mut budget = if total > capacity {
        capacity - 1
    } else {
        capacity
    };
    let mut row = 0;
    let mut shown = 0;
    for it in items {
        if it.lines() > budget {
            break;
        }
        budget -= it.lines();
        let y = f64::from(r.y + line * row + line / 2);
        let x = f64::from(r.x);
        match it.swatch {
            Swatch::Line => cv.line(&[(x, y), (x + 22.0, y)], it.color, 2)?,
            Swatch::Dashed => cv.dashed(&[(x, y), (x + 22.0, y)], it.color, 2, 5, 3)?,
            Swatch::Band if !it.stripes.is_empty() => {
                let n = it.stripes.len() as i32;
                for (k, c) in it.stripes.iter().enumerate() {
                    let k = k as i32;
                    let (x0, x1) = (22 * k / n, 22 * (k + 1) / n);
                    cv.rect(
                        Rect {
                            x: r.x + x0,
                            y: y as i32 - 5,
                            w: (x1 - x0).max(1),
                            h: 10,
                        },
                        *c,
                        true,
                    )?;
                }
            }
            Swatch::Band => cv.rect(
                Rect {
                    x: r.x,
                    y: y as i32 - 5,
                    w: 22,
                    h: 10,
                },
                it.color,
                true,
            )?,
            Swatch::Cross => cv.cross(x + 11.0, y, 4.0, it.color, 2)?,
            Swatch::Triangle => cv.triangle(x + 11.0, y, 5.0, true, it.color)?,
            Swatch::Stems => {
                for (k, h) in [4.0, 7.0, 3.0, 6.0, 5.0].iter().enumerate() {
                    let xx = x + 3.0 + k as f64 * 4.0;
                    cv.line(&[(xx, y + 5.0), (xx, y + 5.0 - h)], it.color, 2)?;
                }
            }
        }
        let width = f64::from(r.w - 30);
        let text = ellipsize(&it.label, width, font::LABEL, cv);
        cv.text(&text, x + 28.0, y, font::LABEL, INK, Anchor::Left)?;
        for (k, d) in it.details.iter().enumerate() {
            let text = ellipsize(d, width, font::TICK, cv);
            let yd = y + f64::from(line) * (k as f64 + 1.0) - 2.0;
            cv.text(&text, x + 28.0, yd, font::TICK, MUTED, Anchor::Left)?;
        }
        row += it.lines();
        shown += 1;
    }
    if shown < items.len() {
        let y = f64::from(r.y + line * row + line / 2);
        cv.text(
            &format!("+{} more (see --json)", items.len() - shown),
            f64::from(r.x + 28),
            y,
            font::LABEL,
            MUTED,
            Anchor::Left,
        )?;
    }
    Ok(())
}

/// The time axis' ticks and their labels, shared by all panels.
#[derive(Debug, Clone)]
pub struct TimeAxis {
    /// Tick times (grid lines).
    pub ticks: Vec<i64>,
    /// Labels drawn under the plots: their x (px) and text. Tick labels are thinned so
    /// that none overlap; each broken-axis band is labelled with the time it skips.
    pub labels: Vec<(f64, String)>,
}

/// A time format with the date in front (labels of an axis broken across days).
fn with_date(fmt: &'static str) -> &'static str {
    match fmt {
        "%H:%M" => "%m-%d %H:%M",
        "%H:%M:%S" => "%m-%d %H:%M:%S",
        other => other,
    }
}

impl TimeAxis {
    /// Ticks for each piece of the time axis (as many as its width allows), labels
    /// thinned so that none overlap; the bands' labels first.
    pub fn new(scale: &TimeScale, plot: Rect, m: &dyn Measure) -> TimeAxis {
        let p = Plot {
            r: plot,
            scale,
            y: Axis::linear(0.0, 1.0, |_| crate::ticks::PPM),
        };
        let (vis_lo, vis_hi) = scale.visible();
        let dated =
            scale.pieces().len() > 1 && utc_format(vis_lo, "%F") != utc_format(vis_hi, "%F");
        let mut ticks = Vec::new();
        let mut texts = Vec::new();
        for piece in scale.pieces() {
            let px = (piece.f1 - piece.f0) * f64::from(plot.w);
            let least = if scale.pieces().len() > 1 { 1.0 } else { 2.0 };
            let max = (px / 120.0).max(least) as usize;
            let (t, fmt) = crate::ticks::time_ticks(piece.t0, piece.t1, max);
            let fmt = if dated { with_date(fmt) } else { fmt };
            texts.extend(t.iter().map(|&x| utc_format(x, fmt)));
            ticks.extend(t);
        }
        // Candidates: (x, text, width); the bands' labels are placed first.
        let mut wanted: Vec<(f64, String)> = scale
            .breaks()
            .iter()
            .map(|b| {
                let x = p.x_of_frac((b.f0 + b.f1) / 2.0);
                (
                    x,
                    crate::time::human_span(b.to_ns.saturating_sub(b.from_ns)),
                )
            })
            .collect();
        let bands = wanted.len();
        wanted.extend(ticks.iter().map(|&t| p.x(t)).zip(texts));
        let mut taken: Vec<(f64, f64)> = Vec::new();
        let mut labels = Vec::new();
        for (k, (x, text)) in wanted.into_iter().enumerate() {
            let w = m.text_width(&text, font::TICK);
            let (l, r) = (x - w / 2.0, x + w / 2.0);
            let outside = l < f64::from(plot.x) - 20.0 || r > f64::from(plot.right()) + 20.0;
            let collides = taken.iter().any(|&(a, b)| l < b + 8.0 && r + 8.0 > a);
            if (outside || collides) && k >= bands {
                continue;
            }
            taken.push((l, r));
            labels.push((x, text));
        }
        TimeAxis { ticks, labels }
    }
}

/// The frame of a panel: caption, grid, ticks, axis description, gap shading, border.
pub struct Frame<'a> {
    /// The panel's rectangles.
    pub rects: PanelRects,
    /// Its plot.
    pub plot: Plot<'a>,
    /// The caption above the plot.
    pub caption: &'a str,
    /// The y axis' description, with its unit.
    pub y_desc: String,
    /// Gaps to shade, as times.
    pub gaps: &'a [(i64, i64)],
    /// The shared time axis.
    pub time: &'a TimeAxis,
    /// Whether the panel has data (without, the value axis has no ticks).
    pub has_data: bool,
}

impl Frame<'_> {
    /// Draws everything under the data.
    pub fn draw_under(&self, cv: &Canvas) -> Drawn {
        let p = &self.plot;
        let r = p.r;
        cv.text(
            self.caption,
            f64::from(self.rects.caption.x),
            f64::from(self.rects.caption.y + self.rects.caption.h / 2),
            font::CAPTION,
            INK,
            Anchor::Left,
        )?;
        for &(a, b) in self.gaps {
            let (x0, x1) = (
                p.x(a).max(f64::from(r.x)),
                p.x(b).min(f64::from(r.right() - 1)),
            );
            if x1 > x0 {
                cv.rect(
                    Rect {
                        x: x0 as i32,
                        y: r.y,
                        w: ((x1 - x0) as i32).max(1),
                        h: r.h,
                    },
                    alpha(GAP, 1.0),
                    true,
                )?;
            }
        }
        for &t in &self.time.ticks {
            let x = p.x(t);
            cv.line(
                &[(x, f64::from(r.y)), (x, f64::from(r.bottom() - 1))],
                alpha(GRID, 1.0),
                1,
            )?;
        }
        self.draw_breaks(cv)?;
        for (x, text) in &self.time.labels {
            let x = *x;
            cv.line(
                &[(x, f64::from(r.bottom())), (x, f64::from(r.bottom() + 3))],
                alpha(BORDER, 1.0),
                1,
            )?;
            cv.text(
                text,
                x,
                f64::from(self.rects.xticks.y + 3),
                font::TICK,
                MUTED,
                Anchor::Top,
            )?;
        }
        let ticks = if self.has_data {
            p.y.ticks((r.h / 28).max(2) as usize)
        } else {
            Vec::new()
        };
        let step = if ticks.len() >= 2 {
            ticks[1] - ticks[0]
        } else {
            0.0
        };
        for v in &ticks {
            let y = p.y(*v);
            cv.line(
                &[(f64::from(r.x), y), (f64::from(r.right() - 1), y)],
                alpha(GRID, 1.0),
                1,
            )?;
            cv.line(
                &[(f64::from(r.x - 4), y), (f64::from(r.x), y)],
                alpha(BORDER, 1.0),
                1,
            )?;
            cv.text(
                &p.y.label(*v, step),
                f64::from(r.x - 7),
                y,
                font::TICK,
                MUTED,
                Anchor::Right,
            )?;
        }
        cv.text_up(
            &self.y_desc,
            f64::from(self.rects.yaxis.x + 8),
            f64::from(r.y + r.h / 2),
            font::LABEL,
            INK,
        )
    }

    /// The broken-axis bands: hatched, over the whole height.
    fn draw_breaks(&self, cv: &Canvas) -> Drawn {
        let p = &self.plot;
        let r = p.r;
        for b in p.scale.breaks() {
            let (x0, x1) = (p.x_of_frac(b.f0), p.x_of_frac(b.f1));
            let (xa, xb) = (x0.round() as i32, x1.round() as i32);
            cv.rect(
                Rect {
                    x: xa,
                    y: r.y,
                    w: (xb - xa).max(1),
                    h: r.h,
                },
                alpha(GAP, 1.0),
                true,
            )?;
            // Diagonal hatching, clipped to the band.
            let (top, bottom) = (f64::from(r.y), f64::from(r.bottom() - 1));
            let mut k = top - (x1 - x0);
            while k < bottom {
                let (ya, yb) = (k.max(top), (k + (x1 - x0)).min(bottom));
                if yb > ya {
                    cv.line(
                        &[(x0 + (ya - k), ya), (x0 + (yb - k), yb)],
                        alpha(HATCH, 1.0),
                        1,
                    )?;
                }
                k += 7.0;
            }
        }
        Ok(())
    }

    /// Draws the border over the data, cut by `//` marks where the time axis is broken.
    pub fn draw_over(&self, cv: &Canvas) -> Drawn {
        let p = &self.plot;
        let r = p.r;
        cv.rect(r, alpha(BORDER, 1.0), false)?;
        for b in p.scale.breaks() {
            let (x0, x1) = (p.x_of_frac(b.f0), p.x_of_frac(b.f1));
            for y in [f64::from(r.y), f64::from(r.bottom() - 1)] {
                // The border does not run through the band...
                cv.line(&[(x0 + 1.0, y), (x1 - 1.0, y)], alpha(GAP, 1.0), 1)?;
                // ...and each edge of it gets a slash.
                for x in [x0, x1] {
                    cv.line(
                        &[(x - 3.0, y + 4.0), (x + 3.0, y - 4.0)],
                        alpha(BORDER, 1.0),
                        1,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// A "no data" note in the middle of the plot.
    pub fn no_data(&self, cv: &Canvas, note: &str) -> Drawn {
        let r = self.plot.r;
        let text = ellipsize(note, f64::from(r.w - 20), font::LABEL, cv);
        cv.text(
            &text,
            f64::from(r.x + r.w / 2),
            f64::from(r.y + r.h / 2),
            font::LABEL,
            MUTED,
            Anchor::Center,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_spans_cover_every_column_once() {
        // Two edges 4 px apart: 5 columns, interpolated; a spike at 2.2 px widens column 2.
        let spans = band_spans(&[(10.0, 0.0, 10.0), (12.2, -5.0, 12.0), (14.0, 0.0, 10.0)]);
        let xs: Vec<i32> = spans.iter().map(|s| s.0).collect();
        assert_eq!(xs, vec![10, 11, 12, 13, 14]);
        assert_eq!(spans[0], (10, 0.0, 10.0));
        assert!(spans[2].1 <= -4.5 && spans[2].2 >= 11.8, "{:?}", spans[2]);
        assert_eq!(spans[4], (14, 0.0, 10.0));
        assert!(band_spans(&[]).is_empty());
        assert_eq!(band_spans(&[(3.4, 1.0, 2.0)]), vec![(3, 1.0, 2.0)]);
    }
}
