//! `skew man` and `skew completions` as a user meets them: every manual page renders with
//! groff without a warning, and bash, having sourced the generated script, completes
//! commands, flags and flag values.

mod common;

use common::run_skew;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every page `skew man` prints: skew.1 and one per command.
fn pages() -> Vec<Option<&'static str>> {
    let mut all = vec![None];
    all.extend(
        [
            "probe",
            "monitor",
            "check",
            "now",
            "clocks",
            "leap",
            "serve",
            "proxy",
            "report",
            "pauses",
            "man",
            "completions",
        ]
        .into_iter()
        .map(Some),
    );
    all
}

/// Runs `program ARGS` with `input` on stdin; returns (exit code, stdout, stderr).
fn pipe(program: &str, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_manual_page_renders_with_groff_without_warnings() {
    skew_testkit::require("groff");
    for page in pages() {
        let args: Vec<&str> = std::iter::once("man").chain(page).collect();
        let out = run_skew(&args, Duration::from_secs(20));
        assert_eq!(out.code, 0, "skew {args:?}: {}", out.stderr);
        let title = match page {
            None => ".TH skew 1 ".to_string(),
            Some(c) => format!(".TH skew-{c} 1 "),
        };
        assert!(out.stdout.contains(&title), "skew {args:?} lacks {title:?}");
        assert!(
            out.stdout.contains(".SH OPTIONS") && out.stdout.contains(".SH \"SEE ALSO\""),
            "skew {args:?}:\n{}",
            out.stdout
        );
        // -ww: every warning; -z: format but print nothing. The page must be clean.
        let (code, _, stderr) = pipe("groff", &["-man", "-ww", "-z"], out.stdout.as_bytes());
        assert!(
            code == 0 && stderr.is_empty(),
            "groff -man -ww -z on skew {args:?} (exit {code}):\n{stderr}"
        );
    }
}

#[test]
fn a_command_page_documents_every_flag_of_the_command() {
    let out = run_skew(&["man", "probe"], Duration::from_secs(20));
    for flag in [
        "\\-\\-samples",
        "\\-\\-interval",
        "\\-\\-lease\\-drift\\-ppm",
        "\\-\\-json",
    ] {
        assert!(out.stdout.contains(flag), "no {flag} in skew-probe.1");
    }
    assert!(out.stdout.contains("Exit status"), "{}", out.stdout);
}

#[test]
fn man_refuses_an_unknown_command() {
    let out = run_skew(&["man", "nonsense"], Duration::from_secs(20));
    assert_eq!(out.code, 64, "{}", out.stderr);
}

/// What bash's completion offers for the command line `line` (the cursor at its end), with
/// the script of `skew completions bash` sourced.
fn bash_complete(script: &str, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {script}\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _skew skew '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cur = words[cword],
        prev = if cword > 0 { words[cword - 1] } else { "" },
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "bash failed on {line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_flags_and_values_after_sourcing_the_script() {
    skew_testkit::require("bash");
    let out = run_skew(&["completions", "bash"], Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = std::env::temp_dir().join(format!("skew-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("skew.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let script = script.to_str().unwrap();

    // `skew pro<TAB>`: probe (and proxy, which shares the prefix); `skew prob<TAB>`: probe.
    let pro = bash_complete(script, "skew pro");
    assert!(
        pro.contains(&"probe".to_string()),
        "skew pro<TAB> offers {pro:?}"
    );
    assert!(pro.iter().all(|w| w.starts_with("pro")), "{pro:?}");
    assert_eq!(bash_complete(script, "skew prob"), ["probe"]);
    assert_eq!(bash_complete(script, "skew probe --adv"), ["--advise"]);
    assert_eq!(bash_complete(script, "skew serve --leap al"), ["alarm"]);
    assert_eq!(bash_complete(script, "skew completions fi"), ["fish"]);
    assert_eq!(bash_complete(script, "skew man pau"), ["pauses"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_exist_for_every_shell_and_refuse_an_unknown_one() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run_skew(&["completions", shell], Duration::from_secs(20));
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("probe"), "{shell}: {}", out.stdout);
    }
    let out = run_skew(&["completions", "tcsh"], Duration::from_secs(20));
    assert_eq!(out.code, 64, "{}", out.stderr);
}
