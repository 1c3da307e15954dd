//! Decimation to pixel columns, so millions of rows draw as a few thousand points and look
//! the same: a line keeps, per column, its first, smallest, largest and last point (M4), so
//! every extreme and every column's entry and exit survive; a band keeps its envelope; a
//! "worst per interval" series keeps each column's maximum.

use crate::timescale::TimeScale;
use std::ops::Range;

/// Pixel columns over a time axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Columns<'a> {
    /// The time axis (linear, or broken at long gaps).
    pub scale: &'a TimeScale,
    /// Number of columns (pixels).
    pub count: usize,
}

impl<'a> Columns<'a> {
    /// `count` columns across `scale`.
    pub fn new(scale: &'a TimeScale, count: usize) -> Self {
        Columns { scale, count }
    }

    /// The column of time `t_ns` (clamped into range).
    pub fn of(&self, t_ns: i64) -> usize {
        let c = (self.scale.frac(t_ns) * self.count as f64).floor();
        c.clamp(0.0, self.count.saturating_sub(1) as f64) as usize
    }
}

/// Calls `f(column, range)` for each run of consecutive indices of `seg` in one column.
fn by_column(t: &[i64], seg: Range<usize>, cols: &Columns, mut f: impl FnMut(Range<usize>)) {
    let mut i = seg.start;
    while i < seg.end {
        let c = cols.of(t[i]);
        let mut j = i + 1;
        while j < seg.end && cols.of(t[j]) == c {
            j += 1;
        }
        f(i..j);
        i = j;
    }
}

/// The points of a line over `seg` (indices into `t`/`v`, all values finite), reduced to
/// at most four per column: first, min, max, last, in time order.
pub fn min_max(t: &[i64], v: &[f64], seg: Range<usize>, cols: &Columns) -> Vec<(i64, f64)> {
    let mut out = Vec::with_capacity((seg.len()).min(cols.count * 4));
    by_column(t, seg, cols, |r| {
        let (first, last) = (r.start, r.end - 1);
        let mut lo = first;
        let mut hi = first;
        for k in r {
            if v[k] < v[lo] {
                lo = k;
            }
            if v[k] > v[hi] {
                hi = k;
            }
        }
        let mut idx = [first, lo.min(hi), lo.max(hi), last];
        idx.sort_unstable();
        let mut prev = usize::MAX;
        for k in idx {
            if k != prev {
                out.push((t[k], v[k]));
                prev = k;
            }
        }
    });
    out
}

/// One column of a band: its time span and the envelope of the band's ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandColumn {
    /// First time in the column.
    pub t0_ns: i64,
    /// Last time in the column.
    pub t1_ns: i64,
    /// The smallest lower end.
    pub lo: f64,
    /// The largest upper end.
    pub hi: f64,
}

/// The envelope of a band `[lo, hi]` over `seg`, one entry per column.
pub fn envelope(
    t: &[i64],
    lo: &[f64],
    hi: &[f64],
    seg: Range<usize>,
    cols: &Columns,
) -> Vec<BandColumn> {
    let mut out = Vec::new();
    by_column(t, seg, cols, |r| {
        let mut b = BandColumn {
            t0_ns: t[r.start],
            t1_ns: t[r.end - 1],
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        };
        for k in r {
            b.lo = b.lo.min(lo[k]);
            b.hi = b.hi.max(hi[k]);
        }
        if b.lo.is_finite() && b.hi.is_finite() {
            out.push(b);
        }
    });
    out
}

/// Each column's largest finite value with its time: the worst per interval.
pub fn column_max(t: &[i64], v: &[f64], seg: Range<usize>, cols: &Columns) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    by_column(t, seg, cols, |r| {
        let best = r
            .filter(|&k| v[k].is_finite())
            .max_by(|&a, &b| v[a].total_cmp(&v[b]));
        if let Some(k) = best {
            out.push((t[k], v[k]));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    static SCALE: std::sync::LazyLock<TimeScale> =
        std::sync::LazyLock::new(|| TimeScale::linear(0, 1000));

    fn cols(count: usize) -> Columns<'static> {
        Columns::new(&SCALE, count)
    }

    #[test]
    fn column_mapping() {
        let c = cols(10);
        assert_eq!(c.of(0), 0);
        assert_eq!(c.of(99), 0);
        assert_eq!(c.of(100), 1);
        assert_eq!(c.of(1000), 9);
        assert_eq!(c.of(-5), 0);
        assert_eq!(c.of(5000), 9);
    }

    #[test]
    fn keeps_extremes_and_order() {
        // 1000 points in one column: first, min, max, last survive, in time order.
        let t: Vec<i64> = (0..1000).map(|i| i / 10).collect();
        let mut v = vec![0.0; 1000];
        v[0] = 1.0;
        v[300] = -7.0;
        v[600] = 9.0;
        v[999] = 2.0;
        let out = min_max(&t, &v, 0..1000, &cols(1));
        assert_eq!(out, vec![(0, 1.0), (30, -7.0), (60, 9.0), (99, 2.0)]);
        // Max before min keeps time order too.
        v[100] = 50.0;
        let out = min_max(&t, &v, 0..1000, &cols(1));
        assert_eq!(out, vec![(0, 1.0), (10, 50.0), (30, -7.0), (99, 2.0)]);
    }

    #[test]
    fn band_and_worst() {
        let t = [0, 10, 20, 500, 510];
        let lo = [-1.0, -3.0, -2.0, -5.0, f64::NAN];
        let hi = [1.0, 2.0, 4.0, 5.0, 6.0];
        let b = envelope(&t, &lo, &hi, 0..5, &cols(2));
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].t0_ns, b[0].t1_ns, b[0].lo, b[0].hi),
            (0, 20, -3.0, 4.0)
        );
        assert_eq!((b[1].lo, b[1].hi), (-5.0, 6.0));
        let w = column_max(&t, &hi, 0..5, &cols(2));
        assert_eq!(w, vec![(20, 4.0), (510, 6.0)]);
    }

    proptest! {
        #[test]
        fn extremes_survive_any_series(
            raw in proptest::collection::vec((0i64..10_000, -1e6f64..1e6), 1..3000),
            count in 1usize..400,
        ) {
            let mut raw = raw;
            raw.sort_by_key(|p| p.0);
            let t: Vec<i64> = raw.iter().map(|p| p.0).collect();
            let v: Vec<f64> = raw.iter().map(|p| p.1).collect();
            let scale = TimeScale::linear(0, 10_000);
            let c = Columns::new(&scale, count);
            let out = min_max(&t, &v, 0..t.len(), &c);
            prop_assert!(out.len() <= 4 * count);
            prop_assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
            // Per column, the first, last, min and max of the original are in the output.
            use std::collections::BTreeMap;
            let mut orig: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
            for (x, y) in t.iter().zip(&v) {
                orig.entry(c.of(*x)).or_default().push(*y);
            }
            let mut kept: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
            for (x, y) in &out {
                kept.entry(c.of(*x)).or_default().push(*y);
            }
            prop_assert_eq!(orig.len(), kept.len());
            for (col, o) in &orig {
                let k = &kept[col];
                let omin = o.iter().cloned().fold(f64::INFINITY, f64::min);
                let omax = o.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                prop_assert!(k.contains(&omin) && k.contains(&omax));
                prop_assert_eq!(k[0], o[0]);
                prop_assert_eq!(*k.last().unwrap(), *o.last().unwrap());
            }
        }
    }
}
