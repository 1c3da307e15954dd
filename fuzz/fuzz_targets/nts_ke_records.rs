//! Any bytes as an NTS-KE server's response (RFC 8915 §4), with any AEAD offer: checking
//! never panics, an accepted response is exactly one whole message with at most 8 cookies
//! of 1–256 bytes and an algorithm that was offered, and every record re-encodes to the
//! bytes it was decoded from.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_ntp::nts::ke::{
    decode_record, encode_record, message_length, parse_response, MAX_COOKIES, MAX_COOKIE_LEN,
};
use skew_ntp::nts::Aead;

#[derive(Debug, Arbitrary)]
struct Input {
    offer_siv: bool,
    offer_gcm: bool,
    gcm_first: bool,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut offer = Vec::new();
    if input.offer_gcm {
        offer.push(Aead::AesGcmSiv128);
    }
    if input.offer_siv {
        if input.gcm_first {
            offer.push(Aead::AesSivCmac256);
        } else {
            offer.insert(0, Aead::AesSivCmac256);
        }
    }
    let b = &input.bytes;
    // Records re-encode exactly.
    let mut at = 0;
    while let Some((r, len)) = decode_record(&b[at..]) {
        let mut again = Vec::new();
        encode_record(&mut again, r.critical, r.record_type, r.body);
        assert_eq!(&again[..], &b[at..at + len]);
        at += len;
    }
    let whole = message_length(b);
    match parse_response(b, &offer) {
        Ok(r) => {
            assert_eq!(whole, Ok(Some(b.len())), "an accepted response is one whole message");
            assert!(!r.cookies.is_empty() && r.cookies.len() <= MAX_COOKIES);
            assert!(r.cookies_sent >= r.cookies.len());
            assert!(r
                .cookies
                .iter()
                .all(|c| !c.is_empty() && c.len() <= MAX_COOKIE_LEN));
            assert!(offer.contains(&r.aead));
            assert!(!r.compliant_128gcm || r.aead == Aead::AesGcmSiv128);
            assert!(r.port != Some(0));
            if let Some(s) = &r.server {
                assert!(!s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic()));
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
