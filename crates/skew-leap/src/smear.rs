//! Leap smear detection over per-server offset series.
//!
//! A smearing server hides a leap second by running its clock slow (insertion) or fast
//! (deletion) for hours around it, and keeps LI = 0. The common smear spreads one second
//! linearly over the 24 h from noon to noon UTC: −11.574 ppm, the server 0.5 s behind an
//! unsmeared one at the leap. Seen from here, the server's offset *against the other
//! servers* ramps linearly; the local clock's own frequency error is common to every server
//! and cancels.
//!
//! Method, per server: a robust straight-line fit of θ against local time (Theil–Sen: the
//! median of pairwise slopes), its residual noise (1.4826 × MAD) and the slope's standard
//! error; a linearity check (a step leaves residuals much larger than their point-to-point
//! differences). The majority is the largest group of servers whose rates agree within their
//! uncertainties (Marzullo's interval intersection, applied to rates); it must hold more
//! than half the servers and be unambiguous. A server is smearing when it keeps LI = 0, its
//! rate against the majority is significant (≥ 5 σ), within the range of real smears
//! (5–1100 ppm: one second over about two days down to UTC-SLS's 1000 s), linear, in the
//! direction the leap needs, its offset against the majority is at most about a second,
//! and a leap second is within a day of the instant.

use crate::calendar::{iso_s, nearest_june_december_end_unix_s};
use crate::finding::{Finding, Severity};
use crate::list::LeapList;
use crate::observe::OffsetPoint;
use crate::schedule::LeapKind;
use skew_ntp::packet::Leap;

/// Fewest measurements per server to fit a rate.
pub const MIN_POINTS: usize = 5;
/// Slowest smear considered: one second over about 2.3 days.
pub const SMEAR_MIN_PPM: f64 = 5.0;
/// Fastest smear considered: UTC-SLS spreads a second over the last 1000 s (1000 ppm).
pub const SMEAR_MAX_PPM: f64 = 1100.0;
/// The rate of the common 24 h linear noon-to-noon smear: 1 s / 86 400 s.
pub const NOON_TO_NOON_PPM: f64 = 1e6 / 86_400.0;
/// A rate against the majority counts when it is at least this many standard errors.
pub const SIGNIFICANCE: f64 = 5.0;
/// A smearing server is at most a second (plus measurement slack) from the unsmeared time.
pub const MAX_SMEAR_OFFSET_NS: f64 = 1.1e9;
/// Smears happen within a day of the leap second (noon-to-noon: ±12 h; ntpd's
/// `leapsmearinterval` up to 24 h before; chrony's `smoothtime` after).
pub const LEAP_WINDOW_S: i64 = 86_400;
/// Rates closer than this always agree (ppm), whatever their standard errors.
pub const AGREE_FLOOR_PPM: f64 = 1.0;
/// Residuals may exceed the point-to-point noise by this factor (+ 1 µs) and still be linear.
pub const LINEARITY_FACTOR: f64 = 3.0;
/// Above this many points, the fit uses n/2 widely separated pairs instead of all pairs.
const ALL_PAIRS_LIMIT: usize = 600;
/// MAD to standard deviation, for Gaussian noise.
const MAD_TO_SIGMA: f64 = 1.4826;

/// A straight line through one server's offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFit {
    /// Slope: how fast the offset changes, ppm (µs per second of local time).
    pub rate_ppm: f64,
    /// Standard error of the slope, ppm.
    pub rate_sigma_ppm: f64,
    /// The line's offset at the reference time, ns.
    pub offset_ns: f64,
    /// Standard error of that offset, ns.
    pub offset_sigma_ns: f64,
    /// Robust standard deviation of the residuals, ns.
    pub residual_sigma_ns: f64,
    /// Robust standard deviation of point-to-point residual changes / √2, ns.
    pub step_sigma_ns: f64,
    /// Whether the residuals look like noise around a line (no steps).
    pub linear: bool,
    /// Points used.
    pub points: usize,
    /// Time from the first to the last point, ns.
    pub span_ns: i64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn mad_sigma(v: &[f64]) -> f64 {
    let mut c = v.to_vec();
    let m = median(&mut c);
    let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    MAD_TO_SIGMA * median(&mut d)
}

