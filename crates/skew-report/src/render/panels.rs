//! The four time panels: offset per server, delay per server, the local clock, pauses.

use super::canvas::{alpha, rgb, Canvas, Drawn};
use super::frame::{legend, Frame, LegendItem, Plot, Swatch, ALARM, INK, MUTED};
use super::Ctx;
use crate::data::ServerSeries;
use crate::decimate::{column_max, envelope, min_max};
use crate::gaps::segments;
use crate::layout::{font, PanelRects};
use crate::ranges::{extent, offset_extent, positive_extent};
use crate::text::seconds_signed;
use crate::ticks::{seconds_unit, Axis, PPM};
use plotters::style::RGBColor;

/// Falseticker and off-scale marks are at most one per this many pixels per series.
const MARK_SPACING_PX: f64 = 11.0;

/// Opacity of a series' hard bound (the band and its legend swatch).
const HARD_BAND_ALPHA: f64 = 0.25;

/// Opacity of a series' UTC bound.
const UTC_BAND_ALPHA: f64 = 0.10;

/// Colours shown in a band's legend swatch (the first series').
const BAND_SWATCH_COLORS: usize = 4;

fn frame<'a>(
    ctx: &'a Ctx,
    rects: PanelRects,
    y: Axis,
    caption: &'a str,
    y_desc: String,
    has_data: bool,
) -> Frame<'a> {
    Frame {
        rects,
        plot: Plot {
            r: rects.plot,
            scale: &ctx.scale,
            y,
        },
        caption,
        y_desc,
        gaps: &ctx.shaded_gaps,
        time: &ctx.time,
        has_data,
    }
}

fn finish(cv: &Canvas, ctx: &Ctx, f: &Frame, items: &[LegendItem]) -> Drawn {
    ctx.event_lines(cv, &f.plot)?;
    f.draw_over(cv)?;
    legend(cv, f.rects.legend, items)
}

