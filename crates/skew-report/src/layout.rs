//! Where everything goes on the page, computed before anything is drawn so that nothing
//! overlaps: the title, the summary lines, the event lane, the panels (plot area, tick
//! labels, legend column) on one time axis, and the statistics table; and placement of
//! labels that must not collide.

/// Measures text in pixels (the renderer implements it with the embedded font).
pub trait Measure {
    /// The width of `text` at font size `size` px.
    fn text_width(&self, text: &str, size: f64) -> f64;
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub w: i32,
    /// Height.
    pub h: i32,
}

impl Rect {
    /// The right edge (exclusive).
    pub fn right(&self) -> i32 {
        self.x + self.w
    }

    /// The bottom edge (exclusive).
    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }

    /// Whether two rectangles share any pixel.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
}

/// Font sizes, px.
pub mod font {
    /// The title.
    pub const TITLE: f64 = 22.0;
    /// Summary lines.
    pub const SUMMARY: f64 = 14.0;
    /// Panel captions.
    pub const CAPTION: f64 = 14.0;
    /// Axis labels, legend, event labels.
    pub const LABEL: f64 = 13.0;
    /// Tick labels and the table.
    pub const TICK: f64 = 12.0;
}

/// Fixed sizes, px.
pub mod size {
    /// Outer margin.
    pub const MARGIN: i32 = 14;
    /// Title line.
    pub const TITLE_H: i32 = 32;
    /// One summary line.
    pub const SUMMARY_LINE: i32 = 19;
    /// One level of event labels.
    pub const EVENT_LEVEL: i32 = 17;
    /// Caption above each plot.
    pub const CAPTION_H: i32 = 20;
    /// Tick labels below each plot.
    pub const XTICKS_H: i32 = 18;
    /// The time axis' description under the last panel.
    pub const XDESC_H: i32 = 18;
    /// Between panels.
    pub const PANEL_GAP: i32 = 8;
    /// Left of the plots: tick labels and the rotated axis label.
    pub const YAXIS_W: i32 = 88;
    /// Right of the plots: the legend column.
    pub const LEGEND_W: i32 = 286;
    /// One legend or table line.
    pub const LINE_H: i32 = 17;
    /// Smallest plot height.
    pub const MIN_PLOT_H: i32 = 50;
}

/// One panel's rectangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelRects {
    /// The caption line above the plot.
    pub caption: Rect,
    /// The plot area (data is drawn inside).
    pub plot: Rect,
    /// The y axis' tick labels and description, left of the plot.
    pub yaxis: Rect,
    /// The x tick labels below the plot.
    pub xticks: Rect,
    /// The legend column, right of the plot.
    pub legend: Rect,
}

/// The whole page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Page size.
    pub width: i32,
    /// Page height.
    pub height: i32,
    /// The title line.
    pub title: Rect,
    /// The summary lines.
    pub summary: Rect,
    /// The event label lane (above the first panel, aligned with the plots).
    pub events: Rect,
    /// The panels, top to bottom.
    pub panels: Vec<PanelRects>,
    /// The time axis' description.
    pub xdesc: Rect,
    /// The statistics table.
    pub table: Rect,
    /// Table rows (besides the header) that fit.
    pub table_rows: usize,
}

/// What the layout must make room for.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutInput {
    /// Page width, px.
    pub width: i32,
    /// Page height, px.
    pub height: i32,
    /// Summary lines.
    pub summary_lines: usize,
    /// Levels of event labels.
    pub event_levels: usize,
    /// Relative heights of the panels.
    pub panel_weights: Vec<f64>,
    /// Rows of the statistics table (besides the header).
    pub stats_rows: usize,
}

/// The plots' left edge and width on a page `width` px wide (the same for every panel).
pub fn plot_span(width: i32) -> (i32, i32) {
    use size::*;
    let x = MARGIN + YAXIS_W;
    (x, (width - x - LEGEND_W - MARGIN).max(50))
}

