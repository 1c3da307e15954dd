//! What a scrape reads: immutable views of the servers and the local clock, rebuilt by the
//! poller and the local thread and swapped in whole, so a scrape never holds a lock while it
//! encodes and never delays a poll (pure).

use crate::server::ServerState;
use skew_ntp::nts::keeper::Keeper;
use skew_ntp::select::{select_answered, AgreementRecord};
use skew_ntp::{ProbeRecord, ServerResult};
use skew_sourcestats::{AdevPoint, SourceStats};
use std::sync::Arc;

/// One server as a scrape sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerView {
    /// The last poll's record (truechimer filled in by the agreement).
    pub record: ProbeRecord,
    /// Reachability register.
    pub reach: u8,
    /// Current poll, s.
    pub poll_s: f64,
    /// Polls made.
    pub polls: u64,
    /// Polls that did not measure, by status.
    pub errors: Vec<(&'static str, u64)>,
    /// Samples in the window.
    pub window_len: usize,
    /// When the last measured sample was taken, Unix s.
    pub last_ok_unix_s: Option<f64>,
    /// The last poll's exchange duration, s.
    pub duration_s: Option<f64>,
    /// The window's sourcestats.
    pub stats: Option<SourceStats>,
    /// The window's Allan deviation.
    pub allan: Vec<AdevPoint>,
    /// Why the server is no longer polled.
    pub stopped: Option<String>,
    /// NTS servers: their session and key exchanges.
    pub nts: Option<NtsState>,
}

/// An NTS server's session and key exchanges, as a scrape sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NtsState {
    /// Whether the last key exchange succeeded (None before the first).
    pub ke_up: Option<bool>,
    /// When the last successful key exchange ran, Unix s.
    pub ke_last_success_unix_s: Option<f64>,
    /// Cookies in hand (0 without a session).
    pub cookies_held: usize,
    /// Key exchanges run, by trigger.
    pub key_exchanges: Vec<(&'static str, u64)>,
    /// Failed key exchanges, by step.
    pub ke_failures: Vec<(&'static str, u64)>,
    /// NTS NAKs received.
    pub naks: u64,
    /// Replies dropped as unauthenticated.
    pub unauthenticated: u64,
}

impl NtsState {
    /// The state of `keeper`.
    pub fn of(keeper: &Keeper) -> NtsState {
        let c = keeper.counts();
        NtsState {
            ke_up: keeper.last_ok(),
            ke_last_success_unix_s: keeper.last_success_unix_ns().map(|t| t as f64 / 1e9),
            cookies_held: keeper.cookies_held().unwrap_or(0),
            key_exchanges: c.key_exchanges.iter().map(|(k, v)| (*k, *v)).collect(),
            ke_failures: c.failures.iter().map(|(k, v)| (*k, *v)).collect(),
            naks: c.naks,
            unauthenticated: c.unauthenticated,
        }
    }
}

/// Every polled server, and the majority's agreement over their last results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServersView {
    /// One entry per server that has been polled at least once, in the order given.
    pub servers: Vec<Arc<ServerView>>,
    /// The agreement (None before any poll).
    pub agreement: Option<AgreementRecord>,
    /// The `/metrics` text of these servers that does not depend on the time of the scrape
    /// (`render::servers_text`), rendered once when the view is built.
    pub text: Arc<String>,
}

/// A result whose bounds are widened for the time since it was measured: `max_drift_ppm`
/// of its age, on both sides (the local clock may have drifted that much since).
pub fn aged(result: &ServerResult, age_ns: i64, max_drift_ppm: f64) -> ServerResult {
    let mut r = result.clone();
    let widen = ((age_ns.max(0) as f64) * max_drift_ppm * 1e-6).ceil() as i64;
    if let Some(s) = &mut r.summary {
        s.bound = s.bound.widen(widen);
        s.utc_bound = s.utc_bound.widen(widen);
    }
    r
}

/// Builds the view of `states` at `now_mono_ns`: each server's figures, and the agreement of
/// their last results, each widened for its age.
pub fn build(
    states: &[&ServerState],
    now_mono_ns: i64,
    precision_ns: i64,
    min_agree: Option<usize>,
    max_drift_ppm: f64,
) -> ServersView {
    let polled: Vec<&ServerState> = states
        .iter()
        .copied()
        .filter(|s| s.last.is_some())
        .collect();
    if polled.is_empty() {
        return ServersView::default();
    }
    let results: Vec<ServerResult> = polled
        .iter()
        .map(|s| {
            let r = s.last.as_ref().expect("polled");
            let age = s.last_poll.map_or(0, |t| now_mono_ns - t.start_mono_ns);
            aged(r, age, max_drift_ppm)
        })
        .collect();
    // The majority of the servers that answered (issue 13), as monitor and check take it.
    let agreement = select_answered(&results, min_agree);
    let servers = polled
        .iter()
        .zip(&results)
        .zip(&agreement.verdicts)
        .map(|((s, r), v)| {
            let mut record = r.record();
            record.truechimer = Some(v.unwrap_or(false));
            Arc::new(ServerView {
                record,
                reach: s.reach,
                poll_s: s.poll_ns as f64 / 1e9,
                polls: s.polls,
                errors: s.errors.iter().map(|(k, v)| (*k, *v)).collect(),
                window_len: s.window().len(),
                last_ok_unix_s: s.window().back().map(|w| w.unix_ns as f64 / 1e9),
                duration_s: s.last_duration_ns.map(|d| d as f64 / 1e9),
                stats: s.stats(precision_ns),
                allan: s.allan(),
                stopped: s.stopped.clone(),
                nts: s.nts.as_ref().map(NtsState::of),
            })
        })
        .collect();
    let mut view = ServersView {
        servers,
        agreement: Some(AgreementRecord::from(&agreement)),
        text: Arc::default(),
    };
    view.text = Arc::new(crate::render::servers_text(&view));
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use skew_ntp::Status;

    #[test]
    fn age_widens_bounds() {
        let mut r = ServerResult::failed("s", None, Status::Ok, String::new());
        r.summary = Some(skew_ntp::result::Summary {
            best: 0,
            offset_ns: 0,
            delay_ns: 0,
            jitter_ns: 0.0,
            bound: skew_time::IntervalNs::new(-10, 10),
            utc_bound: skew_time::IntervalNs::new(-20, 20),
            consistent: true,
        });
        // 64 s at 15 ppm: 960 µs each side.
        let a = aged(&r, 64_000_000_000, 15.0);
        let s = a.summary.unwrap();
        assert_eq!((s.bound.lo_ns, s.bound.hi_ns), (-960_010, 960_010));
        assert_eq!((s.utc_bound.lo_ns, s.utc_bound.hi_ns), (-960_020, 960_020));
        assert_eq!(aged(&r, -5, 15.0).summary, r.summary);
    }

    #[test]
    fn nothing_polled_yet() {
        let s = ServerState::new("a", None, 1, 1, 4, 0);
        assert_eq!(build(&[&s], 0, 1, None, 15.0), ServersView::default());
    }
}
