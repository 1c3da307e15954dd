//! Student's t quantile for the frequency's error bound.
//!
//! chrony widens the slope's standard error by the 99.95 % quantile of Student's t with the
//! regression's degrees of freedom, so the skew is a generous bound on the frequency error.
//! The quantiles are the standard published values (a t-table's one-sided 0.0005 column);
//! between the tabulated degrees of freedom above 30 they are interpolated in 1/dof, which
//! is how t-tables are meant to be read. A test checks every value against a numerical
//! integration of the t density.

/// One-sided tail probability of the quantile: P(T > t) = 0.0005.
pub const TAIL: f64 = 0.0005;

/// t₀.₉₉₉₅ for 1..=30 degrees of freedom.
const T_9995: [f64; 30] = [
    636.619, 31.599, 12.924, 8.610, 6.869, 5.959, 5.408, 5.041, 4.781, 4.587, 4.437, 4.318, 4.221,
    4.140, 4.073, 4.015, 3.965, 3.922, 3.883, 3.850, 3.819, 3.792, 3.768, 3.745, 3.725, 3.707,
    3.690, 3.674, 3.659, 3.646,
];

/// t₀.₉₉₉₅ beyond 30 degrees of freedom: (dof, t), ending with the normal quantile.
const T_9995_TAIL: [(f64, f64); 4] = [(30.0, 3.646), (40.0, 3.551), (60.0, 3.460), (120.0, 3.373)];

/// The normal distribution's 0.9995 quantile (infinite degrees of freedom).
const Z_9995: f64 = 3.291;

/// The 99.95 % quantile of Student's t with `dof` degrees of freedom (`dof` ≥ 1; 0 is
/// treated as 1).
pub fn t_quantile_9995(dof: usize) -> f64 {
    let dof = dof.max(1);
    if dof <= 30 {
        return T_9995[dof - 1];
    }
    let inv = 1.0 / dof as f64;
    for w in T_9995_TAIL.windows(2) {
        let ((d0, t0), (d1, t1)) = (w[0], w[1]);
        if (dof as f64) <= d1 {
            let f = (1.0 / d0 - inv) / (1.0 / d0 - 1.0 / d1);
            return t0 + f * (t1 - t0);
        }
    }
    let (d0, t0) = T_9995_TAIL[T_9995_TAIL.len() - 1];
    let f = (1.0 / d0 - inv) / (1.0 / d0);
    t0 + f * (Z_9995 - t0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln Γ(x) by the Lanczos approximation (g = 7, 9 terms), accurate to ~1e-15.
    fn ln_gamma(x: f64) -> f64 {
        const C: [f64; 9] = [
            0.999_999_999_999_809_9,
            676.520_368_121_885_1,
            -1_259.139_216_722_402_8,
            771.323_428_777_653_1,
            -176.615_029_162_140_6,
            12.507_343_278_686_905,
            -0.138_571_095_265_720_12,
            9.984_369_578_019_572e-6,
            1.505_632_735_149_311_6e-7,
        ];
        let x = x - 1.0;
        let mut a = C[0];
        let t = x + 7.5;
        for (i, c) in C.iter().enumerate().skip(1) {
            a += c / (x + i as f64);
        }
        0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
    }

    /// P(T > t) for Student's t with `nu` degrees of freedom, by Simpson's rule on the
    /// density after the substitution u = 1/(1 + x²/ν) that makes the tail finite.
    fn upper_tail(t: f64, nu: f64) -> f64 {
        // P(T > t) = ½ I_{ν/(ν+t²)}(ν/2, ½): integrate the incomplete beta directly.
        let (a, b) = (nu / 2.0, 0.5);
        let xmax = nu / (nu + t * t);
        let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
        // ∫₀^xmax s^(a-1) (1-s)^(b-1) ds with s = xmax·v^(1/a) to remove the singularity at 0.
        let n = 20_000;
        let f = |v: f64| {
            // ds = xmax/a · v^(1/a − 1) dv and s^(a−1) = xmax^(a−1) v^((a−1)/a): together
            // xmax^a / a, constant; only (1 − s)^(b−1) remains.
            let s = xmax * v.powf(1.0 / a);
            (1.0 - s).powf(b - 1.0)
        };
        let h = 1.0 / n as f64;
        let mut sum = f(0.0) + f(1.0);
        for i in 1..n {
            sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        let integral = sum * h / 3.0 * xmax.powf(a) / a;
        0.5 * integral / ln_beta.exp()
    }

    #[test]
    fn table_values_are_the_quantiles() {
        for dof in [1usize, 2, 3, 5, 10, 20, 30, 40, 60, 120] {
            let p = upper_tail(t_quantile_9995(dof), dof as f64);
            assert!((p - TAIL).abs() < TAIL * 0.01, "dof {dof}: tail {p}");
        }
    }

    #[test]
    fn interpolated_values_are_close_and_decreasing() {
        let mut last = f64::INFINITY;
        for dof in 1..=1000 {
            let t = t_quantile_9995(dof);
            assert!(t <= last && t > Z_9995, "dof {dof}");
            last = t;
        }
        for dof in [35usize, 50, 90, 200, 1000] {
            let p = upper_tail(t_quantile_9995(dof), dof as f64);
            assert!((p - TAIL).abs() < TAIL * 0.03, "dof {dof}: tail {p}");
        }
    }
}
