//! Any datagram through the NTP header codec: decoding never panics, a decoded header
//! re-encodes to exactly the first 48 bytes, and the origin peek agrees with the decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skew_ntp::packet::{peek_origin, refid_display, DecodeError, Packet, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    match Packet::decode(data) {
        Ok(p) => {
            assert!(data.len() >= HEADER_LEN);
            assert_eq!(&p.encode()[..], &data[..HEADER_LEN]);
            assert_eq!(peek_origin(data), Some(p.origin_ts.0));
            let _ = p.kiss_code().map(|k| k.to_refid());
            let _ = refid_display(p.stratum, p.reference_id);
        }
        Err(DecodeError::Truncated { len }) => {
            assert_eq!(len, data.len());
            assert!(len < HEADER_LEN);
        }
    }
});
