//! Judging servers' leap indicators against the list and each other.
//!
//! A server announces a leap second with LI = 1 (insert) or 2 (delete) for the end of the
//! current month: ntpd from a month ahead (RFC 5905), chrony only on the day, and only on
//! 30 June or 31 December. Smearing servers keep LI = 0. So: an announcement outside June or
//! December, or one the list does not schedule, is suspect; on the last day of the month, a
//! server that does not announce the list's leap (and does not smear) is wrong, and servers
//! that disagree are critical — their clients will be a second apart after midnight.

use crate::calendar::{
    date_of_unix_s, is_june_or_december, is_last_day_of_month, iso_date, iso_ns, iso_s, month_name,
    start_of_next_month_unix_s,
};
use crate::finding::{Finding, Severity};
use crate::list::LeapList;
use crate::observe::ServerObservation;
use crate::schedule::{LeapEvent, LeapKind};
use skew_ntp::packet::Leap;
use skew_ntp::Status;

/// A server's clock may be this far from the evaluation instant before it is noted (its LI
/// then refers to another day).
pub const FAR_CLOCK_NS: i64 = 86_400 * 1_000_000_000;

/// What the list says about the end of the evaluation instant's month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncementContext {
    /// The evaluation instant, Unix s.
    pub at_unix_s: i64,
    /// 00:00:00 UTC after the end of the month: when an announced leap takes effect.
    pub month_end_unix_s: i64,
    /// The instant is on the last day of its month: an announced leap is hours away.
    pub last_day: bool,
    /// The instant is in June or December: the months in which announcements are expected.
    pub in_window: bool,
    /// The leap second the list schedules at the month end.
    pub scheduled: Option<LeapEvent>,
    /// Whether the list vouches for the month end (not expired by then).
    pub list_knows: bool,
    /// The list's expiry, Unix s (`None` without a list).
    pub list_expires_unix_s: Option<i64>,
}

impl AnnouncementContext {
    /// The context at `at_unix_s` with `list` (if any).
    pub fn new(list: Option<&LeapList>, at_unix_s: i64) -> Self {
        let month_end = start_of_next_month_unix_s(at_unix_s);
        AnnouncementContext {
            at_unix_s,
            month_end_unix_s: month_end,
            last_day: is_last_day_of_month(at_unix_s),
            in_window: is_june_or_december(at_unix_s),
            scheduled: list.and_then(|l| l.leap_taking_effect_at(month_end)),
            list_knows: list.is_some_and(|l| l.knows_about(month_end)),
            list_expires_unix_s: list.map(|l| l.expires_unix_s()),
        }
    }

    fn month(&self) -> String {
        let d = date_of_unix_s(self.at_unix_s);
        format!("{} {}", month_name(d.month), d.year)
    }
}

/// What a leap indicator announces.
pub fn announced(leap: Leap) -> Option<LeapKind> {
    match leap {
        Leap::Insert => Some(LeapKind::Insert),
        Leap::Delete => Some(LeapKind::Delete),
        _ => None,
    }
}

