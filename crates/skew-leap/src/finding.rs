//! Findings: what a check found, with how much it matters.

use serde::Serialize;

/// How much a finding matters. Ordered: a worse finding compares greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information; changes nothing.
    Note,
    /// Something to fix before it matters (Nagios WARNING).
    Warning,
    /// Something could not be checked (Nagios UNKNOWN).
    Unknown,
    /// Wrong now, or about to be (Nagios CRITICAL).
    Critical,
}

impl Severity {
    /// `note`, `warning`, `unknown`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Unknown => "unknown",
            Severity::Critical => "critical",
        }
    }
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about: `list`, `kernel`, `servers` or a server's name.
    pub subject: String,
    /// What was found, as a sentence.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(severity: Severity, subject: &str, message: impl Into<String>) -> Self {
        Finding {
            severity,
            subject: subject.to_string(),
            message: message.into(),
        }
    }

    /// The finding as one line: `subject: message`.
    pub fn text(&self) -> String {
        format!("{}: {}", self.subject, self.message)
    }
}

/// The overall verdict of a run (Nagios states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing wrong (notes only).
    Ok,
    /// At least one warning.
    Warning,
    /// Something could not be checked (and nothing is critical).
    Unknown,
    /// At least one critical finding.
    Critical,
}

impl Verdict {
    /// The verdict of a set of findings: the worst of them, ranked critical > unknown >
    /// warning > ok (monitoring-plugins' `max_state_alt`: a part that could not be checked is
    /// not hidden by a warning about another).
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            None | Some(Severity::Note) => Verdict::Ok,
            Some(Severity::Warning) => Verdict::Warning,
            Some(Severity::Unknown) => Verdict::Unknown,
            Some(Severity::Critical) => Verdict::Critical,
        }
    }

    /// `OK`, `WARNING`, `UNKNOWN`, `CRITICAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Warning => "WARNING",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Critical => "CRITICAL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_wins_with_unknown_above_warning() {
        let f = |s| Finding::new(s, "list", "x");
        assert_eq!(Verdict::of(&[]), Verdict::Ok);
        assert_eq!(Verdict::of(&[f(Severity::Note)]), Verdict::Ok);
        assert_eq!(
            Verdict::of(&[f(Severity::Note), f(Severity::Warning)]),
            Verdict::Warning
        );
        assert_eq!(
            Verdict::of(&[f(Severity::Unknown), f(Severity::Warning)]),
            Verdict::Unknown
        );
        assert_eq!(
            Verdict::of(&[
                f(Severity::Unknown),
                f(Severity::Critical),
                f(Severity::Warning)
            ]),
            Verdict::Critical
        );
        assert_eq!(f(Severity::Warning).text(), "list: x");
        assert_eq!(
            serde_json::to_value(Severity::Critical).unwrap(),
            "critical"
        );
    }
}
