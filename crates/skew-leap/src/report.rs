//! The whole `skew leap` evaluation as one pure function: the list, the kernel snapshot and
//! the probed servers in, a serialisable report with findings and a verdict out.
//!
//! [`LeapReport`] is the JSON document; the human report is printed from it, so the two
//! cannot disagree.

use crate::announce::{announced, judge_agreement, judge_server, AnnouncementContext};
use crate::calendar::{iso_ns, iso_s, unix_ns_to_s};
use crate::finding::{Finding, Severity, Verdict};
use crate::in_use::Origin;
use crate::kernel_check::check_kernel;
use crate::list::LeapList;
use crate::list_check::check_list;
use crate::observe::ServerObservation;
use crate::schedule::{LeapEvent, LeapKind, LeapView};
use crate::smear::{analyse, leap_window, SmearInput};
use serde::Serialize;
use skew_ntp::packet::Leap;
use skew_ntp::Status;
use skew_time::kernel::Timex;

/// The list, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListInput {
    /// Read and parsed.
    Loaded {
        /// Where it was read from.
        path: String,
        /// Whose list it is (the system's, skew's cache, a file given).
        source: Origin,
        /// The other lists there were, each with why it was not used.
        passed_over: Vec<String>,
        /// The parsed list.
        list: LeapList,
    },
    /// Not found, unreadable or unparsable.
    Failed {
        /// The file, when one was found.
        path: Option<String>,
        /// Whose list it is, when one was found.
        source: Option<Origin>,
        /// Why, as text (a parse error names the line).
        error: String,
    },
}

/// The kernel snapshot, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelInput {
    /// Not asked for (`--no-kernel`).
    Skipped,
    /// Read with `adjtimex(modes = 0)`.
    Read(Timex),
    /// The read failed.
    Failed(String),
}

/// Everything `skew leap` evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The evaluation instant, Unix ns.
    pub at_unix_ns: i64,
    /// Whether that instant is the current time (no `--at`).
    pub at_is_now: bool,
    /// The instant was named as a second 60 (`--at 2016-12-31T23:59:60.5Z`) and lies in a
    /// leap second the list inserts ([`leap_second_named`] checks that first).
    pub at_in_leap_second: bool,
    /// The list.
    pub list: ListInput,
    /// The kernel.
    pub kernel: KernelInput,
    /// The probed servers, in the order given.
    pub servers: Vec<ServerObservation>,
    /// Warn when the list expires within this many days.
    pub expiry_warning_days: i64,
}

/// The list part of the report (`list` in the JSON). Fields are null when the list could not
/// be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListView {
    /// The file used.
    pub path: Option<String>,
    /// Whose list it is: `system` (the time daemon's file or tzdata's), `cache` (skew's
    /// cache, written by `skew leap --fetch`) or `given` (`--file`); the freshest usable one
    /// of the system's and the cache's is used unless a file is given.
    pub source: Option<Origin>,
    /// Why the list could not be checked (null when it was).
    pub error: Option<String>,
    /// The `#h` SHA-1 is present and matches.
    pub hash_ok: Option<bool>,
    /// `valid`, `mismatch` or `missing`.
    pub hash: Option<&'static str>,
    /// The `#h` line's value.
    pub hash_expected: Option<String>,
    /// What the data hash to.
    pub hash_computed: Option<String>,
    /// `#$`: last update (ISO 8601).
    pub last_update: Option<String>,
    /// `#$` in NTP seconds.
    pub last_update_ntp_s: Option<i64>,
    /// `#@`: expiry (ISO 8601).
    pub expires: Option<String>,
    /// `#@` in NTP seconds.
    pub expires_ntp_s: Option<i64>,
    /// Expired at the evaluation instant.
    pub expired: Option<bool>,
    /// Expires within the warning window.
    pub expiring_soon: Option<bool>,
    /// Whole days until expiry (negative once expired).
    pub days_until_expiry: Option<i64>,
    /// Whole days since the expiry (null before it).
    pub days_since_expiry: Option<i64>,
    /// TAI − UTC at the evaluation instant, s.
    pub tai_minus_utc_s: Option<i32>,
    /// The latest leap second in effect.
    pub last_leap: Option<LeapView>,
    /// The next leap second scheduled (null when none, or the list cannot tell).
    pub next_leap: Option<LeapView>,
    /// Number of data lines.
    pub entries: Option<usize>,
}

