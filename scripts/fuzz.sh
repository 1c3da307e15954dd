#!/usr/bin/env bash
# Runs skew's cargo-fuzz targets one after another, each for SECONDS (default 600), and
# prints one summary line per target: executions, coverage, corpus, crashes.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Works on a stable toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer=address,
# -Cpasses=sancov-module...) to rustc, which RUSTC_BOOTSTRAP=1 allows on stable.
# Needs `cargo install cargo-fuzz`. Corpora grow in fuzz/corpus/<target> (seeded from
# fuzz/seeds/<target>), crashes land in fuzz/artifacts/<target>, logs in fuzz/logs/.
# A target that finds a crash stops there (exit 77 or 1) and the next one starts; `runs`
# is then the last execution count printed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(ntp_packet ntp_validate ntp_prober drift_log drift_log_stream cli_values leap_list fault_serve fault_proxy_shift nts_ke_records nts_extension_fields)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build >/dev/null
mkdir -p fuzz/logs
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
    log="fuzz/logs/$t.log"
    start=$(date +%s)
    set +e
    cargo fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 >"$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s)
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}' || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
    printf '%-18s exit %-3s %5s s  runs %-12s cov %-6s ft %-6s corpus %-14s artifacts %s\n' \
        "$t" "$rc" "$((end - start))" "${runs:-${execs:-?}}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
done
