//! What every panel has: the plot's mapping from data to pixels, the frame with grid, tick
//! labels and axis description, gap shading, event lines, the legend and "no data" notes.

use super::canvas::{alpha, rgb, Anchor, Canvas, Drawn};
use crate::decimate::Columns;
use crate::layout::{ellipsize, font, size, Measure, PanelRects, Rect};
use crate::ticks::Axis;
use crate::time::utc_format;
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

/// A plot: pixel rectangle, time range and value axis.
#[derive(Debug, Clone, Copy)]
pub struct Plot {
    /// The plot area.
    pub r: Rect,
    /// Time at the left edge, ns since the Unix epoch.
    pub x_lo: i64,
    /// Time at the right edge.
    pub x_hi: i64,
    /// The value axis.
    pub y: Axis,
}

impl Plot {
    /// The x pixel of a time (kept within a plot's width of the plot, so that no
    /// drawing ever spans millions of pixels).
    pub fn x(&self, t: i64) -> f64 {
        let f = crate::ticks::time_frac(t, self.x_lo, self.x_hi).clamp(-1.0, 2.0);
        f64::from(self.r.x) + f * f64::from(self.r.w - 1)
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
    pub fn columns(&self) -> Columns {
        Columns {
            lo_ns: self.x_lo,
            hi_ns: self.x_hi,
            count: self.r.w.max(1) as usize,
        }
    }

    /// Draws a line through `pts`, broken where values leave the scale; returns the
    /// points that were off scale.
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
                cv.line(&run, c, width)?;
                run.clear();
            }
        }
        cv.line(&run, c, width)?;
        Ok(off)
    }

    /// Draws a dashed line through `pts` (values clamped to the scale).
    pub fn dashed(&self, cv: &Canvas, pts: &[(i64, f64)], c: RGBAColor) -> Drawn {
        let v: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(t, v)| (self.x(t), self.y_clamped(v)))
            .collect();
        cv.dashed(&v, c, 1, 5, 3)
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
        for (x, yh, yl) in band_spans(&edges) {
            cv.vspan(x, yh, yl.max(yh), c)?;
        }
        Ok(())
    }
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
}

impl LegendItem {
    /// An entry.
    pub fn new(swatch: Swatch, color: RGBAColor, label: impl Into<String>) -> Self {
        LegendItem {
            swatch,
            color,
            label: label.into(),
            details: Vec::new(),
        }
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
    /// Tick times.
    pub ticks: Vec<i64>,
    /// Labels drawn (others are grid only), with the tick index.
    pub labels: Vec<(usize, String)>,
}

impl TimeAxis {
    /// Ticks for a plot width, labels thinned so that none overlap.
    pub fn new(x_lo: i64, x_hi: i64, plot: Rect, m: &dyn Measure) -> TimeAxis {
        let max = (plot.w / 120).max(2) as usize;
        let (ticks, fmt) = crate::ticks::time_ticks(x_lo, x_hi, max);
        let p = Plot {
            r: plot,
            x_lo,
            x_hi,
            y: Axis::linear(0.0, 1.0, |_| crate::ticks::PPM),
        };
        let mut labels = Vec::new();
        let mut last_right = f64::NEG_INFINITY;
        for (i, &t) in ticks.iter().enumerate() {
            let text = utc_format(t, fmt);
            let w = m.text_width(&text, font::TICK);
            let x = p.x(t);
            let (l, r) = (x - w / 2.0, x + w / 2.0);
            if l < f64::from(plot.x) - 20.0
                || r > f64::from(plot.right()) + 20.0
                || l < last_right + 8.0
            {
                continue;
            }
            last_right = r;
            labels.push((i, text));
        }
        TimeAxis { ticks, labels }
    }
}

/// The frame of a panel: caption, grid, ticks, axis description, gap shading, border.
pub struct Frame<'a> {
    /// The panel's rectangles.
    pub rects: PanelRects,
    /// Its plot.
    pub plot: Plot,
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
        for (i, text) in &self.time.labels {
            let x = p.x(self.time.ticks[*i]);
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

    /// Draws the border over the data.
    pub fn draw_over(&self, cv: &Canvas) -> Drawn {
        cv.rect(self.plot.r, alpha(BORDER, 1.0), false)
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
