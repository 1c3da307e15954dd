//! Opening a file that skew appends to (the drift log, `skew clocks --csv FILE`) without
//! being tricked into writing somewhere else.
//!
//! A file skew appends to lives where the user says, often in a directory other users can
//! write (a shared log directory, `/tmp`), and skew often runs as root from cron. Issue 14.1:
//! `--log` appended through a symlink planted there, and created the target of a dangling
//! one. [`open_append`] opens the last component with `O_NOFOLLOW` (a symlink, dangling or
//! not, is refused and nothing is created through it) and `O_NONBLOCK` (a FIFO planted there
//! cannot make the open hang), then refuses, by `fstat` of what was opened (no race with a
//! rename), anything but a regular file with one link owned by the running user or root.

use rustix::fs::{FileType, Mode, OFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Why a file to append to was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The path is a symbolic link (dangling or not): it is neither followed nor created
    /// through.
    #[error(
        "{path}: is a symbolic link; refusing to follow it (a link where skew writes could send a root-run skew's rows into another file): give the real path"
    )]
    Symlink {
        /// The path.
        path: PathBuf,
    },
    /// The path is not a regular file (a FIFO, a device, a directory, a socket).
    #[error("{path}: is a {kind}, not a regular file; refusing to append to it")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The file belongs to another user (who could have planted it, or could change it
    /// between runs).
    #[error(
        "{path}: is owned by uid {owner}, not by this user (uid {me}) or root; refusing to append to it (move it away or chown it)"
    )]
    Owner {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The running user.
        me: u32,
    },
    /// The file has other names (a hard link to it can be any file of the same owner).
    #[error("{path}: has {links} hard links; refusing to append to a file that has other names")]
    Links {
        /// The path.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// The operating system refused.
    #[error("{path}: cannot open for appending: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl From<AppendError> for std::io::Error {
    /// The message as an `io::Error` (its kind: `PermissionDenied` for a refusal).
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Io { source, .. } => source,
            other => std::io::Error::new(std::io::ErrorKind::PermissionDenied, other.to_string()),
        }
    }
}

fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::RegularFile => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "file of an unknown type",
    }
}

