//! chronyd as a real NTP peer on loopback, and chronyd's one-shot client as a reference.
//!
//! Every chronyd started here runs with `-x` (never control the system clock) and `-d`
//! (foreground, so it is our child and dies by our PID), with `cmdport 0` and its own
//! temporary directory.

use crate::ntp::{query, Answer};
use crate::ports::free_udp_port;
use crate::process::Spawned;
use skew_ntp::packet::Leap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A chronyd serving NTP on 127.0.0.1 and ::1 at [`Chronyd::port`], stopped when dropped.
#[derive(Debug)]
pub struct Chronyd {
    /// The NTP port it serves on.
    pub port: u16,
    proc: Spawned,
    dir: PathBuf,
}

/// When a started chronyd counts as ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// It answers requests.
    Answers,
    /// It answers synchronized (LI ≠ 3) at this stratum.
    SyncedAtStratum(u8),
}

impl Chronyd {
    /// A chronyd serving the local clock at stratum 8 (true offset 0).
    pub fn server() -> Chronyd {
        Self::start(&["local stratum 8"], &[], Ready::Answers).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A chronyd that follows the chronyd at `upstream_port` with `offset` seconds added
    /// (e.g. "0.25"): it serves the truth + offset at stratum 9 once synchronized. Waits
    /// until it is, then a further settling time for its estimate to converge.
    pub fn follower(upstream_port: u16, offset: &str) -> Chronyd {
        let line = format!(
            "server 127.0.0.1 port {upstream_port} iburst minpoll -6 maxpoll -6 offset {offset}"
        );
        let c =
            Self::start(&[&line], &[], Ready::SyncedAtStratum(9)).unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(1500));
        c
    }

    /// A chronyd serving the local clock at stratum 8 under libfaketime with `FAKETIME`
    /// set to `faketime` (e.g. "-2.5": serves a clock 2.5 s behind). Only whole-second-ish
    /// offsets are exact: see the README of the test harness.
    pub fn faketime(faketime: &str) -> Chronyd {
        let env = [
            ("LD_PRELOAD", crate::LIBFAKETIME),
            ("FAKETIME", faketime),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ];
        Self::start(&["local stratum 8"], &env, Ready::Answers).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts chronyd with extra config lines and environment, and waits until `ready`
    /// (at most 40 s). On failure, the error includes chronyd's log.
    pub fn start(lines: &[&str], env: &[(&str, &str)], ready: Ready) -> Result<Chronyd, String> {
        Self::start_on(free_udp_port(), lines, env, ready)
    }

    /// [`Chronyd::start`] on a given NTP port (to start a chronyd again where one was
    /// stopped).
    pub fn start_on(
        port: u16,
        lines: &[&str],
        env: &[(&str, &str)],
        ready: Ready,
    ) -> Result<Chronyd, String> {
        crate::require("chronyd");
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("skew-chronyd-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut conf = format!(
            "allow 127.0.0.0/8\nallow ::1\nbindaddress 127.0.0.1\nbindaddress ::1\nport {port}\ncmdport 0\n\
             bindcmdaddress /\npidfile {d}/chronyd.pid\ndriftfile {d}/drift\n",
            d = dir.display()
        );
        for l in lines {
            conf.push_str(l);
            conf.push('\n');
        }
        let conf_path = dir.join("chronyd.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("chronyd.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("chronyd");
        cmd.args(["-U", "-x", "-d", "-f"])
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let proc = Spawned::spawn("chronyd", &mut cmd)
            .map_err(|e| format!("cannot start chronyd: {e}"))?;
        let mut c = Chronyd { port, proc, dir };
        let t0 = Instant::now();
        loop {
            if c.proc.has_exited() {
                return Err(format!("chronyd exited at start; log:\n{}", c.log()));
            }
            let ok = match (query(c.addr_v4(), Duration::from_millis(200)), ready) {
                (Some(_), Ready::Answers) => true,
                (Some(Answer { stratum, leap }), Ready::SyncedAtStratum(s)) => {
                    stratum == s && leap != Leap::Unsynchronized
                }
                (None, _) => false,
            };
            if ok {
                return Ok(c);
            }
            if t0.elapsed() > Duration::from_secs(40) {
                return Err(format!(
                    "chronyd on port {port} not ready ({ready:?}) within 40 s; log:\n{}",
                    c.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops this chronyd and starts another on the same port with `lines` (as
    /// [`Chronyd::start`]), in a directory of its own.
    pub fn restart(&mut self, lines: &[&str], ready: Ready) -> Result<(), String> {
        self.proc.stop(Duration::from_secs(3));
        let new = Chronyd::start_on(self.port, lines, &[], ready)?;
        // The old one has stopped: dropping it only removes its directory.
        drop(std::mem::replace(self, new));
        Ok(())
    }

    /// 127.0.0.1:port.
    pub fn addr_v4(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// [::1]:port.
    pub fn addr_v6(&self) -> SocketAddr {
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, self.port))
    }

    /// "127.0.0.1:port", as a server argument.
    pub fn arg(&self) -> String {
        self.addr_v4().to_string()
    }

    /// The PID of the chronyd process.
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// chronyd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chronyd.log")).unwrap_or_default()
    }

    /// Stops chronyd now (dropping does the same).
    pub fn stop(mut self) {
        self.proc.stop(Duration::from_secs(3));
    }
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        self.proc.stop(Duration::from_secs(3));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs chrony's one-shot client (`chronyd -x -Q`, which never sets the clock) against
/// `server` (IP literal) and `port` with fast polling, and returns the offset it prints
/// (`System clock wrong by X seconds`), server − local, in seconds.
pub fn chronyd_q(server: &str, port: u16) -> Result<f64, String> {
    crate::require("chronyd");
    let directive = format!("server {server} port {port} iburst minpoll -6 maxpoll -6");
    let pid_dir = std::env::temp_dir().join(format!(
        "skew-chronyq-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&pid_dir).map_err(|e| e.to_string())?;
    let pidfile = format!("pidfile {}/q.pid", pid_dir.display());
    let out = Command::new("chronyd")
        .args([
            "-U",
            "-x",
            "-Q",
            "-t",
            "10",
            &directive,
            &pidfile,
            "cmdport 0",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run chronyd -Q: {e}"))?;
    let _ = std::fs::remove_dir_all(&pid_dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrong_by(&text).ok_or_else(|| format!("chronyd -Q printed no offset:\n{text}"))
}

/// Extracts X from "System clock wrong by X seconds".
pub fn parse_wrong_by(text: &str) -> Option<f64> {
    let i = text.find("System clock wrong by ")?;
    text[i + 22..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_chronyd_q_output() {
        let t = "2026-11-27T01:00:00Z System clock wrong by -0.000001234 seconds (ignored)\n";
        assert_eq!(super::parse_wrong_by(t), Some(-0.000001234));
        assert_eq!(super::parse_wrong_by("nothing"), None);
    }
}