/// Judges one server's announcement. `smearing` is the smear verdict (a smearing server
/// keeps LI = 0 on purpose).
pub fn judge_server(
    o: &ServerObservation,
    ctx: &AnnouncementContext,
    smearing: Option<bool>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |s: Severity, m: String| out.push(Finding::new(s, &o.server, m));
    let Some(leap) = o.leap else {
        add(
            Severity::Warning,
            format!(
                "{}: {}",
                o.status,
                o.error.as_deref().unwrap_or("no reply to judge")
            ),
        );
        return out;
    };
    if o.status != Status::Ok && o.status != Status::Unsynchronized {
        add(
            Severity::Warning,
            format!(
                "{}: {}",
                o.status,
                o.error.as_deref().unwrap_or("measured, then failed")
            ),
        );
    }
    if o.leaps_seen.len() > 1 {
        let seen: Vec<&str> = o.leaps_seen.iter().map(|l| l.as_str()).collect();
        add(
            Severity::Note,
            format!(
                "its leap indicator changed during the run: {}",
                seen.join(" → ")
            ),
        );
    }
    if let Some(t) = o.server_time_unix_ns {
        let at_ns = ctx.at_unix_s.saturating_mul(1_000_000_000);
        if t.saturating_sub(at_ns).saturating_abs() > FAR_CLOCK_NS {
            add(
                Severity::Note,
                format!(
                    "its clock reads {}, far from the evaluation instant {}: its leap indicator is about its own day, judged here as of the evaluation instant",
                    iso_ns(t),
                    iso_s(ctx.at_unix_s)
                ),
            );
        }
    }
    match (leap, announced(leap)) {
        (Leap::Unsynchronized, _) => add(
            Severity::Warning,
            "unsynchronized (LI = 3): its leap indicator says nothing about leap seconds"
                .to_string(),
        ),
        (_, Some(kind)) => {
            if !ctx.in_window {
                add(
                    Severity::Warning,
                    format!(
                        "announces a leap second ({}) in {}: announcements belong to the month before 30 June or 31 December",
                        kind.as_str(),
                        ctx.month()
                    ),
                );
            }
            match ctx.scheduled {
                Some(s) if s.kind == kind => add(
                    Severity::Note,
                    format!(
                        "announces the leap second {} that the list schedules",
                        s.second_label()
                    ),
                ),
                Some(s) => add(
                    Severity::Warning,
                    format!(
                        "announces {} at the end of {}, but the list's leap second {} is {}",
                        kind.with_article(),
                        ctx.month(),
                        s.second_label(),
                        s.kind.with_article()
                    ),
                ),
                None if ctx.list_knows => add(
                    Severity::Warning,
                    format!(
                        "announces a leap second ({}) at the end of {} that the list does not schedule",
                        kind.as_str(),
                        ctx.month()
                    ),
                ),
                None => add(
                    Severity::Warning,
                    format!(
                        "announces a leap second ({}) at the end of {} that the list cannot confirm ({})",
                        kind.as_str(),
                        ctx.month(),
                        ctx.list_expires_unix_s.map_or("no list".to_string(), |e| format!(
                            "it expired on {}",
                            iso_date(e)
                        ))
                    ),
                ),
            }
        }
        (_, None) => {
            if let (true, Some(s)) = (ctx.last_day, ctx.scheduled) {
                match smearing {
                    Some(true) => {}
                    Some(false) => add(
                        Severity::Warning,
                        format!(
                            "does not announce the leap second {} that the list schedules (LI = 0, and it does not smear)",
                            s.second_label()
                        ),
                    ),
                    None => add(
                        Severity::Warning,
                        format!(
                            "does not announce the leap second {} that the list schedules (LI = 0; whether it smears cannot be told)",
                            s.second_label()
                        ),
                    ),
                }
            }
        }
    }
    out
}