/// Opens `path` for reading and appending, creating it (mode 0666 less the umask) when
/// `create` and it is missing, and refuses it unless it is a regular file with one link
/// owned by the running user or by root (see the module's documentation). The directory
/// must exist.
pub fn open_append(path: &Path, create: bool) -> Result<File, AppendError> {
    let io = |source: std::io::Error| AppendError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut flags =
        OFlags::RDWR | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if create {
        flags |= OFlags::CREATE;
    }
    let fd = match rustix::fs::open(path, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => {
            return Err(AppendError::Symlink {
                path: path.to_path_buf(),
            })
        }
        // A socket cannot be opened; a directory cannot be opened for writing.
        Err(rustix::io::Errno::NXIO) => {
            return Err(AppendError::NotRegular {
                path: path.to_path_buf(),
                kind: "socket or device without a reader",
            })
        }
        Err(rustix::io::Errno::ISDIR) => {
            return Err(AppendError::NotRegular {
                path: path.to_path_buf(),
                kind: "directory",
            })
        }
        // Some kernels refuse O_CREAT on another user's symlink in a sticky directory with
        // EACCES rather than ELOOP: say what it is.
        Err(e) => {
            let is_link = rustix::fs::lstat(path)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
            if is_link {
                return Err(AppendError::Symlink {
                    path: path.to_path_buf(),
                });
            }
            return Err(io(e.into()));
        }
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| io(e.into()))?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(AppendError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_name(kind),
        });
    }
    let me = rustix::process::geteuid().as_raw();
    if st.st_uid != me && st.st_uid != 0 {
        return Err(AppendError::Owner {
            path: path.to_path_buf(),
            owner: st.st_uid,
            me,
        });
    }
    #[allow(clippy::useless_conversion)] // st_nlink is u32 on some targets
    let links = u64::from(st.st_nlink);
    if links > 1 {
        return Err(AppendError::Links {
            path: path.to_path_buf(),
            links,
        });
    }
    // Blocking again: O_NONBLOCK was only for the open (a FIFO would have blocked it).
    let fl = rustix::fs::fcntl_getfl(&fd).map_err(|e| io(e.into()))?;
    rustix::fs::fcntl_setfl(&fd, fl - OFlags::NONBLOCK).map_err(|e| io(e.into()))?;
    Ok(File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn dir(name: &str, mode: u32) -> PathBuf {
        let d = std::env::temp_dir().join(format!("skew-fs-append-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
        d
    }

    fn as_root() -> bool {
        rustix::process::geteuid().is_root()
    }

    /// uid of `nobody`.
    const NOBODY: u32 = 65534;

    #[test]
    fn appends_and_creates() {
        let d = dir("plain", 0o755);
        let p = d.join("log.csv");
        let mut f = open_append(&p, true).unwrap();
        f.write_all(b"a\n").unwrap();
        drop(f);
        let mut f = open_append(&p, true).unwrap();
        f.write_all(b"b\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a\nb\n");
        let e = open_append(&d.join("missing"), false).unwrap_err();
        assert!(matches!(e, AppendError::Io { .. }), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn planted_links_and_files_are_refused() {
        // In a world-writable directory, sticky (/tmp) and not (a group-writable log
        // directory): what another user can plant there.
        for (mode, name) in [(0o1777, "sticky"), (0o777, "open")] {
            let d = dir(name, mode);
            let victim_dir = dir(&format!("{name}-victim"), 0o755);
            let victim = victim_dir.join("passwd");
            std::fs::write(&victim, b"precious\n").unwrap();
            // A symlink to a root-owned file, made by another user where possible.
            let link = d.join("drift.csv");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            if as_root() {
                std::os::unix::fs::lchown(&link, Some(NOBODY), Some(NOBODY)).unwrap();
            }
            let e = open_append(&link, true).unwrap_err();
            assert!(matches!(e, AppendError::Symlink { .. }), "{e}");
            assert!(e.to_string().contains("is a symbolic link"), "{e}");
            assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
            // A dangling symlink: its target is not created.
            let target = victim_dir.join("created-by-root");
            let dangling = d.join("dangling.csv");
            std::os::unix::fs::symlink(&target, &dangling).unwrap();
            let e = open_append(&dangling, true).unwrap_err();
            assert!(matches!(e, AppendError::Symlink { .. }), "{e}");
            assert!(!target.exists(), "the dangling link's target was created");
            // A FIFO: refused without blocking.
            let fifo = d.join("fifo.csv");
            rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::from_raw_mode(0o666)).unwrap();
            let e = open_append(&fifo, true).unwrap_err();
            assert!(e.to_string().contains("is a FIFO"), "{e}");
            // A directory.
            let e = open_append(&d, true).unwrap_err();
            assert!(e.to_string().contains("directory"), "{e}");
            // A hard link to another file (root may make one even where
            // fs.protected_hardlinks would stop others).
            let hard = d.join("hard.csv");
            std::fs::hard_link(&victim, &hard).unwrap();
            let e = open_append(&hard, true).unwrap_err();
            assert!(matches!(e, AppendError::Links { links: 2, .. }), "{e}");
            assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
            // A file another user made.
            if as_root() {
                let theirs = d.join("theirs.csv");
                std::fs::write(&theirs, b"").unwrap();
                std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
                let e = open_append(&theirs, true).unwrap_err();
                assert!(
                    matches!(
                        e,
                        AppendError::Owner {
                            owner: NOBODY,
                            me: 0,
                            ..
                        }
                    ),
                    "{e}"
                );
                assert_eq!(std::fs::metadata(&theirs).unwrap().len(), 0);
            }
            // Our own file there is fine.
            let ours = d.join("ours.csv");
            open_append(&ours, true).unwrap().write_all(b"x\n").unwrap();
            assert_eq!(
                std::fs::metadata(&ours).unwrap().uid(),
                rustix::process::geteuid().as_raw()
            );
            std::fs::remove_dir_all(&d).unwrap();
            std::fs::remove_dir_all(&victim_dir).unwrap();
        }
    }
}
