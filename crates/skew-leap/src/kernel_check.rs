//! Judging the kernel's leap-second state (from a read-only `adjtimex` snapshot) against
//! the list: the state machine, STA_INS / STA_DEL, and the TAI offset.

use crate::calendar::{iso_date, start_of_day_unix_s, SECS_PER_DAY};
use crate::finding::{Finding, Severity};
use crate::list::LeapList;
use crate::schedule::LeapKind;
use skew_time::kernel::{KernelState, TimeState, Timex, STA_DEL, STA_INS};

/// The subject of kernel findings.
pub const SUBJECT: &str = "kernel";

/// The kernel's leap-second state, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCheck {
    /// The decoded snapshot.
    pub decoded: KernelState,
    /// STA_INS: insert a leap second at the end of the UTC day.
    pub sta_ins: bool,
    /// STA_DEL: delete a leap second at the end of the UTC day.
    pub sta_del: bool,
    /// TAI − UTC the list gives at the instant (what the kernel's TAI offset should be).
    pub expected_tai_s: Option<i32>,
    /// Whether the kernel's TAI offset equals the list's (`None` without a list value).
    pub tai_matches_list: Option<bool>,
    /// Findings.
    pub findings: Vec<Finding>,
}

/// Judges a kernel snapshot against `list` (if any) at `at_unix_s`.
pub fn check_kernel(t: &Timex, list: Option<&LeapList>, at_unix_s: i64) -> KernelCheck {
    let k = KernelState::decode(t);
    let sta_ins = t.status & STA_INS != 0;
    let sta_del = t.status & STA_DEL != 0;
    let mut findings = Vec::new();
    let mut add = |s: Severity, m: String| findings.push(Finding::new(s, SUBJECT, m));
    let expected = list.and_then(|l| l.tai_minus_utc_at(at_unix_s));
    let tai_matches_list = expected.map(|e| e == t.tai);
    if t.tai == 0 {
        let what = expected.map_or(String::new(), |e| {
            format!(" instead of {e} s ahead (TAI − UTC = {e} s per the list)")
        });
        add(
            Severity::Warning,
            format!(
                "TAI offset unset (0): CLOCK_TAI reads the same as CLOCK_REALTIME{what}; a time daemon sets it (chronyd `leapsectz right/UTC`, ntpd `leapfile`)"
            ),
        );
    } else if let Some(e) = expected.filter(|e| *e != t.tai) {
        add(
            Severity::Warning,
            format!(
                "TAI offset {} s, but the list says TAI − UTC = {e} s: CLOCK_TAI is {:+} s off",
                t.tai,
                t.tai - e
            ),
        );
    }
    let end_of_day = start_of_day_unix_s(at_unix_s) + SECS_PER_DAY;
    let day = iso_date(at_unix_s);
    let scheduled = list.and_then(|l| l.leap_taking_effect_at(end_of_day));
    let knows = list.is_some_and(|l| l.knows_about(end_of_day));
    if sta_ins && sta_del {
        add(
            Severity::Warning,
            "both STA_INS and STA_DEL are set: the kernel will insert (STA_INS wins)".to_string(),
        );
    }
    let armed = if sta_ins {
        Some(LeapKind::Insert)
    } else if sta_del {
        Some(LeapKind::Delete)
    } else {
        None
    };
    let flag = |kind: LeapKind| match kind {
        LeapKind::Insert => "STA_INS",
        LeapKind::Delete => "STA_DEL",
    };
    match (armed, scheduled) {
        (Some(a), Some(s)) if a == s.kind => add(
            Severity::Note,
            format!(
                "armed ({}) to {} the leap second {}, as the list schedules",
                flag(a),
                a.as_str(),
                s.second_label()
            ),
        ),
        (Some(a), Some(s)) => add(
            Severity::Warning,
            format!(
                "armed ({}) to {} a leap second at the end of {day}, but the list's leap second {} is {}",
                flag(a),
                a.as_str(),
                s.second_label(),
                s.kind.with_article(),
            ),
        ),
        (Some(a), None) if knows => add(
            Severity::Warning,
            format!(
                "armed ({}) to {} a leap second at the end of {day}, but the list schedules none: the clock would be 1 s off after midnight",
                flag(a),
                a.as_str()
            ),
        ),
        (Some(a), None) => add(
            Severity::Warning,
            format!(
                "armed ({}) to {} a leap second at the end of {day}, which the list cannot confirm ({})",
                flag(a),
                a.as_str(),
                list.map_or("no list".to_string(), |l| format!(
                    "it expired on {}",
                    iso_date(l.expires_unix_s())
                ))
            ),
        ),
        (None, Some(s)) => add(
            Severity::Note,
            format!(
                "not armed for the leap second {} the list schedules: the time daemon must apply it (step, slew or smear) or arm the kernel later today",
                s.second_label()
            ),
        ),
        (None, None) => {}
    }
    match TimeState::from_raw(t.state) {
        TimeState::Oop => add(
            Severity::Note,
            "TIME_OOP: a leap second is being inserted right now".to_string(),
        ),
        TimeState::Wait => add(
            Severity::Note,
            "TIME_WAIT: a leap second has just been applied (until STA_INS/STA_DEL are cleared)"
                .to_string(),
        ),
        _ => {}
    }
    if !k.synchronized {
        add(
            Severity::Note,
            format!(
                "the kernel clock is not synchronized ({}): the kernel's leap state is only what a daemon set",
                k.sync_reason
            ),
        );
    }
    KernelCheck {
        decoded: k,
        sta_ins,
        sta_del,
        expected_tai_s: expected,
        tai_matches_list,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::list::{parse, tests::SMALL};
    use skew_time::kernel::{STATUS_FLAGS, STA_NANO, STA_PLL, STA_UNSYNC};

    fn at(text: &str) -> i64 {
        parse_instant(text).unwrap().div_euclid(1_000_000_000)
    }

    fn list() -> LeapList {
        parse(SMALL.as_bytes()).unwrap()
    }

    /// A disciplined kernel: TIME_OK, PLL | NANO, maxerror 1 ms.
    fn synced(state: i32, extra: i32, tai: i32) -> Timex {
        Timex {
            state,
            status: STA_PLL | STA_NANO | extra,
            maxerror: 1_000,
            esterror: 100,
            tick: 10_000,
            tai,
            ..Timex::default()
        }
    }

    fn severities(c: &KernelCheck) -> Vec<Severity> {
        c.findings.iter().map(|f| f.severity).collect()
    }

    #[test]
    fn this_machine_kind_unsynced_tai_unset() {
        // What this VM reports: TIME_ERROR, STA_UNSYNC, maxerror 16 s, tai 0.
        let t = Timex {
            state: 5,
            status: STA_UNSYNC,
            maxerror: 16_000_000,
            esterror: 16_000_000,
            tick: 10_000,
            ..Timex::default()
        };
        let c = check_kernel(&t, Some(&list()), at("2026-11-27T00:00:00Z"));
        assert_eq!(c.decoded.state, "TIME_ERROR");
        assert!(!c.sta_ins && !c.sta_del && !c.decoded.leap_armed);
        assert_eq!(c.expected_tai_s, Some(37));
        assert_eq!(c.tai_matches_list, Some(false));
        assert_eq!(severities(&c), vec![Severity::Warning, Severity::Note]);
        assert!(c.findings[0].message.starts_with("TAI offset unset (0)"));
        assert!(c.findings[0].message.contains("instead of 37 s ahead"));
        assert!(c.findings[1].message.contains("STA_UNSYNC"));
    }

    #[test]
    fn tai_offset_compared_with_the_list() {
        let l = list();
        let c = check_kernel(&synced(0, 0, 37), Some(&l), at("2017-03-01T00:00:00Z"));
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.tai_matches_list, Some(true));
        let c = check_kernel(&synced(0, 0, 36), Some(&l), at("2017-03-01T00:00:00Z"));
        assert_eq!(severities(&c), vec![Severity::Warning]);
        assert!(c.findings[0].message.contains("CLOCK_TAI is -1 s off"));
        // Across the leap: 36 is right on the day before.
        let c = check_kernel(&synced(0, 0, 36), Some(&l), at("2016-11-30T00:00:00Z"));
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        // No list: an unset TAI is still a warning; a set one cannot be judged.
        let c = check_kernel(&synced(0, 0, 0), None, at("2016-11-30T00:00:00Z"));
        assert_eq!(severities(&c), vec![Severity::Warning]);
        let c = check_kernel(&synced(0, 0, 37), None, at("2016-11-30T00:00:00Z"));
        assert!(c.findings.is_empty());
        assert_eq!(c.tai_matches_list, None);
    }

    #[test]
    fn leap_flags_against_the_schedule() {
        let l = list();
        let leap_day = at("2016-12-31T12:00:00Z");
        let c = check_kernel(&synced(1, STA_INS, 36), Some(&l), leap_day);
        assert!(c.sta_ins && c.decoded.leap_armed);
        assert_eq!(c.decoded.state, "TIME_INS");
        assert_eq!(severities(&c), vec![Severity::Note]);
        assert!(c.findings[0].message.contains("as the list schedules"));
        let c = check_kernel(&synced(2, STA_DEL, 36), Some(&l), leap_day);
        assert_eq!(severities(&c), vec![Severity::Warning]);
        assert!(
            c.findings[0].message.contains("is an insertion"),
            "{:?}",
            c.findings
        );
        let c = check_kernel(&synced(0, 0, 36), Some(&l), leap_day);
        assert_eq!(severities(&c), vec![Severity::Note]);
        assert!(c.findings[0].message.contains("not armed"));
        // Armed on a day without a leap (the list knows that day).
        let c = check_kernel(
            &synced(1, STA_INS, 36),
            Some(&l),
            at("2016-11-30T12:00:00Z"),
        );
        assert_eq!(severities(&c), vec![Severity::Warning]);
        assert!(c.findings[0].message.contains("schedules none"));
        // Armed past the list's expiry (2017-06-28): cannot confirm.
        let c = check_kernel(
            &synced(1, STA_INS, 37),
            Some(&l),
            at("2017-12-31T12:00:00Z"),
        );
        assert_eq!(severities(&c), vec![Severity::Warning]);
        assert!(c.findings[0].message.contains("expired on 2017-06-28"));
        let c = check_kernel(&synced(1, STA_INS | STA_DEL, 36), Some(&l), leap_day);
        assert_eq!(severities(&c), vec![Severity::Warning, Severity::Note]);
        assert!(c.findings[0].message.contains("both STA_INS and STA_DEL"));
    }

    #[test]
    fn every_state_and_flag_decodes_and_judges() {
        let l = list();
        for state in 0..=6 {
            for (bit, name) in STATUS_FLAGS {
                let t = Timex {
                    state,
                    status: *bit,
                    tai: 37,
                    ..Timex::default()
                };
                let c = check_kernel(&t, Some(&l), at("2017-03-01T00:00:00Z"));
                assert_eq!(c.decoded.status, vec![name.to_string()]);
                assert_eq!(c.sta_ins, *bit == STA_INS);
                assert_eq!(c.sta_del, *bit == STA_DEL);
                assert_eq!(
                    c.decoded.leap_armed,
                    *bit == STA_INS || *bit == STA_DEL || (1..=3).contains(&state),
                    "state {state} flag {name}"
                );
                let oop = c.findings.iter().any(|f| f.message.starts_with("TIME_OOP"));
                let wait = c
                    .findings
                    .iter()
                    .any(|f| f.message.starts_with("TIME_WAIT"));
                assert_eq!(oop, state == 3);
                assert_eq!(wait, state == 4);
                let armed_warning = c
                    .findings
                    .iter()
                    .any(|f| f.severity == Severity::Warning && f.message.contains("armed"));
                assert_eq!(armed_warning, *bit == STA_INS || *bit == STA_DEL);
            }
        }
        let c = check_kernel(
            &Timex {
                state: 9,
                ..Timex::default()
            },
            None,
            0,
        );
        assert_eq!(c.decoded.state, "UNKNOWN(9)");
    }
}