/// The kernel part (`kernel` in the JSON; null with `--no-kernel`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelView {
    /// Why the kernel could not be read (null when it was).
    pub error: Option<String>,
    /// `TIME_OK`, `TIME_INS`, `TIME_DEL`, `TIME_OOP`, `TIME_WAIT`, `TIME_ERROR`.
    pub state: Option<String>,
    /// A leap second is armed (STA_INS or STA_DEL, or state INS/DEL/OOP).
    pub leap_armed: Option<bool>,
    /// The kernel's TAI offset, s (0 = unset).
    pub tai_s: Option<i32>,
    /// STA_INS is set.
    pub sta_ins: Option<bool>,
    /// STA_DEL is set.
    pub sta_del: Option<bool>,
    /// The status flags set (`PLL`, `UNSYNC`, `INS`...).
    pub status: Vec<String>,
    /// The kernel considers the clock synchronized.
    pub synchronized: Option<bool>,
    /// TAI − UTC per the list (what `tai_s` should be).
    pub expected_tai_s: Option<i32>,
    /// `tai_s` equals `expected_tai_s`.
    pub tai_matches_list: Option<bool>,
}

/// One server (an entry of `servers` in the JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerView {
    /// The server as given.
    pub server: String,
    /// `ip:port` probed.
    pub address: Option<String>,
    /// The probe's outcome (`ok`, `timeout`...).
    pub status: Status,
    /// Why the probe failed.
    pub error: Option<String>,
    /// The last leap indicator: `none`, `insert`, `delete`, `unsynchronized`.
    pub leap: Option<Leap>,
    /// Smearing: true, false, or null when it cannot be told.
    pub smearing: Option<bool>,
    /// Why smearing is what it is.
    pub smear_reason: String,
    /// What the leap indicator announces (`insert`, `delete`, or null).
    pub announces: Option<LeapKind>,
    /// Every leap indicator seen during the run.
    pub leaps_seen: Vec<Leap>,
    /// The server's clock (T3 of its last reply), ISO 8601.
    pub server_time: Option<String>,
    /// Stratum of the last reply.
    pub stratum: Option<u8>,
    /// Synchronized measurements used.
    pub samples: usize,
    /// Rate of its offset against the majority, ppm.
    pub rate_vs_majority_ppm: Option<f64>,
    /// Standard error of that rate, ppm.
    pub rate_sigma_ppm: Option<f64>,
    /// Offset against the majority, s.
    pub offset_vs_majority_s: Option<f64>,
    /// Whether it belongs to the majority.
    pub in_majority: bool,
}

/// The smear analysis context (`smear` in the JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmearView {
    /// Whether a leap second is near, as a sentence.
    pub window: String,
    /// The servers that form the majority.
    pub majority: Vec<String>,
    /// Why there is no majority (null when there is).
    pub majority_error: Option<String>,
    /// The majority's rate against the local clock, ppm.
    pub majority_rate_ppm: Option<f64>,
}

/// The report of `skew leap`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeapReport {
    /// The evaluation instant (ISO 8601).
    pub at: String,
    /// Whether it is the current time.
    pub at_is_now: bool,
    /// The instant lies inside a leap second (`at` then reads `…T23:59:60…`).
    pub at_in_leap_second: bool,
    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub status: Verdict,
    /// The list.
    pub list: ListView,
    /// The kernel (null when skipped).
    pub kernel: Option<KernelView>,
    /// The servers, in the order given.
    pub servers: Vec<ServerView>,
    /// The smear analysis (null without servers).
    pub smear: Option<SmearView>,
    /// Warnings, critical findings and what could not be checked, as text.
    pub warnings: Vec<String>,
    /// Notes, as text.
    pub notes: Vec<String>,
    /// Every finding with its severity and subject.
    pub findings: Vec<Finding>,
}

