//! The clock filter (RFC 5905 §10): of several samples, the one with the lowest delay is
//! the most trustworthy; the spread of the others around it is the jitter.

use crate::exchange::Sample;

/// Index of the sample with the lowest delay (the latest of equals), or `None` if empty.
pub fn best_index(samples: &[Sample]) -> Option<usize> {
    samples
        .iter()
        .enumerate()
        .min_by_key(|(i, s)| (s.delay_ns(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
}

/// Jitter in ns: the root mean square of the other samples' offset differences to the
/// best one, with n − 1 in the denominator (RFC 5905 §10). Zero for a single sample.
pub fn jitter_ns(samples: &[Sample], best: usize) -> f64 {
    if samples.len() < 2 || best >= samples.len() {
        return 0.0;
    }
    let b = samples[best].offset_ns() as f64;
    let sum: f64 = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, s)| (s.offset_ns() as f64 - b).powi(2))
        .sum();
    (sum / (samples.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(offset: i64, delay: i64) -> Sample {
        Sample {
            t1_ns: 0,
            t2_ns: offset + delay / 2,
            t3_ns: offset + delay / 2,
            t4_ns: delay,
        }
    }

    #[test]
    fn lowest_delay_wins() {
        let v = [s(10, 500), s(20, 100), s(30, 300)];
        assert_eq!(best_index(&v), Some(1));
        assert_eq!(best_index(&[]), None);
        // Ties go to the latest sample.
        assert_eq!(best_index(&[s(1, 100), s(2, 100)]), Some(1));
    }

    #[test]
    fn jitter_is_rms_of_differences() {
        let v = [s(10, 500), s(20, 100), s(30, 300)];
        // differences 10 and 10 → sqrt(200 / 2) = 10.
        assert!((jitter_ns(&v, 1) - 10.0).abs() < 1e-9);
        assert_eq!(jitter_ns(&v[..1], 0), 0.0);
    }
}
