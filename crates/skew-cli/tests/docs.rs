//! The documentation's links resolve: every relative link in README.md, docs/**/*.md and the
//! other Markdown files of the repository names a file that exists inside the repository, and
//! every `#anchor` names a heading of its target (GitHub's heading ids). No document points
//! outside the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The Markdown files checked: the top level, docs/ (recursively), data/, examples/, bench/.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    for d in ["docs", "data", "examples", "bench", "scripts", "fuzz"] {
        walk(&root.join(d), &mut out);
    }
    out.sort();
    out
}

/// The text outside fenced code blocks and inline code spans, line by line.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let kept: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("`code`");
        out.push((i + 1, kept));
    }
    out
}

/// Every `[text](target)` target on a line (images included).
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].trim();
        let target = target.split_whitespace().next().unwrap_or("");
        out.push(target.to_string());
        rest = &after[end..];
    }
    out
}

/// GitHub's id of a heading: lower case, punctuation other than `-` and `_` removed,
/// spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings, with GitHub's `-1`, `-2` for repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let mut id = base.clone();
        let mut n = 0;
        while out.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        out.insert(id);
    }
    out
}

/// What is wrong with `target`, a link in `file` (None: it resolves).
fn check_link(root: &Path, file: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("empty link".into());
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else {
        file.parent().unwrap().join(path)
    };
    let Ok(resolved) = resolved.canonicalize() else {
        return Some(format!("{path} does not exist"));
    };
    if !resolved.starts_with(root) {
        return Some(format!("{path} is outside the repository"));
    }
    if let Some(anchor) = anchor {
        if resolved.extension().is_some_and(|x| x == "md") {
            let text = std::fs::read_to_string(&resolved).unwrap();
            if !anchors(&text).contains(anchor) {
                return Some(format!(
                    "{} has no heading with the id #{anchor}",
                    resolved.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    None
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = repo();
    let files = markdown_files(&root);
    assert!(files.iter().any(|f| f.ends_with("README.md")));
    assert!(files.iter().any(|f| f.ends_with("docs/formats.md")));
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in prose_lines(&text) {
            for target in link_targets(&line) {
                checked += 1;
                if let Some(why) = check_link(&root, file, &target) {
                    broken.push(format!(
                        "{}:{n}: ({target}): {why}",
                        file.strip_prefix(&root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: is the scan broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn no_document_points_outside_the_repository() {
    let root = repo();
    let mut bad = Vec::new();
    for file in markdown_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("../shared") || line.contains("/work/") {
                bad.push(format!(
                    "{}:{}: {line}",
                    file.strip_prefix(&root).unwrap().display(),
                    n + 1
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "references outside the repository:\n{}",
        bad.join("\n")
    );
}

#[test]
fn data_readme_lists_every_file_in_data() {
    let root = repo();
    let readme = std::fs::read_to_string(root.join("data/README.md")).unwrap();
    let listed: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root.join("data")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name != "README.md" && !listed.contains(&name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "data/README.md lists no table row for {missing:?}: say what each is and how it was made"
    );
}

#[test]
fn architecture_names_every_crate_in_its_layer_table() {
    let root = repo();
    let arch = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let table: String = arch
        .split("## Crates and their layer")
        .nth(1)
        .expect("docs/ARCHITECTURE.md has a \"## Crates and their layer\" section")
        .split("\n## ")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('|').nth(1).unwrap().to_string())
        .collect();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let Ok(manifest) = std::fs::read_to_string(e.path().join("Cargo.toml")) else {
            continue;
        };
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("package name")
            .to_string();
        if !table.contains(&format!("`{name}`")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md's crate table has no row for {missing:?}"
    );
}

#[test]
fn no_paragraph_or_table_row_is_repeated_within_a_document() {
    let root = repo();
    let mut repeated = Vec::new();
    for file in markdown_files(&root) {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        // Paragraphs and list items: unique in the document (short ones, such as a
        // lead-in, may repeat). Table rows: unique in their table, unless their first cell
        // is empty (a continuation row of a measurement table).
        let mut paragraphs = BTreeSet::new();
        let mut rows = BTreeSet::new();
        let mut fenced = false;
        let mut para = String::new();
        let mut found = Vec::new();
        let flush =
            |para: &mut String, paragraphs: &mut BTreeSet<String>, found: &mut Vec<String>| {
                let p = para.split_whitespace().collect::<Vec<_>>().join(" ");
                if p.len() > 60 && !paragraphs.insert(p.clone()) {
                    found.push(format!("{name}: {p}"));
                }
                para.clear();
            };
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                flush(&mut para, &mut paragraphs, &mut found);
                continue;
            }
            if fenced {
                continue;
            }
            if line.starts_with('|') {
                flush(&mut para, &mut paragraphs, &mut found);
                let first = line.split('|').nth(1).unwrap_or("").trim();
                if !first.is_empty() && !first.starts_with("---") && !rows.insert(line.to_string())
                {
                    found.push(format!("{name}: table row {line}"));
                }
                continue;
            }
            rows.clear();
            if line.trim().is_empty() || line.starts_with('#') {
                flush(&mut para, &mut paragraphs, &mut found);
            } else if line.starts_with("* ") || line.starts_with("- ") {
                flush(&mut para, &mut paragraphs, &mut found);
                para.push_str(line);
            } else {
                para.push(' ');
                para.push_str(line);
            }
        }
        flush(&mut para, &mut paragraphs, &mut found);
        repeated.extend(found);
    }
    assert!(
        repeated.is_empty(),
        "repeated in the same document:\n{}",
        repeated.join("\n")
    );
}

#[test]
fn every_code_fence_is_closed() {
    let root = repo();
    for file in markdown_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        let fences = text
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count();
        assert!(
            fences % 2 == 0,
            "{}: {fences} code fences: one is not closed, and everything after it reads as code",
            file.strip_prefix(&root).unwrap().display()
        );
    }
}

#[test]
fn slugs_and_links_are_read_as_github_does() {
    assert_eq!(slug(" `skew probe --json`"), "skew-probe---json");
    assert_eq!(
        slug(" Limits, readiness, statistics (`skew serve` and `skew proxy`)"),
        "limits-readiness-statistics-skew-serve-and-skew-proxy"
    );
    let a = anchors("# A\n## `lease`\n```\n# not a heading\n```\n### `lease`\n#no\n");
    assert_eq!(
        a,
        ["a", "lease", "lease-1"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    assert_eq!(
        link_targets("see [x](a.md#b) and ![img](d/p.png \"t\") [y](https://e)"),
        ["a.md#b", "d/p.png", "https://e"]
    );
    let lines = prose_lines("a `[x](no)` [y](yes)\n```\n[z](fenced)\n```\n");
    assert_eq!(lines.len(), 1);
    assert_eq!(link_targets(&lines[0].1), ["yes"]);
}
