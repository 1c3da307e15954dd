#!/usr/bin/env bash
# Benchmark of `skew clocks` (issue 4). Goals: sampling overhead ≤ 1.2× bare clock_gettime
# pairs; rate CI half-width of a 10 s run ≤ 0.05 ppm. Results go in docs/benchmarks/clocks.md.
#
#   bench/clocks.sh [RUNS]        RUNS 10-second runs of `skew clocks` (default 5)
#
# Reads the clocks only; never sets them. Prints the load average before each part: other
# processes on a small machine inflate the medians (the paired ratio and the minima hold).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"

cargo build --release -q -p skew --bin skew
cargo build --release -q -p skew-clock --example sampling_overhead

echo "== machine"
echo "kernel: $(uname -r); cpus: $(nproc); clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== sampling overhead: bracketed readings vs bare clock_gettime pairs"
target/release/examples/sampling_overhead 8 101

echo
echo "== rate CI of 10 s runs: skew clocks --duration 10s --no-survey --csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-14s %-12s %-14s %-12s %-10s %-8s\n' run rt_ppm rt_ci95 mono_ppm mono_ci95 kernel_ppm samples
worst=0
for i in $(seq 1 "$runs"); do
  row=$(target/release/skew clocks --duration 10s --no-survey --csv | tail -n 1)
  # Columns: see CSV_COLUMNS in crates/skew-clock/src/report.rs.
  echo "$row" | awk -F, -v i="$i" '{ printf "%-4s %-14s %-12s %-14s %-12s %-10s %-8s\n", i, $5, $6, $7, $8, $9, $4 }'
  worst=$(echo "$row" | awk -F, -v w="$worst" '{ m = ($6 > $8) ? $6 : $8; print (m > w) ? m : w }')
done
echo "largest CI half-width: ${worst} ppm (goal ≤ 0.05 ppm)"
