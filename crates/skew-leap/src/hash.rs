//! The leap-seconds.list integrity hash: SHA-1 over the file's numbers.
//!
//! The `#h` line holds the SHA-1 of the `#$` value, the `#@` value, then each data line's
//! first two fields (NTP seconds and TAI−UTC), concatenated as text with no whitespace;
//! comments are not covered. The digest is written as five 32-bit words in hexadecimal, and
//! is compared word by word as integers (so a word written without its leading zeros still
//! matches), as ntpd does.

use sha1::{Digest, Sha1};

/// The SHA-1 of `text` as five big-endian 32-bit words.
pub fn digest_words(text: &str) -> [u32; 5] {
    let d = Sha1::digest(text.as_bytes());
    let mut w = [0u32; 5];
    for (i, chunk) in d.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

/// Five words as the list writes them: `49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e`.
pub fn format_words(words: &[u32; 5]) -> String {
    words
        .iter()
        .map(|w| format!("{w:08x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one hexadecimal word of the `#h` line (1 to 8 hex digits).
pub fn parse_word(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 8 || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_known_text() {
        // FIPS 180 test vector "abc".
        assert_eq!(
            format_words(&digest_words("abc")),
            "a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d"
        );
    }

    #[test]
    fn words_compare_as_integers() {
        assert_eq!(parse_word("0000abcd"), Some(0xabcd));
        assert_eq!(parse_word("abcd"), Some(0xabcd));
        assert_eq!(parse_word("ABCD"), Some(0xabcd));
        assert_eq!(parse_word(""), None);
        assert_eq!(parse_word("123456789"), None);
        assert_eq!(parse_word("12g4"), None);
        assert_eq!(parse_word("+1"), None);
    }
}
