//! What a leap-seconds.list says at a given instant: TAI − UTC, the last and the next leap
//! second, whether the list still vouches for the future.
//!
//! This is the small API other commands use (`skew clocks` compares CLOCK_TAI − CLOCK_REALTIME
//! with [`LeapList::tai_minus_utc_at`]).

use crate::calendar::{iso_s, mjd_of_ntp_s, ntp_to_unix_s, unix_to_ntp_s};
use crate::list::LeapList;
use serde::Serialize;

/// Whether a leap second adds or removes a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeapKind {
    /// 23:59:60 is inserted: TAI − UTC grows by one second.
    Insert,
    /// 23:59:59 is skipped: TAI − UTC shrinks by one second.
    Delete,
}

impl LeapKind {
    /// `insert` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeapKind::Insert => "insert",
            LeapKind::Delete => "delete",
        }
    }

    /// `an insertion` or `a deletion`, for sentences.
    pub fn with_article(self) -> &'static str {
        match self {
            LeapKind::Insert => "an insertion",
            LeapKind::Delete => "a deletion",
        }
    }
}

/// One leap second of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeapEvent {
    /// The instant the new TAI − UTC takes effect (00:00:00 UTC after the leap), Unix s.
    pub effective_unix_s: i64,
    /// Insert or delete.
    pub kind: LeapKind,
    /// TAI − UTC before it, s.
    pub tai_minus_utc_before_s: i32,
    /// TAI − UTC from it on, s.
    pub tai_minus_utc_after_s: i32,
    /// The list line that schedules it.
    pub line: usize,
}

impl LeapEvent {
    /// The effective instant in NTP seconds, as the list writes it.
    pub fn effective_ntp_s(&self) -> i64 {
        unix_to_ntp_s(self.effective_unix_s)
    }

    /// The leap second itself in UTC: `2016-12-31T23:59:60Z` for an insertion, the skipped
    /// `…T23:59:59Z` for a deletion.
    pub fn second_label(&self) -> String {
        let last = iso_s(self.effective_unix_s - 1); // …T23:59:59Z
        match self.kind {
            LeapKind::Insert => format!("{}60Z", &last[..last.len() - 3]),
            LeapKind::Delete => last,
        }
    }

    /// The serialisable view.
    pub fn view(&self) -> LeapView {
        LeapView {
            at: iso_s(self.effective_unix_s),
            second: self.second_label(),
            kind: self.kind,
            tai_minus_utc_before_s: self.tai_minus_utc_before_s,
            tai_minus_utc_after_s: self.tai_minus_utc_after_s,
            ntp_s: self.effective_ntp_s(),
            mjd: mjd_of_ntp_s(self.effective_ntp_s()),
            line: self.line,
        }
    }
}

/// A leap second as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeapView {
    /// When the new TAI − UTC takes effect: 00:00:00 UTC after the leap (ISO 8601).
    pub at: String,
    /// The leap second itself (`2016-12-31T23:59:60Z`; the skipped second for a deletion).
    pub second: String,
    /// `insert` or `delete`.
    pub kind: LeapKind,
    /// TAI − UTC before, s.
    pub tai_minus_utc_before_s: i32,
    /// TAI − UTC after, s.
    pub tai_minus_utc_after_s: i32,
    /// The effective instant in NTP seconds (the list's first column).
    pub ntp_s: i64,
    /// The Modified Julian Date of the effective day.
    pub mjd: i64,
    /// The list line.
    pub line: usize,
}

impl LeapList {
    /// `#$` in Unix seconds.
    pub fn last_update_unix_s(&self) -> i64 {
        ntp_to_unix_s(self.last_update_ntp_s)
    }

    /// `#@` in Unix seconds.
    pub fn expires_unix_s(&self) -> i64 {
        ntp_to_unix_s(self.expires_ntp_s)
    }

    /// Whether the list has expired at `unix_s`.
    pub fn is_expired_at(&self, unix_s: i64) -> bool {
        unix_s >= self.expires_unix_s()
    }

    /// Whether the list vouches for the schedule up to `unix_s`: a leap second taking effect
    /// then would be in it. False past the expiry date.
    pub fn knows_about(&self, unix_s: i64) -> bool {
        unix_s <= self.expires_unix_s()
    }

    /// The leap seconds, in order (every entry after the first, which only starts the table).
    pub fn leaps(&self) -> Vec<LeapEvent> {
        self.entries
            .windows(2)
            .map(|w| LeapEvent {
                effective_unix_s: w[1].unix_s(),
                kind: if w[1].tai_minus_utc_s >= w[0].tai_minus_utc_s {
                    LeapKind::Insert
                } else {
                    LeapKind::Delete
                },
                tai_minus_utc_before_s: w[0].tai_minus_utc_s,
                tai_minus_utc_after_s: w[1].tai_minus_utc_s,
                line: w[1].line,
            })
            .collect()
    }

