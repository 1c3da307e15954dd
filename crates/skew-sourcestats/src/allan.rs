//! The overlapping Allan deviation of phase (offset) data.
//!
//! For phase samples xᵢ taken every τ₀, the overlapping Allan variance at τ = m·τ₀ is
//!
//! σ²(τ) = Σᵢ (xᵢ₊₂ₘ − 2xᵢ₊ₘ + xᵢ)² / (2 τ² (N − 2m))
//!
//! over the N − 2m overlapping second differences (NIST SP 1065, eq. 11). Polls are not
//! always answered, so the series lives on a grid with gaps ([`phase_grid`]): a second
//! difference is used when its three samples exist, and the sum is divided by the number of
//! differences used. Second differences are taken in integer nanoseconds, exactly.

/// The deviation at one averaging time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdevPoint {
    /// The averaging factor m (τ = m·τ₀).
    pub m: usize,
    /// τ, ns.
    pub tau_ns: i64,
    /// σ_y(τ), dimensionless (fractional frequency).
    pub adev: f64,
    /// Second differences that went into it.
    pub terms: usize,
}

/// Places samples `(x_ns, offset_ns)` (oldest first) on a grid of step `tau0_ns` starting at
/// the first sample: cell k holds the sample nearest to x₀ + k·τ₀ that rounds there (the
/// first one when two do). Cells without a sample are `None`. The grid is cut to its last
/// `max_cells` cells.
pub fn phase_grid(samples: &[(i64, i64)], tau0_ns: i64, max_cells: usize) -> Vec<Option<i64>> {
    let Some(&(x0, _)) = samples.first() else {
        return Vec::new();
    };
    if tau0_ns <= 0 || max_cells == 0 {
        return Vec::new();
    }
    let cell = |x: i64| -> i64 {
        let d = x.saturating_sub(x0) as i128;
        ((d + tau0_ns as i128 / 2).div_euclid(tau0_ns as i128)) as i64
    };
    let last = cell(samples[samples.len() - 1].0).max(0);
    let first = (last + 1 - max_cells as i64).max(0);
    let mut grid = vec![None; (last - first + 1) as usize];
    for &(x, y) in samples {
        let k = cell(x);
        if k >= first && k <= last {
            let slot = &mut grid[(k - first) as usize];
            if slot.is_none() {
                *slot = Some(y);
            }
        }
    }
    grid
}

/// The overlapping Allan deviation at τ = m·τ₀ of a phase grid (ns); `None` when no second
/// difference has its three samples.
pub fn overlapping_adev(phase: &[Option<i64>], tau0_ns: i64, m: usize) -> Option<AdevPoint> {
    if m == 0 || tau0_ns <= 0 || phase.len() < 2 * m + 1 {
        return None;
    }
    let mut sum = 0.0f64;
    let mut terms = 0usize;
    for i in 0..phase.len() - 2 * m {
        if let (Some(a), Some(b), Some(c)) = (phase[i], phase[i + m], phase[i + 2 * m]) {
            let d = c as i128 - 2 * b as i128 + a as i128;
            let d = d as f64;
            sum += d * d;
            terms += 1;
        }
    }
    if terms == 0 {
        return None;
    }
    let tau = m as f64 * tau0_ns as f64;
    Some(AdevPoint {
        m,
        tau_ns: (m as i64).saturating_mul(tau0_ns),
        adev: (sum / (2.0 * tau * tau * terms as f64)).sqrt(),
        terms,
    })
}

