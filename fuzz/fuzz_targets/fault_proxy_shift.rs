//! `skew proxy --shift` rewriting untrusted datagrams from the server: never panics,
//! changes nothing but the three timestamps of a mode-4 header, and keeps zero timestamps
//! zero.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_fault::proxy::shift_server_timestamps;

#[derive(Debug, Arbitrary)]
struct Input {
    shift_ns: i64,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut out = input.bytes.clone();
    let rewritten = shift_server_timestamps(&mut out, input.shift_ns);
    assert_eq!(out.len(), input.bytes.len());
    if !rewritten {
        assert_eq!(out, input.bytes);
        return;
    }
    assert_eq!(input.bytes[0] & 7, 4);
    for (i, (a, b)) in input.bytes.iter().zip(&out).enumerate() {
        let in_timestamp = (16..24).contains(&i) || (32..48).contains(&i);
        if !in_timestamp {
            assert_eq!(a, b, "byte {i} changed");
        }
    }
    for start in [16usize, 32, 40] {
        if input.bytes[start..start + 8].iter().all(|&b| b == 0) {
            assert!(out[start..start + 8].iter().all(|&b| b == 0));
        }
    }
});