/// Lays out a page. Panels get what the table leaves, but never less than
/// [`size::MIN_PLOT_H`] each: the table shows fewer rows instead.
pub fn layout(input: &LayoutInput) -> Layout {
    use size::*;
    let (w, h) = (input.width, input.height);
    let (plot_x, plot_w) = plot_span(w);
    let title = Rect {
        x: MARGIN,
        y: MARGIN / 2,
        w: w - 2 * MARGIN,
        h: TITLE_H,
    };
    let summary = Rect {
        x: MARGIN,
        y: title.bottom(),
        w: w - 2 * MARGIN,
        h: SUMMARY_LINE * input.summary_lines as i32 + 4,
    };
    let events = Rect {
        x: plot_x,
        y: summary.bottom() + 2,
        w: plot_w,
        h: EVENT_LEVEL * input.event_levels.max(1) as i32 + 2,
    };
    let n = input.panel_weights.len().max(1) as i32;
    let per_panel_fixed = CAPTION_H + XTICKS_H + PANEL_GAP;
    let top = events.bottom();
    let bottom_limit = h - MARGIN;
    let min_panels = n * (per_panel_fixed + MIN_PLOT_H) + XDESC_H;
    // The table takes what the panels leave, but at most a third of the page: with many
    // rows (a fleet), the panels keep their room and the rest is in --stats-csv.
    let table_budget = (bottom_limit - top - min_panels).clamp(0, h / 3);
    // The table's title, header, rows and a note line.
    let rows_fit = ((table_budget - LINE_H * 3 - 6) / LINE_H).max(0) as usize;
    let table_rows = input.stats_rows.min(rows_fit);
    let table_h = LINE_H * (table_rows as i32 + 3) + 6;
    let panels_h = bottom_limit - top - table_h - XDESC_H;
    let plots_h = (panels_h - n * per_panel_fixed).max(n * MIN_PLOT_H);
    // Each plot gets the minimum, then a share of the rest by weight.
    let extra = plots_h - n * MIN_PLOT_H;
    let total_w: f64 = input.panel_weights.iter().sum::<f64>().max(1e-9);
    let mut y = top;
    let mut panels = Vec::new();
    let mut used = 0;
    for (i, wt) in input.panel_weights.iter().enumerate() {
        let ph = if i + 1 == input.panel_weights.len() {
            plots_h - used
        } else {
            MIN_PLOT_H + ((extra as f64) * wt / total_w).floor() as i32
        };
        used += ph;
        let caption = Rect {
            x: plot_x,
            y,
            w: plot_w,
            h: CAPTION_H,
        };
        let plot = Rect {
            x: plot_x,
            y: caption.bottom(),
            w: plot_w,
            h: ph,
        };
        panels.push(PanelRects {
            caption,
            plot,
            yaxis: Rect {
                x: MARGIN,
                y: plot.y,
                w: YAXIS_W - 4,
                h: ph,
            },
            xticks: Rect {
                x: plot_x,
                y: plot.bottom(),
                w: plot_w,
                h: XTICKS_H,
            },
            legend: Rect {
                x: plot.right() + 14,
                y: caption.y,
                w: LEGEND_W - 14,
                h: CAPTION_H + ph,
            },
        });
        y = plot.bottom() + XTICKS_H + PANEL_GAP;
    }
    let xdesc = Rect {
        x: plot_x,
        y: y - PANEL_GAP,
        w: plot_w,
        h: XDESC_H,
    };
    let table = Rect {
        x: MARGIN,
        y: xdesc.bottom() + 4,
        w: w - 2 * MARGIN,
        h: table_h,
    };
    Layout {
        width: w,
        height: h,
        title,
        summary,
        events,
        panels,
        xdesc,
        table,
        table_rows,
    }
}

/// A label placed by [`place_labels`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// Index of the label in the input.
    pub index: usize,
    /// Left edge of the text, px.
    pub x: f64,
    /// Level (0 = first line).
    pub level: usize,
}