/// The leap second an instant named as a second 60 lies in: the list's insertion ending at
/// the next whole Unix second (`at_unix_ns` shares the Unix second 23:59:59 before it), or
/// why there is none (a `:60` second exists only where the list inserts a leap second).
pub fn leap_second_named(list: &LeapList, at_unix_ns: i64) -> Result<LeapEvent, String> {
    let end = unix_ns_to_s(at_unix_ns) + 1;
    list.leaps()
        .into_iter()
        .find(|l| l.kind == LeapKind::Insert && l.effective_unix_s == end)
        .ok_or_else(|| {
            let day = &iso_s(end - 1)[..10];
            if list.knows_about(end) {
                format!(
                    "there was no leap second at the end of {day} (UTC): a second 60 exists \
                     only where the leap-seconds list inserts one"
                )
            } else {
                format!(
                    "the leap-seconds list (valid until {}) schedules no leap second at the end \
                     of {day} (UTC): a second 60 exists only where the list inserts one",
                    &iso_s(list.expires_unix_s())[..10]
                )
            }
        })
}

/// `iso` (an instant in the Unix second 23:59:59 before a leap) written as the leap second
/// it is in: `…T23:59:59.500Z` becomes `…T23:59:60.500Z`.
fn as_sixtieth_second(iso: &str) -> String {
    match iso.find("T23:59:59") {
        Some(i) => format!("{}T23:59:60{}", &iso[..i], &iso[i + 9..]),
        None => iso.to_string(),
    }
}

