//! Drawing primitives in pixel coordinates over plotters' bitmap backend, with the
//! embedded DejaVu Sans registered for ab_glyph (no system fonts are ever looked up).

use crate::layout::{Measure, Rect};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, RGBAColor};
use skew_time::escape::escape_control;
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera license, see fonts/DejaVu-LICENSE), embedded.
static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// The family name the font is registered under.
const FAMILY: &str = "sans-serif";

/// Why a page could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot draw the report: {0}")]
pub struct RenderError(pub String);

/// Registers the embedded font once.
pub fn register_font() -> Result<(), RenderError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the embedded font is not a valid TrueType font".to_string())
    })
    .clone()
    .map_err(RenderError)
}

fn err(e: impl std::fmt::Display) -> RenderError {
    RenderError(e.to_string())
}

/// Where a text's anchor point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Left edge, vertical centre.
    Left,
    /// Right edge, vertical centre.
    Right,
    /// Horizontal and vertical centre.
    Center,
    /// Horizontal centre, top.
    Top,
}

/// A drawing surface.
pub struct Canvas<'a, 'b> {
    area: &'b DrawingArea<BitMapBackend<'a>, Shift>,
}

/// Shorthand for results of drawing.
pub type Drawn = Result<(), RenderError>;

/// An RGB colour from a hex value.
pub const fn rgb(hex: u32) -> RGBColor {
    RGBColor((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

/// A colour with opacity.
pub fn alpha(c: RGBColor, a: f64) -> RGBAColor {
    RGBAColor(c.0, c.1, c.2, a)
}

fn px(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

impl<'a, 'b> Canvas<'a, 'b> {
    /// A canvas over a drawing area.
    pub fn new(area: &'b DrawingArea<BitMapBackend<'a>, Shift>) -> Self {
        Canvas { area }
    }

    /// Fills the page.
    pub fn clear(&self, c: RGBColor) -> Drawn {
        self.area.fill(&c).map_err(err)
    }

    /// A polyline.
    pub fn line(&self, pts: &[(f64, f64)], c: RGBAColor, width: u32) -> Drawn {
        if pts.len() < 2 {
            if let Some(&p) = pts.first() {
                // A lone point: a short tick so it stays visible.
                return self.line(&[(p.0 - 1.0, p.1), (p.0 + 1.0, p.1)], c, width);
            }
            return Ok(());
        }
        let v: Vec<(i32, i32)> = pts.iter().copied().map(px).collect();
        self.area
            .draw(&PathElement::new(v, c.stroke_width(width)))
            .map_err(err)
    }

    /// A dashed polyline.
    pub fn dashed(
        &self,
        pts: &[(f64, f64)],
        c: RGBAColor,
        width: u32,
        dash: i32,
        gap: i32,
    ) -> Drawn {
        let v: Vec<(i32, i32)> = pts.iter().copied().map(px).collect();
        self.area
            .draw(&DashedPathElement::new(v, dash, gap, c.stroke_width(width)))
            .map_err(err)
    }

    /// A filled polygon.
    pub fn polygon(&self, pts: &[(f64, f64)], c: RGBAColor) -> Drawn {
        if pts.len() < 3 {
            return Ok(());
        }
        let v: Vec<(i32, i32)> = pts.iter().copied().map(px).collect();
        self.area.draw(&Polygon::new(v, c.filled())).map_err(err)
    }

    /// A filled one-pixel-wide vertical span from `y0` to `y1` (the fast path for bands
    /// and bars).
    pub fn vspan(&self, x: i32, y0: f64, y1: f64, c: RGBAColor) -> Drawn {
        let (a, b) = (y0.round() as i32, y1.round() as i32);
        // The bitmap backend fills [x0, x1) × [y0, y1).
        self.area
            .draw(&Rectangle::new(
                [(x, a.min(b)), (x + 1, a.max(b) + 1)],
                c.filled(),
            ))
            .map_err(err)
    }

    /// A rectangle, filled or outlined.
    pub fn rect(&self, r: Rect, c: RGBAColor, filled: bool) -> Drawn {
        let style = if filled {
            c.filled()
        } else {
            c.stroke_width(1)
        };
        let (x1, y1) = if filled {
            (r.right(), r.bottom())
        } else {
            (r.right() - 1, r.bottom() - 1)
        };
        self.area
            .draw(&Rectangle::new([(r.x, r.y), (x1, y1)], style))
            .map_err(err)
    }

    /// Text at (x, y) with an anchor (control characters from a log drawn as escapes, as
    /// on the terminal).
    pub fn text(&self, s: &str, x: f64, y: f64, size: f64, c: RGBColor, anchor: Anchor) -> Drawn {
        let (h, v) = match anchor {
            Anchor::Left => (HPos::Left, VPos::Center),
            Anchor::Right => (HPos::Right, VPos::Center),
            Anchor::Center => (HPos::Center, VPos::Center),
            Anchor::Top => (HPos::Center, VPos::Top),
        };
        let style = (FAMILY, size).into_font().color(&c).pos(Pos::new(h, v));
        self.area
            .draw_text(&escape_control(s), &style, px((x, y)))
            .map_err(err)
    }

    /// Text turned 90° counter-clockwise, centred on (x, y) (a y axis' description).
    pub fn text_up(&self, s: &str, x: f64, y: f64, size: f64, c: RGBColor) -> Drawn {
        let style = (FAMILY, size)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&c)
            .pos(Pos::new(HPos::Center, VPos::Center));
        self.area
            .draw_text(&escape_control(s), &style, px((x, y)))
            .map_err(err)
    }

    /// A filled round marker.
    pub fn dot(&self, x: f64, y: f64, r: f64, c: RGBAColor) -> Drawn {
        self.area
            .draw(&Circle::new(
                px((x, y)),
                r.round().max(1.0) as i32,
                c.filled(),
            ))
            .map_err(err)
    }

    /// An × marker.
    pub fn cross(&self, x: f64, y: f64, r: f64, c: RGBAColor, width: u32) -> Drawn {
        self.line(&[(x - r, y - r), (x + r, y + r)], c, width)?;
        self.line(&[(x - r, y + r), (x + r, y - r)], c, width)
    }

    /// A filled triangle pointing up (or down).
    pub fn triangle(&self, x: f64, y: f64, r: f64, up: bool, c: RGBAColor) -> Drawn {
        let s = if up { -1.0 } else { 1.0 };
        self.polygon(
            &[
                (x, y + s * r),
                (x - r, y - s * r * 0.8),
                (x + r, y - s * r * 0.8),
            ],
            c,
        )
    }
}

impl Measure for Canvas<'_, '_> {
    fn text_width(&self, text: &str, size: f64) -> f64 {
        let style = (FAMILY, size).into_font().into_text_style(self.area);
        self.area
            .estimate_text_size(&escape_control(text), &style)
            .map_or(text.chars().count() as f64 * size * 0.6, |(w, _)| {
                f64::from(w)
            })
    }
}
