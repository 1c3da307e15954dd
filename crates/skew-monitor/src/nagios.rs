//! The Nagios/monitoring-plugins status line and exit code, like `check_ntp_time`:
//! `SKEW OK: offset +0.000123 s (±0.000045 s) 3/3 servers|offset=0.000123s;0.1;0.5;; ...`.
//!
//! The offset judged is the midpoint of the majority's agreement on the offset to UTC, and
//! the ± is its half-width, so the line states both what is likely and what is certain.

use crate::rows::RunReport;
use serde::Serialize;
use std::fmt;

/// A monitoring-plugins state; the discriminant is the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum State {
    /// 0
    Ok = 0,
    /// 1
    Warning = 1,
    /// 2
    Critical = 2,
    /// 3
    Unknown = 3,
}

impl State {
    /// The exit code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The worse of two states (UNKNOWN ranks above CRITICAL only when nothing else is worse,
    /// as in monitoring-plugins: a known CRITICAL is more useful).
    pub fn worst(self, other: State) -> State {
        let rank = |s: State| match s {
            State::Ok => 0,
            State::Warning => 1,
            State::Unknown => 2,
            State::Critical => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Alert thresholds, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// WARNING when |offset| exceeds this.
    pub warn_offset_s: f64,
    /// CRITICAL when |offset| exceeds this.
    pub crit_offset_s: f64,
    /// WARNING when the agreement's half-width exceeds this.
    pub warn_bound_s: f64,
    /// CRITICAL when the agreement's half-width exceeds this.
    pub crit_bound_s: f64,
    /// WARNING when the longest pause exceeds this.
    pub warn_pause_s: f64,
    /// CRITICAL when the longest pause exceeds this.
    pub crit_pause_s: f64,
    /// WARNING when the kernel says nothing disciplines the clock (TIME_ERROR, STA_UNSYNC);
    /// off (`--no-kernel-sync`) for hosts meant to run free.
    pub kernel_sync: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warn_offset_s: 0.1,
            crit_offset_s: 0.5,
            warn_bound_s: 0.25,
            crit_bound_s: 1.0,
            warn_pause_s: 1.0,
            crit_pause_s: 10.0,
            kernel_sync: true,
        }
    }
}

/// A finding from a local check (leap list, clock, kernel) that affects the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad.
    pub state: State,
    /// One line of text.
    pub text: String,
}

/// The verdict: state, the status line and the perfdata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The state (exit code).
    pub state: State,
    /// The full line, `SKEW STATE: summary (reasons)|perfdata`.
    pub line: String,
    /// `SKEW STATE: summary`, without the reasons and the perfdata.
    pub headline: String,
    /// Every reason the state is not OK.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// The verdict of a run that could not be made (a usage or configuration error):
    /// `SKEW UNKNOWN: <reason>` with exit code 3, as monitoring-plugins do. The reason is
    /// made one line for Nagios: its lines are joined with spaces, control characters
    /// escaped, and `|` (which would start the performance data) written as `/`.
    pub fn unknown(reason: &str) -> Verdict {
        let joined: Vec<&str> = reason
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let one = plugin_text(&joined.join(" "));
        let headline = format!("SKEW UNKNOWN: {one}");
        Verdict {
            state: State::Unknown,
            line: headline.clone(),
            headline,
            reasons: vec![one],
        }
    }

    /// Turns the verdict UNKNOWN because some outputs were not written (the measurement
    /// stands, but not all of it landed): `SKEW UNKNOWN: <failures> (<summary>)|<perfdata>`,
    /// keeping the summary and the performance data of the measured line.
    pub fn outputs_failed(&mut self, failures: &[String]) {
        if failures.is_empty() {
            return;
        }
        let (summary, perf) = self.line.split_once('|').unwrap_or((&self.line, ""));
        let summary = summary.split_once(": ").map_or(summary, |(_, s)| s);
        self.line = format!(
            "SKEW UNKNOWN: {} ({summary})|{perf}",
            plugin_text(&failures.join("; "))
        );
        self.state = State::Unknown;
    }
}

/// Text made safe for the plugin output before the `|`: control characters escaped (a
/// newline would end the line), `|` (which starts the performance data) written as `/`.
fn plugin_text(text: &str) -> String {
    skew_time::escape::escape_control(text).replace('|', "/")
}

