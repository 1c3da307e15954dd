//! The leap-seconds.list fixtures in `data/` and the list installed on this machine, read
//! through the edge (`system::load`) and judged.

use skew_leap::calendar::{iso_s, parse_instant};
use skew_leap::list_check::check_list;
use skew_leap::system::{load, load_system, LoadError};
use skew_leap::{HashCheck, LeapKind, Severity};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

fn at(text: &str) -> i64 {
    parse_instant(text).unwrap().div_euclid(1_000_000_000)
}

/// The shipped list: tzdata 2026f's, valid until 2027-06-28; its `#h` checked by our own
/// parser against the value tzdata and IERS publish.
#[test]
fn the_real_list() {
    let l = load(&data("leap-seconds.list")).unwrap();
    assert!(l.hash.is_valid(), "{:?}", l.hash);
    assert_eq!(
        l.hash.computed_text(),
        "a9bad145 84c31c70 758402aa b37bfd54 5923836a"
    );
    assert_eq!(l.entries.len(), 28);
    assert_eq!(l.leaps().len(), 27);
    assert!(l.leaps().iter().all(|e| e.kind == LeapKind::Insert));
    let last = l.entries.last().unwrap();
    assert_eq!((last.ntp_s, last.tai_minus_utc_s), (3_692_217_600, 37));
    assert_eq!(l.last_update_ntp_s, 3_992_312_697);
    assert_eq!(l.expires_ntp_s, 4_023_129_600);
    assert_eq!(iso_s(l.expires_unix_s()), "2027-06-28T00:00:00Z");
    assert!(l.inconsistencies.is_empty(), "{:?}", l.inconsistencies);
    // Still the same data as the 2025b list: no leap second announced since 2017.
    let old = load(&data("leap-seconds.2025b.list")).unwrap();
    assert_eq!(
        l.entries
            .iter()
            .map(|e| (e.ntp_s, e.tai_minus_utc_s))
            .collect::<Vec<_>>(),
        old.entries
            .iter()
            .map(|e| (e.ntp_s, e.tai_minus_utc_s))
            .collect::<Vec<_>>()
    );
    assert!(l.expires_ntp_s > old.expires_ntp_s);
    // Every leap second of the list is at the end of June or December.
    for e in l.leaps() {
        let s = e.second_label();
        assert!(
            s.contains("-06-30T23:59:60Z") || s.contains("-12-31T23:59:60Z"),
            "{s}"
        );
    }
}

#[test]
fn the_2016_leap_across() {
    let l = load(&data("leap-seconds.list")).unwrap();
    let c = check_list(&l, at("2016-12-31T12:00:00Z"), 30);
    assert_eq!(c.tai_minus_utc_s, Some(36));
    let next = c.next_leap.unwrap();
    assert_eq!(next.second_label(), "2016-12-31T23:59:60Z");
    assert_eq!(
        (next.tai_minus_utc_before_s, next.tai_minus_utc_after_s),
        (36, 37)
    );
    assert_eq!(c.last_leap.unwrap().second_label(), "2015-06-30T23:59:60Z");
    let c = check_list(&l, at("2017-01-01T00:00:00Z"), 30);
    assert_eq!(c.tai_minus_utc_s, Some(37));
    assert_eq!(c.next_leap, None);
    assert_eq!(c.last_leap.unwrap().second_label(), "2016-12-31T23:59:60Z");
    // Each historical leap: TAI − UTC one less just before, as listed just after.
    for e in l.leaps() {
        assert_eq!(
            l.tai_minus_utc_at(e.effective_unix_s - 1),
            Some(e.tai_minus_utc_before_s)
        );
        assert_eq!(
            l.tai_minus_utc_at(e.effective_unix_s),
            Some(e.tai_minus_utc_after_s)
        );
    }
    assert_eq!(l.tai_minus_utc_at(at("1971-12-31T23:59:59Z")), None);
    assert_eq!(l.tai_minus_utc_at(at("1972-01-01T00:00:00Z")), Some(10));
}

/// The 2025b list (shipped until tzdata 2026f replaced it) and its valid hash.
#[test]
fn the_2025b_list() {
    let l = load(&data("leap-seconds.2025b.list")).unwrap();
    assert!(l.hash.is_valid(), "{:?}", l.hash);
    assert_eq!(
        l.hash.computed_text(),
        "49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e"
    );
    assert_eq!(l.last_update_ntp_s, 3_960_835_200);
    assert_eq!(iso_s(l.last_update_unix_s()), "2025-07-07T00:00:00Z");
    assert_eq!(iso_s(l.expires_unix_s()), "2026-06-28T00:00:00Z");
}