/// Places labels anchored at `anchors[i].0` (px) with widths `anchors[i].1` on up to
/// `max_levels` lines between `x_min` and `x_max`: right of the anchor, or left of it
/// near the right edge, on the first line where it overlaps nothing. Labels that fit
/// nowhere are left out; returns the placed ones and how many were left out.
pub fn place_labels(
    anchors: &[(f64, f64)],
    x_min: f64,
    x_max: f64,
    max_levels: usize,
) -> (Vec<Placed>, usize) {
    const PAD: f64 = 4.0;
    let mut order: Vec<usize> = (0..anchors.len()).collect();
    order.sort_by(|&a, &b| anchors[a].0.total_cmp(&anchors[b].0));
    let mut levels: Vec<Vec<(f64, f64)>> = vec![Vec::new(); max_levels];
    let mut placed = Vec::new();
    let mut hidden = 0;
    for i in order {
        let (ax, w) = anchors[i];
        let mut x = ax + 3.0;
        if x + w > x_max {
            x = ax - 3.0 - w;
        }
        x = x.max(x_min);
        let (l, r) = (x - PAD, x + w + PAD);
        match levels
            .iter()
            .position(|spans| spans.iter().all(|&(a, b)| r <= a || l >= b))
        {
            Some(level) => {
                levels[level].push((l, r));
                placed.push(Placed { index: i, x, level });
            }
            None => hidden += 1,
        }
    }
    (placed, hidden)
}