/// Fits a line to `points` (at least [`MIN_POINTS`], spanning some time), with its offset
/// taken at `ref_unix_ns`. `None` when there are too few points or no time span.
pub fn fit_rate(points: &[OffsetPoint], ref_unix_ns: i64) -> Option<RateFit> {
    if points.len() < MIN_POINTS {
        return None;
    }
    let mut p = points.to_vec();
    p.sort_by_key(|q| q.at_unix_ns);
    let span_ns = p[p.len() - 1].at_unix_ns - p[0].at_unix_ns;
    if span_ns <= 0 {
        return None;
    }
    let x: Vec<f64> = p
        .iter()
        .map(|q| (i128::from(q.at_unix_ns) - i128::from(ref_unix_ns)) as f64)
        .collect();
    let y: Vec<f64> = p.iter().map(|q| q.offset_ns as f64).collect();
    let n = p.len();
    let mut slopes = Vec::new();
    let mut pair = |i: usize, j: usize| {
        let dx = x[j] - x[i];
        if dx > 0.0 {
            slopes.push((y[j] - y[i]) / dx);
        }
    };
    if n <= ALL_PAIRS_LIMIT {
        for i in 0..n {
            for j in i + 1..n {
                pair(i, j);
            }
        }
    } else {
        for i in 0..n / 2 {
            pair(i, i + n / 2);
        }
    }
    if slopes.is_empty() {
        return None;
    }
    let slope = median(&mut slopes);
    let mut icpt: Vec<f64> = x.iter().zip(&y).map(|(x, y)| y - slope * x).collect();
    let intercept = median(&mut icpt);
    let resid: Vec<f64> = x
        .iter()
        .zip(&y)
        .map(|(x, y)| y - (intercept + slope * x))
        .collect();
    let residual_sigma_ns = mad_sigma(&resid).max(1.0);
    let diffs: Vec<f64> = resid.windows(2).map(|w| w[1] - w[0]).collect();
    let step_sigma_ns = (mad_sigma(&diffs) / std::f64::consts::SQRT_2).max(1.0);
    let mean_x = x.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|v| (v - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    Some(RateFit {
        rate_ppm: slope * 1e6,
        rate_sigma_ppm: residual_sigma_ns / sxx.sqrt() * 1e6,
        offset_ns: intercept,
        offset_sigma_ns: residual_sigma_ns / (n as f64).sqrt(),
        residual_sigma_ns,
        step_sigma_ns,
        linear: residual_sigma_ns <= LINEARITY_FACTOR * step_sigma_ns + 1_000.0,
        points: n,
        span_ns,
    })
}

/// The servers whose rates agree, and their common rate and offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Majority {
    /// Indices of the member servers.
    pub members: Vec<usize>,
    /// Their rate (inverse-variance weighted mean), ppm.
    pub rate_ppm: f64,
    /// Standard error of that rate, ppm.
    pub rate_sigma_ppm: f64,
    /// Their offset at the reference time (median), ns.
    pub offset_ns: f64,
    /// Standard error of that offset, ns.
    pub offset_sigma_ns: f64,
}

fn half_width(f: &RateFit) -> f64 {
    (3.0 * f.rate_sigma_ppm).max(AGREE_FLOOR_PPM / 2.0)
}

/// Finds the majority among the fitted servers (`None` entries take no part), or says why
/// there is none.
pub fn majority(fits: &[Option<RateFit>]) -> Result<Majority, String> {
    let cand: Vec<(usize, RateFit)> = fits
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.map(|f| (i, f)))
        .collect();
    if cand.len() < 2 {
        return Err(format!(
            "{} server(s) with enough samples for a rate: at least two are needed to compare",
            cand.len()
        ));
    }
    // Sweep the rate intervals; at every point of maximal overlap, record who is there.
    let mut ends: Vec<(f64, i32, usize)> = Vec::new();
    for (i, f) in &cand {
        let h = half_width(f);
        ends.push((f.rate_ppm - h, 0, *i)); // starts sort before ends at the same value
        ends.push((f.rate_ppm + h, 1, *i));
    }
    ends.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut inside: Vec<usize> = Vec::new();
    let mut best: Vec<Vec<usize>> = Vec::new();
    let mut best_n = 0;
    for (_, kind, i) in ends {
        if kind == 0 {
            inside.push(i);
            let mut set = inside.clone();
            set.sort_unstable();
            if set.len() > best_n {
                best_n = set.len();
                best = vec![set];
            } else if set.len() == best_n && !best.contains(&set) {
                best.push(set);
            }
        } else {
            inside.retain(|&j| j != i);
        }
    }
    let n = cand.len();
    if best_n * 2 <= n {
        return Err(format!(
            "no majority: at most {best_n} of {n} servers agree on a rate"
        ));
    }
    if best.len() > 1 {
        return Err(format!(
            "no majority: {} different groups of {best_n} of {n} servers agree on a rate",
            best.len()
        ));
    }
    let members = best.remove(0);
    let fit = |i: usize| fits[i].expect("member has a fit");
    let (mut wr, mut wsum) = (0.0, 0.0);
    for &i in &members {
        let f = fit(i);
        let w = 1.0 / f.rate_sigma_ppm.max(1e-9).powi(2);
        wr += w * f.rate_ppm;
        wsum += w;
    }
    // The offset reference is the members' median: robust to one member whose clock is far
    // off (a server a year off can share the majority's rate, not its time).
    let mut offs: Vec<f64> = members.iter().map(|&i| fit(i).offset_ns).collect();
    let mut sig: Vec<f64> = members.iter().map(|&i| fit(i).offset_sigma_ns).collect();
    Ok(Majority {
        rate_ppm: wr / wsum,
        rate_sigma_ppm: 1.0 / wsum.sqrt(),
        offset_ns: median(&mut offs),
        offset_sigma_ns: median(&mut sig) / (members.len() as f64).sqrt(),
        members,
    })
}

