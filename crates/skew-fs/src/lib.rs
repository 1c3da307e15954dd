//! The file edge of skew: the only two ways skew writes a file.
//!
//! * Every file skew rewrites whole — the Prometheus textfile, `skew now`'s state,
//!   `--ready-file`, report PNGs, JSON and CSV — goes through [`write_atomic`], so readers see
//!   the old file or the new one, never a part, a crash never leaves a blank file behind, and
//!   a symlink planted at the name or at a temporary name is never written through.
//! * Every file skew appends to — the drift log, `skew clocks --csv FILE` — is opened by
//!   [`open_append`], which refuses symlinks, anything but a regular file, files of other
//!   users and files with other names ([`append`]), and its first line is checked with
//!   [`header::check_header`], so its rows never land in somebody else's file.
//!
//! And one way it reads a small file of its own that others could replace (`skew now`'s
//! state): [`read_small`], which refuses FIFOs and devices instead of blocking on them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod append;
pub mod header;
pub mod read;

pub use append::{open_append, AppendError};
pub use read::{read_small, ReadError};

use std::fmt;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The step of an atomic write that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Creating the temporary file beside the destination.
    CreateTemporary,
    /// Writing the content.
    Write,
    /// Flushing the file to disk.
    Fsync,
    /// Renaming the temporary file over the destination.
    Rename,
    /// Flushing the directory entry to disk.
    FsyncDirectory,
}

impl Step {
    /// What was being done, as a verb phrase (`create a temporary file`).
    pub fn action(self) -> &'static str {
        match self {
            Step::CreateTemporary => "create a temporary file",
            Step::Write => "write",
            Step::Fsync => "fsync",
            Step::Rename => "rename the temporary file",
            Step::FsyncDirectory => "fsync the directory",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action())
    }
}

/// Why an atomic write failed: the step and the operating system's error.
#[derive(Debug, thiserror::Error)]
#[error("cannot {step}: {source}")]
pub struct AtomicWriteError {
    /// Which step failed.
    pub step: Step,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

impl From<AtomicWriteError> for std::io::Error {
    /// The underlying error (its kind and message), for callers that report `io::Error`s.
    fn from(e: AtomicWriteError) -> Self {
        e.source
    }
}

/// Replaces `path` with `bytes` atomically.
///
/// The content goes to a temporary file created exclusively (`O_EXCL`, an unpredictable
/// name, mode 0666 less the umask, as `File::create` makes it) in the destination's directory; it is
/// fsynced, renamed over `path`, and the directory is fsynced so the new name survives a
/// crash. `rename(2)` replaces a symlink at `path` itself and never writes through it. On
/// any error the temporary file is removed and `path` is left as it was. The directory must
/// exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let fail = |step| move |source| AtomicWriteError { step, source };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "skew".into(), |n| n.to_string_lossy().into_owned());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(fail(Step::CreateTemporary))?;
    tmp.write_all(bytes).map_err(fail(Step::Write))?;
    tmp.as_file().sync_all().map_err(fail(Step::Fsync))?;
    tmp.persist(path).map_err(|e| AtomicWriteError {
        step: Step::Rename,
        source: e.error,
    })?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail(Step::FsyncDirectory))
}

/// [`write_atomic`] after creating the destination's directory when it is missing.
pub fn write_atomic_creating_dir(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AtomicWriteError {
            step: Step::CreateTemporary,
            source,
        })?;
    }
    write_atomic(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("skew-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_and_leaves_no_temporary() {
        let d = dir("replace");
        let p = d.join("out.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(names(&d), ["out.txt"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn never_writes_through_a_symlink() {
        let d = dir("symlink");
        let victim = d.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let p = d.join("out");
        std::os::unix::fs::symlink(&victim, &p).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_planted_temporary_name_is_not_used() {
        // Whatever a local user plants under a predictable name is neither followed nor
        // overwritten: the temporary's name is random and created with O_EXCL.
        let d = dir("planted");
        let p = d.join("state.json");
        let elsewhere = d.join("elsewhere");
        std::fs::write(&elsewhere, b"keep").unwrap();
        for planted in [
            ".state.json.tmp",
            &format!(".state.json.tmp.{}", std::process::id()),
        ] {
            std::os::unix::fs::symlink(&elsewhere, d.join(planted)).unwrap();
        }
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert_eq!(names(&d).len(), 4, "{:?}", names(&d));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn errors_name_the_step_and_leave_the_destination() {
        let d = dir("errors");
        let e = write_atomic(&d.join("missing/dir/r.png"), b"x").unwrap_err();
        assert_eq!(e.step, Step::CreateTemporary);
        assert!(
            e.to_string().contains("cannot create a temporary file"),
            "{e}"
        );
        // A directory in the way of the rename.
        let p = d.join("a-directory");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("inside"), b"x").unwrap();
        let e = write_atomic(&p, b"x").unwrap_err();
        assert_eq!(e.step, Step::Rename, "{e}");
        assert_eq!(names(&d), ["a-directory"], "temporary removed");
        // The directory is created on request.
        let q = d.join("new/dir/f");
        write_atomic_creating_dir(&q, b"y").unwrap();
        assert_eq!(std::fs::read(&q).unwrap(), b"y");
        // Readable by others as `File::create` would make it (node_exporter reads the
        // textfile as another user).
        let plain = d.join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&q), mode(&plain));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
