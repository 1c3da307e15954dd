//! Which rows a report uses: a time window, and optionally some hosts and servers.

/// Row selection. Empty `hosts`/`servers` select all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Rows at or after this run time (ns since the Unix epoch).
    pub since_ns: Option<i64>,
    /// Rows at or before this run time.
    pub until_ns: Option<i64>,
    /// Hosts to keep (exact names).
    pub hosts: Vec<String>,
    /// Servers to keep: a server matches by the name given to the monitor or by the
    /// address probed (`ip:port`). Rows about the host itself (agreement, clock, pause,
    /// leap) are kept whatever this says.
    pub servers: Vec<String>,
}

impl Filter {
    /// Whether a run time is inside the window.
    pub fn time_ok(&self, t_ns: i64) -> bool {
        self.since_ns.is_none_or(|s| t_ns >= s) && self.until_ns.is_none_or(|u| t_ns <= u)
    }

    /// Whether a host is selected.
    pub fn host_ok(&self, host: &[u8]) -> bool {
        self.hosts.is_empty() || self.hosts.iter().any(|h| h.as_bytes() == host)
    }

    /// Whether a server (by name or address) is selected.
    pub fn server_ok(&self, server: &[u8], address: &[u8]) -> bool {
        self.servers.is_empty()
            || self
                .servers
                .iter()
                .any(|s| s.as_bytes() == server || (!address.is_empty() && s.as_bytes() == address))
    }

    /// Whether the window is empty (since after until).
    pub fn is_empty_window(&self) -> bool {
        matches!((self.since_ns, self.until_ns), (Some(s), Some(u)) if s > u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_window_is_inclusive() {
        let f = Filter {
            since_ns: Some(10),
            until_ns: Some(20),
            ..Filter::default()
        };
        assert!(!f.time_ok(9));
        assert!(f.time_ok(10));
        assert!(f.time_ok(20));
        assert!(!f.time_ok(21));
        assert!(Filter::default().time_ok(i64::MIN));
        let open = Filter {
            since_ns: Some(10),
            ..Filter::default()
        };
        assert!(open.time_ok(i64::MAX) && !open.time_ok(9));
        assert!(Filter {
            since_ns: Some(2),
            until_ns: Some(1),
            ..Filter::default()
        }
        .is_empty_window());
    }

    #[test]
    fn servers_match_by_name_or_address() {
        let f = Filter {
            servers: vec!["ntp1.example".into(), "127.0.0.1:123".into()],
            ..Filter::default()
        };
        assert!(f.server_ok(b"ntp1.example", b"192.0.2.1:123"));
        assert!(f.server_ok(b"localhost:123", b"127.0.0.1:123"));
        assert!(!f.server_ok(b"ntp2.example", b"192.0.2.2:123"));
        assert!(!f.server_ok(b"ntp2.example", b""));
        assert!(Filter::default().server_ok(b"x", b""));
        let h = Filter {
            hosts: vec!["a".into()],
            ..Filter::default()
        };
        assert!(h.host_ok(b"a") && !h.host_ok(b"b"));
    }
}
