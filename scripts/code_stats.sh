#!/usr/bin/env bash
# Code figures of the structure (issue 15's closing note): Rust lines per crate (src, tests,
# other), the N longest functions outside tests, `unsafe` blocks, and `* 1e9` sites outside
# tests.
#
#   scripts/code_stats.sh [N]     N longest functions (default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
# Lines of the .rs files under a directory (0 when it does not exist).
lines() { if [ -d "$1" ]; then find "$1" -name '*.rs' "${@:2}" -print0 | xargs -0 cat | wc -l; else echo 0; fi; }
printf "%-18s %6s %6s %6s\n" crate src tests other
for c in crates/*; do
  printf "%-18s %6s %6s %6s\n" "$(basename "$c")" "$(lines "$c/src")" "$(lines "$c/tests")" \
    "$(lines "$c" -not -path "$c/src/*" -not -path "$c/tests/*")"
done
echo
echo "longest functions (lines, name, file; tests left out):"
python3 scripts/fn_sizes.py crates "${1:-8}"
echo
echo "unsafe blocks in src: $(grep -rn -E 'unsafe\s*\{' crates/*/src | wc -l) in $(grep -rl -E 'unsafe\s*\{' crates/*/src | wc -l) files"
echo "'* 1e9' outside tests/: $(grep -rn --include=*.rs -E '\* ?1e9|1e9 ?\*' crates | grep -vc /tests/ || true)"
