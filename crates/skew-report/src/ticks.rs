//! Axes: value ranges with their unit, nice tick positions (linear, logarithmic, UTC time)
//! and tick labels.

use crate::time::utc_format;

/// A unit for an axis: values are divided by `scale` and printed with `name`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// Seconds (or ppm) per unit.
    pub scale: f64,
    /// The unit's symbol.
    pub name: &'static str,
}

/// The unit of seconds that shows `abs_max` with at most three integer digits.
pub fn seconds_unit(abs_max: f64) -> Unit {
    let (scale, name) = if !(abs_max.is_finite()) || abs_max >= 1.0 {
        (1.0, "s")
    } else if abs_max >= 1e-3 {
        (1e-3, "ms")
    } else if abs_max >= 1e-6 {
        (1e-6, "µs")
    } else {
        (1e-9, "ns")
    };
    Unit { scale, name }
}

/// Parts per million (no rescaling).
pub const PPM: Unit = Unit {
    scale: 1.0,
    name: "ppm",
};

/// The largest magnitude an axis shows, in its data unit (s or ppm): 10¹² s is 31,700
/// years, beyond anything a drift log can mean (its run times span 585 years). Larger or
/// non-finite values clamp to it, and the points beyond are drawn at the edge.
pub const AXIS_LIMIT: f64 = 1e12;

/// The smallest positive value a logarithmic axis shows (1 ps).
pub const LOG_FLOOR: f64 = 1e-12;

/// Most ticks any axis generates, whatever it is asked for.
pub const MAX_TICKS: usize = 200;

fn clamp_to_limit(v: f64) -> f64 {
    v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
}

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// The lower end (in the data's own unit, s or ppm).
    pub lo: f64,
    /// The upper end.
    pub hi: f64,
    /// Logarithmic (both ends > 0).
    pub log: bool,
    /// The unit labels are printed in.
    pub unit: Unit,
}

impl Axis {
    /// A linear axis over `[lo, hi]` padded by 5 % each side (a zero-width range is widened
    /// around its value).
    pub fn linear(lo: f64, hi: f64, unit_of: impl Fn(f64) -> Unit) -> Axis {
        Axis::linear_min(lo, hi, 0.0, unit_of)
    }

