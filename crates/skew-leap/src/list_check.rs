//! Judging a leap-seconds.list at an instant: hash, consistency, expiry, what it says.

use crate::calendar::{iso_date, SECS_PER_DAY};
use crate::finding::{Finding, Severity};
use crate::list::{HashCheck, LeapList};
use crate::schedule::LeapEvent;

/// Warn when the list expires within this many days (the 30 days).
pub const DEFAULT_EXPIRY_WARNING_DAYS: i64 = 30;

/// The subject of list findings.
pub const SUBJECT: &str = "list";

/// What a list says at an instant, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListCheck {
    /// The hash verdict.
    pub hash: HashCheck,
    /// Whether the list has expired at the instant.
    pub expired: bool,
    /// Whether it expires within the warning window (and has not yet).
    pub expiring_soon: bool,
    /// Whole days from the instant to the expiry (negative once expired).
    pub days_until_expiry: i64,
    /// Whole days since the expiry (`None` before it).
    pub days_since_expiry: Option<i64>,
    /// TAI − UTC at the instant (`None` before 1972).
    pub tai_minus_utc_s: Option<i32>,
    /// The latest leap second in effect at the instant.
    pub last_leap: Option<LeapEvent>,
    /// The next leap second the list schedules after the instant.
    pub next_leap: Option<LeapEvent>,
    /// Findings, worst first within their kind.
    pub findings: Vec<Finding>,
}

