//! Readers of the signals behind a snapshot: the detector thread's schedstat, steal time
//! from `/proc/stat`, the VMClock page and a VM generation ID file.
//!
//! Files that are read often stay open and are re-read with `pread` at offset 0 (procfs
//! regenerates them); the VM marker files are opened at each read, so a device that appears
//! later, or a test that rewrites a fake, is seen.
#![forbid(unsafe_code)]

use super::clocks::mono_ns;
use crate::procfs::{digest, parse_schedstat, parse_steal_ns, parse_vmclock, VMCLOCK_HEADER_LEN};
use crate::report::Sources;
use crate::snapshot::ThreadSched;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Reads the whole of `file` from offset 0 into `buf` (`pread`, no seek).
fn read_all_at(file: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = file.read_at(&mut chunk, buf.len() as u64)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            return Ok(());
        }
    }
}

/// The readers; open them on the thread whose schedstat is wanted.
#[derive(Debug)]
pub struct SignalReaders {
    schedstat: Option<File>,
    stat: Option<File>,
    ticks_per_s: i64,
    vmclock_path: Option<PathBuf>,
    vmgenid_path: Option<PathBuf>,
    buf: Vec<u8>,
}

impl SignalReaders {
    /// Opens the readers for the calling thread.
    pub fn open(vmclock_path: Option<&Path>, vmgenid_path: Option<&Path>) -> Self {
        let schedstat = File::open("/proc/thread-self/schedstat")
            .or_else(|_| {
                File::open(format!(
                    "/proc/self/task/{}/schedstat",
                    nix::unistd::gettid()
                ))
            })
            .ok();
        let ticks_per_s = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .unwrap_or(100) as i64;
        SignalReaders {
            schedstat,
            stat: File::open("/proc/stat").ok(),
            ticks_per_s,
            vmclock_path: vmclock_path.map(Path::to_path_buf),
            vmgenid_path: vmgenid_path.map(Path::to_path_buf),
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Which signals can be read now.
    pub fn sources(&mut self) -> Sources {
        Sources {
            schedstat: self.thread().is_some(),
            steal: self.steal().is_some(),
            vmclock: self.vmclock_marker().is_some(),
            vmgenid: self.vmgenid_digest().is_some(),
        }
    }

    /// The thread's CPU time and run-delay.
    pub fn thread(&mut self) -> Option<ThreadSched> {
        let f = self.schedstat.as_ref()?;
        read_all_at(f, &mut self.buf).ok()?;
        parse_schedstat(std::str::from_utf8(&self.buf).ok()?, mono_ns())
    }

    /// Steal time per CPU, ns.
    pub fn steal(&mut self) -> Option<Vec<i64>> {
        let f = self.stat.as_ref()?;
        read_all_at(f, &mut self.buf).ok()?;
        parse_steal_ns(std::str::from_utf8(&self.buf).ok()?, self.ticks_per_s)
    }

    /// The VMClock disruption marker (retried while the host is updating the page).
    pub fn vmclock_marker(&self) -> Option<u64> {
        let f = File::open(self.vmclock_path.as_ref()?).ok()?;
        for _ in 0..8 {
            let mut b = [0u8; VMCLOCK_HEADER_LEN];
            let n = f.read_at(&mut b, 0).ok()?;
            match parse_vmclock(&b[..n]) {
                Ok(h) => return Some(h.disruption_marker),
                Err(crate::procfs::VmClockError::Updating) => std::thread::yield_now(),
                Err(_) => return None,
            }
        }
        None
    }

    /// A digest of the VM generation ID file.
    pub fn vmgenid_digest(&self) -> Option<u64> {
        let f = File::open(self.vmgenid_path.as_ref()?).ok()?;
        let mut b = [0u8; 256];
        let n = f.read_at(&mut b, 0).ok()?;
        Some(digest(&b[..n]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_thread_and_the_machine() {
        let mut r = SignalReaders::open(None, None);
        let a = r.thread().expect("schedstat readable");
        // Burn a little CPU: this thread's CPU time grows, read again via pread.
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while t0.elapsed() < std::time::Duration::from_millis(20) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
        let b = r.thread().unwrap();
        assert!(b.cpu_ns > a.cpu_ns + 5_000_000, "{a:?} {b:?}");
        let steal = r.steal().expect("/proc/stat has steal");
        assert!(!steal.is_empty() && steal.iter().all(|&s| s >= 0));
        let s = r.sources();
        assert!(s.schedstat && s.steal && !s.vmgenid);
    }

    #[test]
    fn fake_markers() {
        let dir = std::env::temp_dir().join(format!("skew-pause-readers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vmc = dir.join("vmclock");
        let gen = dir.join("vmgenid");
        std::fs::write(&vmc, crate::procfs::vmclock_bytes(7, 2)).unwrap();
        std::fs::write(&gen, b"0123456789abcdef").unwrap();
        let r = SignalReaders::open(Some(&vmc), Some(&gen));
        assert_eq!(r.vmclock_marker(), Some(7));
        let d1 = r.vmgenid_digest().unwrap();
        std::fs::write(&vmc, crate::procfs::vmclock_bytes(8, 4)).unwrap();
        std::fs::write(&gen, b"fedcba9876543210").unwrap();
        assert_eq!(r.vmclock_marker(), Some(8));
        assert_ne!(r.vmgenid_digest().unwrap(), d1);
        std::fs::write(&vmc, b"garbage").unwrap();
        assert_eq!(r.vmclock_marker(), None);
        let missing = SignalReaders::open(Some(Path::new("/nonexistent/vmclock0")), None);
        assert_eq!(missing.vmclock_marker(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