    /// Like [`Axis::linear`], but at least `min_span` wide (around the data's middle): flat
    /// data at 0 ppm gets a readable ±0.5 ppm, not a billionth. Both ends are clamped to
    /// ±[`AXIS_LIMIT`]; a range that is not finite or not ordered becomes [0, 1].
    pub fn linear_min(lo: f64, hi: f64, min_span: f64, unit_of: impl Fn(f64) -> Unit) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (clamp_to_limit(lo), clamp_to_limit(hi))
        } else {
            (0.0, 1.0)
        };
        let min_span = if min_span.is_finite() {
            min_span.clamp(0.0, AXIS_LIMIT)
        } else {
            0.0
        };
        if hi - lo < min_span {
            let mid = lo / 2.0 + hi / 2.0;
            lo = mid - min_span / 2.0;
            hi = mid + min_span / 2.0;
        }
        if hi - lo <= f64::EPSILON * lo.abs().max(hi.abs()).max(1e-300) {
            let w = (lo.abs() * 0.1).max(1e-9);
            lo -= w;
            hi += w;
        } else {
            let pad = (hi - lo) * 0.05;
            lo -= pad;
            hi += pad;
        }
        Axis {
            lo,
            hi,
            log: false,
            unit: unit_of(lo.abs().max(hi.abs())),
        }
    }

    /// A logarithmic axis over `[lo, hi]`, padded to whole decades' fractions; both ends
    /// are clamped to [[`LOG_FLOOR`], [`AXIS_LIMIT`]] and at least a decade apart.
    pub fn logarithmic(lo: f64, hi: f64, unit_of: impl Fn(f64) -> Unit) -> Axis {
        let lo = if lo.is_nan() {
            LOG_FLOOR
        } else {
            lo.clamp(LOG_FLOOR, AXIS_LIMIT / 10.0)
        };
        let hi = if hi.is_nan() {
            lo * 10.0
        } else {
            hi.clamp(lo * 10.0, AXIS_LIMIT)
        };
        let (llo, lhi) = (lo.log10(), hi.log10());
        let pad = (lhi - llo) * 0.05;
        Axis {
            lo: 10f64.powf(llo - pad),
            hi: 10f64.powf(lhi + pad),
            log: true,
            unit: unit_of(hi),
        }
    }

    /// Linear unless the positive values span more than `ratio` (then logarithmic).
    pub fn auto_positive(lo: f64, hi: f64, ratio: f64, unit_of: impl Fn(f64) -> Unit) -> Axis {
        if lo > 0.0 && hi / lo > ratio {
            Axis::logarithmic(lo, hi, unit_of)
        } else {
            // From zero, so that heights compare.
            let hi = if hi.is_finite() && hi > 0.0 {
                hi.min(AXIS_LIMIT) * 1.05
            } else {
                1.0
            };
            Axis {
                lo: 0.0,
                hi,
                log: false,
                unit: unit_of(hi),
            }
        }
    }

    /// The position of `v` from 0 (lo) to 1 (hi); outside values go outside [0, 1], but
    /// no further than ten axis lengths (finite for any finite value).
    pub fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            let v = v.max(1e-300);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        f.clamp(-10.0, 11.0)
    }

    /// Tick positions (in data units), at most about `max_ticks`.
    pub fn ticks(&self, max_ticks: usize) -> Vec<f64> {
        if self.log {
            log_ticks(self.lo, self.hi, max_ticks)
        } else {
            linear_ticks(self.lo, self.hi, max_ticks)
        }
    }

    /// A tick label in the axis' unit, with just enough decimals for `step` (data units).
    pub fn label(&self, v: f64, step: f64) -> String {
        let x = v / self.unit.scale;
        let s = (step / self.unit.scale).abs();
        let decimals = if self.log || s <= 0.0 {
            if x.abs() >= 1.0 || x == 0.0 {
                0
            } else {
                ((-x.abs().log10().floor()) as usize).min(12)
            }
        } else if s >= 1.0 {
            0
        } else {
            ((-s.log10()).ceil() as usize).min(9)
        };
        let text = format!("{x:.decimals$}");
        if text.starts_with('-') && text.trim_start_matches(['-', '0', '.']).is_empty() {
            text[1..].to_string()
        } else {
            text
        }
    }
}

/// Ticks at multiples of 1, 2 or 5 × 10ⁿ covering `[lo, hi]`, at most about `max_ticks`
/// (never more than [`MAX_TICKS`]); none for a range that is empty or not finite.
pub fn linear_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let n = max_ticks.clamp(2, MAX_TICKS);
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    if !(raw.is_finite() && mag.is_finite() && mag > 0.0) {
        return Vec::new();
    }
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let (first, last) = ((lo / step).ceil(), (hi / step).floor());
    // At most n + 1 in exact arithmetic; the bound keeps rounding from making it more.
    if !(first.is_finite() && last.is_finite()) || last - first > (n + 1) as f64 {
        return Vec::new();
    }
    let count = (last - first).max(-1.0) as i64 + 1;
    (0..count).map(|k| (first + k as f64) * step).collect()
}

/// Ticks on a logarithmic axis: every decade, with 2 and 5 in between when there are
/// few decades, thinned to at most about `max_ticks` (never more than [`MAX_TICKS`]).
pub fn log_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let max_ticks = max_ticks.clamp(1, MAX_TICKS);
    // Finite positive doubles lie within 10^-324 .. 10^309: a few hundred decades at most.
    let d0 = lo.log10().floor() as i32;
    let d1 = hi.log10().ceil() as i32;
    let decades = (d1 - d0).max(1) as usize;
    let mults: &[f64] = if decades * 3 <= max_ticks {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let every = decades.div_ceil(max_ticks).max(1);
    let mut out = Vec::new();
    for d in (d0..=d1).step_by(every) {
        for m in mults {
            let v = m * 10f64.powi(d);
            if v.is_finite() && v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
    }
    out
}

/// Nice steps for a UTC time axis, s.
const TIME_STEPS_S: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    172_800, 604_800, 1_209_600, 2_592_000,
];