/// Judges `list` at `at_unix_s`, warning `expiry_warning_days` before expiry.
pub fn check_list(list: &LeapList, at_unix_s: i64, expiry_warning_days: i64) -> ListCheck {
    let mut findings = Vec::new();
    let mut add = |s: Severity, m: String| findings.push(Finding::new(s, SUBJECT, m));
    match &list.hash {
        HashCheck::Valid { .. } => {}
        HashCheck::Mismatch { line, .. } => add(
            Severity::Critical,
            format!(
                "bad hash: line {line} says {}, but the file's data hash to {}: the list was altered or damaged; do not trust its dates",
                list.hash.expected_text().unwrap_or_default(),
                list.hash.computed_text()
            ),
        ),
        HashCheck::Missing { .. } => add(
            Severity::Warning,
            format!(
                "no `#h` hash line (the file ends at line {}): the list cannot be verified; it may be truncated",
                list.lines
            ),
        ),
    }
    for i in &list.inconsistencies {
        add(
            Severity::Critical,
            format!("line {}: {}: the list is wrong", i.line, i.message),
        );
    }
    let expires = list.expires_unix_s();
    let expired = list.is_expired_at(at_unix_s);
    let days_until_expiry = (expires - at_unix_s).div_euclid(SECS_PER_DAY);
    let expiring_soon =
        !expired && expires - at_unix_s < expiry_warning_days.saturating_mul(SECS_PER_DAY);
    if expired {
        add(
            Severity::Warning,
            format!(
                "expired on {} ({} days ago): it cannot tell whether a leap second is scheduled after that; run `skew leap --fetch` or install a current tzdata",
                iso_date(expires),
                (at_unix_s - expires).div_euclid(SECS_PER_DAY)
            ),
        );
    } else if expiring_soon {
        add(
            Severity::Warning,
            format!(
                "expires on {} (in {} days, within the {expiry_warning_days}-day warning): update it before then",
                iso_date(expires),
                days_until_expiry
            ),
        );
    }
    let tai_minus_utc_s = list.tai_minus_utc_at(at_unix_s);
    if tai_minus_utc_s.is_none() {
        add(
            Severity::Note,
            "the instant is before the list's first entry (1972): TAI − UTC was not a whole number of seconds then".to_string(),
        );
    }
    let next_leap = list.next_leap_after(at_unix_s);
    if let Some(n) = next_leap.filter(|n| n.effective_unix_s - at_unix_s <= SECS_PER_DAY) {
        add(
            Severity::Note,
            format!(
                "the leap second {} ({}) is {:.1} h away",
                n.second_label(),
                n.kind.as_str(),
                (n.effective_unix_s - at_unix_s) as f64 / 3600.0
            ),
        );
    }
    ListCheck {
        hash: list.hash.clone(),
        expired,
        expiring_soon,
        days_until_expiry,
        days_since_expiry: expired.then(|| (at_unix_s - expires).div_euclid(SECS_PER_DAY)),
        tai_minus_utc_s,
        last_leap: list.last_leap_at(at_unix_s),
        next_leap,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::list::{parse, tests::SMALL};

    fn at(text: &str) -> i64 {
        parse_instant(text).unwrap().div_euclid(1_000_000_000)
    }

    fn sev(c: &ListCheck) -> Vec<Severity> {
        c.findings.iter().map(|f| f.severity).collect()
    }

    #[test]
    fn valid_list_before_expiry_is_fine() {
        let l = parse(SMALL.as_bytes()).unwrap(); // expires 2017-06-28
        let c = check_list(&l, at("2016-12-30T23:59:59Z"), 30);
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        let c = check_list(&l, at("2016-12-31T12:00:00Z"), 30);
        assert_eq!(sev(&c), vec![Severity::Note]);
        assert_eq!(
            c.findings[0].message,
            "the leap second 2016-12-31T23:59:60Z (insert) is 12.0 h away"
        );
        assert!(!c.expired && !c.expiring_soon);
        assert_eq!(c.days_until_expiry, 178);
        assert_eq!(c.tai_minus_utc_s, Some(36));
        assert_eq!(c.next_leap.unwrap().second_label(), "2016-12-31T23:59:60Z");
        assert_eq!(c.last_leap.unwrap().second_label(), "2015-06-30T23:59:60Z");
        let c = check_list(&l, at("2017-01-01T00:00:01Z"), 30);
        assert_eq!(c.tai_minus_utc_s, Some(37));
        assert_eq!(c.next_leap, None);
    }

    #[test]
    fn expiring_and_expired() {
        let l = parse(SMALL.as_bytes()).unwrap(); // expires 2017-06-28T00:00:00Z
        let c = check_list(&l, at("2017-05-29T00:00:01Z"), 30);
        assert!(c.expiring_soon && !c.expired);
        assert_eq!(c.days_until_expiry, 29);
        assert_eq!(sev(&c), vec![Severity::Warning]);
        assert!(c.findings[0]
            .message
            .contains("expires on 2017-06-28 (in 29 days"));
        let c = check_list(&l, at("2017-05-29T00:00:00Z"), 30);
        assert!(
            !c.expiring_soon,
            "exactly 30 days ahead is not within 30 days"
        );
        let c = check_list(&l, at("2017-05-29T00:00:00Z"), 31);
        assert!(c.expiring_soon);
        let c = check_list(&l, at("2017-06-28T00:00:00Z"), 30);
        assert!(c.expired && !c.expiring_soon);
        assert!(
            c.findings[0]
                .message
                .contains("expired on 2017-06-28 (0 days ago)"),
            "{:?}",
            c.findings
        );
        let c = check_list(&l, at("2017-11-27T10:00:00Z"), 30);
        assert!(c.expired);
        assert!(
            c.findings[0].message.contains("(152 days ago)"),
            "{:?}",
            c.findings
        );
        assert_eq!(c.days_since_expiry, Some(152));
        assert_eq!(c.tai_minus_utc_s, Some(37), "still the best knowledge");
    }

    #[test]
    fn bad_and_missing_hash() {
        let tampered = SMALL.replacen("#@\t3707596800", "#@\t3739132800", 1);
        let l = parse(tampered.as_bytes()).unwrap();
        let c = check_list(&l, at("2016-11-30T12:00:00Z"), 30);
        assert_eq!(sev(&c), vec![Severity::Critical]);
        let m = &c.findings[0].message;
        assert!(m.starts_with("bad hash: line 9 says 604b25d3 19368243 a2485049 28514edf 2f9817c8, but the file's data hash to "), "{m}");
        let missing = SMALL
            .lines()
            .filter(|l| !l.starts_with("#h"))
            .collect::<Vec<_>>()
            .join("\n");
        let l = parse(missing.as_bytes()).unwrap();
        let c = check_list(&l, at("2016-11-30T12:00:00Z"), 30);
        assert_eq!(sev(&c), vec![Severity::Warning]);
        assert!(c.findings[0].message.contains("ends at line 8"));
    }

    #[test]
    fn inconsistent_data_is_critical() {
        let bad = SMALL.replacen("3692217600\t37", "3692217600\t38", 1);
        let l = parse(bad.as_bytes()).unwrap();
        let c = check_list(&l, at("2016-11-30T12:00:00Z"), 30);
        assert_eq!(sev(&c), vec![Severity::Critical, Severity::Critical]);
        assert!(c.findings[1]
            .message
            .starts_with("line 7: TAI-UTC goes from 36 s"));
    }

    #[test]
    fn before_1972() {
        let l = parse(SMALL.as_bytes()).unwrap();
        let c = check_list(&l, at("1970-01-01T00:00:00Z"), 30);
        assert_eq!(c.tai_minus_utc_s, None);
        assert_eq!(sev(&c), vec![Severity::Note]);
    }
}
