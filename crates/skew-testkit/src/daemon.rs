//! Our own `skew serve` and `skew proxy` as real peers: started as child processes with
//! `--ready-file`, waited for without sleeps (the file appears once every address is
//! bound), stopped by PID, with their statistics collected.

use crate::process::Spawned;
use nix::sys::signal::Signal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A running `skew serve` or `skew proxy`, stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct SkewDaemon {
    proc: Spawned,
    dir: PathBuf,
    addrs: Vec<SocketAddr>,
}

/// What a stopped daemon printed.
#[derive(Debug, Clone)]
pub struct DaemonOutput {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output: the `listening on` lines, then the `--stats-json` report if asked.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl DaemonOutput {
    /// The JSON statistics report on stdout (after the `listening on` lines), if any.
    pub fn stats(&self) -> Option<String> {
        let i = self.stdout.find('{')?;
        Some(self.stdout[i..].to_string())
    }
}

impl SkewDaemon {
    /// `skew serve --listen 127.0.0.1:0 ARGS` with the `skew` binary at `bin`.
    pub fn serve(bin: &Path, args: &[&str]) -> SkewDaemon {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Self::start(bin, &all).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `skew proxy --listen 127.0.0.1:0 --upstream UPSTREAM ARGS`.
    pub fn proxy(bin: &Path, upstream: &str, args: &[&str]) -> SkewDaemon {
        let mut all = vec!["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream];
        all.extend_from_slice(args);
        Self::start(bin, &all).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `bin ARGS --ready-file F` and waits (at most 20 s) until F lists the bound
    /// addresses. On failure the error carries the daemon's output.
    pub fn start(bin: &Path, args: &[&str]) -> Result<SkewDaemon, String> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("skew-daemon-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ready = dir.join("ready");
        let out = std::fs::File::create(dir.join("stdout")).map_err(|e| e.to_string())?;
        let err = std::fs::File::create(dir.join("stderr")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let proc = Spawned::spawn("skew", &mut cmd)
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut d = SkewDaemon {
            proc,
            dir,
            addrs: vec![],
        };
        let t0 = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                d.addrs = skew_fault_io::ready::parse(&text);
                if !d.addrs.is_empty() {
                    return Ok(d);
                }
            }
            if d.proc.has_exited() || t0.elapsed() > Duration::from_secs(20) {
                let o = d.collect();
                return Err(format!(
                    "skew {args:?} did not become ready (exit {}):\nstdout:\n{}\nstderr:\n{}",
                    o.code, o.stdout, o.stderr
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The bound addresses, in the order given.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The first bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The first bound port.
    pub fn port(&self) -> u16 {
        self.addrs[0].port()
    }

    /// The first address as a server argument (`127.0.0.1:PORT`).
    pub fn arg(&self) -> String {
        self.addr().to_string()
    }

    /// The PID.
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    fn collect(&mut self) -> DaemonOutput {
        let status = self.proc.stop(Duration::from_secs(5));
        DaemonOutput {
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default(),
            stderr: std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default(),
        }
    }

    /// Sends SIGTERM, waits for the exit and returns what it printed.
    pub fn stop(mut self) -> DaemonOutput {
        self.proc.signal(Signal::SIGTERM);
        self.collect()
    }

    /// Waits (at most `limit`) for the daemon to stop by itself (`--max-seconds`,
    /// `--max-requests`) and returns what it printed; `None` if it had to be killed.
    pub fn wait(mut self, limit: Duration) -> Option<DaemonOutput> {
        let status = self.proc.wait_timeout(limit)?;
        Some(DaemonOutput {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default(),
            stderr: std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default(),
        })
    }
}

impl Drop for SkewDaemon {
    fn drop(&mut self) {
        self.proc.stop(Duration::from_secs(3));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
