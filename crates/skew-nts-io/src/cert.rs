//! What the probe reports about a server's certificate: its subject and when it ends.

use x509_cert::der::Decode;
use x509_cert::Certificate;

/// The facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject as an RFC 4514 string (`CN=localhost,O=skew test`).
    pub subject: String,
    /// notAfter, Unix seconds.
    pub not_after_unix_s: i64,
}

/// Reads subject and notAfter from a DER certificate; `None` if it does not parse.
pub fn cert_facts(der: &[u8]) -> Option<CertFacts> {
    let c = Certificate::from_der(der).ok()?;
    let tbs = c.tbs_certificate();
    let end = tbs.validity().not_after.to_unix_duration();
    Some(CertFacts {
        subject: tbs.subject().to_string(),
        not_after_unix_s: i64::try_from(end.as_secs()).unwrap_or(i64::MAX),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn garbage_is_none() {
        assert_eq!(super::cert_facts(b"not a certificate"), None);
        assert_eq!(super::cert_facts(&[]), None);
    }
}