/// Whether a leap second is near enough for a smear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeapWindow {
    /// A leap second takes effect within a day of the instant (`kind` unknown when the list
    /// cannot tell: expired or missing).
    Near {
        /// When it takes effect, Unix s.
        leap_unix_s: i64,
        /// Insert or delete, when known.
        kind: Option<LeapKind>,
    },
    /// The nearest possible leap (end of June or December) is within a day, but the list,
    /// valid then, schedules none.
    NoLeap {
        /// The nearest possible leap instant, Unix s.
        nearest_unix_s: i64,
    },
    /// No possible leap second within a day.
    Far {
        /// The nearest possible leap instant, Unix s.
        nearest_unix_s: i64,
    },
}

impl LeapWindow {
    /// Why a ramp is or is not a smear at this instant, as a phrase.
    pub fn describe(&self) -> String {
        match self {
            LeapWindow::Near { leap_unix_s, kind } => format!(
                "a leap second takes effect at {}{}",
                iso_s(*leap_unix_s),
                kind.map_or(" (kind unknown: the list cannot tell)".to_string(), |k| format!(
                    " ({})",
                    k.as_str()
                ))
            ),
            LeapWindow::NoLeap { nearest_unix_s } => format!(
                "the list schedules no leap second at {}",
                iso_s(*nearest_unix_s)
            ),
            LeapWindow::Far { nearest_unix_s } => format!(
                "no leap second is possible within a day (the nearest end of June or December is {})",
                iso_s(*nearest_unix_s)
            ),
        }
    }
}

/// The leap window at `at_unix_s`: a leap the list schedules within a day, or the nearest
/// end of June / December when the list cannot rule a leap out there.
pub fn leap_window(list: Option<&LeapList>, at_unix_s: i64) -> LeapWindow {
    if let Some(ev) = list.and_then(|l| {
        l.leaps()
            .into_iter()
            .find(|e| (e.effective_unix_s - at_unix_s).abs() <= LEAP_WINDOW_S)
    }) {
        return LeapWindow::Near {
            leap_unix_s: ev.effective_unix_s,
            kind: Some(ev.kind),
        };
    }
    let nearest = nearest_june_december_end_unix_s(at_unix_s);
    if (nearest - at_unix_s).abs() > LEAP_WINDOW_S {
        return LeapWindow::Far {
            nearest_unix_s: nearest,
        };
    }
    match list {
        Some(l) if l.knows_about(nearest) => LeapWindow::NoLeap {
            nearest_unix_s: nearest,
        },
        _ => LeapWindow::Near {
            leap_unix_s: nearest,
            kind: None,
        },
    }
}

/// One server's input to the smear analysis.
#[derive(Debug, Clone, Copy)]
pub struct SmearInput<'a> {
    /// The server's name (subject of findings).
    pub server: &'a str,
    /// Its offset series (synchronized replies only).
    pub points: &'a [OffsetPoint],
    /// Its last leap indicator (`None`: not measured).
    pub leap: Option<Leap>,
}

/// The smear verdict on one server.
#[derive(Debug, Clone, PartialEq)]
pub struct SmearVerdict {
    /// `Some(true)` smearing, `Some(false)` not, `None` cannot tell.
    pub smearing: Option<bool>,
    /// Rate of its offset against the majority, ppm.
    pub rate_vs_majority_ppm: Option<f64>,
    /// Standard error of that rate, ppm.
    pub rate_sigma_ppm: Option<f64>,
    /// Its offset against the majority at the reference time, ns.
    pub offset_vs_majority_ns: Option<f64>,
    /// Whether it belongs to the majority.
    pub in_majority: bool,
    /// Why, as a sentence.
    pub reason: String,
}

/// The smear analysis of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SmearAnalysis {
    /// One verdict per input, in order.
    pub verdicts: Vec<SmearVerdict>,
    /// The per-server fits.
    pub fits: Vec<Option<RateFit>>,
    /// The majority, or why there is none.
    pub majority: Result<Majority, String>,
    /// The reference time of the offsets, Unix ns (median of all measurement times).
    pub ref_unix_ns: i64,
    /// The leap window used.
    pub window: LeapWindow,
    /// Findings (server subjects, and `servers` for the mix).
    pub findings: Vec<Finding>,
}