    /// TAI − UTC in seconds at `unix_s` (during an inserted 23:59:60, the value before it);
    /// `None` before the list's first entry (1972, when UTC began to step by whole seconds).
    /// It says nothing about expiry: check [`LeapList::knows_about`] too.
    pub fn tai_minus_utc_at(&self, unix_s: i64) -> Option<i32> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.unix_s() <= unix_s)
            .map(|e| e.tai_minus_utc_s)
    }

    /// The latest leap second in effect at `unix_s`.
    pub fn last_leap_at(&self, unix_s: i64) -> Option<LeapEvent> {
        self.leaps()
            .into_iter()
            .rev()
            .find(|l| l.effective_unix_s <= unix_s)
    }

    /// The first leap second taking effect after `unix_s`, if the list schedules one.
    pub fn next_leap_after(&self, unix_s: i64) -> Option<LeapEvent> {
        self.leaps()
            .into_iter()
            .find(|l| l.effective_unix_s > unix_s)
    }

    /// The leap second taking effect exactly at `effective_unix_s` (a 00:00:00 UTC), if any.
    pub fn leap_taking_effect_at(&self, effective_unix_s: i64) -> Option<LeapEvent> {
        self.leaps()
            .into_iter()
            .find(|l| l.effective_unix_s == effective_unix_s)
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

    #[test]
    fn tai_minus_utc_across_the_2016_leap() {
        let l = parse(SMALL.as_bytes()).unwrap();
        assert_eq!(l.tai_minus_utc_at(at("2016-12-31T12:00:00Z")), Some(36));
        assert_eq!(l.tai_minus_utc_at(at("2016-12-31T23:59:59Z")), Some(36));
        assert_eq!(l.tai_minus_utc_at(at("2016-12-31T23:59:60Z")), Some(36));
        assert_eq!(l.tai_minus_utc_at(at("2017-01-01T00:00:00Z")), Some(37));
        assert_eq!(l.tai_minus_utc_at(at("2030-01-01T00:00:00Z")), Some(37));
        assert_eq!(l.tai_minus_utc_at(at("2012-06-30T00:00:00Z")), None);
        let next = l.next_leap_after(at("2016-12-31T12:00:00Z")).unwrap();
        assert_eq!(next.second_label(), "2016-12-31T23:59:60Z");
        assert_eq!(next.kind, LeapKind::Insert);
        assert_eq!(
            (next.tai_minus_utc_before_s, next.tai_minus_utc_after_s),
            (36, 37)
        );
        assert_eq!(next.effective_ntp_s(), 3_692_217_600);
        let v = next.view();
        assert_eq!(v.at, "2017-01-01T00:00:00Z");
        assert_eq!(v.mjd, 57_754);
        assert_eq!(v.line, 7);
        let last = l.last_leap_at(at("2016-12-31T12:00:00Z")).unwrap();
        assert_eq!(last.second_label(), "2015-06-30T23:59:60Z");
        // At the effective instant, the leap is the last one and there is no next.
        let t = at("2017-01-01T00:00:00Z");
        assert_eq!(l.last_leap_at(t), Some(next));
        assert_eq!(l.next_leap_after(t), None);
        assert_eq!(l.leap_taking_effect_at(t), Some(next));
        assert_eq!(l.leap_taking_effect_at(t - 86_400), None);
        assert_eq!(l.leaps().len(), 2);
    }

    #[test]
    fn expiry() {
        let l = parse(SMALL.as_bytes()).unwrap(); // #@ 3707596800 = 2017-06-28
        let exp = l.expires_unix_s();
        assert_eq!(iso_s(exp), "2017-06-28T00:00:00Z");
        assert!(!l.is_expired_at(exp - 1));
        assert!(l.is_expired_at(exp));
        assert!(l.knows_about(at("2017-01-01T00:00:00Z")));
        assert!(!l.knows_about(at("2017-07-01T00:00:00Z")));
        assert_eq!(iso_s(l.last_update_unix_s()), "2016-07-08T00:00:00Z");
    }

    #[test]
    fn a_deletion() {
        let mut l = parse(SMALL.as_bytes()).unwrap();
        l.entries[2].tai_minus_utc_s = 35;
        let d = l.leaps()[1];
        assert_eq!(d.kind, LeapKind::Delete);
        assert_eq!(d.second_label(), "2016-12-31T23:59:59Z");
    }
}
