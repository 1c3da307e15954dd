//! What a probe says about a server's NTS: the key exchange's facts and the samples'
//! authentication, in integers inside and as the documented JSON object outside.

use crate::nts::aead::Aead;
use serde::{Deserialize, Serialize};
use skew_time::ns_to_s;

/// What the key exchange learned (filled by the TLS edge, partly when it failed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeFacts {
    /// The NTS-KE server as named (host name or address).
    pub ke_server: String,
    /// Its TCP port.
    pub ke_port: u16,
    /// The NTP server to use: the server's NTPv4 Server record, else the KE host.
    pub ntp_server: Option<String>,
    /// The NTP port to use: the server's NTPv4 Port record, else 123.
    pub ntp_port: Option<u16>,
    /// The TLS version negotiated (`TLSv1.3`).
    pub tls_version: Option<String>,
    /// The AEAD algorithm negotiated.
    pub aead: Option<Aead>,
    /// Cookies the key exchange returned.
    pub cookies: usize,
    /// Length of the first of them, bytes.
    pub cookie_bytes: Option<usize>,
    /// Duration of the key exchange (TCP connect to the end of the response), ns.
    pub ke_duration_ns: Option<i64>,
    /// The server certificate's subject (RFC 4514 string).
    pub cert_subject: Option<String>,
    /// The server certificate's notAfter, Unix seconds.
    pub cert_not_after_unix_s: Option<i64>,
    /// Local time when the certificate was checked, Unix ns.
    pub checked_at_unix_ns: Option<i64>,
}

impl KeFacts {
    /// Seconds from the check to the certificate's end (negative once expired).
    pub fn cert_seconds_left(&self) -> Option<i64> {
        let end = self.cert_not_after_unix_s?;
        let at = self.checked_at_unix_ns?;
        Some(end.saturating_sub(at.div_euclid(1_000_000_000)))
    }
}

/// The NTS part of a server's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NtsReport {
    /// What the key exchange learned.
    pub ke: KeFacts,
    /// True only when samples were taken and every one was authenticated.
    pub authenticated: bool,
    /// Replies dropped because they did not authenticate (or were not NTS at all).
    pub dropped_unauthenticated: u64,
}

/// The JSON object `nts` of a probe record: exactly the documented keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtsView {
    /// The NTS-KE server as named.
    pub ke_server: String,
    /// Its TCP port.
    pub ke_port: u16,
    /// The NTP server used (null when the key exchange failed).
    pub ntp_server: Option<String>,
    /// The NTP port used.
    pub ntp_port: Option<u16>,
    /// `TLSv1.3`.
    pub tls_version: Option<String>,
    /// `AES-SIV-CMAC-256` or `AES-128-GCM-SIV`.
    pub aead: Option<Aead>,
    /// Cookies the key exchange returned.
    pub cookies: usize,
    /// Their length, bytes.
    pub cookie_bytes: Option<usize>,
    /// Key exchange duration, s.
    pub ke_duration_s: Option<f64>,
    /// Certificate subject.
    pub cert_subject: Option<String>,
    /// Certificate notAfter, RFC 3339 UTC.
    pub cert_not_after: Option<String>,
    /// Days from the check to notAfter (negative once expired).
    pub cert_days_left: Option<f64>,
    /// True only when every sample used was authenticated.
    pub authenticated: bool,
    /// Replies dropped as unauthenticated.
    pub dropped_unauthenticated: u64,
}

impl NtsView {
    /// The certificate's notAfter (`cert_not_after`) read back as Unix seconds, for the
    /// metrics.
    pub fn cert_not_after_unix_s(&self) -> Option<i64> {
        let t = self.cert_not_after.as_deref()?;
        skew_time::rfc3339::parse_ns(t.as_bytes()).map(|ns| ns.div_euclid(skew_time::NANOS_PER_SEC))
    }
}

impl From<&NtsReport> for NtsView {
    fn from(r: &NtsReport) -> Self {
        let k = &r.ke;
        NtsView {
            ke_server: k.ke_server.clone(),
            ke_port: k.ke_port,
            ntp_server: k.ntp_server.clone(),
            ntp_port: k.ntp_port,
            tls_version: k.tls_version.clone(),
            aead: k.aead,
            cookies: k.cookies,
            cookie_bytes: k.cookie_bytes,
            ke_duration_s: k.ke_duration_ns.map(ns_to_s),
            cert_subject: k.cert_subject.clone(),
            cert_not_after: k.cert_not_after_unix_s.map(skew_time::rfc3339::format_secs),
            cert_days_left: k
                .cert_seconds_left()
                .map(|s| (s as f64 / 86_400.0 * 1000.0).round() / 1000.0),
            authenticated: r.authenticated,
            dropped_unauthenticated: r.dropped_unauthenticated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_keys_and_values() {
        let r = NtsReport {
            ke: KeFacts {
                ke_server: "127.0.0.1".into(),
                ke_port: 4460,
                ntp_server: Some("127.0.0.1".into()),
                ntp_port: Some(11123),
                tls_version: Some("TLSv1.3".into()),
                aead: Some(Aead::AesGcmSiv128),
                cookies: 8,
                cookie_bytes: Some(100),
                ke_duration_ns: Some(3_500_000),
                cert_subject: Some("CN=localhost".into()),
                cert_not_after_unix_s: Some(1_798_761_600), // 2027-01-01T00:00:00Z
                checked_at_unix_ns: Some(1_798_761_600_000_000_000 - 86_400_000_000_000 * 3 / 2),
            },
            authenticated: true,
            dropped_unauthenticated: 2,
        };
        let v = serde_json::to_value(NtsView::from(&r)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut expected = vec![
            "ke_server",
            "ke_port",
            "ntp_server",
            "ntp_port",
            "tls_version",
            "aead",
            "cookies",
            "cookie_bytes",
            "ke_duration_s",
            "cert_subject",
            "cert_not_after",
            "cert_days_left",
            "authenticated",
            "dropped_unauthenticated",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected);
        assert_eq!(v["aead"], "AES-128-GCM-SIV");
        assert_eq!(v["cert_not_after"], "2027-01-01T00:00:00Z");
        assert_eq!(v["cert_days_left"], 1.5);
        assert_eq!(v["ke_duration_s"], 0.0035);
        let back: NtsView = serde_json::from_value(v).unwrap();
        assert_eq!(back, NtsView::from(&r));
        // Expired: negative days.
        let mut e = r.clone();
        e.ke.checked_at_unix_ns = Some(1_798_761_600_000_000_000 + 86_400_000_000_000);
        assert_eq!(NtsView::from(&e).cert_days_left, Some(-1.0));
        let empty = NtsView::from(&NtsReport::default());
        assert_eq!(empty.cert_days_left, None);
        assert_eq!(empty.aead, None);
    }
}