fn s6(v: f64) -> String {
    format!("{v:.6}")
}

/// The servers that did not answer usably, by status (`2 timeout, 1 unresolved`), each
/// address once.
fn unanswered(r: &RunReport) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut by_status: std::collections::BTreeMap<String, usize> = Default::default();
    for p in &r.probes {
        let first = p.address.as_ref().is_none_or(|a| seen.insert(a.clone()));
        if first && p.status != skew_ntp::Status::Ok {
            *by_status.entry(p.status.to_string()).or_default() += 1;
        }
    }
    let parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
    parts.join(", ")
}

/// Judges a run. The majority is taken among the servers that answered: servers that did
/// not are a WARNING ("2 of 4 servers answered"), never a reason to doubt agreeing answers;
/// when none answered the run is CRITICAL ("no server answered").
pub fn evaluate(r: &RunReport, t: &Thresholds, findings: &[Finding]) -> Verdict {
    let a = &r.agreement;
    let probed = r.probes.len();
    let measured = r.probes.iter().filter(|p| p.offset_s.is_some()).count();
    // Distinct servers (a record from before `servers` was written counts its probes).
    let servers = if a.servers > 0 { a.servers } else { probed };
    let answered = a.candidates;
    let mut state = State::Ok;
    let mut reasons = Vec::new();
    let mut perf = Vec::new();
    let summary_states_reason = a.lo_s.zip(a.hi_s).is_none();
    let summary = match a.lo_s.zip(a.hi_s) {
        Some((lo, hi)) => {
            let offset = (lo + hi) / 2.0;
            let half = (hi - lo) / 2.0;
            let o = offset.abs();
            if o > t.crit_offset_s {
                state = state.worst(State::Critical);
                reasons.push(format!(
                    "offset {offset:+.6} s beyond ±{} s",
                    t.crit_offset_s
                ));
            } else if o > t.warn_offset_s {
                state = state.worst(State::Warning);
                reasons.push(format!(
                    "offset {offset:+.6} s beyond ±{} s",
                    t.warn_offset_s
                ));
            }
            if half > t.crit_bound_s {
                state = state.worst(State::Critical);
                reasons.push(format!("bound ±{half:.6} s > {} s", t.crit_bound_s));
            } else if half > t.warn_bound_s {
                state = state.worst(State::Warning);
                reasons.push(format!("bound ±{half:.6} s > {} s", t.warn_bound_s));
            }
            perf.push(format!(
                "offset={}s;{};{};;",
                s6(offset),
                t.warn_offset_s,
                t.crit_offset_s
            ));
            perf.push(format!(
                "bound={}s;{};{};0;",
                s6(half),
                t.warn_bound_s,
                t.crit_bound_s
            ));
            format!(
                "offset {offset:+.6} s (±{half:.6} s) {}/{servers} servers",
                a.truechimers
            )
        }
        None if answered == 0 => {
            state = state.worst(State::Critical);
            let why = unanswered(r);
            if why.is_empty() {
                reasons.push(format!("no server answered ({servers} tried)"));
                format!("no server answered, 0/{servers} servers")
            } else {
                reasons.push(format!("no server answered ({servers} tried: {why})"));
                format!("no server answered, 0/{servers} servers ({why})")
            }
        }
        None => {
            state = state.worst(State::Critical);
            reasons.push(format!(
                "no majority: at most {} of {answered} answering servers agree, {} required",
                a.max_overlap, a.min_agree
            ));
            format!(
                "no majority: at most {} of {answered} answering servers agree ({} required)",
                a.max_overlap, a.min_agree
            )
        }
    };
    if answered > 0 && answered < servers {
        state = state.worst(State::Warning);
        reasons.push(format!(
            "{answered} of {servers} servers answered ({})",
            unanswered(r)
        ));
    }
    if a.falsetickers > 0 && a.majority {
        state = state.worst(State::Warning);
        reasons.push(format!("{} falseticker(s)", a.falsetickers));
    }
    if let Some(p) = &r.pause {
        if p.max_s > t.crit_pause_s {
            state = state.worst(State::Critical);
            reasons.push(format!(
                "pause up to {:.3} s > {} s",
                p.max_s, t.crit_pause_s
            ));
        } else if p.max_s > t.warn_pause_s {
            state = state.worst(State::Warning);
            reasons.push(format!(
                "pause up to {:.3} s > {} s",
                p.max_s, t.warn_pause_s
            ));
        }
        perf.push(format!(
            "pause_max={}s;{};{};0;",
            s6(p.max_s),
            t.warn_pause_s,
            t.crit_pause_s
        ));
    }
    if let Some(c) = r.clock.as_ref().filter(|c| c.steps > 0) {
        state = state.worst(State::Warning);
        let local = match c.steps_local {
            0 => String::new(),
            n if n == c.steps => "; local to this process: the kernel reported no clock \
                 setting (a time-faking library such as libfaketime?)"
                .to_string(),
            n => format!(
                "; {n} of them local to this process: the kernel reported no clock setting \
                 (a time-faking library such as libfaketime?)"
            ),
        };
        reasons.push(format!(
            "the time-of-day clock stepped {} time(s) during the run (largest {:+.6} s){local}",
            c.steps,
            c.step_max_s.unwrap_or(0.0)
        ));
    }
    if let Some(c) = &r.clock {
        if let Some(e) = &c.kernel_error {
            state = state.worst(State::Warning);
            reasons.push(if e.starts_with(skew_clock::adjtimex::DENIED) {
                "kernel clock state unreadable: adjtimex denied (a seccomp filter such as \
                 systemd's ProtectClock=)"
                    .to_string()
            } else {
                format!("kernel clock state unreadable: {e}")
            });
        } else if t.kernel_sync && c.kernel_synchronized == Some(false) {
            state = state.worst(State::Warning);
            reasons.push(format!(
                "kernel clock unsynchronized ({}): nothing disciplines it",
                c.kernel_state.as_deref().unwrap_or("?")
            ));
        }
    }
    for f in findings {
        state = state.worst(f.state);
        if f.state != State::Ok {
            reasons.push(f.text.clone());
        }
    }
    perf.push(format!("servers={measured};;;0;{probed}"));
    perf.push(format!("truechimers={};;;0;{probed}", a.truechimers));
    perf.push(format!("falsetickers={};;;0;{probed}", a.falsetickers));
    let headline = format!("SKEW {}: {summary}", state.name());
    let mut line = headline.clone();
    // The reasons the summary does not already state (the no-answer and no-majority
    // reasons are the summary itself).
    let extra: Vec<&str> = reasons
        .iter()
        .skip(summary_states_reason as usize)
        .map(|s| s.as_str())
        .collect();
    if !extra.is_empty() && state != State::Ok {
        line.push_str(&format!(" ({})", plugin_text(&extra.join("; "))));
    }
    line.push('|');
    line.push_str(&perf.join(" "));
    Verdict {
        state,
        line,
        headline,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_outputs_make_the_line_unknown_and_keep_perfdata() {
        let mut v = Verdict {
            state: State::Ok,
            line: "SKEW OK: offset +0.000123 s (±0.000045 s) 3/3 servers|offset=0.000123s;1;2"
                .into(),
            headline: "SKEW OK: offset +0.000123 s".into(),
            reasons: vec![],
        };
        let before = v.clone();
        v.outputs_failed(&[]);
        assert_eq!(v, before);
        v.outputs_failed(&["drift log /x not written: denied".into(), "b".into()]);
        assert_eq!(v.state, State::Unknown);
        assert_eq!(
            v.line,
            "SKEW UNKNOWN: drift log /x not written: denied; b (offset +0.000123 s (±0.000045 s) 3/3 servers)|offset=0.000123s;1;2"
        );
    }
    #[test]
    fn an_error_is_one_unknown_line() {
        let v = Verdict::unknown("bad.toml: line 1\n  unknown key `servrs`\x1b[31m | x\n");
        assert_eq!(v.state, State::Unknown);
        assert_eq!(v.state.code(), 3);
        assert_eq!(
            v.line,
            "SKEW UNKNOWN: bad.toml: line 1 unknown key `servrs`\\x1b[31m / x"
        );
        assert_eq!(v.line.lines().count(), 1);
    }

    use crate::rows::PauseReading;
    use skew_ntp::select::AgreementRecord;

    fn report(
        lo: Option<f64>,
        hi: Option<f64>,
        truechimers: usize,
        falsetickers: usize,
    ) -> RunReport {
        let mut r = crate::prom::tests::report();
        r.agreement = AgreementRecord {
            lo_s: lo,
            hi_s: hi,
            truechimers,
            falsetickers,
            majority: lo.is_some(),
            min_agree: 1,
            candidates: truechimers + falsetickers,
            max_overlap: truechimers,
            servers: 0,
        };
        r.pause = None;
        let c = r.clock.as_mut().unwrap();
        c.steps = 0;
        c.kernel_synchronized = Some(true);
        r
    }

    #[test]
    fn an_undisciplined_or_unreadable_kernel_warns() {
        let t = Thresholds::default();
        let mut r = report(Some(0.0), Some(0.0), 1, 0);
        let c = r.clock.as_mut().unwrap();
        c.kernel_synchronized = Some(false);
        c.kernel_state = Some("TIME_ERROR".into());
        let v = evaluate(&r, &t, &[]);
        assert_eq!(v.state, State::Warning);
        assert_eq!(
            v.reasons,
            ["kernel clock unsynchronized (TIME_ERROR): nothing disciplines it"]
        );
        assert!(
            v.line
                .contains("(kernel clock unsynchronized (TIME_ERROR): nothing disciplines it)|"),
            "{}",
            v.line
        );
        // --no-kernel-sync: a host meant to run free.
        let free = Thresholds {
            kernel_sync: false,
            ..t
        };
        assert_eq!(evaluate(&r, &free, &[]).state, State::Ok);
        // Denied by a seccomp filter: said, whatever --no-kernel-sync.
        let c = r.clock.as_mut().unwrap();
        c.kernel_synchronized = None;
        c.kernel_state = None;
        c.kernel_error = Some(skew_clock::adjtimex::ReadError { errno: 1 }.to_string());
        for th in [t, free] {
            let v = evaluate(&r, &th, &[]);
            assert_eq!(v.state, State::Warning);
            assert_eq!(
                v.reasons,
                ["kernel clock state unreadable: adjtimex denied (a seccomp filter such as systemd's ProtectClock=)"]
            );
        }
    }

    #[test]
    fn a_step_the_kernel_did_not_report_is_called_local() {
        let t = Thresholds::default();
        let mut r = report(Some(0.0), Some(0.0), 1, 0);
        let c = r.clock.as_mut().unwrap();
        c.steps = 1;
        c.step_max_s = Some(2.0);
        assert_eq!(
            evaluate(&r, &t, &[]).reasons,
            ["the time-of-day clock stepped 1 time(s) during the run (largest +2.000000 s)"]
        );
        r.clock.as_mut().unwrap().steps_local = 1;
        assert_eq!(
            evaluate(&r, &t, &[]).reasons,
            ["the time-of-day clock stepped 1 time(s) during the run (largest +2.000000 s); local to this process: the kernel reported no clock setting (a time-faking library such as libfaketime?)"]
        );
    }

    #[test]
    fn the_reasons_never_start_the_perfdata() {
        let t = Thresholds::default();
        let f = Finding {
            state: State::Warning,
            text: "leap-seconds list /a|b\nc: expired".into(),
        };
        let v = evaluate(&report(Some(0.2), Some(0.2), 1, 0), &t, &[f]);
        assert_eq!(v.state, State::Warning);
        let (text, perf) = v.line.split_once('|').unwrap();
        assert!(
            text.ends_with(
                "(offset +0.200000 s beyond ±0.1 s; leap-seconds list /a/b\\nc: expired)"
            ),
            "{text}"
        );
        assert!(perf.starts_with("offset=0.200000s;"), "{perf}");
        assert_eq!(v.line.lines().count(), 1);
    }

    #[test]
    fn ok_line_like_check_ntp_time() {
        let v = evaluate(
            &report(Some(0.000078), Some(0.000168), 1, 0),
            &Thresholds::default(),
            &[],
        );
        assert_eq!(v.state, State::Ok);
        assert!(v.line.starts_with("SKEW OK: offset +0.000123 s (±0.000045 s) 1/1 servers|offset=0.000123s;0.1;0.5;; bound=0.000045s;0.25;1;0;"), "{}", v.line);
    }

    #[test]
    fn each_state() {
        let t = Thresholds::default();
        assert_eq!(
            evaluate(&report(Some(0.2), Some(0.2), 1, 0), &t, &[]).state,
            State::Warning
        );
        assert_eq!(
            evaluate(&report(Some(-0.7), Some(-0.6), 1, 0), &t, &[]).state,
            State::Critical
        );
        assert_eq!(
            evaluate(&report(Some(-0.3), Some(0.3), 1, 0), &t, &[]).state,
            State::Warning,
            "bound"
        );
        assert_eq!(
            evaluate(&report(Some(-2.0), Some(2.0), 1, 0), &t, &[]).state,
            State::Critical,
            "bound"
        );
        assert_eq!(
            evaluate(&report(Some(0.0), Some(0.0), 3, 1), &t, &[]).state,
            State::Warning,
            "falseticker"
        );
        let mut r = report(None, None, 0, 0);
        r.agreement.candidates = 2;
        r.agreement.max_overlap = 1;
        r.agreement.min_agree = 2;
        let v = evaluate(&r, &t, &[]);
        assert_eq!(v.state, State::Critical);
        assert!(
            v.line
                .contains("no majority: at most 1 of 2 answering servers agree"),
            "{}",
            v.line
        );
        r.agreement.candidates = 0;
        r.probes[0].offset_s = None;
        r.probes[0].status = skew_ntp::Status::Timeout;
        let v = evaluate(&r, &t, &[]);
        assert_eq!(v.state, State::Critical);
        assert!(
            v.line
                .starts_with("SKEW CRITICAL: no server answered, 0/1 servers (1 timeout)|"),
            "{}",
            v.line
        );
        let mut r = report(Some(0.0), Some(0.0), 1, 0);
        r.pause = Some(PauseReading {
            max_s: 2.0,
            p99_s: 0.001,
            events: 1,
        });
        assert_eq!(evaluate(&r, &t, &[]).state, State::Warning);
        r.pause = Some(PauseReading {
            max_s: 20.0,
            p99_s: 0.001,
            events: 1,
        });
        assert_eq!(evaluate(&r, &t, &[]).state, State::Critical);
        let f = Finding {
            state: State::Unknown,
            text: "leap list missing".into(),
        };
        let v = evaluate(&report(Some(0.0), Some(0.0), 1, 0), &t, &[f]);
        assert_eq!(v.state, State::Unknown);
        assert!(v.line.contains("leap list missing"));
    }

    #[test]
    fn dead_servers_are_a_warning_not_a_lost_majority() {
        let t = Thresholds::default();
        // Two agreeing servers of four: the two dead ones warn, the answer stands.
        let mut r = report(Some(0.0001), Some(0.0002), 2, 0);
        r.agreement.servers = 4;
        let mut dead = r.probes[0].clone();
        dead.status = skew_ntp::Status::Timeout;
        dead.offset_s = None;
        for (i, p) in [(1, "127.0.0.1:2"), (2, "127.0.0.1:3"), (3, "127.0.0.1:4")] {
            let mut x = if i == 1 {
                r.probes[0].clone()
            } else {
                dead.clone()
            };
            x.address = Some(p.into());
            r.probes.push(x);
        }
        let v = evaluate(&r, &t, &[]);
        assert_eq!(v.state, State::Warning, "{}", v.line);
        assert!(
            v.line.starts_with("SKEW WARNING: offset +0.000150 s (±0.000050 s) 2/4 servers (2 of 4 servers answered (2 timeout))"),
            "{}",
            v.line
        );
        // All of them answering: OK.
        r.agreement.servers = 2;
        r.probes.truncate(2);
        assert_eq!(evaluate(&r, &t, &[]).state, State::Ok);
    }

    #[test]
    fn worst_ranks_critical_over_unknown() {
        assert_eq!(State::Unknown.worst(State::Critical), State::Critical);
        assert_eq!(State::Warning.worst(State::Unknown), State::Unknown);
        assert_eq!(State::Ok.worst(State::Ok), State::Ok);
    }
}