/// Joins `parts` with " · " into lines no wider than `width` px at `size` (a part wider
/// than a line gets a line of its own).
pub fn wrap_parts(parts: &[String], width: f64, size: f64, m: &dyn Measure) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for p in parts {
        let candidate = if cur.is_empty() {
            p.clone()
        } else {
            format!("{cur} · {p}")
        };
        if cur.is_empty() || m.text_width(&candidate, size) <= width {
            cur = candidate;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = p.clone();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Shortens `text` with an ellipsis to fit `width` px: the longest prefix that fits,
/// found by bisection (a prefix is never wider than a longer one), so a long text costs
/// a few measurements, not one per character.
pub fn ellipsize(text: &str, width: f64, size: f64, m: &dyn Measure) -> String {
    if m.text_width(text, size) <= width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let with_dots = |n: usize| chars[..n].iter().collect::<String>() + "…";
    // The longest n in [1, len) whose prefix fits: fits(lo) holds (or lo = 0), fits(hi) not.
    let (mut lo, mut hi) = (0usize, chars.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if m.text_width(&with_dots(mid), size) <= width {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if lo == 0 {
        "…".to_string()
    } else {
        with_dots(lo)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 0.6 × size per character: close to DejaVu Sans' average.
    pub struct Fixed;

    impl Measure for Fixed {
        fn text_width(&self, text: &str, size: f64) -> f64 {
            text.chars().count() as f64 * size * 0.6
        }
    }

    fn input(w: i32, h: i32, rows: usize) -> LayoutInput {
        LayoutInput {
            width: w,
            height: h,
            summary_lines: 2,
            event_levels: 2,
            panel_weights: vec![3.0, 2.0, 1.5, 1.5],
            stats_rows: rows,
        }
    }

    fn all_rects(l: &Layout) -> Vec<Rect> {
        let mut v = vec![l.title, l.summary, l.events, l.xdesc, l.table];
        for p in &l.panels {
            v.extend([p.caption, p.plot, p.yaxis, p.xticks, p.legend]);
        }
        v
    }

    #[test]
    fn nothing_overlaps_and_everything_is_on_the_page() {
        for (w, h, rows) in [
            (1600, 1400, 12),
            (800, 600, 40),
            (1200, 900, 0),
            (3000, 2000, 8),
        ] {
            let l = layout(&input(w, h, rows));
            let r = all_rects(&l);
            for (i, a) in r.iter().enumerate() {
                assert!(
                    a.x >= 0 && a.y >= 0 && a.right() <= w && a.bottom() <= h,
                    "{w}x{h} {a:?}"
                );
                for b in &r[i + 1..] {
                    assert!(!a.overlaps(b), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
            for p in &l.panels {
                assert!(p.plot.h >= size::MIN_PLOT_H);
                assert_eq!(p.plot.x, l.panels[0].plot.x, "shared time axis");
                assert_eq!(p.plot.w, l.panels[0].plot.w);
            }
            assert!(l.table_rows <= rows);
        }
        // A big page shows the whole table; a small one fewer rows; a fleet's table takes
        // at most a third of the page.
        assert_eq!(layout(&input(1600, 1400, 12)).table_rows, 12);
        assert!(layout(&input(800, 600, 40)).table_rows < 40);
        let fleet = layout(&input(1600, 1400, 80));
        assert!(
            fleet.table.h <= 1400 / 3 + size::LINE_H,
            "{:?}",
            fleet.table
        );
    }

    #[test]
    fn labels_do_not_collide() {
        let anchors = [
            (100.0, 80.0),
            (120.0, 80.0),
            (130.0, 80.0),
            (400.0, 50.0),
            (990.0, 60.0),
        ];
        let (placed, hidden) = place_labels(&anchors, 0.0, 1000.0, 2);
        assert_eq!(hidden, 1);
        assert_eq!(placed.len(), 4);
        for (i, a) in placed.iter().enumerate() {
            let wa = anchors[a.index].1;
            assert!(a.x >= 0.0 && a.x + wa <= 1000.0);
            for b in &placed[i + 1..] {
                let wb = anchors[b.index].1;
                let apart = a.x + wa <= b.x || b.x + wb <= a.x;
                assert!(a.level != b.level || apart, "{a:?} {b:?}");
            }
        }
        // Near the right edge the label goes left of its anchor.
        let last = placed.iter().find(|p| p.index == 4).unwrap();
        assert!(last.x + 60.0 <= 990.0);
    }

    #[test]
    fn wrapping_and_ellipsis() {
        let parts: Vec<String> = ["aaaa", "bbbb", "cccc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // "aaaa · bbbb" is 11 chars = 66 px at size 10.
        assert_eq!(
            wrap_parts(&parts, 70.0, 10.0, &Fixed),
            vec!["aaaa · bbbb", "cccc"]
        );
        assert_eq!(wrap_parts(&parts, 10.0, 10.0, &Fixed).len(), 3);
        assert_eq!(ellipsize("abcdefghij", 36.0, 10.0, &Fixed), "abcde…");
        assert_eq!(ellipsize("abc", 36.0, 10.0, &Fixed), "abc");
    }

    /// Counts measurements.
    struct Counting(std::cell::Cell<usize>);

    impl Measure for Counting {
        fn text_width(&self, text: &str, size: f64) -> f64 {
            self.0.set(self.0.get() + 1);
            Fixed.text_width(text, size)
        }
    }

    #[test]
    fn ellipsis_of_a_long_text_takes_few_measurements() {
        // A fleet's summary line can be 100,000 characters: one measurement per character
        // (each of the whole prefix) was quadratic.
        let m = Counting(std::cell::Cell::new(0));
        let text = "x".repeat(100_000);
        let cut = ellipsize(&text, 600.0, 10.0, &m);
        assert_eq!(cut.chars().count(), 100);
        assert!(m.0.get() <= 20, "{} measurements", m.0.get());
    }

    proptest::proptest! {
        /// Bisection finds what trying every length from the longest down finds.
        #[test]
        fn ellipsis_is_the_longest_prefix_that_fits(text in "[a-zA-Z µ…·]{0,60}", width in 0.0f64..400.0) {
            let linear = {
                let chars: Vec<char> = text.chars().collect();
                if Fixed.text_width(&text, 10.0) <= width {
                    text.clone()
                } else {
                    (1..chars.len())
                        .rev()
                        .map(|n| chars[..n].iter().collect::<String>() + "…")
                        .find(|s| Fixed.text_width(s, 10.0) <= width)
                        .unwrap_or_else(|| "…".to_string())
                }
            };
            proptest::prop_assert_eq!(ellipsize(&text, width, 10.0, &Fixed), linear);
        }
    }
}
