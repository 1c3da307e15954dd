//! The rendering edge: a page of panels on one UTC time axis, drawn with plotters into an
//! RGB buffer (bitmap backend, embedded font via ab_glyph, no system fonts).

pub mod canvas;
pub mod frame;
pub mod panels;
pub mod table;

use crate::analysis::Analysis;
use crate::data::LogData;
use crate::events::EventKind;
use crate::layout::{
    font, layout, place_labels, plot_span, size, wrap_parts, Layout, LayoutInput, Measure, Rect,
};
use crate::stats::StatsRow;
use crate::timescale::TimeScale;
pub use canvas::RenderError;
use canvas::{alpha, register_font, rgb, Anchor, Canvas, Drawn};
use frame::{Plot, TimeAxis, INK};
use plotters::prelude::*;
use plotters::style::RGBColor;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Series colours (Tableau 10 without its red, kept for alarms), cycled.
const PALETTE: [u32; 9] = [
    0x1F77B4, 0xFF7F0E, 0x2CA02C, 0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF, 0xBCBD22, 0x7F7F7F,
];

/// Most levels of event labels above the panels.
const MAX_EVENT_LEVELS: usize = 3;

/// What to draw besides the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOptions {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// The title.
    pub title: String,
}

fn event_color(k: EventKind) -> RGBColor {
    match k {
        EventKind::Step => rgb(0xA50F15),
        EventKind::Suspend => rgb(0x6A3D9A),
        EventKind::LeapSecond => rgb(0x000000),
        EventKind::LeapAnnounced | EventKind::LeapList | EventKind::KernelLeap => rgb(0x08519C),
    }
}

/// Everything the panels share.
pub struct Ctx<'a> {
    /// The data.
    pub data: &'a LogData,
    /// Its analysis.
    pub analysis: &'a Analysis,
    /// The time axis (padded, broken at long stretches without runs).
    pub scale: TimeScale,
    /// Ticks and labels.
    pub time: TimeAxis,
    /// Gaps shaded in every panel (those of a single host).
    pub shaded_gaps: Vec<(i64, i64)>,
    /// Several hosts (labels carry the host).
    pub many_hosts: bool,
    gap_threshold: BTreeMap<String, i64>,
    /// Lookups by name, built once: drawing is linear in hosts and series.
    index: Index<'a>,
}

/// Where each host, series and offset statistic is, by name.
struct Index<'a> {
    /// (host, server) → series index.
    series: HashMap<(&'a str, &'a str), usize>,
    /// host → host index.
    hosts: HashMap<&'a str, usize>,
    /// (host, server) → offset statistics.
    offset_stats: HashMap<(&'a str, &'a str), &'a crate::stats::Stats>,
}

impl<'a> Index<'a> {
    fn new(data: &'a LogData, a: &'a Analysis) -> Index<'a> {
        let mut series = HashMap::with_capacity(data.series.len());
        for (k, s) in data.series.iter().enumerate() {
            series
                .entry((s.host.as_str(), s.server.as_str()))
                .or_insert(k);
        }
        let mut hosts = HashMap::with_capacity(data.hosts.len());
        for (k, h) in data.hosts.iter().enumerate() {
            hosts.entry(h.host.as_str()).or_insert(k);
        }
        let mut offset_stats = HashMap::new();
        for r in a.stats.iter().filter(|r| r.metric == "offset_s") {
            offset_stats
                .entry((r.host.as_str(), r.source.as_str()))
                .or_insert(&r.stats);
        }
        Index {
            series,
            hosts,
            offset_stats,
        }
    }
}

