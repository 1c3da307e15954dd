//! `skew leap --fetch`, the decisions: which sources to try, whether a downloaded list may
//! replace the one in use, and what the run amounts to. Pure: the download is a function
//! given by the caller (the HTTPS edge in the CLI, a closure in tests).
//!
//! A download replaces nothing unless it parses, its `#h` hash holds, its data are
//! consistent and it is fresher (expires later, or was updated later) than the list in use.
//! Sources are tried in order until one gives such a list; a source that fails, or gives a
//! bad or older list, is reported and the next one tried.

use crate::calendar::{iso_s, ntp_to_unix_s};
use crate::in_use::{freshness, usable};
use crate::list::{parse, LeapList};
use serde::Serialize;

/// The IANA tz database's copy (the default source).
pub const IANA_URL: &str = "https://data.iana.org/time-zones/tzdb/leap-seconds.list";
/// The IERS original (the fallback).
pub const IERS_URL: &str = "https://hpiers.obspm.fr/iers/bul/bulc/ntp/leap-seconds.list";
/// The sources tried when no URL is given, in order.
pub const DEFAULT_URLS: [&str; 2] = [IANA_URL, IERS_URL];

/// The deadline of one download (`skew leap --fetch-timeout`): 100 ms to 10 minutes.
pub const FETCH_TIMEOUT_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(100_000_000, 600_000_000_000);

/// What one source gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A valid list fresher than the one in use: it replaces it.
    Newer,
    /// A valid list of the same edition as the one in use.
    Same,
    /// A valid list older than the one in use: not used.
    Older,
    /// The file is not a usable list (does not parse, bad hash, inconsistent data).
    Invalid,
    /// The download failed (network, TLS, HTTP status, size).
    Failed,
}

/// One source tried.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// The URL.
    pub url: String,
    /// What it gave.
    pub outcome: Outcome,
    /// Why it failed or is invalid (null otherwise).
    pub error: Option<String>,
    /// The downloaded list's expiry (`#@`, ISO 8601), when it parsed.
    pub expires: Option<String>,
    /// The downloaded list's last update (`#$`, ISO 8601), when it parsed.
    pub last_update: Option<String>,
}

/// The run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRun {
    /// Every source tried, in order.
    pub attempts: Vec<Attempt>,
    /// The bytes to write to the cache, exactly as downloaded (only for [`Outcome::Newer`]).
    pub newer: Option<(Vec<u8>, LeapList)>,
}

/// The overall status of a fetch, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchStatus {
    /// A fresher list was found (and is to be written).
    Updated,
    /// The list in use is as fresh as any found.
    Current,
    /// Only older lists were found.
    Older,
    /// Lists were downloaded but none was usable.
    Invalid,
    /// Nothing could be downloaded.
    Failed,
}

impl FetchStatus {
    /// `updated`, `current`, `older`, `invalid` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchStatus::Updated => "updated",
            FetchStatus::Current => "current",
            FetchStatus::Older => "older",
            FetchStatus::Invalid => "invalid",
            FetchStatus::Failed => "failed",
        }
    }
}

impl FetchRun {
    /// The best outcome among the attempts.
    pub fn status(&self) -> FetchStatus {
        let has = |o: Outcome| self.attempts.iter().any(|a| a.outcome == o);
        if self.newer.is_some() {
            FetchStatus::Updated
        } else if has(Outcome::Same) {
            FetchStatus::Current
        } else if has(Outcome::Older) {
            FetchStatus::Older
        } else if has(Outcome::Invalid) {
            FetchStatus::Invalid
        } else {
            FetchStatus::Failed
        }
    }
}

