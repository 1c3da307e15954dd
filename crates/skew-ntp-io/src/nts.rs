//! The NTS half of a run: key exchanges first (concurrently), then the NTP targets they
//! name, each carrying its session; failed exchanges become `nts-ke-failed` results.

use crate::engine::Target;
use crate::target::{parse_server_with_port, resolve, resolve_all, Family, ServerSpec, SpecError};
use skew_ntp::nts::ke::DEFAULT_KE_PORT;
use skew_ntp::nts::keeper::KeFailureNote;
use skew_ntp::nts::{Aead, KeFacts, NtsReport, NtsSession};
use skew_ntp::{Security, ServerResult, Status};
use skew_nts_io::{key_exchange, key_exchange_all, KeConfig, KeTarget, TrustAnchors, TrustError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The deadline of each key exchange unless told otherwise (`--nts-ke-timeout`).
pub const DEFAULT_KE_TIMEOUT: Duration = Duration::from_secs(5);
/// The key exchange deadlines a run accepts: 1 ms to 10 min.
pub const KE_TIMEOUT_RANGE: skew_time::DurationRange =
    skew_time::DurationRange::new(1_000_000, 600_000_000_000);

/// How to run NTS (`--nts`).
#[derive(Debug, Clone, PartialEq)]
pub struct NtsOptions {
    /// PEM files whose certificates are trusted besides the system's roots (`--nts-ca`).
    pub ca_files: Vec<PathBuf>,
    /// Leave out the system's roots (tests; there is no command-line switch for it).
    pub no_system_roots: bool,
    /// AEAD algorithms offered, in order of preference (`--nts-aead`).
    pub offer: Vec<Aead>,
    /// Deadline of each key exchange (`--nts-ke-timeout`).
    pub ke_timeout: Duration,
}

impl Default for NtsOptions {
    fn default() -> Self {
        NtsOptions {
            ca_files: vec![],
            no_system_roots: false,
            offer: Aead::ALL.to_vec(),
            ke_timeout: DEFAULT_KE_TIMEOUT,
        }
    }
}

impl NtsOptions {
    /// The options a command line or a configuration gives: CA files, the AEADs in order of
    /// preference (repeats dropped; none given: [`Aead::ALL`]) and the key exchange's
    /// deadline (none given: [`DEFAULT_KE_TIMEOUT`]). `None` when the deadline is zero.
    pub fn new(
        ca_files: Vec<PathBuf>,
        preference: &[Aead],
        ke_timeout: Option<Duration>,
    ) -> Option<NtsOptions> {
        let ke_timeout = ke_timeout.unwrap_or(DEFAULT_KE_TIMEOUT);
        if ke_timeout.is_zero() {
            return None;
        }
        let mut offer: Vec<Aead> = Vec::new();
        for a in preference {
            if !offer.contains(a) {
                offer.push(*a);
            }
        }
        if offer.is_empty() {
            offer = Aead::ALL.to_vec();
        }
        Some(NtsOptions {
            ca_files,
            no_system_roots: false,
            offer,
            ke_timeout,
        })
    }

    /// The trust anchors: the system's roots (unless left out) and the CA files.
    pub fn anchors(&self) -> Result<TrustAnchors, TrustError> {
        if self.no_system_roots {
            TrustAnchors::from_files(&self.ca_files)
        } else {
            TrustAnchors::load(&self.ca_files)
        }
    }

    /// The settings of each key exchange: `anchors`, the AEADs offered, the deadline.
    pub fn ke_config(&self, anchors: &TrustAnchors) -> KeConfig {
        KeConfig {
            roots: Arc::new(anchors.store.clone()),
            offer: self.offer.clone(),
            timeout: self.ke_timeout,
        }
    }
}

/// One key exchange for a session kept across runs (`skew exporter`): the exchange with the
/// NTS-KE server `spec` (its name is checked against the certificate) at `addresses`, tried
/// in order, then the NTP server it names, resolved to its first address of `family`. A
/// name that does not resolve fails with the step `unresolved`.
pub fn establish(
    spec: &ServerSpec,
    addresses: &[SocketAddr],
    config: &KeConfig,
    family: Family,
) -> Result<(NtsSession, SocketAddr), KeFailureNote> {
    let ok = key_exchange(&spec.host, addresses, spec.port, config).map_err(|e| KeFailureNote {
        step: e.kind.as_str(),
        message: e.to_string(),
        facts: e.facts,
    })?;
    let ntp = ServerSpec {
        text: spec.text.clone(),
        host: ok.ntp_host.clone(),
        port: ok.ntp_port,
    };
    match resolve(&ntp, family, false)
        .addresses
        .and_then(|a| a.first().copied().ok_or_else(|| "no address".into()))
    {
        Ok(address) => Ok((ok.session, address)),
        Err(e) => Err(KeFailureNote {
            step: "unresolved",
            message: format!("the NTP server named by the key exchange: {e}"),
            facts: Box::new(ok.session.facts().clone()),
        }),
    }
}

/// Parses an NTS server argument: `host` or `host:port`, port 4460 unless given.
pub fn parse_nts_server(text: &str) -> Result<ServerSpec, SpecError> {
    parse_server_with_port(text, DEFAULT_KE_PORT)
}

/// A result for an NTS server whose key exchange (or its NTP name) failed.
fn failed(server: &str, status: Status, error: String, facts: KeFacts) -> ServerResult {
    let mut r = ServerResult::failed(server, None, status, error);
    r.nts = Some(Box::new(NtsReport {
        ke: facts,
        authenticated: false,
        dropped_unauthenticated: 0,
    }));
    r
}

/// What the key exchanges produced: NTP targets (each with its session), and finished
/// results for the servers that cannot be probed, each at the position of its argument.
pub struct NtsPlan {
    /// For each argument, its targets' indices or its failed result.
    pub slots: Vec<Result<Vec<usize>, ServerResult>>,
    /// The NTP targets.
    pub targets: Vec<Target>,
}

/// Runs the key exchanges for `specs` (already parsed), then resolves the NTP servers they
/// name.
pub fn plan(
    specs: &[ServerSpec],
    opts: &NtsOptions,
    anchors: &TrustAnchors,
    family: Family,
    all_addresses: bool,
) -> NtsPlan {
    let resolved = resolve_all(specs, family, true, 16);
    let config = opts.ke_config(anchors);
    let mut ke_targets = Vec::new();
    let mut pre: Vec<Option<ServerResult>> = Vec::new();
    for r in &resolved {
        match &r.addresses {
            Ok(a) => {
                ke_targets.push(KeTarget {
                    name: r.spec.host.clone(),
                    addresses: a.clone(),
                    port: r.spec.port,
                });
                pre.push(None);
            }
            Err(e) => {
                let facts = KeFacts {
                    ke_server: r.spec.host.clone(),
                    ke_port: r.spec.port,
                    ..KeFacts::default()
                };
                pre.push(Some(failed(
                    &r.spec.text,
                    Status::Unresolved,
                    e.clone(),
                    facts,
                )));
            }
        }
    }
    let mut outcomes = key_exchange_all(&ke_targets, &config, 16).into_iter();
    // Resolve the NTP servers the exchanges named.
    let mut sessions = Vec::new();
    let mut ntp_specs = Vec::new();
    let mut slots: Vec<Result<Vec<usize>, ServerResult>> = Vec::new();
    let mut pending = Vec::new(); // (slot, index into ntp_specs)
    for (r, p) in resolved.iter().zip(pre) {
        if let Some(f) = p {
            slots.push(Err(f));
            continue;
        }
        match outcomes.next() {
            Some(Ok(ok)) => {
                pending.push((slots.len(), ntp_specs.len()));
                ntp_specs.push(ServerSpec {
                    text: r.spec.text.clone(),
                    host: ok.ntp_host.clone(),
                    port: ok.ntp_port,
                });
                sessions.push(ok.session);
                slots.push(Ok(vec![]));
            }
            Some(Err(e)) => slots.push(Err(failed(
                &r.spec.text,
                Status::NtsKeFailed,
                e.to_string(),
                *e.facts,
            ))),
            None => slots.push(Err(failed(
                &r.spec.text,
                Status::NtsKeFailed,
                "no key exchange was run".into(),
                KeFacts::default(),
            ))),
        }
    }
    let ntp = resolve_all(&ntp_specs, family, all_addresses, 16);
    let mut targets = Vec::new();
    for ((slot, k), res) in pending.into_iter().zip(ntp) {
        let session = &sessions[k];
        match res.addresses {
            Ok(addrs) => {
                let mut idx = Vec::new();
                for a in addrs {
                    idx.push(targets.len());
                    targets.push(Target {
                        server: res.spec.text.clone(),
                        address: a,
                        security: Security::Nts(Box::new(session.clone())),
                    });
                }
                slots[slot] = Ok(idx);
            }
            Err(e) => {
                slots[slot] = Err(failed(
                    &res.spec.text,
                    Status::Unresolved,
                    format!("the NTP server named by the key exchange: {e}"),
                    session.facts().clone(),
                ));
            }
        }
    }
    NtsPlan { slots, targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_settings() {
        let o = NtsOptions::new(vec![], &[], None).unwrap();
        assert_eq!(o, NtsOptions::default());
        let o = NtsOptions::new(
            vec![PathBuf::from("ca.pem")],
            &[Aead::AesSivCmac256, Aead::AesSivCmac256, Aead::AesGcmSiv128],
            Some(Duration::from_millis(300)),
        )
        .unwrap();
        assert_eq!(o.offer, vec![Aead::AesSivCmac256, Aead::AesGcmSiv128]);
        assert_eq!(o.ke_timeout, Duration::from_millis(300));
        assert_eq!(o.ca_files, vec![PathBuf::from("ca.pem")]);
        assert!(NtsOptions::new(vec![], &[], Some(Duration::ZERO)).is_none());
    }

    #[test]
    fn establish_says_which_step_failed() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = NtsOptions {
            ke_timeout: Duration::from_secs(2),
            ..NtsOptions::default()
        };
        let config = opts.ke_config(&opts.anchors().unwrap());
        let spec = parse_nts_server(&format!("127.0.0.1:{port}")).unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let e = establish(&spec, &[addr], &config, Family::Any).unwrap_err();
        assert_eq!(e.step, "tcp", "{e:?}");
        assert!(e.message.contains("(tcp)"), "{}", e.message);
        assert_eq!(e.facts.ke_port, port);
    }
}
