//! `/probe?target=HOST[:PORT]&samples=N`: one probe now, as blackbox_exporter answers
//! Prometheus's multi-target pattern. The query rules and the per-address pacing are pure;
//! [`run_probe`] does the probing (blocking: call it off the HTTP thread).

use crate::config::{is_local_address, ExporterConfig, MAX_PROBE_SAMPLES};
use crate::render::probe_text;
use skew_ntp::select::{select_answered, select_servers, AgreementRecord};
use skew_ntp::ProbeConfig;
use skew_ntp_io::target::{parse_server, resolve};
use skew_ntp_io::{run_probes, EngineConfig, SystemClock, Target};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A `/probe` request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeQuery {
    /// The target as given.
    pub target: String,
    /// Requests to send.
    pub samples: u32,
}

/// Why a request is refused, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status code.
    pub status: u16,
    /// Why, as text.
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

/// Decodes `%XX` and `+` in a query component.
fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parses the query string of `/probe`: `target` is required, `samples` (1 to 16) is 1 when
/// absent; unknown parameters (Prometheus adds none, blackbox's `module` is accepted) are
/// ignored.
pub fn parse_query(query: Option<&str>) -> Result<ProbeQuery, Refusal> {
    let mut target = None;
    let mut samples = 1u32;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = unescape(v).ok_or_else(|| refuse(400, format!("bad escape in {k}")))?;
        match k {
            "target" => target = Some(v),
            "samples" => {
                samples = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_PROBE_SAMPLES).contains(n))
                    .ok_or_else(|| {
                        refuse(400, format!("samples must be 1 to {MAX_PROBE_SAMPLES}"))
                    })?
            }
            _ => {}
        }
    }
    let target = target
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| refuse(400, "target parameter is missing"))?;
    parse_server(&target).map_err(|e| refuse(400, format!("target {target}: {e}")))?;
    Ok(ProbeQuery { target, samples })
}

/// Fewer samples when a scrape timeout (Prometheus's `X-Prometheus-Scrape-Timeout-Seconds`)
/// would cut the probe short: (samples − 1) × interval + timeout must end half a second
/// before it. At least one sample is always sent.
pub fn fit_samples(
    samples: u32,
    interval: Duration,
    timeout: Duration,
    scrape_timeout: Option<f64>,
) -> u32 {
    let Some(limit) = scrape_timeout.filter(|t| t.is_finite() && *t > 0.0) else {
        return samples;
    };
    let budget = limit - 0.5 - timeout.as_secs_f64();
    if budget <= 0.0 || interval.is_zero() {
        return 1;
    }
    let extra = (budget / interval.as_secs_f64()).floor() as u32;
    samples.min(extra.saturating_add(1)).max(1)
}

/// Per-address pacing of `/probe`: a public address is probed at most once per
/// `min_gap`, whoever asks (the exporter must not be a way to flood someone else's server).
#[derive(Debug, Default)]
pub struct Pacing {
    last: HashMap<IpAddr, Instant>,
}

impl Pacing {
    /// Records a probe of `ip` at `now` unless the previous one was less than `min_gap` ago
    /// (loopback and private addresses are not paced here). Old entries are forgotten.
    pub fn admit(&mut self, ip: IpAddr, now: Instant, min_gap: Duration) -> bool {
        if is_local_address(ip) {
            return true;
        }
        if self.last.len() > 4096 {
            self.last
                .retain(|_, t| now.saturating_duration_since(*t) < min_gap);
        }
        match self.last.get(&ip) {
            Some(t) if now.saturating_duration_since(*t) < min_gap => false,
            _ => {
                self.last.insert(ip, now);
                true
            }
        }
    }
}