/// Judges one downloaded file against the list in use (`None`: there is none usable).
pub fn judge(url: &str, bytes: &[u8], in_use: Option<&LeapList>) -> (Attempt, Option<LeapList>) {
    let attempt = |outcome, error: Option<String>, list: Option<&LeapList>| Attempt {
        url: url.to_string(),
        outcome,
        error,
        expires: list.map(|l| iso_s(ntp_to_unix_s(l.expires_ntp_s))),
        last_update: list.map(|l| iso_s(ntp_to_unix_s(l.last_update_ntp_s))),
    };
    let list = match parse(bytes) {
        Ok(l) => l,
        Err(e) => {
            return (
                attempt(
                    Outcome::Invalid,
                    Some(format!("not a leap-seconds list: {e}")),
                    None,
                ),
                None,
            )
        }
    };
    if !list.hash.is_valid() {
        let why = format!(
            "its #h hash {} ({}; the data hash to {})",
            match list.hash.as_str() {
                "missing" => "is missing",
                _ => "does not match",
            },
            list.hash.expected_text().unwrap_or_else(|| "none".into()),
            list.hash.computed_text()
        );
        return (attempt(Outcome::Invalid, Some(why), Some(&list)), None);
    }
    if !usable(&list) {
        let why = list
            .inconsistencies
            .first()
            .map_or("inconsistent data".to_string(), |i| {
                format!("inconsistent data: line {}: {}", i.line, i.message)
            });
        return (attempt(Outcome::Invalid, Some(why), Some(&list)), None);
    }
    let outcome = match in_use.filter(|l| usable(l)) {
        None => Outcome::Newer,
        Some(cur) => match freshness(&list).cmp(&freshness(cur)) {
            std::cmp::Ordering::Greater => Outcome::Newer,
            std::cmp::Ordering::Equal => Outcome::Same,
            std::cmp::Ordering::Less => Outcome::Older,
        },
    };
    let a = attempt(outcome.clone(), None, Some(&list));
    (a, (outcome == Outcome::Newer).then_some(list))
}

