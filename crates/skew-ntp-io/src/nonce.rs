//! Request nonces: 64 bits from the operating system's cryptographically secure generator
//! (getrandom(2)), so an off-path attacker cannot predict the origin a reply must echo.

/// Why no nonce could be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the system's random generator: {0}")]
pub struct NonceError(String);

/// A fresh random 64-bit nonce; never zero (zero means "unset" in NTP).
pub fn fresh_nonce() -> Result<u64, NonceError> {
    loop {
        let n = getrandom::u64().map_err(|e| NonceError(e.to_string()))?;
        if n != 0 {
            return Ok(n);
        }
    }
}

/// Fresh random bytes for an NTS request: its Unique Identifier and AEAD nonce.
pub fn fresh_entropy() -> Result<skew_ntp::nts::RequestEntropy, NonceError> {
    let mut b = [0u8; 48];
    getrandom::fill(&mut b).map_err(|e| NonceError(e.to_string()))?;
    Ok(skew_ntp::nts::RequestEntropy::from_bytes(b))
}

/// Nonces drawn in batches: one getrandom(2) call fills 64 of them, so a sweep of 100,000
/// servers makes 1,563 calls instead of 100,000. Each nonce is used once.
#[derive(Debug)]
pub struct NoncePool {
    buf: [u64; NoncePool::BATCH],
    next: usize,
}

impl Default for NoncePool {
    fn default() -> Self {
        NoncePool {
            buf: [0; NoncePool::BATCH],
            next: NoncePool::BATCH,
        }
    }
}

impl NoncePool {
    const BATCH: usize = 64;

    /// A fresh random 64-bit nonce, never zero.
    pub fn take(&mut self) -> Result<u64, NonceError> {
        loop {
            if self.next == Self::BATCH {
                let mut bytes = [0u8; Self::BATCH * 8];
                getrandom::fill(&mut bytes).map_err(|e| NonceError(e.to_string()))?;
                for (n, b) in self.buf.iter_mut().zip(bytes.chunks_exact(8)) {
                    *n = u64::from_ne_bytes(b.try_into().unwrap_or_default());
                }
                self.next = 0;
            }
            let n = std::mem::take(&mut self.buf[self.next]);
            self.next += 1;
            if n != 0 {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pooled_nonces_differ_and_are_never_reused() {
        let mut p = super::NoncePool::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let n = p.take().unwrap();
            assert_ne!(n, 0);
            assert!(seen.insert(n), "nonce {n:#x} drawn twice");
        }
    }

    #[test]
    fn nonces_differ() {
        let a = super::fresh_nonce().unwrap();
        let b = super::fresh_nonce().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, 0);
        let e = super::fresh_entropy().unwrap();
        let f = super::fresh_entropy().unwrap();
        assert_ne!(e.unique_id, f.unique_id);
        assert_ne!(e.aead_nonce, f.aead_nonce);
    }
}
