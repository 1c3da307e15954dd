//! Is CLOCK_TAI really TAI? A judgement over three numbers: CLOCK_TAI − CLOCK_REALTIME as
//! measured, the kernel's TAI offset (`adjtimex` `tai`), and TAI − UTC from
//! leap-seconds.list when the caller has it.
//!
//! The kernel computes CLOCK_TAI as REALTIME + its TAI offset, and that offset is 0 until a
//! daemon sets it (chronyd with `leapsectz right/UTC`, ntpd with a leap file, ptp4l): then
//! CLOCK_TAI silently equals UTC. Only leap-seconds.list (or an NTP/PTP source) knows the
//! true TAI − UTC.
#![forbid(unsafe_code)]

use serde::Serialize;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaiStatus {
    /// The kernel's offset is set and agrees with everything consulted.
    Ok,
    /// The kernel's TAI offset is 0: CLOCK_TAI equals CLOCK_REALTIME.
    KernelUnset,
    /// The kernel's offset disagrees with leap-seconds.list, or CLOCK_TAI − REALTIME with
    /// the kernel's offset.
    Mismatch,
}

impl TaiStatus {
    /// `ok`, `kernel_unset` or `mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaiStatus::Ok => "ok",
            TaiStatus::KernelUnset => "kernel_unset",
            TaiStatus::Mismatch => "mismatch",
        }
    }
}

/// What CLOCK_TAI is worth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaiJudgement {
    /// CLOCK_TAI − CLOCK_REALTIME as measured, ns.
    pub clock_tai_minus_realtime_ns: i64,
    /// The same, rounded to whole seconds: the TAI − UTC this system applies.
    pub clock_tai_minus_realtime_s: i64,
    /// The kernel's TAI offset, s (0: unset).
    pub kernel_tai_s: i32,
    /// TAI − UTC from leap-seconds.list, s, when it was consulted.
    pub list_tai_minus_utc_s: Option<i64>,
    /// Which list was consulted: its path and whose it is (set by the caller, who read it).
    pub list_file: Option<String>,
    /// The verdict.
    pub status: TaiStatus,
    /// What is wrong.
    pub warnings: Vec<String>,
    /// What was not checked.
    pub notes: Vec<String>,
}

/// The note printed when leap-seconds.list was not consulted.
pub const LIST_NOT_CONSULTED: &str =
    "leap-seconds.list not consulted: TAI − UTC was not checked against it";

/// Judges CLOCK_TAI. `bracket_ns` is the measurement's uncertainty (full width);
/// `list_tai_minus_utc_s` is TAI − UTC from leap-seconds.list, `None` when not consulted.
pub fn judge_tai(
    clock_tai_minus_realtime_ns: i64,
    bracket_ns: i64,
    kernel_tai_s: i32,
    list_tai_minus_utc_s: Option<i64>,
) -> TaiJudgement {
    let measured_s = skew_time::round_ns_to_s(clock_tai_minus_realtime_ns);
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut status = TaiStatus::Ok;
    let fraction_ns = clock_tai_minus_realtime_ns - measured_s * 1_000_000_000;
    if fraction_ns.abs() > bracket_ns.saturating_add(1) / 2 + 1_000_000 {
        status = TaiStatus::Mismatch;
        warnings.push(format!(
            "CLOCK_TAI − CLOCK_REALTIME is {:.9} s, not a whole number of seconds",
            clock_tai_minus_realtime_ns as f64 / 1e9
        ));
    }
    if measured_s != i64::from(kernel_tai_s) {
        status = TaiStatus::Mismatch;
        warnings.push(format!(
            "CLOCK_TAI − CLOCK_REALTIME is {measured_s} s but the kernel's TAI offset is \
             {kernel_tai_s} s (read during a leap second?)"
        ));
    }
    if kernel_tai_s == 0 {
        if status == TaiStatus::Ok {
            status = TaiStatus::KernelUnset;
        }
        let behind = match list_tai_minus_utc_s {
            Some(v) => format!("CLOCK_TAI is {v} s behind true TAI"),
            None => "CLOCK_TAI is not TAI".to_string(),
        };
        warnings.push(format!(
            "the kernel's TAI offset is unset (0): CLOCK_TAI equals CLOCK_REALTIME, so {behind} \
             (a time daemon sets it: chronyd with `leapsectz right/UTC`, ntpd with a leap file)"
        ));
    }
    match list_tai_minus_utc_s {
        Some(v) if kernel_tai_s != 0 && i64::from(kernel_tai_s) != v => {
            status = TaiStatus::Mismatch;
            warnings.push(format!(
                "the kernel's TAI offset {kernel_tai_s} s disagrees with leap-seconds.list's \
                 TAI − UTC {v} s"
            ));
        }
        Some(_) => {}
        None => notes.push(LIST_NOT_CONSULTED.to_string()),
    }
    TaiJudgement {
        clock_tai_minus_realtime_ns,
        clock_tai_minus_realtime_s: measured_s,
        kernel_tai_s,
        list_tai_minus_utc_s,
        list_file: None,
        status,
        warnings,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_kind_unset_and_list_not_consulted() {
        // What this machine reports: tai 0, CLOCK_TAI == CLOCK_REALTIME (within the read).
        let j = judge_tai(110, 60, 0, None);
        assert_eq!(j.status, TaiStatus::KernelUnset);
        assert_eq!(j.clock_tai_minus_realtime_s, 0);
        assert_eq!(j.warnings.len(), 1);
        assert!(j.warnings[0].contains("unset (0)"), "{j:?}");
        assert!(j.warnings[0].contains("CLOCK_TAI is not TAI"), "{j:?}");
        assert_eq!(j.notes, vec![LIST_NOT_CONSULTED.to_string()]);
        assert_eq!(serde_json::to_value(j.status).unwrap(), "kernel_unset");
    }

    #[test]
    fn unset_with_the_list_says_how_far_behind() {
        let j = judge_tai(-80, 60, 0, Some(37));
        assert_eq!(j.status, TaiStatus::KernelUnset);
        assert!(j.warnings[0].contains("37 s behind true TAI"), "{j:?}");
        assert!(j.notes.is_empty());
    }

    #[test]
    fn set_and_agreeing() {
        let j = judge_tai(37_000_000_050, 60, 37, Some(37));
        assert_eq!(j.status, TaiStatus::Ok);
        assert!(j.warnings.is_empty() && j.notes.is_empty(), "{j:?}");
        let j = judge_tai(37_000_000_050, 60, 37, None);
        assert_eq!(j.status, TaiStatus::Ok);
        assert_eq!(j.notes.len(), 1);
    }

    #[test]
    fn mismatches() {
        // Kernel set to an old value (36 before 2017).
        let j = judge_tai(36_000_000_000, 60, 36, Some(37));
        assert_eq!(j.status, TaiStatus::Mismatch);
        assert!(j.warnings[0].contains("disagrees"), "{j:?}");
        // CLOCK_TAI − REALTIME not what the kernel says.
        let j = judge_tai(36_000_000_000, 60, 37, Some(37));
        assert_eq!(j.status, TaiStatus::Mismatch);
        // A fractional offset (a faked REALTIME but a real TAI, say).
        let j = judge_tai(2_500_000_000, 60, 0, None);
        assert_eq!(j.status, TaiStatus::Mismatch);
        assert!(
            j.warnings.iter().any(|w| w.contains("whole number")),
            "{j:?}"
        );
    }
}
