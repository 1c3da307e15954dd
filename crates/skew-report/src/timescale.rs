//! The time axis' mapping from UTC to the page: piecewise linear, so that data keep the
//! width. The ends are padded (the first and last runs are not drawn on the frame), and a
//! stretch without any run that would otherwise squeeze the data into the edge pixels (a
//! 3-day outage, or `--since 7d` over an hour of data) becomes a narrow broken-axis band
//! of fixed width. Pure: times in, fractions of the plot's width out.

/// Width of a broken-axis band, px.
pub const BREAK_PX: f64 = 24.0;

/// Padding at each end of the axis and around each piece, as a fraction of the time the
/// pieces cover.
pub const PAD_FRAC: f64 = 0.02;

/// Most broken-axis bands on one axis.
pub const MAX_BREAKS: usize = 12;

/// Padding when the data cover no time at all (one run on each side of a break), ns.
const PAD_EMPTY_NS: i64 = 30_000_000_000;

/// A stretch of time drawn linearly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Its first instant (padding included), ns since the Unix epoch.
    pub t0: i64,
    /// Its last instant (padding included); always after `t0`.
    pub t1: i64,
    /// Where `t0` is, as a fraction of the plot's width.
    pub f0: f64,
    /// Where `t1` is.
    pub f1: f64,
}

/// A stretch without runs drawn as a narrow band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Break {
    /// The last run before it (or the axis' start), ns since the Unix epoch.
    pub from_ns: i64,
    /// The first run after it (or the axis' end).
    pub to_ns: i64,
    /// The band's left edge, as a fraction of the plot's width.
    pub f0: f64,
    /// Its right edge.
    pub f1: f64,
}

/// A time axis: pieces drawn linearly, with broken-axis bands between them.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeScale {
    pieces: Vec<Piece>,
    breaks: Vec<Break>,
}

fn span(a: i64, b: i64) -> i128 {
    i128::from(b) - i128::from(a)
}

impl TimeScale {
    /// `[lo_ns, hi_ns]` linearly onto [0, 1], unpadded (an empty range counts as 1 ns).
    pub fn linear(lo_ns: i64, hi_ns: i64) -> TimeScale {
        let hi_ns = hi_ns.max(lo_ns.saturating_add(1));
        let lo_ns = lo_ns.min(hi_ns - 1);
        TimeScale {
            pieces: vec![Piece {
                t0: lo_ns,
                t1: hi_ns,
                f0: 0.0,
                f1: 1.0,
            }],
            breaks: Vec::new(),
        }
    }