/// Evaluates everything at `inputs.at_unix_ns`.
pub fn evaluate(inputs: &Inputs) -> LeapReport {
    let at_s = unix_ns_to_s(inputs.at_unix_ns);
    let mut findings: Vec<Finding> = Vec::new();

    let (list, list_view) = match &inputs.list {
        ListInput::Loaded {
            path,
            source,
            passed_over,
            list,
        } => {
            let c = check_list(list, at_s, inputs.expiry_warning_days);
            let inside = inputs
                .at_in_leap_second
                .then(|| leap_second_named(list, inputs.at_unix_ns).ok())
                .flatten();
            match inside {
                // Inside the leap second, the next leap is not "0.0 h away": it is now.
                Some(l) => {
                    findings.extend(
                        c.findings
                            .iter()
                            .filter(|f| !f.message.contains(" h away"))
                            .cloned(),
                    );
                    findings.push(Finding::new(
                        Severity::Note,
                        "list",
                        format!(
                            "the instant is inside the leap second {} ({}): TAI − UTC is {} s until its end, {} s from {}",
                            l.second_label(),
                            l.kind.as_str(),
                            l.tai_minus_utc_before_s,
                            l.tai_minus_utc_after_s,
                            iso_s(l.effective_unix_s)
                        ),
                    ));
                }
                None => findings.extend(c.findings.iter().cloned()),
            }
            for p in passed_over {
                findings.push(Finding::new(
                    Severity::Note,
                    "list",
                    format!("using {} {path}: {p}", source.describe()),
                ));
            }
            let view = ListView {
                path: Some(path.clone()),
                source: Some(*source),
                error: None,
                hash_ok: Some(c.hash.is_valid()),
                hash: Some(c.hash.as_str()),
                hash_expected: c.hash.expected_text(),
                hash_computed: Some(c.hash.computed_text()),
                last_update: Some(iso_s(list.last_update_unix_s())),
                last_update_ntp_s: Some(list.last_update_ntp_s),
                expires: Some(iso_s(list.expires_unix_s())),
                expires_ntp_s: Some(list.expires_ntp_s),
                expired: Some(c.expired),
                expiring_soon: Some(c.expiring_soon),
                days_until_expiry: Some(c.days_until_expiry),
                days_since_expiry: c.days_since_expiry,
                tai_minus_utc_s: c.tai_minus_utc_s,
                last_leap: c.last_leap.map(|l| l.view()),
                next_leap: c.next_leap.map(|l| l.view()),
                entries: Some(list.entries.len()),
            };
            (Some(list), view)
        }
        ListInput::Failed {
            path,
            source,
            error,
        } => {
            findings.push(Finding::new(
                Severity::Unknown,
                "list",
                format!("could not check: {error}"),
            ));
            let view = ListView {
                path: path.clone(),
                source: *source,
                error: Some(error.clone()),
                hash_ok: None,
                hash: None,
                hash_expected: None,
                hash_computed: None,
                last_update: None,
                last_update_ntp_s: None,
                expires: None,
                expires_ntp_s: None,
                expired: None,
                expiring_soon: None,
                days_until_expiry: None,
                days_since_expiry: None,
                tai_minus_utc_s: None,
                last_leap: None,
                next_leap: None,
                entries: None,
            };
            (None, view)
        }
    };

    let kernel = match &inputs.kernel {
        KernelInput::Skipped => None,
        KernelInput::Failed(e) => {
            findings.push(Finding::new(
                Severity::Unknown,
                "kernel",
                format!("could not read adjtimex: {e}"),
            ));
            Some(KernelView {
                error: Some(e.clone()),
                state: None,
                leap_armed: None,
                tai_s: None,
                sta_ins: None,
                sta_del: None,
                status: vec![],
                synchronized: None,
                expected_tai_s: list.and_then(|l| l.tai_minus_utc_at(at_s)),
                tai_matches_list: None,
            })
        }
        KernelInput::Read(t) => {
            let c = check_kernel(t, list, at_s);
            findings.extend(c.findings.iter().cloned());
            Some(KernelView {
                error: None,
                state: Some(c.decoded.state.clone()),
                leap_armed: Some(c.decoded.leap_armed),
                tai_s: Some(c.decoded.tai_s),
                sta_ins: Some(c.sta_ins),
                sta_del: Some(c.sta_del),
                status: c.decoded.status.clone(),
                synchronized: Some(c.decoded.synchronized),
                expected_tai_s: c.expected_tai_s,
                tai_matches_list: c.tai_matches_list,
            })
        }
    };

    let (servers, smear) = if inputs.servers.is_empty() {
        (vec![], None)
    } else {
        servers_part(&inputs.servers, list, at_s, &mut findings)
    };

    let warnings = findings
        .iter()
        .filter(|f| f.severity != Severity::Note)
        .map(Finding::text)
        .collect();
    let notes = findings
        .iter()
        .filter(|f| f.severity == Severity::Note)
        .map(Finding::text)
        .collect();
    LeapReport {
        at: if inputs.at_in_leap_second {
            as_sixtieth_second(&iso_ns(inputs.at_unix_ns))
        } else {
            iso_ns(inputs.at_unix_ns)
        },
        at_is_now: inputs.at_is_now,
        at_in_leap_second: inputs.at_in_leap_second,
        status: Verdict::of(&findings),
        list: list_view,
        kernel,
        servers,
        smear,
        warnings,
        notes,
        findings,
    }
}

