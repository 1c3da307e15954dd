//! The runs test on the signs of regression residuals.
//!
//! A run is a maximal stretch of residuals with the same strict sign; a zero residual ends a
//! run on both sides (as in chrony). When a straight line fits the data, the signs are
//! independent and each equally likely, so the number of sign changes among the `n − 1`
//! neighbouring pairs follows Binomial(n − 1, ½) and the runs R = 1 + changes. Too few runs
//! (long stretches on one side of the line) mean the line does not fit: the oldest samples
//! belong to another line (a step, a frequency change). The critical values are computed
//! exactly from that law rather than taken from a table.

/// Significance level of the test: a fit is rejected when so few runs would happen by
/// chance with probability at most this.
pub const ALPHA: f64 = 0.05;

/// The number of runs of equal strict sign in `residuals` (0 for an empty slice).
pub fn count_runs(residuals: &[f64]) -> usize {
    if residuals.is_empty() {
        return 0;
    }
    1 + residuals
        .windows(2)
        .filter(|w| !((w[0] < 0.0 && w[1] < 0.0) || (w[0] > 0.0 && w[1] > 0.0)))
        .count()
}

/// P(R ≤ r) for `n` residuals under the null hypothesis (independent signs, ½ each).
pub fn runs_cdf(n: usize, r: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if r == 0 {
        return 0.0;
    }
    let trials = (n - 1) as u32;
    let changes_max = (r - 1).min(n - 1);
    // Sum of binomial coefficients C(trials, k) for k ≤ changes_max, over 2^trials; in f64
    // through logarithms would lose nothing that matters here, but exact integers are simple
    // up to the sizes used (n ≤ 1024 keeps every term finite in f64).
    let mut term = 1.0f64; // C(trials, 0)
    let mut sum = 0.0f64;
    for k in 0..=changes_max as u32 {
        if k > 0 {
            term = term * f64::from(trials - k + 1) / f64::from(k);
        }
        sum += term;
    }
    sum / 2f64.powi(trials as i32)
}

/// The critical number of runs for `n` residuals: the largest `c` with P(R ≤ c) ≤ [`ALPHA`].
/// A fit passes when it has more than `c` runs. 0 when no number of runs is that unlikely
/// (small `n`).
pub fn critical_runs(n: usize) -> usize {
    let mut c = 0;
    while c < n && runs_cdf(n, c + 1) <= ALPHA {
        c += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_with_zero_breaking_them() {
        assert_eq!(count_runs(&[]), 0);
        assert_eq!(count_runs(&[1.0]), 1);
        assert_eq!(count_runs(&[1.0, 2.0, -1.0, -3.0, 4.0]), 3);
        assert_eq!(count_runs(&[1.0, 0.0, 1.0]), 3);
        assert_eq!(count_runs(&[-1.0, -1.0, -1.0]), 1);
    }

    #[test]
    fn distribution_by_hand() {
        // n = 3: two pairs, each a change with probability ½: R = 1, 2, 3 with ¼, ½, ¼.
        assert_eq!(runs_cdf(3, 1), 0.25);
        assert_eq!(runs_cdf(3, 2), 0.75);
        assert_eq!(runs_cdf(3, 3), 1.0);
        // n = 10: P(R ≤ 2) = (1 + 9) / 512, P(R ≤ 3) = (1 + 9 + 36) / 512.
        assert!((runs_cdf(10, 2) - 10.0 / 512.0).abs() < 1e-15);
        assert!((runs_cdf(10, 3) - 46.0 / 512.0).abs() < 1e-15);
        assert_eq!(critical_runs(10), 2);
    }

    #[test]
    fn critical_values_are_the_largest_at_the_level() {
        for n in 1..=256 {
            let c = critical_runs(n);
            assert!(runs_cdf(n, c) <= ALPHA, "n={n}");
            if c < n {
                assert!(runs_cdf(n, c + 1) > ALPHA, "n={n}");
            }
        }
        // Too few samples for any verdict, then the mean (n + 1) / 2 minus about 1.645 σ.
        assert_eq!(critical_runs(4), 0);
        assert_eq!(critical_runs(64), 25);
    }
}