/// Offset per server with its hard and UTC bounds, falsetickers marked, the agreement.
pub fn offset(cv: &Canvas, ctx: &Ctx, rects: PanelRects) -> Drawn {
    let d = ctx.data;
    let series: Vec<&ServerSeries> = d.series.iter().collect();
    let mids: Vec<Vec<f64>> = d
        .hosts
        .iter()
        .map(|h| {
            let a = &h.agreement;
            (0..a.t_ns.len())
                .map(|i| {
                    if a.majority[i] {
                        (a.lo_s[i] + a.hi_s[i]) / 2.0
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect();
    let ext = offset_extent(&series);
    let agree = extent(mids.iter().flatten().copied());
    let (lo, hi) = match (ext, agree) {
        (Some(a), Some(b)) => (a.0.min(b.0), a.1.max(b.1)),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => (-1e-6, 1e-6),
    };
    let axis = Axis::linear_min(lo, hi, 1e-8, seconds_unit);
    let f = frame(
        ctx,
        rects,
        axis,
        "Offset per server (server − local; positive: the local clock is behind), with its bounds",
        format!("offset ({})", axis.unit.name),
        ext.is_some() || agree.is_some(),
    );
    f.draw_under(cv)?;
    let p = f.plot;
    let cols = p.columns();
    if series.is_empty() && agree.is_none() {
        f.no_data(cv, "no data: no ntp rows in the selected range")?;
    }
    for (k, s) in series.iter().enumerate() {
        let c = ctx.series_color(k);
        let gap = ctx.gap_ns(&s.host);
        for seg in segments(&s.t_ns, &s.offset_s, gap) {
            let utc = envelope(&s.t_ns, &s.utc_lo_s, &s.utc_hi_s, seg.clone(), &cols);
            p.band(cv, &utc, alpha(c, UTC_BAND_ALPHA))?;
            let hard = envelope(&s.t_ns, &s.bound_lo_s, &s.bound_hi_s, seg, &cols);
            p.band(cv, &hard, alpha(c, HARD_BAND_ALPHA))?;
        }
    }
    for (hi, h) in d.hosts.iter().enumerate() {
        let a = &h.agreement;
        for seg in segments(&a.t_ns, &mids[hi], ctx.gap_ns(&h.host)) {
            let pts = min_max(&a.t_ns, &mids[hi], seg, &cols);
            p.dashed(cv, &pts, alpha(INK, 0.85))?;
        }
    }
    let mut any_off = false;
    let mut any_false = false;
    let mut items = Vec::new();
    // Widest series first, so that narrow ones stay visible on top.
    let spread = |s: &ServerSeries| ctx.offset_stats(s).map_or(0.0, |st| st.range_98);
    let mut order: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (k, spread(s)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    for &(k, _) in &order {
        let s = series[k];
        let c = ctx.series_color(k);
        for seg in segments(&s.t_ns, &s.offset_s, ctx.gap_ns(&s.host)) {
            let pts = min_max(&s.t_ns, &s.offset_s, seg, &cols);
            p.line(cv, &pts, alpha(c, 1.0), 1)?;
        }
    }
    for (k, s) in series.iter().enumerate() {
        let c = ctx.series_color(k);
        let (mut last_false, mut last_off) = (i64::MIN, i64::MIN);
        let (mut falses, mut measured) = (0usize, 0usize);
        for i in 0..s.len() {
            let v = s.offset_s[i];
            if !v.is_finite() {
                continue;
            }
            measured += 1;
            let x = p.x(s.t_ns[i]);
            let bucket = (x / MARK_SPACING_PX) as i64;
            if s.truechimer[i] == Some(false) {
                falses += 1;
                any_false = true;
                if bucket != last_false {
                    last_false = bucket;
                    cv.cross(x, p.y_clamped(v), 3.0, alpha(ALARM, 0.9), 1)?;
                }
            } else if !p.on_scale(v) && bucket != last_off {
                last_off = bucket;
                any_off = true;
                let up = p.y(v) < f64::from(p.r.y);
                let y = if up {
                    f64::from(p.r.y + 5)
                } else {
                    f64::from(p.r.bottom() - 6)
                };
                cv.triangle(x, y, 4.0, up, alpha(c, 1.0))?;
            }
        }
        let median = ctx.offset_stats(s).map(|st| st.p50);
        let mut details = Vec::new();
        if falses > 0 {
            details.push(format!(
                "falseticker in {:.0} % of its runs (×)",
                100.0 * falses as f64 / measured.max(1) as f64
            ));
        }
        if let Some(m) = median.filter(|m| !p.on_scale(*m)) {
            details.push(format!("off scale: median {}", seconds_signed(m)));
        }
        items.push(
            LegendItem::new(Swatch::Line, alpha(c, 1.0), s.label(ctx.many_hosts))
                .with_details(details),
        );
    }
    // The bands are drawn in each series' colour: so are their swatches (a stripe per
    // colour in use).
    let colors: Vec<RGBColor> = {
        let mut v: Vec<RGBColor> = Vec::new();
        for k in 0..series.len().min(BAND_SWATCH_COLORS) {
            let c = ctx.series_color(k);
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v
    };
    if !colors.is_empty() {
        let stripes = |a: f64| colors.iter().map(|&c| alpha(c, a)).collect::<Vec<_>>();
        // The hard bound is seen inside the UTC bound: both opacities compound.
        let hard = 1.0 - (1.0 - HARD_BAND_ALPHA) * (1.0 - UTC_BAND_ALPHA);
        items.push(
            LegendItem::new(
                Swatch::Band,
                alpha(colors[0], hard),
                "hard bound (any path asymmetry)",
            )
            .with_stripes(stripes(hard)),
        );
        items.push(
            LegendItem::new(
                Swatch::Band,
                alpha(colors[0], UTC_BAND_ALPHA),
                "UTC bound (+ server's root distance)",
            )
            .with_stripes(stripes(UTC_BAND_ALPHA)),
        );
    }
    if agree.is_some() {
        items.push(LegendItem::new(
            Swatch::Dashed,
            alpha(INK, 0.85),
            "agreement of the majority (midpoint)",
        ));
    }
    if any_false {
        items.push(LegendItem::new(
            Swatch::Cross,
            alpha(ALARM, 1.0),
            "falseticker (outside the majority)",
        ));
    }
    if any_off {
        items.push(LegendItem::new(
            Swatch::Triangle,
            alpha(MUTED, 1.0),
            "off scale (beyond the edge)",
        ));
    }
    finish(cv, ctx, &f, &items)
}

/// Delay (round trip) per server.
pub fn delay(cv: &Canvas, ctx: &Ctx, rects: PanelRects) -> Drawn {
    let d = ctx.data;
    let ext = positive_extent(d.series.iter().flat_map(|s| s.delay_s.iter().copied()));
    let (lo, hi) = ext.unwrap_or((1e-6, 1e-3));
    let axis = if ext.is_some() {
        Axis::auto_positive(lo, hi, 30.0, seconds_unit)
    } else {
        Axis::linear(lo, hi, seconds_unit)
    };
    let caption = if axis.log {
        "Delay (round trip) per server, logarithmic scale"
    } else {
        "Delay (round trip) per server"
    };
    let f = frame(
        ctx,
        rects,
        axis,
        caption,
        format!("delay ({})", axis.unit.name),
        ext.is_some(),
    );
    f.draw_under(cv)?;
    let p = f.plot;
    let cols = p.columns();
    if ext.is_none() {
        f.no_data(cv, "no data: no measured delays in the selected range")?;
    }
    let mut items = Vec::new();
    for (k, s) in d.series.iter().enumerate() {
        let c = ctx.series_color(k);
        for seg in segments(&s.t_ns, &s.delay_s, ctx.gap_ns(&s.host)) {
            let pts = min_max(&s.t_ns, &s.delay_s, seg, &cols);
            p.line(cv, &pts, alpha(c, 1.0), 1)?;
        }
        items.push(LegendItem::new(
            Swatch::Line,
            alpha(c, 1.0),
            s.label(ctx.many_hosts),
        ));
    }
    finish(cv, ctx, &f, &items)
}

/// The local clock: time-of-day rate (with its 95 % interval) and kernel frequency.
pub fn clock(cv: &Canvas, ctx: &Ctx, rects: PanelRects) -> Drawn {
    let d = ctx.data;
    fn lo_hi(h: &crate::data::HostData) -> impl Iterator<Item = f64> + '_ {
        let c = &h.clock;
        (0..c.t_ns.len()).flat_map(move |i| {
            let ci = if c.rate_ci95_ppm[i].is_finite() {
                c.rate_ci95_ppm[i]
            } else {
                0.0
            };
            [c.rate_ppm[i] - ci, c.rate_ppm[i] + ci, c.kernel_freq_ppm[i]]
        })
    }
    let ext = extent(d.hosts.iter().flat_map(lo_hi));
    let (lo, hi) = ext.unwrap_or((-1.0, 1.0));
    let axis = Axis::linear_min(lo, hi, 1.0, |_| PPM);
    let f = frame(
        ctx,
        rects,
        axis,
        "Local clock: time-of-day rate against the monotonic clock, and the kernel's frequency correction",
        "rate (ppm)".into(),
        ext.is_some(),
    );
    f.draw_under(cv)?;
    let p = f.plot;
    let cols = p.columns();
    let any_rate = d
        .hosts
        .iter()
        .any(|h| h.clock.rate_ppm.iter().any(|v| v.is_finite()));
    let any_kernel = d
        .hosts
        .iter()
        .any(|h| h.clock.kernel_freq_ppm.iter().any(|v| v.is_finite()));
    if ext.is_none() {
        f.no_data(
            cv,
            "no data: these logs have no clock rows with rate_ppm or kernel_freq_ppm",
        )?;
    }
    let mut items = Vec::new();
    for (k, h) in d.hosts.iter().enumerate() {
        let c = &h.clock;
        let (rate_color, kernel_color) = ctx.clock_colors(k);
        let gap = ctx.gap_ns(&h.host);
        let lo: Vec<f64> = (0..c.t_ns.len())
            .map(|i| c.rate_ppm[i] - c.rate_ci95_ppm[i])
            .collect();
        let hi: Vec<f64> = (0..c.t_ns.len())
            .map(|i| c.rate_ppm[i] + c.rate_ci95_ppm[i])
            .collect();
        for seg in segments(&c.t_ns, &lo, gap) {
            p.band(
                cv,
                &envelope(&c.t_ns, &lo, &hi, seg, &cols),
                alpha(rate_color, 0.2),
            )?;
        }
        for seg in segments(&c.t_ns, &c.rate_ppm, gap) {
            p.line(
                cv,
                &min_max(&c.t_ns, &c.rate_ppm, seg, &cols),
                alpha(rate_color, 1.0),
                1,
            )?;
        }
        for seg in segments(&c.t_ns, &c.kernel_freq_ppm, gap) {
            p.dashed(
                cv,
                &min_max(&c.t_ns, &c.kernel_freq_ppm, seg, &cols),
                alpha(kernel_color, 1.0),
            )?;
        }
        let who = if ctx.many_hosts {
            format!("{}: ", h.host)
        } else {
            String::new()
        };
        if c.rate_ppm.iter().any(|v| v.is_finite()) {
            items.push(LegendItem::new(
                Swatch::Line,
                alpha(rate_color, 1.0),
                format!("{who}time-of-day rate"),
            ));
            if c.rate_ci95_ppm.iter().any(|v| v.is_finite()) {
                items.push(LegendItem::new(
                    Swatch::Band,
                    alpha(rate_color, 0.25),
                    format!("{who}rate, 95 % interval"),
                ));
            }
        }
        if c.kernel_freq_ppm.iter().any(|v| v.is_finite()) {
            items.push(LegendItem::new(
                Swatch::Dashed,
                alpha(kernel_color, 1.0),
                format!("{who}kernel frequency"),
            ));
        }
    }
    if !any_rate {
        items.push(LegendItem::new(
            Swatch::Line,
            alpha(rgb(0xBBBBBB), 1.0),
            "time-of-day rate: no data",
        ));
    }
    if !any_kernel {
        items.push(LegendItem::new(
            Swatch::Dashed,
            alpha(rgb(0xBBBBBB), 1.0),
            "kernel frequency: no data",
        ));
    }
    finish(cv, ctx, &f, &items)
}

/// Pauses: the worst per pixel column as bars, the p99 overshoot, long pauses marked.
pub fn pauses(cv: &Canvas, ctx: &Ctx, rects: PanelRects) -> Drawn {
    let d = ctx.data;
    let a = ctx.analysis;
    let ext = positive_extent(
        d.hosts
            .iter()
            .flat_map(|h| h.pause.max_s.iter().chain(&h.pause.p99_s).copied()),
    );
    let (lo, hi) = ext.unwrap_or((1e-4, 1e-2));
    let axis = if ext.is_some() {
        Axis::auto_positive(lo, hi, 30.0, seconds_unit)
    } else {
        Axis::linear(lo, hi, seconds_unit)
    };
    let caption = format!(
        "Pauses: longest per interval (bars), p99 of the sleep overshoot; ▲ long pauses (≥ {}){}",
        crate::text::nanos_unsigned(a.long_pause_ns),
        if axis.log { ", logarithmic scale" } else { "" }
    );
    let f = frame(
        ctx,
        rects,
        axis,
        &caption,
        format!("pause ({})", axis.unit.name),
        ext.is_some(),
    );
    f.draw_under(cv)?;
    let p = f.plot;
    let cols = p.columns();
    if ext.is_none() {
        f.no_data(cv, "no data: these logs have no pause rows")?;
    }
    let base = f64::from(p.r.bottom() - 1);
    let mut items = Vec::new();
    for (k, h) in d.hosts.iter().enumerate() {
        let ps = &h.pause;
        let color: RGBColor = ctx.host_color(k);
        let worst = column_max(&ps.t_ns, &ps.max_s, 0..ps.t_ns.len(), &cols);
        // Few bars are drawn wider than a hairline (a lone run's bar stays visible).
        let half = if worst.len() * 8 < p.r.w.max(0) as usize {
            1
        } else {
            0
        };
        for (t, v) in &worst {
            let x = p.x(*t).round() as i32;
            for dx in -half..=half {
                cv.vspan(x + dx, p.y_clamped(*v), base, alpha(color, 0.75))?;
            }
        }
        for seg in segments(&ps.t_ns, &ps.p99_s, ctx.gap_ns(&h.host)) {
            p.line(
                cv,
                &min_max(&ps.t_ns, &ps.p99_s, seg, &cols),
                alpha(rgb(0x333333), 0.9),
                1,
            )?;
        }
        if !worst.is_empty() {
            let who = if ctx.many_hosts {
                format!("{}: ", h.host)
            } else {
                String::new()
            };
            items.push(LegendItem::new(
                Swatch::Stems,
                alpha(color, 0.75),
                format!("{who}longest pause"),
            ));
        }
    }
    if d.hosts
        .iter()
        .any(|h| h.pause.p99_s.iter().any(|v| v.is_finite()))
    {
        items.push(LegendItem::new(
            Swatch::Line,
            alpha(rgb(0x333333), 0.9),
            "p99 of the overshoot",
        ));
    }
    let long_pause_s = skew_time::ns_to_s(a.long_pause_ns);
    if ext.is_some() && p.on_scale(long_pause_s) {
        let y = p.y(long_pause_s);
        cv.dashed(
            &[(f64::from(p.r.x), y), (f64::from(p.r.right() - 1), y)],
            alpha(ALARM, 0.6),
            1,
            6,
            4,
        )?;
    }
    // Long pauses: a mark each; values for the longest, where they fit.
    let mut longest: Vec<&crate::events::LongPause> = a.long_pauses.iter().collect();
    longest.sort_by(|x, y| y.max_s.total_cmp(&x.max_s));
    for lp in &a.long_pauses {
        cv.triangle(
            p.x(lp.t_unix_ns),
            p.y_clamped(lp.max_s) - 4.0,
            5.0,
            true,
            alpha(ALARM, 1.0),
        )?;
    }
    let labels: Vec<(String, f64, f64)> = longest
        .iter()
        .take(8)
        .map(|lp| {
            let text = crate::text::seconds_unsigned(lp.max_s);
            (text, p.x(lp.t_unix_ns), p.y_clamped(lp.max_s))
        })
        .collect();
    let anchors: Vec<(f64, f64)> = labels
        .iter()
        .map(|(t, x, _)| (*x + 5.0, cv_width(cv, t)))
        .collect();
    let (placed, _) =
        crate::layout::place_labels(&anchors, f64::from(p.r.x), f64::from(p.r.right()), 1);
    for pl in placed {
        let (text, _, y) = &labels[pl.index];
        let y = (y - 4.0).max(f64::from(p.r.y + 8));
        cv.text(
            text,
            pl.x,
            y,
            font::TICK,
            ALARM,
            super::canvas::Anchor::Left,
        )?;
    }
    if !a.long_pauses.is_empty() {
        items.push(LegendItem::new(
            Swatch::Triangle,
            alpha(ALARM, 1.0),
            match a.long_pauses.len() {
                1 => "long pause: 1 run".to_string(),
                n => format!("long pauses: {n} runs"),
            },
        ));
    }
    finish(cv, ctx, &f, &items)
}

fn cv_width(cv: &Canvas, text: &str) -> f64 {
    use crate::layout::Measure;
    cv.text_width(text, font::TICK)
}
