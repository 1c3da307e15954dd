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

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_differ() {
        let a = super::fresh_nonce().unwrap();
        let b = super::fresh_nonce().unwrap();
        assert_ne!(a, b);
        assert_ne!(a, 0);
    }
}
