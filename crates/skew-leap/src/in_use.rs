//! Which leap-seconds.list to use when there are several: the system's (tzdata, or the file
//! the time daemon is configured with) and skew's cache (written by `skew leap --fetch`).
//!
//! The freshest usable one wins: a list is usable when its `#h` hash holds and its data are
//! consistent (an expired list is still usable: it is right about the past), and the
//! freshest is the one that expires last (then the one updated last). When none is usable,
//! the system's is kept (else the cache's) so that its problem is reported, never hidden by
//! silence. Pure: the candidates come already read.

use crate::calendar::{iso_date, ntp_to_unix_s};
use crate::list::LeapList;
use serde::Serialize;
use std::path::PathBuf;

/// Where a candidate list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The system's list (the daemon's configured file, `$TZDIR`, tzdata...).
    System,
    /// skew's cache, written by `skew leap --fetch`.
    Cache,
    /// A file named on the command line (`--file`, `--leap-file`) or in skew.toml.
    Given,
}

impl Origin {
    /// `system`, `cache` or `given`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::System => "system",
            Origin::Cache => "cache",
            Origin::Given => "given",
        }
    }

    /// How the human reports name it.
    pub fn describe(self) -> &'static str {
        match self {
            Origin::System => "the system's",
            Origin::Cache => "skew's cache",
            Origin::Given => "as given",
        }
    }
}

/// One list that could be used: where it is, and what reading it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Where it comes from.
    pub origin: Origin,
    /// The file.
    pub path: PathBuf,
    /// The parsed list, or why it could not be read (the message names the file).
    pub loaded: Result<LeapList, String>,
}

/// The list chosen, and why the others were not.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// Where it comes from.
    pub origin: Origin,
    /// The file.
    pub path: PathBuf,
    /// The list, or why it could not be read (only when no candidate was usable).
    pub loaded: Result<LeapList, String>,
    /// The candidates not used, each with the reason, as sentences.
    pub passed_over: Vec<String>,
}

impl Chosen {
    /// One line saying which list is used and why: `/var/lib/skew/leap-seconds.list
    /// (skew's cache; the system's /usr/share/zoneinfo/leap-seconds.list expires earlier,
    /// on 2026-06-28)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} ({}", self.path.display(), self.origin.describe());
        for p in &self.passed_over {
            s.push_str("; ");
            s.push_str(p);
        }
        s.push(')');
        s
    }
}

/// A list whose hash holds and whose data are consistent.
pub fn usable(list: &LeapList) -> bool {
    list.hash.is_valid() && list.inconsistencies.is_empty()
}

/// The order of freshness: the later expiry, then the later update.
pub fn freshness(list: &LeapList) -> (i64, i64) {
    (list.expires_ntp_s, list.last_update_ntp_s)
}

fn why_not(c: &Candidate, chosen: Option<&LeapList>) -> String {
    let who = format!("{} {}", c.origin.describe(), c.path.display());
    match &c.loaded {
        Err(e) => format!("{who} could not be read: {e}"),
        Ok(l) if !l.hash.is_valid() => format!("{who} fails its #h hash ({})", l.hash.as_str()),
        Ok(l) if !usable(l) => format!("{who} has inconsistent data"),
        Ok(l) => match chosen {
            Some(ch) if freshness(l) == freshness(ch) => format!("{who} is the same edition"),
            _ => format!(
                "{who} expires earlier, on {}",
                iso_date(ntp_to_unix_s(l.expires_ntp_s))
            ),
        },
    }
}