/// Analyses every server's offsets against the majority for smearing near `window`.
pub fn analyse(inputs: &[SmearInput<'_>], window: LeapWindow) -> SmearAnalysis {
    let mut times: Vec<i64> = inputs
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.at_unix_ns))
        .collect();
    times.sort_unstable();
    let ref_unix_ns = times.get(times.len() / 2).copied().unwrap_or(0);
    let usable = |s: &SmearInput<'_>| {
        !s.points.is_empty() && matches!(s.leap, Some(l) if l != Leap::Unsynchronized)
    };
    let fits: Vec<Option<RateFit>> = inputs
        .iter()
        .map(|s| {
            if usable(s) {
                fit_rate(s.points, ref_unix_ns)
            } else {
                None
            }
        })
        .collect();
    let maj = majority(&fits);
    let mut findings = Vec::new();
    let verdicts: Vec<SmearVerdict> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| verdict(i, s, &fits, &maj, window, &mut findings))
        .collect();
    let smearing: Vec<&str> = inputs
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.smearing == Some(true))
        .map(|(s, _)| s.server)
        .collect();
    let honest: Vec<&str> = inputs
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.smearing == Some(false))
        .map(|(s, _)| s.server)
        .collect();
    if !smearing.is_empty() && !honest.is_empty() {
        findings.push(Finding::new(
            Severity::Warning,
            "servers",
            format!(
                "smeared and unsmeared servers are mixed: {} smear{}, {} do{} not; a client using both sees them up to 0.5 s apart around the leap",
                smearing.join(", "),
                if smearing.len() == 1 { "s" } else { "" },
                honest.join(", "),
                if honest.len() == 1 { "es" } else { "" }
            ),
        ));
    }
    SmearAnalysis {
        verdicts,
        fits,
        majority: maj,
        ref_unix_ns,
        window,
        findings,
    }
}

