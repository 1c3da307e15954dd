//! Closed intervals of nanoseconds: the honest answer to "what is the offset?".

/// A closed interval `[lo_ns, hi_ns]` of nanoseconds, typically bounds on a clock offset.
///
/// An interval is never empty by construction: [`IntervalNs::intersect`] returns `None`
/// when two intervals do not overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntervalNs {
    /// Lower end, inclusive.
    pub lo_ns: i64,
    /// Upper end, inclusive.
    pub hi_ns: i64,
}

impl IntervalNs {
    /// The interval `[lo_ns, hi_ns]`; the ends are swapped if given in the wrong order.
    pub fn new(lo_ns: i64, hi_ns: i64) -> Self {
        if lo_ns <= hi_ns {
            Self { lo_ns, hi_ns }
        } else {
            Self {
                lo_ns: hi_ns,
                hi_ns: lo_ns,
            }
        }
    }

    /// The interval `center ± half_width` (saturating at the `i64` range).
    pub fn around(center_ns: i64, half_width_ns: i64) -> Self {
        let h = half_width_ns.saturating_abs();
        Self::new(center_ns.saturating_sub(h), center_ns.saturating_add(h))
    }

    /// Width `hi − lo` in nanoseconds.
    pub fn width_ns(&self) -> i64 {
        self.hi_ns.saturating_sub(self.lo_ns)
    }

    /// Midpoint, rounded toward negative infinity.
    pub fn midpoint_ns(&self) -> i64 {
        ((self.lo_ns as i128 + self.hi_ns as i128).div_euclid(2)) as i64
    }

    /// Whether `x_ns` lies inside (ends included).
    pub fn contains(&self, x_ns: i64) -> bool {
        self.lo_ns <= x_ns && x_ns <= self.hi_ns
    }

    /// The intersection, or `None` when the intervals are disjoint.
    pub fn intersect(&self, other: &IntervalNs) -> Option<IntervalNs> {
        let lo = self.lo_ns.max(other.lo_ns);
        let hi = self.hi_ns.min(other.hi_ns);
        (lo <= hi).then_some(IntervalNs {
            lo_ns: lo,
            hi_ns: hi,
        })
    }

    /// The smallest interval containing both.
    pub fn hull(&self, other: &IntervalNs) -> IntervalNs {
        IntervalNs {
            lo_ns: self.lo_ns.min(other.lo_ns),
            hi_ns: self.hi_ns.max(other.hi_ns),
        }
    }

    /// The interval widened by `by_ns` on each side (saturating).
    pub fn widen(&self, by_ns: i64) -> IntervalNs {
        let by = by_ns.saturating_abs();
        IntervalNs {
            lo_ns: self.lo_ns.saturating_sub(by),
            hi_ns: self.hi_ns.saturating_add(by),
        }
    }

    /// The interval shifted by `by_ns` (saturating).
    pub fn shift(&self, by_ns: i64) -> IntervalNs {
        IntervalNs {
            lo_ns: self.lo_ns.saturating_add(by_ns),
            hi_ns: self.hi_ns.saturating_add(by_ns),
        }
    }

    /// The largest distance from `center_ns` to either end: the `±` to print beside
    /// `center_ns` so that `center ± half` covers the whole interval.
    pub fn half_width_around(&self, center_ns: i64) -> i64 {
        let a = (center_ns as i128 - self.lo_ns as i128).abs();
        let b = (self.hi_ns as i128 - center_ns as i128).abs();
        a.max(b).min(i64::MAX as i128) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn intersect_and_hull() {
        let a = IntervalNs::new(0, 10);
        let b = IntervalNs::new(5, 20);
        assert_eq!(a.intersect(&b), Some(IntervalNs::new(5, 10)));
        assert_eq!(a.hull(&b), IntervalNs::new(0, 20));
        assert_eq!(a.intersect(&IntervalNs::new(11, 12)), None);
        assert_eq!(
            a.intersect(&IntervalNs::new(10, 12)),
            Some(IntervalNs::new(10, 10))
        );
    }

    #[test]
    fn constructors_and_measures() {
        assert_eq!(IntervalNs::new(5, -5), IntervalNs::new(-5, 5));
        assert_eq!(IntervalNs::around(100, 7), IntervalNs::new(93, 107));
        assert_eq!(IntervalNs::around(100, -7), IntervalNs::new(93, 107));
        assert_eq!(IntervalNs::new(-3, 4).width_ns(), 7);
        assert_eq!(IntervalNs::new(-3, 4).midpoint_ns(), 0);
        assert_eq!(IntervalNs::new(-4, 3).midpoint_ns(), -1);
        assert_eq!(IntervalNs::new(0, 10).widen(5), IntervalNs::new(-5, 15));
        assert_eq!(IntervalNs::new(0, 10).shift(-5), IntervalNs::new(-5, 5));
        assert_eq!(IntervalNs::new(0, 10).half_width_around(2), 8);
        assert_eq!(
            IntervalNs::new(i64::MIN, i64::MAX).widen(1).width_ns(),
            i64::MAX
        );
    }

    proptest! {
        #[test]
        fn intersection_is_inside_both(a in any::<i64>(), b in any::<i64>(), c in any::<i64>(), d in any::<i64>(), x in any::<i64>()) {
            let p = IntervalNs::new(a, b);
            let q = IntervalNs::new(c, d);
            match p.intersect(&q) {
                Some(r) => prop_assert_eq!(r.contains(x), p.contains(x) && q.contains(x)),
                None => prop_assert!(!(p.contains(x) && q.contains(x))),
            }
            prop_assert!(p.hull(&q).contains(a) && p.hull(&q).contains(d));
        }
    }
}
