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

#[cfg(test)]
mod tests {
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