fn verdict(
    i: usize,
    s: &SmearInput<'_>,
    fits: &[Option<RateFit>],
    maj: &Result<Majority, String>,
    window: LeapWindow,
    findings: &mut Vec<Finding>,
) -> SmearVerdict {
    let mut v = SmearVerdict {
        smearing: None,
        rate_vs_majority_ppm: None,
        rate_sigma_ppm: None,
        offset_vs_majority_ns: None,
        in_majority: false,
        reason: String::new(),
    };
    match s.leap {
        None => {
            v.reason = "not measured".into();
            return v;
        }
        Some(Leap::Unsynchronized) => {
            v.reason = "unsynchronized (LI = 3)".into();
            return v;
        }
        _ if s.points.is_empty() => {
            v.reason = "no synchronized measurement".into();
            return v;
        }
        _ => {}
    }
    let Some(f) = fits[i] else {
        v.reason = format!(
            "{} measurement(s): at least {MIN_POINTS} are needed to see a ramp (use -n {MIN_POINTS} or more)",
            s.points.len()
        );
        if s.leap != Some(Leap::None) {
            v.smearing = Some(false);
            v.reason = "announces the leap second (smearing servers keep LI = 0)".into();
        }
        return v;
    };
    let m = match maj {
        Ok(m) => m,
        Err(why) => {
            v.reason = format!("cannot compare with a majority: {why}");
            if s.leap != Some(Leap::None) {
                v.smearing = Some(false);
                v.reason = "announces the leap second (smearing servers keep LI = 0)".into();
            }
            return v;
        }
    };
    let rel = f.rate_ppm - m.rate_ppm;
    let sigma = (f.rate_sigma_ppm.powi(2) + m.rate_sigma_ppm.powi(2)).sqrt();
    let off = f.offset_ns - m.offset_ns;
    v.rate_vs_majority_ppm = Some(rel);
    v.rate_sigma_ppm = Some(sigma);
    v.offset_vs_majority_ns = Some(off);
    v.in_majority = m.members.contains(&i);
    let rate_text = format!(
        "{rel:+.2} ± {sigma:.2} ppm against the majority over {:.1} s",
        f.span_ns as f64 / 1e9
    );
    if s.leap != Some(Leap::None) {
        v.smearing = Some(false);
        v.reason = format!("announces the leap second (smearing servers keep LI = 0); {rate_text}");
        return v;
    }
    let significant = rel.abs() >= SIGNIFICANCE * sigma;
    let in_range = (SMEAR_MIN_PPM..=SMEAR_MAX_PPM).contains(&rel.abs());
    let close = off.abs() <= MAX_SMEAR_OFFSET_NS;
    if significant && (rel.abs() > SMEAR_MAX_PPM || !close) {
        v.smearing = Some(false);
        v.reason = format!(
            "its clock runs at {rate_text} and is {:+.3} s from the majority: a broken clock, not a smear",
            off / 1e9
        );
        findings.push(Finding::new(Severity::Warning, s.server, v.reason.clone()));
    } else if !f.linear {
        v.smearing = Some(false);
        v.reason = format!(
            "its offset against the majority does not move along a line (steps or wander), so it is not a linear smear; {rate_text}"
        );
        if rel.abs() >= SMEAR_MIN_PPM {
            findings.push(Finding::new(Severity::Note, s.server, v.reason.clone()));
        }
    } else if significant && in_range {
        let wanted = if rel < 0.0 {
            LeapKind::Insert
        } else {
            LeapKind::Delete
        };
        match window {
            LeapWindow::Near { kind: Some(k), .. } if k != wanted => {
                v.smearing = Some(false);
                v.reason = format!(
                    "ramps at {rate_text}: the wrong direction to smear {}",
                    k.with_article()
                );
                findings.push(Finding::new(Severity::Warning, s.server, v.reason.clone()));
            }
            LeapWindow::Near { .. } => {
                v.smearing = Some(true);
                let like = if (rel.abs() - NOON_TO_NOON_PPM).abs() <= 3.0 * sigma.max(0.2) {
                    ", as the 24 h noon-to-noon smear (11.57 ppm)"
                } else {
                    ""
                };
                v.reason = format!(
                    "smearing: its offset ramps linearly at {rate_text}{like} while it sends LI = 0 ({}); offset against the majority {:+.6} s",
                    window.describe(),
                    off / 1e9
                );
            }
            _ => {
                v.smearing = Some(false);
                v.reason = format!(
                    "ramps linearly at {rate_text}, but {}: a frequency error, not a smear",
                    window.describe()
                );
                findings.push(Finding::new(Severity::Warning, s.server, v.reason.clone()));
            }
        }
    } else if rel.abs() + 4.0 * sigma < SMEAR_MIN_PPM {
        v.smearing = Some(false);
        v.reason = format!("not smearing: {rate_text}");
    } else {
        v.reason = format!(
            "cannot tell: {rate_text}; a 24 h smear is 11.57 ppm: use more samples (-n) or a longer --interval"
        );
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::list::{parse, tests::SMALL};

    const S: i64 = 1_000_000_000;

    /// A deterministic noise source (xorshift), uniform in [-amp, amp] ns.
    struct Noise(u64);
    impl Noise {
        fn next(&mut self, amp_ns: i64) -> i64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            if amp_ns == 0 {
                return 0;
            }
            (self.0 % (2 * amp_ns as u64 + 1)) as i64 - amp_ns
        }
    }

    /// `n` points every `step_ns` from `t0`: offset = base + rate × t + noise.
    fn series(
        t0: i64,
        n: usize,
        step_ns: i64,
        base_ns: i64,
        rate_ppm: f64,
        noise_ns: i64,
        seed: u64,
    ) -> Vec<OffsetPoint> {
        let mut rng = Noise(seed | 1);
        (0..n)
            .map(|k| {
                let t = k as i64 * step_ns;
                OffsetPoint {
                    at_unix_ns: t0 + t,
                    offset_ns: base_ns + (t as f64 * rate_ppm / 1e6) as i64 + rng.next(noise_ns),
                    delay_ns: 50_000,
                }
            })
            .collect()
    }

    fn at(text: &str) -> i64 {
        parse_instant(text).unwrap()
    }

    fn window_2016() -> LeapWindow {
        let l = parse(SMALL.as_bytes()).unwrap();
        leap_window(Some(&l), at("2016-12-31T18:00:00Z") / S)
    }

    fn run(series: &[(&str, Vec<OffsetPoint>, Leap)], window: LeapWindow) -> SmearAnalysis {
        let inputs: Vec<SmearInput<'_>> = series
            .iter()
            .map(|(n, p, l)| SmearInput {
                server: n,
                points: p,
                leap: Some(*l),
            })
            .collect();
        analyse(&inputs, window)
    }

    #[test]
    fn fits_a_ramp_exactly_and_robustly() {
        let t0 = at("2016-12-31T18:00:00Z");
        let p = series(t0, 40, S / 2, -250_000_000, -NOON_TO_NOON_PPM, 0, 1);
        let f = fit_rate(&p, t0).unwrap();
        assert!((f.rate_ppm + NOON_TO_NOON_PPM).abs() < 0.01, "{f:?}");
        assert!((f.offset_ns + 250_000_000.0).abs() < 2.0, "{f:?}");
        assert!(f.linear);
        assert_eq!(f.points, 40);
        assert_eq!(f.span_ns, 39 * S / 2);
        // Two wild outliers do not move a Theil–Sen fit.
        let mut q = series(t0, 40, S / 2, 0, 11.57, 2_000, 7);
        q[5].offset_ns += 5_000_000;
        q[30].offset_ns -= 3_000_000;
        let f = fit_rate(&q, t0).unwrap();
        assert!((f.rate_ppm - 11.57).abs() < 0.5, "{f:?}");
        assert!(f.linear, "{f:?}");
        // Order of the points does not matter.
        q.reverse();
        assert_eq!(fit_rate(&q, t0).unwrap().rate_ppm, f.rate_ppm);
    }

    #[test]
    fn too_few_or_simultaneous_points() {
        let p = series(0, 4, S, 0, 0.0, 0, 1);
        assert_eq!(fit_rate(&p, 0), None);
        let same: Vec<OffsetPoint> = (0..6)
            .map(|k| OffsetPoint {
                at_unix_ns: 5,
                offset_ns: k,
                delay_ns: 1,
            })
            .collect();
        assert_eq!(fit_rate(&same, 0), None);
    }

    #[test]
    fn a_step_is_not_linear() {
        let mut p = series(0, 40, S / 2, 0, 0.0, 3_000, 3);
        for q in p.iter_mut().skip(20) {
            q.offset_ns += 200_000;
        }
        let f = fit_rate(&p, 0).unwrap();
        assert!(
            f.rate_ppm > 5.0,
            "a step looks like a slope to a line fit: {f:?}"
        );
        assert!(!f.linear, "{f:?}");
    }

    #[test]
    fn large_series_use_separated_pairs() {
        let p = series(0, 5_000, S / 10, 0, -11.57, 5_000, 9);
        let f = fit_rate(&p, 250 * S).unwrap();
        assert!((f.rate_ppm + 11.57).abs() < 0.05, "{f:?}");
    }

    #[test]
    fn the_smearing_server_is_found_among_honest_ones() {
        let t0 = at("2016-12-31T18:00:00Z");
        let w = window_2016();
        assert_eq!(
            w,
            LeapWindow::Near {
                leap_unix_s: at("2017-01-01T00:00:00Z") / S,
                kind: Some(LeapKind::Insert)
            }
        );
        // The local clock runs 20 ppm fast: every server's offset falls at −20 ppm; the
        // smearing one at −31.57 ppm. Only the difference matters.
        let a = run(
            &[
                (
                    "honest-1",
                    series(t0, 40, S / 2, 1_000, -20.0, 5_000, 1),
                    Leap::None,
                ),
                (
                    "smear",
                    series(
                        t0,
                        40,
                        S / 2,
                        -250_000_000,
                        -20.0 - NOON_TO_NOON_PPM,
                        5_000,
                        2,
                    ),
                    Leap::None,
                ),
                (
                    "honest-2",
                    series(t0, 40, S / 2, -2_000, -20.0, 5_000, 3),
                    Leap::None,
                ),
            ],
            w,
        );
        let m = a.majority.as_ref().unwrap();
        assert_eq!(m.members, vec![0, 2]);
        assert!((m.rate_ppm + 20.0).abs() < 0.5, "{m:?}");
        let v = &a.verdicts;
        assert_eq!(v[0].smearing, Some(false), "{}", v[0].reason);
        assert_eq!(v[2].smearing, Some(false), "{}", v[2].reason);
        assert_eq!(v[1].smearing, Some(true), "{}", v[1].reason);
        let rel = v[1].rate_vs_majority_ppm.unwrap();
        assert!((rel + NOON_TO_NOON_PPM).abs() < 0.5, "{rel}");
        assert!((v[1].offset_vs_majority_ns.unwrap() / 1e9 + 0.25).abs() < 0.001);
        assert!(v[1].reason.contains("noon-to-noon"), "{}", v[1].reason);
        assert!(v[0].in_majority && !v[1].in_majority);
        assert_eq!(a.findings.len(), 1, "{:?}", a.findings);
        assert_eq!(a.findings[0].severity, Severity::Warning);
        assert!(
            a.findings[0].message.starts_with(
                "smeared and unsmeared servers are mixed: smear smears, honest-1, honest-2 do not;"
            ),
            "{}",
            a.findings[0].message
        );
    }

    #[test]
    fn other_smear_rates_and_deletions() {
        let t0 = at("2016-12-31T18:00:00Z");
        // An 18 h smear (15.4 ppm) and UTC-SLS (1000 ppm) are smears too.
        for rate in [-1e6 / 64_800.0, -1000.0] {
            let a = run(
                &[
                    ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                    ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                    (
                        "s",
                        series(t0, 30, S, -100_000_000, rate, 2_000, 3),
                        Leap::None,
                    ),
                ],
                window_2016(),
            );
            assert_eq!(
                a.verdicts[2].smearing,
                Some(true),
                "{rate}: {}",
                a.verdicts[2].reason
            );
            assert!(!a.verdicts[2].reason.contains("noon-to-noon"));
        }
        // A positive ramp would smear a deletion: wrong direction for 2016's insertion.
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                (
                    "s",
                    series(t0, 30, S, 100_000_000, NOON_TO_NOON_PPM, 2_000, 3),
                    Leap::None,
                ),
            ],
            window_2016(),
        );
        assert_eq!(a.verdicts[2].smearing, Some(false));
        assert!(a.verdicts[2]
            .reason
            .contains("wrong direction to smear an insertion"));
        assert!(a
            .findings
            .iter()
            .any(|f| f.subject == "s" && f.severity == Severity::Warning));
        // With the kind unknown (expired list), either direction is a smear.
        let unknown = LeapWindow::Near {
            leap_unix_s: at("2017-01-01T00:00:00Z") / S,
            kind: None,
        };
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                (
                    "s",
                    series(t0, 30, S, 100_000_000, NOON_TO_NOON_PPM, 2_000, 3),
                    Leap::None,
                ),
            ],
            unknown,
        );
        assert_eq!(
            a.verdicts[2].smearing,
            Some(true),
            "{}",
            a.verdicts[2].reason
        );
        assert!(a.verdicts[2].reason.contains("kind unknown"));
    }

    #[test]
    fn a_ramp_far_from_any_leap_is_a_frequency_error() {
        let t0 = at("2016-11-15T12:00:00Z");
        let l = parse(SMALL.as_bytes()).unwrap();
        let w = leap_window(Some(&l), t0 / S);
        assert!(matches!(w, LeapWindow::Far { .. }), "{w:?}");
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                (
                    "s",
                    series(t0, 30, S, 0, -NOON_TO_NOON_PPM, 2_000, 3),
                    Leap::None,
                ),
            ],
            w,
        );
        assert_eq!(a.verdicts[2].smearing, Some(false));
        assert!(
            a.verdicts[2].reason.contains("frequency error"),
            "{}",
            a.verdicts[2].reason
        );
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.findings[0].severity, Severity::Warning);
        // Near a June end the list (valid until 2017-06-28) does not cover: kind unknown.
        let w = leap_window(Some(&l), at("2017-06-30T18:00:00Z") / S);
        assert_eq!(
            w,
            LeapWindow::Near {
                leap_unix_s: at("2017-07-01T00:00:00Z") / S,
                kind: None
            }
        );
        // Near a December end it covers and that schedules nothing.
        let mut l2 = l.clone();
        l2.expires_ntp_s += 10 * 365 * 86_400;
        let w = leap_window(Some(&l2), at("2017-12-31T18:00:00Z") / S);
        assert!(matches!(w, LeapWindow::NoLeap { .. }), "{w:?}");
        assert!(w
            .describe()
            .contains("schedules no leap second at 2018-01-01T00:00:00Z"));
        // Without a list, the nearest end of June/December is a possible leap.
        let w = leap_window(None, at("2017-12-31T18:00:00Z") / S);
        assert!(matches!(w, LeapWindow::Near { kind: None, .. }));
        // A day after the leap is still in the window; two days is not.
        assert!(matches!(
            leap_window(Some(&l), at("2017-01-02T00:00:00Z") / S),
            LeapWindow::Near { .. }
        ));
        assert!(matches!(
            leap_window(Some(&l), at("2017-01-02T00:00:01Z") / S),
            LeapWindow::Far { .. }
        ));
    }

    #[test]
    fn honest_servers_and_announcers_are_not_smearing() {
        let t0 = at("2016-12-31T18:00:00Z");
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 3.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 3.1, 2_000, 2), Leap::Insert),
                ("c", series(t0, 30, S, 0, 2.9, 2_000, 3), Leap::None),
            ],
            window_2016(),
        );
        for v in &a.verdicts {
            assert_eq!(v.smearing, Some(false), "{}", v.reason);
            assert!(v.in_majority);
        }
        assert!(a.verdicts[1]
            .reason
            .starts_with("announces the leap second"));
        assert!(a.findings.is_empty(), "{:?}", a.findings);
    }

    #[test]
    fn broken_and_stepping_servers_are_not_smears() {
        let t0 = at("2016-12-31T18:00:00Z");
        // 2 s off and ramping: broken.
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                (
                    "far",
                    series(t0, 30, S, 2 * S, -NOON_TO_NOON_PPM, 2_000, 3),
                    Leap::None,
                ),
                ("fast", series(t0, 30, S, 0, 5_000.0, 2_000, 4), Leap::None),
                ("c", series(t0, 30, S, 0, 0.0, 2_000, 6), Leap::None),
            ],
            window_2016(),
        );
        assert_eq!(
            a.verdicts[2].smearing,
            Some(false),
            "{}",
            a.verdicts[2].reason
        );
        assert!(
            a.verdicts[2].reason.contains("broken clock"),
            "{}",
            a.verdicts[2].reason
        );
        assert_eq!(a.verdicts[3].smearing, Some(false));
        assert!(a.verdicts[3].reason.contains("broken clock"));
        // A step of 300 µs half-way: the line fit sees ~20 ppm but the residuals are steps.
        let mut st = series(t0, 30, S, 0, 0.0, 2_000, 5);
        for q in st.iter_mut().skip(15) {
            q.offset_ns -= 300_000;
        }
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                ("b", series(t0, 30, S, 0, 0.0, 2_000, 2), Leap::None),
                ("step", st, Leap::None),
            ],
            window_2016(),
        );
        assert_eq!(
            a.verdicts[2].smearing,
            Some(false),
            "{}",
            a.verdicts[2].reason
        );
        assert!(
            a.verdicts[2].reason.contains("not move along a line"),
            "{}",
            a.verdicts[2].reason
        );
        assert_eq!(a.findings[0].severity, Severity::Note);
    }

    #[test]
    fn cannot_tell_without_samples_majority_or_precision() {
        let t0 = at("2016-12-31T18:00:00Z");
        // Too few samples.
        let a = run(
            &[
                ("a", series(t0, 4, S, 0, 0.0, 0, 1), Leap::None),
                ("b", series(t0, 4, S, 0, 0.0, 0, 2), Leap::None),
            ],
            window_2016(),
        );
        assert_eq!(a.verdicts[0].smearing, None);
        assert!(a.verdicts[0].reason.contains("at least 5"));
        assert!(a.majority.is_err());
        // Two servers that disagree: no majority, nobody to blame.
        let a = run(
            &[
                ("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None),
                (
                    "s",
                    series(t0, 30, S, 0, -NOON_TO_NOON_PPM, 2_000, 2),
                    Leap::None,
                ),
            ],
            window_2016(),
        );
        assert_eq!(a.verdicts[0].smearing, None);
        assert_eq!(a.verdicts[1].smearing, None);
        assert!(
            a.verdicts[1].reason.contains("no majority"),
            "{}",
            a.verdicts[1].reason
        );
        // One server alone.
        let a = run(
            &[("a", series(t0, 30, S, 0, 0.0, 2_000, 1), Leap::None)],
            window_2016(),
        );
        assert!(a.verdicts[0].reason.contains("at least two"));
        // Internet-like noise (1 ms) over 6 s: an 11.6 ppm ramp cannot be resolved.
        let a = run(
            &[
                ("a", series(t0, 7, S, 0, 0.0, 1_000_000, 1), Leap::None),
                ("b", series(t0, 7, S, 0, 0.0, 1_000_000, 2), Leap::None),
                (
                    "s",
                    series(t0, 7, S, 0, -NOON_TO_NOON_PPM, 1_000_000, 3),
                    Leap::None,
                ),
            ],
            window_2016(),
        );
        assert_eq!(a.verdicts[2].smearing, None, "{}", a.verdicts[2].reason);
        assert!(a.verdicts[2].reason.starts_with("cannot tell"));
        assert!(a.findings.is_empty());
    }

    #[test]
    fn ambiguous_or_noisy_groups() {
        let t0 = at("2016-12-31T18:00:00Z");
        // A noisy server overlaps both an honest and a smearing one: two groups of two.
        let a = run(
            &[
                ("honest", series(t0, 40, S, 0, 0.0, 1_000, 1), Leap::None),
                (
                    "smear",
                    series(t0, 40, S, 0, -NOON_TO_NOON_PPM, 1_000, 2),
                    Leap::None,
                ),
                (
                    "noisy",
                    series(t0, 40, S, 0, -6.0, 3_000_000, 3),
                    Leap::None,
                ),
            ],
            window_2016(),
        );
        assert!(
            a.majority
                .as_ref()
                .unwrap_err()
                .contains("different groups"),
            "{:?}",
            a.majority
        );
        // With a second honest server the majority is clear and the noisy one does not
        // drag its rate.
        let a = run(
            &[
                ("honest", series(t0, 40, S, 0, 0.0, 1_000, 1), Leap::None),
                (
                    "smear",
                    series(t0, 40, S, 0, -NOON_TO_NOON_PPM, 1_000, 2),
                    Leap::None,
                ),
                (
                    "noisy",
                    series(t0, 40, S, 0, -6.0, 3_000_000, 3),
                    Leap::None,
                ),
                ("honest-2", series(t0, 40, S, 0, 0.0, 1_000, 4), Leap::None),
            ],
            window_2016(),
        );
        let m = a.majority.as_ref().unwrap();
        assert_eq!(m.members, vec![0, 2, 3]);
        assert!(m.rate_ppm.abs() < 0.2, "{m:?}");
        assert_eq!(
            a.verdicts[1].smearing,
            Some(true),
            "{}",
            a.verdicts[1].reason
        );
        assert_eq!(a.verdicts[2].smearing, None, "{}", a.verdicts[2].reason);
    }

    #[test]
    fn unmeasured_and_unsynchronized_take_no_part() {
        let t0 = at("2016-12-31T18:00:00Z");
        let p = series(t0, 30, S, 0, 0.0, 1_000, 1);
        let inputs = [
            SmearInput {
                server: "x",
                points: &[],
                leap: None,
            },
            SmearInput {
                server: "u",
                points: &p,
                leap: Some(Leap::Unsynchronized),
            },
            SmearInput {
                server: "a",
                points: &p,
                leap: Some(Leap::None),
            },
        ];
        let a = analyse(&inputs, window_2016());
        assert_eq!(a.verdicts[0].reason, "not measured");
        assert!(a.verdicts[1].reason.contains("LI = 3"));
        assert_eq!(a.fits[1], None);
        assert!(a.majority.is_err());
    }
}
