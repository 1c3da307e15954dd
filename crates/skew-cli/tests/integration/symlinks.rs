//! Issue 14.1: every write followed symlinks. As user `nobody` in a world-writable
//! directory, symlinks sprayed over the next PIDs' temporary names made a root-run skew
//! overwrite root-owned files; `--log` appended through a planted symlink and created the
//! target of a dangling one. Each output is tested here, run as root (as the tests run),
//! against links another user planted in a sticky (`/tmp`-like) and a non-sticky
//! world-writable directory: the files they point to are untouched, whole-file outputs
//! replace the link with a regular file of their own, appended files are refused with a
//! clear error.

use crate::common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// uid and gid of `nobody`.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A world-writable directory (`mode` 1777 or 0777) and a root-only one holding the victim
/// files.
struct Scene {
    shared: PathBuf,
    victims: PathBuf,
}

impl Scene {
    fn new(name: &str, mode: u32) -> Scene {
        let base =
            std::env::temp_dir().join(format!("skew-symlinks-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let shared = base.join("shared");
        let victims = base.join("victims");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::create_dir_all(&victims).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::set_permissions(&victims, std::fs::Permissions::from_mode(0o700)).unwrap();
        Scene { shared, victims }
    }

    /// A root-owned file with known content.
    fn victim(&self, name: &str) -> PathBuf {
        let p = self.victims.join(name);
        std::fs::write(&p, format!("precious {name}\n")).unwrap();
        p
    }

    /// A symlink at `shared/name` to `target`, owned by nobody (as if nobody planted it).
    fn plant(&self, name: &str, target: &Path) -> PathBuf {
        let link = self.shared.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(NOBODY), Some(NOBODY)).unwrap();
        link
    }

    /// Symlinks under the predictable temporary names older versions used for `name`
    /// (`.NAME.tmp.<pid>`, `.NAME.tmp-<pid>`, `NAME.tmp`), sprayed over the next PIDs.
    fn spray(&self, name: &str, target: &Path) {
        let next: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1000);
        self.plant(&format!("{name}.tmp"), target);
        for pid in next..next + 200 {
            self.plant(&format!(".{name}.tmp.{pid}"), target);
            self.plant(&format!(".{name}.tmp-{pid}"), target);
        }
    }

    fn check_untouched(&self, victim: &Path) {
        let name = victim.file_name().unwrap().to_string_lossy();
        assert_eq!(
            std::fs::read_to_string(victim).unwrap(),
            format!("precious {name}\n"),
            "{victim:?} was written"
        );
    }
}

/// A whole-file output at `path` after the run: a regular file of ours, not the link.
fn check_replaced(path: &Path) {
    let m = std::fs::symlink_metadata(path).unwrap();
    assert!(m.file_type().is_file(), "{path:?} is not a regular file");
    assert_eq!(m.uid(), 0);
}

fn monitor(extra: &[&str]) -> Output {
    run_skew(&dead_port_run("monitor", extra), Duration::from_secs(30))
}

