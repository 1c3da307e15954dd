//! NTS health for monitoring (pure): which findings an NTS server's probe gives (its
//! metrics are `skew_metrics::ntp::add_nts`'s).
//!
//! A failed key exchange, an NTS NAK, or any reply from an NTS server that did not
//! authenticate is CRITICAL (an on-path forger or a server that dropped NTS); a
//! certificate ending within `crit_days` is CRITICAL, within `warn_days` a WARNING.

use crate::nagios::{Finding, State};
use skew_ntp::{ProbeRecord, Status};

/// Certificate thresholds, in days (`--warn-cert-days`, `--crit-cert-days`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CertThresholds {
    /// WARNING when the certificate ends within this many days.
    pub warn_days: f64,
    /// CRITICAL when it ends within this many days.
    pub crit_days: f64,
}

impl Default for CertThresholds {
    fn default() -> Self {
        CertThresholds {
            warn_days: 30.0,
            crit_days: 7.0,
        }
    }
}

/// The largest certificate threshold, days (100 years).
pub const MAX_CERT_DAYS: f64 = 36_500.0;

/// Checks a certificate threshold in days: a finite number from 0 to [`MAX_CERT_DAYS`]
/// (NaN compared false with every end date, which silently turned the alert off, the way
/// issue 14.9 and 14.10 found with drift rates and pause intervals).
pub fn check_cert_days(days: f64) -> Result<f64, String> {
    if days.is_finite() && (0.0..=MAX_CERT_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(format!(
            "{days} is not a number of days from 0 to {MAX_CERT_DAYS}"
        ))
    }
}

/// Parses a certificate threshold in days ([`check_cert_days`]): a clap value parser.
pub fn parse_cert_days(text: &str) -> Result<f64, String> {
    let days: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of days"))?;
    check_cert_days(days)
}

/// The findings of the NTS servers among `probes` (plain servers give none).
pub fn nts_findings(probes: &[ProbeRecord], t: &CertThresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let critical = |text: String| Finding {
        state: State::Critical,
        text,
    };
    for p in probes {
        let Some(n) = &p.nts else { continue };
        let who = &p.server;
        match p.status {
            Status::NtsKeFailed => {
                out.push(critical(format!(
                    "{who}: {}",
                    p.error.as_deref().unwrap_or("NTS key exchange failed")
                )));
                continue;
            }
            Status::NtsNak => out.push(critical(format!(
                "{who}: NTS NAK (the server could not use the cookie)"
            ))),
            _ => {}
        }
        if n.dropped_unauthenticated > 0 {
            out.push(critical(format!(
                "{who}: {} unauthenticated repl{} to NTS requests",
                n.dropped_unauthenticated,
                if n.dropped_unauthenticated == 1 {
                    "y"
                } else {
                    "ies"
                }
            )));
        }
        if !p.samples.is_empty() && !n.authenticated {
            out.push(critical(format!(
                "{who}: samples not authenticated with NTS"
            )));
        }
        if let Some(d) = n.cert_days_left {
            if d < t.crit_days {
                out.push(critical(format!(
                    "{who}: NTS certificate ends in {d:.1} days (< {} days)",
                    t.crit_days
                )));
            } else if d < t.warn_days {
                out.push(Finding {
                    state: State::Warning,
                    text: format!(
                        "{who}: NTS certificate ends in {d:.1} days (< {} days)",
                        t.warn_days
                    ),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_ntp::nts::{KeFacts, NtsReport};
    use skew_ntp::ServerResult;

    fn probe(status: Status, f: impl FnOnce(&mut NtsReport)) -> ProbeRecord {
        let mut r = ServerResult::failed("nts.example", None, status, "x".into());
        let mut n = NtsReport {
            ke: KeFacts {
                ke_server: "nts.example".into(),
                ke_port: 4460,
                cert_not_after_unix_s: Some(1_798_761_600),
                checked_at_unix_ns: Some((1_798_761_600 - 100 * 86_400) * 1_000_000_000),
                ..KeFacts::default()
            },
            authenticated: true,
            dropped_unauthenticated: 0,
        };
        f(&mut n);
        r.nts = Some(Box::new(n));
        r.record()
    }

    #[test]
    fn findings_by_rule() {
        let t = CertThresholds::default();
        let states = |p: ProbeRecord| -> Vec<State> {
            nts_findings(&[p], &t).iter().map(|f| f.state).collect()
        };
        assert_eq!(states(probe(Status::Ok, |_| {})), vec![]);
        assert_eq!(
            probe(Status::Ok, |_| {})
                .nts
                .unwrap()
                .cert_not_after_unix_s(),
            Some(1_798_761_600)
        );
        assert_eq!(
            states(probe(Status::NtsKeFailed, |_| {})),
            vec![State::Critical]
        );
        assert_eq!(states(probe(Status::NtsNak, |_| {})), vec![State::Critical]);
        assert_eq!(
            states(probe(Status::Ok, |n| n.dropped_unauthenticated = 2)),
            vec![State::Critical]
        );
        let ends_in = |days: i64| {
            probe(Status::Ok, move |n| {
                n.ke.checked_at_unix_ns = Some((1_798_761_600 - days * 86_400) * 1_000_000_000)
            })
        };
        assert_eq!(states(ends_in(20)), vec![State::Warning]);
        assert_eq!(states(ends_in(3)), vec![State::Critical]);
        assert_eq!(states(ends_in(-3)), vec![State::Critical]);
        assert_eq!(states(ends_in(31)), vec![]);
        let f = nts_findings(&[ends_in(20)], &t);
        assert!(
            f[0].text.contains("ends in 20.0 days (< 30 days)"),
            "{}",
            f[0].text
        );
        // A plain server gives nothing.
        let plain = ServerResult::failed("p", None, Status::Timeout, "x".into()).record();
        assert!(nts_findings(&[plain], &t).is_empty());
    }
}