/// Tries `urls` in order with `get` until one gives a list fresher than `in_use`.
pub fn fetch(
    urls: &[String],
    in_use: Option<&LeapList>,
    mut get: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> FetchRun {
    let mut attempts = Vec::new();
    for url in urls {
        match get(url) {
            Err(e) => attempts.push(Attempt {
                url: url.clone(),
                outcome: Outcome::Failed,
                error: Some(e),
                expires: None,
                last_update: None,
            }),
            Ok(bytes) => {
                let (a, newer) = judge(url, &bytes, in_use);
                attempts.push(a);
                if let Some(list) = newer {
                    return FetchRun {
                        attempts,
                        newer: Some((bytes, list)),
                    };
                }
            }
        }
    }
    FetchRun {
        attempts,
        newer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::tests::SMALL;

    const REAL: &[u8] = include_bytes!("../../../data/leap-seconds.list");
    const OLD: &[u8] = include_bytes!("../../../data/leap-seconds.2025b.list");
    const TAMPERED: &[u8] = include_bytes!("../../../data/leap-seconds.tampered.list");

    fn urls() -> Vec<String> {
        DEFAULT_URLS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_fresher_list_from_the_first_source_is_taken() {
        let old = parse(OLD).unwrap();
        let mut asked = vec![];
        let run = fetch(&urls(), Some(&old), |u| {
            asked.push(u.to_string());
            Ok(REAL.to_vec())
        });
        assert_eq!(asked, [IANA_URL], "the fallback is not asked");
        assert_eq!(run.status(), FetchStatus::Updated);
        let (bytes, list) = run.newer.unwrap();
        assert_eq!(bytes, REAL, "written exactly as downloaded");
        assert_eq!(list.expires_ntp_s, 4_023_129_600);
        assert_eq!(
            run.attempts[0].expires.as_deref(),
            Some("2027-06-28T00:00:00Z")
        );
    }

    #[test]
    fn a_failing_or_bad_first_source_falls_back_to_iers() {
        let old = parse(OLD).unwrap();
        for first in [
            Err("connection refused".to_string()),
            Ok(TAMPERED.to_vec()),
            Ok(b"<html>".to_vec()),
        ] {
            let run = fetch(&urls(), Some(&old), |u| {
                if u == IANA_URL {
                    first.clone()
                } else {
                    Ok(REAL.to_vec())
                }
            });
            assert_eq!(run.status(), FetchStatus::Updated, "{first:?}");
            assert_eq!(run.attempts.len(), 2);
            assert!(matches!(
                run.attempts[0].outcome,
                Outcome::Failed | Outcome::Invalid
            ));
            assert_eq!(run.attempts[1].url, IERS_URL);
            assert_eq!(run.attempts[1].outcome, Outcome::Newer);
        }
        // The tampered list names its hash.
        let (a, _) = judge("u", TAMPERED, Some(&old));
        assert!(
            a.error
                .as_deref()
                .unwrap()
                .starts_with("its #h hash does not match (49db2447"),
            "{a:?}"
        );
    }

    #[test]
    fn the_same_or_an_older_list_replaces_nothing() {
        let real = parse(REAL).unwrap();
        let run = fetch(&urls(), Some(&real), |_| Ok(REAL.to_vec()));
        assert_eq!(run.status(), FetchStatus::Current);
        assert!(run.newer.is_none());
        assert_eq!(
            run.attempts.len(),
            2,
            "both sources asked for a fresher one"
        );
        let run = fetch(&urls(), Some(&real), |_| Ok(OLD.to_vec()));
        assert_eq!(run.status(), FetchStatus::Older);
        assert_eq!(run.attempts[0].outcome, Outcome::Older);
        // Nothing usable in use (a bad hash): any valid list is newer.
        let tampered = parse(TAMPERED).unwrap();
        let run = fetch(&urls(), Some(&tampered), |_| Ok(OLD.to_vec()));
        assert_eq!(run.status(), FetchStatus::Updated);
        let run = fetch(&urls(), None, |_| Ok(SMALL.as_bytes().to_vec()));
        assert_eq!(run.status(), FetchStatus::Updated);
    }

    #[test]
    fn nothing_usable_is_invalid_or_failed() {
        let run = fetch(&urls(), None, |_| Err("timeout".into()));
        assert_eq!(run.status(), FetchStatus::Failed);
        assert_eq!(run.attempts[1].error.as_deref(), Some("timeout"));
        let run = fetch(&urls(), None, |u| {
            if u == IANA_URL {
                Err("timeout".into())
            } else {
                Ok(TAMPERED.to_vec())
            }
        });
        assert_eq!(run.status(), FetchStatus::Invalid);
        let truncated = &REAL[..REAL.len() / 2];
        let (a, l) = judge("u", truncated, None);
        assert_eq!(a.outcome, Outcome::Invalid);
        assert!(l.is_none());
    }

    proptest::proptest! {
        /// Whatever a server sends, the judgement never panics, and only a list whose hash
        /// holds can be taken.
        #[test]
        fn any_download_is_judged(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let (a, l) = judge("u", &bytes, None);
            if let Some(l) = l {
                proptest::prop_assert!(l.hash.is_valid());
                proptest::prop_assert_eq!(a.outcome, Outcome::Newer);
            }
        }

        /// The real list with one byte changed anywhere: it is taken only when it still
        /// hashes (the byte was in a comment), never with a changed number.
        #[test]
        fn a_changed_byte_is_taken_only_if_the_data_are_intact(
            at in 0usize..REAL.len(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut bytes = REAL.to_vec();
            bytes[at] = byte;
            let (_, l) = judge("u", &bytes, None);
            if let Some(l) = l {
                let real = parse(REAL).unwrap();
                proptest::prop_assert_eq!(l.entries.iter().map(|e| (e.ntp_s, e.tai_minus_utc_s)).collect::<Vec<_>>(),
                    real.entries.iter().map(|e| (e.ntp_s, e.tai_minus_utc_s)).collect::<Vec<_>>());
                proptest::prop_assert_eq!(freshness(&l), freshness(&real));
            }
        }
    }
}