    /// The axis for `[lo_ns, hi_ns]` on a plot `width_px` wide, given every run time
    /// (sorted). Stretches without runs longer than `min_gap_ns` (and the edges of a
    /// window the runs do not reach) are broken, largest first, while the stretches left
    /// unbroken would take more than half of the axis. Nothing is broken without a gap
    /// threshold (`None`: no host has a cadence) or when the runs cover no time (one run
    /// drawn in a minute around it). The pieces are padded by [`PAD_FRAC`] of the time
    /// they cover.
    pub fn new(
        lo_ns: i64,
        hi_ns: i64,
        runs_ns: &[i64],
        min_gap_ns: Option<i64>,
        width_px: f64,
    ) -> Self {
        let hi_ns = hi_ns.max(lo_ns.saturating_add(1));
        // Stretches without runs, as (from, to).
        let inside: Vec<i64> = runs_ns
            .iter()
            .copied()
            .filter(|t| (lo_ns..=hi_ns).contains(t))
            .collect();
        let mut empty: Vec<(i64, i64)> = Vec::new();
        if let (Some(&first), Some(&last), Some(min_gap_ns)) =
            (inside.first(), inside.last(), min_gap_ns)
        {
            empty.push((lo_ns, first));
            empty.extend(inside.windows(2).map(|w| (w[0], w[1])));
            empty.push((last, hi_ns));
            empty.retain(|&(a, b)| span(a, b) > i128::from(min_gap_ns.max(0)));
            if first == last {
                empty.clear();
            }
        }
        empty.sort_by_key(|&(a, b)| std::cmp::Reverse(span(a, b)));
        // At most this many bands, leaving at least half of the width to the data.
        let max_breaks = MAX_BREAKS.min((width_px / 2.0 / BREAK_PX).max(0.0) as usize);
        let total = span(lo_ns, hi_ns);
        let mut unbroken_empty: i128 = empty.iter().map(|&(a, b)| span(a, b)).sum();
        let mut unbroken = total;
        let mut breaks: Vec<(i64, i64)> = Vec::new();
        for &(a, b) in &empty {
            if breaks.len() >= max_breaks || 2 * unbroken_empty <= unbroken {
                break;
            }
            breaks.push((a, b));
            unbroken_empty -= span(a, b);
            unbroken -= span(a, b);
        }
        breaks.sort_unstable();
        // The pieces between the breaks, before padding.
        let mut raw: Vec<(i64, i64)> = Vec::new();
        let mut start = lo_ns;
        for &(a, b) in &breaks {
            raw.push((start, a));
            start = b;
        }
        raw.push((start, hi_ns));
        let covered: i128 = raw.iter().map(|&(a, b)| span(a, b)).sum();
        let pad = if covered > 0 {
            ((covered as f64 * PAD_FRAC) as i64).max(1)
        } else {
            PAD_EMPTY_NS
        };
        // Each piece is padded on both sides: fully at the axis' ends (the first and last
        // runs stay off the frame), by a quarter of that beside a break (whose band already
        // sets the pieces apart), never by more than a quarter of the break, nor less than
        // 1 ns.
        let mut padded: Vec<(i64, i64)> = Vec::with_capacity(raw.len());
        for (k, &(a, b)) in raw.iter().enumerate() {
            let room = |g: Option<&(i64, i64)>| match g {
                None => i128::from(pad),
                Some(&(x, y)) => (span(x, y) / 4).clamp(1, (i128::from(pad) / 4).max(1)),
            };
            let left = room(k.checked_sub(1).and_then(|j| breaks.get(j)));
            let right = room(breaks.get(k));
            let t0 = (i128::from(a) - left).max(i128::from(i64::MIN)) as i64;
            let t1 = (i128::from(b) + right).min(i128::from(i64::MAX)) as i64;
            padded.push((t0, t1.max(t0.saturating_add(1))));
        }
        let width = width_px.max(1.0);
        let band = (BREAK_PX / width).min(0.5 / (breaks.len().max(1) as f64));
        let available = 1.0 - band * breaks.len() as f64;
        let weight: f64 = padded.iter().map(|&(a, b)| span(a, b) as f64).sum();
        let mut pieces = Vec::with_capacity(padded.len());
        let mut out_breaks = Vec::with_capacity(breaks.len());
        let mut f = 0.0;
        for (k, &(t0, t1)) in padded.iter().enumerate() {
            let w = available * span(t0, t1) as f64 / weight;
            pieces.push(Piece {
                t0,
                t1,
                f0: f,
                f1: f + w,
            });
            f += w;
            if let Some(&(from_ns, to_ns)) = breaks.get(k) {
                out_breaks.push(Break {
                    from_ns,
                    to_ns,
                    f0: f,
                    f1: f + band,
                });
                f += band;
            }
        }
        if let Some(last) = pieces.last_mut() {
            last.f1 = 1.0;
        }
        TimeScale {
            pieces,
            breaks: out_breaks,
        }
    }

    /// The pieces drawn linearly, in time order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The broken-axis bands, in time order.
    pub fn breaks(&self) -> &[Break] {
        &self.breaks
    }

    /// The times at the plot's left and right edges.
    pub fn visible(&self) -> (i64, i64) {
        (self.pieces[0].t0, self.pieces[self.pieces.len() - 1].t1)
    }