/// The step of a time axis, s: the first nice step giving at most `max` ticks; beyond a
/// month, 1, 2 or 5 × 10ⁿ days.
fn time_step_s(span_s: i128, max: i128) -> i128 {
    if let Some(s) = TIME_STEPS_S
        .iter()
        .map(|&s| i128::from(s))
        .find(|s| span_s / s <= max)
    {
        return s;
    }
    let mut days: i128 = 50;
    loop {
        for m in [1, 2, 5] {
            let s = days * m * 86_400;
            if span_s / s <= max {
                return s;
            }
        }
        days *= 10;
    }
}

/// Ticks on a UTC time axis between `lo_ns` and `hi_ns`: aligned multiples of a nice
/// step, at most about `max_ticks` (never more than [`MAX_TICKS`]) for any `i64` times,
/// with the chrono format that suits the step.
pub fn time_ticks(lo_ns: i64, hi_ns: i64, max_ticks: usize) -> (Vec<i64>, &'static str) {
    let max = max_ticks.clamp(1, MAX_TICKS) as i128;
    let (lo, hi) = (i128::from(lo_ns), i128::from(hi_ns));
    let span_s = ((hi - lo) / 1_000_000_000).max(1);
    let step = time_step_s(span_s, max);
    let step_ns = step * 1_000_000_000;
    let first = lo.div_euclid(step_ns) + i128::from(lo.rem_euclid(step_ns) != 0);
    let last = hi.div_euclid(step_ns);
    let ticks: Vec<i64> = (first..=last)
        .take(MAX_TICKS + 1)
        .filter_map(|k| i64::try_from(k * step_ns).ok())
        .collect();
    let multi_day = utc_format(lo_ns, "%F") != utc_format(hi_ns, "%F");
    let multi_year = utc_format(lo_ns, "%Y") != utc_format(hi_ns, "%Y");
    let fmt = if step < 60 {
        "%H:%M:%S"
    } else if step >= 86_400 && multi_year && step > 2_592_000 {
        "%Y-%m-%d"
    } else if step >= 86_400 {
        "%m-%d"
    } else if multi_day {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    (ticks, fmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_pick_readable_magnitudes() {
        assert_eq!(seconds_unit(0.25).name, "ms");
        assert_eq!(seconds_unit(2.0).name, "s");
        assert_eq!(seconds_unit(4e-6).name, "µs");
        assert_eq!(seconds_unit(4e-10).name, "ns");
    }

    #[test]
    fn linear_ticks_are_nice() {
        assert_eq!(
            linear_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(linear_ticks(-3.0, 3.0, 4), vec![-2.0, 0.0, 2.0]);
        let t = linear_ticks(-1.2e-5, 7e-6, 6);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!((t[0] + 1e-5).abs() < 1e-18);
        assert!(linear_ticks(1.0, 1.0, 5).is_empty());
    }

    #[test]
    fn log_ticks_cover_decades() {
        assert_eq!(log_ticks(1e-5, 3e-2, 12).len(), 11);
        let t = log_ticks(1e-9, 1.0, 5);
        assert!(t.len() <= 6 && t.contains(&1e-9), "{t:?}");
    }

    #[test]
    fn axes_and_labels() {
        let a = Axis::linear(-1.2e-5, 7e-6, seconds_unit);
        assert_eq!(a.unit.name, "µs");
        assert!(a.frac(-1.2e-5) > 0.0 && a.frac(7e-6) < 1.0);
        assert_eq!(a.label(-1e-5, 5e-6), "-10");
        assert_eq!(a.label(2.5e-6, 5e-7), "2.5");
        assert_eq!(a.label(-0.0, 5e-6), "0");
        let flat = Axis::linear(3.0, 3.0, |_| PPM);
        assert!(flat.lo < 3.0 && flat.hi > 3.0);
        let zero = Axis::linear_min(0.0, 0.0, 1.0, |_| PPM);
        assert!((zero.lo + 0.55).abs() < 1e-12 && (zero.hi - 0.55).abs() < 1e-12);
        assert_eq!(zero.ticks(6), vec![-0.4, -0.2, 0.0, 0.2, 0.4]);
        assert_eq!(Axis::linear_min(-3.0, 5.0, 1.0, |_| PPM).lo, -3.4);
        let l = Axis::auto_positive(1e-5, 1e-2, 30.0, seconds_unit);
        assert!(l.log);
        assert!((l.frac(l.lo)).abs() < 1e-12);
        assert_eq!(l.label(1e-4, 0.0), "0.1");
        let lin = Axis::auto_positive(1e-3, 2e-3, 30.0, seconds_unit);
        assert!(!lin.log && lin.lo == 0.0 && lin.hi > 2e-3);
    }

    #[test]
    fn time_ticks_align_to_utc() {
        let day = 86_400_000_000_000i64;
        let t0 = 1_795_132_800_000_000_000; // 2026-11-20T00:00:00Z
        let (t, fmt) = time_ticks(t0 + 1, t0 + day / 4, 8);
        assert_eq!(fmt, "%H:%M");
        assert!(t.iter().all(|x| x % 3_600_000_000_000 == 0), "{t:?}");
        assert!(t.len() <= 8);
        let (t, fmt) = time_ticks(t0, t0 + 7 * day, 8);
        assert_eq!((fmt, t.len()), ("%m-%d", 8));
        let (_, fmt) = time_ticks(t0 - day / 8, t0 + day / 8, 8);
        assert_eq!(fmt, "%m-%d %H:%M");
        let (_, fmt) = time_ticks(t0, t0 + 60_000_000_000, 8);
        assert_eq!(fmt, "%H:%M:%S");
    }

    /// Any f64 at all: ordinary, huge, tiny, subnormal, infinite, NaN.
    fn any_f64() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::num::f64::ANY,
            Just(1e300),
            Just(-1e300),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(5e-324),
            Just(0.0),
            -1e-3f64..1e-3,
        ]
    }

    proptest::proptest! {
        /// Whatever the data, an axis is finite, ordered and clamped, maps finite values to
        /// finite positions, and has a bounded number of ticks (issue 14.5: one 1e300 made
        /// `log_ticks` loop towards i32::MAX decades).
        #[test]
        fn axes_and_ticks_are_bounded(lo in any_f64(), hi in any_f64(), span in any_f64(),
                                      max_ticks in 0usize..100_000, v in any_f64()) {
            let axes = [
                Axis::linear_min(lo, hi, span, seconds_unit),
                Axis::linear(lo, hi, |_| PPM),
                Axis::logarithmic(lo, hi, seconds_unit),
                Axis::auto_positive(lo, hi, 30.0, seconds_unit),
            ];
            for a in axes {
                proptest::prop_assert!(a.lo.is_finite() && a.hi.is_finite() && a.lo < a.hi, "{a:?}");
                if a.log {
                    // Padded by 5 % of at most 24 decades each side.
                    proptest::prop_assert!(a.lo >= LOG_FLOOR / 20.0 && a.hi <= 20.0 * AXIS_LIMIT, "{a:?}");
                } else {
                    proptest::prop_assert!(a.lo >= -2.0 * AXIS_LIMIT && a.hi <= 2.0 * AXIS_LIMIT, "{a:?}");
                }
                if v.is_finite() {
                    proptest::prop_assert!(a.frac(v).is_finite(), "{a:?} {v}");
                }
                let t = a.ticks(max_ticks);
                proptest::prop_assert!(t.len() <= MAX_TICKS + 4, "{a:?}: {} ticks", t.len());
                let step = if t.len() >= 2 { t[1] - t[0] } else { 0.0 };
                for x in &t {
                    proptest::prop_assert!(x.is_finite());
                    proptest::prop_assert!(a.label(*x, step).len() < 40);
                }
            }
            // The tick functions alone, on raw ranges.
            proptest::prop_assert!(linear_ticks(lo, hi, max_ticks).len() <= MAX_TICKS + 2);
            proptest::prop_assert!(log_ticks(lo, hi, max_ticks).len() <= 3 * MAX_TICKS + 3);
        }

        /// Any two i64 times give a bounded, ordered set of ticks inside the range.
        #[test]
        fn time_ticks_are_bounded(a in proptest::num::i64::ANY, b in proptest::num::i64::ANY,
                                  max_ticks in 0usize..100_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            let (t, _) = time_ticks(lo, hi, max_ticks);
            proptest::prop_assert!(t.len() <= MAX_TICKS + 1, "{} ticks", t.len());
            proptest::prop_assert!(t.windows(2).all(|w| w[0] < w[1]));
            proptest::prop_assert!(t.iter().all(|x| *x >= lo && *x <= hi));
        }
    }
}
