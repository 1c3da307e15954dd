//! `skew serve`'s request handling on untrusted datagrams: any bytes, any fault
//! configuration, any output buffer size. `on_request` classifies exactly as documented
//! and `render` never panics nor writes past the buffer.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use skew_fault::serve::{
    Decision, FaultServer, HeaderConfig, IgnoreReason, KodConfig, Misbehaviour, ServeConfig,
};
use skew_fault::served::{Smear, Step};
use skew_fault::{Probability, ServedClock, SmearKind};
use skew_ntp::packet::{Leap, HEADER_LEN};
use skew_ntp::timestamp::NtpShort;

#[derive(Debug, Arbitrary)]
struct Input {
    start_unix_ns: i64,
    offset_ns: i64,
    drift_ppm_e9: i64,
    step: Option<(i64, i64)>,
    smear: Option<(i64, bool)>,
    leap: u8,
    stratum: u8,
    version: Option<u8>,
    mode: u8,
    root_delay: u32,
    root_dispersion: u32,
    precision: i8,
    kod: Option<([u8; 4], u64)>,
    loss: u64,
    hold_ns: i64,
    hold_jitter_ns: i64,
    duplicate: u64,
    wrong_origin: bool,
    zero_transmit: bool,
    truncate: Option<u16>,
    garbage: u64,
    seed: u64,
    requests: Vec<(i64, i64, u16, Vec<u8>)>,
}

fn prob(x: u64) -> Probability {
    Probability::from_f64(x as f64 / u64::MAX as f64)
}

fuzz_target!(|input: Input| {
    let config = ServeConfig {
        clock: ServedClock {
            start_unix_ns: input.start_unix_ns,
            offset_ns: input.offset_ns,
            drift_ppm_e9: input.drift_ppm_e9,
            step: input.step.map(|(after_ns, by_ns)| Step { after_ns, by_ns }),
            smear: input.smear.map(|(leap_unix_ns, insert)| Smear {
                leap_unix_ns,
                kind: if insert {
                    SmearKind::Insert
                } else {
                    SmearKind::Delete
                },
            }),
        },
        header: HeaderConfig {
            leap: Leap::from_bits(input.leap),
            stratum: input.stratum,
            reference_id: *b"FUZZ",
            root_delay: NtpShort(input.root_delay),
            root_dispersion: NtpShort(input.root_dispersion),
            precision: input.precision,
            version: input.version.map(|v| v & 7),
            mode: input.mode & 7,
        },
        kod: input.kod.map(|(code, every)| KodConfig { code, every }),
        faults: Misbehaviour {
            loss: prob(input.loss),
            hold_ns: input.hold_ns,
            hold_jitter_ns: input.hold_jitter_ns,
            duplicate: prob(input.duplicate),
            wrong_origin: input.wrong_origin,
            zero_transmit: input.zero_transmit,
            truncate: input.truncate.map(usize::from),
            garbage: prob(input.garbage),
        },
        seed: input.seed,
    };
    let mut server = FaultServer::new(config);
    let mut out = [0u8; 256];
    for (t2, t3, out_len, bytes) in input.requests.into_iter().take(64) {
        let before = server.requests();
        match server.on_request(&bytes, t2) {
            Decision::Ignore(IgnoreReason::Short) => assert!(bytes.len() < HEADER_LEN),
            Decision::Ignore(IgnoreReason::NotClient) => assert_ne!(bytes[0] & 7, 3),
            Decision::Ignore(IgnoreReason::BadVersion) => {
                assert!(!(1..=4).contains(&((bytes[0] >> 3) & 7)))
            }
            Decision::Lost => assert_eq!(server.requests(), before + 1),
            Decision::Send(plan) => {
                assert_eq!(server.requests(), before + 1);
                for o in plan.sends() {
                    assert!(o.delay_ns >= 0);
                    let limit = usize::from(out_len) % (out.len() + 1);
                    let n = server.render(&plan.reply, o.kind, t3, &mut out[..limit]);
                    assert!(n <= limit);
                }
            }
        }
    }
});