    /// Where time `t_ns` is, as a fraction of the plot's width: linear within a piece,
    /// linear across a break's band, extrapolated beyond the ends. Monotone in `t_ns`.
    pub fn frac(&self, t_ns: i64) -> f64 {
        let at = |t0: i64, t1: i64, f0: f64, f1: f64| {
            f0 + (f1 - f0) * span(t0, t_ns) as f64 / span(t0, t1).max(1) as f64
        };
        let first = &self.pieces[0];
        if t_ns < first.t0 {
            return at(first.t0, first.t1, first.f0, first.f1);
        }
        // The last piece starting at or before t.
        let k = self.pieces.partition_point(|p| p.t0 <= t_ns) - 1;
        let p = &self.pieces[k];
        match self.pieces.get(k + 1) {
            Some(n) if t_ns > p.t1 => at(p.t1, n.t0, p.f1, n.f0),
            _ => at(p.t0, p.t1, p.f0, p.f1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: i64 = 1_000_000_000;
    const DAY: i64 = 86_400 * S;

    #[test]
    fn without_breaks_the_ends_are_padded() {
        let runs: Vec<i64> = (0..61).map(|i| i * 10 * S).collect();
        let sc = TimeScale::new(0, 600 * S, &runs, Some(20 * S), 1200.0);
        assert!(sc.breaks().is_empty());
        assert_eq!(sc.pieces().len(), 1);
        // 2 % of 600 s each side: the first and last runs are 2 % / 1.04 in.
        let f0 = sc.frac(0);
        let f1 = sc.frac(600 * S);
        assert!((f0 - 0.02 / 1.04).abs() < 1e-9, "{f0}");
        assert!((1.0 - f1 - 0.02 / 1.04).abs() < 1e-9, "{f1}");
        assert!((sc.frac(300 * S) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_long_gap_becomes_a_narrow_band() {
        // 10 minutes of runs, 3 days without, 10 minutes of runs.
        let mut runs: Vec<i64> = (0..61).map(|i| i * 10 * S).collect();
        let after = 600 * S + 3 * DAY;
        runs.extend((0..61).map(|i| after + i * 10 * S));
        let hi = after + 600 * S;
        let sc = TimeScale::new(0, hi, &runs, Some(20 * S), 1200.0);
        assert_eq!(sc.breaks().len(), 1);
        let b = sc.breaks()[0];
        assert_eq!((b.from_ns, b.to_ns), (600 * S, after));
        assert!(((b.f1 - b.f0) * 1200.0 - BREAK_PX).abs() < 1e-6);
        // Each side's ten minutes take almost half of the width.
        for (a, z) in [(0, 600 * S), (after, hi)] {
            let w = sc.frac(z) - sc.frac(a);
            assert!(w > 0.45, "{w}");
        }
        // Monotone across the band.
        assert!(sc.frac(600 * S) < sc.frac(600 * S + DAY));
        assert!(sc.frac(600 * S + DAY) < sc.frac(after));
        assert!(sc.frac(0) > 0.0 && sc.frac(hi) < 1.0);
    }

    #[test]
    fn a_window_the_runs_do_not_reach_is_broken_at_its_edge() {
        // --since 7d over one hour of runs at its end.
        let runs: Vec<i64> = (0..361).map(|i| 7 * DAY - 3600 * S + i * 10 * S).collect();
        let sc = TimeScale::new(0, 7 * DAY, &runs, Some(20 * S), 1200.0);
        assert_eq!(sc.breaks().len(), 1);
        assert_eq!(sc.breaks()[0].from_ns, 0);
        assert!(sc.frac(7 * DAY) - sc.frac(7 * DAY - 3600 * S) > 0.9);
    }

    #[test]
    fn gaps_shown_as_they_are_when_they_do_not_squeeze() {
        // A 35 s gap in 10 minutes (the demo's): drawn to scale.
        let mut runs: Vec<i64> = (0..30).map(|i| i * 10 * S).collect();
        runs.extend((0..30).map(|i| 335 * S + i * 10 * S));
        let sc = TimeScale::new(0, 625 * S, &runs, Some(20 * S), 1200.0);
        assert!(sc.breaks().is_empty());
    }

    #[test]
    fn two_runs_three_days_apart() {
        // Without a threshold smaller than the gap: drawn to scale, padded.
        let sc = TimeScale::new(0, 3 * DAY, &[0, 3 * DAY], Some(6 * DAY), 1200.0);
        assert!(sc.breaks().is_empty());
        // With one (--gap 1h): each run in the middle of its own padded piece.
        let sc = TimeScale::new(0, 3 * DAY, &[0, 3 * DAY], Some(3600 * S), 1200.0);
        assert_eq!(sc.breaks().len(), 1);
        let (a, b) = (sc.frac(0), sc.frac(3 * DAY));
        assert!(a > 0.1 && a < 0.4 && b > 0.6 && b < 0.9, "{a} {b}");
    }

    #[test]
    fn one_run_is_never_broken() {
        // One run in a minute around it, with or without --gap.
        for gap in [None, Some(S), Some(10 * S)] {
            let sc = TimeScale::new(-30 * S, 30 * S, &[0], gap, 1200.0);
            assert!(sc.breaks().is_empty(), "{gap:?}");
            assert!((sc.frac(0) - 0.5).abs() < 1e-9);
        }
    }

    proptest! {
        #[test]
        fn monotone_and_bounded(
            lo in proptest::num::i64::ANY,
            len in 0i64..i64::MAX,
            mut runs in proptest::collection::vec(proptest::num::i64::ANY, 0..50),
            min_gap in proptest::option::of(0i64..i64::MAX),
            width in 0.0f64..5000.0,
        ) {
            let hi = lo.saturating_add(len);
            runs.sort_unstable();
            let sc = TimeScale::new(lo, hi, &runs, min_gap, width);
            prop_assert!(sc.breaks().len() <= MAX_BREAKS);
            prop_assert_eq!(sc.pieces().len(), sc.breaks().len() + 1);
            let mut probe: Vec<i64> = runs.clone();
            probe.extend([lo, hi, i64::MIN, i64::MAX, lo / 2 + hi / 2]);
            probe.sort_unstable();
            let fs: Vec<f64> = probe.iter().map(|&t| sc.frac(t)).collect();
            prop_assert!(fs.iter().all(|f| f.is_finite()));
            prop_assert!(fs.windows(2).all(|w| w[0] <= w[1] + 1e-9), "{fs:?}");
            let (f_lo, f_hi) = (sc.frac(lo), sc.frac(hi));
            prop_assert!(f_lo >= -1e-9 && f_hi <= 1.0 + 1e-9, "{f_lo} {f_hi}");
        }
    }
}
