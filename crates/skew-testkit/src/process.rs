//! Child processes that are stopped by their PID when dropped.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A child process that is sent SIGTERM (then SIGKILL after 3 s) when dropped.
#[derive(Debug)]
pub struct Spawned {
    child: Option<Child>,
    name: String,
}

impl Spawned {
    /// Spawns `cmd`; `name` is used in messages.
    pub fn spawn(name: &str, cmd: &mut Command) -> std::io::Result<Spawned> {
        let child = cmd.spawn()?;
        Ok(Spawned {
            child: Some(child),
            name: name.to_string(),
        })
    }

    /// The PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Mutable access to the child (for its pipes).
    pub fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("child present until drop")
    }

    /// Whether the process has exited.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(Some(_))))
    }

    /// Sends a signal to the process (by PID).
    pub fn signal(&self, sig: Signal) {
        if let Some(c) = &self.child {
            let _ = kill(Pid::from_raw(c.id() as i32), sig);
        }
    }

    /// Stops the process: SIGTERM, up to `grace` to exit, then SIGKILL. Returns the exit
    /// status.
    pub fn stop(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let t0 = Instant::now();
        while t0.elapsed() < grace {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        child.wait().ok()
    }

    /// Waits for the process to exit by itself, up to `limit`; kills it after that.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let t0 = Instant::now();
        while t0.elapsed() < limit {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        eprintln!("{} did not exit within {limit:?}; killing it", self.name);
        self.stop(Duration::from_millis(100));
        None
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

/// The path of `program` on PATH, if any.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