#[test]
fn outputs_never_write_through_a_planted_symlink() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    if !is_root() {
        eprintln!("skipped: needs root to plant links as another user");
        return;
    }
    for (mode, name) in [(0o1777, "sticky"), (0o777, "open")] {
        let s = Scene::new(name, mode);
        let sh = |f: &str| s.shared.join(f).to_str().unwrap().to_string();

        // monitor --log: refused, through a link and through a dangling link.
        let v = s.victim("log-victim");
        s.plant("drift.csv", &v);
        let out = monitor(&["--log", &sh("drift.csv")]);
        assert_eq!(out.code, 3, "{name}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout
                .contains("is a symbolic link; refusing to follow it"),
            "{name}: {}",
            out.stdout
        );
        s.check_untouched(&v);
        let never = s.victims.join("created-by-root.csv");
        s.plant("dangling.csv", &never);
        let out = monitor(&["--log", &sh("dangling.csv")]);
        assert_eq!(out.code, 3, "{name}: {}", out.stdout);
        assert!(
            !never.exists(),
            "{name}: the dangling link's target was created"
        );

        // monitor --prom and --state: written beside, renamed over the link.
        let vp = s.victim("prom-victim");
        let vs = s.victim("state-victim");
        s.plant("skew.prom", &vp);
        s.spray("skew.prom", &vp);
        s.plant("state.json", &vs);
        s.spray("state.json", &vs);
        let out = monitor(&["--prom", &sh("skew.prom"), "--state", &sh("state.json")]);
        assert_eq!(out.code, 2, "{name}: {}{}", out.stdout, out.stderr); // nothing answered
        s.check_untouched(&vp);
        s.check_untouched(&vs);
        check_replaced(&s.shared.join("skew.prom"));
        check_replaced(&s.shared.join("state.json"));
        assert!(std::fs::read_to_string(s.shared.join("skew.prom"))
            .unwrap()
            .contains("skew_"));

        // report -o and --stats-csv.
        let log = s.victims.join("drift.csv");
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/seeds/drift_log/drift.csv"
        ))
        .unwrap();
        std::fs::write(&log, seed).unwrap();
        let vr = s.victim("png-victim");
        let vc = s.victim("csv-victim");
        s.plant("r.png", &vr);
        s.spray("r.png", &vr);
        s.plant("stats.csv", &vc);
        let out = run_skew(
            &[
                "report",
                log.to_str().unwrap(),
                "-o",
                &sh("r.png"),
                "--stats-csv",
                &sh("stats.csv"),
            ],
            Duration::from_secs(60),
        );
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        s.check_untouched(&vr);
        s.check_untouched(&vc);
        check_replaced(&s.shared.join("r.png"));
        check_replaced(&s.shared.join("stats.csv"));

        // serve and proxy --ready-file.
        for cmd in ["serve", "proxy"] {
            let vf = s.victim(&format!("{cmd}-ready-victim"));
            let ready = format!("{cmd}.ready");
            s.plant(&ready, &vf);
            s.spray(&ready, &vf);
            let mut args = vec![cmd, "--listen", "127.0.0.1:0", "--max-seconds", "0.3"];
            if cmd == "proxy" {
                args.extend(["--upstream", "127.0.0.1:9"]);
            }
            let ready_path = sh(&ready);
            args.extend(["--ready-file", &ready_path]);
            let out = run_skew(&args, Duration::from_secs(20));
            assert_eq!(out.code, 0, "{name} {cmd}: {}", out.stderr);
            s.check_untouched(&vf);
        }

        // clocks --csv FILE (appended): refused.
        let vk = s.victim("clocks-victim");
        s.plant("clocks.csv", &vk);
        let out = run_skew(
            &[
                "clocks",
                "--no-survey",
                "--duration",
                "50ms",
                "--csv",
                &sh("clocks.csv"),
            ],
            Duration::from_secs(30),
        );
        assert_eq!(out.code, 74, "{name}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("is a symbolic link"),
            "{name}: {}",
            out.stderr
        );
        s.check_untouched(&vk);
        let _ = std::fs::remove_dir_all(s.shared.parent().unwrap());
    }
}

/// The drift log itself, when another user planted a file (not a link) under its name, or
/// a hard link to a root-owned file: refused, nothing written.
#[test]
fn a_drift_log_planted_by_another_user_is_refused() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let s = Scene::new("planted-file", 0o1777);
    let theirs = s.shared.join("drift.csv");
    std::fs::write(&theirs, "").unwrap();
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).unwrap();
    let out = monitor(&["--log", theirs.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("is owned by uid 65534, not by this user (uid 0) or root"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::metadata(&theirs).unwrap().len(), 0);
    let v = s.victim("hardlink-victim");
    let hard = s.shared.join("hard.csv");
    std::fs::hard_link(&v, &hard).unwrap();
    let out = monitor(&["--log", hard.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    assert!(out.stdout.contains("has 2 hard links"), "{}", out.stdout);
    s.check_untouched(&v);
    let _ = std::fs::remove_dir_all(s.shared.parent().unwrap());
}

/// A FIFO another user planted where the state file goes: opening it for reading would
/// block until someone writes to it, so a root-run `skew monitor --state` (which reads the
/// old state for its step counter) hung, and so did `skew now`. Both are refused at once.
#[test]
fn a_fifo_planted_as_the_state_does_not_hang_a_run() {
    let _one_module = crate::common::one_module_at_a_time(module_path!());
    let s = Scene::new("fifo", 0o1777);
    let fifo = s.shared.join("state.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&fifo, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let out = run_skew(
        &["now", "--state", fifo.to_str().unwrap()],
        Duration::from_secs(5),
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("is not a regular file"),
        "{}",
        out.stderr
    );
    // The monitor replaces it with its state (rename), and does not wait on it.
    let out = monitor(&["--state", fifo.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    check_replaced(&fifo);
    let _ = std::fs::remove_dir_all(s.shared.parent().unwrap());
}
