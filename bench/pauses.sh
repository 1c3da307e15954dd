#!/usr/bin/env bash
# Benchmark of `skew pauses` (results in docs/benchmarks/pauses.md):
#   1. CPU overhead at 1 ms and 10 ms, side by side with a bare sleep loop doing the same
#      absolute sleeps (slack 1 ns, and the kernel's default 50 µs), all three at once;
#   2. recovered lengths of 50, 300 and 1000 ms SIGSTOPs at 1 ms and 10 ms intervals.
#
#   bench/pauses.sh [SECONDS_PER_CPU_RUN=30] [TRIALS_PER_LENGTH=10]   (0 seconds: skip part 1)
#
# The machine's other load shows in the figures: the load average is printed before and
# after; re-run when the machine is quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p skew
cargo build --release -q -p skew-pause --example bench_pauses
exec ./target/release/examples/bench_pauses ./target/release/skew "${1:-30}" "${2:-10}"