/// Probes the target now and returns the metrics text, or why not. Blocks for up to
/// (samples − 1) × interval + timeout, plus name resolution.
pub fn run_probe(
    q: &ProbeQuery,
    config: &ExporterConfig,
    precision_ns: i64,
    pacing: &std::sync::Mutex<Pacing>,
    scrape_timeout: Option<f64>,
) -> Result<String, Refusal> {
    let t0 = Instant::now();
    let spec = parse_server(&q.target).map_err(|e| refuse(400, e.to_string()))?;
    let resolved = resolve(&spec, config.family, false);
    let address = match resolved.addresses.as_ref().map(|a| a.first().copied()) {
        Ok(Some(a)) => a,
        Ok(None) | Err(_) => {
            // An unresolvable target is a failed probe, not a bad request (as blackbox).
            let why = resolved
                .addresses
                .err()
                .unwrap_or_else(|| "no address".into());
            let r =
                skew_ntp::ServerResult::failed(&q.target, None, skew_ntp::Status::Unresolved, why);
            let rec = r.record();
            let agreement = AgreementRecord::from(&select_servers(&[r], 1));
            return Ok(probe_text(&[rec], &agreement, t0.elapsed().as_secs_f64()));
        }
    };
    let interval = config.probe_interval_for(address.ip());
    let admitted = pacing.lock().unwrap_or_else(|e| e.into_inner()).admit(
        address.ip(),
        Instant::now(),
        crate::config::PUBLIC_PROBE_INTERVAL,
    );
    if !admitted {
        return Err(refuse(
            429,
            format!("{address} was probed less than 2 s ago (public servers ask for at most one request per 2 s)"),
        ));
    }
    let samples = fit_samples(q.samples, interval, config.timeout, scrape_timeout);
    let mut probe = ProbeConfig {
        samples,
        interval_ns: skew_time::duration_ns(interval),
        timeout_ns: skew_time::duration_ns(config.timeout),
        ..ProbeConfig::default()
    };
    probe.bounds.local_precision_ns = precision_ns;
    probe.bounds.max_drift_ppm = config.max_drift_ppm;
    let engine = EngineConfig {
        probe,
        max_inflight: 16,
    };
    let targets = [Target::plain(&q.target, address)];
    let (results, _) = run_probes(&targets, &engine, &SystemClock);
    let agreement = select_answered(&results, None);
    let records: Vec<_> = results
        .iter()
        .zip(&agreement.verdicts)
        .map(|(r, v)| {
            let mut rec = r.record();
            rec.truechimer = Some(v.unwrap_or(false));
            rec
        })
        .collect();
    Ok(probe_text(
        &records,
        &AgreementRecord::from(&agreement),
        t0.elapsed().as_secs_f64(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        assert_eq!(
            parse_query(Some("target=127.0.0.1%3A123&samples=4&module=ntp")),
            Ok(ProbeQuery {
                target: "127.0.0.1:123".into(),
                samples: 4
            })
        );
        assert_eq!(parse_query(Some("target=[::1]:5")).unwrap().samples, 1);
        for bad in [
            None,
            Some(""),
            Some("samples=2"),
            Some("target="),
            Some("target=a&samples=0"),
            Some("target=a&samples=17"),
            Some("target=a&samples=x"),
            Some("target=%zz"),
            Some("target=[::1"),
        ] {
            assert_eq!(parse_query(bad).unwrap_err().status, 400, "{bad:?}");
        }
    }

    #[test]
    fn samples_fit_the_scrape_timeout() {
        let s = Duration::from_secs;
        assert_eq!(fit_samples(4, s(2), s(1), None), 4);
        // 10 s scrape timeout: 10 − 0.5 − 1 = 8.5 s leaves 4 intervals: 5 samples at most.
        assert_eq!(fit_samples(16, s(2), s(1), Some(10.0)), 5);
        assert_eq!(fit_samples(3, s(2), s(1), Some(10.0)), 3);
        assert_eq!(fit_samples(4, s(2), s(1), Some(1.0)), 1);
        assert_eq!(fit_samples(4, s(2), s(1), Some(f64::NAN)), 4);
    }

    #[test]
    fn public_addresses_are_paced() {
        let mut p = Pacing::default();
        let t = Instant::now();
        let gap = Duration::from_secs(2);
        let public: IpAddr = "192.0.2.1".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(p.admit(public, t, gap));
        assert!(!p.admit(public, t + Duration::from_secs(1), gap));
        assert!(p.admit(public, t + Duration::from_secs(2), gap));
        assert!(p.admit(local, t, gap) && p.admit(local, t, gap));
    }
}
