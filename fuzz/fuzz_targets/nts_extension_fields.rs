//! NTS replies (RFC 8915 §5): any bytes through the extension field walker, the reply
//! check and the NAK test without a panic; and an authentic reply, changed in any byte the
//! Authenticator covers, is always refused.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_ntp::nts::ef::{fields, padded, FIELD_HEADER_LEN, MIN_FIELD_LEN};
use skew_ntp::nts::packet::{is_nak, open_reply, seal_reply};
use skew_ntp::nts::Aead;
use skew_ntp::packet::{Packet, HEADER_LEN};

#[derive(Debug, Arbitrary)]
struct Input {
    gcm: bool,
    key_byte: u8,
    uid: [u8; 32],
    cookie_lens: Vec<u8>,
    /// (position, xor) applied to an authentic reply.
    flips: Vec<(u16, u8)>,
    raw: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let aead = if input.gcm {
        Aead::AesGcmSiv128
    } else {
        Aead::AesSivCmac256
    };
    let key = vec![input.key_byte; aead.key_len()];
    // Arbitrary bytes: walking and checking never panic; fields tile what they cover.
    let mut end = 0;
    for f in fields(&input.raw, MIN_FIELD_LEN) {
        match f {
            Ok(f) => {
                assert_eq!(f.offset, end);
                assert!(f.len() >= MIN_FIELD_LEN && f.len() % 4 == 0);
                end += f.len();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    assert!(end <= input.raw.len());
    let _ = open_reply(&input.raw, &input.uid, aead, &key);
    let _ = is_nak(&input.raw, &input.uid);

    // An authentic reply and changes to it.
    let header = Packet::client_request(0x1234_5678_9abc_def0).encode();
    let cookies: Vec<Vec<u8>> = input
        .cookie_lens
        .iter()
        .take(8)
        .map(|&n| vec![0xc0; n as usize + 1])
        .collect();
    let nonce = vec![7u8; aead.nonce_len()];
    let good = seal_reply(&header, &input.uid, &cookies, aead, &key, &nonce).expect("seal");
    let opened = open_reply(&good, &input.uid, aead, &key).expect("authentic");
    assert_eq!(opened.cookies.len(), cookies.len());
    // Bytes the Authenticator covers: everything before it (associated data), its type
    // and length words' effect aside, its nonce and its ciphertext.
    let auth_at = HEADER_LEN + FIELD_HEADER_LEN + 32;
    let nonce_at = auth_at + 8;
    let ct_at = nonce_at + padded(nonce.len());
    let ct_len = u16::from_be_bytes([good[auth_at + 6], good[auth_at + 7]]) as usize;
    let covered = |i: usize| i < auth_at || (nonce_at..nonce_at + nonce.len()).contains(&i) || (ct_at..ct_at + ct_len).contains(&i);
    let mut bad = good.clone();
    let mut touched_covered = false;
    for &(pos, x) in &input.flips {
        let i = pos as usize % bad.len();
        if x != 0 {
            bad[i] ^= x;
        }
    }
    for i in 0..bad.len() {
        if bad[i] != good[i] && covered(i) {
            touched_covered = true;
        }
    }
    let r = open_reply(&bad, &input.uid, aead, &key);
    if touched_covered {
        assert!(r.is_err(), "a change to covered bytes authenticated: {:?}", input.flips);
    }
});