/// The overlapping Allan deviation at τ = τ₀·2ᵏ for k = 0, 1, ... while the grid holds a
/// second difference at that τ (N ≥ 2m + 1 and at least one complete triple).
pub fn adev_octaves(phase: &[Option<i64>], tau0_ns: i64) -> Vec<AdevPoint> {
    let mut out = Vec::new();
    let mut m = 1usize;
    while phase.len() > 2 * m {
        if let Some(p) = overlapping_adev(phase, tau0_ns, m) {
            out.push(p);
        }
        m *= 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(x: &[i64]) -> Vec<Option<i64>> {
        x.iter().copied().map(Some).collect()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        ((a - b) / b).abs() < rel
    }

    #[test]
    fn hand_computed() {
        // Quadratic phase 0, 1, 4, 9 (τ₀ = 1 s): every second difference is 2 (in ns), so
        // σ² = 4 / (2 · 1 s²) in ns²/s², σ = √2 ns/s = √2 · 1e-9.
        let p = overlapping_adev(&full(&[0, 1, 4, 9]), 1_000_000_000, 1).unwrap();
        assert!(close(p.adev, 2f64.sqrt() * 1e-9, 1e-12), "{p:?}");
        assert_eq!((p.terms, p.tau_ns), (2, 1_000_000_000));
        // Constant frequency (linear phase): no instability at all.
        let lin: Vec<i64> = (0..20).map(|i| 1_000 + 37 * i).collect();
        assert_eq!(overlapping_adev(&full(&lin), 1_000, 3).unwrap().adev, 0.0);
        // Too short for m.
        assert!(overlapping_adev(&full(&[0, 1, 4, 9]), 1, 2).is_none());
    }

    /// NIST SP 1065 §12.1 (Riley, NBS Monograph 140 annex): the 10-point phase data set and
    /// its published overlapping ADEV at τ = 1 and 2 (91.22945, 85.95287).
    #[test]
    fn nbs_ten_point_data_set() {
        let phase = [
            0.0, 103.11111, 123.22222, 157.33333, 166.44444, 48.55555, -96.33333, -2.22222,
            111.88889, 0.0,
        ];
        // Scaled to integer "ns" with τ₀ scaled alike: σ is unchanged (dimensionless).
        let scale = 100_000.0;
        let grid: Vec<Option<i64>> = phase.iter().map(|x| Some((x * scale) as i64)).collect();
        let tau0 = scale as i64;
        let a1 = overlapping_adev(&grid, tau0, 1).unwrap().adev;
        let a2 = overlapping_adev(&grid, tau0, 2).unwrap().adev;
        assert!(close(a1, 91.22945, 1e-6), "{a1}");
        assert!(close(a2, 85.95287, 1e-6), "{a2}");
    }

    /// NIST SP 1065 §12.2: the 1000-point data set from the Lewis–Goodman–Miller generator
    /// nᵢ₊₁ = 16807·nᵢ mod 2147483647, n₀ = 1234567890, frequency yᵢ = nᵢ / 2147483647;
    /// published overlapping ADEV 2.922319e-01, 9.159953e-02, 3.241343e-02 at τ = 1, 10, 100.
    #[test]
    fn nbs_thousand_point_data_set() {
        let mut n: u64 = 1_234_567_890;
        let mut seq = vec![n];
        for _ in 0..999 {
            n = 16807 * n % 2_147_483_647;
            seq.push(n);
        }
        assert_eq!(&seq[1..4], &[395_529_916, 1_209_410_747, 633_705_974]);
        // Phase is the running sum of frequency × τ₀ (τ₀ = 1 s), kept in ns.
        let mut x = 0.0f64;
        let mut grid = vec![Some(0i64)];
        for v in &seq {
            x += *v as f64 / 2_147_483_647.0;
            grid.push(Some((x * 1e9).round() as i64));
        }
        for (m, want) in [(1, 2.922319e-01), (10, 9.159953e-02), (100, 3.241343e-02)] {
            let got = overlapping_adev(&grid, 1_000_000_000, m).unwrap().adev;
            assert!(close(got, want, 2e-6), "m={m}: {got} vs {want}");
        }
    }

    struct Rng(u64);
    impl Rng {
        fn normal(&mut self) -> f64 {
            let mut next = || {
                self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            };
            let u1 = ((next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
            let u2 = (next() >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }

    /// Slope of log σ against log τ between the first and last octave.
    fn slope(points: &[AdevPoint]) -> f64 {
        let (a, b) = (points[0], points[points.len() - 1]);
        (b.adev / a.adev).ln() / ((b.tau_ns as f64) / (a.tau_ns as f64)).ln()
    }

    #[test]
    fn noise_types_have_their_slopes() {
        // White phase noise: σ_y(τ) ∝ τ⁻¹. Random-walk phase (white frequency noise): τ^−½.
        let mut rng = Rng(42);
        let white: Vec<i64> = (0..4096).map(|_| (1e4 * rng.normal()) as i64).collect();
        let mut acc = 0.0;
        let walk: Vec<i64> = (0..4096)
            .map(|_| {
                acc += 1e4 * rng.normal();
                acc as i64
            })
            .collect();
        let w = adev_octaves(&full(&white), 1_000_000_000);
        let r = adev_octaves(&full(&walk), 1_000_000_000);
        assert_eq!(w.len(), 11); // m = 1 .. 1024: N = 4096 > 2m
        let (sw, sr) = (slope(&w[..8]), slope(&r[..8]));
        assert!((sw + 1.0).abs() < 0.1, "white phase slope {sw}");
        assert!((sr + 0.5).abs() < 0.1, "random walk slope {sr}");
    }

    #[test]
    fn grid_with_gaps() {
        let s = 1_000_000_000;
        // Samples at 0, 1, 3, 4 polls (one missed), with a few ms of jitter.
        let pts = [
            (0, 10),
            (s + 3_000_000, 11),
            (3 * s - 2_000_000, 13),
            (4 * s, 14),
        ];
        let g = phase_grid(&pts, s, 100);
        assert_eq!(g, vec![Some(10), Some(11), None, Some(13), Some(14)]);
        // m = 1: triples (0,1,2) and (1,2,3), (2,3,4) all touch the gap: none complete.
        assert!(overlapping_adev(&g, s, 1).is_none());
        // m = 2: triple (0, 2, 4) touches the gap too.
        assert!(overlapping_adev(&g, s, 2).is_none());
        let g2 = phase_grid(
            &[(0, 0), (s, 1), (2 * s, 4), (4 * s, 16), (5 * s, 25)],
            s,
            100,
        );
        let p = overlapping_adev(&g2, s, 1).unwrap();
        assert_eq!(p.terms, 1); // only (0, 1, 2)
                                // The grid keeps only its newest cells.
        assert_eq!(phase_grid(&pts, s, 2), vec![Some(13), Some(14)]);
        assert!(phase_grid(&[], s, 10).is_empty());
    }

    #[test]
    fn octaves_stop_where_the_window_ends() {
        let g = full(&(0..64).map(|i| i * i).collect::<Vec<i64>>());
        let taus: Vec<usize> = adev_octaves(&g, 64).iter().map(|p| p.m).collect();
        assert_eq!(taus, vec![1, 2, 4, 8, 16]);
    }
}
