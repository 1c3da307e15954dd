//! Issue 15's structure, held by tests rather than by a command someone must remember to run:
//! `unsafe` lives only in the named edge crates, `skew-report` stands on the drift-log crate
//! alone, and the README stays a README.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The crates allowed to hold `unsafe` (system calls without a safe wrapper): the edges named
/// in docs/ARCHITECTURE.md.
const UNSAFE_EDGES: [&str; 3] = ["skew-clock-io", "skew-fault-io", "skew-process-io"];

fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(repo().join("crates"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn unsafe_code_is_forbidden_outside_the_edge_crates() {
    let all = crates();
    assert!(all.len() >= 20, "crates found: {all:?}");
    for (name, dir) in &all {
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|r| dir.join(r))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{name} has no crate root"));
        let text = std::fs::read_to_string(&root).unwrap();
        let forbids = text.contains("#![forbid(unsafe_code)]");
        if UNSAFE_EDGES.contains(&name.as_str()) {
            continue;
        }
        assert!(
            forbids,
            "{name}: {} lacks #![forbid(unsafe_code)]",
            root.display()
        );
        // A binary target beside a library is a crate root of its own.
        if root.ends_with("lib.rs") && dir.join("src/main.rs").exists() {
            let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
            assert!(main.contains("#![forbid(unsafe_code)]"), "{name}'s main.rs");
        }
    }
    // And every `unsafe` block of an edge crate says why it is sound.
    for edge in UNSAFE_EDGES {
        let mut files = Vec::new();
        rust_files(&repo().join("crates").join(edge).join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                let code = l.split("//").next().unwrap_or("");
                if !code.contains("unsafe {") {
                    continue;
                }
                let before = &lines[i.saturating_sub(8)..=i];
                assert!(
                    before.iter().any(|b| b.contains("SAFETY:")),
                    "{}:{}: an unsafe block without a // SAFETY: comment",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_report_stands_on_the_drift_log_crate_alone() {
    let out = Command::new(env!("CARGO"))
        .current_dir(repo())
        .args([
            "tree",
            "--offline",
            "-p",
            "skew-report",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("skew-driftlog"), "{tree}");
    for forbidden in ["skew-monitor", "skew-ntp-io", "skew-pause", "nix", "toml"] {
        assert!(
            !tree
                .lines()
                .any(|l| l.split_whitespace().next() == Some(forbidden)),
            "skew-report depends on {forbidden}:\n{tree}"
        );
    }
}

#[test]
fn the_readme_stays_under_300_lines() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let n = readme.lines().count();
    assert!(n < 300, "README.md has {n} lines: move the detail to docs/");
    // The two set-up commands are in it.
    assert!(readme.contains("scripts/test.sh"), "the test command");
}