fn servers_part(
    obs: &[ServerObservation],
    list: Option<&LeapList>,
    at_s: i64,
    findings: &mut Vec<Finding>,
) -> (Vec<ServerView>, Option<SmearView>) {
    let window = leap_window(list, at_s);
    let inputs: Vec<SmearInput<'_>> = obs
        .iter()
        .map(|o| SmearInput {
            server: &o.server,
            points: &o.points,
            leap: o.leap.filter(|_| !o.points.is_empty()),
        })
        .collect();
    let smear = analyse(&inputs, window);
    let smearing: Vec<Option<bool>> = smear.verdicts.iter().map(|v| v.smearing).collect();
    let ctx = AnnouncementContext::new(list, at_s);
    for (o, s) in obs.iter().zip(&smearing) {
        findings.extend(judge_server(o, &ctx, *s));
    }
    findings.extend(judge_agreement(obs, &smearing, &ctx));
    findings.extend(smear.findings.iter().cloned());
    if !obs.iter().any(|o| o.leap.is_some()) {
        findings.push(Finding::new(
            Severity::Unknown,
            "servers",
            "no server answered: their leap indicators could not be checked",
        ));
    }
    let views = obs
        .iter()
        .zip(&smear.verdicts)
        .map(|(o, v)| ServerView {
            server: o.server.clone(),
            address: o.address.clone(),
            status: o.status,
            error: o.error.clone(),
            leap: o.leap,
            smearing: v.smearing,
            smear_reason: v.reason.clone(),
            announces: o.leap.and_then(announced),
            leaps_seen: o.leaps_seen.clone(),
            server_time: o.server_time_unix_ns.map(iso_ns),
            stratum: o.stratum,
            samples: o.points.len(),
            rate_vs_majority_ppm: v.rate_vs_majority_ppm,
            rate_sigma_ppm: v.rate_sigma_ppm,
            offset_vs_majority_s: v.offset_vs_majority_ns.map(|n| n / 1e9),
            in_majority: v.in_majority,
        })
        .collect();
    let view = SmearView {
        window: smear.window.describe(),
        majority: smear
            .majority
            .as_ref()
            .map(|m| m.members.iter().map(|&i| obs[i].server.clone()).collect())
            .unwrap_or_default(),
        majority_error: smear.majority.as_ref().err().cloned(),
        majority_rate_ppm: smear.majority.as_ref().ok().map(|m| m.rate_ppm),
    };
    (views, Some(view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;
    use crate::list::{parse, tests::SMALL};
    use crate::observe::OffsetPoint;
    use skew_time::kernel::{STA_INS, STA_NANO, STA_PLL, STA_UNSYNC};

    fn inputs(at: &str) -> Inputs {
        Inputs {
            at_unix_ns: parse_instant(at).unwrap(),
            at_is_now: false,
            at_in_leap_second: false,
            list: ListInput::Loaded {
                path: "/x/leap-seconds.list".into(),
                source: Origin::Given,
                passed_over: vec![],
                list: parse(SMALL.as_bytes()).unwrap(),
            },
            kernel: KernelInput::Skipped,
            servers: vec![],
            expiry_warning_days: 30,
        }
    }

    fn server(name: &str, leap: Leap, at: &str, rate_ppm: f64) -> ServerObservation {
        let t0 = parse_instant(at).unwrap();
        ServerObservation {
            server: name.into(),
            address: Some("127.0.0.1:123".into()),
            status: Status::Ok,
            error: None,
            leap: Some(leap),
            leaps_seen: vec![leap],
            server_time_unix_ns: Some(t0),
            stratum: Some(2),
            points: (0..20)
                .map(|k| OffsetPoint {
                    at_unix_ns: t0 + k * 1_000_000_000,
                    offset_ns: (k as f64 * 1e9 * rate_ppm / 1e6) as i64 + (k % 3) * 500,
                    delay_ns: 40_000,
                })
                .collect(),
        }
    }

    #[test]
    fn the_2016_leap_day_list_only() {
        let r = evaluate(&inputs("2016-12-31T12:00:00Z"));
        assert_eq!(r.status, Verdict::Ok, "{:?}", r.findings);
        assert_eq!(
            r.notes,
            vec!["list: the leap second 2016-12-31T23:59:60Z (insert) is 12.0 h away"]
        );
        assert_eq!(r.at, "2016-12-31T12:00:00Z");
        assert_eq!(r.list.hash_ok, Some(true));
        assert_eq!(r.list.tai_minus_utc_s, Some(36));
        let next = r.list.next_leap.as_ref().unwrap();
        assert_eq!(next.second, "2016-12-31T23:59:60Z");
        assert_eq!(
            (next.tai_minus_utc_before_s, next.tai_minus_utc_after_s),
            (36, 37)
        );
        assert_eq!(r.list.expires.as_deref(), Some("2017-06-28T00:00:00Z"));
        assert!(r.kernel.is_none() && r.servers.is_empty() && r.smear.is_none());
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "path",
            "hash_ok",
            "last_update",
            "expires",
            "expired",
            "tai_minus_utc_s",
            "last_leap",
            "next_leap",
        ] {
            assert!(v["list"].get(key).is_some(), "list.{key} missing");
        }
        assert_eq!(v["status"], "ok");
        assert!(v["warnings"].as_array().unwrap().is_empty());
    }

    #[test]
    fn an_instant_inside_a_leap_second_says_so() {
        let list = parse(SMALL.as_bytes()).unwrap();
        let inside = crate::calendar::parse_instant("2016-12-31T23:59:60.5Z").unwrap();
        let l = leap_second_named(&list, inside).unwrap();
        assert_eq!(l.second_label(), "2016-12-31T23:59:60Z");
        let e = leap_second_named(
            &list,
            crate::calendar::parse_instant("2016-06-30T23:59:60Z").unwrap(),
        )
        .unwrap_err();
        assert!(
            e.starts_with("there was no leap second at the end of 2016-06-30 (UTC)"),
            "{e}"
        );
        let e = leap_second_named(
            &list,
            crate::calendar::parse_instant("2030-06-30T23:59:60Z").unwrap(),
        )
        .unwrap_err();
        assert!(e.starts_with("the leap-seconds list (valid until 2017-06-28) schedules no leap second at the end of 2030-06-30"), "{e}");

        let mut i = inputs("2016-12-31T12:00:00Z");
        i.at_unix_ns = inside;
        i.at_in_leap_second = true;
        let r = evaluate(&i);
        assert_eq!(r.at, "2016-12-31T23:59:60.500Z");
        assert!(r.at_in_leap_second);
        assert_eq!(
            r.notes,
            ["list: the instant is inside the leap second 2016-12-31T23:59:60Z (insert): TAI − UTC is 36 s until its end, 37 s from 2017-01-01T00:00:00Z"]
        );
        assert!(!r.notes.iter().any(|n| n.contains("h away")));
        // The same Unix instant named 23:59:59.5: half a second before the leap.
        i.at_in_leap_second = false;
        let r = evaluate(&i);
        assert_eq!(r.at, "2016-12-31T23:59:59.500Z");
        assert_eq!(
            r.notes,
            ["list: the leap second 2016-12-31T23:59:60Z (insert) is 0.0 h away"]
        );
    }

    #[test]
    fn the_list_in_use_is_named_with_why_the_others_were_not() {
        let mut i = inputs("2016-12-31T12:00:00Z");
        if let ListInput::Loaded {
            source,
            passed_over,
            ..
        } = &mut i.list
        {
            *source = Origin::Cache;
            passed_over.push("the system's /sys.list expires earlier, on 2026-06-28".into());
        }
        let r = evaluate(&i);
        assert_eq!(r.status, Verdict::Ok);
        assert_eq!(r.list.source, Some(Origin::Cache));
        assert!(
            r.notes.contains(
                &"list: using skew's cache /x/leap-seconds.list: the system's /sys.list expires earlier, on 2026-06-28"
                    .to_string()
            ),
            "{:?}",
            r.notes
        );
        assert_eq!(serde_json::to_value(&r).unwrap()["list"]["source"], "cache");
    }

    #[test]
    fn missing_list_is_unknown_and_kernel_warnings_do_not_hide_it() {
        let mut i = inputs("2016-12-31T12:00:00Z");
        i.list = ListInput::Failed {
            path: Some("/nope".into()),
            source: Some(Origin::Given),
            error: "cannot read /nope: No such file or directory".into(),
        };
        i.kernel = KernelInput::Read(Timex {
            state: 5,
            status: STA_UNSYNC,
            maxerror: 16_000_000,
            ..Timex::default()
        });
        let r = evaluate(&i);
        assert_eq!(r.status, Verdict::Unknown);
        assert_eq!(r.list.hash_ok, None);
        assert_eq!(
            r.list.error.as_deref(),
            Some("cannot read /nope: No such file or directory")
        );
        let k = r.kernel.as_ref().unwrap();
        assert_eq!(k.state.as_deref(), Some("TIME_ERROR"));
        assert_eq!(k.tai_s, Some(0));
        assert_eq!(k.leap_armed, Some(false));
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("list: could not check"));
        assert!(r.warnings[1].starts_with("kernel: TAI offset unset"));
        let v = serde_json::to_value(&r).unwrap();
        for key in ["state", "leap_armed", "tai_s"] {
            assert!(v["kernel"].get(key).is_some(), "kernel.{key} missing");
        }
        i.kernel = KernelInput::Failed("Operation not permitted".into());
        let r = evaluate(&i);
        assert!(r.warnings[1].contains("could not read adjtimex"));
    }

    #[test]
    fn a_disciplined_kernel_armed_for_2016() {
        let mut i = inputs("2016-12-31T12:00:00Z");
        i.kernel = KernelInput::Read(Timex {
            state: 1,
            status: STA_PLL | STA_NANO | STA_INS,
            maxerror: 2_000,
            tai: 36,
            ..Timex::default()
        });
        let r = evaluate(&i);
        assert_eq!(r.status, Verdict::Ok, "{:?}", r.findings);
        assert_eq!(r.notes.len(), 2);
        assert!(
            r.notes[1].contains("as the list schedules"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn servers_disagreeing_on_the_leap_day_are_critical() {
        let mut i = inputs("2016-12-31T12:00:00Z");
        i.servers = vec![
            server("a", Leap::Insert, "2016-12-31T12:00:00Z", 0.0),
            server("b", Leap::None, "2016-12-31T12:00:00Z", 0.0),
            server("c", Leap::Insert, "2016-12-31T12:00:00Z", 0.0),
        ];
        let r = evaluate(&i);
        assert_eq!(r.status, Verdict::Critical, "{:?}", r.findings);
        assert!(r
            .warnings
            .iter()
            .any(|w| w
                .starts_with("servers: servers disagree about a leap second at the end of today")));
        assert!(r
            .warnings
            .iter()
            .any(|w| w.starts_with("b: does not announce")));
        let v = serde_json::to_value(&r).unwrap();
        let s = &v["servers"][0];
        assert_eq!(s["server"], "a");
        assert_eq!(s["leap"], "insert");
        assert_eq!(s["smearing"], false);
        assert_eq!(s["announces"], "insert");
        assert_eq!(v["smear"]["majority"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn a_smearing_server_beside_honest_ones() {
        let mut i = inputs("2016-12-31T18:00:00Z");
        i.servers = vec![
            server("honest-1", Leap::Insert, "2016-12-31T18:00:00Z", 0.0),
            server("smear", Leap::None, "2016-12-31T18:00:00Z", -11.574),
            server("honest-2", Leap::Insert, "2016-12-31T18:00:00Z", 0.0),
        ];
        let r = evaluate(&i);
        assert_eq!(
            r.servers[1].smearing,
            Some(true),
            "{}",
            r.servers[1].smear_reason
        );
        assert_eq!(r.servers[0].smearing, Some(false));
        assert_eq!(r.status, Verdict::Warning, "{:?}", r.findings);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("smeared and unsmeared servers are mixed")),
            "{:?}",
            r.warnings
        );
        // The smearing server's LI = 0 is not a disagreement, nor a missing announcement.
        assert!(
            !r.warnings
                .iter()
                .any(|w| w.contains("disagree") || w.contains("does not announce")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn no_server_answered() {
        let mut i = inputs("2016-12-31T12:00:00Z");
        let mut s = server("dead", Leap::None, "2016-12-31T12:00:00Z", 0.0);
        s.leap = None;
        s.leaps_seen.clear();
        s.points.clear();
        s.status = Status::Timeout;
        s.error = Some("no valid reply".into());
        i.servers = vec![s];
        let r = evaluate(&i);
        assert_eq!(r.status, Verdict::Unknown);
        assert_eq!(r.servers[0].smearing, None);
        assert_eq!(r.servers[0].leap, None);
    }
}