/// Chooses among `candidates` (in order of preference when equally fresh: put the
/// system's first). `None` when there is no candidate at all.
pub fn choose(candidates: Vec<Candidate>) -> Option<Chosen> {
    let best = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.loaded.as_ref().ok().filter(|l| usable(l)).map(|l| (i, l)))
        // max_by_key keeps the last of equal keys: reverse so the first candidate wins ties.
        .rev()
        .max_by_key(|(_, l)| freshness(l))
        .map(|(i, _)| i);
    // Nothing usable: the first candidate, so its problem is reported.
    let pick = best.or((!candidates.is_empty()).then_some(0))?;
    let chosen_list = candidates[pick].loaded.as_ref().ok().cloned();
    let passed_over = candidates
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != pick)
        .map(|(_, c)| why_not(c, chosen_list.as_ref().filter(|l| usable(l))))
        .collect();
    let c = candidates.into_iter().nth(pick)?;
    Some(Chosen {
        origin: c.origin,
        path: c.path,
        loaded: c.loaded,
        passed_over,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::{parse, tests::SMALL};

    fn list(expiry: &str) -> LeapList {
        let mut l = parse(SMALL.as_bytes()).unwrap();
        l.expires_ntp_s = expiry.parse().unwrap();
        l
    }

    fn cand(origin: Origin, path: &str, loaded: Result<LeapList, String>) -> Candidate {
        Candidate {
            origin,
            path: path.into(),
            loaded,
        }
    }

    #[test]
    fn the_later_expiry_wins_and_the_other_is_named() {
        let sys = cand(Origin::System, "/sys.list", Ok(list("3991593600")));
        let cache = cand(Origin::Cache, "/cache.list", Ok(list("4023129600")));
        let c = choose(vec![sys.clone(), cache.clone()]).unwrap();
        assert_eq!(c.origin, Origin::Cache);
        assert_eq!(
            c.describe(),
            "/cache.list (skew's cache; the system's /sys.list expires earlier, on 2026-06-28)"
        );
        // Order does not matter for different editions.
        assert_eq!(choose(vec![cache, sys]).unwrap().origin, Origin::Cache);
    }

    #[test]
    fn equal_editions_keep_the_first() {
        let sys = cand(Origin::System, "/sys.list", Ok(list("4023129600")));
        let cache = cand(Origin::Cache, "/cache.list", Ok(list("4023129600")));
        let c = choose(vec![sys, cache]).unwrap();
        assert_eq!(c.origin, Origin::System);
        assert_eq!(
            c.describe(),
            "/sys.list (the system's; skew's cache /cache.list is the same edition)"
        );
    }

    #[test]
    fn a_bad_hash_or_unreadable_file_is_passed_over_however_fresh() {
        let mut bad = list("4500000000");
        let good_hash = bad.hash.clone();
        bad.hash = crate::list::HashCheck::Missing { computed: [0; 5] };
        let c = choose(vec![
            cand(Origin::System, "/sys.list", Ok(list("3991593600"))),
            cand(Origin::Cache, "/cache.list", Ok(bad.clone())),
        ])
        .unwrap();
        assert_eq!(c.origin, Origin::System);
        assert!(c
            .describe()
            .contains("skew's cache /cache.list fails its #h hash (missing)"));
        let c = choose(vec![
            cand(Origin::System, "/sys.list", Err("line 3: bad".into())),
            cand(Origin::Cache, "/cache.list", Ok(list("3991593600"))),
        ])
        .unwrap();
        assert_eq!(c.origin, Origin::Cache);
        assert!(c
            .describe()
            .contains("the system's /sys.list could not be read: line 3: bad"));
        // Inconsistent data are not usable either.
        let mut odd = list("4500000000");
        odd.hash = good_hash;
        odd.inconsistencies.push(crate::list::Inconsistency {
            line: 5,
            message: "x".into(),
        });
        let c = choose(vec![
            cand(Origin::Cache, "/cache.list", Ok(odd)),
            cand(Origin::System, "/sys.list", Ok(list("3991593600"))),
        ])
        .unwrap();
        assert_eq!(c.origin, Origin::System);
    }

    #[test]
    fn nothing_usable_keeps_the_first_to_report_its_problem() {
        let mut bad = list("4500000000");
        bad.hash = crate::list::HashCheck::Missing { computed: [0; 5] };
        let c = choose(vec![
            cand(Origin::System, "/sys.list", Ok(bad)),
            cand(Origin::Cache, "/cache.list", Err("cannot read".into())),
        ])
        .unwrap();
        assert_eq!(c.origin, Origin::System);
        assert!(c.loaded.is_ok());
        assert_eq!(choose(vec![]), None);
    }
}