#[test]
fn the_2025b_list_expired_as_of_late_2026() {
    let l = load(&data("leap-seconds.2025b.list")).unwrap();
    let c = check_list(&l, at("2026-11-27T00:00:00Z"), 30);
    assert!(c.expired);
    assert_eq!(c.days_since_expiry, Some(152));
    assert_eq!(c.next_leap, None);
    assert_eq!(c.findings[0].severity, Severity::Warning);
    assert!(c.findings[0]
        .message
        .starts_with("expired on 2026-06-28 (152 days ago)"));
    let c = check_list(&l, at("2026-06-01T00:00:00Z"), 30);
    assert!(c.expiring_soon && !c.expired);
    assert!(c.findings[0]
        .message
        .contains("expires on 2026-06-28 (in 27 days"));
}

#[test]
fn tampered_has_a_bad_hash() {
    let l = load(&data("leap-seconds.tampered.list")).unwrap();
    let HashCheck::Mismatch {
        line,
        expected,
        computed,
    } = l.hash
    else {
        panic!("{:?}", l.hash)
    };
    assert_eq!(line, 120);
    assert_eq!(
        expected,
        [0x49db2447, 0x571e5e1b, 0x2f002a53, 0x9c8da8e4, 0x39b8e49e]
    );
    assert_ne!(computed, expected);
    let c = check_list(&l, at("2016-12-31T12:00:00Z"), 30);
    assert_eq!(c.findings[0].severity, Severity::Critical);
    assert!(
        c.findings[0].message.starts_with(
            "bad hash: line 120 says 49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e, but the file's data hash to "
        ),
        "{}",
        c.findings[0].message
    );
    assert!(c.findings[0].message.contains("altered or damaged"));
}

#[test]
fn comment_edits_keep_the_hash() {
    let real = load(&data("leap-seconds.2025b.list")).unwrap();
    let edited = load(&data("leap-seconds.comment-edited.list")).unwrap();
    assert!(edited.hash.is_valid());
    assert_eq!(edited.hash, real.hash);
    assert_eq!(edited.entries, real.entries);
}

#[test]
fn the_2016_list_expired_before_the_2016_leap() {
    let l = load(&data("leap-seconds.expired.list")).unwrap();
    assert!(l.hash.is_valid(), "{:?}", l.hash);
    assert_eq!(l.entries.len(), 27);
    let c = check_list(&l, at("2016-12-31T12:00:00Z"), 30);
    assert!(c.expired);
    assert_eq!(c.next_leap, None, "it never knew the 2016 leap");
    assert_eq!(c.tai_minus_utc_s, Some(36));
    assert!(c.findings[0]
        .message
        .starts_with("expired on 2016-12-28 (3 days ago)"));
}

#[test]
fn truncated_names_the_line() {
    let e = load(&data("leap-seconds.truncated.list")).unwrap_err();
    let LoadError::Parse { source, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(source.line, 111);
    assert!(
        e.to_string()
            .ends_with("leap-seconds.truncated.list: line 111: expected a data line `NTP-seconds TAI-UTC [# comment]`, found \"35500\""),
        "{e}"
    );
}

/// The list installed on this machine (tzdata, which scripts/test.sh installs), found by the
/// usual search: it parses and its hash holds. Its dates depend on the tzdata version, so
/// only the shape is checked.
#[test]
fn the_installed_list() {
    let (path, l) = load_system().unwrap_or_else(|e| {
        panic!("{e} (the test command scripts/test.sh installs tzdata when it is missing)")
    });
    assert!(l.hash.is_valid(), "{}: {:?}", path.display(), l.hash);
    assert!(l.entries.len() >= 28, "{}", path.display());
    assert!(l.inconsistencies.is_empty());
    assert_eq!(l.tai_minus_utc_at(at("2017-01-01T00:00:00Z")), Some(37));
    let (tai, vouches, chosen) =
        skew_leap::system::system_tai_minus_utc(at("2017-01-01T00:00:00Z")).unwrap();
    assert_eq!((tai, vouches), (Some(37), true));
    assert!(chosen.loaded.is_ok(), "{}", chosen.describe());
}
