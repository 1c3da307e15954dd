//! Seeded randomness: SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of
//! xoshiro), and probabilities as exact 64-bit thresholds.
//!
//! A run with the same `--seed` and the same sequence of datagrams makes the same choices.

use std::fmt;

/// The SplitMix64 generator: 64 bits of state, full period 2^64, passes BigCrush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..=max` (Lemire's multiply-shift; the bias is below 2^-64 ×
    /// max, far under anything measurable here).
    pub fn up_to(&mut self, max: u64) -> u64 {
        if max == u64::MAX {
            return self.next_u64();
        }
        ((self.next_u64() as u128 * (max as u128 + 1)) >> 64) as u64
    }

    /// A uniform duration in `0..=max_ns` ns (0 for a non-positive `max_ns`).
    pub fn up_to_ns(&mut self, max_ns: i64) -> i64 {
        if max_ns <= 0 {
            0
        } else {
            self.up_to(max_ns as u64) as i64
        }
    }

    /// True with probability `p`. Always draws one number, so the sequence of later
    /// choices does not depend on whether `p` is 0 or 1.
    pub fn chance(&mut self, p: Probability) -> bool {
        let x = self.next_u64();
        p.admits(x)
    }
}

/// A probability held as an exact threshold on a 64-bit draw: 0 never, 1 always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Probability {
    /// Draws strictly below this (out of 2^64) succeed.
    threshold: u128,
}

/// Why a probability could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid probability {0:?}: expected a number from 0 to 1 (0.1) or a percentage (10%)")]
pub struct ProbabilityError(pub String);

impl Probability {
    /// Never.
    pub const NEVER: Probability = Probability { threshold: 0 };
    /// Always.
    pub const ALWAYS: Probability = Probability { threshold: 1 << 64 };

    /// Parses `0`, `0.1`, `1`, `10%`, `0.5 %`; anything outside 0..=1 is an error.
    pub fn parse(text: &str) -> Result<Probability, ProbabilityError> {
        let t = text.trim();
        let err = || ProbabilityError(text.to_string());
        let (num, scale) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), 100.0),
            None => (t, 1.0),
        };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(err());
        }
        let v: f64 = num.parse().map_err(|_| err())?;
        let p = v / scale;
        if !(0.0..=1.0).contains(&p) {
            return Err(err());
        }
        Ok(Probability::from_f64(p))
    }

    /// From a value in 0..=1 (clamped).
    pub fn from_f64(p: f64) -> Probability {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        let threshold = if p >= 1.0 {
            1u128 << 64
        } else {
            (p * 18_446_744_073_709_551_616.0) as u128
        };
        Probability { threshold }
    }

    /// The probability as a number (for output).
    pub fn as_f64(self) -> f64 {
        self.threshold as f64 / 18_446_744_073_709_551_616.0
    }

    /// Whether it is zero.
    pub fn is_never(self) -> bool {
        self.threshold == 0
    }

    /// Whether a uniform 64-bit draw `x` falls inside.
    pub fn admits(self, x: u64) -> bool {
        (x as u128) < self.threshold
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_splitmix_vector() {
        // Reference values of SplitMix64 seeded with 1234567 (from the reference C code).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        assert_eq!(r.next_u64(), 9817491932198370423);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SplitMix64::new(8).next_u64(), SplitMix64::new(7).next_u64());
    }

    #[test]
    fn probabilities() {
        assert_eq!(Probability::parse("0").unwrap(), Probability::NEVER);
        assert_eq!(Probability::parse("1").unwrap(), Probability::ALWAYS);
        assert_eq!(Probability::parse("100%").unwrap(), Probability::ALWAYS);
        assert_eq!(
            Probability::parse("10%").unwrap(),
            Probability::parse("0.1").unwrap()
        );
        for bad in ["", "-0.1", "1.5", "abc", "150%", "1e-3", "%"] {
            assert!(Probability::parse(bad).is_err(), "{bad}");
        }
        let mut r = SplitMix64::new(1);
        assert!((0..1000).all(|_| r.chance(Probability::ALWAYS)));
        assert!((0..1000).all(|_| !r.chance(Probability::NEVER)));
        let p = Probability::parse("0.25").unwrap();
        let hits = (0..100_000).filter(|_| r.chance(p)).count();
        assert!((24_000..26_000).contains(&hits), "{hits}");
        assert!(Probability::ALWAYS.admits(u64::MAX));
    }

    #[test]
    fn uniform_ranges() {
        let mut r = SplitMix64::new(3);
        let mut seen_max = false;
        for _ in 0..10_000 {
            let v = r.up_to(9);
            assert!(v <= 9);
            seen_max |= v == 9;
        }
        assert!(seen_max);
        assert_eq!(r.up_to_ns(0), 0);
        assert_eq!(r.up_to_ns(-5), 0);
        assert!(r.up_to_ns(1000) <= 1000);
    }
}