impl Ctx<'_> {
    /// The colour of series `k`.
    pub fn series_color(&self, k: usize) -> RGBColor {
        rgb(PALETTE[k % PALETTE.len()])
    }

    /// The colour of host `k` (clock and pause panels).
    pub fn host_color(&self, k: usize) -> RGBColor {
        if self.many_hosts {
            rgb(PALETTE[k % PALETTE.len()])
        } else {
            rgb(0x4C72B0)
        }
    }

    /// Rate and kernel-frequency colours of host `k`.
    pub fn clock_colors(&self, k: usize) -> (RGBColor, RGBColor) {
        if self.many_hosts {
            let c = rgb(PALETTE[k % PALETTE.len()]);
            (c, c)
        } else {
            (rgb(0x1F77B4), rgb(0xFF7F0E))
        }
    }

    /// The swatch colour of a statistics row.
    pub fn stats_color(&self, row: &StatsRow) -> RGBColor {
        if let Some(&k) = self
            .index
            .series
            .get(&(row.host.as_str(), row.source.as_str()))
        {
            return self.series_color(k);
        }
        let k = self
            .index
            .hosts
            .get(row.host.as_str())
            .copied()
            .unwrap_or(0);
        match row.source.as_str() {
            "agreement" => INK,
            "clock" => self.clock_colors(k).0,
            _ => self.host_color(k),
        }
    }

    /// The offset statistics of a series (computed once, in the analysis).
    pub fn offset_stats(&self, s: &crate::data::ServerSeries) -> Option<&crate::stats::Stats> {
        self.index
            .offset_stats
            .get(&(s.host.as_str(), s.server.as_str()))
            .copied()
    }

    /// The gap threshold of a host's series.
    pub fn gap_ns(&self, host: &str) -> i64 {
        self.gap_threshold.get(host).copied().unwrap_or(i64::MAX)
    }

    /// Dashed vertical lines at the events, in a plot.
    pub fn event_lines(&self, cv: &Canvas, p: &Plot) -> Drawn {
        for e in &self.analysis.events {
            let x = p.x(e.t_unix_ns);
            cv.dashed(
                &[(x, f64::from(p.r.y)), (x, f64::from(p.r.bottom() - 1))],
                alpha(event_color(e.kind), 0.8),
                1,
                4,
                3,
            )?;
        }
        Ok(())
    }
}

/// An event label placed in the lane above the panels.
struct EventLabel {
    /// Index into the analysis' events.
    index: usize,
    /// Its text.
    text: String,
    /// The event's x, px.
    anchor_x: f64,
    /// The text's left edge, px.
    x: f64,
    /// Its line in the lane.
    level: usize,
}

/// The event labels that fit, and how many did not.
fn place_events(
    a: &Analysis,
    many_hosts: bool,
    width: i32,
    scale: &TimeScale,
    m: &dyn Measure,
) -> (Vec<EventLabel>, usize) {
    let (px, pw) = plot_span(width);
    let x_of = |t: i64| {
        let f = scale.frac(t).clamp(-1.0, 2.0);
        f64::from(px) + f * f64::from(pw - 1)
    };
    // The same event on several hosts within a few pixels is one label.
    let mut groups: Vec<(usize, HashSet<&str>)> = Vec::new();
    for (i, e) in a.events.iter().enumerate() {
        match groups.last_mut() {
            Some((j, hosts))
                if a.events[*j].label == e.label
                    && (x_of(e.t_unix_ns) - x_of(a.events[*j].t_unix_ns)).abs() < 4.0 =>
            {
                hosts.insert(&e.host);
            }
            _ => groups.push((i, HashSet::from([e.host.as_str()]))),
        }
    }
    let texts: Vec<String> = groups
        .iter()
        .map(|(i, hosts)| {
            let e = &a.events[*i];
            match hosts.len() {
                _ if !many_hosts || e.kind == EventKind::LeapSecond => e.label.clone(),
                1 => format!("{}: {}", e.host, e.label),
                n => format!("{n} hosts: {}", e.label),
            }
        })
        .collect();
    let anchors: Vec<(f64, f64)> = groups
        .iter()
        .zip(&texts)
        .map(|((i, _), t)| (x_of(a.events[*i].t_unix_ns), m.text_width(t, font::LABEL)))
        .collect();
    let (placed, hidden) = place_labels(
        &anchors,
        f64::from(px),
        f64::from(px + pw),
        MAX_EVENT_LEVELS,
    );
    let out = placed
        .into_iter()
        .map(|p| EventLabel {
            index: groups[p.index].0,
            text: texts[p.index].clone(),
            anchor_x: anchors[p.index].0,
            x: p.x,
            level: p.level,
        })
        .collect();
    (out, hidden)
}

/// Draws the page into an RGB8 buffer of `width × height × 3` bytes.
pub fn render(data: &LogData, a: &Analysis, opts: &PageOptions) -> Result<Vec<u8>, RenderError> {
    render_with_layout(data, a, opts).map(|(rgb, _)| rgb)
}

/// Like [`render`], also returning where everything went on the page.
pub fn render_with_layout(
    data: &LogData,
    a: &Analysis,
    opts: &PageOptions,
) -> Result<(Vec<u8>, Layout), RenderError> {
    register_font()?;
    let (w, h) = (opts.width, opts.height);
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    let l = {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let cv = Canvas::new(&root);
        cv.clear(rgb(0xFFFFFF))?;
        let l = draw_page(&cv, data, a, opts)?;
        root.present().map_err(|e| RenderError(e.to_string()))?;
        l
    };
    Ok((buf, l))
}