/// Judges whether the servers agree. Smearing servers (which keep LI = 0 on purpose) and
/// servers without a synchronized answer take no part.
pub fn judge_agreement(
    servers: &[ServerObservation],
    smearing: &[Option<bool>],
    ctx: &AnnouncementContext,
) -> Vec<Finding> {
    let mut groups: Vec<(Leap, Vec<&str>)> = Vec::new();
    for (o, s) in servers.iter().zip(smearing) {
        let Some(leap) = o.leap.filter(|l| *l != Leap::Unsynchronized) else {
            continue;
        };
        if *s == Some(true) {
            continue;
        }
        match groups.iter_mut().find(|(l, _)| *l == leap) {
            Some((_, names)) => names.push(&o.server),
            None => groups.push((leap, vec![&o.server])),
        }
    }
    if groups.len() < 2 {
        return vec![];
    }
    let who = groups
        .iter()
        .map(|(l, names)| format!("{}: {}", l.as_str(), names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    let (severity, message) = if ctx.last_day {
        (
            Severity::Critical,
            format!(
                "servers disagree about a leap second at the end of today ({}): {who}; their clients will be a second apart after midnight",
                iso_date(ctx.at_unix_s)
            ),
        )
    } else if ctx.in_window && ctx.scheduled.is_some() {
        (
            Severity::Note,
            format!(
                "servers differ in announcing the leap second at the end of {}: {who} (normal before the last day: ntpd announces from a month ahead, chrony only on the day)",
                ctx.month()
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "servers disagree about a leap second at the end of {}: {who}",
                ctx.month()
            ),
        )
    };
    vec![Finding::new(severity, "servers", message)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::list::{parse, tests::SMALL};

    fn at(text: &str) -> i64 {
        parse_instant(text).unwrap().div_euclid(1_000_000_000)
    }

    fn obs(name: &str, leap: Leap, clock: &str) -> ServerObservation {
        ServerObservation {
            server: name.into(),
            address: Some("127.0.0.1:123".into()),
            status: if leap == Leap::Unsynchronized {
                Status::Unsynchronized
            } else {
                Status::Ok
            },
            error: None,
            leap: Some(leap),
            leaps_seen: vec![leap],
            server_time_unix_ns: Some(parse_instant(clock).unwrap()),
            stratum: Some(2),
            points: vec![],
        }
    }

    fn ctx(when: &str) -> AnnouncementContext {
        let l = parse(SMALL.as_bytes()).unwrap(); // valid until 2017-06-28
        AnnouncementContext::new(Some(&l), at(when))
    }

    fn sev(f: &[Finding]) -> Vec<Severity> {
        f.iter().map(|f| f.severity).collect()
    }

    #[test]
    fn the_2016_announcement_matches_the_list() {
        let c = ctx("2016-12-31T12:00:00Z");
        assert!(c.last_day && c.in_window && c.list_knows);
        assert_eq!(c.scheduled.unwrap().second_label(), "2016-12-31T23:59:60Z");
        let f = judge_server(
            &obs("a", Leap::Insert, "2016-12-31T12:00:00Z"),
            &c,
            Some(false),
        );
        assert_eq!(sev(&f), vec![Severity::Note]);
        assert!(f[0]
            .message
            .contains("announces the leap second 2016-12-31T23:59:60Z that the list schedules"));
        // ntpd-style: announced from early December is fine too.
        let c2 = ctx("2016-12-02T12:00:00Z");
        let f = judge_server(
            &obs("a", Leap::Insert, "2016-12-02T12:00:00Z"),
            &c2,
            Some(false),
        );
        assert_eq!(sev(&f), vec![Severity::Note]);
        // A deletion announced instead.
        let f = judge_server(
            &obs("a", Leap::Delete, "2016-12-31T12:00:00Z"),
            &c,
            Some(false),
        );
        assert_eq!(sev(&f), vec![Severity::Warning]);
        assert!(f[0].message.contains("announces a deletion at the end of December 2016, but the list's leap second 2016-12-31T23:59:60Z is an insertion"), "{}", f[0].message);
    }

    #[test]
    fn announcements_the_list_does_not_schedule() {
        // November: outside the window and not scheduled.
        let c = ctx("2016-11-15T12:00:00Z");
        let f = judge_server(&obs("a", Leap::Insert, "2016-11-15T12:00:00Z"), &c, None);
        assert_eq!(sev(&f), vec![Severity::Warning, Severity::Warning]);
        assert!(f[0].message.contains(
            "in November 2016: announcements belong to the month before 30 June or 31 December"
        ));
        assert!(f[1]
            .message
            .contains("at the end of November 2016 that the list does not schedule"));
        // June 2017: in the window, but past the list's expiry.
        let c = ctx("2017-06-30T12:00:00Z");
        assert!(!c.list_knows);
        let f = judge_server(&obs("a", Leap::Insert, "2017-06-30T12:00:00Z"), &c, None);
        assert_eq!(sev(&f), vec![Severity::Warning]);
        assert!(
            f[0].message
                .contains("cannot confirm (it expired on 2017-06-28)"),
            "{}",
            f[0].message
        );
        // No list at all.
        let c = AnnouncementContext::new(None, at("2016-12-31T12:00:00Z"));
        let f = judge_server(&obs("a", Leap::Insert, "2016-12-31T12:00:00Z"), &c, None);
        assert!(f[0].message.contains("(no list)"));
    }

    #[test]
    fn silence_on_the_leap_day() {
        let c = ctx("2016-12-31T12:00:00Z");
        let f = judge_server(
            &obs("a", Leap::None, "2016-12-31T12:00:00Z"),
            &c,
            Some(false),
        );
        assert_eq!(sev(&f), vec![Severity::Warning]);
        assert!(f[0]
            .message
            .contains("does not announce the leap second 2016-12-31T23:59:60Z"));
        assert!(f[0].message.contains("it does not smear"));
        let f = judge_server(&obs("a", Leap::None, "2016-12-31T12:00:00Z"), &c, None);
        assert!(f[0].message.contains("cannot be told"));
        // A smearing server is expected to keep LI = 0.
        let f = judge_server(
            &obs("a", Leap::None, "2016-12-31T12:00:00Z"),
            &c,
            Some(true),
        );
        assert!(f.is_empty(), "{f:?}");
        // Earlier in December, LI = 0 is chrony's normal behaviour.
        let c = ctx("2016-12-30T12:00:00Z");
        let f = judge_server(
            &obs("a", Leap::None, "2016-12-30T12:00:00Z"),
            &c,
            Some(false),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn unsynchronized_failed_changing_and_far_clocks() {
        let c = ctx("2016-12-31T12:00:00Z");
        let f = judge_server(
            &obs("u", Leap::Unsynchronized, "2016-12-31T12:00:00Z"),
            &c,
            None,
        );
        assert_eq!(sev(&f), vec![Severity::Warning]);
        assert!(f[0].message.contains("LI = 3"));
        let failed = ServerObservation {
            leap: None,
            status: Status::Timeout,
            error: Some("no valid reply to 4 requests".into()),
            leaps_seen: vec![],
            server_time_unix_ns: None,
            ..obs("t", Leap::None, "2016-12-31T12:00:00Z")
        };
        let f = judge_server(&failed, &c, None);
        assert_eq!(sev(&f), vec![Severity::Warning]);
        assert_eq!(f[0].message, "timeout: no valid reply to 4 requests");
        let mut changing = obs("m", Leap::None, "2017-01-01T00:00:01Z");
        changing.leaps_seen = vec![Leap::Insert, Leap::None];
        let f = judge_server(&changing, &ctx("2017-01-01T00:00:01Z"), Some(false));
        assert_eq!(sev(&f), vec![Severity::Note]);
        assert!(f[0].message.contains("insert → none"));
        let f = judge_server(
            &obs("far", Leap::None, "2026-11-27T00:00:00Z"),
            &ctx("2016-11-27T00:00:00Z"),
            Some(false),
        );
        assert_eq!(sev(&f), vec![Severity::Note]);
        assert!(f[0].message.contains("its clock reads 2026-11-27T00:00:00Z, far from the evaluation instant 2016-11-27T00:00:00Z"));
    }

    #[test]
    fn disagreement() {
        let servers = [
            obs("a", Leap::Insert, "2016-12-31T12:00:00Z"),
            obs("b", Leap::None, "2016-12-31T12:00:00Z"),
            obs("c", Leap::Insert, "2016-12-31T12:00:00Z"),
            obs("u", Leap::Unsynchronized, "2016-12-31T12:00:00Z"),
        ];
        let none = [None, None, None, None];
        let f = judge_agreement(&servers, &none, &ctx("2016-12-31T12:00:00Z"));
        assert_eq!(sev(&f), vec![Severity::Critical]);
        assert!(
            f[0].message.contains("insert: a, c; none: b"),
            "{}",
            f[0].message
        );
        // Earlier in the month, with the list scheduling it: a note.
        let f = judge_agreement(&servers, &none, &ctx("2016-12-10T12:00:00Z"));
        assert_eq!(sev(&f), vec![Severity::Note]);
        assert!(f[0].message.contains("ntpd announces from a month ahead"));
        // In a month without a scheduled leap: a warning.
        let f = judge_agreement(&servers, &none, &ctx("2016-11-10T12:00:00Z"));
        assert_eq!(sev(&f), vec![Severity::Warning]);
        // The silent one smears: no disagreement among the rest.
        let f = judge_agreement(
            &servers,
            &[None, Some(true), None, None],
            &ctx("2016-12-31T12:00:00Z"),
        );
        assert!(f.is_empty());
        // Agreement.
        let f = judge_agreement(&servers[..1], &none, &ctx("2016-12-31T12:00:00Z"));
        assert!(f.is_empty());
    }
}
