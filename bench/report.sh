#!/usr/bin/env bash
# Benchmark: a 1,000,000-row drift log → PNG with `skew report`, against gnuplot drawing
# the same CSV in the same run. Goal: skew ≤ 1 s wall (parse + render) and faster than
# gnuplot.
#
#   bench/report.sh [ROWS] [REPEATS]        (default 1000000 rows, 5 repeats)
#
# The log is synthetic (crates/skew-report/examples/gen_drift_log.rs writes schema-1 rows
# through skew_monitor's own writer): per run four ntp rows (two honest servers, a liar, a
# jittery path), an agreement, a clock, a pause and a leap row, with a step, a suspend, a
# long pause, missing runs and a leap announcement. The file is read once before timing
# (page cache warm for everyone). Each tool runs REPEATS times, alternating; the median
# and the best wall times are printed, with the load average before and after, since
# other work on this 2-core machine shows up in the figures.
#
# gnuplot cannot select the ntp rows of one server and still join them with lines (an
# undefined value breaks the line), so it is measured two ways:
#   gnuplot-dots   gnuplot reads the whole CSV and draws every ntp row's offset as a dot;
#   gnuplot-lines  awk picks each server's ntp rows and gnuplot draws one line per server
#                  (the offset panel of the report, without bounds, markers or the rest).
# Both use pngcairo at the report's size (1600×1400). Last, the reading alone: the generic
# serde reader of the drift log against the report's column-selective one (examples/read_speed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
REPEATS="${2:-5}"
DIR="${SKEW_BENCH_DIR:-/tmp/skew-bench}"
mkdir -p "$DIR"
LOG="$DIR/drift-$ROWS.csv"

cargo build --release -p skew -p skew-report --example gen_drift_log --example read_speed >/dev/null 2>&1
SKEW="$PWD/target/release/skew"
if [ ! -s "$LOG" ]; then
  target/release/examples/gen_drift_log --out "$LOG" --rows "$ROWS" 2>/dev/null
fi
command -v gnuplot >/dev/null || { echo "gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
cat "$LOG" >/dev/null # warm the page cache

SERVERS=$(awk -F, 'NR > 1 && $4 == "ntp" { print $5 } NR > 200 { exit }' "$LOG" | sort -u | tr '\n' ' ')
cat >"$DIR/dots.gp" <<GP
set terminal pngcairo size 1600,1400
set output "$DIR/gnuplot-dots.png"
set datafile separator ","
set xdata time
set timefmt "%Y-%m-%dT%H:%M:%SZ"
set format x "%m-%d %H:%M"
set xlabel "time (UTC)"
set ylabel "offset (s)"
plot "$LOG" using 2:(strcol(4) eq "ntp" ? \$8 : NaN) with dots title "offset"
GP
{
  echo 'set terminal pngcairo size 1600,1400'
  echo "set output \"$DIR/gnuplot-lines.png\""
  echo 'set datafile separator ","'
  echo 'set xdata time'
  echo 'set timefmt "%Y-%m-%dT%H:%M:%SZ"'
  echo 'set format x "%m-%d %H:%M"'
  echo 'set xlabel "time (UTC)"'
  echo 'set ylabel "offset (s)"'
  printf 'plot '
  sep=""
  for s in $SERVERS; do
    printf '%s"< awk -F, '"'"'$4 == \\"ntp\\" \&\& $5 == \\"%s\\"'"'"' %s" using 2:8 with lines title "%s"' "$sep" "$s" "$LOG" "$s"
    sep=", "
  done
  echo
} >"$DIR/lines.gp"

wall() { # prints the wall time of "$@" in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

declare -A TIMES
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 "$REPEATS"); do
  TIMES[skew]+="$(wall "$SKEW" report "$LOG" -o "$DIR/skew.png") "
  TIMES[gnuplot-dots]+="$(wall gnuplot "$DIR/dots.gp") "
  TIMES[gnuplot-lines]+="$(wall gnuplot "$DIR/lines.gp") "
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
BREAKDOWN=$("$SKEW" report "$LOG" -o "$DIR/skew.png" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = d["timings"]
print("read+parse {:.3f} s, analysis {:.3f} s, drawing {:.3f} s, PNG encode+write {:.3f} s ({} rows)".format(
    t["read_s"], t["analyze_s"], t["render_s"], t["write_s"], d["rows_read"]))')

echo "# $(date -u +%FT%TZ), $(nproc) CPUs, $(ls -l "$LOG" | awk '{printf "%.0f MB", $5/1e6}') log of $ROWS rows, $REPEATS runs each"
echo "# load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
echo "| tool | median wall (s) | best (s) | all runs (s) |"
echo "|---|---|---|---|"
for k in skew gnuplot-dots gnuplot-lines; do
  python3 - "$k" ${TIMES[$k]} <<'PY'
import statistics, sys
name, xs = sys.argv[1], [float(x) for x in sys.argv[2:]]
print(f"| {name} | {statistics.median(xs):.3f} | {min(xs):.3f} | {' '.join(f'{x:.3f}' for x in xs)} |")
PY
done
echo "# skew breakdown (one more run): $BREAKDOWN"
target/release/examples/read_speed "$LOG" | sed 's/^/# /'