/// The page's time axis: the analysis' range, padded, broken where no host ran for a
/// stretch longer than every host's gap threshold that would squeeze the data.
fn time_scale(data: &LogData, a: &Analysis, width: i32) -> TimeScale {
    let mut runs: Vec<i64> = data
        .hosts
        .iter()
        .flat_map(|h| h.runs_ns.iter().copied())
        .collect();
    runs.sort_unstable();
    runs.dedup();
    let min_gap = a.gap_threshold_ns.values().copied().max();
    let (_, pw) = plot_span(width);
    TimeScale::new(a.from_ns, a.until_ns, &runs, min_gap, f64::from(pw - 1))
}

fn draw_page(
    cv: &Canvas,
    data: &LogData,
    a: &Analysis,
    opts: &PageOptions,
) -> Result<Layout, RenderError> {
    let (w, h) = (opts.width as i32, opts.height as i32);
    let many_hosts = data.hosts.len() > 1;
    let scale = time_scale(data, a, w);
    let (events, hidden) = place_events(a, many_hosts, w, &scale, cv);
    // Escaped before they are wrapped and cut, so that a cut never falls inside an escape
    // and a raw name is laid out exactly as its escaped form.
    let mut parts: Vec<String> = crate::text::summary_parts(a)
        .iter()
        .map(|p| skew_time::escape::escape_control(p).into_owned())
        .collect();
    if hidden > 0 {
        parts.push(format!("{hidden} more event labels in --json"));
    }
    let summary_w = f64::from(w - 2 * size::MARGIN);
    // A part wider than the page (a fleet's falsetickers) is cut, not drawn off the page.
    let lines: Vec<String> = wrap_parts(&parts, summary_w, font::SUMMARY, cv)
        .iter()
        .map(|l| crate::layout::ellipsize(l, summary_w, font::SUMMARY, cv))
        .collect();
    let levels = events.iter().map(|e| e.level + 1).max().unwrap_or(1);
    let l = layout(&LayoutInput {
        width: w,
        height: h,
        summary_lines: lines.len(),
        event_levels: levels,
        panel_weights: vec![3.0, 2.0, 1.5, 1.5],
        stats_rows: a.stats.len(),
    });
    let ctx = Ctx {
        data,
        analysis: a,
        time: TimeAxis::new(&scale, l.panels[0].plot, cv),
        scale,
        shaded_gaps: if many_hosts {
            Vec::new()
        } else {
            a.gap_spans.iter().map(|g| (g.from_ns, g.to_ns)).collect()
        },
        many_hosts,
        gap_threshold: a.gap_threshold_ns.clone(),
        index: Index::new(data, a),
    };
    cv.text(
        &opts.title,
        f64::from(l.title.x),
        f64::from(l.title.y + l.title.h / 2),
        font::TITLE,
        INK,
        Anchor::Left,
    )?;
    for (i, line) in lines.iter().enumerate() {
        let y = l.summary.y + size::SUMMARY_LINE * i as i32 + size::SUMMARY_LINE / 2;
        cv.text(
            line,
            f64::from(l.summary.x),
            f64::from(y),
            font::SUMMARY,
            INK,
            Anchor::Left,
        )?;
    }
    draw_events_lane(cv, &ctx, l.events, &events)?;
    panels::offset(cv, &ctx, l.panels[0])?;
    panels::delay(cv, &ctx, l.panels[1])?;
    panels::clock(cv, &ctx, l.panels[2])?;
    panels::pauses(cv, &ctx, l.panels[3])?;
    cv.text(
        "time (UTC)",
        f64::from(l.xdesc.x + l.xdesc.w / 2),
        f64::from(l.xdesc.y + l.xdesc.h / 2),
        font::LABEL,
        INK,
        Anchor::Center,
    )?;
    table::draw(cv, &ctx, l.table, l.table_rows)?;
    Ok(l)
}

fn draw_events_lane(cv: &Canvas, ctx: &Ctx, lane: Rect, events: &[EventLabel]) -> Drawn {
    let a = ctx.analysis;
    if a.events.is_empty() {
        return cv.text(
            "no steps, suspends or leap-second events in this range",
            f64::from(lane.x),
            f64::from(lane.y + size::EVENT_LEVEL / 2),
            font::LABEL,
            frame::MUTED,
            Anchor::Left,
        );
    }
    for l in events {
        let e = &a.events[l.index];
        let c = event_color(e.kind);
        let y = lane.y + size::EVENT_LEVEL * l.level as i32 + size::EVENT_LEVEL / 2;
        cv.dashed(
            &[
                (l.anchor_x, f64::from(y)),
                (l.anchor_x, f64::from(lane.bottom())),
            ],
            alpha(c, 0.8),
            1,
            4,
            3,
        )?;
        cv.text(&l.text, l.x, f64::from(y), font::LABEL, c, Anchor::Left)?;
    }
    Ok(())
}
