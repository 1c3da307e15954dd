//! Any bytes as a leap-seconds.list: `skew_leap::parse` never panics, errors name a line
//! of the input, and a parsed list answers the schedule queries without panicking; as a
//! download for `skew leap --fetch` (`skew_leap::fetch::judge`), only a list whose hash
//! holds can be taken.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n').count();
    if data.last() == Some(&b'\n') {
        lines -= 1;
    }
    match skew_leap::parse(data) {
        Ok(list) => {
            assert!(!list.entries.is_empty());
            assert_eq!(list.lines, lines);
            let _ = list.hash.computed_text();
            for probe in [i64::MIN, -1, 0, 1_483_228_800, i64::MAX] {
                let _ = list.tai_minus_utc_at(probe);
                let _ = list.next_leap_after(probe);
                let _ = list.last_leap_at(probe);
                let _ = list.knows_about(probe);
            }
            for leap in list.leaps() {
                let _ = leap.view();
                let _ = leap.second_label();
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= lines.max(1), "{e} ({lines} lines)"),
    }
    let (_, taken) = skew_leap::fetch::judge("https://example.invalid/l", data, None);
    if let Some(list) = taken {
        assert!(list.hash.is_valid() && list.inconsistencies.is_empty());
    }
});
